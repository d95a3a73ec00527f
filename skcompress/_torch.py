"""Torch kernels of the linear transforms, the scalar and the vector quantizers.

A fitted step given a ``torch.Tensor`` (CPU or CUDA) computes with these
kernels on the tensor's device and returns a tensor there (see
:func:`skcompress._chunks.chunked`); settings without a kernel here go through
numpy and come back as a tensor on the same device. The kernels compute what
the numpy path computes, in the tensor's precision: float32 tensors stay
float32, float64 stay float64, integer tensors are computed in float64.

This module imports torch, so it is imported only once a tensor has arrived.
"""

import functools

import numpy as np
import pywt
import torch
import torch.nn.functional as F

from ._core._contract import LAYOUTS


def kernel(estimator, method):
    """The torch kernel of ``type(estimator).method``, or None."""
    return _KERNELS.get((type(estimator).__name__, method))


def supports(estimator, method):
    """Whether ``estimator``'s settings have a torch kernel for ``method``."""
    if kernel(estimator, method) is None:
        return False
    return _SUPPORTED.get(type(estimator).__name__, lambda est: True)(estimator)


# -- layouts and checks ---------------------------------------------------


def _float(X):
    if X.dtype in (torch.float32, torch.float64):
        return X
    return X.to(torch.float32 if X.is_floating_point() else torch.float64)


def _signals(estimator, X):
    """``X`` as ``(n, *signal_shape_)`` floats, or the numpy path's ValueError."""
    name = type(estimator).__name__
    shape = tuple(estimator.signal_shape_)
    if tuple(X.shape[1:]) != shape:
        flat = X.ndim == 2 and X.shape[1] == int(np.prod(shape))
        if not (flat and getattr(estimator, "signal_shape", None) is not None):
            raise ValueError(
                f"{name} was fitted on signals of shape {shape} but X has signals of shape "
                f"{tuple(X.shape[1:])} (X.shape={tuple(X.shape)})."
            )
        X = X.reshape(len(X), *shape)
    X = _float(X)
    if not bool(torch.isfinite(X).all()):
        raise ValueError(f"{name}: X contains NaN or infinity.")
    return X


def _to_layout(blocks, layout):
    """:func:`skcompress._contract.to_layout` for tensors."""
    n, *grid, channels, k = blocks.shape
    if layout == "flat":
        return blocks.reshape(n, -1)
    if layout == "blocks":
        return blocks if channels > 1 else blocks.reshape(n, *grid, k)
    moved = blocks.reshape(n, -1, channels * k).transpose(1, 2).contiguous()
    return moved.reshape(n, channels * k, *grid)


def _from_layout(Xt, grid, channels, k, layout, name):
    """:func:`skcompress._contract.from_layout` for tensors."""
    grid = tuple(grid)
    per_sample = int(np.prod(grid)) * channels * k
    if layout == "channels_first" and Xt.ndim > 2:
        expected = (channels * k, *grid)
    elif layout == "blocks" and Xt.ndim > 2:
        expected = (*grid, channels, k) if channels > 1 else (*grid, k)
    else:
        expected = (per_sample,)
    if Xt.ndim < 2 or tuple(Xt.shape[1:]) != expected:
        raise ValueError(
            f"{name} expects coefficients of shape (n_samples, {per_sample}) or, in the "
            f"{layout!r} layout, (n_samples, {', '.join(map(str, expected))}); got a tensor "
            f"of shape {tuple(Xt.shape)}."
        )
    n = len(Xt)
    if layout == "channels_first" and Xt.ndim > 2:
        return Xt.reshape(n, channels * k, -1).transpose(1, 2).reshape(n, *grid, channels, k)
    return Xt.reshape(n, *grid, channels, k)


def _index(array, like):
    return torch.tensor(np.asarray(array, dtype=np.int64), device=like.device)


def _tensor(array, like):
    return torch.as_tensor(np.asarray(array, dtype=np.float64), device=like.device).to(like.dtype)


# -- BlockDCT ---------------------------------------------------------------


def _block_dct_supported(est):
    return not est.integer and est.layout in LAYOUTS


def block_dct_transform(est, X):
    if not _block_dct_supported(est):
        return NotImplemented
    X = _signals(est, X)
    b, positions = est.block_size, _index(est._coefficient_positions(), X)
    M = _tensor(est._matrix().astype(np.float64), X)
    n = len(X)
    if est._n_block_axes == 1:
        (w,) = est.grid_shape_
        signals = X - est.level_shift_
        if w * b > X.shape[1]:
            signals = F.pad(signals[:, None], (0, w * b - X.shape[1]), mode="replicate")[:, 0]
        coefs = signals.reshape(n, w, b) @ M.T
        return _to_layout(coefs[..., positions].reshape(n, w, 1, -1), est.layout)
    (h, w), C = est.grid_shape_, est._channels
    images = X.reshape(n, *est.signal_shape_[:2], C).permute(0, 3, 1, 2) - est.level_shift_
    H, W = images.shape[-2:]
    if h * b > H or w * b > W:
        images = F.pad(images, (0, w * b - W, 0, h * b - H), mode="replicate")
    blocks = images.reshape(n, C, h, b, w, b)
    # As the compiled kernel: rows scaled by sqrt(b), so the DCT's rows 0 and b/2
    # are exactly +-1 and the coefficients exact in theory (DC, frequencies 0 and
    # 4 of 8x8 blocks) come out exact, as the kernel's do: quantizing them then
    # rounds the same way at ties.
    root = np.sqrt(np.longdouble(b))
    A = _tensor((root * est._matrix()).astype(np.float64), X)
    B = _tensor((root * est._matrix() / b).astype(np.float64), X)
    coefs = torch.einsum("nchuwv,pu,qv->nhwcpq", blocks, A, B).reshape(n, h, w, C, b * b)
    return _to_layout(coefs[..., positions], est.layout)


def block_dct_inverse(est, Xt):
    if not _block_dct_supported(est):
        return NotImplemented
    Xt = _float(Xt)
    b, d = est.block_size, est._n_block_axes
    positions = _index(est._coefficient_positions(), Xt)
    M = _tensor(est._matrix().astype(np.float64), Xt)
    C = est._channels
    coefs = _from_layout(
        Xt, est.grid_shape_, C, len(positions), est.layout, "BlockDCT.inverse_transform"
    )
    n = len(coefs)
    full = torch.zeros((*coefs.shape[:-1], b**d), dtype=Xt.dtype, device=Xt.device)
    full[..., positions] = coefs
    if d == 1:
        (w,), L = est.grid_shape_, est.signal_shape_[0]
        signals = (full.reshape(n, w, b) @ M).reshape(n, w * b)[:, :L]
        return signals + est.level_shift_
    (h, w) = est.grid_shape_
    blocks = torch.einsum("nhwcpq,pu,qv->nchuwv", full.reshape(n, h, w, C, b, b), M, M)
    H, W = est.signal_shape_[:2]
    images = blocks.reshape(n, C, h * b, w * b)[:, :, :H, :W] + est.level_shift_
    images = images.permute(0, 2, 3, 1)
    return images.reshape(n, *est.signal_shape_).contiguous()


# -- MDCT -------------------------------------------------------------------


@functools.lru_cache(maxsize=16)
def _mdct_basis(frame_length, window, alpha):
    """The MDCT of one frame as a ``(2 M, M)`` matrix, from the numpy path itself."""
    from .transforms import MDCT

    M = frame_length // 2
    mdct = MDCT(frame_length, window=window, alpha=alpha).fit(np.zeros((1, 2 * M)))
    # signals of length 2 M have 3 frames; frame 1 is samples 0 .. 2 M - 1
    return mdct.transform(np.eye(2 * M)).reshape(2 * M, 3, M)[:, 1]


def mdct_transform(est, X):
    if X.ndim > 2:
        return NotImplemented  # the numpy path's error
    X = _signals(est, X)
    n, length = X.shape
    M, frames = est.n_bins_, est.n_frames_
    B = _tensor(_mdct_basis(est.frame_length, est.window, float(est.alpha)), X)
    padded = torch.zeros((n, (frames + 1) * M), dtype=X.dtype, device=X.device)
    padded[:, M : M + length] = X
    coefs = padded.unfold(1, 2 * M, M) @ B
    return _to_layout(coefs.reshape(n, frames, 1, M), est.layout)


def mdct_inverse(est, Xt):
    Xt = _float(Xt)
    M, frames, length = est.n_bins_, est.n_frames_, est.signal_shape_[0]
    coefs = _from_layout(Xt, (frames,), 1, M, est.layout, "MDCT.inverse_transform")
    n = len(coefs)
    B = _tensor(_mdct_basis(est.frame_length, est.window, float(est.alpha)), Xt)
    windowed = coefs.reshape(n, frames, M) @ B.T  # (n, frames, 2 M)
    # hop j of the signal: head of frame j plus tail of frame j - 1 (TDAC)
    hops = windowed[:, 1:, :M] + windowed[:, :-1, M:]
    return hops.reshape(n, -1)[:, :length].contiguous()


# -- ColorTransform ---------------------------------------------------------


def _color_supported(est):
    return est.method == "float" and est.space != "rct"


def color_transform(est, X):
    if not _color_supported(est):
        return NotImplemented
    X = _signals(est, X)
    channels = est._channels
    pixels = X.reshape(-1, channels)
    if est.space == "identity":
        out = pixels.clone()
    else:
        from .transforms._color import _YCBCR

        out = pixels @ _tensor(_YCBCR, X).T
        if est.offset_:
            out = out + _tensor([0.0, est.offset_, est.offset_], X)
    return _to_layout(out.reshape(len(X), *est._spatial, 1, channels), est.layout)


def color_inverse(est, Xt):
    if not _color_supported(est):
        return NotImplemented
    Xt = _float(Xt)
    channels = est._channels
    values = _from_layout(
        Xt, est._spatial, 1, channels, est.layout, "ColorTransform.inverse_transform"
    )
    pixels = values.reshape(-1, channels)
    if est.space == "ycbcr":
        from .transforms._color import _YCBCR_INVERSE

        if est.offset_:
            pixels = pixels - _tensor([0.0, est.offset_, est.offset_], Xt)
        pixels = pixels @ _tensor(_YCBCR_INVERSE, Xt).T
    return pixels.reshape(len(values), *est.signal_shape_).contiguous()


# -- WaveletTransform -------------------------------------------------------

# PyWavelets' signal extensions as numpy.pad modes of the sample indices
_PAD_MODES = {
    "symmetric": "symmetric",
    "reflect": "reflect",
    "constant": "edge",
    "periodic": "wrap",
}


def _filters(wavelet, X):
    w = pywt.Wavelet(wavelet)
    analysis = _tensor(np.stack([w.dec_lo[::-1], w.dec_hi[::-1]])[:, None], X)
    synthesis = _tensor(np.stack([w.rec_lo, w.rec_hi])[:, None], X)
    return analysis, synthesis, w.dec_len


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


def _along(function, axis, *arrays):
    """``function`` applied along ``axis`` (it works on the last one)."""
    moved = [a.transpose(axis, -1) for a in arrays]
    result = function(*moved)
    if isinstance(result, tuple):
        return tuple(r.transpose(axis, -1) for r in result)
    return result.transpose(axis, -1)


def _wavelet_supported(est):
    return est.mode in (*_PAD_MODES, "zero", "periodization")


def wavelet_transform(est, X):
    if not _wavelet_supported(est):
        return NotImplemented
    X = _signals(est, X)
    analysis, _, L = _filters(est.wavelet_, X)
    n, channels = len(X), est._channels
    if est._n_axes == 1:
        approx, bands = X, []
        for _ in range(est.level_):
            approx, detail = _dwt(approx, analysis, L, est.mode)
            bands.append(detail)
        bands = [approx, *bands[::-1]]
    else:
        images = X.permute(0, 3, 1, 2) if X.ndim == 4 else X
        approx, levels = images, []
        for _ in range(est.level_):
            low, high = _dwt(approx, analysis, L, est.mode)  # along the width
            # then down the columns: PyWavelets' cA, cH (detail down the columns), cV, cD
            approx, cH = _along(lambda x: _dwt(x, analysis, L, est.mode), -2, low)
            cV, cD = _along(lambda x: _dwt(x, analysis, L, est.mode), -2, high)
            levels.append((cV, cH, cD))  # HL, LH, HH
        bands = [approx] + [band for level in levels[::-1] for band in level]
    flat = [band.reshape(n, channels, -1) for band in bands]
    return torch.cat(flat, dim=-1).reshape(n, -1)


def wavelet_inverse(est, Xt):
    if not _wavelet_supported(est):
        return NotImplemented
    Xt = _float(Xt)
    n, channels = len(Xt), est._channels
    expected = channels * est._n_coefficients
    if Xt.ndim != 2 or Xt.shape[1] != expected:
        raise ValueError(
            f"WaveletTransform.inverse_transform expects coefficients of shape "
            f"(n_samples, {expected}); got a tensor of shape {tuple(Xt.shape)}."
        )
    _, synthesis, L = _filters(est.wavelet_, Xt)
    per_channel = Xt.reshape(n, channels, -1)
    bands, start = [], 0
    for shape in est.subband_shapes_:
        size = int(np.prod(shape))
        bands.append(per_channel[:, :, start : start + size].reshape(n, channels, *shape))
        start += size
    mode = est.mode
    approx = bands[0]
    if est._n_axes == 1:
        for detail in bands[1:]:
            approx = _idwt(approx[..., : detail.shape[-1]], detail, synthesis, L, mode)
    else:
        for i in range(1, len(bands), 3):
            hl, lh, hh = bands[i : i + 3]
            approx = approx[..., : lh.shape[-2], : lh.shape[-1]]
            low = _along(lambda a, d: _idwt(a, d, synthesis, L, mode), -2, approx, lh)
            high = _along(lambda a, d: _idwt(a, d, synthesis, L, mode), -2, hl, hh)
            approx = _idwt(low, high, synthesis, L, mode)
    spatial = est.signal_shape_[: est._n_axes]
    signals = approx[(..., *(slice(0, s) for s in spatial))]
    if len(est.signal_shape_) == 3:
        return signals.permute(0, 2, 3, 1).contiguous()
    return signals.reshape(n, *spatial).contiguous()


# -- ResidualVQ -------------------------------------------------------------


def _smallest_per_row(D, k):
    """``k`` passes of argmin, ties to the lowest column, as the numpy encoder."""
    rows = torch.arange(len(D), device=D.device)
    columns, values = [], []
    for i in range(k):
        best = D.argmin(dim=1)
        columns.append(best)
        values.append(D[rows, best])
        if i < k - 1:
            D[rows, best] = torch.inf
    return torch.stack(columns, dim=1), torch.stack(values, dim=1)


def _rvq_encode(V, codebooks, beam_size, chunk_pairs):
    S, K, d = codebooks.shape
    scaled = -2 * codebooks.transpose(1, 2)
    norms = (codebooks * codebooks).sum(-1)
    codes = []
    step = max(1, chunk_pairs // (K * beam_size))
    for start in range(0, len(V), step):
        x = V[start : start + step]
        n = len(x)
        rows = torch.arange(n, device=V.device)[:, None]
        residuals = x[:, None, :]
        errors = (x * x).sum(-1)[:, None]
        paths = torch.zeros((n, 1, 0), dtype=torch.int64, device=V.device)
        for s in range(S):
            beams = residuals.shape[1]
            scores = residuals.reshape(n * beams, d) @ scaled[s] + norms[s]
            if beams > 1:
                scores = scores + errors.reshape(n * beams, 1)
            keep = 1 if s == S - 1 else min(beam_size, beams * K)
            kept, values = _smallest_per_row(scores.reshape(n, beams * K), keep)
            errors = values if beams > 1 else values + errors
            parent, code = torch.div(kept, K, rounding_mode="floor"), kept % K
            residuals = residuals[rows, parent] - codebooks[s][code]
            paths = torch.cat([paths[rows, parent], code[..., None]], dim=2)
        codes.append(paths[:, 0])
    return torch.cat(codes) if codes else torch.zeros((0, S), dtype=torch.int64)


def _code_dtype(est):
    return torch.uint8 if est._code_dtype == np.uint8 else torch.int64


def rvq_transform(est, X):
    from .quantization._residual_vq import _CHUNK_PAIRS

    X = _signals(est, X) if X.ndim > 1 else X
    codebooks = torch.as_tensor(est.codebooks_, device=X.device)
    V = X.reshape(-1, est.vector_size_).to(codebooks.dtype)
    codes = _rvq_encode(V, codebooks, est.beam_size, _CHUNK_PAIRS).to(_code_dtype(est))
    n = len(V) // est.n_vectors_
    return _to_layout(codes.reshape(n, *est._grid, 1, est.n_stages), est.layout)


def rvq_inverse(est, codes):
    if codes.is_floating_point():
        return NotImplemented  # the numpy path's error
    S = est.n_stages
    codes = _from_layout(codes, est._grid, 1, S, est.layout, "ResidualVQ.inverse_transform")
    if codes.numel() and (int(codes.min()) < 0 or int(codes.max()) >= est.codebook_size):
        return NotImplemented  # the numpy path's error
    codebooks = torch.as_tensor(est.codebooks_, device=codes.device)
    flat = codes.reshape(-1, S).long()
    out = codebooks[0][flat[:, 0]]
    for s in range(1, S):
        out = out + codebooks[s][flat[:, s]]
    return out.reshape(len(codes), *est.signal_shape_)


# -- PerceptualQuantizer -----------------------------------------------------


def _with_steps(est, X, op):
    """``op(X, steps)``, the steps over every block, as the numpy path lays them."""
    steps = torch.as_tensor(est.steps_, device=X.device)
    m = steps.numel()
    if est.layout == "channels_first" and X.ndim > 2:
        return op(X, steps.reshape(1, m, *([1] * (X.ndim - 2))))
    return op(X.reshape(len(X), -1, m), steps).reshape(X.shape)


def quantizer_transform(est, X):
    from .quantization._perceptual import _INT32_MAX

    scaled = _with_steps(est, _signals(est, X), torch.div)
    magnitude = scaled.abs()
    if magnitude.numel() and float(magnitude.max()) >= _INT32_MAX:
        return NotImplemented  # the numpy path's error
    whole = torch.floor(magnitude)
    if est.deadzone is None:
        whole = whole + (magnitude - whole >= 0.5)  # half away from zero, as numpy
    return torch.copysign(whole, scaled).to(torch.int32)


def quantizer_inverse(est, B):
    if tuple(B.shape[1:]) != tuple(est.signal_shape_) or B.is_complex():
        return NotImplemented  # the numpy path's error
    B = B.to(torch.float64) if not B.is_floating_point() else B
    if est.deadzone is not None:
        B = torch.where(B == 0, 0.0, B + torch.copysign(torch.tensor(est.deadzone), B))
    out = _with_steps(est, B, torch.mul)
    return out.to(torch.float32 if est._dtype == np.float32 else torch.float64)


# -- PyramidVQ --------------------------------------------------------------


def _pvq_supported(est):
    from .quantization._pyramid_vq import _INT64_LIMIT

    # beyond int64 the indices are Python ints, which no tensor holds
    return getattr(est, "codebook_size_", 0) < _INT64_LIMIT


def _pvq_search(X, k):
    """:func:`~skcompress.quantization.pvq_search` on float64 rows, batched."""
    n_vectors, n = X.shape
    Y = torch.zeros((n_vectors, n), dtype=torch.int64, device=X.device)
    if k == 0 or n_vectors == 0:
        return Y
    magnitude = X.abs()
    peak = magnitude.amax(dim=1, keepdim=True)
    magnitude = torch.where(peak > 0, magnitude / torch.where(peak > 0, peak, 1.0), magnitude)
    magnitude[peak[:, 0] == 0, 0] = 1.0
    if k > n // 2:
        l1 = magnitude.sum(dim=1, keepdim=True)
        Y = torch.floor((k + 0.8) / l1 * magnitude).to(torch.int64)
    left = k - Y.sum(dim=1)
    xy = (magnitude * Y).sum(dim=1)
    yy = (Y * Y).sum(dim=1).to(torch.float64)
    growth = 2.0 * Y + 1
    rows = torch.arange(n_vectors, device=X.device)
    for placed in range(int(left.max())):
        # every row scores its positions; only rows with pulses left take one
        active = left > placed
        best = torch.argmax((xy[:, None] + magnitude) ** 2 / (yy[:, None] + growth), dim=1)
        step = active.to(torch.float64)
        xy = xy + magnitude[rows, best] * step
        yy = yy + growth[rows, best] * step
        growth[rows, best] += 2 * step
        Y[rows, best] += active.to(torch.int64)
    return torch.where(X < 0, -Y, Y)


def _pvq_tables(est, like):
    from .quantization._pyramid_vq import _tables

    V, P = _tables(est.vector_size_, est.pulses_)
    return _index(V, like), _index(P, like)


def pvq_transform(est, X):
    if not _pvq_supported(est):
        return NotImplemented
    X = _signals(est, X).to(torch.float64)
    n, k, length = est.vector_size_, est.pulses_, X.shape[-1]
    rows = X.reshape(-1, length)
    if length % n:
        rows = F.pad(rows, (0, -length % n))
    vectors = rows.reshape(-1, n)
    peak = vectors.abs().amax(dim=1) if n else torch.zeros(len(vectors), device=X.device)
    safe = torch.where(peak > 0, peak, 1.0)
    energy = ((vectors / safe[:, None]) ** 2).sum(dim=1)
    db = 20 * torch.log10(peak) + 10 * torch.log10(energy)
    levels = torch.clamp(torch.round(db / est.gain_step), max=est._max_level())
    gains = torch.clamp(levels - est.gain_offset_, min=0).to(torch.int64)
    coded = gains > 0
    Y = _pvq_search(vectors[coded], k)
    index = torch.zeros(len(vectors), dtype=torch.int64, device=X.device)
    if len(Y) and n:
        V, P = _pvq_tables(est, X)
        A = Y.abs()
        left = k - A.cumsum(dim=1) + A
        m = torch.arange(n - 1, -1, -1, device=X.device).expand_as(A)
        offset = V[m, left] + 2 * (P[m, left] - P[m, left - A + 1])
        offset = offset + (Y < 0) * V[m, left - A]
        index[coded] = torch.where(A > 0, offset, 0).sum(dim=1)
    return torch.stack([gains, index], dim=1).reshape(len(X), -1)


def pvq_inverse(est, S):
    from .quantization._pyramid_vq import _unrank

    width = 2 * est.n_vectors_
    if S.ndim != 2 or S.shape[1] != width or S.is_floating_point() or S.is_complex():
        return NotImplemented  # the numpy path's error
    pairs = S.reshape(-1, 2).to(torch.int64)
    gains, index = pairs[:, 0], pairs[:, 1]
    top = est._max_level() - est.gain_offset_ + 1
    if len(pairs) and (
        bool((gains < 0).any() | (gains >= top).any())
        or bool((index < 0).any() | (index >= est.codebook_size_).any())
    ):
        return NotImplemented  # the numpy path's error
    n, k = est.vector_size_, est.pulses_
    Y = torch.zeros((len(pairs), n), dtype=torch.float64, device=S.device)
    coded = (gains > 0) & (k > 0)
    r = index[coded]
    if len(r) and n:
        V, P = _pvq_tables(est, S)
        shapes = torch.zeros((len(r), n), dtype=torch.int64, device=S.device)
        shapes = _unrank(V, P, r, torch.full_like(r, k), shapes, torch).to(torch.float64)
        level = (gains[coded] + est.gain_offset_).to(torch.float64) * (est.gain_step / 20)
        scale = torch.pow(10.0, level) / shapes.square().sum(dim=1).sqrt()
        Y[coded] = shapes * scale[:, None]
    length = est.signal_shape_[-1]
    rows = Y.reshape(-1, -(-length // n) * n)[:, :length]
    dtype = torch.float32 if est._dtype == np.float32 else torch.float64
    return rows.reshape(len(S), *est.signal_shape_).to(dtype)


_SUPPORTED = {
    "BlockDCT": _block_dct_supported,
    "ColorTransform": _color_supported,
    "WaveletTransform": _wavelet_supported,
    "PyramidVQ": _pvq_supported,
}

_KERNELS = {
    ("BlockDCT", "transform"): block_dct_transform,
    ("BlockDCT", "inverse_transform"): block_dct_inverse,
    ("MDCT", "transform"): mdct_transform,
    ("MDCT", "inverse_transform"): mdct_inverse,
    ("ColorTransform", "transform"): color_transform,
    ("ColorTransform", "inverse_transform"): color_inverse,
    ("WaveletTransform", "transform"): wavelet_transform,
    ("WaveletTransform", "inverse_transform"): wavelet_inverse,
    ("ResidualVQ", "transform"): rvq_transform,
    ("ResidualVQ", "inverse_transform"): rvq_inverse,
    ("PerceptualQuantizer", "transform"): quantizer_transform,
    ("PerceptualQuantizer", "inverse_transform"): quantizer_inverse,
    ("PyramidVQ", "transform"): pvq_transform,
    ("PyramidVQ", "inverse_transform"): pvq_inverse,
}
