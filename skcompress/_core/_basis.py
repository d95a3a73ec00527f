"""Transform matrices and coefficient orders shared by the block transforms."""

from functools import lru_cache

import numpy as np


@lru_cache(maxsize=32)
def dct_matrix(n):
    """Orthonormal DCT-II matrix ``C`` of size ``n``: ``coefficients = C @ x``.

    ``C[k, i] = a_k cos(pi (2 i + 1) k / (2 n))`` with ``a_0 = sqrt(1/n)`` and
    ``a_k = sqrt(2/n)``, so ``C @ C.T`` is the identity (scipy's
    ``dct(x, norm="ortho")``).

    Examples
    --------
    >>> import numpy as np
    >>> C = dct_matrix(8)
    >>> bool(np.allclose(C @ C.T, np.eye(8)))
    True
    """
    C = dct_matrix_extended(n).astype(np.float64)
    C.setflags(write=False)
    return C


@lru_cache(maxsize=32)
def dct_matrix_extended(n):
    # long double where the platform has it: entries scaled by sqrt(n) (see
    # BlockPlan) then round to exactly +-1 where they should.
    k = np.arange(n, dtype=np.longdouble)[:, None]
    i = np.arange(n, dtype=np.longdouble)[None, :]
    pi = np.longdouble("3.14159265358979323846264338327950288")
    C = np.sqrt(np.longdouble(2) / n) * np.cos(pi * (2 * i + 1) * k / (2 * n))
    C[0] = 1 / np.sqrt(np.longdouble(n))
    return C


@lru_cache(maxsize=32)
def zigzag_order(n):
    """Raster indices of an ``n x n`` block in JPEG's zig-zag scan order.

    ``zigzag_order(8)[z]`` is the row-major position (``8 * row + col``) of the
    ``z``-th coefficient of the scan, as libjpeg's ``jpeg_natural_order``.
    Anti-diagonals are walked alternately: down-left on odd ones, up-right on
    even ones.

    Examples
    --------
    >>> zigzag_order(4).tolist()
    [0, 1, 4, 8, 5, 2, 3, 6, 9, 12, 13, 10, 7, 11, 14, 15]
    """
    row, col = np.divmod(np.arange(n * n), n)
    diagonal = row + col
    order = np.lexsort((np.where(diagonal % 2 == 1, row, -row), diagonal))
    order.setflags(write=False)
    return order


@lru_cache(maxsize=32)
def dst7_matrix(n):
    """Orthonormal DST-VII matrix of size ``n``: ``coefficients = S @ x``.

    ``S[k, i] = 2 / sqrt(2 n + 1) sin(pi (2 k + 1) (i + 1) / (2 n + 1))``, the
    transform HEVC applies to 4x4 intra luma residuals (its first basis
    function rises from the predicted edge).

    Examples
    --------
    >>> import numpy as np
    >>> S = dst7_matrix(4)
    >>> bool(np.allclose(S @ S.T, np.eye(4)))
    True
    >>> np.round(128 * S[0]).astype(int).tolist()   # HEVC's first row: 29 55 74 84
    [29, 55, 74, 84]
    """
    S = dst7_matrix_extended(n).astype(np.float64)
    S.setflags(write=False)
    return S


@lru_cache(maxsize=32)
def dst7_matrix_extended(n):
    k = np.arange(n, dtype=np.longdouble)[:, None]
    i = np.arange(n, dtype=np.longdouble)[None, :]
    pi = np.longdouble("3.14159265358979323846264338327950288")
    return 2 / np.sqrt(np.longdouble(2 * n + 1)) * np.sin(pi * (2 * k + 1) * (i + 1) / (2 * n + 1))


# HEVC's integer approximations of 64 sqrt(2) cos(j pi / 64), j = 0..32 (ITU-T
# H.265, 8.6.4.2: every entry of its 4- to 32-point DCT matrices is one of these,
# up to sign; the DC row is 64).
_HEVC_COSINES = (
    90, 90, 90, 90, 89, 88, 87, 85, 83, 82, 80, 78, 75, 73, 70, 67,
    64, 61, 57, 54, 50, 46, 43, 38, 36, 31, 25, 22, 18, 13, 9, 4, 0,
)  # fmt: skip
_HEVC_DST7_4 = ((29, 55, 74, 84), (74, 74, 0, -74), (84, -29, -74, 55), (55, -84, 74, -29))


@lru_cache(maxsize=8)
def hevc_matrix(n, kind="dct2"):
    """HEVC's integer transform matrix (H.265 8.6.4.2).

    Parameters
    ----------
    n : {4, 8, 16, 32}
        Transform size (DST-VII: 4 only).
    kind : {"dct2", "dst7"}

    Returns
    -------
    matrix : ndarray of int64, shape (n, n)
        Row ``k`` is basis function ``k`` scaled by about ``64 sqrt(n)``, so
        ``matrix / (64 sqrt(n))`` is nearly orthonormal.

    Examples
    --------
    >>> hevc_matrix(4).tolist()
    [[64, 64, 64, 64], [83, 36, -36, -83], [64, -64, -64, 64], [36, -83, 83, -36]]
    >>> hevc_matrix(8)[1].tolist()
    [89, 75, 50, 18, -18, -50, -75, -89]
    """
    if kind == "dst7":
        if n != 4:
            raise ValueError(f"HEVC's DST-VII is 4x4 only; got n={n}.")
        M = np.array(_HEVC_DST7_4, dtype=np.int64)
    elif kind == "dct2" and n in (4, 8, 16, 32):
        k = np.arange(n)[:, None]
        i = np.arange(n)[None, :]
        # angle of entry (k, i) in units of pi / 64, folded into the first quadrant
        angle = ((2 * i + 1) * k * (32 // n)) % 128
        quadrant_angle = np.where(angle <= 64, angle, 128 - angle)
        folded = np.where(quadrant_angle <= 32, quadrant_angle, 64 - quadrant_angle)
        sign = np.where(quadrant_angle <= 32, 1, -1)
        M = sign * np.asarray(_HEVC_COSINES)[folded]
        M[0] = 64
    else:
        raise ValueError(
            f"HEVC defines kind='dct2' for n in (4, 8, 16, 32) and 'dst7' for n=4; got "
            f"kind={kind!r}, n={n}."
        )
    M = M.astype(np.int64)
    M.setflags(write=False)
    return M
