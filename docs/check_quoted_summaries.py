#!/usr/bin/python3
"""Checks that the figures the docs quote from a committed run are that run's.

A run kept in the repository (docs/runs/<run>/: the JSON files scripts/bench.sh wrote) is summarised anew
by bench/summarize.py into a scratch folder; every block of a page between
    <!-- quoted from summary.md of docs/runs/<run> -->   and   <!-- end of quote -->
must then appear in that summary.md line for line (blank lines aside), so no figure in it can be edited
by hand or left behind when summarize.py changes. A block between
    <!-- quoted from docs/runs/<run>/<file> -->   and   <!-- end of quote -->
quotes a file the run folder holds as it is (a program's output): its lines must appear in that file
(blank lines and the ``` fences of a code block aside). Usage: check_quoted_summaries.py REPO_DIR PAGE.md...
Exits 1 listing every line not found (standard library only).

Summarising a run takes a few seconds, and check_facts.py needs the same summaries: with CONVLAB_SUMMARY_CACHE
set to a folder, each summary is kept there under a hash of the run's files and of summarize.py (so a changed
run or summariser is summarised anew). `check_quoted_summaries.py --prepare REPO_DIR PAGE.md...` makes every
summary the pages quote (as blocks or as facts) into that folder, on every core, before either check runs."""

import hashlib
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import tempfile

BEGIN = re.compile(r"^<!--\s*quoted from (summary\.md of docs/runs/[A-Za-z0-9_.-]+|docs/runs/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)\s*-->\s*$")
FENCE = re.compile(r"^```[\w+]*\s*$")
END = re.compile(r"^<!--\s*end of quote\s*-->\s*$")


def quoted_blocks(path):
    """[(line number, run folder, [lines])] of one page; raises ValueError on an unterminated block."""
    blocks, current = [], None
    with open(path, encoding="utf-8") as page:
        for number, line in enumerate(page, 1):
            line = line.rstrip("\n")
            begin = BEGIN.match(line)
            if begin:
                if current:
                    raise ValueError(f"{path}:{number}: a quote begins inside the quote of line {current[0]}")
                current = (number, begin.group(1), [])
            elif END.match(line):
                if not current:
                    raise ValueError(f"{path}:{number}: 'end of quote' without a beginning")
                blocks.append(current)
                current = None
            elif current and line.strip() and not FENCE.match(line):
                current[2].append((number, line))
    if current:
        raise ValueError(f"{path}:{current[0]}: quote never ends")
    return blocks


def summary_of(repo, source_text, cache):
    """The set of lines of the quoted source: a run's summary made anew, or a file of a run as it is."""
    if not source_text.startswith("summary.md of "):
        if source_text not in cache:
            path = os.path.join(repo, source_text)
            if not os.path.isfile(path):
                raise ValueError(f"{source_text}: no such file")
            with open(path, encoding="utf-8") as quoted:
                cache[source_text] = set(line.rstrip("\n") for line in quoted)
        return cache[source_text]
    run = source_text[len("summary.md of "):]
    if run not in cache:
        cache[run] = set(made_summary(repo, run).splitlines())
    return cache[run]


def run_key(repo, run):
    """A hash of summarize.py, of every file of the run folder (names and contents) and of whether gnuplot is
    installed (the summary names its charts, or says why there are none)."""
    digest = hashlib.sha256(b"gnuplot" if shutil.which("gnuplot") else b"no gnuplot")
    with open(os.path.join(repo, "bench", "summarize.py"), "rb") as summariser:
        digest.update(summariser.read())
    source = os.path.join(repo, run)
    for folder, subfolders, files in os.walk(source):
        subfolders.sort()
        for name in sorted(files):
            path = os.path.join(folder, name)
            digest.update(os.path.relpath(path, source).encode() + b"\0")
            with open(path, "rb") as data:
                digest.update(hashlib.sha256(data.read()).digest())
    return digest.hexdigest()


def made_summary(repo, run):
    """summary.md of docs/runs/<run> made anew (or kept from an earlier making, see CONVLAB_SUMMARY_CACHE)."""
    source = os.path.join(repo, run)
    if not os.path.isdir(source):
        raise ValueError(f"{run}: no such run folder")
    kept = None
    if os.environ.get("CONVLAB_SUMMARY_CACHE"):
        kept = os.path.join(os.environ["CONVLAB_SUMMARY_CACHE"], f"{os.path.basename(run)}-{run_key(repo, run)}.md")
        if os.path.isfile(kept):
            with open(kept, encoding="utf-8") as summary:
                return summary.read()
    scratch = tempfile.mkdtemp(prefix="quoted-summary-")
    try:
        folder = os.path.join(scratch, "run")
        shutil.copytree(source, folder)
        result = subprocess.run([sys.executable, os.path.join(repo, "bench", "summarize.py"), folder],
                                capture_output=True, text=True)
        if result.returncode != 0:
            raise ValueError(f"{run}: summarize.py failed: {result.stderr.strip()}")
        with open(os.path.join(folder, "summary.md"), encoding="utf-8") as summary:
            text = summary.read()
    finally:
        shutil.rmtree(scratch)
    if kept:
        os.makedirs(os.path.dirname(kept), exist_ok=True)
        partial = f"{kept}.{os.getpid()}.part"
        with open(partial, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(partial, kept)  # whole or absent, whoever else makes the same summary
    return text


SUMMARY_REFERENCE = re.compile(r"summary\.md of (docs/runs/[A-Za-z0-9_.-]+)")


def prepare(repo, pages):
    """Makes every run summary the pages refer to, in parallel; 1 if any could not be made."""
    runs = set()
    for page in pages:
        with open(page, encoding="utf-8") as text:
            runs.update(SUMMARY_REFERENCE.findall(text.read()))
    runs = sorted(run for run in runs if os.path.isdir(os.path.join(repo, run)))
    with multiprocessing.Pool(max(1, min(len(runs), os.cpu_count() or 1))) as pool:
        outcomes = pool.starmap(prepare_one, [(repo, run) for run in runs])
    for problem in filter(None, outcomes):
        print(problem)
    print(f"check_quoted_summaries.py --prepare: {len(runs)} run summaries in {os.environ.get('CONVLAB_SUMMARY_CACHE')}")
    return 1 if any(outcomes) else 0


def prepare_one(repo, run):
    try:
        made_summary(repo, run)
        return None
    except ValueError as error:
        return str(error)


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip().splitlines()[-2], file=sys.stderr)
        return 2
    if argv[1] == "--prepare":
        if len(argv) < 4 or not os.environ.get("CONVLAB_SUMMARY_CACHE"):
            print("usage: CONVLAB_SUMMARY_CACHE=DIR check_quoted_summaries.py --prepare REPO_DIR PAGE.md...",
                  file=sys.stderr)
            return 2
        return prepare(argv[2], argv[3:])
    repo, problems, cache, checked = argv[1], [], {}, 0
    for page in argv[2:]:
        try:
            for _, run, lines in quoted_blocks(page):
                summary = summary_of(repo, run, cache)
                for number, line in lines:
                    checked += 1
                    if line not in summary:
                        problems.append(f"{page}:{number}: not in {run}: {line}")
        except ValueError as error:
            problems.append(str(error))
    for problem in problems:
        print(problem)
    print(f"check_quoted_summaries.py: {checked} quoted lines checked, {len(problems)} problems")
    return 1 if problems or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
