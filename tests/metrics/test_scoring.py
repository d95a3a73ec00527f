"""Rate-aware scorers in GridSearchCV: bits per sample beside accuracy, and a Lagrangian; any
scoring scikit-learn takes; sample weights through metadata routing."""

import pickle

import numpy as np
import pytest
import sklearn
from sklearn.base import clone
from sklearn.exceptions import UnsetMetadataPassedError
from sklearn.metrics import accuracy_score, f1_score, get_scorer, make_scorer
from sklearn.metrics._scorer import _BaseScorer
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_validate
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


@pytest.mark.parametrize(
    ("scoring", "names"),
    [
        ("accuracy", ["accuracy"]),
        (["accuracy", "f1_macro"], ["accuracy", "f1_macro"]),
        (("f1_macro", "accuracy"), ["f1_macro", "accuracy"]),
        ({"balanced_accuracy", "accuracy"}, ["accuracy", "balanced_accuracy"]),
        ({"acc": "accuracy", "f1": make_scorer(f1_score, average="macro")}, ["acc", "f1"]),
        (make_scorer(f1_score, average="macro"), ["score"]),
    ],
)
def test_rate_scoring_takes_what_scikit_learn_scoring_takes(scoring, names, digits):
    X, y = digits
    scorers = rate_scoring(scoring, rate="estimate")
    assert list(scorers) == [*names, "neg_bits_per_sample"]
    scores = cross_validate(_pipe(), X[:200], y[:200], cv=2, scoring=scorers)
    for name in scorers:
        assert np.all(np.isfinite(scores[f"test_{name}"]))
    assert np.all(scores["test_neg_bits_per_sample"] < 0)


@pytest.mark.parametrize(
    ("scoring", "match"),
    [
        (["accuracy", "accuracy"], "names a metric twice"),
        (["accuracy", 3], "must hold the names of scikit-learn scorers"),
        ([], "at least one metric"),
        ({"accuracy": 3}, "must map names"),
        (3, "scoring must be a str, a callable"),
        ("no_such_metric", "not a valid scoring value"),
        ({"neg_bits_per_sample": "accuracy"}, "already has a metric named 'neg_bits_per_sample'"),
    ],
)
def test_rate_scoring_refuses_bad_scoring(scoring, match):
    with pytest.raises(ValueError, match=match):
        rate_scoring(scoring)


def test_rate_scorers_are_scikit_learn_scorers_without_routing(digits):
    X, y = digits
    pipe = _pipe().fit(X[:300], y[:300])
    for scorer in (make_rate_scorer(), make_lagrangian_scorer(1e-3)):
        assert isinstance(scorer, _BaseScorer)
        with pytest.raises(RuntimeError, match="enable_metadata_routing=True"):
            scorer.set_score_request(sample_weight=True)
    # sample_weight passed by hand weighs the mean; ones change nothing
    scorer = make_rate_scorer(rate="estimate")
    assert scorer(pipe, X[300:], sample_weight=np.ones(300)) == pytest.approx(
        scorer(pipe, X[300:])
    )


def _weights(y):
    return np.where(y < 5, 1.0, 3.0)


def _sample_weight_request(scorer):
    return scorer.get_metadata_routing().score.requests.get("sample_weight", "absent")


def test_estimated_rate_weighs_samples_exactly(digits):
    X, y = digits
    pipe = _pipe().fit(X[:300], y[:300])
    held, labels = X[300:], y[300:]
    w = _weights(labels)
    light, heavy = held[w == 1], held[w == 3]
    by_hand = (
        len(light) * bits_per_sample(pipe, light) + 3 * len(heavy) * bits_per_sample(pipe, heavy)
    ) / w.sum()
    scorer = make_rate_scorer(rate="estimate")
    assert scorer(pipe, held, labels, sample_weight=w) == pytest.approx(-by_hand)


def test_coded_rate_weighs_each_bitstream(digits):
    X, y = digits
    pipe = _pipe().fit(X[:300], y[:300])
    held = X[300:400]
    even, odd = np.arange(0, 100, 2), np.arange(1, 100, 2)
    lengths = np.empty(100)
    lengths[even] = [8 * len(s) for s in Codec(pipe).fit(held[odd]).compress(held[even])]
    lengths[odd] = [8 * len(s) for s in Codec(pipe).fit(held[even]).compress(held[odd])]
    w = np.linspace(0.5, 2.0, 100)
    assert coded_bits(pipe, held, sample_weight=w) == pytest.approx(np.average(lengths, weights=w))
    with pytest.raises(ValueError, match="sample_weight must be 100 finite numbers"):
        coded_bits(pipe, held, sample_weight=w[:10])


@pytest.mark.parametrize("rate", ["estimate", "coded"])
def test_metadata_routing_weighs_accuracy_and_bits(rate, digits):
    X, y = digits
    X, y = X[:200], y[:200]
    w = _weights(y)
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = _pipe()
        pipe[-1].set_fit_request(sample_weight=True)
        weighted = {
            name: scorer.set_score_request(sample_weight=True)
            for name, scorer in rate_scoring(rate=rate).items()
        }
        weighted["lagrangian"] = make_lagrangian_scorer(1e-3, rate=rate).set_score_request(
            sample_weight=True
        )
        scores = cross_validate(pipe, X, y, cv=2, scoring=weighted, params={"sample_weight": w})
        unweighted = {
            name: scorer.set_score_request(sample_weight=False)
            for name, scorer in rate_scoring(rate=rate).items()
        }
        plain = cross_validate(pipe, X, y, cv=2, scoring=unweighted, params={"sample_weight": w})
        # Unrequested, sample_weight is refused or ignored as scikit-learn's own scorers do
        # (refused since 1.7; 1.6 has scorers request nothing by default).
        default = _sample_weight_request(get_scorer("accuracy"))
        for scorer in (make_rate_scorer(rate=rate), make_lagrangian_scorer(0.1, rate=rate)):
            assert _sample_weight_request(scorer) == default
        if default is None:
            with pytest.raises(UnsetMetadataPassedError, match="make_rate_scorer"):
                cross_validate(
                    pipe,
                    X,
                    y,
                    cv=2,
                    scoring={"neg_bits_per_sample": make_rate_scorer(rate=rate)},
                    params={"sample_weight": w},
                )
    # By hand, fold by fold: the same splits, fits and weights.
    for fold, (train, test) in enumerate(StratifiedKFold(2).split(X, y)):
        fitted = clone(_pipe()).fit(X[train], y[train], gaussiannb__sample_weight=w[train])
        accuracy = accuracy_score(y[test], fitted.predict(X[test]), sample_weight=w[test])
        bits = -make_rate_scorer(rate=rate)(fitted, X[test], sample_weight=w[test])
        assert scores["test_accuracy"][fold] == pytest.approx(accuracy)
        assert scores["test_neg_bits_per_sample"][fold] == pytest.approx(-bits)
        assert scores["test_lagrangian"][fold] == pytest.approx(accuracy - 1e-3 * bits)
        assert plain["test_neg_bits_per_sample"][fold] == pytest.approx(
            make_rate_scorer(rate=rate)(fitted, X[test])
        )
    assert not np.allclose(scores["test_neg_bits_per_sample"], plain["test_neg_bits_per_sample"])


def test_scorers_with_requests_pickle(digits):
    X, y = digits
    pipe = _pipe().fit(X[:300], y[:300])
    with sklearn.config_context(enable_metadata_routing=True):
        scorer = make_rate_scorer(rate="estimate").set_score_request(sample_weight=True)
        loaded = pickle.loads(pickle.dumps(scorer))
        assert loaded.get_metadata_routing().score.requests == {"sample_weight": True}
    w = _weights(y[300:])
    assert loaded(pipe, X[300:], sample_weight=w) == scorer(pipe, X[300:], sample_weight=w)
