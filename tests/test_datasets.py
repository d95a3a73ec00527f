"""Embedded data sets load offline with their documented shapes."""

import numpy as np

from skcompress.datasets import load_mnist, load_spoken_digits


def test_load_mnist():
    mnist = load_mnist()
    assert mnist.images.shape == (5000, 28, 28) and mnist.images.dtype == np.uint8
    assert mnist.data.shape == (5000, 784)
    assert np.bincount(mnist.target).tolist() == [500] * 10
    assert "LeCun" in mnist.DESCR
    X, y = load_mnist(return_X_y=True)
    np.testing.assert_array_equal(X, mnist.images)


def test_load_spoken_digits():
    digits = load_spoken_digits()
    assert digits.data.shape == (2520, 8000) and digits.data.dtype == np.int16
    assert digits.sample_rate == 8000
    assert np.bincount(digits.target).tolist() == [252] * 10
    assert digits.settings.shape == (2520,) and digits.settings[0].count("|") == 2
    assert digits.target_names.tolist()[:3] == ["zero", "one", "two"]
