"""HEVC intra coding of gray pictures: the numbers of the standard and the compiled kernel.

The kernel (``_hevc_kernel.c``) codes one picture whose sides are multiples of 8 (the
smallest coding block); this module holds what it is given: the transform matrices
(:func:`skcompress._core._basis.hevc_matrix`), the scaling factors of every transform size,
the encoder's lambda, and the picture padding of HEVC's conformance window.
"""

import numpy as np

from .._core._basis import hevc_matrix
from . import _hevc_kernel

#: Smallest coding block: the coded picture's sides are multiples of it (H.265 7.4.3.2.1).
MIN_CB = 8
#: Symbol maps per 4x4 unit, in this order (log2 sizes; intra mode 0..34).
MAPS = ("cu", "pu", "mode", "tu")

# H.265 Table 7-6: the default 8x8 intra scaling list, in up-right diagonal scan order.
_DEFAULT_INTRA_8x8 = np.array(
    [16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 17, 16, 17, 16, 17, 18,
     17, 18, 18, 17, 18, 21, 19, 20, 21, 20, 19, 21, 24, 22, 22, 24,
     24, 22, 22, 24, 25, 25, 27, 30, 27, 25, 25, 29, 31, 35, 35, 31,
     29, 36, 41, 44, 41, 36, 47, 54, 54, 47, 65, 70, 65, 88, 88, 115]
)  # fmt: skip


def diagonal_scan(n):
    """H.265 6.5.3's up-right diagonal scan of an ``n x n`` block: ``(y, x)`` of each index."""
    out, x, y = [], 0, 0
    while len(out) < n * n:
        while y >= 0:
            if x < n and y < n:
                out.append((y, x))
            y, x = y - 1, x + 1
        y, x = x, 0
    return np.array(out)


def default_intra_list():
    """The standard's default 8x8 intra scaling list as a matrix ``[v, h]`` (natural order)."""
    M = np.empty((8, 8), dtype=np.int64)
    yx = diagonal_scan(8)
    M[yx[:, 0], yx[:, 1]] = _DEFAULT_INTRA_8x8
    return M


def scaling_factors(lists):
    """Scaling factors ``m`` of the 4, 8, 16 and 32-point transforms (H.265 7.4.5).

    Parameters
    ----------
    lists : tuple of ndarray
        ``(4x4, 8x8, 8x8 for 16x16, 8x8 for 32x32)`` scaling lists in natural order; the
        16x16 and 32x32 factors are the 8x8 lists upsampled by repetition, their DC being
        the list's ``[0, 0]`` (``scaling_list_dc_coef``).

    Returns
    -------
    factors : ndarray of int32, shape (1360,)
        The four factor matrices, row-major, one after another.
    """
    l4, l8, l16, l32 = (np.asarray(a, dtype=np.int64) for a in lists)
    f16 = np.repeat(np.repeat(l16, 2, 0), 2, 1)
    f32 = np.repeat(np.repeat(l32, 4, 0), 4, 1)
    return np.concatenate([l4.ravel(), l8.ravel(), f16.ravel(), f32.ravel()]).astype(np.int32)


def hm_lambda(qp):
    """HM's Lagrange multiplier of an all-intra picture: ``0.57 * 2 ** ((QP - 12) / 3)``.

    HM (``TEncSlice::initEncSlice``) multiplies ``2 ** ((QP - 12) / 3)`` by the I-slice
    factor ``0.57 * (1 - clip(0, 0.5, 0.05 * B))``, with ``B = 0`` B-frames in all-intra
    coding: 0.57.
    """
    return 0.57 * 2.0 ** ((qp - 12) / 3.0)


def padded_shape(H, W):
    """The coded picture size: ``H`` and ``W`` rounded up to multiples of :data:`MIN_CB`."""
    return -(-H // MIN_CB) * MIN_CB, -(-W // MIN_CB) * MIN_CB


def pad(images):
    """Pictures ``(..., H, W)`` of the coded size, last row and column repeated (as x265 pads)."""
    H, W = images.shape[-2:]
    Hp, Wp = padded_shape(H, W)
    widths = [(0, 0)] * (images.ndim - 2) + [(0, Hp - H), (0, Wp - W)]
    return np.pad(images, widths, mode="edge")


def encode(pictures, factors, qp, ctu_log2, rdoq, chroma=None):
    """Code padded uint8 pictures (and their 4:2:0 chroma planes), one compiled call.

    Parameters
    ----------
    pictures : ndarray of uint8, shape (n, Hp, Wp) or (Hp, Wp)
        Luma, sides multiples of 8 (one picture: every output for that one).
    chroma : ndarray of uint8, shape (n, 2, Hp // 2, Wp // 2) or (2, Hp // 2, Wp // 2), or None
        Cb and Cr.

    Returns
    -------
    payloads : list of bytes (bytes for one picture)
    reconstruction : ndarray of uint8, shape (n, Hp, Wp)
    coefficients : ndarray of int32, shape (n, Hp, Wp)
        Each transform block's levels at its place, ``[v, h]`` frequencies.
    maps : ndarray of uint8, shape (n, 5, Hp // 4, Wp // 4)
        :data:`MAPS` and the chroma mode syntax (0..4, 4 for "as luma") per 4x4 unit.
    chroma_reconstruction, chroma_coefficients : ndarray, shape (n, 2, Hp // 2, Wp // 2), or None
    """
    single = np.ndim(pictures) == 2
    pictures = np.ascontiguousarray(pictures, dtype=np.uint8).reshape(-1, *np.shape(pictures)[-2:])
    n, Hp, Wp = pictures.shape
    rec = np.empty((n, Hp, Wp), dtype=np.uint8)
    coef = np.empty((n, Hp, Wp), dtype=np.int32)
    maps = np.empty((n, 5, Hp // 4, Wp // 4), dtype=np.uint8)
    recc = coefc = None
    if chroma is not None:
        chroma = np.ascontiguousarray(chroma, dtype=np.uint8).reshape(n, 2, Hp // 2, Wp // 2)
        recc = np.empty((n, 2, Hp // 2, Wp // 2), dtype=np.uint8)
        coefc = np.empty((n, 2, Hp // 2, Wp // 2), dtype=np.int32)
    payloads = _hevc_kernel.encode(
        pictures, chroma, rec, recc, coef, coefc, maps, factors, n, Hp, Wp, qp, hm_lambda(qp),
        ctu_log2, int(rdoq),
    )  # fmt: skip
    out = [payloads, rec, coef, maps, recc, coefc]
    if single:
        out = [payloads[0]] + [None if a is None else a[0] for a in out[1:]]
    return tuple(out)


def parse(payloads, Hp, Wp, ctu_log2, chroma=False):
    """Symbols of payloads: coefficients ``(n, Hp, Wp)``, maps, chroma coefficients (or None).

    One payload (bytes): the symbols of that one. ValueError naming the first stream that is
    corrupt or truncated.
    """
    single = isinstance(payloads, (bytes, bytearray, memoryview))
    payloads = [payloads] if single else list(payloads)
    n = len(payloads)
    coef = np.empty((n, Hp, Wp), dtype=np.int32)
    coefc = np.empty((n, 2, Hp // 2, Wp // 2), dtype=np.int32) if chroma else None
    maps = np.empty((n, 5, Hp // 4, Wp // 4), dtype=np.uint8)
    _hevc_kernel.parse(payloads, coef, coefc, maps, n, Hp, Wp, ctu_log2)
    if single:
        return coef[0], maps[0], None if coefc is None else coefc[0]
    return coef, maps, coefc


def reconstruct(coef, maps, factors, qp, ctu_log2, coefc=None):
    """The decoded pictures of symbols (prediction, scaling, inverse transform, in z-order).

    ``coef`` ``(n, Hp, Wp)`` (or one picture's ``(Hp, Wp)``) and ``maps`` ``(n, 5, Hp // 4,
    Wp // 4)``; returns the luma pictures and, with ``coefc``, the chroma planes.
    """
    single = np.ndim(coef) == 2
    coef = np.ascontiguousarray(coef, dtype=np.int32).reshape(-1, *np.shape(coef)[-2:])
    n, Hp, Wp = coef.shape
    maps = np.ascontiguousarray(maps, dtype=np.uint8).reshape(n, 5, Hp // 4, Wp // 4)
    rec = np.empty((n, Hp, Wp), dtype=np.uint8)
    recc = None
    if coefc is not None:
        coefc = np.ascontiguousarray(coefc, dtype=np.int32).reshape(n, 2, Hp // 2, Wp // 2)
        recc = np.empty((n, 2, Hp // 2, Wp // 2), dtype=np.uint8)
    _hevc_kernel.reconstruct(coef, coefc, maps, rec, recc, factors, n, Hp, Wp, qp, ctu_log2)
    if single:
        return rec[0], None if recc is None else recc[0]
    return rec, recc


def predict(picture, x0, y0, size, mode, ctu_size=64):
    """Intra prediction of one block from the samples of ``picture`` (H.265 8.4.4.2).

    Samples left of and above the block count as reconstructed where the z-scan
    order of 4x4 units (CTUs of ``ctu_size``) puts them before the block; the others
    are unavailable and substituted, as the standard does.

    Parameters
    ----------
    picture : ndarray of uint8, shape (H, W)
        Sides multiples of 8.
    x0, y0 : int
        Top-left sample of the block (column, row).
    size : {4, 8, 16, 32}
    mode : int in [0, 34]
        0 planar, 1 DC, 2..34 angular.
    ctu_size : {16, 32, 64}

    Returns
    -------
    prediction : ndarray of uint8, shape (size, size)

    Examples
    --------
    >>> import numpy as np
    >>> picture = np.full((8, 8), 100, dtype=np.uint8)
    >>> int(predict(picture, 4, 4, 4, mode=1)[2, 2])
    100
    """
    picture = np.ascontiguousarray(picture, dtype=np.uint8)
    H, W = picture.shape
    out = np.empty((size, size), dtype=np.uint8)
    log2 = int(size).bit_length() - 1
    _hevc_kernel.predict(
        picture, out, H, W, int(x0), int(y0), log2, int(mode), int(ctu_size).bit_length() - 1
    )
    return out


def _matrices():
    parts = [hevc_matrix(n).ravel() for n in (4, 8, 16, 32)] + [hevc_matrix(4, "dst7").ravel()]
    return np.concatenate(parts).astype(np.int32)


_hevc_kernel.set_matrices(_matrices())
