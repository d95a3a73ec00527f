"""Colour steps of the JPEG path: RGB <-> YCbCr and chroma subsampling."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._core._array_api import as_array, asarray, astype, contiguous, copy, float_dtype
from .._core._chunks import chunked, fit_on_shape, unchunked
from .._core._contract import LAYOUTS, check_input_features, from_layout, to_layout
from .._core._docs import chunk_parameters
from .._core._estimator import PublicEstimatorMixin, unfitted_on_error
from .._core._limits import MAX_BLOCK_SIZE
from .._core._structure import (
    Structure,
    channels_of,
    check_structured_signals,
    image_structure,
    read_images,
    refuse,
    with_structure,
)

# Rec. 601 luma weights, as ITU-T T.871 (JFIF) uses them. Cb and Cr are B - Y and
# R - Y scaled into [-1/2, 1/2]; T.871 prints these rows rounded to six digits.
_KR, _KB = 0.299, 0.114
_LUMA = np.array([_KR, 1 - _KR - _KB, _KB])
_YCBCR = np.stack(
    [_LUMA, (np.eye(3)[2] - _LUMA) / (2 * (1 - _KB)), (np.eye(3)[0] - _LUMA) / (2 * (1 - _KR))]
)
_YCBCR_INVERSE = np.linalg.inv(_YCBCR)
_CHANNEL_NAMES = {"ycbcr": ("Y", "Cb", "Cr"), "rct": ("Y", "U", "V")}


def _fix(x):
    """libjpeg's ``FIX(x)``: ``x`` in 16-bit fixed point."""
    return int(x * (1 << 16) + 0.5)


_HALF = 1 << 15
_CBCR_OFFSET = 128 << 16
# jccolor.c: RGB -> YCbCr with its 5-digit constants; the chroma rows round with
# ONE_HALF - 1 so that 255 cannot overflow. All values are exact in float64.
_LIBJPEG_RGB_YCC = np.array(
    [
        [_fix(0.299), _fix(0.587), _fix(0.114)],
        [-_fix(0.16874), -_fix(0.33126), _fix(0.5)],
        [_fix(0.5), -_fix(0.41869), -_fix(0.08131)],
    ],
    dtype=np.float64,
)
_LIBJPEG_RGB_YCC_ROUND = np.array([_HALF, _CBCR_OFFSET + _HALF - 1, _CBCR_OFFSET + _HALF - 1])

_FACTORS = {"4:4:4": (1, 1), "4:2:2": (1, 2), "4:2:0": (2, 2)}
# libjpeg's alternating rounding biases, indexed by output column parity:
# jcsample.c (h2v1, h2v2 downsampling) and jdsample.c (fancy upsampling).
_DOWN_BIAS = {(1, 2): (0, 1), (2, 2): (1, 2)}
_UP_BIAS = {(1, 2): (1, 2), (2, 2): (8, 7)}


@chunk_parameters()
class ColorTransform(TransformerMixin, PublicEstimatorMixin, BaseEstimator):
    """Colour space conversion of channels-last images: JPEG's RGB -> YCbCr.

    One matrix product over the channel axis for the whole batch:
    ``[Y, Cb, Cr] = M @ [R, G, B] + [0, offset, offset]`` with the JFIF matrix
    of ITU-T T.871 (Y = 0.299 R + 0.587 G + 0.114 B, Cb = 0.564 (B - Y),
    Cr = 0.713 (R - Y)). :meth:`inverse_transform` applies the exact inverse
    matrix, so the round trip holds to float precision.

    Parameters
    ----------
    space : {"ycbcr", "rct", "identity"}, default="ycbcr"
        "ycbcr": JFIF YCbCr (with ``offset=0``, JPEG 2000's irreversible
        component transform ICT). "rct": JPEG 2000's reversible component
        transform on integer samples, Y = floor((R + 2 G + B) / 4), U = B - G,
        V = R - G, exactly invertible in integers. "identity": leaves any
        signals as they are (a baseline for a grid search over spaces).
    offset : "auto" or float, default="auto"
        Added to Cb and Cr by "ycbcr" (T.871 adds 128 for 8-bit samples) and
        subtracted back by :meth:`inverse_transform`. "auto" takes
        ``2 ** (bits - 1)`` for unsigned integer input (128 for uint8) and 0
        otherwise, decided at ``fit``; pass 128 for 8-bit samples held as
        floats, 0.5 for samples in [0, 1].
    method : {"float", "libjpeg"}, default="float"
        "float": the exact matrices. "libjpeg": libjpeg's 16-bit fixed point
        conversion (jccolor.c, rounded to integers, offset 128) on 8-bit
        samples (integers in [0, 255]); :meth:`inverse_transform` is then
        libjpeg's decoder conversion (jdcolor.c) of samples rounded and clipped
        to [0, 255]. Only for ``space="ycbcr"``.
    layout : {"flat", "blocks", "channels_first"}, default="flat"
        Output layout, see :mod:`skcompress` (the data contract): "flat" is
        ``(n, H * W * 3)``, channels last and fastest; "blocks" is
        ``(n, H, W, 3)``; "channels_first" is ``(n, 3, H, W)``.
    signal_shape : tuple of int or None, default=None
        ``(H, W, 3)`` when rows arrive flattened.
    {chunk_parameters}

    Attributes
    ----------
    signal_shape_ : tuple of int
        Shape of one input signal seen at ``fit``.
    offset_ : float
        Chroma offset in use (0 for "rct" and "identity").
    n_features_in_ : int
        Values per input signal.
    feature_names_in_ : ndarray of str
        Column names, when ``fit`` was given a DataFrame.

    See Also
    --------
    skcompress.ChromaSubsampler : JPEG's next step, chroma at reduced resolution.

    Notes
    -----
    Colour spaces other than "identity" take channels-last images
    ``(n, H, W, 3)`` or rows flattened from them with ``signal_shape``.

    Examples
    --------
    >>> import numpy as np
    >>> from skcompress import ColorTransform
    >>> rgb = np.array([[[[255, 0, 0], [255, 255, 255]]]], dtype=np.uint8)  # red, white
    >>> ct = ColorTransform(layout="blocks").fit(rgb)
    >>> ct.transform(rgb).round(3).tolist()
    [[[[76.245, 84.972, 255.5], [255.0, 128.0, 128.0]]]]
    >>> ct.get_feature_names_out()[:4].tolist()
    ['r0_c0_Y', 'r0_c0_Cb', 'r0_c0_Cr', 'r0_c1_Y']
    >>> float(np.abs(ct.inverse_transform(ct.transform(rgb)) - rgb).max()) < 1e-10
    True
    >>> ColorTransform(method="libjpeg", layout="blocks").fit_transform(rgb).tolist()
    [[[[76.0, 85.0, 255.0], [255.0, 128.0, 128.0]]]]
    """

    _parameter_constraints = {
        "space": [StrOptions({"ycbcr", "rct", "identity"})],
        "offset": [StrOptions({"auto"}), Interval(Real, None, None, closed="neither")],
        "method": [StrOptions({"float", "libjpeg"})],
        "layout": [StrOptions(set(LAYOUTS))],
        "signal_shape": [tuple, list, None],
        "batch_size": [Interval(Integral, 1, None, closed="left"), None],
        "n_jobs": [Integral, None],
        "device": "no_validation",  # checked when used: torch is optional
        "dtype": "no_validation",  # checked when used
    }

    def __init__(
        self,
        space="ycbcr",
        *,
        offset="auto",
        method="float",
        layout="flat",
        signal_shape=None,
        batch_size=None,
        n_jobs=None,
        device=None,
        dtype=None,
    ):
        self.space = space
        self.offset = offset
        self.method = method
        self.layout = layout
        self.signal_shape = signal_shape
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.device = device
        self.dtype = dtype

    @fit_on_shape
    @_fit_context(prefer_skip_nested_validation=True)
    @unfitted_on_error
    def fit(self, X, y=None):
        """Record the signal shape and the chroma offset.

        Parameters
        ----------
        X : array-like of shape (n_samples, H, W, 3)
            RGB images, channels last (any signals for "identity").
        y : None
            Ignored.

        Returns
        -------
        self : ColorTransform
        """
        dtype = getattr(X, "dtype", None)
        X, structure = check_structured_signals(self, X, reset=True, read=self._read)
        if self.space != "identity":
            _check_colour_images(self, f"space={self.space!r}")
            if structure is not None and structure.channels[:1] == ("Y",):
                raise refuse(
                    "ColorTransform",
                    structure,
                    "RGB images",
                    "Its colours are converted already: use one ColorTransform.",
                )
        if self.method == "libjpeg":
            if self.space != "ycbcr":
                raise ValueError(
                    "ColorTransform: method='libjpeg' is libjpeg's RGB -> YCbCr conversion "
                    f"and needs space='ycbcr'; got space={self.space!r}."
                )
            if self.offset not in ("auto", 128):
                raise ValueError(
                    "ColorTransform: method='libjpeg' uses libjpeg's chroma offset 128; got "
                    f"offset={self.offset!r} (expected 'auto' or 128)."
                )
            self.offset_ = 128.0
        elif self.space != "ycbcr":
            self.offset_ = 0.0
        elif self.offset == "auto":
            unsigned = dtype is not None and np.dtype(dtype).kind == "u"
            self.offset_ = float(2 ** (8 * np.dtype(dtype).itemsize - 1)) if unsigned else 0.0
        else:
            self.offset_ = float(self.offset)
        self._mid_level = _mid_level(dtype, structure)
        return self

    @chunked
    def transform(self, X):
        """Convert RGB to the colour ``space``.

        Parameters
        ----------
        X : array-like of shape (n_samples, H, W, 3)
            Images of the shape seen at ``fit``.

        Returns
        -------
        Xt : ndarray
            The converted images in ``layout``; float32 for float32 input,
            float64 otherwise.
        """
        check_is_fitted(self)
        X, _ = check_structured_signals(self, X, reset=False, read=self._read, keep_tensors=True)
        channels = self._channels
        pixels = X.reshape(-1, channels)
        if self.space == "identity":
            out = copy(pixels)
        elif self.space == "rct":
            _check_integers(self, pixels, "space='rct'")
            r, g, b = pixels.T
            out = np.stack([np.floor((r + 2 * g + b) / 4), b - g, r - g], axis=1)
        elif self.method == "libjpeg":
            _check_8bit(self, pixels)
            acc = pixels.astype(np.float64, copy=False) @ _LIBJPEG_RGB_YCC.T
            acc = _add_per_channel(acc, _LIBJPEG_RGB_YCC_ROUND, self.signal_shape_[1])
            acc *= 1 / (1 << 16)
            out = np.floor(acc, out=acc).astype(X.dtype, copy=False)
        else:
            out = pixels @ asarray(_YCBCR.T, like=X, dtype="like")
            if self.offset_:
                offsets = [0, self.offset_, self.offset_]
                out = _add_per_channel(out, offsets, self.signal_shape_[1])
        out = to_layout(out.reshape(len(X), *self._spatial, 1, channels), self.layout, self)
        return with_structure(out, self.output_structure_)

    @chunked
    def inverse_transform(self, X):
        """Convert back to RGB.

        Parameters
        ----------
        X : array-like
            Converted images in the step's ``layout`` (2-D "flat" always
            works).

        Returns
        -------
        X_original : ndarray of shape (n_samples, *signal_shape_)
            float32 for float32 input, float64 otherwise.
        """
        check_is_fitted(self)
        X = as_array(X)
        channels = self._channels
        values = from_layout(
            X, self._spatial, 1, channels, self.layout, name="ColorTransform.inverse_transform"
        )
        # a copy: the offsets are subtracted in place
        values = astype(values, float_dtype(values), copy=True)
        n = len(values)
        pixels = values.reshape(-1, channels)
        if self.space == "identity":
            out = pixels
        elif self.space == "rct":
            y, u, v = pixels.T
            g = y - np.floor((u + v) / 4)
            out = np.stack([v + g, g, u + g], axis=1)
        elif self.method == "libjpeg":
            out = _libjpeg_ycc_to_rgb(pixels).astype(values.dtype)
        else:
            if self.offset_:
                offsets = [0, -self.offset_, -self.offset_]
                pixels = _add_per_channel(pixels, offsets, self.signal_shape_[1])
            out = pixels @ asarray(_YCBCR_INVERSE.T, like=pixels, dtype="like")
        return _emit_input(self, out.reshape(n, *self.signal_shape_))

    def get_feature_names_out(self, input_features=None):
        """Names of the "flat" output features, e.g. ``r0_c1_Cb``.

        ``r<row>_c<col>`` is the pixel (``s<i>`` for 1-D signals), then the
        channel: Y, Cb, Cr ("ycbcr"), Y, U, V ("rct") or ``ch<k>``
        ("identity" of multichannel signals).

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
        channels = self._channels
        if self.space in _CHANNEL_NAMES:
            suffixes = [f"_{c}" for c in _CHANNEL_NAMES[self.space]]
        elif len(self.signal_shape_) == 3:
            suffixes = [f"_ch{k}" for k in range(channels)]
        else:
            suffixes = [""]
        names = [f"{at}{s}" for at in _positions(self._spatial) for s in suffixes]
        return np.asarray(names, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    @classmethod
    def get_test_params(cls):
        # scikit-learn's checks feed 2-D data with 1 to 10 features; only
        # "identity" takes signals without a 3-channel axis.
        return [{"space": "identity"}]

    def _torch_kernel(self, method):
        """Tensors run through this step's own code (see :mod:`skcompress._core._chunks`).

        The floating point matrices only: RCT and libjpeg's fixed point go through numpy.
        """
        if self.method != "float" or self.space == "rct":
            return None
        return unchunked(self, method)

    @property
    def output_structure_(self):
        """:class:`~skcompress._core._structure.Structure` of :meth:`transform`'s output.

        None for 1-D signals ("identity").
        """
        check_is_fitted(self)
        if len(self.signal_shape_) == 1:
            return None
        names = _CHANNEL_NAMES.get(self.space) or channels_of(
            self.input_structure_, self._channels
        )
        mid = self._mid_level
        if self.space == "ycbcr":
            mid = self.offset_ or None
        elif self.space == "rct":
            mid = None
        return image_structure("ColorTransform", self.signal_shape_, names, self.layout, mid)

    def _read(self, X, structure):
        return read_images(
            "ColorTransform", X, structure, instead="Use it on RGB images, before the other steps."
        )

    @property
    def _spatial(self):
        shape = self.signal_shape_
        return shape[:2] if len(shape) == 3 else shape

    @property
    def _channels(self):
        return self.signal_shape_[2] if len(self.signal_shape_) == 3 else 1


@chunk_parameters(device=False)
class ChromaSubsampler(TransformerMixin, PublicEstimatorMixin, BaseEstimator):
    """JPEG chroma subsampling of YCbCr images: Cb and Cr at reduced resolution.

    Luma is kept; Cb and Cr are averaged over 1x2 ("4:2:2") or 2x2 ("4:2:0")
    pixel groups, as libjpeg's encoder does. Sizes that a group does not
    divide are padded by edge replication, and :meth:`inverse_transform`
    upsamples the chroma back (by replication or libjpeg's triangular "fancy"
    filter) and crops the padding off.

    Parameters
    ----------
    subsampling : {"4:4:4", "4:2:2", "4:2:0"}, default="4:2:0"
        J:a:b notation: chroma at full resolution, at half horizontal
        resolution, or at half resolution both ways.
    upsampling : {"fancy", "replicate"}, default="fancy"
        How :meth:`inverse_transform` restores full-resolution chroma:
        libjpeg's fancy upsampling (each output sample is 3/4 of the nearest
        chroma sample and 1/4 of the next one along each subsampled axis, edges
        replicated: jdsample.c's h2v1 and h2v2 filters), or nearest-neighbour
        replication (jdsample.c's plain upsampling, jdmerge.c).
    method : {"float", "libjpeg"}, default="float"
        "float": exact means and filters. "libjpeg": libjpeg's integer
        arithmetic on 8-bit samples (integers in [0, 255]): sums rounded with
        its alternating biases (1, 2, 1, 2... before ``>> 2`` in 4:2:0), and
        :meth:`inverse_transform` rounds and clips every sample to [0, 255]
        first, as libjpeg's inverse DCT does, then upsamples with its biases
        (and, as libjpeg does, by replication when the chroma is at most 2
        samples wide).
    block_size : int in [1, 4096] or None, default=None
        Pad the planes to whole blocks of ``block_size`` chroma samples (whole
        MCUs of a JPEG file with ``block_size=8``) the way libjpeg does:
        columns are replicated at full resolution before subsampling, rows
        after it. :class:`~skcompress.BlockDCT` of each plane from
        :meth:`split` then has libjpeg's block grid. None pads only what a
        pixel group needs.
    layout : {"flat", "blocks", "channels_first"}, default="flat"
        Output layout (see Notes).
    signal_shape : tuple of int or None, default=None
        ``(H, W, 3)`` when rows arrive flattened.
    {chunk_parameters}

    Attributes
    ----------
    signal_shape_ : tuple of int
        Shape of one input signal seen at ``fit``.
    chroma_shape_ : tuple of int
        Size of the chroma planes of the image, ``(ceil(H / a), ceil(W / b))``
        for ``a x b`` pixel groups.
    grid_shape_ : tuple of int
        Chroma sites per plane after the ``block_size`` padding.
    n_features_in_ : int
        Values per input signal.
    feature_names_in_ : ndarray of str
        Column names, when ``fit`` was given a DataFrame.

    See Also
    --------
    skcompress.ColorTransform : the RGB -> YCbCr step before this one.
    skcompress.BlockDCT : the block transform applied to each plane.

    Notes
    -----
    The output keeps the data contract by grouping samples per chroma site,
    as a JPEG minimum coded unit groups blocks: each site ``(i, j)`` of the
    ``grid_shape_`` carries the ``a * b`` luma samples it covers (row-major)
    then its Cb and Cr, so "blocks" is ``(n, h, w, a * b + 2)``,
    "channels_first" is ``(n, a * b + 2, h, w)`` (luma as phase planes beside
    the chroma, one resolution for all) and "flat" is "blocks" flattened.
    With "4:4:4" the output is the input, padded to ``block_size``. Use
    :meth:`split` to get the planes Y, Cb, Cr at their own resolutions and
    :meth:`merge` for the way back. "4:4:4" takes any signals; "4:2:2" and
    "4:2:0" take channels-last YCbCr images ``(n, H, W, 3)``.

    Examples
    --------
    >>> import numpy as np
    >>> from skcompress import ChromaSubsampler
    >>> X = np.arange(2 * 4 * 6 * 3, dtype=float).reshape(2, 4, 6, 3)
    >>> sub = ChromaSubsampler("4:2:0").fit(X)
    >>> sub.transform(X).shape        # 2x3 sites of 4 luma + Cb + Cr
    (2, 36)
    >>> sub.get_feature_names_out()[:6].tolist()
    ['Y_r0_c0', 'Y_r0_c1', 'Y_r1_c0', 'Y_r1_c1', 'Cb_r0_c0', 'Cr_r0_c0']
    >>> Y, Cb, Cr = sub.split(sub.transform(X))
    >>> Y.shape, Cb.shape
    ((2, 4, 6), (2, 2, 3))
    >>> bool(Cb[0, 0, 0] == X[0, :2, :2, 1].mean())
    True
    >>> back = ChromaSubsampler("4:2:0", upsampling="replicate").fit(X)
    >>> back.inverse_transform(back.transform(X)).shape
    (2, 4, 6, 3)
    """

    _parameter_constraints = {
        "subsampling": [StrOptions(set(_FACTORS))],
        "upsampling": [StrOptions({"fancy", "replicate"})],
        "method": [StrOptions({"float", "libjpeg"})],
        "block_size": [Interval(Integral, 1, MAX_BLOCK_SIZE, closed="both"), None],
        "layout": [StrOptions(set(LAYOUTS))],
        "signal_shape": [tuple, list, None],
        "batch_size": [Interval(Integral, 1, None, closed="left"), None],
        "n_jobs": [Integral, None],
        "dtype": "no_validation",  # checked when used
    }

    def __init__(
        self,
        subsampling="4:2:0",
        *,
        upsampling="fancy",
        method="float",
        block_size=None,
        layout="flat",
        signal_shape=None,
        batch_size=None,
        n_jobs=None,
        dtype=None,
    ):
        self.subsampling = subsampling
        self.upsampling = upsampling
        self.method = method
        self.block_size = block_size
        self.layout = layout
        self.signal_shape = signal_shape
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.dtype = dtype

    @fit_on_shape
    @_fit_context(prefer_skip_nested_validation=True)
    @unfitted_on_error
    def fit(self, X, y=None):
        """Record the image shape and the size of the planes.

        Parameters
        ----------
        X : array-like of shape (n_samples, H, W, 3)
            YCbCr images, channels last (any signals for "4:4:4").
        y : None
            Ignored.

        Returns
        -------
        self : ChromaSubsampler
        """
        dtype = getattr(X, "dtype", None)
        X, structure = check_structured_signals(self, X, reset=True, read=self._read)
        if self._factors != (1, 1):
            _check_colour_images(self, f"subsampling={self.subsampling!r}")
            if structure is not None and structure.channels[:1] != ("Y",):
                raise refuse(
                    "ChromaSubsampler",
                    structure,
                    "YCbCr images",
                    "Put ColorTransform() before it.",
                )
        self._mid_level = _mid_level(dtype, structure)
        spatial = self._spatial
        self.chroma_shape_ = tuple(
            -(-s // f) for s, f in zip(spatial, self._factors, strict=False)
        )
        b = self.block_size or 1
        self.grid_shape_ = tuple(-(-s // b) * b for s in self.chroma_shape_)
        return self

    @chunked
    def transform(self, X):
        """Subsample the chroma.

        Parameters
        ----------
        X : array-like of shape (n_samples, H, W, 3)
            Images of the shape seen at ``fit``.

        Returns
        -------
        Xt : ndarray
            Samples grouped per chroma site, in ``layout``; float32 for
            float32 input, float64 otherwise.
        """
        check_is_fitted(self)
        X, _ = check_structured_signals(self, X, reset=False, read=self._read)
        if self.method == "libjpeg":
            _check_8bit(self, X)
        n, grid = len(X), self.grid_shape_
        if self._factors == (1, 1):
            pads = [(0, g - s) for g, s in zip(grid, self._spatial, strict=True)]
            padded = _pad(X, [(0, 0), *pads] + [(0, 0)] * (X.ndim - 1 - len(grid)))
            sites = (X.copy() if padded is X else padded).reshape(n, *grid, self._channels)
        else:
            sites = self._subsample(X)
        out = to_layout(sites.reshape(n, *grid, 1, sites.shape[-1]), self.layout, self)
        return with_structure(out, self.output_structure_)

    @chunked
    def inverse_transform(self, X):
        """Upsample the chroma back to full resolution and crop the padding.

        Parameters
        ----------
        X : array-like
            Output of :meth:`transform` (or :meth:`merge`) in the step's
            ``layout``; 2-D "flat" always works.

        Returns
        -------
        X_original : ndarray of shape (n_samples, *signal_shape_)
            float32 for float32 input, float64 otherwise.
        """
        check_is_fitted(self)
        sites = self._sites(X, "inverse_transform")
        if self.method == "libjpeg":
            sites = np.clip(np.floor(sites + 0.5), 0, 255)
        n = len(sites)
        if self._factors == (1, 1):
            crop = tuple(slice(0, s) for s in self._spatial)
            out = np.ascontiguousarray(sites[(slice(None), *crop)])
            return _emit_input(self, out.reshape(n, *self.signal_shape_))
        H, W = self._spatial
        hc, wc = self.chroma_shape_
        out = np.empty((n, H, W, 3), dtype=sites.dtype)
        out[..., 0] = self._sites_to_luma(sites)[:, :H, :W]
        planes = np.ascontiguousarray(np.moveaxis(sites[:, :hc, :wc, -2:], -1, 1))
        out[..., 1:] = np.moveaxis(self._upsample(planes)[..., :H, :W], 1, -1)
        return _emit_input(self, out)

    def split(self, X):
        """The planes Y, Cb and Cr of subsampled images, each at its own resolution.

        Parameters
        ----------
        X : array-like
            Output of :meth:`transform`, in the step's ``layout``.

        Returns
        -------
        Y : ndarray of shape (n_samples, a * h, b * w)
            Luma, padded to cover the ``(h, w) = grid_shape_`` chroma sites of
            ``a x b`` pixels each.
        Cb, Cr : ndarray of shape (n_samples, h, w)
            Chroma.
        """
        check_is_fitted(self)
        self._check_ycbcr("split")
        sites = self._sites(X, "split")
        return (
            self._sites_to_luma(sites),
            np.ascontiguousarray(sites[..., -2]),
            np.ascontiguousarray(sites[..., -1]),
        )

    def merge(self, Y, Cb, Cr):
        """Inverse of :meth:`split`: planes back to the step's output layout.

        Parameters
        ----------
        Y : array-like of shape (n_samples, a * h, b * w)
        Cb, Cr : array-like of shape (n_samples, h, w)

        Returns
        -------
        Xt : ndarray
            As :meth:`transform` returns it, ready for :meth:`inverse_transform`.
        """
        check_is_fitted(self)
        self._check_ycbcr("merge")
        (h, w), (a, b) = self.grid_shape_, self._factors
        Y, Cb, Cr = (np.asarray(p) for p in (Y, Cb, Cr))
        n = len(Y)
        expected = [(n, a * h, b * w), (n, h, w), (n, h, w)]
        got = [Y.shape, Cb.shape, Cr.shape]
        if got != expected:
            raise ValueError(
                f"ChromaSubsampler.merge expects planes Y, Cb, Cr of shapes {expected}; got {got}."
            )
        sites = np.empty((n, h, w, a * b + 2), dtype=np.result_type(Y, Cb, Cr, np.float32))
        self._luma_into_sites(sites, Y)
        sites[..., -2], sites[..., -1] = Cb, Cr
        return to_layout(sites.reshape(n, h, w, 1, a * b + 2), self.layout)

    def get_feature_names_out(self, input_features=None):
        """Names of the "flat" output features, e.g. ``Y_r1_c0`` or ``Cb_r0_c0``.

        Every name says the plane and the row and column within that plane
        (``s<i>`` for 1-D signals); "4:4:4" of signals that are not YCbCr
        images names the planes ``ch<k>``.

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
        if self._factors == (1, 1):
            planes = ["Y", "Cb", "Cr"] if self._is_ycbcr else list(range(self._channels))
            planes = [p if isinstance(p, str) else f"ch{p}" for p in planes]
            names = [f"{p}_{at}" for at in _positions(self.grid_shape_) for p in planes]
            return np.asarray(names, dtype=object)
        (h, w), (a, b) = self.grid_shape_, self._factors
        names = []
        for i in range(h):
            for j in range(w):
                names += [f"Y_r{a * i + u}_c{b * j + v}" for u in range(a) for v in range(b)]
                names += [f"Cb_r{i}_c{j}", f"Cr_r{i}_c{j}"]
        return np.asarray(names, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    @classmethod
    def get_test_params(cls):
        # scikit-learn's checks feed 2-D data with 1 to 10 features; only
        # "4:4:4" takes signals that are not YCbCr images.
        return [{"subsampling": "4:4:4"}]

    @property
    def output_structure_(self):
        """:class:`~skcompress._core._structure.Structure` of :meth:`transform`'s output.

        "sites" for 4:2:2 and 4:2:0, the (padded) images for 4:4:4, None for
        1-D signals.
        """
        check_is_fitted(self)
        if len(self.signal_shape_) == 1:
            return None
        if self._factors == (1, 1):
            names = channels_of(self.input_structure_, self._channels)
            shape = (*self.grid_shape_, self._channels)
            return image_structure("ChromaSubsampler", shape, names, self.layout, self._mid_level)
        (a, b) = self._factors
        return Structure(
            "sites",
            "ChromaSubsampler",
            tuple(self.grid_shape_),
            1,
            a * b + 2,
            self.layout,
            ("Y", "Cb", "Cr"),
            factors=(a, b),
            image_shape=tuple(self._spatial),
            mid_level=self._mid_level,
        )

    # -- helpers -----------------------------------------------------------

    def _read(self, X, structure):
        return read_images(
            "ChromaSubsampler", X, structure, instead="Put it after ColorTransform()."
        )

    @property
    def _factors(self):
        return _FACTORS[self.subsampling]

    @property
    def _spatial(self):
        shape = self.signal_shape_
        return shape[:2] if len(shape) == 3 else shape

    @property
    def _channels(self):
        return self.signal_shape_[2] if len(self.signal_shape_) == 3 else 1

    @property
    def _is_ycbcr(self):
        return len(self.signal_shape_) == 3 and self.signal_shape_[2] == 3

    def _check_ycbcr(self, method):
        if not self._is_ycbcr:
            raise ValueError(
                f"ChromaSubsampler.{method} needs YCbCr images (n_samples, height, width, 3); "
                f"this step was fitted on signals of shape {self.signal_shape_}."
            )

    def _sites(self, X, method):
        """``(n, *grid_shape_, k)`` samples per site from any layout."""
        X = np.asarray(X)
        dtype = X.dtype if X.dtype in (np.float32, np.float64) else np.float64
        a, b = self._factors
        k = a * b + 2 if (a, b) != (1, 1) else self._channels
        sites = from_layout(
            X, self.grid_shape_, 1, k, self.layout, name=f"ChromaSubsampler.{method}"
        )
        return sites.reshape(len(sites), *self.grid_shape_, k).astype(dtype)

    def _subsample(self, X):
        """``(n, H, W, 3)`` images -> ``(n, *grid_shape_, a * b + 2)`` samples per site."""
        (H, W), (hc, _), (gh, gw) = self._spatial, self.chroma_shape_, self.grid_shape_
        a, b = self._factors
        n = len(X)
        padded = _pad(X, [(0, 0), (0, a * gh - H), (0, b * gw - W), (0, 0)])
        # libjpeg's order: columns replicated before subsampling, rows after
        rows = padded[:, : a * hc]
        if a == 2:
            rows = rows[:, 0::2] + rows[:, 1::2]
        pairs = rows.reshape(n, hc, gw, b, 3)[..., 1:]
        sums = pairs[..., 0, :] + pairs[..., 1, :]
        if self.method == "libjpeg":
            bias = np.repeat(np.resize(np.asarray(_DOWN_BIAS[a, b], sums.dtype), gw), 2)
            sums = np.floor((sums.reshape(n * hc, 2 * gw) + bias) / (a * b))
        else:
            sums *= 1 / (a * b)
        sites = np.empty((n, gh, gw, a * b + 2), dtype=X.dtype)
        self._luma_into_sites(sites, padded[..., 0])
        sites[:, :hc, :, a * b :] = sums.reshape(n, hc, gw, 2)
        sites[:, hc:, :, a * b :] = sites[:, hc - 1 : hc, :, a * b :]
        return sites

    def _luma_into_sites(self, sites, luma):
        """Write ``(n, a * h, b * w)`` luma into ``sites``, row-major per site."""
        a, b = self._factors
        for u in range(a):
            for v in range(b):
                sites[..., u * b + v] = luma[:, u::a, v::b]

    def _sites_to_luma(self, sites):
        (h, w), (a, b) = self.grid_shape_, self._factors
        luma = np.empty((len(sites), a * h, b * w), dtype=sites.dtype)
        for u in range(a):
            for v in range(b):
                luma[:, u::a, v::b] = sites[..., u * b + v]
        return luma

    def _upsample(self, planes):
        """``(n, 2, hc, wc)`` chroma planes -> ``(n, 2, a * hc, b * wc)``."""
        a, b = self._factors
        libjpeg = self.method == "libjpeg"
        if self.upsampling == "replicate" or (libjpeg and planes.shape[3] <= 2):
            return planes.repeat(a, axis=2).repeat(b, axis=3)
        # 3 * nearest + next along each subsampled axis: weights sum to 4 per axis
        weighted = _triangle(planes, axis=2) if a == 2 else planes
        weighted = _triangle(weighted, axis=3)
        if libjpeg:
            even, odd = _UP_BIAS[a, b]
            weighted[..., 0::2] += even
            weighted[..., 1::2] += odd
        weighted /= 16 if a == 2 else 4
        return np.floor(weighted, out=weighted) if libjpeg else weighted


def _triangle(x, axis):
    """Double ``x`` along ``axis``: ``3 x[i] + x[i - 1]``, ``3 x[i] + x[i + 1]``, edges kept."""

    def along(part):
        index = [slice(None)] * x.ndim
        index[axis] = part
        return tuple(index)

    before = np.concatenate([x[along(slice(0, 1))], x[along(slice(0, -1))]], axis=axis)
    after = np.concatenate([x[along(slice(1, None))], x[along(slice(-1, None))]], axis=axis)
    shape = list(x.shape)
    shape[axis] *= 2
    out = np.empty(shape, dtype=x.dtype)
    near = 3 * x
    np.add(near, before, out=out[along(slice(0, None, 2))])
    np.add(near, after, out=out[along(slice(1, None, 2))])
    return out


def _mid_level(dtype, structure):
    """Middle of the samples' range: 2 ** (bits - 1) for unsigned integers, else the input's."""
    if dtype is not None and np.dtype(dtype).kind == "u":
        return float(2 ** (8 * np.dtype(dtype).itemsize - 1))
    return None if structure is None else structure.mid_level


def _emit_input(step, out):
    """``out`` (signals of the fitted shape) in the layout of the step's own input."""
    structure = step.input_structure_
    if structure is None:
        return out
    return structure.emit(out.reshape(len(out), *structure.grid, structure.depth, structure.k))


def _add_per_channel(pixels, values, width):
    """``pixels + values`` for ``(m, 3)`` pixels of images ``width`` pixels wide.

    Adds in place when ``pixels`` is C-contiguous (the caller's array is consumed).
    """
    rows = contiguous(pixels).reshape(-1, 3 * width)
    rows += asarray(np.tile(values, width), like=rows, dtype="like")  # long rows: fast
    return rows.reshape(-1, 3)


def _pad(x, pads):
    return np.pad(x, pads, mode="edge") if any(p for _, p in pads) else x


def _positions(spatial):
    """Names of the positions of a 1-D or 2-D grid, row-major."""
    if len(spatial) == 1:
        return [f"s{i}" for i in range(spatial[0])]
    return [f"r{i}_c{j}" for i in range(spatial[0]) for j in range(spatial[1])]


def _check_colour_images(estimator, setting):
    shape = estimator.signal_shape_
    if len(shape) != 3 or shape[2] != 3:
        name = type(estimator).__name__
        raise ValueError(
            f"{name}({setting}) expects channels-last colour images of shape (n_samples, "
            f"height, width, 3), or rows flattened from them with signal_shape=(height, "
            f"width, 3); got signals of shape {shape}."
        )


def _check_integers(estimator, X, setting):
    if not np.array_equal(X, np.floor(X)):
        raise ValueError(
            f"{type(estimator).__name__}({setting}) works on integer samples; X has "
            "non-integer values."
        )


def _check_8bit(estimator, X):
    _check_integers(estimator, X, "method='libjpeg'")
    low, high = X.min(), X.max()
    if low < 0 or high > 255:
        raise ValueError(
            f"{type(estimator).__name__}(method='libjpeg') works on 8-bit samples in "
            f"[0, 255]; X has values in [{low:g}, {high:g}]."
        )


def _libjpeg_ycc_to_rgb(pixels):
    """jdcolor.c's YCbCr -> RGB of ``(m, 3)`` samples, rounded and clipped to 8 bits."""
    y, cb, cr = np.ascontiguousarray(np.clip(np.floor(pixels.astype(np.float64) + 0.5), 0, 255).T)
    cb, cr = cb - 128, cr - 128
    scale = 1 << 16
    red = y + np.floor((_fix(1.402) * cr + _HALF) / scale)
    green = y + np.floor((-_fix(0.34414) * cb + _HALF - _fix(0.71414) * cr) / scale)
    blue = y + np.floor((_fix(1.772) * cb + _HALF) / scale)
    return np.clip(np.stack([red, green, blue], axis=1), 0, 255)
