"""Conformance of the gray JPEG path (``jpeg_gray_steps``) with libjpeg.

Every image is written as a grayscale baseline JPEG by Pillow (libjpeg or
libjpeg-turbo, integer slow DCT) and the quantized DCT coefficients are read
back from the file with jpeglib. Our coefficients ``B = round(G / Q)`` must
use the same quantization table and agree with the file almost everywhere.

Notes
-----
libjpeg computes ``8 * G`` in fixed point (13-bit constants, rounding after
each pass; its error stays below 1.5 units of that scaled integer) and
rounds ``|t| / (8 Q)`` half away from zero. A coefficient can therefore only
differ when ``G`` lies within ``1.5 / 8`` of a rounding boundary
``(k + 1/2) Q``, and then by one level. The emulation of those two integer
steps (``skcompress.codecs._libjpeg``) reproduces the files bit for bit.

The coefficients at natural positions (0, 0), (0, 4), (4, 0) and (4, 4) have
rational basis functions (every entry is +-1/8), so libjpeg computes them
exactly. BlockDCT's basis holds exactly 1/8 there too (built in extended
precision) and the level shift is folded in exactly, so these coefficients are
bit-identical (:func:`test_exact_coefficients_are_bit_identical`), half-way
ties included.
"""

import numpy as np
import pytest

from skcompress.codecs import jpeg_gray_steps
from skcompress.codecs._libjpeg import EXACT_POSITIONS, islow_blocks, libjpeg_quantize
from skcompress.datasets import load_mnist
from skcompress.quantization import JPEG_LUMA, ijg_scale

jpeglib = pytest.importorskip("jpeglib")
Image = pytest.importorskip("PIL.Image")
skimage_data = pytest.importorskip("skimage.data")
sklearn_datasets = pytest.importorskip("sklearn.datasets")

QUALITIES = [10, 50, 75, 90]
N_MNIST = 200
# Largest error of libjpeg's integer slow DCT, in units of its output (8 * G).
ISLOW_ERROR = 1.5


def _gray(rgb):
    return np.asarray(Image.fromarray(rgb).convert("L"))


def _load(name):
    if name == "mnist":
        return [load_mnist().images[:N_MNIST]]
    photos = [_gray(rgb) for rgb in sklearn_datasets.load_sample_images().images]
    photos.append(skimage_data.camera())
    photos += [_gray(getattr(skimage_data, n)()) for n in ("astronaut", "coffee", "chelsea")]
    return [photo[np.newaxis] for photo in photos]


def _ours(X, quality):
    """Unrounded and quantized coefficients ``(n, h, w, 64)`` and the 64 steps."""
    dct, quantizer = jpeg_gray_steps(quality, order="natural", layout="blocks")
    G = dct.fit_transform(X)
    return G, quantizer.fit(G).transform(G), quantizer.steps_


def _libjpeg(X, quality, directory):
    """Quantized coefficients ``(n, h, w, 64)`` of Pillow's JPEG files, and their table."""
    coefficients, tables = [], []
    for i, image in enumerate(X):
        path = directory / f"{i}.jpg"
        Image.fromarray(image, mode="L").save(path, quality=quality)
        jpeg = jpeglib.read_dct(str(path))
        h, w = jpeg.Y.shape[:2]
        coefficients.append(jpeg.Y.reshape(h, w, 64))
        tables.append(jpeg.qt[jpeg.quant_tbl_no[0]].reshape(64))
    return np.stack(coefficients), np.stack(tables)


@pytest.fixture(scope="module")
def conformance(tmp_path_factory):
    """``get(name, quality)``: pooled ``G``, ``B``, file ``R``, steps, file tables, emulation."""
    cache = {}

    def get(name, quality):
        if (name, quality) not in cache:
            directory = tmp_path_factory.mktemp(f"{name}_q{quality}")
            parts = []
            for X in _load(name):
                G, B, steps = _ours(X, quality)
                R, tables = _libjpeg(X, quality, directory)
                assert B.shape == R.shape
                emulated = libjpeg_quantize(islow_blocks(X), steps.reshape(8, 8))
                parts.append(
                    (
                        G.reshape(-1, 64),
                        B.reshape(-1, 64),
                        R.reshape(-1, 64),
                        tables,
                        emulated.reshape(-1, 64),
                    )
                )
            G, B, R, tables, emulated = (np.concatenate(p) for p in zip(*parts, strict=True))
            cache[name, quality] = G, B, R.astype(np.int64), steps, tables, emulated
        return cache[name, quality]

    return get


@pytest.mark.parametrize("quality", QUALITIES)
def test_quantization_table_matches_file(conformance, quality):
    *_, steps, tables, _ = conformance("mnist", quality)
    expected = ijg_scale(JPEG_LUMA, quality).reshape(64)
    np.testing.assert_array_equal(steps, expected)
    np.testing.assert_array_equal(tables, np.broadcast_to(expected, tables.shape))


@pytest.mark.parametrize("name", ["photos", "mnist"])
@pytest.mark.parametrize("quality", QUALITIES)
def test_coefficients_match_libjpeg(conformance, name, quality):
    G, B, R, steps, _, _ = conformance(name, quality)
    differ = B != R
    assert 1 - differ.mean() >= 0.99
    # Every difference is one quantization level ...
    assert np.abs(B - R).max() <= 1
    # ... across a rounding boundary that lies within libjpeg's DCT error of G.
    boundary = (B + R) / 2 * steps
    assert np.all(np.abs(G - boundary)[differ] <= ISLOW_ERROR / 8)


@pytest.mark.parametrize("name", ["photos", "mnist"])
@pytest.mark.parametrize("quality", QUALITIES)
def test_exact_coefficients_are_bit_identical(conformance, name, quality):
    _, B, R, _, _, _ = conformance(name, quality)
    positions = list(EXACT_POSITIONS)
    np.testing.assert_array_equal(B[:, positions], R[:, positions])


@pytest.mark.parametrize("name", ["photos", "mnist"])
@pytest.mark.parametrize("quality", QUALITIES)
def test_libjpeg_emulation_reproduces_the_file(conformance, name, quality):
    *_, R, _, _, emulated = conformance(name, quality)
    np.testing.assert_array_equal(emulated, R)
