"""ISO 11172-3 psychoacoustic model 1: masking thresholds aligned with MDCT frames."""

from functools import lru_cache
from numbers import Integral, Real

import numpy as np
import scipy.sparse
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._available_if import available_if
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._core._chunks import as_output_dtype
from .._core._contract import LAYOUTS, check_input_features, check_signals, from_layout, to_layout
from .._core._docs import DTYPE_PARAMETER, fill_doc
from .._core._estimator import PublicEstimatorMixin, unfitted_on_error
from .._core._structure import Structure, refuse, structure_of, with_structure
from ._mdct import MDCT, band_edges

# ISO/IEC 11172-3 Table B.8 (MPEG-1) and ISO/IEC 13818-3 (MPEG-2, and the
# MPEG-2.5 extension at 8 kHz as decoders carry it): scale-factor band edges
# of long blocks, in lines of the 576-line granule.
_SFB_LONG = {
    32000: (0, 4, 8, 12, 16, 20, 24, 30, 36, 44, 54, 66, 82, 102, 126, 156, 194, 240, 296, 364,
            448, 550, 576),
    44100: (0, 4, 8, 12, 16, 20, 24, 30, 36, 44, 52, 62, 74, 90, 110, 134, 162, 196, 238, 288,
            342, 418, 576),
    48000: (0, 4, 8, 12, 16, 20, 24, 30, 36, 42, 50, 60, 72, 88, 106, 128, 156, 190, 230, 276,
            330, 384, 576),
    24000: (0, 6, 12, 18, 24, 30, 36, 44, 54, 66, 80, 96, 114, 136, 162, 194, 232, 278, 332, 394,
            464, 540, 576),
    22050: (0, 6, 12, 18, 24, 30, 36, 44, 54, 66, 80, 96, 116, 140, 168, 200, 238, 284, 336, 396,
            464, 522, 576),
    8000: (0, 12, 24, 36, 48, 60, 72, 88, 108, 132, 160, 192, 232, 280, 336, 400, 476, 566, 568,
           570, 572, 574, 576),
}  # fmt: skip
for _rate in (16000, 12000, 11025):
    _SFB_LONG[_rate] = _SFB_LONG[22050]
_GRANULE = 576
# A full-scale sine (amplitude ``full_scale``) at the centre of an FFT bin reads 96 dB.
_FULL_SCALE_DB = 96.0
# Largest level kept (dB): the absolute threshold grows as f**4 near Nyquist at
# high rates; a cap keeps 10 ** (dB / 10) finite in float32.
_MAX_DB = 300.0
_MIN_DB = -200.0
# Maskers x evaluation points per piece of the threshold sum.
_PIECE_VALUES = 1 << 21


class PsychoacousticModel(TransformerMixin, PublicEstimatorMixin, BaseEstimator):
    """Masking thresholds of 1-D signals per MDCT frame: ISO 11172-3 psychoacoustic model 1.

    Each frame of :class:`MDCT` (``frame_length = 2 M`` samples advancing by
    ``M``, the same padding, so frame ``f`` is centred on sample ``f M``) gets
    the largest quantization noise that model 1 of ISO/IEC 11172-3 Annex D
    deems inaudible, per band of MDCT bins:

    1. a Hann-windowed FFT of ``fft_length`` samples centred on the frame,
       as levels in dB where a full-scale sine reads 96 dB (see Notes);
    2. tonal maskers: local maxima at least 7 dB above their neighbours
       within the standard's distance (Layer II's rule in Hz: 86 Hz below
       2.8 kHz, 129 Hz below 5.5 kHz, 258 Hz below 11 kHz, 517 Hz above),
       each with the power of its three central bins; noise maskers: the
       power left in each critical band (Zwicker's Bark scale
       ``13 atan(0.00076 f) + 3.5 atan((f / 7500) ** 2)``) outside the tonal
       neighbourhoods, at the band's geometric-mean bin;
    3. decimation: maskers below the absolute threshold go, and of two
       maskers within 0.5 Bark the weaker goes;
    4. individual thresholds with the standard's spreading function (from
       -3 to +8 Bark, slopes 17 dB/Bark, level-dependent above 1 Bark) and
       masking indices ``-6.025 - 0.275 z`` (tonal) and ``-2.025 - 0.175
       z`` (noise) dB;
    5. the global threshold: the power sum of the individual ones and of
       the absolute threshold of hearing, Terhardt's ``3.64 f**-0.8 -
       6.5 exp(-0.6 (f - 3.3)**2) + 1e-3 f**4`` dB (f in kHz), at every
       FFT bin;
    6. interpolated (in dB) to the centres of the MDCT bins and reduced per
       band: the minimum over the band (model 1's rule) or the power mean.

    Parameters
    ----------
    sample_rate : float, default=44100
        Sampling rate of the signals in Hz.
    frame_length : int, default=256
        ``frame_length`` of the :class:`MDCT` the thresholds are for: even,
        at least 2 and at most the signal length.
    fft_length : int or None, default=None
        Length of the analysis FFT, at least 8. None: the smallest power of
        two that holds a frame and 23 ms of signal (1024 at 44.1 kHz, as in
        Layer III's model; 256 at 8 kHz).
    bands : {"sfb", "bark", "bins"}, default="sfb"
        Bands of MDCT bins that get one threshold each. "sfb": MP3's
        scale-factor bands of long blocks (MPEG-1 at 32, 44.1 and 48 kHz;
        MPEG-2 at 16, 22.05 and 24 kHz and 11.025 and 12 kHz; MPEG-2.5 at 8
        kHz), from the 576-line granule to the ``M`` bins by frequency (edge
        ``round(e M / 576)``, bands that then hold no bin merged); other
        rates raise a ValueError (use "bark"). "bark": one band per Bark,
        :func:`~skcompress.transforms.band_edges`. "bins": one threshold
        per MDCT bin.
    reduce : {"min", "mean"}, default="min"
        Threshold of a band from those of its bins: the minimum (ISO
        model 1), or their power mean.
    full_scale : float, default=1.0
        Amplitude of a full-scale sine in the units of the signals (1.0 for
        float audio in [-1, 1], 32768 for int16 samples): the level that
        reads 96 dB.
    output : {"thresholds", "mdct"}, default="thresholds"
        "thresholds": per frame, the allowed noise of each band. "mdct": per
        frame, the ``M`` MDCT coefficients (``window``) followed by those
        thresholds, for :class:`~skcompress.PerceptualQuantizer` with
        ``table="masking"``; :meth:`inverse_transform` then drops the
        thresholds and inverts the MDCT.
    window : {"sine", "kbd"}, default="sine"
        Window of the MDCT of ``output="mdct"``, as :class:`MDCT`'s (its
        ``alpha`` left at 4). Both windows keep the MDCT orthonormal, which
        the thresholds' scale assumes.
    layout : {"flat", "blocks", "channels_first"}, default="flat"
        Output layout, as :class:`MDCT`'s: "flat" ``(n, n_frames * k)``,
        "blocks" ``(n, n_frames, k)``, "channels_first" ``(n, k, n_frames)``
        with ``k`` values per frame.
    {dtype_parameter}

    Attributes
    ----------
    band_edges_ : ndarray of int64, shape (n_bands + 1,)
        Edges of the bands in MDCT bins.
    n_bins_, n_frames_, n_bands_ : int
        MDCT bins per frame, frames per signal, bands per frame.
    fft_length_ : int
        Length of the analysis FFT.
    absolute_threshold_ : ndarray of float64, shape (n_bands,)
        The threshold of silence per band, in the units of the output.
    mdct_ : MDCT
        The fitted transform, for ``output="mdct"``; None otherwise.
    n_features_in_ : int
        Samples per input signal.
    feature_names_in_ : ndarray of str
        Column names, when ``fit`` was given a DataFrame.

    See Also
    --------
    skcompress.MDCT : The transform whose frames the thresholds cover.
    skcompress.PerceptualQuantizer : With ``table="masking"``, quantizes
        ``output="mdct"`` with steps from the thresholds.

    Notes
    -----
    Calibration. Levels follow the standard's convention that a full-scale
    sine is 96 dB SPL: the FFT of a frame, Hann window ``w`` unnormalized,
    gives ``P(k) = 96 + 10 log10(|X(k)|**2 / (full_scale N / 4)**2)`` dB,
    so such a sine centred on a bin reads 96 dB. White noise of variance
    ``s2`` reads ``s2 * 3 N / 8`` per bin, so a threshold of ``T`` dB at a
    bin allows noise of variance ``full_scale**2 (N / 6) 10 ** ((T - 96) /
    10)`` around it; the MDCT being orthonormal, that variance is the mean
    squared error allowed on each MDCT coefficient there. The output is
    that allowed noise energy per coefficient (the mean over the band's
    coefficients), in squared units of the signals: a uniform quantizer of
    step ``sqrt(12 T)`` makes exactly this noise.

    Silence gives the absolute threshold of hearing; a level change of the
    input moves the tonal and noise maskers by the same dB and the
    thresholds with them, except where the spreading function's
    level-dependent slopes or the absolute threshold take over. Signals
    must be finite: NaN and infinities raise a ValueError. Frames beyond
    the end of a signal read zeros, so a single sample or a signal shorter
    than the FFT is valid.

    Examples
    --------
    >>> import numpy as np
    >>> from skcompress import PsychoacousticModel
    >>> t = np.arange(4000) / 8000
    >>> X = 0.5 * np.sin(2 * np.pi * 1000 * t)[None]
    >>> model = PsychoacousticModel(sample_rate=8000, frame_length=256).fit(X)
    >>> T = model.transform(X)
    >>> T.shape, model.n_frames_, model.n_bands_
    ((1, 627), 33, 19)
    >>> tonal, noise = model.maskers(X)       # a tonal masker at 1 kHz (FFT bin 32)
    >>> np.flatnonzero(np.isfinite(tonal[0, 16])).tolist()
    [32]
    >>> per_bin = PsychoacousticModel(sample_rate=8000, frame_length=256, bands="bins")
    >>> int(per_bin.fit_transform(X).reshape(33, 128)[16].argmax())   # MDCT bin of 1 kHz
    32
    """

    _parameter_constraints = {
        "sample_rate": [Interval(Real, 0, None, closed="neither")],
        "frame_length": [Interval(Integral, 2, None, closed="left")],
        "fft_length": [Interval(Integral, 8, None, closed="left"), None],
        "bands": [StrOptions({"sfb", "bark", "bins"})],
        "reduce": [StrOptions({"min", "mean"})],
        "full_scale": [Interval(Real, 0, None, closed="neither")],
        "output": [StrOptions({"thresholds", "mdct"})],
        "window": [StrOptions({"sine", "kbd"})],
        "layout": [StrOptions(set(LAYOUTS))],
        "dtype": "no_validation",  # checked when used
    }

    def __init__(
        self,
        sample_rate=44100,
        frame_length=256,
        *,
        fft_length=None,
        bands="sfb",
        reduce="min",
        full_scale=1.0,
        output="thresholds",
        window="sine",
        layout="flat",
        dtype=None,
    ):
        self.sample_rate = sample_rate
        self.frame_length = frame_length
        self.fft_length = fft_length
        self.bands = bands
        self.reduce = reduce
        self.full_scale = full_scale
        self.output = output
        self.window = window
        self.layout = layout
        self.dtype = dtype

    @_fit_context(prefer_skip_nested_validation=True)
    @unfitted_on_error
    def fit(self, X, y=None):
        """Record the frame grid, the bands and the FFT length.

        Parameters
        ----------
        X : array-like of shape (n_samples, length)
            1-D signals, one per row.
        y : None
            Ignored.

        Returns
        -------
        self : PsychoacousticModel
        """
        X = self._check_signals(X, reset=True)
        length = X.shape[1]
        if self.frame_length % 2 or self.frame_length > length:
            raise ValueError(
                f"PsychoacousticModel: frame_length must be even and at most the signal length "
                f"({length}, n_features={length}), as MDCT's; got "
                f"frame_length={self.frame_length}."
            )
        M = self.frame_length // 2
        self.n_bins_ = M
        self.n_frames_ = -(-length // M) + 1
        self.band_edges_ = self._band_edges(M)
        self.n_bands_ = len(self.band_edges_) - 1
        self.fft_length_ = self._fft_length()
        silence = self._thresholds(np.zeros((1, length)))
        self.absolute_threshold_ = silence[0, 0].astype(np.float64)
        mdct = MDCT(self.frame_length, window=self.window)
        self.mdct_ = mdct.fit(X) if self.output == "mdct" else None
        return self

    def transform(self, X):
        """Masking thresholds (and, with ``output="mdct"``, the MDCT) of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, length)
            Signals of the length seen at ``fit``.

        Returns
        -------
        Xt : StructuredArray
            ``n_frames_`` frames of ``n_bands_`` allowed noise energies per
            MDCT coefficient (``output="mdct"``: ``n_bins_`` coefficients then
            the ``n_bands_`` thresholds) in ``layout``; float32 for float32
            input, float64 otherwise.
        """
        check_is_fitted(self)
        X = self._check_signals(X, reset=False)
        values = self._thresholds(X).astype(X.dtype, copy=False)
        if self.output == "mdct":
            coefs = np.asarray(self.mdct_.transform(X)).reshape(len(X), self.n_frames_, -1)
            values = np.concatenate([coefs.astype(X.dtype, copy=False), values], axis=-1)
        blocks = values[:, :, None, :]
        out = with_structure(to_layout(blocks, self.layout, self), self.output_structure_)
        return as_output_dtype(self, out)

    @available_if(lambda self: self.output == "mdct")
    def inverse_transform(self, X):
        """Signals from ``output="mdct"`` values: the thresholds dropped, the MDCT inverted.

        Only with ``output="mdct"``: masking thresholds alone do not
        determine a signal.

        Parameters
        ----------
        X : array-like
            Values in the step's ``layout`` (2-D "flat" always works).

        Returns
        -------
        X_original : ndarray of shape (n_samples, length)
        """
        check_is_fitted(self)
        M, F, k = self.n_bins_, self.n_frames_, self.n_bins_ + self.n_bands_
        cells = from_layout(np.asarray(X), (F,), 1, k, self.layout, "PsychoacousticModel")
        coefs = np.ascontiguousarray(cells.reshape(len(cells), F, k)[..., :M])
        return self.mdct_.inverse_transform(coefs.reshape(len(coefs), -1))

    def maskers(self, X):
        """The tonal and noise maskers of every frame, after decimation.

        Parameters
        ----------
        X : array-like of shape (n_samples, length)
            Signals of the length seen at ``fit``.

        Returns
        -------
        tonal, noise : ndarray of float64, shape (n_samples, n_frames, fft_length // 2 + 1)
            Level in dB (96 dB: a full-scale sine) of the masker at each FFT
            bin (bin ``j`` is ``j * sample_rate / fft_length`` Hz), ``-inf``
            where there is none.
        """
        check_is_fitted(self)
        X = np.asarray(self._check_signals(X, reset=False), dtype=np.float64)
        tables = _tables(float(self.sample_rate), self.fft_length_, self.n_bins_)
        power = self._power(X, tables)
        tonal, noise = _maskers(power.reshape(-1, power.shape[-1]), tables)
        return tonal.reshape(power.shape), noise.reshape(power.shape)

    def get_feature_names_out(self, input_features=None):
        """Names of the "flat" output features: ``f<frame>_b<band>`` (and ``f<frame>_k<bin>``).

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
        bins = [f"k{k}" for k in range(self.n_bins_)] if self.output == "mdct" else []
        cell = bins + [f"b{b}" for b in range(self.n_bands_)]
        names = [f"f{f}_{c}" for f in range(self.n_frames_) for c in cell]
        return np.asarray(names, dtype=object)

    @property
    def output_structure_(self):
        """:class:`~skcompress._core._structure.Structure` of :meth:`transform`'s output.

        Kind "masking" (steps that read MDCT frames refuse it: its values
        are not all coefficients), ``grid = (n_frames_,)``; ``settings`` holds
        ``("masking_bands", n_bands_)`` (the last ``n_bands_`` values of
        every frame are allowed noise energies), ``("band_edges", ...)`` in
        MDCT bins, ``("sample_rate", ...)``, ``("frame_length", ...)`` and
        ``("model", "iso11172-3-model1")``. ``k`` is ``n_bands_``
        (``output="thresholds"``) or ``n_bins_ + n_bands_`` ("mdct").
        """
        check_is_fitted(self)
        k = self.n_bands_ + (self.n_bins_ if self.output == "mdct" else 0)
        settings = (
            ("masking_bands", int(self.n_bands_)),
            ("band_edges", tuple(int(e) for e in self.band_edges_)),
            ("sample_rate", float(self.sample_rate)),
            ("frame_length", int(self.frame_length)),
            ("model", "iso11172-3-model1"),
        )
        return Structure(
            "masking",
            "PsychoacousticModel",
            (self.n_frames_,),
            1,
            k,
            self.layout,
            settings=settings,
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    @classmethod
    def get_test_params(cls):
        # scikit-learn's checks fit on 2 features, so frames of 2 samples.
        return [
            {"sample_rate": 8000, "frame_length": 2},
            {"sample_rate": 8000, "frame_length": 2, "output": "mdct", "bands": "bark"},
        ]

    # -- helpers -----------------------------------------------------------

    def _check_signals(self, X, *, reset):
        structure = structure_of(X)
        if structure is not None:
            raise refuse(
                "PsychoacousticModel",
                structure,
                "1-D signals (audio, one per row)",
                "Give it the signals themselves, before any other step.",
            )
        if getattr(X, "ndim", 2) > 2:
            raise ValueError(
                f"PsychoacousticModel takes 1-D signals as a 2-D array (n_samples, length); got "
                f"an array of shape {tuple(X.shape)}. Analyse multichannel audio one channel "
                "X[..., c] at a time."
            )
        return check_signals(self, X, reset=reset)

    def _band_edges(self, M):
        if self.bands == "bins":
            return np.arange(M + 1, dtype=np.int64)
        if self.bands == "bark":
            return band_edges(M, float(self.sample_rate), scale="bark")
        rate = float(self.sample_rate)
        table = next((t for r, t in _SFB_LONG.items() if abs(r - rate) < 1e-6), None)
        if table is None:
            raise ValueError(
                f"PsychoacousticModel: bands='sfb' needs one of MP3's sampling rates "
                f"{sorted(_SFB_LONG)}; got sample_rate={self.sample_rate}. Use bands='bark' or "
                "bands='bins' at other rates."
            )
        edges = np.rint(np.asarray(table) * M / _GRANULE).astype(np.int64)
        return np.unique(np.concatenate([[0], edges, [M]]))

    def _fft_length(self):
        if self.fft_length is not None:
            return int(self.fft_length)
        need = max(self.frame_length, 0.023 * float(self.sample_rate), 8)
        return int(2 ** np.ceil(np.log2(need)))

    def _thresholds(self, X):
        """Allowed noise per MDCT coefficient, ``(n, n_frames, n_bands)``, float64."""
        n, length = X.shape
        N, M, F = self.fft_length_, self.n_bins_, self.n_frames_
        tables = _tables(float(self.sample_rate), N, M)
        out = np.empty((n, F, self.n_bands_))
        rows = max(1, (1 << 22) // (F * N))  # signals per chunk
        for start in range(0, n, rows):
            part = np.asarray(X[start : start + rows], dtype=np.float64)
            k = len(part)
            power = self._power(part, tables)
            db = _global_threshold_db(power.reshape(k * F, -1), tables)
            out[start : start + k] = self._per_band(db, tables).reshape(k, F, -1)
        return out

    def _power(self, X, tables):
        """Bin powers ``(n, n_frames, N / 2 + 1)`` of the Hann-windowed frames, 96 dB scale."""
        n, length = X.shape
        N, M, F = self.fft_length_, self.n_bins_, self.n_frames_
        padded = np.zeros((n, (F - 1) * M + N))
        padded[:, N // 2 : N // 2 + length] = X
        frames = np.lib.stride_tricks.sliding_window_view(padded, N, axis=1)[:, ::M][:, :F]
        spectrum = np.fft.rfft(frames * tables.window, axis=-1)
        power = spectrum.real**2 + spectrum.imag**2
        return power / (self.full_scale * N / 4) ** 2

    def _per_band(self, db, tables):
        """Global threshold (dB at FFT bins) to allowed noise per MDCT coefficient per band."""
        at = db[:, tables.lower] * (1 - tables.frac) + db[:, tables.lower + 1] * tables.frac
        noise = (self.full_scale**2 * self.fft_length_ / 6) * 10 ** ((at - _FULL_SCALE_DB) / 10)
        starts = self.band_edges_[:-1]
        if self.reduce == "min":
            return np.minimum.reduceat(noise, starts, axis=1)
        return np.add.reduceat(noise, starts, axis=1) / np.diff(self.band_edges_)


class _Tables:
    """Per-bin constants of the model for one rate, FFT length and MDCT grid."""


@lru_cache(maxsize=16)
def _tables(sample_rate, N, M):
    t = _Tables()
    K = N // 2 + 1
    hz = np.arange(K) * sample_rate / N
    t.window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N) / N)  # periodic Hann
    t.z = 13 * np.arctan(0.00076 * hz) + 3.5 * np.arctan((hz / 7500) ** 2)
    t.ath = np.minimum(_terhardt_db(np.maximum(hz, 20.0)), _MAX_DB)
    # Layer II's tonal neighbourhood (N = 1024 at 44.1 kHz: 2, 3, 6, 12 bins) in Hz
    reach = np.select([hz < 2800, hz < 5500, hz < 11000], [86.0, 129.0, 258.0], 517.0)
    t.dk = np.maximum(1, np.rint(reach * N / sample_rate)).astype(np.int64)
    # critical bands: integer Bark; the DC bin takes no part in noise maskers
    band = np.floor(t.z).astype(np.int64)
    members = [np.flatnonzero(band[1:] == b) + 1 for b in np.unique(band[1:])]
    members = [m for m in members if m.size]
    t.noise_bins = np.array([int(np.rint(np.exp(np.log(m).mean()))) for m in members])
    onehot = np.zeros((K, len(members)))
    for b, m in enumerate(members):
        onehot[m, b] = 1.0
    t.onehot = onehot
    # bins within 0.5 Bark of each other, per distance d: close[d][k] for (k, k + d)
    close = [None]
    for d in range(1, K):
        near = t.z[d:] - t.z[:-d] < 0.5
        if not near.any():
            break
        close.append(near)
    t.close = close
    # MDCT bin centres (k + 1/2) fs / (2 M) as fractional FFT bins
    pos = np.minimum((np.arange(M) + 0.5) * N / (2 * M), K - 1)
    t.lower = np.minimum(np.floor(pos).astype(np.int64), K - 2) if K > 1 else np.zeros(M, int)
    t.frac = pos - t.lower
    return t


def _terhardt_db(hz):
    """Terhardt's absolute threshold of hearing in dB SPL (f in Hz)."""
    f = hz / 1000.0
    return 3.64 * f**-0.8 - 6.5 * np.exp(-0.6 * (f - 3.3) ** 2) + 1e-3 * f**4


def _shift(a, d, fill):
    """``a[..., k + d]`` at every k (``fill`` beyond the ends)."""
    out = np.full_like(a, fill)
    if d > 0:
        out[..., :-d] = a[..., d:]
    elif d < 0:
        out[..., -d:] = a[..., :d]
    else:
        out[...] = a
    return out


def _maskers(power, t):
    """Model 1's tonal and noise maskers (dB at their bins, -inf elsewhere), decimated."""
    rows, K = power.shape
    P = _FULL_SCALE_DB + 10 * np.log10(np.maximum(power, 10 ** (_MIN_DB / 10)))
    # tonal maskers: local maxima 7 dB above the bins 2..dk away
    tonal = (P > _shift(P, -1, np.inf)) & (P > _shift(P, 1, np.inf))
    tonal[:, 0] = tonal[:, -1] = False
    for j in range(2, int(t.dk.max()) + 1):
        far = t.dk >= j
        tonal &= ~far | ((P > _shift(P, -j, -np.inf) + 7) & (P > _shift(P, j, -np.inf) + 7))
    trio = _shift(power, -1, 0.0) + power + _shift(power, 1, 0.0)
    tonal_db = np.where(tonal, _FULL_SCALE_DB + 10 * np.log10(np.maximum(trio, 1e-300)), -np.inf)
    # noise maskers: each critical band's power outside the tonal neighbourhoods
    near_tonal = tonal.copy()
    for j in range(1, int(t.dk.max()) + 1):
        reach = tonal & (t.dk >= j)
        near_tonal |= _shift(reach, -j, False) | _shift(reach, j, False)
    residual = np.where(near_tonal, 0.0, power) @ t.onehot
    noise_db = np.full((rows, K), -np.inf)
    noise_db[:, t.noise_bins] = np.where(
        residual > 0, _FULL_SCALE_DB + 10 * np.log10(np.maximum(residual, 1e-300)), -np.inf
    )
    # decimation: below the absolute threshold, then the weaker of two within 0.5 Bark
    tonal_db[tonal_db < t.ath] = -np.inf
    noise_db[noise_db < t.ath] = -np.inf
    both = np.isfinite(tonal_db) & np.isfinite(noise_db)
    noise_db[both & (noise_db <= tonal_db)] = -np.inf
    tonal_db[both & (tonal_db < noise_db)] = -np.inf
    strongest = np.maximum(tonal_db, noise_db)
    beaten = np.zeros((rows, K), dtype=bool)
    for d in range(1, len(t.close)):
        near = t.close[d]
        low, high = strongest[:, :-d], strongest[:, d:]
        beaten[:, :-d] |= near & (high > low)
        beaten[:, d:] |= near & (low >= high)
    tonal_db[beaten] = -np.inf
    noise_db[beaten] = -np.inf
    return tonal_db, noise_db


def _global_threshold_db(power, t):
    """Model 1's global masking threshold (dB at each FFT bin) of frames' bin powers."""
    rows, K = power.shape
    tonal_db, noise_db = _maskers(power, t)
    # individual thresholds, summed in power with the absolute threshold
    total = np.broadcast_to(10 ** (t.ath / 10), (rows, K)).copy()
    for levels, kappa, offset in ((tonal_db, 0.275, 6.025), (noise_db, 0.175, 2.025)):
        r, j = np.nonzero(np.isfinite(levels))
        if r.size == 0:
            continue
        L = levels[r, j]
        step = max(1, _PIECE_VALUES // K)
        for s in range(0, r.size, step):
            rs, js, Ls = r[s : s + step], j[s : s + step], L[s : s + step]
            dz = t.z[None, :] - t.z[js, None]
            Lc = Ls[:, None]
            spread = np.select(
                [dz < -3, dz < -1, dz < 0, dz < 1, dz < 8],
                [
                    -np.inf,
                    17 * dz - 0.4 * Lc + 11,
                    (0.4 * Lc + 6) * dz,
                    -17 * dz,
                    (0.15 * Lc - 17) * dz - 0.15 * Lc,
                ],
                -np.inf,
            )
            level = np.minimum(Lc - kappa * t.z[js, None] - offset + spread, _MAX_DB)
            contribution = 10 ** (level / 10)
            rows_of = scipy.sparse.csr_matrix(
                (np.ones(rs.size), (rs, np.arange(rs.size))), shape=(rows, rs.size)
            )
            total += rows_of @ contribution
    return np.clip(10 * np.log10(total), _MIN_DB, _MAX_DB)


PsychoacousticModel.__doc__ = fill_doc(
    PsychoacousticModel.__doc__, {"{dtype_parameter}": DTYPE_PARAMETER}
)
