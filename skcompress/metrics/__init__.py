"""Rate and quality measures for compressed representations."""

from ._rate import bits_per_sample

__all__ = ["bits_per_sample"]
