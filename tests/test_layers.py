"""The layers of the house: every import in skcompress points down the order of DESIGN.md.

Imports inside functions count too: the order is parsed from the source, not
from what happens to be imported at run time.
"""

import ast
import subprocess
import sys
from pathlib import Path

import skcompress

PACKAGE = Path(skcompress.__file__).parent

# Lowest first. Packages on one level may not import each other.
LAYERS = [
    ["skcompress._core"],
    # io reads and writes JPEG files with libjpeg and imports only the core: it sits
    # with the steps, so that the codecs write standard files through it
    ["skcompress.transforms", "skcompress.quantization", "skcompress.sparse", "skcompress.io"],
    ["skcompress.entropy"],
    ["skcompress.codecs"],
    ["skcompress.metrics", "skcompress.datasets"],
    ["skcompress.nets"],
    ["skcompress.learned"],
    ["skcompress"],  # the facade: skcompress/__init__.py
    ["skcompress.utils"],
    ["skcompress.cli"],
    ["skcompress.__main__"],  # python -m skcompress
]


def _unit(module):
    """The layer unit a dotted module name belongs to, and its level."""
    best = None
    for level, units in enumerate(LAYERS):
        for unit in units:
            if module == unit or module.startswith(unit + "."):
                if best is None or len(unit) > len(best[0]):
                    best = (unit, level)
    if best is None:
        raise AssertionError(f"{module} is on no layer of tests/test_layers.py")
    return best


def _module_name(path):
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_module(name):
    path = PACKAGE.parent / name.replace(".", "/")
    return path.is_dir() or path.with_suffix(".py").exists()


def _imports(path, module):
    """``(line, target module)`` of every skcompress import in ``path``, nested ones too."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module
            # ``from . import x`` names a module when x is one
            targets = [
                f"{stem}.{alias.name}" if _is_module(f"{stem}.{alias.name}") else stem
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            if target == "skcompress" or target.startswith("skcompress."):
                yield node.lineno, target


def _violations(files=None):
    """Imports against the order, for ``files``: ``(path, module)``, the package by default."""
    if files is None:
        files = [(path, _module_name(path)) for path in sorted(PACKAGE.rglob("*.py"))]
    found = []
    for path, module in files:
        unit, level = _unit(module)
        for line, target in _imports(path, module):
            target_unit, target_level = _unit(target)
            if target_unit == unit:
                continue
            if target_level >= level:
                found.append(
                    f"{module} ({path.name}):{line} imports {target} "
                    f"({target_unit}, level {target_level}) from {unit} (level {level})"
                )
    return found


def test_every_import_points_down_the_layers():
    violations = _violations()
    assert not violations, "imports against the layer order:\n" + "\n".join(violations)


def test_every_module_is_on_a_layer():
    for path in PACKAGE.rglob("*.py"):
        _unit(_module_name(path))


def test_the_check_sees_nested_relative_and_sideways_imports(tmp_path):
    path = tmp_path / "_probe.py"
    path.write_text(
        "import numpy\n"
        "from .._core import _contract\n"  # down: fine
        "def f():\n"
        "    from ..entropy import _coder\n"  # up, inside a function
        "    import skcompress.sparse\n"  # sideways, absolute
    )
    found = _violations([(path, "skcompress.quantization._probe")])
    assert len(found) == 2
    assert found[0].startswith("skcompress.quantization._probe (_probe.py):4 imports")
    assert "skcompress.sparse" in found[1]


# A process in which ``import torch`` (and skorch) fails, as where they are not installed.
NO_TORCH = """\
import sys

class _NoTorch:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in ("torch", "skorch"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)

sys.meta_path.insert(0, _NoTorch())
"""


def test_numpy_layers_import_and_run_without_torch():
    """Where ``import torch`` fails, everything but nets and learned imports and runs."""
    code = NO_TORCH + (
        "import skcompress, skcompress.io, skcompress.metrics, skcompress.codecs\n"
        "import skcompress.cli.__main__, skcompress.utils\n"
        "import numpy as np\n"
        "from skcompress import BlockDCT, Codec, PerceptualQuantizer\n"
        "X = np.random.default_rng(0).uniform(0, 255, (4, 16, 16))\n"
        "dct, q = BlockDCT().fit(X), PerceptualQuantizer()\n"
        "B = q.fit_transform(dct.transform(X))\n"
        "codec = Codec([dct, q]).fit(X)\n"
        "assert np.array_equal(codec.decompress_symbols(codec.compress(X)), B)\n"
        "assert 'torch' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
