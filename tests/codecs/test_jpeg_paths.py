"""The JPEG paths as building blocks: the gray steps, the colour planes, libjpeg's integer DCT.

Conformance with libjpeg's files is in ``test_jpeg_conformance.py`` and
``test_jpeg_color_conformance.py``; here: the functions give what the steps
assembled by hand give, every setting chains, the colour path inverts, and
the integer DCT emulation keeps its error bound.
"""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.pipeline import make_pipeline

from skcompress import BlockDCT, ChromaSubsampler, ColorTransform, PerceptualQuantizer
from skcompress.codecs import Codec, jpeg_color_planes, jpeg_gray_steps
from skcompress.codecs._libjpeg import (
    EXACT_POSITIONS,
    islow_blocks,
    islow_fdct,
    libjpeg_quantize,
)
from skcompress.datasets import load_mnist
from skcompress.transforms import dct_matrix

DIGITS = load_mnist().images[:40]
TABLES = ("jpeg-luma", "jpeg-chroma", "jpeg-chroma")


def _smooth_rgb(n=2, shape=(37, 45), seed=0):
    """Photograph-like colour images: smooth ramps plus a little noise, uint8."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[: shape[0], : shape[1]]
    base = np.stack([3 * x, 4 * y, 2 * (x + y)], axis=-1)
    noise = rng.normal(0, 6, (n, *shape, 3))
    return np.clip(base + noise + 20, 0, 255).astype(np.uint8)


# -- gray ---------------------------------------------------------------------


def test_gray_steps_are_blockdct_then_perceptual_quantizer():
    dct, quantizer = jpeg_gray_steps(75, n_coefficients=16, order="natural", layout="blocks")
    assert isinstance(dct, BlockDCT) and isinstance(quantizer, PerceptualQuantizer)
    assert dct.get_params()["n_coefficients"] == quantizer.n_coefficients == 16
    assert dct.order == quantizer.order == "natural"
    assert dct.layout == quantizer.layout == "blocks"
    assert dct.level_shift == 128 and quantizer.quality == 75
    assert quantizer.table == "jpeg-luma"


def test_gray_steps_give_the_hand_assembled_symbols():
    ours = make_pipeline(*jpeg_gray_steps(50)).fit(DIGITS)
    by_hand = make_pipeline(BlockDCT(), PerceptualQuantizer(quality=50)).fit(DIGITS)
    np.testing.assert_array_equal(ours.transform(DIGITS), by_hand.transform(DIGITS))


@pytest.mark.parametrize("layout", ["flat", "blocks", "channels_first"])
@pytest.mark.parametrize("order", ["zigzag", "natural"])
@pytest.mark.parametrize("n_coefficients", [None, 10])
def test_gray_steps_chain_in_every_setting(layout, order, n_coefficients):
    steps = jpeg_gray_steps(30, n_coefficients=n_coefficients, order=order, layout=layout)
    pipe = make_pipeline(*steps).fit(DIGITS)
    symbols = pipe.transform(DIGITS)
    k = n_coefficients or 64
    assert symbols.dtype == np.int32 and symbols.size == len(DIGITS) * 16 * k
    back = pipe.inverse_transform(symbols)
    assert back.shape == DIGITS.shape
    if n_coefficients is None:  # every coefficient within half a step: a coarse image
        assert np.abs(back - DIGITS).mean() < 20


def test_gray_steps_take_the_quality_from_a_grid_and_code_for_real():
    pipe = make_pipeline(*jpeg_gray_steps())
    coarse = clone(pipe).set_params(perceptualquantizer__quality=10).fit(DIGITS)
    fine = clone(pipe).set_params(perceptualquantizer__quality=90).fit(DIGITS)
    bits = [Codec(p).fit(DIGITS).rate(DIGITS)["bits_per_sample"] for p in (coarse, fine)]
    assert 0 < bits[0] < bits[1]


# -- colour -------------------------------------------------------------------


def _by_hand(X, quality, subsampling, method, order):
    """The colour path as the benchmarks and tests used to assemble it."""
    ycc = ColorTransform(method=method, layout="blocks", offset=128).fit_transform(X)
    sub = ChromaSubsampler(subsampling, method=method, block_size=8).fit(ycc)
    out = []
    for plane, table in zip(sub.split(sub.transform(ycc)), TABLES, strict=True):
        G = BlockDCT(level_shift=128, layout="blocks", order=order).fit_transform(plane)
        q = PerceptualQuantizer(table=table, quality=quality, order=order, layout="blocks")
        out.append((plane, G, q.fit(G).transform(G)))
    return out


@pytest.mark.parametrize("subsampling", ["4:2:0", "4:2:2", "4:4:4"])
@pytest.mark.parametrize("method", ["float", "libjpeg"])
def test_color_planes_give_the_hand_assembled_planes(subsampling, method):
    X = _smooth_rgb()
    planes = jpeg_color_planes(X, 60, subsampling=subsampling, method=method, order="natural")
    expected = _by_hand(X, 60, subsampling, method, "natural")
    for i, (samples, G, B) in enumerate(expected):
        np.testing.assert_array_equal(planes.samples[i], samples)
        np.testing.assert_array_equal(planes.coefficients[i], G)
        np.testing.assert_array_equal(planes.symbols[i], B)


@pytest.mark.parametrize(
    ("subsampling", "luma_grid", "chroma_grid"),
    [("4:2:0", (6, 6), (3, 3)), ("4:2:2", (5, 6), (5, 3)), ("4:4:4", (5, 6), (5, 6))],
)
def test_color_planes_cover_whole_mcus(subsampling, luma_grid, chroma_grid):
    planes = jpeg_color_planes(_smooth_rgb(), 75, subsampling=subsampling)
    Y, Cb, Cr = planes.symbols
    assert Y.shape == (2, *luma_grid, 64)
    assert Cb.shape == Cr.shape == (2, *chroma_grid, 64)
    assert planes.samples[0].shape == (2, 8 * luma_grid[0], 8 * luma_grid[1])
    tables = [q.table for q in planes.steps.quantizers]
    assert tables == list(TABLES)


def test_color_steps_encode_other_images_of_the_same_size():
    X, other = _smooth_rgb(seed=0), _smooth_rgb(n=3, seed=1)
    steps = jpeg_color_planes(X, 50).steps
    encoded = steps.encode(other)
    direct = jpeg_color_planes(other, 50)
    for a, b, c in zip(encoded.symbols, direct.symbols, steps.symbols(other), strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)
    assert encoded.steps is steps


def test_color_planes_are_computed_per_image():
    X = _smooth_rgb(n=3)
    together = jpeg_color_planes(X, 40).symbols
    for i in range(len(X)):
        alone = jpeg_color_planes(X[i : i + 1], 40).symbols
        for a, b in zip(together, alone, strict=True):
            np.testing.assert_array_equal(a[i : i + 1], b)


@pytest.mark.parametrize("method", ["float", "libjpeg"])
def test_color_decode_inverts_the_path(method):
    X = _smooth_rgb()
    fine = jpeg_color_planes(X, 100, subsampling="4:4:4", method=method)
    back = fine.steps.decode(fine.symbols)
    assert back.shape == X.shape
    # quality 100: steps of 1, so only the roundings (and libjpeg's integer colour) remain
    assert np.abs(back - X).max() <= (3 if method == "float" else 4)
    if method == "libjpeg":
        assert np.array_equal(back, np.clip(np.rint(back), 0, 255))
    coarse = jpeg_color_planes(X, 20)
    error = np.abs(coarse.steps.decode(coarse.symbols) - X).mean()
    assert np.abs(back - X).mean() < error < 20


def test_color_planes_keep_float32():
    planes = jpeg_color_planes(_smooth_rgb().astype(np.float32), 75)
    assert all(p.dtype == np.float32 for p in planes.samples + planes.coefficients)
    assert all(B.dtype == np.int32 for B in planes.symbols)
    assert planes.steps.decode(planes.symbols).dtype == np.float32


@pytest.mark.parametrize("layout", ["flat", "channels_first"])
def test_color_planes_in_other_layouts_decode_alike(layout):
    X = _smooth_rgb()
    blocks = jpeg_color_planes(X, 50)
    other = jpeg_color_planes(X, 50, layout=layout)
    assert [B.size for B in other.symbols] == [B.size for B in blocks.symbols]
    np.testing.assert_allclose(
        other.steps.decode(other.symbols), blocks.steps.decode(blocks.symbols), atol=1e-9
    )


def test_color_planes_refuse_bad_input():
    with pytest.raises(ValueError, match=r"RGB images \(n_samples, H, W, 3\); got shape"):
        jpeg_color_planes(_smooth_rgb()[0], 75)
    with pytest.raises(ValueError, match="integer samples"):
        jpeg_color_planes(_smooth_rgb() + 0.5, 75, method="libjpeg")
    planes = jpeg_color_planes(_smooth_rgb(), 75)
    with pytest.raises(ValueError, match="3 planes Y, Cb, Cr; got 2"):
        planes.steps.decode(planes.symbols[:2])


# -- libjpeg's integer DCT ------------------------------------------------------


def test_islow_fdct_is_eight_times_the_dct_within_its_error():
    blocks = np.random.default_rng(0).integers(-128, 128, (500, 8, 8))
    C = dct_matrix(8)
    exact = 8 * np.einsum("ui,nij,vj->nuv", C, blocks, C)
    t = islow_fdct(blocks)
    assert t.dtype == np.int64
    assert np.abs(t - exact).max() < 1.5
    exact_positions = np.unravel_index(list(EXACT_POSITIONS), (8, 8))
    np.testing.assert_array_equal(
        t[:, exact_positions[0], exact_positions[1]],
        exact[:, exact_positions[0], exact_positions[1]].round(),
    )


def test_islow_fdct_refuses_other_blocks():
    with pytest.raises(ValueError, match=r"blocks of shape \(\.\.\., 8, 8\); got \(4, 4\)"):
        islow_fdct(np.zeros((4, 4), dtype=int))
    with pytest.raises(TypeError, match="integer samples; got dtype float64"):
        islow_fdct(np.zeros((8, 8)))


def test_libjpeg_quantize_rounds_half_away_from_zero():
    steps = np.full((8, 8), 3)
    t = np.zeros((8, 8), dtype=np.int64)
    t[0, :4] = [12, -12, 11, -13]  # t / (8 Q) = 0.5, -0.5, 0.458.., -0.541..
    np.testing.assert_array_equal(libjpeg_quantize(t, steps)[0, :4], [1, -1, 0, -1])


def test_islow_blocks_pads_by_edge_replication():
    images = np.random.default_rng(1).integers(0, 256, (2, 11, 13))
    padded = np.pad(images, [(0, 0), (0, 5), (0, 3)], mode="edge")
    blocks = padded.reshape(2, 2, 8, 2, 8).swapaxes(2, 3) - 128
    np.testing.assert_array_equal(islow_blocks(images), islow_fdct(blocks))
    with pytest.raises(ValueError, match=r"images \(n_samples, H, W\)"):
        islow_blocks(images[0])
