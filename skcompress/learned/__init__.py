"""Learned transforms: end-to-end trained codecs as scikit-learn transformers.

With :mod:`skcompress.nets`, the only part of skcompress that needs torch and
skorch (the ``[torch]`` extra: ``pip install "skcompress[torch]"``): ``import
skcompress`` does not load them, ``import skcompress.learned`` does, and
raises an ImportError that names the extra where they are missing.

Codecs (trained through skorch; ``transform`` gives integer symbols,
``inverse_transform`` decodes them, ``compress`` / ``decompress`` write and
read real bitstreams):

* :class:`BalleCodec`: the end-to-end optimized image codec of Ballé,
  Laparra and Simoncelli (2017): GDN transforms, uniform-noise training,
  a learned factorized entropy model, loss ``R + lmbda * D``;
* :class:`LearnedWaveletCodec`: a wavelet transform
  (:class:`~skcompress.WaveletTransform`, JPEG 2000's dyadic one by default),
  a learned linear projection, an entropy bottleneck and a nonlinear decoder
  (WaLLoC-style), cheap to encode on a CPU;
* :class:`SoundStreamCodec`: a SoundStream-style 1-D convolutional
  encoder/decoder with :class:`~skcompress.ResidualVQ` in the middle and
  quantizer dropout, so one model serves several bitrates.

Torch modules: :class:`GDN`, :class:`EntropyBottleneck`, :class:`BalleNet`,
:class:`WaveletCodecNet`, :class:`SoundStreamEncoder`,
:class:`SoundStreamDecoder`, :class:`SoundStreamISTFTDecoder`, :class:`SoundStreamNet`.
"""

try:
    import skorch  # noqa: F401
    import torch  # noqa: F401
except ImportError as exc:
    raise ImportError(
        'skcompress.learned needs PyTorch and skorch: pip install "skcompress[torch]" '
        f"(importing them failed: {exc})"
    ) from exc

from ._audio import SoundStreamCodec, WaveformLoss
from ._image import BalleCodec, LearnedWaveletCodec, RateDistortionLoss
from ._modules import (
    GDN,
    BalleNet,
    EntropyBottleneck,
    SoundStreamDecoder,
    SoundStreamEncoder,
    SoundStreamISTFTDecoder,
    SoundStreamNet,
    WaveletCodecNet,
)

__all__ = [
    "GDN",
    "BalleCodec",
    "BalleNet",
    "EntropyBottleneck",
    "LearnedWaveletCodec",
    "RateDistortionLoss",
    "SoundStreamCodec",
    "SoundStreamDecoder",
    "SoundStreamEncoder",
    "SoundStreamISTFTDecoder",
    "SoundStreamNet",
    "WaveformLoss",
    "WaveletCodecNet",
]
