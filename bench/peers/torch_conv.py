#!/usr/bin/python3
"""PyTorch's convolution as a peer: torch.nn.functional.conv2d forward, and each backward pass on its own
through aten.convolution_backward with an output mask (only the input gradient, or only the weight and bias
gradients), for the plan's cases at each thread count (torch.set_num_threads). float32.

Every case is timed twice, with contiguous NCHW tensors (convlab's layout) and with torch.channels_last
tensors and weights (converted before timing, so the conversion is not timed): PyTorch's oneDNN path is
often much faster on the latter. The faster is reported as conv/torch/...; the entry's "memory_format"
field and label say which won, and "nchw_seconds"/"channels_last_seconds" hold both. The two layouts'
results are compared once per case before timing. Writes Google-Benchmark-shaped JSON (see
peer_common.py). Run with Debian's /usr/bin/python3."""

import argparse
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_common  # noqa: E402

PEER = "torch_conv"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--plan", required=True, help="JSON from convlab_bench --convlab_list_cases")
    parser.add_argument("--out", required=True, help="JSON file to write")
    parser.add_argument("--threads", default="", help="comma-separated thread counts (default: the plan's)")
    parser.add_argument("--min-time", type=float, default=0.2, help="seconds to time each case")
    parser.add_argument("--rounds", type=int, default=1,
                        help="split each case's time into this many rounds (the memory formats' rounds "
                             "alternating) and keep the fastest")
    parser.add_argument("--max-call-seconds", type=float, default=2.0,
                        help="skip cases predicted to take longer than this per call")
    parser.add_argument("--check", action="store_true", help="check the backward calls against autograd and exit")
    return parser.parse_args()


MEMORY_FORMATS = ("nchw", "channels_last")


def make_operands(torch, case):
    n, c, f = case["batch"], case["in_channels"], case["out_channels"]
    h, w_, kh, kw = case["in_height"], case["in_width"], case["kernel_height"], case["kernel_width"]
    sh, sw, ph, pw = peer_common.geometry(case)
    oh, ow = (h + 2 * ph - kh) // sh + 1, (w_ + 2 * pw - kw) // sw + 1
    return {"x": torch.randn(n, c, h, w_), "w": torch.randn(f, c, kh, kw), "b": torch.randn(f),
            "dy": torch.randn(n, f, oh, ow)}


def make_call(torch, case, operands, memory_format):
    """The case's call on `operands` converted to `memory_format` now (not inside the timed call)."""
    layout = torch.channels_last if memory_format == "channels_last" else torch.contiguous_format
    x, w, dy = (operands[k].contiguous(memory_format=layout) for k in ("x", "w", "dy"))
    b = operands["b"]
    f = case["out_channels"]
    sh, sw, ph, pw = peer_common.geometry(case)
    strides, paddings = [sh, sw], [ph, pw]

    def backward(mask):
        return torch.ops.aten.convolution_backward(dy, x, w, [f], strides, paddings, [1, 1], False, [0, 0], 1, mask)

    return {
        "forward": lambda: torch.nn.functional.conv2d(x, w, b, stride=strides, padding=paddings),
        "backward_input": lambda: backward([True, False, False]),
        "backward_weights": lambda: backward([False, True, True]),
    }[case["pass"]]


def same_results(torch, first, second):
    """Whether two calls' results agree (a tensor, or a tuple of tensors and Nones) within float rounding."""
    first = first if isinstance(first, tuple) else (first,)
    second = second if isinstance(second, tuple) else (second,)
    for a, b in zip(first, second):
        if (a is None) != (b is None):
            return False
        if a is not None and not torch.allclose(a, b, rtol=1e-3, atol=1e-3 * float(b.abs().max()) + 1e-6):
            return False
    return True


def self_check(torch):
    torch.manual_seed(0)
    x = torch.randn(2, 3, 9, 9, dtype=torch.float64, requires_grad=True)
    w = torch.randn(4, 3, 3, 3, dtype=torch.float64, requires_grad=True)
    b = torch.randn(4, dtype=torch.float64, requires_grad=True)
    y = torch.nn.functional.conv2d(x, w, b, stride=2, padding=1)
    dy = torch.randn_like(y)
    y.backward(dy)
    dx, _, _ = torch.ops.aten.convolution_backward(dy, x, w, [4], [2, 2], [1, 1], [1, 1], False, [0, 0], 1,
                                                   [True, False, False])
    _, dw, db = torch.ops.aten.convolution_backward(dy, x, w, [4], [2, 2], [1, 1], [1, 1], False, [0, 0], 1,
                                                    [False, True, True])
    for name, got, want in [("input", dx, x.grad), ("weights", dw, w.grad), ("bias", db, b.grad)]:
        if not torch.allclose(got, want):
            raise SystemExit(f"{PEER}: self-check failed: {name} gradient differs from autograd")
    # The timed calls on an asymmetric case (stride and padding differ per axis), both layouts, against the
    # same calls in float64 through autograd.
    case = {"batch": 2, "in_channels": 3, "in_height": 9, "in_width": 11, "out_channels": 4, "kernel_height": 3,
            "kernel_width": 5, "stride_height": 1, "stride_width": 2, "pad_height": 2, "pad_width": 1}
    operands = make_operands(torch, case)
    x = operands["x"].double().requires_grad_()
    w = operands["w"].double().requires_grad_()
    b = operands["b"].double().requires_grad_()
    y = torch.nn.functional.conv2d(x, w, b, stride=[1, 2], padding=[2, 1])
    y.backward(operands["dy"].double())
    wanted = {"forward": y.detach(), "backward_input": x.grad, "backward_weights": (w.grad, b.grad)}
    for pass_ in ("forward", "backward_input", "backward_weights"):
        for memory_format in MEMORY_FORMATS:
            got = make_call(torch, dict(case, **{"pass": pass_}), operands, memory_format)()
            got = got if pass_ == "forward" else (got[0] if pass_ == "backward_input" else (got[1], got[2]))
            want = wanted[pass_]
            if not same_results(torch, tuple(g.double() for g in got) if isinstance(got, tuple) else got.double(),
                                want):
                raise SystemExit(f"{PEER}: self-check failed: {pass_} in {memory_format} differs from autograd")
    peer_common.log(PEER, "self-check passed (convolution_backward vs autograd; both layouts, per-axis geometry)")


def main():
    args = parse_args()
    try:
        import torch
    except ImportError:
        peer_common.log(PEER, "skipped: PyTorch is not installed for this python (apt-get install python3-torch)")
        return 0
    if args.check:
        self_check(torch)
        return 0
    plan = peer_common.load_plan(args.plan)
    thread_counts = [int(t) for t in args.threads.split(",")] if args.threads else plan["thread_counts"]
    budget = peer_common.CallBudget(args.max_call_seconds)
    torch.manual_seed(0)
    results = []
    with torch.no_grad():
        for threads in thread_counts:
            torch.set_num_threads(threads)
            for case in plan["cases"]:
                if not budget.allows(case, threads):
                    peer_common.log(PEER, f"skipped {peer_common.case_name('torch', case, threads)}: would take "
                                          f"~{budget.predicted(case, threads):.1f} s per call")
                    continue
                name = peer_common.case_name("torch", case, threads)
                operands = make_operands(torch, case)
                calls = {fmt: make_call(torch, case, operands, fmt) for fmt in MEMORY_FORMATS}
                if not same_results(torch, calls["channels_last"](), calls["nchw"]()):
                    peer_common.log(PEER, f"skipped {name}: channels_last and NCHW results differ")
                    continue
                timed = peer_common.time_alternating(calls, args.min_time, args.rounds)
                winner = min(MEMORY_FORMATS, key=lambda fmt: timed[fmt][1])
                iterations, seconds = timed[winner]
                budget.record(case, threads, seconds)
                entry = peer_common.conv_entry(
                    "torch", case, threads, iterations, seconds,
                    f"torch.nn.functional.conv2d / aten.convolution_backward; {winner} faster (NCHW "
                    f"{timed['nchw'][1] * 1e6:.0f} us, channels_last {timed['channels_last'][1] * 1e6:.0f} us)")
                entry["memory_format"] = winner
                entry["repetitions"] = args.rounds
                entry["nchw_seconds"] = timed["nchw"][1]
                entry["channels_last_seconds"] = timed["channels_last"][1]
                results.append(entry)
                del calls, operands  # free the case's tensors before the next case allocates its own
    context = {"peer": "PyTorch conv2d", "torch_version": torch.__version__,
               "mkldnn_available": str(torch.backends.mkldnn.is_available()),
               "cpu_capability": torch.backends.cpu.get_cpu_capability()
               if hasattr(torch.backends, "cpu") and hasattr(torch.backends.cpu, "get_cpu_capability") else "unknown"}
    peer_common.write_results(args.out, context, results)
    peer_common.log(PEER, f"{len(results)} cases, torch {torch.__version__}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
