"""CELT (the MDCT layer of Opus) as one transformer: band energies, bit allocation, PVQ shapes."""

import math
from functools import lru_cache
from numbers import Integral, Real

import constriction
import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._core._chunks import as_output_dtype
from .._core._contract import check_input_features, check_signals
from .._core._docs import DTYPE_PARAMETER, fill_doc
from .._core._estimator import PublicEstimatorMixin, unfitted_on_error
from .._core._structure import Structure, refuse, structure_of, with_structure
from ..entropy import _coder
from ..quantization._pyramid_vq import pvq_decode, pvq_encode, pvq_search, pvq_size
from ._celt import (
    BETA_COEF,
    BETA_INTRA,
    E_MEANS,
    ENERGY_FLOOR,
    PRED_COEF,
    PREDICTION_FLOOR,
    allocate,
    band_layout,
    code_costs,
    fold_noise,
    laplace_table,
    spread,
)

SAMPLE_RATES = (8000, 12000, 16000, 24000, 48000)  # Opus's
FRAME_SIZES = (2.5, 5.0, 10.0, 20.0)  # ms, CELT's LM = 0 .. 3
RADIUS = 40  # coarse-energy symbols in [-RADIUS, RADIUS] (6 dB steps)
# header byte, varint n_active (<= 2 bytes at these sizes), CRC-32, and the
# range coder's final byte: taken off the budget so that the bytes meet the rate
_OVERHEAD_BITS = 64


class CELTCodec(TransformerMixin, PublicEstimatorMixin, BaseEstimator):
    """CELT's coding of MDCT frames: coded band energies, a bit allocation, PVQ shapes.

    Every frame of an MDCT (sine window, 50% overlap, ``M = sample_rate *
    frame_size / 1000`` bins) is cut into CELT's bands (``eband5ms << LM``,
    see :func:`~skcompress.codecs._celt.band_layout`; at 8 kHz and 20 ms
    the 13 bands below 4 kHz of Opus's narrowband, 8 to 32 bins wide) and
    coded as libopus's CELT codes it (``celt/``):

    1. **coarse energy**: the band energy ``E_b = log2 ||x_b||`` (relative to
       ``full_scale``, on CELT's 32768 scale, minus CELT's mean ``eMeans``)
       is predicted from the previous frame's decoded energy (``alpha``) and
       from the bands below it in this frame (``beta``), CELT's ``pred_coef``
       and ``beta_coef`` for the frame size (intra frames: ``alpha = 0``,
       ``beta_intra``), and the residual rounded to 6 dB steps (1 in log2)
       is coded with a Laplace model (CELT's ``ec_laplace``: a probability of
       zero and a decay, one pair per band and intra/inter, learned at
       ``fit``);
    2. **allocation**: the bits left in the frame go through CELT's static
       allocation table (``band_allocation``, 1/32 bit per bin), the two
       rows that bracket the budget mixed in 1/64 steps; each band's bits
       are split into fine-energy bits (``rate.c``'s rule, up to 8) and
       shape bits, turned into the largest pulse count ``K`` (at most 128)
       whose pyramid codebook fits them and what the bands before left
       over;
    3. **fine energy**: the coarse residual refined by the fine bits
       (uniform, CELT's ``quant_fine_energy``);
    4. **shape**: ``x_b / ||x_b||``, rotated by CELT's spreading
       (``exp_rotation``, ``spread``), is coded as the nearest pyramid
       codeword with ``K`` pulses (:func:`~skcompress.quantization.pvq_search`),
       its index sent uniformly (:func:`~skcompress.quantization.pvq_encode`).
       Bands with no pulses are filled, as CELT folds them, with the
       decoded shape of the bins just below (pseudo-random noise where
       there are none), at their coded energy.

    Rate: each signal's bitstream aims at ``bitrate`` over the signal's
    duration (average bit rate per signal, CELT's VBR in spirit): frames
    with no signal (see ``silence_threshold``) cost one flag bit (CELT's
    silence flag) and the rest of the budget is shared evenly by the other
    frames, what one frame leaves unused going to the next. Bits are
    counted in eighths, as CELT does, from the ideal code lengths of the
    coder's own tables, so the bytes written meet the target to within the
    coder's termination.

    Parameters
    ----------
    bitrate : float, default=12.0
        Target rate in kbit/s.
    sample_rate : int, default=8000
        One of Opus's rates: 8000, 12000, 16000, 24000 or 48000 Hz.
    frame_size : float, default=20.0
        Frame size in ms: 2.5, 5, 10 or 20 (CELT's ``LM`` 0 to 3).
    spread : {"normal", "light", "aggressive", "none"}, default="normal"
        CELT's spreading rotation of the shapes before the pulse search.
    full_scale : float, default=1.0
        Amplitude of a full-scale signal (32768 for int16 samples).
    silence_threshold : float, default=-100.0
        Frames whose coefficients' RMS is this many dB below ``full_scale``
        (digital silence, always) are sent as silent and decode to zeros.
    {dtype_parameter}

    Attributes
    ----------
    band_edges_ : ndarray of int64
        Band edges in MDCT bins.
    n_bins_ : int
        ``M``, bins per frame.
    n_frames_ : int
        Frames per signal, ``ceil(length / M) + 1``.
    coarse_tables_ : ndarray of float32, shape (2, n_bands, 81)
        Laplace probabilities of the coarse symbols ``-40 .. 40``: ``[0]``
        inter frames, ``[1]`` intra frames, one row per band.
    signal_budget_ : int
        Eighths of a bit that one signal's frames share.
    n_features_in_ : int
        Samples per signal.
    feature_names_in_ : ndarray of str
        Column names, when ``fit`` was given a DataFrame.

    See Also
    --------
    skcompress.quantization.PyramidVQ : The pyramid codebook, one gain and shape per band.
    skcompress.MDCT : The transform, with scalar quantizers instead.

    Notes
    -----
    Symbols (``transform``): per frame ``[silent, q_0 .. q_{B-1}, f_0 ..
    f_{B-1}, y_0 .. y_{M-1}]``: the flag (1: coded), the coarse energy
    symbols, the fine energy symbols (``0 <= f_b < 2**fine_bits_b``) and the
    pulse vectors of the bands one after the other (``sum |y_b| = K_b``,
    zeros where ``K_b = 0``). ``K_b`` and the fine bits are not symbols: the
    decoder derives them from the coarse symbols, as CELT's does. A silent
    frame's symbols are all 0. ``compress`` range-codes them: flags and
    fine symbols uniformly, coarse symbols under the Laplace tables, each
    pulse vector as its codeword index (CELT's ``ec_enc_uint``, in 16-bit
    digits); a stream is ``[header, n_coded_frames, payload, CRC-32]`` and
    a truncated, corrupted or forged one is refused with a ValueError.

    Not in this codec (CELT has them): the low-overlap window and transient
    short blocks, time-frequency resolution changes, band splitting for
    large ``K`` (here one codebook per band, however large), the allocation
    trim and dynamic boosts, the final pass of leftover fine bits,
    anti-collapse, the pitch pre-filter, stereo and the intra/inter choice
    per frame (here intra after silence only).

    NaN or infinite samples raise a ValueError, as do sample rates and
    frame sizes CELT does not have. Silence codes to flags and decodes to
    zeros; clipping and DC offsets are coded as any signal (a DC offset
    lands in the lowest band); a signal of a single sample is one frame of
    mostly padding.

    Examples
    --------
    >>> import numpy as np
    >>> from skcompress import CELTCodec
    >>> t = np.arange(4000) / 8000
    >>> rng = np.random.default_rng(0)
    >>> X = 0.3 * np.sin(2 * np.pi * rng.uniform(200, 2000, (8, 1)) * t)
    >>> codec = CELTCodec(bitrate=16, sample_rate=8000).fit(X)
    >>> strings = codec.compress(X[:2])
    >>> codec.decompress(strings).shape
    (2, 4000)
    >>> bool(np.all([len(s) * 8 <= 16000 * 0.5 for s in strings]))
    True
    """

    _parameter_constraints = {
        "bitrate": [Interval(Real, 0, None, closed="neither")],
        "sample_rate": [Interval(Integral, 1, None, closed="left")],
        "frame_size": [Interval(Real, 0, None, closed="neither")],
        "spread": [StrOptions({"normal", "light", "aggressive", "none"})],
        "full_scale": [Interval(Real, 0, None, closed="neither")],
        "silence_threshold": [Interval(Real, None, 0, closed="right")],
        "dtype": "no_validation",  # checked when used
    }

    def __init__(
        self,
        bitrate=12.0,
        *,
        sample_rate=8000,
        frame_size=20.0,
        spread="normal",
        full_scale=1.0,
        silence_threshold=-100.0,
        dtype=None,
    ):
        self.bitrate = bitrate
        self.sample_rate = sample_rate
        self.frame_size = frame_size
        self.spread = spread
        self.full_scale = full_scale
        self.silence_threshold = silence_threshold
        self.dtype = dtype

    @_fit_context(prefer_skip_nested_validation=True)
    @unfitted_on_error
    def fit(self, X, y=None):
        """Set the band layout and learn the Laplace tables of the coarse energies.

        Parameters
        ----------
        X : array-like of shape (n_samples, length)
            Training signals.
        y : None
            Ignored.

        Returns
        -------
        self : CELTCodec
        """
        if self.sample_rate not in SAMPLE_RATES:
            raise ValueError(
                f"CELTCodec: sample_rate must be one of Opus's rates {list(SAMPLE_RATES)}; "
                f"got sample_rate={self.sample_rate}. Resample the signals first."
            )
        if not any(abs(float(self.frame_size) - f) < 1e-9 for f in FRAME_SIZES):
            raise ValueError(
                f"CELTCodec: frame_size must be one of CELT's {list(FRAME_SIZES)} ms; got "
                f"frame_size={self.frame_size}."
            )
        X = self._check_signals(X, reset=True)
        self.band_edges_, self._lm = band_layout(self.sample_rate, float(self.frame_size))
        self.n_bins_ = int(round(self.sample_rate * self.frame_size / 1000))
        self.n_frames_ = -(-X.shape[1] // self.n_bins_) + 1
        seconds = X.shape[1] / self.sample_rate
        total = math.floor(8 * self.bitrate * 1000 * seconds)
        self.signal_budget_ = max(total - 8 * _OVERHEAD_BITS - 8 * self.n_frames_, 0)
        B = len(self.band_edges_) - 1
        self.coarse_tables_ = np.stack([laplace_table(0.5, 0.5, RADIUS)] * 2 * B).reshape(2, B, -1)
        coefs, active, energies = self._analyse(X)
        for _ in range(2):  # the allocation (hence the fine energies) depends on the tables
            walk = self._walk(_Encoding(active, energies), len(X))
            self.coarse_tables_ = _fit_laplace(walk["q"], walk["intra"], active, B)
        return self

    def transform(self, X):
        """Symbols of every frame: silence flag, coarse and fine energies, pulse vectors.

        Parameters
        ----------
        X : array-like of shape (n_samples, length)

        Returns
        -------
        symbols : StructuredArray of int64, shape (n_samples, n_frames_ * (1 + 2 B + M))
        """
        check_is_fitted(self)
        X = self._check_signals(X, reset=False)
        coefs, active, energies = self._analyse(X)
        walk = self._walk(_Encoding(active, energies), len(X))
        pulses = self._search(coefs, walk["K"], active)
        S = np.concatenate(
            [active[..., None].astype(np.int64), walk["q"], walk["f"], pulses], axis=-1
        )
        out = with_structure(S.reshape(len(X), -1), self.output_structure_)
        return as_output_dtype(self, out)

    def inverse_transform(self, X):
        """Decode symbols to signals.

        Parameters
        ----------
        X : array-like of int, shape (n_samples, n_frames_ * (1 + 2 B + M))

        Returns
        -------
        X_decoded : ndarray of float64, shape (n_samples, length)
        """
        check_is_fitted(self)
        S = np.asarray(X)
        P = self._positions()
        if S.ndim != 2 or S.shape[1] != self.n_frames_ * P or S.dtype.kind not in "iu":
            raise ValueError(
                f"CELTCodec.inverse_transform expects integer symbols of shape (n_samples, "
                f"{self.n_frames_ * P}); got shape {S.shape} and dtype {S.dtype}."
            )
        n, B = len(S), len(self.band_edges_) - 1
        S = S.astype(np.int64).reshape(n, self.n_frames_, P)
        flags, q, f, Y = (
            S[..., 0],
            S[..., 1 : 1 + B],
            S[..., 1 + B : 1 + 2 * B],
            S[..., 1 + 2 * B :],
        )
        if np.any((flags < 0) | (flags > 1)):
            raise ValueError(
                "CELTCodec: a frame's first symbol (the silence flag) must be 0 or 1."
            )
        silent = flags == 0
        if np.any(S[silent][:, 1:]):
            raise ValueError("CELTCodec: a silent frame (flag 0) must carry only zeros.")
        walk = self._walk(_Symbols(flags.astype(bool), q, f), n)
        top = self.band_edges_[-1]
        sums = np.add.reduceat(np.abs(Y[..., :top]), self.band_edges_[:-1], axis=-1)
        if np.any(sums != walk["K"]) or np.any(Y[..., top:]):
            raise ValueError(
                "CELTCodec: the pulse vectors do not hold the pulses that the allocation "
                "gives their bands (sum |y_b| must equal K_b)."
            )
        return self._synthesize(self._shapes(Y, walk["K"], flags.astype(bool)), walk["E"], flags)

    def compress(self, X):
        """Code every signal as its own bitstream.

        Parameters
        ----------
        X : array-like of shape (n_samples, length)

        Returns
        -------
        strings : list of bytes
        """
        check_is_fitted(self)
        X = self._check_signals(X, reset=False)
        coefs, active, energies = self._analyse(X)
        walk = self._walk(_Encoding(active, energies), len(X))
        Y = self._search(coefs, walk["K"], active)
        indices = self._rank(Y, walk["K"])
        tables, fp = self.coarse_tables_, self._fingerprint
        strings = []
        for i in range(len(X)):
            encoder = constriction.stream.queue.RangeEncoder()
            values, sizes = [], []
            for t in range(self.n_frames_):
                values.append(int(active[i, t]))
                sizes.append(2)
                if not active[i, t]:
                    continue
                _encode_uniform(encoder, values, sizes)
                rows = tables[int(walk["intra"][i, t])]
                encoder.encode(
                    (walk["q"][i, t] + RADIUS).astype(np.int32), _coder._CATEGORICAL, rows
                )
                values, sizes = _frame_uniforms(walk, indices, self.band_edges_, i, t)
            _encode_uniform(encoder, values, sizes)
            payload = _coder.seal(encoder)
            strings.append(_coder.pack(_coder.KIND_CELT, [int(active[i].sum())], payload, fp))
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
            If a stream is truncated, corrupted, forged or written by another model.
        """
        check_is_fitted(self)
        fp, name = self._fingerprint, "CELTCodec.decompress"
        readers, declared = [], []
        for s in strings:
            (count,), payload = _coder.unpack(s, _coder.KIND_CELT, 1, fp, name)
            if count > self.n_frames_:
                raise ValueError(
                    f"{name}: a stream declares {count} coded frames; at most {self.n_frames_}."
                )
            readers.append(_coder.Reader(payload))
            declared.append(count)
        n = len(readers)
        source = _Stream(readers, np.asarray(declared, dtype=np.int64), self)
        walk = self._walk(source, n)
        if np.any(walk["active"].sum(axis=1) != source.declared):
            raise ValueError(f"{name}: a stream's silence flags disagree with its header.")
        Y = self._unrank(source.indices, walk["K"])
        flags = walk["active"].astype(np.int64)
        return self._synthesize(self._shapes(Y, walk["K"], walk["active"]), walk["E"], flags)

    def rate(self, X):
        """Mean kbit/s of the bitstreams of ``X`` (their bytes over the signals' duration).

        Parameters
        ----------
        X : array-like of shape (n_samples, length)

        Returns
        -------
        kbps : float
        """
        strings = self.compress(X)
        seconds = self.n_features_in_ / self.sample_rate
        return float(np.mean([8 * len(s) for s in strings]) / seconds / 1000)

    def get_feature_names_out(self, input_features=None):
        """Names of the symbols: ``f<frame>_coded``, ``_q<band>``, ``_fine<band>``, ``_y<bin>``.

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
        B = len(self.band_edges_) - 1
        cell = ["coded"] + [f"q{b}" for b in range(B)] + [f"fine{b}" for b in range(B)]
        cell += [f"y{k}" for k in range(self.n_bins_)]
        names = [f"f{t}_{c}" for t in range(self.n_frames_) for c in cell]
        return np.asarray(names, dtype=object)

    @property
    def output_structure_(self):
        """:class:`~skcompress._core._structure.Structure` of the symbols: "mdct", quantized."""
        check_is_fitted(self)
        settings = (
            ("symbols", "coded flag, coarse energies, fine energies, pulses"),
            ("band_edges", tuple(int(e) for e in self.band_edges_)),
        )
        return Structure(
            "mdct",
            "CELTCodec",
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
        return [{"sample_rate": 8000, "frame_size": 2.5, "bitrate": 32.0}]

    # -- helpers -----------------------------------------------------------

    def _check_signals(self, X, *, reset):
        structure = structure_of(X)
        if structure is not None:
            raise refuse(
                "CELTCodec", structure, "1-D signals (audio, one per row)", "Give it the signals."
            )
        if getattr(X, "ndim", 2) > 2:
            raise ValueError(
                f"CELTCodec takes 1-D signals as a 2-D array (n_samples, length); got an array "
                f"of shape {tuple(X.shape)}. Code each channel X[..., c] on its own."
            )
        return np.asarray(check_signals(self, X, reset=reset), dtype=np.float64)

    def _positions(self):
        return 1 + 2 * (len(self.band_edges_) - 1) + self.n_bins_

    @property
    def _fingerprint(self):
        """CRC-32 seed of the bitstreams: the tables and settings (public, as a forger sees it)."""
        settings = np.array(
            [
                self.bitrate,
                self.sample_rate,
                self.frame_size,
                ["none", "light", "normal", "aggressive"].index(self.spread),
                self.full_scale,
                self.silence_threshold,
                self.n_features_in_,
            ],
            dtype=np.float64,
        )
        return _coder.fingerprint(self.coarse_tables_, self.band_edges_, settings)

    def _analyse(self, X):
        """MDCT ``(n, F, M)``, coded frames ``(n, F)`` and band energies ``(n, F, B)``."""
        M, F = self.n_bins_, self.n_frames_
        n, length = X.shape
        padded = np.zeros((n, (F + 1) * M))
        padded[:, M : M + length] = X
        frames = np.lib.stride_tricks.sliding_window_view(padded, 2 * M, axis=1)[:, ::M][:, :F]
        coefs = frames @ _basis(M)
        floor = (self.full_scale * 10 ** (self.silence_threshold / 20)) ** 2 * M
        active = np.sum(coefs * coefs, axis=-1) > floor
        top = self.band_edges_[-1]
        power = coefs[..., :top] ** 2
        norms = np.sqrt(np.add.reduceat(power, self.band_edges_[:-1], axis=-1))
        B = len(self.band_edges_) - 1
        with np.errstate(divide="ignore"):
            energies = np.log2(norms * (32768.0 / self.full_scale)) - E_MEANS[:B]
        return coefs, active, np.maximum(energies, ENERGY_FLOOR)

    def _walk(self, source, n):
        """Frame by frame: coarse energies with CELT's prediction, allocation, fine energies.

        ``source`` gives the flags and symbols (encoding: computed from the
        energies; decoding: read from symbols or bitstreams). The same float
        operations run on both sides, element by element, so the decoder
        rebuilds the encoder's energies and allocation exactly.
        """
        F, B = self.n_frames_, len(self.band_edges_) - 1
        widths = np.diff(self.band_edges_)
        alpha, beta = PRED_COEF[self._lm], BETA_COEF[self._lm]
        costs = code_costs(self.coarse_tables_)  # (2, B, 2R + 1) eighths
        out = {key: np.zeros((n, F, B), dtype=np.int64) for key in ("q", "f", "K", "fine_bits")}
        out["E"] = np.zeros((n, F, B))
        out["intra"] = np.zeros((n, F), dtype=bool)
        out["active"] = np.zeros((n, F), dtype=bool)
        old = np.zeros((n, B))
        was_active = np.zeros(n, dtype=bool)
        carry = np.zeros(n, dtype=np.int64)
        per_frame = None
        for t in range(F):
            active = source.active(t)
            if per_frame is None:
                count = np.maximum(source.count(), 1)
                per_frame = self.signal_budget_ // count
            intra = active & ~was_active
            coef = np.where(intra, 0.0, alpha)
            b_coef = np.where(intra, BETA_INTRA, beta)
            q = source.coarse(t, intra, active)
            prev = np.zeros(n)
            coarse = np.zeros((n, B))
            for b in range(B):
                pred = coef * np.maximum(old[:, b], PREDICTION_FLOOR) + prev
                if q is None or source.encoding:
                    qb = np.clip(np.floor(0.5 + source.energies[:, t, b] - pred), -RADIUS, RADIUS)
                    qb = np.where(active, qb, 0.0)
                    out["q"][:, t, b] = qb
                else:
                    qb = q[:, b].astype(np.float64)
                    out["q"][:, t, b] = q[:, b]
                coarse[:, b] = pred + qb
                prev = prev + qb - b_coef * qb
            cost = np.take_along_axis(
                costs[intra.astype(np.int64)], (out["q"][:, t] + RADIUS)[..., None], axis=-1
            )[..., 0].sum(axis=-1)
            budget = np.where(active, per_frame + carry - cost, 0)
            fine_bits, K, used = allocate(budget, widths, self._lm)
            fine_bits = np.where(active[:, None], fine_bits, 0)
            K = np.where(active[:, None], K, 0)
            scale = np.ldexp(1.0, fine_bits)
            error = None if not source.encoding else source.energies[:, t] - coarse
            f = source.fine(t, fine_bits, K, active, error, scale)
            refined = coarse + np.where(fine_bits > 0, (f + 0.5) / scale - 0.5, 0.0)
            out["f"][:, t], out["K"][:, t], out["fine_bits"][:, t] = f, K, fine_bits
            out["E"][:, t] = np.where(active[:, None], refined, ENERGY_FLOOR)
            out["intra"][:, t], out["active"][:, t] = intra & active, active
            old = np.where(active[:, None], refined, old)
            carry = np.where(active, budget - used, carry)
            was_active = active
        return out

    def _search(self, coefs, K, active):
        """Pulse vectors ``(n, F, M)`` of the bands' shapes (spread), ``K`` pulses each."""
        Y = np.zeros(coefs.shape, dtype=np.int64)
        for b, (lo, hi) in enumerate(
            zip(self.band_edges_[:-1], self.band_edges_[1:], strict=True)
        ):
            k = K[..., b]
            rows = k > 0
            if not rows.any():
                continue
            x = coefs[..., lo:hi][rows]
            if self.spread != "none":
                norms = np.linalg.norm(x, axis=1, keepdims=True)
                x = spread(x / np.where(norms > 0, norms, 1.0), k[rows], self.spread)
            y = np.zeros(x.shape, dtype=np.int64)
            for value in np.unique(k[rows]):
                group = k[rows] == value
                y[group] = pvq_search(x[group], int(value))
            band = Y[..., lo:hi]
            band[rows] = y
        return Y

    def _shapes(self, Y, K, active):
        """Unit shapes ``(n, F, M)``: decoded pulses (unspread), folded where ``K = 0``."""
        n, F, M = Y.shape
        norm = np.zeros(Y.shape)
        frame_index = np.broadcast_to(np.arange(F), (n, F))
        for b, (lo, hi) in enumerate(
            zip(self.band_edges_[:-1], self.band_edges_[1:], strict=True)
        ):
            N = hi - lo
            k = K[..., b]
            coded = k > 0
            if coded.any():
                y = Y[..., lo:hi][coded].astype(np.float64)
                y /= np.linalg.norm(y, axis=1, keepdims=True)
                if self.spread != "none":
                    y = spread(y, k[coded], self.spread, inverse=True)
                band = norm[..., lo:hi]
                band[coded] = y
            fold = active & ~coded
            if fold.any():
                if lo >= N:
                    fill = norm[..., lo - N : lo][fold].copy()
                else:
                    fill = np.zeros((int(fold.sum()), N))
                empty = np.linalg.norm(fill, axis=1) < 1e-9
                noise = fold_noise(frame_index[fold], lo, N)
                fill[empty] = noise[empty]
                fill /= np.linalg.norm(fill, axis=1, keepdims=True)
                band = norm[..., lo:hi]
                band[fold] = fill
        return norm

    def _synthesize(self, norm, E, flags):
        """Signals from unit shapes ``(n, F, M)`` and decoded energies ``(n, F, B)``."""
        B, M = len(self.band_edges_) - 1, self.n_bins_
        gains = np.exp2(E + E_MEANS[:B]) * (self.full_scale / 32768.0)
        gains = np.where(flags[..., None] > 0, gains, 0.0)
        coefs = np.zeros(norm.shape)
        top = self.band_edges_[-1]  # bins above the last band (20 kHz) stay zero
        coefs[..., :top] = norm[..., :top] * np.repeat(gains, np.diff(self.band_edges_), axis=-1)
        windowed = coefs @ _basis(M).T
        hops = windowed[:, 1:, :M] + windowed[:, :-1, M:]
        n = len(coefs)
        return np.ascontiguousarray(
            hops.reshape(n, (self.n_frames_ - 1) * M)[:, : self.n_features_in_]
        )

    def _rank(self, Y, K):
        """Codeword indices ``(n, F, B)`` (object: Python ints) of the pulse vectors."""
        n, F, B = K.shape
        indices = np.zeros((n, F, B), dtype=object)
        for b, (lo, hi) in enumerate(
            zip(self.band_edges_[:-1], self.band_edges_[1:], strict=True)
        ):
            for value in np.unique(K[..., b]):
                if value == 0:
                    continue
                rows = K[..., b] == value
                indices[rows, b] = pvq_encode(Y[..., lo:hi][rows], int(value)).astype(object)
        return indices

    def _unrank(self, indices, K):
        """Pulse vectors ``(n, F, M)`` of codeword indices ``(n, F, B)``."""
        n, F, B = K.shape
        Y = np.zeros((n, F, self.n_bins_), dtype=np.int64)
        for b, (lo, hi) in enumerate(
            zip(self.band_edges_[:-1], self.band_edges_[1:], strict=True)
        ):
            for value in np.unique(K[..., b]):
                if value == 0:
                    continue
                rows = K[..., b] == value
                band = Y[..., lo:hi]
                band[rows] = pvq_decode(indices[rows, b], int(hi - lo), int(value))
        return Y


class _Encoding:
    """Flags and energies of the signals: the encoder's side of :meth:`CELTCodec._walk`."""

    encoding = True

    def __init__(self, active, energies):
        self._active, self.energies = active, energies

    def active(self, t):
        return self._active[:, t]

    def count(self):
        return self._active.sum(axis=1)

    def coarse(self, t, intra, active):
        return None

    def fine(self, t, fine_bits, K, active, error, scale):
        f = np.floor((error + 0.5) * scale)
        return np.where(fine_bits > 0, np.clip(f, 0, scale - 1), 0).astype(np.int64)


class _Symbols:
    """Flags and symbols of ``transform``'s output: the decoder's side, checked."""

    encoding = False

    def __init__(self, active, q, f):
        self._active, self._q, self._f = active, q, f
        if np.any(np.abs(q) > RADIUS):
            raise ValueError(
                f"CELTCodec: coarse energy symbols must lie in [-{RADIUS}, {RADIUS}]."
            )

    def active(self, t):
        return self._active[:, t]

    def count(self):
        return self._active.sum(axis=1)

    def coarse(self, t, intra, active):
        return self._q[:, t]

    def fine(self, t, fine_bits, K, active, error, scale):
        f = self._f[:, t]
        if np.any((f < 0) | (f >= scale)) or np.any(f[fine_bits == 0]):
            raise ValueError(
                "CELTCodec: fine energy symbols must lie in [0, 2**fine_bits) of their band "
                "(0 where the allocation gives no fine bits)."
            )
        return f


class _Stream:
    """Flags and symbols read from range-coded bitstreams, frame by frame."""

    encoding = False

    def __init__(self, readers, declared, codec):
        self._readers, self.declared, self._codec = readers, declared, codec
        n, F, B = len(readers), codec.n_frames_, len(codec.band_edges_) - 1
        self.indices = np.zeros((n, F, B), dtype=object)
        self._pending = [None] * n  # the next frame's flag, read with the frame before
        self._active = np.zeros(n, dtype=bool)

    def count(self):
        return self.declared

    def active(self, t):
        flags = np.zeros(len(self._readers), dtype=bool)
        for i, reader in enumerate(self._readers):
            flag = self._pending[i]
            if flag is None:
                flag = int(reader.uniform([2])[0])
            flags[i] = bool(flag)
            self._pending[i] = None
        self._active = flags
        return flags

    def coarse(self, t, intra, active):
        B = len(self._codec.band_edges_) - 1
        q = np.zeros((len(self._readers), B), dtype=np.int64)
        tables = self._codec.coarse_tables_
        for i in np.flatnonzero(active):
            q[i] = self._readers[i].categorical(tables[int(intra[i])]) - RADIUS
        return q

    def fine(self, t, fine_bits, K, active, error, scale):
        codec = self._codec
        n, B = fine_bits.shape
        f = np.zeros((n, B), dtype=np.int64)
        widths = np.diff(codec.band_edges_)
        last = t == codec.n_frames_ - 1
        for i in np.flatnonzero(active):
            sizes, parts = [], []
            for b in range(B):
                if fine_bits[i, b]:
                    sizes.append(1 << int(fine_bits[i, b]))
            for b in range(B):
                if K[i, b]:
                    digit_sizes, shifts = _digits(int(widths[b]), int(K[i, b]))
                    parts.append((b, len(sizes), digit_sizes, shifts))
                    sizes.extend(digit_sizes)
            if not last:
                sizes.append(2)  # the next frame's flag
            values = self._readers[i].uniform(sizes).tolist() if sizes else []
            if not last:
                self._pending[i] = values.pop()
            j = 0
            for b in range(B):
                if fine_bits[i, b]:
                    f[i, b] = values[j]
                    j += 1
            for b, at, digit_sizes, shifts in parts:
                index = 0
                for d, s in zip(values[at : at + len(digit_sizes)], shifts, strict=True):
                    index |= int(d) << s
                if index >= pvq_size(int(widths[b]), int(K[i, b])):
                    raise ValueError(
                        "CELTCodec.decompress: a codeword index is out of its codebook: the "
                        "stream is forged or corrupted."
                    )
                self.indices[i, t, b] = index
        return f


def _frame_uniforms(walk, indices, edges, i, t):
    """Uniform symbols of frame ``t`` of signal ``i`` after its coarse energies."""
    values, sizes = [], []
    fine_bits, K = walk["fine_bits"][i, t], walk["K"][i, t]
    for b in np.flatnonzero(fine_bits):
        values.append(int(walk["f"][i, t, b]))
        sizes.append(1 << int(fine_bits[b]))
    widths = np.diff(edges)
    for b in np.flatnonzero(K):
        digit_sizes, shifts = _digits(int(widths[b]), int(K[b]))
        index = int(indices[i, t, b])
        # the top digit is the index's high bits, the others 16-bit chunks below them
        values.append(index >> shifts[0])
        for size, s in zip(digit_sizes[1:], shifts[1:], strict=True):
            values.append((index >> s) & (size - 1))
        sizes.extend(digit_sizes)
    return values, sizes


def _encode_uniform(encoder, values, sizes):
    if values:
        encoder.encode(
            np.asarray(values, dtype=np.int32), _coder._UNIFORM, np.asarray(sizes, dtype=np.int32)
        )
    values.clear()
    sizes.clear()


@lru_cache(maxsize=4096)
def _digits(n, k):
    sizes, shifts = _coder.index_digits(pvq_size(n, k))
    return tuple(sizes), tuple(shifts)


def _fit_laplace(q, intra, active, B):
    """Laplace tables ``(2, B, 2R + 1)`` from coarse symbols: inter ``[0]``, intra ``[1]``."""
    tables = np.empty((2, B, 2 * RADIUS + 1), dtype=np.float32)
    for which, frames in ((0, active & ~intra), (1, intra)):
        values = q[frames]  # (m, B)
        for b in range(B):
            v = np.abs(values[:, b]) if len(values) else np.zeros(0)
            # a pseudo-count of one frame of each kind keeps unseen symbols codable
            zeros, total = np.sum(v == 0) + 1, len(v) + 2
            p0 = zeros / total
            tail = v[v > 0] - 1
            mean = (tail.sum() + 1) / (len(tail) + 1)
            decay = min(max(mean / (1 + mean), 0.05), 0.95)
            tables[which, b] = laplace_table(p0, decay, RADIUS)
    return tables


@lru_cache(maxsize=8)
def _basis(M):
    """The MDCT of a sine-windowed frame of ``2 M`` samples, ``(2 M, M)``, orthonormal (TDAC)."""
    N = 2 * M
    n, k = np.arange(N)[:, None], np.arange(M)[None, :]
    window = np.sin(np.pi * (np.arange(N) + 0.5) / N)[:, None]
    basis = np.sqrt(2.0 / M) * window * np.cos(np.pi / M * (n + 0.5 + M / 2) * (k + 0.5))
    basis.flags.writeable = False
    return basis


CELTCodec.__doc__ = fill_doc(CELTCodec.__doc__, {"{dtype_parameter}": DTYPE_PARAMETER})
