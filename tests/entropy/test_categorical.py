"""The categorical entropy model: ideal code lengths of a known source."""

import numpy as np
import pytest

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
