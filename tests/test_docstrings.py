"""Every public class and function has a numpydoc docstring with a runnable example.

The examples themselves run as doctests (``pytest --doctest-modules`` over the
package); this test makes sure there is one to run.
"""

import importlib
import inspect

import pytest

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
