"""Rate: entropy estimates of quantized symbols (real entropy coding to come)."""

from ._categorical import CategoricalEntropyModel

__all__ = ["CategoricalEntropyModel"]
