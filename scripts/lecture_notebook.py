#!/usr/bin/python3
"""The lecture's notebook, cell by cell, on convlab's Python module instead of numpy's as_strided and the
lecture's own classifier module. Each cell is printed ("In:") before what it outputs ("Out:"), as the
notebook export shows them, so the two can be read side by side (docs/lecture.md).

    PYTHONPATH=build/python /usr/bin/python3 scripts/lecture_notebook.py            # the lecture's run: ~10 min
    PYTHONPATH=build/python /usr/bin/python3 scripts/lecture_notebook.py --iterations 5 --train-limit 2000

Data: MNIST from data/mnist (scripts/install.sh), pixel bytes / 256 as the lecture's mnist.pkl.gz stored
them, its first 50000 training images, and the 10000 test images. The classifier is built with
windowStrides=(1, 1) by default: the lecture passed (4, 4) but its code always slid its windows by 1, and
convlab honours strides (--strides 4 runs what the lecture asked for). Needs numpy; no plotting.
"""

import argparse
import os
import sys
import time

import numpy as np

try:
    import convlab
except ImportError:
    sys.exit("lecture_notebook.py: cannot import convlab; build it (scripts/build.sh) and set PYTHONPATH=build/python")


def idx(path, header, record, count):
    """The first `count` records of an IDX file (images: 28*28 bytes each; labels: one byte)."""
    if not os.path.exists(path):
        sys.exit(f"lecture_notebook.py: {path} is missing; scripts/install.sh fetches MNIST")
    with open(path, "rb") as f:
        f.seek(header)
        return np.frombuffer(f.read(count * record), dtype=np.uint8)


def cell(source, value=None):
    print("In :")
    print(source)
    if value is not None:
        print("\nOut:")
        print(value)
    print()


def main():
    parser = argparse.ArgumentParser(description="The lecture's notebook on convlab's Python module.")
    parser.add_argument("--data-dir", default=os.environ.get("CONVLAB_DATA_DIR", "data"))
    parser.add_argument("--iterations", type=int, default=100)
    parser.add_argument("--train-limit", type=int, default=50000)
    parser.add_argument("--test-limit", type=int, default=10000)
    parser.add_argument("--strides", type=int, default=1, help="window strides (the lecture's code used 1)")
    parser.add_argument("--impl", default=convlab.default_impl)
    options = parser.parse_args()
    mnist = os.path.join(options.data_dir, "mnist")
    if not 1 <= options.train_limit <= 60000 or not 1 <= options.test_limit <= 10000 or options.iterations < 1:
        parser.error("--train-limit 1..60000, --test-limit 1..10000, --iterations >= 1")

    a = np.arange(2 * 3 * 4).reshape((2, 3, 4))
    cell("a = np.arange(2*3*4).reshape((2,3,4))\ns = a.itemsize\ns", a.itemsize)
    w = convlab.windows(a, 2)
    cell("w = convlab.windows(a, 2)   # as_strided(a, shape=(2, 2, 3, 2, 2), strides=(12*s, 4*s, 1*s, 4*s, s))\n"
         "w.shape, w.strides", (w.shape, w.strides))
    cell("w[1, 0, 1]", w[1, 0, 1])

    train_images = idx(os.path.join(mnist, "train-images-idx3-ubyte"), 16, 784, options.train_limit).reshape(-1, 784)
    train_labels = idx(os.path.join(mnist, "train-labels-idx1-ubyte"), 8, 1, options.train_limit)
    test_images = idx(os.path.join(mnist, "t10k-images-idx3-ubyte"), 16, 784, options.test_limit).reshape(-1, 784)
    test_labels = idx(os.path.join(mnist, "t10k-labels-idx1-ubyte"), 8, 1, options.test_limit)
    Xtrain = (train_images / 256).astype(np.float32)  # mnist.pkl.gz: bytes / 256 in float32
    Xtest = (test_images / 256).astype(np.float32)
    cell("train_set[1][:20]", train_labels[:20])
    if options.train_limit > 15:
        digit = Xtrain[15].reshape((1, 28, 28))
        cell("digit = train_set[0][15].reshape((1, 28, 28))   # the first 7\ntrain_set[1][15], digit.min(), digit.max()",
             (int(train_labels[15]), float(digit.min()), float(digit.max())))
        Xw = convlab.windows(digit, 10)
        cell("Xw = convlab.windows(digit, 10)\nXw.shape, Xw.strides", (Xw.shape, Xw.strides))
        W = np.zeros((10, 10))
        W[range(9, -1, -1), range(10)] = 1
        W *= 0.05
        Y = np.tanh(Xw.reshape((19 * 19, 10 * 10)) @ W.reshape((-1, 1)))
        cell("W = np.zeros((10, 10)); W[range(9, -1, -1), range(10)] = 1; W *= 0.05\n"
             "Y = np.tanh(Xw.reshape((19*19, 10*10)) @ W.reshape((-1,1)))\nY.min(), Y.max()",
             (float(Y.min()), float(Y.max())))

    Ttrain = train_labels.reshape((-1, 1)).astype(np.int64)
    Ttest = test_labels.reshape((-1, 1)).astype(np.int64)
    stride = options.strides
    cell(f"Xtrain, Ttrain = train_set[0][:{options.train_limit}], train_set[1][:{options.train_limit}].reshape((-1, 1))\n"
         "Xtrain.shape, Ttrain.shape, Xtest.shape", (Xtrain.shape, Ttrain.shape, Xtest.shape))
    print("In :")
    print("nnet = convlab.NeuralNetworkConvolutionalClassifier(1, [20, 50], 10,\n"
          f"    inputShape=(28, 28), windowShape=(5, 5), windowStrides=({stride}, {stride}))\n"
          f"nnet.train(Xtrain, Ttrain, {options.iterations}, verbose=True)\nprint(nnet)\n")
    nnet = convlab.NeuralNetworkConvolutionalClassifier(1, [20, 50], 10, inputShape=(28, 28), windowShape=(5, 5),
                                                        windowStrides=(stride, stride), impl=options.impl)
    sys.stdout.flush()  # the C++ side writes the progress lines: print what Python holds first
    started = time.perf_counter()
    nnet.train(Xtrain, Ttrain, options.iterations, verbose=True)
    wall = time.perf_counter() - started
    print(nnet)
    print(f"(wall time of the train call: {wall:.1f} s)\n")

    Ytrain = nnet.use(Xtrain)
    Ytest = nnet.use(Xtest)
    print("In :\nYtrain = nnet.use(Xtrain); Ytest = nnet.use(Xtest)")
    print("print('Training data: Percent Correct  {:.2f}'.format(percCorr(Ttrain, Ytrain))); convlab.confusion_matrix(Ttrain, Ytrain)\n")
    print("Training data: Percent Correct  {:.2f}".format(np.mean(Ttrain == Ytrain) * 100))
    print(convlab.confusion_matrix(Ttrain, Ytrain, 10), end="")
    print("\nTesting data: Percent Correct  {:.2f}".format(np.mean(Ttest == Ytest) * 100))
    print(convlab.confusion_matrix(Ttest, Ytest, 10), end="")
    print()

    filters = nnet.Vs[0]
    cell("filters = nnet.Vs[0]\nfilters.shape", filters.shape)
    classes, Y, Z = nnet.use(Xtest, allOutputs=True)
    cell("classes, Y, Z = nnet.use(Xtest, allOutputs=True)\nlen(Z), Z[0].shape", (len(Z), Z[0].shape))
    if options.test_limit > 4:
        side = (28 - 5) // stride + 1
        convOutForDigit = Z[0][4, :].reshape((side, side, 20))
        cell(f"convOutForDigit = Z[0][4, :].reshape(({side}, {side}, 20))\n"
             "convOutForDigit.shape, Ttest[4], classes[4]",
             (convOutForDigit.shape, int(Ttest[4, 0]), int(classes[4, 0])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
