"""JPEG as one scikit-learn step: pixels to the quantized coefficients of a baseline JPEG file."""

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._core._basis import zigzag_order
from .._core._contract import check_input_features, check_signals
from .._core._estimator import PublicEstimatorMixin, unfitted_on_error
from ..io import read_jpeg_coefficients, write_jpeg_coefficients
from ..quantization import PerceptualQuantizer
from ..quantization._tables import JPEG_CHROMA, JPEG_LUMA, ijg_scale
from ..transforms import BlockDCT, ChromaSubsampler, ColorTransform
from ._libjpeg import islow_blocks, libjpeg_quantize

_OFFSET = 128
#: (vertical, horizontal) sampling factors of Y for each subsampling; Cb and Cr have (1, 1).
_LUMA_FACTORS = {"4:4:4": (1, 1), "4:2:2": (1, 2), "4:2:0": (2, 2)}
_ZIGZAG = zigzag_order(8)  # natural (row-major) index of each zig-zag position


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

    The output holds, per image, the blocks of each component in raster
    order (Y, then Cb, then Cr), the 64 coefficients of each in zig-zag
    order: the grids that :func:`skcompress.io.read_jpeg_coefficients`
    returns for a file of the same image, flattened in that order, so
    ``read_jpeg_coefficients`` of Pillow's file and :meth:`transform` can
    be compared entry by entry.

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
    signal_shape : tuple of int or None, default=None
        ``(H, W)`` or ``(H, W, 3)`` when the images arrive as flattened
        rows. Without it, 2-D input is read as gray images one pixel high
        (a row of ``n_features`` pixels each), as JPEG codes such an image.

    Attributes
    ----------
    signal_shape_ : tuple of int
        Shape of one image.
    n_features_in_ : int
        Pixels (times channels) per image.
    quantization_tables_ : ndarray of shape (n_components, 8, 8)
        The steps of each component (1 gray, 3 colour) in natural
        (row-major) order, as a JPEG file's DQT segments hold them.
    sampling_factors_ : ndarray of shape (n_components, 2)
        Vertical and horizontal sampling factor of each component, as
        :func:`~skcompress.io.read_jpeg_coefficients` returns them.
    grid_shapes_ : list of (int, int)
        Block rows and columns of each component:
        ``ceil(H * v / (8 * v_max))`` by ``ceil(W * h / (8 * h_max))``.
    n_features_out_ : int
        ``64 *`` the number of blocks of all components.
    dcts_, quantizers_ : list of BlockDCT, list of PerceptualQuantizer
        Per plane (gray, or Y, Cb, Cr), the fitted steps of the float path and
        of :meth:`inverse_transform`.

    See Also
    --------
    skcompress.codecs.jpeg_color_planes : the colour path as separate, fitted steps.
    skcompress.io.read_jpeg_coefficients : the same symbols, read from a JPEG file.

    Notes
    -----
    :meth:`inverse_transform` decodes as a baseline decoder does, in
    floating point: dequantization, orthonormal inverse DCT, level shift,
    rounding and clipping of every plane to 8 bits, then (colour) chroma
    upsampling by replication and YCbCr -> RGB conversion (libjpeg's
    integer one with ``dct="islow"``). libjpeg's decoder uses an integer
    inverse DCT and, by default, "fancy" (triangular) chroma upsampling, so
    a few pixels differ from Pillow's decode of the same coefficients, by a
    level or a few. The coefficients themselves are exact: :meth:`compress`
    writes them to standard JPEG files
    (:func:`skcompress.io.write_jpeg_coefficients`, optimized Huffman
    tables), which with ``dct="islow"`` hold what libjpeg's own encoder
    writes; :meth:`decompress` reads such files back and :meth:`rate`
    measures their bytes.

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
    """

    _parameter_constraints = {
        "quality": [Interval(Integral, 1, 100, closed="both")],
        "subsampling": [StrOptions(set(_LUMA_FACTORS))],
        "tables": ["array-like", None],
        "dct": [StrOptions({"float", "islow"})],
        "signal_shape": [tuple, list, None],
    }

    def __init__(
        self, quality=75, *, subsampling="4:2:0", tables=None, dct="float", signal_shape=None
    ):
        self.quality = quality
        self.subsampling = subsampling
        self.tables = tables
        self.dct = dct
        self.signal_shape = signal_shape

    @_fit_context(prefer_skip_nested_validation=True)
    @unfitted_on_error
    def fit(self, X, y=None):
        """Record the image shape, the tables, and the block grids.

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
            method = "libjpeg" if self.dct == "islow" else "float"
            self.color_ = ColorTransform(offset=_OFFSET, method=method, layout="blocks")
            self.color_.fit(X[:1])
            self.subsampler_ = ChromaSubsampler(self.subsampling, method=method, block_size=8)
            self.subsampler_.fit(self.color_.transform(X[:1]))
        else:
            factors, tables = [(1, 1)], [luma]
        self.sampling_factors_ = np.asarray(factors, dtype=int)
        self.quantization_tables_ = np.stack(
            [ijg_scale(t, self.quality).astype(np.int64) for t in tables]
        )
        H, W = self._spatial
        v_max, h_max = (int(m) for m in self.sampling_factors_.max(axis=0))
        self.grid_shapes_ = [
            (-(-H * v // (8 * v_max)), -(-W * h // (8 * h_max))) for v, h in factors
        ]
        self.n_features_out_ = 64 * sum(r * c for r, c in self.grid_shapes_)
        # per plane, the block DCT and the quantizer of the JPEG path (the float DCT,
        # and the decoder of both)
        self.dcts_, self.quantizers_ = [], []
        for plane, table in zip(self._planes(X[:1]), self.quantization_tables_, strict=True):
            dct = BlockDCT(8, level_shift=_OFFSET, layout="blocks").fit(plane)
            quantizer = PerceptualQuantizer(table.astype(np.float64), layout="blocks")
            self.dcts_.append(dct)
            self.quantizers_.append(quantizer.fit(dct.transform(plane)))
        return self

    def transform(self, X):
        """Quantized DCT coefficients of every image, as a JPEG file holds them.

        Parameters
        ----------
        X : array-like
            Images of the shape seen at ``fit``.

        Returns
        -------
        symbols : ndarray of int32, shape (n_samples, n_features_out_)
            Y blocks, then Cb and Cr blocks (colour), each in raster order
            with its 64 coefficients in zig-zag order.
        """
        check_is_fitted(self)
        X = self._images(X, reset=False)
        out = [
            self._quantize(i, plane).reshape(len(X), -1) for i, plane in enumerate(self._planes(X))
        ]
        return np.concatenate(out, axis=1).astype(np.int32)

    def inverse_transform(self, X):
        """Decode quantized coefficients to 8-bit images (see Notes of the class).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features_out_)
            Integer symbols as :meth:`transform` returns them.

        Returns
        -------
        images : ndarray of float64, shape (n_samples, *signal_shape_)
            Integers from 0 to 255.
        """
        check_is_fitted(self)
        symbols = np.asarray(X)
        if symbols.ndim != 2 or symbols.shape[1] != self.n_features_out_:
            raise ValueError(
                f"JPEGCodec.inverse_transform expects symbols of shape (n_samples, "
                f"{self.n_features_out_}); got {symbols.shape}."
            )
        if symbols.dtype.kind not in "iuf" or not np.isfinite(symbols).all():
            raise ValueError("JPEGCodec.inverse_transform expects finite integer symbols.")
        n, start, planes = len(symbols), 0, []
        for (rows, cols), dct, quantizer in zip(
            self.grid_shapes_, self.dcts_, self.quantizers_, strict=True
        ):
            # the plane's grid may cover whole MCUs beyond the file's blocks: zeros there
            full = np.zeros((n, *dct.grid_shape_, 64))
            full[:, :rows, :cols] = symbols[:, start : start + 64 * rows * cols].reshape(
                n, rows, cols, 64
            )
            start += 64 * rows * cols
            samples = dct.inverse_transform(quantizer.inverse_transform(full))
            planes.append(np.clip(np.floor(samples + 0.5), 0, 255))
        if len(planes) == 1:
            return planes[0].reshape(n, *self.signal_shape_)
        ycc = self.subsampler_.inverse_transform(self.subsampler_.merge(*planes))
        rgb = self.color_.inverse_transform(ycc)
        return np.clip(np.floor(rgb + 0.5), 0, 255)

    def compress(self, X, *, progressive=False):
        """One standard JPEG file per image: the symbols of :meth:`transform`, by libjpeg.

        The coefficients are entropy-coded as they are, with Huffman tables
        optimized for each image (:func:`~skcompress.io.write_jpeg_coefficients`):
        any viewer opens the files, and with ``dct="islow"`` they hold what
        libjpeg's own encoder writes at the same quality and subsampling.

        Parameters
        ----------
        X : array-like
            Images of the shape seen at ``fit``.
        progressive : bool, default=False
            Progressive files (libjpeg's default scan script) instead of
            baseline ones.

        Returns
        -------
        strings : list of bytes
            One JPEG file per image.
        """
        symbols = self.transform(X)
        H, W = self._spatial
        return [
            write_jpeg_coefficients(
                self._components(row),
                self.quantization_tables_,
                shape=(H, W),
                sampling_factors=self.sampling_factors_,
                progressive=progressive,
            )
            for row in symbols
        ]

    def decompress(self, strings):
        """Images from JPEG files of this codec's size, tables and sampling factors.

        Each file's coefficients are read by libjpeg
        (:func:`~skcompress.io.read_jpeg_coefficients`) and decoded by
        :meth:`inverse_transform`, so ``decompress(compress(X))`` equals
        ``inverse_transform(transform(X))``.

        Parameters
        ----------
        strings : list of bytes
            JPEG files, e.g. from :meth:`compress`.

        Returns
        -------
        images : ndarray of float64, shape (n_samples, *signal_shape_)
        """
        check_is_fitted(self)
        rows = []
        for i, data in enumerate(strings):
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
                        f"JPEGCodec.decompress: file {i} has {what} {np.asarray(theirs).tolist()}"
                        f"; this codec writes {np.asarray(ours).tolist()}."
                    )
            rows.append(np.concatenate([c.reshape(-1) for c in jpeg.coefficients]))
        if not rows:
            return np.zeros((0, *self.signal_shape_))
        return self.inverse_transform(np.stack(rows))

    def rate(self, X, *, progressive=False):
        """What the JPEG files of ``X`` cost, measured on their bytes.

        Parameters
        ----------
        X : array-like
            Images of the shape seen at ``fit``.
        progressive : bool, default=False
            Measure progressive files instead of baseline ones.

        Returns
        -------
        rate : dict
            ``bits_per_sample`` (mean file size in bits, headers included) and
            ``bits_per_pixel``.
        """
        sizes = np.array([8 * len(s) for s in self.compress(X, progressive=progressive)])
        bits = float(sizes.mean()) if len(sizes) else 0.0
        H, W = self._spatial
        return {"bits_per_sample": bits, "bits_per_pixel": bits / (H * W)}

    def _components(self, row):
        """One image's symbols as the block grids of its components, ``(rows, cols, 64)`` each."""
        planes, start = [], 0
        for rows, cols in self.grid_shapes_:
            planes.append(row[start : start + 64 * rows * cols].reshape(rows, cols, 64))
            start += 64 * rows * cols
        return planes

    def get_feature_names_out(self, input_features=None):
        """Names of the symbols: component, block row and column, zig-zag index.

        ``Y_r0_c1_k5`` is the sixth coefficient (zig-zag order) of the
        luma block in block row 0, column 1; ``Cb_...`` and ``Cr_...`` for
        colour images.

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
        names = []
        for component, (rows, cols) in zip(("Y", "Cb", "Cr"), self.grid_shapes_, strict=False):
            names += [
                f"{component}_r{r}_c{c}_k{k}"
                for r in range(rows)
                for c in range(cols)
                for k in range(64)
            ]
        return np.asarray(names, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = []  # emits integer symbols
        return tags

    # -- helpers -----------------------------------------------------------

    @property
    def _spatial(self):
        shape = self.signal_shape_
        return (1, shape[0]) if len(shape) == 1 else shape[:2]

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
        X = check_signals(self, X, reset=reset, signal_shape=self.signal_shape)
        shape = X.shape[1:]
        if len(shape) == 3 and shape[2] != 3:
            raise ValueError(
                "JPEGCodec takes gray images (n_samples, H, W) or RGB images (n_samples, H, "
                f"W, 3); got images of shape {shape} ({shape[2]} channels)."
            )
        if self.dct == "islow" and ((X < 0) | (X > 255) | (X != np.floor(X))).any():
            raise ValueError(
                "JPEGCodec with dct='islow' (libjpeg's integer arithmetic) needs 8-bit "
                "samples, integers from 0 to 255; use dct='float' for other values."
            )
        if len(shape) == 1:
            X = X.reshape(len(X), 1, shape[0])
        return X

    def _planes(self, X):
        """The planes that go into the DCT: the gray image, or Y, Cb and Cr."""
        if len(self.signal_shape_) != 3:
            return [X]
        return self.subsampler_.split(self.subsampler_.transform(self.color_.transform(X)))

    def _quantize(self, i, plane):
        """``(n, rows, cols, 64)`` quantized coefficients of plane ``i``, zig-zag order."""
        rows, cols = self.grid_shapes_[i]
        if self.dct == "islow":
            t = islow_blocks(plane, _OFFSET)[:, :rows, :cols]
            q = libjpeg_quantize(t, self.quantization_tables_[i])
            return q.reshape(*q.shape[:3], 64)[..., _ZIGZAG]
        return self.quantizers_[i].transform(self.dcts_[i].transform(plane))[:, :rows, :cols]
