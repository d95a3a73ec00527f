"""The checks of docs/screenshots.py on a small fake site (no browser needed)."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "docs" / "screenshots.py"
spec = importlib.util.spec_from_file_location("screenshots", SCRIPT)
screenshots = importlib.util.module_from_spec(spec)
spec.loader.exec_module(screenshots)


def test_a_gallery_page_needs_its_plots_on_disk(tmp_path):
    gallery = tmp_path / "auto_examples"
    (gallery / "images").mkdir(parents=True)
    (gallery / "images" / "sphx_glr_plot_a_001.png").write_bytes(b"png")
    page = gallery / "plot_a.html"
    page.write_text('<img alt="" src="images/sphx_glr_plot_a_001.png" />')
    assert screenshots.check_page(tmp_path, "auto_examples/plot_a.html") == ([], 1)

    page.write_text('<img src="images/sphx_glr_plot_a_002.png" />')
    problems, _ = screenshots.check_page(tmp_path, "auto_examples/plot_a.html")
    assert problems == [
        "auto_examples/plot_a.html shows images/sphx_glr_plot_a_002.png, which is missing"
    ]
    page.write_text("<p>no figures</p>")
    problems, _ = screenshots.check_page(tmp_path, "auto_examples/plot_a.html")
    assert "has no plots (was the gallery executed?)" in problems[0]
    assert screenshots.check_page(tmp_path, "index.html")[0] == ["index.html was not built"]


def test_blank_or_missing_screenshots_are_reported(tmp_path):
    image = pytest.importorskip("PIL.Image")
    assert screenshots.check_png(tmp_path / "none.png") == ["no screenshot written"]
    blank = tmp_path / "blank.png"
    image.fromarray(np.full((40, 40), 255, np.uint8)).save(blank)
    assert "looks blank" in screenshots.check_png(blank)[0]
    page = tmp_path / "page.png"
    image.fromarray(np.random.default_rng(0).integers(0, 256, (40, 40), np.uint8)).save(page)
    assert screenshots.check_png(page) == []
    (tmp_path / "fake.png").write_bytes(b"GIF89a...")
    assert screenshots.check_png(tmp_path / "fake.png") == ["screenshot is not a PNG"]
