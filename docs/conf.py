"""Sphinx configuration of the skcompress documentation."""

import skcompress

project = "skcompress"
author = "skcompress developers"
release = skcompress.__version__
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
]
autosummary_generate = True
numpydoc_show_class_members = False
html_theme = "pydata_sphinx_theme"
exclude_patterns = ["_build"]
