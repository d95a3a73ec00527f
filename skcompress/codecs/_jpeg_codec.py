"""JPEG as one scikit-learn step: pixels to the quantized coefficients of a baseline JPEG file."""

import copy
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._core._chunks import as_output_dtype
from .._core._contract import LAYOUTS, check_input_features, check_signals, from_layout, to_layout
from .._core._docs import DTYPE_PARAMETER, fill_doc
from .._core._estimator import PublicEstimatorMixin, unfitted_on_error
from .._core._structure import Structure, read_structure, refuse, with_structure
from ..entropy import BlockContextModel
from ..entropy._coder import read_varint, varint
from ..io import read_jpeg_coefficients, write_jpeg_coefficients_batch
from ..quantization._tables import JPEG_CHROMA, JPEG_LUMA, ijg_scale
from ._image_rate import image_rate
from ._libjpeg import jpeg_component_views, jpeg_decode, jpeg_encode

#: (vertical, horizontal) sampling factors of Y for each subsampling; Cb and Cr have (1, 1).
_LUMA_FACTORS = {"4:4:4": (1, 1), "4:2:2": (1, 2), "4:2:0": (2, 2)}
_COMPONENTS = ("Y", "Cb", "Cr")
_SOI = b"\xff\xd8"  # every JPEG file starts with it
#: First byte of a context stream of subsampled colour (a luma and a chroma part): neither a
#: JPEG file's 0xFF nor the format byte of one BlockContextModel bitstream (0x12).
_TWO_PARTS = 0xC2


class JPEGCodec(TransformerMixin, PublicEstimatorMixin, BaseEstimator):
    """Baseline JPEG as one transformer: 8-bit images to quantized DCT coefficients and back.

    Gray images ``(n_samples, H, W)`` take JPEG's gray path: level shift by
    128, 8x8 block DCT (blocks padded by repeating the last row and column,
    as libjpeg pads them), quantization by the Annex K luminance table
    scaled to ``quality`` as the IJG library scales it. Colour images
    ``(n_samples, H, W, 3)`` (RGB) are first converted to YCbCr (JFIF) and
    their chroma subsampled (:class:`~skcompress.ColorTransform`,
    :class:`~skcompress.ChromaSubsampler`); Y takes the luminance table, Cb
    and Cr the chrominance table.

    With ``dct="islow"`` every step is libjpeg's integer arithmetic (colour
    conversion, chroma downsampling, the slow integer DCT ``JDCT_ISLOW`` and
    the quantizer): the symbols are then those that libjpeg, and Pillow's
    ``save`` with the same ``quality`` and ``subsampling``, write to a
    file, bit for bit. With ``dct="float"`` the conversion, the chroma means
    and the DCT are exact (orthonormal) and the symbols differ from libjpeg's
    only where its integer arithmetic crosses a rounding boundary, by one
    level.

    **Layouts.** ``layout="flat"`` holds, per image, the blocks of each
    component in raster order (Y, then Cb, then Cr), the first
    ``n_coefficients`` coefficients of each in zig-zag order: the grids
    that :func:`skcompress.io.read_jpeg_coefficients` returns for a file of
    the same image, flattened in that order. ``"blocks"`` and
    ``"channels_first"`` give a network one grid: gray images
    ``(n, rows, cols, k)`` and ``(n, k, rows, cols)``, 4:4:4 colour
    ``(n, rows, cols, 3, k)`` and ``(n, 3 k, rows, cols)``. With 4:2:0 or
    4:2:2 the luma grid is finer than the chroma grids, so the grid is that
    of JPEG's minimum coded units (MCUs, ``16 x 16`` pixels for 4:2:0,
    ``8 x 16`` for 4:2:2), in the order of JPEG's interleaved scan: per
    MCU, its ``v x h`` luma blocks in raster order (a space-to-depth of the
    luma grid), then Cb, then Cr, ``(n, mcu_rows, mcu_cols, v h + 2, k)``
    and ``(n, (v h + 2) k, mcu_rows, mcu_cols)`` (``v h + 2`` is 6 for
    4:2:0, 4 for 4:2:2; the channel axis counts ``k`` coefficients per
    block, block slot slowest). Where the luma grid
    does not fill its last MCU row or column, the missing luma blocks hold
    what libjpeg codes there (its "dummy blocks"): AC coefficients 0 and the
    DC of the block coded before it in the MCU, so they cost no DC
    difference; they lie outside the image, and
    :meth:`inverse_transform` and :meth:`compress_symbols` ignore them.

    **Bitstreams.** :meth:`compress` writes, per image, a standard JPEG file
    by libjpeg (``entropy="jpeg"``) or a smaller stream of skcompress's own
    (``entropy="context"``: the symbols coded by a
    :class:`~skcompress.entropy.BlockContextModel` fitted at :meth:`fit`);
    :meth:`compress_symbols` codes symbols given in any layout (edited
    coefficients, say). :meth:`decompress` and :meth:`decompress_symbols`
    read both kinds, told apart by their first bytes, and :meth:`rate`
    measures their bytes.

    Parameters
    ----------
    quality : int in [1, 100], default=75
        IJG quality scaling of the ``tables`` (libjpeg's
        ``jpeg_set_quality`` with ``force_baseline``: steps from 1 to 255);
        50 takes them as they are.
    subsampling : {"4:2:0", "4:2:2", "4:4:4"}, default="4:2:0"
        Chroma subsampling of colour images (Pillow's ``subsampling=2``,
        ``1``, ``0``); gray images ignore it.
    tables : array-like of shape (8, 8) or (2, 8, 8), or None, default=None
        The base quantization tables in natural (row-major) order, integers
        from 1 to 255, before the ``quality`` scaling: one table for every
        component, or a luminance table (Y, and gray images) and a
        chrominance table (Cb and Cr). None: the tables of the JPEG
        standard's Annex K, what libjpeg and Pillow use.
    dct : {"float", "islow"}, default="float"
        Exact floating point conversion, chroma means and DCT, or libjpeg's
        integer ones (bit-exact with libjpeg; the images must then hold
        integers from 0 to 255).
    n_coefficients : int in [1, 64] or None, default=None
        Keep the first ``n_coefficients`` coefficients of every block in
        zig-zag order, the lowest frequencies (what frequency-domain
        networks take); None keeps all 64. :meth:`inverse_transform` treats
        the others as zero, and :meth:`compress` codes exactly the kept ones
        (the others are zero in the file), so the rate follows
        ``n_coefficients``.
    layout : {"flat", "blocks", "channels_first"}, default="flat"
        Output layout of :meth:`transform` (see above and the data contract,
        :mod:`skcompress`). Every method that takes symbols takes this
        layout, and "flat" 2-D symbols always.
    entropy : {"jpeg", "context"} or BlockContextModel, default="jpeg"
        What :meth:`compress` writes: standard JPEG files ("jpeg"), or the
        symbols coded by a :class:`~skcompress.entropy.BlockContextModel`
        fitted on the training images at :meth:`fit` ("context"; a
        ``BlockContextModel`` instance gives its settings, copied and fitted
        at :meth:`fit`). Gray and 4:4:4 images are coded as one grid of
        blocks with one model; subsampled colour with two, one for the luma
        grid and one for the two chroma grids (``positional="auto"`` is
        decided on the luma grid, for both).
    signal_shape : tuple of int or None, default=None
        ``(H, W)`` or ``(H, W, 3)`` when the images arrive as flattened
        rows. Without it, 2-D input is read as gray images one pixel high
        (a row of ``n_features`` pixels each), as JPEG codes such an image.
    {dtype_parameter}

    Attributes
    ----------
    signal_shape_ : tuple of int
        Shape of one image.
    n_features_in_ : int
        Pixels (times channels) per image.
    n_coefficients_ : int
        Coefficients kept per block.
    quantization_tables_ : ndarray of shape (n_components, 8, 8)
        The steps of each component (1 gray, 3 colour) in natural
        (row-major) order, as a JPEG file's DQT segments hold them.
    sampling_factors_ : ndarray of shape (n_components, 2)
        Vertical and horizontal sampling factor of each component, as
        :func:`~skcompress.io.read_jpeg_coefficients` returns them.
    grid_shapes_ : list of (int, int)
        Block rows and columns of each component:
        ``ceil(H * v / (8 * v_max))`` by ``ceil(W * h / (8 * h_max))``.
    mcu_shape_ : (int, int)
        Rows and columns of minimum coded units: ``ceil(H / (8 * v_max))``
        by ``ceil(W / (8 * h_max))``, the grid of the "blocks" and
        "channels_first" layouts (the block grid for gray and 4:4:4).
    n_features_out_ : int
        Symbols per image in ``layout``: ``n_coefficients_`` times the
        blocks of all components ("flat"; with 4:2:0 or 4:2:2, the other
        layouts also count the dummy blocks).
    entropy_models_ : list of BlockContextModel
        With ``entropy`` other than "jpeg": the fitted models, one for gray
        and 4:4:4 images, two (luma, chroma) for subsampled colour.

    See Also
    --------
    skcompress.codecs.jpeg_color_planes : the colour path as separate, fitted steps.
    skcompress.io.read_jpeg_coefficients : the same symbols, read from a JPEG file.

    Notes
    -----
    Encoding and decoding are one compiled pass over the pixels each
    (colour conversion, chroma means, DCT and quantization fused, minimum
    coded unit after minimum coded unit). :meth:`inverse_transform` decodes
    as libjpeg does, with either ``dct``: dequantization, its integer
    inverse DCT (``jidctint.c``) with range limiting, "fancy" (triangular)
    chroma upsampling and its YCbCr -> RGB conversion, so the pixels are
    those of Pillow's decode of the same coefficients, bit for bit.
    :meth:`compress` writes the coefficients to standard JPEG files
    (:func:`skcompress.io.write_jpeg_coefficients`, optimized Huffman
    tables), which with ``dct="islow"`` hold what libjpeg's own encoder
    writes.

    A ``"context"`` stream is the model's own bitstream (format byte, grid
    shape, payload, CRC-32; see :class:`~skcompress.entropy.BlockContextModel`)
    for gray and 4:4:4 images; for subsampled colour, the byte ``0xC2``, the
    length of the luma bitstream as a varint, the luma bitstream and the
    chroma bitstream. It decodes only with the models that wrote it.

    Examples
    --------
    >>> import numpy as np
    >>> from skcompress.codecs import JPEGCodec
    >>> y, x = np.mgrid[:20, :30]
    >>> rgb = np.stack([8 * x, 12 * y, 4 * (x + y)], axis=-1).astype(np.uint8)[None].repeat(2, 0)
    >>> codec = JPEGCodec(quality=75, dct="islow").fit(rgb)
    >>> codec.grid_shapes_            # Y at full resolution, Cb and Cr at half
    [(3, 4), (2, 2), (2, 2)]
    >>> symbols = codec.transform(rgb)
    >>> symbols.shape, symbols.dtype  # 64 * (12 + 4 + 4) coefficients
    ((2, 1280), dtype('int32'))
    >>> codec.get_feature_names_out()[[0, 1, 768]].tolist()
    ['Y_r0_c0_k0', 'Y_r0_c0_k1', 'Cb_r0_c0_k0']
    >>> back = codec.inverse_transform(symbols)
    >>> back.shape, bool(np.abs(back - rgb).mean() < 3)
    ((2, 20, 30, 3), True)

    Standard JPEG files, one per image, and back:

    >>> files = codec.compress(rgb)
    >>> files[0][:2].hex(), np.array_equal(codec.decompress(files), back)
    ('ffd8', True)

    The 10 lowest frequencies of every block, as channels over the grid of
    2 x 2 MCUs (each of 4 luma blocks, Cb and Cr) for a network; the DC
    coefficients of the MCU in row 0, column 1:

    >>> net = JPEGCodec(75, n_coefficients=10, layout="channels_first").fit(rgb)
    >>> net.transform(rgb).shape
    (2, 60, 2, 2)
    >>> names = net.get_feature_names_out().reshape(60, 2, 2)
    >>> names[[0, 10, 20, 30, 40, 50], 0, 1].tolist()
    ['Y_r0_c2_k0', 'Y_r0_c3_k0', 'Y_r1_c2_k0', 'Y_r1_c3_k0', 'Cb_r0_c1_k0', 'Cr_r0_c1_k0']
    """

    _parameter_constraints = {
        "quality": [Interval(Integral, 1, 100, closed="both")],
        "subsampling": [StrOptions(set(_LUMA_FACTORS))],
        "tables": ["array-like", None],
        "dct": [StrOptions({"float", "islow"})],
        "n_coefficients": [Interval(Integral, 1, 64, closed="both"), None],
        "layout": [StrOptions(set(LAYOUTS))],
        "entropy": [StrOptions({"jpeg", "context"}), BlockContextModel],
        "signal_shape": [tuple, list, None],
        "dtype": "no_validation",  # checked when used
    }

    def __init__(
        self,
        quality=75,
        *,
        subsampling="4:2:0",
        tables=None,
        dct="float",
        n_coefficients=None,
        layout="flat",
        entropy="jpeg",
        signal_shape=None,
        dtype=None,
    ):
        self.quality = quality
        self.subsampling = subsampling
        self.tables = tables
        self.dct = dct
        self.n_coefficients = n_coefficients
        self.layout = layout
        self.entropy = entropy
        self.signal_shape = signal_shape
        self.dtype = dtype

    @_fit_context(prefer_skip_nested_validation=True)
    @unfitted_on_error
    def fit(self, X, y=None):
        """Record the image shape, the tables and the block grids; fit the entropy models.

        Parameters
        ----------
        X : array-like of shape (n_samples, H, W) or (n_samples, H, W, 3)
            8-bit gray or RGB images (any numbers with ``dct="float"``; the
            integers 0 to 255 with ``dct="islow"``).
        y : None
            Ignored.

        Returns
        -------
        self : JPEGCodec
        """
        luma, chroma = self._base_tables()
        X = self._images(X, reset=True)
        shape = self.signal_shape_
        if len(shape) == 3:
            factors = [_LUMA_FACTORS[self.subsampling], (1, 1), (1, 1)]
            tables = [luma, chroma, chroma]
        else:
            factors, tables = [(1, 1)], [luma]
        k = self.n_coefficients_ = 64 if self.n_coefficients is None else self.n_coefficients
        self.sampling_factors_ = np.asarray(factors, dtype=int)
        self.quantization_tables_ = np.stack(
            [ijg_scale(t, self.quality).astype(np.int64) for t in tables]
        )
        H, W = self._spatial
        v_max, h_max = (int(m) for m in self.sampling_factors_.max(axis=0))
        self.grid_shapes_ = [
            (-(-H * v // (8 * v_max)), -(-W * h // (8 * h_max))) for v, h in factors
        ]
        self.mcu_shape_ = (-(-H // (8 * v_max)), -(-W // (8 * h_max)))
        if self.layout == "flat":
            self.n_features_out_ = self._n_flat
        else:
            self.n_features_out_ = k * self._slots * int(np.prod(self.mcu_shape_))
        if self.entropy != "jpeg":
            template = BlockContextModel() if self.entropy == "context" else self.entropy
            components = self._components(self._flat_symbols(X))
            self.entropy_models_ = []
            for group in self._entropy_groups:
                model = copy.deepcopy(template)
                if self.entropy_models_ and model.positional == "auto":
                    # the chroma grid as the luma grid: the image's size decides
                    model.positional = self.entropy_models_[0].positional_
                self.entropy_models_.append(model.fit(_stack(components, group)))
        return self

    def transform(self, X):
        """Quantized DCT coefficients of every image, as a JPEG file holds them.

        Parameters
        ----------
        X : array-like
            Images of the shape seen at ``fit``.

        Returns
        -------
        symbols : ndarray of int32
            In ``layout``: ``(n_samples, n_features_out_)`` for "flat" (Y
            blocks, then Cb and Cr blocks, each in raster order with its
            coefficients in zig-zag order); see the class for the others.
        """
        check_is_fitted(self)
        symbols = self._to_layout(self._flat_symbols(self._images(X, reset=False)))
        return as_output_dtype(self, with_structure(symbols, self.output_structure_))

    def inverse_transform(self, X):
        """Decode quantized coefficients to 8-bit images (see Notes of the class).

        Parameters
        ----------
        X : array-like
            Integer symbols as :meth:`transform` returns them, in ``layout``
            (or "flat", 2-D). Dropped coefficients count as zero; dummy
            blocks of the MCU layouts are ignored.

        Returns
        -------
        images : ndarray of float64, shape (n_samples, *signal_shape_)
            Integers from 0 to 255.
        """
        check_is_fitted(self)
        flat = np.ascontiguousarray(self._flat_from(X, "inverse_transform"))
        images = jpeg_decode(
            jpeg_component_views(flat, self.grid_shapes_, self.n_coefficients_),
            self.quantization_tables_,
            self._spatial,
            subsampling=self.subsampling,
        )
        return images.reshape(len(flat), *self.signal_shape_).astype(np.float64)

    def compress(self, X, *, progressive=False):
        """One bitstream per image: a standard JPEG file, or a context-coded stream.

        The symbols of :meth:`transform`, coded as they are
        (:meth:`compress_symbols`).

        Parameters
        ----------
        X : array-like
            Images of the shape seen at ``fit``.
        progressive : bool, default=False
            Progressive JPEG files (libjpeg's default scan script) instead of
            baseline ones; ``entropy="jpeg"`` only.

        Returns
        -------
        strings : list of bytes
            One per image.
        """
        check_is_fitted(self)
        self._check_progressive(progressive)
        return self._compress_flat(self._flat_symbols(self._images(X, reset=False)), progressive)

    def compress_symbols(self, symbols, *, progressive=False):
        """One bitstream per image from symbols: coefficients edited, or from elsewhere.

        With ``entropy="jpeg"`` the coefficients are entropy-coded as they
        are by libjpeg, with Huffman tables optimized for each image
        (:func:`~skcompress.io.write_jpeg_coefficients`): any viewer opens
        the files, and with ``dct="islow"`` they hold what libjpeg's own
        encoder writes at the same quality and subsampling. With
        ``entropy="context"`` they are coded by :attr:`entropy_models_`.

        Parameters
        ----------
        symbols : array-like of int
            In ``layout`` as :meth:`transform` returns them, or "flat" (2-D).
            Dummy blocks of the MCU layouts are ignored (the file codes its
            own).
        progressive : bool, default=False
            Progressive JPEG files instead of baseline ones
            (``entropy="jpeg"`` only).

        Returns
        -------
        strings : list of bytes
            One per image.

        Raises
        ------
        ValueError
            For symbols of another shape, or that a JPEG file cannot hold
            (see :func:`~skcompress.io.write_jpeg_coefficients`).
        """
        check_is_fitted(self)
        self._check_progressive(progressive)
        return self._compress_flat(self._flat_from(symbols, "compress_symbols"), progressive)

    def decompress_symbols(self, strings):
        """The symbols of JPEG files or context streams, in ``layout``.

        A bitstream that starts with JPEG's start-of-image marker
        (``0xFFD8``) is read as a JPEG file by libjpeg
        (:func:`~skcompress.io.read_jpeg_coefficients`), which must have this
        codec's image size, quantization tables and sampling factors; of its
        coefficients, the first ``n_coefficients_`` of every block are kept,
        as :meth:`transform` keeps them. Any other bitstream is read as a
        context stream of this codec (``entropy="context"``), checked by its
        CRC-32.

        Parameters
        ----------
        strings : list of bytes
            From :meth:`compress`; JPEG files and context streams may mix.

        Returns
        -------
        symbols : ndarray of int32
            As :meth:`transform` returns them for the images coded.
        """
        check_is_fitted(self)
        return with_structure(
            self._to_layout(self._decompress_flat(strings)), self.output_structure_
        )

    def decompress(self, strings):
        """Images from JPEG files or context streams of this codec.

        ``decompress(compress(X))`` equals ``inverse_transform(transform(X))``.

        Parameters
        ----------
        strings : list of bytes
            JPEG files (of this codec's image size, tables and sampling
            factors) or context streams, e.g. from :meth:`compress`; see
            :meth:`decompress_symbols`.

        Returns
        -------
        images : ndarray of float64, shape (n_samples, *signal_shape_)
        """
        check_is_fitted(self)
        flat = self._decompress_flat(strings)
        if not len(flat):
            return np.zeros((0, *self.signal_shape_))
        return self.inverse_transform(flat)

    def rate(self, X, *, progressive=False):
        """What the bitstreams of ``X`` (:meth:`compress`) cost, measured on their bytes.

        Parameters
        ----------
        X : array-like
            Images of the shape seen at ``fit``.
        progressive : bool, default=False
            Measure progressive JPEG files instead of baseline ones.

        Returns
        -------
        rate : dict
            ``bits_per_sample``: the mean length of a bitstream (one image)
            in bits, headers included; ``bits_per_pixel`` and its synonym
            ``bits_per_value`` (the key :class:`~skcompress.codecs.Codec`
            uses): the same per pixel of the image (``H * W``, whatever the
            channels).
        """
        return image_rate(self.compress(X, progressive=progressive), self._spatial)

    def get_feature_names_out(self, input_features=None):
        """Names of the symbols: component, block row and column, zig-zag index.

        ``Y_r0_c1_k5`` is the sixth coefficient (zig-zag order) of the
        luma block in block row 0, column 1; ``Cb_...`` and ``Cr_...`` for
        colour images. The names follow ``layout``: they name the entries of
        ``transform(X)[i].ravel()``. Dummy blocks of the MCU layouts are
        named by their place in the luma grid, beyond its last row or
        column.

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
        k, grids = self.n_coefficients_, list(self.grid_shapes_)
        if self.layout != "flat":
            (v, h), (rows, cols) = self.sampling_factors_[0], self.mcu_shape_
            grids[0] = (rows * v, cols * h)  # the dummy blocks too
        components = [
            np.asarray(
                [f"{name}_r{r}_c{c}_k{j}" for r in range(rows) for c in range(cols)
                 for j in range(k)],
                dtype=object,
            ).reshape(1, rows, cols, k)
            for name, (rows, cols) in zip(_COMPONENTS, grids, strict=False)
        ]  # fmt: skip
        if self.layout == "flat":
            return np.concatenate([c.reshape(-1) for c in components])
        return to_layout(self._mcus(components), self.layout).reshape(-1)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = []  # emits integer symbols
        return tags

    @classmethod
    def get_test_params(cls):
        """Parameter sets for the common checks: JPEG files, and few coefficients context-coded.

        Returns
        -------
        params : list of dict
        """
        return [{}, {"n_coefficients": 10, "entropy": "context"}]

    # -- helpers -----------------------------------------------------------

    @property
    def _spatial(self):
        shape = self.signal_shape_
        return (1, shape[0]) if len(shape) == 1 else shape[:2]

    @property
    def _n_flat(self):
        """Symbols per image in the "flat" layout."""
        return self.n_coefficients_ * sum(r * c for r, c in self.grid_shapes_)

    @property
    def _slots(self):
        """Blocks per MCU: the ``v x h`` luma blocks, and one per chroma component."""
        v, h = self.sampling_factors_[0]
        return int(v * h) + len(self.sampling_factors_) - 1

    @property
    def _entropy_groups(self):
        """Components coded together by one entropy model: those of one block grid."""
        n = len(self.grid_shapes_)
        if n == 1 or len(set(self.grid_shapes_)) == 1:
            return [list(range(n))]
        return [[0], list(range(1, n))]

    def _base_tables(self):
        """The luminance and chrominance tables before the quality scaling."""
        if self.tables is None:
            return JPEG_LUMA, JPEG_CHROMA
        tables = np.asarray(self.tables)
        if tables.shape not in ((8, 8), (2, 8, 8)) or tables.dtype.kind not in "iuf":
            raise ValueError(
                "JPEGCodec: tables must be numbers of shape (8, 8) (one table for every "
                "component) or (2, 8, 8) (luminance, then chrominance); got "
                f"{tables.dtype} values of shape {tables.shape}."
            )
        bad = ~np.isfinite(tables) | (tables != np.round(tables)) | (tables < 1) | (tables > 255)
        if bad.any():
            where = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValueError(
                f"JPEGCodec: the steps of tables must be integers from 1 to 255; got "
                f"{tables[where]!r} at index {where}."
            )
        tables = tables.astype(np.int64)
        return (tables, tables) if tables.ndim == 2 else (tables[0], tables[1])

    def _images(self, X, reset):
        """Checked images, uint8 kept as it is (the kernel reads it directly)."""
        structure = read_structure(self, X, reset=reset)
        if structure is not None:
            raise refuse(
                "JPEGCodec",
                structure,
                "8-bit images, gray (n_samples, H, W) or RGB (n_samples, H, W, 3)",
                "It converts the colours, subsamples and transforms them itself: give it the "
                "pixels.",
            )
        X = check_signals(
            self,
            X,
            reset=reset,
            signal_shape=self.signal_shape,
            dtype=(np.float64, np.uint8),
            images=True,
        )
        shape = X.shape[1:]
        if len(shape) == 3 and shape[2] != 3:
            raise ValueError(
                "JPEGCodec takes gray images (n_samples, H, W) or RGB images (n_samples, H, "
                f"W, 3); got images of shape {shape} ({shape[2]} channels)."
            )
        if (
            self.dct == "islow"
            and X.dtype != np.uint8
            and ((X < 0) | (X > 255) | (X != np.floor(X))).any()
        ):
            raise ValueError(
                "JPEGCodec with dct='islow' (libjpeg's integer arithmetic) needs 8-bit "
                "samples, integers from 0 to 255; use dct='float' for other values."
            )
        if len(shape) == 1:
            X = X.reshape(len(X), 1, shape[0])
        return X

    def _flat_symbols(self, X):
        """The "flat" symbols of checked images ``X``: one compiled pass over the pixels."""
        flat = np.empty((len(X), self._n_flat), dtype=np.int32)
        jpeg_encode(
            X,
            self.quantization_tables_,
            subsampling=self.subsampling,
            dct=self.dct,
            out=jpeg_component_views(flat, self.grid_shapes_, self.n_coefficients_),
        )
        return flat

    # -- layouts -----------------------------------------------------------

    def _components(self, flat):
        """The block grids of the components, ``(n, rows, cols, k)`` each, of "flat" symbols."""
        planes, start, k = [], 0, self.n_coefficients_
        for rows, cols in self.grid_shapes_:
            size = rows * cols * k
            planes.append(flat[:, start : start + size].reshape(len(flat), rows, cols, k))
            start += size
        return planes

    def _mcus(self, components):
        """Component grids (luma padded to whole MCUs) as ``(n, *mcu_shape_, slots, k)``."""
        (v, h), (rows, cols) = self.sampling_factors_[0], self.mcu_shape_
        luma = components[0]
        n, k = len(luma), luma.shape[-1]
        luma = luma.reshape(n, rows, v, cols, h, k).transpose(0, 1, 3, 2, 4, 5)
        parts = [luma.reshape(n, rows, cols, v * h, k)]
        parts += [c[:, :, :, None] for c in components[1:]]
        return np.concatenate(parts, axis=3)

    @property
    def output_structure_(self):
        """:class:`~skcompress._core._structure.Structure` of :meth:`transform`'s output.

        Block-DCT symbols on the block grid (gray, 4:4:4) or the MCU grid;
        kind "planar" for the "flat" layout of colour images, whose components
        follow each other instead of interleaving as the data contract's "flat"
        does (the steps that read blocks refuse it, as they should).
        """
        check_is_fitted(self)
        n_components = len(self.grid_shapes_)
        if self.layout == "flat" and n_components > 1:
            return Structure(
                "planar",
                "JPEGCodec",
                (),
                1,
                self._n_flat,
                "flat",
                _COMPONENTS,
                block_size=8,
                order="zigzag",
                image_shape=tuple(self.signal_shape_[:2]),
                quantized=True,
            )
        if n_components == 1:
            grid, names = self.grid_shapes_[0], ("gray",)
        elif self._slots == n_components:
            grid, names = self.grid_shapes_[0], ("Y", "Cb", "Cr")
        else:
            grid = self.mcu_shape_
            names = (*(f"Y{i}" for i in range(self._slots - 2)), "Cb", "Cr")
        (v, h) = self.sampling_factors_[0]
        return Structure(
            "dct",
            "JPEGCodec",
            tuple(int(g) for g in grid),
            len(names),
            self.n_coefficients_,
            self.layout,
            names,
            block_size=8,
            order="zigzag",
            factors=None if (v, h) == (1, 1) else (int(v), int(h)),
            image_shape=tuple(self.signal_shape_[:2]),
            quantized=True,
        )

    def _to_layout(self, flat):
        """``layout`` from "flat" symbols."""
        if self.layout == "flat":
            return flat
        components = self._components(flat)
        luma = components[0]
        n, rows, cols, k = luma.shape
        (v, h), (mcu_rows, mcu_cols) = self.sampling_factors_[0], self.mcu_shape_
        if (rows, cols) != (mcu_rows * v, mcu_cols * h):
            # libjpeg's dummy blocks (jccoefct.c, jctrans.c): AC 0, the DC of the block
            # coded before, in the MCU's raster order
            padded = np.zeros((n, mcu_rows * v, mcu_cols * h, k), dtype=luma.dtype)
            padded[:, :rows, :cols] = luma
            padded[:, :rows, cols:, 0] = luma[:, :, cols - 1 :, 0]
            ends = padded[:, rows - 1, h - 1 :: h, 0]  # last block of each MCU's last real row
            padded[:, rows:, :, 0] = np.repeat(ends, h, axis=1)[:, None, :]
            components[0] = padded
        return to_layout(self._mcus(components), self.layout, self)

    def _flat_from(self, X, name):
        """The "flat" symbols of ``X``, given in ``layout`` (or "flat", 2-D); checked."""
        symbols = np.asarray(X)
        k, n_flat = self.n_coefficients_, self._n_flat
        if symbols.ndim == 2 or self.layout == "flat":
            if symbols.ndim != 2 or symbols.shape[1] != n_flat:
                raise ValueError(
                    f"JPEGCodec.{name} expects symbols of shape (n_samples, {n_flat}) ('flat')"
                    + self._layout_text()
                    + f"; got {symbols.shape}."
                )
            flat = symbols
        else:
            (v, h), grid = self.sampling_factors_[0], self.mcu_shape_
            try:
                blocks = from_layout(symbols, grid, self._slots, k, self.layout)
            except ValueError:
                raise ValueError(
                    f"JPEGCodec.{name} expects symbols of shape (n_samples, {n_flat}) ('flat')"
                    + self._layout_text()
                    + f"; got {symbols.shape}."
                ) from None
            n, (rows, cols) = len(blocks), self.grid_shapes_[0]
            luma = blocks[..., : v * h, :].reshape(n, *grid, v, h, k).transpose(0, 1, 3, 2, 4, 5)
            luma = luma.reshape(n, grid[0] * v, grid[1] * h, k)[:, :rows, :cols]
            parts = [luma] + [blocks[..., v * h + i, :] for i in range(len(self.grid_shapes_) - 1)]
            flat = np.concatenate([p.reshape(n, -1) for p in parts], axis=1)
        if flat.dtype.kind not in "iuf" or not np.isfinite(flat).all():
            raise ValueError(f"JPEGCodec.{name} expects finite integer symbols.")
        return flat

    def _layout_text(self):
        if self.layout == "flat":
            return ""
        shape = (self._slots, self.n_coefficients_)
        if self.layout == "channels_first":
            shape = (self._slots * self.n_coefficients_, *self.mcu_shape_)
        elif self._slots == 1:
            shape = (*self.mcu_shape_, self.n_coefficients_)
        else:
            shape = (*self.mcu_shape_, *shape)
        return f" or, in the {self.layout!r} layout, (n_samples, {', '.join(map(str, shape))})"

    # -- bitstreams --------------------------------------------------------

    def _check_progressive(self, progressive):
        if progressive and self.entropy != "jpeg":
            raise ValueError(
                "JPEGCodec: progressive=True writes progressive JPEG files; this codec writes "
                f"context streams (entropy={self.entropy!r}). Use entropy='jpeg'."
            )

    def _compress_flat(self, flat, progressive):
        components = self._components(flat)
        if self.entropy == "jpeg":
            return write_jpeg_coefficients_batch(
                components,
                self.quantization_tables_,
                shape=self._spatial,
                sampling_factors=self.sampling_factors_,
                progressive=progressive,
            )
        parts = [
            model.compress(_stack(components, group))
            for model, group in zip(self.entropy_models_, self._entropy_groups, strict=True)
        ]
        if len(parts) == 1:
            return parts[0]
        return [
            bytes([_TWO_PARTS]) + varint(len(luma)) + luma + chroma
            for luma, chroma in zip(*parts, strict=True)
        ]

    def _decompress_flat(self, strings):
        if isinstance(strings, (bytes, bytearray, memoryview)):
            raise TypeError(
                "JPEGCodec.decompress expects a list of bitstreams (one per image); got a single "
                "bytes object. Wrap it in a list."
            )
        strings = list(strings)
        for i, data in enumerate(strings):
            if not isinstance(data, (bytes, bytearray, memoryview)):
                raise TypeError(
                    f"JPEGCodec.decompress expects bitstreams as bytes; got {type(data).__name__}"
                    f" at index {i}."
                )
        flat = np.zeros((len(strings), self._n_flat), dtype=np.int32)
        files = [i for i, data in enumerate(strings) if bytes(data[:2]) == _SOI]
        streams = [i for i, data in enumerate(strings) if bytes(data[:2]) != _SOI]
        for i in files:
            flat[i] = self._read_file(strings[i], i)
        if streams:
            flat[streams] = self._read_streams([bytes(strings[i]) for i in streams])
        return flat

    def _read_file(self, data, i):
        jpeg = read_jpeg_coefficients(data)
        for what, theirs, ours in [
            ("image size", tuple(jpeg.shape), tuple(self._spatial)),
            ("sampling factors", np.asarray(jpeg.sampling_factors), self.sampling_factors_),
            (
                "quantization tables",
                np.asarray(jpeg.quantization_tables),
                self.quantization_tables_,
            ),
        ]:
            if np.shape(theirs) != np.shape(ours) or not np.array_equal(theirs, ours):
                raise ValueError(
                    f"JPEGCodec.decompress: file {i} has {what} {np.asarray(theirs).tolist()}; "
                    f"this codec writes {np.asarray(ours).tolist()}."
                )
        k = self.n_coefficients_
        return np.concatenate([c[..., :k].reshape(-1) for c in jpeg.coefficients])

    def _read_streams(self, strings):
        models = getattr(self, "entropy_models_", None)
        if models is None:
            raise ValueError(
                "JPEGCodec.decompress: a bitstream does not start with JPEG's marker 0xFFD8, so "
                "it is not a JPEG file; context streams decode only with the fitted codec "
                "(entropy='context') that wrote them."
            )
        groups = self._entropy_groups
        if len(groups) == 1:
            parts = [strings]
        else:
            parts = [[], []]
            for data in strings:
                if data[0] != _TWO_PARTS:
                    raise ValueError(
                        f"JPEGCodec.decompress: a context stream of subsampled colour starts "
                        f"with the byte {_TWO_PARTS:#04x}; got {data[0]:#04x} (not a stream of "
                        "this codec, nor a JPEG file)."
                    )
                size, at = read_varint(data, 1, "JPEGCodec.decompress")
                parts[0].append(data[at : at + size])
                parts[1].append(data[at + size :])
        components = [None] * len(self.grid_shapes_)
        for model, group, part in zip(models, groups, parts, strict=True):
            rows, cols = self.grid_shapes_[group[0]]
            shape = (rows, cols, len(group), self.n_coefficients_)
            decoded = model.decompress(part, shape=shape)
            for j, c in enumerate(group):
                components[c] = decoded[..., j, :]
        return np.concatenate([c.reshape(len(strings), -1) for c in components], axis=1)


def _stack(components, group):
    """The components of ``group`` as one grid ``(n, rows, cols, len(group), k)``."""
    return np.stack([components[c] for c in group], axis=3)


JPEGCodec.__doc__ = fill_doc(JPEGCodec.__doc__, {"{dtype_parameter}": DTYPE_PARAMETER})
