"""Analysis/synthesis transforms taken from the codecs (DCT, ...)."""

from ._basis import dct_matrix, zigzag_order
from ._block_dct import BlockDCT

__all__ = ["BlockDCT", "dct_matrix", "zigzag_order"]
