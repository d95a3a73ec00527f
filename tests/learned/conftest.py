"""Tiny, quick settings shared by the tests of the learned codecs."""

import numpy as np
import pytest

QUICK = {"device": "cpu", "n_threads": 1, "random_state": 0}


@pytest.fixture
def rgb():
    """Eight smooth 16x16 colour images in [0, 255]: gradients plus a little noise."""
    rng = np.random.default_rng(0)
    r = np.linspace(0, 1, 16)
    base = 255 * np.stack(
        [np.add.outer(r, r) / 2, np.outer(r, 1 - r) * 4, np.add.outer(r, -r) / 2 + 0.5], -1
    )
    shift = rng.uniform(-40, 40, (8, 1, 1, 3))
    noise = rng.normal(0, 4, (8, 16, 16, 3))
    return np.clip(base + shift + noise, 0, 255).astype(np.float32)


@pytest.fixture
def gray(rgb):
    return rgb.mean(axis=-1)
