"""skcompress: machine learning on the representations that codecs produce.

Transforms and quantizers from real codecs (JPEG, ...) as scikit-learn
transformers. Every step keeps one data contract, described in
:mod:`skcompress._core._contract`: batches ``(n_samples, *signal_shape)`` in,
``layout="flat"`` (2-D, named features) out by default.
"""

from . import entropy
from .codecs import CELTCodec, Codec, HEVCIntraCodec, JPEG2000Codec, JPEGCodec, MP3Codec
from .quantization import PerceptualQuantizer, PyramidVQ, ResidualVQ
from .sparse import KSVD, OMPCoder, Patches
from .transforms import (
    MDCT,
    BlockDCT,
    ChromaSubsampler,
    ColorTransform,
    FrequencySelector,
    PsychoacousticModel,
    WaveletTransform,
)

# ``skcompress.entropy.Codec``, where Codec lived before the codecs package: an alias
# set from above, so that entropy itself never imports the layer above it.
entropy.Codec = Codec

__version__ = "0.1.0"
__all__ = [
    "BlockDCT",
    "CELTCodec",
    "ChromaSubsampler",
    "Codec",
    "ColorTransform",
    "FrequencySelector",
    "HEVCIntraCodec",
    "JPEG2000Codec",
    "JPEGCodec",
    "KSVD",
    "MDCT",
    "MP3Codec",
    "OMPCoder",
    "Patches",
    "PerceptualQuantizer",
    "PsychoacousticModel",
    "PyramidVQ",
    "ResidualVQ",
    "WaveletTransform",
    "__version__",
]
