"""Quantized DCT coefficients written to standard JPEG files by libjpeg, one or a batch."""

import os
import tempfile
from collections.abc import Mapping
from numbers import Integral

import numpy as np

from ._jpeg import _SPACE_IDS, _component_names, _reader

# jchuff.c / jcphuff.c with 8-bit samples (max_coef_bits = 10): an AC coefficient has at
# most 10 bits of magnitude, a DC difference 11
MAX_AC = 2**10 - 1
MAX_DC_DIFFERENCE = 2**11 - 1
MAX_BASELINE_STEP = 255  # 8-bit DQT entries (SOF0)
MAX_STEP = 32767  # 16-bit DQT entries, libjpeg's own bound (jcparam.c)
MAX_DIMENSION = 65500  # JPEG_MAX_DIMENSION
MAX_BLOCKS_IN_MCU = 10  # C_MAX_BLOCKS_IN_MCU
_FIELDS = ("quantization_tables", "shape", "sampling_factors", "color_space")


def write_jpeg_coefficients(coefficients, quantization_tables=None, *, shape=None,
                            sampling_factors=None, color_space=None, progressive=None,
                            baseline=True, path=None):  # fmt: skip
    """Write quantized DCT coefficients to a standard JPEG file, with libjpeg.

    The exact inverse of :func:`read_jpeg_coefficients`: libjpeg's
    ``jpeg_write_coefficients`` entropy-codes the coefficients as given (no
    DCT, no quantization), with Huffman tables optimized for them, so
    ``read_jpeg_coefficients(write_jpeg_coefficients(jpeg))`` gives back the
    same coefficients, tables and sampling factors, bit for bit. Coefficients
    read from a file, edited (a band zeroed, a table changed) or computed by
    ``BlockDCT`` and ``PerceptualQuantizer`` become a file any viewer opens.

    Parameters
    ----------
    coefficients : Bunch or list of array-like of shape (rows, cols, k)
        What :func:`read_jpeg_coefficients` returns (then the other
        parameters default to its fields), or one array of integer symbols
        per component: blocks in raster order, the first ``k`` (1 to 64)
        coefficients of each in zig-zag order, the rest zero. Each
        component's block grid must be the one libjpeg computes from
        ``shape`` and ``sampling_factors``: ``ceil(height * v / (8 * v_max))``
        rows by ``ceil(width * h / (8 * h_max))`` columns. 1 component
        (grayscale) or 3 (YCbCr or RGB).
    quantization_tables : array-like of shape (n_components, 8, 8) or (8, 8)
        Quantization steps in natural (row-major) order, one table per
        component (or one for all); equal tables are stored once. Steps are
        integers from 1 to 255, or to 32767 with ``baseline=False``.
    shape : (int, int) or None, default=None
        ``(height, width)`` of the image in pixels. None: the first
        component's grid times 8 times its share of the largest sampling
        factors (whole blocks).
    sampling_factors : array-like of shape (n_components, 2) or None
        Vertical and horizontal sampling factor of each component (1 to 4;
        at most 10 blocks a minimum coded unit), as the reader returns them:
        ``[[2, 2], [1, 1], [1, 1]]`` is 4:2:0, ``[[1, 2], [1, 1], [1, 1]]``
        4:2:2. None: 1 for every component (4:4:4).
    color_space : {"grayscale", "YCbCr", "RGB"} or None, default=None
        How a decoder reads the components: None is "grayscale" for one
        component and "YCbCr" for three. "RGB" is flagged with Adobe's
        marker (transform 0), as libjpeg writes it.
    progressive : bool or None, default=None
        Write a progressive file (libjpeg's default scan script) instead of
        a baseline one. None: as the file read, when ``coefficients`` is the
        reader's result; otherwise baseline.
    baseline : bool, default=True
        Refuse steps above 255, which only a 16-bit table holds (a file of
        the extended sequential process, SOF1, instead of baseline; libjpeg
        and Pillow read it, strict baseline decoders do not).
    path : str, path-like or None, default=None
        Also write the file there, atomically: to a temporary file in the
        same folder, renamed once complete, so a failed write leaves nothing.

    Returns
    -------
    data : bytes
        The JPEG file.

    Raises
    ------
    ValueError
        Before anything is written, naming the component and place: a block
        grid that is not the one libjpeg computes, a symbol that is not an
        integer, an AC coefficient beyond +-1023 or a DC difference (between
        consecutive blocks of a component, in the order libjpeg codes them)
        beyond +-2047 (what libjpeg's Huffman coder holds for 8-bit
        samples; progressive files are held to the same), a table step that
        is 0, not an integer or out of range, sampling factors libjpeg
        refuses, an unknown colour space.

    See Also
    --------
    read_jpeg_coefficients : the inverse.
    write_jpeg_coefficients_batch : many images of one size, in one call.

    Examples
    --------
    >>> import io
    >>> import numpy as np
    >>> from PIL import Image
    >>> from skcompress.io import read_jpeg_coefficients, write_jpeg_coefficients
    >>> rng = np.random.default_rng(0)
    >>> buffer = io.BytesIO()
    >>> image = rng.integers(0, 256, (24, 40, 3), dtype=np.uint8)
    >>> Image.fromarray(image).save(buffer, "JPEG", quality=50, subsampling=2)
    >>> jpeg = read_jpeg_coefficients(buffer.getvalue())
    >>> [c.shape for c in jpeg.coefficients], jpeg.sampling_factors.tolist()
    ([(3, 5, 64), (2, 3, 64), (2, 3, 64)], [[2, 2], [1, 1], [1, 1]])
    >>> jpeg.coefficients[0][..., 10:] = 0  # keep 10 coefficients of the luma
    >>> data = write_jpeg_coefficients(jpeg, progressive=True)
    >>> again = read_jpeg_coefficients(data)
    >>> all(np.array_equal(a, b) for a, b in zip(again.coefficients, jpeg.coefficients))
    True
    >>> again.progressive, Image.open(io.BytesIO(data)).size
    (True, (40, 24))

    Coefficients of our own, one gray component:

    >>> blocks = np.zeros((2, 3, 64), dtype=np.int32)
    >>> blocks[..., 0] = 4  # DC: a flat gray of 128 + 4 * 16 / 8
    >>> data = write_jpeg_coefficients([blocks], np.full((8, 8), 16))
    >>> np.asarray(Image.open(io.BytesIO(data)))[0, :4]
    array([136, 136, 136, 136], dtype=uint8)
    """
    coefficients, given = _unpack(coefficients)
    if quantization_tables is None:
        quantization_tables = given.get("quantization_tables")
    shape = shape if shape is not None else given.get("shape")
    if sampling_factors is None:
        sampling_factors = given.get("sampling_factors")
    color_space = color_space if color_space is not None else given.get("color_space")
    if progressive is None:
        progressive = bool(given.get("progressive", False))
    if quantization_tables is None:
        raise ValueError(
            "quantization_tables is required with a list of coefficient arrays (one 8x8 "
            "table per component, natural order)."
        )
    planes, settings = _check(
        coefficients, quantization_tables, shape, sampling_factors, color_space, baseline, False
    )
    data = _write([p[None] for p in planes], settings, progressive, False)[0]
    if path is not None:
        _write_atomically(path, data)
    return data


def write_jpeg_coefficients_batch(coefficients, quantization_tables, *, shape=None,
                                  sampling_factors=None, color_space=None, progressive=False,
                                  baseline=True):  # fmt: skip
    """Write a batch of images' quantized DCT coefficients to standard JPEG files.

    :func:`write_jpeg_coefficients` for many images of one size, sampling
    and quantization: the tables, sampling factors and block grids are
    checked once, then libjpeg writes every file in one call, without the
    GIL (threads may write batches in parallel). Each file is the one
    :func:`write_jpeg_coefficients` writes of the same image, byte for byte.

    Parameters
    ----------
    coefficients : list of array-like of shape (n_images, rows, cols, k)
        One array of integer symbols per component (1 component, gray, or
        3): each image's blocks as :func:`write_jpeg_coefficients` takes
        them, with a leading axis of images. ``int16`` and ``int32`` arrays
        whose images are each contiguous (slices of a larger array
        included) are read in place.
    quantization_tables : array-like of shape (n_components, 8, 8) or (8, 8)
        As in :func:`write_jpeg_coefficients`, for every image.
    shape : (int, int) or None, default=None
        ``(height, width)`` of every image in pixels. None: whole blocks, as
        in :func:`write_jpeg_coefficients`.
    sampling_factors : array-like of shape (n_components, 2) or None
        As in :func:`write_jpeg_coefficients`. None: 4:4:4.
    color_space : {"grayscale", "YCbCr", "RGB"} or None, default=None
        As in :func:`write_jpeg_coefficients`.
    progressive : bool, default=False
        Write progressive files (libjpeg's default scan script).
    baseline : bool, default=True
        Refuse steps above 255 (16-bit tables), as in
        :func:`write_jpeg_coefficients`.

    Returns
    -------
    files : list of bytes
        One JPEG file per image.

    Raises
    ------
    ValueError
        Before anything is returned, with :func:`write_jpeg_coefficients`'
        messages; a coefficient's place names the image too, as in
        ``coefficients[0][12] (Y)``: image 12 of the first component.

    See Also
    --------
    write_jpeg_coefficients : one file.
    read_jpeg_coefficients : the inverse, file by file.

    Examples
    --------
    >>> import numpy as np
    >>> from skcompress.io import (
    ...     read_jpeg_coefficients, write_jpeg_coefficients, write_jpeg_coefficients_batch)
    >>> rng = np.random.default_rng(0)
    >>> luma = rng.integers(-20, 20, (5, 4, 6, 64))  # 5 images of 32 x 48 pixels, 4:2:0
    >>> chroma = rng.integers(-5, 5, (5, 2, 3, 64))
    >>> files = write_jpeg_coefficients_batch(
    ...     [luma, chroma, chroma], np.full((8, 8), 4), sampling_factors=[[2, 2], [1, 1], [1, 1]])
    >>> len(files), read_jpeg_coefficients(files[3]).shape
    (5, (32, 48))
    >>> np.array_equal(read_jpeg_coefficients(files[3]).coefficients[0], luma[3])
    True
    >>> files[3] == write_jpeg_coefficients(
    ...     [luma[3], chroma[3], chroma[3]], np.full((8, 8), 4),
    ...     sampling_factors=[[2, 2], [1, 1], [1, 1]])
    True
    """
    if isinstance(coefficients, np.ndarray) and coefficients.ndim == 4:
        raise ValueError(
            "coefficients must be a list of arrays, one per component; got one array of "
            f"shape {coefficients.shape}: wrap it in a list for one component."
        )
    if isinstance(coefficients, str | bytes | Mapping) or not hasattr(coefficients, "__len__"):
        raise ValueError(
            "coefficients must be a list of arrays (n_images, rows, cols, k), one per "
            f"component; got {type(coefficients).__name__}."
        )
    planes, settings = _check(
        list(coefficients),
        quantization_tables,
        shape,
        sampling_factors,
        color_space,
        baseline,
        True,
    )
    return _write(planes, settings, progressive, True)


def _check(coefficients, quantization_tables, shape, sampling_factors, color_space, baseline,
           batch):  # fmt: skip
    """The planes as arrays and what every file shares, or a ValueError."""
    n = len(coefficients)
    space = _check_space(color_space, n)
    names = _component_names(space, n)
    factors = _check_factors(sampling_factors, n)
    planes, k = _check_planes(coefficients, names, batch)
    grids = [p.shape[-3:-1] for p in planes]
    height, width = _check_shape(shape, grids, factors)
    _check_grids(grids, names, factors, height, width)
    tables, numbers = _check_tables(quantization_tables, names, baseline)
    settings = _Settings(names, space, factors, k, height, width, tables, numbers)
    return planes, settings


class _Settings:
    """What every file of a batch shares, checked."""

    def __init__(self, names, space, factors, k, height, width, tables, numbers):
        self.names, self.space, self.factors, self.k = names, space, factors, k
        self.height, self.width, self.tables, self.numbers = height, width, tables, numbers


def _write(planes, settings, progressive, batch, reference=False, first=0):
    """The files of checked planes ``(n_images, rows, cols, k)``, with libjpeg; image
    ``first + i`` in messages (with ``batch``)."""
    s = settings
    n_images = len(planes[0])
    if n_images == 0:
        return []
    dtype = np.int16 if all(p.dtype == np.int16 for p in planes) else np.int32
    inputs = [_as_input(p, dtype) for p in planes]
    reader = _reader()
    try:
        bad, files = reader.write(
            tuple(p.ctypes.data for p in inputs),
            tuple(p.strides[0] for p in inputs),
            dtype == np.int32,
            n_images,
            tuple(p.shape[1:3] for p in inputs),
            s.k,
            s.width,
            s.height,
            _SPACE_IDS[s.space],
            tuple((h, v) for v, h in s.factors),
            s.numbers,
            s.tables.ctypes.data,
            len(s.tables),
            bool(progressive),
            reference,
        )
    except ValueError as error:
        message, image = (*error.args, 0)[:2]
        where = f" of image {first + image}" if batch else ""
        raise ValueError(f"libjpeg refused to write the coefficients{where}: {message}.") from None
    if bad < 0:
        return files
    # a coefficient of image `bad` beyond what libjpeg's Huffman coder holds: say which
    v_max, h_max = _largest(s.factors)
    mcus = -(-s.height // (8 * v_max)), -(-s.width // (8 * h_max))
    for c, (plane, (v, h), name) in enumerate(zip(planes, s.factors, s.names, strict=True)):
        what = (
            f"coefficients[{c}][{first + bad}] ({name})"
            if batch
            else f"coefficients[{c}] ({name})"
        )
        # one component is coded alone, block after block; three are interleaved
        _check_range(plane[bad], what, (v, h), mcus, len(planes) > 1)
    # the two checks disagree (they should not): libjpeg's own says why
    one = [p[bad : bad + 1] for p in planes]
    _write(one, settings, progressive, batch, reference=True, first=first + bad)
    raise ValueError(
        f"libjpeg refused to write the coefficients{f' of image {first + bad}' * batch}: a "
        "coefficient is beyond what its Huffman coder holds."
    )


def _as_input(plane, dtype):
    """``dtype`` (int16 or int32) with each image contiguous, a view where it already is."""
    if plane.dtype != dtype:
        # values out of int32's range stay out of JPEG's (refused, and named from `plane`)
        if plane.dtype.kind == "u":
            plane = np.minimum(plane, 2**31 - 1)
        elif plane.dtype.kind == "f" or plane.dtype.itemsize > 4:
            plane = np.clip(plane, -(2**31) + 1, 2**31 - 1)
        plane = plane.astype(dtype)
    item = plane.itemsize
    _, rows, cols, k = plane.shape
    if plane.strides[1:] != (cols * k * item, k * item, item):
        plane = np.ascontiguousarray(plane)
    return plane


def _unpack(coefficients):
    if isinstance(coefficients, Mapping):
        if "coefficients" not in coefficients:
            raise ValueError(
                "a mapping passed as coefficients must be read_jpeg_coefficients' result, "
                f"with a 'coefficients' field; got the fields {sorted(coefficients)}."
            )
        given = {f: coefficients[f] for f in (*_FIELDS, "progressive") if f in coefficients}
        return list(coefficients["coefficients"]), given
    if isinstance(coefficients, np.ndarray) and coefficients.ndim == 3:
        raise ValueError(
            "coefficients must be a list of arrays, one per component; got one array of "
            f"shape {coefficients.shape}: wrap it in a list for one component."
        )
    if isinstance(coefficients, str | bytes) or not hasattr(coefficients, "__len__"):
        raise ValueError(
            "coefficients must be read_jpeg_coefficients' result or a list of arrays "
            f"(rows, cols, k), one per component; got {type(coefficients).__name__}."
        )
    return list(coefficients), {}


def _check_space(color_space, n):
    if n not in (1, 3):
        raise ValueError(
            f"coefficients must hold 1 component (grayscale) or 3 (YCbCr or RGB); got {n}."
        )
    space = color_space if color_space is not None else ("grayscale" if n == 1 else "YCbCr")
    allowed = ("grayscale",) if n == 1 else ("YCbCr", "RGB")
    if space not in allowed:
        raise ValueError(
            f"color_space must be one of {allowed} for {n} component{'s' * (n > 1)}; "
            f"got {space!r}."
        )
    return space


def _integers(values, what, shape=None):
    array = np.asarray(values)
    if array.dtype.kind not in "iuf" or (shape is not None and array.shape != shape):
        wanted = f" of shape {shape}" if shape is not None else ""
        raise ValueError(
            f"{what} must be an array of integers{wanted}; got {array.dtype} values of "
            f"shape {array.shape}."
        )
    if array.dtype.kind == "f":
        bad = ~np.isfinite(array) | (array != np.round(array))
        if bad.any():
            where = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValueError(
                f"{what} must hold integers; {array[where].item()!r} at index {where} is not one."
            )
    return array


def _check_factors(sampling_factors, n):
    if sampling_factors is None:
        return ((1, 1),) * n
    listed = _integers(sampling_factors, "sampling_factors", (n, 2)).tolist()
    if not all(1 <= f <= 4 for pair in listed for f in pair):
        raise ValueError(
            f"sampling factors must be ints from 1 to 4; got {listed} "
            "((vertical, horizontal) per component)."
        )
    factors = tuple((int(v), int(h)) for v, h in listed)
    blocks = sum(v * h for v, h in factors)
    if n > 1 and blocks > MAX_BLOCKS_IN_MCU:
        raise ValueError(
            f"sampling factors {_listed(factors)} give {blocks} blocks a minimum coded unit; "
            f"JPEG allows at most {MAX_BLOCKS_IN_MCU}."
        )
    return factors


def _listed(factors):
    return [list(f) for f in factors]


def _largest(factors):
    return max(v for v, _ in factors), max(h for _, h in factors)


def _check_planes(coefficients, names, batch):
    planes, k, wanted = [], None, "(n_images, rows, cols, k)" if batch else "(rows, cols, k)"
    for c, (plane, name) in enumerate(zip(coefficients, names, strict=True)):
        what = f"coefficients[{c}] ({name})"
        plane = _integers(plane, what)
        if (
            plane.ndim != 3 + batch
            or not 1 <= plane.shape[-1] <= 64
            or 0 in plane.shape[batch:]
        ):  # fmt: skip
            raise ValueError(
                f"{what} must have shape {wanted} with k from 1 to 64 coefficients a block; "
                f"got {plane.shape}."
            )
        if k is not None and plane.shape[-1] != k:
            raise ValueError(
                f"every component must have the same number of coefficients a block; "
                f"{what} has {plane.shape[-1]}, the first {k}."
            )
        if batch and planes and len(plane) != len(planes[0]):
            raise ValueError(
                f"every component must hold the same number of images; {what} has "
                f"{len(plane)}, the first {len(planes[0])}."
            )
        k = plane.shape[-1]
        planes.append(plane)
    return planes, k


def _check_shape(shape, grids, factors):
    v_max, h_max = _largest(factors)
    if shape is None:
        (rows, cols), (v, h) = grids[0], factors[0]
        return int(8 * rows * v_max // v), int(8 * cols * h_max // h)
    if (
        len(shape) != 2
        or not all(isinstance(s, Integral) and 1 <= s <= MAX_DIMENSION for s in shape)
    ):  # fmt: skip
        raise ValueError(
            f"shape must be (height, width), ints from 1 to {MAX_DIMENSION}; got {shape!r}."
        )
    return int(shape[0]), int(shape[1])


def _grid(height, width, v, h, v_max, h_max):
    return -(-height * v // (8 * v_max)), -(-width * h // (8 * h_max))


def _check_grids(grids, names, factors, height, width):
    v_max, h_max = _largest(factors)
    for c, (grid, name, (v, h)) in enumerate(zip(grids, names, factors, strict=True)):
        needed = _grid(height, width, v, h, v_max, h_max)
        if tuple(grid) != needed:
            raise ValueError(
                f"coefficients[{c}] ({name}) has a grid of {grid[0]} x {grid[1]} blocks; an "
                f"image of {height} x {width} pixels with sampling factors (vertical, "
                f"horizontal) {_listed(factors)} needs {needed[0]} x {needed[1]} for it. Pass "
                "the image's shape, or sampling_factors that match the grids."
            )


_TABLES = {}  # checked tables by value: a codec writes the same ones again and again


def _check_tables(quantization_tables, names, baseline):
    """The distinct tables (uint16, natural order), first come first, and the number of
    each component's; checked once for each value."""
    given = np.asarray(quantization_tables)
    key = (given.dtype.str, given.shape, given.tobytes(), names, bool(baseline))
    found = _TABLES.get(key)
    if found is None:
        found = _check_new_tables(given, names, baseline)
        if len(_TABLES) >= 64:
            _TABLES.clear()
        _TABLES[key] = found
    return found


def _check_new_tables(quantization_tables, names, baseline):
    n = len(names)
    tables = _integers(quantization_tables, "quantization_tables")
    if tables.shape == (8, 8):
        tables = np.broadcast_to(tables, (n, 8, 8))
    if tables.shape != (n, 8, 8):
        raise ValueError(
            f"quantization_tables must have shape ({n}, 8, 8) (one per component, natural "
            f"order) or (8, 8); got {tables.shape}."
        )
    top = MAX_BASELINE_STEP if baseline else MAX_STEP
    for c, (table, name) in enumerate(zip(tables, names, strict=True)):
        bad = (table < 1) | (table > top)
        if bad.any():
            row, col = (int(i) for i in np.argwhere(bad)[0])
            step = int(table[row, col])
            hint = (
                "; pass baseline=False for steps up to 32767 (16-bit tables)"
                if baseline and MAX_BASELINE_STEP < step <= MAX_STEP
                else ""
            )
            raise ValueError(
                f"quantization_tables[{c}] ({name}) has the step {step} at row "
                f"{row}, column {col}; steps must be from 1 to {top}{hint}."
            )
    # equal tables stored once, the first component's in slot 0, as libjpeg's and
    # Pillow's files have them
    distinct, numbers = [], []
    for table in tables.reshape(n, 64).astype(np.int64).tolist():
        if table not in distinct:
            distinct.append(table)
        numbers.append(distinct.index(table))
    unique = np.array(distinct, dtype=np.uint16)
    unique.flags.writeable = False
    return unique, tuple(numbers)


def _check_range(plane, what, factors, mcus, interleaved):
    ac = np.abs(plane[..., 1:].astype(np.int64))
    if ac.size and ac.max() > MAX_AC:
        row, col, j = (int(i) for i in np.argwhere(ac > MAX_AC)[0])
        raise ValueError(
            f"{what}: the AC coefficient {plane[row, col, j + 1]} (zig-zag index {j + 1}) of "
            f"block ({row}, {col}) is beyond +-{MAX_AC}, the most libjpeg's Huffman coder "
            "holds (10 bits of magnitude, 8-bit samples)."
        )
    rows, cols = plane.shape[:2]
    order = np.arange(rows * cols)
    if interleaved:
        # libjpeg's order: minimum coded units in raster order, the component's v x h
        # blocks of each in raster order (the padding blocks it adds repeat a DC: no
        # difference)
        (v, h), (mcu_rows, mcu_cols) = factors, mcus
        grid = np.full((mcu_rows * v, mcu_cols * h), -1)
        grid[:rows, :cols] = order.reshape(rows, cols)
        order = grid.reshape(mcu_rows, v, mcu_cols, h).transpose(0, 2, 1, 3).ravel()
        order = order[order >= 0]
    dc = plane[..., 0].ravel().astype(np.int64)
    if np.abs(dc).max() > 2**15 - 1:
        row, col = divmod(int(np.argmax(np.abs(dc))), cols)
        raise ValueError(
            f"{what}: the DC coefficient {dc[row * cols + col]} of block ({row}, {col}) is "
            "beyond +-32767 (libjpeg's 16-bit coefficients)."
        )
    differences = np.diff(dc[order], prepend=0)
    bad = np.abs(differences) > MAX_DC_DIFFERENCE
    if bad.any():
        i = int(np.argmax(bad))
        row, col = divmod(int(order[i]), cols)
        before = (
            "the coded 0 that starts a scan"
            if i == 0
            else "the block coded before it, ({}, {}), with {}".format(
                *divmod(int(order[i - 1]), cols), dc[order[i - 1]]
            )
        )
        raise ValueError(
            f"{what}: the DC coefficient {dc[order[i]]} of block ({row}, {col}) differs from "
            f"{before}, by {differences[i]}: beyond +-{MAX_DC_DIFFERENCE}, the most "
            "libjpeg's Huffman coder holds (11 bits of magnitude, 8-bit samples)."
        )


def _write_atomically(path, data):
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(
        dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".tmp"
    )
    try:
        with os.fdopen(handle, "wb") as f:
            f.write(data)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
