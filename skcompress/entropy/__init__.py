"""Rate: entropy estimates of quantized symbols, and real entropy coding of them.

Every entropy model is an :class:`EntropyModel`: :class:`CategoricalEntropyModel`
(one distribution per position), :class:`BlockContextModel` (context modelling
of block-transform coefficients) and :class:`GainShapeModel` (pyramid VQ gains
and codewords) estimate code lengths and write real bitstreams with a range
coder (``constriction``), one self-describing bitstream per sample.
:class:`skcompress.codecs.Codec` chains fitted transform and quantizer steps
with one of them: signals to bytes and back (``skcompress.entropy.Codec`` is an
alias of it, kept for old code).
"""

from ._base import EntropyModel
from ._categorical import CategoricalEntropyModel
from ._context import BlockContextModel
from ._gain_shape import GainShapeModel

__all__ = ["BlockContextModel", "CategoricalEntropyModel", "EntropyModel", "GainShapeModel"]
