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


def test_exactly_computed_coefficients_are_exact_sums():
    # libjpeg computes DC and the frequencies 0 and 4 of 8x8 blocks exactly
    # (their basis values are +-1/8): so must we, or ties round differently.
    X = np.random.default_rng(6).integers(0, 256, (20, 16, 24), dtype=np.uint8)
    G = BlockDCT(order="natural", layout="blocks").fit(X).transform(X)
    blocks = X.reshape(20, 2, 8, 3, 8).transpose(0, 1, 3, 2, 4).astype(np.int64) - 128
    sign4 = np.array([1, -1, -1, 1, 1, -1, -1, 1])  # row 4 of the DCT, times sqrt(8)
    rows = {0: np.ones(8, dtype=np.int64), 4: sign4}
    for u, ru in rows.items():
        for v, rv in rows.items():
            exact = np.einsum("nhwyx,y,x->nhw", blocks, ru, rv) / 8  # exact in float64
            np.testing.assert_array_equal(G[..., 8 * u + v], exact)


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.uint16, np.int16, np.int32, np.uint32])
def test_integer_input_types_match_float64(dtype):
    info = np.iinfo(dtype)
    low, high = max(info.min, -1000), min(info.max, 1000)
    X = np.random.default_rng(7).integers(low, high, (3, 13, 11, 2)).astype(dtype)
    dct = BlockDCT(level_shift=0).fit(X)
    expected = BlockDCT(level_shift=0).fit(X.astype(np.float64)).transform(X.astype(np.float64))
    np.testing.assert_array_equal(dct.transform(X), expected)


def test_non_contiguous_input_and_concurrent_calls():
    from concurrent.futures import ThreadPoolExecutor

    X = np.random.default_rng(8).standard_normal((6, 40, 60)).astype(np.float32)
    view = X[:, ::2, ::3]  # (6, 20, 20), not contiguous
    dct = BlockDCT().fit(view)
    expected = dct.transform(np.ascontiguousarray(view))
    np.testing.assert_array_equal(dct.transform(view), expected)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: dct.transform(view), range(8)))
    for G in results:
        np.testing.assert_array_equal(G, expected)


@pytest.mark.parametrize("b", [2, 4, 7, 8])
def test_dst7_blocks_are_the_separable_dst7(b):
    from skcompress.transforms import dst7_matrix

    S = dst7_matrix(b)
    X = np.random.default_rng(9).standard_normal((2, 2 * b, 3 * b))
    G = BlockDCT(b, kind="dst7", order="natural", layout="blocks").fit_transform(X)
    blocks = X.reshape(2, 2, b, 3, b).transpose(0, 1, 3, 2, 4)
    expected = (S @ blocks @ S.T).reshape(2, 2, 3, b * b)
    np.testing.assert_allclose(G, expected, atol=1e-12)
    names = BlockDCT(b, kind="dst7").fit(X).get_feature_names_out()
    assert names[0] == "blk0_0_dst0_0"


@settings(max_examples=40, deadline=None)
@given(
    shape=st.one_of(
        st.tuples(st.integers(1, 3), st.integers(1, 30)),
        st.tuples(st.integers(1, 3), st.integers(1, 20), st.integers(1, 20)),
        st.tuples(st.integers(1, 2), st.integers(1, 12), st.integers(1, 12), st.integers(1, 3)),
    ),
    block_size=st.integers(1, 9),
    n_coefficients=st.one_of(st.none(), st.integers(1, 4)),
    seed=st.integers(0, 2**32 - 1),
)
def test_dst7_and_level_shift_reconstruct(shape, block_size, n_coefficients, seed):
    X = np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)
    if n_coefficients is not None:
        n_coefficients = min(n_coefficients, block_size ** (1 if len(shape) == 2 else 2))
    dct = BlockDCT(block_size, kind="dst7", n_coefficients=n_coefficients).fit(X)
    back = dct.inverse_transform(dct.transform(X))
    if n_coefficients is None:
        np.testing.assert_allclose(back, X, atol=1e-9)
    # the level shift is a constant signal: a constant image is kept whole
    # only by the full transform, and with every kept subset it is the same
    # as transforming the shifted image with level_shift=0
    shifted = BlockDCT(block_size, kind="dst7", n_coefficients=n_coefficients, level_shift=0)
    centred = X.astype(float) - 128
    G = shifted.fit(centred).transform(centred)
    np.testing.assert_allclose(dct.transform(X), G, atol=1e-9)
    np.testing.assert_allclose(back, shifted.inverse_transform(G) + 128, atol=1e-9)


def _hevc_reference(residual, M, inverse=False):
    """H.265's two 1-D passes written out with Python integers, one block."""
    n = len(M)
    log2n = n.bit_length() - 1
    out = [[0] * n for _ in range(n)]
    tmp = [[0] * n for _ in range(n)]
    if not inverse:  # HM encoder: rows first, shift log2n - 1, then columns, shift log2n + 6
        s1, s2 = log2n - 1, log2n + 6
        for j in range(n):
            for k in range(n):
                acc = sum(M[k][i] * residual[j][i] for i in range(n))
                tmp[j][k] = (acc + (1 << (s1 - 1))) >> s1
        for k in range(n):
            for j in range(n):
                acc = sum(M[k][i] * tmp[i][j] for i in range(n))
                out[k][j] = (acc + (1 << (s2 - 1))) >> s2
        return out
    # H.265 8.6.4.2: columns first with shift 7 and a 16-bit clip, then rows with shift 12
    for x in range(n):
        for y in range(n):
            acc = sum(M[j][y] * residual[j][x] for j in range(n))
            tmp[y][x] = min(max((acc + 64) >> 7, -32768), 32767)
    for y in range(n):
        for x in range(n):
            acc = sum(M[j][x] * tmp[y][j] for j in range(n))
            out[y][x] = (acc + (1 << 11)) >> 12
    return out


@pytest.mark.parametrize(
    "b, kind", [(4, "dct"), (4, "dst7"), (8, "dct"), (16, "dct"), (32, "dct")]
)
def test_hevc_integer_mode_matches_the_standard(b, kind):
    from skcompress.transforms import hevc_matrix

    M = hevc_matrix(b, "dct2" if kind == "dct" else "dst7").tolist()
    rng = np.random.default_rng(b)
    X = rng.integers(0, 256, (2, b, 2 * b), dtype=np.uint8)
    hevc = BlockDCT(b, kind=kind, integer=True, order="natural", layout="blocks").fit(X)
    G = hevc.transform(X)
    assert G.dtype == np.int32 and G.shape == (2, 1, 2, b * b)
    for n in range(2):
        for j in range(2):
            residual = (X[n, :, j * b : (j + 1) * b].astype(int) - 128).tolist()
            expected = _hevc_reference(residual, M)
            np.testing.assert_array_equal(G[n, 0, j].reshape(b, b), expected)
            decoded = _hevc_reference(expected, M, inverse=True)
            back = hevc.inverse_transform(G)[n, :, j * b : (j + 1) * b]
            np.testing.assert_array_equal(back, np.asarray(decoded) + 128)
    # near-lossless, and about 128 / b times the orthonormal coefficients
    assert np.abs(hevc.inverse_transform(G) - X).max() <= 2
    ortho = BlockDCT(b, kind=kind, order="natural", layout="blocks").fit(X).transform(X)
    np.testing.assert_allclose(G, ortho * 128 / b, atol=0.02 * np.abs(G).max())


def test_hevc_integer_mode_errors():
    X = np.zeros((1, 8, 8))
    with pytest.raises(ValueError, match=r"block_size in \(4,\) for kind='dst7'"):
        BlockDCT(8, kind="dst7", integer=True).fit(X)
    with pytest.raises(ValueError, match="block_size in"):
        BlockDCT(5, integer=True).fit(X)
    with pytest.raises(ValueError, match="needs images"):
        BlockDCT(4, integer=True).fit(np.zeros((2, 16)))
    with pytest.raises(ValueError, match="non-integer values"):
        BlockDCT(4, integer=True).fit(X).transform(X + 0.5)
