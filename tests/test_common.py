"""scikit-learn's estimator checks on every public skcompress estimator."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skcompress.utils import all_estimators
from tests.conftest import estimator_instances

# Checks that an estimator is known to fail, each with its reason:
# {estimator class name: {check name: reason}}. Empty: none fails.
EXPECTED_FAILED_CHECKS = {}


def test_discovery_finds_estimators():
    names = [name for name, _ in all_estimators()]
    assert {"BlockDCT", "PerceptualQuantizer"} <= set(names)


@parametrize_with_checks(
    estimator_instances(),
    expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS.get(type(est).__name__, {}),
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
