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
    C = _dct_matrix_extended(n).astype(np.float64)
    C.setflags(write=False)
    return C


@lru_cache(maxsize=32)
def dct2_matrix(n):
    """Orthonormal 2-D DCT-II of ``n x n`` blocks as one ``(n*n, n*n)`` matrix.

    Row ``n * u + v`` holds the basis image of frequency ``(u, v)`` raster
    ordered, so ``coefficients = D @ block.ravel()``. The Kronecker product is
    formed in extended precision before rounding, so entries that are exact in
    theory (``1/8`` at frequencies 0 and 4 of an 8x8 block) are exact here:
    libjpeg computes those coefficients exactly, and a value half-way between
    two quantization levels must round the same way.

    Examples
    --------
    >>> float(dct2_matrix(8)[0, 0])
    0.125
    """
    C = _dct_matrix_extended(n)
    D = np.kron(C, C).astype(np.float64)
    D.setflags(write=False)
    return D


@lru_cache(maxsize=32)
def _dct_matrix_extended(n):
    # long double where the platform has it: products of entries then round
    # correctly to float64.
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
