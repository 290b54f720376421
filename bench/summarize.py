#!/usr/bin/python3
"""Merges one benchmark run (results/bench-<timestamp>/*.json: convlab_bench's Google Benchmark JSON and the
Python peers' files in the same shape) into summary.md and summary.json: the machine's measured peak, every
implementation and peer per shape with images/s, GFLOP/s and ratios to the FMA peak and to PyTorch, a
roofline view, the project's performance targets (measured, target, met), and the end-to-end epochs.

Standard library only. Usage: summarize.py RESULTS_DIR"""

import csv
import glob
import json
import os
import re
import sys

CONV_NAME = re.compile(r"^conv/([^/]+)/([^/]+)/([^/]+)/([^/]+)/batch:(\d+)/threads:(\d+)")
EPOCH_NAME = re.compile(r"^epoch/([^/]+)/([^/]+)/([^/]+)/batch:(\d+)/threads:(\d+)")
PEAK_FMA = re.compile(r"^peak/fma/(float|double)/threads:(\d+)")
PEAK_MEMORY = re.compile(r"^peak/memory/(read|write|copy)/threads:(\d+)")
UNIT_PER_SECOND = {"ns": 1e9, "us": 1e6, "ms": 1e3, "s": 1.0}
PASSES = ["forward", "backward_input", "backward_weights"]
PEERS = ["onednn", "onednn_nchw", "torch", "numpy"]
EXPECTED_FILES = {
    "convlab_bench.json": "convlab_bench (convlab's implementations, machine peak, oneDNN)",
    "torch_conv.json": "PyTorch conv2d peer",
    "numpy_conv_t1.json": "numpy (lecture method) peer",
    "torch_epoch.json": "PyTorch training-epoch peer",
}


class Run:
    """Everything read from one results directory."""

    def __init__(self, directory):
        self.directory = directory
        self.contexts = {}
        self.conv = []       # dicts: impl, pass, shape, dtype, batch, threads, images_per_second, GFLOPS, ...
        self.epochs = []
        self.errors = []
        self.other = []
        self.fma = {}        # (dtype, threads) -> GFLOP/s
        self.memory = {}     # (kind, threads) -> GB/s
        self.meta = {}
        self.plan = {}
        self.impl_order = []
        for path in sorted(glob.glob(os.path.join(directory, "*.json"))):
            base = os.path.basename(path)
            if base.startswith("summary"):
                continue
            try:
                with open(path, encoding="utf-8") as f:
                    data = json.load(f)
            except (OSError, ValueError) as error:
                self.errors.append(f"{base}: unreadable ({error})")
                continue
            if base == "meta.json":
                self.meta = data
            elif base == "plan.json":
                self.plan = data
            elif isinstance(data, dict) and "benchmarks" in data:
                self.contexts[base] = data.get("context", {})
                for entry in data["benchmarks"]:
                    self.add(base, entry)
        self.fold_startup_peak()

    def add(self, source, entry):
        if entry.get("run_type") == "aggregate":
            return
        name = entry.get("run_name") or entry.get("name", "")
        name = re.sub(r"/(real_time|manual_time)$", "", name)
        if entry.get("error_occurred"):
            self.errors.append(f"{name}: {entry.get('error_message', 'error')}")
            return
        if m := CONV_NAME.match(name):
            impl, pass_, shape, dtype, batch, threads = m.groups()
            row = {"impl": impl, "pass": pass_, "shape": shape, "dtype": dtype, "batch": int(batch),
                   "threads": int(threads), "images_per_second": float(entry.get("images_per_second", 0)),
                   "GFLOPS": float(entry.get("GFLOPS", 0)), "source": source, "label": entry.get("label", ""),
                   "arithmetic_intensity": entry.get("arithmetic_intensity"),
                   "workspace_bytes": entry.get("workspace_bytes")}
            self.conv.append(row)
            if source == "convlab_bench.json" and impl not in PEERS and impl not in self.impl_order:
                self.impl_order.append(impl)
        elif m := EPOCH_NAME.match(name):
            impl, network, dtype, batch, threads = m.groups()
            seconds = entry.get("epoch_seconds")
            if seconds is None and entry.get("real_time") is not None:
                seconds = float(entry["real_time"]) / UNIT_PER_SECOND.get(entry.get("time_unit", "ns"), 1e9)
            self.epochs.append({"impl": impl, "network": network, "dtype": dtype, "batch": int(batch),
                                "threads": int(threads), "images_per_second": float(entry.get("images_per_second", 0)),
                                "images": int(entry["images"]) if entry.get("images") else None, "seconds": seconds,
                                "source": source})
        elif m := PEAK_FMA.match(name):
            self.fma[(m.group(1), int(m.group(2)))] = float(entry.get("GFLOPS", 0))
        elif m := PEAK_MEMORY.match(name):
            self.memory[(m.group(1), int(m.group(2)))] = float(entry.get("GBps", 0))
        else:
            self.other.append({"name": name, "source": source, "real_time": entry.get("real_time"),
                               "time_unit": entry.get("time_unit"), "label": entry.get("label", "")})

    def fold_startup_peak(self):
        """The FMA peak is the best of the two measurements of the run (start-up best-of-calls and the peak
        benchmark's mean): other processes on the machine can only lower a measurement of it."""
        context = self.contexts.get("convlab_bench.json", {})
        for key, value in context.items():
            m = re.match(r"convlab\.startup_fma_gflops\.(float|double)\.threads:(\d+)$", key)
            if m:
                k = (m.group(1), int(m.group(2)))
                self.fma[k] = max(self.fma.get(k, 0.0), float(value))

    def peak_gflops(self, dtype, threads):
        return self.fma.get((dtype, threads))

    def find(self, impl, pass_, shape, batch, threads, dtype="float"):
        for row in self.conv:
            if (row["impl"], row["pass"], row["shape"], row["batch"], row["threads"], row["dtype"]) == \
                    (impl, pass_, shape, batch, threads, dtype):
                return row
        return None

    def find_best_threads(self, impl, pass_, shape, batch, dtype="float"):
        """A peer's faster figure of 1 and 2 threads: targets compare against the peer at its best."""
        rows = [r for r in (self.find(impl, pass_, shape, batch, t, dtype) for t in (1, 2)) if r]
        return max(rows, key=lambda r: r["images_per_second"]) if rows else None

    def shape_meanings(self):
        meanings = {}
        for case in self.plan.get("cases", []):
            meanings.setdefault(case["shape_id"], case["describe"].split(" ", 1)[1])
        return meanings


def fmt(value, digits=3):
    """Three significant digits, thousands separated; '-' for missing."""
    if value is None:
        return "-"
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    decimals = max(0, digits - 1 - int(f"{magnitude:e}".split("e")[1]))
    return f"{value:.{decimals}f}"


def ratio(a, b):
    return a / b if a and b else None


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def impl_rank(run, impl):
    order = run.impl_order + PEERS
    return order.index(impl) if impl in order else len(order)


def enrich(run):
    """Adds the ratios to every convolution row."""
    for row in run.conv:
        peak = run.peak_gflops(row["dtype"], row["threads"])
        row["peak_fraction"] = ratio(row["GFLOPS"], peak)
        torch = run.find("torch", row["pass"], row["shape"], row["batch"], row["threads"], row["dtype"])
        row["vs_torch"] = ratio(row["images_per_second"], torch["images_per_second"]) if torch else None
        onednn = run.find("onednn", row["pass"], row["shape"], row["batch"], row["threads"], row["dtype"])
        row["vs_onednn"] = ratio(row["images_per_second"], onednn["images_per_second"]) if onednn else None


def convlab_rows(run, pass_, shape, threads):
    """convlab's own rows for a case at `threads`; an implementation without threads counts with its
    1-thread figure (it runs the same code whatever the thread count)."""
    rows = []
    for impl in run.impl_order:
        for row in run.conv:
            if row["impl"] == impl and row["pass"] == pass_ and row["shape"] == shape and row["dtype"] == "float":
                if row["threads"] == threads or (row["threads"] == 1 and
                                                 not any(r["impl"] == impl and r["threads"] == threads
                                                         for r in run.conv)):
                    rows.append(row)
    return rows


def best_row(rows, min_batch=1):
    rows = [r for r in rows if r["batch"] >= min_batch]
    return max(rows, key=lambda r: r["images_per_second"]) if rows else None


TARGET_TEST_PERCENT = 98.24  # the lecture's test accuracy on MNIST
TRAIN_HISTORY = "train_default_history.csv"  # scripts/bench.sh: `convlab train --threads 2 --history ...`


def time_to_accuracy(run, percent):
    """(epoch, training seconds) of the first epoch of the default training run whose test accuracy reaches
    `percent`, read from its --history CSV (seconds: training time so far, test evaluations excluded)."""
    path = os.path.join(run.directory, TRAIN_HISTORY)
    try:
        with open(path, encoding="utf-8") as f:
            for row in csv.DictReader(f):
                if float(row["test_percent_correct"]) >= percent:
                    return int(row["epoch"]), float(row["seconds"])
    except (OSError, KeyError, ValueError):
        return None
    return None


def targets(run):
    """The project's performance targets, each with the measured figure, the goal and whether it is met."""
    result = []

    def add(what, measured, goal, detail):
        met = None if measured is None else measured >= goal
        result.append({"target": what, "measured": measured, "goal": goal, "met": met, "detail": detail})

    lecture_forward = convlab_rows(run, "forward", "lecture1", 2)
    best = best_row(lecture_forward, min_batch=64)
    if best:
        where = f"{best['impl']}, batch {best['batch']}, {best['threads']} thread(s)"
        peak = run.peak_gflops("float", 2)
        ceiling = ""
        if peak and best["GFLOPS"] and best["images_per_second"]:
            # Images/s at 100 % of the FMA peak: the goal is out of reach on a machine whose peak is below it.
            peak_images = best["images_per_second"] * peak / best["GFLOPS"]
            ceiling = (f"; this machine's 2-thread FMA peak is {fmt(peak_images)} images/s for this layer"
                       + (", below the goal: unreachable here" if peak_images < 400000 else ""))
        add("lecture layer forward, float32, 2 threads: images/s", best["images_per_second"], 400000, where + ceiling)
        add("  same, fraction of the 2-thread FMA peak", ratio(best["GFLOPS"], run.peak_gflops("float", 2)), 0.5, where)
        # Each peer twice: at 2 threads, as the targets are defined, and at its faster thread count (on this
        # 2-vCPU machine PyTorch is often slower on 2 threads than on 1), the stricter comparison.
        for peer, label, goal in (("onednn", "the oneDNN primitive", 1.6), ("torch", "PyTorch conv2d", 3.0)):
            for at_best in (False, True):
                other = (run.find_best_threads(peer, "forward", "lecture1", best["batch"]) if at_best
                         else run.find(peer, "forward", "lecture1", best["batch"], 2))
                add(f"  same, vs {label} (same batch, {'its faster thread count' if at_best else '2 threads'})",
                    ratio(best["images_per_second"], other["images_per_second"]) if other else None, goal,
                    f"{where}; {peer} at {other['threads']} thread(s)" if other else f"no {peer} figure for this case")
    else:
        add("lecture layer forward, float32, 2 threads: images/s", None, 400000, "no convlab figure at batch >= 64")

    # Forward + both backward passes: seconds per image summed over the passes, at the training batch.
    batch = 64
    for at_best in (False, True):
        totals = {}
        for impl in run.impl_order + ["torch"]:
            seconds = 0.0
            for pass_ in PASSES:
                if impl == "torch":
                    rows = [run.find_best_threads("torch", pass_, "lecture1", batch) if at_best
                            else run.find("torch", pass_, "lecture1", batch, 2)]
                else:
                    rows = convlab_rows(run, pass_, "lecture1", 2)
                rows = [r for r in rows if r and r["impl"] == impl and r["batch"] == batch]
                if not rows:
                    seconds = None
                    break
                seconds += 1.0 / rows[0]["images_per_second"]
            if seconds:
                totals[impl] = seconds
        torch_total = totals.pop("torch", None)
        what = ("lecture layer forward + both backward, 2 threads: vs PyTorch"
                + (" at its faster thread count per pass" if at_best else " at 2 threads"))
        if totals and torch_total:
            best_impl = min(totals, key=totals.get)
            add(what, torch_total / totals[best_impl], 6.0,
                f"{best_impl}, batch {batch}: {fmt(1 / totals[best_impl])} vs {fmt(1 / torch_total)} images/s "
                "through all three passes")
        else:
            add(what, None, 6.0, "needs all three passes at batch 64, 2 threads, for a convlab implementation and PyTorch")

    # End to end: a training epoch of the lecture's network at 2 threads, the fastest convlab implementation
    # against PyTorch's at 2 threads and at its faster thread count (images per second, so a quick run's
    # shorter epochs compare alike).
    torch_epochs = [e for e in run.epochs if e["impl"] == "torch"]
    own_epochs = [e for e in run.epochs if e["impl"] != "torch" and e["threads"] == 2]
    fastest = max(own_epochs, key=lambda e: e["images_per_second"]) if own_epochs else None
    torch_epoch = None
    for at_best in (False, True):
        candidates = torch_epochs if at_best else [e for e in torch_epochs if e["threads"] == 2]
        torch_epoch = max(candidates, key=lambda e: e["images_per_second"]) if candidates else None
        what = ("training epoch (lecture network, batch 64, 2 threads): vs PyTorch"
                + (" at its faster thread count" if at_best else " at 2 threads"))
        if fastest and torch_epoch:
            add(what, ratio(fastest["images_per_second"], torch_epoch["images_per_second"]), 4.0,
                f"{fastest['impl']}: {fmt(fastest['images_per_second'])} vs {fmt(torch_epoch['images_per_second'])} "
                f"images/s (PyTorch at {torch_epoch['threads']} thread(s))")
        else:
            add(what, None, 4.0, "needs a convlab epoch at 2 threads and a PyTorch epoch")
    # Time to accuracy against two PyTorch epochs: at 2 threads (the targets' definition) and at PyTorch's
    # faster thread count (the stricter comparison).
    reached = time_to_accuracy(run, TARGET_TEST_PERCENT)
    for at_best in (False, True):
        candidates = torch_epochs if at_best else [e for e in torch_epochs if e["threads"] == 2]
        torch_epoch = max(candidates, key=lambda e: e["images_per_second"]) if candidates else None
        what = (f"default `convlab train` to {TARGET_TEST_PERCENT}% test: two PyTorch epochs / its time"
                + (" (PyTorch at its faster thread count)" if at_best else " (PyTorch at 2 threads)"))
        torch_epoch_seconds = 60000 / torch_epoch["images_per_second"] if torch_epoch else None
        if reached and torch_epoch_seconds:
            epoch, seconds = reached
            add(what, 2 * torch_epoch_seconds / seconds, 1.0,
                f"reached at epoch {epoch} after {fmt(seconds)} s of training; a PyTorch epoch of 60000 images at "
                f"{torch_epoch['threads']} thread(s) takes {fmt(torch_epoch_seconds)} s (its measured rate; "
                "quick mode times fewer images)")
        else:
            add(what, None, 1.0, "needs train_default_history.csv reaching the accuracy and a PyTorch epoch"
                if torch_epoch_seconds else "needs a PyTorch epoch")

    one = [r for r in run.conv if r["impl"] == "openmp" and r["pass"] == "forward" and r["shape"] == "lecture1"]
    pairs = [(run.find("openmp", "forward", "lecture1", r["batch"], 2), r) for r in one if r["threads"] == 1]
    pairs = [(two, single) for two, single in pairs if two]
    if pairs:
        two, single = max(pairs, key=lambda p: p[1]["batch"])
        add("openmp: 2 threads vs itself at 1 thread (lecture layer forward)",
            ratio(two["images_per_second"], single["images_per_second"]), 1.8, f"batch {two['batch']}")
    else:
        add("openmp: 2 threads vs itself at 1 thread (lecture layer forward)", None, 1.8,
            "no 'openmp' implementation measured at 1 and 2 threads")
    return result


def roofline(run):
    """Per shape and pass, at batch 64 (else the largest measured): arithmetic intensity (flop per byte of
    compulsory traffic) and, for 1 and 2 threads, the roof min(FMA peak, intensity x read bandwidth) at that
    thread count and the best figure achieved there (single-threaded implementations count at both)."""
    rows = []
    planned = [c["shape_id"] for c in run.plan.get("cases", [])]
    shapes = sorted({r["shape"] for r in run.conv}, key=lambda s: planned.index(s) if s in planned else len(planned))
    for shape in shapes:
        for pass_ in PASSES:
            candidates = [r for r in run.conv if r["shape"] == shape and r["pass"] == pass_ and r["dtype"] == "float"]
            if not candidates:
                continue
            batch = 64 if any(r["batch"] == 64 for r in candidates) else max(r["batch"] for r in candidates)
            at_batch = [r for r in candidates if r["batch"] == batch]
            intensity = next((r["arithmetic_intensity"] for r in at_batch if r["arithmetic_intensity"]), None)
            row = {"shape": shape, "pass": pass_, "batch": batch, "arithmetic_intensity": intensity}
            for threads in (1, 2):
                peak = run.peak_gflops("float", threads)
                bandwidth = run.memory.get(("read", threads))
                roof = min(peak, intensity * bandwidth) if peak and intensity and bandwidth else None
                threaded = {r["impl"] for r in at_batch if r["threads"] == 2}
                eligible = [r for r in at_batch if r["threads"] == threads or
                            (threads == 2 and r["threads"] == 1 and r["impl"] not in threaded)]
                best = max(eligible, key=lambda r: r["GFLOPS"]) if eligible else None
                row[f"threads:{threads}"] = {
                    "roof_gflops": roof,
                    "bound": None if roof is None else ("compute" if peak <= intensity * bandwidth else "memory"),
                    "best": f"{best['impl']} ({best['threads']}t)" if best else None,
                    "best_gflops": best["GFLOPS"] if best else None,
                    "fraction_of_roof": ratio(best["GFLOPS"], roof) if best else None}
            rows.append(row)
    return rows


def warnings(run):
    """What makes this run's figures doubtful, read from the run itself."""
    found = []
    load = re.search(r"load average: ([0-9.]+)", run.meta.get("uptime_before", ""))
    cpus = run.contexts.get("convlab_bench.json", {}).get("num_cpus")
    if load and cpus and float(load.group(1)) > 0.5 * float(cpus):
        found.append(f"the machine was busy when the run started (1-minute load {load.group(1)} on {cpus} CPUs): "
                     "other processes took cycles from the timed code, 2-thread figures most of all.")
    one, two = run.peak_gflops("float", 1), run.peak_gflops("float", 2)
    if one and two and two < 1.5 * one:
        found.append(f"the 2-thread FMA peak ({fmt(two)} GFLOP/s) is under 1.5x the 1-thread one ({fmt(one)}): the "
                     "second core was not free, so 2-thread ratios to it are not meaningful.")
    return found


def markdown(run, target_rows, roof_rows):
    ctx = run.contexts.get("convlab_bench.json", {})
    out = [f"# convlab benchmark summary: {os.path.basename(os.path.abspath(run.directory))}", ""]
    meta = run.meta
    out.append(f"- mode: {meta.get('mode', ctx.get('convlab.mode', '?'))}; command: `{meta.get('command', '?')}`")
    out.append(f"- load (uptime) before: {meta.get('uptime_before', '?')}; after: {meta.get('uptime_after', '?')}")
    out.append(f"- machine: {ctx.get('num_cpus', '?')} CPUs at {ctx.get('mhz_per_cpu', '?')} MHz, "
               f"FMA kernel {ctx.get('convlab.fma_kernel', '?')}; build flags `{ctx.get('convlab.base_flags', '?')}`")
    for impl in run.impl_order:
        out.append(f"- `{impl}`: {ctx.get(f'impl.{impl}.summary', '')} (threads: "
                   f"{ctx.get(f'impl.{impl}.uses_threads', '?')}; flags `{ctx.get(f'impl.{impl}.build_flags', '?')}`)")
    out.append(f"- oneDNN: {ctx.get('convlab.onednn', 'no figures')}")
    torch_ctx = run.contexts.get("torch_conv.json")
    if torch_ctx:
        out.append(f"- PyTorch {torch_ctx.get('torch_version')}, Python peers' glibc allocator: MALLOC_MMAP_MAX_="
                   f"{torch_ctx.get('MALLOC_MMAP_MAX_', '?')} MALLOC_TRIM_THRESHOLD_="
                   f"{torch_ctx.get('MALLOC_TRIM_THRESHOLD_', '?')} (freed results reused, not faulted in again)")
    else:
        out.append("- PyTorch: no figures (not installed or skipped)")
    numpy_ctx = next((c for k, c in sorted(run.contexts.items()) if k.startswith("numpy_conv")), None)
    if numpy_ctx:
        out.append(f"- numpy {numpy_ctx.get('numpy_version')}: BLAS `{numpy_ctx.get('blas_library')}`, kernel: "
                   f"{numpy_ctx.get('blas_kernel')} (OPENBLAS_CORETYPE {numpy_ctx.get('OPENBLAS_CORETYPE')}, "
                   f"OPENBLAS_L2_SIZE {numpy_ctx.get('OPENBLAS_L2_SIZE')})")
    else:
        out.append("- numpy: no figures (not installed or skipped)")
    missing = [f"{what} ({name})" for name, what in EXPECTED_FILES.items()
               if name not in run.contexts and not (name.startswith("numpy") and numpy_ctx)]
    if missing:
        out.append(f"- missing: {', '.join(missing)}: see the run's log")
    out.append("")
    out.append("Figures are means of wall time per call; on a shared machine they are only as good as its load.")
    out.append("")
    for warning in warnings(run):
        out.append(f"- **Warning:** {warning}")
    out.append("")

    out += ["## Machine peak (measured in this run)", ""]
    rows = []
    for threads in (1, 2):
        rows.append([threads, fmt(run.fma.get(("float", threads))), fmt(run.fma.get(("double", threads))),
                     fmt(run.memory.get(("read", threads))), fmt(run.memory.get(("write", threads))),
                     fmt(run.memory.get(("copy", threads)))])
    out += [table(["threads", "FMA float GFLOP/s", "FMA double GFLOP/s", "read GB/s", "write GB/s", "copy GB/s"],
                  rows), ""]
    out.append("FMA: the better of the start-up best-of-calls measurement and the benchmark's mean. "
               "Bandwidth: buffers far larger than L3 (see buffer_MiB in convlab_bench.json).")
    out.append("")

    out += ["## Targets", ""]
    rows = [[t["target"], fmt(t["measured"]), fmt(t["goal"]),
             "n/a" if t["met"] is None else ("yes" if t["met"] else "no"), t["detail"]] for t in target_rows]
    out += [table(["target", "measured", "goal", "met", "where"], rows), ""]

    out += ["## Roofline (float32)", ""]
    rows = []
    for r in roof_rows:
        row = [r["shape"], r["pass"], r["batch"], fmt(r["arithmetic_intensity"])]
        for threads in (1, 2):
            at = r[f"threads:{threads}"]
            row += [f"{fmt(at['roof_gflops'])} ({at['bound'] or '-'})", at["best"] or "-", fmt(at["best_gflops"]),
                    fmt(at["fraction_of_roof"])]
        rows.append(row)
    out += [table(["shape", "pass", "batch", "flop/byte", "roof 1t GFLOP/s", "best 1t", "GFLOP/s", "of roof",
                   "roof 2t GFLOP/s", "best 2t", "GFLOP/s", "of roof"], rows), ""]
    out.append("Intensity counts compulsory traffic only (each operand read once, the result written once); "
               "roof = min(FMA peak, intensity x read bandwidth) at that thread count, both measured in this run. "
               "In the 2-thread columns an implementation without threads counts with its 1-thread figure.")
    out.append("")

    meanings = run.shape_meanings()
    shape_ids = []
    for case in run.plan.get("cases", []):
        if case["shape_id"] not in shape_ids:
            shape_ids.append(case["shape_id"])
    shape_ids += sorted({r["shape"] for r in run.conv} - set(shape_ids))
    for shape in shape_ids:
        rows_for_shape = [r for r in run.conv if r["shape"] == shape]
        if not rows_for_shape:
            continue
        out += [f"## {shape}: {meanings.get(shape, '')}", ""]
        rows_for_shape.sort(key=lambda r: (PASSES.index(r["pass"]) if r["pass"] in PASSES else 9, r["batch"],
                                           r["threads"], impl_rank(run, r["impl"])))
        rows = [[r["pass"], r["batch"], r["threads"], r["impl"], fmt(r["images_per_second"]), fmt(r["GFLOPS"]),
                 fmt(None if r["peak_fraction"] is None else 100 * r["peak_fraction"]), fmt(r["vs_torch"]),
                 fmt(r["vs_onednn"])] for r in rows_for_shape]
        out += [table(["pass", "batch", "threads", "implementation", "images/s", "GFLOP/s", "% FMA peak",
                       "vs PyTorch", "vs oneDNN"], rows), ""]

    out += ["## End to end: one training epoch of the lecture's network", ""]
    if run.epochs:
        torch_rate = {e["threads"]: e["images_per_second"] for e in run.epochs if e["impl"] == "torch"}
        ordered = sorted(run.epochs, key=lambda e: (e["threads"], impl_rank(run, e["impl"]) if e["impl"] != "torch"
                                                    else 99))
        rows = [[e["impl"], e["threads"], e["batch"], e["images"] or "-", fmt(e["seconds"]),
                 fmt(e["images_per_second"]), fmt(ratio(e["images_per_second"], torch_rate.get(e["threads"])))]
                for e in ordered]
        out += [table(["implementation", "threads", "batch", "images", "seconds", "images/s", "vs PyTorch"], rows), ""]
        out += ["Timed: forward, backward and update of every minibatch of the epoch; data loading is not.", ""]
    else:
        out += ["No epoch figures in this run.", ""]

    if run.other:
        out += ["## Other benchmarks in convlab_bench", ""]
        out += [table(["name", "time", "label"], [[o["name"], f"{fmt(o['real_time'])} {o['time_unit'] or ''}",
                                                   o["label"]] for o in run.other]), ""]
    if run.errors:
        out += ["## Errors and skipped cases", ""] + [f"- {e}" for e in run.errors] + [""]
    return "\n".join(line for line in out if line is not None) + "\n"


def write_atomically(path, text):
    partial = path + ".partial"
    with open(partial, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(partial, path)


def main(argv):
    if len(argv) != 2 or not os.path.isdir(argv[1]):
        print("usage: summarize.py RESULTS_DIR (a results/bench-<timestamp> folder)", file=sys.stderr)
        return 2
    run = Run(argv[1])
    if not run.conv and not run.fma and not run.epochs:
        print(f"summarize.py: {argv[1]}: no benchmark results found", file=sys.stderr)
        return 1
    enrich(run)
    target_rows = targets(run)
    roof_rows = roofline(run)
    write_atomically(os.path.join(argv[1], "summary.md"), markdown(run, target_rows, roof_rows))
    summary = {"meta": run.meta,
               "fma_peak_gflops": {f"{d}/threads:{t}": v for (d, t), v in sorted(run.fma.items())},
               "memory_gbps": {f"{k}/threads:{t}": v for (k, t), v in sorted(run.memory.items())},
               "warnings": warnings(run), "targets": target_rows, "roofline": roof_rows, "conv": run.conv,
               "epochs": run.epochs,
               "other": run.other, "errors": run.errors}
    write_atomically(os.path.join(argv[1], "summary.json"), json.dumps(summary, indent=2) + "\n")
    print(f"summarize.py: wrote {os.path.join(argv[1], 'summary.md')} and summary.json")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
