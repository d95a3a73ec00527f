"""The categorical entropy model: ideal code lengths of a known source, and real coding."""

import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skcompress.entropy import CategoricalEntropyModel


def test_code_length_approaches_entropy_of_the_source():
    rng = np.random.default_rng(0)
    p = np.array([0.5, 0.25, 0.125, 0.125])
    symbols = rng.choice(4, size=(200_000, 1), p=p) - 1
    model = CategoricalEntropyModel().fit(symbols)
    assert -(p * np.log2(p)).sum() == 1.75
    freq = np.bincount(symbols[:, 0] + 1) / len(symbols)
    empirical = -(freq * np.log2(freq)).sum()
    assert empirical == pytest.approx(1.75, abs=0.01)
    # on its own training data the smoothed model costs the empirical entropy
    assert model.code_lengths(symbols).mean() == pytest.approx(empirical, abs=1e-4)


def test_positions_have_their_own_distribution():
    S = np.array([[0, 5]] * 99 + [[1, 5]])
    bits = CategoricalEntropyModel().fit(S).code_lengths(S)
    assert bits[0, 1] < 0.02 and bits[0, 0] < bits[-1, 0]


def test_unseen_symbols_are_escaped_not_rejected():
    model = CategoricalEntropyModel().fit(np.zeros((10, 2), dtype=int))
    bits = model.code_lengths(np.array([[0, 1000], [-7, 0]]))
    assert np.all(np.isfinite(bits))
    # escape, Elias-gamma of |s| + 1 = 1001 (19 bits) and a sign bit
    assert bits[0, 1] == pytest.approx(model.escape_bits_[1] + 19 + 1)
    assert bits[0, 1] > bits[1, 0] > bits[0, 0]


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="non-empty 2-D integer array"):
        CategoricalEntropyModel().fit(np.zeros((3, 2)))
    model = CategoricalEntropyModel().fit(np.zeros((3, 2), dtype=int))
    with pytest.raises(ValueError, match=r"symbols of shape \(n, 2\); got \(3, 3\)"):
        model.code_lengths(np.zeros((3, 3), dtype=int))


# -- real coding -------------------------------------------------------------


@settings(max_examples=80, deadline=None)
@given(
    st.integers(1, 6),
    st.integers(1, 5),
    st.integers(1, 4),
    st.sampled_from([np.int8, np.int32, np.int64, np.uint8, np.uint16]),
    st.integers(0, 2**32 - 1),
)
def test_round_trip_is_exact(n_positions, n_obs, n_streams, dtype, seed):
    rng = np.random.default_rng(seed)
    info = np.iinfo(dtype)
    train = rng.geometric(0.4, size=(20, n_positions)) * rng.choice([-1, 1], (20, n_positions))
    train = np.clip(train, info.min, info.max).astype(dtype)
    model = CategoricalEntropyModel().fit(train)
    rows = rng.geometric(0.3, size=(n_streams, n_obs * n_positions))
    rows = rows * rng.choice([-1, 1], rows.shape)
    rows[:, 0] = info.max  # escaped: far outside the fitted range
    rows = np.clip(rows, info.min, info.max).astype(dtype)
    back = model.decompress(model.compress(rows))
    assert back.dtype == np.int64
    np.testing.assert_array_equal(back, rows)


def test_extreme_int64_values_are_escaped_not_rejected():
    model = CategoricalEntropyModel().fit(np.zeros((5, 3), dtype=np.int64))
    big = np.iinfo(np.int64)
    rows = np.array([[big.min, big.max, 0], [-1, 1, 2**40]])
    np.testing.assert_array_equal(model.decompress(model.compress(rows)), rows)
    assert np.all(np.isfinite(model.code_lengths(rows)))


def test_actual_size_is_within_2_percent_of_the_estimate(mnist_blocks):
    B = mnist_blocks.reshape(len(mnist_blocks), -1)
    model = CategoricalEntropyModel().fit(B[:500].reshape(-1, 64))  # pooled over blocks
    strings = model.compress(B[500:])
    header = model.header_bits(B.shape[1:])
    assert header == 8 * (1 + 2 + 4)  # format byte, varint 1024, CRC-32
    assert model.header_bits(B.shape[1]) == header  # an int n stands for (n,)
    payload = np.array([8 * len(s) for s in strings]) - header
    ideal = model.code_lengths(B[500:].reshape(-1, 64)).reshape(len(strings), -1).sum(axis=1)
    assert abs(payload.sum() / ideal.sum() - 1) < 0.02
    # every stream: the ideal length plus a few bits of termination
    assert np.all(payload <= ideal + 24)


def test_streams_of_another_model_or_length_are_refused():
    a = CategoricalEntropyModel().fit(np.zeros((4, 2), dtype=int))
    b = CategoricalEntropyModel().fit(np.ones((4, 2), dtype=int))
    strings = a.compress(np.zeros((2, 4), dtype=int))
    with pytest.raises(ValueError, match="checksum mismatch"):
        b.decompress(strings)
    mixed = strings[:1] + a.compress(np.zeros((1, 2), dtype=int))
    with pytest.raises(ValueError, match="different shapes"):
        a.decompress(mixed)
    with pytest.raises(ValueError, match=r"shape \(n_streams, k \* 2\)"):
        a.compress(np.zeros((2, 3), dtype=int))


def test_pickle_keeps_the_model_and_drops_derived_tables():
    model = CategoricalEntropyModel().fit(np.arange(12).reshape(6, 2))
    strings = model.compress(np.arange(8).reshape(2, 4))
    loaded = pickle.loads(pickle.dumps(model))
    assert loaded._tables is None
    np.testing.assert_array_equal(loaded.decompress(strings), np.arange(8).reshape(2, 4))
