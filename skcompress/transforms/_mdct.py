"""MDCT: the lapped transform of MP3, AAC, Vorbis and Opus/CELT, and its bands."""

from functools import lru_cache
from numbers import Integral, Real

import numpy as np
import scipy.fft
from scipy.special import i0e
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._core._array_api import asarray, astype, contiguous, float_dtype, get_namespace, zeros
from .._core._chunks import chunked, fit_on_shape
from .._core._contract import LAYOUTS, check_input_features, check_signals, from_layout, to_layout
from .._core._docs import chunk_parameters
from .._core._estimator import PublicEstimatorMixin, unfitted_on_error
from .._core._structure import Structure, refuse, structure_of, with_structure

# Opus celt/modes.c ``eband5ms`` (RFC 6716, section 4.3): CELT's band edges in
# MDCT bins of a 2.5 ms frame, i.e. in units of 200 Hz at every sampling rate.
_CELT_EBAND_5MS = np.array(
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28, 34, 40, 48, 60, 78, 100]
)
_CELT_UNIT_HZ = 200
_SQRT2 = np.sqrt(2.0)
# Signals per chunk are chosen so that one chunk of frames stays near this many
# values: the fold, the DCT and the copy out then work in cache.
_CHUNK_VALUES = 1 << 18


@chunk_parameters()
class MDCT(TransformerMixin, PublicEstimatorMixin, BaseEstimator):
    """Modified DCT of 50%-overlapped frames, as MP3, AAC, Vorbis and Opus use it.

    Each signal (a row of a 2-D array) is cut into frames of ``frame_length
    = 2 M`` samples that advance by ``M``; every frame is windowed and gives
    ``M`` coefficients

    ``X[k] = sqrt(2 / M) sum_n w[n] x[n] cos(pi / M (n + 1/2 + M/2) (k + 1/2))``.

    The signal is padded with ``M`` zeros in front and with zeros at the end up
    to a whole number of hops plus ``M``, so every sample lies in two frames
    and the time-domain aliasing of one frame cancels that of the next (TDAC):
    :meth:`inverse_transform` overlap-adds the windowed frames and crops back
    to the original length exactly. With a window satisfying the
    Princen-Bradley condition ``w[n]**2 + w[n + M]**2 = 1`` the transform is
    orthogonal on the signal (Parseval: its energy equals the energy of the
    coefficients).

    Parameters
    ----------
    frame_length : int, default=256
        Window length ``N = 2 M``: even, at least 2 and at most the signal
        length (MP3 long blocks use 36, AAC 2048 and 256 for short blocks;
        a 20 ms CELT frame at 48 kHz has 960 bins, with a low-overlap window).
    window : {"sine", "kbd"}, default="sine"
        The sine window of MP3's long blocks, ``sin(pi (n + 1/2) / N)``, or
        the Kaiser-Bessel-derived window of AAC and AC-3.
    alpha : float, default=4.0
        Shape of the "kbd" window: its Kaiser kernel has ``beta = pi *
        alpha`` (AAC: 4 for long blocks, 6 for short ones; AC-3: 5). Ignored
        by "sine".
    layout : {"flat", "blocks", "channels_first"}, default="flat"
        Output layout, see :mod:`skcompress` (the data contract): "flat" is
        ``(n, n_frames * M)`` frame by frame, "blocks" ``(n, n_frames, M)``,
        "channels_first" ``(n, M, n_frames)`` for 1-D convolutional networks.
    {chunk_parameters}

    Attributes
    ----------
    signal_shape_ : tuple of int
        ``(length,)`` of the signals seen at ``fit``.
    n_bins_ : int
        Coefficients per frame, ``M = frame_length // 2``.
    n_frames_ : int
        Frames per signal, ``ceil(length / M) + 1``.
    window_ : ndarray of float64, shape (frame_length,)
        The analysis and synthesis window.
    n_features_in_ : int
        Samples per input signal.
    feature_names_in_ : ndarray of str
        Column names, when ``fit`` was given a DataFrame.

    See Also
    --------
    band_edges : Bark or CELT bands over the ``M`` bins.
    band_steps : A per-bin quantization vector from one step per band.
    skcompress.PerceptualQuantizer : Quantizes these coefficients with it.

    Notes
    -----
    Only 1-D signals (2-D input) are taken: in skcompress a 3-D array is a
    batch of gray images, so multichannel audio ``(n, length, channels)`` is
    refused; transform each channel ``X[..., c]`` on its own. So is the
    output of another skcompress step (images, coefficients, codes), even
    flattened to 2-D: its rows are not sound. Coefficients
    come out with the bin axis last in "flat" and "blocks", so a vector of
    ``M`` steps broadcasts over every frame.

    The padded signal is viewed as hops of ``M`` samples; frame ``f`` is hops
    ``f`` and ``f + 1``. The windowed quarters ``(a, b, c, d)`` of every frame
    are folded into ``(-c_r - d, a - b_r)`` (``_r`` reversed), whose DCT-IV
    is the MDCT: scipy.fft computes it, for even ``M``, as the classic
    complex FFT of ``N / 4`` points between pre- and post-twiddles. For odd
    ``M`` the fold leads to a DCT-III instead. The inverse unfolds the DCT-IV
    (DCT-II) of the coefficients. All frames of a chunk of signals go
    through one call.

    Examples
    --------
    >>> import numpy as np
    >>> from skcompress import MDCT, PerceptualQuantizer
    >>> from skcompress.transforms import band_edges, band_steps
    >>> X = np.random.default_rng(0).standard_normal((3, 1000)).astype(np.float32)
    >>> mdct = MDCT(frame_length=256).fit(X)
    >>> G = mdct.transform(X)
    >>> G.shape, G.dtype, mdct.n_frames_   # 9 frames of 128 bins
    ((3, 1152), dtype('float32'), 9)
    >>> float(np.abs(mdct.inverse_transform(G) - X).max()) < 1e-5
    True
    >>> edges = band_edges(mdct.n_bins_, sample_rate=8000, scale="celt")
    >>> edges.tolist()   # Opus's 13 narrowband bands
    [0, 6, 13, 19, 26, 32, 38, 45, 51, 64, 77, 90, 102, 128]
    >>> steps = band_steps(np.geomspace(0.1, 1.0, len(edges) - 1), edges)
    >>> q = PerceptualQuantizer(table=steps).fit(G)
    >>> q.transform(G).shape
    (3, 1152)
    """

    _parameter_constraints = {
        "frame_length": [Interval(Integral, 2, None, closed="left")],
        "window": [StrOptions({"sine", "kbd"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "layout": [StrOptions(set(LAYOUTS))],
        "batch_size": [Interval(Integral, 1, None, closed="left"), None],
        "n_jobs": [Integral, None],
        "device": "no_validation",  # checked when used: torch is optional
        "dtype": "no_validation",  # checked when used
    }

    def __init__(
        self,
        frame_length=256,
        *,
        window="sine",
        alpha=4.0,
        layout="flat",
        batch_size=None,
        n_jobs=None,
        device=None,
        dtype=None,
    ):
        self.frame_length = frame_length
        self.window = window
        self.alpha = alpha
        self.layout = layout
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.device = device
        self.dtype = dtype

    @fit_on_shape
    @_fit_context(prefer_skip_nested_validation=True)
    @unfitted_on_error
    def fit(self, X, y=None):
        """Record the signal length, the frame grid and the window.

        Parameters
        ----------
        X : array-like of shape (n_samples, length)
            1-D signals, one per row.
        y : None
            Ignored.

        Returns
        -------
        self : MDCT
        """
        if self.frame_length % 2:
            raise ValueError(
                f"MDCT: frame_length must be even (two hops of M = frame_length / 2 "
                f"samples, 50% overlap); got frame_length={self.frame_length}."
            )
        X = self._check_signals(X, reset=True)
        length = X.shape[1]
        if self.frame_length > length:
            raise ValueError(
                f"MDCT: frame_length={self.frame_length} is longer than the signals "
                f"(length {length}, n_features={length}); expected an even frame_length "
                f"<= {length}."
            )
        self.n_bins_ = self.frame_length // 2
        self.n_frames_ = -(-length // self.n_bins_) + 1
        self.window_ = _window(self.frame_length, self.window, self.alpha)
        return self

    @chunked
    def transform(self, X):
        """MDCT coefficients of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, length)
            Signals of the length seen at ``fit``.

        Returns
        -------
        Xt : ndarray
            Coefficients in ``layout``; float32 for float32 input, float64
            otherwise.
        """
        check_is_fitted(self)
        X = self._check_signals(X, reset=False)
        n, length = X.shape
        M, F = self.n_bins_, self.n_frames_
        h, odd = M // 2, M % 2
        wa, wb, wc, wd = self._window_quarters(X.dtype)
        wb_r, wc_r = wb[::-1].copy(), wc[::-1].copy()
        mid = -_SQRT2 * self.window_[M + h]
        coefs = np.empty((n, F, 1, M), dtype=X.dtype)
        step = self._chunk(n)
        hops = np.zeros((step, F + 1, M), dtype=X.dtype)
        folded = np.empty((step, F, M), dtype=X.dtype)
        scratch = np.empty((step, F, h), dtype=X.dtype)
        for start in range(0, n, step):
            k = min(step, n - start)
            hops[:k].reshape(k, -1)[:, M : M + length] = X[start : start + k]
            a, b = hops[:k, :-1, :h], hops[:k, :-1, h + odd :]
            c, d = hops[:k, 1:, :h], hops[:k, 1:, h + odd :]
            low, high = folded[:k, :, odd : odd + h], folded[:k, :, odd + h :]
            # (-c_r - d, a - b_r), the minus signs held by the window quarters
            np.multiply(c[..., ::-1], wc_r, out=low)
            low += np.multiply(d, wd, out=scratch[:k])
            np.multiply(a, wa, out=high)
            high += np.multiply(b[..., ::-1], wb_r, out=scratch[:k])
            if odd:
                # the middle sample of the second hop folds onto the DC-like term
                np.multiply(hops[:k, 1:, h], mid, out=folded[:k, :, 0])
            coefs[start : start + k, :, 0] = scipy.fft.dct(
                folded[:k], type=3 if odd else 4, norm="ortho", overwrite_x=True
            )
        return with_structure(to_layout(coefs, self.layout, self), self.output_structure_)

    @chunked
    def inverse_transform(self, X):
        """Signals from MDCT coefficients, by overlap-add (TDAC).

        Parameters
        ----------
        X : array-like
            Coefficients in the step's ``layout`` (2-D "flat" always works).

        Returns
        -------
        X_original : ndarray of shape (n_samples, length)
            float32 for float32 coefficients, float64 otherwise.
        """
        check_is_fitted(self)
        X = np.asarray(X)
        dtype = float_dtype(X)
        n, length = len(X), self.signal_shape_[0]
        M, F = self.n_bins_, self.n_frames_
        h, odd = M // 2, M % 2
        coefs = from_layout(X, (F,), 1, M, self.layout, name="MDCT.inverse_transform")
        coefs = coefs.reshape(n, F, M)
        wa, wb, wc, wd = self._window_quarters(dtype)
        mid = -_SQRT2 * self.window_[M + h]
        signals = np.empty((n, length), dtype=dtype)
        step = self._chunk(n)
        hops = np.empty((step, F - 1, M), dtype=dtype)
        scratch = np.empty((step, F - 1, h), dtype=dtype)
        for start in range(0, n, step):
            k = min(step, n - start)
            unfolded = scipy.fft.dct(
                coefs[start : start + k].astype(dtype),
                type=2 if odd else 4,
                norm="ortho",
                overwrite_x=True,
            )
            low, high = unfolded[..., odd : odd + h], unfolded[..., odd + h :]
            # Output hop j (1..F-1, the signal) is the head of frame j plus the
            # tail of frame j-1.
            np.multiply(high[:, 1:], wa, out=hops[:k, :, :h])
            hops[:k, :, :h] += np.multiply(low[:, :-1, ::-1], wc, out=scratch[:k])
            np.multiply(high[:, 1:, ::-1], wb, out=hops[:k, :, h + odd :])
            hops[:k, :, h + odd :] += np.multiply(low[:, :-1], wd, out=scratch[:k])
            if odd:
                np.multiply(unfolded[:, :-1, 0], mid, out=hops[:k, :, h])
            signals[start : start + k] = hops[:k].reshape(k, -1)[:, :length]
        return signals

    def get_feature_names_out(self, input_features=None):
        """Names of the "flat" output features, ``f<frame>_k<bin>``.

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
        names = [f"f{f}_k{k}" for f in range(self.n_frames_) for k in range(self.n_bins_)]
        return np.asarray(names, dtype=object)

    @property
    def output_structure_(self):
        """:class:`~skcompress._core._structure.Structure` of :meth:`transform`'s output.

        MDCT frames: kind "mdct", ``grid = (n_frames_,)``, ``k = n_bins_``.
        """
        check_is_fitted(self)
        return Structure("mdct", "MDCT", (self.n_frames_,), 1, self.n_bins_, self.layout)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    @classmethod
    def get_test_params(cls):
        # scikit-learn's checks fit on 2 features, so frames of 2 samples.
        return [{"frame_length": 2}, {"frame_length": 2, "window": "kbd", "alpha": 6.0}]

    def _torch_kernel(self, method):
        """The kernel of tensors (see :mod:`skcompress._core._chunks`).

        torch has no DCT-IV: tensors take the MDCT as one matrix product per
        frame, the matrix computed by the numpy path itself.
        """
        kernels = {"transform": self._transform_matrix, "inverse_transform": self._inverse_matrix}
        return kernels.get(method)

    def _transform_matrix(self, X):
        """:meth:`transform` as a product with the MDCT matrix (numpy or torch)."""
        X = self._check_signals(X, reset=False, keep_tensors=True)
        n, length = X.shape
        M, F = self.n_bins_, self.n_frames_
        padded = zeros((n, (F + 1) * M), None, like=X)
        padded[:, M : M + length] = X
        hops = padded.reshape(n, F + 1, M)
        frames = get_namespace(X).concatenate([hops[:, :-1], hops[:, 1:]], axis=-1)
        coefs = frames @ asarray(self._matrix(), like=X, dtype="like")
        return to_layout(coefs.reshape(n, F, 1, M), self.layout, self)

    def _inverse_matrix(self, Xt):
        """:meth:`inverse_transform` as a product with the MDCT matrix (numpy or torch)."""
        Xt = astype(Xt, float_dtype(Xt))
        M, F, length = self.n_bins_, self.n_frames_, self.signal_shape_[0]
        coefs = from_layout(Xt, (F,), 1, M, self.layout, "MDCT.inverse_transform")
        n = len(coefs)
        windowed = coefs.reshape(n, F, M) @ asarray(self._matrix().T, like=Xt, dtype="like")
        # hop j of the signal: head of frame j plus tail of frame j - 1 (TDAC)
        hops = windowed[:, 1:, :M] + windowed[:, :-1, M:]
        return contiguous(hops.reshape(n, -1)[:, :length])

    # -- helpers -----------------------------------------------------------

    def _matrix(self):
        """The MDCT of one frame as a ``(2 M, M)`` matrix."""
        return _mdct_matrix(self.frame_length, self.window, float(self.alpha))

    def _check_signals(self, X, *, reset, keep_tensors=False):
        structure = structure_of(X)
        if structure is not None:
            raise refuse(
                "MDCT",
                structure,
                "1-D signals (audio, one per row)",
                "Give it the signals themselves, before any other step.",
            )
        if not hasattr(X, "ndim"):
            X = np.asarray(X)
        if X.ndim > 2:
            raise ValueError(
                f"MDCT takes 1-D signals as a 2-D array (n_samples, length); got an array "
                f"of shape {tuple(X.shape)}. In skcompress a 3-D array is a batch of gray "
                "images: transform multichannel audio (n_samples, length, channels) one "
                "channel X[..., c] at a time."
            )
        return check_signals(self, X, reset=reset, keep_tensors=keep_tensors)

    def _chunk(self, n):
        return max(1, min(n, _CHUNK_VALUES // ((self.n_frames_ + 1) * self.n_bins_)))

    def _window_quarters(self, dtype):
        """Quarters ``(a, b, c, d)`` of the window, with the fold's signs."""
        w = self.window_.astype(dtype)
        M = self.n_bins_
        h, odd = M // 2, M % 2
        return w[:h], -w[h + odd : M], -w[M : M + h], -w[M + h + odd :]


@lru_cache(maxsize=16)
def _mdct_matrix(frame_length, window, alpha):
    """The MDCT of one frame as a ``(2 M, M)`` matrix, from the FFT path itself."""
    M = frame_length // 2
    mdct = MDCT(frame_length, window=window, alpha=alpha).fit(np.zeros((1, 2 * M)))
    # signals of length 2 M have 3 frames; frame 1 is samples 0 .. 2 M - 1
    matrix = np.asarray(mdct.transform(np.eye(2 * M))).reshape(2 * M, 3, M)[:, 1]
    matrix.flags.writeable = False
    return matrix


def _window(frame_length, kind, alpha):
    """Princen-Bradley window of ``frame_length = 2 M`` samples."""
    M = frame_length // 2
    if kind == "sine":
        return np.sin(np.pi * (np.arange(frame_length) + 0.5) / frame_length)
    # Kaiser kernel of M + 1 points, beta = pi alpha; i0e with the exponent
    # shifted by beta stays finite however large alpha is.
    beta = np.pi * alpha
    r = beta * np.sqrt(1.0 - np.linspace(-1.0, 1.0, M + 1) ** 2)
    kernel = i0e(r) * np.exp(r - beta)
    rise = np.sqrt(np.cumsum(kernel[:M]) / kernel.sum())
    return np.concatenate([rise, rise[::-1]])


def _hz_to_bark(hz):
    """Traunmüller's (1990) critical-band rate, with his corrections."""
    z = 26.81 * hz / (1960.0 + hz) - 0.53
    return np.where(z < 2.0, 0.85 * z + 0.3, np.where(z > 20.1, 1.22 * z - 4.422, z))


def _bark_to_hz(z):
    z = np.where(z < 2.0, (z - 0.3) / 0.85, np.where(z > 20.1, (z + 4.422) / 1.22, z))
    return 1960.0 * (z + 0.53) / (26.28 - z)


def band_edges(n_bins, sample_rate, scale="bark"):
    """Edges of perceptual bands over the ``n_bins`` bins of an MDCT.

    Bin ``k`` covers the frequencies ``[k, k + 1) * sample_rate / (2 n_bins)``
    and belongs to the band whose edges bracket its centre frequency. Bands
    narrower than one bin merge with the next, bands above the Nyquist
    frequency are dropped, and the bins above the last edge form one last
    band, so the edges always cover every bin.

    Parameters
    ----------
    n_bins : int
        Bins per frame, ``MDCT.n_bins_`` (``frame_length // 2``).
    sample_rate : float
        Sampling rate of the signals in Hz.
    scale : {"bark", "celt"}, default="bark"
        "bark": one band per Bark (critical band), band ``i`` starting at
        ``i`` Bark on Traunmüller's scale ``z = 26.81 f / (1960 + f) - 0.53``
        (plus his corrections below 2 and above 20.1 Bark), within 1% of
        Zwicker's critical-band table above 300 Hz. "celt": the 21 bands of
        Opus's CELT layer (``eband5ms`` in celt/modes.c, edges every 200 Hz up
        to 1.6 kHz, then wider up to 20 kHz). Opus defines them in bins of a
        2.5 ms frame, 200 Hz each at any rate, and scales them by the number
        of 2.5 ms blocks in a frame; here each edge in Hz maps to a bin, which
        gives exactly Opus's edges when ``n_bins`` is ``sample_rate / 400``
        times a power of two (960 bins at 48 kHz: ``eband5ms * 8``). At 48 kHz
        the bins above 20 kHz, which Opus does not code, form a last band; at
        8 kHz the first 13 bands fill 0-4 kHz, Opus's narrowband.

    Returns
    -------
    edges : ndarray of int64, shape (n_bands + 1,)
        Increasing bin indices from 0 to ``n_bins``; band ``i`` holds bins
        ``edges[i]:edges[i + 1]``.

    See Also
    --------
    band_steps : A per-bin step vector from one step per band.

    Examples
    --------
    >>> from skcompress.transforms import band_edges
    >>> band_edges(960, 48000, scale="celt")[:10].tolist()
    [0, 8, 16, 24, 32, 40, 48, 56, 64, 80]
    >>> band_edges(128, 8000, scale="bark").tolist()
    [0, 3, 7, 10, 13, 16, 20, 24, 29, 35, 41, 47, 55, 64, 74, 86, 101, 118, 128]
    """
    if isinstance(n_bins, bool) or not isinstance(n_bins, Integral) or n_bins < 1:
        raise ValueError(f"band_edges: n_bins must be an int >= 1; got n_bins={n_bins!r}.")
    if (
        isinstance(sample_rate, bool)
        or not isinstance(sample_rate, Real)
        or not 0 < sample_rate < np.inf
    ):
        raise ValueError(
            f"band_edges: sample_rate must be a positive number of Hz; got "
            f"sample_rate={sample_rate!r}."
        )
    if scale == "celt":
        hz = _CELT_EBAND_5MS * _CELT_UNIT_HZ
    elif scale == "bark":
        hz = _bark_to_hz(np.arange(1, np.floor(_hz_to_bark(sample_rate / 2)) + 1))
    else:
        raise ValueError(f"band_edges: scale must be 'bark' or 'celt'; got scale={scale!r}.")
    # bins per Hz as 2 n_bins / sample_rate, so integer edges come out exact
    centre_bins = hz * (2 * int(n_bins)) / sample_rate - 0.5
    edges = np.clip(np.ceil(centre_bins).astype(np.int64), 0, n_bins)
    return np.unique(np.concatenate([[0], edges, [n_bins]]))


def band_steps(steps, edges):
    """Per-bin quantization steps from one step per band.

    The result is the quantization vector of :class:`~skcompress.PerceptualQuantizer`
    for :class:`MDCT` coefficients: it has one entry per bin and tiles every
    frame in any of the MDCT's layouts.

    Parameters
    ----------
    steps : array-like of shape (n_bands,)
        Positive step of each band.
    edges : array-like of int, shape (n_bands + 1,)
        Band edges in bins, increasing from 0, as :func:`band_edges` gives
        them.

    Returns
    -------
    bin_steps : ndarray of float64, shape (edges[-1],)

    Examples
    --------
    >>> from skcompress.transforms import band_steps
    >>> band_steps([1.0, 2.0, 4.0], [0, 1, 3, 6]).tolist()
    [1.0, 2.0, 2.0, 4.0, 4.0, 4.0]
    """
    edges = np.asarray(edges)
    if (
        edges.ndim != 1
        or edges.size < 2
        or not np.issubdtype(edges.dtype, np.integer)
        or edges[0] != 0
        or np.any(np.diff(edges) <= 0)
    ):
        raise ValueError(
            f"band_steps: edges must be increasing integer bin indices starting at 0 "
            f"(at least two); got edges={edges.tolist()!r}."
        )
    steps = np.asarray(steps, dtype=np.float64)
    if steps.shape != (edges.size - 1,):
        raise ValueError(
            f"band_steps: steps must hold one step per band, shape ({edges.size - 1},); "
            f"got shape {steps.shape}."
        )
    if not np.all(np.isfinite(steps)) or np.any(steps <= 0):
        raise ValueError(f"band_steps: steps must be finite and positive; got {steps.tolist()}.")
    return np.repeat(steps, np.diff(edges))
