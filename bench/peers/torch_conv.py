#!/usr/bin/python3
"""PyTorch's convolution as a peer: torch.nn.functional.conv2d forward, and each backward pass on its own
through aten.convolution_backward with an output mask (only the input gradient, or only the weight and bias
gradients), for the plan's cases at each thread count (torch.set_num_threads). NCHW float32 tensors, as in
convlab. Writes Google-Benchmark-shaped JSON (see peer_common.py). Run with Debian's /usr/bin/python3."""

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
    parser.add_argument("--max-call-seconds", type=float, default=2.0,
                        help="skip cases predicted to take longer than this per call")
    parser.add_argument("--check", action="store_true", help="check the backward calls against autograd and exit")
    return parser.parse_args()


def make_calls(torch, case, stride, padding):
    n, c, f = case["batch"], case["in_channels"], case["out_channels"]
    h, w_, kh, kw = case["in_height"], case["in_width"], case["kernel_height"], case["kernel_width"]
    oh, ow = (h + 2 * padding - kh) // stride + 1, (w_ + 2 * padding - kw) // stride + 1
    x = torch.randn(n, c, h, w_)
    w = torch.randn(f, c, kh, kw)
    b = torch.randn(f)
    dy = torch.randn(n, f, oh, ow)
    strides, paddings = [stride, stride], [padding, padding]

    def backward(mask):
        return torch.ops.aten.convolution_backward(dy, x, w, [f], strides, paddings, [1, 1], False, [0, 0], 1, mask)

    return {
        "forward": lambda: torch.nn.functional.conv2d(x, w, b, stride=stride, padding=padding),
        "backward_input": lambda: backward([True, False, False]),
        "backward_weights": lambda: backward([False, True, True]),
    }


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
    peer_common.log(PEER, "self-check passed (convolution_backward vs autograd)")


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
                call = make_calls(torch, case, case["stride"], case["padding"])[case["pass"]]
                iterations, seconds = peer_common.time_calls(call, args.min_time)
                budget.record(case, threads, seconds)
                results.append(peer_common.conv_entry("torch", case, threads, iterations, seconds,
                                                      "torch.nn.functional.conv2d / aten.convolution_backward"))
    context = {"peer": "PyTorch conv2d", "torch_version": torch.__version__,
               "mkldnn_available": str(torch.backends.mkldnn.is_available()),
               "cpu_capability": torch.backends.cpu.get_cpu_capability()
               if hasattr(torch.backends, "cpu") and hasattr(torch.backends.cpu, "get_cpu_capability") else "unknown"}
    peer_common.write_results(args.out, context, results)
    peer_common.log(PEER, f"{len(results)} cases, torch {torch.__version__}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
