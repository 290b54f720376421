"""The generated files the docs quote (ab.md, summary.md of an SCG-iteration run, crossover.md): written from a
run's own files, or with --check compared with the committed copy, so that a docs ctest fails when they part."""

import sys


def write_or_check(path, text, check, stale):
    """Writes `text` to `path`; with `check`, compares instead and returns 1 (after printing `stale`) when the
    file differs. Returns the exit status."""
    if check:
        with open(path, encoding="utf-8") as committed:
            if committed.read() != text:
                print(stale, file=sys.stderr)
                return 1
        return 0
    with open(path, "w", encoding="utf-8") as out:
        out.write(text)
    return 0
