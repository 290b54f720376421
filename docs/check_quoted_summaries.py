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
Exits 1 listing every line not found (standard library only)."""

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
        source = os.path.join(repo, run)
        if not os.path.isdir(source):
            raise ValueError(f"{run}: no such run folder")
        scratch = tempfile.mkdtemp(prefix="quoted-summary-")
        folder = os.path.join(scratch, "run")
        shutil.copytree(source, folder)
        result = subprocess.run([sys.executable, os.path.join(repo, "bench", "summarize.py"), folder],
                                capture_output=True, text=True)
        if result.returncode != 0:
            raise ValueError(f"{run}: summarize.py failed: {result.stderr.strip()}")
        with open(os.path.join(folder, "summary.md"), encoding="utf-8") as summary:
            cache[run] = set(line.rstrip("\n") for line in summary)
        shutil.rmtree(scratch)
    return cache[run]


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip().splitlines()[-2], file=sys.stderr)
        return 2
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
