"""Open the built documentation in headless Chromium, screenshot key pages, check them.

Usage (after ``make -C docs html``)::

    python docs/screenshots.py [--html docs/_build/html] [--out docs/_build/screenshots]

Pages: the home page, the API page of ``BlockDCT`` and two gallery pages. For
each page the script checks that the HTML exists, that every image it shows
(the gallery's plots included) is on disk, and that Chromium's screenshot is a
PNG that is not blank. It exits with status 1 and a list of what failed
otherwise. Chromium is the Debian package (``apt-get install chromium``);
``--chromium`` names another binary.
"""

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
# name: (page, height of the window in pixels: tall enough to show the first plots)
PAGES = {
    "home": ("index.html", 1600),
    "blockdct_api": ("generated/skcompress.BlockDCT.html", 2400),
    "gallery_jpeg_quality_ladder": ("auto_examples/plot_jpeg_quality_ladder.html", 3600),
    "gallery_transform_bases": ("auto_examples/plot_transform_bases.html", 3000),
}
# Pages whose plots must be there: sphinx-gallery's figures of the example.
GALLERY_FIGURE = re.compile(r'src="([^"]*images/sphx_glr_plot_[^"]+\.png)"')


def find_chromium(name=None):
    """The Chromium binary: ``name``, or the first of the usual names on PATH."""
    for candidate in [name] if name else ["chromium", "chromium-browser", "google-chrome"]:
        path = shutil.which(candidate)
        if path:
            return path
    return None


def screenshot(chromium, url, png, width=1280, height=1600):
    """Render ``url`` headless and write a ``width x height`` screenshot to ``png``."""
    with tempfile.TemporaryDirectory() as profile:
        command = [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--no-first-run",
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            "--virtual-time-budget=5000",
            f"--screenshot={png}",
            url,
        ]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    return result


def check_png(png):
    """Problems with a screenshot: missing, not a PNG, or (with Pillow) blank."""
    if not png.is_file() or png.stat().st_size == 0:
        return ["no screenshot written"]
    data = png.read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return ["screenshot is not a PNG"]
    try:
        from PIL import Image, ImageStat
    except ImportError:
        return []
    with Image.open(png) as image:
        spread = ImageStat.Stat(image.convert("L")).stddev[0]
    return [] if spread > 5 else [f"screenshot looks blank (gray-level spread {spread:.1f})"]


def check_page(html_root, relative):
    """Problems with a built page: missing, or showing images that are not on disk."""
    page = html_root / relative
    if not page.is_file():
        return [f"{relative} was not built"], 0
    text = page.read_text(encoding="utf-8")
    problems = []
    sources = re.findall(r'<img[^>]*\ssrc="([^"]+)"', text)
    for source in sources:
        if source.startswith(("http:", "https:", "data:")):
            continue
        if not (page.parent / source.split("#")[0].split("?")[0]).is_file():
            problems.append(f"{relative} shows {source}, which is missing")
    figures = GALLERY_FIGURE.findall(text)
    if relative.startswith("auto_examples/") and not figures:
        problems.append(f"{relative} has no plots (was the gallery executed?)")
    return problems, len(figures)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--html", type=Path, default=HERE / "_build" / "html")
    parser.add_argument("--out", type=Path, default=HERE / "_build" / "screenshots")
    parser.add_argument("--chromium", default=None, help="Chromium binary (default: on PATH)")
    args = parser.parse_args(argv)

    chromium = find_chromium(args.chromium)
    if chromium is None:
        print("Chromium not found: apt-get install chromium, or pass --chromium", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    failures = []
    for name, (relative, height) in PAGES.items():
        problems, n_figures = check_page(args.html, relative)
        png = args.out / f"{name}.png"
        png.unlink(missing_ok=True)
        if (args.html / relative).is_file():
            url = (args.html / relative).resolve().as_uri()
            result = screenshot(chromium, url, png, height=height)
            problems += check_png(png)
            if result.returncode != 0:
                problems.append(f"chromium exited {result.returncode}: {result.stderr[-300:]}")
        status = "ok" if not problems else "FAILED"
        size = f"{png.stat().st_size / 1024:.0f} KiB" if png.is_file() else "-"
        print(f"{status:<7}{name:<30}{size:>9}  {n_figures} plots  {relative}")
        failures += [f"{name}: {problem}" for problem in problems]
    for failure in failures:
        print(failure, file=sys.stderr)
    print(f"screenshots in {args.out}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
