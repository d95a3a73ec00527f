"""Scalar, perceptual and vector quantizers, and the codec tables they use."""

from ._parametric import FrequencyRampTable
from ._perceptual import PerceptualQuantizer
from ._pyramid_vq import PyramidVQ, pvq_decode, pvq_encode, pvq_search, pvq_size
from ._residual_vq import ResidualVQ
from ._tables import JPEG_CHROMA, JPEG_LUMA, ijg_scale

__all__ = [
    "FrequencyRampTable",
    "JPEG_CHROMA",
    "JPEG_LUMA",
    "PerceptualQuantizer",
    "PyramidVQ",
    "ResidualVQ",
    "ijg_scale",
    "pvq_decode",
    "pvq_encode",
    "pvq_search",
    "pvq_size",
]
