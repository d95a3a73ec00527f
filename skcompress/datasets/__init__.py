"""Embedded data sets (offline) and readers of compressed files."""

from ._embedded import load_mnist, load_spoken_digits

__all__ = ["load_mnist", "load_spoken_digits"]
