"""Every fitted estimator survives pickle, clone and skops.io."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone

from tests.conftest import fit_data

skops_io = pytest.importorskip("skops.io")


def _fitted(estimator):
    data = fit_data(estimator)
    X, y = data if isinstance(data, tuple) else (data, None)
    return clone(estimator).fit(X, y), X


def _outputs(estimator, X):
    """What a fitted estimator computes: its transform, or its predictions."""
    if hasattr(estimator, "transform"):
        return estimator.transform(X)
    if hasattr(estimator, "predict_proba"):
        return estimator.predict_proba(X)
    return estimator.predict(X)


def test_pickle_round_trip(estimator):
    fitted, X = _fitted(estimator)
    loaded = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(_outputs(loaded, X), _outputs(fitted, X))


def test_clone_keeps_parameters(estimator):
    assert clone(estimator).get_params() == estimator.get_params()


def test_skops_round_trip_trusts_only_our_and_numpy_types(estimator):
    fitted, X = _fitted(estimator)
    blob = skops_io.dumps(fitted)
    untrusted = skops_io.get_untrusted_types(data=blob)
    assert all(t.startswith(("skcompress.", "numpy.")) for t in untrusted), untrusted
    loaded = skops_io.loads(blob, trusted=untrusted)
    np.testing.assert_array_equal(_outputs(loaded, X), _outputs(fitted, X))
    if hasattr(fitted, "inverse_transform"):
        np.testing.assert_array_equal(
            loaded.inverse_transform(loaded.transform(X)),
            fitted.inverse_transform(fitted.transform(X)),
        )
