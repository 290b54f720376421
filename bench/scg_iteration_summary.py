#!/usr/bin/python3
"""Writes RUN/summary.md for a run of scripts/scg_iteration.sh: one full-batch SCG iteration of the lecture's
network (50000 images, float64) by convlab and by numpy, the lecture's way and the fastest honest way
(bench/peers/numpy_scg_iteration.py), as ratios measured in that one run. With --check, compares instead of
writing (a docs ctest keeps the committed summary what its files give).

convlab's iteration is read from `convlab train --optimizer scg --history`: the difference of two consecutive
rows' cumulative seconds, the fastest of the rows after the first (the first also pays for setting up).
Runs made since the SCG profile exists also hold convlab_train.json (`--profile --json`: every iteration
operation by operation) and fma_peak.json (convlab_bench's float64 FMA peak at the run's thread count, the best of
its repetitions); the summary then sets each operation against its bound, and the products' FLOPs against the
peak (the iteration's FLOP bound)."""

import argparse
import csv
import json
import os
import sys

from generated_text import write_or_check
from summarize import STEP_PRODUCTS


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
    lines += profile_lines(run, meta)
    return "\n".join(lines) + "\n"


def profile_lines(run, meta):
    """convlab's iterations operation by operation, when the run has the profile and the peak."""
    train_path, peak_path = os.path.join(run, "convlab_train.json"), os.path.join(run, "fma_peak.json")
    if not (os.path.exists(train_path) and os.path.exists(peak_path)):
        return []
    with open(train_path, encoding="utf-8") as f:
        profile = json.load(f)["step_profile"]
    with open(peak_path, encoding="utf-8") as f:
        peak = max(b["GFLOPS"] for b in json.load(f)["benchmarks"] if b.get("run_type") == "iteration")
    iterations = profile["steps"]
    wall = profile["step_seconds"] / iterations
    lines = ["", f"convlab's iterations operation by operation (`--profile`, convlab_train.json: its {iterations} "
                 f"iterations, {wall:.2f} s each on average, {profile['examples'] // iterations} examples an iteration "
                 f"in one or two evaluations; products in GFLOP/s against the float64 FMA peak measured after it, "
                 f"{peak:.1f} GFLOP/s at {meta['threads']} threads (fma_peak.json); the rest in GB/s of compulsory "
                 f"traffic):",
             "",
             "| operation | s per iteration | share | GFLOP/s | fraction of the FMA peak | GB/s |",
             "|---|---|---|---|---|---|"]
    flops = 0.0
    for name, op in profile["operations"].items():
        if name != "other" and op["seconds"] == 0:
            continue
        product = name in STEP_PRODUCTS
        if product:
            flops += op["flops"]
        rate = f"{op['GFLOPS']:.1f}" if product else "-"
        fraction = f"{op['GFLOPS'] / peak:.3f}" if product else "-"
        bandwidth = f"{op['GBps']:.1f}" if "GBps" in op else "-"
        lines.append(f"| {name} | {op['seconds'] / iterations:.3f} | {100 * op['share']:.1f} % | {rate} | {fraction} "
                     f"| {bandwidth} |")
    bound = flops / iterations / (peak * 1e9)
    lines += ["", f"The products' FLOPs at that peak would take {bound:.2f} s an iteration: the iterations ran at "
                  f"{bound / wall:.3f} of their FLOP bound."]
    return lines


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
