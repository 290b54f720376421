#!/usr/bin/python3
"""Writes RUN/crossover.md (and crossover.png, when gnuplot is there) for a run of scripts/fft_crossover.sh:
the forward pass of `fft` against the direct kernels (simd at 1 thread, openmp at 2) on the layers of
bench/shapes/fft_windows.txt, windows 3x3 to 13x13 on the same 32-point FFT plane. Each case's fastest
repetition; rates in GFLOP/s of the direct sum's work (what the layer asks for, whichever way it is computed),
so the ratio is a speed-up. With --check, compares crossover.md instead of writing it (a docs ctest)."""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys

from generated_text import write_or_check

NAME = re.compile(r"^conv/(\w+)/forward/fft_k(\d+)/float/batch:(\d+)/threads:(\d)/real_time$")


def fastest(run):
    with open(os.path.join(run, "convlab_bench.json"), encoding="utf-8") as f:
        data = json.load(f)
    best = {}
    for b in data["benchmarks"]:
        m = NAME.match(b.get("run_name", b["name"]))
        if not m or b.get("run_type", "iteration") != "iteration":
            continue
        key = (m.group(1), int(m.group(2)), int(m.group(4)))
        best[key] = max(best.get(key, 0.0), b["GFLOPS"] / 1e9 if b["GFLOPS"] > 1e6 else b["GFLOPS"])
    return data.get("context", {}), best


def table(run):
    context, best = fastest(run)
    windows = sorted({k for _, k, _ in best})
    lines = [f"`fft` against the direct kernels, forward, float32, 32 -> 32 channels on 20 x 20 images, batch 8, "
             f"window k x k with padding k/2 (a 32 x 32 FFT plane for all); GFLOP/s of the direct sum's work, "
             f"fastest of the run's repetitions; {context.get('cpu', 'CPU not recorded')}, convlab at commit "
             f"{context.get('commit', '?')}, {context.get('date', '')}.", "",
             "| window | simd (1t) | fft (1t) | fft / simd | openmp (2t) | fft (2t) | fft / openmp |",
             "|---|---|---|---|---|---|---|"]
    for k in windows:
        s1, f1 = best.get(("simd", k, 1)), best.get(("fft", k, 1))
        o2, f2 = best.get(("openmp", k, 2)), best.get(("fft", k, 2))
        cell = lambda v: f"{v:.1f}" if v else "-"
        ratio = lambda a, b: f"{a / b:.2f}" if a and b else "-"
        lines.append(f"| {k}x{k} | {cell(s1)} | {cell(f1)} | {ratio(f1, s1)} | {cell(o2)} | {cell(f2)} | {ratio(f2, o2)} |")
    return "\n".join(lines) + "\n", windows, best


def chart(run, windows, best):
    gnuplot = shutil.which("gnuplot")
    if not gnuplot:
        return "gnuplot not found: crossover.png not drawn"
    dat = os.path.join(run, "crossover.dat")
    with open(dat, "w", encoding="utf-8") as f:
        f.write("# window simd_1t fft_1t openmp_2t fft_2t (GFLOP/s of the direct work)\n")
        for k in windows:
            f.write(" ".join([str(k)] + [str(best.get(key, "NaN")) for key in
                                         (("simd", k, 1), ("fft", k, 1), ("openmp", k, 2), ("fft", k, 2))]) + "\n")
    png = os.path.join(run, "crossover.png")
    script = f"""set terminal pngcairo noenhanced size 900,560 font 'sans,11'
set output '{png}'
set title 'FFT against direct convolution: 32 -> 32 channels, 20 x 20 images, batch 8 (one 32 x 32 FFT plane)'
set xlabel 'window (k x k, padding k/2)'
set ylabel 'GFLOP/s of the direct sum (log scale)'
set logscale y
set key top left
set grid
set xtics 2
plot '{dat}' using 1:2 with linespoints lw 2 title 'simd, 1 thread', \\
     '{dat}' using 1:3 with linespoints lw 2 title 'fft, 1 thread', \\
     '{dat}' using 1:4 with linespoints lw 2 dt 2 title 'openmp, 2 threads', \\
     '{dat}' using 1:5 with linespoints lw 2 dt 2 title 'fft, 2 threads'
"""
    done = subprocess.run([gnuplot], input=script, text=True, capture_output=True, timeout=60)
    if done.returncode != 0 or not os.path.exists(png):
        return f"gnuplot: {done.stderr.strip()}"
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    text, windows, best = table(args.run)
    path = os.path.join(args.run, "crossover.md")
    status = write_or_check(path, text, args.check,
                            f"fft_crossover: {path} is not what convlab_bench.json gives; run it again")
    if args.check:
        return status
    note = chart(args.run, windows, best)
    print(text, end="")
    if note:
        print(note, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
