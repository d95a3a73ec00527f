"""Shared fixtures: every public estimator, instantiated with its test parameters."""

import pytest

from skcompress.utils import all_estimators


def estimator_instances():
    """One instance per test-parameter set of every public estimator."""
    instances = []
    for _, cls in all_estimators():
        for params in getattr(cls, "_get_test_params", lambda: [{}])():
            instances.append(cls(**params))
    return instances


@pytest.fixture(params=estimator_instances(), ids=repr)
def estimator(request):
    return request.param
