"""Batch orthogonal matching pursuit: Gram matrix, progressive Cholesky, whole batches at once."""

import threading
from concurrent.futures import ThreadPoolExecutor
from numbers import Integral, Real

import joblib
import numpy as np
from scipy.linalg import blas
from threadpoolctl import ThreadpoolController

# Signals coded together: the correlations of a chunk with every atom
# (chunk x n_atoms values) stay in the cache between the steps.
_CHUNK_VALUES = 1 << 18
# A signal stops when the largest correlation of its residual with an atom is
# this many machine epsilons of its norm (the residual is numerically zero),
# or when the next atom's part orthogonal to the chosen ones has a squared
# norm this many epsilons of its own (the atom is numerically in their span).
_ZERO_EPS = 256


def batch_omp(
    X,
    dictionary,
    *,
    n_nonzero_coefs=None,
    tol=None,
    algorithm="omp",
    gram=None,
    return_support=False,
):
    """Sparse codes of signals over a dictionary by orthogonal matching pursuit.

    Batch-OMP (Rubinstein, Zibulevsky and Elad 2008): the Gram matrix of the
    atoms is computed once, every signal's Cholesky factor of its selected
    atoms grows by one row per step, and every step runs on the whole batch
    of signals at once (one matrix product updates the correlations of every
    signal with every atom). Each signal gets the codes that OMP gives it on
    its own: at each step the atom most correlated with the residual joins
    the support, and the coefficients are the least-squares fit of the signal
    on the support.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Signals, one per row; float32 stays float32.
    dictionary : array-like of shape (n_atoms, n_features)
        Atoms, one per row (scikit-learn's ``components_`` convention). They
        need not have unit norm: atoms are chosen by their correlation with
        the residual divided by their norm (OMP on the normalized atoms), and
        the coefficients are those of the atoms as given.
    n_nonzero_coefs : int or None, default=None
        Most atoms per signal. None: 10% of ``n_features`` (at least 1) when
        ``tol`` is None, otherwise ``min(n_atoms, n_features)``.
    tol : float or None, default=None
        Stop coding a signal once the squared norm of its residual is at most
        ``tol`` (as scikit-learn's ``orthogonal_mp``); ``n_nonzero_coefs``
        still caps its number of atoms.
    algorithm : {"omp", "ormp"}, default="omp"
        "omp": the atom most correlated with the residual joins the support
        (orthogonal matching pursuit, Pati et al. 1993; scikit-learn's
        ``orthogonal_mp``). "ormp": the atom that most reduces the residual
        once the signal is projected on the support with it (order-recursive
        matching pursuit, also called orthogonal least squares or
        optimized OMP; SPAMS' ``omp``): correlation divided by the norm of the
        atom's part orthogonal to the support. A little slower, a slightly
        smaller residual.
    gram : array-like of shape (n_atoms, n_atoms) or None, default=None
        ``dictionary @ dictionary.T``, when it is already at hand.
    return_support : bool, default=False
        Return the compact codes ``(support, coefficients)`` instead of the
        dense codes.

    Returns
    -------
    codes : ndarray of shape (n_samples, n_atoms)
        Dense codes, ``codes @ dictionary`` approximates ``X``. Returned
        unless ``return_support``.
    support : ndarray of intp, shape (n_samples, n_nonzero_coefs)
        With ``return_support``: the atoms of every signal in the order OMP
        chose them, -1 after the last one (a signal stops early when it meets
        ``tol``, when its residual is zero, or when every further atom lies
        in the span of those chosen).
    coefficients : ndarray of shape (n_samples, n_nonzero_coefs)
        With ``return_support``: their coefficients, 0 where ``support`` is -1.

    Raises
    ------
    ValueError
        If ``n_nonzero_coefs`` exceeds the atoms or the features, an atom
        has zero norm, or ``X`` or the dictionary hold NaN or infinity.

    See Also
    --------
    OMPCoder : the same as a scikit-learn transformer.
    sklearn.linear_model.orthogonal_mp_gram : the reference, one signal at a time.

    Notes
    -----
    Per step and signal the work is one Cholesky row (a triangular solve of
    the step's length against entries of the Gram matrix), the selected
    atom made orthogonal to those chosen before, and a rank-one update of the
    signal's correlations with all atoms; the last is done for a chunk of
    signals at once as one BLAS matrix product. The coefficients come from
    one back substitution at the end. Chunks of signals are spread over as
    many threads as BLAS may use (``threadpoolctl`` limits are respected),
    BLAS itself on one thread each. Ties between equally correlated atoms go
    to the lowest index, as in scikit-learn. A signal whose squared norm is
    already at most ``tol`` gets no atom (scikit-learn's ``orthogonal_mp``
    gives it one before it looks at the tolerance).

    Examples
    --------
    >>> import numpy as np
    >>> from skcompress.sparse import batch_omp
    >>> rng = np.random.default_rng(0)
    >>> D = rng.normal(size=(32, 16))
    >>> D /= np.linalg.norm(D, axis=1, keepdims=True)
    >>> codes = np.zeros((5, 32))
    >>> codes[:, [3, 10, 20]] = rng.normal(size=(5, 3)) + 2
    >>> X = codes @ D
    >>> found = batch_omp(X, D, n_nonzero_coefs=3)
    >>> bool(np.allclose(found, codes))
    True
    >>> support, coefficients = batch_omp(X, D, n_nonzero_coefs=3, return_support=True)
    >>> np.sort(support, axis=1)[0].tolist()
    [3, 10, 20]
    """
    X = _check_signals_array(X, "X")
    D, norms = check_dictionary(dictionary, dtype=X.dtype)
    if X.shape[1] != D.shape[1]:
        raise ValueError(
            f"batch_omp: X has {X.shape[1]} features per signal but the dictionary's atoms "
            f"have {D.shape[1]}."
        )
    n_steps = resolve_sparsity(n_nonzero_coefs, tol, *D.shape, owner="batch_omp")
    atoms = D / norms[:, None]
    if gram is None:
        G = atoms @ atoms.T
    else:
        G = np.asarray(gram, dtype=X.dtype)
        if G.shape != (len(D), len(D)):
            raise ValueError(
                f"batch_omp: gram must have shape ({len(D)}, {len(D)}); got {G.shape}."
            )
        G = G / np.outer(norms, norms)
    if algorithm not in ("omp", "ormp"):
        raise ValueError(f"batch_omp: algorithm must be 'omp' or 'ormp'; got {algorithm!r}.")
    support, coefficients = omp_support(X, atoms, G, n_steps, tol, algorithm=algorithm)
    valid = support >= 0
    coefficients[valid] /= norms[support[valid]]
    if return_support:
        return support, coefficients
    return dense_codes(support, coefficients, len(D))


def check_dictionary(dictionary, *, dtype=np.float64, name="dictionary"):
    """Validated atoms ``(n_atoms, n_features)`` in ``dtype``, and their norms.

    Raises a ValueError naming ``name`` for anything but a finite 2-D array
    whose atoms all have a norm.
    """
    D = np.asarray(dictionary)
    if D.dtype.kind not in "fiub" or D.ndim != 2 or 0 in D.shape:
        raise ValueError(
            f"{name} must be a non-empty 2-D numeric array of atoms (n_atoms, n_features); "
            f"got an array of shape {D.shape} and dtype {D.dtype}."
        )
    D = np.ascontiguousarray(D, dtype=dtype)
    if not np.isfinite(D).all():
        raise ValueError(f"{name} holds NaN or infinity; its atoms must be finite.")
    norms = np.sqrt(np.einsum("ij,ij->i", D, D, dtype=np.float64)).astype(dtype)
    dead = np.flatnonzero(~(norms > np.finfo(dtype).tiny))
    if dead.size:
        shown = ", ".join(map(str, dead[:5])) + (", ..." if dead.size > 5 else "")
        raise ValueError(
            f"{name} has {dead.size} atom(s) of zero norm (rows {shown}); every atom must "
            "have a norm, as OMP normalizes them."
        )
    return D, norms


def resolve_sparsity(n_nonzero_coefs, tol, n_atoms, n_features, *, owner):
    """The most OMP steps per signal, or a ValueError naming the parameter."""
    limit = min(n_atoms, n_features)
    if tol is not None and (not isinstance(tol, Real) or not tol >= 0):
        raise ValueError(f"{owner}: tol must be a non-negative number or None; got {tol!r}.")
    if n_nonzero_coefs is None:
        return limit if tol is not None else max(1, min(limit, int(0.1 * n_features)))
    if isinstance(n_nonzero_coefs, bool) or not isinstance(n_nonzero_coefs, Integral):
        raise ValueError(
            f"{owner}: n_nonzero_coefs must be a positive int or None; got {n_nonzero_coefs!r}."
        )
    if n_nonzero_coefs < 1:
        raise ValueError(f"{owner}: n_nonzero_coefs must be at least 1; got {n_nonzero_coefs}.")
    if n_nonzero_coefs > n_atoms:
        raise ValueError(
            f"{owner}: n_nonzero_coefs={n_nonzero_coefs} exceeds the {n_atoms} atoms of the "
            "dictionary."
        )
    if n_nonzero_coefs > n_features:
        raise ValueError(
            f"{owner}: n_nonzero_coefs={n_nonzero_coefs} exceeds n_features={n_features}, the "
            "values per signal: more atoms than that are linearly dependent."
        )
    return int(n_nonzero_coefs)


def dense_codes(support, coefficients, n_atoms):
    """``(n, n_atoms)`` codes from a support with -1 padding and its coefficients."""
    codes = np.zeros((len(support), n_atoms), dtype=coefficients.dtype)
    rows, slots = np.nonzero(support >= 0)
    codes[rows, support[rows, slots]] = coefficients[rows, slots]
    return codes


def _check_signals_array(X, name):
    X = np.asarray(X)
    if X.ndim != 2 or X.dtype.kind not in "fiub":
        raise ValueError(
            f"{name} must be a 2-D numeric array (n_samples, n_features); got shape "
            f"{X.shape} and dtype {X.dtype}."
        )
    X = X if X.dtype in (np.float32, np.float64) else X.astype(np.float64)
    if not np.isfinite(X).all():
        raise ValueError(f"{name} holds NaN or infinity; signals must be finite.")
    return X


def omp_support(
    X, atoms, gram, n_steps, tol, *, algorithm="omp", n_threads=None, return_energy=False
):
    """OMP of every row of ``X`` over unit-norm ``atoms`` with Gram matrix ``gram``.

    Returns ``support`` (intp, -1 after a signal's last atom) and the
    least-squares ``coefficients`` of the unit-norm atoms, both
    ``(n, n_steps)``, in the dtype of ``X``; with ``return_energy`` also the
    squared norms of the residuals. ``algorithm="ormp"`` chooses the atom that
    most reduces the residual instead of the most correlated one (see
    :func:`batch_omp`). Chunks of signals run on ``n_threads``
    threads (None: as many as BLAS may use, at most the CPUs), each with
    single-threaded BLAS.
    """
    n = len(X)
    dtype = X.dtype
    support = np.full((n, n_steps), -1, dtype=np.intp)
    coefficients = np.zeros((n, n_steps), dtype=dtype)
    energy = np.zeros(n, dtype=dtype)
    out = (support, coefficients, energy) if return_energy else (support, coefficients)
    if n == 0:
        return out
    atoms = np.ascontiguousarray(atoms, dtype=dtype)
    gram = np.ascontiguousarray(gram, dtype=dtype)
    step = min(n, max(16, _CHUNK_VALUES // len(atoms)))
    starts = list(range(0, n, step))
    n_threads = min(len(starts), allowed_threads() if n_threads is None else n_threads)
    if n_threads < 2 or not _busy.acquire(blocking=False):
        n_threads = 1

    def code(work, start):
        stop = start + step
        work.run(X[start:stop], support[start:stop], coefficients[start:stop], energy[start:stop])

    try:
        with single_blas_thread():
            if n_threads == 1:
                work = _Workspace(step, atoms, gram, n_steps, tol, algorithm)
                for start in starts:
                    code(work, start)
            else:
                pending = iter(starts)
                lock = threading.Lock()

                def worker():
                    work = _Workspace(step, atoms, gram, n_steps, tol, algorithm)
                    while True:
                        with lock:
                            start = next(pending, None)
                        if start is None:
                            return
                        code(work, start)

                with ThreadPoolExecutor(n_threads - 1) as pool:
                    helpers = [pool.submit(worker) for _ in range(n_threads - 1)]
                    worker()
                    for helper in helpers:
                        helper.result()
    finally:
        if n_threads > 1:
            _busy.release()
    return out


def single_blas_thread():
    """Context in which BLAS runs on one thread (threads of our own do the parallel work)."""
    return _blas_controller().limit(limits=1, user_api="blas")


_controller = None
_busy = threading.Lock()  # held by the call whose chunks run on several threads


def _blas_controller():
    global _controller
    if _controller is None:
        _controller = ThreadpoolController()
    return _controller


def allowed_threads():
    """Threads the caller allows: the BLAS thread count, at most the CPUs."""
    limits = [
        lib.num_threads for lib in _blas_controller().select(user_api="blas").lib_controllers
    ]
    return max(1, min(joblib.cpu_count(), *limits)) if limits else joblib.cpu_count()


class _Workspace:
    """Buffers of one chunk of OMP, allocated once and reused chunk after chunk.

    The working arrays hold only the signals still being coded ("live"):
    ``alpha`` their correlations with every atom, ``Q`` the chosen atoms made
    orthonormal, ``L`` the rows of their Cholesky factors (``L[k, j]``, the
    signals on the last axis) and ``z`` the projections of the signals on
    ``Q``. A signal that stops leaves the working set with its coefficients
    solved.
    """

    def __init__(self, size, atoms, gram, n_steps, tol, algorithm="omp"):
        dtype = atoms.dtype
        K, d = atoms.shape
        self.atoms, self.gram, self.s, self.tol = atoms, gram, n_steps, tol
        self.eps = np.finfo(dtype).eps
        self.gemm = blas.get_blas_funcs("gemm", dtype=dtype)
        self.alpha = np.empty((size, K), dtype=dtype)
        self.magnitude = np.empty((size, K), dtype=dtype)
        self.Q = np.empty((n_steps, size, d), dtype=dtype)
        self.scaled = np.empty((size, d), dtype=dtype)
        self.ormp = algorithm == "ormp"
        if self.ormp:
            # every atom's squared norm orthogonal to the chosen ones, and one step's
            # correlations of the atoms with the new orthonormal direction
            self.norms = np.empty((size, K), dtype=dtype)
            self.update = np.empty((size, K), dtype=dtype)

    def run(self, X, support_out, coefficients_out, energy_out):
        atoms, gram, s, tol, eps = self.atoms, self.gram, self.s, self.tol, self.eps
        gemm = self.gemm
        m = len(X)
        # (m, K), C-contiguous: its transpose is the Fortran matrix that BLAS updates in place
        alpha = np.matmul(X, atoms.T, out=self.alpha[:m])
        magnitude, Q = self.magnitude[:m], self.Q[:, :m]
        energy = np.einsum("ij,ij->i", X, X)
        threshold = _ZERO_EPS * eps * np.sqrt(energy)
        ormp = self.ormp
        if ormp:
            norms = self.norms[:m]
            norms[...] = np.diag(gram)
            threshold *= threshold  # scores are squared correlations over squared norms
        live = np.arange(m)
        # row k of every live signal's Cholesky factor, (k + 1, m_live); the projections z
        # of the signals on the orthonormalized atoms; the atoms chosen
        L, z, chosen = [], [], []
        for k in range(s):
            rows = np.arange(len(live))
            if ormp:  # the residual falls by alpha^2 / norm; chosen atoms have norm inf
                np.multiply(alpha, alpha, out=magnitude)
                magnitude /= norms
            else:
                np.abs(alpha, out=magnitude)
            pick = magnitude.argmax(axis=1)
            done = magnitude[rows, pick] <= threshold
            if tol is not None:
                done |= energy <= tol
            # Cholesky row k: w solves L[:k, :k] w = G[chosen, pick]
            w = np.empty((k + 1, len(live)), dtype=alpha.dtype)
            if k:
                w[:k] = gram[np.stack(chosen), pick]
            for j in range(k):
                if j:
                    w[j] -= np.einsum("tm,tm->m", L[j][:j], w[:j])
                w[j] /= L[j][j]
            l2 = gram[pick, pick] - np.einsum("tm,tm->m", w[:k], w[:k])
            done |= l2 <= _ZERO_EPS * eps
            if done.any():
                _finish(L, z, chosen, done, live, support_out, coefficients_out)
                energy_out[live[done]] = np.maximum(energy[done], 0)
                keep = ~done
                n_keep = int(keep.sum())
                if not n_keep:
                    return
                alpha_kept, Q_kept = alpha[keep], Q[:k, keep]
                alpha, magnitude = self.alpha[:n_keep], self.magnitude[:n_keep]
                alpha[...] = alpha_kept
                if ormp:
                    norms_kept = norms[keep]
                    norms = self.norms[:n_keep]
                    norms[...] = norms_kept
                Q = self.Q[:, :n_keep]
                Q[:k] = Q_kept
                live, energy, threshold = live[keep], energy[keep], threshold[keep]
                L = [row[:, keep] for row in L]
                z, chosen = [v[keep] for v in z], [v[keep] for v in chosen]
                pick, l2, rows, w = pick[keep], l2[keep], rows[:n_keep], w[:, keep]
            length = np.sqrt(l2)
            w[k] = length
            L.append(w)
            chosen.append(pick)
            zk = alpha[rows, pick] / length
            z.append(zk)
            energy -= zk * zk
            if k == s - 1:
                break
            q = Q[k]  # (m_live, d)
            np.take(atoms, pick, axis=0, out=q)
            scaled = self.scaled[: len(live)]
            if k == 1:
                q -= np.multiply(Q[0], w[0][:, None], out=scaled)
            elif k:
                q -= np.einsum("jm,jmd->md", w[:k], Q[:k], out=scaled)
            q /= length[:, None]
            if ormp:
                # u = q_k @ atoms.T: alpha -= z_k u, norms -= u^2
                u = np.matmul(q, atoms.T, out=self.update[: len(live)])
                norms[rows, pick] = np.inf
                alpha -= np.multiply(u, zk[:, None], out=magnitude)
                norms -= np.multiply(u, u, out=u)
                # atoms in the span of the chosen ones have alpha ~ 0: a floor keeps them at 0
                np.maximum(norms, _ZERO_EPS * eps, out=norms)
            else:
                # alpha -= (z_k q_k) @ atoms.T in place: alpha.T is Fortran-ordered (K, m)
                np.multiply(q, zk[:, None], out=scaled)
                alpha = gemm(-1.0, atoms.T, scaled.T, 1.0, alpha.T, trans_a=1, overwrite_c=1).T
            alpha[rows, pick] = 0
        everyone = np.ones(len(live), dtype=bool)
        _finish(L, z, chosen, everyone, live, support_out, coefficients_out)
        energy_out[live] = np.maximum(energy, 0)


def _finish(L, z, chosen, done, live, support_out, coefficients_out):
    """Coefficients of the ``done`` live signals on the atoms chosen so far.

    Back substitution ``L.T gamma = z`` over the rows ``L`` of their Cholesky
    factors.
    """
    k = len(L)
    if k == 0:
        return
    Ld = np.zeros((k, k, int(done.sum())), dtype=z[0].dtype)
    for t, row in enumerate(L):
        Ld[t, : t + 1] = row[:, done]
    zd = np.stack([v[done] for v in z])
    gamma = np.empty_like(zd)
    for j in range(k - 1, -1, -1):
        acc = zd[j] - np.einsum("tm,tm->m", Ld[j + 1 :, j], gamma[j + 1 :])
        gamma[j] = acc / Ld[j, j]
    rows = live[done]
    support_out[rows, :k] = np.stack([v[done] for v in chosen], axis=1)
    coefficients_out[rows, :k] = gamma.T
