"""The README's Pipeline and GridSearchCV run as written (on fewer digits, for time)."""

import re
import warnings
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_opens_with_the_two_commands():
    bash = re.findall(r"```bash\n(.*?)```", README.read_text(), flags=re.S)
    assert bash[0].strip().endswith("skcompress demo")
    assert "pytest" in bash[1]
    assert "pytest" in (README.parents[0] / ".ci" / "run").read_text()


def test_readme_grid_search_runs():
    (code,) = _python_blocks()
    full = "X, y = mnist.images, mnist.target"
    assert full in code
    # The full 5,000 digits take minutes unscaled; the names and calls stay as written.
    code = code.replace(full, "X, y = mnist.images[:200], mnist.target[:200]")
    code = code.replace("GridSearchCV(", "search = GridSearchCV(", 1)
    namespace = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lbfgs convergence on unscaled symbols
        exec(compile(code, str(README), "exec"), namespace)
    search = namespace["search"]
    assert search.best_params_["perceptualquantizer__quality"] in (10, 30, 50, 90)
    assert search.best_score_ > 0.5
