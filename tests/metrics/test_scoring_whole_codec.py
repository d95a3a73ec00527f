"""Rate scorers on a pipeline whose coding step is a whole codec (JPEGCodec): its own bytes."""

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_validate
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skcompress import JPEGCodec
from skcompress.datasets import load_mnist
from skcompress.metrics import coded_bits, make_lagrangian_scorer, make_rate_scorer, rate_scoring


@pytest.fixture(scope="module")
def digits():
    X, y = load_mnist(return_X_y=True)
    return X[:300], y[:300]


@pytest.mark.parametrize("entropy", ["jpeg", "context"])
def test_bits_are_the_bytes_the_fitted_codec_writes(digits, entropy):
    X, y = digits
    pipe = make_pipeline(JPEGCodec(50, n_coefficients=10, entropy=entropy), GaussianNB())
    pipe.fit(X[:200], y[:200])
    files = pipe[0].compress(X[200:])
    each = np.array([8.0 * len(f) for f in files])
    rate = pipe[0].rate(X[200:])
    assert coded_bits(pipe, X[200:]) == rate["bits_per_sample"] == each.mean()
    assert coded_bits(pipe, X[200:], unit="value") == pytest.approx(rate["bits_per_value"])
    weights = np.arange(100.0)
    assert coded_bits(pipe, X[200:], sample_weight=weights) == pytest.approx(
        np.average(each, weights=weights)
    )
    # the estimate has nothing else to read: the same bytes
    for rate_kind in ("coded", "estimate"):
        scorer = make_rate_scorer(rate=rate_kind)
        assert scorer(pipe, X[200:]) == pytest.approx(-each.mean())
    # no cross-fitting: the entropy model is the one fitted with the pipeline
    assert coded_bits(pipe, X[200:201]) == each[0]
    assert make_lagrangian_scorer(1e-3)(pipe, X[200:], y[200:]) == pytest.approx(
        pipe.score(X[200:], y[200:]) - 1e-3 * each.mean()
    )


def test_steps_before_the_codec_and_flattened_colour_rows():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (6, 16, 24, 3)).astype(np.uint8)
    rows = images.reshape(6, -1)
    pipe = make_pipeline(
        FunctionTransformer(lambda X: 255 - X),
        JPEGCodec(50, signal_shape=(16, 24, 3)),
    ).fit(rows)
    files = JPEGCodec(50).fit(images).compress(255 - images)
    bits = np.mean([8 * len(f) for f in files])
    assert coded_bits(pipe, rows) == bits
    assert coded_bits(pipe, rows, unit="value") == bits / (16 * 24)  # pixels, not values


def test_grid_search_over_quality_and_n_coefficients(digits):
    X, y = digits
    pipe = make_pipeline(JPEGCodec(entropy="context"), GaussianNB())
    grid = {"jpegcodec__quality": [10, 90], "jpegcodec__n_coefficients": [6, 16]}
    folds = StratifiedKFold(2, shuffle=True, random_state=0)
    search = GridSearchCV(pipe, grid, cv=folds, scoring=rate_scoring(), refit="accuracy")
    results = search.fit(X, y).cv_results_
    bits = -results["mean_test_neg_bits_per_sample"]
    settings = (results["param_jpegcodec__n_coefficients"], results["param_jpegcodec__quality"])
    order = list(zip(*settings, strict=True))
    assert order == [(6, 10), (6, 90), (16, 10), (16, 90)]
    assert bits[0] < bits[1] < bits[3] and bits[0] < bits[2] < bits[3]
    # each held-out fold's streams, from the codec fitted on the other fold
    scores = cross_validate(
        pipe.set_params(jpegcodec__quality=10, jpegcodec__n_coefficients=6),
        X,
        y,
        cv=folds,
        scoring=rate_scoring(unit="value"),
        return_estimator=True,
        return_indices=True,
    )
    for fitted, test, bits_per_pixel in zip(
        scores["estimator"],
        scores["indices"]["test"],
        -scores["test_neg_bits_per_value"],
        strict=True,
    ):
        assert bits_per_pixel == pytest.approx(fitted[0].rate(X[test])["bits_per_pixel"])
    assert -scores["test_neg_bits_per_value"].mean() * 784 == pytest.approx(bits[0])
