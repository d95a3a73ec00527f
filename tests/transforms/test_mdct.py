"""MDCT: the direct formula, TDAC perfect reconstruction, Parseval, windows, bands."""

import numpy as np
import pytest
import scipy.signal
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from skcompress import MDCT, PerceptualQuantizer
from skcompress.transforms import band_edges, band_steps

# Opus celt/modes.c eband5ms, in 200 Hz units
EBAND_5MS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28, 34, 40, 48, 60, 78, 100]
# Zwicker's critical band edges (Hz) for 1..24 Bark
ZWICKER_EDGES = [
    *[100, 200, 300, 400, 510, 630, 770, 920, 1080, 1270, 1480, 1720],
    *[2000, 2320, 2700, 3150, 3700, 4400, 5300, 6400, 7700, 9500, 12000, 15500],
]


def direct_mdct(X, frame_length, window):
    """O(N^2) MDCT of the padded, explicitly framed signals."""
    M = frame_length // 2
    n, length = X.shape
    frames = -(-length // M) + 1
    padded = np.zeros((n, (frames + 1) * M))
    padded[:, M : M + length] = X
    t, k = np.arange(frame_length), np.arange(M)
    basis = np.sqrt(2 / M) * np.cos(np.pi / M * (t[:, None] + 0.5 + M / 2) * (k + 0.5))
    out = np.empty((n, frames, M))
    for f in range(frames):
        out[:, f] = (padded[:, f * M : f * M + frame_length] * window) @ basis
    return out


@pytest.mark.parametrize("window", ["sine", "kbd"])
@pytest.mark.parametrize("frame_length", [2, 4, 6, 8, 10, 12, 18, 36, 64, 256])
def test_matches_direct_formula(frame_length, window):
    rng = np.random.default_rng(frame_length)
    for length in (frame_length, frame_length + 1, 3 * frame_length + 5):
        X = rng.standard_normal((3, length))
        mdct = MDCT(frame_length, window=window, layout="blocks").fit(X)
        expected = direct_mdct(X, frame_length, mdct.window_)
        np.testing.assert_allclose(mdct.transform(X), expected, rtol=0, atol=1e-12)


@settings(max_examples=80, deadline=None)
@given(
    dtype=st.sampled_from([np.float32, np.float64]),
    n=st.integers(1, 3),
    half=st.integers(1, 40),
    extra=st.integers(0, 150),
    window=st.sampled_from(["sine", "kbd"]),
    alpha=st.floats(0, 12),
    layout=st.sampled_from(["flat", "blocks", "channels_first"]),
    data=st.data(),
)
def test_perfect_reconstruction_and_parseval(dtype, n, half, extra, window, alpha, layout, data):
    length = 2 * half + extra  # any length the frame fits in, most not whole hops
    X = data.draw(hnp.arrays(dtype, (n, length), elements=st.floats(-1e3, 1e3, width=32)))
    mdct = MDCT(2 * half, window=window, alpha=alpha, layout=layout).fit(X)
    G = mdct.transform(X)
    assert G.dtype == dtype
    back = mdct.inverse_transform(G)
    assert back.shape == X.shape and back.dtype == dtype
    scale = max(1.0, float(np.abs(X).max()))
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(back, X, rtol=0, atol=tol * scale)
    energy = (X.astype(np.float64) ** 2).sum(axis=1)
    coef_energy = (G.astype(np.float64) ** 2).reshape(n, -1).sum(axis=1)
    np.testing.assert_allclose(coef_energy, energy, rtol=10 * tol, atol=tol * scale**2)


@pytest.mark.parametrize(("window", "alpha"), [("sine", 4.0), ("kbd", 0.0), ("kbd", 4.0)])
@pytest.mark.parametrize("frame_length", [2, 6, 36, 256, 2048])
def test_windows_satisfy_princen_bradley(frame_length, window, alpha):
    w = MDCT(frame_length, window=window, alpha=alpha).fit(np.zeros((1, 4096))).window_
    M = frame_length // 2
    assert w.shape == (frame_length,)
    np.testing.assert_allclose(w[:M] ** 2 + w[M:] ** 2, 1.0, rtol=0, atol=1e-14)
    np.testing.assert_allclose(w, w[::-1], rtol=0, atol=1e-15)


@pytest.mark.parametrize("alpha", [0.5, 4.0, 6.0, 50.0])
@pytest.mark.parametrize("frame_length", [4, 36, 256, 2048])
def test_kbd_window_is_scipys_kaiser_bessel_derived(frame_length, alpha):
    w = MDCT(frame_length, window="kbd", alpha=alpha).fit(np.zeros((1, 2048))).window_
    expected = scipy.signal.windows.kaiser_bessel_derived(frame_length, np.pi * alpha)
    np.testing.assert_allclose(w, expected, rtol=0, atol=1e-12)


def test_sine_window_formula_and_extreme_kbd():
    w = MDCT(8, window="sine").fit(np.zeros((1, 8))).window_
    np.testing.assert_allclose(w, np.sin(np.pi * (np.arange(8) + 0.5) / 8))
    steep = MDCT(64, window="kbd", alpha=1e4).fit(np.zeros((1, 64))).window_
    assert np.all(np.isfinite(steep))
    np.testing.assert_allclose(steep[:32] ** 2 + steep[32:] ** 2, 1.0)


def test_frames_and_padding_of_the_spoken_digit_length():
    X = np.zeros((2, 8000), dtype=np.float32)
    mdct = MDCT(256).fit(X)
    assert (mdct.n_bins_, mdct.n_frames_) == (128, 64)  # ceil(8000 / 128) + 1
    assert mdct.transform(X).shape == (2, 64 * 128)


def test_tone_at_a_bin_centre_lands_in_that_bin():
    M, k, length = 64, 10, 1024
    t = np.arange(length)
    X = np.cos(np.pi / M * (k + 0.5) * t)[None]
    G = MDCT(2 * M, layout="blocks").fit_transform(X)[0]
    inner = G[2:-2]  # frames away from the signal's ends
    assert np.all(np.argmax(np.abs(inner), axis=1) == k)
    peak = (inner[:, k - 1 : k + 2] ** 2).sum(axis=1)
    assert np.all(peak > 0.95 * (inner**2).sum(axis=1))


@pytest.mark.parametrize("layout", ["flat", "blocks", "channels_first"])
def test_layouts_hold_the_same_values(layout):
    X = np.random.default_rng(3).standard_normal((2, 100)).astype(np.float32)
    flat = MDCT(16).fit_transform(X)
    mdct = MDCT(16, layout=layout).fit(X)
    G = mdct.transform(X)
    F = 14  # ceil(100 / 8) + 1
    shapes = {"flat": (2, F * 8), "blocks": (2, F, 8), "channels_first": (2, 8, F)}
    assert G.shape == shapes[layout]
    as_blocks = np.swapaxes(G, 1, 2) if layout == "channels_first" else G
    np.testing.assert_array_equal(as_blocks.reshape(2, -1), flat)
    np.testing.assert_allclose(mdct.inverse_transform(G), X, atol=1e-5)
    np.testing.assert_allclose(mdct.inverse_transform(flat), X, atol=1e-5)


def test_dtypes_int_input_gives_float64():
    X = np.arange(-50, 50, dtype=np.int16).reshape(2, 50)
    mdct = MDCT(10).fit(X)
    G = mdct.transform(X)
    assert G.dtype == np.float64
    np.testing.assert_allclose(mdct.inverse_transform(G), X, atol=1e-10)
    assert mdct.inverse_transform(G.astype(np.float32)).dtype == np.float32


def test_feature_names_say_frame_and_bin():
    mdct = MDCT(4).fit(np.zeros((1, 5)))
    names = mdct.get_feature_names_out()
    assert names.tolist() == [f"f{f}_k{k}" for f in range(4) for k in range(2)]
    assert len(names) == mdct.transform(np.zeros((1, 5))).shape[1]
    with pytest.raises(ValueError, match="input_features should have length 5; got 2"):
        mdct.get_feature_names_out(["a", "b"])


def test_pandas_output():
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame(np.random.default_rng(0).standard_normal((3, 20)))
    out = MDCT(8).set_output(transform="pandas").fit_transform(X)
    assert isinstance(out, pd.DataFrame)
    assert out.shape == (3, 6 * 4) and out.columns[5] == "f1_k1"


@pytest.mark.parametrize("layout", ["flat", "blocks", "channels_first"])
def test_per_bin_step_vector_tiles_every_layout(layout):
    X = np.random.default_rng(4).standard_normal((4, 300)).astype(np.float32)
    mdct = MDCT(64, layout=layout).fit(X)
    G = mdct.transform(X)
    edges = band_edges(mdct.n_bins_, 8000, scale="bark")
    steps = band_steps(np.linspace(0.05, 0.5, len(edges) - 1), edges)
    assert steps.shape == (32,)
    q = PerceptualQuantizer(table=steps, layout=layout).fit(G)
    np.testing.assert_array_equal(q.steps_, steps)
    error = np.abs(q.inverse_transform(q.transform(G)) - G)
    per_bin = np.moveaxis(error, 1, -1) if layout == "channels_first" else error
    assert np.all(per_bin.reshape(4, -1, 32) <= steps / 2 + 1e-6)


# -- band edges --------------------------------------------------------------


@pytest.mark.parametrize(("n_bins", "rate", "shift"), [(120, 48000, 0), (240, 48000, 1)])
def test_celt_edges_are_opus_eband5ms_scaled(n_bins, rate, shift):
    expected = [e << shift for e in EBAND_5MS if e << shift < n_bins] + [n_bins]
    assert band_edges(n_bins, rate, scale="celt").tolist() == expected


def test_celt_edges_of_a_20ms_frame_at_48khz_and_narrowband():
    edges = band_edges(960, 48000, scale="celt")
    assert edges.tolist() == [8 * e for e in EBAND_5MS] + [960]  # last band: 20-24 kHz
    narrow = band_edges(160, 8000, scale="celt")  # 20 ms at 8 kHz
    assert narrow.tolist() == [8 * e for e in EBAND_5MS[:14]]  # Opus's 13 narrowband bands


def test_bark_edges_follow_zwickers_critical_bands():
    n_bins, rate = 16000, 64000  # 2 Hz bins up to 32 kHz
    edges = band_edges(n_bins, rate, scale="bark")
    hz = edges[1:25] * rate / (2 * n_bins)
    np.testing.assert_allclose(hz, ZWICKER_EDGES, rtol=0.05)
    np.testing.assert_allclose(hz[4:], ZWICKER_EDGES[4:], rtol=0.015)
    # 1 kHz is 8.5 Bark on Traunmüller's scale: edges 8 and 9 bracket it
    assert hz[7] < 1000 < hz[8]


@settings(max_examples=80, deadline=None)
@given(
    n_bins=st.integers(1, 3000),
    rate=st.sampled_from([8000, 11025, 16000, 22050, 44100, 48000, 96000, 1234.5]),
    scale=st.sampled_from(["bark", "celt"]),
)
def test_band_edges_are_increasing_and_cover_all_bins(n_bins, rate, scale):
    edges = band_edges(n_bins, rate, scale=scale)
    assert edges.dtype == np.int64
    assert edges[0] == 0 and edges[-1] == n_bins
    assert np.all(np.diff(edges) > 0)
    steps = band_steps(np.arange(1.0, len(edges)), edges)
    assert steps.shape == (n_bins,)


def test_band_steps_repeat_per_band():
    assert band_steps([1, 2, 4], np.array([0, 1, 3, 6])).tolist() == [1, 2, 2, 4, 4, 4]


# -- errors ------------------------------------------------------------------


def test_odd_frame_length_is_refused():
    with pytest.raises(ValueError, match="frame_length must be even .* got frame_length=255"):
        MDCT(255).fit(np.zeros((1, 1000)))


def test_frame_length_below_two_is_refused():
    with pytest.raises(ValueError, match="'frame_length' parameter of MDCT .* Got 0 instead"):
        MDCT(0).fit(np.zeros((1, 10)))


def test_frame_longer_than_the_signal_is_refused():
    msg = r"frame_length=256 is longer than the signals \(length 100, n_features=100\)"
    with pytest.raises(ValueError, match=msg):
        MDCT(256).fit(np.zeros((2, 100)))


def test_unknown_window_is_refused():
    with pytest.raises(ValueError, match="'window' parameter of MDCT .* Got 'hann' instead"):
        MDCT(8, window="hann").fit(np.zeros((1, 10)))


@pytest.mark.parametrize("alpha", [np.inf, np.nan, -1.0])
def test_alpha_must_be_finite_and_nonnegative(alpha):
    with pytest.raises(ValueError, match=rf"'alpha' parameter of MDCT .* Got {alpha} instead"):
        MDCT(8, window="kbd", alpha=alpha).fit(np.zeros((1, 10)))


def test_3d_input_is_refused_as_images():
    with pytest.raises(ValueError, match=r"2-D array .* shape \(2, 16, 3\).* gray images"):
        MDCT(8).fit(np.zeros((2, 16, 3)))
    mdct = MDCT(8).fit(np.zeros((2, 16)))
    with pytest.raises(ValueError, match=r"shape \(2, 16, 1\)"):
        mdct.transform(np.zeros((2, 16, 1)))


def test_other_signal_length_and_bad_coefficients_are_refused():
    mdct = MDCT(8).fit(np.zeros((2, 16)))
    with pytest.raises(ValueError, match="X has 17 features, but MDCT is expecting 16"):
        mdct.transform(np.zeros((2, 17)))
    with pytest.raises(ValueError, match=r"MDCT.inverse_transform expects .* \(n_samples, 20\)"):
        mdct.inverse_transform(np.zeros((2, 21)))


@pytest.mark.parametrize(
    ("kwargs", "msg"),
    [
        ({"n_bins": 0, "sample_rate": 8000}, "n_bins must be an int >= 1; got n_bins=0"),
        ({"n_bins": 2.5, "sample_rate": 8000}, "n_bins must be an int >= 1; got n_bins=2.5"),
        ({"n_bins": 8, "sample_rate": -1}, "sample_rate must be a positive .* sample_rate=-1"),
        ({"n_bins": 8, "sample_rate": "8k"}, "sample_rate=.8k."),
        ({"n_bins": 8, "sample_rate": 8000, "scale": "mel"}, "'bark' or 'celt'; got scale='mel'"),
    ],
)
def test_band_edges_errors(kwargs, msg):
    with pytest.raises(ValueError, match=msg):
        band_edges(**kwargs)


@pytest.mark.parametrize(
    ("steps", "edges", "msg"),
    [
        ([1.0], [1, 4], r"edges must be increasing .* got edges=\[1, 4\]"),
        ([1.0, 2.0], [0, 3, 3], r"edges must be increasing .* got edges=\[0, 3, 3\]"),
        ([1.0], [0.0, 4.0], r"edges must be increasing integer"),
        ([1.0, 2.0], [0, 4], r"one step per band, shape \(1,\); got shape \(2,\)"),
        ([0.0], [0, 4], r"finite and positive; got \[0.0\]"),
    ],
)
def test_band_steps_errors(steps, edges, msg):
    with pytest.raises(ValueError, match=msg):
        band_steps(steps, edges)
