#!/usr/bin/python3
"""A/B timing of two convlab_bench builds on a noisy shared machine: which change helped, and by how much.

On the 2-vCPU virtual machines this project is measured on, one benchmark's rate moves
between runs minutes apart (the host's other tenants) by more than most single changes gain. So a
before/after comparison runs both builds in alternating rounds (before-after, then after-before, ...), each
benchmark repeated many times with short runs, and keeps each side's *best* repetition over all rounds:
interference only ever slows a run down, so the best one is the closest to the undisturbed rate, and
alternation spreads any slow drift of the machine over both sides.

    bench/ab_compare.py --before-rev HEAD~1 --out results/ab-tiling -- --benchmark_filter='conv/openmp/.*batch:1/'
    bench/ab_compare.py --before old/convlab_bench --after build/convlab_bench --out DIR -- --shape '...'
    bench/ab_compare.py --summarize DIR [--check]

Everything after `--` goes to both convlab_bench runs. --before-rev builds that git revision's convlab_bench in a
scratch worktree (Release, the repository's own CMake flags). The folder gets each round's JSON, meta.json
(the commands, the CPU, uptime before and after) and ab.md, the table; --summarize writes ab.md again from
the JSON (--check: exit 1 unless the committed ab.md is exactly what the JSON gives). Standard library only.
"""

import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile

from generated_text import write_or_check

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            fields = {}
            for line in info:
                key, _, value = line.partition(":")
                fields.setdefault(key.strip(), value.strip())
                if key.strip() == "flags":
                    break
        return (f"{fields.get('model name', '?')} (cpu family {fields.get('cpu family', '?')}, "
                f"model {fields.get('model', '?')}), {os.cpu_count()} logical CPUs")
    except OSError:
        return "unknown"


def resolve_revision(revision):
    """A revision as its short hash ("HEAD~1" means nothing once the branch moves on)."""
    done = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", revision], capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 and done.stdout.strip() else revision


def uptime():
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def describe_after(binary):
    """The 'after' binary, with the commit it was built from when it is this repository's own build."""
    if os.path.realpath(binary) != os.path.realpath(os.path.join(REPO, "build", "convlab_bench")):
        return binary
    commit = subprocess.run(["git", "-C", REPO, "describe", "--always", "--dirty"], capture_output=True,
                            text=True).stdout.strip()
    return f"build/convlab_bench at {commit}" if commit else binary


def build_revision(revision, scratch):
    """convlab_bench built from `revision` in a worktree under `scratch`; returns its path."""
    tree = os.path.join(scratch, "tree")
    subprocess.run(["git", "-C", REPO, "worktree", "add", "--detach", tree, revision], check=True,
                   stdout=subprocess.DEVNULL)
    build = os.path.join(scratch, "build")
    # The MNIST files are not needed to build the benchmark, only found at configure time if present.
    subprocess.run(["cmake", "-S", tree, "-B", build, "-DCMAKE_BUILD_TYPE=Release"], check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", build, "--target", "convlab_bench", "-j", str(os.cpu_count() or 2)],
                   check=True, stdout=subprocess.DEVNULL)
    return os.path.join(build, "convlab_bench")


def best_rates(paths, counter="GFLOPS", unless=None):
    """{benchmark: best `counter` over every repetition in the JSON files} (aggregates, and cases that also
    have the counter `unless`, skipped), in first-seen order."""
    best = {}
    for path in paths:
        with open(path, encoding="utf-8") as run:
            for case in json.load(run)["benchmarks"]:
                if case.get("run_type") == "aggregate" or counter not in case or case.get("error_occurred"):
                    continue
                if unless and unless in case:
                    continue
                name = case["run_name"]
                best[name] = max(best.get(name, 0.0), float(case[counter]))
    return best


def figure(value):
    return f"{value:.3g}" if value < 100 else f"{value:.0f}"


def table(folder):
    with open(os.path.join(folder, "meta.json"), encoding="utf-8") as meta_file:
        meta = json.load(meta_file)
    rounds = meta["rounds"]
    paths = {side: [os.path.join(folder, f"{side}-{r}.json") for r in range(1, rounds + 1)] for side in ("before", "after")}
    # Convolutions count FLOPs; whole training epochs count images (a table of their own).
    tables = [("GFLOP/s", best_rates(paths["before"]), best_rates(paths["after"])),
              ("images/s", best_rates(paths["before"], "images_per_second", unless="GFLOPS"),
               best_rates(paths["after"], "images_per_second", unless="GFLOPS"))]
    shown = [each for each in tables if each[1]] or tables[:1]  # an empty run keeps the GFLOP/s header
    lines = [
        f"A/B: {meta['before']} (before) against {meta['after']} (after), {meta['date']}, on {meta['cpu']}.",
        f"Best of {rounds} alternating rounds x {meta['repetitions']} repetitions per side; "
        f"{'; '.join(unit for unit, _, _ in shown)}; ratio = after / before.",
    ]
    for unit, before, after in shown:
        lines += ["", f"| benchmark | before {unit} | after {unit} | ratio |", "|---|---|---|---|"]
        for name, rate in before.items():
            if name in after and rate > 0:
                lines.append(f"| {name.removesuffix('/real_time')} | {figure(rate)} | {figure(after[name])} | "
                             f"{after[name] / rate:.2f} |")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", help="convlab_bench binary of the 'before' side")
    parser.add_argument("--before-rev", help="git revision to build as the 'before' side")
    parser.add_argument("--after", default=os.path.join(REPO, "build", "convlab_bench"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repetitions", type=int, default=9)
    parser.add_argument("--out", help="folder for the runs and ab.md")
    parser.add_argument("--summarize", metavar="DIR", help="write DIR/ab.md again from its JSON")
    parser.add_argument("--check", action="store_true", help="with --summarize: compare, do not write")
    parser.add_argument("bench_args", nargs="*", help="convlab_bench arguments (after --)")
    options = parser.parse_args()

    if options.summarize:
        target = os.path.join(options.summarize, "ab.md")
        return write_or_check(target, table(options.summarize), options.check,
                              f"{target}: not what {options.summarize}'s JSON gives; run --summarize again")

    if not options.out or bool(options.before) == bool(options.before_rev):
        parser.error("--out and exactly one of --before / --before-rev are required")
    if options.rounds < 1 or options.repetitions < 1:
        parser.error("--rounds and --repetitions must be at least 1")
    if not os.access(options.after, os.X_OK):
        parser.error(f"--after {options.after}: not an executable (build it first: scripts/build.sh)")
    os.makedirs(options.out, exist_ok=True)
    scratch = tempfile.mkdtemp(prefix="convlab-ab-")
    try:
        before = options.before or build_revision(options.before_rev, scratch)
        if not os.access(before, os.X_OK):
            parser.error(f"--before {before}: not an executable")
        realtime = ["chrt", "-f", "10"] if shutil.which("chrt") and os.geteuid() == 0 else []
        meta = {
            "before": options.before_rev and f"revision {resolve_revision(options.before_rev)}" or before,
            "after": describe_after(options.after), "rounds": options.rounds, "repetitions": options.repetitions,
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "cpu": cpu_model(), "bench_args": options.bench_args, "uptime_before": uptime(),
        }
        common = [*options.bench_args, f"--benchmark_repetitions={options.repetitions}",
                  "--benchmark_min_time=0.05", "--benchmark_format=json"]
        for r in range(1, options.rounds + 1):
            order = [("before", before), ("after", options.after)]
            if r % 2 == 0:
                order.reverse()
            for side, binary in order:
                out = os.path.join(options.out, f"{side}-{r}.json")
                print(f"ab_compare: round {r}/{options.rounds}, {side}", file=sys.stderr)
                subprocess.run([*realtime, binary, *common, f"--benchmark_out={out}"], check=True,
                               stdout=subprocess.DEVNULL)
        meta["uptime_after"] = uptime()
        # convlab_bench names the CPU itself (with its generation) in the runs' context.
        with open(os.path.join(options.out, "after-1.json"), encoding="utf-8") as first:
            meta["cpu"] = json.load(first).get("context", {}).get("convlab.cpu", meta["cpu"])
        with open(os.path.join(options.out, "meta.json"), "w", encoding="utf-8") as meta_file:
            json.dump(meta, meta_file, indent=1)
            meta_file.write("\n")
        text = table(options.out)
        with open(os.path.join(options.out, "ab.md"), "w", encoding="utf-8") as out:
            out.write(text)
        print(text, end="")
    finally:
        if options.before_rev:
            subprocess.run(["git", "-C", REPO, "worktree", "remove", "--force", os.path.join(scratch, "tree")],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
