"""PyWavelets' multilevel transforms for torch tensors: the wavelet kernel of tensors.

:class:`~skcompress.WaveletTransform` calls ``wavedec``, ``wavedec2``,
``waverec`` and ``waverec2`` of :mod:`pywt` for numpy arrays and those of this
module, with the same arguments and the same coefficients, for tensors: each
level is a strided convolution (``conv1d``) of the extended signal, each
synthesis a transposed one. Only the last axis (``axis=-1``) and the last two
(``axes=(-2, -1)``) are transformed, in the extension modes of :data:`MODES`.

This module imports torch: it is imported only once a tensor has arrived.
"""

import numpy as np
import pywt
import torch
import torch.nn.functional as F

# PyWavelets' signal extensions as numpy.pad modes of the sample indices
_PAD_MODES = {
    "symmetric": "symmetric",
    "reflect": "reflect",
    "constant": "edge",
    "periodic": "wrap",
}
MODES = (*_PAD_MODES, "zero", "periodization")


def wavedec(data, wavelet, mode, level, axis=-1):
    """:func:`pywt.wavedec` of a tensor along its last axis: ``[cA_n, cD_n, ..., cD_1]``."""
    _check_axes((axis,), (-1,))
    analysis, _, L = _filters(wavelet, data)
    approx, details = data, []
    for _ in range(level):
        approx, detail = _dwt(approx, analysis, L, mode)
        details.append(detail)
    return [approx, *details[::-1]]


def wavedec2(data, wavelet, mode, level, axes=(-2, -1)):
    """:func:`pywt.wavedec2` over the last two axes: ``[cA_n, (cH_n, cV_n, cD_n), ...]``."""
    _check_axes(axes, (-2, -1))
    analysis, _, L = _filters(wavelet, data)
    approx, levels = data, []
    for _ in range(level):
        low, high = _dwt(approx, analysis, L, mode)  # along the rows
        # then down the columns: cA and cH from the low band, cV and cD from the high
        approx, cH = _along_columns(lambda x: _dwt(x, analysis, L, mode), low)
        cV, cD = _along_columns(lambda x: _dwt(x, analysis, L, mode), high)
        levels.append((cH, cV, cD))
    return [approx, *levels[::-1]]


def waverec(coeffs, wavelet, mode, axis=-1):
    """:func:`pywt.waverec` along the last axis."""
    _check_axes((axis,), (-1,))
    _, synthesis, L = _filters(wavelet, coeffs[0])
    approx = coeffs[0]
    for detail in coeffs[1:]:
        approx = _idwt(approx[..., : detail.shape[-1]], detail, synthesis, L, mode)
    return approx


def waverec2(coeffs, wavelet, mode, axes=(-2, -1)):
    """:func:`pywt.waverec2` over the last two axes."""
    _check_axes(axes, (-2, -1))
    _, synthesis, L = _filters(wavelet, coeffs[0])
    approx = coeffs[0]
    for cH, cV, cD in coeffs[1:]:
        approx = approx[..., : cH.shape[-2], : cH.shape[-1]]
        low = _along_columns(lambda a, d: _idwt(a, d, synthesis, L, mode), approx, cH)
        high = _along_columns(lambda a, d: _idwt(a, d, synthesis, L, mode), cV, cD)
        approx = _idwt(low, high, synthesis, L, mode)
    return approx


def _check_axes(axes, supported):
    if tuple(axes) != supported:
        raise ValueError(f"the torch wavelet kernel transforms axes {supported}; got {axes}.")


def _filters(wavelet, like):
    """Analysis and synthesis filter pairs as conv1d weights, and the filter length."""
    w = pywt.Wavelet(wavelet)
    analysis = np.stack([w.dec_lo[::-1], w.dec_hi[::-1]])[:, None]
    synthesis = np.stack([w.rec_lo, w.rec_hi])[:, None]
    return _tensor(analysis, like), _tensor(synthesis, like), w.dec_len


def _tensor(array, like):
    return torch.as_tensor(np.asarray(array, dtype=np.float64), device=like.device).to(like.dtype)


def _index(array, like):
    return torch.as_tensor(np.asarray(array, dtype=np.int64), device=like.device)


def _dwt(x, analysis, L, mode):
    """One level along the last axis: PyWavelets' ``dwt`` as a strided convolution."""
    *lead, N = x.shape
    x = x.reshape(-1, 1, N)
    if mode == "periodization":
        if N % 2:
            x = torch.cat([x, x[..., -1:]], dim=-1)
            N += 1
        index = np.arange(-(L - 1), N + L) % N
        padded = x[..., _index(index, x)][..., L // 2 :]
        out = F.conv1d(padded, analysis, stride=2)[..., : N // 2]
    else:
        if mode == "zero":
            padded = F.pad(x, (L - 1, L - 1))
        else:
            index = np.pad(np.arange(N), L - 1, mode=_PAD_MODES[mode])
            padded = x[..., _index(index, x)]
        out = F.conv1d(padded[..., 1:], analysis, stride=2)
    return out[:, 0].reshape(*lead, -1), out[:, 1].reshape(*lead, -1)


def _idwt(a, d, synthesis, L, mode):
    """PyWavelets' ``idwt`` along the last axis, as a transposed convolution."""
    *lead, K = a.shape
    both = torch.stack([a.reshape(-1, K), d.reshape(-1, K)], dim=1)
    full = F.conv_transpose1d(both, synthesis, stride=2)[:, 0]
    if mode == "periodization":
        index = _index((np.arange(full.shape[-1]) - (L // 2 - 1)) % (2 * K), full)
        out = torch.zeros((len(full), 2 * K), dtype=full.dtype, device=full.device)
        out.index_add_(1, index, full)
    else:
        out = full[:, L - 2 : 2 * K]
    return out.reshape(*lead, -1)


def _along_columns(function, *arrays):
    """``function`` (which works along the last axis) applied down the columns."""
    result = function(*(a.transpose(-2, -1) for a in arrays))
    if isinstance(result, tuple):
        return tuple(r.transpose(-2, -1) for r in result)
    return result.transpose(-2, -1)
