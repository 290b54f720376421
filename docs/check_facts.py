#!/usr/bin/python3
"""Checks every number the docs mark as a fact against where it comes from.

In a page, a number written as  VALUE<!--fact:KEY-->  (the comment right after it, invisible when
rendered) is a fact. KEY is either
  - a key that the doc_facts program prints ("key value" lines, computed by convlab's own code), or
  - FILE#REGEX, where FILE is a file the repository holds (a committed run's output) and REGEX a Python
    regular expression whose first group, searched in that file, is the value; or
  - summary.md of docs/runs/RUN#REGEX: the same in the summary bench/summarize.py writes for that committed
    run folder (made anew by check_quoted_summaries.py's summary_of, which both checks share: with
    CONVLAB_SUMMARY_CACHE set, ctest's docs_run_summaries fixture has made them once for both).
VALUE must equal the fact's value exactly, as text. A key doc_facts does not know, a FILE that does not
exist or a REGEX that does not match is an error too, so a fact cannot silently stop being checked.

usage: check_facts.py DOC_FACTS_PROGRAM REPO_DIR PAGE.md...   (exit 1 listing every mismatch)
"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_quoted_summaries import summary_of  # noqa: E402  (the docs folder's own module)

FACT = re.compile(r"([-+]?[0-9][0-9,.:]*)<!--fact:([^>]*?)-->")


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    program, repo, pages = sys.argv[1], sys.argv[2], sys.argv[3:]
    printed = subprocess.run([program], check=True, capture_output=True, text=True).stdout
    facts = dict(line.split(" ", 1) for line in printed.splitlines() if line.strip())
    problems, checked, summaries = [], 0, {}
    for page in pages:
        with open(page, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                for value, key in FACT.findall(line):
                    checked += 1
                    where = f"{os.path.relpath(page, repo)}:{number}"
                    if "#" in key:
                        path, pattern = key.split("#", 1)
                        if path.startswith("summary.md of "):
                            try:
                                text = "\n".join(sorted(summary_of(repo, path, summaries)))
                            except ValueError as error:
                                problems.append(f"{where}: {error}")
                                continue
                        else:
                            full = os.path.join(repo, path)
                            if not os.path.isfile(full):
                                problems.append(f"{where}: {path} is not a file of the repository")
                                continue
                            with open(full, encoding="utf-8") as source:
                                text = source.read()
                        found = re.search(pattern, text, re.M)
                        if not found:
                            problems.append(f"{where}: /{pattern}/ matches nothing in {path}")
                            continue
                        expected = found.group(1)
                    elif key in facts:
                        expected = facts[key]
                    else:
                        problems.append(f"{where}: doc_facts knows no fact '{key}'")
                        continue
                    if value != expected:
                        problems.append(f"{where}: the page says {value} for {key}, the source says {expected}")
    for problem in problems:
        print(problem)
    print(f"{checked} facts checked in {len(pages)} pages, {len(problems)} wrong")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
