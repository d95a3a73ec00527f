"""BlockDCT: exactness against scipy, round trips, layouts, names."""

import numpy as np
import pytest
import scipy.fft
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from skcompress import BlockDCT
from skcompress.transforms import dct_matrix, zigzag_order

JPEG_NATURAL_ORDER = [
    0,
    1,
    8,
    16,
    9,
    2,
    3,
    10,
    17,
    24,
    32,
    25,
    18,
    11,
    4,
    5,
    12,
    19,
    26,
    33,
    40,
    48,
    41,
    34,
    27,
    20,
    13,
    6,
    7,
    14,
    21,
    28,
    35,
    42,
    49,
    56,
    57,
    50,
    43,
    36,
    29,
    22,
    15,
    23,
    30,
    37,
    44,
    51,
    58,
    59,
    52,
    45,
    38,
    31,
    39,
    46,
    53,
    60,
    61,
    54,
    47,
    55,
    62,
    63,
]


def test_zigzag_is_jpeg_scan_order():
    # ITU-T T.81 Figure A.6, as libjpeg's jpeg_natural_order lists it
    assert zigzag_order(8).tolist() == JPEG_NATURAL_ORDER


@pytest.mark.parametrize("n", [1, 2, 4, 8, 16, 32])
def test_dct_matrix_is_scipy_orthonormal_dct2(n):
    expected = scipy.fft.dct(np.eye(n), norm="ortho", axis=0)
    np.testing.assert_allclose(dct_matrix(n), expected, atol=1e-13)


def _scipy_blocks(X, b):
    """Reference: scipy.fft.dctn over a reshaped block view, natural order."""
    n, H, W, C = X.shape
    view = X.reshape(n, H // b, b, W // b, b, C).transpose(0, 1, 3, 5, 2, 4)
    return scipy.fft.dctn(view, axes=(4, 5), norm="ortho").reshape(n, H // b, W // b, C, b * b)


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("b", [4, 8, 16])
def test_matches_scipy_dctn(channels, b):
    X = np.random.default_rng(0).standard_normal((3, 2 * b, 3 * b, channels))
    expected = _scipy_blocks(X, b)
    Xin = X if channels > 1 else X[..., 0]
    G = BlockDCT(b, order="natural", layout="blocks").fit_transform(Xin)
    np.testing.assert_allclose(G.reshape(expected.shape), expected, atol=1e-12)


def test_zigzag_and_truncation_select_scipy_coefficients():
    X = np.random.default_rng(1).standard_normal((2, 16, 16))
    expected = _scipy_blocks(X[..., None], 8)[..., 0, :][..., zigzag_order(8)[:10]]
    G = BlockDCT(n_coefficients=10, layout="blocks").fit_transform(X)
    np.testing.assert_allclose(G, expected, atol=1e-12)


def test_1d_blocks_match_scipy():
    X = np.random.default_rng(2).standard_normal((4, 32))
    expected = scipy.fft.dct(X.reshape(4, 4, 8), norm="ortho", axis=-1).reshape(4, -1)
    np.testing.assert_allclose(BlockDCT().fit_transform(X), expected, atol=1e-12)


def test_level_shift_auto_for_uint8_is_jpeg_128():
    X = np.full((1, 8, 8), 128, dtype=np.uint8)
    dct = BlockDCT().fit(X)
    assert dct.level_shift_ == 128.0
    np.testing.assert_allclose(dct.transform(X), 0.0, atol=1e-10)
    assert BlockDCT().fit(X.astype(float)).level_shift_ == 0.0
    X16 = np.zeros((1, 8, 8), dtype=np.uint16)
    assert BlockDCT().fit(X16).level_shift_ == 32768.0


def test_edge_replication_padding_as_libjpeg():
    X = np.arange(2 * 5 * 7, dtype=float).reshape(2, 5, 7)
    dct = BlockDCT(layout="blocks", order="natural").fit(X)
    padded = np.pad(X, [(0, 0), (0, 3), (0, 1)], mode="edge")
    expected = _scipy_blocks(padded[..., None], 8)[..., 0, :]
    np.testing.assert_allclose(dct.transform(X), expected, atol=1e-12)
    np.testing.assert_allclose(dct.inverse_transform(dct.transform(X)), X, atol=1e-12)


@pytest.mark.parametrize("layout", ["flat", "blocks", "channels_first"])
def test_layouts_hold_the_same_values(layout):
    X = np.random.default_rng(3).standard_normal((2, 16, 24, 3)).astype(np.float32)
    flat = BlockDCT(n_coefficients=5).fit_transform(X)
    dct = BlockDCT(n_coefficients=5, layout=layout).fit(X)
    G = dct.transform(X)
    expected_shape = {
        "flat": (2, 2 * 3 * 3 * 5),
        "blocks": (2, 2, 3, 3, 5),
        "channels_first": (2, 15, 2, 3),
    }[layout]
    assert G.shape == expected_shape
    assert G.dtype == np.float32
    as_blocks = np.moveaxis(G, 1, -1) if layout == "channels_first" else G
    np.testing.assert_array_equal(as_blocks.reshape(2, -1), flat)
    np.testing.assert_allclose(
        dct.inverse_transform(G), BlockDCT(n_coefficients=5).fit(X).inverse_transform(flat)
    )


@settings(max_examples=60, deadline=None)
@given(
    dtype=st.sampled_from([np.float32, np.float64]),
    shape=st.one_of(
        st.tuples(st.integers(1, 3), st.integers(1, 40)),
        st.tuples(st.integers(1, 3), st.integers(1, 30), st.integers(1, 30)),
        st.tuples(st.integers(1, 2), st.integers(1, 20), st.integers(1, 20), st.integers(1, 4)),
    ),
    block_size=st.integers(1, 12),
    order=st.sampled_from(["zigzag", "natural"]),
    layout=st.sampled_from(["flat", "blocks", "channels_first"]),
    data=st.data(),
)
def test_perfect_reconstruction(dtype, shape, block_size, order, layout, data):
    X = data.draw(hnp.arrays(dtype, shape, elements=st.floats(-1e3, 1e3, width=32)))
    dct = BlockDCT(block_size, order=order, layout=layout).fit(X)
    G = dct.transform(X)
    assert G.dtype == dtype
    back = dct.inverse_transform(G)
    assert back.shape == X.shape and back.dtype == dtype
    atol = 1e-10 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(back, X, atol=atol * 1e3, rtol=0)
    # Parseval: the orthonormal transform of the padded signal keeps energy
    assert G.size >= X.size


@settings(max_examples=30, deadline=None)
@given(
    dtype=st.sampled_from([np.float32, np.float64]),
    seed=st.integers(0, 2**32 - 1),
    b=st.sampled_from([2, 4, 8, 16]),
)
def test_reconstruction_tolerances_of_the_issue(dtype, seed, b):
    # unit-scale signals: 1e-10 in float64, 1e-5 in float32
    X = np.random.default_rng(seed).uniform(-1, 1, (2, 3 * b, 2 * b)).astype(dtype)
    dct = BlockDCT(b).fit(X)
    err = np.abs(dct.inverse_transform(dct.transform(X)) - X).max()
    assert err < (1e-10 if dtype == np.float64 else 1e-5)


def test_energy_is_preserved():
    X = np.random.default_rng(4).standard_normal((3, 32, 32))
    G = BlockDCT().fit_transform(X)
    np.testing.assert_allclose((G**2).sum(axis=1), (X**2).sum(axis=(1, 2)))


def test_kept_coefficients_inverse_is_lowpass():
    X = np.random.default_rng(5).standard_normal((2, 16, 16))
    full = BlockDCT(layout="blocks").fit(X)
    G = full.transform(X)
    G[..., 6:] = 0
    lowpass = full.inverse_transform(G)
    kept = BlockDCT(n_coefficients=6).fit(X)
    np.testing.assert_allclose(kept.inverse_transform(kept.transform(X)), lowpass, atol=1e-12)


def test_feature_names_say_block_channel_and_frequency():
    dct = BlockDCT(n_coefficients=3).fit(np.zeros((1, 16, 8, 2)))
    names = dct.get_feature_names_out()
    assert len(names) == dct.transform(np.zeros((1, 16, 8, 2))).shape[1]
    assert names[:4].tolist() == [
        "blk0_0_ch0_dct0_0",
        "blk0_0_ch0_dct0_1",
        "blk0_0_ch0_dct1_0",
        "blk0_0_ch1_dct0_0",
    ]
    assert names[-1] == "blk1_0_ch1_dct1_0"
    names_1d = BlockDCT(4, order="natural").fit(np.zeros((1, 8))).get_feature_names_out()
    assert names_1d.tolist()[:5] == [
        "blk0_dct0",
        "blk0_dct1",
        "blk0_dct2",
        "blk0_dct3",
        "blk1_dct0",
    ]


def test_flattened_rows_with_signal_shape_and_pandas_output():
    pd = pytest.importorskip("pandas")
    from sklearn.datasets import load_digits

    X = load_digits().data[:10]
    dct = BlockDCT(4, signal_shape=(8, 8)).set_output(transform="pandas")
    out = dct.fit_transform(X)
    assert isinstance(out, pd.DataFrame)
    assert out.shape == (10, 64) and out.columns[0] == "blk0_0_dct0_0"
    expected = BlockDCT(4).fit_transform(X.reshape(10, 8, 8))
    np.testing.assert_allclose(out.to_numpy(), expected)
    back = BlockDCT(4, signal_shape=(8, 8)).fit(X)
    assert back.inverse_transform(expected).shape == (10, 8, 8)
