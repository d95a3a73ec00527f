"""JPEG 2000 as one scikit-learn step: pixels to the symbols of its EBCOT block coder."""

import struct
import zlib
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._core._chunks import as_output_dtype
from .._core._contract import check_input_features, check_signals
from .._core._docs import DTYPE_PARAMETER, fill_doc
from .._core._estimator import PublicEstimatorMixin, unfitted_on_error
from .._core._structure import Structure, read_structure, refuse, with_structure
from ..entropy._coder import read_varint, varint
from ..transforms._color import _YCBCR, _YCBCR_INVERSE
from ._ebcot import (
    all_passes,
    decode_blocks,
    encode_blocks,
    pack_table,
    read_table,
    truncated_lengths,
    truncation,
)
from ._ebcot_kernel import dwt as _kernel_dwt
from ._ebcot_kernel import pixels as _kernel_pixels
from ._image_rate import image_rate

#: First byte of a bitstream of this codec (format 2, kind 10).
_FORMAT = 0x2A
# CDF 9/7 lifting (ISO/IEC 15444-1, Table F.4): alpha, beta, gamma, delta and K.
_ALPHA, _BETA = -1.586134342059924, -0.052980118572961
_GAMMA, _DELTA = 0.882911075530934, 0.443506852043971
_K = 1.230174104914001
_NAME = "JPEG2000Codec"


class JPEG2000Codec(TransformerMixin, PublicEstimatorMixin, BaseEstimator):
    """JPEG 2000 (Part 1) as one transformer: 8-bit images to block-coded wavelet symbols.

    The steps of a JPEG 2000 encoder, each as the standard defines it:

    * level shift by 128; colour images ``(n, H, W, 3)`` (RGB) through the
      irreversible component transform (ICT, YCbCr) or, with ``"cdf53"``, the
      reversible one (RCT, integers);
    * ``levels`` of the separable 2-D wavelet transform by lifting, with
      whole-sample symmetric extension, critically sampled (every subband of
      ``ceil`` / ``floor`` half the size, Annex F): the irreversible CDF 9/7
      (``wavelet="cdf97"``) or the reversible integer 5/3 (``"cdf53"``);
    * deadzone scalar quantization (9/7): index ``floor(|c| / step_b)`` with
      the sign of ``c``; every subband's step is ``base_step / norm_b``, where
      ``norm_b`` is the L2 norm of the subband's synthesis basis function, so
      that one base step costs every subband about the same squared error
      (the weighting of OpenJPEG's ``opj_dwt_calc_explicit_stepsizes``). The
      5/3 path codes the integer coefficients themselves (lossless);
    * EBCOT's block coder (Annex D): subbands cut into ``code_block`` x
      ``code_block`` code blocks, each coded bit-plane by bit-plane in
      three passes (significance propagation, magnitude refinement,
      cleanup) with the MQ arithmetic coder (Annex C) and its 19 contexts
      (significance from the 8 neighbours by subband orientation, sign with
      the XOR bit, refinement, run-length and uniform);
    * rate control to ``bits_per_pixel``: post-compression
      rate-distortion optimisation (PCRD), every block's passes truncated
      where the slope of its convex hull meets one threshold, bisected per
      image to the largest size that fits.

    **Symbols.** :meth:`transform` returns, per image, what the decoder
    recovers of every wavelet coefficient, in WaveletTransform's order
    (channel, then subband ``L<levels>_LL``, then ``L<j>_HL``, ``L<j>_LH``,
    ``L<j>_HH`` from the coarsest level ``j`` to 1, then row-major
    position): with ``"cdf97"``, the coefficient in half steps of its
    subband, ``sign * (2 m + 2**p)`` where ``m`` is the magnitude of the
    quantization index known down to bit-plane ``p`` (``p = 0``: the whole
    index ``q``, symbol ``2 q + 1``; ``p > 0`` where rate control truncated
    the block; 0 for a coefficient that stayed insignificant), which is the
    reconstruction at the middle of the interval the decoded bits leave;
    with ``"cdf53"``, the integer coefficient itself. :meth:`inverse_transform`
    reconstructs the images from them, and ``decompress(compress(X))``
    equals ``inverse_transform(transform(X))``.

    **Bitstreams.** :meth:`compress` writes, per image, a stream of
    skcompress's own (not a ``.j2k`` codestream): the byte ``0x2A``; the
    height, width, channels, a flag byte (1: reversible), ``levels`` and
    ``log2(code_block)`` as varints; the base step as a float32 (9/7); a
    table of the code blocks in the order above (per block its number of
    passes, one byte; then for the blocks with passes their bit-planes, one
    byte, and codeword length, a varint); the codewords; a CRC-32 of all
    before it. :meth:`decompress` refuses a stream whose header does not
    match this codec's settings and image size, or whose table or checksum
    does not hold, with a ValueError, before decoding anything.

    Parameters
    ----------
    bits_per_pixel : float > 0 or None, default=None
        Target bits per pixel (``8 * bytes / (H * W)``, all channels and
        the header included). None codes every bit-plane at ``base_step``
        (or losslessly with ``"cdf53"``).
    base_step : float > 0 or None, default=None
        Quantization step of a subband of synthesis norm 1, in 8-bit sample
        units (9/7 only). None: 1 with ``bits_per_pixel`` (OpenJPEG's steps,
        ``1 / norm_b``: rate control truncates the bit-planes, and a finer
        step only costs encoding time), 8 without.
    wavelet : {"cdf97", "cdf53"}, default="cdf97"
        The irreversible 9/7 with the ICT, or the reversible 5/3 with the
        RCT (lossless; ``bits_per_pixel`` and ``base_step`` must then be None).
    levels : int >= 1, default=5
        Decomposition levels (OpenJPEG's default: 6 resolutions). Every
        level needs at least 2 samples along each axis: at most
        ``ceil(log2(min(H, W)))``.
    code_block : int, default=64
        Side of the code blocks, a power of two from 4 to 64.
    signal_shape : tuple of int or None, default=None
        ``(H, W)`` or ``(H, W, 3)`` when the images arrive as flattened rows.
        Without it, 2-D input is read as gray images one pixel high (rows of
        ``n_features`` pixels), whose vertical axis is not transformed.
    {dtype_parameter}

    Attributes
    ----------
    signal_shape_ : tuple of int
        Shape of one image.
    n_features_in_ : int
        Pixels (times channels) per image.
    subbands_ : tuple of str
        Subband names in output order, as :class:`~skcompress.WaveletTransform`
        names them.
    subband_shapes_ : tuple of (int, int)
        Rows and columns of each subband.
    subband_norms_ : ndarray of float64, shape (n_subbands,)
        L2 norm of each subband's synthesis basis function.
    subband_steps_ : ndarray of float64, shape (n_subbands,)
        Quantization step of each subband (1 for the reversible path).
    n_code_blocks_ : int
        Code blocks per image (all channels).
    n_features_out_ : int
        Symbols per image: ``H * W * channels``.

    See Also
    --------
    skcompress.WaveletTransform : the wavelet transform alone (PyWavelets).
    skcompress.codecs.JPEGCodec : baseline JPEG as one step.

    Notes
    -----
    Left out of the standard: tiles, precincts and quality layers (one
    layer of all kept passes); the codestream syntax and its packet headers
    (tag trees), replaced by the table above; the optional block-coder modes
    (arithmetic bypass, context reset, termination per pass, vertically
    causal stripes); regions of interest. The MQ coder, its context tables
    and the passes are the standard's, so a block's codeword is what a
    JPEG 2000 encoder writes for the same coefficients in the default mode.

    Examples
    --------
    >>> import numpy as np
    >>> from skcompress import JPEG2000Codec
    >>> y, x = np.mgrid[:40, :50]
    >>> rgb = np.stack([4 * x, 5 * y, 2 * (x + y)], axis=-1).astype(np.uint8)[None]
    >>> lossless = JPEG2000Codec(wavelet="cdf53", levels=3).fit(rgb)
    >>> streams = lossless.compress(rgb)
    >>> bool(np.array_equal(lossless.decompress(streams), rgb))
    True
    >>> codec = JPEG2000Codec(1.0, levels=3).fit(rgb)
    >>> symbols = codec.transform(rgb)
    >>> symbols.shape, symbols.structure.kind
    ((1, 6000), 'subbands')
    >>> codec.subbands_[:4]
    ('L3_LL', 'L3_HL', 'L3_LH', 'L3_HH')
    >>> codec.rate(rgb)["bits_per_pixel"] <= 1.0
    True
    >>> np.array_equal(codec.decompress(codec.compress(rgb)), codec.inverse_transform(symbols))
    True
    """

    _parameter_constraints = {
        "bits_per_pixel": [Interval(Real, 0, None, closed="neither"), None],
        "base_step": [Interval(Real, 0, None, closed="neither"), None],
        "wavelet": [StrOptions({"cdf97", "cdf53"})],
        "levels": [Interval(Integral, 1, None, closed="left")],
        "code_block": [Interval(Integral, 4, 64, closed="both")],
        "signal_shape": [tuple, list, None],
        "dtype": "no_validation",  # checked when used
    }

    def __init__(
        self,
        bits_per_pixel=None,
        *,
        base_step=None,
        wavelet="cdf97",
        levels=5,
        code_block=64,
        signal_shape=None,
        dtype=None,
    ):
        self.bits_per_pixel = bits_per_pixel
        self.base_step = base_step
        self.wavelet = wavelet
        self.levels = levels
        self.code_block = code_block
        self.signal_shape = signal_shape
        self.dtype = dtype

    # -- fitting -------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    @unfitted_on_error
    def fit(self, X, y=None):
        """Record the image shape and lay out the subbands, steps and code blocks.

        Parameters
        ----------
        X : array-like of shape (n_samples, H, W) or (n_samples, H, W, 3)
            8-bit gray or RGB images: samples from 0 to 255, integers for
            ``"cdf53"`` (the 9/7 codes real values in that range as they are).
        y : None
            Ignored.

        Returns
        -------
        self : JPEG2000Codec
        """
        self._check_settings()
        X = self._images(X, reset=True)
        H, W = X.shape[1:3]
        for axis, size in (("height", H), ("width", W)):
            most = int(np.ceil(np.log2(size)))
            if size > 1 and self.levels > most:
                raise ValueError(
                    f"{_NAME}: levels={self.levels} is too many for images of {H} x {W}: every "
                    f"level needs 2 samples along each axis longer than 1, so the {axis} "
                    f"{size} allows at most levels={most}."
                )
        self._layout(H, W)
        return self

    def _check_settings(self):
        cb = int(self.code_block)
        if cb not in (4, 8, 16, 32, 64):
            raise ValueError(
                f"{_NAME}: code_block must be a power of two from 4 to 64; got "
                f"{self.code_block!r}."
            )
        if self.wavelet == "cdf53" and (
            self.bits_per_pixel is not None or self.base_step is not None
        ):
            raise ValueError(
                f"{_NAME}: wavelet='cdf53' is the reversible (lossless) path; bits_per_pixel and "
                f"base_step must be None with it (got bits_per_pixel={self.bits_per_pixel!r}, "
                f"base_step={self.base_step!r}). Use wavelet='cdf97' for lossy coding."
            )

    def _layout(self, H, W):
        L, cb = self.levels, int(self.code_block)
        heights, widths = [H], [W]
        for _ in range(L):
            heights.append(-(-heights[-1] // 2))
            widths.append(-(-widths[-1] // 2))
        # (name, orientation, row0, col0, rows, cols) in WaveletTransform's order
        bands = [(f"L{L}_LL", 0, 0, 0, heights[L], widths[L])]
        for j in range(L, 0, -1):
            h0, w0, h1, w1 = heights[j - 1], widths[j - 1], heights[j], widths[j]
            bands += [
                (f"L{j}_HL", 1, 0, w1, h1, w0 - w1),
                (f"L{j}_LH", 2, h1, 0, h0 - h1, w1),
                (f"L{j}_HH", 3, h1, w1, h0 - h1, w0 - w1),
            ]
        self.subbands_ = tuple(b[0] for b in bands)
        self.subband_shapes_ = tuple((b[4], b[5]) for b in bands)
        reversible = self.wavelet == "cdf53"
        low, high = _synthesis_norms(L, reversible)
        norms = []
        for name, orient, *_ in bands:
            j = int(name[1 : name.index("_")])
            # an axis of one sample is not transformed (Annex F: the identity)
            vertical = 1.0 if H == 1 else high[j - 1] if orient in (2, 3) else low[j - 1]
            horizontal = 1.0 if W == 1 else high[j - 1] if orient in (1, 3) else low[j - 1]
            norms.append(vertical * horizontal)
        self.subband_norms_ = np.asarray(norms)
        if reversible:
            self.base_step_ = 1.0
            self.subband_steps_ = np.ones(len(bands))
        else:
            base = self.base_step
            if base is None:
                base = 1.0 if self.bits_per_pixel is not None else 8.0
            self.base_step_ = float(np.float32(base))
            self.subband_steps_ = self.base_step_ / self.subband_norms_
        step_map = np.empty((H, W))
        gather, blocks, weights = [], [], []
        C = self._channels
        for (_, orient, r0, c0, rows, cols), step, norm in zip(
            bands, self.subband_steps_, self.subband_norms_, strict=True
        ):
            step_map[r0 : r0 + rows, c0 : c0 + cols] = step
            gather.append(
                (np.arange(r0, r0 + rows)[:, None] * W + np.arange(c0, c0 + cols)).ravel()
            )
            for y in range(0, rows, cb):
                for x in range(0, cols, cb):
                    blocks.append([r0 + y, c0 + x, min(cb, rows - y), min(cb, cols - x), orient])
                    weights.append((norm * step) ** 2)
        self._step_map_ = step_map
        gather = np.concatenate(gather)
        self._gather_ = np.concatenate([gather + c * H * W for c in range(C)])
        blocks, weights = np.asarray(blocks, dtype=np.int32), np.asarray(weights)
        # squared error in RGB of a unit error in each component (OpenJPEG's MCT norms)
        if C == 3:
            inverse = (
                _YCBCR_INVERSE
                if not reversible
                else np.array([[1, -0.25, 0.75], [1, -0.25, -0.25], [1, 0.75, -0.25]])
            )
            channel_weights = (inverse**2).sum(axis=0)
        else:
            channel_weights = np.ones(1)
        self._blocks_ = np.concatenate(
            [np.column_stack([np.full(len(blocks), c), blocks]) for c in range(C)]
        ).astype(np.int32)
        self._weights_ = np.concatenate([weights * w for w in channel_weights])
        self.n_code_blocks_ = len(self._blocks_)
        self.n_features_out_ = C * H * W

    # -- the steps -------------------------------------------------------------

    def transform(self, X):
        """The decoder's wavelet coefficients of every image (see Symbols, above).

        Parameters
        ----------
        X : array-like
            8-bit images of the shape seen at ``fit``.

        Returns
        -------
        symbols : ndarray of int32, shape (n_samples, n_features_out_)
            Channel, subband, position; kind "subbands" in ``.structure``.
        """
        check_is_fitted(self)
        coded = self._encode(self._images(X, reset=False))
        planes = self._decode_planes(*coded[:5])
        symbols = planes.reshape(len(planes) // self._channels, -1)[:, self._gather_]
        return as_output_dtype(self, with_structure(symbols, self.output_structure_))

    def inverse_transform(self, X):
        """Images from symbols: dequantize, inverse wavelet and colour transforms, +128.

        Parameters
        ----------
        X : array-like of int, shape (n_samples, n_features_out_)
            Symbols as :meth:`transform` returns them.

        Returns
        -------
        images : ndarray of float64, shape (n_samples, *signal_shape_)
            Integers from 0 to 255.
        """
        check_is_fitted(self)
        symbols = np.asarray(X)
        if symbols.ndim != 2 or symbols.shape[1] != self.n_features_out_:
            raise ValueError(
                f"{_NAME}.inverse_transform expects symbols of shape (n_samples, "
                f"{self.n_features_out_}); got {symbols.shape}."
            )
        if symbols.dtype.kind not in "iuf" or not np.isfinite(symbols).all():
            raise ValueError(f"{_NAME}.inverse_transform expects finite integer symbols.")
        n, C = len(symbols), self._channels
        H, W = self._spatial
        planes = np.empty((n, C * H * W), dtype=np.int64)
        planes[:, self._gather_] = symbols
        return self._pixels(planes.reshape(n * C, H, W))

    # -- bitstreams ------------------------------------------------------------

    def compress(self, X):
        """One bitstream per image (see Bitstreams, above).

        Parameters
        ----------
        X : array-like
            8-bit images of the shape seen at ``fit``.

        Returns
        -------
        strings : list of bytes
        """
        check_is_fitted(self)
        data, offsets, nplanes, npasses, lengths = self._encode(self._images(X, reset=False))
        head = self._header()
        B = self.n_code_blocks_
        npasses, nplanes, lengths = (
            a.reshape(-1, B) for a in (npasses, nplanes, lengths)
        )  # fmt: skip
        payload = np.frombuffer(data, dtype=np.uint8)
        kept = payload[_ranges(offsets[:-1], lengths.reshape(-1), len(payload))]
        bounds = np.concatenate([[0], np.cumsum(lengths.sum(axis=1))])
        strings = []
        for i in range(len(npasses)):  # one stream per image
            codewords = kept[bounds[i] : bounds[i + 1]].tobytes()
            body = head + pack_table(npasses[i], nplanes[i], lengths[i]) + codewords
            strings.append(body + zlib.crc32(body).to_bytes(4, "little"))
        return strings

    def decompress_symbols(self, strings):
        """The symbols that bitstreams of this codec hold, as :meth:`transform` returns them.

        Parameters
        ----------
        strings : list of bytes
            From :meth:`compress`.

        Returns
        -------
        symbols : ndarray of int32, shape (n_samples, n_features_out_)
        """
        check_is_fitted(self)
        planes = self._read(strings)
        symbols = planes.reshape(len(planes) // self._channels, -1)[:, self._gather_]
        return with_structure(symbols, self.output_structure_)

    def decompress(self, strings):
        """Images from bitstreams of this codec.

        Parameters
        ----------
        strings : list of bytes
            From :meth:`compress`.

        Returns
        -------
        images : ndarray of float64, shape (n_samples, *signal_shape_)
            ``inverse_transform(transform(X))`` for the images coded.
        """
        check_is_fitted(self)
        planes = self._read(strings)
        if not len(planes):
            return np.zeros((0, *self.signal_shape_))
        return self._pixels(planes)

    def rate(self, X):
        """What the bitstreams of ``X`` (:meth:`compress`) cost, measured on their bytes.

        Parameters
        ----------
        X : array-like
            8-bit images of the shape seen at ``fit``.

        Returns
        -------
        rate : dict
            ``bits_per_sample`` (mean bits of a stream, header included),
            ``bits_per_pixel`` and its synonym ``bits_per_value`` (the same
            over ``H * W``, whatever the channels).
        """
        return image_rate(self.compress(X), self._spatial)

    def get_feature_names_out(self, input_features=None):
        """Names of the symbols: channel, subband, row and column, e.g. ``Y_L5_LL_r0_c0``.

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
        names = [
            f"{name}_r{r}_c{c}"
            for name, (rows, cols) in zip(self.subbands_, self.subband_shapes_, strict=True)
            for r in range(rows)
            for c in range(cols)
        ]
        channels = self._channel_names
        if len(channels) == 1:
            return np.asarray(names, dtype=object)
        return np.asarray([f"{ch}_{n}" for ch in channels for n in names], dtype=object)

    @property
    def output_structure_(self):
        """:class:`~skcompress._core._structure.Structure` of :meth:`transform`'s output.

        Kind "subbands", quantized, "flat": channels, then subbands, then
        positions, as :class:`~skcompress.WaveletTransform` orders them.
        """
        check_is_fitted(self)
        return Structure(
            "subbands",
            _NAME,
            (),
            1,
            self.n_features_out_,
            "flat",
            self._channel_names,
            image_shape=tuple(self._spatial),
            quantized=True,
            settings=(
                ("wavelet", self.wavelet),
                ("level", self.levels),
                ("mode", "jpeg2000"),
                ("code_block", int(self.code_block)),
            ),
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = []  # emits integer symbols
        tags.input_tags.positive_only = True  # 8-bit samples
        return tags

    @classmethod
    def get_test_params(cls):
        """Parameter sets for the common checks: at a rate, and at a base step.

        Both 9/7: the common checks fit on real-valued samples, which the
        reversible 5/3 refuses.

        Returns
        -------
        params : list of dict
        """
        return [
            {"bits_per_pixel": 2.0, "levels": 1, "code_block": 8},
            {"base_step": 4.0, "levels": 1},
        ]

    # -- helpers ---------------------------------------------------------------

    @property
    def _spatial(self):
        shape = self.signal_shape_
        return (1, shape[0]) if len(shape) == 1 else tuple(shape[:2])

    @property
    def _channels(self):
        return 3 if len(self.signal_shape_) == 3 else 1

    @property
    def _channel_names(self):
        if self._channels == 1:
            return ("gray",)
        return ("Y", "U", "V") if self.wavelet == "cdf53" else ("Y", "Cb", "Cr")

    def _images(self, X, reset):
        """Checked 8-bit images ``(n, H, W)`` or ``(n, H, W, 3)``, as float64 or uint8."""
        structure = read_structure(self, X, reset=reset)
        if structure is not None:
            raise refuse(
                _NAME,
                structure,
                "8-bit images, gray (n_samples, H, W) or RGB (n_samples, H, W, 3)",
                "It transforms the colours and the wavelets itself: give it the pixels.",
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
                f"{_NAME} takes gray images (n_samples, H, W) or RGB images (n_samples, H, W, "
                f"3); got images of shape {shape} ({shape[2]} channels)."
            )
        if X.dtype != np.uint8:
            low, high = X.min(), X.max()
            if low < 0:
                raise ValueError(
                    f"Negative values in data passed to {_NAME}: X must hold 8-bit samples, "
                    f"from 0 to 255; got values from {low!r} to {high!r}. Pass it the pixels, "
                    "not a transform's output."
                )
            if high > 255:
                raise ValueError(
                    f"{_NAME} codes 8-bit samples: X must hold values from 0 to 255; got values "
                    f"up to {high!r}. Scale higher bit depths to 8 bits first."
                )
            if self.wavelet == "cdf53" and (X != np.floor(X)).any():
                raise ValueError(
                    f"{_NAME} with wavelet='cdf53' codes integers losslessly: X must hold "
                    "integers from 0 to 255; got fractional values. Round them, or use "
                    "wavelet='cdf97'."
                )
        if len(shape) == 1:  # rows: images one pixel high
            X = X.reshape(len(X), 1, shape[0])
        return X

    def _planes(self, X):
        """Level-shifted, colour-transformed planes ``(n * C, H, W)``."""
        n = len(X)
        H, W = self._spatial
        if self.wavelet == "cdf53":
            x = X.astype(np.int32) - 128
            if self._channels == 3:
                R, G, B = x[..., 0], x[..., 1], x[..., 2]
                x = np.stack([(R + 2 * G + B) >> 2, B - G, R - G], axis=1)
        else:
            x = X.astype(np.float64) - 128.0
            if self._channels == 3:
                x = np.moveaxis(x @ _YCBCR.T, -1, 1)
        return np.ascontiguousarray(x).reshape(n * self._channels, H, W)

    def _encode(self, X):
        """Code the images; returns the codewords and, per block, what to keep of them."""
        reversible = self.wavelet == "cdf53"
        planes = _transform(self._planes(X), self.levels, reversible, inverse=False)
        values = planes / self._step_map_ if not reversible else planes.astype(np.float64)
        n = len(X)
        P, H, W = values.shape
        nb = self.n_code_blocks_
        blocks = np.tile(self._blocks_, (P // self._channels, 1))
        blocks[:, 0] += np.repeat(np.arange(0, P, self._channels, dtype=np.int32), nb)
        data, offsets, nplanes, rates, dists = encode_blocks(
            values, blocks, np.tile(self._weights_, n)
        )
        if self.bits_per_pixel is None:
            npasses = all_passes(nplanes)
        else:
            header = len(self._header()) + 4
            budget = np.full(n, np.floor(self.bits_per_pixel * H * W / 8) - header)
            npasses = truncation(
                rates.reshape(n, nb, -1), dists.reshape(n, nb, -1), nplanes.reshape(n, nb), budget
            ).reshape(-1)
        lengths = truncated_lengths(rates, npasses)
        return data, offsets, nplanes, npasses, lengths

    def _decode_planes(self, data, offsets, nplanes, npasses, lengths):
        """Decode the kept passes of the codewords of :meth:`_encode`."""
        payload = np.frombuffer(data, dtype=np.uint8)
        kept = payload[_ranges(offsets[:-1], lengths, len(payload))].tobytes()
        return self._decode_kept(
            kept, nplanes, npasses, lengths, len(nplanes) // self.n_code_blocks_
        )

    def _decode_kept(self, kept, nplanes, npasses, lengths, n):
        H, W = self._spatial
        nb = self.n_code_blocks_
        blocks = np.tile(self._blocks_, (n, 1))
        blocks[:, 0] += np.repeat(np.arange(0, n * self._channels, self._channels), nb).astype(
            np.int32
        )
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        return decode_blocks(
            kept,
            (n * self._channels, H, W),
            blocks,
            nplanes,
            npasses,
            offsets,
            self.wavelet == "cdf53",
        )

    def _pixels(self, planes):
        """Images from decoded planes ``(n * C, H, W)`` of symbols."""
        reversible = self.wavelet == "cdf53"
        if reversible:
            x = _transform(planes, self.levels, True, inverse=True)
        else:
            x = planes * (self._step_map_ / 2)
            _kernel_dwt(x, *x.shape, self.levels, 0, 1)
        n, C = len(x) // self._channels, self._channels
        H, W = self._spatial
        out = np.empty((n, *self.signal_shape_))
        _kernel_pixels(x, n, C, H, W, _YCBCR_INVERSE, out, int(reversible))
        return out

    def _header(self):
        H, W = self._spatial
        fields = [H, W, self._channels, int(self.wavelet == "cdf53"), self.levels]
        fields.append(int(self.code_block).bit_length() - 1)
        head = bytes([_FORMAT]) + b"".join(varint(f) for f in fields)
        if self.wavelet == "cdf97":
            head += struct.pack("<f", self.base_step_)
        return head

    def _read(self, strings):
        """Checked streams to decoded planes ``(n * C, H, W)``."""
        name = f"{_NAME}.decompress"
        if isinstance(strings, (bytes, bytearray, memoryview)):
            raise TypeError(
                f"{name} expects a list of bitstreams (one per image); got a single bytes "
                "object. Wrap it in a list."
            )
        strings = list(strings)
        head, nb = self._header(), self.n_code_blocks_
        tables, payloads = [], []
        for i, data in enumerate(strings):  # one stream per image
            if not isinstance(data, (bytes, bytearray, memoryview)):
                raise TypeError(
                    f"{name} expects bitstreams as bytes; got {type(data).__name__} at index {i}."
                )
            data = bytes(data)
            if len(data) < len(head) + 4 or zlib.crc32(data[:-4]) != int.from_bytes(
                data[-4:], "little"
            ):
                raise ValueError(
                    f"{name}: stream {i} ({len(data)} bytes) fails its checksum: it is truncated "
                    "or corrupted, or not a stream of this codec."
                )
            body = data[:-4]
            if body[: len(head)] != head:
                raise ValueError(
                    f"{name}: stream {i} was written with other settings or for another image "
                    f"size than this codec's ({self._describe(body)}; this codec: "
                    f"{self._describe(head)})."
                )
            npasses, nplanes, lengths, at = read_table(body, len(head), nb, f"{name}: stream {i}")
            if int(lengths.sum()) != len(body) - at:
                raise ValueError(
                    f"{name}: stream {i} declares {int(lengths.sum())} bytes of codewords and "
                    f"holds {len(body) - at}."
                )
            tables.append((npasses, nplanes, lengths))
            payloads.append(body[at:])
        if not strings:
            H, W = self._spatial
            return np.zeros((0, H, W), dtype=np.int32)
        npasses, nplanes, lengths = (np.concatenate(t) for t in zip(*tables, strict=True))
        return self._decode_kept(b"".join(payloads), nplanes, npasses, lengths, len(strings))

    def _describe(self, body):
        """The settings a stream's header declares, for messages."""
        try:
            if body[0] != _FORMAT:
                return f"first byte {body[0]:#04x}, not {_FORMAT:#04x}"
            fields, at = [], 1
            for _ in range(6):
                value, at = read_varint(body, at, _NAME)
                fields.append(value)
        except (ValueError, IndexError):
            return "an unreadable header"
        H, W, C, rev, levels, cb = fields
        return (
            f"{H} x {W}, {C} channels, {'cdf53' if rev else 'cdf97'}, levels={levels}, "
            f"code_block={1 << min(cb, 62)}"
        )


def _ranges(starts, lengths, size):
    """Boolean mask of ``size`` bytes: the ranges ``[start, start + length)``, in order."""
    delta = np.bincount(starts, minlength=size + 1) - np.bincount(
        starts + lengths, minlength=size + 1
    )
    return np.cumsum(delta[:size]) > 0


# -- the wavelet transform (Annex F) ----------------------------------------------------


def _transform(planes, levels, reversible, inverse):
    """The compiled transform of ``(P, H, W)`` planes (float64 9/7, int32 5/3), a copy."""
    out = np.array(planes, dtype=np.int32 if reversible else np.float64, order="C", copy=True)
    _kernel_dwt(out, *out.shape, levels, int(reversible), int(inverse))
    return out


# The same in numpy, one axis at a time: the reference of the compiled one, and the
# synthesis of the subbands' basis functions (their norms).


def _next(e, m):
    """``e[n + 1]`` for ``n < m``, mirrored past the end (whole-sample symmetry)."""
    if e.shape[-1] > m:
        return e[..., 1 : m + 1]
    return np.concatenate([e[..., 1:], e[..., -1:]], axis=-1)


def _prev(o, m):
    """``o[n - 1]`` for ``n < m``, ``o[-1] = o[0]``."""
    return np.concatenate([o[..., :1], o[..., : m - 1]], axis=-1)


def _here(o, m):
    """``o[n]`` for ``n < m``, mirrored past the end."""
    if o.shape[-1] == m:
        return o
    return np.concatenate([o, o[..., -1:]], axis=-1)


def _analysis(x, reversible):
    """One level along the last axis: low band, then high band."""
    e, o = x[..., 0::2].copy(), x[..., 1::2].copy()
    m, k = e.shape[-1], o.shape[-1]
    if reversible:
        o -= (e[..., :k] + _next(e, k)) >> 1
        e += (_prev(o, m) + _here(o, m) + 2) >> 2
        return np.concatenate([e, o], axis=-1)
    for a, b in ((_ALPHA, _BETA), (_GAMMA, _DELTA)):
        o += a * (e[..., :k] + _next(e, k))
        e += b * (_prev(o, m) + _here(o, m))
    return np.concatenate([e / _K, o * _K], axis=-1)


def _synthesis(y, reversible):
    """Inverse of :func:`_analysis` along the last axis."""
    N = y.shape[-1]
    m = (N + 1) // 2
    k = N - m
    if reversible:
        e, o = y[..., :m].copy(), y[..., m:].copy()
        e -= (_prev(o, m) + _here(o, m) + 2) >> 2
        o += (e[..., :k] + _next(e, k)) >> 1
    else:
        e, o = y[..., :m] * _K, y[..., m:] / _K
        for a, b in ((_GAMMA, _DELTA), (_ALPHA, _BETA)):
            e -= b * (_prev(o, m) + _here(o, m))
            o -= a * (e[..., :k] + _next(e, k))
    x = np.empty(y.shape, dtype=e.dtype)
    x[..., 0::2], x[..., 1::2] = e, o
    return x


def _dwt(planes, levels, reversible):
    """``levels`` of the 2-D transform of ``(P, H, W)`` planes, in the Mallat layout."""
    out = planes.copy()
    h, w = out.shape[1:]
    for _ in range(levels):
        region = out[:, :h, :w]
        region = np.swapaxes(_analysis(np.swapaxes(region, 1, 2), reversible), 1, 2)
        out[:, :h, :w] = _analysis(region, reversible)
        h, w = -(-h // 2), -(-w // 2)
    return out


def _idwt(planes, levels, reversible):
    """Inverse of :func:`_dwt`."""
    out = planes.copy()
    H, W = out.shape[1:]
    sizes = [(H, W)]
    for _ in range(levels - 1):
        sizes.append((-(-sizes[-1][0] // 2), -(-sizes[-1][1] // 2)))
    for h, w in reversed(sizes):
        region = _synthesis(out[:, :h, :w], reversible)
        out[:, :h, :w] = np.swapaxes(_synthesis(np.swapaxes(region, 1, 2), reversible), 1, 2)
    return out


def _synthesis_norms(levels, reversible):
    """L2 norms of the 1-D synthesis basis functions of the low and high band of each level.

    Measured by synthesizing a unit impulse in the middle of the band, far from
    the borders (floating point lifting, also for the 5/3).
    """
    N = 1 << (levels + 5)
    low, high = [], []
    for j in range(1, levels + 1):
        for band, norms in ((0, low), (1, high)):
            size = N >> (j - 1)  # length of the level-j input
            y = np.zeros((1, N))
            start = 0 if band == 0 else size // 2
            y[0, start + size // 4] = 1.0
            for s in range(j, 0, -1):
                n_s = N >> (s - 1)
                y[:, :n_s] = (
                    _synthesis(y[:, :n_s], False)
                    if not reversible
                    else _synthesis_float53(y[:, :n_s])
                )
            norms.append(float(np.sqrt((y**2).sum())))
    return np.asarray(low), np.asarray(high)


def _synthesis_float53(y):
    """The 5/3 synthesis without rounding (for its norms)."""
    N = y.shape[-1]
    m = (N + 1) // 2
    k = N - m
    e, o = y[..., :m].copy(), y[..., m:].copy()
    e -= (_prev(o, m) + _here(o, m)) / 4
    o += (e[..., :k] + _next(e, k)) / 2
    x = np.empty(y.shape)
    x[..., 0::2], x[..., 1::2] = e, o
    return x


JPEG2000Codec.__doc__ = fill_doc(JPEG2000Codec.__doc__, {"{dtype_parameter}": DTYPE_PARAMETER})
