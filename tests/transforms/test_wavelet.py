"""WaveletTransform: PyWavelets equality, JPEG 2000 lifting, round trips, steps, errors."""

import numpy as np
import pytest
import pywt
from hypothesis import given, settings
from hypothesis import strategies as st

from skcompress import PerceptualQuantizer, WaveletTransform
from skcompress.transforms import JPEG2000_WAVELETS

# JPEG 2000 Part 1, Annex F: lifting coefficients of the irreversible 9/7.
ALPHA, BETA, GAMMA, DELTA, K = -1.586134342, -0.052980118, 0.882911076, 0.443506852, 1.230174105
LIFT_97 = ([(ALPHA, 1), (BETA, 0), (GAMMA, 1), (DELTA, 0)], K)
LIFT_53 = ([(-0.5, 1), (0.25, 0)], 1.0)


def _whole_sample_symmetric(i, n):
    period = 2 * (n - 1)
    i = np.mod(i, period)
    return np.where(i >= n, period - i, i)


def _periodic(i, n):
    return np.mod(i, n)


def _lift(x, lifting, extend):
    """One level of JPEG 2000 lifting along the last axis: (low, high)."""
    steps, k = lifting
    y = np.array(x, dtype=np.float64)
    n = y.shape[-1]
    for coef, parity in steps:
        i = np.arange(parity, n, 2)
        y[..., i] += coef * (y[..., extend(i - 1, n)] + y[..., extend(i + 1, n)])
    return y[..., 0::2] / k, y[..., 1::2] * k


def _lift_2d(x, lifting, extend):
    """LL, HL, LH, HH of one level; HL is horizontally high-pass."""
    low, high = _lift(x, lifting, extend)  # along rows (horizontal)
    ll, lh = (np.swapaxes(b, -1, -2) for b in _lift(np.swapaxes(low, -1, -2), lifting, extend))
    hl, hh = (np.swapaxes(b, -1, -2) for b in _lift(np.swapaxes(high, -1, -2), lifting, extend))
    return ll, hl, lh, hh


def _subbands(wt, Xt):
    """Dict name -> (n, *shape) array of a gray or 1-D output."""
    out, start = {}, 0
    for name, shape in zip(wt.subbands_, wt.subband_shapes_, strict=True):
        size = int(np.prod(shape))
        out[name] = Xt[:, start : start + size].reshape(len(Xt), *shape)
        start += size
    return out


# -- PyWavelets equality -----------------------------------------------------


@pytest.mark.parametrize("mode", ["reflect", "periodization", "symmetric"])
@pytest.mark.parametrize("wavelet", ["cdf97", "haar", "db4"])
def test_gray_output_is_wavedec2_in_jpeg2000_subband_order(wavelet, mode):
    X = np.random.default_rng(0).normal(size=(3, 45, 38))
    wt = WaveletTransform(wavelet, level=2, mode=mode).fit(X)
    cA, (cH2, cV2, cD2), (cH1, cV1, cD1) = pywt.wavedec2(
        X, JPEG2000_WAVELETS.get(wavelet, wavelet), mode=mode, level=2
    )
    expected = np.concatenate(
        [b.reshape(3, -1) for b in (cA, cV2, cH2, cD2, cV1, cH1, cD1)], axis=1
    )
    np.testing.assert_array_equal(wt.transform(X), expected)


def test_channels_are_transformed_independently_channel_major():
    X = np.random.default_rng(1).normal(size=(2, 20, 24, 3)).astype(np.float32)
    wt = WaveletTransform("cdf53", level=2).fit(X)
    Xt = wt.transform(X)
    per_channel = [WaveletTransform("cdf53", level=2).fit_transform(X[..., c]) for c in range(3)]
    np.testing.assert_array_equal(Xt, np.concatenate(per_channel, axis=1))
    assert Xt.dtype == np.float32


def test_1d_output_is_wavedec():
    X = np.random.default_rng(2).normal(size=(4, 101))
    wt = WaveletTransform("db4", level=3).fit(X)
    expected = np.concatenate(pywt.wavedec(X, "db4", mode="reflect", level=3), axis=1)
    np.testing.assert_array_equal(wt.transform(X), expected)
    assert wt.subbands_ == ("A3", "D3", "D2", "D1")


def test_level_none_is_pywavelets_max_level():
    X = np.zeros((1, 300, 70))
    for wavelet in ("cdf97", "cdf53", "haar", "db4"):
        expected = pywt.dwtn_max_level((300, 70), JPEG2000_WAVELETS.get(wavelet, wavelet))
        assert WaveletTransform(wavelet).fit(X).level_ == expected


# -- JPEG 2000 ---------------------------------------------------------------


@pytest.mark.parametrize(("wavelet", "lifting"), [("cdf97", LIFT_97), ("cdf53", LIFT_53)])
@pytest.mark.parametrize("shape", [(32, 40), (33, 27)])
def test_first_level_reflect_is_jpeg2000_lifting_up_to_band_gains(wavelet, lifting, shape):
    # Whole-sample symmetric extension is PyWavelets' "reflect"; PyWavelets keeps
    # (taps - 2) / 4 redundant coefficients in front of JPEG 2000's.
    X = np.random.default_rng(3).uniform(0, 255, (2, *shape))
    wt = WaveletTransform(wavelet, level=1, mode="reflect").fit(X)
    ours = _subbands(wt, wt.transform(X))
    offset = (pywt.Wavelet(wt.wavelet_).dec_len - 2) // 4
    gains = {"L1_LL": 2.0, "L1_HL": -1.0, "L1_LH": -1.0, "L1_HH": 0.5}
    for (name, gain), ref in zip(
        gains.items(), _lift_2d(X, lifting, _whole_sample_symmetric), strict=True
    ):
        h, w = ref.shape[1:]
        band = ours[name][:, offset : offset + h, offset : offset + w]
        np.testing.assert_allclose(band, gain * ref, rtol=1e-7, atol=1e-7 * 255)


@pytest.mark.parametrize(("wavelet", "lifting"), [("cdf97", LIFT_97), ("cdf53", LIFT_53)])
def test_periodization_is_jpeg2000_lifting_at_every_level(wavelet, lifting):
    # Same sampling phase as JPEG 2000 at every level (periodic extension).
    X = np.random.default_rng(4).uniform(0, 255, (2, 128, 96))
    wt = WaveletTransform(wavelet, level=3, mode="periodization").fit(X)
    ours = _subbands(wt, wt.transform(X))
    ll = X
    for j in (1, 2, 3):
        ll, hl, lh, hh = _lift_2d(ll, lifting, _periodic)
        gains = {"HL": -(2.0 ** (j - 1)), "LH": -(2.0 ** (j - 1)), "HH": 2.0 ** (j - 2)}
        for band, ref in zip(("HL", "LH", "HH"), (hl, lh, hh), strict=True):
            np.testing.assert_allclose(
                ours[f"L{j}_{band}"], gains[band] * ref, rtol=1e-7, atol=1e-5
            )
    np.testing.assert_allclose(ours["L3_LL"], 8 * ll, rtol=1e-7)


def test_cdf53_is_not_the_integer_reversible_transform():
    x = np.random.default_rng(5).integers(0, 256, (1, 64)).astype(np.float64)
    wt = WaveletTransform("cdf53", level=1).fit(x)
    ours = _subbands(wt, wt.transform(x))
    odd, even = x[:, 1::2], x[:, 0::2]
    right = np.concatenate([even[:, 1:], even[:, -1:]], axis=1)  # x[N] mirrors to x[N - 2]
    high = odd - np.floor((even + right) / 2)
    left = np.concatenate([high[:, :1], high[:, :-1]], axis=1)  # y[-1] mirrors to y[1]
    low = even + np.floor((left + high + 2) / 4)
    low_ours = ours["A1"][:, 1 : 1 + 32] / np.sqrt(2)
    high_ours = -ours["D1"][:, 1 : 1 + 32] * np.sqrt(2)
    assert not np.allclose(low_ours, low)
    assert np.abs(high_ours - high).max() <= 0.5 + 1e-9
    assert np.abs(low_ours - low).max() <= 0.5 + 2 * 0.5 / 4 + 1e-9  # rounding of both steps


# -- Round trips -------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    wavelet=st.sampled_from(["cdf97", "cdf53", "haar", "db4", "sym3", "coif1"]),
    mode=st.sampled_from(["reflect", "periodization", "symmetric", "zero", "smooth"]),
    kind=st.sampled_from(["1d", "gray", "color"]),
    dtype=st.sampled_from([np.float32, np.float64]),
    data=st.data(),
)
def test_perfect_reconstruction(wavelet, mode, kind, dtype, data):
    taps = pywt.Wavelet(JPEG2000_WAVELETS.get(wavelet, wavelet)).dec_len
    size = st.integers(2 * taps - 2, 4 * taps + 7)  # pywt.dwt_max_level >= 1
    n = data.draw(st.integers(1, 3))
    shape = {
        "1d": (n, data.draw(size)),
        "gray": (n, data.draw(size), data.draw(size)),
        "color": (n, data.draw(size), data.draw(size), data.draw(st.integers(1, 3))),
    }[kind]
    deepest = min(pywt.dwt_max_level(s, taps) for s in shape[1 : 2 if kind == "1d" else 3])
    level = data.draw(st.one_of(st.none(), st.integers(1, deepest)))
    X = np.random.default_rng(data.draw(st.integers(0, 99))).uniform(-100, 100, shape)
    X = X.astype(dtype)
    wt = WaveletTransform(wavelet, level=level, mode=mode).fit(X)
    Xt = wt.transform(X)
    assert Xt.dtype == dtype and Xt.shape == (n, len(wt.get_feature_names_out()))
    back = wt.inverse_transform(Xt)
    assert back.dtype == dtype and back.shape == X.shape
    # |X| <= 100: float32 to 3e-6 relative (a dozen ulps), float64 to 1e-10 relative
    # (PyWavelets' "smooth" extension extrapolates and amplifies rounding a little)
    np.testing.assert_allclose(back, X, atol=3e-4 if dtype == np.float32 else 1e-8)


def test_integers_become_float64_and_flattened_rows_are_accepted():
    X = np.random.default_rng(6).integers(0, 256, (3, 28 * 28)).astype(np.uint8)
    wt = WaveletTransform("haar", signal_shape=(28, 28)).fit(X)
    Xt = wt.transform(X)
    assert Xt.dtype == np.float64 and wt.level_ == 4
    np.testing.assert_allclose(wt.inverse_transform(Xt), X.reshape(3, 28, 28), atol=1e-9)
    np.testing.assert_array_equal(Xt, WaveletTransform("haar").fit_transform(X.reshape(3, 28, 28)))


# -- Names -------------------------------------------------------------------


def test_feature_names_say_level_subband_and_position():
    X = np.zeros((1, 4, 6))
    names = WaveletTransform("haar", level=1, mode="periodization").fit(X).get_feature_names_out()
    assert names[:3].tolist() == ["L1_LL_r0_c0", "L1_LL_r0_c1", "L1_LL_r0_c2"]
    assert names[6:8].tolist() == ["L1_HL_r0_c0", "L1_HL_r0_c1"]
    assert names[-1] == "L1_HH_r1_c2" and len(names) == 24
    one_d = WaveletTransform("haar", level=2).fit(np.zeros((1, 8))).get_feature_names_out()
    assert one_d.tolist() == ["A2_0", "A2_1", "D2_0", "D2_1"] + [f"D1_{i}" for i in range(4)]
    color = WaveletTransform("haar", level=1).fit(np.zeros((1, 4, 4, 2))).get_feature_names_out()
    assert color[0] == "ch0_L1_LL_r0_c0" and color[16] == "ch1_L1_LL_r0_c0"
    assert color[-1] == "ch1_L1_HH_r1_c1"


def test_hl_holds_vertical_edges():
    # Stripes that vary along the width: only horizontal high-pass energy.
    X = np.tile([1.0, -1.0], (1, 8, 4))
    wt = WaveletTransform("haar", level=1).fit(X)
    Xt = wt.transform(X)[0]
    names = wt.get_feature_names_out()[np.abs(Xt) > 1e-12]
    assert len(names) and all(name.startswith("L1_HL") for name in names)


def test_pandas_output_keeps_names():
    pytest.importorskip("pandas")
    X = np.random.default_rng(7).normal(size=(3, 16))
    out = WaveletTransform("haar", level=2).set_output(transform="pandas").fit_transform(X)
    assert out.columns[0] == "A2_0" and out.columns[-1] == "D1_7"


# -- Step map ----------------------------------------------------------------


def _impulse_norm(wavelet, level, band):
    """Norm of the reconstruction of one interior coefficient, measured."""
    coeffs = pywt.wavedec(np.zeros(1024), wavelet, mode="periodization", level=level)
    index = 0 if band == "A" else 1
    coeffs[index][len(coeffs[index]) // 2] = 1.0
    return np.linalg.norm(pywt.waverec(coeffs, wavelet, mode="periodization"))


@pytest.mark.parametrize("wavelet", ["cdf97", "cdf53", "db4", "sym5"])
def test_subband_norms_are_the_synthesis_basis_norms(wavelet):
    wt = WaveletTransform(wavelet).fit(np.zeros((1, 256, 256)))
    name = wt.wavelet_
    norms = dict(zip(wt.subbands_, wt.subband_norms_, strict=True))
    for j in range(1, wt.level_ + 1):
        low = _impulse_norm(name, j, "A")
        high = _impulse_norm(name, j, "D")
        assert norms[f"L{j}_HL"] == pytest.approx(low * high, rel=1e-10)
        assert norms[f"L{j}_LH"] == pytest.approx(low * high, rel=1e-10)
        assert norms[f"L{j}_HH"] == pytest.approx(high * high, rel=1e-10)
    assert norms[f"L{wt.level_}_LL"] == pytest.approx(low * low, rel=1e-10)
    if pywt.Wavelet(name).orthogonal:
        np.testing.assert_allclose(wt.subband_norms_, 1.0, rtol=1e-10)


# OpenJPEG's tables of the same norms (opj_dwt_norms, opj_dwt_norms_real), in
# JPEG 2000's normalisation, rows LL (from level 0), HL (= LH), HH (from level 1).
OPENJPEG_53 = (
    [1.000, 1.500, 2.750, 5.375, 10.68, 21.34],
    [1.038, 1.592, 2.919, 5.703, 11.33],
    [0.7186, 0.9218, 1.586, 3.043, 6.019],
)
OPENJPEG_97 = (
    [1.000, 1.965, 4.177, 8.403, 16.90, 33.84],
    [2.022, 3.989, 8.355, 17.04, 34.27],
    [2.080, 3.865, 8.307, 17.18, 34.71],
)


def test_subband_norms_agree_with_openjpeg_tables():
    X = np.zeros((1, 512, 512))
    for wavelet, (ll, hl, hh), gains in [
        # 5/3 tables use JPEG 2000's band gains (low x sqrt2, high x 1/sqrt2 per
        # level and axis); OpenJPEG's 9/7 scales its high band by 2 more.
        ("cdf53", OPENJPEG_53, lambda j: (2.0**j, 2.0 ** (j - 1), 2.0 ** (j - 2))),
        ("cdf97", OPENJPEG_97, lambda j: (2.0**j,) * 3),
    ]:
        for j in range(1, 6):
            wt = WaveletTransform(wavelet, level=j).fit(X)
            norms = dict(zip(wt.subbands_, wt.subband_norms_, strict=True))
            g_ll, g_hl, g_hh = gains(j)
            # OpenJPEG's 9/7 entries are rounded from its own constants (within
            # 0.5%), except LL at level 2, which is 1.3% off the filters' value.
            rel = 1e-3 if wavelet == "cdf53" else 5e-3
            if not (wavelet == "cdf97" and j == 2):
                assert g_ll * norms[f"L{j}_LL"] == pytest.approx(ll[j], rel=rel)
            assert g_hl * norms[f"L{j}_HL"] == pytest.approx(hl[j - 1], rel=rel)
            assert g_hh * norms[f"L{j}_HH"] == pytest.approx(hh[j - 1], rel=rel)


def test_step_map_divides_the_base_step_by_each_subband_norm():
    X = np.random.default_rng(8).uniform(0, 255, (2, 40, 40))
    wt = WaveletTransform("cdf97", level=2).fit(X)
    steps = wt.step_map(4.0)
    sizes = [int(np.prod(s)) for s in wt.subband_shapes_]
    np.testing.assert_allclose(steps, np.repeat(4.0 / wt.subband_norms_, sizes))
    assert steps.shape == (wt.transform(X).shape[1],)


def test_step_map_is_a_perceptual_quantizer_table_tiling_once():
    X = np.random.default_rng(9).uniform(0, 255, (3, 37, 41, 3)).astype(np.float32)
    wt = WaveletTransform("cdf97", level=2).fit(X)
    Xt = wt.transform(X)
    steps = wt.step_map([2.0, 6.0, 6.0])
    q = PerceptualQuantizer(table=steps, deadzone=0.5).fit(Xt)
    np.testing.assert_array_equal(q.steps_, steps)
    per_channel = steps.reshape(3, -1)
    np.testing.assert_allclose(per_channel[1:] / per_channel[0], 3.0)
    back = q.inverse_transform(q.transform(Xt))
    assert np.all(np.abs(back - Xt) <= steps * (1 + 1e-6))
    assert wt.inverse_transform(back).shape == X.shape


@pytest.mark.parametrize("base", [0.0, -1.0, np.nan, [1.0, 2.0], "fine"])
def test_bad_base_steps_are_refused(base):
    wt = WaveletTransform("haar").fit(np.zeros((1, 8, 8, 3)))
    with pytest.raises(
        ValueError,
        match=r"step_map: base_step must be a positive number or one per channel, "
        r"shape \(3,\); got",
    ):
        wt.step_map(base)


# -- Errors ------------------------------------------------------------------


def test_unknown_wavelet_is_refused_with_a_hint():
    with pytest.raises(
        ValueError,
        match=r"wavelet='cdf99' is not a wavelet that PyWavelets knows; expected a discrete "
        r"wavelet: a JPEG 2000 alias \('cdf97', 'cdf53'\) or a name from "
        r"pywt.wavelist\(kind='discrete'\)",
    ):
        WaveletTransform("cdf99").fit(np.zeros((1, 32)))


@pytest.mark.parametrize("wavelet", ["morl", "mexh", "cmor1.5-1.0"])
def test_continuous_wavelets_are_refused(wavelet):
    with pytest.raises(
        ValueError, match=rf"wavelet='{wavelet}' is a continuous wavelet, which has no discrete"
    ):
        WaveletTransform(wavelet).fit(np.zeros((1, 32)))


def test_too_deep_level_names_value_and_maximum():
    with pytest.raises(
        ValueError,
        match=r"signals of shape \(40, 64\) \(n_features=2560\) are too short for level=3 of "
        r"wavelet='cdf97' \(filter length 10\): the maximum level is 2",
    ):
        WaveletTransform(level=3).fit(np.zeros((1, 40, 64)))


def test_signal_too_short_for_one_level():
    with pytest.raises(
        ValueError,
        match=r"signals of shape \(16, 16\) \(n_features=256\) are too short for one level of "
        r"wavelet='cdf97' \(filter length 10\): the maximum level is 0",
    ):
        WaveletTransform().fit(np.zeros((1, 16, 16)))


@pytest.mark.parametrize("layout", ["blocks", "channels_first"])
def test_only_the_flat_layout_is_offered(layout):
    with pytest.raises(
        ValueError,
        match=rf"'layout' parameter of WaveletTransform must be a str among \{{'flat'\}}. "
        rf"Got '{layout}'",
    ):
        WaveletTransform(layout=layout).fit(np.zeros((1, 64)))


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError, match=r"'mode' parameter of WaveletTransform .* Got 'wrap'"):
        WaveletTransform(mode="wrap").fit(np.zeros((1, 64)))


def test_inverse_of_wrong_shape_is_refused():
    wt = WaveletTransform("haar", level=1).fit(np.zeros((2, 8)))
    with pytest.raises(
        ValueError,
        match=r"inverse_transform expects coefficients of shape \(n_samples, 8\); got an "
        r"array of shape \(2, 9\)",
    ):
        wt.inverse_transform(np.zeros((2, 9)))


def test_transform_of_other_signal_shape_is_refused():
    wt = WaveletTransform("haar").fit(np.zeros((2, 8, 8)))
    with pytest.raises(ValueError, match=r"fitted on signals of shape \(8, 8\)"):
        wt.transform(np.zeros((2, 8, 9)))
