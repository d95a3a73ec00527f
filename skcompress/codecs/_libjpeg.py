"""libjpeg's integer slow DCT and integer quantization, emulated exactly in numpy.

libjpeg (IJG 6b and libjpeg-turbo, ``JDCT_ISLOW``, the default of ``cjpeg``
and of Pillow) computes the forward DCT of an 8x8 block with the
Loeffler-Ligtenberg-Moschytz factorization in 13-bit fixed point
(``jfdctint.c``): a first pass over the rows keeps ``PASS1_BITS = 2`` bits of
fraction, a second pass over the columns removes them, and every product is
rounded by a right shift (``DESCALE``). Its output ``t`` is about ``8 G``,
eight times the orthonormal DCT coefficient ``G``, within 1.5. The quantizer
(``jcdctmgr.c``) then rounds ``t / (8 Q)`` half away from zero in integers.

These two functions reproduce libjpeg bit for bit: fed libjpeg's own samples,
they give the quantized coefficients of its files (the conformance tests check
it on photographs and MNIST), so any difference between
:class:`~skcompress.BlockDCT` followed by
:class:`~skcompress.PerceptualQuantizer` and a JPEG file can be traced to one
of the two roundings.
"""

import numpy as np

_CONST_BITS = 13
_PASS1_BITS = 2


def _fix(x):
    return round(x * (1 << _CONST_BITS))


# The cos / sin products of the LLM factorization (jfdctint.c's FIX_0_298631336 ...)
_FIX_0_298 = _fix(0.298631336)
_FIX_0_390 = _fix(0.390180644)
_FIX_0_541 = _fix(0.541196100)
_FIX_0_765 = _fix(0.765366865)
_FIX_0_899 = _fix(0.899976223)
_FIX_1_175 = _fix(1.175875602)
_FIX_1_501 = _fix(1.501321110)
_FIX_1_847 = _fix(1.847759065)
_FIX_1_961 = _fix(1.961570560)
_FIX_2_053 = _fix(2.053119869)
_FIX_2_562 = _fix(2.562915447)
_FIX_3_072 = _fix(3.072711026)

#: Natural positions (row-major ``u * 8 + v``) whose basis functions are all
#: +-1/8: (0, 0), (0, 4), (4, 0) and (4, 4). libjpeg computes these
#: coefficients exactly, and so does :class:`~skcompress.BlockDCT`.
EXACT_POSITIONS = (0, 4, 32, 36)


def _descale(x, bits):
    """Right shift by ``bits`` with rounding (libjpeg's ``DESCALE``)."""
    return (x + (1 << (bits - 1))) >> bits


def _fdct_pass(d, first_pass):
    """One pass of jfdctint.c along the first axis of int64 ``d`` (8, ...)."""
    s07, d07 = d[0] + d[7], d[0] - d[7]
    s16, d16 = d[1] + d[6], d[1] - d[6]
    s25, d25 = d[2] + d[5], d[2] - d[5]
    s34, d34 = d[3] + d[4], d[3] - d[4]
    even_sum, even_diff = s07 + s34, s07 - s34
    odd_sum, odd_diff = s16 + s25, s16 - s25
    out = np.empty_like(d)
    if first_pass:  # keep PASS1_BITS of fraction for the second pass
        out[0] = (even_sum + odd_sum) << _PASS1_BITS
        out[4] = (even_sum - odd_sum) << _PASS1_BITS
        bits = _CONST_BITS - _PASS1_BITS
    else:
        out[0] = _descale(even_sum + odd_sum, _PASS1_BITS)
        out[4] = _descale(even_sum - odd_sum, _PASS1_BITS)
        bits = _CONST_BITS + _PASS1_BITS
    z = (odd_diff + even_diff) * _FIX_0_541
    out[2] = _descale(z + even_diff * _FIX_0_765, bits)
    out[6] = _descale(z - odd_diff * _FIX_1_847, bits)
    z5 = (d34 + d16 + d25 + d07) * _FIX_1_175
    z1 = -(d34 + d07) * _FIX_0_899
    z2 = -(d25 + d16) * _FIX_2_562
    z3 = -(d34 + d16) * _FIX_1_961 + z5
    z4 = -(d25 + d07) * _FIX_0_390 + z5
    out[7] = _descale(d34 * _FIX_0_298 + z1 + z3, bits)
    out[5] = _descale(d25 * _FIX_2_053 + z2 + z4, bits)
    out[3] = _descale(d16 * _FIX_3_072 + z2 + z3, bits)
    out[1] = _descale(d07 * _FIX_1_501 + z1 + z4, bits)
    return out


def islow_fdct(blocks):
    """libjpeg's integer slow forward DCT of level-shifted 8x8 blocks.

    Parameters
    ----------
    blocks : array-like of int, shape (..., 8, 8)
        Samples minus the level shift (``pixel - 128`` for 8-bit images), any
        number of leading axes; rows then columns of each block.

    Returns
    -------
    t : ndarray of int64, shape (..., 8, 8)
        libjpeg's scaled coefficients in natural order: about ``8 G`` for the
        orthonormal DCT coefficients ``G``, within 1.5 (exact at
        :data:`EXACT_POSITIONS`).

    Examples
    --------
    >>> import numpy as np
    >>> block = np.full((8, 8), 10)             # flat: only the DC is not zero
    >>> int(islow_fdct(block)[0, 0])            # 8 * (orthonormal DC = 80)
    640
    >>> ramp = np.arange(64).reshape(8, 8) - 32
    >>> islow_fdct(ramp)[0, :3].tolist()
    [-32, -146, 0]
    """
    blocks = np.asarray(blocks)
    if blocks.shape[-2:] != (8, 8):
        raise ValueError(f"islow_fdct expects blocks of shape (..., 8, 8); got {blocks.shape}.")
    if not np.issubdtype(blocks.dtype, np.integer):
        raise TypeError(f"islow_fdct expects integer samples; got dtype {blocks.dtype}.")
    # rows: the transform runs along the last axis, moved first
    d = np.moveaxis(blocks.astype(np.int64), -1, 0)
    rows = _fdct_pass(d, first_pass=True)  # (v, ..., u)
    columns = _fdct_pass(np.moveaxis(rows, -1, 0), first_pass=False)  # (u, v, ...)
    return np.moveaxis(columns, (0, 1), (-2, -1))


def libjpeg_quantize(t, steps):
    """libjpeg's quantization of its scaled coefficients: ``t / (8 Q)`` half away from zero.

    Parameters
    ----------
    t : array-like of int, shape (..., 8, 8)
        Output of :func:`islow_fdct` (eight times the coefficients).
    steps : array-like of int, shape (8, 8)
        The quantization table ``Q`` in natural order (any shape that
        broadcasts against ``t``).

    Returns
    -------
    symbols : ndarray of int64, the shape of ``t`` and ``steps`` broadcast

    Examples
    --------
    >>> import numpy as np
    >>> libjpeg_quantize(np.array([-12, -4, 4, 11, 12]), 1).tolist()   # 8 Q = 8
    [-2, -1, 1, 1, 2]
    """
    t = np.asarray(t, dtype=np.int64)
    divisor = 8 * np.asarray(steps, dtype=np.int64)
    return np.sign(t) * ((np.abs(t) + divisor // 2) // divisor)


def islow_blocks(images, level_shift=128):
    """libjpeg's scaled DCT of whole images: edge padding to 8x8 blocks, then :func:`islow_fdct`.

    Sizes that 8 does not divide are padded by replicating the last row and
    column, as libjpeg's encoder does.

    Parameters
    ----------
    images : array-like of int, shape (n_samples, H, W)
        8-bit samples of gray images or of one colour plane.
    level_shift : int, default=128
        Subtracted from every sample first.

    Returns
    -------
    t : ndarray of int64, shape (n_samples, ceil(H / 8), ceil(W / 8), 8, 8)

    Examples
    --------
    >>> import numpy as np
    >>> t = islow_blocks(np.full((1, 10, 12), 128 + 4))
    >>> t.shape, int(t[0, 1, 1, 0, 0])
    ((1, 2, 2, 8, 8), 256)
    """
    images = np.asarray(images)
    if images.ndim != 3:
        raise ValueError(f"islow_blocks expects images (n_samples, H, W); got {images.shape}.")
    n, H, W = images.shape
    padded = np.pad(images, [(0, 0), (0, -H % 8), (0, -W % 8)], mode="edge")
    h, w = padded.shape[1] // 8, padded.shape[2] // 8
    blocks = padded.reshape(n, h, 8, w, 8).swapaxes(2, 3).astype(np.int64) - int(level_shift)
    return islow_fdct(blocks)
