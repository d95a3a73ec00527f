"""PyramidVQ with bands: one pulse count per band, exact codewords, bits per band."""

import math

import numpy as np
import pytest

from skcompress import MDCT
from skcompress.quantization import PyramidVQ, pvq_decode, pvq_encode, pvq_search, pvq_size
from skcompress.quantization._pyramid_vq import _pulses_for

EDGES = [0, 4, 8, 16, 32]


@pytest.fixture
def X():
    return np.random.default_rng(0).normal(size=(12, 32))


def test_every_band_is_coded_with_its_own_pulses_exactly(X):
    pulses = [9, 5, 3, 2]
    pvq = PyramidVQ(bands=EDGES, pulses=pulses, dynamic_range=300).fit(X)
    S = pvq.transform(X).reshape(len(X), 4, 2)
    for b, (lo, hi) in enumerate(zip(EDGES[:-1], EDGES[1:], strict=True)):
        Y = pvq_search(X[:, lo:hi], pulses[b])
        assert np.array_equal(S[:, b, 1], pvq_encode(Y, pulses[b]))
        assert np.array_equal(pvq_decode(S[:, b, 1], hi - lo, pulses[b]), Y)
    back = pvq.inverse_transform(pvq.transform(X))
    for lo, hi in zip(EDGES[:-1], EDGES[1:], strict=True):
        # the shape is the codeword's direction; the norm the quantized gain (1.5 dB steps)
        Y = pvq_search(X[:, lo:hi], pulses[EDGES.index(lo)])
        unit = Y / np.linalg.norm(Y, axis=1, keepdims=True)
        norms = np.linalg.norm(back[:, lo:hi], axis=1, keepdims=True)
        assert np.allclose(back[:, lo:hi] / norms, unit)
        ratio_db = 20 * np.log10(norms[:, 0] / np.linalg.norm(X[:, lo:hi], axis=1))
        assert np.all(np.abs(ratio_db) <= 0.75 + 1e-9)


def test_bits_per_band_are_the_codebook_sizes(X):
    pulses = [9, 5, 3, 2]
    pvq = PyramidVQ(bands=EDGES, pulses=pulses).fit(X)
    widths = np.diff(EDGES)
    sizes = [pvq_size(int(n), k) for n, k in zip(widths, pulses, strict=True)]
    assert pvq.codebook_size_ == sizes
    assert np.allclose(pvq.bits_per_codeword_, [math.log2(v) for v in sizes])
    assert np.array_equal(pvq.vector_size_, widths) and np.array_equal(pvq.pulses_, pulses)
    gains = pvq.transform(X)[:, 0::2].astype(np.int64)
    expected = pvq.entropy_model_.code_lengths(gains).sum(axis=1)
    expected += ((gains > 0) * pvq.bits_per_codeword_).sum(axis=1)
    assert pvq.bits_per_sample(X) == pytest.approx(expected.mean())


def test_bits_per_vector_per_band_picks_each_band_s_pulses(X):
    budgets = [12.0, 20.0, 30.0, 40.0]
    pvq = PyramidVQ(bands=EDGES, bits_per_vector=budgets).fit(X)
    widths = np.diff(EDGES)
    expected = [_pulses_for(int(n), b) for n, b in zip(widths, budgets, strict=True)]
    assert pvq.pulses_.tolist() == expected
    assert np.all(pvq.bits_per_codeword_ <= np.array(budgets))


def test_equal_bands_and_one_pulse_count_match_vector_size(X):
    old = PyramidVQ(vector_size=8, pulses=6).fit(X)
    new = PyramidVQ(bands=[0, 8, 16, 24, 32], pulses=6).fit(X)
    assert np.array_equal(old.transform(X), new.transform(X))
    assert np.allclose(
        old.inverse_transform(old.transform(X)), new.inverse_transform(new.transform(X))
    )
    assert new.bits_per_sample(X) == pytest.approx(old.bits_per_sample(X))


def test_a_large_band_codebook_gives_exact_python_int_indices(X):
    pvq = PyramidVQ(bands=[0, 4, 32], pulses=[2, 100]).fit(X)
    assert pvq.codebook_size_[1] > 2**63
    S = pvq.transform(X)
    assert S.dtype == object
    Y = pvq_search(X[:, 4:], 100)
    assert list(S[:, 3]) == list(pvq_encode(Y, 100))
    back = pvq.inverse_transform(S)
    assert np.all(np.isfinite(back)) and back.shape == X.shape


def test_bands_over_mdct_frames_round_trip_through_the_transform():
    rng = np.random.default_rng(1)
    audio = rng.normal(size=(4, 320))
    mdct = MDCT(frame_length=64).fit(audio)
    G = mdct.transform(audio)
    pvq = PyramidVQ(bands=[0, 4, 8, 16, 32], pulses=[12, 10, 8, 6]).fit(G)
    assert pvq.n_vectors_ == mdct.n_frames_ * 4
    decoded = mdct.inverse_transform(pvq.inverse_transform(pvq.transform(G)))
    snr = 10 * np.log10(np.sum(audio**2) / np.sum((audio - decoded) ** 2))
    assert decoded.shape == audio.shape and snr > 5


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"bands": [1, 8, 32]}, "bands must be increasing integer edges from 0"),
        ({"bands": [0, 8, 30]}, "bands must be increasing integer edges from 0"),
        ({"bands": [0, 8, 8, 32]}, "bands must be increasing integer edges from 0"),
        ({"bands": [0.0, 8.5, 32.0]}, "bands must be increasing integer edges from 0"),
        ({"bands": [0, 8, 32], "vector_size": 8}, "set vector_size=None"),
        ({"bands": [0, 8, 32], "pulses": [1, 2, 3]}, "pulses must be one value or 2 integers"),
        ({"bands": [0, 8, 32], "pulses": [1, -2]}, "pulses must be one value or 2 integers"),
        ({"bands": [0, 8, 32], "bits_per_vector": [8.0]}, "bits_per_vector must be one value"),
        ({"pulses": [1, 2]}, "pulses is a sequence .* give the band edges with bands="),
        ({"bits_per_vector": [8.0, 9.0]}, "bits_per_vector is a sequence"),
        ({"bands": [0, 2, 32], "pulses": [1, 70000]}, "needs a codebook table"),
    ],
)
def test_bad_band_settings_are_refused(X, params, match):
    with pytest.raises(ValueError, match=match):
        PyramidVQ(**params).fit(X)


def test_forged_band_indices_are_refused(X):
    pvq = PyramidVQ(bands=EDGES, pulses=[9, 5, 3, 2]).fit(X)
    S = np.array(pvq.transform(X))
    S[0, 3] = pvq.codebook_size_[1]  # band 1's index, one past its codebook
    with pytest.raises(ValueError, match=r"codeword indices of band 1 must lie in \[0, "):
        pvq.inverse_transform(S)
    S = np.array(pvq.transform(X))
    S[0, 0] = -1
    with pytest.raises(ValueError, match="gain symbols must lie in"):
        pvq.inverse_transform(S)
