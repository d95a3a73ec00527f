"""Small data sets and quick settings shared by the network tests."""

import numpy as np
import pytest

from skcompress.datasets import load_mnist, load_spoken_digits

# One thread each: the suite runs under pytest-xdist, and small networks wait
# on each other's threads when processes share the cores.
QUICK = {"device": "cpu", "n_threads": 1, "random_state": 0}


@pytest.fixture(scope="session")
def digits():
    """800 MNIST digits: 600 to train, 200 to test."""
    X, y = load_mnist(return_X_y=True)
    return X[:600], y[:600], X[600:800], y[600:800]


@pytest.fixture(scope="session")
def spoken():
    """400 spoken digits, split by voice: the test voices are never heard in training."""
    data = load_spoken_digits()
    X, y = data.data[:800], data.target[:800]
    voices = np.array([s.split("|")[0] for s in data.settings[:800]])
    test = np.isin(voices, np.unique(voices)[::5])
    return X[~test][:400], y[~test][:400], X[test][:150], y[test][:150]
