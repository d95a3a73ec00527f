"""Scalar, perceptual and vector quantizers, and the codec tables they use."""

from ._perceptual import PerceptualQuantizer
from ._tables import JPEG_CHROMA, JPEG_LUMA, ijg_scale

__all__ = ["JPEG_CHROMA", "JPEG_LUMA", "PerceptualQuantizer", "ijg_scale"]
