"""load_photographs: scikit-learn's and scikit-image's photographs, square, gray or colour."""

import numpy as np
import pytest

from skcompress.datasets import load_photographs

pytest.importorskip("PIL")


def test_gray_and_colour_photographs_share_names_and_size():
    pytest.importorskip("skimage")
    gray = load_photographs(size=32)
    colour = load_photographs(size=32, color=True)
    assert gray.names.tolist() == [
        "china", "flower", "camera", "astronaut", "coffee", "chelsea", "rocket"
    ]  # fmt: skip
    assert gray.images.shape == (7, 32, 32) and gray.images.dtype == np.uint8
    assert colour.images.shape == (7, 32, 32, 3)
    camera = colour.images[2]  # gray to begin with: three equal channels
    assert np.array_equal(camera[..., 0], camera[..., 2])
    assert gray.images.std(axis=(1, 2)).min() > 10  # real pictures, not blank


@pytest.mark.parametrize("size", [4, 32.0, True])
def test_bad_size_is_refused(size):
    with pytest.raises(ValueError, match="size must be an int >= 8"):
        load_photographs(size=size)
