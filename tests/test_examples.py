"""Every example script runs to completion (the gallery of the documentation).

Each must take seconds, not minutes: the whole gallery runs here on every
test run. Figures are drawn with matplotlib's non-interactive Agg backend and
closed after each script.
"""

import runpy
import warnings
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.py"))


@pytest.fixture
def agg_figures():
    try:
        import matplotlib
    except ImportError:
        yield
        return
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*non-interactive", category=UserWarning)
        yield
    plt.close("all")


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(path, capsys, agg_figures):
    runpy.run_path(str(path), run_name="__main__")
    assert capsys.readouterr().out
