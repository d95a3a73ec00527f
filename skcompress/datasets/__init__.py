"""Embedded data sets (offline) and readers of compressed files."""

from ._embedded import load_mnist, load_spoken_digits
from ._photographs import load_photographs

__all__ = ["load_mnist", "load_photographs", "load_spoken_digits"]
