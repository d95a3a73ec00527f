"""PerceptualQuantizer(table="masking"): per-frame steps from PsychoacousticModel thresholds."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.pipeline import make_pipeline

from skcompress.quantization._perceptual import PerceptualQuantizer
from skcompress.transforms._mdct import MDCT
from skcompress.transforms._psychoacoustic import PsychoacousticModel

RATE = 8000


def _signals(n=4, length=2000, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(length) / RATE
    tones = np.sin(2 * np.pi * rng.uniform(200, 3000, (n, 1)) * t)
    return 0.3 * tones + 0.02 * rng.standard_normal((n, length))


def _split(model, values):
    M, B = model.n_bins_, model.n_bands_
    cells = np.asarray(values, dtype=np.float64).reshape(len(values), model.n_frames_, M + B)
    return cells[..., :M], cells[..., M:]


def test_steps_put_the_noise_under_the_mask():
    X = _signals()
    model = PsychoacousticModel(sample_rate=RATE, output="mdct").fit(X)
    Y = model.transform(X)
    q = PerceptualQuantizer(table="masking", noise_to_mask=0.01).fit(Y)
    B = q.transform(Y)
    assert B.dtype == np.int32 and B.shape == Y.shape
    assert B.structure.quantized
    coefs, allowed = _split(model, Y)
    decoded, thresholds = _split(model, q.inverse_transform(B))
    # the exponents stand for steps 2 ** (s / 4) <= sqrt(12 * 0.01 * T) < 2 ** (1/4) of them
    assert np.all(thresholds <= allowed * (1 + 1e-9))
    assert np.all(thresholds > allowed / np.sqrt(2) * (1 - 1e-9))
    # uniform noise step**2 / 12 per coefficient: under noise_to_mask * T, band by band
    edges = model.band_edges_
    error = np.add.reduceat((decoded - coefs) ** 2, edges[:-1], axis=-1) / np.diff(edges)
    budget = 0.01 * allowed
    assert error.sum() <= budget.sum()
    # rounding errs by at most half a step: step**2 / 4, three times the uniform noise
    assert np.all(error <= 3 * budget)
    # the steps changed from frame to frame and band to band, and are decodable alone
    _, coded = _split(model, B)
    exponents = np.cumsum(coded, axis=-1)  # the first band's, then differences
    np.testing.assert_allclose(2 ** (exponents / 4), np.sqrt(12 * thresholds * 0.01))
    assert len(np.unique(exponents)) > 10


def test_pipeline_round_trip_and_noise_to_mask_trades_rate_for_noise():
    X = _signals(seed=1)
    rates, errors = [], []
    for ratio in (0.1, 1.0, 10.0):
        pipe = make_pipeline(
            PsychoacousticModel(sample_rate=RATE, output="mdct"),
            PerceptualQuantizer(table="masking", noise_to_mask=ratio),
        ).fit(X)
        B = pipe.transform(X)
        X_hat = pipe.inverse_transform(B)
        assert X_hat.shape == X.shape and np.all(np.isfinite(X_hat))
        rates.append(pipe[-1].bits_per_sample(pipe[0].transform(X)))
        errors.append(np.mean((X_hat - X) ** 2))
    assert rates[0] > rates[1] > rates[2]
    assert errors[0] < errors[1] < errors[2]
    # the signal-domain noise follows the allowed noise: 10x the ratio, about 10 dB more
    assert 6 < 10 * np.log10(errors[2] / errors[1]) < 14


@pytest.mark.parametrize("layout", ["blocks", "channels_first"])
def test_layouts_give_the_flat_symbols(layout):
    X = _signals(n=2)
    flat = make_pipeline(
        PsychoacousticModel(sample_rate=RATE, output="mdct"), PerceptualQuantizer(table="masking")
    ).fit_transform(X)
    model = PsychoacousticModel(sample_rate=RATE, output="mdct", layout=layout).fit(X)
    q = PerceptualQuantizer(table="masking").fit(model.transform(X))
    B = q.transform(model.transform(X))
    cells = np.asarray(B) if layout == "blocks" else np.moveaxis(np.asarray(B), 1, -1)
    np.testing.assert_array_equal(cells.reshape(2, -1), flat)
    np.testing.assert_allclose(model.inverse_transform(q.inverse_transform(B)).shape, X.shape)


def test_deadzone_and_silence():
    X = np.zeros((2, 1000))
    X[1] = _signals(n=1, length=1000)[0]
    model = PsychoacousticModel(sample_rate=RATE, output="mdct").fit(X)
    Y = model.transform(X)
    q = PerceptualQuantizer(table="masking", deadzone=0.375).fit(Y)
    B = q.transform(Y)
    coefs, _ = _split(model, B)
    assert not coefs[0].any()  # silence: every coefficient quantizes to 0
    X_hat = model.inverse_transform(q.inverse_transform(B))
    assert np.all(np.isfinite(X_hat)) and not X_hat[0].any()
    plain = PerceptualQuantizer(table="masking").fit(Y).transform(Y)
    assert np.abs(np.asarray(B)).sum() <= np.abs(np.asarray(plain)).sum()


def test_float32_in_float32_out():
    X = _signals(n=2).astype(np.float32)
    model = PsychoacousticModel(sample_rate=RATE, output="mdct").fit(X)
    Y = model.transform(X)
    q = PerceptualQuantizer(table="masking").fit(Y)
    assert q.inverse_transform(q.transform(Y)).dtype == np.float32
    assert np.all(q.steps_ == 1) and q.masking_edges_.tolist() == model.band_edges_.tolist()
    assert clone(q).fit(Y).transform(Y).tolist() == q.transform(Y).tolist()


def test_refusals_say_what_to_set():
    X = _signals(n=2)
    with pytest.raises(ValueError, match="PsychoacousticModel\\(output='mdct'\\)"):
        PerceptualQuantizer(table="masking").fit(np.zeros((2, 64)))
    with pytest.raises(ValueError, match="PsychoacousticModel\\(output='mdct'\\)"):
        PerceptualQuantizer(table="masking").fit(MDCT().fit_transform(X))
    Y = PsychoacousticModel(sample_rate=RATE, output="mdct").fit_transform(X)
    with pytest.raises(ValueError, match="table='masking'"):
        PerceptualQuantizer(table=0.5).fit(Y)
    thresholds = PsychoacousticModel(sample_rate=RATE).fit_transform(X)
    with pytest.raises(ValueError, match="output='mdct'"):
        PerceptualQuantizer(table="masking").fit(thresholds)
    with pytest.raises(ValueError, match="output='mdct'"):
        PerceptualQuantizer(table=0.5).fit(thresholds)
    q = PerceptualQuantizer(table="masking").fit(Y)
    with pytest.raises(ValueError, match="quantized|Put the quantizer"):
        PerceptualQuantizer(table="masking").fit(q.transform(Y))
    with pytest.raises(ValueError, match="noise_to_mask"):
        PerceptualQuantizer(table="masking", noise_to_mask=0).fit(Y)


def test_codec_writes_the_pipelines_symbols_as_bytes():
    from skcompress.codecs import Codec

    X = _signals(n=6, seed=3)
    pipe = make_pipeline(
        PsychoacousticModel(sample_rate=RATE, output="mdct"), PerceptualQuantizer(table="masking")
    ).fit(X)
    codec = Codec(pipe).fit(X)
    strings = codec.compress(X[:2])
    np.testing.assert_array_equal(codec.decompress_symbols(strings), pipe.transform(X[:2]))
    np.testing.assert_allclose(
        codec.decompress(strings), pipe.inverse_transform(pipe.transform(X[:2]))
    )
