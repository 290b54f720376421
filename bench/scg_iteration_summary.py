#!/usr/bin/python3
"""Writes RUN/summary.md for a run of scripts/scg_iteration.sh: one full-batch SCG iteration of the lecture's
network (50000 images, float64) by convlab and by numpy, the lecture's way and the fastest honest way
(bench/peers/numpy_scg_iteration.py), as ratios measured in that one run. With --check, compares instead of
writing (a docs ctest keeps the committed summary what its files give).

convlab's iteration is read from `convlab train --optimizer scg --history`: the difference of two consecutive
rows' cumulative seconds, the fastest of the rows after the first (the first also pays for setting up)."""

import argparse
import csv
import json
import os
import sys

from generated_text import write_or_check


def summarize(run):
    with open(os.path.join(run, "numpy_scg_iteration.json"), encoding="utf-8") as f:
        numpy_run = json.load(f)
    with open(os.path.join(run, "convlab_scg_history.csv"), encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    with open(os.path.join(run, "meta.json"), encoding="utf-8") as f:
        meta = json.load(f)
    seconds = [float(row["seconds"]) for row in rows]
    if len(seconds) < 3:
        raise SystemExit(f"scg_iteration_summary: {run}/convlab_scg_history.csv: needs 3 iterations or more")
    steps = [b - a for a, b in zip(seconds, seconds[1:])]
    convlab = min(steps)
    methods = numpy_run["methods"]
    lines = [f"One full-batch SCG iteration (one error, two gradients) of the lecture's network on "
             f"{numpy_run['images']} images, float64, {meta['threads']} threads; {meta['cpu']}; {meta['date']}; "
             f"convlab at commit {meta['commit']}. numpy {meta['numpy']} on OpenBLAS (kernel "
             f"{numpy_run['openblas_kernel']}{', chosen with ' + meta['openblas_coretype'] if meta.get('openblas_coretype') else ''}).",
             "",
             "| who | seconds per iteration | convlab is faster by | peak memory (GiB) |",
             "|---|---|---|---|",
             f"| convlab (`train --optimizer scg`, iterations 2-{len(seconds)}, fastest) | {convlab:.2f} | 1.00x | "
             f"{meta['convlab_peak_rss_gib']:.2f} |"]
    names = {"lecture": "numpy, the lecture's way", "fast": "numpy, the fastest honest way"}
    for method in ("lecture", "fast"):
        if method in methods:
            m = methods[method]
            lines.append(f"| {names[method]} | {m['iteration_seconds']:.2f} | {m['iteration_seconds'] / convlab:.2f}x | "
                         f"{numpy_run['peak_rss_gib']:.2f} (both methods' process) |")
    if "largest_relative_difference" in numpy_run:
        lines += ["", f"The two numpy methods' error and gradients differ by at most "
                      f"{numpy_run['largest_relative_difference']:.2g} (relative to each quantity's largest)."]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    text = summarize(args.run)
    path = os.path.join(args.run, "summary.md")
    status = write_or_check(path, text, args.check,
                            f"scg_iteration_summary: {path} is not what its files give; run it again")
    if not args.check:
        print(text, end="")
    return status


if __name__ == "__main__":
    sys.exit(main())
