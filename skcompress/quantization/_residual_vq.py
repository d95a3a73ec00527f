"""Residual vector quantization: the quantizer of SoundStream and EnCodec."""

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._core._array_api import (
    arange,
    as_array,
    as_index,
    asarray,
    astype,
    contiguous,
    empty,
    get_namespace,
    is_integer,
    size,
    zeros,
)
from .._core._chunks import chunked, unchunked
from .._core._contract import LAYOUTS, check_input_features, check_signals, from_layout, to_layout
from .._core._docs import chunk_parameters
from .._core._estimator import PublicEstimatorMixin, unfitted_on_error
from .._core._limits import MAX_BEAM_SIZE, MAX_STAGES
from .._core._structure import (
    Structure,
    indivisible,
    read_cells,
    read_structure,
    refuse,
    with_structure,
)

# Distances are computed for chunks of about this many (vector, codeword)
# pairs, which bounds memory whatever the batch and keeps a chunk in cache.
_CHUNK_PAIRS = 1 << 20
# k-means seeds each stage on at most this many vectors per codeword (as faiss
# caps its training set); the joint refinement then sees every vector.
_INIT_VECTORS_PER_CODEWORD = 128
# Lloyd and the codebook refinement step this far past the means: successive
# over-relaxation, which reaches the same fixed point in fewer passes.
_OVERRELAXATION = 1.9


@chunk_parameters()
class ResidualVQ(TransformerMixin, PublicEstimatorMixin, BaseEstimator):
    """Residual vector quantizer: stages of codebooks, each coding what the last left.

    The quantizer of SoundStream (Zeghidour et al. 2021) and EnCodec (Défossez
    et al. 2022). Each input vector ``x`` is coded by ``n_stages`` indices
    ``(i_1, ..., i_S)`` into codebooks ``C_1 .. C_S`` of ``codebook_size``
    codewords, and decoded as the sum ``C_1[i_1] + ... + C_S[i_S]``. Stage
    ``s`` quantizes the residual the stages before it leave, so every stage
    adds ``log2(codebook_size)`` bits and refines the reconstruction.

    ``fit`` runs k-means stage by stage on the residuals (on a subsample of at
    most ``128 * codebook_size`` vectors), then ``n_refine`` rounds of joint
    refinement over every training vector: refit each stage's codewords to
    what all the other stages leave, codes fixed, then re-encode with beam
    search. ``partial_fit`` learns from a stream instead, with mini-batch
    k-means per stage.

    Parameters
    ----------
    n_stages : int in [1, 256], default=4
        Number of stages (codebooks, "quantizers" in EnCodec).
    codebook_size : int, default=256
        Codewords per stage; each code costs ``log2(codebook_size)`` bits.
    vector_size : int or None, default=None
        Length of one vector. None: the last axis of ``X`` is one vector (the
        whole row of 2-D input; after another skcompress step, one of its
        cells: a block of ``BlockDCT`` output in any layout, see Notes). An
        int cuts the last axis into consecutive groups of that length, e.g.
        16 for quarters of 8x8 DCT blocks; it must divide the length of the
        last axis.
    beam_size : int in [1, 1024], default=4
        Partial codes kept per vector at each stage of the encoder (as faiss'
        ``ResidualQuantizer.max_beam_size``): 1 is the greedy encoder of
        SoundStream; larger beams find better codes at a cost that grows
        about linearly. Used by ``fit``'s refinement and by ``transform``.
    init : {"k-means++", "random"}, default="k-means++"
        Seeding of each stage's k-means: greedy k-means++ (Arthur and
        Vassilvitskii 2007, with ``2 + log(codebook_size)`` trials per
        codeword, as scikit-learn does) or distinct random vectors.
    max_iter : int, default=15
        Most Lloyd iterations of each stage's k-means.
    tol : float, default=1e-4
        Relative decrease of the squared error below which the k-means
        iterations and the refinement rounds stop early.
    n_refine : int or "auto", default="auto"
        Most rounds of joint refinement over all training vectors, each one
        codebook update and one beam-search encoding of every vector. 0 keeps
        the stage-by-stage k-means of SoundStream. "auto": 3 for several
        stages; ``max_iter`` for one stage, where a round is a Lloyd
        iteration over all vectors (fit is then k-means run to ``tol``).
    reseed_after : int, default=10
        In ``partial_fit``, a codeword that no vector chose in this many
        consecutive batches is dead and is re-seeded with the residual of the
        batch vector that the stage codes worst. (``fit`` re-seeds a codeword
        as soon as no training vector chooses it.)
    layout : {"flat", "blocks", "channels_first"}, default="flat"
        Layout of the codes, see :mod:`skcompress` (the data contract):
        "flat" is ``(n, n_vectors * n_stages)`` with the stage fastest;
        "blocks" is ``(n, *grid, n_stages)`` where ``grid`` is the shape of
        the vectors in a sample (``(n_vectors,)`` for 2-D input, ``(h, w)``
        for ``BlockDCT(layout="blocks")`` output); "channels_first" is
        ``(n, n_stages, *grid)``.
    random_state : int, RandomState instance or None, default=None
        Seeds the subsample and the k-means seeding.
    {chunk_parameters}

    Attributes
    ----------
    codebooks_ : ndarray of shape (n_stages, codebook_size, vector_size)
        The codewords of every stage, in the dtype seen at ``fit`` (float32
        or float64).
    codebook_usage_ : ndarray of int64, shape (n_stages, codebook_size)
        How many training vectors chose each codeword: with ``fit``, in the
        final codes of the training set; with ``partial_fit``, over the
        batches since the codeword was last (re-)seeded (the counts that set
        its learning rate).
    code_entropy_ : ndarray of float64, shape (n_stages,)
        Entropy in bits of each stage's code distribution in
        ``codebook_usage_``: the rate an ideal entropy coder would reach,
        beside ``log2(codebook_size)`` for fixed-length codes.
    perplexity_ : ndarray of float64, shape (n_stages,)
        ``2 ** code_entropy_``: the number of codewords a stage effectively
        uses (``codebook_size`` when all are used equally).
    vector_size_ : int
        Length of one vector.
    n_vectors_ : int
        Vectors per sample.
    n_iter_ : int
        Lloyd iterations run by the stage-wise k-means, summed over stages.
    n_refine_ : int
        Refinement rounds that ``fit`` ran (0 after ``partial_fit`` alone).
    signal_shape_ : tuple of int
        Shape of one input sample seen at ``fit``.
    n_features_in_ : int
        Values per input sample.
    feature_names_in_ : ndarray of str
        Column names, when ``fit`` was given a DataFrame.

    See Also
    --------
    skcompress.BlockDCT : 8x8 DCT blocks, 64-d vectors to quantize.
    sklearn.cluster.KMeans : the one-stage case, without the beam.

    Notes
    -----
    After another skcompress step, the last axis is what that step says one
    of its cells is, in any of its layouts (so ``vector_size=None`` takes one
    cell per vector): a block of :class:`~skcompress.BlockDCT` coefficients
    (per channel), a frame of :class:`~skcompress.MDCT`, a patch of
    :class:`~skcompress.sparse.Patches`, all the subbands of a
    :class:`~skcompress.WaveletTransform`. Images are read as the images
    they are, as if given directly: the colours of a pixel, or the rows of a
    gray image, are legitimate vectors (put ``Patches`` first for blocks of
    pixels). Codes and quantized symbols are refused: quantizing indices
    again is a mis-wired chain. The codes carry ``output_structure_`` (kind
    "codes"), and :meth:`inverse_transform` gives the vectors back in the
    layout of the step before.

    Distances use BLAS, ``||x||^2 - 2 x.c + ||c||^2``, over chunks of vectors
    so memory stays bounded. Beam search keeps the ``beam_size`` best partial
    sums per vector at each stage, as faiss' ``ResidualQuantizer`` does. A
    refinement round takes one Gauss-Seidel sweep, stage by stage, over the
    least-squares codebook problem that faiss' ``Train_refine_codebook``
    solves directly, then re-encodes; unused codewords are re-seeded with
    the worst-coded vectors. Lloyd steps and sweeps are over-relaxed (moved
    1.9 times the way to the means, except the last), which reaches the same
    fixed points in fewer passes; a step that raises the error falls back to
    plain ones.

    Examples
    --------
    >>> import numpy as np
    >>> from skcompress.quantization import ResidualVQ
    >>> X = np.random.default_rng(0).normal(size=(500, 16))
    >>> rvq = ResidualVQ(n_stages=3, codebook_size=16, vector_size=8, random_state=0)
    >>> codes = rvq.fit_transform(X)
    >>> codes.shape, codes.dtype   # 2 vectors x 3 stages per sample
    ((500, 6), dtype('uint8'))
    >>> error = [float(np.mean((X - rvq.inverse_transform(codes, n_stages=s)) ** 2))
    ...          for s in (1, 2, 3)]
    >>> error[0] > error[1] > error[2]
    True
    >>> rvq.bits_per_sample(X)   # 6 codes of 4 bits
    24.0
    """

    _parameter_constraints = {
        "n_stages": [Interval(Integral, 1, MAX_STAGES, closed="both")],
        "codebook_size": [Interval(Integral, 1, None, closed="left")],
        "vector_size": [Interval(Integral, 1, None, closed="left"), None],
        "beam_size": [Interval(Integral, 1, MAX_BEAM_SIZE, closed="both")],
        "init": [StrOptions({"k-means++", "random"})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_refine": [Interval(Integral, 0, None, closed="left"), StrOptions({"auto"})],
        "reseed_after": [Interval(Integral, 1, None, closed="left")],
        "layout": [StrOptions(set(LAYOUTS))],
        "random_state": ["random_state"],
        "batch_size": [Interval(Integral, 1, None, closed="left"), None],
        "n_jobs": [Integral, None],
        "device": "no_validation",  # checked when used: torch is optional
        "dtype": "no_validation",  # checked when used
    }

    def __init__(
        self,
        n_stages=4,
        codebook_size=256,
        *,
        vector_size=None,
        beam_size=4,
        init="k-means++",
        max_iter=15,
        tol=1e-4,
        n_refine="auto",
        reseed_after=10,
        layout="flat",
        random_state=None,
        batch_size=None,
        n_jobs=None,
        device=None,
        dtype=None,
    ):
        self.n_stages = n_stages
        self.codebook_size = codebook_size
        self.vector_size = vector_size
        self.beam_size = beam_size
        self.init = init
        self.max_iter = max_iter
        self.tol = tol
        self.n_refine = n_refine
        self.reseed_after = reseed_after
        self.layout = layout
        self.random_state = random_state
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.device = device
        self.dtype = dtype

    @_fit_context(prefer_skip_nested_validation=True)
    @unfitted_on_error
    def fit(self, X, y=None):
        """Learn the codebooks from ``X``: stage-by-stage k-means, then joint refinement.

        Parameters
        ----------
        X : array-like of shape (n_samples, *signal_shape)
            Vectors along the last axis (see ``vector_size``).
        y : None
            Ignored.

        Returns
        -------
        self : ResidualVQ
        """
        V = self._setup(X)
        n_rounds = self.n_refine
        if n_rounds == "auto":
            n_rounds = self.max_iter if self.n_stages == 1 else 3
        return self._fit(V, check_random_state(self.random_state), n_rounds, self.beam_size)

    @_fit_context(prefer_skip_nested_validation=True)
    @unfitted_on_error
    def partial_fit(self, X, y=None):
        """Update the codebooks with one mini-batch (mini-batch k-means per stage).

        The first call seeds every stage with k-means on the batch, which
        must then hold at least ``codebook_size`` vectors. Each later call
        codes the batch greedily stage by stage and moves every chosen
        codeword towards the mean of its vectors with the learning rate
        ``1 / count`` of Sculley's mini-batch k-means (``count``: vectors the
        codeword has taken so far), then re-seeds dead codewords (see
        ``reseed_after``). Calls after ``fit`` continue from its codebooks.

        Parameters
        ----------
        X : array-like of shape (n_samples, *signal_shape)
            A batch; later batches must have the signal shape of the first.
        y : None
            Ignored.

        Returns
        -------
        self : ResidualVQ
        """
        if not hasattr(self, "codebooks_"):
            V = self._setup(X)
            return self._fit(V, check_random_state(self.random_state), 0, 1)
        V = self._vectors(X, reset=False)
        residual = V.copy()
        for s, codebook in enumerate(self.codebooks_):
            labels, distances = _nearest(residual, codebook)
            sums, counts = _cluster_sums(labels, residual, len(codebook))
            used = counts > 0
            usage = self.codebook_usage_[s]
            usage += counts
            step = (counts[used] / usage[used]).astype(V.dtype)[:, None]
            codebook[used] += step * (sums[used] / counts[used, None] - codebook[used])
            idle = self._idle_batches[s]
            idle[used] = 0
            idle[~used] += 1
            dead = np.flatnonzero(idle >= self.reseed_after)[: len(V)]
            if dead.size:
                _reseed(codebook, labels, residual, dead, distances)
                usage[dead] = 1
                idle[dead] = 0
            residual -= codebook[labels]
        self._set_usage(self.codebook_usage_)
        return self

    @chunked
    def transform(self, X):
        """Integer codes of ``X``: one index per vector and stage.

        Parameters
        ----------
        X : array-like of shape (n_samples, *signal_shape)
            Samples of the shape seen at ``fit``.

        Returns
        -------
        codes : ndarray of unsigned int
            In ``layout`` (by default ``(n_samples, n_vectors_ * n_stages)``,
            stage fastest); uint8 when ``codebook_size <= 256``, uint16 up to
            65536, int64 beyond.
        """
        check_is_fitted(self)
        V = self._vectors(X, reset=False, keep_tensors=True)
        codebooks = asarray(self.codebooks_, like=V)
        codes = astype(_encode(V, codebooks, self.beam_size)[0], self._code_dtype)
        n = len(V) // self.n_vectors_
        codes = to_layout(codes.reshape(n, *self._grid, 1, self.n_stages), self.layout, self)
        return with_structure(codes, self.output_structure_)

    @chunked
    def inverse_transform(self, X, n_stages=None):
        """Decode: the sum of each vector's codewords, in the shape seen at ``fit``.

        Parameters
        ----------
        X : array-like of int
            Codes as ``transform`` gives them (the "flat" 2-D layout always
            works).
        n_stages : int or None, default=None
            Decode with the first ``n_stages`` stages only (the coarser
            reconstruction that a lower bitrate of the same stream gives, as
            in SoundStream's bitrate scalability). None: all stages.

        Returns
        -------
        X_decoded : ndarray of shape (n_samples, *signal_shape_)
            In the dtype of ``codebooks_``; after another skcompress step, in
            that step's layout (with its structure).
        """
        check_is_fitted(self)
        S, K = self.n_stages, self.codebook_size
        codes = as_array(X)
        if not is_integer(codes):
            raise ValueError(
                f"ResidualVQ.inverse_transform expects integer codes; got an array of dtype "
                f"{codes.dtype}."
            )
        codes = from_layout(codes, self._grid, 1, S, self.layout, "ResidualVQ.inverse_transform")
        if size(codes) and (int(codes.min()) < 0 or int(codes.max()) >= K):
            raise ValueError(
                f"ResidualVQ.inverse_transform expects codes in [0, {K - 1}] "
                f"(codebook_size={K}); got codes in [{int(codes.min())}, {int(codes.max())}]."
            )
        if n_stages is None:
            n_stages = S
        if not (isinstance(n_stages, Integral) and 1 <= n_stages <= S):
            raise ValueError(
                f"ResidualVQ.inverse_transform: n_stages must be an int in [1, {S}]; "
                f"got {n_stages!r}."
            )
        codebooks = asarray(self.codebooks_, like=codes)
        vectors = _decode(codes.reshape(-1, S)[:, :n_stages], codebooks)
        out = vectors.reshape(len(codes), *self.signal_shape_)
        structure = self.input_structure_
        if structure is None:
            return out
        # back in the layout of the step before, for its inverse_transform
        return structure.emit(out.reshape(len(out), *structure.grid, structure.depth, structure.k))

    def bits_per_sample(self, X, *, coding="fixed"):
        """Bits per sample that the codes of ``X`` cost.

        Parameters
        ----------
        X : array-like of shape (n_samples, *signal_shape)
            Samples, as given to ``transform``.
        coding : {"fixed", "entropy"}, default="fixed"
            "fixed": the fixed-length codes that SoundStream and EnCodec
            transmit, ``n_vectors_ * n_stages * log2(codebook_size)`` bits per
            sample, exact and the same for every sample (this is what
            :func:`skcompress.metrics.bits_per_sample` reports). "entropy": an
            estimate of what an entropy coder with a static model per stage
            would spend: the ideal code length of ``X``'s codes under each
            stage's code frequencies in ``codebook_usage_``
            (Krichevsky-Trofimov smoothed, so unseen codes cost finite bits;
            the model's own cost is excluded). ``code_entropy_`` gives the
            same per stage on the training codes.

        Returns
        -------
        bits : float
            Mean bits per sample.
        """
        check_is_fitted(self)
        if coding not in ("fixed", "entropy"):
            raise ValueError(
                f"ResidualVQ.bits_per_sample: coding must be 'fixed' or 'entropy'; got {coding!r}."
            )
        if coding == "fixed":
            self._vectors(X, reset=False)
            return float(self.n_vectors_ * self.n_stages * np.log2(self.codebook_size))
        V = self._vectors(X, reset=False)
        codes, _ = _encode(V, self.codebooks_, self.beam_size)
        usage = self.codebook_usage_ + 0.5
        bits = -np.log2(usage / usage.sum(axis=1, keepdims=True))
        total = bits[np.arange(self.n_stages), codes].sum()
        return float(total / (len(V) // self.n_vectors_))

    def get_feature_names_out(self, input_features=None):
        """Names of the "flat" codes, ``vec<v>_stage<s>``.

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
        names = [f"vec{v}_stage{s}" for v in range(self.n_vectors_) for s in range(self.n_stages)]
        return np.asarray(names, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = []  # emits integer codes
        return tags

    @classmethod
    def get_test_params(cls):
        return [
            {"n_stages": 2, "codebook_size": 3, "random_state": 0},
            {
                "n_stages": 3,
                "codebook_size": 2,
                "beam_size": 1,
                "init": "random",
                "n_refine": 0,
                "random_state": 0,
            },
        ]

    def _torch_kernel(self, method):
        """Tensors run through this step's own code (see :mod:`skcompress._core._chunks`)."""
        return unchunked(self, method)

    @property
    def output_structure_(self):
        """:class:`~skcompress._core._structure.Structure` of :meth:`transform`'s output.

        Kind "codes", quantized: ``grid`` is the shape of the vectors in a
        sample, ``k = n_stages``, in ``layout``.
        """
        check_is_fitted(self)
        grid = tuple(self._grid)
        return Structure(
            "codes", "ResidualVQ", grid, 1, self.n_stages, self.layout, quantized=True
        )

    # -- helpers -----------------------------------------------------------

    def _fit(self, V, rng, n_rounds, beam_size):
        K, S = self.codebook_size, self.n_stages
        n_init = min(len(V), _INIT_VECTORS_PER_CODEWORD * K)
        sample = V[np.sort(rng.choice(len(V), n_init, replace=False))] if n_init < len(V) else V
        residual = sample.copy()
        codebooks = np.empty((S, K, V.shape[1]), dtype=V.dtype)
        self.n_iter_ = 0
        for s in range(S):
            codebooks[s], labels, n_iter = _kmeans(
                residual, K, self.init, self.max_iter, self.tol, rng
            )
            residual -= codebooks[s][labels]
            self.n_iter_ += n_iter
        # greedy codes are as good a start for the first refinement, at a fraction of the cost
        codes, residual = _encode(V, codebooks, 1 if n_rounds else beam_size)
        error = _sum_squares(residual)
        self.n_refine_ = 0
        relaxation = _OVERRELAXATION
        for r in range(n_rounds):
            if r == n_rounds - 1:
                relaxation = 1.0
            _refit_codebooks(codebooks, codes, residual, relaxation)
            codes, residual = _encode(V, codebooks, beam_size)
            previous, error = error, _sum_squares(residual)
            self.n_refine_ += 1
            if error > previous:  # overshoot: plain steps from now on
                relaxation = 1.0
            elif error >= previous * (1 - self.tol):
                break
        self.codebooks_ = codebooks
        usage = [np.bincount(codes[:, s], minlength=K) for s in range(S)]
        self._set_usage(np.stack(usage).astype(np.int64))
        self._idle_batches = np.zeros((S, K), dtype=np.int64)
        return self

    def _setup(self, X):
        V = self._vectors(X, reset=True)
        n = len(V) // self.n_vectors_
        if self.codebook_size > len(V):
            raise ValueError(
                f"ResidualVQ: codebook_size={self.codebook_size} exceeds the {len(V)} "
                f"training vectors (n_samples={n} x {self.n_vectors_} vectors of length "
                f"{self.vector_size_}); give more data or a smaller codebook_size."
            )
        return V

    def _vectors(self, X, *, reset, keep_tensors=False):
        """``X`` as a C-contiguous ``(n_samples * n_vectors, vector_size)`` array.

        ``keep_tensors``: a tensor stays a tensor (see :func:`check_signals`).
        """
        structure = read_structure(self, X, reset=reset)
        X = _read_vectors(X, structure)
        X = check_signals(self, X, reset=reset, max_ndim=None, keep_tensors=keep_tensors)
        length = X.shape[-1]
        if reset:
            vector_size = length if self.vector_size is None else self.vector_size
            if length % vector_size:
                raise indivisible("ResidualVQ", vector_size, length, X, structure)
            self.vector_size_ = vector_size
            self.n_vectors_ = X[0].size // vector_size
            self._code_dtype = _unsigned_dtype(self.codebook_size)
        if hasattr(self, "codebooks_") and not reset:
            V = contiguous(astype(X.reshape(-1, self.vector_size_), self.codebooks_.dtype))
        else:
            V = np.ascontiguousarray(X.reshape(-1, self.vector_size_))
        xp = get_namespace(V)
        with np.errstate(over="ignore"):
            # distances add terms up to 4 max ||x||^2; they must stay finite
            overflow = size(V) and not bool(xp.isfinite(4 * xp.amax(_row_squares(V))))
        if overflow:
            raise ValueError(
                f"ResidualVQ: the squared norms of the vectors overflow {V.dtype}; "
                f"got values up to {float(xp.amax(xp.abs(V))):.3g}. Scale X down or use "
                "float64."
            )
        return V

    @property
    def _grid(self):
        shape = self.signal_shape_
        per_row = shape[-1] // self.vector_size_
        return shape[:-1] if per_row == 1 and len(shape) > 1 else (*shape[:-1], per_row)

    def _set_usage(self, usage):
        self.codebook_usage_ = usage
        p = usage / np.maximum(usage.sum(axis=1, keepdims=True), 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            self.code_entropy_ = -np.where(p > 0, p * np.log2(p), 0.0).sum(axis=1)
        self.perplexity_ = 2.0**self.code_entropy_


def _read_vectors(X, structure):
    """``X`` as ``(n, *cells, values)`` where ``structure`` says what a cell is, or a refusal.

    Images as the images they are (``(n, H, W[, C])``, as if given directly);
    coefficients, frames, patches and subbands as ``(n, *grid, [depth,] k)``.
    Tensors stay tensors (a fitted step reads them as its training data).
    """
    if structure is None:
        return X
    if structure.kind == "codes" or structure.quantized:
        raise refuse(
            "ResidualVQ",
            structure,
            "vectors of values (coefficients, frames, patches, pixels)",
            "Quantize the values, not symbols: put it right after the transform, without "
            "another quantizer before it (or pass np.asarray(X) to quantize the numbers as "
            "they are).",
        )
    return read_cells("ResidualVQ", X, structure)


def _unsigned_dtype(codebook_size):
    for dtype in (np.uint8, np.uint16):
        if codebook_size <= np.iinfo(dtype).max + 1:
            return np.dtype(dtype)
    return np.dtype(np.int64)


def _sum_squares(V):
    return float(np.einsum("ij,ij->", V, V, dtype=np.float64))


def _row_squares(V):
    return get_namespace(V).einsum("...d,...d->...", V, V)


def _nearest(V, codebook):
    """Index of the nearest codeword of every row of ``V``, and its squared distance."""
    K = len(codebook)
    scaled = -2 * codebook.T
    norms = _row_squares(codebook)
    labels = np.empty(len(V), dtype=np.intp)
    distances = np.empty(len(V), dtype=V.dtype)
    step = max(1, _CHUNK_PAIRS // K)
    for start in range(0, len(V), step):
        chunk = V[start : start + step]
        scores = chunk @ scaled
        scores += norms
        best = scores.argmin(axis=1)
        labels[start : start + step] = best
        nearest = scores[np.arange(len(best)), best]
        distances[start : start + step] = nearest + _row_squares(chunk)
    np.maximum(distances, 0, out=distances)
    return labels, distances


def _cluster_sums(labels, V, K):
    """Sum and count of the rows of ``V`` assigned to each of ``K`` codewords."""
    m = len(labels)
    onehot = sp.csr_matrix((np.ones(m, dtype=V.dtype), (labels, np.arange(m))), shape=(K, m))
    return onehot @ V, np.bincount(labels, minlength=K)


def _largest(values, k):
    """Indices of the ``k`` largest entries of a 1-D array."""
    return np.argpartition(values, len(values) - k)[len(values) - k :]


def _smallest_per_row(D, k):
    """Columns and values of the ``k`` smallest entries of each row; overwrites ``D``.

    ``k`` passes of argmin: for the small beams of a vector quantizer this
    beats a partition, and ties are broken by column. numpy or torch.
    """
    rows = arange(len(D), like=D)
    columns = empty((len(D), k), np.intp, like=D)
    values = empty((len(D), k), None, like=D)
    for i in range(k):
        best = D.argmin(axis=1)
        columns[:, i] = best
        values[:, i] = D[rows, best]
        if i < k - 1:
            D[rows, best] = np.inf
    return columns, values


def _kmeans_plusplus(V, K, rng):
    """Greedy k-means++ seeding, ``2 + log(K)`` candidates per codeword."""
    norms = _row_squares(V)
    trials = 2 + int(np.log(K))
    centers = np.empty((K, V.shape[1]), dtype=V.dtype)
    first = rng.randint(len(V))
    centers[0] = V[first]
    closest = np.maximum(norms - 2 * (V @ V[first]) + norms[first], 0)
    scaled = np.ascontiguousarray(-2 * V.T)  # (d, n): the fast layout for V[picks] @ scaled
    for k in range(1, K):
        cumulative = np.cumsum(closest, dtype=np.float64)
        picks = np.searchsorted(cumulative, rng.uniform(size=trials) * cumulative[-1])
        picks = np.minimum(picks, len(V) - 1)
        candidates = V[picks] @ scaled
        candidates += norms
        candidates += norms[picks, None]
        np.minimum(candidates, closest, out=candidates)
        best = candidates.sum(axis=1, dtype=np.float64).argmin()
        closest = np.maximum(candidates[best], 0)
        centers[k] = V[picks[best]]
    return centers


def _kmeans(V, K, init, max_iter, tol, rng):
    """Over-relaxed Lloyd iterations; empty clusters re-seeded with the worst-coded vectors.

    Returns the codewords, each the mean of its vectors, the labels and the
    number of iterations run.
    """
    if init == "k-means++":
        centers = _kmeans_plusplus(V, K, rng)
    else:
        centers = V[rng.choice(len(V), K, replace=False)].copy()
    previous = np.inf
    relaxation = _OVERRELAXATION
    for iteration in range(max_iter + 1):
        labels, distances = _nearest(V, centers)
        error = float(distances.sum(dtype=np.float64))
        last = error >= previous * (1 - tol) or iteration == max_iter
        if last or error > previous:  # an overshoot: plain Lloyd from now on
            relaxation = 1.0
        dead = _move_to_means(centers, labels, V, relaxation)
        if dead.size:
            _reseed(centers, labels, V, dead, distances)
        if last:
            return centers, labels, iteration + 1
        previous = error


def _move_to_means(centers, labels, V, relaxation):
    """Move codewords towards (past, for ``relaxation > 1``) the means of their vectors.

    Returns the codewords that no vector chose.
    """
    sums, counts = _cluster_sums(labels, V, len(centers))
    used = counts > 0
    means = sums[used] / counts[used, None].astype(V.dtype)
    centers[used] += relaxation * (means - centers[used])
    return np.flatnonzero(~used)


def _reseed(centers, labels, V, dead, errors):
    """Dead codewords take the vectors with the largest ``errors``, which switch to them."""
    worst = _largest(errors, dead.size)
    centers[dead] = V[worst]
    labels[worst] = dead


def _encode(V, codebooks, beam_size):
    """Codes ``(m, n_stages)`` by beam search over partial sums, and the residuals.

    Each of the ``beam_size`` partial codes of a vector is extended by every
    codeword of the next stage; the ``beam_size`` extensions with the
    smallest error survive. ``beam_size=1`` is the greedy encoder. numpy
    arrays or torch tensors, ``V`` and ``codebooks`` alike.
    """
    xp = get_namespace(V)
    S, K, d = codebooks.shape
    scaled = -2 * codebooks.swapaxes(1, 2)
    norms = _row_squares(codebooks)
    codes = empty((len(V), S), np.intp, like=V)
    residual = xp.empty_like(V)
    step = max(1, _CHUNK_PAIRS // (K * beam_size))
    for start in range(0, len(V), step):
        x = V[start : start + step]
        n = len(x)
        rows = arange(n, like=V)[:, None]
        residuals = x[:, None, :]
        errors = _row_squares(x)[:, None]
        paths = zeros((n, 1, 0), np.intp, like=V)
        for s in range(S):
            beams = residuals.shape[1]
            scores = residuals.reshape(n * beams, d) @ scaled[s]
            scores += norms[s]
            if beams > 1:
                scores += errors.reshape(n * beams, 1)
            # only the best full path matters after the last stage
            keep = 1 if s == S - 1 else min(beam_size, beams * K)
            kept, values = _smallest_per_row(scores.reshape(n, beams * K), keep)
            errors = values if beams > 1 else values + errors
            parent, code = kept // K, kept % K
            residuals = residuals[rows, parent] - codebooks[s][code]
            paths = xp.concatenate([paths[rows, parent], code[..., None]], axis=2)
        codes[start : start + n] = paths[:, 0]
        residual[start : start + n] = residuals[:, 0]
    return codes, residual


def _decode(codes, codebooks):
    """Sum over stages of the chosen codewords: ``(m, d)`` (numpy or torch)."""
    codes = as_index(codes)
    out = codebooks[0][codes[:, 0]]
    for s in range(1, codes.shape[1]):
        out += codebooks[s][codes[:, s]]
    return out


def _refit_codebooks(codebooks, codes, residual, relaxation):
    """One Gauss-Seidel sweep of the least-squares codebook update, codes fixed.

    Each stage's codewords move, in place, to the means of what the other
    stages leave of their vectors (past them, for ``relaxation > 1``:
    successive over-relaxation). A codeword that no vector chose takes the
    target of the worst-coded vector, which switches to it in ``codes``.
    """
    for s, codebook in enumerate(codebooks):
        labels = codes[:, s]
        target = residual + codebook[labels]
        dead = _move_to_means(codebook, labels, target, relaxation)
        if dead.size:
            _reseed(codebook, labels, target, dead, _row_squares(residual))
        if s < len(codebooks) - 1:
            residual = np.subtract(target, codebook[labels], out=target)
