"""JPEG files as input: their quantized DCT coefficients, without decoding the pixels."""

import os
from numbers import Integral

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils import Bunch
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._core._basis import zigzag_order
from .._core._contract import LAYOUTS, check_input_features, to_layout
from .._core._docs import fill_doc
from .._core._estimator import PublicEstimatorMixin, unfitted_on_error

try:
    from . import _jpeg_reader
except ImportError:  # built without libjpeg's headers
    _jpeg_reader = None

_COLOR_SPACES = {0: "unknown", 1: "grayscale", 2: "RGB", 3: "YCbCr", 4: "CMYK", 5: "YCCK"}
_SPACE_IDS = {name: space for space, name in _COLOR_SPACES.items()}
_COMPONENT_NAMES = {"grayscale": ("Y",), "YCbCr": ("Y", "Cb", "Cr"), "RGB": ("R", "G", "B")}
# libjpeg-turbo's fuzzers stop at 100 scans ("Two Issues with the JPEG Standard");
# libjpeg's own progressive scripts have 10 (colour) or 6 (gray)
MAX_SCANS = 100
# Pillow's decompression-bomb limit (2 * 89,478,485 pixels) in 4:2:0 colour, or a
# 16384 x 16384 gray image
MAX_COEFFICIENTS = 2**28
_TYPES = {np.dtype(np.int16): 0, np.dtype(np.int32): 1, np.dtype(np.float32): 2}
_TYPES[np.dtype(np.float64)] = 3


def _reader():
    if _jpeg_reader is None:
        raise ImportError(
            "skcompress was installed without its JPEG reader, which is built against "
            "libjpeg: install libjpeg's development files (Debian/Ubuntu: libjpeg-dev; "
            "conda: libjpeg-turbo) and reinstall skcompress."
        )
    return _jpeg_reader


def _load(source):
    """``(bytes, name)`` of a path, bytes-like object or file object."""
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source), "<bytes>"
    if hasattr(source, "read"):
        return source.read(), getattr(source, "name", "<file>")
    if isinstance(source, str | os.PathLike):
        try:
            with open(source, "rb") as f:
                return f.read(), os.fspath(source)
        except OSError as error:
            raise ValueError(f"cannot read JPEG file {os.fspath(source)!r}: {error}") from None
    raise TypeError(
        f"a JPEG source must be a path, bytes or a binary file object; got "
        f"{type(source).__name__}."
    )


def _component_names(space, n_components):
    return _COMPONENT_NAMES.get(space, tuple(f"C{i + 1}" for i in range(n_components)))


def _check_budget(max_scans, max_coefficients):
    for name, value, top in [("max_scans", max_scans, 2**31 - 1),
                             ("max_coefficients", max_coefficients, 2**62)]:  # fmt: skip
        if isinstance(value, bool) or not isinstance(value, Integral) or not 1 <= value <= top:
            raise ValueError(f"{name} must be an int in [1, {top}]; got {value!r}.")
    return int(max_scans), int(max_coefficients)


def _header(data, name, strict=True, max_scans=MAX_SCANS, max_coefficients=MAX_COEFFICIENTS):
    reader = _reader()
    try:
        width, height, space, progressive, components = reader.header(
            data, strict, max_scans, max_coefficients
        )
    except reader.LimitError as error:
        raise ValueError(f"{name}: {error}.") from None
    except ValueError as error:
        raise ValueError(f"{name}: not a readable JPEG file ({error}).") from None
    return width, height, _COLOR_SPACES.get(space, "unknown"), bool(progressive), components


def _dtype(dtype, dequantize):
    dtype = np.dtype(dtype if dtype is not None else np.float64 if dequantize else np.int32)
    if dtype not in _TYPES or (dequantize and dtype.kind != "f"):
        kinds = "float32 or float64" if dequantize else "int16, int32, float32 or float64"
        raise ValueError(
            f"dtype must be {kinds}{' with dequantize=True' if dequantize else ''}; got {dtype}."
        )
    return dtype


def _read(data, name, outputs, grids, k, dtype, dequantize, strict, budget, tables=0):
    """``(problems, block grids, colour space id, sampling factors (h, v))`` of a file."""
    reader = _reader()
    try:
        return reader.read(
            data, strict, k, _TYPES[dtype], dequantize, outputs, grids, tables, *budget
        )
    except reader.LimitError as error:
        raise ValueError(f"{name}: {error}.") from None
    except ValueError as error:
        raise ValueError(f"{name}: corrupt or unsupported JPEG data ({error}).") from None


BUDGET_PARAMETERS = """\
max_scans : int, default=100
    Most scans a file may have; a file with more raises a ValueError before
    it is decoded (its SOS markers are counted first, and libjpeg counts as
    it reads). Every scan is a pass over the whole image and a small file can
    hold thousands; libjpeg-turbo's fuzzers stop at 100, and libjpeg's own
    progressive files have 10.
max_coefficients : int, default=2**28
    Most DCT coefficients a file may declare (its block grids, in whole MCUs,
    times 64), checked from its header before anything is allocated: a
    header of a hundred bytes can declare 2**32 pixels. Reading takes about
    2 bytes a coefficient (libjpeg's buffer) plus the output's. The default
    is Pillow's decompression-bomb limit for a 4:2:0 colour image (179
    million pixels), or a 16384 x 16384 gray one. Decoding time grows with
    the coefficients times the scans, which both limits bound.
"""


def read_jpeg_coefficients(source, *, n_coefficients=None, dequantize=False, dtype=None,
                           strict=True, max_scans=MAX_SCANS,
                           max_coefficients=MAX_COEFFICIENTS):  # fmt: skip
    """Quantized DCT coefficients of a JPEG file, as the file stores them.

    Only the entropy decoding runs: no inverse DCT, no colour conversion, no
    upsampling. Baseline and progressive files, Huffman or arithmetic coded,
    grayscale, YCbCr (any sampling factors) and RGB are read.

    Parameters
    ----------
    source : str, path-like, bytes or binary file object
    n_coefficients : int in [1, 64] or None, default=None
        Keep the first ``n_coefficients`` of every block in zig-zag order.
    dequantize : bool, default=False
        Multiply every coefficient by its quantization step, giving the
        values ``PerceptualQuantizer.inverse_transform`` would.
    dtype : dtype or None, default=None
        int32 (the dtype of ``PerceptualQuantizer``'s symbols) unless
        ``dequantize``, then float64 (float32 for a network, on request).
    strict : bool, default=True
        Refuse a file with any flaw: whatever libjpeg warns about (truncated
        or corrupt entropy data, which it fills with zeros; stray bytes
        between markers), Huffman-coded data too short for the blocks the
        header declares, arithmetic-coded data that ends early (libjpeg
        decodes the rest of the scan from zero bits without a warning; judged
        by what those decode to, so a cut that leaves flat blocks passes),
        coefficients that no scan sends in full (a progressive file cut at a
        scan boundary), a quantization table with a zero step. With
        ``strict=False`` the file is read as libjpeg (and Pillow) reads it,
        except that the rest of an arithmetic-coded scan found cut short is
        left zero, as libjpeg leaves a Huffman-coded one; ``warnings`` counts
        the flaws.
    {budget}

    Returns
    -------
    jpeg : Bunch
        ``coefficients``: one array ``(rows, cols, k)`` per component, blocks
        in raster order, coefficients in zig-zag order: the layout of
        ``BlockDCT(layout="blocks")`` followed by ``PerceptualQuantizer``.
        ``quantization_tables``: ``(n_components, 8, 8)`` steps in natural
        (row-major) order, each the table libjpeg took for the component
        when its first scan began (a later DQT segment does not change it).
        ``sampling_factors``: ``(n_components, 2)``, vertical and horizontal.
        ``shape``: ``(height, width)`` in pixels. ``color_space``: "YCbCr",
        "RGB" (Adobe's transform 0, or components named R, G, B) or
        "grayscale", as libjpeg reads the file. ``components``: the names of
        the components in that space (Y, Cb, Cr; R, G, B; or Y).
        ``progressive``, ``warnings`` (the flaws ``strict`` refuses, counted
        with ``strict=False``).

    Raises
    ------
    ValueError
        Naming the file, for anything that is not a readable JPEG: truncated
        or corrupt data (with ``strict``), another format, CMYK, or a file
        over ``max_scans`` or ``max_coefficients``.

    See Also
    --------
    JPEGCoefficients : the same for a batch of files, as a transformer.

    Examples
    --------
    >>> import io
    >>> import numpy as np
    >>> from PIL import Image
    >>> buffer = io.BytesIO()
    >>> Image.fromarray(np.full((16, 24), 200, np.uint8)).save(buffer, "JPEG", quality=50)
    >>> jpeg = read_jpeg_coefficients(buffer.getvalue())
    >>> jpeg.coefficients[0].shape, jpeg.color_space
    ((2, 3, 64), 'grayscale')
    >>> int(jpeg.coefficients[0][0, 0, 0]) * int(jpeg.quantization_tables[0, 0, 0])  # DC
    576
    """
    budget = _check_budget(max_scans, max_coefficients)
    data, name = _load(source)
    width, height, space, progressive, components = _header(data, name, strict, *budget)
    k = _check_n_coefficients(n_coefficients)
    dtype = _dtype(dtype, dequantize)
    coefficients = [
        np.empty((rows, cols, k), dtype=dtype) for _, _, _, rows, cols, _ in components
    ]
    tables = np.empty((len(components), 8, 8), dtype=np.uint16)
    warnings, *_ = _read(
        data,
        name,
        tuple(c.ctypes.data for c in coefficients),
        tuple(c.shape[:2] for c in coefficients),
        k,
        dtype,
        dequantize,
        strict,
        budget,
        tables.ctypes.data,
    )
    return Bunch(
        coefficients=coefficients,
        quantization_tables=tables,
        sampling_factors=np.array([(v, h) for _, h, v, *_ in components]),
        shape=(height, width),
        components=_component_names(space, len(components)),
        color_space=space,
        progressive=progressive,
        warnings=warnings,
    )


read_jpeg_coefficients.__doc__ = fill_doc(
    read_jpeg_coefficients.__doc__, {"{budget}": BUDGET_PARAMETERS}
)


def _check_n_coefficients(n_coefficients, name="n_coefficients"):
    if n_coefficients is None:
        return 64
    if not isinstance(n_coefficients, Integral) or not 1 <= n_coefficients <= 64:
        raise ValueError(f"{name} must be an int in [1, 64] or None; got {n_coefficients!r}.")
    return int(n_coefficients)


class JPEGCoefficients(TransformerMixin, PublicEstimatorMixin, BaseEstimator):
    """Read a column of JPEG files into their quantized DCT coefficients.

    The first step of a Pipeline that learns from a folder of JPEG files
    without decoding them: ``transform`` takes paths (or bytes) and returns
    the coefficients the files store, in the layout of ``BlockDCT`` followed
    by ``PerceptualQuantizer``, so a model trained on one accepts the other.
    Files are read on ``n_jobs`` threads (libjpeg runs without the GIL).

    Parameters
    ----------
    n_coefficients : int in [1, 64] or None, default=None
        Keep the first ``n_coefficients`` of every block in zig-zag order.
    components : {"all", "luma"}, default="all"
        "all": the components of the files seen at ``fit``. Among YCbCr
        files, a gray file is promoted exactly, as
        :class:`~skcompress.io.JPEGDataset` promotes it: its one component
        is the Y, its Cb and Cr blocks are zero (what a colour JPEG of a gray
        image holds). A colour file among gray ones (fitted on a gray file)
        is refused rather than cut to its Y: fit on a colour file, or read
        the luma. "luma": the luma (Y) of every file, gray (its only
        component) or YCbCr of any sampling factors, whose chroma is decoded
        but not copied; RGB-coded files are refused.
    dequantize : bool, default=False
        Coefficients times their quantization steps (what the codec's
        decoder feeds its inverse DCT) instead of the integer symbols.
    dtype : dtype or None, default=None
        int32 symbols, or float64 when dequantized; float32 for a network.
    layout : {"flat", "blocks", "channels_first"}, default="flat"
        "flat" concatenates, component after component, each component's
        blocks in raster order, coefficient axis last (for one component:
        exactly ``BlockDCT``'s features and names). "blocks" is ``(n, rows,
        cols, C, k)`` (``(n, rows, cols, k)`` for one component) and
        "channels_first" ``(n, C * k, rows, cols)``: there every component is on
        the luma's block grid, subsampled chroma blocks repeated (nearest
        neighbour in the block domain, as frequency-domain networks take it).
        These two need every component's sampling factors to divide the
        luma's (4:4:4, 4:2:2, 4:2:0, ...); ``fit`` refuses files whose chroma
        has finer blocks than the luma.
    block_grid : (int, int) or None, default=None
        Luma blocks ``(rows, cols)`` of every output. None takes the grid of
        the files seen at ``fit``, and a file of another size is an error;
        with a grid, every file is cropped to it or padded with zero blocks
        (each component's grid follows its sampling factors).
    strict : bool, default=True
        Refuse files with any flaw (see
        :func:`~skcompress.io.read_jpeg_coefficients`); False reads them as
        libjpeg and Pillow do.
    {budget}
    n_jobs : int or None, default=None
        Threads reading files (joblib's convention: None is 1, -1 all CPUs).

    Attributes
    ----------
    sampling_factors_ : ndarray of shape (n_components, 2)
        Vertical and horizontal sampling factors of the files seen at ``fit``;
        with ``components="all"`` every file read must have them (but a gray
        file promoted among YCbCr ones).
    color_space_ : str
        "YCbCr", "RGB" or "grayscale": the colour space of the files seen at
        ``fit`` (as libjpeg reads them); with ``components="all"`` every file
        read must have it (but a promoted gray file). With
        ``components="luma"`` files are gray or YCbCr, whatever their
        sampling factors; only the luma's block grid must match.
    components_ : tuple of str
        Names of the output components (Y, Cb, Cr; R, G, B; or Y), which
        prefix the feature names.
    grids_ : list of (int, int)
        Block grid of every output component.
    n_features_in_ : int
        1: one column of files.

    Examples
    --------
    >>> import io
    >>> import numpy as np
    >>> from PIL import Image
    >>> from skcompress.io import JPEGCoefficients
    >>> def jpeg(image):
    ...     buffer = io.BytesIO()
    ...     Image.fromarray(image).save(buffer, "JPEG", quality=75)
    ...     return buffer.getvalue()
    >>> rng = np.random.default_rng(0)
    >>> files = [jpeg(rng.integers(0, 256, (28, 28), dtype=np.uint8)) for _ in range(3)]
    >>> JPEGCoefficients(n_coefficients=16).fit_transform(files).shape
    (3, 256)
    """

    _parameter_constraints = {
        "n_coefficients": [Interval(Integral, 1, 64, closed="both"), None],
        "components": [StrOptions({"all", "luma"})],
        "dequantize": ["boolean"],
        "dtype": "no_validation",
        "layout": [StrOptions(set(LAYOUTS))],
        "block_grid": [tuple, list, None],
        "strict": ["boolean"],
        "max_scans": [Interval(Integral, 1, 2**31 - 1, closed="both")],
        "max_coefficients": [Interval(Integral, 1, 2**62, closed="both")],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        *,
        n_coefficients=None,
        components="all",
        dequantize=False,
        dtype=None,
        layout="flat",
        block_grid=None,
        strict=True,
        max_scans=MAX_SCANS,
        max_coefficients=MAX_COEFFICIENTS,
        n_jobs=None,
    ):
        self.n_coefficients = n_coefficients
        self.components = components
        self.dequantize = dequantize
        self.dtype = dtype
        self.layout = layout
        self.block_grid = block_grid
        self.strict = strict
        self.max_scans = max_scans
        self.max_coefficients = max_coefficients
        self.n_jobs = n_jobs

    @_fit_context(prefer_skip_nested_validation=True)
    @unfitted_on_error
    def fit(self, X, y=None):
        """Take the component structure (and grid) of the first file.

        Parameters
        ----------
        X : array-like of shape (n_samples,) or (n_samples, 1)
            Paths, bytes or binary file objects of JPEG files.
        y : None
            Ignored.

        Returns
        -------
        self : JPEGCoefficients
        """
        sources = self._sources(X)
        self.n_features_in_ = 1
        data, name = _load(sources[0])
        budget = _check_budget(self.max_scans, self.max_coefficients)
        _, _, space, _, components = _header(data, name, self.strict, *budget)
        if self.components == "luma" and space not in ("YCbCr", "grayscale"):
            raise ValueError(
                f"{name}: components='luma' needs YCbCr or grayscale files; this one is "
                f"{space}-coded (its components are {', '.join(_component_names(space, 3))})."
            )
        self.color_space_ = space
        self.sampling_factors_ = np.array([(v, h) for _, h, v, *_ in components])
        kept = components[:1] if self.components == "luma" else components
        self.components_ = _component_names(space, len(components))[: len(kept)]
        luma = self.sampling_factors_[0]
        if self.layout != "flat":
            v, h = self.sampling_factors_[: len(kept)].T
            if (luma[0] % v).any() or (luma[1] % h).any():
                factors = ", ".join(
                    f"{c} {b}x{a}"
                    for c, (a, b) in zip(self.components_, self.sampling_factors_, strict=True)
                )
                raise ValueError(
                    f"{name}: layout={self.layout!r} cannot hold these components: it puts "
                    "every component on the luma's block grid, which needs each "
                    "component's sampling factors to divide the luma's, and here they do "
                    f"not (horizontal x vertical: {factors}). Use layout='flat', or "
                    "components='luma'."
                )
        if self.block_grid is None:
            self.grids_ = [(rows, cols) for *_, rows, cols, _ in kept]
        else:
            rows, cols = _check_grid(self.block_grid)
            self.grids_ = [
                (int(-(-rows * v // luma[0])), int(-(-cols * h // luma[1])))
                for v, h in self.sampling_factors_[: len(kept)]
            ]
        _dtype(self.dtype, self.dequantize)
        return self

    def transform(self, X):
        """Coefficients of every file.

        Parameters
        ----------
        X : array-like of shape (n_samples,) or (n_samples, 1)
            Paths, bytes or binary file objects of JPEG files with the
            components, sampling factors and colour space seen at ``fit``,
            or gray files among YCbCr ones (``components="all"``); gray or
            YCbCr files (``components="luma"``). Without ``block_grid``, the
            block grids seen at ``fit`` (the luma's for a gray or luma file).

        Returns
        -------
        Xt : ndarray
            Coefficients in ``layout``.
        """
        check_is_fitted(self)
        sources = self._sources(X)
        k = _check_n_coefficients(self.n_coefficients)
        dtype = _dtype(self.dtype, self.dequantize)
        budget = _check_budget(self.max_scans, self.max_coefficients)
        sizes = [rows * cols * k for rows, cols in self.grids_]
        out = np.empty((len(sources), sum(sizes)), dtype=dtype)
        offsets = [int(o) * dtype.itemsize for o in np.cumsum([0] + sizes[:-1])]
        start, stride = out.ctypes.data, out.strides[0]
        # components not kept (chroma, for components="luma") are read into nothing
        n_fit, n_kept = len(self.sampling_factors_), len(self.grids_)
        skipped = (0,) * (n_fit - n_kept)
        grids = tuple(self.grids_) + ((0, 0),) * len(skipped)
        strict, dequantize = self.strict, self.dequantize
        sampling = tuple((int(h), int(v)) for v, h in self.sampling_factors_)

        def read_rows(rows):
            for i in rows:
                data, name = _load(sources[i])
                base = start + int(i) * stride
                targets = tuple([base + o for o in offsets])
                try:  # most files have the components seen at fit
                    _, found, space, factors = _read(
                        data, name, targets + skipped, grids, k, dtype, dequantize, strict, budget
                    )
                except ValueError:
                    n_components, space = _components(data, strict, budget)
                    if n_components in (None, n_fit):
                        raise
                    self._check_components(name, n_components, space)
                    # a gray file among colour ones, or a colour one among gray ones for luma:
                    # its luma (its first component) only
                    others = n_components - 1
                    outputs = targets[:1] + (0,) * others
                    luma_grid = grids[:1] + ((0, 0),) * others
                    _, found, space, factors = _read(
                        data, name, outputs, luma_grid, k, dtype, dequantize, strict, budget
                    )
                    if n_kept > 1:  # promoted: the chroma blocks of a gray image are zero
                        out[i, sizes[0] :] = 0
                self._check_file(name, found, _COLOR_SPACES.get(space), factors, sampling)

        chunks = np.array_split(np.arange(len(sources)), min(len(sources), 64))
        Parallel(n_jobs=self.n_jobs, prefer="threads")(delayed(read_rows)(c) for c in chunks)
        return self._to_layout(out, sizes, k)

    def _check_components(self, name, n_components, space):
        """Refuse a file whose components (another count than at fit) cannot be read."""
        if self.components == "luma" or (n_components == 1 and self.color_space_ == "YCbCr"):
            return
        if n_components == 1:
            raise ValueError(
                f"{name}: a grayscale file among the {self.color_space_}-coded files seen at "
                "fit; components='all' promotes a gray file (zero chroma) only among YCbCr "
                "ones. Re-encode the files as YCbCr JPEGs, or read them one colour space at "
                "a time."
            )
        raise ValueError(
            f"{name}: a {space}-coded file among the grayscale files seen at fit, whose "
            "output holds one component; components='all' would drop its chroma. Fit on a "
            "colour file (gray files are then promoted with zero chroma blocks), or set "
            "components='luma' to read the luma of every file."
        )

    def _check_file(self, name, found, space, factors, sampling):
        """Refuse a file read that does not fit the output."""
        luma = self.components == "luma"
        if luma and space not in ("YCbCr", "grayscale"):
            raise ValueError(
                f"{name}: components='luma' needs YCbCr or grayscale files; this one is "
                f"{space}-coded (its components are "
                f"{', '.join(_component_names(space, len(factors)))})."
            )
        promoted = len(factors) < len(sampling) and not luma
        if not (luma or promoted) and factors != sampling:
            raise ValueError(
                f"{name}: its sampling factors (h, v) {list(factors)} differ from the "
                f"{list(sampling)} seen at fit."
            )
        if not (luma or promoted) and space != self.color_space_:
            raise ValueError(
                f"{name}: its colour space {space} differs from the {self.color_space_} "
                "seen at fit."
            )
        kept = 1 if luma or promoted else len(self.grids_)
        if self.block_grid is None and list(found[:kept]) != self.grids_[:kept]:
            raise ValueError(
                f"{name}: its block grids {list(found[:kept])} differ from the "
                f"{self.grids_[:kept]} seen at fit; set block_grid to crop or pad every file "
                "to one grid."
            )

    def get_feature_names_out(self, input_features=None):
        """Names of the "flat" features: ``[<component>_]blk<row>_<col>_dct<u>_<v>``.

        Parameters
        ----------
        input_features : array-like of str or None
            Ignored except for a length check.

        Returns
        -------
        feature_names_out : ndarray of str
        """
        check_is_fitted(self)
        check_input_features(self, input_features)
        k = _check_n_coefficients(self.n_coefficients)
        u, v = np.divmod(zigzag_order(8)[:k], 8)
        freq = [f"dct{a}_{b}" for a, b in zip(u, v, strict=True)]
        prefix = [""] if len(self.grids_) == 1 else [f"{c}_" for c in self.components_]
        return np.asarray(
            [
                f"{p}blk{r}_{c}_{f}"
                for p, (rows, cols) in zip(prefix, self.grids_, strict=True)
                for r in range(rows)
                for c in range(cols)
                for f in freq
            ],
            dtype=object,
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.requires_fit = True
        return tags

    def _sources(self, X):
        if isinstance(X, bytes | bytearray | str | os.PathLike):
            raise TypeError(
                "JPEGCoefficients expects a column of files (a list or array of paths or "
                f"bytes); got a single {type(X).__name__}: wrap it in a list."
            )
        values = getattr(X, "to_numpy", None)
        sources = list(values().ravel() if values else np.asarray(X, dtype=object).ravel())
        if hasattr(X, "shape") and len(X.shape) == 2 and X.shape[1] != 1:
            raise ValueError(
                f"JPEGCoefficients expects one column of files; got X of shape {X.shape}."
            )
        if not sources:
            raise ValueError("JPEGCoefficients needs at least one file; got an empty X.")
        return sources

    def _to_layout(self, out, sizes, k):
        if self.layout == "flat":
            return out
        n, (rows, cols) = len(out), self.grids_[0]
        luma = self.sampling_factors_[0]
        planes, start = [], 0
        for (r, c), size, (v, h) in zip(self.grids_, sizes, self.sampling_factors_, strict=False):
            plane = out[:, start : start + size].reshape(n, r, c, k)
            start += size
            # a component of coarser blocks covers luma[0] // v x luma[1] // h luma blocks
            plane = plane.repeat(luma[0] // v, axis=1).repeat(luma[1] // h, axis=2)
            planes.append(plane[:, :rows, :cols])
        blocks = np.stack(planes, axis=3)  # (n, rows, cols, C, k)
        return to_layout(blocks, self.layout, self)


JPEGCoefficients.__doc__ = fill_doc(JPEGCoefficients.__doc__, {"{budget}": BUDGET_PARAMETERS})


def _components(data, strict, budget):
    """``(number of components, colour space)`` of a file's header; ``(None, None)`` where
    the header cannot be read (the reader then says why)."""
    try:
        _, _, space, _, components = _reader().header(data, strict, *budget)
    except ValueError:
        return None, None
    return len(components), _COLOR_SPACES.get(space, "unknown")


def _check_grid(grid):
    if (
        len(grid) != 2
        or not all(isinstance(g, Integral) and g >= 1 for g in grid)
    ):  # fmt: skip
        raise ValueError(f"block_grid must be two positive ints (rows, cols); got {grid!r}.")
    return int(grid[0]), int(grid[1])
