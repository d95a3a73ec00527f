"""Augmentation on quantized JPEG coefficients, without decoding: flips, rotations, crops,
2x resizing, brightness and contrast.

Every function takes either a file's coefficients, as
:func:`~skcompress.io.read_jpeg_coefficients` returns them (a Bunch; any
sampling factors), and returns a Bunch of the same fields that
:func:`~skcompress.io.write_jpeg_coefficients` writes as it is; or a batch of
images' blocks ``(n, rows, cols, k)`` (gray) or ``(n, rows, cols, C, k)``
(components on one grid: 4:4:4), as ``JPEGCodec(layout="blocks")`` gives
them, and returns a batch, computed for all images at once. A batch carrying
a block-DCT structure (a ``JPEGCodec`` output, any layout) keeps it, with its
new grid and image size; a plain array is read as whole 8x8 blocks.

Flips, rotations and crops move blocks and change the signs of odd
frequencies (libjpeg-turbo's ``transupp.c``, what ``jpegtran`` does): they
are exact. Where the image does not fill its last minimum coded unit (MCU:
8 x 8 pixels for gray and 4:4:4, 16 x 16 for 4:2:0), the partial edge MCUs
that an operation would move inside the image are dropped first, as
``jpegtran -trim`` drops them.
"""

from collections.abc import Mapping
from dataclasses import replace
from functools import lru_cache
from numbers import Integral, Real

import numpy as np
from sklearn.utils import Bunch

from .._core._basis import dct_matrix, zigzag_order
from .._core._structure import structure_of

_AXES = ("high", "wide")


# -- the two input forms ---------------------------------------------------------------------


class _Blocks:
    """Component planes ``(n, rows, cols, k)`` of a file (n = 1) or a batch.

    ``factors``: ``(n_components, 2)`` vertical and horizontal sampling factors (also as
    Python ints: ``pairs``, and ``mcu``, the MCU's height and width in pixels); ``shape``:
    ``(H, W)`` pixels; ``tables``: ``(n_components, 8, 8)`` steps in natural order, or None
    (never written to); ``luma``: the components that hold the brightness (Y, gray; R, G
    and B); ``source``: the input, to give the result back in its form. A plain class with
    a cheap ``with_``: an augmentation of one file makes several.
    """

    def __init__(self, planes, factors, shape, tables, luma, source, structure=None, pairs=None):
        self.planes, self.shape, self.tables = planes, shape, tables
        self.luma, self.source, self.structure = luma, source, structure
        self._set_factors(factors, pairs)

    def _set_factors(self, factors, pairs=None):
        self.factors = factors
        self.pairs = factors.tolist() if pairs is None else pairs  # never written to
        vertical, horizontal = zip(*self.pairs, strict=True)
        self.mcu = (8 * max(vertical), 8 * max(horizontal))

    @property
    def k(self):
        return self.planes[0].shape[-1]

    def with_(self, **changes):
        new = object.__new__(_Blocks)
        new.__dict__.update(self.__dict__)
        factors = changes.pop("factors", None)
        new.__dict__.update(changes)
        if factors is not None:
            new._set_factors(factors)
        return new


def _read(coefficients, name, quantization_tables=None):
    """``coefficients`` as :class:`_Blocks`, checked."""
    if type(coefficients) in (Bunch, dict) or isinstance(coefficients, Mapping):
        return _read_file(coefficients, name, quantization_tables)
    if isinstance(coefficients, np.ndarray):
        return _read_batch(coefficients, name, quantization_tables)
    raise TypeError(
        f"{name}: coefficients must be read_jpeg_coefficients' result (a Bunch) or a batch "
        "of blocks, an ndarray (n, rows, cols, k) or (n, rows, cols, C, k); got "
        f"{type(coefficients).__name__}."
    )


def _read_file(jpeg, name, quantization_tables):
    # the checks work on Python ints and shapes, not numpy reductions over a few sampling
    # factors: one file's augmentation (a data set's item) should cost little beyond its copies
    if "coefficients" not in jpeg or "sampling_factors" not in jpeg or "shape" not in jpeg:
        missing = [f for f in ("coefficients", "sampling_factors", "shape") if f not in jpeg]
        raise ValueError(
            f"{name}: a mapping passed as coefficients must be read_jpeg_coefficients' "
            f"result; it lacks the fields {missing}."
        )
    if quantization_tables is not None:
        raise ValueError(
            f"{name}: quantization_tables is for batches of blocks; a file's coefficients "
            "carry their own (its 'quantization_tables' field)."
        )
    planes = list(map(np.asarray, jpeg["coefficients"]))
    factors = np.asarray(jpeg["sampling_factors"], dtype=np.int64).reshape(-1, 2)
    pairs = factors.tolist()
    if not planes or len(pairs) != len(planes) or min(map(min, pairs)) < 1:
        raise ValueError(
            f"{name}: the file's coefficients ({len(planes)} components) and "
            f"sampling_factors {pairs} do not match."
        )
    shape = tuple(map(int, jpeg["shape"]))
    vertical, horizontal = zip(*pairs, strict=True)
    mcu_height, mcu_width = 8 * max(vertical), 8 * max(horizontal)
    k = planes[0].shape[2] if planes[0].ndim == 3 else None  # None: component 0 is refused
    for c, (plane, (v, h)) in enumerate(zip(planes, pairs, strict=True)):
        grid = (-(-shape[0] * v // mcu_height), -(-shape[1] * h // mcu_width))
        if plane.shape != (*grid, k):
            raise ValueError(
                f"{name}: component {c} has blocks of shape {plane.shape}; an image of "
                f"{shape[0]} x {shape[1]} pixels with sampling factors {pairs} "
                f"has {grid[0]} x {grid[1]} blocks of k coefficients there (the same k in "
                "every component)."
            )
        _check_dtype(plane.dtype, name)
    _check_k(k, name)
    tables = jpeg.get("quantization_tables")
    if tables is not None:
        tables = _check_tables(tables, len(planes), name, "the file's quantization_tables")
    rgb = jpeg.get("color_space") == "RGB"
    return _Blocks(
        planes=[p[None] for p in planes],
        factors=factors,
        shape=shape,
        tables=tables,
        luma=tuple(range(len(planes))) if rgb else (0,),
        source=jpeg,
        pairs=pairs,
    )


def _read_batch(X, name, quantization_tables):
    structure = structure_of(X)
    if structure is not None:
        if (
            structure.kind != "dct"
            or structure.block_size != 8
            or structure.order != "zigzag"
            or structure.factors is not None
            or structure.n_spatial != 2
        ):
            raise ValueError(
                f"{name} takes 8x8 block-DCT coefficients in zig-zag order on one block grid "
                f"(gray or 4:4:4); its input is {structure.describe()}. Augment subsampled "
                "colour file by file, as read_jpeg_coefficients gives it."
            )
        blocks = structure.blocks(np.asarray(X))  # (n, rows, cols, depth, k)
        shape = structure.image_shape or tuple(8 * g for g in structure.grid)
        channels = structure.channels
    else:
        X = np.asarray(X)
        if X.ndim not in (4, 5) or X.shape[-1] > 64:
            raise ValueError(
                f"{name}: a batch of blocks must be (n, rows, cols, k) or (n, rows, cols, C, "
                f"k) with k <= 64 coefficients in zig-zag order; got an array of shape "
                f"{X.shape}."
            )
        blocks = X if X.ndim == 5 else X[:, :, :, None]
        shape = (8 * X.shape[1], 8 * X.shape[2])
        channels = ()
    _check_dtype(blocks.dtype, name)
    _check_k(blocks.shape[-1], name)
    n_components = blocks.shape[3]
    if n_components == 0:
        raise ValueError(
            f"{name}: a batch of blocks needs at least one component; got blocks of shape "
            f"{blocks.shape}."
        )
    tables = None
    if quantization_tables is not None:
        tables = _check_tables(quantization_tables, n_components, name, "quantization_tables")
    if "R" in channels:
        luma = tuple(range(n_components))
    else:
        luma = (channels.index("Y"),) if "Y" in channels else (0,)
    return _Blocks(
        planes=[blocks[:, :, :, c] for c in range(n_components)],
        factors=np.ones((n_components, 2), dtype=np.int64),
        shape=tuple(int(s) for s in shape),
        tables=tables,
        luma=luma,
        source=X,
        structure=structure,
    )


def _write(blocks):
    """The result in the form of the input."""
    source = blocks.source
    if not isinstance(source, np.ndarray):  # a file's Mapping
        out = Bunch(**source)
        out["coefficients"] = [np.ascontiguousarray(p[0]) for p in blocks.planes]
        out["shape"] = blocks.shape
        out["sampling_factors"] = blocks.factors.copy()
        if blocks.tables is not None:
            out["quantization_tables"] = blocks.tables.astype(
                np.asarray(source["quantization_tables"]).dtype
            )
        return out
    stacked = np.stack(blocks.planes, axis=3)
    if blocks.structure is None:
        return stacked if source.ndim == 5 else stacked[:, :, :, 0]
    structure = replace(
        blocks.structure, grid=tuple(stacked.shape[1:3]), image_shape=tuple(blocks.shape)
    )
    return structure.emit(stacked)


def _check_dtype(dtype, name):
    if dtype.kind not in "if":
        raise TypeError(
            f"{name}: coefficients must be signed integers or floats; got dtype {dtype}."
        )


def _check_k(k, name):
    if not 1 <= k <= 64:
        raise ValueError(f"{name}: blocks must hold 1 to 64 coefficients; got {k}.")


def _check_tables(tables, n_components, name, what):
    tables = np.asarray(tables)
    if tables.ndim == 2:
        tables = tables[None]
    kind = tables.dtype.kind
    if (
        kind not in "iuf"
        or tables.shape[1:] != (8, 8)
        or len(tables) not in (1, n_components)
        or not (tables.all() if kind == "u" else (tables > 0).all())  # NaN > 0 is False
        or (kind == "f" and not np.isfinite(tables).all())
    ):
        raise ValueError(
            f"{name}: {what} must be positive steps of shape (8, 8) or ({n_components}, 8, 8),"
            f" natural (row-major) order; got {tables.dtype} values of shape {tables.shape}."
        )
    # read only from here on: the results' tables are new arrays
    return tables if len(tables) == n_components else np.broadcast_to(tables, (n_components, 8, 8))


def _need_tables(blocks, name):
    if blocks.tables is None:
        raise ValueError(
            f"{name} requantizes, and needs the quantization steps: pass quantization_tables "
            "((8, 8), or one table per component; e.g. JPEGCodec's quantization_tables_) with "
            "a batch of blocks."
        )


def _steps(blocks, c):
    """Steps of component ``c`` in zig-zag order, for its ``k`` coefficients."""
    return blocks.tables[c].reshape(64)[zigzag_order(8)[: blocks.k]].astype(np.float64)


def _round(x):
    """Rounded half away from zero, as libjpeg's quantizer and ``JPEGCodec`` round."""
    return np.copysign(np.floor(np.abs(x) + 0.5), x)


def _as_symbols(values, like):
    """Rounded ``values`` in the dtype of ``like``."""
    return _round(values).astype(like.dtype, copy=False)


def _check_integer_symbols(blocks, name):
    for plane in blocks.planes:
        if plane.dtype.kind == "f" and not np.array_equal(plane, np.round(plane)):
            raise ValueError(
                f"{name} works on quantized symbols (integers); got coefficients that are "
                "not integers (dequantized ones?). Read the file with dequantize=False."
            )


# -- block permutations ----------------------------------------------------------------------


@lru_cache(maxsize=4)
def _signs(axis):
    """Zig-zag signs of a block mirrored along ``axis`` (0: rows, 1: columns): the odd
    frequencies of that axis change sign."""
    u, v = np.divmod(zigzag_order(8), 8)
    signs = 1 - 2 * ((u if axis == 0 else v) % 2)
    signs.setflags(write=False)
    return signs


@lru_cache(maxsize=1)
def _transposition():
    """``out[..., z] = in[..., perm[z]]`` transposes blocks in zig-zag order."""
    zigzag = zigzag_order(8)
    position = np.argsort(zigzag)  # natural index -> zig-zag index
    u, v = np.divmod(zigzag, 8)
    perm = position[v * 8 + u]
    perm.setflags(write=False)
    return perm


def _whole(blocks, axis, name):
    """Whole MCUs along ``axis``, and the MCU's pixels there."""
    mcu = blocks.mcu[axis]
    whole = blocks.shape[axis] // mcu
    if whole == 0:
        raise ValueError(
            f"{name}: the image is {blocks.shape[axis]} pixels {_AXES[axis]}, less than one "
            f"minimum coded unit ({mcu} pixels), the smallest part it can move exactly."
        )
    return whole, mcu


def _keep(blocks, axis, start, count):
    """MCUs ``start`` to ``start + count`` along ``axis`` (up to the image's edge)."""
    mcu = blocks.mcu[axis]
    planes = []
    for plane, pair in zip(blocks.planes, blocks.pairs, strict=True):
        kept = slice(start * pair[axis], (start + count) * pair[axis])
        planes.append(plane[:, kept] if axis == 0 else plane[:, :, kept])
    shape = list(blocks.shape)
    shape[axis] = min(shape[axis] - start * mcu, count * mcu)
    return blocks.with_(planes=planes, shape=tuple(shape))


def _trim(blocks, axis, name):
    """Without the partial MCUs at the end of ``axis`` (jpegtran's ``-trim``)."""
    whole, _ = _whole(blocks, axis, name)
    return _keep(blocks, axis, 0, whole)


@lru_cache(maxsize=64)
def _row_signs(axis, k, cols, dtype):
    """:func:`_signs` of ``k`` coefficients for a row of ``cols`` blocks, in ``dtype``."""
    signs = np.tile(_signs(axis)[:k].astype(dtype), cols)
    signs.setflags(write=False)
    return signs


def _flip(blocks, axis, name):
    blocks = _trim(blocks, axis, name)
    planes = []
    for plane in blocks.planes:
        out = (plane[:, ::-1] if axis == 0 else plane[:, :, ::-1]).copy()
        n, rows, cols, k = out.shape
        # a row of blocks at a time: a long inner loop, where a block at a time is 64
        rows_of_blocks = out.reshape(n * rows, cols * k)
        np.multiply(rows_of_blocks, _row_signs(axis, k, cols, out.dtype), out=rows_of_blocks)
        planes.append(out)
    return blocks.with_(planes=planes)


def _transpose(blocks, name):
    k, full = blocks.k, _transposition()
    perm = full[:k]
    if (perm >= k).any():
        whole = [n for n in range(1, 65) if (full[:n] < n).all()]
        raise ValueError(
            f"{name}: blocks of k={k} coefficients do not transpose: the first k of the "
            f"zig-zag order must be whole anti-diagonals, k in {whole}."
        )
    tables = None if blocks.tables is None else blocks.tables.transpose(0, 2, 1).copy()
    return blocks.with_(
        planes=[np.ascontiguousarray(p.transpose(0, 2, 1, 3)[..., perm]) for p in blocks.planes],
        factors=blocks.factors[:, ::-1].copy(),
        shape=blocks.shape[::-1],
        tables=tables,
    )


def _rotate(blocks, k, name):
    if k == 1:  # counter-clockwise: the transpose, upside down
        return _flip(_transpose(blocks, name), 0, name)
    if k == 2:
        return _flip(_flip(blocks, 0, name), 1, name)
    if k == 3:
        return _flip(_transpose(blocks, name), 1, name)
    return blocks.with_(planes=[p.copy() for p in blocks.planes])


def flip_horizontal(coefficients):
    """Mirror images left to right, exactly, on their quantized DCT coefficients.

    The blocks are taken in reverse order along each row, and the
    coefficients of odd horizontal frequency change sign (libjpeg-turbo's
    ``transupp.c``, ``jpegtran -flip horizontal``). The symbols are those
    of the mirrored image encoded with the same tables, with an exactly
    symmetric DCT (``JPEGCodec(dct="float")``): bit for bit. Where the
    image's width is not a whole number of minimum coded units (MCUs: 8
    pixels for gray and 4:4:4, 16 for 4:2:0 and 4:2:2), the partial MCU
    column at the right edge is dropped first (``jpegtran -trim``), which
    gives the new width.

    Parameters
    ----------
    coefficients : Bunch or ndarray
        A file's coefficients as :func:`read_jpeg_coefficients` returns
        them, or a batch of blocks ``(n, rows, cols, k)`` (gray) or ``(n,
        rows, cols, C, k)`` (4:4:4), zig-zag order, as
        ``JPEGCodec(layout="blocks")`` gives them.

    Returns
    -------
    flipped : Bunch or ndarray
        In the form given: a Bunch with the fields of the input (``shape``
        the new image size), which :func:`write_jpeg_coefficients` writes;
        a batch of blocks (carrying its structure, with the new image size,
        where the input did).

    Raises
    ------
    ValueError
        For an image narrower than one MCU, or malformed coefficients.

    See Also
    --------
    flip_vertical, rotate90, transpose, random_flip

    Notes
    -----
    libjpeg's integer DCT (``dct="islow"``, what Pillow writes) is not
    exactly symmetric: re-encoding the mirrored pixels with it gives symbols
    within one level of these (a few in ten thousand differ; vertical flips
    and the exact DCT: none). Its decoder (integer inverse DCT, "fancy"
    chroma upsampling) is not either: the result decodes to the mirrored
    decode of the input within 1 level (gray) to 3 (colour), identically for
    vertical flips, except within 2 pixels of a trimmed edge of subsampled
    chroma, where the upsampling read the neighbours the trim dropped.

    Examples
    --------
    >>> import numpy as np
    >>> from skcompress.io import flip_horizontal
    >>> blocks = np.zeros((1, 1, 3, 64), dtype=np.int32)  # one image of 1 x 3 blocks
    >>> blocks[0, 0, 0, :3] = [10, 4, 7]  # DC, horizontal (0, 1), vertical (1, 0)
    >>> flip_horizontal(blocks)[0, 0, 2, :3]  # last block now; odd horizontal sign flipped
    array([10, -4,  7], dtype=int32)
    """
    name = "flip_horizontal"
    return _write(_flip(_read(coefficients, name), 1, name))


def flip_vertical(coefficients):
    """Mirror images top to bottom, exactly, on their quantized DCT coefficients.

    The rows of blocks are taken in reverse order, and the coefficients of
    odd vertical frequency change sign (``jpegtran -flip vertical``); the
    partial MCU row at the bottom edge, if any, is dropped first
    (``jpegtran -trim``). Exact as :func:`flip_horizontal` is.

    Parameters
    ----------
    coefficients : Bunch or ndarray
        A file's coefficients (:func:`read_jpeg_coefficients`), or a batch
        of blocks ``(n, rows, cols, k)`` or ``(n, rows, cols, C, k)``.

    Returns
    -------
    flipped : Bunch or ndarray
        In the form given, ``shape`` the new image size.

    Raises
    ------
    ValueError
        For an image lower than one MCU, or malformed coefficients.

    See Also
    --------
    flip_horizontal, rotate90, transpose, random_flip

    Examples
    --------
    >>> import numpy as np
    >>> from skcompress.io import flip_vertical
    >>> blocks = np.zeros((1, 2, 1, 64), dtype=np.int32)
    >>> blocks[0, 0, 0, :3] = [10, 4, 7]  # DC, horizontal (0, 1), vertical (1, 0)
    >>> flip_vertical(blocks)[0, 1, 0, :3]
    array([10,  4, -7], dtype=int32)
    """
    name = "flip_vertical"
    return _write(_flip(_read(coefficients, name), 0, name))


def transpose(coefficients):
    """Transpose images (mirror about the main diagonal), exactly, on their coefficients.

    The grid of blocks is transposed and so is every block (``jpegtran
    -transpose``); no edge needs trimming. As jpegtran, a file's
    quantization tables and sampling factors are transposed too (4:2:2
    becomes 4:4:0): the result holds the symbols of the transposed image
    encoded with the transposed tables, bit for bit with an exactly
    symmetric DCT (``JPEGCodec(dct="float")``). A batch carries no tables:
    its symbol at frequency ``(u, v)`` was quantized with step
    ``Q[v, u]``, so dequantize it with ``Q.T``.

    One exception: subsampled chroma planes that end inside a block.
    libjpeg pads a component's right edge before subsampling and its bottom
    edge after, so the padding of those edge blocks (outside the image) is
    not what an encoder writes for the transposed image, and their symbols
    can differ from its; every other block is bit for bit the same.

    Parameters
    ----------
    coefficients : Bunch or ndarray
        A file's coefficients (:func:`read_jpeg_coefficients`), or a batch
        of blocks ``(n, rows, cols, k)`` or ``(n, rows, cols, C, k)``. The
        ``k`` coefficients kept must be whole anti-diagonals of the zig-zag
        order (k = 1, 3, 6, 10, 15, 21, 28, 36, 43, 49, 54, 58, 61, 63 or
        64), so that the transposed block holds the same frequencies.

    Returns
    -------
    transposed : Bunch or ndarray
        In the form given: ``shape``, ``sampling_factors`` and
        ``quantization_tables`` transposed.

    Raises
    ------
    ValueError
        For another ``k``, or malformed coefficients.

    See Also
    --------
    rotate90

    Examples
    --------
    >>> import numpy as np
    >>> from skcompress.io import transpose
    >>> blocks = np.zeros((1, 1, 2, 64), dtype=np.int32)  # 1 x 2 blocks
    >>> blocks[0, 0, 1, :3] = [10, 4, 7]  # DC, horizontal (0, 1), vertical (1, 0)
    >>> out = transpose(blocks)
    >>> out.shape, out[0, 1, 0, :3]
    ((1, 2, 1, 64), array([10,  7,  4], dtype=int32))
    """
    name = "transpose"
    return _write(_transpose(_read(coefficients, name), name))


def rotate90(coefficients, k=1):
    """Rotate images by ``k`` quarter turns counter-clockwise, exactly, on their coefficients.

    As ``np.rot90`` rotates pixels: one quarter turn is the transpose turned
    upside down (:func:`transpose` then :func:`flip_vertical`), two are
    both flips, three the transpose mirrored left to right (``jpegtran
    -rotate 270``, ``180`` and ``90``). Exact as those are; the partial
    edge MCUs that a rotation would bring to the top or left are dropped
    (``jpegtran -trim``), and quarter turns transpose a file's tables and
    sampling factors (see :func:`transpose`).

    Parameters
    ----------
    coefficients : Bunch or ndarray
        A file's coefficients (:func:`read_jpeg_coefficients`), or a batch
        of blocks ``(n, rows, cols, k)`` or ``(n, rows, cols, C, k)``.
    k : int, default=1
        Quarter turns, counter-clockwise (negative: clockwise); taken modulo 4.

    Returns
    -------
    rotated : Bunch or ndarray
        In the form given, ``shape`` the new image size.

    Raises
    ------
    ValueError
        For a ``k`` that is not an integer, an image smaller than one MCU
        along an axis that must be trimmed, or blocks that do not transpose
        (see :func:`transpose`).

    See Also
    --------
    transpose, flip_horizontal, flip_vertical

    Examples
    --------
    >>> import numpy as np
    >>> from skcompress.io import rotate90
    >>> blocks = np.zeros((1, 1, 2, 64), dtype=np.int32)  # 1 x 2 blocks
    >>> blocks[0, 0, 1, :3] = [10, 4, 7]  # DC, horizontal (0, 1), vertical (1, 0)
    >>> out = rotate90(blocks)  # the right block goes to the top
    >>> out.shape, out[0, 0, 0, :3]
    ((1, 2, 1, 64), array([10,  7, -4], dtype=int32))
    """
    name = "rotate90"
    if isinstance(k, bool) or not isinstance(k, Integral):
        raise ValueError(f"{name}: k must be an integer (quarter turns); got {k!r}.")
    return _write(_rotate(_read(coefficients, name), int(k) % 4, name))


# -- crops -------------------------------------------------------------------------------------


def _mcu_grid(blocks):
    """MCU rows and columns, the last ones partial where the image does not fill them."""
    return tuple(-(-s // m) for s, m in zip(blocks.shape, blocks.mcu, strict=True))


def crop_blocks(coefficients, top, left, height, width):
    """Crop images to a rectangle of whole minimum coded units, exactly.

    Positions and sizes count minimum coded units (MCUs): blocks for gray
    and 4:4:4 images, 16 x 16 pixels for 4:2:0 (``jpegtran -crop`` with
    MCU-aligned offsets). The kept blocks are those of the cropped image,
    bit for bit. A crop that reaches the image's right or bottom edge keeps
    its partial MCUs as they are (the image's size there is what remains);
    elsewhere the new size is ``height`` and ``width`` MCUs.

    Parameters
    ----------
    coefficients : Bunch or ndarray
        A file's coefficients (:func:`read_jpeg_coefficients`), or a batch
        of blocks ``(n, rows, cols, k)`` or ``(n, rows, cols, C, k)``.
    top, left : int
        First MCU row and column kept, from 0.
    height, width : int
        MCU rows and columns kept, at least 1, within the image's MCUs
        (partial ones included).

    Returns
    -------
    cropped : Bunch or ndarray
        In the form given, ``shape`` the new image size.

    Raises
    ------
    ValueError
        Naming the parameter, for a rectangle that is not within the
        image's MCUs.

    See Also
    --------
    random_crop

    Examples
    --------
    >>> import numpy as np
    >>> from skcompress.io import crop_blocks
    >>> blocks = np.arange(4 * 5 * 64).reshape(1, 4, 5, 64)
    >>> out = crop_blocks(blocks, 1, 2, 2, 3)
    >>> out.shape, bool((out == blocks[:, 1:3, 2:5]).all())
    ((1, 2, 3, 64), True)
    """
    name = "crop_blocks"
    blocks = _read(coefficients, name)
    rows, cols = _mcu_grid(blocks)
    _check_int(name, "top", top, 0, rows - 1)
    _check_int(name, "left", left, 0, cols - 1)
    _check_int(name, "height", height, 1, rows - top)
    _check_int(name, "width", width, 1, cols - left)
    return _write(_window(blocks, int(top), int(left), int(height), int(width)))


def _window(blocks, top, left, height, width):
    """MCU rows ``top`` to ``top + height`` and columns ``left`` to ``left + width`` (up to
    the image's edges), copied: :func:`_keep` along both axes at once."""
    planes = [
        plane[:, top * v : (top + height) * v, left * h : (left + width) * h].copy()
        for plane, (v, h) in zip(blocks.planes, blocks.pairs, strict=True)
    ]
    (image_height, image_width), (mcu_height, mcu_width) = blocks.shape, blocks.mcu
    shape = (
        min(image_height - top * mcu_height, height * mcu_height),
        min(image_width - left * mcu_width, width * mcu_width),
    )
    return blocks.with_(planes=planes, shape=shape)


def _check_int(name, parameter, value, low, high):
    if isinstance(value, bool) or not isinstance(value, Integral) or not low <= value <= high:
        raise ValueError(
            f"{name}: {parameter} must be an integer from {low} to {high} (minimum coded "
            f"units of this image); got {value!r}."
        )


def _generator(random_state, name):
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(0, 2**63 - 1, dtype=np.int64))
    if random_state is None or (
        isinstance(random_state, Integral) and not isinstance(random_state, bool)
    ):
        return np.random.default_rng(random_state)
    raise ValueError(
        f"{name}: random_state must be None, an int, a numpy Generator or RandomState; got "
        f"{random_state!r}."
    )


def random_crop(coefficients, size, *, random_state=None):
    """Crop every image to ``size`` whole minimum coded units, at a random place, exactly.

    The crop's corner is drawn uniformly among the places where it lies
    within the image's whole MCUs (a partial MCU at the right or bottom
    edge is never kept), so every crop has ``size`` MCUs, ``size`` times 8
    pixels for gray and 4:4:4 (16 for 4:2:0): :func:`crop_blocks` at a
    random ``top`` and ``left``, drawn for each image of a batch.

    Parameters
    ----------
    coefficients : Bunch or ndarray
        A file's coefficients (:func:`read_jpeg_coefficients`), or a batch
        of blocks ``(n, rows, cols, k)`` or ``(n, rows, cols, C, k)``.
    size : int or (int, int)
        MCU rows and columns of the crop (one int: a square), at least 1
        and at most the image's whole MCUs.
    random_state : None, int, numpy Generator or RandomState, default=None
        Where the places are drawn from.

    Returns
    -------
    cropped : Bunch or ndarray
        In the form given, of ``size`` MCUs.

    Raises
    ------
    ValueError
        For a ``size`` larger than the image's whole MCUs, or below 1.

    See Also
    --------
    crop_blocks

    Examples
    --------
    >>> import numpy as np
    >>> from skcompress.io import random_crop
    >>> blocks = np.zeros((5, 6, 6, 64), dtype=np.int16)  # 5 images of 48 x 48 pixels
    >>> random_crop(blocks, (4, 3), random_state=0).shape
    (5, 4, 3, 64)
    """
    name = "random_crop"
    blocks = _read(coefficients, name)
    rng = _generator(random_state, name)
    pair = (size, size) if isinstance(size, Integral) else tuple(np.ravel(size).tolist())
    whole = [_whole(blocks, axis, name)[0] for axis in (0, 1)]
    if len(pair) != 2:
        raise ValueError(f"{name}: size must be an int or two ints (rows, cols); got {size!r}.")
    for axis, (value, top) in enumerate(zip(pair, whole, strict=True)):
        if isinstance(value, bool) or not isinstance(value, Integral) or not 1 <= value <= top:
            raise ValueError(
                f"{name}: size must be whole minimum coded units, 1 to {whole[0]} rows and 1 "
                f"to {whole[1]} columns for this image ({blocks.shape[0]} x "
                f"{blocks.shape[1]} pixels, MCUs of {blocks.mcu[0]} x {blocks.mcu[1]}); got "
                f"{size!r} ({'rows' if axis == 0 else 'columns'} out of range)."
            )
    n = len(blocks.planes[0])
    corner = [
        rng.integers(0, top - value + 1, size=n) for value, top in zip(pair, whole, strict=True)
    ]
    planes = []
    for plane, (v, h) in zip(blocks.planes, blocks.factors, strict=True):
        rows = corner[0][:, None] * v + np.arange(pair[0] * v)
        cols = corner[1][:, None] * h + np.arange(pair[1] * h)
        planes.append(plane[np.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]])
    shape = tuple(int(p * m) for p, m in zip(pair, blocks.mcu, strict=True))
    return _write(blocks.with_(planes=planes, shape=shape))


def random_flip(coefficients, *, horizontal=0.5, vertical=0.0, random_state=None):
    """Mirror images at random, left to right and top to bottom, exactly.

    Each image is flipped horizontally with probability ``horizontal`` and,
    independently, vertically with probability ``vertical`` (both: a half
    turn), as :func:`flip_horizontal` and :func:`flip_vertical` flip it.
    Partial edge MCUs along an axis that may be flipped are dropped from
    every image, flipped or not, so that all results have one size.

    Parameters
    ----------
    coefficients : Bunch or ndarray
        A file's coefficients (:func:`read_jpeg_coefficients`), or a batch
        of blocks ``(n, rows, cols, k)`` or ``(n, rows, cols, C, k)``.
    horizontal, vertical : float in [0, 1], default=0.5 and 0.0
        Probability of each flip.
    random_state : None, int, numpy Generator or RandomState, default=None
        Where the flips are drawn from.

    Returns
    -------
    flipped : Bunch or ndarray
        In the form given.

    Raises
    ------
    ValueError
        For a probability outside [0, 1], or an image smaller than one MCU
        along an axis that may be flipped.

    See Also
    --------
    flip_horizontal, flip_vertical

    Examples
    --------
    >>> import numpy as np
    >>> from skcompress.io import random_flip
    >>> blocks = np.zeros((1000, 1, 2, 1), dtype=np.int32)
    >>> blocks[:, 0, 0] = 1  # a DC in the left block of every image
    >>> out = random_flip(blocks, horizontal=0.3, random_state=0)
    >>> round(float(out[:, 0, 1, 0].mean()), 1)  # the share flipped
    0.3
    """
    name = "random_flip"
    blocks = _read(coefficients, name)
    for parameter, p in (("horizontal", horizontal), ("vertical", vertical)):
        if isinstance(p, bool) or not isinstance(p, Real) or not 0 <= p <= 1:
            raise ValueError(f"{name}: {parameter} must be a probability in [0, 1]; got {p!r}.")
    rng = _generator(random_state, name)
    n = len(blocks.planes[0])
    for axis, p in ((1, horizontal), (0, vertical)):
        if p == 0:
            continue
        blocks = _trim(blocks, axis, name)
        chosen = rng.random(n) < p
        flipped = _flip(blocks, axis, name)
        planes = [
            np.where(chosen[:, None, None, None], f, b)
            for f, b in zip(flipped.planes, blocks.planes, strict=True)
        ]
        blocks = blocks.with_(planes=planes)
    if horizontal == 0 and vertical == 0:
        blocks = blocks.with_(planes=[p.copy() for p in blocks.planes])
    return _write(blocks)


# -- 2x resizing in the DCT domain ------------------------------------------------------------


def _zigzag_map(per_axis_a, per_axis_b):
    """``M[(p, q), (u, v)] = a[u, p] b[v, q]``, zig-zag on both sides: the separable map of
    blocks ``in (p, q) -> out (u, v)``."""
    zigzag = zigzag_order(8)
    full = np.einsum("up,vq->pquv", per_axis_a, per_axis_b).reshape(64, 64)
    return full[zigzag][:, zigzag]


@lru_cache(maxsize=1)
def _resize_maps():
    """``(down, up)``: ``down[s]`` maps block ``s`` of 2 x 2 (raster) to its share of the
    block of their 2x2 means; ``up[s]`` maps a block to block ``s`` of its pixels repeated
    2 x 2. Orthonormal DCT, zig-zag order, ``out = in @ map``."""
    C = dct_matrix(8)
    mean = np.kron(np.eye(8), [[0.5, 0.5]])  # 8 x 16: means of sample pairs
    halves = [C @ mean[:, 8 * a : 8 * a + 8] @ C.T for a in (0, 1)]  # 8 x 8 per half
    repeat = np.kron(np.eye(8), [[1.0], [1.0]])  # 16 x 8
    doubles = [C @ repeat[8 * a : 8 * a + 8] @ C.T for a in (0, 1)]
    down = np.stack([_zigzag_map(halves[a], halves[b]) for a in (0, 1) for b in (0, 1)])
    up = np.stack([_zigzag_map(doubles[a], doubles[b]) for a in (0, 1) for b in (0, 1)])
    for m in (down, up):
        m.setflags(write=False)
    return down, up


def _resize_bound(quantization_table, direction):
    """Largest symbol change of :func:`downsample2x` or :func:`upsample2x` against the pixel
    route: ``ceil(sum_i |M[i, j]| q_i / (2 q_j))`` per zig-zag frequency ``j``.

    Private helper of the documented bound (not exported).
    """
    down, up = _resize_maps()
    steps = np.asarray(quantization_table, dtype=np.float64).reshape(64)[zigzag_order(8)]
    if direction == "down":  # out_j = sum over the 4 blocks s and i of in_si M_s[i, j]
        spread = np.einsum("sij,i->j", np.abs(down), steps)
    else:  # each output block s: out_sj = sum_i in_i M_s[i, j]
        spread = np.einsum("sij,i->sj", np.abs(up), steps).max(axis=0)
    # 1e-9: the float sums of entries that are exactly 1/2 or 1
    return np.ceil(spread / (2 * steps) - 1e-9).astype(int)


def downsample2x(coefficients, *, quantization_tables=None):
    """Halve images in the DCT domain: every 2 x 2 blocks become the block of their 2x2 means.

    Each component's blocks, dequantized, go through the linear map that
    the mean of every 2 x 2 pixels is in the DCT domain (orthonormal DCT):
    for the four blocks ``s = (a, b)`` of a 16 x 16 square, ``out[u, v] =
    sum_s sum_(p, q) A_a[u, p] A_b[v, q] in_s[p, q]``, where ``A_a = C M_a
    C^T``, ``C`` is the 8-point DCT matrix and ``M_a`` the half ``a``
    (columns ``8 a`` to ``8 a + 7``) of the 8 x 16 matrix of pair means;
    then requantized with the same table, rounding half away from zero.
    Sampling factors stay as they are, so an MCU of the result is 2 x 2
    MCUs of the input; partial edge MCUs, and a last odd MCU row or column,
    are dropped first.

    **Exactness.** The result is the encoding, with the same tables, of the
    2x2 means of the image the coefficients decode to (orthonormal inverse
    DCT, chroma repeated 2 x 2, no rounding or clipping), to float
    precision. Against the pixel route (the original pixels' 2x2 means
    encoded with an exact DCT, ``JPEGCodec(dct="float")``), a symbol at
    zig-zag frequency ``j`` differs by at most ``ceil(sum_i |D_ij| q_i /
    (2 q_j))`` levels, ``D`` the map above (the quantization errors of the
    input, at most half a step each, carried through it); the DC by at most
    1. With fewer than 64 coefficients kept, the missing ones count as zero.

    Parameters
    ----------
    coefficients : Bunch or ndarray
        A file's coefficients (:func:`read_jpeg_coefficients`), or a batch
        of blocks ``(n, rows, cols, k)`` or ``(n, rows, cols, C, k)`` of
        integer symbols.
    quantization_tables : array-like of shape (8, 8) or (C, 8, 8), or None
        The steps of a batch's symbols, natural order (``JPEGCodec``'s
        ``quantization_tables_``); required for a batch, not given for a
        file (it carries its own).

    Returns
    -------
    halved : Bunch or ndarray
        In the form given, ``shape`` half the kept image's.

    Raises
    ------
    ValueError
        For an image of fewer than 2 whole MCUs along an axis, a batch
        without ``quantization_tables``, coefficients that are not integers.

    See Also
    --------
    upsample2x

    Examples
    --------
    >>> import numpy as np
    >>> from skcompress.io import downsample2x
    >>> blocks = np.zeros((1, 2, 2, 64), dtype=np.int32)
    >>> blocks[0, :, :, 0] = [[4, 8], [12, 16]]  # four flat blocks
    >>> out = downsample2x(blocks, quantization_tables=np.full((8, 8), 2))
    >>> out.shape, int(out[0, 0, 0, 0])  # one block; its DC the mean, (4 + 8 + 12 + 16) / 4
    ((1, 1, 1, 64), 10)
    """
    name = "downsample2x"
    blocks = _read(coefficients, name, quantization_tables)
    _need_tables(blocks, name)
    _check_integer_symbols(blocks, name)
    for axis in (0, 1):
        whole, mcu = _whole(blocks, axis, name)
        if whole < 2:
            raise ValueError(
                f"{name}: the image is {blocks.shape[axis]} pixels {_AXES[axis]}; halving "
                f"exactly needs 2 whole minimum coded units ({2 * mcu} pixels) at least."
            )
        blocks = _keep(blocks, axis, 0, whole - whole % 2)
    down = _resize_maps()[0]
    k = blocks.k
    matrix = down[:, :k, :k].reshape(4 * k, k)
    planes = []
    for c, plane in enumerate(blocks.planes):
        steps = _steps(blocks, c)
        n, rows, cols, _ = plane.shape
        squares = (plane * steps).reshape(n, rows // 2, 2, cols // 2, 2, k)
        squares = squares.transpose(0, 1, 3, 2, 4, 5).reshape(n, rows // 2, cols // 2, 4 * k)
        planes.append(_as_symbols(squares @ matrix / steps, plane))
    shape = tuple(s // 2 for s in blocks.shape)
    return _write(blocks.with_(planes=planes, shape=shape))


def upsample2x(coefficients, *, quantization_tables=None):
    """Double images in the DCT domain: every block becomes the 2 x 2 blocks of its pixels
    repeated.

    Each component's blocks, dequantized, go through the linear map that
    repeating every pixel 2 x 2 (nearest neighbour) is in the DCT domain:
    output block ``s = (a, b)`` is ``out_s[u, v] = sum_(p, q) B_a[u, p]
    B_b[v, q] in[p, q]`` with ``B_a = C R_a C^T``, ``R_a`` the 8 x 8 half
    ``a`` of the 16 x 8 repetition matrix; then requantized with the same
    table, rounding half away from zero. The image doubles (``shape`` times
    2); each component's grid is cut to the blocks that size has. No edge is
    trimmed: a partial edge block, padded as libjpeg pads (its last pixels
    repeated), doubles into the blocks of the doubled image.

    **Exactness.** The result is the encoding, with the same tables, of the
    image the coefficients decode to (orthonormal inverse DCT, no rounding
    or clipping) with its pixels, or the planes of its components, repeated
    2 x 2, to float precision. Against the pixel route for gray and 4:4:4
    images (the original pixels repeated and encoded with an exact DCT,
    ``JPEGCodec(dct="float")``), a symbol at zig-zag frequency ``j`` differs
    by at most ``max_s ceil(sum_i |U_s,ij| q_i / (2 q_j))`` levels (the
    input's quantization errors carried through the map ``U_s``). Subsampled
    chroma cannot be compared so: the doubled image's chroma planes, encoded
    from pixels, are the original's full-resolution chroma, which the file
    does not hold.

    Parameters
    ----------
    coefficients : Bunch or ndarray
        A file's coefficients (:func:`read_jpeg_coefficients`), or a batch
        of blocks ``(n, rows, cols, k)`` or ``(n, rows, cols, C, k)`` of
        integer symbols.
    quantization_tables : array-like of shape (8, 8) or (C, 8, 8), or None
        The steps of a batch's symbols, natural order; required for a batch,
        not given for a file.

    Returns
    -------
    doubled : Bunch or ndarray
        In the form given, ``shape`` twice the input's.

    Raises
    ------
    ValueError
        For a batch without ``quantization_tables``, coefficients that are
        not integers.

    See Also
    --------
    downsample2x

    Examples
    --------
    >>> import numpy as np
    >>> from skcompress.io import upsample2x
    >>> blocks = np.zeros((1, 1, 1, 64), dtype=np.int32)
    >>> blocks[0, 0, 0, 0] = 7  # a flat block
    >>> out = upsample2x(blocks, quantization_tables=np.full((8, 8), 2))
    >>> out.shape, out[0, :, :, 0].tolist()  # four flat blocks
    ((1, 2, 2, 64), [[7, 7], [7, 7]])
    """
    name = "upsample2x"
    blocks = _read(coefficients, name, quantization_tables)
    _need_tables(blocks, name)
    _check_integer_symbols(blocks, name)
    up = _resize_maps()[1]
    k = blocks.k
    matrix = up[:, :k, :k].transpose(1, 0, 2).reshape(k, 4 * k)
    shape = tuple(2 * s for s in blocks.shape)
    vmax, hmax = blocks.factors.max(axis=0)
    planes = []
    for c, (plane, (v, h)) in enumerate(zip(blocks.planes, blocks.factors, strict=True)):
        steps = _steps(blocks, c)
        n, rows, cols, _ = plane.shape
        values = ((plane * steps) @ matrix).reshape(n, rows, cols, 2, 2, k)
        values = values.transpose(0, 1, 3, 2, 4, 5).reshape(n, 2 * rows, 2 * cols, k)
        grid = (-(-shape[0] * v // (8 * vmax)), -(-shape[1] * h // (8 * hmax)))
        planes.append(_as_symbols(values[:, : grid[0], : grid[1]] / steps, plane))
    return _write(blocks.with_(planes=planes, shape=shape))


# -- brightness and contrast -----------------------------------------------------------------


def adjust_brightness(coefficients, delta, *, quantization_tables=None):
    """Add ``delta`` gray levels to every pixel, on the DC coefficients.

    The DC of an 8x8 block is 8 times its mean (orthonormal DCT), so a
    shift of ``delta`` levels adds ``8 delta / q_dc`` to every DC symbol of
    the luma (Y of YCbCr, gray; every component of RGB-coded files: adding
    the same level to R, G and B leaves Cb and Cr as they are). That is
    rounded, half away from zero, once for the whole image: the shift made
    is the multiple of ``q_dc / 8`` levels nearest ``delta``.

    **Exactness.** When ``8 delta / q_dc`` is an integer, the symbols are
    those of the shifted image encoded with the same tables, bit for bit
    (``JPEGCodec(dct="float")`` on the pixels plus ``delta``, unclipped:
    saturation at 0 and 255 is not linear and not reproduced, and the result
    is not clipped either). Otherwise a DC symbol differs from that route's
    by at most 1 level, and the AC symbols are the same.

    Parameters
    ----------
    coefficients : Bunch or ndarray
        A file's coefficients (:func:`read_jpeg_coefficients`), or a batch
        of blocks ``(n, rows, cols, k)`` (gray) or ``(n, rows, cols, C, k)``
        (YCbCr: the first channel, or the one named "Y" in a ``JPEGCodec``
        output, is shifted).
    delta : float in [-255, 255]
        Gray levels added.
    quantization_tables : array-like of shape (8, 8) or (C, 8, 8), or None
        The steps of a batch's symbols (only the DC steps are read);
        required for a batch, not given for a file.

    Returns
    -------
    adjusted : Bunch or ndarray
        In the form given.

    Raises
    ------
    ValueError
        For ``delta`` outside [-255, 255], a batch without
        ``quantization_tables``.

    See Also
    --------
    adjust_contrast

    Examples
    --------
    >>> import numpy as np
    >>> from skcompress.io import adjust_brightness
    >>> blocks = np.zeros((1, 1, 2, 64), dtype=np.int32)
    >>> table = np.full((8, 8), 16)  # a DC step of 16 is 2 gray levels
    >>> adjust_brightness(blocks, 10, quantization_tables=table)[0, 0, :, 0]  # exact
    array([5, 5], dtype=int32)
    >>> adjust_brightness(blocks, 3, quantization_tables=table)[0, 0, :, 0]  # 4 levels made
    array([2, 2], dtype=int32)
    """
    name = "adjust_brightness"
    if isinstance(delta, bool) or not isinstance(delta, Real) or not -255 <= delta <= 255:
        raise ValueError(f"{name}: delta must be a number of gray levels in [-255, 255]; "
                         f"got {delta!r}.")  # fmt: skip
    blocks = _read(coefficients, name, quantization_tables)
    _need_tables(blocks, name)
    _check_integer_symbols(blocks, name)
    planes = list(blocks.planes)
    for c in blocks.luma:
        plane = planes[c].copy()
        shift = _round(8 * float(delta) / float(blocks.tables[c, 0, 0]))
        plane[..., 0] += np.asarray(shift).astype(plane.dtype)
        planes[c] = plane
    return _write(blocks.with_(planes=planes))


def adjust_contrast(coefficients, factor):
    """Scale every pixel's distance from mid-gray (128) by ``factor``, on the coefficients.

    The level-shifted samples (pixel minus 128) scale by ``factor``, so do
    all their DCT coefficients, DC included, in every component (YCbCr's
    chroma planes are centred on 128 too): each symbol becomes ``factor``
    times itself, rounded half away from zero. No table is needed.

    **Bound.** Against the pixel route (``128 + factor (x - 128)`` encoded
    with the same tables, ``JPEGCodec(dct="float")``, unclipped), a symbol
    differs by at most ``ceil(factor / 2)`` levels (1 for ``factor <= 2``):
    the input's rounding error, half a level, scaled by ``factor``. The
    result is not clipped (saturation at 0 and 255 is not reproduced).

    Parameters
    ----------
    coefficients : Bunch or ndarray
        A file's coefficients (:func:`read_jpeg_coefficients`), or a batch
        of blocks ``(n, rows, cols, k)`` or ``(n, rows, cols, C, k)`` of
        integer symbols.
    factor : float, at least 0
        1 leaves the images as they are, 0 makes them mid-gray.

    Returns
    -------
    adjusted : Bunch or ndarray
        In the form given.

    Raises
    ------
    ValueError
        For a ``factor`` that is negative or not finite, coefficients that
        are not integers.

    See Also
    --------
    adjust_brightness

    Examples
    --------
    >>> import numpy as np
    >>> from skcompress.io import adjust_contrast
    >>> blocks = np.array([[[[-8, 3, -1, 0]]]], dtype=np.int32)  # 1 image, 1 block, k=4
    >>> adjust_contrast(blocks, 1.5)[0, 0, 0]
    array([-12,   5,  -2,   0], dtype=int32)
    """
    name = "adjust_contrast"
    if (
        isinstance(factor, bool)
        or not isinstance(factor, Real)
        or not np.isfinite(factor)
        or factor < 0
    ):
        raise ValueError(f"{name}: factor must be a finite number, at least 0; got {factor!r}.")
    blocks = _read(coefficients, name)
    _check_integer_symbols(blocks, name)
    planes = [_as_symbols(p * float(factor), p) for p in blocks.planes]
    return _write(blocks.with_(planes=planes))
