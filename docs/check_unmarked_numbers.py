#!/usr/bin/python3
"""Fails on any number in the docs' prose that nothing checks (issue 11, "Docs that cannot go stale").

Every number a page states that the code or a run produced must be checked by ctest. This script finds the
ones that are not: it prints FILE:LINE for each and exits 1. A number is checked, or exempt, when it is
  (a) followed by a fact marker, VALUE<!--fact:KEY-->  (check_facts.py compares it with its source);
  (b) inside a quoted block  <!-- quoted from ... --> ... <!-- end of quote -->  (check_quoted_summaries.py
      compares those lines with the run's file) or inside a fenced code block (check_snippets.py compares
      the tutorial's code and output blocks with docs/examples/; other fences hold commands and layouts);
  (c) inside inline code, an HTML comment, a link's target, a URL, or a path (a word with a '/' whose
      part before the last '/' holds a name, e.g. docs/runs/bench-20261206-232313 or
      conv/openmp/forward/s3_5x5_p1/float/batch:32/threads:2);
  (d) of a kind that is not a measurement, listed in NOT_MEASURED below, each kind with its reason.

Which numbers count ("numeric literals"): a decimal (1.33, 0.97-1.03 is two of them), an integer of three or
more digits (584, 577,080), and an integer of any size written with a unit of measure (2x, 16 KiB, 3 us,
41 %, 4 million, 15 minutes). Small bare integers (batch 32, 4 rows, 2 threads) are settings and counts of
the prose's own making, too many and too plain to mark; code constants among them are marked anyway where
the tutorial states them (chapter 4: 24 accumulators; chapter 5: 7 whole images).

Pages, or sections of a page, that are not yet brought under this rule are listed, with the reason, in
UNCHECKED at the end of this file; the list may only shrink.

usage: check_unmarked_numbers.py REPO_DIR PAGE.md...   (exit 1 listing every unmarked number)
"""
import os
import re
import sys

# (a) a fact: the same pattern check_facts.py reads.
FACT = re.compile(r"[-+]?[0-9][0-9,.:]*<!--fact:[^>]*?-->")

# (b) blocks whose every line another ctest checks (or that hold code, not prose).
QUOTE_BEGIN = re.compile(r"^<!--\s*quoted from .*-->\s*$")
QUOTE_END = re.compile(r"^<!--\s*end of quote\s*-->\s*$")
FENCE = re.compile(r"^\s*(```|~~~)")
INDENTED = re.compile(r"^(?: {4}|\t)\S")

# (c) spans that are code, comments, link targets, URLs or paths.
NOT_PROSE = [
    re.compile(r"<!--.*?-->", re.S),                      # HTML comments (a fact's marker is read before)
    re.compile(r"(`+)(?:(?!\n\s*\n).)+?\1", re.S),         # inline code, not across a blank line
    re.compile(r"\]\([^)\s]*\)"),                          # a link's or an image's target
    re.compile(r"^\s*\[[^\]]+\]:\s*\S+", re.M),            # a reference link's definition
    re.compile(r"https?://\S+"),                           # a bare URL
    # a path: a word with '/' whose part before the last '/' has a name in it (two letters or an underscore)
    re.compile(r"[^\s()\[\],;\"'`]*(?:[A-Za-z]{2}|_)[^\s()\[\],;\"'`/]*/[^\s()\[\],;\"'`]*[A-Za-z0-9_/]"),
]

# (d) kinds of numbers that are not measurements. Each is a pattern whose matches are skipped.
NOT_MEASURED = [
    # dates and times of the runs, which name them: 2026-12-06, 20261206-232313, 23:23, 12:31-12:50 UTC
    re.compile(r"\b\d{4}-\d{2}-\d{2}\b"),
    re.compile(r"\b20\d{6}(?:-\d{4,6})?[a-z]?\b"),
    re.compile(r"\b\d{1,2}:\d{2}(?::\d{2})?\b"),
    # commit hashes: 7 to 40 hex digits with at least one digit and one letter (3ca64d3)
    re.compile(r"\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{7,40}\b"),
    # version numbers: three parts (3.12.1), or after a tool's name (gcc 14, xsimd 8, C++20, oneDNN 3.6)
    re.compile(r"\b\d+\.\d+\.\d+\b"),
    re.compile(r"(?:\b(?:[Gg]cc|GCC|[Cc]lang|xsimd|oneDNN|PyTorch|[Pp]ython|CMake|cmake|OpenMP|numpy|NumPy|"
               r"Debian|Ubuntu|MKL|OpenBLAS|Eigen|glibc|version|v)\s?|C\+\+)\d+(?:\.\d+)*"),
    # section, chapter, step, part, round, exercise, issue and line numbers (cross-references, not values)
    re.compile(r"\b(?:[Cc]hapters?|[Ss]ections?|[Ss]teps?|[Pp]arts?|[Rr]ounds?|[Ee]xercises?|[Ii]ssues?|"
               r"[Ll]ines?|[Ff]igures?|[Tt]ables?|§)\s+\d+(?:(?:,\s*|\s*-\s*|\s+and\s+|\s+to\s+)\d+)*"),
    # thread, core and CPU counts: the run's setting ("2 threads", "2 logical CPUs")
    re.compile(r"\b\d+\s+(?:threads?|cores?|(?:logical\s+)?CPUs?)\b"),
    # numbers that are part of a name: AVX-512, ResNet-50, x86-64, Zen 5, F(4x4, 3x3), res2a, float32, L2
    re.compile(r"\b[A-Za-z][A-Za-z0-9_]*-\d+\b"),
    re.compile(r"\b(?:Zen|Xeon|EPYC|Ryzen|gen|Gen)\s+\d+\b"),
    re.compile(r"\b[A-Za-z_][A-Za-z_]*\d[A-Za-z0-9_]*"),
    re.compile(r"\bF\(\d+(?:x\d+)?,\s*\d+(?:x\d+)?\)"),
    # window and layer shapes as the shape files write them: 3x3, 28x28, 5 x 5, 32 x 61 x 61, N=64 C=1,
    # and batch sizes (batch 10000): settings of a case, not results
    re.compile(r"\b\d+(?:\s*x\s*\d+)+\b"),
    re.compile(r"\b[A-Z]=\d+\b"),
    re.compile(r"\b[Bb]atch(?:es)?(?:\s+(?:of|size))?\s*\(?\s*\d+(?:\s*(?:,|and|or|to|-)\s*\d+)*"),
    # channel and filter counts of a layer, as its shape gives them (128 -> 128 channels, 512 filters)
    re.compile(r"\b\d+(?:\s*(?:->|,|and|or|to)\s*\d+)*\s+(?:input\s+|output\s+)?(?:channels|filters)\b"),
    # the year of a cited paper, and a cited theorem's number
    re.compile(r"\b(?:19|20)\d{2}(?=\))"),
    re.compile(r"\b(?:Theorem|Lemma|Eq\.?|Equation)\s+\d+(?:\.\d+)*"),
    # targets and thresholds the project set itself (issues' goals), not results: "goal 1.6", "(goal 6 s)",
    # "the goal of 12 minutes", "10x the fastest", and parity: "below 1.0"
    re.compile(r"\b(?:goals?|targets?|floor)(?:\s+(?:of|was|is))?\s*\(?\d+(?:[.,]\d+)*"),
    re.compile(r"\b(?:the|its)\s+\d+(?:\.\d+)?\s+(?:floor|goal|target)\b"),
    re.compile(r"\b(?:below|above|under|over|beyond|than)\s+1\.0+\b"),
    # a commit written as 7 decimal digits (8461978), which no measured figure is without a unit or grouping
    re.compile(r"\b\d{7}\b(?!\s*(?:%|x\b|us\b|ms\b|s\b|[KMG]i?B\b|[GM]?FLOP))"),
    # exponents in formulas (alpha^2, 2^-24)
    re.compile(r"\^\(?-?\d+"),
    # widths and counts written into a compound word (512-bit FMA, a 512-channel branch, 64-byte lines), and a
    # CPU's identification (cpu family 26, model 2)
    re.compile(r"\b\d+-(?:bit|channel|byte|filter|wide|thread|core|image|tile|row|column|point|element|lane|tap)s?\b"),
    re.compile(r"\b(?:family|model)\s+\d+\b"),
    # the data sets' sizes: MNIST's 60000 training and 10000 test images, the lecture's 50000
    re.compile(r"\b(?:60000|60,000|50000|50,000|10000|10,000)\b"),
]

NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*(?:\.\d+)?")
UNIT = re.compile(r"(?:\s?(?:%|x(?![0-9A-Za-z]))|\s?(?:us|µs|ns|ms)\b|\s(?:s|seconds?|minutes?|hours?|min)\b|\s?(?:"
                  r"[GMT]?FLOP|[KMGT]i?B\b|kB\b|bytes?\b|cycles?\b|million\b|billion\b|thousand\b|[GM]Hz\b|"
                  r"per ?cent))")


def unchecked_lines(lines, sections):
    """Line numbers (1-based) to skip: the sections of UNCHECKED, each up to the next heading of its level."""
    skipped, level = set(), None
    for number, line in enumerate(lines, 1):
        heading = re.match(r"^(#+)\s+(.*?)\s*$", line)
        if heading and level is not None and len(heading.group(1)) <= level:
            level = None
        if heading and level is None and heading.group(2) in sections:
            level = len(heading.group(1))
        if level is not None:
            skipped.add(number)
    return skipped


def problems_of(path, rel):
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    skipped = unchecked_lines(lines, set(UNCHECKED.get(rel, [])))
    if UNCHECKED.get(rel) == ALL:
        return []
    # (b) and the unchecked sections: blank those lines out, keeping the line numbers.
    inside_quote = inside_fence = False
    kept = []
    for number, line in enumerate(lines, 1):
        blank = number in skipped or inside_quote or inside_fence
        if QUOTE_BEGIN.match(line):
            inside_quote, blank = True, True
        elif QUOTE_END.match(line):
            inside_quote, blank = False, True
        elif FENCE.match(line) and not inside_quote:
            inside_fence, blank = not inside_fence, True
        elif INDENTED.match(line) and (number == 1 or not lines[number - 2].strip() or not kept[-1].strip()):
            blank = True  # an indented code block: 4 spaces after a blank line (or after such a line)
        kept.append("" if blank else line)
    text = "\n".join(kept)
    mask = bytearray(len(text))

    def hide(pattern):
        for found in pattern.finditer(text):
            mask[found.start():found.end()] = b"\1" * (found.end() - found.start())

    hide(FACT)
    for pattern in NOT_PROSE + NOT_MEASURED:
        hide(pattern)
    problems = []
    for found in NUMBER.finditer(text):
        start, end = found.span()
        if any(mask[start:end]):
            continue
        if end < len(text) and (text[end].isalpha() or text[end] == "_") and not UNIT.match(text, end):
            continue  # the start of a word such as 2nd or 3ca... not caught above
        value = found.group()
        digits = re.sub(r"\D", "", value)
        if "." in value or len(digits) >= 3 or UNIT.match(text, end):
            line = text.count("\n", 0, start) + 1
            problems.append(f"{rel}:{line}: {value} is neither a fact nor quoted: "
                            f"{lines[line - 1].strip()[:110]}")
    return problems


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    repo, pages = sys.argv[1], sys.argv[2:]
    problems = []
    for page in pages:
        problems += problems_of(page, os.path.relpath(page, repo).replace(os.sep, "/"))
    for problem in problems:
        print(problem)
    print(f"{len(pages)} pages read, {len(problems)} unmarked numbers")
    return 1 if problems else 0


ALL = ["(the whole page)"]

# Not yet brought under the rule: page -> the headings (exact text, without the #s) of its sections left
# out, each with everything under it; or ALL. Only for pages and sections not yet marked; may only shrink.
UNCHECKED = {
    # performance.md: every section is under the rule (no section left out).
}

if __name__ == "__main__":
    sys.exit(main())
