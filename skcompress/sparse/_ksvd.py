"""K-SVD: dictionary learning by sparse coding and rank-one atom updates."""

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from scipy.linalg import blas, lapack
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from .._core._docs import chunk_parameters, fill_doc
from .._core._estimator import PublicEstimatorMixin, unfitted_on_error
from .._core._limits import MAX_ATOMS
from ._coding import _SPARSITY_CONSTRAINTS, STRUCTURE_NOTES, _SparseCodes
from ._dictionary import overcomplete_dct
from ._omp import (
    allowed_threads,
    check_dictionary,
    omp_support,
    resolve_sparsity,
    single_blas_thread,
)

# Two atoms whose |cos| exceeds this are duplicates; the later one is replaced
# (as in Rubinstein's KSVD-Box).
_DUPLICATE_COHERENCE = 0.99


@chunk_parameters(device=False)
class KSVD(_SparseCodes, TransformerMixin, PublicEstimatorMixin, BaseEstimator):
    """K-SVD dictionary learning, with batch-OMP sparse codes.

    K-SVD (Aharon, Elad and Bruckstein 2006) learns ``n_components`` unit-norm
    atoms so that every training vector is well approximated by a few of
    them. Each iteration codes every vector by OMP (:func:`batch_omp`), then
    updates the atoms one at a time: atom ``k`` and its coefficients become
    the best rank-one approximation of what the vectors that use it leave
    once its own contribution is added back (the first singular pair of
    that residual; ``atom_update="approximate"`` takes one power step from
    the current coefficients instead, as Rubinstein, Zibulevsky and Elad's
    approximate K-SVD does). Atoms that no vector uses, and atoms that
    duplicate another, are replaced by the worst-represented training
    vectors. The learned dictionary and its codes are a transform and a
    quantizer in one: ``transform`` gives the sparse codes (quantized with
    ``quantization_step``, with a rate), ``inverse_transform`` the signals.

    Parameters
    ----------
    n_components : int in [1, 8192] or None, default=None
        Number of atoms. None: ``vector_size`` (or the rows of an ``init``
        array). More atoms than ``vector_size`` make an overcomplete
        dictionary, the usual case (256 atoms for 8x8 patches).
    n_nonzero_coefs : int or None, default=None
        Most atoms per vector, in ``fit`` and ``transform``. None: 10% of
        ``vector_size`` (at least 1) when ``tol`` is None, otherwise
        ``min(n_components, vector_size)``.
    tol : float or None, default=None
        Code each vector until its squared residual norm is at most ``tol``
        (sparsity by error, as K-SVD denoising does with ``tol = vector_size *
        (1.15 sigma) ** 2``); ``n_nonzero_coefs`` still caps the atoms.
    algorithm : {"omp", "ormp"}, default="omp"
        The sparse coder, in ``fit`` and ``transform``: orthogonal matching
        pursuit, or order-recursive matching pursuit (SPAMS' ``omp``); see
        :func:`batch_omp`.
    max_iter : int, default=10
        Most K-SVD iterations over all training vectors (sparse coding, then
        atom updates), after the warm-up.
    atom_update : {"svd", "approximate"}, default="svd"
        "svd": the exact rank-one update, the first singular pair of the
        residual of the atom's users. "approximate": one power step from the
        current coefficients (atom ``= E.T g / ||E.T g||``, coefficients ``= E
        atom``), cheaper and close to it.
    init : {"data", "dct"} or array-like of shape (n_components, vector_size), default="data"
        First dictionary: distinct training vectors drawn at random
        (normalized; random Gaussian atoms if there are too few nonzero
        vectors), the overcomplete DCT of shape ``atom_shape``
        (:func:`overcomplete_dct`), or the given atoms (normalized).
    atom_shape : int, tuple of int or None, default=None
        Shape of one atom for ``init="dct"``, e.g. ``(8, 8)`` for 8x8 patches;
        None: the patch after :class:`Patches` of square gray patches, else
        1-D atoms of length ``vector_size``.
    warm_up : bool, default=True
        Before the iterations over all training vectors, run a few on random
        subsets that start at 24 vectors per atom and double every two
        iterations while they are smaller than two thirds of the training
        set (with 50,000 vectors and 256 atoms: twice 6,144, 12,288 and
        24,576 vectors, together the cost of less than two full
        iterations). The full iterations then start close to where plain
        K-SVD would be after several of its own. False: plain K-SVD. The
        warm-up iterations are counted in ``n_warm_up_iter_``, not in
        ``max_iter`` or ``error_``.
    monotone : bool, default=False
        Keep a vector's previous code when OMP over the updated dictionary
        would code it worse, so that the training error never increases
        (with sparsity by ``n_nonzero_coefs``). The atoms then fit codes that
        OMP does not find, which lowers the training error but raises the
        error of OMP on new vectors a little: off by default.
    convergence_tol : float, default=1e-4
        Stop once an iteration lowers the relative training error (with
        ``tol``: the mean number of atoms per vector) by less than this
        fraction of it.
    quantization_step : float or None, default=None
        Quantize the coefficients of ``transform`` to int32 levels ``round(c /
        step)``, with their rate (:meth:`bits_per_sample`); None: float codes.
    vector_size : int or None, default=None
        Length of one vector. None: the last axis of ``X`` is one vector (the
        whole row of 2-D input; after another skcompress step, one of its
        cells: a patch of :class:`Patches` output in any layout, see Notes).
        An int cuts the last axis into consecutive vectors of that length.
    layout : {"flat", "blocks", "channels_first"}, default="flat"
        Layout of the codes, see :mod:`skcompress` (the data contract):
        "flat" is ``(n, n_vectors * n_components)``, atom fastest; "blocks"
        is ``(n, *grid, n_components)``; "channels_first" is
        ``(n, n_components, *grid)``.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial dictionary (``init="data"``) and the order in which
        the atoms are updated.
    {chunk_parameters}

    Attributes
    ----------
    components_ : ndarray of shape (n_components_, vector_size_)
        The unit-norm atoms, in the dtype seen at ``fit``.
    n_components_ : int
        Number of atoms.
    error_ : ndarray of float64, shape (n_iter_,)
        Relative training error ``||V - codes @ components_|| / ||V||`` over
        all training vectors ``V`` after each iteration (atom replacement
        included). Each atom update is optimal for the codes' supports, so
        only the sparse coding can raise it: OMP is greedy and may, rarely,
        code a vector worse over a better dictionary. With ``monotone=True``
        (and sparsity by ``n_nonzero_coefs``) it never increases from one
        iteration to the next, except at an iteration that replaced a
        duplicated atom in use (whose vectors lose it until they are coded
        again).
    n_replaced_ : ndarray of int64, shape (n_iter_,)
        Atoms replaced at each iteration (none at the last one).
    atom_usage_ : ndarray of int64, shape (n_components_,)
        Training vectors that use each atom in the final codes of ``fit``.
    n_iter_ : int
        Iterations over all training vectors run by ``fit``, plus the
        batches seen by ``partial_fit``.
    n_warm_up_iter_ : int
        Iterations on subsets that ``fit`` ran first (see ``warm_up``).
    entropy_model_ : symbol statistics
        With ``quantization_step``: each atom's distribution of levels in the
        codes of the training vectors (counts and code lengths;
        ``Codec(..., model=entropy_model_)`` codes with them).
    vector_size_ : int
        Length of one vector.
    n_vectors_ : int
        Vectors per sample.
    signal_shape_ : tuple of int
        Shape of one input sample seen at ``fit``.
    n_features_in_ : int
        Values per input sample.
    feature_names_in_ : ndarray of str
        Column names, when ``fit`` was given a DataFrame.

    See Also
    --------
    OMPCoder : sparse codes over a fixed dictionary.
    Patches : images to patch vectors, the usual training set.
    sklearn.decomposition.MiniBatchDictionaryLearning : L1 dictionary learning.

    Notes
    -----
    {structure_notes}

    The residual of every training vector is kept up to date through the
    atom updates, so an atom's update costs a gather of its users'
    residuals, one ``vector_size x vector_size`` Gram matrix and its top
    eigenvector (or the smaller Gram of the users when they are fewer).
    ``partial_fit`` cannot revisit old vectors, so it keeps their sufficient
    statistics instead and updates the atoms by block coordinate descent as
    online dictionary learning does (Mairal, Bach, Ponce and Sapiro 2010).

    Examples
    --------
    >>> import numpy as np
    >>> from skcompress.sparse import KSVD
    >>> rng = np.random.default_rng(0)
    >>> atoms = rng.normal(size=(24, 16))
    >>> codes = np.zeros((600, 24))
    >>> for row in codes:
    ...     row[rng.choice(24, 2, replace=False)] = rng.normal(size=2)
    >>> X = codes @ atoms
    >>> ksvd = KSVD(24, n_nonzero_coefs=2, max_iter=10, random_state=0).fit(X)
    >>> bool(ksvd.error_[-1] < 0.7 * ksvd.error_[0])
    True
    >>> ksvd.transform(X).shape
    (600, 24)
    """

    _parameter_constraints = {
        "n_components": [Interval(Integral, 1, MAX_ATOMS, closed="both"), None],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "atom_update": [StrOptions({"svd", "approximate"})],
        "init": [StrOptions({"data", "dct"}), "array-like"],
        "atom_shape": [Interval(Integral, 1, None, closed="left"), tuple, list, None],
        "warm_up": ["boolean"],
        "monotone": ["boolean"],
        "convergence_tol": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        **_SPARSITY_CONSTRAINTS,
        "batch_size": [Interval(Integral, 1, None, closed="left"), None],
        "n_jobs": [Integral, None],
        "dtype": "no_validation",  # checked when used
    }

    def __init__(
        self,
        n_components=None,
        *,
        n_nonzero_coefs=None,
        tol=None,
        algorithm="omp",
        max_iter=10,
        atom_update="svd",
        init="data",
        atom_shape=None,
        warm_up=True,
        monotone=False,
        convergence_tol=1e-4,
        quantization_step=None,
        vector_size=None,
        layout="flat",
        random_state=None,
        batch_size=None,
        n_jobs=None,
        dtype=None,
    ):
        self.n_components = n_components
        self.n_nonzero_coefs = n_nonzero_coefs
        self.tol = tol
        self.algorithm = algorithm
        self.max_iter = max_iter
        self.atom_update = atom_update
        self.init = init
        self.atom_shape = atom_shape
        self.warm_up = warm_up
        self.monotone = monotone
        self.convergence_tol = convergence_tol
        self.quantization_step = quantization_step
        self.vector_size = vector_size
        self.layout = layout
        self.random_state = random_state
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.dtype = dtype

    @_fit_context(prefer_skip_nested_validation=True)
    @unfitted_on_error
    def fit(self, X, y=None):
        """Learn the dictionary from the vectors of ``X`` by K-SVD.

        Parameters
        ----------
        X : array-like of shape (n_samples, *signal_shape)
            Vectors along the last axis (see ``vector_size``), e.g. patches
            with their mean removed.
        y : None
            Ignored.

        Returns
        -------
        self : KSVD
        """
        V = self._vectors(X, reset=True)
        rng = check_random_state(self.random_state)
        D = self._initial_dictionary(V, rng)
        self._set_dictionary(D)
        # OMP spreads over the threads BLAS may use; the many small products of the atom
        # updates run on one, which is faster than BLAS's own threads for matrices this size
        n_threads = allowed_threads()
        with single_blas_thread():
            return self._fit(V, D, rng, n_threads)

    def _fit(self, V, D, rng, n_threads):
        sizes = _warm_up_sizes(len(V), len(D)) if self.warm_up else []
        if sizes:
            order = rng.permutation(len(V))
        for size in sizes:
            learner = _Learner(V[np.sort(order[:size])], D, self._n_steps, self._coder(n_threads))
            learner.code(keep_better=False)
            learner.update_atoms(self.atom_update, rng.permutation(len(D)))
            learner.replace_atoms()
            D = learner.D
        self.n_warm_up_iter_ = len(sizes)
        learner = _Learner(V, D, self._n_steps, self._coder(n_threads))
        errors, replaced, objective = [], [], None
        for iteration in range(self.max_iter):
            learner.code(keep_better=self.monotone and self.tol is None and bool(errors))
            learner.update_atoms(self.atom_update, rng.permutation(len(D)))
            # sparsity by error: what falls is the number of atoms, not the error
            previous = objective
            objective = learner.relative_error() if self.tol is None else learner.mean_atoms()
            converged = previous is not None and (
                previous - objective <= self.convergence_tol * previous
            )
            # new atoms are of no use once no iteration follows to code with them
            last = converged or iteration == self.max_iter - 1
            replaced.append(0 if last else learner.replace_atoms())
            errors.append(learner.relative_error())
            if converged:
                break
        self._set_dictionary(learner.D)
        self.error_ = np.asarray(errors, dtype=np.float64)
        self.n_replaced_ = np.asarray(replaced, dtype=np.int64)
        self.n_iter_ = len(errors)
        codes = learner.sparse_codes()
        self.atom_usage_ = np.bincount(codes.indices, minlength=len(D)).astype(np.int64)
        self._statistics = _statistics(codes, V)
        self._fit_entropy_model(V, rng)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    @unfitted_on_error
    def partial_fit(self, X, y=None):
        """Update the dictionary with one batch of vectors (online dictionary learning).

        The batch is coded by OMP over the current dictionary; its codes
        ``G`` add ``G.T @ G`` and ``G.T @ V`` to running statistics of every
        vector seen so far (those of the training set, after ``fit``), and
        each atom in turn moves to the least-squares optimum of those
        statistics with the others fixed, then back to unit norm (Mairal et
        al. 2010, with OMP codes). Atoms that no vector has used yet are
        replaced by the worst-represented vectors of the batch. The first
        call initializes the dictionary from the batch as ``fit`` does.

        Parameters
        ----------
        X : array-like of shape (n_samples, *signal_shape)
            A batch; later batches must have the signal shape of the first.
        y : None
            Ignored.

        Returns
        -------
        self : KSVD
        """
        first = not hasattr(self, "components_")
        V = self._vectors(X, reset=first)
        if first:
            self._rng = check_random_state(self.random_state)
            D = self._initial_dictionary(V, self._rng)
            self._set_dictionary(D)
            self.error_ = np.zeros(0)
            self.n_replaced_ = np.zeros(0, dtype=np.int64)
            self.n_iter_ = 0
            self.n_warm_up_iter_ = 0
            self.atom_usage_ = np.zeros(len(D), dtype=np.int64)
            self._statistics = (np.zeros((len(D), len(D)), D.dtype), np.zeros_like(D))
        rng = getattr(self, "_rng", None) or check_random_state(self.random_state)
        self._rng = rng
        n_threads = allowed_threads()
        with single_blas_thread():
            return self._partial_fit(V, rng, n_threads)

    def _coder(self, n_threads):
        """OMP of vectors over atoms, with this estimator's sparsity and algorithm."""
        tol, algorithm = self.tol, self.algorithm

        def code(V, D, n_steps, gram=None):
            gram = D @ D.T if gram is None else gram
            return omp_support(V, D, gram, n_steps, tol, algorithm=algorithm, n_threads=n_threads)

        return code

    def _partial_fit(self, V, rng, n_threads):
        D = self.components_.copy()
        support, coefficients = self._coder(n_threads)(V, D, self._n_steps, self._gram)
        codes = _csr(support, coefficients, len(D))
        A, B = self._statistics
        batch_A, batch_B = _statistics(codes, V)
        A, B = A + batch_A, B + batch_B
        for j in rng.permutation(len(D)):
            if A[j, j] > 0:
                atom = D[j] + (B[j] - A[j] @ D) / A[j, j]
                norm = np.linalg.norm(atom)
                if norm > 0:
                    D[j] = atom / norm
        usage = self.atom_usage_ + np.bincount(codes.indices, minlength=len(D))
        dead = np.flatnonzero(usage == 0)
        if dead.size:
            residual = V - codes @ self.components_
            D[dead] = _worst_vectors(V, _row_squares(residual), dead.size, rng)
            A[dead], A[:, dead], B[dead] = 0, 0, 0
        self._set_dictionary(D)
        self._statistics = (A, B)
        self.atom_usage_ = usage.astype(np.int64)
        self.n_iter_ += 1
        self._fit_entropy_model(V, rng)
        return self

    def _initial_dictionary(self, V, rng):
        d = self.vector_size_
        if not isinstance(self.init, str):
            D, norms = check_dictionary(self.init, dtype=V.dtype, name="KSVD: init")
            if D.shape[1] != d or (self.n_components not in (None, len(D))):
                raise ValueError(
                    f"KSVD: init must have shape (n_components, vector_size) = "
                    f"({self.n_components or len(D)}, {d}); got {D.shape}."
                )
            return D / norms[:, None]
        K = self.n_components or d
        resolve_sparsity(self.n_nonzero_coefs, self.tol, K, d, owner="KSVD")
        if self.init == "dct":
            return overcomplete_dct(K, self._dct_atom_shape("KSVD")).astype(V.dtype)
        return _worst_vectors(V, None, K, rng)

    @classmethod
    def get_test_params(cls):
        return [
            {"max_iter": 3, "random_state": 0},
            {
                "n_components": 6,
                "n_nonzero_coefs": 1,
                "atom_update": "approximate",
                "max_iter": 2,
                "random_state": 0,
            },
            {"n_components": 5, "tol": 0.5, "init": "dct", "quantization_step": 0.1},
        ]


class _Learner:
    """The state of K-SVD on the training vectors: dictionary, codes and residuals.

    Codes are kept compact, ``support`` (vectors x slots, -1 where a slot is
    empty) and ``coefficients``; ``residual`` is ``V - codes @ D`` at all
    times, updated with every change of the codes or the atoms.
    """

    def __init__(self, V, D, n_steps, coder):
        self.V, self.D = V, D.copy()
        self.n_steps, self.coder = n_steps, coder
        self.support = np.full((len(V), n_steps), -1, dtype=np.intp)
        self.coefficients = np.zeros((len(V), n_steps), dtype=V.dtype)
        self.residual = V.copy()
        self.energy = _row_squares(V)
        self.total = max(float(self.energy.sum(dtype=np.float64)), np.finfo(np.float64).tiny)

    def code(self, keep_better):
        """OMP codes over the current atoms; with ``keep_better``, never worse than before."""
        D = self.D
        support, coefficients = self.coder(self.V, D, self.n_steps)
        residual = self.V - _csr(support, coefficients, len(D)) @ D
        if keep_better:
            if self.energy is None:
                self.energy = _row_squares(self.residual)
            energy = _row_squares(residual)
            worse = energy > self.energy
            support[worse] = self.support[worse]
            coefficients[worse] = self.coefficients[worse]
            residual[worse] = self.residual[worse]
        self.support, self.coefficients, self.residual = support, coefficients, residual
        self.energy = None  # set again by update_atoms

    def update_atoms(self, method, order):
        """One sweep of rank-one atom updates, atoms in ``order``."""
        D, R, s = self.D, self.residual, self.n_steps
        flat = self.support.reshape(-1)
        slots = np.flatnonzero(flat >= 0)
        atom_of = flat[slots]
        slots = slots[np.argsort(atom_of, kind="stable")]
        counts = np.bincount(atom_of, minlength=len(D))
        ends = np.cumsum(counts)
        starts = ends - counts
        values = self.coefficients.reshape(-1)
        ger = blas.get_blas_funcs("ger", dtype=D.dtype)
        top = _TopSingularVector(D.dtype)
        for j in order:
            if not counts[j]:
                continue
            where = slots[starts[j] : ends[j]]
            users = where // s
            g = values[where]
            E = R[users]
            # E += g atom^T, and later E -= g' atom'^T: rank-one BLAS updates of E in place
            E = ger(1.0, D[j], g, a=E.T, overwrite_a=1).T
            atom = top(E) if method == "svd" else g @ E
            norm = np.linalg.norm(atom)
            if not norm > 0:
                continue
            atom /= norm
            if atom @ D[j] < 0:
                atom = -atom
            g = E @ atom
            R[users] = ger(-1.0, atom, g, a=E.T, overwrite_a=1).T
            D[j] = atom
            values[where] = g
        self.energy = _row_squares(R)

    def replace_atoms(self):
        """Replace unused and duplicated atoms by the worst-represented vectors."""
        D = self.D
        used = np.bincount(self.support[self.support >= 0], minlength=len(D)) > 0
        G = np.abs(D @ D.T)
        duplicate = np.tril(G, -1).max(axis=1, initial=0) > _DUPLICATE_COHERENCE
        replace = np.flatnonzero(~used | duplicate)
        if not replace.size:
            return 0
        holding = np.isin(self.support, replace)
        if holding.any():  # users of a duplicate atom lose it: their residual takes it back
            rows, slots = np.nonzero(holding)
            atoms = self.support[rows, slots]
            np.add.at(self.residual, rows, self.coefficients[rows, slots, None] * D[atoms])
            self.support[rows, slots] = -1
            self.coefficients[rows, slots] = 0
            self.energy = _row_squares(self.residual)
        D[replace] = _worst_vectors(self.V, self.energy, replace.size, None)
        return int(replace.size)

    def mean_atoms(self):
        return float((self.support >= 0).sum() / max(len(self.support), 1))

    def relative_error(self):
        return float(np.sqrt(self.energy.sum(dtype=np.float64) / self.total))

    def sparse_codes(self):
        return _csr(self.support, self.coefficients, len(self.D))


class _TopSingularVector:
    """First right singular vector of a matrix, from the smaller of its two Gram matrices.

    The top eigenvector of ``E.T @ E`` (or ``E.T`` times that of ``E @ E.T``
    when ``E`` has fewer rows than columns), by LAPACK's ``syevr`` for that
    one eigenpair.
    """

    def __init__(self, dtype):
        self.syevr = lapack.get_lapack_funcs("syevr", dtype=dtype)

    def __call__(self, E):
        n, d = E.shape
        if n == 1:
            return E[0].copy()
        M = E.T @ E if n >= d else E @ E.T
        size = len(M)
        _, vectors, _, _, info = self.syevr(M, compute_v=1, range="I", il=size, iu=size)
        if info != 0:  # no convergence (never seen): fall back to the full solver
            vectors = np.linalg.eigh(M)[1][:, -1:]
        vector = vectors[:, 0]
        return vector if n >= d else vector @ E


def _warm_up_sizes(n_vectors, n_atoms):
    """Subsets for the warm-up iterations: 24 vectors per atom, doubled every two."""
    sizes, size = [], 24 * n_atoms
    while 1.5 * size < n_vectors:
        sizes += [size, size]
        size *= 2
    return sizes


def _worst_vectors(V, errors, k, rng):
    """``k`` unit-norm atoms from the vectors with the largest ``errors`` (random if None).

    Vectors of (numerically) zero norm are skipped; if fewer than ``k``
    remain, the rest are random Gaussian atoms.
    """
    norms = np.sqrt(_row_squares(V))
    # vectors that are rounding noise (a flat patch less its mean) would make noise atoms
    floor = np.sqrt(np.finfo(V.dtype).eps) * (norms.max() if len(norms) else 0)
    candidates = np.flatnonzero(norms > max(floor, np.finfo(V.dtype).tiny))
    if errors is None:
        rng = check_random_state(rng)
        chosen = rng.permutation(candidates)[:k]
    else:
        order = np.argsort(-errors[candidates], kind="stable")
        chosen = candidates[order[:k]]
    atoms = V[chosen] / norms[chosen, None]
    if len(atoms) < k:
        rng = check_random_state(rng if rng is not None else 0)
        extra = rng.normal(size=(k - len(atoms), V.shape[1])).astype(V.dtype)
        extra /= np.linalg.norm(extra, axis=1, keepdims=True)
        atoms = np.vstack([atoms, extra])
    return atoms


def _csr(support, coefficients, n_atoms):
    valid = support >= 0
    indptr = np.concatenate([[0], np.cumsum(valid.sum(axis=1))])
    return sp.csr_matrix(
        (coefficients[valid], support[valid], indptr), shape=(len(support), n_atoms)
    )


def _statistics(codes, V):
    """``(codes.T @ codes, codes.T @ V)``: what online dictionary learning keeps."""
    A = (codes.T @ codes).toarray()
    B = np.asarray(codes.T @ V)
    return A.astype(V.dtype), B.astype(V.dtype)


def _row_squares(V):
    return np.einsum("ij,ij->i", V, V)


KSVD.__doc__ = fill_doc(KSVD.__doc__, {"{structure_notes}": STRUCTURE_NOTES})
