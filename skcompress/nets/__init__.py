"""Torch modules and skorch estimators for compressed representations.

With :mod:`skcompress.learned`, the only part of skcompress that needs torch
and skorch (the ``[torch]`` extra: ``pip install "skcompress[torch]"``):
``import skcompress`` does not load them, ``import skcompress.nets`` does, and
raises an ImportError that names the extra where they are missing.

Modules (:class:`torch.nn.Module`): :class:`BlockDCTNet` (block-DCT
coefficients as channels at block resolution), :class:`WaveletNet`
(subbands entering at their own resolution), :class:`JPEGNet` (JPEG's colour
coefficients as stored: luma at 1/8 and chroma at 1/16 in two streams,
residual blocks), :class:`PixelNet` (the same family on pixels, the
baseline; a ResNet with ``residual=True``), :class:`MDCTNet` (1-D, MDCT
frames) and :class:`CodeEmbeddingNet` (discrete codes as tokens);
:func:`count_parameters` and :func:`count_macs` size them and the
estimators.

Estimators (skorch's ``NeuralNetClassifier`` / ``NeuralNetRegressor``, whose
module is built from the input at ``fit``) take the output of a skcompress
step directly in a Pipeline, or a torch ``Dataset`` of ``(X, y)`` items:
:class:`BlockDCTNetClassifier`, :class:`JPEGNetClassifier`,
:class:`WaveletNetClassifier`, :class:`PixelNetClassifier`, :class:`MDCTNetClassifier`,
:class:`CodeEmbeddingClassifier` and the ``...Regressor`` of each;
:class:`BatchIterator` serves their batches.
"""

try:
    import skorch  # noqa: F401
    import torch  # noqa: F401
except ImportError as exc:
    raise ImportError(
        'skcompress.nets needs PyTorch and skorch: pip install "skcompress[torch]" '
        f"(importing them failed: {exc})"
    ) from exc

from ._data import BatchIterator
from ._estimators import (
    BlockDCTNetClassifier,
    BlockDCTNetRegressor,
    CodeEmbeddingClassifier,
    CodeEmbeddingRegressor,
    MDCTNetClassifier,
    MDCTNetRegressor,
    PixelNetClassifier,
    PixelNetRegressor,
    WaveletNetClassifier,
    WaveletNetRegressor,
)
from ._modules import (
    BlockDCTNet,
    CodeEmbeddingNet,
    MDCTNet,
    PixelNet,
    WaveletNet,
    count_macs,
    count_parameters,
)
from ._skorch import resolve_device
from ._two_stream import JPEGNet, JPEGNetClassifier, JPEGNetRegressor

__all__ = [
    "BatchIterator",
    "BlockDCTNet",
    "BlockDCTNetClassifier",
    "BlockDCTNetRegressor",
    "CodeEmbeddingClassifier",
    "CodeEmbeddingNet",
    "CodeEmbeddingRegressor",
    "JPEGNet",
    "JPEGNetClassifier",
    "JPEGNetRegressor",
    "MDCTNet",
    "MDCTNetClassifier",
    "MDCTNetRegressor",
    "PixelNet",
    "PixelNetClassifier",
    "PixelNetRegressor",
    "WaveletNet",
    "WaveletNetClassifier",
    "WaveletNetRegressor",
    "count_macs",
    "count_parameters",
    "resolve_device",
]
