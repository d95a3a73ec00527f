"""Every public class and function has a numpydoc docstring with a runnable example, and
every public name is in the API reference.

The examples themselves run as doctests (``pytest --doctest-modules`` over the
package); this test makes sure there is one to run.
"""

import importlib
import inspect
import re
from pathlib import Path

import pytest

API_REFERENCE = Path(__file__).resolve().parents[1] / "docs" / "api.rst"

# Public modules: what each one lists in ``__all__`` is public API.
PUBLIC_MODULES = [
    "skcompress",
    "skcompress.codecs",
    "skcompress.datasets",
    "skcompress.entropy",
    "skcompress.io",
    "skcompress.metrics",
    "skcompress.quantization",
    "skcompress.sparse",
    "skcompress.transforms",
    "skcompress.utils",
    "skcompress.nets",
    "skcompress.learned",
]


def _public_objects():
    seen, objects = set(), []
    for module_name in PUBLIC_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ImportError:  # an optional dependency (torch, skorch) is missing
            continue
        for name in module.__all__:
            obj = getattr(module, name)
            if not (inspect.isclass(obj) or inspect.isfunction(obj)) or id(obj) in seen:
                continue
            seen.add(id(obj))
            objects.append(pytest.param(obj, id=f"{module_name}.{name}"))
    return objects


@pytest.mark.parametrize("obj", _public_objects())
def test_public_object_has_an_example(obj):
    doc = inspect.getdoc(obj)
    assert doc, f"{obj.__qualname__} has no docstring"
    assert "\nExamples\n--------\n" in doc, f"{obj.__qualname__}: no numpydoc Examples section"
    examples = doc.split("\nExamples\n--------\n", 1)[1]
    assert ">>> " in examples, f"{obj.__qualname__}: its Examples section has no doctest"


def _api_reference():
    """Objects of the autosummary entries, and the names of the ``py:data`` entries."""
    import skcompress

    text = API_REFERENCE.read_text()
    objects = {}
    for entry in re.findall(r"^   ([A-Za-z_][\w.]*)$", text, flags=re.M):
        obj = skcompress
        try:
            for part in entry.split("."):
                obj = (
                    getattr(obj, part)
                    if hasattr(obj, part)
                    else importlib.import_module(f"{obj.__name__}.{part}")
                )
        except ImportError:  # an optional dependency (torch, skorch) is missing
            continue
        objects[id(obj)] = entry
    data = set(re.findall(r"^\.\. py:data:: ([\w.]+)$", text, flags=re.M))
    return objects, data


def test_every_public_name_is_in_the_api_reference():
    objects, data = _api_reference()
    missing = []
    for module_name in PUBLIC_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        for name in module.__all__:
            obj = getattr(module, name)
            if callable(obj):  # classes, functions, cached functions
                if id(obj) not in objects:  # under this name or another public one
                    missing.append(f"{module_name}.{name}")
            elif f"{module_name}.{name}" not in data:
                missing.append(f"{module_name}.{name} (a constant: a py:data entry)")
    assert not missing, f"docs/api.rst lacks {missing}"
