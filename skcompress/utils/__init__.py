"""Utilities: estimator discovery, streams of chunks."""

from ._streams import iter_chunks, partial_fit_chunks, transform_in_chunks
from .discovery import all_estimators

__all__ = ["all_estimators", "iter_chunks", "partial_fit_chunks", "transform_in_chunks"]
