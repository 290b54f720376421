#!/usr/bin/python3
"""Checks that the tutorial cannot drift from the code it shows.

In docs/tutorial/*.md and docs/README.md:
  - every ```cpp (```python) block must directly follow a marker  <!-- example: NAME -->  and equal
    docs/examples/NAME.cpp (NAME.py);
  - every marker  <!-- output: NAME -->  must be directly followed by a fenced block equal to NAME.expected
    (the output ctest compares with the program's real output: see docs/CMakeLists.txt);
  - every example shown must have its output shown, and every docs/examples/*.cpp must be shown somewhere.
Usage: check_snippets.py DOCS_DIR. Exits 1 listing every mismatch (standard library only)."""

import difflib
import glob
import os
import re
import sys

MARKER = re.compile(r"^<!--\s*(example|output):\s*([A-Za-z0-9_]+)\s*-->\s*$")
FENCE = re.compile(r"^```([\w+]*)\s*$")
EXTENSIONS = {"cpp": ".cpp", "c++": ".cpp", "cc": ".cpp", "python": ".py"}


def blocks(lines):
    """Yields (line number, language, text, marker) for every fenced block; marker is (kind, name) or None."""
    pending = None  # the last marker, if only blank lines followed it
    index = 0
    while index < len(lines):
        line = lines[index]
        marker = MARKER.match(line)
        fence = FENCE.match(line)
        if marker:
            pending = (marker.group(1), marker.group(2), index + 1)
        elif fence:
            start = index
            index += 1
            body = []
            while index < len(lines) and not FENCE.match(lines[index]):
                body.append(lines[index])
                index += 1
            if index == len(lines):
                raise ValueError("line %d: unterminated code block" % (start + 1))
            yield start + 1, fence.group(1), "\n".join(body) + "\n", pending
            pending = None
        elif line.strip():
            if pending:
                yield pending[2], None, None, pending  # a marker with prose, not a block, after it
            pending = None
        index += 1
    if pending:
        yield pending[2], None, None, pending


def describe_difference(expected, shown, source, where):
    diff = difflib.unified_diff(expected.splitlines(), shown.splitlines(), source, where, lineterm="")
    return "\n".join(list(diff)[:20])


def main():
    docs = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    examples = os.path.join(docs, "examples")
    pages = sorted(glob.glob(os.path.join(docs, "tutorial", "*.md"))) + [os.path.join(docs, "README.md")]
    problems, shown_code, shown_output = [], set(), set()
    for page in pages:
        if not os.path.exists(page):
            continue
        name_of_page = os.path.relpath(page, docs)
        with open(page, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
        try:
            found = list(blocks(lines))
        except ValueError as error:
            problems.append("%s: %s" % (name_of_page, error))
            continue
        for line, language, text, marker in found:
            where = "%s:%d" % (name_of_page, line)
            if text is None:
                problems.append("%s: marker '%s: %s' is not followed by a code block" % (where, marker[0], marker[1]))
                continue
            if marker is None:
                if language in EXTENSIONS:
                    problems.append("%s: %s block without an <!-- example: NAME --> marker (not run)" % (where, language))
                continue
            kind, name = marker[0], marker[1]
            if kind == "example" and language not in EXTENSIONS:
                problems.append("%s: the block after 'example: %s' must be ```cpp or ```python" % (where, name))
                continue
            source = os.path.join(examples, name + (EXTENSIONS[language] if kind == "example" else ".expected"))
            if not os.path.exists(source):
                problems.append("%s: %s does not exist" % (where, os.path.relpath(source, docs)))
                continue
            with open(source, encoding="utf-8") as handle:
                expected = handle.read()
            if expected != text:
                problems.append("%s: block differs from %s:\n%s" % (
                    where, os.path.relpath(source, docs), describe_difference(expected, text, source, where)))
            (shown_code if kind == "example" else shown_output).add(name)
    for name in sorted(shown_code - shown_output):
        problems.append("example %s is shown but its output is not" % name)
    for path in sorted(glob.glob(os.path.join(examples, "*.cpp")) + glob.glob(os.path.join(examples, "*.py"))):
        name = os.path.splitext(os.path.basename(path))[0]
        if name not in shown_code:
            problems.append("docs/examples/%s is not shown in any tutorial page" % os.path.basename(path))
    if problems:
        print("\n".join(problems))
        return 1
    print("%d examples and %d outputs match the tutorial" % (len(shown_code), len(shown_output)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
