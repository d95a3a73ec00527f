"""libjpeg's integer arithmetic: emulated in numpy, and whole baseline JPEG compiled.

libjpeg (IJG 6b and libjpeg-turbo, ``JDCT_ISLOW``, the default of ``cjpeg``
and of Pillow) computes the forward DCT of an 8x8 block with the
Loeffler-Ligtenberg-Moschytz factorization in 13-bit fixed point
(``jfdctint.c``): a first pass over the rows keeps ``PASS1_BITS = 2`` bits of
fraction, a second pass over the columns removes them, and every product is
rounded by a right shift (``DESCALE``). Its output ``t`` is about ``8 G``,
eight times the orthonormal DCT coefficient ``G``, within 1.5. The quantizer
(``jcdctmgr.c``) then rounds ``t / (8 Q)`` half away from zero in integers.
Its decoder inverts the two with the same factorization (``jidctint.c``).

The numpy functions reproduce libjpeg bit for bit, one block operation at a
time: fed libjpeg's own samples, they give the quantized coefficients of its
files (the conformance tests check it on photographs and MNIST), so any
difference between :class:`~skcompress.BlockDCT` followed by
:class:`~skcompress.PerceptualQuantizer` and a JPEG file can be traced to one
of the two roundings; they are the reference the compiled kernel is tested
against.

:func:`jpeg_encode` and :func:`jpeg_decode` run whole baseline JPEG in one
compiled pass per image (``_jpeg_kernel.c``): colour conversion, chroma
subsampling, DCT and quantization, or their inverses as libjpeg-turbo decodes,
with JPEGCodec's layout of the coefficients.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

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


def _idct_pass(d, bits):
    """One pass of jidctint.c along the first axis of int64 ``d`` (8, ...)."""
    z1 = (d[2] + d[6]) * _FIX_0_541
    tmp2 = z1 - d[6] * _FIX_1_847
    tmp3 = z1 + d[2] * _FIX_0_765
    tmp0 = (d[0] + d[4]) << _CONST_BITS
    tmp1 = (d[0] - d[4]) << _CONST_BITS
    tmp10, tmp13, tmp11, tmp12 = tmp0 + tmp3, tmp0 - tmp3, tmp1 + tmp2, tmp1 - tmp2
    t0, t1, t2, t3 = d[7], d[5], d[3], d[1]
    z5 = (t0 + t1 + t2 + t3) * _FIX_1_175
    z1 = -(t0 + t3) * _FIX_0_899
    z2 = -(t1 + t2) * _FIX_2_562
    z3 = -(t0 + t2) * _FIX_1_961 + z5
    z4 = -(t1 + t3) * _FIX_0_390 + z5
    t0 = t0 * _FIX_0_298 + z1 + z3
    t1 = t1 * _FIX_2_053 + z2 + z4
    t2 = t2 * _FIX_3_072 + z2 + z3
    t3 = t3 * _FIX_1_501 + z1 + z4
    outs = [tmp10 + t3, tmp11 + t2, tmp12 + t1, tmp13 + t0]
    outs += [tmp13 - t0, tmp12 - t1, tmp11 - t2, tmp10 - t3]
    return _descale(np.stack(outs), bits)


def islow_idct(coefficients):
    """libjpeg's integer slow inverse DCT of dequantized 8x8 blocks, with its range limit.

    ``jidctint.c`` with 64-bit ``JLONG`` (LP64 platforms): columns first,
    their results kept in ints (``PASS1_BITS = 2`` bits of fraction), then
    rows, descaled by 18 bits, plus 128, and limited to 8 bits through
    libjpeg's table (``jdmaster.c``), which clamps results from -512 to 511
    and wraps beyond.

    Parameters
    ----------
    coefficients : array-like of int, shape (..., 8, 8)
        Dequantized coefficients (symbols times steps) in natural order.

    Returns
    -------
    samples : ndarray of uint8, shape (..., 8, 8)

    Examples
    --------
    >>> import numpy as np
    >>> block = np.zeros((8, 8), dtype=int)
    >>> block[0, 0] = 80                        # orthonormal DC: a flat 128 + 10
    >>> int(islow_idct(block)[3, 5])
    138
    """
    coefficients = np.asarray(coefficients)
    if coefficients.shape[-2:] != (8, 8) or coefficients.dtype.kind not in "iu":
        raise ValueError(
            "islow_idct expects integer blocks of shape (..., 8, 8); got "
            f"{coefficients.dtype} values of shape {coefficients.shape}."
        )
    d = np.moveaxis(coefficients.astype(np.int64), -2, 0)  # (u, ..., v): columns
    workspace = _idct_pass(d, _CONST_BITS - _PASS1_BITS)
    workspace = (workspace + 2**31) % 2**32 - 2**31  # held in ints
    rows = _idct_pass(np.moveaxis(workspace, -1, 0), _CONST_BITS + _PASS1_BITS + 3)  # (x, y, ...)
    samples = np.clip((((rows + 512) & 1023) - 512) + 128, 0, 255).astype(np.uint8)
    return np.moveaxis(samples, (0, 1), (-1, -2))


# -- The compiled kernel: whole baseline JPEG between pixels and coefficients --------------

#: Chroma subsampling -> the kernel's code and the (vertical, horizontal) sampling factors
#: of Y (Cb and Cr have (1, 1)).
SUBSAMPLINGS = {"4:4:4": (0, (1, 1)), "4:2:2": (1, (1, 2)), "4:2:0": (2, (2, 2))}
_DCTS = {"islow": 0, "float": 1}
_MAX_STEP = 32767
_kernel = None
_float_parameters = None
_pool = None
_pool_size = 0
_pool_lock = threading.Lock()


def _jpeg_kernel():
    global _kernel
    if _kernel is None:
        from . import _jpeg_kernel

        _kernel = _jpeg_kernel
    return _kernel


def jpeg_grids(shape, n_components, subsampling="4:2:0"):
    """Block grids of the components of a baseline JPEG image, as libjpeg computes them.

    Parameters
    ----------
    shape : (int, int)
        ``(H, W)``, the image's size in pixels.
    n_components : {1, 3}
        Gray, or Y, Cb and Cr.
    subsampling : {"4:2:0", "4:2:2", "4:4:4"}, default="4:2:0"
        Chroma subsampling of colour images; gray images ignore it.

    Returns
    -------
    grids : list of (int, int)
        Block rows and columns of each component:
        ``ceil(H * v / (8 * v_max))`` by ``ceil(W * h / (8 * h_max))``.

    Examples
    --------
    >>> jpeg_grids((20, 30), 3, "4:2:0")
    [(3, 4), (2, 2), (2, 2)]
    >>> jpeg_grids((20, 30), 1)
    [(3, 4)]
    """
    H, W = (int(s) for s in shape)
    _check_subsampling(subsampling)
    if n_components not in (1, 3):
        raise ValueError(f"n_components must be 1 (gray) or 3 (YCbCr); got {n_components!r}.")
    v_max, h_max = SUBSAMPLINGS[subsampling][1] if n_components == 3 else (1, 1)
    factors = [(v_max, h_max)] + [(1, 1)] * (n_components - 1)
    return [(-(-H * v // (8 * v_max)), -(-W * h // (8 * h_max))) for v, h in factors]


def jpeg_component_views(symbols, grids, n_coefficients=64):
    """The block grids of each component as views of a batch of flat symbol rows.

    Parameters
    ----------
    symbols : ndarray of shape (n_samples, n_coefficients * total blocks)
        Rows as :class:`~skcompress.codecs.JPEGCodec` lays them out ("flat"):
        the blocks of each component in raster order, one component after
        the other, ``n_coefficients`` coefficients a block.
    grids : list of (int, int)
        Block rows and columns of each component (:func:`jpeg_grids`).
    n_coefficients : int, default=64
        Coefficients a block (the first ones in zig-zag order).

    Returns
    -------
    views : list of ndarray of shape (n_samples, rows, cols, n_coefficients)
        Views (no copy) that :func:`jpeg_encode` writes into and
        :func:`jpeg_decode` reads in place.

    Examples
    --------
    >>> import numpy as np
    >>> flat = np.zeros((2, 64 * (4 + 1 + 1)), dtype=np.int32)
    >>> [v.shape for v in jpeg_component_views(flat, [(2, 2), (1, 1), (1, 1)])]
    [(2, 2, 2, 64), (2, 1, 1, 64), (2, 1, 1, 64)]
    """
    symbols = np.asarray(symbols)
    k = _check_n_coefficients(n_coefficients)
    total = k * sum(r * c for r, c in grids)
    if symbols.ndim != 2 or symbols.shape[1] != total:
        raise ValueError(
            f"symbols must have shape (n_samples, {total}) for the block grids {list(grids)}; "
            f"got {symbols.shape}."
        )
    if symbols.shape[1] > 1 and symbols.strides[1] != symbols.itemsize:
        raise ValueError(
            "symbols must have contiguous rows (views of them are written to); got strides "
            f"{symbols.strides}. Pass np.ascontiguousarray(symbols)."
        )
    views, start = [], 0
    for rows, cols in grids:
        stop = start + k * rows * cols
        views.append(symbols[:, start:stop].reshape(len(symbols), rows, cols, k))
        start = stop
    return views


def jpeg_encode(images, tables, *, subsampling="4:2:0", dct="islow", n_coefficients=None,
                dtype=np.int32, out=None, n_threads=1):  # fmt: skip
    """Quantized DCT coefficients of 8-bit images, as a baseline JPEG file holds them.

    One compiled pass over each image's pixels, minimum coded unit after
    minimum coded unit: colour conversion, chroma means, 8x8 DCT and
    quantization. With ``dct="islow"`` every step is libjpeg's integer
    arithmetic (``jccolor.c``, ``jcsample.c``, the edge replication of
    ``jcprepct.c``, ``jfdctint.c``, ``jcdctmgr.c``): the coefficients are
    those libjpeg-turbo, and Pillow's ``save``, write with the same tables
    and subsampling, bit for bit. With ``dct="float"`` they are those of
    :class:`~skcompress.ColorTransform`, :class:`~skcompress.ChromaSubsampler`,
    :class:`~skcompress.BlockDCT` and :class:`~skcompress.PerceptualQuantizer`
    chained as :class:`~skcompress.codecs.JPEGCodec` chains them: the same
    float64 operations in the same order, multiplies and adds fused where
    those steps' compiled kernel and OpenBLAS fuse them on processors with
    AVX2 and FMA. Where the two round differently (another build, another
    BLAS), only symbols at a rounding tie that the last bit decides can
    differ, by one.

    Parameters
    ----------
    images : array-like of shape (n_samples, H, W) or (n_samples, H, W, 3)
        Gray or RGB images. ``dct="islow"``: integers from 0 to 255 (uint8
        is used as it is, other dtypes are checked and converted).
        ``dct="float"``: uint8, or any real numbers (computed in float64).
    tables : array-like of shape (n_components, 8, 8) or (8, 8)
        Quantization steps in natural (row-major) order, integers from 1 to
        32767, one table per component (gray: 1; colour: Y, Cb, Cr) or one
        for all. libjpeg-turbo computes ``8 * step`` in 16 bits and so only
        divides correctly by steps up to 8191; this function divides by any.
    subsampling : {"4:2:0", "4:2:2", "4:4:4"}, default="4:2:0"
        Chroma subsampling of colour images (Pillow's ``subsampling=2``,
        ``1``, ``0``); gray images ignore it.
    dct : {"islow", "float"}, default="islow"
        libjpeg's integer arithmetic, or skcompress's floating point steps.
    n_coefficients : int in [1, 64] or None, default=None
        Keep the first ``n_coefficients`` of each block in zig-zag order.
        None: those of ``out`` when given, else 64.
    dtype : {numpy.int32, numpy.int16}, default=numpy.int32
        Type of the coefficients, when ``out`` is None.
    out : list of ndarray or None, default=None
        Arrays to write into, one per component, of shape
        ``(n_samples, rows, cols, n_coefficients)`` and dtype int16 or int32, each
        contiguous within an image (e.g. :func:`jpeg_component_views` of one
        flat array).
    n_threads : int, default=1
        Threads, each coding a share of the images.

    Returns
    -------
    coefficients : list of ndarray of shape (n_samples, rows, cols, n_coefficients)
        Per component (:func:`jpeg_grids`), the blocks in raster order, the
        coefficients of each in zig-zag order: the grids that
        :func:`skcompress.io.read_jpeg_coefficients` returns for a file of
        the image. ``out`` when given.

    Raises
    ------
    ValueError
        Naming the argument: images of another shape or (``islow``) not
        8-bit, tables outside 1..32767 or of the wrong shape, ``out`` of the
        wrong shapes or dtypes, float input whose symbols are not finite or
        do not fit ``dtype``.

    See Also
    --------
    jpeg_decode : the inverse, as libjpeg decodes.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> rgb = rng.integers(0, 256, (2, 20, 30, 3), dtype=np.uint8)
    >>> tables = np.full((3, 8, 8), 16)
    >>> Y, Cb, Cr = jpeg_encode(rgb, tables, subsampling="4:2:0")
    >>> Y.shape, Cb.shape, Y.dtype
    ((2, 3, 4, 64), (2, 2, 2, 64), dtype('int32'))
    >>> flat = np.empty((2, 64 * (12 + 4 + 4)), dtype=np.int32)  # JPEGCodec's layout
    >>> _ = jpeg_encode(rgb, tables, out=jpeg_component_views(flat, [(3, 4), (2, 2), (2, 2)]))
    >>> bool((flat[:, :768].reshape(Y.shape) == Y).all())
    True
    """
    dct = _check_choice(dct, _DCTS, "dct")
    _check_subsampling(subsampling)
    n_threads = _check_threads(n_threads)
    images = _images(images, dct)
    n_components = 3 if images.ndim == 4 else 1
    steps = _tables(tables, n_components)
    grids = jpeg_grids(images.shape[1:3], n_components, subsampling)
    if out is None:
        k = 64 if n_coefficients is None else _check_n_coefficients(n_coefficients)
        dtype = np.dtype(dtype)
        if dtype not in (np.dtype(np.int16), np.dtype(np.int32)):
            raise ValueError(f"dtype must be numpy.int16 or numpy.int32; got {dtype}.")
        out = [np.empty((len(images), r, c, k), dtype=dtype) for r, c in grids]
    else:
        out = _check_planes(out, grids, len(images), "out", writable=True)
        if n_coefficients is not None and out[0].shape[3] != n_coefficients:
            raise ValueError(
                f"out holds {out[0].shape[3]} coefficients a block; n_coefficients is "
                f"{n_coefficients}. Pass one or the other."
            )
    parameters = _float_block_parameters() if dct == "float" else None
    code = SUBSAMPLINGS[subsampling][0]
    kernel = _jpeg_kernel()
    _run(
        lambda start, stop: kernel.encode(
            images, steps, tuple(out), code, _DCTS[dct], start, stop, parameters
        ),
        len(images),
        n_threads,
    )
    return list(out)


def jpeg_decode(coefficients, tables, shape, *, subsampling="4:2:0", channels=None,
                n_threads=1):  # fmt: skip
    """8-bit images from quantized DCT coefficients, as libjpeg-turbo decodes them.

    Bit for bit what libjpeg-turbo's decoder (Pillow's ``Image.open``, with
    its defaults ``JDCT_ISLOW`` and fancy upsampling) gives for a file
    holding these coefficients: dequantization, the integer inverse DCT of
    ``jidctint.c`` with its range limiting, the triangular ("fancy") chroma
    upsampling of ``jdsample.c`` (plain replication where a chroma row has
    at most two samples, as libjpeg chooses), the YCbCr -> RGB tables of
    ``jdcolor.c``, and the crop to ``shape``.

    Parameters
    ----------
    coefficients : list of array-like of shape (n_samples, rows, cols, k)
        Integer symbols of each component (1 gray, or Y, Cb, Cr): the first
        ``k`` (1 to 64, the others zero) of each block in zig-zag order, on
        the grids of :func:`jpeg_grids`, within libjpeg's 16-bit
        range (-32768 to 32767). int16 and int32 arrays contiguous within
        each image are read in place (e.g. :func:`jpeg_component_views`).
    tables : array-like of shape (n_components, 8, 8) or (8, 8)
        Quantization steps in natural order, integers from 1 to 32767.
    shape : (int, int)
        ``(H, W)`` of the images.
    subsampling : {"4:2:0", "4:2:2", "4:4:4"}, default="4:2:0"
        Chroma subsampling of colour coefficients; ignored for gray.
    channels : {None, 1, 3}, default=None
        Output channels: None gives gray images for one component and RGB
        for three; 1 with three components gives the decoded Y plane (as
        libjpeg's ``JCS_GRAYSCALE`` output), 3 with one component repeats
        the gray.
    n_threads : int, default=1
        Threads, each decoding a share of the images.

    Returns
    -------
    images : ndarray of uint8, shape (n_samples, H, W) or (n_samples, H, W, 3)

    Raises
    ------
    ValueError
        Naming the argument: coefficients that are not integers, not in
        libjpeg's 16-bit range or not on the grids of ``shape`` and
        ``subsampling``, tables outside 1..32767.

    See Also
    --------
    jpeg_encode : the coefficients of images.

    Examples
    --------
    >>> import numpy as np
    >>> y, x = np.mgrid[:20, :30]
    >>> rgb = np.stack([8 * x, 12 * y, 4 * (x + y)], axis=-1).astype(np.uint8)[None]
    >>> tables = np.full((3, 8, 8), 2)
    >>> back = jpeg_decode(jpeg_encode(rgb, tables), tables, (20, 30))
    >>> back.shape, back.dtype, int(np.abs(back.astype(int) - rgb).max()) <= 8
    ((1, 20, 30, 3), dtype('uint8'), True)
    """
    _check_subsampling(subsampling)
    n_threads = _check_threads(n_threads)
    if isinstance(coefficients, np.ndarray) or not isinstance(coefficients, (list, tuple)):
        raise ValueError(
            "coefficients must be a list of arrays (n_samples, rows, cols, k), one per "
            f"component; got {type(coefficients).__name__}."
        )
    n_components = len(coefficients)
    if n_components not in (1, 3):
        raise ValueError(
            f"coefficients must hold 1 component (gray) or 3 (Y, Cb, Cr); got {n_components}."
        )
    if (
        len(shape) != 2
        or not all(isinstance(s, (int, np.integer)) and s >= 1 for s in shape)
    ):  # fmt: skip
        raise ValueError(f"shape must be (H, W), two positive ints; got {shape!r}.")
    if channels not in (None, 1, 3):
        raise ValueError(f"channels must be None, 1 or 3; got {channels!r}.")
    grids = jpeg_grids(shape, n_components, subsampling)
    first = np.asarray(coefficients[0])
    n = first.shape[0] if first.ndim == 4 else -1
    planes = _check_planes(coefficients, grids, n, "coefficients", writable=False)
    steps = _tables(tables, n_components)
    channels = channels or n_components
    H, W = (int(s) for s in shape)
    images = np.empty((n, H, W, 3) if channels == 3 else (n, H, W), dtype=np.uint8)
    code = SUBSAMPLINGS[subsampling][0]
    kernel = _jpeg_kernel()
    _run(
        lambda start, stop: kernel.decode(tuple(planes), steps, images, code, start, stop),
        n,
        n_threads,
    )
    return images


def _check_choice(value, options, name):
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{name} must be one of {sorted(options)}; got {value!r}.")
    return value


def _check_subsampling(subsampling):
    return _check_choice(subsampling, SUBSAMPLINGS, "subsampling")


def _check_n_coefficients(n_coefficients):
    if (
        not isinstance(n_coefficients, (int, np.integer))
        or isinstance(n_coefficients, bool)
        or not 1 <= n_coefficients <= 64
    ):
        raise ValueError(f"n_coefficients must be an int from 1 to 64; got {n_coefficients!r}.")
    return int(n_coefficients)


def _check_threads(n_threads):
    if not isinstance(n_threads, (int, np.integer)) or isinstance(n_threads, bool):
        raise ValueError(f"n_threads must be a positive int; got {n_threads!r}.")
    if n_threads < 1:
        raise ValueError(f"n_threads must be a positive int; got {n_threads}.")
    return int(n_threads)


def _images(images, dct):
    """The images as the kernel takes them: uint8, or float64 for ``dct="float"``."""
    images = np.asarray(images)
    if images.ndim not in (3, 4) or (images.ndim == 4 and images.shape[3] != 3):
        raise ValueError(
            "images must be gray (n_samples, H, W) or RGB (n_samples, H, W, 3); got shape "
            f"{images.shape}."
        )
    if 0 in images.shape[1:3]:
        raise ValueError(f"images must be at least 1 x 1 pixels; got shape {images.shape}.")
    if images.dtype == np.uint8:
        return np.ascontiguousarray(images)
    if images.dtype.kind not in "buif":
        raise ValueError(f"images must hold real numbers; got dtype {images.dtype}.")
    if dct == "float":
        return np.ascontiguousarray(images, dtype=np.float64)
    bad = (images < 0) | (images > 255)
    if images.dtype.kind == "f":
        bad |= ~np.isfinite(images) | (images != np.floor(images))
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            "images: dct='islow' (libjpeg's integer arithmetic) needs 8-bit samples, "
            f"integers from 0 to 255; got {images[where].item()!r} at index {where}. Use "
            "dct='float' for other values."
        )
    return np.ascontiguousarray(images, dtype=np.uint8)


def _tables(tables, n_components):
    """int32 steps ``(n_components, 64)`` in natural order, checked."""
    tables = np.asarray(tables)
    if tables.shape == (8, 8):
        tables = np.broadcast_to(tables, (n_components, 8, 8))
    if tables.shape != (n_components, 8, 8) or tables.dtype.kind not in "uif":
        raise ValueError(
            f"tables must be numbers of shape ({n_components}, 8, 8) (one table per "
            f"component, natural order) or (8, 8); got {tables.dtype} values of shape "
            f"{tables.shape}."
        )
    bad = (tables < 1) | (tables > _MAX_STEP)
    if tables.dtype.kind == "f":
        bad |= ~np.isfinite(tables) | (tables != np.floor(tables))
    if bad.any():
        c, row, col = (int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"tables[{c}] has the step {tables[c, row, col].item()!r} at row {row}, column {col}; "
            f"steps must be integers from 1 to {_MAX_STEP}."
        )
    return np.ascontiguousarray(tables.reshape(n_components, 64), dtype=np.int32)


def _check_planes(planes, grids, n, name, writable):
    """One array per component on its grid; int16/int32 contiguous within an image."""
    if len(planes) != len(grids):
        raise ValueError(
            f"{name} must hold {len(grids)} arrays, one per component; got {len(planes)}."
        )
    checked = []
    for c, (plane, (rows, cols)) in enumerate(zip(planes, grids, strict=True)):
        what = f"{name}[{c}]"
        if writable:
            if not isinstance(plane, np.ndarray) or not plane.flags.writeable:
                raise ValueError(f"{what} must be a writable numpy array.")
        else:
            plane = np.asarray(plane)
        k = checked[0].shape[3] if checked else "k"
        expected = f"({n if n >= 0 else 'n_samples'}, {rows}, {cols}, {k})"
        if (
            plane.ndim != 4
            or plane.shape[1:3] != (rows, cols)
            or not 1 <= plane.shape[3] <= 64
            or (checked and plane.shape[3] != k)
            or (n >= 0 and plane.shape[0] != n)
        ):
            raise ValueError(
                f"{what} must have shape {expected} (images, block rows, block columns, "
                "the first k coefficients of each block, 1 <= k <= 64, the same for every "
                f"component); got {plane.shape}."
            )
        if n < 0:
            n = plane.shape[0]
        fits = plane.dtype in (np.int16, np.int32) and plane.dtype.isnative
        inner = plane[0] if len(plane) else plane
        if writable:
            if not fits or not inner.flags.c_contiguous:
                raise ValueError(
                    f"{what} must be int16 or int32 and contiguous within each image; got "
                    f"{plane.dtype} with strides {plane.strides}."
                )
        elif not fits or not inner.flags.c_contiguous:
            plane = _integer_symbols(plane, what)
        checked.append(plane)
    dtypes = {p.dtype for p in checked}
    if len(dtypes) > 1:
        if writable:
            raise ValueError(f"{name}: every component must have the same dtype; got {dtypes}.")
        checked = [p.astype(np.int32, copy=False) for p in checked]
    return checked


def _integer_symbols(plane, what):
    """``plane`` as contiguous int32, if it holds integers in libjpeg's 16-bit range."""
    if plane.dtype.kind not in "buif":
        raise ValueError(f"{what} must hold integers; got dtype {plane.dtype}.")
    bad = (plane < -32768) | (plane > 32767)
    if plane.dtype.kind == "f":
        bad |= ~np.isfinite(plane) | (plane != np.floor(plane))
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"{what} must hold integers from -32768 to 32767 (libjpeg's 16-bit "
            f"coefficients); got {plane[where].item()!r} at index {where}."
        )
    return np.ascontiguousarray(plane, dtype=np.int32)


def _float_block_parameters():
    """What the float path computes with: BlockPlan's matrices, the JFIF colour matrix.

    The forward 8x8 DCT of :class:`~skcompress.BlockDCT` (rows of the DCT matrix
    scaled by sqrt(8), in extended precision, then rounded: the DC and the
    frequencies 0 and 4 come out exact), its level shift of 128 as an offset
    block, and :class:`~skcompress.ColorTransform`'s matrix and chroma offset.
    """
    global _float_parameters
    if _float_parameters is None:
        from .._core._basis import dct_matrix_extended
        from ..transforms._block_kernel import row_sums
        from ..transforms._color import _YCBCR

        M = dct_matrix_extended(8)
        scale = np.sqrt(np.longdouble(8))
        A = (scale * M).astype(np.float64)
        Bt = ((scale * M).T / np.sqrt(np.longdouble(64))).astype(np.float64)
        offset = (-128.0 * np.outer(row_sums(M), row_sums(M))).astype(np.float64)
        _float_parameters = np.concatenate(
            [A.ravel(), Bt.ravel(), offset.ravel(), _YCBCR.ravel(), [128.0]]
        ).astype(np.float64)
        _float_parameters.setflags(write=False)
    return _float_parameters


def _run(call, n, n_threads):
    """``call(start, stop)`` over ``n`` images, on up to ``n_threads`` threads."""
    n_threads = min(n_threads, n)
    if n_threads <= 1:
        call(0, n)
        return
    bounds = np.linspace(0, n, n_threads + 1).astype(int)
    pool = _threads(n_threads - 1)
    futures = [
        pool.submit(call, int(a), int(b)) for a, b in zip(bounds[1:-1], bounds[2:], strict=True)
    ]
    try:
        call(0, int(bounds[1]))
    finally:
        for future in futures:
            future.result()


def _threads(n):
    global _pool, _pool_size
    with _pool_lock:
        if _pool_size < n:
            if _pool is not None:
                _pool.shutdown(wait=False)
            _pool = ThreadPoolExecutor(n, thread_name_prefix="skcompress-jpeg")
            _pool_size = n
        return _pool
