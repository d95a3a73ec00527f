"""Whole codecs: fitted steps and an entropy model, signals to bytes and back.

:class:`Codec` chains fitted transform and quantizer steps (or a Pipeline's
transformer steps) with an entropy model of :mod:`skcompress.entropy`:
``compress`` writes one self-describing bitstream per sample,
``decompress`` reads it back, ``rate`` measures it.

The JPEG paths are here as building blocks: :func:`jpeg_gray_steps` (the
block DCT and quantizer of a gray baseline JPEG, one set of settings for
both) and :func:`jpeg_color_planes` (colour conversion, chroma subsampling,
and a DCT and quantizer per plane, fitted, with the means to invert them).
:class:`JPEGCodec` is the whole JPEG encoder as one transformer: gray or
colour 8-bit images to the quantized coefficients of a baseline file
(libjpeg's, bit for bit, with ``dct="islow"``) and back to pixels.
:class:`JPEG2000Codec` is JPEG 2000's: the wavelet, the per-subband
deadzone quantizer, EBCOT's bit-plane coder with the MQ coder, and rate
control to a target bits per pixel. :class:`MP3Codec` is MPEG Layer III's
loops around the psychoacoustic model: the power-law quantizer, global gain
and scale factors under the masking thresholds, long and short blocks.
:class:`HEVCIntraCodec` codes each image as an HEVC intra picture: intra
prediction, the integer DCT and DST, QP and scaling lists, and a quad-tree
chosen by rate-distortion cost. :class:`CELTCodec` is CELT's (Opus): coded
band energies, a bit allocation, and pyramid VQ of the band shapes.
"""

from ._celt_codec import CELTCodec
from ._codec import Codec
from ._hevc_intra_codec import HEVCIntraCodec
from ._jpeg import jpeg_color_planes, jpeg_gray_steps
from ._jpeg2000_codec import JPEG2000Codec
from ._jpeg_codec import JPEGCodec
from ._mp3_codec import MP3Codec

__all__ = [
    "CELTCodec",
    "Codec",
    "HEVCIntraCodec",
    "JPEG2000Codec",
    "JPEGCodec",
    "MP3Codec",
    "jpeg_color_planes",
    "jpeg_gray_steps",
]
