"""Pyramid vector quantization (CELT / Opus): a gain, and a shape on the pyramid."""

import math
import operator
from functools import lru_cache
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Hidden, Interval
from sklearn.utils.validation import check_is_fitted

from .._core._array_api import (
    arange,
    as_array,
    asarray,
    astype,
    contiguous,
    copy,
    get_namespace,
    is_integer,
    pad,
    stable_argsort,
    zeros,
)
from .._core._chunks import chunked, unchunked
from .._core._contract import check_input_features, check_signals
from .._core._docs import chunk_parameters
from .._core._estimator import PublicEstimatorMixin, unfitted_on_error
from .._core._statistics import CategoricalStatistics
from .._core._structure import Structure, read_cells, read_structure, refuse, with_structure

# celt/rate.h: no band gets more pulses than this, whatever its bit budget.
_CELT_MAX_PULSES = 128
# Entries of the V(n, k) table that one (vector size, pulses) pair may need:
# keeps memory bounded (object tables of long integers are heavy).
_MAX_TABLE = 1 << 21
_INT64_LIMIT = 1 << 63
_as_python_int = np.frompyfunc(operator.index, 1, 1)


def pvq_size(n, k):
    """Number of codewords ``V(n, k)`` of the pyramid ``{y in Z^n : sum |y_i| = k}``.

    Exact (a Python int, however large), from Fischer's closed form
    ``V(n, k) = sum_i 2**i * C(n, i) * C(k - 1, i - 1)`` over the ``i``
    non-zero positions; it obeys ``V(n, k) = V(n-1, k) + V(n, k-1) +
    V(n-1, k-1)`` with ``V(n, 0) = 1`` and ``V(0, k > 0) = 0``.

    Parameters
    ----------
    n : int >= 0
        Dimension of the vectors.
    k : int >= 0
        Pulses: the L1 norm of every codeword.

    Returns
    -------
    size : int

    Examples
    --------
    >>> pvq_size(2, 1), pvq_size(3, 2), pvq_size(16, 128) > 2**64
    (4, 18, True)
    """
    n, k = _check_nk(n, k, "pvq_size")
    if k == 0:
        return 1
    return sum(2**i * math.comb(n, i) * math.comb(k - 1, i - 1) for i in range(1, min(n, k) + 1))


def pvq_search(X, k):
    """Nearest pyramid codeword of every row, searched as CELT's ``op_pvq_search``.

    The signs are set aside and the search runs on ``|x|``. When ``k > n // 2``
    a pre-search projects ``|x|`` onto the pyramid: ``floor((k + 0.8) |x_i| /
    sum |x|)`` (the 0.8 keeps the total at most ``k``). The pulses left are
    then placed one at a time where they maximise ``(x . y)**2 / (y . y)``,
    the squared correlation of ``x`` with the normalised codeword. All-zero
    rows put every pulse on the first position, as CELT does. The greedy
    placement is not always the nearest codeword; see the tests for the gap.

    Parameters
    ----------
    X : array-like of shape (n_vectors, n)
        Finite vectors, any scale (the search depends on direction only).
    k : int >= 0
        Pulses per codeword.

    Returns
    -------
    Y : ndarray of int64, shape (n_vectors, n)
        Codewords, ``sum |Y[i]| = k``, with the signs of ``X``.

    Examples
    --------
    >>> pvq_search([[0.9, -0.3, 0.1]], 4).tolist()
    [[3, -1, 0]]
    """
    X = _check_float_rows(X, "pvq_search")
    _, k = _check_nk(X.shape[1], k, "pvq_search")
    if X.shape[1] == 0 and k > 0:
        raise ValueError(f"pvq_search: no codeword of length 0 holds k={k} pulses.")
    return _search(X, k)


def _search(X, k):
    """:func:`pvq_search` of checked float64 rows, numpy or torch."""
    xp = get_namespace(X)
    n_vectors, n = X.shape
    Y = zeros((n_vectors, n), np.int64, like=X)
    if k == 0 or n_vectors == 0:
        return Y
    magnitude = xp.abs(X)
    peak = xp.amax(magnitude, axis=1, keepdims=True)
    magnitude = xp.where(peak > 0, magnitude / xp.where(peak > 0, peak, 1.0), magnitude)
    magnitude[peak[:, 0] == 0, 0] = 1.0
    if k > n // 2:
        l1 = xp.sum(magnitude, axis=1, keepdims=True)
        Y = astype(xp.floor((k + 0.8) / l1 * magnitude), np.int64)
    left = k - xp.sum(Y, axis=1)
    # Rows sorted by pulses left, most first: the rows still placing pulses are
    # then a leading slice, worked on in place.
    order = stable_argsort(-left)
    magnitude, Y, descending = magnitude[order], Y[order], -left[order]
    xy = xp.sum(magnitude * Y, axis=1)
    yy = astype(xp.sum(Y * Y, axis=1), np.float64)
    # a pulse at i adds 2 y_i + 1 to y . y (and |x_i| to x . y)
    growth = astype(2 * Y + 1, np.float64)
    score, energy = xp.empty_like(magnitude), xp.empty_like(magnitude)
    rows = arange(n_vectors, like=X)
    for placed in range(-int(descending[0])):
        m = int(xp.searchsorted(descending, -placed))
        s, e, g = score[:m], energy[:m], growth[:m]
        xp.square(xp.add(xy[:m, None], magnitude[:m], out=s), out=s)
        xp.divide(s, xp.add(yy[:m, None], g, out=e), out=s)
        best = xp.argmax(s, axis=1)
        xy[:m] += magnitude[rows[:m], best]
        yy[:m] += g[rows[:m], best]
        g[rows[:m], best] += 2
        Y[rows[:m], best] += 1
    Y[order] = copy(Y)
    return xp.where(X < 0, -Y, Y)


def pvq_encode(Y, k):
    """Index of every codeword in ``[0, V(n, k))``: a bijection onto the pyramid.

    Positions are read left to right; at each one the value 0 comes first,
    then +1, -1, +2, -2, ..., each followed by all the codewords of the
    remaining positions. Indices are int64 when ``V(n, k) < 2**63`` and
    Python ints in an object array otherwise.

    Parameters
    ----------
    Y : array-like of int, shape (n_vectors, n)
        Codewords, each with ``sum |y_i| = k``.
    k : int >= 0
        Pulses per codeword.

    Returns
    -------
    index : ndarray of int64 or object, shape (n_vectors,)

    Examples
    --------
    >>> pvq_encode([[0, 0, 2], [0, 0, -2], [2, 0, 0], [-2, 0, 0]], 2).tolist()
    [0, 1, 16, 17]
    """
    Y = np.asarray(Y)
    if Y.ndim != 2 or Y.dtype.kind not in "iu":
        raise ValueError(
            f"pvq_encode expects a 2-D integer array of codewords; got shape {Y.shape} and "
            f"dtype {Y.dtype}."
        )
    n, k = _check_nk(Y.shape[1], k, "pvq_encode")
    A = np.abs(Y.astype(np.int64))
    pulses = A.sum(axis=1)
    if np.any(pulses != k):
        row = int(np.flatnonzero(pulses != k)[0])
        raise ValueError(
            f"pvq_encode: every codeword must hold k={k} pulses (sum of |y|); row {row} "
            f"holds {int(pulses[row])}."
        )
    V, P = _tables(n, k)
    if len(Y) == 0 or n == 0:
        return np.zeros(len(Y), dtype=V.dtype)
    return _rank(Y, k, V, P)


def _rank(Y, k, V, P):
    """Indices of checked codewords ``Y`` (numpy or torch), from the tables of :func:`_tables`."""
    xp = get_namespace(Y)
    V, P = asarray(V, like=Y), asarray(P, like=Y)
    n = Y.shape[1]
    A = xp.abs(astype(Y, np.int64))
    left = k - xp.cumsum(A, axis=1) + A
    m = asarray(np.arange(n - 1, -1, -1), like=Y)
    # Codewords that come before y_i = +j at this position: those with 0, then
    # +-1 .. +-(j-1) here. P[m, t + 1] = V(m, 0) + ... + V(m, t).
    offset = V[m, left] + 2 * (P[m, left] - P[m, left - A + 1])
    offset = offset + (Y < 0) * V[m, left - A]
    return xp.sum(xp.where(A > 0, offset, 0), axis=1)


def pvq_decode(index, n, k):
    """Codewords from their indices: the inverse of :func:`pvq_encode`.

    Parameters
    ----------
    index : array-like of int, shape (n_vectors,)
        Indices in ``[0, V(n, k))``; int64 or Python ints (object array).
    n : int >= 0
        Dimension of the vectors.
    k : int >= 0
        Pulses per codeword.

    Returns
    -------
    Y : ndarray of int64, shape (n_vectors, n)

    Examples
    --------
    >>> pvq_decode([0, 1, 16, 17], 3, 2).tolist()
    [[0, 0, 2], [0, 0, -2], [2, 0, 0], [-2, 0, 0]]
    """
    n, k = _check_nk(n, k, "pvq_decode")
    V, _ = _tables(n, k)
    return _decode(_check_indices(index, V[n, k], "pvq_decode"), n, k)


def _decode(r, n, k):
    """:func:`pvq_decode` of checked indices ``r`` (numpy or torch)."""
    V, P = _tables(n, k)
    r = astype(r, V.dtype)
    Y = zeros((len(r), n), np.int64, like=r)
    left = zeros(len(r), np.int64, like=r) + k
    return _unrank(asarray(V, like=r), asarray(P, like=r), r, left, Y, get_namespace(r))


def _unrank(V, P, r, left, Y, xp):
    """Fill ``Y`` (n_vectors, n) with the codewords of indices ``r``, in place.

    ``left``: pulses per row (``k``); ``xp``: the array library of the
    arguments, numpy or torch (whose ``where`` and ``searchsorted`` read
    alike), so the torch kernel decodes with the same steps.
    """
    n = Y.shape[1]
    for i in range(n):
        Vm, Pm = V[n - 1 - i], P[n - 1 - i]
        zero = Vm[left]
        nonzero = r >= zero
        # Codewords with |y_i| = j >= 1 start at end - 2 Pm[t], t = left - j + 1, and
        # Pm increases with t: one search of Pm finds the largest j starting at or
        # before r, for every row at once.
        end = zero + 2 * Pm[left]
        t = xp.where(nonzero, xp.searchsorted(Pm, (end - r + 1) // 2), left + 1)
        j = left + 1 - t
        rest = r - (end - 2 * Pm[t])
        positive = Vm[left - j]
        negative = nonzero & (rest >= positive)
        r = xp.where(nonzero, rest - negative * positive, r)
        Y[:, i] = xp.where(negative, -j, j)
        left = left - j
    return Y


@chunk_parameters()
class PyramidVQ(TransformerMixin, PublicEstimatorMixin, BaseEstimator):
    """Gain-shape pyramid vector quantization, as CELT (Opus) codes its bands.

    The last axis of the input is cut into vectors of ``vector_size`` values
    (MDCT bands, say). Each vector ``x`` is coded as two integers:

    * its **gain** ``||x||``, quantized in the log domain to a multiple of
      ``gain_step`` dB. Symbol ``s >= 1`` stands for the gain
      ``10 ** ((s + gain_offset_) * gain_step / 20)``; symbol 0 is a silent
      vector (zero, or more than ``dynamic_range`` dB below the loudest
      vector seen at ``fit``), decoded as zeros;
    * its **shape** ``x / ||x||``, quantized to the nearest (as CELT searches
      it, :func:`pvq_search`) normalised point of the pyramid ``{y in Z^N :
      sum |y_i| = K}`` and sent as that codeword's index in ``[0, V(N, K))``
      (:func:`pvq_encode`).

    ``inverse_transform`` decodes ``gain * y / ||y||``.

    Parameters
    ----------
    vector_size : int or None, default=None
        Values per vector, cut from the last axis; a last axis that it does
        not divide is padded with zeros (no energy) and cropped back by
        ``inverse_transform``. None: the whole last axis is one vector.
    pulses : int >= 0, sequence of int or None, default=None
        Pulses ``K`` of the pyramid. None derives ``K`` from
        ``bits_per_vector``. With ``bands``, one ``K`` per band (a single int
        is used for every band). ``K = 0`` sends the gain alone and decodes zeros
        (CELT would fill such a band with folded spectrum or noise).
    bits_per_vector : float >= 0 or sequence of float, default=32.0
        Used when ``pulses`` is None (with ``bands``, one budget per band, or
        one for all): ``K`` is the largest value, at most
        CELT's 128, with ``log2 V(N, K) <= bits_per_vector``, as CELT's bit
        allocation turns a band's budget into pulses (CELT keeps its codebooks
        under 2**32 codewords, splitting bands that would need more). For ``N = 1``,
        ``V(1, K) = 2`` for every ``K >= 1``, so ``K`` is 1 (the sign).
    gain_step : float > 0, default=1.5
        Step of the gain quantizer in dB of amplitude (6.02 dB is a factor 2,
        one log2 unit): CELT's coarse energy step of 6 dB refined by two fine
        bits gives 1.5 dB.
    dynamic_range : float >= 0, default=120.0
        Gains more than this many dB below the loudest vector seen at ``fit``
        are coded as silent.
    bands : sequence of int or None, default=None
        Band edges along the last axis (of each transform cell): increasing,
        from 0 to its length, ``B + 1`` of them. Each band is a vector of its
        own width with its own ``K`` (``pulses`` or ``bits_per_vector`` per
        band), as CELT's bands (see :func:`skcompress.transforms.band_edges`
        for edges on a perceptual scale). None: ``vector_size`` cuts equal
        vectors. Needs ``vector_size=None``.
    {chunk_parameters}

    Attributes
    ----------
    vector_size_ : int or ndarray of int64
        ``N``, values per vector (with ``bands``: per band).
    pulses_ : int or ndarray of int64
        ``K``, pulses per codeword (with ``bands``: per band).
    codebook_size_ : int or list of int
        ``V(N, K)``, exact (a Python int, however large); per band with ``bands``.
    bits_per_codeword_ : float or ndarray of float64
        ``log2 V(N, K)``; per band with ``bands``: the bits each band's
        codeword costs when it is not silent.
    band_edges_ : ndarray of int64 or None
        The ``bands`` edges; None without ``bands``.
    n_vectors_ : int
        Vectors per sample (over every position before the last axis).
    gain_offset_ : int
        Symbol ``s >= 1`` stands for the gain level ``s + gain_offset_``, the
        amplitude ``10 ** ((s + gain_offset_) * gain_step / 20)``.
    entropy_model_ : symbol statistics
        Statistics of the gain symbols at ``fit``, one distribution per
        vector position, used by :meth:`bits_per_sample` (counts and code
        lengths, no coder).
    signal_shape_ : tuple of int
        Shape of one input sample seen at ``fit``.
    n_features_in_ : int
        Values per input sample.
    feature_names_in_ : ndarray of str
        Column names, when ``fit`` was given a DataFrame.

    See Also
    --------
    skcompress.PerceptualQuantizer : scalar quantization, one step per coefficient.
    pvq_search, pvq_encode, pvq_decode, pvq_size : the codebook on its own.

    Notes
    -----
    Output: ``(n_samples, 2 * n_vectors_)``, the gain symbol then the codeword
    index of each vector in turn (vectors in C order of the input, last axis
    fastest). The dtype is int64 when ``V(N, K) < 2**63`` and object (Python
    ints, exact) otherwise. Silent vectors carry codeword index 0.

    Unlike CELT, no spreading rotation is applied before the search, bands
    are not split, and gains are coded without inter-frame prediction.

    After a transform, vectors are cut from what the transform says one of
    its cells is, in any of its layouts: each frame of :class:`~skcompress.MDCT`
    (so ``vector_size=None`` codes a whole frame, and bands never straddle
    two frames), each block of :class:`~skcompress.BlockDCT` (as Daala's PVQ
    codes DCT blocks). Images, wavelet subbands, patches, codes and
    quantized symbols are refused with a ValueError that says what to
    change. The output carries ``output_structure_`` (kind "codes", a gain
    and an index per vector), and :meth:`inverse_transform` gives the
    coefficients back in the transform's layout.

    Examples
    --------
    >>> import numpy as np
    >>> from skcompress.quantization import PyramidVQ
    >>> X = np.random.default_rng(0).normal(size=(5, 32))
    >>> pvq = PyramidVQ(vector_size=8, pulses=10).fit(X)
    >>> symbols = pvq.transform(X)
    >>> symbols.shape, symbols.dtype, pvq.codebook_size_
    ((5, 8), dtype('int64'), 658048)
    >>> back = pvq.inverse_transform(symbols)
    >>> bool(np.linalg.norm(back - X) < 0.25 * np.linalg.norm(X))
    True
    >>> PyramidVQ(vector_size=16, bits_per_vector=32).fit(X).pulses_
    12

    One ``K`` per band, bands of 4, 12 and 16 values:

    >>> banded = PyramidVQ(bands=[0, 4, 16, 32], pulses=[8, 6, 3]).fit(X)
    >>> banded.codebook_size_, banded.bits_per_codeword_.round(1).tolist()
    ([1408, 284000, 5472], [10.5, 18.1, 12.4])
    >>> banded.inverse_transform(banded.transform(X)).shape
    (5, 32)
    """

    _parameter_constraints = {
        "vector_size": [Interval(Integral, 1, None, closed="left"), None],
        "pulses": [Interval(Integral, 0, None, closed="left"), Hidden("array-like"), None],
        "bits_per_vector": [Interval(Real, 0, None, closed="left"), Hidden("array-like")],
        "gain_step": [Interval(Real, 0, None, closed="neither")],
        "dynamic_range": [Interval(Real, 0, None, closed="left")],
        "bands": ["array-like", None],
        "batch_size": [Interval(Integral, 1, None, closed="left"), None],
        "n_jobs": [Integral, None],
        "device": "no_validation",  # checked when used: torch is optional
        "dtype": "no_validation",  # checked when used
    }

    def __init__(
        self,
        vector_size=None,
        *,
        pulses=None,
        bits_per_vector=32.0,
        gain_step=1.5,
        dynamic_range=120.0,
        bands=None,
        batch_size=None,
        n_jobs=None,
        device=None,
        dtype=None,
    ):
        self.vector_size = vector_size
        self.pulses = pulses
        self.bits_per_vector = bits_per_vector
        self.gain_step = gain_step
        self.dynamic_range = dynamic_range
        self.bands = bands
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.device = device
        self.dtype = dtype

    @_fit_context(prefer_skip_nested_validation=True)
    @unfitted_on_error
    def fit(self, X, y=None):
        """Choose ``K``, place the gain range and learn the gain statistics.

        Parameters
        ----------
        X : array-like of shape (n_samples, ..., length)
            Coefficients; vectors are cut from the last axis.
        y : None
            Ignored.

        Returns
        -------
        self : PyramidVQ
        """
        X = _read(X, read_structure(self, X, reset=True))
        X = check_signals(self, X, reset=True, max_ndim=None)
        length = X.shape[-1]
        if self.bands is not None:
            return self._fit_bands(X, length)
        for name in ("pulses", "bits_per_vector"):
            if np.ndim(getattr(self, name)) != 0:
                raise ValueError(
                    f"PyramidVQ: {name} is a sequence (one value per band); give the band "
                    f"edges with bands=, or a single {name}."
                )
        self.band_edges_ = None
        n = self.vector_size or length
        k = self.pulses if self.pulses is not None else _pulses_for(n, self.bits_per_vector)
        if (n + 1) * (k + 2) > _MAX_TABLE:
            raise ValueError(
                f"PyramidVQ: pulses={k} with vector_size={n} needs a codebook table of "
                f"{(n + 1) * (k + 2)} entries; expected (vector_size + 1) * (pulses + 2) <= "
                f"{_MAX_TABLE}. Use fewer pulses or shorter vectors."
            )
        self.vector_size_ = n
        self.pulses_ = k
        self.codebook_size_ = pvq_size(n, k)
        self.bits_per_codeword_ = math.log2(self.codebook_size_)
        self.n_vectors_ = X[0].size // length * -(-length // n)
        self._dtype = X.dtype
        levels = self._gain_levels(self._vectors(X))
        audible = levels[np.isfinite(levels)]
        loudest = int(audible.max()) if audible.size else 0
        self.gain_offset_ = loudest - math.ceil(self.dynamic_range / self.gain_step) - 1
        gains = self._gain_symbols(levels).reshape(len(X), -1)
        self.entropy_model_ = CategoricalStatistics().fit(gains)
        return self

    @chunked
    def transform(self, X):
        """Gain symbol and codeword index of every vector.

        Parameters
        ----------
        X : array-like of the shape seen at ``fit``

        Returns
        -------
        symbols : ndarray of int64 or object, shape (n_samples, 2 * n_vectors_)
            Per vector, the gain symbol then the codeword index (object, with
            Python ints, when ``V(N, K) >= 2**63``).
        """
        check_is_fitted(self)
        X = _read(X, read_structure(self, X, reset=False))
        X = check_signals(self, X, reset=False, max_ndim=None, keep_tensors=True)
        if self.band_edges_ is not None:
            return self._transform_bands(X)
        vectors = self._vectors(X)
        gains = self._gain_symbols(self._gain_levels(vectors))
        coded = gains > 0  # silent vectors send no codeword
        if self.codebook_size_ < _INT64_LIMIT:
            symbols = zeros((len(vectors), 2), np.int64, like=vectors)
            symbols[:, 0] = gains
        else:
            symbols = np.zeros((len(vectors), 2), dtype=object)
            symbols[:, 0] = gains.astype(object)
        n, k = self.vector_size_, self.pulses_
        symbols[coded, 1] = _rank(_search(vectors[coded], k), k, *_tables(n, k))
        return with_structure(symbols.reshape(len(X), -1), self.output_structure_)

    @chunked
    def inverse_transform(self, X):
        """Decode every vector: ``gain * y / ||y||``.

        Parameters
        ----------
        X : array-like of int, shape (n_samples, 2 * n_vectors_)
            Symbols, as ``transform`` returns them.

        Returns
        -------
        X_original : ndarray of shape (n_samples, *signal_shape_)
            float32 if fitted on float32, float64 otherwise; after a
            transform, in the transform's layout (with its structure).
        """
        check_is_fitted(self)
        S = as_array(X)
        width = 2 * self.n_vectors_
        if S.ndim != 2 or S.shape[1] != width or not (is_integer(S) or S.dtype == object):
            raise ValueError(
                f"PyramidVQ.inverse_transform expects integer symbols of shape (n_samples, "
                f"{width}); got shape {tuple(S.shape)} and dtype {S.dtype}."
            )
        xp = get_namespace(S)
        if self.band_edges_ is not None:
            return self._inverse_bands(np.asarray(S))
        pairs = S.reshape(-1, 2)
        gains = _check_indices(
            pairs[:, 0], self._max_level() - self.gain_offset_ + 1, "PyramidVQ gain symbols"
        )
        gains = astype(gains, np.int64)
        index = _check_indices(pairs[:, 1], self.codebook_size_, "PyramidVQ codeword indices")
        n, k = self.vector_size_, self.pulses_
        Y = zeros((len(pairs), n), np.float64, like=S)
        coded = (gains > 0) & (k > 0)
        shapes = astype(_decode(index[coded], n, k), np.float64)
        level = astype(gains[coded] + self.gain_offset_, np.float64) * (self.gain_step / 20)
        norms = xp.sqrt(xp.sum(shapes * shapes, axis=1))
        Y[coded] = shapes * (10.0**level / norms)[:, None]
        length = self.signal_shape_[-1]
        rows = Y.reshape(-1, -(-length // n) * n)[:, :length]
        out = contiguous(astype(rows.reshape(len(S), *self.signal_shape_), self._dtype))
        structure = self.input_structure_
        if structure is None:
            return out
        # back in the transform's layout, for its inverse_transform
        return structure.emit(out.reshape(len(S), *structure.grid, structure.depth, structure.k))

    def bits_per_sample(self, X):
        """Estimated bits per sample to code ``X``.

        Gain symbols cost their ideal code length under the per-position
        categorical model learned at ``fit``
        (:class:`~skcompress.entropy.CategoricalEntropyModel`: an honest
        estimate on held-out data, without the model's own cost or CELT's
        inter-frame prediction). Each non-silent vector's codeword costs a
        fixed ``log2 V(N, K)`` bits, exactly what a range coder spends on a
        uniform index (CELT's ``ec_enc_uint``).

        Parameters
        ----------
        X : array-like
            Coefficients, as given to ``transform``.

        Returns
        -------
        bits : float
            Mean over the samples of ``X``.
        """
        check_is_fitted(self)
        gains = self.transform(X)[:, 0::2].astype(np.int64)
        bits = self.entropy_model_.code_lengths(gains).sum(axis=1)
        per_vector = np.resize(
            np.asarray(self.bits_per_codeword_, dtype=np.float64), gains.shape[1]
        )
        bits += ((gains > 0) * per_vector).sum(axis=1)
        return float(bits.mean())

    def get_feature_names_out(self, input_features=None):
        """Names of the output symbols: ``vec<i>_gain`` and ``vec<i>_shape``.

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
        names = [f"vec{i}_{part}" for i in range(self.n_vectors_) for part in ("gain", "shape")]
        return np.asarray(names, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = []  # emits integer symbols
        return tags

    @classmethod
    def get_test_params(cls):
        return [{}, {"vector_size": 2, "pulses": 3, "gain_step": 6.0}]

    def _torch_kernel(self, method):
        """Tensors run through this step's own code (see :mod:`skcompress._core._chunks`).

        None for codebooks of ``2**63`` codewords or more, whose indices are
        Python ints, which no tensor holds.
        """
        if self.band_edges_ is not None:
            return None  # bands run on numpy
        return unchunked(self, method) if self.codebook_size_ < _INT64_LIMIT else None

    @property
    def output_structure_(self):
        """:class:`~skcompress._core._structure.Structure` of :meth:`transform`'s output.

        Kind "codes", quantized: ``grid`` is the shape of the vectors in a
        sample (the input's cells, then the vectors cut from each when there
        are several), ``k = 2`` (gain symbol, codeword index), "flat".
        """
        check_is_fitted(self)
        shape = self.signal_shape_
        if self.band_edges_ is not None:
            per_row = len(self.band_edges_) - 1
        else:
            per_row = -(-shape[-1] // self.vector_size_)
        grid = shape[:-1] if per_row == 1 and len(shape) > 1 else (*shape[:-1], per_row)
        return Structure("codes", "PyramidVQ", grid, 1, 2, "flat", quantized=True)

    # -- bands: one codebook per band ----------------------------------------

    def _fit_bands(self, X, length):
        edges = _check_bands(self.bands, length)
        if self.vector_size is not None:
            raise ValueError(
                f"PyramidVQ: bands= cuts the vectors; set vector_size=None (got "
                f"vector_size={self.vector_size})."
            )
        widths = np.diff(edges)
        B = len(widths)
        if self.pulses is not None:
            pulses = _per_band(self.pulses, B, "pulses", integer=True)
        else:
            bits = _per_band(self.bits_per_vector, B, "bits_per_vector", integer=False)
            pulses = np.array(
                [_pulses_for(int(n), float(b)) for n, b in zip(widths, bits, strict=True)]
            )
        for n, k in zip(widths.tolist(), pulses.tolist(), strict=True):
            if (n + 1) * (k + 2) > _MAX_TABLE:
                raise ValueError(
                    f"PyramidVQ: pulses={k} on a band of {n} values needs a codebook table of "
                    f"{(n + 1) * (k + 2)} entries; expected (width + 1) * (pulses + 2) <= "
                    f"{_MAX_TABLE}. Use fewer pulses or narrower bands."
                )
        self.band_edges_ = edges
        self.vector_size_ = widths
        self.pulses_ = pulses.astype(np.int64)
        self.codebook_size_ = [
            pvq_size(int(n), int(k)) for n, k in zip(widths, pulses, strict=True)
        ]
        self.bits_per_codeword_ = np.array([math.log2(v) for v in self.codebook_size_])
        self.n_vectors_ = X[0].size // length * B
        self._dtype = X.dtype
        levels = self._band_levels(X)
        audible = levels[np.isfinite(levels)]
        loudest = int(audible.max()) if audible.size else 0
        self.gain_offset_ = loudest - math.ceil(self.dynamic_range / self.gain_step) - 1
        gains = self._gain_symbols(levels).reshape(len(X), -1)
        self.entropy_model_ = CategoricalStatistics().fit(gains)
        return self

    def _band_levels(self, X):
        """Gain levels ``(rows, B)`` of the bands of every row of the last axis."""
        rows = np.asarray(X, dtype=np.float64).reshape(-1, X.shape[-1])
        edges = self.band_edges_
        return np.stack(
            [
                self._gain_levels(rows[:, lo:hi])
                for lo, hi in zip(edges[:-1], edges[1:], strict=True)
            ],
            axis=1,
        )

    def _transform_bands(self, X):
        X = np.asarray(X)
        rows = np.asarray(X, dtype=np.float64).reshape(-1, X.shape[-1])
        gains = self._gain_symbols(self._band_levels(X))
        big = max(self.codebook_size_) >= _INT64_LIMIT
        symbols = np.zeros((len(rows), len(self.pulses_), 2), dtype=object if big else np.int64)
        symbols[..., 0] = gains
        edges = self.band_edges_
        for b, (lo, hi) in enumerate(zip(edges[:-1].tolist(), edges[1:].tolist(), strict=True)):
            n, k = hi - lo, int(self.pulses_[b])
            coded = gains[:, b] > 0
            index = _rank(_search(rows[coded, lo:hi], k), k, *_tables(n, k))
            symbols[coded, b, 1] = index
        return with_structure(symbols.reshape(len(X), -1), self.output_structure_)

    def _inverse_bands(self, S):
        B = len(self.pulses_)
        pairs = S.reshape(-1, B, 2)
        gains = _check_indices(
            pairs[..., 0].reshape(-1),
            self._max_level() - self.gain_offset_ + 1,
            "PyramidVQ gain symbols",
        )
        gains = gains.astype(np.int64).reshape(-1, B)
        length = self.signal_shape_[-1]
        out = np.zeros((len(pairs), length))
        edges = self.band_edges_
        for b, (lo, hi) in enumerate(zip(edges[:-1].tolist(), edges[1:].tolist(), strict=True)):
            n, k = hi - lo, int(self.pulses_[b])
            index = _check_indices(
                pairs[:, b, 1], self.codebook_size_[b], f"PyramidVQ codeword indices of band {b}"
            )
            coded = (gains[:, b] > 0) & (k > 0)
            shapes = _decode(index[coded], n, k).astype(np.float64)
            level = (gains[coded, b] + self.gain_offset_) * (self.gain_step / 20)
            norms = np.sqrt(np.sum(shapes * shapes, axis=1))
            out[coded, lo:hi] = shapes * (10.0**level / norms)[:, None]
        out = np.ascontiguousarray(out.reshape(len(S), *self.signal_shape_).astype(self._dtype))
        structure = self.input_structure_
        if structure is None:
            return out
        return structure.emit(out.reshape(len(S), *structure.grid, structure.depth, structure.k))

    # -- helpers -----------------------------------------------------------

    def _max_level(self):
        """Highest gain level whose amplitude is a finite float64."""
        return math.floor(20 * math.log10(np.finfo(np.float64).max) / self.gain_step)

    def _vectors(self, X):
        """``(n_samples * n_vectors_, N)`` float64, the last axis zero-padded."""
        n, length = self.vector_size_, X.shape[-1]
        rows = astype(X.reshape(-1, length), np.float64)
        return pad(rows, [(0, 0), (0, -length % n)]).reshape(-1, n)

    def _gain_levels(self, vectors):
        """``round(20 log10 ||x|| / gain_step)`` as float64, -inf for zero vectors."""
        xp = get_namespace(vectors)
        peak = xp.amax(xp.abs(vectors), axis=1)
        safe = xp.where(peak > 0, peak, 1.0)
        # log of the scaled norm: ||x|| itself may overflow near the float maximum
        with np.errstate(divide="ignore"):
            energy = xp.sum((vectors / safe[:, None]) ** 2, axis=1)
            db = 20 * xp.log10(peak) + 10 * xp.log10(energy)
        return xp.clip(xp.round(db / self.gain_step), None, self._max_level())

    def _gain_symbols(self, levels):
        return astype(get_namespace(levels).clip(levels - self.gain_offset_, 0, None), np.int64)


def _read(X, structure):
    """The cells of transform coefficients ``(n, *grid, [depth,] k)``, or a refusal.

    Tensors stay tensors (a fitted step reads them as its training data).
    """
    if structure is None:
        return X
    what = "bands of transform coefficients (MDCT frames, block-DCT blocks)"
    if structure.quantized or structure.kind == "codes":
        raise refuse(
            "PyramidVQ",
            structure,
            what,
            "It quantizes them itself: put it right after the transform, without another "
            "quantizer before it.",
        )
    if structure.kind not in ("mdct", "dct"):
        raise refuse(
            "PyramidVQ",
            structure,
            what,
            "Put MDCT (CELT's transform) or BlockDCT before it, and give it their coefficients.",
        )
    return read_cells("PyramidVQ", X, structure)


def _check_bands(bands, length):
    """Band edges as int64: increasing from 0 to ``length``."""
    edges = np.asarray(bands)
    if (
        edges.ndim != 1
        or len(edges) < 2
        or edges.dtype.kind not in "iu"
        or edges[0] != 0
        or edges[-1] != length
        or np.any(np.diff(edges) < 1)
    ):
        raise ValueError(
            f"PyramidVQ: bands must be increasing integer edges from 0 to the last axis's "
            f"length {length} (B + 1 of them); got {bands!r}."
        )
    return edges.astype(np.int64)


def _per_band(value, n_bands, name, *, integer):
    """``value`` as one entry per band (a scalar is broadcast), checked."""
    values = np.asarray(value)
    if values.ndim == 0:
        values = np.full(n_bands, values)
    ok = (
        values.ndim == 1
        and len(values) == n_bands
        and values.dtype.kind in ("iu" if integer else "iuf")
    )
    if not ok or np.any(values < 0) or not np.all(np.isfinite(values)):
        kind = "integers" if integer else "numbers"
        raise ValueError(
            f"PyramidVQ: {name} must be one value or {n_bands} {kind} >= 0 (one per band); "
            f"got {value!r}."
        )
    return values.astype(np.int64 if integer else np.float64)


def _pulses_for(n, bits):
    """Largest ``K <= _CELT_MAX_PULSES`` with ``log2 V(n, K) <= bits``."""
    if n == 1:
        return int(bits >= 1)
    k = 0
    while k < _CELT_MAX_PULSES and math.log2(pvq_size(n, k + 1)) <= bits:
        k += 1
    return k


@lru_cache(maxsize=256)
def _tables(n, k):
    """``V[m, t] = V(m, t)`` and, for ``m < n``, ``P[m, t + 1] = V(m, 0) + ... + V(m, t)``.

    int64 when ``V(n, k) < 2**63``, object (Python ints) otherwise: every
    entry is at most ``V(n, k)`` (``P[m, t + 1] <= V(m + 1, t)``), so the
    int64 tables cannot overflow.
    """
    if (n + 1) * (k + 2) > _MAX_TABLE:
        raise ValueError(
            f"pyramid codebook n={n}, k={k} needs a table of {(n + 1) * (k + 2)} entries; "
            f"expected (n + 1) * (k + 2) <= {_MAX_TABLE}."
        )
    dtype = np.int64 if pvq_size(n, k) < _INT64_LIMIT else object
    V = np.zeros((n + 1, k + 1), dtype=dtype)
    V[0, 0] = 1
    for m in range(1, n + 1):
        # V(m, t) - V(m, t-1) = V(m-1, t) + V(m-1, t-1)
        step = V[m - 1].copy()
        step[1:] += V[m - 1, :-1]
        V[m] = np.cumsum(step)
    P = np.zeros((n, k + 2), dtype=dtype)
    P[:, 1:] = np.cumsum(V[:n], axis=1)
    V.flags.writeable = P.flags.writeable = False
    return V, P


def _check_nk(n, k, name):
    for label, value in (("n", n), ("k", k)):
        if not isinstance(value, Integral) or isinstance(value, bool) or value < 0:
            raise ValueError(f"{name}: {label} must be an integer >= 0; got {value!r}.")
    return int(n), int(k)


def _check_float_rows(X, name):
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"{name} expects a 2-D array (n_vectors, n); got shape {X.shape}.")
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{name}: X must be finite; got NaN or infinity.")
    return X


def _check_indices(values, size, name):
    """Integers in ``[0, size)`` (``size`` None: no upper bound), as int64 or object.

    numpy arrays or torch tensors (of int64: torch holds no Python ints).
    """
    values = as_array(values)
    if values.ndim != 1 or not (is_integer(values) or values.dtype == object):
        raise ValueError(
            f"{name} must be a 1-D array of integers; got shape {tuple(values.shape)} and "
            f"dtype {values.dtype}."
        )
    if values.dtype == object:
        try:
            values = _as_python_int(values)
        except TypeError as error:
            raise ValueError(f"{name} must hold integers; got {error}.") from None
        if size is None or size < _INT64_LIMIT:
            values = values.astype(np.int64)
    elif values.dtype != np.uint64:
        # narrower integers compared with a larger size would wrap in torch
        values = astype(values, np.int64)
    bad = values < 0 if size is None else (values < 0) | (values >= size)
    if bool(bad.any()):
        expected = "[0, inf)" if size is None else f"[0, {size})"
        raise ValueError(f"{name} must lie in {expected}; got {int(values[bad][0])}.")
    return values
