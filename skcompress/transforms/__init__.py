"""Analysis/synthesis transforms taken from the codecs (DCT, ...)."""

from .._core._basis import dct_matrix, dst7_matrix, hevc_matrix, zigzag_order
from ._basis_images import basis_functions, subband_mosaic, tile_images
from ._block_dct import BlockDCT
from ._color import ChromaSubsampler, ColorTransform
from ._mdct import MDCT, band_edges, band_steps
from ._psychoacoustic import PsychoacousticModel
from ._selection import FrequencySelector
from ._wavelet import JPEG2000_WAVELETS, WaveletTransform

__all__ = [
    "BlockDCT",
    "ChromaSubsampler",
    "ColorTransform",
    "FrequencySelector",
    "JPEG2000_WAVELETS",
    "MDCT",
    "PsychoacousticModel",
    "WaveletTransform",
    "band_edges",
    "basis_functions",
    "band_steps",
    "dct_matrix",
    "dst7_matrix",
    "hevc_matrix",
    "subband_mosaic",
    "tile_images",
    "zigzag_order",
]
