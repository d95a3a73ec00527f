"""PsychoacousticModel: ISO 11172-3 model 1 masking thresholds on MDCT frames."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

from skcompress.transforms._mdct import MDCT
from skcompress.transforms._psychoacoustic import (
    _SFB_LONG,
    PsychoacousticModel,
    _global_threshold_db,
    _tables,
    _terhardt_db,
)


def _tone(hz, rate, length=4096, amplitude=0.5):
    t = np.arange(length) / rate
    return (amplitude * np.sin(2 * np.pi * hz * t))[None]


def _db(x):
    return 10 * np.log10(np.asarray(x))


@parametrize_with_checks([PsychoacousticModel(**p) for p in PsychoacousticModel.get_test_params()])
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize("rate, hz", [(8000, 1000.0), (44100, 3000.0)])
def test_pure_tone_gives_a_tonal_masker_and_a_threshold_peak_at_its_frequency(rate, hz):
    X = _tone(hz, rate)
    model = PsychoacousticModel(sample_rate=rate, frame_length=256, bands="bins").fit(X)
    tonal, _ = model.maskers(X)
    mid = model.n_frames_ // 2
    found = np.flatnonzero(np.isfinite(tonal[0, mid]))
    expected = round(hz * model.fft_length_ / rate)
    assert expected in found.tolist()
    T = np.asarray(model.transform(X)).reshape(model.n_frames_, model.n_bins_)[mid]
    masking = T / model.absolute_threshold_  # the threshold over the one in quiet
    assert abs(int(masking.argmax()) - hz * 2 * model.n_bins_ / rate) <= 1
    assert _db(masking.max()) > 40


def test_threshold_at_a_tonal_masker_is_the_standards_masking_index():
    # One tone: at its bin the global threshold is P_TM - 0.275 z - 6.025 dB
    # (the other maskers and the threshold in quiet lie far below).
    rate, N = 44100, 1024
    t = _tables(float(rate), N, 512)
    k = 70
    power = np.zeros((1, N // 2 + 1))
    power[0, k - 1 : k + 2] = [0.25, 1.0, 0.25]  # a Hann main lobe at 96 dB
    db = _global_threshold_db(power, t)
    p_tm = 96 + _db(1.5)
    assert db[0, k] == pytest.approx(p_tm - 0.275 * t.z[k] - 6.025, abs=0.05)
    # the spreading function above the masker, 0 <= dz < 1: -17 dB per Bark
    up = k + 3
    dz = t.z[up] - t.z[k]
    assert 0 < dz < 1
    assert db[0, up] == pytest.approx(db[0, k] - 17 * dz, abs=0.1)


def test_silence_gives_the_absolute_threshold_never_nan():
    X = np.zeros((2, 2048))
    model = PsychoacousticModel(sample_rate=44100, frame_length=256, bands="bins").fit(X)
    T = np.asarray(model.transform(X)).reshape(2, model.n_frames_, -1)
    assert np.all(np.isfinite(T)) and np.all(T > 0)
    np.testing.assert_allclose(T, np.broadcast_to(model.absolute_threshold_, T.shape))
    # Terhardt's formula, on the 96 dB scale, at the MDCT bin centres (away from DC)
    N = model.fft_length_
    hz = (np.arange(model.n_bins_) + 0.5) * 44100 / 256
    expected = _terhardt_db(hz) - 96 + _db(N / 6)
    np.testing.assert_allclose(_db(T[0, 0])[4:], expected[4:], atol=0.5)


def test_louder_input_raises_the_threshold_by_the_same_db():
    X = _tone(1000.0, 8000, amplitude=0.01)
    model = PsychoacousticModel(sample_rate=8000, frame_length=256, bands="bins").fit(X)
    quiet = np.asarray(model.transform(X)).reshape(model.n_frames_, -1)
    loud = np.asarray(model.transform(X * 10)).reshape(model.n_frames_, -1)
    mid = model.n_frames_ // 2
    peak = 32  # the MDCT bin of 1 kHz
    assert _db(loud[mid, peak] / quiet[mid, peak]) == pytest.approx(20.0, abs=0.1)
    # up to a Bark above the tone the spreading slope is level-independent too
    assert _db(loud[mid, peak + 2] / quiet[mid, peak + 2]) == pytest.approx(20.0, abs=0.5)


def test_frames_align_with_mdct_and_mdct_output_round_trips():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3, 1000)).astype(np.float32) * 0.1
    mdct = MDCT(frame_length=128).fit(X)
    model = PsychoacousticModel(sample_rate=16000, frame_length=128, output="mdct").fit(X)
    assert model.n_frames_ == mdct.n_frames_ and model.n_bins_ == mdct.n_bins_
    Y = model.transform(X)
    assert Y.dtype == np.float32
    cells = np.asarray(Y).reshape(3, model.n_frames_, model.n_bins_ + model.n_bands_)
    np.testing.assert_allclose(
        cells[..., : model.n_bins_].reshape(3, -1), np.asarray(mdct.transform(X)), atol=1e-6
    )
    only = PsychoacousticModel(sample_rate=16000, frame_length=128).fit(X).transform(X)
    np.testing.assert_allclose(cells[..., model.n_bins_ :].reshape(3, -1), only, rtol=1e-5)
    np.testing.assert_allclose(model.inverse_transform(Y), X, atol=1e-5)
    s = Y.structure
    assert s.kind == "masking" and s.grid == (model.n_frames_,)
    assert dict(s.settings)["masking_bands"] == model.n_bands_
    assert dict(s.settings)["band_edges"] == tuple(model.band_edges_)
    assert model.get_feature_names_out().shape == (Y.shape[1],)


def test_kbd_window_reaches_the_mdct():
    X = np.random.default_rng(4).standard_normal((2, 800))
    model = PsychoacousticModel(sample_rate=8000, output="mdct", window="kbd").fit(X)
    coefs = np.asarray(model.transform(X)).reshape(2, model.n_frames_, -1)[..., : model.n_bins_]
    kbd = MDCT(window="kbd").fit(X).transform(X)
    np.testing.assert_allclose(coefs.reshape(2, -1), kbd)
    np.testing.assert_allclose(model.inverse_transform(model.transform(X)), X, atol=1e-9)


@pytest.mark.parametrize("layout", ["blocks", "channels_first"])
def test_layouts(layout):
    X = np.random.default_rng(1).standard_normal((2, 600))
    flat = PsychoacousticModel(sample_rate=8000).fit_transform(X)
    model = PsychoacousticModel(sample_rate=8000, layout=layout).fit(X)
    Y = model.transform(X)
    F, B = model.n_frames_, model.n_bands_
    blocks = np.asarray(Y) if layout == "blocks" else np.moveaxis(np.asarray(Y), 1, -1)
    assert blocks.shape == (2, F, B)
    np.testing.assert_allclose(blocks.reshape(2, -1), flat)


def test_scale_factor_bands_are_the_standards_at_576_lines():
    for rate in (32000, 44100, 48000):
        X = np.zeros((1, 1152))
        model = PsychoacousticModel(sample_rate=rate, frame_length=1152).fit(X)
        assert model.band_edges_.tolist() == list(_SFB_LONG[rate])
    # 256-sample frames at 8 kHz: MPEG-2.5's table mapped by frequency, empty bands merged
    model = PsychoacousticModel(sample_rate=8000, frame_length=256).fit(np.zeros((1, 512)))
    edges = model.band_edges_
    assert edges[0] == 0 and edges[-1] == 128 and np.all(np.diff(edges) > 0)


def test_mean_reduction_is_at_least_the_minimum():
    X = np.random.default_rng(2).standard_normal((2, 2000)) * 0.1
    low = PsychoacousticModel(sample_rate=8000).fit_transform(X)
    mean = PsychoacousticModel(sample_rate=8000, reduce="mean").fit_transform(X)
    assert np.all(mean >= low * (1 - 1e-9))


@pytest.mark.parametrize(
    "name, X",
    [
        ("clipping", np.clip(_tone(440.0, 8000, 2000, amplitude=4.0), -1, 1)),
        ("dc offset", 0.8 + _tone(440.0, 8000, 2000, amplitude=0.1)),
        ("full-scale noise", np.random.default_rng(3).uniform(-1, 1, (2, 2000))),
        ("tiny", np.full((1, 2000), 1e-30)),
    ],
)
def test_hard_signals_give_finite_positive_thresholds(name, X):
    T = PsychoacousticModel(sample_rate=8000).fit_transform(X)
    assert np.all(np.isfinite(T)) and np.all(T > 0), name


def test_bad_input_raises_clear_errors():
    with pytest.raises(ValueError, match="NaN|infinity"):
        PsychoacousticModel(sample_rate=8000).fit(np.full((1, 512), np.nan))
    model = PsychoacousticModel(sample_rate=8000).fit(np.zeros((1, 512)))
    bad = np.zeros((1, 512))
    bad[0, 3] = np.inf
    with pytest.raises(ValueError, match="NaN|infinity"):
        model.transform(bad)
    with pytest.raises(ValueError, match="frame_length"):
        PsychoacousticModel(sample_rate=8000, frame_length=2).fit(np.zeros((1, 1)))
    with pytest.raises(ValueError, match="bands='bark'"):
        PsychoacousticModel(sample_rate=10000).fit(np.zeros((1, 512)))
    bark = PsychoacousticModel(sample_rate=10000, bands="bark").fit(np.zeros((1, 512)))
    assert bark.n_bands_ > 10
    with pytest.raises(ValueError, match="sample_rate"):
        PsychoacousticModel(sample_rate=0).fit(np.zeros((1, 512)))
    assert not hasattr(model, "inverse_transform")  # thresholds do not determine a signal
    with pytest.raises(ValueError, match="1-D signals"):
        model.fit(MDCT().fit_transform(np.zeros((1, 512))))
    with pytest.raises(ValueError, match="2-D array"):
        clone(model).fit(np.zeros((1, 512, 2)))


def test_full_scale_sets_the_96_db_point():
    # the same sound as int16 samples with full_scale=32768 and as floats in [-1, 1]
    X = _tone(700.0, 8000, 2048, amplitude=0.25)
    floats = PsychoacousticModel(sample_rate=8000).fit_transform(X)
    ints = PsychoacousticModel(sample_rate=8000, full_scale=32768).fit_transform(X * 32768)
    np.testing.assert_allclose(ints, floats * 32768**2, rtol=1e-9)
