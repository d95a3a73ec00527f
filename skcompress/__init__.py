"""skcompress: machine learning on the representations that codecs produce.

Transforms and quantizers from real codecs (JPEG, ...) as scikit-learn
transformers. Every step keeps one data contract, described in
:mod:`skcompress._contract`: batches ``(n_samples, *signal_shape)`` in,
``layout="flat"`` (2-D, named features) out by default.
"""

from .quantization import PerceptualQuantizer, PyramidVQ, ResidualVQ
from .sparse import KSVD, OMPCoder, Patches
from .transforms import MDCT, BlockDCT, ChromaSubsampler, ColorTransform, WaveletTransform

__version__ = "0.1.0"
__all__ = [
    "BlockDCT",
    "ChromaSubsampler",
    "ColorTransform",
    "KSVD",
    "MDCT",
    "OMPCoder",
    "Patches",
    "PerceptualQuantizer",
    "PyramidVQ",
    "ResidualVQ",
    "WaveletTransform",
    "__version__",
]
