"""Batch OMP: against a naive reference and scikit-learn, early stops, dtypes, errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import orthogonal_mp_gram

from skcompress.sparse import OMPCoder, batch_omp, overcomplete_dct


def _dictionary(n_atoms, n_features, seed=0, dtype=np.float64):
    D = np.random.default_rng(seed).normal(size=(n_atoms, n_features))
    return (D / np.linalg.norm(D, axis=1, keepdims=True)).astype(dtype)


def _naive_omp(x, D, n_nonzero_coefs=None, tol=None):
    """OMP as the textbook writes it: least squares on the whole support at every step."""
    atoms = D / np.linalg.norm(D, axis=1, keepdims=True)
    support, coefficients = [], np.zeros(0)
    residual = x.copy()
    limit = n_nonzero_coefs or min(D.shape)
    while len(support) < limit:
        if tol is not None and residual @ residual <= tol:
            break
        correlation = np.abs(atoms @ residual)
        correlation[support] = -1
        support.append(int(np.argmax(correlation)))
        coefficients = np.linalg.lstsq(atoms[support].T, x, rcond=None)[0]
        residual = x - coefficients @ atoms[support]
    return support, coefficients / np.linalg.norm(D[support], axis=1)


@settings(max_examples=25, deadline=None)
@given(
    n_features=st.integers(2, 24),
    extra_atoms=st.integers(0, 40),
    n_samples=st.integers(1, 30),
    data=st.data(),
    seed=st.integers(0, 2**16),
)
def test_matches_naive_reference_on_random_problems(
    n_features, extra_atoms, n_samples, data, seed
):
    n_atoms = n_features + extra_atoms
    rng = np.random.default_rng(seed)
    # atoms of any norm: OMP chooses by normalized correlation
    D = rng.normal(size=(n_atoms, n_features)) * rng.uniform(0.5, 2, (n_atoms, 1))
    X = rng.normal(size=(n_samples, n_features))
    k = data.draw(st.integers(1, n_features))
    support, coefficients = batch_omp(X, D, n_nonzero_coefs=k, return_support=True)
    for i, x in enumerate(X):
        ref_support, ref_coefficients = _naive_omp(x, D, n_nonzero_coefs=k)
        assert support[i, : len(ref_support)].tolist() == ref_support
        assert np.all(support[i, len(ref_support) :] == -1)
        np.testing.assert_allclose(
            coefficients[i, : len(ref_support)], ref_coefficients, rtol=1e-7, atol=1e-9
        )


def _naive_ormp(x, D, n_nonzero_coefs):
    """Order-recursive MP: try every atom, keep the one whose projection leaves the least."""
    support = []
    for _ in range(n_nonzero_coefs):
        best, choice = np.inf, None
        for j in range(len(D)):
            if j in support:
                continue
            A = D[support + [j]].T
            residual = x - A @ np.linalg.lstsq(A, x, rcond=None)[0]
            if residual @ residual < best - 1e-12:
                best, choice = residual @ residual, j
        support.append(choice)
    A = D[support].T
    return support, np.linalg.lstsq(A, x, rcond=None)[0]


@settings(max_examples=10, deadline=None)
@given(
    n_features=st.integers(3, 12),
    extra_atoms=st.integers(0, 12),
    k=st.integers(1, 3),
    seed=st.integers(0, 2**16),
)
def test_ormp_matches_naive_reference(n_features, extra_atoms, k, seed):
    # k = n_features would make the last choice a tie: every atom then leaves a zero residual
    k = min(k, n_features - 1)
    rng = np.random.default_rng(seed)
    D = rng.normal(size=(n_features + extra_atoms, n_features))
    D /= np.linalg.norm(D, axis=1, keepdims=True)
    X = rng.normal(size=(5, n_features))
    support, coefficients = batch_omp(
        X, D, n_nonzero_coefs=k, algorithm="ormp", return_support=True
    )
    for i, x in enumerate(X):
        ref_support, ref_coefficients = _naive_ormp(x, D, k)
        assert support[i].tolist() == ref_support
        np.testing.assert_allclose(coefficients[i], ref_coefficients, atol=1e-9)


def test_ormp_is_what_spams_computes():
    spams = pytest.importorskip("spams")
    D = _dictionary(128, 32, seed=11)
    X = np.random.default_rng(111).normal(size=(500, 32))
    Xf, Df = np.asfortranarray(X.T), np.asfortranarray(D.T)
    for kwargs, theirs in [
        ({"n_nonzero_coefs": 6}, {"L": 6}),
        ({"tol": 12.0}, {"eps": 12.0}),
    ]:
        reference = spams.omp(Xf, Df, numThreads=1, **theirs).toarray().T
        codes = batch_omp(X, D, algorithm="ormp", **kwargs)
        np.testing.assert_array_equal(codes != 0, reference != 0)
        np.testing.assert_allclose(codes, reference, atol=1e-9)
    # and OMP is not: SPAMS' supports differ on many signals
    omp = batch_omp(X, D, n_nonzero_coefs=6)
    assert ((omp != 0) != (spams.omp(Xf, Df, L=6).toarray().T != 0)).any(axis=1).mean() > 0.1


def test_ormp_residual_is_no_larger_on_average():
    D = _dictionary(128, 32, seed=12)
    X = np.random.default_rng(112).normal(size=(500, 32))
    residual = {
        a: ((X - batch_omp(X, D, n_nonzero_coefs=6, algorithm=a) @ D) ** 2).sum()
        for a in ("omp", "ormp")
    }
    assert residual["ormp"] < residual["omp"]
    with pytest.raises(ValueError, match="algorithm must be 'omp' or 'ormp'; got 'lars'"):
        batch_omp(X, D, n_nonzero_coefs=2, algorithm="lars")


def test_tolerance_matches_naive_reference():
    D = _dictionary(40, 12, seed=1)
    X = np.random.default_rng(101).normal(size=(50, 12))
    tol = 2.0
    support, coefficients = batch_omp(X, D, tol=tol, return_support=True)
    counts = (support >= 0).sum(axis=1)
    assert counts.min() < counts.max()  # signals stop at different steps
    for i, x in enumerate(X):
        ref_support, ref_coefficients = _naive_omp(x, D, tol=tol)
        assert support[i, : counts[i]].tolist() == ref_support
        np.testing.assert_allclose(coefficients[i, : counts[i]], ref_coefficients, atol=1e-9)
        residual = x - batch_omp(x[None], D, tol=tol)[0] @ D
        assert residual @ residual <= tol + 1e-9


@pytest.mark.filterwarnings("ignore:Orthogonal matching pursuit ended prematurely")
@pytest.mark.parametrize("mode", ["n_nonzero_coefs", "tol"])
def test_identical_to_sklearn_on_a_generic_dictionary(mode):
    D = _dictionary(256, 64, seed=2)
    X = np.random.default_rng(102).normal(size=(1000, 64))
    if mode == "tol":
        kwargs = {"tol": 30.0}
        ref = orthogonal_mp_gram(D @ D.T, D @ X.T, tol=30.0, norms_squared=(X**2).sum(1)).T
    else:
        kwargs = {"n_nonzero_coefs": 8}
        ref = orthogonal_mp_gram(D @ D.T, D @ X.T, n_nonzero_coefs=8).T
    codes = batch_omp(X, D, **kwargs)
    if mode == "tol":
        # scikit-learn takes one atom before it looks at the tolerance; a signal already
        # within it gets none here (as the naive reference)
        within = (X**2).sum(1) <= 30.0
        assert within.any() and not codes[within].any()
        codes, ref = codes[~within], ref[~within]
    np.testing.assert_array_equal(codes != 0, ref != 0)
    np.testing.assert_allclose(codes, ref, atol=1e-10)


def test_recovers_exactly_sparse_signals():
    D = _dictionary(128, 64, seed=3)
    rng = np.random.default_rng(3)
    codes = np.zeros((300, 128))
    for row in codes:
        row[rng.choice(128, 3, replace=False)] = rng.choice([-1, 1], 3) * rng.uniform(1, 2, 3)
    found = batch_omp(codes @ D, D, n_nonzero_coefs=3)
    exact = np.all(np.abs(found - codes) < 1e-10, axis=1)
    assert exact.mean() > 0.98


def test_early_stops_leave_padding():
    D = _dictionary(20, 8, seed=4)
    X = np.vstack([np.zeros(8), 3 * D[5]])
    support, coefficients = batch_omp(X, D, n_nonzero_coefs=6, return_support=True)
    assert support[0].tolist() == [-1] * 6  # zero signal: no atom
    assert support[1].tolist() == [5] + [-1] * 5  # one atom explains it exactly
    np.testing.assert_allclose(coefficients[1], [3, 0, 0, 0, 0, 0], atol=1e-12)
    assert np.all(coefficients[support < 0] == 0)
    basis = overcomplete_dct(8, 8)  # orthonormal: two atoms, then a zero residual
    support, coefficients = batch_omp(
        (basis[2] - 2 * basis[7])[None], basis, n_nonzero_coefs=5, return_support=True
    )
    assert support.tolist() == [[7, 2, -1, -1, -1]]
    np.testing.assert_allclose(coefficients, [[-2, 1, 0, 0, 0]], atol=1e-12)


def test_linearly_dependent_atom_is_never_chosen_twice():
    D = _dictionary(10, 6, seed=5)
    D = np.vstack([D, D[3]])  # atom 10 duplicates atom 3
    X = np.random.default_rng(105).normal(size=(40, 6))
    support, _ = batch_omp(X, D, n_nonzero_coefs=6, return_support=True)
    both = np.isin(3, support, assume_unique=False)
    assert both  # atom 3 (the lowest index of the two) is used
    for row in support:
        assert not (3 in row and 10 in row)
        chosen = row[row >= 0]
        assert len(set(chosen.tolist())) == len(chosen)


def test_float32_stays_float32_and_agrees():
    D = _dictionary(64, 16, seed=6)
    X = np.random.default_rng(106).normal(size=(500, 16))
    codes32 = batch_omp(X.astype(np.float32), D.astype(np.float32), n_nonzero_coefs=4)
    codes64 = batch_omp(X, D, n_nonzero_coefs=4)
    assert codes32.dtype == np.float32
    same = ((codes32 != 0) == (codes64 != 0)).all(axis=1)
    assert same.mean() > 0.99
    np.testing.assert_allclose(codes32[same], codes64[same], atol=1e-4)


def test_chunks_and_threads_do_not_change_the_codes():
    from threadpoolctl import threadpool_limits

    D = _dictionary(512, 32, seed=7)  # 512 chunks of signals: several chunks
    X = np.random.default_rng(107).normal(size=(1500, 32))
    whole = batch_omp(X, D, n_nonzero_coefs=5)
    with threadpool_limits(1):
        single = batch_omp(X, D, n_nonzero_coefs=5)
    np.testing.assert_array_equal(whole, single)
    parts = np.vstack([batch_omp(X[i : i + 100], D, n_nonzero_coefs=5) for i in (0, 100)])
    np.testing.assert_allclose(parts, whole[:200], atol=1e-12)


def test_gram_given_or_not():
    D = _dictionary(30, 10, seed=8) * 3
    X = np.random.default_rng(108).normal(size=(20, 10))
    np.testing.assert_allclose(
        batch_omp(X, D, n_nonzero_coefs=3, gram=D @ D.T), batch_omp(X, D, n_nonzero_coefs=3)
    )


def test_coder_works_with_sklearn_and_dct_dictionaries():
    from sklearn.decomposition import MiniBatchDictionaryLearning

    X = np.random.default_rng(109).normal(size=(200, 16))
    atoms = MiniBatchDictionaryLearning(24, max_iter=3, random_state=0).fit(X).components_
    coder = OMPCoder(atoms, n_nonzero_coefs=3).fit(X)
    np.testing.assert_allclose(coder.transform(X), batch_omp(X, atoms, n_nonzero_coefs=3))
    dct = OMPCoder("dct", n_components=64, atom_shape=(4, 4), n_nonzero_coefs=3).fit(X)
    np.testing.assert_allclose(dct.components_, overcomplete_dct(64, (4, 4)))
    complete = OMPCoder(n_nonzero_coefs=16).fit(X)  # the orthonormal DCT: exact
    np.testing.assert_allclose(complete.inverse_transform(complete.transform(X)), X, atol=1e-10)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_nonzero_coefs": 21}, r"n_nonzero_coefs=21 exceeds the 20 atoms"),
        ({"n_nonzero_coefs": 9}, r"n_nonzero_coefs=9 exceeds n_features=8"),
        ({"n_nonzero_coefs": 0}, r"n_nonzero_coefs must be at least 1; got 0"),
        ({"tol": -1.0}, r"tol must be a non-negative number or None; got -1.0"),
    ],
)
def test_bad_sparsity_is_named(kwargs, match):
    D = _dictionary(20, 8)
    X = np.ones((3, 8))
    with pytest.raises(ValueError, match=match):
        batch_omp(X, D, **kwargs)


def test_bad_dictionary_and_signals_are_named():
    D = _dictionary(20, 8)
    X = np.ones((3, 8))
    zero = D.copy()
    zero[[4, 11]] = 0
    with pytest.raises(ValueError, match=r"has 2 atom\(s\) of zero norm \(rows 4, 11\)"):
        batch_omp(X, zero, n_nonzero_coefs=2)
    with pytest.raises(ValueError, match="dictionary holds NaN"):
        batch_omp(X, np.where(D > 0.5, np.nan, D), n_nonzero_coefs=2)
    bad = X.copy()
    bad[1, 2] = np.nan
    with pytest.raises(ValueError, match="X holds NaN or infinity"):
        batch_omp(bad, D, n_nonzero_coefs=2)
    with pytest.raises(ValueError, match="X has 7 features per signal but the dictionary"):
        batch_omp(X[:, :7], D, n_nonzero_coefs=2)
    with pytest.raises(ValueError, match="gram must have shape"):
        batch_omp(X, D, n_nonzero_coefs=2, gram=np.eye(3))


def test_coder_errors_name_parameters():
    X = np.random.default_rng(110).normal(size=(30, 8))
    with pytest.raises(ValueError, match=r"OMPCoder: n_nonzero_coefs=9 exceeds n_features=8"):
        OMPCoder(n_components=16, n_nonzero_coefs=9).fit(X)
    with pytest.raises(ValueError, match=r"n_nonzero_coefs=5 exceeds the 4 atoms"):
        OMPCoder(n_components=4, n_nonzero_coefs=5).fit(X)
    with pytest.raises(ValueError, match=r"dictionary has 1 atom\(s\) of zero norm \(rows 2\)"):
        OMPCoder(np.eye(8)[[0, 1, 7, 3]] * [[1], [1], [0], [1]]).fit(X)
    with pytest.raises(ValueError, match="atoms have 6 values but the vectors of X have 8"):
        OMPCoder(np.eye(6)).fit(X)
    with pytest.raises(ValueError, match=r"atom_shape=\(3, 3\) holds 9 values"):
        OMPCoder(atom_shape=(3, 3)).fit(X)
    with pytest.raises(ValueError, match="n_components is for the 'dct' dictionary only"):
        OMPCoder(np.eye(8), n_components=8).fit(X)
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        OMPCoder().fit(bad)
