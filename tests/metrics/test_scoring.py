"""Rate-aware scorers in GridSearchCV: bits per sample beside accuracy, and a Lagrangian."""

import pickle

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline

from skcompress import BlockDCT, PerceptualQuantizer
from skcompress.codecs import Codec
from skcompress.datasets import load_mnist
from skcompress.metrics import (
    bits_per_sample,
    coded_bits,
    make_lagrangian_scorer,
    make_rate_scorer,
    rate_scoring,
)

QUALITIES = [5, 30, 90]


@pytest.fixture(scope="module")
def digits():
    X, y = load_mnist(return_X_y=True)
    return X[:600], y[:600]


def _pipe(quality=50):
    return make_pipeline(
        BlockDCT(n_coefficients=10),
        PerceptualQuantizer(quality=quality, n_coefficients=10),
        GaussianNB(),
    )


def test_grid_search_reports_accuracy_and_bits(digits):
    X, y = digits
    search = GridSearchCV(
        _pipe(),
        {"perceptualquantizer__quality": QUALITIES},
        cv=2,
        scoring=rate_scoring(),
        refit="accuracy",
    ).fit(X, y)
    bits = -search.cv_results_["mean_test_neg_bits_per_sample"]
    assert np.all(np.diff(bits) > 0)  # higher quality, more bits
    assert np.all(np.isfinite(search.cv_results_["mean_test_accuracy"]))
    assert search.best_params_["perceptualquantizer__quality"] in QUALITIES


def test_lagrangian_trades_accuracy_for_bits(digits):
    X, y = digits
    chosen = []
    for lmbda in (0.0, 1e-2):
        search = GridSearchCV(
            _pipe(),
            {"perceptualquantizer__quality": QUALITIES},
            cv=2,
            scoring=make_lagrangian_scorer(lmbda),
        ).fit(X, y)
        chosen.append(search.best_params_["perceptualquantizer__quality"])
    assert chosen[1] == 5  # 0.01 accuracy per bit: the cheapest setting wins
    assert chosen[1] <= chosen[0]


def test_coded_bits_cross_fit_and_are_real_bytes(digits):
    X, _ = digits
    pipe = _pipe().fit(X[:300], digits[1][:300])
    held = X[300:]
    even, odd = np.arange(0, 300, 2), np.arange(1, 300, 2)
    by_hand = (
        Codec(pipe).fit(held[odd]).rate(held[even])["bits_per_sample"] * len(even)
        + Codec(pipe).fit(held[even]).rate(held[odd])["bits_per_sample"] * len(odd)
    ) / 300
    assert coded_bits(pipe, held) == pytest.approx(by_hand)
    assert make_rate_scorer()(pipe, held) == pytest.approx(-by_hand)
    assert coded_bits(pipe, held, unit="value") == pytest.approx(by_hand / 784)


def test_estimate_rate_is_the_quantizers(digits):
    X, y = digits
    pipe = _pipe().fit(X[:300], y[:300])
    scorer = make_rate_scorer(rate="estimate")
    assert scorer(pipe, X[300:]) == -bits_per_sample(pipe, X[300:])
    assert make_rate_scorer(rate="estimate", unit="value")(pipe, X[300:]) == pytest.approx(
        -bits_per_sample(pipe, X[300:]) / 784
    )


def test_scorers_pickle_for_parallel_searches(digits):
    X, y = digits
    pipe = _pipe().fit(X[:300], y[:300])
    for scorer in (make_rate_scorer(), make_lagrangian_scorer(1e-3)):
        loaded = pickle.loads(pickle.dumps(scorer))
        assert loaded(pipe, X[300:400], y[300:400]) == scorer(pipe, X[300:400], y[300:400])
        assert "lmbda" in repr(scorer) or "model='auto'" in repr(scorer)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: make_rate_scorer(unit="pixel"), "unit must be one of"),
        (lambda: make_rate_scorer(rate="guess"), "rate must be one of"),
        (lambda: make_rate_scorer(n_splits=1), "n_splits must be an int >= 2"),
        (lambda: make_lagrangian_scorer(-1.0), "lmbda must be a number >= 0"),
    ],
)
def test_bad_parameters_are_refused(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_coded_bits_needs_enough_samples(digits):
    X, y = digits
    pipe = _pipe().fit(X[:100], y[:100])
    with pytest.raises(ValueError, match="at least n_splits=2 samples"):
        coded_bits(pipe, X[:1])
