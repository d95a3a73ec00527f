"""Whole codecs: fitted steps and an entropy model, signals to bytes and back.

:class:`Codec` chains fitted transform and quantizer steps (or a Pipeline's
transformer steps) with an entropy model of :mod:`skcompress.entropy`:
``compress`` writes one self-describing bitstream per sample,
``decompress`` reads it back, ``rate`` measures it.
"""

from ._codec import Codec

__all__ = ["Codec"]
