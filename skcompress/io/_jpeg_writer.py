"""Quantized DCT coefficients written to a standard JPEG file by libjpeg."""

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
    n = len(coefficients)
    space = _check_space(color_space, n)
    names = _component_names(space, n)
    factors = _check_factors(sampling_factors, n)
    planes, k = _check_planes(coefficients, names)
    height, width = _check_shape(shape, planes, factors)
    _check_grids(planes, names, factors, height, width)
    tables, numbers = _check_tables(quantization_tables, names, baseline)
    v_max, h_max = factors.max(axis=0)
    mcus = -(-height // (8 * v_max)), -(-width // (8 * h_max))
    for c, (plane, (v, h)) in enumerate(zip(planes, factors, strict=True)):
        # one component is coded alone, block after block; three are interleaved
        _check_range(plane, f"coefficients[{c}] ({names[c]})", (v, h), mcus, n > 1)
    planes = [np.ascontiguousarray(p, dtype=np.int16) for p in planes]
    reader = _reader()
    try:
        data = reader.write(
            tuple(p.ctypes.data for p in planes),
            tuple(p.shape[:2] for p in planes),
            k,
            width,
            height,
            _SPACE_IDS[space],
            tuple((int(h), int(v)) for v, h in factors),
            numbers,
            tables.ctypes.data,
            len(tables),
            bool(progressive),
        )
    except ValueError as error:
        raise ValueError(f"libjpeg refused to write the coefficients: {error}.") from None
    if path is not None:
        _write_atomically(path, data)
    return data


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
                f"{what} must hold integers; {array[where]!r} at index {where} is not one."
            )
    return array


def _check_factors(sampling_factors, n):
    if sampling_factors is None:
        return np.ones((n, 2), dtype=int)
    factors = _integers(sampling_factors, "sampling_factors", (n, 2))
    if (factors < 1).any() or (factors > 4).any():
        raise ValueError(
            f"sampling factors must be ints from 1 to 4; got {factors.tolist()} "
            "((vertical, horizontal) per component)."
        )
    factors = factors.astype(int)
    if n > 1 and (factors[:, 0] * factors[:, 1]).sum() > MAX_BLOCKS_IN_MCU:
        raise ValueError(
            f"sampling factors {factors.tolist()} give "
            f"{(factors[:, 0] * factors[:, 1]).sum()} blocks a minimum coded unit; JPEG "
            f"allows at most {MAX_BLOCKS_IN_MCU}."
        )
    return factors


def _check_planes(coefficients, names):
    planes, k = [], None
    for plane, name in zip(coefficients, names, strict=True):
        what = f"coefficients[{names.index(name)}] ({name})"
        plane = _integers(plane, what)
        if plane.ndim != 3 or not 1 <= plane.shape[2] <= 64 or 0 in plane.shape:
            raise ValueError(
                f"{what} must have shape (rows, cols, k) with k from 1 to 64 coefficients "
                f"a block; got {plane.shape}."
            )
        if k is not None and plane.shape[2] != k:
            raise ValueError(
                f"every component must have the same number of coefficients a block; "
                f"{what} has {plane.shape[2]}, the first {k}."
            )
        k = plane.shape[2]
        planes.append(plane)
    return planes, k


def _check_shape(shape, planes, factors):
    v_max, h_max = factors.max(axis=0)
    if shape is None:
        (rows, cols), (v, h) = planes[0].shape[:2], factors[0]
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


def _check_grids(planes, names, factors, height, width):
    v_max, h_max = factors.max(axis=0)
    for c, (plane, name, (v, h)) in enumerate(zip(planes, names, factors, strict=True)):
        grid = _grid(height, width, v, h, v_max, h_max)
        if plane.shape[:2] != grid:
            raise ValueError(
                f"coefficients[{c}] ({name}) has a grid of {plane.shape[0]} x "
                f"{plane.shape[1]} blocks; an image of {height} x {width} pixels with "
                f"sampling factors (vertical, horizontal) {factors.tolist()} needs {grid[0]} "
                f"x {grid[1]} for it. Pass the image's shape, or sampling_factors that match "
                "the grids."
            )


def _check_tables(quantization_tables, names, baseline):
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
    unique, numbers = np.unique(
        tables.reshape(n, 64).astype(np.int64), axis=0, return_inverse=True
    )
    # the first component's table in slot 0, as libjpeg's and Pillow's files have it
    order = np.unique(numbers.ravel(), return_index=True)[1].argsort()
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    unique = unique[order]
    numbers = tuple(int(rank[i]) for i in numbers.ravel())
    return np.ascontiguousarray(unique, dtype=np.uint16), numbers


def _check_range(plane, what, factors, mcus, interleaved):
    ac = np.abs(plane[..., 1:])
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
