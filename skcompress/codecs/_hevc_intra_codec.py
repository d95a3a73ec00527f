"""HEVC intra coding of still images as one scikit-learn step."""

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
from ..entropy._coder import KIND_HEVC, fingerprint, pack, unpack
from ..transforms._color import _triangle
from . import _hevc_intra as _hevc
from ._image_rate import image_rate

#: Values per 4x4 unit of gray images: 16 coefficients, then the maps.
_K = 16 + len(_hevc.MAPS)
#: ... of colour images: 16 luma, 4 Cb and 4 Cr coefficients, the maps and the chroma mode.
_K_COLOUR = 16 + 8 + len(_hevc.MAPS) + 1


class HEVCIntraCodec(TransformerMixin, PublicEstimatorMixin, BaseEstimator):
    """HEVC intra coding of still images (H.265 main profile, intra), as one transformer.

    Every image is coded as one HEVC intra picture: a quad-tree of coding
    blocks from ``ctu_size`` down to 8 x 8 (and four 4 x 4 prediction blocks
    in an 8 x 8 block), each predicted from the reconstructed samples left of
    and above it by one of the standard's 35 intra modes (planar, DC, 33
    angles; reference sample substitution, [1 2 1] and strong smoothing,
    edge filters), its residual cut by a transform quad-tree into blocks of
    32 x 32 to 4 x 4 samples, transformed by HEVC's integer DCT (DST-VII for
    4 x 4) and quantized with the step ``2 ** ((qp - 4) / 6)`` times the
    scaling factor over 16 (the standard's integer ``levelScale`` and shifts).
    The encoder chooses as the reference encoder HM does: every coding block
    size, prediction partition, intra mode and transform split by rate and
    distortion ``D + lambda R`` with HM's all-intra ``lambda = 0.57 * 2 **
    ((qp - 12) / 3)``, the modes first ranked by SATD over all 35, then the
    best few and the three most probable modes fully coded; quantization
    rounds with HM's intra offset 1/3, or by rate-distortion (``rdoq``), and
    hides one sign per 4 x 4 sub-block in the parity of its levels (sign data
    hiding, as HM does by default).
    Images whose sides are not multiples of 8 are padded by repeating their
    last row and column, as HEVC's conformance window crops them. Samples are
    8-bit: other numbers are rounded and clipped to 0..255.

    **Colour.** RGB images ``(n_samples, H, W, 3)`` are converted to JFIF's
    YCbCr (BT.601, full range) with 4:2:0 chroma (means of 2 x 2 samples)
    and coded as HEVC codes 4:2:0 video: a chroma mode per coding block (the
    luma mode "DM", or planar, vertical, horizontal, DC, 34 where one of
    these repeats the luma mode), chroma blocks of half the luma transform
    blocks (4 x 4 chroma once for four 4 x 4 luma blocks), unfiltered
    references, DCT only, the chroma QP of the standard's table, chosen by
    rate and distortion among the five modes (chroma distortion weighted by
    ``2 ** ((qp - qp_chroma) / 3)`` as HM weighs it). Decoding upsamples the
    chroma with libjpeg's triangle filter and converts back to RGB.

    **Symbols.** :meth:`transform` returns, per image, one cell of ``k``
    integers for every 4 x 4 luma unit of the padded image
    (``grid_shape_``), ``k = 20`` for gray images: the 16 coefficient levels
    that sit on the unit in the *coefficient plane* (each transform block's
    levels at the block's place, frequency ``[v, h]`` at sample ``[y0 + v,
    x0 + h]``: the unit at a block's top-left corner holds its lowest
    frequencies), in row-major order, then ``cu`` and ``pu`` (log2 sizes of
    its coding and prediction blocks), ``mode`` (intra mode 0 to 34 of its
    prediction block) and ``tu`` (log2 size of its transform block). Colour
    images have ``k = 29``: the 16 luma levels, the 2 x 2 levels of the Cb
    and then the Cr coefficient plane on the unit, the four maps and
    ``chroma`` (the chroma mode syntax: 0 planar, 1 vertical, 2 horizontal,
    3 DC, 4 as luma). The "blocks" layout is ``(n, rows, cols, k)``,
    "channels_first" ``(n, k, rows, cols)``, "flat" those cells one after
    another. :meth:`inverse_transform` decodes them (any maps are read,
    sizes and modes clipped to what a block there can be).

    **Bitstreams.** :meth:`compress` writes one stream per image: a header
    byte, the image height and width, ``qp``, the CTU size and the number of
    channels (varints), the coded picture and a CRC-32 that also covers the
    scaling factors. The coded picture carries the syntax of HEVC's coding
    quad-tree (split flags, part mode, most-probable-mode flag and index or
    remaining mode, split_transform_flag, cbf, last position, coded
    sub-block flags, significance, greater-1/greater-2 flags, signs and
    Golomb-Rice remainders; chroma mode and chroma cbfs for colour),
    binarized as the standard binarizes them and with its context selection,
    but the bins are coded by an adaptive binary range coder of skcompress's
    own (all contexts start at 1/2 and adapt at two rates), not by CABAC, and
    there are no NAL units or parameter sets: the streams are not HEVC
    files. :meth:`decompress` checks the CRC and the header against this
    codec and refuses a truncated, altered or foreign stream with a
    ValueError; the pictures it decodes are the encoder's reconstructions,
    bit for bit.

    Parameters
    ----------
    qp : int in [0, 51], default=32
        Quantization parameter: the step is ``2 ** ((qp - 4) / 6)``.
    scaling_list : {"flat", "default"} or array-like, default="flat"
        Scaling factors (perceptual weights of the frequencies, 16 meaning
        1): "flat" 16 everywhere (HEVC's ``scaling_list_enabled_flag = 0``);
        "default" the standard's default intra lists (Table 7-6: 4 x 4 flat,
        8 x 8 rising to 115, upsampled for 16 x 16 and 32 x 32); an ``(8,
        8)`` array (natural order ``[v, h]``, integers 1 to 255) used for 8 x 8
        blocks, upsampled for 16 x 16 and 32 x 32 (DC from its ``[0, 0]``) and
        subsampled (``[::2, ::2]``) for 4 x 4; or a sequence of four arrays
        ``(4, 4), (8, 8), (8, 8), (8, 8)``: the lists of 4 x 4, 8 x 8, 16 x 16
        and 32 x 32 blocks as HEVC signals them (DC the ``[0, 0]`` entry).
    ctu_size : {16, 32, 64}, default=64
        Side of the coding tree units.
    rdoq : bool, default=False
        Rate-distortion optimized quantization, after HM's: each
        level rounded to nearest, one less or zero, whole sub-blocks zeroed
        and the last position chosen, by ``D + lambda R`` with the rates of
        the coder's contexts.
    layout : {"flat", "blocks", "channels_first"}, default="flat"
        Output layout of :meth:`transform` (see above).
    signal_shape : tuple of int or None, default=None
        ``(H, W)`` when the images arrive as flattened rows.
    {dtype_parameter}

    Attributes
    ----------
    signal_shape_ : tuple of int
        Shape of one image.
    n_features_in_ : int
        Pixels (times channels) per image.
    coded_shape_ : (int, int)
        The padded picture: height and width rounded up to multiples of 8.
    grid_shape_ : (int, int)
        4 x 4 units of the coded picture: ``coded_shape_ // 4``.
    scaling_factors_ : list of ndarray
        The factors ``m`` of the 4, 8, 16 and 32-point transforms, ``[v, h]``.
    n_features_out_ : int
        ``k * rows * cols`` (``k`` 20 gray, 29 colour).

    See Also
    --------
    skcompress.codecs.JPEGCodec : baseline JPEG as one step.
    skcompress.BlockDCT : HEVC's integer transforms alone (``integer=True``).

    Notes
    -----
    Left out of H.265: the in-loop filters (deblocking, SAO), transform
    skip, delta QP and chroma QP offsets, PCM and lossless modes, scaling
    lists per colour component (chroma takes the luma lists), and CABAC
    itself (see above); x265 and HM use the in-loop filters, so
    their pictures differ. The encoder's search is compiled
    C, coding tree unit after coding tree unit, image after image.

    Examples
    --------
    >>> import numpy as np
    >>> from skcompress import HEVCIntraCodec
    >>> y, x = np.mgrid[:24, :40]
    >>> images = np.stack([(4 * x + 2 * y) % 256, (x * y) % 256]).astype(np.uint8)
    >>> codec = HEVCIntraCodec(qp=22, layout="blocks").fit(images)
    >>> symbols = codec.transform(images)
    >>> symbols.shape                      # 6 x 10 units of 16 levels and 4 maps
    (2, 6, 10, 20)
    >>> codec.get_feature_names_out()[16:20].tolist()
    ['r0_c0_cu', 'r0_c0_pu', 'r0_c0_mode', 'r0_c0_tu']
    >>> decoded = codec.inverse_transform(symbols)
    >>> decoded.shape, bool(np.abs(decoded - images).mean() < 3)
    ((2, 24, 40), True)
    >>> streams = codec.compress(images)
    >>> np.array_equal(codec.decompress(streams), decoded)
    True

    Colour, 4:2:0: 16 luma levels, 4 Cb, 4 Cr, 5 maps per 4 x 4 unit:

    >>> rgb = np.stack([images, images[:, ::-1], 255 - images], axis=-1)
    >>> colour = HEVCIntraCodec(qp=27, layout="channels_first").fit(rgb)
    >>> colour.transform(rgb).shape
    (2, 29, 6, 10)
    >>> colour.decompress(colour.compress(rgb)).shape
    (2, 24, 40, 3)
    """

    _parameter_constraints = {
        "qp": [Interval(Integral, 0, 51, closed="both")],
        "scaling_list": [StrOptions({"flat", "default"}), "array-like"],
        "ctu_size": [Interval(Integral, 16, 64, closed="both")],
        "rdoq": ["boolean"],
        "layout": [StrOptions(set(LAYOUTS))],
        "signal_shape": [tuple, list, None],
        "dtype": "no_validation",  # checked when used
    }

    def __init__(
        self,
        qp=32,
        *,
        scaling_list="flat",
        ctu_size=64,
        rdoq=False,
        layout="flat",
        signal_shape=None,
        dtype=None,
    ):
        self.qp = qp
        self.scaling_list = scaling_list
        self.ctu_size = ctu_size
        self.rdoq = rdoq
        self.layout = layout
        self.signal_shape = signal_shape
        self.dtype = dtype

    @_fit_context(prefer_skip_nested_validation=True)
    @unfitted_on_error
    def fit(self, X, y=None):
        """Check the settings and record the image shape.

        Parameters
        ----------
        X : array-like of shape (n_samples, H, W) or (n_samples, H, W, 3)
            8-bit gray or RGB images.
        y : None
            Ignored.

        Returns
        -------
        self : HEVCIntraCodec
        """
        if int(self.ctu_size) not in (16, 32, 64):
            raise ValueError(
                f"HEVCIntraCodec: ctu_size must be 16, 32 or 64; got {self.ctu_size!r}."
            )
        lists = self._lists()
        self._images(X, reset=True)
        self.scaling_factors_ = [np.asarray(a, dtype=np.int64) for a in lists]
        H, W = self._spatial
        self.coded_shape_ = _hevc.padded_shape(H, W)
        self.grid_shape_ = (self.coded_shape_[0] // 4, self.coded_shape_[1] // 4)
        self.n_features_out_ = self._k * self.grid_shape_[0] * self.grid_shape_[1]
        return self

    def transform(self, X):
        """Code every image; its symbols (levels and maps of every 4x4 unit).

        Parameters
        ----------
        X : array-like
            Images of the shape seen at ``fit``.

        Returns
        -------
        symbols : ndarray of int32
            In ``layout`` (see the class).
        """
        check_is_fitted(self)
        _, _, coef, maps, _, coefc = self._encode(X)
        return self._emit(self._cells(coef, maps, coefc))

    def inverse_transform(self, X):
        """Decode symbols to images (prediction, scaling, inverse transforms in z-order).

        Parameters
        ----------
        X : array-like
            Integer symbols as :meth:`transform` returns them, in ``layout``
            (or "flat", 2-D).

        Returns
        -------
        images : ndarray of float64, shape (n_samples, *signal_shape_)
            Integers from 0 to 255 (RGB for colour images).
        """
        check_is_fitted(self)
        cells = self._cells_from(X, "inverse_transform")
        return self._reconstruct(*self._planes(cells))

    def compress(self, X):
        """One bitstream per image (see the class).

        Parameters
        ----------
        X : array-like
            Images of the shape seen at ``fit``.

        Returns
        -------
        strings : list of bytes
        """
        check_is_fitted(self)
        H, W = self._spatial
        fields = [H, W, self.qp, self._ctu_log2, 3 if self._colour else 1]
        return [pack(KIND_HEVC, fields, p, self._fingerprint) for p in self._encode(X)[0]]

    def decompress_symbols(self, strings):
        """The symbols of bitstreams of this codec, as :meth:`transform` returns them.

        Parameters
        ----------
        strings : list of bytes

        Returns
        -------
        symbols : ndarray of int32
        """
        check_is_fitted(self)
        return self._emit(self._cells(*self._parse(strings)))

    def decompress(self, strings):
        """Images from bitstreams of this codec.

        ``decompress(compress(X))`` equals ``inverse_transform(transform(X))``,
        the encoder's own reconstruction.

        Parameters
        ----------
        strings : list of bytes

        Returns
        -------
        images : ndarray of float64, shape (n_samples, *signal_shape_)

        Raises
        ------
        ValueError
            For a stream that is truncated, altered, or written by a codec
            with other settings.
        """
        check_is_fitted(self)
        return self._reconstruct(*self._parse(strings))

    def rate(self, X):
        """What the bitstreams of ``X`` (:meth:`compress`) cost, measured on their bytes.

        Parameters
        ----------
        X : array-like
            Images of the shape seen at ``fit``.

        Returns
        -------
        rate : dict
            ``bits_per_sample`` (mean bits of one stream, header and CRC
            included), ``bits_per_pixel`` and ``bits_per_value`` (the same
            per pixel of the image).
        """
        return image_rate(self.compress(X), self._spatial)

    def get_feature_names_out(self, input_features=None):
        """Names of the symbols: unit row and column, then ``k0``..``k15`` or a map.

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
        rows, cols = self.grid_shape_
        values = [f"k{j}" for j in range(16)]
        if self._colour:
            values += [f"cb{j}" for j in range(4)] + [f"cr{j}" for j in range(4)]
        values += list(_hevc.MAPS) + (["chroma"] if self._colour else [])
        names = np.asarray(
            [f"r{r}_c{c}_{v}" for r in range(rows) for c in range(cols) for v in values],
            dtype=object,
        ).reshape(1, rows, cols, 1, self._k)
        return to_layout(names, self.layout).reshape(-1)

    @property
    def output_structure_(self):
        """:class:`~skcompress._core._structure.Structure` of :meth:`transform`'s output.

        Kind "hevc": a grid of 4x4 luma units, 20 symbols each (gray: 16
        levels, 4 maps) or 29 (colour: 16 luma, 4 Cb, 4 Cr levels, 5 maps).
        """
        check_is_fitted(self)
        return Structure(
            "hevc",
            "HEVCIntraCodec",
            tuple(int(g) for g in self.grid_shape_),
            1,
            self._k,
            self.layout,
            ("YCbCr 4:2:0",) if self._colour else ("gray",),
            block_size=4,
            order="natural",
            image_shape=tuple(self._spatial),
            quantized=True,
            settings=(("qp", int(self.qp)), ("ctu_size", int(self.ctu_size))),
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = []  # emits integer symbols
        return tags

    @classmethod
    def get_test_params(cls):
        """Parameter sets for the common checks: defaults, and RDOQ with the default lists.

        Returns
        -------
        params : list of dict
        """
        return [{}, {"qp": 37, "scaling_list": "default", "rdoq": True, "ctu_size": 32}]

    # -- helpers -----------------------------------------------------------

    @property
    def _colour(self):
        return len(self.signal_shape_) == 3

    @property
    def _k(self):
        return _K_COLOUR if self._colour else _K

    @property
    def _spatial(self):
        shape = self.signal_shape_
        return (1, shape[0]) if len(shape) == 1 else tuple(shape[:2])

    @property
    def _ctu_log2(self):
        return int(self.ctu_size).bit_length() - 1

    @property
    def _factors(self):
        return _hevc.scaling_factors(self.scaling_factors_)

    @property
    def _fingerprint(self):
        return fingerprint(self._factors, np.asarray([self.qp, self.ctu_size]))

    def _lists(self):
        """The four scaling lists (4x4, 8x8, 16x16, 32x32 as 8x8), checked."""
        spec = self.scaling_list
        if isinstance(spec, str):
            if spec == "flat":
                return [np.full((4, 4), 16)] + [np.full((8, 8), 16)] * 3
            default = _hevc.default_intra_list()
            return [np.full((4, 4), 16), default, default, default]
        if isinstance(spec, (list, tuple)) and len(spec) == 4:
            lists = [np.asarray(a) for a in spec]
            shapes = [(4, 4), (8, 8), (8, 8), (8, 8)]
            if any(a.shape != s for a, s in zip(lists, shapes, strict=True)):
                raise ValueError(
                    "HEVCIntraCodec: a scaling_list of four lists takes arrays of shapes (4, 4), "
                    f"(8, 8), (8, 8), (8, 8); got {[a.shape for a in lists]}."
                )
        else:
            one = np.asarray(spec)
            if one.shape != (8, 8):
                raise ValueError(
                    "HEVCIntraCodec: scaling_list must be 'flat', 'default', an (8, 8) array or "
                    f"four arrays (4x4, 8x8, 8x8, 8x8); got an array of shape {one.shape}."
                )
            lists = [one[::2, ::2], one, one, one]
        for size, a in zip((4, 8, 16, 32), lists, strict=True):
            if a.dtype.kind not in "iuf":
                raise ValueError(
                    f"HEVCIntraCodec: scaling_list entries must be numbers; got {a.dtype}."
                )
            bad = ~np.isfinite(a) | (a != np.round(a)) | (a < 1) | (a > 255)
            if bad.any():
                where = tuple(int(i) for i in np.argwhere(bad)[0])
                raise ValueError(
                    "HEVCIntraCodec: scaling_list entries must be integers from 1 to 255; got "
                    f"{a[where]!r} at index {where} of the list for {size}x{size} blocks."
                )
        return [a.astype(np.int64) for a in lists]

    def _images(self, X, reset):
        structure = read_structure(self, X, reset=reset)
        if structure is not None:
            raise refuse(
                "HEVCIntraCodec",
                structure,
                "8-bit gray images (n_samples, H, W)",
                "It predicts and transforms the pixels itself: give it the pixels.",
            )
        X = check_signals(
            self,
            X,
            reset=reset,
            signal_shape=self.signal_shape,
            dtype=(np.float64, np.uint8),
            images=True,
        )
        if X.ndim == 4 and X.shape[3] != 3:
            raise ValueError(
                "HEVCIntraCodec codes gray images (n_samples, H, W) or RGB images (n_samples, "
                f"H, W, 3); got images of shape {X.shape[1:]} ({X.shape[3]} channels)."
            )
        if X.dtype != np.uint8:  # 8-bit video: rounded and clipped, as a camera would
            X = np.clip(np.rint(X), 0, 255).astype(np.uint8)
        if X.ndim == 2:
            X = X.reshape(len(X), 1, X.shape[1])
        return X

    def _encode(self, X):
        """One compiled call for the batch: payloads and the batch's planes and maps."""
        X = self._images(X, reset=False)
        factors, log2, qp = self._factors, self._ctu_log2, int(self.qp)
        if not self._colour:
            return _hevc.encode(_hevc.pad(X), factors, qp, log2, self.rdoq)
        luma, chroma = _to_ycbcr420(_pad_colour(X))
        return _hevc.encode(luma, factors, qp, log2, self.rdoq, chroma)

    def _cells(self, coef, maps, coefc=None):
        """``(n, rows, cols, k)`` cells of pictures' coefficient planes and maps."""
        n, (rows, cols) = len(coef), self.grid_shape_
        parts = [
            coef.reshape(n, rows, 4, cols, 4).transpose(0, 1, 3, 2, 4).reshape(n, rows, cols, 16)
        ]
        if coefc is not None:
            c = coefc.reshape(n, 2, rows, 2, cols, 2).transpose(0, 2, 4, 1, 3, 5)
            parts.append(c.reshape(n, rows, cols, 8))
        n_maps = 5 if coefc is not None else 4
        parts.append(maps[:, :n_maps].transpose(0, 2, 3, 1).astype(np.int32))
        return np.concatenate(parts, axis=3)

    def _planes(self, cells):
        """Inverse of :meth:`_cells`: coefficient planes (int32), maps (uint8, 5 of them)."""
        n, (rows, cols) = len(cells), self.grid_shape_
        levels = cells[..., :16].reshape(n, rows, cols, 4, 4).transpose(0, 1, 3, 2, 4)
        coef = np.clip(levels.reshape(n, rows * 4, cols * 4), -32768, 32767).astype(np.int32)
        coefc, at = None, 16
        if self._colour:
            c = cells[..., 16:24].reshape(n, rows, cols, 2, 2, 2).transpose(0, 3, 1, 4, 2, 5)
            coefc = np.clip(c.reshape(n, 2, rows * 2, cols * 2), -32768, 32767).astype(np.int32)
            at = 24
        maps = np.full((n, 5, rows, cols), 4, dtype=np.uint8)
        given = np.clip(cells[..., at:], 0, 255).astype(np.uint8).transpose(0, 3, 1, 2)
        maps[:, : given.shape[1]] = given
        return coef, maps, coefc

    def _emit(self, cells):
        rows, cols = self.grid_shape_
        blocks = np.asarray(cells, dtype=np.int32).reshape(len(cells), rows, cols, 1, self._k)
        symbols = to_layout(blocks, self.layout, self)
        return as_output_dtype(self, with_structure(symbols, self.output_structure_))

    def _cells_from(self, X, name):
        rows, cols = self.grid_shape_
        symbols = np.asarray(X)
        try:
            blocks = from_layout(symbols, (rows, cols), 1, self._k, self.layout, name=name)
        except ValueError as error:
            raise ValueError(f"HEVCIntraCodec.{error}") from None
        if blocks.dtype.kind not in "iuf" or not np.isfinite(blocks).all():
            raise ValueError(f"HEVCIntraCodec.{name} expects finite integer symbols.")
        return np.rint(blocks[..., 0, :]).astype(np.int64)

    def _reconstruct(self, coef, maps, coefc=None):
        """Images (float64, the fitted shape) of symbol planes."""
        rec, recc = _hevc.reconstruct(
            coef, maps, self._factors, int(self.qp), self._ctu_log2, coefc
        )
        H, W = self._spatial
        images = rec if recc is None else _to_rgb(rec, recc)
        images = images[:, :H, :W]
        return images.reshape(len(images), *self.signal_shape_).astype(np.float64)

    def _parse(self, strings):
        """Symbol planes of bitstreams of this codec (header and CRC checked first)."""
        name = "HEVCIntraCodec.decompress"
        if isinstance(strings, (bytes, bytearray, memoryview)):
            raise TypeError(
                f"{name} expects a list of bitstreams (one per image); got a single bytes "
                "object. Wrap it in a list."
            )
        ours = (*self._spatial, int(self.qp), self._ctu_log2, 3 if self._colour else 1)
        payloads = []
        for i, data in enumerate(strings):
            fields, payload = unpack(data, KIND_HEVC, 5, self._fingerprint, name)
            if tuple(fields) != ours:
                H, W, qp, log2, C = fields
                raise ValueError(
                    f"{name}: stream {i} codes a {H}x{W}x{C} image with qp={qp} and CTUs of "
                    f"{1 << min(log2, 16)}; this codec codes {ours[0]}x{ours[1]}x{ours[4]} "
                    f"images with qp={self.qp}, ctu_size={self.ctu_size}."
                )
            payloads.append(payload)
        Hp, Wp = self.coded_shape_
        try:
            return _hevc.parse(payloads, Hp, Wp, self._ctu_log2, self._colour)
        except ValueError as error:
            raise ValueError(f"{name}: {error}.") from None


def _pad_colour(X):
    """RGB images ``(n, H, W, 3)`` of the coded size, last row and column repeated."""
    H, W = X.shape[1:3]
    Hp, Wp = _hevc.padded_shape(H, W)
    return np.pad(X, ((0, 0), (0, Hp - H), (0, Wp - W), (0, 0)), mode="edge")


def _to_ycbcr420(rgb):
    """JFIF's YCbCr (BT.601, full range) of 8-bit RGB ``(..., H, W, 3)``, chroma as means of
    2 x 2: luma ``(..., H, W)`` and chroma ``(..., 2, H / 2, W / 2)``, uint8."""
    R, G, B = (rgb[..., i].astype(np.float64) for i in range(3))
    Y = 0.299 * R + 0.587 * G + 0.114 * B
    Cb = 128 - 0.168736 * R - 0.331264 * G + 0.5 * B
    Cr = 128 + 0.5 * R - 0.418688 * G - 0.081312 * B
    H, W = Y.shape[-2:]
    C = np.stack([Cb, Cr], axis=-3)
    C = C.reshape(*C.shape[:-2], H // 2, 2, W // 2, 2).mean(axis=(-3, -1))
    return (np.clip(np.rint(Y), 0, 255).astype(np.uint8),
            np.clip(np.rint(C), 0, 255).astype(np.uint8))  # fmt: skip


def _to_rgb(Y, C):
    """8-bit RGB of luma ``(..., H, W)`` and 4:2:0 chroma ``(..., 2, H / 2, W / 2)``.

    Chroma is upsampled with the triangle filter of libjpeg's "fancy" upsampling
    (3/4 of the nearer sample, 1/4 of the next), which fits chroma sited at the
    centre of its 2 x 2 luma samples, as the 2 x 2 means of the encoder put it.
    """
    C = C.astype(np.float64)
    up = _triangle(_triangle(C, C.ndim - 2), C.ndim - 1) / 16 - 128
    Cb, Cr = up[..., 0, :, :], up[..., 1, :, :]
    Y = Y.astype(np.float64)
    rgb = np.stack([Y + 1.402 * Cr, Y - 0.344136 * Cb - 0.714136 * Cr, Y + 1.772 * Cb], axis=-1)
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)


HEVCIntraCodec.__doc__ = fill_doc(HEVCIntraCodec.__doc__, {"{dtype_parameter}": DTYPE_PARAMETER})
