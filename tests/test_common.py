"""scikit-learn's estimator checks on every public skcompress estimator, and our own."""

import re
from numbers import Integral
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils._param_validation import Interval
from sklearn.utils.estimator_checks import parametrize_with_checks
from sklearn.utils.validation import check_is_fitted

from skcompress.utils import all_estimators
from tests.conftest import estimator_instances, fit_data

# Checks that an estimator is known to fail, each with its reason:
# {estimator class name: {check name: reason}}. Empty: none fails.
EXPECTED_FAILED_CHECKS = {}

API_REFERENCE = Path(__file__).parents[1] / "docs" / "api.rst"
# Estimators whose input is not an array of numbers (files as bytes).
NOT_SIGNALS = {"JPEGCoefficients"}


def test_discovery_finds_estimators():
    names = [name for name, _ in all_estimators()]
    assert {"BlockDCT", "PerceptualQuantizer"} <= set(names)


@parametrize_with_checks(
    estimator_instances(),
    expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS.get(type(est).__name__, {}),
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


# -- public test parameters and documentation links ---------------------------


@pytest.mark.parametrize("cls", [cls for _, cls in all_estimators()], ids=lambda c: c.__name__)
def test_test_params_are_public_and_valid(cls):
    params = cls.get_test_params()
    assert isinstance(params, list) and params
    assert all(isinstance(p, dict) for p in params)
    for p in params:
        cls(**p)._validate_params()
    assert not hasattr(cls, "_get_test_params")


def _documented_pages():
    """Names of the pages that docs/api.rst's autosummary generates, e.g. skcompress.BlockDCT."""
    text = API_REFERENCE.read_text()
    module = re.search(r"^\.\. currentmodule:: (\S+)", text, re.M).group(1)
    entries = re.findall(r"^   ([A-Za-z_][\w.]*)$", text, re.M)
    return {f"{module}.{entry}" for entry in entries}


@pytest.mark.parametrize("cls", [cls for _, cls in all_estimators()], ids=lambda c: c.__name__)
def test_html_repr_links_to_the_api_page(cls):
    estimator = cls(**cls.get_test_params()[0])
    link = estimator._get_doc_link()
    page = re.fullmatch(
        r"https://skcompress\.readthedocs\.io/en/latest/generated/(.+)\.html", link
    )
    assert page, link
    assert f'href="{link}"' in estimator._repr_html_()
    if API_REFERENCE.exists():
        assert page.group(1) in _documented_pages(), f"{page.group(1)} is not in docs/api.rst"


# -- bad input gets a clear error from every estimator ----------------------------


def _signal_estimators():
    return [e for e in estimator_instances() if type(e).__name__ not in NOT_SIGNALS]


def _X_y(estimator):
    data = fit_data(estimator)
    return data if isinstance(data, tuple) else (data, None)


@pytest.mark.parametrize("estimator", _signal_estimators(), ids=repr)
def test_numeric_strings_are_refused(estimator):
    X, y = _X_y(estimator)
    with pytest.raises(ValueError, match="needs numeric input; got X of dtype <U"):
        clone(estimator).fit(np.asarray(X).astype(str), y)
    fitted = clone(estimator).fit(X, y)
    method = getattr(fitted, "transform", None) or fitted.predict
    with pytest.raises(ValueError, match="needs numeric input; got X of dtype object"):
        method(np.asarray(X).astype(str).astype(object))


@pytest.mark.parametrize("estimator", _signal_estimators(), ids=repr)
def test_empty_signals_are_refused_and_leave_the_estimator_unfitted(estimator):
    X, y = _X_y(estimator)
    empty = np.zeros((len(X), *([0] * (np.ndim(X) - 1))), dtype=np.float32)
    fresh = clone(estimator)
    with pytest.raises(ValueError, match=r"0 feature\(s\)|at least one value each"):
        fresh.fit(empty, y)
    with pytest.raises(ValueError, match="not fitted"):
        check_is_fitted(fresh)


def _layout_estimators():
    """Estimators whose ``layout`` can give more than 2 dimensions, in such a layout."""
    found = []
    for estimator in _signal_estimators():
        allowed = estimator._parameter_constraints.get("layout", [])
        options = set().union(*(getattr(c, "options", set()) for c in allowed))
        for layout in sorted(options - {"flat", "signals"}):
            if hasattr(estimator, "set_output") and hasattr(estimator, "transform"):
                found.append(clone(estimator).set_params(layout=layout))
    return found


@pytest.mark.parametrize("estimator", _layout_estimators(), ids=repr)
def test_pandas_output_of_a_structured_layout_is_refused_clearly(estimator):
    pytest.importorskip("pandas")
    X, y = _X_y(estimator)
    try:
        fitted = clone(estimator).fit(X, y)
    except ValueError:  # PerceptualQuantizer told that images are channels-first coefficients
        pytest.skip("this layout does not read this input")
    if np.ndim(fitted.transform(X)) == 2:
        pytest.skip("this layout of this input is 2-D")
    fitted.set_output(transform="pandas")
    with pytest.raises(ValueError, match=r"set_output\(transform='pandas'\) needs 2-D output"):
        fitted.transform(X)
    with pytest.raises(ValueError, match=f"layout='{fitted.layout}' gives"):
        clone(fitted).fit_transform(X, y)


# -- size parameters are bounded ------------------------------------------------


def _bounded_parameters():
    for name, cls in all_estimators():
        for param, constraints in cls._parameter_constraints.items():
            for c in constraints if isinstance(constraints, list) else []:
                if isinstance(c, Interval) and c.right is not None and c.type is Integral:
                    if c.right >= 16:  # a size bound, not a range such as quality in [1, 100]
                        yield pytest.param(cls, param, c.right, id=f"{name}-{param}")


@pytest.mark.parametrize(("cls", "param", "bound"), list(_bounded_parameters()))
def test_size_parameters_refuse_values_past_their_bound(cls, param, bound):
    estimator = cls(**{**cls.get_test_params()[0], param: bound + 1})
    with pytest.raises(ValueError, match=rf"'{param}' parameter of {cls.__name__} must be"):
        estimator._validate_params()
