"""The lecture's classifier from Python (convlab.NeuralNetworkConvolutionalClassifier) and model files as
numpy arrays (convlab.load_model): its API and return shapes, a forward pass computed by hand from the saved
weights, training that learns, save/load, and errors for bad input. No MNIST needed: a synthetic task."""

import re

import numpy as np
import pytest

import convlab


def bars(count, seed):
    """8x8 images of one vertical (class 0) or horizontal (class 1) bar at a random place, plus noise."""
    random = np.random.default_rng(seed)
    images = random.uniform(0, 0.2, (count, 8, 8))
    labels = random.integers(0, 2, count)
    where = random.integers(1, 7, count)
    for i in range(count):
        if labels[i] == 0:
            images[i, :, where[i]] += 0.8
        else:
            images[i, where[i], :] += 0.8
    return images.reshape(count, 64), labels.reshape(-1, 1)


def small(strides=(1, 1), **options):
    return convlab.NeuralNetworkConvolutionalClassifier(1, [4, 6], 2, inputShape=(8, 8), windowShape=(3, 3),
                                                        windowStrides=strides, **options)


def test_repr_and_summary_lines_are_the_lectures():
    nnet = convlab.NeuralNetworkConvolutionalClassifier(1, [20, 50], 10, inputShape=(28, 28), windowShape=(5, 5),
                                                        windowStrides=(4, 4))
    assert repr(nnet) == "NeuralNetworkConvolutionalClassifier(1, [20, 50], 10, (28, 28), (5, 5), (4, 4))"
    assert str(nnet).splitlines() == [repr(nnet), "  Network is not trained."]


def test_training_learns_and_records_every_error():
    X, T = bars(200, 1)
    nnet = small()
    nnet.train(X, T, 30)
    errors = nnet.getErrors()
    assert errors.shape == (31,)  # the error before the first iteration, then one per iteration
    assert errors[-1] < errors[0] / 4
    lines = str(nnet).splitlines()
    assert lines[1].startswith("Network was trained for 31 iterations that took ")
    assert lines[1].endswith(f" seconds. Final error is {errors[-1]!r}.")
    Xtest, Ttest = bars(200, 2)
    assert np.mean(nnet.use(Xtest) == Ttest) >= 0.95


def test_use_returns_the_lectures_shapes_and_a_hand_computed_forward_pass(tmp_path):
    X, T = bars(50, 3)
    nnet = small(strides=(2, 2))
    nnet.train(X, T, 5)
    classes, Y, Z = nnet.use(X, allOutputs=True)
    assert classes.shape == (50, 1) and classes.dtype == np.int64
    assert Y.shape == (50, 2) and np.allclose(Y.sum(axis=1), 1)
    assert [z.shape for z in Z] == [(50, 3 * 3 * 4), (50, 6)]  # (8 - 3) // 2 + 1 = 3 windows a side
    assert np.array_equal(nnet.use(X), classes)

    # By hand from the saved weights: convolution by convlab's windows view, tanh, dense tanh, softmax.
    nnet.save(str(tmp_path / "m.bin"))
    model = convlab.load_model(str(tmp_path / "m.bin"))
    conv, dense, out = model["layers"]
    assert (conv["kind"], conv["weights"].shape, dense["weights"].shape, out["weights"].shape) == \
        ("conv", (4, 1, 3, 3), (36, 6), (6, 2))
    windows = convlab.windows(X.reshape(50, 8, 8), 3, 2)  # (50, 3, 3, 3, 3)
    maps = np.tanh(np.einsum("nyxij,fij->nfyx", windows, conv["weights"][:, 0]) + conv["bias"][None, :, None, None])
    hidden = np.tanh(maps.reshape(50, -1) @ dense["weights"] + dense["bias"])
    logits = hidden @ out["weights"] + out["bias"]
    probabilities = np.exp(logits - logits.max(axis=1, keepdims=True))
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    # Z[0] is the lecture's channels-last flattening of the feature maps.
    assert np.allclose(Z[0], maps.transpose(0, 2, 3, 1).reshape(50, -1), rtol=0, atol=1e-12)
    assert np.allclose(Z[1], hidden, rtol=0, atol=1e-12)
    assert np.allclose(Y, probabilities, rtol=0, atol=1e-12)
    assert np.array_equal(classes[:, 0], probabilities.argmax(axis=1))


def test_save_and_load_give_the_same_classifier(tmp_path):
    X, T = bars(60, 4)
    nnet = small()
    nnet.train(X, T, 3)
    path = str(tmp_path / "nnet.bin")
    nnet.save(path)
    again = convlab.NeuralNetworkConvolutionalClassifier.load(path)
    assert repr(again) == repr(nnet)
    assert np.array_equal(again.use(X, allOutputs=True)[1], nnet.use(X, allOutputs=True)[1])
    model = convlab.load_model(path)
    assert (model["architecture"], model["input_shape"], model["classes"], model["precision"]) == \
        ("conv4:3x3:s1,dense6", (1, 8, 8), 2, "float64")


def test_strides_are_honoured_unlike_the_lectures_code():
    X, _ = bars(3, 5)
    assert small(strides=(1, 1)).use(X, allOutputs=True)[2][0].shape == (3, 6 * 6 * 4)
    assert small(strides=(3, 3)).use(X, allOutputs=True)[2][0].shape == (3, 2 * 2 * 4)


def test_every_implementation_trains_to_the_same_classes():
    X, T = bars(80, 6)
    results = []
    for impl in [entry["name"] for entry in convlab.implementations()]:
        nnet = small(impl=impl)
        nnet.train(X, T, 10)
        results.append(nnet.use(X))
    for classes in results[1:]:
        assert np.mean(classes == results[0]) >= 0.95


def test_bad_input_raises_clear_errors(tmp_path):
    X, T = bars(10, 7)
    nnet = small()
    with pytest.raises(ValueError, match=r"X has shape \(10, 63\) but this network takes images of 8x8"):
        nnet.use(X[:, :63])
    with pytest.raises(ValueError, match=r"T\[0\] = 5 is not a class in 0..1"):
        nnet.train(X, np.full((10, 1), 5), 2)
    with pytest.raises(ValueError, match="expected 10 class labels"):
        nnet.train(X, T[:9], 2)
    with pytest.raises(ValueError, match="nIterations must be at least 1"):
        nnet.train(X, T, 0)
    known = " ".join(entry["name"] for entry in convlab.implementations())
    with pytest.raises(ValueError, match=re.escape(f"'fastest' (known: {known})")):  # an unknown name lists the known
        small(impl="fastest")
    with pytest.raises(ValueError, match="window"):
        convlab.NeuralNetworkConvolutionalClassifier(1, [4], 2, inputShape=(4, 4), windowShape=(5, 5))
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(b"not a model at all")
    with pytest.raises(ValueError, match="garbage.bin"):
        convlab.load_model(str(garbage))
    with pytest.raises(ValueError, match="garbage.bin"):
        convlab.NeuralNetworkConvolutionalClassifier.load(str(garbage))
    with pytest.raises(ValueError, match="cannot save model to .*does not exist"):
        nnet.save(str(tmp_path / "no" / "such" / "folder" / "m.bin"))


def test_vs_and_w_are_the_lectures_weight_matrices():
    """The lecture's own forward pass, written with its Vs and W (bias row first, channels-last inputs),
    gives the network's probabilities."""
    X, T = bars(40, 8)
    nnet = small(strides=(2, 2))
    nnet.train(X, T, 4)
    Vs, W = nnet.Vs, nnet.W
    assert [v.shape for v in Vs] == [(1 + 9, 4), (1 + 36, 6)] and W.shape == (1 + 6, 2)
    windows = convlab.windows(X.reshape(40, 8, 8), 3, 2).reshape(40, 3, 3, 9)
    maps = np.tanh(windows @ Vs[0][1:] + Vs[0][0])  # (40, 3, 3, 4): channels last
    hidden = np.tanh(maps.reshape(40, -1) @ Vs[1][1:] + Vs[1][0])
    logits = hidden @ W[1:] + W[0]
    probabilities = np.exp(logits - logits.max(axis=1, keepdims=True))
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    assert np.allclose(nnet.use(X, allOutputs=True)[1], probabilities, rtol=0, atol=1e-12)
    Vs[0][:] = 0  # a copy: the network keeps its weights
    assert np.any(nnet.Vs[0] != 0)


def test_confusion_matrix_is_the_clis_text():
    text = convlab.confusion_matrix([0, 0, 1, 1, 1, 1], np.array([[0], [1], [1], [1], [1], [0]]), 3)
    assert text.splitlines() == ["       0    1    2", "    ------------------", " 0 | 50.0 50.0  0  ",
                                 " 1 | 25.0 75.0  0  ", " 2 |  0    0    0  "]
    with pytest.raises(ValueError, match="label 3 at index 1 is not a class in 0..2"):
        convlab.confusion_matrix([0, 3], [0, 0], 3)
