"""Rate: entropy estimates of quantized symbols, and real entropy coding of them.

:class:`CategoricalEntropyModel` (one distribution per position) and
:class:`BlockContextModel` (context modelling of block-transform coefficients)
both estimate code lengths and write real bitstreams with a range coder
(``constriction``), one self-describing bitstream per sample.
"""

from ._categorical import CategoricalEntropyModel
from ._context import BlockContextModel

__all__ = ["BlockContextModel", "CategoricalEntropyModel"]
