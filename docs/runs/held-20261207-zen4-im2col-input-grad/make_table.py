#!/usr/bin/env python3
"""Writes table.md (plain against held im2col input gradient) from convlab_bench.json in this folder."""
import collections
import json
import pathlib
import re

here = pathlib.Path(__file__).resolve().parent
data = json.loads((here / "convlab_bench.json").read_text())
rows = collections.defaultdict(dict)
for bench in data["benchmarks"]:
    if bench.get("aggregate_name") != "mean":
        continue
    m = re.match(r"conv/im2col/(backward_input(?:_held)?)/(\S+)/float/batch:(\d+)/threads:(\d)/real_time",
                 bench.get("run_name", bench["name"]))
    if m:
        rows[(m.group(2), int(m.group(3)), int(m.group(4)))][m.group(1)] = bench["GFLOPS"]
out = ["# im2col input gradient, plain against held weights (W^T kept): means of 3 repetitions, GFLOP/s", "",
       "| layer | batch | threads | plain | held | held / plain |", "|---|---|---|---|---|---|"]
for key in sorted(rows):
    plain, held = rows[key]["backward_input"], rows[key]["backward_input_held"]
    out.append(f"| {key[0]} | {key[1]} | {key[2]} | {plain:.1f} | {held:.1f} | {held / plain:.2f} |")
(here / "table.md").write_text("\n".join(out) + "\n")
