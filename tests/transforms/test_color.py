"""ColorTransform and ChromaSubsampler: formulas, round trips, padding, layouts, errors."""

import pickle
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from skcompress import BlockDCT, ChromaSubsampler, ColorTransform

# ITU-T T.871 (JFIF) section 7, coefficients as printed (six digits).
T871 = np.array(
    [
        [0.299, 0.587, 0.114],
        [-0.168736, -0.331264, 0.5],
        [0.5, -0.418688, -0.081312],
    ]
)
T871_INVERSE = np.array([[1.0, 0.0, 1.402], [1.0, -0.344136, -0.714136], [1.0, 1.772, 0.0]])

PRIMARIES = {
    "black": ((0, 0, 0), (0.0, 128.0, 128.0)),
    "white": ((255, 255, 255), (255.0, 128.0, 128.0)),
    "red": ((255, 0, 0), (76.245, 84.972, 255.5)),
    "green": ((0, 255, 0), (149.685, 43.528, 21.235)),
    "blue": ((0, 0, 255), (29.07, 255.5, 107.265)),
}


def _images(shape, dtype=np.float64, seed=0, high=255):
    return np.random.default_rng(seed).uniform(0, high, shape).astype(dtype)


def _pixels(colours):
    return np.array(colours, dtype=np.uint8).reshape(1, 1, -1, 3)


# -- ColorTransform ---------------------------------------------------------


@pytest.mark.parametrize("name", list(PRIMARIES))
def test_primaries_to_ycbcr_as_t871(name):
    rgb, ycbcr = PRIMARIES[name]
    out = ColorTransform(layout="blocks").fit_transform(_pixels([rgb]))
    np.testing.assert_allclose(out.reshape(3), ycbcr, atol=1e-3)


def test_matrix_and_inverse_are_t871_to_its_six_digits():
    X = _images((2, 5, 7, 3), seed=1)
    ct = ColorTransform(layout="blocks").fit(X)
    Xt = ct.transform(X)  # float input: offset 0, JPEG 2000's ICT
    np.testing.assert_allclose(Xt, X @ T871.T, atol=255 * 1e-6)
    np.testing.assert_allclose(ct.inverse_transform(Xt), Xt @ T871_INVERSE.T, atol=1e-3)


def test_offset_auto_is_half_range_for_unsigned_and_zero_for_floats():
    assert ColorTransform().fit(np.zeros((1, 2, 2, 3), np.uint8)).offset_ == 128.0
    assert ColorTransform().fit(np.zeros((1, 2, 2, 3), np.uint16)).offset_ == 32768.0
    assert ColorTransform().fit(np.zeros((1, 2, 2, 3))).offset_ == 0.0
    unit = ColorTransform(offset=0.5, layout="blocks").fit(np.ones((1, 1, 1, 3)))
    np.testing.assert_allclose(unit.transform(np.ones((1, 1, 1, 3))).ravel(), [1, 0.5, 0.5])
    assert ColorTransform(space="rct", offset=9).fit(np.zeros((1, 1, 1, 3))).offset_ == 0.0


@settings(max_examples=60, deadline=None)
@given(
    dtype=st.sampled_from([np.float32, np.float64]),
    shape=st.tuples(st.integers(1, 3), st.integers(1, 9), st.integers(1, 9)),
    offset=st.sampled_from(["auto", 0.5, 128]),
    layout=st.sampled_from(["flat", "blocks", "channels_first"]),
    data=st.data(),
)
def test_ycbcr_round_trip(dtype, shape, offset, layout, data):
    X = data.draw(hnp.arrays(dtype, (*shape, 3), elements=st.floats(-1e3, 1e3, width=32)))
    ct = ColorTransform(offset=offset, layout=layout).fit(X)
    Xt = ct.transform(X)
    assert Xt.dtype == dtype
    back = ct.inverse_transform(Xt)
    assert back.shape == X.shape and back.dtype == dtype
    atol = 1e-9 if dtype == np.float64 else 1e-3
    np.testing.assert_allclose(back, X, atol=atol, rtol=0)


@settings(max_examples=40, deadline=None)
@given(
    shape=st.tuples(st.integers(1, 3), st.integers(1, 9), st.integers(1, 9)),
    data=st.data(),
)
def test_rct_is_exactly_reversible_on_integers(shape, data):
    X = data.draw(hnp.arrays(np.int64, (*shape, 3), elements=st.integers(-4096, 4096)))
    ct = ColorTransform(space="rct", layout="blocks").fit(X)
    Xt = ct.transform(X)
    np.testing.assert_array_equal(Xt, np.round(Xt))  # integer outputs
    r, g, b = np.moveaxis(X, -1, 0)
    np.testing.assert_array_equal(Xt[..., 0], (r + 2 * g + b) // 4)  # JPEG 2000 G.2
    np.testing.assert_array_equal(Xt[..., 1:], np.stack([b - g, r - g], axis=-1))
    np.testing.assert_array_equal(ct.inverse_transform(Xt), X)


def test_libjpeg_method_on_every_8bit_grey_and_sampled_colours():
    codes = np.arange(0, 1 << 24, 97)
    rgb = np.stack([codes >> 16, (codes >> 8) & 255, codes & 255], axis=-1)
    rgb = rgb.astype(np.uint8).reshape(1, 1, -1, 3)
    exact = ColorTransform(layout="blocks").fit(rgb).transform(rgb)
    ct = ColorTransform(method="libjpeg", layout="blocks").fit(rgb)
    fixed = ct.transform(rgb)
    # 16-bit fixed point with libjpeg's 5-digit constants: off by one rounding at most
    assert np.abs(fixed - np.floor(exact + 0.5)).max() == 1
    assert (fixed != np.floor(exact + 0.5)).mean() < 0.005
    assert fixed.min() >= 0 and fixed.max() <= 255
    # the decoder's conversion gets within one level of every colour
    assert np.abs(ct.inverse_transform(fixed) - rgb).max() <= 1
    grey = np.repeat(np.arange(256, dtype=np.uint8), 3).reshape(1, 1, 256, 3)
    ct = ColorTransform(method="libjpeg", layout="blocks").fit(grey)
    ycc = ct.transform(grey)
    np.testing.assert_array_equal(ycc[..., 0].ravel(), np.arange(256))
    np.testing.assert_array_equal(ycc[..., 1:], 128)
    np.testing.assert_array_equal(ct.inverse_transform(ycc), grey)


def test_libjpeg_inverse_rounds_and_clips_like_the_decoder():
    ct = ColorTransform(method="libjpeg", layout="blocks").fit(np.zeros((1, 1, 2, 3)))
    out = ct.inverse_transform(np.array([[[[300.2, 128.4, 127.6], [-7.0, 128, 128]]]]))
    np.testing.assert_array_equal(out, [[[[255, 255, 255], [0, 0, 0]]]])


def test_identity_takes_any_signals():
    for X in (_images((3, 7)), _images((2, 4, 5)), _images((2, 4, 5, 2))):
        ct = ColorTransform(space="identity").fit(X)
        np.testing.assert_array_equal(ct.inverse_transform(ct.transform(X)), X)
        assert len(ct.get_feature_names_out()) == X[0].size
    names = ColorTransform(space="identity").fit(_images((1, 1, 2, 2))).get_feature_names_out()
    assert names.tolist() == ["r0_c0_ch0", "r0_c0_ch1", "r0_c1_ch0", "r0_c1_ch1"]


def test_color_layouts_and_feature_names():
    X = _images((2, 3, 4, 3), np.float32)
    flat = ColorTransform().fit(X)
    assert flat.transform(X).shape == (2, 36)
    names = flat.get_feature_names_out()
    assert names[:4].tolist() == ["r0_c0_Y", "r0_c0_Cb", "r0_c0_Cr", "r0_c1_Y"]
    assert names[-1] == "r2_c3_Cr"
    blocks = ColorTransform(layout="blocks").fit(X).transform(X)
    first = ColorTransform(layout="channels_first").fit(X).transform(X)
    assert blocks.shape == (2, 3, 4, 3) and first.shape == (2, 3, 3, 4)
    np.testing.assert_array_equal(blocks.reshape(2, -1), flat.transform(X))
    np.testing.assert_array_equal(np.moveaxis(first, 1, -1), blocks)
    rct = ColorTransform(space="rct").fit(X.round())
    assert rct.get_feature_names_out()[:3].tolist() == ["r0_c0_Y", "r0_c0_U", "r0_c0_V"]


def test_flattened_rows_with_signal_shape_and_pandas_output():
    pd = pytest.importorskip("pandas")
    X = _images((4, 2, 3, 3))
    ct = ColorTransform(signal_shape=(2, 3, 3)).set_output(transform="pandas")
    out = ct.fit_transform(X.reshape(4, -1))
    assert isinstance(out, pd.DataFrame) and out.columns[2] == "r0_c0_Cr"
    np.testing.assert_allclose(out.to_numpy(), ColorTransform().fit_transform(X))
    assert ct.inverse_transform(out.to_numpy()).shape == (4, 2, 3, 3)


@pytest.mark.parametrize(
    "X, shape",
    [
        (np.zeros((2, 4, 4, 4)), "(4, 4, 4)"),
        (np.zeros((2, 4, 4)), "(4, 4)"),
        (np.zeros((2, 12)), "(12,)"),
    ],
)
@pytest.mark.parametrize("step", [ColorTransform(), ChromaSubsampler("4:2:0")])
def test_colour_steps_reject_other_than_three_channels(step, X, shape):
    with pytest.raises(
        ValueError, match=rf"expects channels-last colour images .* {re.escape(shape)}"
    ):
        step.fit(X)


def test_color_errors_name_what_is_wrong():
    X = np.zeros((1, 2, 2, 3))
    with pytest.raises(ValueError, match="'space' parameter of ColorTransform must be"):
        ColorTransform(space="lab").fit(X)
    with pytest.raises(
        ValueError, match="method='libjpeg' .* needs space='ycbcr'; got space='rct'"
    ):
        ColorTransform(space="rct", method="libjpeg").fit(X)
    with pytest.raises(ValueError, match=r"offset 128; got offset=0.5 \(expected"):
        ColorTransform(method="libjpeg", offset=0.5).fit(X)
    libjpeg = ColorTransform(method="libjpeg").fit(X)
    with pytest.raises(
        ValueError, match=r"8-bit samples in \[0, 255\]; X has values in \[256, 256\]"
    ):
        libjpeg.transform(np.full((1, 2, 2, 3), 256.0))
    with pytest.raises(ValueError, match="method='libjpeg'.* non-integer values"):
        libjpeg.transform(np.full((1, 2, 2, 3), 0.5))
    with pytest.raises(ValueError, match="space='rct'.* non-integer values"):
        ColorTransform(space="rct").fit(X).transform(X + 0.25)
    with pytest.raises(ValueError, match=r"shape \(2, 2, 3\) .* but X has signals of shape"):
        ColorTransform().fit(X).transform(np.zeros((1, 3, 3, 3)))
    with pytest.raises(ValueError, match=r"inverse_transform expects .* \(n_samples, 12\)"):
        ColorTransform().fit(X).inverse_transform(np.zeros((1, 13)))


# -- ChromaSubsampler -------------------------------------------------------


def _reference_subsample(X, a, b):
    """Means over a x b groups after edge replication to whole groups."""
    n, H, W, _ = X.shape
    hc, wc = -(-H // a), -(-W // b)
    padded = np.pad(X, [(0, 0), (0, a * hc - H), (0, b * wc - W), (0, 0)], mode="edge")
    groups = [padded[:, u::a, v::b, 1:] for u in range(a) for v in range(b)]
    return np.mean(groups, axis=0)


def _reference_fancy(C, axis, factor):
    """Triangle filter along one axis: 3/4 nearest + 1/4 next, edges replicated."""
    if factor == 1:
        return C
    length = C.shape[axis]
    out = np.arange(2 * length)
    near = out // 2
    far = np.clip(np.where(out % 2 == 0, near - 1, near + 1), 0, length - 1)
    return 0.75 * np.take(C, near, axis=axis) + 0.25 * np.take(C, far, axis=axis)


@pytest.mark.parametrize("subsampling, a, b", [("4:2:0", 2, 2), ("4:2:2", 1, 2)])
@pytest.mark.parametrize("size", [(8, 8), (7, 9), (5, 4), (1, 1)])
def test_chroma_is_the_group_mean_and_luma_is_untouched(subsampling, a, b, size):
    X = _images((2, *size, 3), seed=2)
    sub = ChromaSubsampler(subsampling).fit(X)
    Y, Cb, Cr = sub.split(sub.transform(X))
    expected = _reference_subsample(X, a, b)
    assert sub.chroma_shape_ == expected.shape[1:3] == Cb.shape[1:]
    np.testing.assert_allclose(np.stack([Cb, Cr], axis=-1), expected, atol=1e-12)
    np.testing.assert_array_equal(Y[:, : size[0], : size[1]], X[..., 0])
    back = sub.inverse_transform(sub.transform(X))
    np.testing.assert_array_equal(back[..., 0], X[..., 0])


def test_odd_sizes_replicate_the_edge_pixels():
    X = _images((1, 3, 3, 3), seed=3)
    Cb = ChromaSubsampler().fit(X).split(ChromaSubsampler().fit_transform(X))[1]
    assert Cb.shape == (1, 2, 2)
    np.testing.assert_allclose(Cb[0, 1, 1], X[0, 2, 2, 1])
    np.testing.assert_allclose(Cb[0, 1, 0], X[0, 2, :2, 1].mean())


@pytest.mark.parametrize("subsampling, a, b", [("4:2:0", 2, 2), ("4:2:2", 1, 2)])
@pytest.mark.parametrize("size", [(8, 12), (7, 9), (2, 3), (1, 1)])
def test_upsampling_filters(subsampling, a, b, size):
    X = _images((2, *size, 3), seed=4)
    C = _reference_subsample(X, a, b)
    fancy = ChromaSubsampler(subsampling).fit(X)
    expected = _reference_fancy(_reference_fancy(C, 1, a), 2, b)[:, : size[0], : size[1]]
    np.testing.assert_allclose(fancy.inverse_transform(fancy.transform(X))[..., 1:], expected)
    nearest = ChromaSubsampler(subsampling, upsampling="replicate").fit(X)
    expected = C.repeat(a, axis=1).repeat(b, axis=2)[:, : size[0], : size[1]]
    np.testing.assert_allclose(nearest.inverse_transform(nearest.transform(X))[..., 1:], expected)


def test_fancy_upsampling_keeps_constant_and_linear_chroma():
    X = np.zeros((1, 16, 16, 3))
    X[..., 1] = 50.0
    X[..., 2] = np.arange(16)[None, :]  # a horizontal ramp
    sub = ChromaSubsampler("4:2:2").fit(X)
    back = sub.inverse_transform(sub.transform(X))
    np.testing.assert_allclose(back[..., 1], 50.0)
    np.testing.assert_allclose(back[..., 2, 1:-1], X[..., 2, 1:-1])  # exact inside


@settings(max_examples=60, deadline=None)
@given(
    dtype=st.sampled_from([np.float32, np.float64]),
    shape=st.tuples(st.integers(1, 2), st.integers(1, 19), st.integers(1, 19)),
    subsampling=st.sampled_from(["4:4:4", "4:2:2", "4:2:0"]),
    upsampling=st.sampled_from(["fancy", "replicate"]),
    block_size=st.sampled_from([None, 1, 3, 8]),
    layout=st.sampled_from(["flat", "blocks", "channels_first"]),
    data=st.data(),
)
def test_subsampler_round_trips(dtype, shape, subsampling, upsampling, block_size, layout, data):
    X = data.draw(hnp.arrays(dtype, (*shape, 3), elements=st.floats(0, 255, width=32)))
    sub = ChromaSubsampler(
        subsampling, upsampling=upsampling, block_size=block_size, layout=layout
    ).fit(X)
    Xt = sub.transform(X)
    assert Xt.dtype == dtype
    back = sub.inverse_transform(Xt)
    assert back.shape == X.shape and back.dtype == dtype
    # luma and 4:4:4 are lossless; subsampled chroma stays within the input range
    lossless = X if subsampling == "4:4:4" else X[..., :1]
    np.testing.assert_array_equal(back[..., : lossless.shape[-1]], lossless)
    assert back.min() >= X.min() - 1e-3 and back.max() <= X.max() + 1e-3
    # split and merge are exact inverses; the planes cover the padded grid
    Y, Cb, Cr = sub.split(Xt)
    a, b = {"4:4:4": (1, 1), "4:2:2": (1, 2), "4:2:0": (2, 2)}[subsampling]
    h, w = sub.grid_shape_
    assert Y.shape == (shape[0], a * h, b * w) and Cb.shape == Cr.shape == (shape[0], h, w)
    if block_size:
        assert h % block_size == 0 and w % block_size == 0
    np.testing.assert_array_equal(sub.merge(Y, Cb, Cr), Xt)
    # subsampling a replicated upsampling gives the same chroma back (padding aside)
    if upsampling == "replicate":
        hc, wc = sub.chroma_shape_
        again = sub.split(sub.transform(back))
        rtol = 1e-6 if dtype == np.float32 else 1e-12
        for plane, before in zip(again[1:], (Cb, Cr), strict=True):
            np.testing.assert_allclose(plane[:, :hc, :wc], before[:, :hc, :wc], rtol=rtol)


def test_block_size_pads_as_libjpeg_columns_before_rows_after():
    X = _images((1, 6, 6, 3), seed=5)
    sub = ChromaSubsampler("4:2:0", block_size=4).fit(X)
    assert sub.chroma_shape_ == (3, 3) and sub.grid_shape_ == (4, 4)
    Y, Cb, _ = sub.split(sub.transform(X))
    assert Y.shape == (1, 8, 8)
    np.testing.assert_array_equal(Y[0, 6:, :6], np.broadcast_to(X[0, 5, :, 0], (2, 6)))
    np.testing.assert_array_equal(Y[0, :, 6:], np.broadcast_to(Y[0, :, 5:6], (8, 2)))
    # column 3 averages the replicated last column; row 3 repeats subsampled row 2
    np.testing.assert_allclose(Cb[0, :3, 3], X[0, :, 5, 1].reshape(3, 2).mean(axis=1))
    np.testing.assert_array_equal(Cb[0, 3], Cb[0, 2])
    unpadded = ChromaSubsampler("4:2:0").fit(X)
    np.testing.assert_allclose(Cb[0, :3, :3], unpadded.split(unpadded.transform(X))[1][0])
    # BlockDCT of the padded planes has JPEG's block grid
    assert BlockDCT(4, layout="blocks").fit_transform(Cb).shape[1:3] == (1, 1)
    np.testing.assert_allclose(sub.inverse_transform(sub.transform(X))[..., 0], X[..., 0])


def test_libjpeg_downsampling_biases_and_8bit_rounding():
    X = np.zeros((1, 2, 8, 3))
    X[..., 1] = [[1, 0, 1, 0, 2, 1, 2, 1], [0, 0, 0, 0, 0, 0, 0, 0]]  # sums 1, 1, 3, 3
    X[..., 2] = [[1, 0, 1, 0, 1, 0, 1, 0], [0, 0, 0, 0, 0, 0, 0, 0]]  # sums 1, 1, 1, 1
    sub = ChromaSubsampler("4:2:0", method="libjpeg").fit(X)
    _, Cb, Cr = sub.split(sub.transform(X))
    # (sum + bias) >> 2 with bias 1, 2, 1, 2 along the row (jcsample.c h2v2)
    np.testing.assert_array_equal(Cb[0, 0], [0, 0, 1, 1])
    np.testing.assert_array_equal(Cr[0, 0], [0, 0, 0, 0])
    h2v1 = ChromaSubsampler("4:2:2", method="libjpeg").fit(X)
    _, Cb, _ = h2v1.split(h2v1.transform(X))
    np.testing.assert_array_equal(Cb[0, 0], [0, 1, 1, 2])  # (sum + 0, 1, 0, 1) >> 1
    Xt = sub.transform(X) + 0.4
    np.testing.assert_array_equal(sub.inverse_transform(Xt), sub.inverse_transform(Xt - 0.4))


def test_libjpeg_fancy_upsampling_biases():
    sub = ChromaSubsampler("4:2:2", method="libjpeg").fit(np.zeros((1, 1, 6, 3)))
    Y, Cb, Cr = np.zeros((1, 1, 6)), np.array([[[0.0, 1, 3]]]), np.array([[[2.0, 2, 2]]])
    out = sub.inverse_transform(sub.merge(Y, Cb, Cr))
    # jdsample.c h2v1: (3 c + previous + 1) >> 2, (3 c + next + 2) >> 2, edges kept
    np.testing.assert_array_equal(out[0, 0, :, 1], [0, 0, 1, 2, 2, 3])
    np.testing.assert_array_equal(out[0, 0, :, 2], 2)
    narrow = ChromaSubsampler("4:2:0", method="libjpeg").fit(np.zeros((1, 4, 4, 3)))
    Cb = np.array([[[0.0, 8], [16, 24]]])
    out = narrow.inverse_transform(narrow.merge(np.zeros((1, 4, 4)), Cb, Cb))
    # libjpeg replicates chroma that is at most 2 samples wide
    np.testing.assert_array_equal(out[0, ..., 1], Cb[0].repeat(2, 0).repeat(2, 1))


def test_444_takes_any_signals_and_pads_to_blocks():
    for X in (_images((2, 9)), _images((2, 5, 6)), _images((2, 5, 6, 2))):
        sub = ChromaSubsampler("4:4:4", block_size=4).fit(X)
        np.testing.assert_array_equal(sub.inverse_transform(sub.transform(X)), X)
        assert len(sub.get_feature_names_out()) == sub.transform(X).shape[1]
    sub = ChromaSubsampler("4:4:4").fit(_images((1, 1, 2, 3)))
    assert sub.get_feature_names_out().tolist() == [
        "Y_r0_c0",
        "Cb_r0_c0",
        "Cr_r0_c0",
        "Y_r0_c1",
        "Cb_r0_c1",
        "Cr_r0_c1",
    ]
    X = _images((2, 3, 4, 3))
    Xt = ChromaSubsampler("4:4:4").fit_transform(X)
    np.testing.assert_array_equal(Xt, X.reshape(2, -1))
    assert not np.shares_memory(Xt, X)


def test_subsampler_layouts_and_feature_names():
    X = _images((2, 5, 6, 3), np.float32)
    flat = ChromaSubsampler("4:2:0").fit(X)
    Xt = flat.transform(X)
    assert Xt.shape == (2, 3 * 3 * 6) and Xt.dtype == np.float32
    names = flat.get_feature_names_out()
    assert len(names) == Xt.shape[1]
    assert names[6:12].tolist() == [
        "Y_r0_c2",
        "Y_r0_c3",
        "Y_r1_c2",
        "Y_r1_c3",
        "Cb_r0_c1",
        "Cr_r0_c1",
    ]
    assert names[-1] == "Cr_r2_c2"
    blocks = ChromaSubsampler("4:2:0", layout="blocks").fit(X).transform(X)
    first = ChromaSubsampler("4:2:0", layout="channels_first").fit(X).transform(X)
    assert blocks.shape == (2, 3, 3, 6) and first.shape == (2, 6, 3, 3)
    np.testing.assert_array_equal(blocks.reshape(2, -1), Xt)
    np.testing.assert_array_equal(np.moveaxis(first, 1, -1), blocks)
    h2v1 = ChromaSubsampler("4:2:2", layout="blocks").fit(X)
    assert h2v1.transform(X).shape == (2, 5, 3, 4)
    assert h2v1.get_feature_names_out()[:4].tolist() == [
        "Y_r0_c0",
        "Y_r0_c1",
        "Cb_r0_c0",
        "Cr_r0_c0",
    ]


def test_jpeg_path_from_rgb_rows_to_planes():
    X = _images((3, 10, 13, 3), seed=6).round().reshape(3, -1)
    ycc = ColorTransform(offset=128, layout="blocks", signal_shape=(10, 13, 3)).fit_transform(X)
    sub = ChromaSubsampler(block_size=8).fit(ycc)
    Y, Cb, Cr = sub.split(sub.transform(ycc))
    assert Y.shape == (3, 16, 16) and Cb.shape == (3, 8, 8)
    G = BlockDCT(level_shift=128, layout="blocks").fit_transform(Cb)
    assert G.shape == (3, 1, 1, 64)


def test_fitted_configurations_pickle():
    X = _images((2, 9, 7, 3)).round()
    for step in (
        ColorTransform(method="libjpeg"),
        ColorTransform(space="rct", layout="blocks"),
        ChromaSubsampler("4:2:2", method="libjpeg", block_size=8),
    ):
        fitted = step.fit(X)
        loaded = pickle.loads(pickle.dumps(fitted))
        np.testing.assert_array_equal(loaded.transform(X), fitted.transform(X))


def test_subsampler_errors_name_what_is_wrong():
    X = np.zeros((1, 4, 4, 3))
    with pytest.raises(ValueError, match=r"'subsampling' parameter .* Got '4:1:1' instead"):
        ChromaSubsampler("4:1:1").fit(X)
    with pytest.raises(ValueError, match=r"'upsampling' parameter .* Got 'bicubic' instead"):
        ChromaSubsampler(upsampling="bicubic").fit(X)
    with pytest.raises(ValueError, match=r"'block_size' parameter .* Got 0 instead"):
        ChromaSubsampler(block_size=0).fit(X)
    with pytest.raises(
        ValueError, match=r"8-bit samples in \[0, 255\]; X has values in \[-1, -1\]"
    ):
        ChromaSubsampler(method="libjpeg").fit(X).transform(X - 1)
    sub = ChromaSubsampler().fit(X)
    with pytest.raises(ValueError, match=r"merge expects planes .* \[\(1, 4, 4\), \(1, 2, 2\)"):
        sub.merge(np.zeros((1, 4, 4)), np.zeros((1, 2, 3)), np.zeros((1, 2, 2)))
    with pytest.raises(ValueError, match=r"split expects .* \(n_samples, 24\)"):
        sub.split(np.zeros((1, 25)))
    gray = ChromaSubsampler("4:4:4").fit(np.zeros((1, 4, 4)))
    with pytest.raises(ValueError, match=r"split needs YCbCr images .* shape \(4, 4\)"):
        gray.split(gray.transform(np.zeros((1, 4, 4))))
