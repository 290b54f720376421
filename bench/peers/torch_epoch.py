#!/usr/bin/python3
"""End-to-end peer: one training epoch of the lecture's network in PyTorch, timed.

Network: conv 1 -> 20 channels, 5x5 windows -> tanh -> dense 11520 -> 50, tanh -> dense 50 -> 10, softmax
(cross-entropy). SGD with momentum 0.9, batch 64, over the 60000 MNIST training images read from the raw IDX
files (pixels / 256, as in the lecture). Loading and converting the data is not timed; the epoch (forward,
backward, update for every batch) is. Writes Google-Benchmark-shaped JSON (see peer_common.py) with one entry
per thread count: epoch/torch/lecture_net/float/batch:64/threads:<T>. Run with Debian's /usr/bin/python3."""

import argparse
import os
import struct
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_common  # noqa: E402

PEER = "torch_epoch"
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA_DIRS = [os.environ.get("CONVLAB_DATA_DIR", ""), os.path.join(REPO, "data"), "/tmp/npm/package/data"]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="JSON file to write")
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    parser.add_argument("--images", type=int, default=60000, help="train on the first N images (quick mode)")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--learning-rate", type=float, default=0.01)
    return parser.parse_args()


def find_mnist():
    for base in DATA_DIRS:
        if not base:
            continue
        for folder in (os.path.join(base, "mnist"), base):
            if os.path.isfile(os.path.join(folder, "train-images-idx3-ubyte")):
                return folder
    return None


def read_idx(path, expected_rank):
    """Raw (uncompressed) IDX of unsigned bytes, checked against its header."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08 or data[3] != expected_rank:
        raise SystemExit(f"{PEER}: {path}: not an IDX file of unsigned bytes with rank {expected_rank}")
    dims = struct.unpack(">" + "I" * expected_rank, data[4:4 + 4 * expected_rank])
    count = 1
    for d in dims:
        count *= d
    body = data[4 + 4 * expected_rank:]
    if len(body) != count:
        raise SystemExit(f"{PEER}: {path}: header declares {count} bytes of data, file holds {len(body)}")
    return dims, body


def main():
    args = parse_args()
    try:
        import torch
    except ImportError:
        peer_common.log(PEER, "skipped: PyTorch is not installed for this python (apt-get install python3-torch)")
        return 0
    folder = find_mnist()
    if folder is None:
        peer_common.log(PEER, "skipped: MNIST IDX files not found (run scripts/install.sh) in " +
                        ", ".join(d for d in DATA_DIRS if d))
        return 0
    image_dims, image_bytes = read_idx(os.path.join(folder, "train-images-idx3-ubyte"), 3)
    label_dims, label_bytes = read_idx(os.path.join(folder, "train-labels-idx1-ubyte"), 1)
    count = min(args.images, image_dims[0], label_dims[0])
    images = torch.frombuffer(bytearray(image_bytes), dtype=torch.uint8)[:count * 784]
    images = images.reshape(count, 1, 28, 28).float() / 256.0
    labels = torch.frombuffer(bytearray(label_bytes), dtype=torch.uint8)[:count].long()

    results = []
    for threads in [int(t) for t in args.threads.split(",")]:
        torch.set_num_threads(threads)
        torch.manual_seed(0)
        model = torch.nn.Sequential(
            torch.nn.Conv2d(1, 20, 5), torch.nn.Tanh(), torch.nn.Flatten(),
            torch.nn.Linear(20 * 24 * 24, 50), torch.nn.Tanh(), torch.nn.Linear(50, 10))
        optimizer = torch.optim.SGD(model.parameters(), lr=args.learning_rate, momentum=0.9)
        loss_function = torch.nn.CrossEntropyLoss()  # softmax + log-likelihood
        order = torch.randperm(count, generator=torch.Generator().manual_seed(1))
        shuffled_images, shuffled_labels = images[order].contiguous(), labels[order].contiguous()
        total_loss, correct = 0.0, 0
        start = time.perf_counter()
        for first in range(0, count, args.batch):
            x = shuffled_images[first:first + args.batch]
            t = shuffled_labels[first:first + args.batch]
            optimizer.zero_grad()
            scores = model(x)
            loss = loss_function(scores, t)
            loss.backward()
            optimizer.step()
            total_loss += float(loss) * len(t)
            correct += int((scores.argmax(dim=1) == t).sum())
        seconds = time.perf_counter() - start
        name = f"epoch/torch/lecture_net/float/batch:{args.batch}/threads:{threads}"
        results.append({
            "name": name, "run_name": name, "run_type": "iteration", "iterations": 1,
            "real_time": seconds * 1e3, "time_unit": "ms",
            "images_per_second": count / seconds, "threads": threads, "compute_threads": threads,
            "batch": args.batch, "images": count, "epoch_seconds": seconds,
            "mean_train_loss": total_loss / count, "train_accuracy": correct / count,
            "shape": "conv 1->20 5x5, tanh, dense 50 tanh, dense 10 softmax",
            "label": f"{count} images, SGD lr {args.learning_rate} momentum 0.9"})
        peer_common.log(PEER, f"threads={threads}: {count} images in {seconds:.2f} s ({count / seconds:.0f} images/s), "
                              f"mean loss {total_loss / count:.3f}, train accuracy {correct / count:.3f}")
    peer_common.write_results(args.out, {"peer": "PyTorch training epoch", "torch_version": torch.__version__,
                                         "mnist_dir": folder}, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
