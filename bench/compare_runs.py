#!/usr/bin/env python3
"""Two full bench runs side by side: how far their ratios against each peer moved, and whose speed moved.

    compare_runs.py RUN_A RUN_B --out DIR     writes DIR/runs.json (the two runs) and DIR/compare.md
    compare_runs.py --check DIR               compares DIR/compare.md with what the runs' files give now

RUN_A and RUN_B are folders of scripts/bench.sh (results/bench-<timestamp>, or one kept in docs/runs) whose
summary.json bench/summarize.py wrote. For each pass, shape file and peer (the oneDNN primitive, PyTorch) the
table gives both runs' geomeans of convlab's best against the peer at its best, then, over the cases both runs
measured (same shape and batch), the geometric means of B / A of convlab's figure, of the peer's figure and of
their ratio, and the lowest and highest ratio B / A. Run on the same code, the spread of that last column is
how far one run's ratios can move by the machine alone, which is what a target judged on one run must be read
against. Paths in runs.json are relative to the repository (the folder holding bench/).
"""
import argparse
import json
import math
import os
import sys

PASSES = ("forward", "backward_input", "backward_weights")
PEERS = (("onednn", "oneDNN primitive"), ("torch", "PyTorch"))
REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class RunError(Exception):
    pass


def load_summary(run_dir):
    path = os.path.join(run_dir, "summary.json")
    if not os.path.isfile(path):
        raise RunError(f"{path}: no such file (run bench/summarize.py on the run first)")
    try:
        with open(path, encoding="utf-8") as f:
            summary = json.load(f)
    except (OSError, ValueError) as e:
        raise RunError(f"{path}: not readable as JSON ({e})")
    if not isinstance(summary, dict) or not isinstance(summary.get("suites"), dict):
        raise RunError(f"{path}: has no 'suites' section (not a summary.json of bench/summarize.py)")
    return summary


def machine(run_dir):
    """The CPU line convlab_bench recorded in the run (its context), or a note that it is missing."""
    try:
        with open(os.path.join(run_dir, "convlab_bench.json"), encoding="utf-8") as f:
            return json.load(f).get("context", {}).get("convlab.cpu", "CPU not recorded")
    except (OSError, ValueError, AttributeError):
        return "CPU not recorded"


def geomean(values):
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else None


def cases_by_key(suite, peer):
    """(shape, batch) -> (convlab GFLOP/s, peer GFLOP/s, ratio) for the cases where both were measured."""
    out = {}
    for case in suite.get("cases", []):
        entry = case.get("peers", {}).get(peer)
        if not entry or not entry.get("ratio"):
            continue
        ours, theirs = entry.get("convlab", {}).get("GFLOPS"), entry.get("row", {}).get("GFLOPS")
        if ours and theirs:
            out[(case["name"], case["batch"])] = (ours, theirs, entry["ratio"])
    return out


def suite_geomean(suite, peer):
    """The run's own geomean against the peer (bench/summarize.py's, over the shapes with both figures)."""
    return suite.get("peers", {}).get(peer, {}).get("geomean")


def fmt(value):
    """Three significant digits, trailing zeros kept (1.00, 0.952, 228)."""
    return "-" if value is None else f"{value:#.3g}".rstrip(".")


def compare(run_a, run_b):
    a, b = load_summary(os.path.join(REPOSITORY, run_a)), load_summary(os.path.join(REPOSITORY, run_b))
    lines = [f"# Two bench runs compared: A = `{run_a}`, B = `{run_b}`", ""]
    for label, summary, run in (("A", a, run_a), ("B", b, run_b)):
        meta = summary.get("meta", {})
        peak = summary.get("fma_peak_gflops", {})
        lines.append(f"- {label}: {machine(os.path.join(REPOSITORY, run))}; started {meta.get('uptime_before', '?')}; "
                     f"FMA float peak {fmt(peak.get('float/threads:1'))} / {fmt(peak.get('float/threads:2'))} GFLOP/s "
                     f"at 1 / 2 threads")
    lines += ["", "Per pass, shape file and peer: both runs' geomean of convlab's best / the peer at its best; over "
              "the cases both measured, geomean of B / A of convlab's figure, of the peer's and of the ratio, and "
              "the lowest and highest ratio B / A.", "",
              "| pass | suite | peer | cases | geomean A | geomean B | convlab B/A | peer B/A | ratio B/A | "
              "lowest ratio B/A | highest ratio B/A |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    rows = 0
    for pass_name in PASSES:
        suites_a, suites_b = a["suites"].get(pass_name, {}), b["suites"].get(pass_name, {})
        for suite_name in suites_a:
            if suite_name not in suites_b:
                continue
            for peer, peer_label in PEERS:
                cases_a = cases_by_key(suites_a[suite_name], peer)
                cases_b = cases_by_key(suites_b[suite_name], peer)
                common = sorted(set(cases_a) & set(cases_b))
                if not common:
                    continue
                drift = [(cases_b[k][2] / cases_a[k][2], k) for k in common]
                lowest, highest = min(drift), max(drift)
                lines.append(
                    f"| {pass_name} | {suite_name} | {peer_label} | {len(common)} | "
                    f"{fmt(suite_geomean(suites_a[suite_name], peer))} | {fmt(suite_geomean(suites_b[suite_name], peer))} | "
                    f"{fmt(geomean([cases_b[k][0] / cases_a[k][0] for k in common]))} | "
                    f"{fmt(geomean([cases_b[k][1] / cases_a[k][1] for k in common]))} | "
                    f"{fmt(geomean([d for d, _ in drift]))} | "
                    f"{fmt(lowest[0])} ({lowest[1][0]} b{lowest[1][1]}) | {fmt(highest[0])} ({highest[1][0]} b{highest[1][1]}) |")
                rows += 1
    if not rows:
        raise RunError(f"{run_a} and {run_b}: no pass, shape file and peer measured in both runs")
    return "\n".join(lines) + "\n"


def relative(path):
    return os.path.relpath(os.path.abspath(path), REPOSITORY)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="*", help="RUN_A RUN_B")
    parser.add_argument("--out", help="folder for runs.json and compare.md")
    parser.add_argument("--check", metavar="DIR", help="compare DIR/compare.md with what its runs give")
    args = parser.parse_args(argv)
    try:
        if args.check:
            if args.runs or args.out:
                parser.error("--check takes only the folder")
            path = os.path.join(args.check, "runs.json")
            try:
                with open(path, encoding="utf-8") as f:
                    runs = json.load(f)
                run_a, run_b = runs["a"], runs["b"]
            except (OSError, ValueError, KeyError, TypeError) as e:
                raise RunError(f"{path}: not a runs.json of compare_runs.py ({e})")
            expected = compare(run_a, run_b)
            table = os.path.join(args.check, "compare.md")
            try:
                with open(table, encoding="utf-8") as f:
                    written = f.read()
            except OSError as e:
                raise RunError(f"{table}: not readable ({e})")
            if written != expected:
                print(f"compare_runs.py: {table} differs from what {run_a} and {run_b} give now", file=sys.stderr)
                return 1
            print(f"compare_runs.py: {table} matches its runs")
            return 0
        if len(args.runs) != 2 or not args.out:
            parser.error("give RUN_A RUN_B --out DIR, or --check DIR")
        for run in args.runs:
            if not os.path.isdir(run):
                raise RunError(f"{run}: not a folder (a run of scripts/bench.sh)")
        run_a, run_b = relative(args.runs[0]), relative(args.runs[1])
        text = compare(run_a, run_b)
        os.makedirs(args.out, exist_ok=True)
        for name, content in (("runs.json", json.dumps({"a": run_a, "b": run_b}, indent=2) + "\n"), ("compare.md", text)):
            partial = os.path.join(args.out, name + ".partial")
            with open(partial, "w", encoding="utf-8") as f:
                f.write(content)
            os.replace(partial, os.path.join(args.out, name))
        sys.stdout.write(text)
        return 0
    except RunError as e:
        print(f"compare_runs.py: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
