"""GainShapeModel: PyramidVQ symbols, int64 and Python-int codeword indices."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skcompress.entropy import GainShapeModel
from skcompress.quantization import PyramidVQ


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 12),
    st.integers(0, 90),
    st.integers(1, 4),
    st.floats(0.5, 12.0),
    st.integers(0, 2**32 - 1),
)
def test_round_trip_of_pyramid_vq_symbols(vector_size, pulses, n_vectors, gain_step, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((12, vector_size * n_vectors)) * rng.uniform(0.01, 100, (12, 1))
    X[0] = 0  # a silent sample
    pvq = PyramidVQ(vector_size=vector_size, pulses=pulses, gain_step=gain_step).fit(X[:8])
    symbols = pvq.transform(X)
    model = GainShapeModel(pvq.codebook_size_).fit(symbols[:8])
    back = model.decompress(model.compress(symbols))
    assert back.dtype == symbols.dtype and back.shape == symbols.shape
    assert all(
        a == b for a, b in zip(back.ravel().tolist(), symbols.ravel().tolist(), strict=True)
    )


def test_codewords_cost_log2_of_the_codebook():
    rng = np.random.default_rng(0)
    pvq = PyramidVQ(vector_size=16, pulses=100).fit(rng.standard_normal((200, 64)))
    symbols = pvq.transform(rng.standard_normal((100, 64)))
    assert symbols.dtype == object and pvq.codebook_size_ > 2**75
    model = GainShapeModel(pvq.codebook_size_).fit(symbols[:50])
    strings = model.compress(symbols[50:])
    payload = np.array([8 * len(s) for s in strings]) - model.header_bits(symbols.shape[1:])
    ideal = model.code_lengths(symbols[50:])
    assert np.all(ideal >= 4 * math.log2(pvq.codebook_size_))
    assert abs(payload.sum() / ideal.sum() - 1) < 0.02


def test_bad_symbols_are_refused():
    model = GainShapeModel(10).fit(np.array([[1, 3, 0, 0]]))
    with pytest.raises(ValueError, match=r"indices must lie in \[0, 10\)"):
        model.compress(np.array([[1, 10, 0, 0]]))
    with pytest.raises(ValueError, match="silent vectors"):
        model.compress(np.array([[0, 4, 0, 0]]))
    with pytest.raises(ValueError, match="expects 4 symbols per sample"):
        model.compress(np.array([[1, 3]]))
    with pytest.raises(ValueError, match="codebook_size must be an int"):
        GainShapeModel(2.5).fit(np.array([[1, 0]]))


def test_a_codebook_size_per_band_codes_a_banded_pyramid_vq_exactly():
    from skcompress import MDCT
    from skcompress.codecs import Codec
    from skcompress.quantization import PyramidVQ

    rng = np.random.default_rng(3)
    X = rng.normal(size=(60, 48))
    # a band with one codeword (K = 0), one of int64 sizes and one beyond int64
    pvq = PyramidVQ(bands=[0, 4, 16, 48], pulses=[6, 0, 400]).fit(X)
    S = pvq.transform(X)
    assert pvq.codebook_size_[1] == 1 and pvq.codebook_size_[2] > 2**63
    model = GainShapeModel(pvq.codebook_size_).fit(S[:40])
    strings = model.compress(S[40:])
    assert np.all(model.decompress(strings) == S[40:])
    # payloads within a few bytes of the estimate: gains plus log2 V_b per coded band
    gains = np.asarray(S[40:, 0::2], dtype=np.int64)
    assert np.all(gains[:, 1] > 0)
    per_band = np.log2([float(v) for v in pvq.codebook_size_])
    expected = model.gain_model_.code_lengths(gains).sum(axis=1)
    expected += ((gains > 0) * np.resize(per_band, gains.shape[1])).sum(axis=1)
    np.testing.assert_allclose(model.code_lengths(S[40:]), expected)
    header = model.header_bits(S[40:].shape[1:])
    bits = 8 * np.array([len(s) for s in strings])
    assert np.all(bits - header <= model.code_lengths(S[40:]) + 16)
    with pytest.raises(ValueError, match=r"\[0, V_b\)"):
        bad = S[40:].copy()
        bad[0, 1] = pvq.codebook_size_[0]
        model.compress(bad)
    with pytest.raises(ValueError, match="multiple of 3 vectors"):
        GainShapeModel(pvq.codebook_size_).fit(S[:, :4])
    with pytest.raises(ValueError, match="codebook_size must be an int"):
        GainShapeModel([4, 0]).fit(S[:, :4])
    # Codec picks the model for a banded PyramidVQ after an MDCT
    signals = rng.normal(size=(20, 800))
    mdct = MDCT(frame_length=64).fit(signals)
    banded = PyramidVQ(bands=[0, 4, 8, 16, 32], pulses=[8, 6, 4, 2]).fit(mdct.transform(signals))
    codec = Codec([mdct, banded]).fit(signals)
    assert isinstance(codec.model_, GainShapeModel)
    decoded = codec.decompress(codec.compress(signals[:3]))
    direct = mdct.inverse_transform(
        banded.inverse_transform(banded.transform(mdct.transform(signals[:3])))
    )
    np.testing.assert_array_equal(decoded, direct)
