"""Shared helpers of the Python peers: read the plan convlab_bench printed, time calls the way Google
Benchmark does (mean wall time per call after a warm-up), and write results in Google Benchmark's JSON shape
so bench/summarize.py reads peers and convlab_bench alike; and say which BLAS numpy runs on."""

import json
import os
import sys
import time


def log(peer, message):
    print(f"{peer}: {message}", file=sys.stderr, flush=True)


def load_plan(path):
    """The plan convlab_bench printed; each case's stride and padding per axis: geometry(case)."""
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def load_average():
    try:
        with open("/proc/loadavg", encoding="ascii") as f:
            one, five, fifteen = f.read().split()[:3]
        return f"{one} {five} {fifteen} (1, 5, 15 min)"
    except OSError:
        return "unknown"


def case_name(impl, case, threads, dtype="float"):
    return (f"conv/{impl}/{case['pass']}/{case['shape_id']}/{dtype}/batch:{case['batch']}/threads:{threads}")


def geometry(case):
    """(stride_height, stride_width, pad_height, pad_width) of a plan case: its per-axis fields, or the single
    "stride"/"padding" of older plans for both axes."""
    def axis(name, fallback):
        value = case.get(name)
        return int(case[fallback] if value is None else value)
    return (axis("stride_height", "stride"), axis("stride_width", "stride"),
            axis("pad_height", "padding"), axis("pad_width", "padding"))


def time_calls(call, min_time, rounds=1):
    """Runs call() once untimed, then for `rounds` rounds of min_time / rounds seconds each; returns (iterations
    over all rounds, seconds/call of the fastest round). Interference from other tenants only ever slows a
    round down, so the fastest round is the closest to the undisturbed rate."""
    return time_alternating({"call": call}, min_time, rounds)["call"]


def time_alternating(calls, min_time, rounds=1):
    """time_calls for several variants of one case ({name: call}), their rounds alternating (a, b, a, b, ...) so
    that a burst of load from elsewhere does not favour either; returns {name: (iterations, seconds/call)}."""
    for call in calls.values():
        call()
    rounds = max(1, int(rounds))
    round_time = min_time / rounds
    iterations = {name: 0 for name in calls}
    best = {name: float("inf") for name in calls}
    for _ in range(rounds):
        for name, call in calls.items():
            count = 0
            start = time.perf_counter()
            elapsed = 0.0
            while elapsed < round_time or count == 0:
                call()
                count += 1
                elapsed = time.perf_counter() - start
            iterations[name] += count
            best[name] = min(best[name], elapsed / count)
    return {name: (iterations[name], best[name]) for name in calls}


def conv_entry(impl, case, threads, iterations, seconds_per_call, label):
    """One benchmark entry with the fields convlab_bench writes for a convolution case."""
    return {
        "name": case_name(impl, case, threads),
        "run_name": case_name(impl, case, threads),
        "run_type": "iteration",
        "iterations": iterations,
        "real_time": seconds_per_call * 1e6,
        "time_unit": "us",
        "images_per_second": case["batch"] / seconds_per_call,
        "GFLOPS": case["flops"] / seconds_per_call / 1e9,
        "threads": threads,
        "compute_threads": threads,
        "batch": case["batch"],
        "arithmetic_intensity": case["arithmetic_intensity"],
        "shape": case["describe"],
        "label": f"{case['describe']} {label}".strip(),
    }


class CallBudget:
    """Skips cases predicted to take longer than max_seconds per call, from the same shape and pass at a
    smaller batch (the plan lists batches in increasing order): slow peers must not stall the suite."""

    def __init__(self, max_seconds):
        self.max_seconds = max_seconds
        self.seconds_per_image = {}

    def predicted(self, case, threads):
        per_image = self.seconds_per_image.get((case["shape_id"], case["pass"], threads))
        return None if per_image is None else per_image * case["batch"]

    def allows(self, case, threads):
        predicted = self.predicted(case, threads)
        return predicted is None or predicted <= self.max_seconds

    def record(self, case, threads, seconds_per_call):
        self.seconds_per_image[(case["shape_id"], case["pass"], threads)] = seconds_per_call / case["batch"]


def write_results(path, context, benchmarks):
    """Writes {"context":..., "benchmarks":[...]} atomically: a reader never sees half a file."""
    context = dict(context)
    context.setdefault("date", time.strftime("%Y-%m-%dT%H:%M:%S%z"))
    context.setdefault("load_average", load_average())
    context.setdefault("python", sys.version.split()[0])
    # glibc allocator settings (scripts/bench.sh sets them so freed result buffers are reused, not re-faulted).
    for variable in ("MALLOC_MMAP_MAX_", "MALLOC_TRIM_THRESHOLD_"):
        context.setdefault(variable, os.environ.get(variable, "(unset)"))
    partial = path + ".partial"
    with open(partial, "w", encoding="utf-8") as f:
        json.dump({"context": context, "benchmarks": benchmarks}, f, indent=2)
        f.write("\n")
    os.replace(partial, path)


def blas_description():
    """Which BLAS numpy loaded and how it runs: threadpoolctl when installed, else the mapped library file
    (resolving Debian's alternatives) plus OpenBLAS's own core name when it is OpenBLAS."""
    info = {}
    try:
        import threadpoolctl
        pools = [p for p in threadpoolctl.threadpool_info() if p.get("user_api") == "blas"]
        if pools:
            pool = pools[0]
            info["blas_source"] = "threadpoolctl"
            info["blas_library"] = pool.get("filepath", "?")
            info["blas_api"] = str(pool.get("internal_api", "?"))
            info["blas_kernel"] = str(pool.get("architecture", "?"))
            info["blas_threads"] = str(pool.get("num_threads", "?"))
            return info
    except ImportError:
        pass
    info["blas_source"] = "/proc/self/maps (threadpoolctl not installed)"
    libraries = set()
    try:
        with open("/proc/self/maps", encoding="ascii", errors="replace") as maps:
            for line in maps:
                path = line.split()[-1] if len(line.split()) >= 6 else ""
                name = os.path.basename(path).lower()
                if any(key in name for key in ("blas", "blis", "mkl_rt", "atlas")):
                    libraries.add(os.path.realpath(path))
    except OSError:
        pass
    info["blas_library"] = " ".join(sorted(libraries)) or "unknown"
    if any("openblas" in lib for lib in libraries):
        import ctypes
        for lib in libraries:
            try:
                handle = ctypes.CDLL(lib)
                handle.openblas_get_corename.restype = ctypes.c_char_p
                handle.openblas_get_config.restype = ctypes.c_char_p
                info["blas_kernel"] = handle.openblas_get_corename().decode()
                info["blas_config"] = handle.openblas_get_config().decode()
                info["blas_threads"] = str(handle.openblas_get_num_threads())
                break
            except (OSError, AttributeError):
                continue
    elif any(os.path.basename(os.path.dirname(lib)) == "blas" and "libblas.so" in lib for lib in libraries):
        # Debian's reference implementation lives in .../blas/libblas.so.3 (the alternatives' default).
        info["blas_kernel"] = "reference BLAS (netlib): plain compiled loops, single-threaded"
        info["blas_threads"] = "1"
    else:
        info["blas_kernel"] = "unknown (install python3-threadpoolctl to find out)"
        info["blas_threads"] = "unknown"
    return info
