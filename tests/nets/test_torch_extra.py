"""Without torch or skorch, nets and learned refuse to import with a message naming the extra."""

import subprocess
import sys

import pytest

# Run in a fresh interpreter where a meta-path finder makes ``missing`` (and
# its submodules) unimportable, as in an environment without the extra.
# (``sys.modules[name] = None`` would not do: scipy probes sys.modules for torch.)
_SCRIPT = """
import importlib.abc
import sys


class Missing(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] == {missing!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)


sys.meta_path.insert(0, Missing())
import skcompress  # the numpy parts import without it

try:
    import {module}
except ImportError as exc:
    print(exc)
else:
    print("imported")
"""


@pytest.mark.parametrize("missing", ["torch", "skorch"])
@pytest.mark.parametrize("module", ["skcompress.nets", "skcompress.learned"])
def test_import_without_torch_names_the_extra(module, missing):
    script = _SCRIPT.format(missing=missing, module=module)
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    message = run.stdout.strip()
    assert message.startswith(f"{module} needs PyTorch and skorch"), message
    assert 'pip install "skcompress[torch]"' in message
    assert f"No module named '{missing}" in message
