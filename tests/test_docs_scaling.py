"""The recipes of docs/scaling.rst run as written, one after the other."""

import re
import textwrap
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parents[1] / "docs" / "scaling.rst"


def _python_blocks():
    text = PAGE.read_text()
    blocks = re.findall(r"\.\. code-block:: python\n\n((?:   .*\n|\n)+)", text)
    return [textwrap.dedent(block) for block in blocks]


def test_the_page_has_every_recipe():
    code = "\n".join(_python_blocks())
    for name in ("n_jobs", "transform_in_chunks", "dask.array", "partial_fit_chunks",
                 "Incremental", "LocalCluster", "torch"):  # fmt: skip
        assert name in code, name


def test_scaling_recipes_run():
    for module in ("dask.array", "distributed", "dask_ml", "torch"):
        pytest.importorskip(module)
    namespace = {}
    for i, block in enumerate(_python_blocks()):
        exec(compile(block, f"{PAGE}:block{i}", "exec"), namespace)
    assert namespace["search"].best_params_["perceptualquantizer__quality"] in (10, 50, 90)
