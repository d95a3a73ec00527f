"""Quantized coefficients shared by the entropy tests."""

import numpy as np
import pytest

from skcompress import BlockDCT, PerceptualQuantizer
from skcompress.datasets import load_mnist


@pytest.fixture(scope="session")
def mnist_blocks():
    """JPEG quality-50 symbols of 1,000 MNIST digits, ``(1000, 4, 4, 64)`` int32."""
    X = load_mnist().images[:1000]
    G = BlockDCT(layout="blocks").fit_transform(X)
    return PerceptualQuantizer(quality=50, layout="blocks").fit(G).transform(G)


@pytest.fixture(scope="session")
def photo_blocks():
    """JPEG quality-50 symbols of two gray photographs, ``[(1, h, w, 64)]``."""
    from sklearn.datasets import load_sample_images

    out = []
    for rgb in load_sample_images().images:
        gray = (rgb @ np.array([0.299, 0.587, 0.114]))[np.newaxis, :256, :320]
        G = BlockDCT(layout="blocks").fit_transform(gray)
        out.append(PerceptualQuantizer(quality=50, layout="blocks").fit(G).transform(G))
    return out
