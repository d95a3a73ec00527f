"""HEVC's integer core transform (ITU-T H.265 8.6.4, and the HM encoder's forward).

The standard fixes the inverse (decoder) exactly; the forward transform is the
encoder's choice, and this follows the reference encoder HM: the horizontal
pass first, each pass a product with the integer matrix followed by a rounding
right shift, so that coefficients fit 16 bits for 8-bit video.
"""

import numpy as np

from .._core._basis import hevc_matrix

# Bit depth of the samples (HEVC Main profile) and the dynamic range of the
# coefficients (H.265: 15 bits plus sign).
BIT_DEPTH = 8
_COEFF_MIN, _COEFF_MAX = -(1 << 15), (1 << 15) - 1


def _shifts(n, inverse):
    log2n = int(n).bit_length() - 1
    if inverse:  # H.265 8.6.4.2: bdShift after the first (vertical) stage is 7
        return 7, 20 - BIT_DEPTH
    return log2n + BIT_DEPTH - 9, log2n + 6  # HM: TRANSFORM_MATRIX_SHIFT 6, range 15


def _round_shift(values, shift):
    return (values + (1 << (shift - 1))) >> shift


def hevc_forward(blocks, kind="dct2"):
    """HEVC's forward integer transform of residual blocks.

    Parameters
    ----------
    blocks : ndarray of int64, shape (..., n, n)
        Integer residuals, ``n`` in (4, 8, 16, 32) (4 for ``kind="dst7"``).
    kind : {"dct2", "dst7"}

    Returns
    -------
    coefficients : ndarray of int64, shape (..., n, n)
        ``[u, v]``: vertical frequency ``u``, horizontal ``v``; about
        ``2 ** (15 - 8) / n`` times the orthonormal coefficients.

    Examples
    --------
    >>> import numpy as np
    >>> int(hevc_forward(np.full((4, 4), 10))[0, 0])   # 32 times the orthonormal DC, 40
    1280
    """
    n = blocks.shape[-1]
    M = hevc_matrix(n, kind)
    first, second = _shifts(n, inverse=False)
    rows = _round_shift(blocks @ M.T, first)  # horizontal: along each row
    return _round_shift(M @ rows, second)


def hevc_inverse(coefficients, kind="dct2"):
    """HEVC's inverse integer transform (H.265 8.6.4.2), exact to the standard.

    Parameters
    ----------
    coefficients : ndarray of int64, shape (..., n, n)
    kind : {"dct2", "dst7"}

    Returns
    -------
    residuals : ndarray of int64, shape (..., n, n)

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(16).reshape(4, 4) - 8
    >>> bool((hevc_inverse(hevc_forward(x)) == x).all())
    True
    """
    n = coefficients.shape[-1]
    M = hevc_matrix(n, kind)
    first, second = _shifts(n, inverse=True)
    columns = np.clip(_round_shift(M.T @ coefficients, first), _COEFF_MIN, _COEFF_MAX)
    return _round_shift(columns @ M, second)
