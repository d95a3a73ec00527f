"""Sphinx configuration of the skcompress documentation.

Build (from the repository root; ``pip install -e ".[docs]"`` first)::

    make -C docs html          # everything, the gallery examples executed (a few minutes)
    make -C docs html-noplot   # the same pages, examples shown but not run (CI)

Cross-references to other projects (intersphinx) are resolved only when their
inventories can be fetched: the build checks each host first and leaves out
the ones it cannot reach, so an offline build still passes ``-W``. Set
``SKCOMPRESS_DOCS_OFFLINE=1`` to skip the check and every inventory.
"""

import os
import re
import socket
import sys
import warnings
from pathlib import Path
from urllib.parse import urlsplit

import skcompress

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

project = "skcompress"
author = "skcompress developers"
copyright = "2026, skcompress developers"
release = skcompress.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]
templates_path = ["_templates"]
exclude_patterns = ["_build", "**.ipynb_checkpoints", "auto_examples/*.ipynb"]
default_role = "py:obj"

autosummary_generate = True
autodoc_default_options = {"inherited-members": False}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

# -- intersphinx: only the inventories that can be reached ------------------
INVENTORIES = {
    "python": "https://docs.python.org/3",
    "numpy": "https://numpy.org/doc/stable",
    "scipy": "https://docs.scipy.org/doc/scipy",
    "sklearn": "https://scikit-learn.org/stable",
    "pywt": "https://pywavelets.readthedocs.io/en/latest",
    "torch": "https://docs.pytorch.org/docs/stable",
    "skorch": "https://skorch.readthedocs.io/en/stable",
    "matplotlib": "https://matplotlib.org/stable",
}


def _reachable(url, timeout=2.0):
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port or 443), timeout=timeout):
            return True
    except OSError:
        return False


if os.environ.get("SKCOMPRESS_DOCS_OFFLINE"):
    intersphinx_mapping = {}
else:
    intersphinx_mapping = {
        name: (url, None) for name, url in INVENTORIES.items() if _reachable(url)
    }
intersphinx_timeout = 10

# -- sphinx-gallery ---------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": str(HERE.parent / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "within_subsection_order": "FileNameSortKey",
    "backreferences_dir": "generated/backreferences",
    "doc_module": ("skcompress",),
    "reference_url": {"skcompress": None},
    "download_all_examples": False,
    "remove_config_comments": True,
    "matplotlib_animations": False,
    "image_scrapers": ("matplotlib",),
    "show_memory": False,
    "min_reported_time": 1,
}
# The examples print tables; matplotlib's "non-interactive backend" warning on
# plt.show() under sphinx-gallery's Agg backend is noise.
warnings.filterwarnings("ignore", message=".*non-interactive.*", category=UserWarning)

# -- docstrings: what numpydoc types need escaped in reStructuredText -------
# Types such as ``(n_samples, *signal_shape)`` and mentions of fitted attributes
# (``signal_shape_``) are plain text in the docstrings; in reST a lone ``*``
# opens emphasis and a trailing ``_`` makes a link. Both are escaped outside
# literals before numpydoc reads the docstring.
_LITERAL = re.compile(r"(``.+?``|`[^`]+`)")
_DEFINITION = re.compile(r"^(\s*[\w*, ]+ : )(.*)$")
_LONE_STAR = re.compile(r"(?<![\\*\w])\*(?=[A-Za-z_(])")
_LINK_UNDERSCORE = re.compile(r"(?<=\w)_(?=[\s,.;:)\]]|$)")


def _escape_plain(text):
    def star(match):
        closing = re.search(r"\w\*(?!\w)", text[match.end() :])
        return match.group(0) if closing else "\\*"

    text = _LONE_STAR.sub(star, text)
    return _LINK_UNDERSCORE.sub(r"\\_", text)


def _escape_line(line):
    head, body = "", line
    definition = _DEFINITION.match(line)
    if definition:
        head, body = definition.groups()
    parts = _LITERAL.split(body)
    parts[::2] = [_escape_plain(part) for part in parts[::2]]
    return head + "".join(parts)


def _escape_docstring(app, what, name, obj, options, lines):
    in_example = False
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith((">>>", "...")) or (in_example and stripped):
            in_example = True
            continue
        in_example = False
        if stripped.startswith(".. ") or stripped.endswith("::"):
            continue
        lines[i] = _escape_line(line)


def _skip_member(app, what, name, obj, skip, options):
    # scikit-learn's generated metadata-routing setters (set_fit_request, ...).
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def setup(app):
    app.connect("autodoc-process-docstring", _escape_docstring, priority=100)
    app.connect("autodoc-skip-member", _skip_member)


# -- HTML -------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skcompress {release}"
html_static_path = ["_static"]
html_css_files = ["skcompress.css"]
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "header_links_before_dropdown": 7,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version", "theme-version"],
}
html_sidebars = {"index": [], "getting_started": [], "changelog": []}
html_show_sourcelink = False
