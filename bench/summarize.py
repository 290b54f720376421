#!/usr/bin/python3
"""Merges one benchmark run (results/bench-<timestamp>/*.json: convlab_bench's Google Benchmark JSON and the
Python peers' files in the same shape) into summary.md and summary.json: the machine's measured peak, every
implementation and peer per shape with images/s, GFLOP/s and ratios to the FMA peak and to PyTorch, a
roofline view, the project's performance targets (measured, target, met), and the end-to-end epochs.

Per shape suite (the plan's "suite" field: a shape file's stem, or "user"), for every pass: the geometric mean
over the suite's shapes of convlab's best implementation at 2 threads against the oneDNN primitive, PyTorch
and (forward) XNNPACK, each at its best; the worst shape; a per-shape table; and a chart of the per-shape
speed-ups, speedups-<pass>.png, drawn by gnuplot when it is installed (its data: speedups-<pass>.dat).

When the epoch benchmarks carry the step profile's counters (op_<name>_seconds, ...: bench/bench_epoch.cpp),
a section "The training step, operation by operation": per thread count each operation's share of the step,
its GFLOP/s or GB/s and its fraction of its bound (the products: the run's FMA peak; the rest: its copy
bandwidth), and a stacked bar chart of the shares, step-profile.png (data: step-profile.dat). Runs without
those counters get neither.

Standard library only (plus the gnuplot command for the charts). Usage: summarize.py RESULTS_DIR"""

import csv
import glob
import json
import os
import math
import re
import shutil
import subprocess
import sys

CONV_NAME = re.compile(r"^conv/([^/]+)/([^/]+)/([^/]+)/([^/]+)/batch:(\d+)/threads:(\d+)")
EPOCH_NAME = re.compile(r"^epoch/([^/]+)/([^/]+)/([^/]+)/batch:(\d+)/threads:(\d+)")
LADDER_NAME = re.compile(r"^ladder/([^/]+)/([^/]+)/([^/]+)/([^/]+)/batch:(\d+)/threads:(\d+)")
PEAK_FMA = re.compile(r"^peak/fma/(float|double)/threads:(\d+)")
PEAK_MEMORY = re.compile(r"^peak/memory/(read|write|copy)/threads:(\d+)")
UNIT_PER_SECOND = {"ns": 1e9, "us": 1e6, "ms": 1e3, "s": 1.0}
PASSES = ["forward", "backward_input", "backward_weights"]
PEERS = ["onednn", "onednn_fwd_inference", "onednn_fwd_training", "onednn_nchw", "torch", "xnnpack", "xnnpack_nchw",
         "numpy"]
# convlab's contenders for "its best" per shape: the registry's fast implementations, as the run's context
# names them (convlab.fast_implementations); runs from before the registry had roles: these.
CONVLAB_BEST_IMPLS_BEFORE_ROLES = ("simd", "openmp", "im2col")


def fast_implementations(run):
    """The implementations that may be convlab's best in this run (never the reference)."""
    listed = run.main_context().get("convlab.fast_implementations")
    return tuple(listed.split()) if listed else CONVLAB_BEST_IMPLS_BEFORE_ROLES
# Each peer at its best: the fastest of these benchmark names at either thread count. conv/onednn is already
# the faster forward prop kind; the separate names count too when a run has them.
# "held": the peer times its passes with weights already in its own layout (a oneDNN primitive with
# format_tag::any, an XNNPACK operator), so convlab's count with its held weights too (ConvImpl::hold_weights:
# benchmark passes HELD_PASSES), where that is faster. PyTorch's eager conv2d reorders its weights in every
# call, as convlab's plain passes pack them.
SUITE_PEERS = [
    {"key": "onednn", "label": "oneDNN primitive", "impls": ("onednn", "onednn_fwd_inference", "onednn_fwd_training"),
     "passes": PASSES, "held": True},
    {"key": "torch", "label": "PyTorch", "impls": ("torch",), "passes": PASSES, "held": False},
    {"key": "xnnpack", "label": "XNNPACK", "impls": ("xnnpack",), "passes": ["forward"], "held": True},
]
# convlab's passes with weights packed once (hold_weights), per call; the weight gradient has no such variant.
HELD_PASSES = {"forward": "forward_held", "backward_input": "backward_input_held"}
# The shape files the geomean targets are judged on.
TARGET_SUITES = ("mnist", "resnet", "deepbench")
NO_SUITE = "user"  # plans without a "suite" field (older convlab_bench) hold only built-in shapes
# The step profile's operations (common/nn/step_profile.hpp), in its order: the products are bound by the FMA
# peak, the elementwise operations by the copy bandwidth (bytes read + written), "other" by nothing.
STEP_PRODUCTS = ("conv_forward", "conv_input_grad", "conv_weight_grad", "dense_forward", "dense_backward")
STEP_ELEMENTWISE = ("activations", "softmax_loss", "update", "data")
STEP_OPERATIONS = STEP_PRODUCTS + STEP_ELEMENTWISE + ("other",)
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
        self.conv_index = {}  # (impl, pass, shape, batch, threads, dtype) -> its row in self.conv
        self.repetitions = 1  # the most repetitions any case had
        self.epochs = []
        self.ladder = []     # dicts: step, shape, batch, threads, GFLOPS, builds_on, label
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
                   "workspace_bytes": entry.get("workspace_bytes"),
                   # which variant a peer timed: PyTorch's memory format, oneDNN's forward prop kind
                   "memory_format": entry.get("memory_format"),
                   "forward_training_chosen": entry.get("forward_training_chosen"),
                   "winograd_chosen": entry.get("winograd_chosen")}
            self.add_conv(row, int(entry.get("repetitions", 1) or 1))
            if source == "convlab_bench.json" and impl not in PEERS and impl not in self.impl_order:
                self.impl_order.append(impl)
        elif m := LADDER_NAME.match(name):
            step, pass_, shape, dtype, batch, threads = m.groups()
            # Every run of a step is kept: the ladder's table shows their median and range.
            self.ladder.append({"step": step, "pass": pass_, "shape": shape, "dtype": dtype, "batch": int(batch),
                                "threads": int(threads), "GFLOPS": float(entry.get("GFLOPS", 0)), "source": source,
                                "builds_on": entry.get("ladder_builds_on"), "label": entry.get("label", "")})
        elif m := EPOCH_NAME.match(name):
            impl, network, dtype, batch, threads = m.groups()
            seconds = entry.get("epoch_seconds")
            if seconds is None and entry.get("real_time") is not None:
                seconds = float(entry["real_time"]) / UNIT_PER_SECOND.get(entry.get("time_unit", "ns"), 1e9)
            epoch = {"impl": impl, "network": network, "dtype": dtype, "batch": int(batch),
                     "threads": int(threads), "images_per_second": float(entry.get("images_per_second", 0)),
                     "images": int(entry["images"]) if entry.get("images") else None, "seconds": seconds,
                     "source": source}
            if entry.get("step_seconds") and entry.get("steps"):  # runs from before the step profile lack it
                epoch["profile"] = step_profile(entry)
            self.keep_fastest(self.epochs, "images_per_second", ("impl", "network", "dtype", "batch", "threads"),
                              epoch)
        elif m := PEAK_FMA.match(name):
            key = (m.group(1), int(m.group(2)))  # the best of the runs when a folder holds several
            self.fma[key] = max(self.fma.get(key, 0.0), float(entry.get("GFLOPS", 0)))
        elif m := PEAK_MEMORY.match(name):
            key = (m.group(1), int(m.group(2)))
            self.memory[key] = max(self.memory.get(key, 0.0), float(entry.get("GBps", 0)))
        else:
            self.other.append({"name": name, "source": source, "real_time": entry.get("real_time"),
                               "time_unit": entry.get("time_unit"), "label": entry.get("label", "")})

    def fold_startup_peak(self):
        """The FMA peak is the best of the two measurements of the run (start-up best-of-calls and the peak
        benchmark's mean): other processes on the machine can only lower a measurement of it."""
        for context in self.contexts.values():  # convlab_bench.json, or each run of scripts/ladder.sh
            for key, value in context.items():
                m = re.match(r"convlab\.startup_fma_gflops\.(float|double)\.threads:(\d+)$", key)
                if m:
                    k = (m.group(1), int(m.group(2)))
                    self.fma[k] = max(self.fma.get(k, 0.0), float(value))

    def main_context(self):
        """convlab_bench's context: from convlab_bench.json, else from the first ladder run."""
        if "convlab_bench.json" in self.contexts:
            return self.contexts["convlab_bench.json"]
        ladder_runs = sorted(name for name in self.contexts if name.startswith("ladder-run"))
        return self.contexts[ladder_runs[0]] if ladder_runs else {}

    def peak_gflops(self, dtype, threads):
        return self.fma.get((dtype, threads))

    @staticmethod
    def keep_fastest(rows, rate, key_fields, row):
        """Appends row to rows, or replaces the row of the same case when this one is faster (see add_conv)."""
        key = tuple(row[k] for k in key_fields)
        for index, existing in enumerate(rows):
            if tuple(existing[k] for k in key_fields) == key:
                if row[rate] > existing[rate]:
                    rows[index] = row
                return
        rows.append(row)

    def add_conv(self, row, repetitions):
        """A case timed several times (repetitions, or several JSON files of one folder) keeps its fastest
        figure: interference from other tenants only ever slows a run down, so the best repetition is the
        closest to the undisturbed rate, as in bench/ab_compare.py."""
        key = (row["impl"], row["pass"], row["shape"], row["batch"], row["threads"], row["dtype"])
        self.repetitions = max(self.repetitions, repetitions)
        index = self.conv_index.get(key)
        if index is None:
            self.conv_index[key] = len(self.conv)
            self.conv.append(row)
        elif row["images_per_second"] > self.conv[index]["images_per_second"]:
            self.conv[index] = row

    def find(self, impl, pass_, shape, batch, threads, dtype="float"):
        index = self.conv_index.get((impl, pass_, shape, batch, threads, dtype))
        return None if index is None else self.conv[index]

    def find_best_threads(self, impl, pass_, shape, batch, dtype="float"):
        """A peer's faster figure of 1 and 2 threads: targets compare against the peer at its best."""
        rows = [r for r in (self.find(impl, pass_, shape, batch, t, dtype) for t in (1, 2)) if r]
        return max(rows, key=lambda r: r["images_per_second"]) if rows else None

    def shape_meanings(self):
        meanings = {}
        for case in self.plan.get("cases", []):
            meanings.setdefault(case["shape_id"], case["describe"].split(" ", 1)[1])
        return meanings


def step_profile(entry):
    """An epoch benchmark's step profile: steps, step seconds, and per operation its seconds, share and rate
    (GFLOP/s for the products, GB/s for the rest, None for "other")."""
    operations = {}
    for name in STEP_OPERATIONS:
        rate_key = f"op_{name}_GFLOPS" if name in STEP_PRODUCTS else f"op_{name}_GBps"
        operations[name] = {"seconds": float(entry.get(f"op_{name}_seconds", 0)),
                            "share": float(entry.get(f"op_{name}_share", 0)),
                            "GFLOPS": float(entry[rate_key]) if name in STEP_PRODUCTS and rate_key in entry else None,
                            "GBps": float(entry[rate_key]) if name in STEP_ELEMENTWISE and rate_key in entry else None}
    return {"steps": int(entry["steps"]), "step_seconds": float(entry["step_seconds"]), "operations": operations}


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
    threaded = {(r["impl"], r["threads"]) for r in run.conv}
    rows = []
    for impl in run.impl_order:
        for row in run.conv:
            if row["impl"] == impl and row["pass"] == pass_ and row["shape"] == shape and row["dtype"] == "float":
                if row["threads"] == threads or (row["threads"] == 1 and (impl, threads) not in threaded):
                    rows.append(row)
    return rows


def best_row(rows, min_batch=1):
    rows = [r for r in rows if r["batch"] >= min_batch]
    return max(rows, key=lambda r: r["images_per_second"]) if rows else None


# ---- per shape suite ------------------------------------------------------------------------------------


def plan_cases(run):
    """The plan's cases with their suite (NO_SUITE when the plan predates suites)."""
    cases = []
    for case in run.plan.get("cases", []):
        case = dict(case)
        case["suite"] = case.get("suite") or NO_SUITE
        cases.append(case)
    return cases


def suites_in_order(run):
    order = []
    for case in plan_cases(run):
        if case["suite"] not in order:
            order.append(case["suite"])
    return order


def geomean(values):
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else None


def best_convlab(run, pass_, shape, batch, threads=2, held=False):
    """convlab's fastest of its fast implementations for the case at `threads` (an implementation without threads
    with its 1-thread figure); `held`: the forward pass with held weights counts too."""
    passes = [pass_] + ([HELD_PASSES[pass_]] if held and pass_ in HELD_PASSES else [])
    rows = [r for p in passes for r in convlab_rows(run, p, shape, threads)
            if r["impl"] in fast_implementations(run) and r["batch"] == batch]
    return best_row(rows)


def convlab_label(row):
    """convlab's row as the tables name it: implementation, "held" for held weights, thread count."""
    return f"{row['impl']}{' held' if row['pass'] in HELD_PASSES.values() else ''} ({row['threads']}t)"


def best_peer(run, impls, pass_, shape, batch):
    """A peer at its best: the fastest of its benchmark names at any thread count."""
    rows = [r for r in run.conv if r["impl"] in impls and r["pass"] == pass_ and r["shape"] == shape
            and r["batch"] == batch and r["dtype"] == "float"]
    return best_row(rows)


def peer_variant(row):
    """What the peer's row timed, in a few words: thread count plus PyTorch's layout or oneDNN's algorithm
    (when Winograd) and prop kind."""
    words = [f"{row['threads']}t"]
    if row["impl"] != "onednn" and row["impl"].startswith("onednn_"):
        words.append(row["impl"][len("onednn_"):])
    if row.get("winograd_chosen") and row["impl"] == "onednn":
        words.append("winograd")
    if row.get("forward_training_chosen") is not None and row["pass"] == "forward" and row["impl"] == "onednn":
        words.append("fwd_training" if row["forward_training_chosen"] else "fwd_inference")
    if row.get("memory_format"):
        words.append(row["memory_format"])
    return ", ".join(words)


def suite_comparison(run):
    """{pass: {suite: {"cases": [...], "peers": {key: summary}}}}: per case convlab's best at 2 threads and
    each peer at its best with the ratio; per peer the geomean of the ratios, the worst case and how many
    cases had both figures."""
    result = {}
    cases = plan_cases(run)
    for pass_ in PASSES:
        per_suite = {}
        for suite in suites_in_order(run):
            rows = []
            for case in cases:
                if case["suite"] != suite or case["pass"] != pass_:
                    continue
                shape, batch = case["shape_id"], case["batch"]
                own = best_convlab(run, pass_, shape, batch)
                own_held = best_convlab(run, pass_, shape, batch, held=True)
                row = {"shape": shape, "name": case.get("name") or shape, "batch": batch,
                       "in_channels": case.get("in_channels"), "flops": case.get("flops"), "convlab": own,
                       "convlab_held": own_held, "peers": {}}
                for peer in SUITE_PEERS:
                    if pass_ not in peer["passes"]:
                        continue
                    other = best_peer(run, peer["impls"], pass_, shape, batch)
                    mine = own_held if peer["held"] else own
                    row["peers"][peer["key"]] = {
                        "row": other, "convlab": mine,
                        "ratio": ratio(mine["images_per_second"], other["images_per_second"]) if mine and other else None}
                rows.append(row)
            if not rows:
                continue  # the suite has no case of this pass
            peers = {}
            for peer in SUITE_PEERS:
                if pass_ not in peer["passes"]:
                    continue
                measured = [(r, r["peers"][peer["key"]]["ratio"]) for r in rows if r["peers"][peer["key"]]["ratio"]]
                worst = min(measured, key=lambda m: m[1]) if measured else None
                peers[peer["key"]] = {"geomean": geomean([m[1] for m in measured]), "measured": len(measured),
                                      "cases": len(rows),
                                      "worst": {"shape": worst[0]["name"], "batch": worst[0]["batch"],
                                                "ratio": worst[1]} if worst else None}
            per_suite[suite] = {"cases": rows, "peers": peers}
        result[pass_] = per_suite
    return result


def suite_targets(run, comparison, add):
    """The per-suite targets of the issue, every pass: geomeans over the target suites against the oneDNN
    primitive and PyTorch, no shape below 0.7x, im2col's fraction of the FMA peak and its lead over numpy,
    openmp's 1-thread parity with simd and its 2-thread scaling."""
    cases = plan_cases(run)
    for pass_ in PASSES:
        suites = comparison.get(pass_, {})
        for peer in (p for p in SUITE_PEERS if p["key"] in ("onednn", "torch")):
            lowest, unmeasured = None, []
            for suite in TARGET_SUITES:
                what = (f"{pass_}, {suite} shapes: geomean of convlab's best (2 threads) / {peer['label']} "
                        "at its best")
                summary = suites.get(suite, {}).get("peers", {}).get(peer["key"])
                if not summary or not summary["cases"]:
                    add(what, None, 1.0, f"not measured: no '{suite}' shapes in this run's plan")
                    unmeasured.append(suite)
                    continue
                if not summary["measured"]:
                    add(what, None, 1.0, f"not measured: no case of the {summary['cases']} has both figures")
                    unmeasured.append(suite)
                    continue
                worst = summary["worst"]
                add(what, summary["geomean"], 1.0,
                    f"{summary['measured']} of {summary['cases']} shapes; worst {worst['shape']} "
                    f"(batch {worst['batch']}) at {fmt(worst['ratio'])}x")
                if lowest is None or worst["ratio"] < lowest[0]:
                    lowest = (worst["ratio"], f"{suite}/{worst['shape']} (batch {worst['batch']})")
            add(f"{pass_}, every shape of the {'/'.join(TARGET_SUITES)} files: lowest convlab's best / "
                f"{peer['label']} at its best", lowest[0] if lowest else None, 0.7,
                (lowest[1] if lowest else "not measured")
                + (f"; {', '.join(unmeasured)} not measured" if lowest and unmeasured else ""))

        # The rest are judged on every case of the pass in the plan (all suites, all batches).
        pass_cases = [c for c in cases if c["pass"] == pass_]

        def lowest_over(candidates, what, goal, strictly_above=False):
            """candidates: (case label, value or None). Adds the lowest value with where it is."""
            measured = [(label, value) for label, value in candidates if value is not None]
            missing = len(candidates) - len(measured)
            if not measured:
                add(what, None, goal, "not measured" if candidates else "no such case in this run's plan")
                return
            label, value = min(measured, key=lambda m: m[1])
            add(what, value, goal, f"lowest at {label}; {len(measured)} case(s)"
                + (f", {missing} not measured" if missing else ""), strictly_above)

        def case_label(case):
            return f"{case['suite']}/{case.get('name') or case['shape_id']} batch {case['batch']}"

        def at(impl, case, threads):
            rows = [r for r in convlab_rows(run, pass_, case["shape_id"], threads)
                    if r["impl"] == impl and r["batch"] == case["batch"]]
            return rows[0] if rows else None

        wide = [c for c in pass_cases if (c.get("in_channels") or 0) >= 16]
        lowest_over([(case_label(c), (at("im2col", c, 2) or {}).get("peak_fraction")) for c in wide],
                    f"{pass_}: im2col (2 threads), fraction of the FMA peak, every shape with >= 16 input channels",
                    0.4)
        numpy_pairs = []
        for c in pass_cases:
            own = at("im2col", c, 2)
            numpy = best_peer(run, ("numpy",), pass_, c["shape_id"], c["batch"])
            numpy_pairs.append((case_label(c), ratio(own["images_per_second"], numpy["images_per_second"])
                                if own and numpy else None))
        lowest_over(numpy_pairs, f"{pass_}: im2col (2 threads) / numpy peer at its best, every shape (above 1)",
                    1.0, strictly_above=True)
        parity = []
        for c in pass_cases:
            openmp, simd = at("openmp", c, 1), at("simd", c, 1)
            parity.append((case_label(c), ratio(openmp["images_per_second"], simd["images_per_second"])
                           if openmp and simd and openmp["threads"] == 1 else None))
        lowest_over(parity, f"{pass_}: openmp / simd at 1 thread, every shape (within 5 %)", 0.95)
        scaling = []
        for c in pass_cases:
            if (c.get("flops") or 0) < 0.5e9:
                continue
            two, one = at("openmp", c, 2), at("openmp", c, 1)
            scaling.append((case_label(c), ratio(two["images_per_second"], one["images_per_second"])
                            if two and one and two["threads"] == 2 and one["threads"] == 1 else None))
        lowest_over(scaling, f"{pass_}: openmp 2 threads / 1 thread, every call of >= 0.5 GFLOP", 1.8)
        # Winograd F(4x4, 3x3) against the fastest direct implementation (2 threads) on the 3x3 stride-1 layers
        # with >= 64 channels in and out; only runs that timed winograd4 have it.
        # (Runs from before the context said which sum directly: the Winograd ones are known by name.)
        direct = [impl for impl in fast_implementations(run)
                  if run.main_context().get(f"impl.{impl}.direct_sums",
                                            "no" if impl.startswith("winograd") else "yes") == "yes"]
        if pass_ == "forward" and any(r["impl"] == "winograd4" for r in run.conv):
            winograd_cases = []
            for c in pass_cases:
                if not (c.get("kernel_height") == 3 and c.get("kernel_width") == 3 and c.get("stride_height") == 1
                        and c.get("stride_width") == 1 and (c.get("in_channels") or 0) >= 64
                        and (c.get("out_channels") or 0) >= 64):
                    continue
                own = at("winograd4", c, 2)
                rates = [r["images_per_second"] for impl in direct for r in [at(impl, c, 2) or at(impl, c, 1)] if r]
                winograd_cases.append((case_label(c), ratio(own["images_per_second"], max(rates))
                                       if own and rates else None))
            lowest_over(winograd_cases, "forward: winograd4 / the fastest direct implementation (2 threads), every "
                        "3x3 stride-1 layer with >= 64 channels in and out", 1.5)


def ladder_cases(run):
    """[((shape, batch), [rows in run order])] of the tutorial's ladder, cases in run order."""
    cases = {}
    for row in run.ladder:
        cases.setdefault((row["shape"], row["batch"]), []).append(row)
    return list(cases.items())


def ladder_markdown(run):
    """The ladder's table per case: each step's rate, its fraction of the FMA peak, and its ratio to the step
    it builds on (the same step at 1 thread for a run on more) and to step 0."""
    out = ["## The tutorial's ladder: the forward pass one idea per step (docs/ladder, chapters 4 and 5)", ""]
    runs = len({r["source"] for r in run.ladder})
    if runs > 1:
        out += [f"Each figure is the median of {runs} runs of the ladder, one after the other (range: the lowest and "
                "the highest); ratios are between medians.", ""]
    for (shape, batch), all_rows in ladder_cases(run):
        rows = []  # one row per (step, threads), GFLOPS the median over the runs
        for r in all_rows:
            if any(x["step"] == r["step"] and x["threads"] == r["threads"] for x in rows):
                continue
            rates = sorted(x["GFLOPS"] for x in all_rows if x["step"] == r["step"] and x["threads"] == r["threads"])
            middle = len(rates) // 2
            median = rates[middle] if len(rates) % 2 else (rates[middle - 1] + rates[middle]) / 2
            rows.append(dict(r, GFLOPS=median, low=rates[0], high=rates[-1]))
        by_name = {(r["step"], r["threads"]): r for r in rows}
        names = []
        for r in rows:
            if r["step"] not in names:
                names.append(r["step"])
        first = by_name.get((names[0], 1)) if names and names[0].startswith("0_") else None
        label = rows[0]["label"].split(" | ")[0]
        out += [f"### {shape}, batch {batch}: {label}", ""]
        lines = []
        for r in rows:
            if r["threads"] > 1:
                base = by_name.get((r["step"], 1))
            elif r["builds_on"] is not None and int(r["builds_on"]) >= 0:
                # step names start with their number: "4_channel_block"
                base = next((by_name[(n, 1)] for n in names if n.startswith(f"{int(r['builds_on'])}_")
                             and (n, 1) in by_name), None)
            else:
                base = None
            peak = run.peak_gflops("float", r["threads"])
            lines.append([r["step"], r["threads"], fmt(r["GFLOPS"]),
                          f"{fmt(r['low'])}-{fmt(r['high'])}" if runs > 1 else "-",
                          fmt(100 * ratio(r["GFLOPS"], peak))
                          if ratio(r["GFLOPS"], peak) else "-",
                          (f"{fmt(ratio(r['GFLOPS'], base['GFLOPS']))} (vs {base['step']}"
                           f"{', 1 thread' if r['threads'] > 1 else ''})") if base else "-",
                          fmt(ratio(r["GFLOPS"], first["GFLOPS"])) if first and r is not first else "-",
                          r["label"].split(" | ", 1)[1] if " | " in r["label"] else ""])
        out += [table(["step", "threads", "GFLOP/s", "range", "% FMA peak", "x the step it builds on", "x step 0",
                       "idea"],
                      lines), ""]
    return out


def run_gnuplot(gnuplot, script, png):
    """Draws `script` with gnuplot; None when `png` was written, else why not (for the summary's notes)."""
    try:
        done = subprocess.run([gnuplot], input=script, text=True, capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"gnuplot failed: {error}"
    if done.returncode != 0 or not os.path.exists(png):
        return f"gnuplot: {done.stderr.strip().splitlines()[-1:] or done.returncode}"
    return None


def write_ladder_chart(run):
    """ladder.png: GFLOP/s of every step (bars, one group per case) under the 1-thread FMA peak; a note."""
    cases = ladder_cases(run)
    if not cases:
        return None
    gnuplot = shutil.which("gnuplot")
    dat = os.path.join(run.directory, "ladder.dat")
    medians = {}
    for (shape, batch), rows in cases:
        for r in rows:
            medians.setdefault((shape, batch, r["step"], r["threads"]), []).append(r["GFLOPS"])
    for key, rates in medians.items():
        rates.sort()
        middle = len(rates) // 2
        medians[key] = rates[middle] if len(rates) % 2 else (rates[middle - 1] + rates[middle]) / 2
    steps = []
    for _, rows in cases:
        for r in rows:
            key = f"{r['step']} ({r['threads']}t)"
            if key not in steps:
                steps.append(key)
    with open(dat, "w", encoding="utf-8") as f:
        f.write("# step " + " ".join(f"\"{shape} b{batch}\"" for (shape, batch), _ in cases) + "  (GFLOP/s)\n")
        for key in steps:
            values = []
            for (shape, batch), rows in cases:
                match = [r for r in rows if f"{r['step']} ({r['threads']}t)" == key]
                values.append(f"{medians[(shape, batch, match[0]['step'], match[0]['threads'])]:.6g}" if match else "NaN")
            f.write(f"\"{key}\" " + " ".join(values) + "\n")
    if not gnuplot:
        return "ladder.dat written; no chart (gnuplot not installed)"
    png = os.path.join(run.directory, "ladder.png")
    box = 0.8 / len(cases)
    plots = []
    for i, ((shape, batch), _) in enumerate(cases):
        offset = (i - (len(cases) - 1) / 2) * box
        plots.append(f"'{dat}' using ($0+{offset}):{i + 2}:({box}){':xtic(1)' if i == 0 else ''} "
                     f"with boxes fs solid 0.8 noborder title '{shape}, batch {batch}'")
    for threads, style in ((1, 2), (2, 3)):
        peak = run.peak_gflops("float", threads)
        if peak:
            plots.append(f"{peak} with lines lc rgb 'black' dt {style} title 'FMA peak, {threads} thread"
                         f"{'s' if threads > 1 else ''} ({fmt(peak)} GFLOP/s)'")
    script = "\n".join([
        "set terminal pngcairo noenhanced size 900,520", f"set output '{png}'",
        "set title \"the tutorial's ladder: forward pass, float, GFLOP/s per step (median of the runs)\"",
        "set logscale y", "set ylabel 'GFLOP/s (log scale)'", "set grid ytics", "set boxwidth 1 absolute",
        "set xtics rotate by 30 right font ',9'", "set key top left opaque box font ',9'", "set bmargin 8",
        f"set xrange [-0.6:{len(steps) - 0.4}]", "set datafile missing 'NaN'", "plot " + ", ".join(plots), ""])
    failure = run_gnuplot(gnuplot, script, png)
    return f"ladder: no chart ({failure})" if failure else "ladder: ladder.png"


def write_speedup_charts(run, comparison):
    """Per pass: speedups-<pass>.dat (one line per case: label and convlab's best / each peer at its best)
    and, when gnuplot is installed, speedups-<pass>.png: grouped bars from 1.0 on a log scale, so a bar up
    is a lead, a bar down a deficit. Returns what it wrote or why it did not, one line per pass."""
    notes = []
    gnuplot = shutil.which("gnuplot")
    for pass_ in PASSES:
        peers = [p for p in SUITE_PEERS if pass_ in p["passes"]]
        lines = []
        for suite, data in comparison.get(pass_, {}).items():
            names = [case["name"] for case in data["cases"]]
            for case in data["cases"]:
                values = [case["peers"][p["key"]]["ratio"] for p in peers]
                if all(v is None for v in values):
                    continue
                # the batch only where the suite has the shape at more than one batch
                label = f"{suite}/{case['name']}" + (f"/b{case['batch']}" if names.count(case["name"]) > 1 else "")
                lines.append((label, values))
        dat = os.path.join(run.directory, f"speedups-{pass_}.dat")
        if not lines:
            notes.append(f"{pass_}: no chart (no case with convlab and a peer measured)")
            continue
        with open(dat, "w", encoding="utf-8") as f:
            f.write("# case " + " ".join(f"vs_{p['key']}" for p in peers) + "  (convlab's best at 2 threads / the peer"
                    " at its best; NaN: not measured)\n")
            for label, values in lines:
                f.write(f"\"{label}\" " + " ".join("NaN" if v is None else f"{v:.6g}" for v in values) + "\n")
        if not gnuplot:
            notes.append(f"{pass_}: {os.path.basename(dat)} written; no chart (gnuplot not installed)")
            continue
        png = os.path.join(run.directory, f"speedups-{pass_}.png")
        width = max(800, 60 + 18 * len(lines) * len(peers))
        box = 0.8 / len(peers)
        plots = []
        for i, peer in enumerate(peers):
            offset = (i - (len(peers) - 1) / 2) * box
            # boxxyerror: x y xlow xhigh ylow yhigh, bars from 1.0 to the ratio
            plots.append(f"'{dat}' using ($0+{offset}):{i + 2}:($0+{offset - box / 2}):($0+{offset + box / 2}):"
                         f"(1):{i + 2}{':xtic(1)' if i == 0 else ''} with boxxyerror fs solid 0.8 noborder "
                         f"title 'vs {peer['label']}'")
        plots.append("1 with lines lc rgb 'black' dt 2 notitle")
        script = "\n".join([
            f"set terminal pngcairo noenhanced size {width},520",
            f"set output '{png}'",
            f"set title \"{pass_}: convlab's best (2 threads) / each peer at its best, per shape\"",
            "set logscale y", "set ylabel 'speed-up (log scale)'", "set grid ytics",
            "set xtics rotate by 45 right font ',8'", "set key top right opaque box",
            "set bmargin 10",
            f"set xrange [-0.6:{len(lines) - 0.4}]", "set datafile missing 'NaN'",
            "plot " + ", ".join(plots), ""])
        failure = run_gnuplot(gnuplot, script, png)
        notes.append(f"{pass_}: no chart ({failure})" if failure else f"{pass_}: {os.path.basename(png)}")
    return notes


def suite_markdown(run, comparison, chart_notes):
    out = ["## Per shape suite: convlab's best against each peer at its best", ""]
    # Runs from before the oneDNN peer tried its Winograd primitives have no winograd_chosen counter.
    tried_winograd = any(r.get("winograd_chosen") is not None for r in run.conv if r["impl"] == "onednn")
    onednn_best = ("the faster forward prop kind, and on 3x3 stride-1 layers direct or Winograd, whichever ran "
                   "faster" if tried_winograd else "the faster forward prop kind")
    out.append("convlab's best: the fastest of " + "/".join(fast_implementations(run)) + " at 2 threads (an implementation "
               "without threads with its 1-thread figure), batch as in the plan. Each peer at its best: its fastest "
               "figure at 1 or 2 threads (the oneDNN primitive: " + onednn_best + "; PyTorch: the faster "
               "of NCHW and channels_last; XNNPACK: NHWC, forward only). Ratios are images/s over images/s; a "
               "geomean over the shapes with both figures. The oneDNN primitive and XNNPACK's operator keep their "
               "weights in their own layout between calls: against them convlab's forward pass and input gradient "
               "count with held weights too (`hold_weights`, packed once; column \"held best\"), against PyTorch, "
               "which reorders its weights in every call, without.")
    out.append("")
    if not comparison or not any(comparison.values()):
        return out + ["No plan in this run: not measured.", ""]
    for pass_ in PASSES:
        suites = comparison.get(pass_, {})
        if not suites:
            continue
        out += [f"### {pass_}", ""]
        header = ["suite", "shapes"]
        rows = []
        peers = [p for p in SUITE_PEERS if pass_ in p["passes"]]
        for peer in peers:
            header += [f"vs {peer['label']}: geomean", "worst"]
        for suite, data in suites.items():
            row = [suite, len(data["cases"])]
            for peer in peers:
                summary = data["peers"][peer["key"]]
                if not summary["measured"]:
                    row += ["not measured", "-"]
                    continue
                worst = summary["worst"]
                count = "" if summary["measured"] == summary["cases"] else \
                    f" ({summary['measured']} of {summary['cases']})"
                row += [f"{fmt(summary['geomean'])}x{count}",
                        f"{worst['shape']} b{worst['batch']}: {fmt(worst['ratio'])}x"]
            rows.append(row)
        out += [table(header, rows), ""]
        for suite, data in suites.items():
            out += [f"#### {pass_}, {suite}", ""]
            held_column = pass_ in HELD_PASSES and any(r["pass"] == HELD_PASSES[pass_] for r in run.conv)
            header = ["shape", "batch", "GFLOP/call", "convlab best", "GFLOP/s"]
            if held_column:
                header += ["held best", "GFLOP/s"]
            for peer in peers:
                header += [peer["label"], "GFLOP/s", "ratio"]
            rows = []
            for case in data["cases"]:
                own = case["convlab"]
                row = [case["name"], case["batch"], fmt(case["flops"] / 1e9 if case["flops"] else None),
                       convlab_label(own) if own else "not measured",
                       fmt(own["GFLOPS"]) if own else "-"]
                if held_column:
                    held = case["convlab_held"]
                    row += [convlab_label(held) if held else "not measured", fmt(held["GFLOPS"]) if held else "-"]
                for peer in peers:
                    other = case["peers"][peer["key"]]
                    if other["row"]:
                        row += [peer_variant(other["row"]), fmt(other["row"]["GFLOPS"]), fmt(other["ratio"])]
                    else:
                        row += ["not measured", "-", "-"]
                rows.append(row)
            out += [table(header, rows), ""]
    if chart_notes:
        out += ["Charts (bars from 1.0 on a log scale: up, convlab is faster): " + "; ".join(chart_notes) + ".", ""]
    return out


def suites_json(comparison):
    """The comparison for summary.json: rows named by benchmark, not repeated whole."""
    def brief(row):
        return None if row is None else {"impl": row["impl"], "pass": row["pass"], "threads": row["threads"],
                                         "GFLOPS": row["GFLOPS"], "images_per_second": row["images_per_second"],
                                         "variant": peer_variant(row)}
    return {pass_: {suite: {"peers": data["peers"],
                            "cases": [{"shape": c["shape"], "name": c["name"], "batch": c["batch"],
                                       "convlab": brief(c["convlab"]), "convlab_held": brief(c["convlab_held"]),
                                       "peers": {k: {"ratio": v["ratio"], "row": brief(v["row"]),
                                                     "convlab": brief(v["convlab"])}
                                                 for k, v in c["peers"].items()}} for c in data["cases"]]}
                    for suite, data in suites.items()} for pass_, suites in comparison.items()}


def print_suite_geomeans(comparison):
    """One line per pass, suite and peer on stdout: what a reader (and tests/summarize_suites.cmake) checks
    first."""
    for pass_, suites in comparison.items():
        for suite, data in suites.items():
            for peer in SUITE_PEERS:
                summary = data["peers"].get(peer["key"])
                if summary is None:
                    continue
                if summary["measured"]:
                    worst = summary["worst"]
                    print(f"summarize.py: {pass_} {suite}: convlab's best vs {peer['label']} geomean "
                          f"{summary['geomean']:.2f}x over {summary['measured']} of {summary['cases']} shapes, worst "
                          f"{worst['shape']} {worst['ratio']:.2f}x")
                else:
                    print(f"summarize.py: {pass_} {suite}: convlab's best vs {peer['label']} not measured")


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


def targets(run, comparison):
    """The project's performance targets, each with the measured figure, the goal and whether it is met."""
    result = []

    def add(what, measured, goal, detail, strictly_above=False):
        met = None if measured is None else (measured > goal if strictly_above else measured >= goal)
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
    # Scaling: the implementation fastest at 2 threads among those with a 1-thread epoch too, against itself.
    # Efficiency: the fastest profiled 2-thread epoch against its FLOP bound, the products' FLOPs (from its step
    # profile) at the measured 2-thread FMA peak.
    pairs = [(two, one) for two in own_epochs for one in run.epochs
             if one["threads"] == 1 and (one["impl"], one["network"], one["dtype"], one["batch"])
             == (two["impl"], two["network"], two["dtype"], two["batch"])]
    two, one = max(pairs, key=lambda p: p[0]["images_per_second"]) if pairs else (None, None)
    add("training epoch (lecture network, batch 64): 2 threads / 1 thread, same implementation",
        ratio(two["images_per_second"], one["images_per_second"]) if two else None, 1.7,
        f"{two['impl']}: {fmt(two['images_per_second'])} vs {fmt(one['images_per_second'])} images/s" if two
        else "needs an implementation's epoch at 1 and at 2 threads")
    profiled = profiled_epochs(run).get(2)
    peak = run.peak_gflops(profiled["dtype"], 2) if profiled else None
    flops = (sum(op["GFLOPS"] * op["seconds"] for name, op in profiled["profile"]["operations"].items()
                 if name in STEP_PRODUCTS and op["GFLOPS"]) * 1e9 if profiled else None)
    seconds = (profiled["images"] / profiled["images_per_second"]
               if profiled and profiled["images"] and profiled["images_per_second"] else None)
    bound = flops / (peak * 1e9) if flops and peak else None
    add("training epoch (lecture network, batch 64, 2 threads): fraction of its FLOP bound", ratio(bound, seconds),
        0.5, f"{profiled['impl']}: {fmt(flops / 1e9)} GFLOP of products in {fmt(seconds)} s; at the 2-thread FMA "
        f"peak ({fmt(peak)} GFLOP/s) {fmt(bound)} s" if bound and seconds else "needs a profiled 2-thread epoch and the FMA peak")
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
    suite_targets(run, comparison, add)
    return result


def profiled_epochs(run):
    """{threads: epoch} of the implementation whose profiled epoch is fastest at the highest thread count, or
    {} when no epoch carries a step profile."""
    profiled = [e for e in run.epochs if e.get("profile")]
    if not profiled:
        return {}
    most = max(e["threads"] for e in profiled)
    fastest = max((e for e in profiled if e["threads"] == most), key=lambda e: e["images_per_second"])
    return {e["threads"]: e for e in sorted(profiled, key=lambda e: e["threads"]) if e["impl"] == fastest["impl"]}


def step_profile_rows(run, epoch):
    """step_profile_table_rows for a profiled epoch against the run's peak at the epoch's thread count."""
    threads = epoch["threads"]
    return step_profile_table_rows(epoch["profile"], run.peak_gflops(epoch["dtype"], threads),
                                   run.memory.get(("copy", threads)))


def step_profile_table_rows(profile, peak, bandwidth):
    """One row per operation of a step profile ({"steps", "step_seconds", "operations": {name: {"seconds",
    "share", and "GFLOPS" (products) or "GBps" (the rest)}}}, as step_profile() reads it and `convlab train
    --profile --json` writes it):
    milliseconds per step, share, rate and its fraction of the operation's bound, `peak` (FMA GFLOP/s) for the
    products and `bandwidth` (copy GB/s) for the rest (None where not measured). Operations that never ran
    are left out (their names in the second value). scripts/report.sh uses it too."""
    rows, never = [], []
    for name in STEP_OPERATIONS:
        op = profile["operations"][name]
        if name != "other" and op["seconds"] == 0:
            never.append(name)
            continue
        if name in STEP_PRODUCTS:
            bound, fraction = ("FMA peak", peak, "GFLOP/s"), ratio(op.get("GFLOPS"), peak)
        elif name in STEP_ELEMENTWISE:
            bound, fraction = ("copy bandwidth", bandwidth, "GB/s"), ratio(op.get("GBps"), bandwidth)
        else:
            bound, fraction = None, None
        rows.append({"operation": name, "ms_per_step": 1e3 * op["seconds"] / profile["steps"], "share": op["share"],
                     "GFLOPS": op.get("GFLOPS"), "GBps": op.get("GBps"), "fraction_of_bound": fraction,
                     "bound": None if bound is None else {"kind": bound[0], "value": bound[1], "unit": bound[2]}})
    return rows, never


def step_profile_json(run):
    """The step profile section for summary.json: per thread count the implementation and its rows."""
    result = {}
    for threads, epoch in profiled_epochs(run).items():
        rows, never = step_profile_rows(run, epoch)
        result[f"threads:{threads}"] = {"impl": epoch["impl"], "steps": epoch["profile"]["steps"],
                                        "ms_per_step": 1e3 * epoch["profile"]["step_seconds"] / epoch["profile"]["steps"],
                                        "operations": rows, "never_ran": never}
    return result


def step_profile_markdown(run, chart_note):
    """The section "The training step, operation by operation"; [] when no epoch was profiled."""
    epochs = profiled_epochs(run)
    if not epochs:
        return []
    any_epoch = next(iter(epochs.values()))
    out = ["## The training step, operation by operation", "",
           f"The lecture's network, batch {any_epoch['batch']}, one epoch of {any_epoch['images'] or '?'} images with "
           f"`{any_epoch['impl']}` (the fastest profiled epoch at {max(epochs)} thread{'s' if max(epochs) > 1 else ''}), timed "
           "operation by operation "
           "(common/nn/step_profile.hpp). Share: of the steps' wall time (the epoch's shuffle included); \"other\" is "
           "that time minus the operations', so the shares add to 1. The products (conv_*, dense_*) are measured "
           "in GFLOP/s against the run's FMA peak at the thread count; the elementwise operations in GB/s (bytes "
           "read + written, each operand once) against its copy bandwidth (buffers far larger than L3: an "
           "operation whose data stays in cache can pass 1).", ""]
    for threads, epoch in epochs.items():
        rows, never = step_profile_rows(run, epoch)
        profile = epoch["profile"]
        out += [f"### {threads} thread{'s' if threads > 1 else ''}: "
                f"{fmt(1e3 * profile['step_seconds'] / profile['steps'])} ms per step over {profile['steps']} steps", ""]
        out += step_profile_table(rows, never)
    if chart_note:
        out += [f"Chart: {chart_note}.", ""]
    return out


def step_profile_table(rows, never, step="step"):
    """The Markdown table of step_profile_table_rows' rows, and a line naming the operations that never ran;
    `step` names what a step is (the profile's "step": "iteration" for SCG)."""
    lines = []
    for r in rows:
        bound = r["bound"]
        lines.append([r["operation"], fmt(r["ms_per_step"]), f"{fmt(100 * r['share'])} %", fmt(r["GFLOPS"]),
                      fmt(r["GBps"]), fmt(r["fraction_of_bound"]),
                      "-" if not bound else f"{bound['kind']} {fmt(bound['value'])} {bound['unit']}"
                      if bound["value"] else f"{bound['kind']} (not measured)"])
    out = [table(["operation", f"ms per {step}", f"share of {step}", "GFLOP/s", "GB/s", "fraction of its bound",
                  "its bound"], lines), ""]
    if never:
        out += [f"Never ran (left out): {', '.join(never)}.", ""]
    return out


def write_step_profile_chart(run):
    """step-profile.dat (one line per thread count: each operation's share) and, with gnuplot,
    step-profile.png: one stacked bar per thread count. Returns what it wrote, or None without a profile."""
    epochs = profiled_epochs(run)
    if not epochs:
        return None
    dat = os.path.join(run.directory, "step-profile.dat")
    # the operations that ran at some thread count, each with a colour of its own
    names = [name for name in STEP_OPERATIONS
             if any(e["profile"]["operations"][name]["share"] > 0 for e in epochs.values())]
    with open(dat, "w", encoding="utf-8") as f:
        f.write("# threads " + " ".join(names) + "  (share of the step)\n")
        for threads, epoch in epochs.items():
            profile = epoch["profile"]
            label = f"{threads} thread{'s' if threads > 1 else ''}: {fmt(1e3 * profile['step_seconds'] / profile['steps'])} ms/step"
            f.write(f"\"{label}\" " + " ".join(f"{profile['operations'][name]['share']:.6g}" for name in names) + "\n")
    gnuplot = shutil.which("gnuplot")
    if not gnuplot:
        return "step-profile.dat written; no chart (gnuplot not installed)"
    png = os.path.join(run.directory, "step-profile.png")
    impl = next(iter(epochs.values()))["impl"]
    colours = {"conv_forward": "#1f77b4", "conv_input_grad": "#aec7e8", "conv_weight_grad": "#17becf",
               "dense_forward": "#ff7f0e", "dense_backward": "#ffbb78", "activations": "#2ca02c",
               "softmax_loss": "#d62728", "update": "#9467bd", "data": "#8c564b", "other": "#c7c7c7"}
    plots = [f"'{dat}' using {i + 2}:xtic(1) title '{name}' lc rgb '{colours[name]}'" for i, name in enumerate(names)]
    script = "\n".join([
        "set terminal pngcairo noenhanced size 820,560", f"set output '{png}'",
        f"set title \"the training step, operation by operation\\n{impl}, lecture network, batch "
        f"{next(iter(epochs.values()))['batch']}: share of the step's wall time\"",
        "set style data histograms", "set style histogram rowstacked", "set style fill solid 0.9 border -1",
        "set boxwidth 0.5", "set yrange [0:1]", f"set xrange [-0.6:{len(epochs) - 0.4}]", "set ylabel 'share of the step'", "set grid ytics",
        "set key outside right top reverse Left", "set key noautotitle",
        "plot " + ", ".join(plots), ""])
    failure = run_gnuplot(gnuplot, script, png)
    return f"step-profile.dat written; no chart ({failure})" if failure else "step-profile.png (data: step-profile.dat)"


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


def valid_tap_share(case):
    """Of the window taps a layer's outputs have (oh*ow*kh*kw), the share that falls inside the image rather
    than on the zero padding, per dimension: sum over outputs o of #{k : 0 <= o*s - p + k < size}."""
    share = 1.0
    for size, kernel, stride, pad in ((case["in_height"], case["kernel_height"], case["stride_height"],
                                       case["pad_height"]),
                                      (case["in_width"], case["kernel_width"], case["stride_width"], case["pad_width"])):
        outputs = (size + 2 * pad - kernel) // stride + 1
        inside = sum(1 for o in range(outputs) for k in range(kernel) if 0 <= o * stride - pad + k < size)
        share *= inside / (outputs * kernel)
    return share


def padding_rows(run):
    """Per padded layer of the plan (forward, its largest planned batch; not where oneDNN's best was its Winograd
    primitive): the share of taps inside the image
    and the oneDNN primitive's rate as a fraction of the FMA peak at its thread count, counted on every tap (as
    every figure here is) and on the taps inside the image only (the multiply-adds its kernels do)."""
    rows = []
    seen = set()
    for case in run.plan.get("cases", []):
        if case["pass"] != "forward" or (case["pad_height"] == 0 and case["pad_width"] == 0):
            continue
        shape = case["shape_id"]
        batches = [c["batch"] for c in run.plan["cases"] if c["shape_id"] == shape and c["pass"] == "forward"]
        if shape in seen or case["batch"] != max(batches):
            continue
        seen.add(shape)
        share = valid_tap_share(case)
        onednn = run.find_best_threads("onednn", "forward", shape, case["batch"])
        if onednn and onednn.get("winograd_chosen"):
            continue  # its Winograd primitive: neither side multiplies window taps one by one
        own = best_convlab(run, "forward", shape, case["batch"])
        peak = run.peak_gflops("float", onednn["threads"]) if onednn else None
        rows.append({"shape": shape, "batch": case["batch"], "window": f"{case['kernel_height']}x{case['kernel_width']}"
                     f" pad {case['pad_height']}", "valid_share": share,
                     "onednn_threads": onednn["threads"] if onednn else None,
                     "onednn_of_peak": ratio(onednn["GFLOPS"], peak) if onednn and peak else None,
                     "onednn_valid_of_peak": ratio(onednn["GFLOPS"] * share, peak) if onednn and peak else None,
                     "convlab_vs_onednn": ratio(own["images_per_second"], onednn["images_per_second"])
                     if own and onednn else None})
    return rows


def warnings(run):
    """What makes this run's figures doubtful, read from the run itself."""
    found = []
    load = re.search(r"load average: ([0-9.]+)", run.meta.get("uptime_before", ""))
    cpus = run.main_context().get("num_cpus")
    if load and cpus and float(load.group(1)) > 0.5 * float(cpus):
        found.append(f"the machine was busy when the run started (1-minute load {load.group(1)} on {cpus} CPUs): "
                     "other processes took cycles from the timed code, 2-thread figures most of all.")
    one, two = run.peak_gflops("float", 1), run.peak_gflops("float", 2)
    if one and two and two < 1.5 * one:
        found.append(f"the 2-thread FMA peak ({fmt(two)} GFLOP/s) is under 1.5x the 1-thread one ({fmt(one)}): the "
                     "second core was not free, so 2-thread ratios to it are not meaningful.")
    return found


def markdown(run, target_rows, roof_rows, comparison, chart_notes, profile_note=None):
    ctx = run.main_context()
    out = [f"# convlab benchmark summary: {os.path.basename(os.path.abspath(run.directory))}", ""]
    meta = run.meta
    out.append(f"- mode: {meta.get('mode', ctx.get('convlab.mode', '?'))}; command: `{meta.get('command', '?')}`")
    out.append(f"- load (uptime) before: {meta.get('uptime_before', '?')}; after: {meta.get('uptime_after', '?')}")
    cpu = f"{ctx['convlab.cpu']}; " if "convlab.cpu" in ctx else ""  # runs before 2026-12-03 lack it
    out.append(f"- machine: {cpu}{ctx.get('num_cpus', '?')} CPUs at {ctx.get('mhz_per_cpu', '?')} MHz, "
               f"FMA kernel {ctx.get('convlab.fma_kernel', '?')}; build flags `{ctx.get('convlab.base_flags', '?')}`")
    for impl in run.impl_order:
        out.append(f"- `{impl}`: {ctx.get(f'impl.{impl}.summary', '')} (threads: "
                   f"{ctx.get(f'impl.{impl}.uses_threads', '?')}; flags `{ctx.get(f'impl.{impl}.build_flags', '?')}`)")
    out.append(f"- oneDNN: {ctx.get('convlab.onednn', 'no figures')}")
    out.append(f"- XNNPACK: {ctx.get('convlab.xnnpack', 'no figures')}")
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
    if run.repetitions > 1:
        out.append(f"Figures are means of wall time per call over each repetition; every case ran {run.repetitions} "
                   "times, its repetitions interleaved with the other cases' in random order, and its fastest "
                   "repetition is the one shown (other tenants' load only ever slows a run down).")
    else:
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

    out += suite_markdown(run, comparison, chart_notes)

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

    padded = [r for r in padding_rows(run) if r["onednn_of_peak"] is not None]
    if padded:
        out += ["## Padding: taps that read only zeros (forward)", ""]
        rows = [[r["shape"], r["batch"], r["window"], fmt(r["valid_share"]), f"{r['onednn_threads']}t",
                 fmt(r["onednn_of_peak"]), fmt(r["onednn_valid_of_peak"]), fmt(r["convlab_vs_onednn"])]
                for r in padded]
        out += [table(["shape", "batch", "window", "taps inside the image", "oneDNN primitive", "of FMA peak",
                       "of FMA peak, inside taps only", "convlab's best / oneDNN"], rows), ""]
        out.append("Every GFLOP/s figure in this summary counts all oh*ow*kh*kw taps of a window. convlab's direct kernels "
                   "read a zero-bordered copy of the image and multiply most of the taps that fall on the padding "
                   "(simd and openmp leave out the window rows that lie on the top or bottom border for every "
                   "pixel of a tile, and in runs of commit add292c and later, AVX-512 float tiles at stride 1 that "
                   "lie within one output row also leave out the border columns of up to three pixels at either end; "
                   "im2col none), while oneDNN's generated code leaves out every one, pixel by pixel: "
                   "its work is the inside share of the nominal count, which is how it can show more than the FMA "
                   "peak. On a layer whose inside share is S, a kernel that multiplied every tap at oneDNN's FMA rate "
                   "would reach S times its figure.")
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
    out += step_profile_markdown(run, profile_note)

    if run.ladder:
        out += ladder_markdown(run)
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
    if not run.conv and not run.fma and not run.epochs and not run.ladder:
        print(f"summarize.py: {argv[1]}: no benchmark results found", file=sys.stderr)
        return 1
    enrich(run)
    comparison = suite_comparison(run)
    target_rows = targets(run, comparison)
    roof_rows = roofline(run)
    chart_notes = write_speedup_charts(run, comparison)
    ladder_note = write_ladder_chart(run)
    if ladder_note:
        chart_notes.append(ladder_note)
    profile_note = write_step_profile_chart(run)
    write_atomically(os.path.join(argv[1], "summary.md"),
                     markdown(run, target_rows, roof_rows, comparison, chart_notes, profile_note))
    summary = {"meta": run.meta,
               "fma_peak_gflops": {f"{d}/threads:{t}": v for (d, t), v in sorted(run.fma.items())},
               "memory_gbps": {f"{k}/threads:{t}": v for (k, t), v in sorted(run.memory.items())},
               "warnings": warnings(run), "targets": target_rows, "roofline": roof_rows,
               "suites": suites_json(comparison), "charts": chart_notes, "conv": run.conv,
               "epochs": run.epochs, "ladder": run.ladder,
               "other": run.other, "errors": run.errors}
    if profile_note:  # only runs whose epochs were profiled: older runs' summary.json stays as it was
        summary["step_profile"] = step_profile_json(run)
        summary["step_profile_chart"] = profile_note
    write_atomically(os.path.join(argv[1], "summary.json"), json.dumps(summary, indent=2) + "\n")
    print_suite_geomeans(comparison)
    print(f"summarize.py: wrote {os.path.join(argv[1], 'summary.md')} and summary.json")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
