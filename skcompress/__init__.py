"""skcompress: machine learning on the representations that codecs produce.

Transforms and quantizers from real codecs (JPEG, ...) as scikit-learn
transformers. Every step keeps one data contract, described in
:mod:`skcompress._contract`: batches ``(n_samples, *signal_shape)`` in,
``layout="flat"`` (2-D, named features) out by default.
"""

from .quantization import PerceptualQuantizer
from .transforms import BlockDCT

__version__ = "0.1.0"
__all__ = ["BlockDCT", "PerceptualQuantizer", "__version__"]
