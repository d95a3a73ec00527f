"""MPEG-1/2 Layer III's coding loops on MDCT frames, with skcompress's entropy models."""

from functools import lru_cache
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._core._chunks import as_output_dtype
from .._core._contract import check_input_features, check_signals
from .._core._docs import DTYPE_PARAMETER, fill_doc
from .._core._estimator import PublicEstimatorMixin, unfitted_on_error
from .._core._structure import Structure, refuse, structure_of, with_structure
from ..entropy import CategoricalEntropyModel, _coder
from ..transforms._psychoacoustic import _SFB_LONG, PsychoacousticModel

# ISO 11172-3 2.4.3.4.7.1: ix = nint(|xr / step| ** 0.75 - 0.0946), i.e. floor(... + 0.4054)
_ROUNDING = 0.4054
_IX_MAX = 8206  # big_values: 15 + 2**13 - 1 with linbits
_SF_MAX = 15  # 4-bit scale factors of the first bands
# |gain| beyond this dequantizes nothing finite (2 ** (gain / 4) leaves float64)
_GAIN_LIMIT = 4096
_TINY = 1e-30


class MP3Codec(TransformerMixin, PublicEstimatorMixin, BaseEstimator):
    """Layer III's quantization and coding loops: signals to bytes at a bit rate, and back.

    Every frame of an :class:`~skcompress.MDCT` (sine window, ``frame_length
    = 2 M``; 1152 gives MP3's 576-line granules), or of three short MDCTs
    (see Notes), is quantized as Layer III quantizes a granule (ISO/IEC
    11172-3, 2.4.3.4.7 and Annex C):

    - the power-law quantizer ``ix = floor(|x / D_b| ** 0.75 + 0.4054)``,
      dequantized as ``sign(ix) |ix| ** (4/3) D_b``;
    - steps ``D_b = 2 ** ((g - 2 sf_b) / 4)`` from a global gain ``g`` per
      frame and a scale factor ``sf_b`` in ``[0, 15]`` per scale-factor band
      (each step of ``sf_b`` lowers the band's noise by 3 dB,
      ``scalefac_scale = 0``);
    - the inner (rate) loop: per frame, the smallest ``g`` (finest steps)
      whose symbols fit the frame's bits, found by bisection, with ``|ix|
      <= 8206`` as in the standard;
    - the outer (distortion) loop: bands whose noise exceeds the allowed
      noise ``xmin_b`` (band width times :class:`PsychoacousticModel`'s
      ISO model 1 threshold) get their scale factor raised and the rate
      loop runs again, until no band is over, every band is amplified, a
      scale factor would pass 15, or ``max_iterations``; the frame keeps the
      best pass (fewest bands over, then least noise over);
    - the bits of a frame, by ``rate_control``: "cbr", Layer III's constant
      rate, ``bitrate * M / sample_rate`` bits per frame plus, with
      ``reservoir``, what the frames before it in the signal left unused
      (the bit reservoir), up to the standard's cap (4088 bits at MPEG-1
      rates, ``main_data_begin`` of 9 bits of bytes; 2040 at the others);
      "abr", an average rate per signal as LAME's ABR sets it: each frame
      gets what it costs with every line 0, and the rest of the signal's
      ``bitrate * M / sample_rate`` bits per frame is shared in proportion
      to the square root of the frames' perceptual entropy (what their
      lines cost at the mask, ``sum log2(1 + |x| / sqrt(12 T))``); what a
      frame leaves unused or overspends goes to the frames after it.

    The symbols of a frame are ``[block_type, g, sf_0, ..., sf_{B-1}, ix_0,
    ..., ix_{M-1}]`` (``ix`` signed). Two
    :class:`~skcompress.entropy.CategoricalEntropyModel` (one distribution
    per position; one for long, start and stop frames, one for short
    frames, whose lines have other statistics), learned at ``fit`` on the
    symbols that the loops produce, price them in the rate loop and
    range-code them in :meth:`compress`. Not Layer III's bitstream: no
    Huffman tables, no mixed blocks, no joint stereo, and the MDCT is
    applied to the signal directly (no polyphase filterbank; see Notes for
    the blocks). A bitstream is a header byte, the length in bytes of the
    long frames' part, a bit mask of the short frames, the two range-coded
    parts and a CRC-32.

    Parameters
    ----------
    bitrate : float, default=16.0
        Target rate in kbit/s of the coded frames: ``bitrate * M /
        sample_rate`` bits per frame. A signal of ``L`` samples has
        ``ceil(L / M) + 1`` frames (the MDCT's), so a little more than ``L /
        sample_rate`` seconds' worth; the bitstream's header, a few bytes
        per signal, comes on top.
    sample_rate : int, default=8000
        One of MP3's sampling rates: 8000, 11025, 12000, 16000, 22050,
        24000, 32000, 44100 or 48000 Hz.
    frame_length : int, default=1152
        MDCT frame length ``2 M`` (1152: MP3's granule of 576 lines).
    full_scale : float, default=1.0
        Amplitude of a full-scale sine (32768 for int16 samples), the 96 dB
        point of the psychoacoustic model.
    rate_control : {"abr", "cbr"}, default="abr"
        How frames share the bits: "abr", an average bit rate per signal
        with more bits where the perceptual entropy is higher (LAME's ABR);
        "cbr", Layer III's constant bits per frame, with the bit reservoir
        when ``reservoir``. Either way a signal costs at most ``frame_bits_
        * n_frames_`` bits, ``bitrate`` over the ``n_frames_ * M`` samples
        its frames cover (beyond the side information of its frames, see
        Notes).
    max_iterations : int, default=8
        Passes of the outer (distortion) loop.
    block_switching : bool, default=True
        Code a frame as three short blocks when they have the lower
        perceptual entropy (see Notes); ``frame_length`` must then be a
        multiple of 6. False: long blocks only (the MDCT of
        :class:`~skcompress.MDCT`, sine window).
    reservoir : bool, default=True
        With ``rate_control="cbr"``: lend the bits that a frame leaves
        unused to the frames after it in the same signal; False gives every
        frame the same budget. Ignored by "abr", which shares a signal's
        bits among its frames anyway.
    {dtype_parameter}

    Attributes
    ----------
    psychoacoustic_model_ : PsychoacousticModel
        The masking thresholds of long frames.
    short_model_ : PsychoacousticModel or None
        The masking thresholds of the short blocks (frames of
        ``frame_length / 3``); None without ``block_switching``.
    entropy_model_ : CategoricalEntropyModel
        Distributions of the ``2 + n_bands + M`` symbol positions of long,
        start and stop frames.
    short_entropy_model_ : CategoricalEntropyModel
        The same for short frames.
    band_edges_ : ndarray of int64
        Scale-factor band edges in MDCT bins.
    frame_bits_ : float
        Bits per frame at ``bitrate``: every frame's budget with "cbr", the
        average share with "abr".
    n_frames_ : int
        Frames per signal.
    n_features_in_ : int
        Samples per input signal.
    feature_names_in_ : ndarray of str
        Column names, when ``fit`` was given a DataFrame.

    See Also
    --------
    skcompress.transforms.PsychoacousticModel : The masking thresholds.
    skcompress.PerceptualQuantizer : ``table="masking"``: steps at the
        thresholds, without a rate target.

    Notes
    -----
    Block switching (``block_switching=True``), as Layer III's window
    switching with the MDCT alone. A short frame is three MDCTs of ``M /
    3`` lines on sine windows of ``2 M / 3`` samples at offsets ``M / 3``,
    ``2 M / 3`` and ``M`` in the frame, their lines interleaved (line ``j``
    of block ``b`` at ``3 j + b``) so that the frame's lines stay in
    frequency order under the long blocks' scale-factor bands. Each short
    block has its own thresholds, from a psychoacoustic model run on the
    short blocks (``short_model_``); a band's allowed noise is the sum over
    its lines. A frame goes short when its perceptual entropy as three
    short blocks (under their thresholds) is below that as one long block:
    psychoacoustic model 2's criterion, taken as a comparison instead of a
    fixed threshold. A long frame before a short one takes the start window
    (the long window's rising half, then ones, a short falling slope and
    zeros: ``M / 3`` samples each), one after it the stop window (its
    mirror), and a long frame between two short ones becomes short, so that
    the aliasing of every overlap cancels (TDAC) and decoding is exact. The
    block type (0 long, 1 start, 2 short, 3 stop) is the first symbol of
    each frame.

    Both psychoacoustic models use an FFT of the power of two nearest the
    hop ``M`` (512 for the 576-line granule; the standard's model uses 1024
    for long blocks and 256 for short ones at 44.1 kHz): at 8 kHz, where a
    granule is 72 ms, a 1024-point FFT spreads a word's onset over 128 ms,
    which costs speech much of its quality (the audio codecs' benchmark).

    Silence codes to zeros (every ``ix`` 0, the gain at its largest); a DC
    offset or clipping are coded as any signal; NaN and infinities raise a
    ValueError, as do sampling rates MP3 does not have and signals shorter
    than ``frame_length`` (a single sample). The rate loop cannot go below
    the cost of the side information (gain and scale factors): at very low
    bit rates frames overshoot by that much.

    Examples
    --------
    >>> import numpy as np
    >>> from skcompress import MP3Codec
    >>> t = np.arange(8000) / 8000
    >>> rng = np.random.default_rng(0)
    >>> X = 0.3 * np.sin(2 * np.pi * rng.uniform(200, 2000, (20, 1)) * t)
    >>> codec = MP3Codec(bitrate=16, sample_rate=8000).fit(X)
    >>> strings = codec.compress(X[:3])
    >>> X_hat = codec.decompress(strings)
    >>> X_hat.shape
    (3, 8000)
    >>> budget = codec.frame_bits_ * codec.n_frames_   # 15 frames of 1152 bits
    >>> budget, all(len(s) * 8 <= budget + 64 for s in strings)   # + the stream's header
    (17280.0, True)
    """

    _parameter_constraints = {
        "bitrate": [Interval(Real, 0, None, closed="neither")],
        "sample_rate": [Interval(Real, 0, None, closed="neither")],
        "frame_length": [Interval(Integral, 2, None, closed="left")],
        "full_scale": [Interval(Real, 0, None, closed="neither")],
        "rate_control": [StrOptions({"abr", "cbr"})],
        "max_iterations": [Interval(Integral, 1, None, closed="left")],
        "block_switching": ["boolean"],
        "reservoir": ["boolean"],
        "dtype": "no_validation",  # checked when used
    }

    def __init__(
        self,
        bitrate=16.0,
        *,
        sample_rate=8000,
        frame_length=1152,
        full_scale=1.0,
        rate_control="abr",
        max_iterations=8,
        block_switching=True,
        reservoir=True,
        dtype=None,
    ):
        self.bitrate = bitrate
        self.sample_rate = sample_rate
        self.frame_length = frame_length
        self.full_scale = full_scale
        self.rate_control = rate_control
        self.max_iterations = max_iterations
        self.block_switching = block_switching
        self.reservoir = reservoir
        self.dtype = dtype

    @_fit_context(prefer_skip_nested_validation=True)
    @unfitted_on_error
    def fit(self, X, y=None):
        """Fit the psychoacoustic model and learn the entropy model of the loops' symbols.

        Parameters
        ----------
        X : array-like of shape (n_samples, length)
            Training signals.
        y : None
            Ignored.

        Returns
        -------
        self : MP3Codec
        """
        if not any(abs(float(self.sample_rate) - r) < 1e-6 for r in _SFB_LONG):
            raise ValueError(
                f"MP3Codec: sample_rate must be one of MP3's rates {sorted(_SFB_LONG)}; got "
                f"sample_rate={self.sample_rate}. Resample the signals first."
            )
        if self.block_switching and self.frame_length % 6:
            raise ValueError(
                f"MP3Codec: block_switching=True splits a frame into three short blocks, so "
                f"frame_length must be a multiple of 6; got frame_length={self.frame_length}. "
                "Set block_switching=False or frame_length=1152."
            )
        X = self._check_signals(X, reset=True)
        length = X.shape[1]
        model = self.psychoacoustic_model_ = self._model(self.frame_length, length)
        self.band_edges_ = model.band_edges_
        self.n_frames_ = model.n_frames_
        M = model.n_bins_
        self.short_model_ = None
        if self.block_switching:  # the short blocks' frames on the signal delayed by M / 3
            self.short_model_ = self._model(2 * (M // 3), (3 * self.n_frames_ - 1) * (M // 3))
        self.frame_bits_ = float(self.bitrate) * 1000.0 * M / float(self.sample_rate)
        types, coefs, xmin, pe = self._analyse(X)
        # a first model from steps at the masking thresholds, then two rounds of the loops
        exponents = np.floor(2 * np.log2(12 * np.maximum(xmin, _TINY) / np.diff(self.band_edges_)))
        gain = np.median(exponents, axis=-1).astype(np.int64)
        self._fit_entropy_models(self._symbols(types, coefs, gain, np.zeros_like(exponents, int)))
        for _ in range(2):
            self._fit_entropy_models(self._coded(types, coefs, xmin, pe))
        return self

    def transform(self, X):
        """Layer III symbols of every frame: block type, global gain, scale factors, lines.

        Parameters
        ----------
        X : array-like of shape (n_samples, length)

        Returns
        -------
        symbols : StructuredArray of int32, shape (n_samples, n_frames_ * (2 + n_bands + M))
        """
        check_is_fitted(self)
        X = self._check_signals(X, reset=False)
        symbols = self._coded(*self._analyse(X))
        out = symbols.reshape(len(X), -1).astype(np.int32)
        return as_output_dtype(self, with_structure(out, self.output_structure_))

    def inverse_transform(self, X):
        """Decode symbols to signals.

        Parameters
        ----------
        X : array-like of int, shape (n_samples, n_frames_ * (2 + n_bands + M))

        Returns
        -------
        X_decoded : ndarray of float64, shape (n_samples, length)
        """
        check_is_fitted(self)
        S = np.asarray(X)
        P = self._positions()
        if S.ndim != 2 or S.shape[1] != self.n_frames_ * P:
            raise ValueError(
                f"MP3Codec.inverse_transform expects symbols of shape (n_samples, "
                f"{self.n_frames_ * P}); got {S.shape}."
            )
        n, M = len(S), self.psychoacoustic_model_.n_bins_
        S = S.reshape(n * self.n_frames_, P)
        types = S[:, 0]
        if np.any((types < 0) | (types > 3)) or (not self.block_switching and np.any(types)):
            raise ValueError(
                "MP3Codec.inverse_transform: a frame's block type (its first symbol) must be 0 "
                "(long), 1 (start), 2 (short) or 3 (stop), and 0 without block_switching."
            )
        B = len(self.band_edges_) - 1
        gain, sf, ix = S[:, 1], S[:, 2 : 2 + B], S[:, 2 + B :]
        if (
            np.any(np.abs(gain) > _GAIN_LIMIT)
            or np.any((sf < 0) | (sf > _SF_MAX))
            or np.any(np.abs(ix) > _IX_MAX)
        ):
            raise ValueError(
                f"MP3Codec.inverse_transform: symbols out of range (gains within "
                f"+-{_GAIN_LIMIT}, scale factors 0 to {_SF_MAX}, lines within +-{_IX_MAX}): "
                "they are not MP3Codec's (or are corrupted)."
            )
        with np.errstate(over="ignore", invalid="ignore"):  # refused just below
            lines = self._dequantize(S)
        if not np.all(np.isfinite(lines)):
            raise ValueError(
                "MP3Codec.inverse_transform: the symbols dequantize beyond float64 (a gain too "
                "large for its lines): they are not MP3Codec's (or are corrupted)."
            )
        windowed = np.empty((len(S), 2 * M))
        for t in np.unique(types):
            rows = types == t
            windowed[rows] = lines[rows] @ _bases(M, self.block_switching)[t].T
        windowed = windowed.reshape(n, self.n_frames_, 2 * M)
        # hop j of the signal: head of frame j plus tail of frame j - 1 (TDAC)
        hops = windowed[:, 1:, :M] + windowed[:, :-1, M:]
        hops = hops.reshape(n, (self.n_frames_ - 1) * M)
        return np.ascontiguousarray(hops[:, : self.signal_shape_[0]])

    def compress(self, X):
        """Code every signal as its own bitstream.

        Parameters
        ----------
        X : array-like of shape (n_samples, length)

        Returns
        -------
        strings : list of bytes
            Per signal: a header byte, the length in bytes of the long
            frames' part, a bit mask of the short frames, the long and the
            short frames' symbols range-coded under their models, and a
            CRC-32.
        """
        check_is_fitted(self)
        P, F = self._positions(), self.n_frames_
        S = np.asarray(self.transform(X), dtype=np.int64).reshape(-1, F, P)
        strings = []
        for frames in S:
            short = frames[:, 0] == 2
            long_part = _payload(self.entropy_model_, frames[~short])
            payload = np.packbits(short).tobytes() + long_part
            payload += _payload(self.short_entropy_model_, frames[short])
            strings.append(
                _coder.pack(_coder.KIND_MP3, [len(long_part)], payload, self._fingerprint)
            )
        return strings

    def decompress(self, strings):
        """Signals from bitstreams of :meth:`compress`.

        Parameters
        ----------
        strings : list of bytes

        Returns
        -------
        X_decoded : ndarray of float64, shape (n_samples, length)

        Raises
        ------
        ValueError
            If a bitstream is corrupted, truncated or was written by another
            model (its checksum or its frames disagree).
        """
        check_is_fitted(self)
        P, F, name = self._positions(), self.n_frames_, "MP3Codec.decompress"
        S = np.empty((len(strings), F, P), dtype=np.int64)
        for i, data in enumerate(strings):
            (size,), payload = _coder.unpack(data, _coder.KIND_MP3, 1, self._fingerprint, name)
            head = -(-F // 8)
            if len(payload) < head + size:
                raise ValueError(f"{name}: a bitstream is cut short.")
            bits = np.unpackbits(np.frombuffer(payload[:head], np.uint8)).astype(bool)
            short = bits[:F]
            if bits[F:].any() or (short.any() and not self.block_switching):
                raise ValueError(f"{name}: a bitstream's mask of short frames is malformed.")
            parts = (payload[head : head + size], payload[head + size :])
            models = (self.entropy_model_, self.short_entropy_model_)
            for rows, part, model in zip((~short, short), parts, models, strict=True):
                if rows.any():
                    read = model._row_reader(int(rows.sum()) * P)
                    try:
                        S[i, rows] = read(_coder.Reader(part)).reshape(-1, P)
                    except ValueError as error:
                        raise ValueError(f"{name}: {error}") from None
            expected = _window_sequence(short[None])[0] if self.block_switching else 0
            if np.any(S[i, :, 0] != expected):
                raise ValueError(f"{name}: the block types of a bitstream contradict its mask.")
        return self.inverse_transform(S.reshape(len(strings), F * P))

    def get_feature_names_out(self, input_features=None):
        """Names of the symbols: ``f<frame>_block_type``, ``_gain``, ``_sf<band>``, ``_k<bin>``.

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
        M, B = self.psychoacoustic_model_.n_bins_, len(self.band_edges_) - 1
        cell = ["block_type", "gain"] + [f"sf{b}" for b in range(B)] + [f"k{k}" for k in range(M)]
        names = [f"f{f}_{c}" for f in range(self.n_frames_) for c in cell]
        return np.asarray(names, dtype=object)

    @property
    def output_structure_(self):
        """:class:`~skcompress._core._structure.Structure` of the symbols: quantized "mdct" frames.

        ``settings`` holds ``("symbols", "block type, gain, scalefactors, lines")`` and
        the band edges.
        """
        check_is_fitted(self)
        settings = (
            ("symbols", "block type, gain, scalefactors, lines"),
            ("band_edges", tuple(int(e) for e in self.band_edges_)),
        )
        return Structure(
            "mdct",
            "MP3Codec",
            (self.n_frames_,),
            1,
            self._positions(),
            quantized=True,
            settings=settings,
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = []  # emits integer symbols
        return tags

    @classmethod
    def get_test_params(cls):
        # scikit-learn fits on 2 features: frames of 2 samples, too short to split in three
        return [
            {"sample_rate": 8000, "frame_length": 2, "max_iterations": 2, "block_switching": False}
        ]

    # -- helpers -----------------------------------------------------------

    def _check_signals(self, X, *, reset):
        structure = structure_of(X)
        if structure is not None:
            raise refuse(
                "MP3Codec", structure, "1-D signals (audio, one per row)", "Give it the signals."
            )
        if getattr(X, "ndim", 2) > 2:
            raise ValueError(
                f"MP3Codec takes 1-D signals as a 2-D array (n_samples, length); got an array "
                f"of shape {tuple(X.shape)}. Code each channel X[..., c] on its own."
            )
        return check_signals(self, X, reset=reset)

    def _positions(self):
        return 2 + len(self.band_edges_) - 1 + self.psychoacoustic_model_.n_bins_

    def _model(self, frame_length, length):
        """A psychoacoustic model of frames of ``frame_length`` on signals of ``length``."""
        fft_length = 1 << max(3, round(np.log2(self.frame_length / 2)))  # nearest the hop M
        model = PsychoacousticModel(
            float(self.sample_rate),
            frame_length,
            fft_length=fft_length,
            bands="sfb",
            full_scale=self.full_scale,
        )
        return model.fit(np.zeros((1, length)))

    def _analyse(self, X):
        """Block types ``(frames,)``, lines ``(frames, M)``, allowed noise ``(frames, B)``
        and perceptual entropy ``(frames,)`` of signals ``X``."""
        model = self.psychoacoustic_model_
        M, F = model.n_bins_, self.n_frames_
        n, length = X.shape
        allowed = np.asarray(model.transform(X), dtype=np.float64).reshape(n * F, -1)
        allowed = np.repeat(allowed, np.diff(self.band_edges_), axis=-1)  # per line
        padded = np.zeros((n, (F + 1) * M))
        padded[:, M : M + length] = X
        frames = np.lib.stride_tricks.sliding_window_view(padded, 2 * M, axis=1)[:, ::M][:, :F]
        frames = frames.reshape(n * F, 2 * M)
        bases = _bases(M, self.block_switching)
        coefs = frames @ bases[0]
        types = np.zeros(n * F, dtype=np.int64)
        pe = _entropy(coefs, allowed)
        if self.block_switching:
            short_coefs = frames @ bases[2]
            short_allowed = self._short_thresholds(X)
            short_pe = _entropy(short_coefs, short_allowed)
            types = _window_sequence((short_pe < pe).reshape(n, F)).reshape(-1)
            coefs[types == 2] = short_coefs[types == 2]
            allowed[types == 2] = short_allowed[types == 2]
            pe[types == 2] = short_pe[types == 2]
            for t in (1, 3):  # start and stop windows: their own lines and entropy
                rows = types == t
                coefs[rows] = frames[rows] @ bases[t]
                pe[rows] = _entropy(coefs[rows], allowed[rows])
        return types, coefs, np.add.reduceat(allowed, self.band_edges_[:-1], axis=-1), pe

    def _short_thresholds(self, X):
        """Allowed noise per line ``(frames, M)`` of the frames as short ones."""
        M, F = self.psychoacoustic_model_.n_bins_, self.n_frames_
        m, n = M // 3, len(X)
        # block b of frame j covers samples [(3 j + b - 2) m, (3 j + b) m): frame 3 j + b of
        # the short model on the signal delayed by m
        padded = np.zeros((n, (3 * F - 1) * m))
        padded[:, m : m + X.shape[1]] = X
        T = np.asarray(self.short_model_.transform(padded), dtype=np.float64)
        T = np.repeat(T.reshape(n, 3 * F, -1), np.diff(self.short_model_.band_edges_), axis=-1)
        return T.reshape(n, F, 3, m).transpose(0, 1, 3, 2).reshape(n * F, M)

    def _steps(self, gain, sf):
        """Per-line steps ``(frames, M)`` of gains ``(frames,)`` and scale factors."""
        exponents = (gain[:, None] - 2 * sf) / 4.0
        return np.repeat(2.0**exponents, np.diff(self.band_edges_), axis=-1)

    def _quantize(self, coefs, gain, sf, power=None):
        """``ix``; ``power``, ``|coefs| ** 0.75``, spares the loops its cost."""
        power = np.abs(coefs) ** 0.75 if power is None else power
        scale = 2.0 ** (-0.1875 * (gain[:, None] - 2 * sf))  # D_b ** -0.75
        v = power * np.repeat(scale, np.diff(self.band_edges_), axis=-1)
        return np.copysign(np.floor(np.minimum(v, 1e9) + _ROUNDING), coefs)

    def _symbols(self, types, coefs, gain, sf, power=None):
        ix = self._quantize(coefs, gain, sf, power)
        columns = [types[:, None], gain[:, None], sf, ix]
        return np.concatenate(columns, axis=-1).astype(np.int64)

    def _dequantize(self, S):
        B = len(self.band_edges_) - 1
        gain, sf, ix = S[:, 1], S[:, 2 : 2 + B], S[:, 2 + B :].astype(np.float64)
        return np.sign(ix) * np.abs(ix) ** (4.0 / 3.0) * self._steps(gain, sf)

    def _band_peaks(self, coefs):
        return np.maximum(
            np.maximum.reduceat(np.abs(coefs), self.band_edges_[:-1], axis=-1), _TINY
        )

    def _silent_gain(self, peaks):
        """Per frame, the smallest gain that quantizes every line to 0 (``D_b > 2 peak_b``)."""
        return np.max(np.floor(4 * np.log2(2 * peaks)) + 1, axis=-1).astype(np.int64)

    def _code_lengths(self, symbols):
        """Bits of frames ``(frames, P)``: long, start and stop frames under
        ``entropy_model_``, short ones under ``short_entropy_model_``."""
        short = symbols[:, 0] == 2
        bits = np.empty(len(symbols))
        bits[~short] = self.entropy_model_.code_lengths(symbols[~short]).sum(axis=-1)
        if short.any():
            bits[short] = self.short_entropy_model_.code_lengths(symbols[short]).sum(axis=-1)
        return bits

    def _fit_entropy_models(self, symbols):
        short = symbols[:, 0] == 2
        self.entropy_model_ = CategoricalEntropyModel().fit(
            symbols[~short] if (~short).any() else symbols
        )
        self.short_entropy_model_ = CategoricalEntropyModel().fit(
            symbols[short] if short.any() else symbols
        )

    @property
    def _fingerprint(self):
        """CRC-32 seed of the bitstreams: both models and the settings."""
        models = np.array(
            [self.entropy_model_.fingerprint_, self.short_entropy_model_.fingerprint_]
        )
        settings = np.array(
            [self.sample_rate, self.frame_length, self.block_switching, self.n_features_in_],
            dtype=np.float64,
        )
        return _coder.fingerprint(models, self.band_edges_, settings)

    def _reservoir_cap(self):
        mpeg1 = any(abs(float(self.sample_rate) - r) < 1e-6 for r in (32000, 44100, 48000))
        return 4088.0 if mpeg1 else 2040.0

    def _coded(self, types, coefs, xmin, pe):
        """Symbols of frames ``(n * n_frames_, P)`` under the rate control."""
        F, n = self.n_frames_, len(coefs) // self.n_frames_
        if self.rate_control == "cbr" and not self.reservoir:
            return self._loops(types, coefs, xmin, np.full(len(coefs), self.frame_bits_))
        if self.rate_control == "cbr":
            shares = np.full((n, F), self.frame_bits_)
            low, high = 0.0, self._reservoir_cap()
        else:
            # what each frame costs with every line 0, plus the rest of the signal's bits in
            # proportion to the square root of the frame's perceptual entropy
            peaks = self._band_peaks(coefs)
            zero = np.zeros((len(coefs), len(self.band_edges_) - 1), dtype=np.int64)
            floor = self._code_lengths(self._symbols(types, coefs, self._silent_gain(peaks), zero))
            floor = floor.reshape(n, F)
            weight = np.sqrt(pe.reshape(n, F))
            free = np.maximum(self.frame_bits_ * F - floor.sum(axis=1, keepdims=True), 0.0)
            shares = floor + free * weight / np.maximum(weight.sum(axis=1, keepdims=True), 1e-12)
            low, high = -np.inf, np.inf  # a frame that overspends is paid for by those after it
        symbols = np.empty((len(coefs), self._positions()), dtype=np.int64)
        saved = np.zeros(n)
        for f in range(F):  # the frames of a signal are sequential; signals go together
            rows = np.arange(n) * F + f
            budget = shares[:, f] + saved
            symbols[rows] = self._loops(
                types[rows], coefs[rows], xmin[rows], np.maximum(budget, 0)
            )
            saved = np.clip(budget - self._code_lengths(symbols[rows]), low, high)
        return symbols

    def _rate_loop(self, types, coefs, sf, peaks, budget, power):
        """Per frame, the smallest gain whose symbols fit ``budget`` bits (bisection)."""
        # |ix| <= 8206 everywhere: D_b >= peak_b / 8206 ** (4/3)
        low = np.max(2 * sf + np.ceil(4 * np.log2(peaks / _IX_MAX ** (4 / 3))), axis=-1)
        low = low.astype(np.int64)
        high = np.max(2 * sf + np.floor(4 * np.log2(2 * peaks)) + 1, axis=-1).astype(np.int64)
        high = np.maximum(high, low)
        while np.any(low < high):
            mid = (low + high) // 2
            fits = self._code_lengths(self._symbols(types, coefs, mid, sf, power)) <= budget
            high = np.where(fits, mid, high)
            low = np.where(fits, low, mid + 1)
        return low

    def _loops(self, types, coefs, xmin, budget):
        """Symbols ``(frames, 2 + B + M)`` from the nested rate and distortion loops."""
        frames, B = xmin.shape
        peaks, power = self._band_peaks(coefs), np.abs(coefs) ** 0.75
        sf = np.zeros((frames, B), dtype=np.int64)
        best = None
        active = np.ones(frames, dtype=bool)
        for _ in range(self.max_iterations):
            gain = self._rate_loop(types, coefs, sf, peaks, budget, power)
            symbols = self._symbols(types, coefs, gain, sf, power)
            error = (self._dequantize(symbols) - coefs) ** 2
            noise = np.add.reduceat(error, self.band_edges_[:-1], axis=-1)
            over = noise > xmin
            n_over = over.sum(axis=-1)
            excess = np.where(over, noise - xmin, 0.0).sum(axis=-1)
            if best is None:
                best, best_over, best_excess = symbols, n_over, excess
            else:
                better = active & (
                    (n_over < best_over) | ((n_over == best_over) & (excess < best_excess))
                )
                best = np.where(better[:, None], symbols, best)
                best_over = np.where(better, n_over, best_over)
                best_excess = np.where(better, excess, best_excess)
            raise_sf = over & active[:, None]
            active &= (
                over.any(axis=-1)
                & ~np.all(sf + raise_sf > 0, axis=-1)
                & ~np.any(raise_sf & (sf >= _SF_MAX), axis=-1)
            )
            if not active.any():
                break
            sf = sf + (raise_sf & active[:, None])
        return best


def _payload(model, rows):
    """The range-coded symbols of frames ``rows`` under ``model``, without a header."""
    if not len(rows):
        return b""
    segments, escapes = model._token_segments(rows.reshape(1, -1))
    return _coder.encode_streams(1, segments, escapes)[0]


def _entropy(coefs, allowed):
    """Perceptual entropy (bits) of frames ``(frames, M)``: what lines cost at the mask."""
    return np.log2(1 + np.abs(coefs) / np.sqrt(12 * np.maximum(allowed, _TINY))).sum(axis=-1)


def _window_sequence(short):
    """Block types (0 long, 1 start, 2 short, 3 stop) from short frames ``(n, F)`` of bool.

    A long frame between two short ones becomes short; one before a short
    frame takes the start window, one after it the stop window.
    """
    previous = np.pad(short[:, :-1], ((0, 0), (1, 0)))
    following = np.pad(short[:, 1:], ((0, 0), (0, 1)))
    short = short | (previous & following)
    previous = np.pad(short[:, :-1], ((0, 0), (1, 0)))
    following = np.pad(short[:, 1:], ((0, 0), (0, 1)))
    types = np.where(short, 2, np.where(following, 1, np.where(previous, 3, 0)))
    return types.astype(np.int64)


def _mdct_basis(window):
    """The MDCT of one frame under ``window`` (``2 M`` samples) as a ``(2 M, M)`` matrix."""
    N = len(window)
    M = N // 2
    n, k = np.arange(N)[:, None], np.arange(M)[None, :]
    return np.sqrt(2.0 / M) * window[:, None] * np.cos(np.pi / M * (n + 0.5 + M / 2) * (k + 0.5))


@lru_cache(maxsize=4)
def _bases(M, switching):
    """Analysis matrices ``(2 M, M)`` of the long, start, short and stop frames."""
    long = np.sin(np.pi * (np.arange(2 * M) + 0.5) / (2 * M))
    if not switching:
        basis = _mdct_basis(long)
        basis.flags.writeable = False
        return [basis]
    m = M // 3
    short = np.sin(np.pi * (np.arange(2 * m) + 0.5) / (2 * m))
    ones, zeros = np.ones(m), np.zeros(m)
    start = np.concatenate([long[:M], ones, short[m:], zeros])
    stop = np.concatenate([zeros, short[:m], ones, long[M:]])
    blocks = np.zeros((2 * M, M))
    basis = _mdct_basis(short)
    for b in range(3):  # block b at offset (b + 1) m, its line j at column 3 j + b
        blocks[(b + 1) * m : (b + 3) * m, b::3] = basis
    bases = [_mdct_basis(long), _mdct_basis(start), blocks, _mdct_basis(stop)]
    for basis in bases:
        basis.flags.writeable = False
    return bases


MP3Codec.__doc__ = fill_doc(MP3Codec.__doc__, {"{dtype_parameter}": DTYPE_PARAMETER})
