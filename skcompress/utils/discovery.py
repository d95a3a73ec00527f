"""Find every public estimator of skcompress, as scikit-learn's ``all_estimators``."""

import inspect
import pkgutil
from importlib import import_module

from sklearn.base import BaseEstimator

import skcompress

# Sub-packages that need optional dependencies (torch, skorch) are skipped
# when those are missing rather than failing discovery.
_OPTIONAL = ("skcompress.nets", "skcompress.learned")


def all_estimators():
    """List every public estimator class of skcompress.

    Walks the package, imports every module and keeps the classes
    that subclass :class:`~sklearn.base.BaseEstimator`, are not abstract, do
    not start with ``_`` and are defined in skcompress.

    Returns
    -------
    estimators : list of (name, class)
        Sorted by name.

    Examples
    --------
    >>> from skcompress.utils import all_estimators
    >>> names = [name for name, _ in all_estimators()]
    >>> {"BlockDCT", "PerceptualQuantizer"} <= set(names)
    True
    """
    found = {}
    for module_info in pkgutil.walk_packages(skcompress.__path__, "skcompress."):
        name = module_info.name
        if name.endswith("__main__"):
            continue
        try:
            module = import_module(name)
        except ImportError:
            if name.startswith(_OPTIONAL):
                continue
            raise
        for cls_name, cls in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(cls, BaseEstimator)
                and not cls_name.startswith("_")
                and cls.__module__.startswith("skcompress")
                and not inspect.isabstract(cls)
            ):
                found[cls_name] = cls
    return sorted(found.items())
