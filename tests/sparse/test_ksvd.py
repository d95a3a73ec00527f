"""KSVD: monotone training error, recovery, atom replacement, streaming, rate, errors."""

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.utils.validation import check_is_fitted

from skcompress import KSVD, Patches
from skcompress.codecs import Codec
from skcompress.metrics import bits_per_sample
from skcompress.sparse import OMPCoder, overcomplete_dct


def _planted(n, d, K, s, seed=0, noise=0.0, dtype=np.float64):
    """Signals that are ``s``-sparse over a random dictionary of ``K`` atoms."""
    rng = np.random.default_rng(seed)
    D = rng.normal(size=(K, d))
    D /= np.linalg.norm(D, axis=1, keepdims=True)
    codes = np.zeros((n, K))
    for row in codes:
        row[rng.choice(K, s, replace=False)] = rng.choice([-1, 1], s) * rng.uniform(0.5, 1.5, s)
    X = codes @ D + noise * rng.normal(size=(n, d))
    return X.astype(dtype), D


@pytest.mark.parametrize("atom_update", ["svd", "approximate"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_training_error_never_increases(atom_update, dtype):
    X, _ = _planted(800, 12, 24, 3, seed=1, noise=0.05, dtype=dtype)
    for monotone in (True, False):
        ksvd = KSVD(
            24,
            n_nonzero_coefs=3,
            max_iter=12,
            atom_update=atom_update,
            monotone=monotone,
            random_state=0,
        ).fit(X)
        assert ksvd.components_.dtype == dtype
        assert ksvd.n_iter_ == len(ksvd.error_) == len(ksvd.n_replaced_)
        steps = np.diff(ksvd.error_)
        # an iteration may raise the error only by replacing a duplicated atom in use (and,
        # without monotone, in principle by a worse greedy code: not on this problem)
        quiet = ksvd.n_replaced_[1:] == 0
        assert np.all(steps[quiet] <= 1e-6 * ksvd.error_[:-1][quiet])
        assert ksvd.error_[-1] < 0.9 * ksvd.error_[0]


def test_monotone_codes_are_never_worse():
    from skcompress.sparse._ksvd import _Learner, _worst_vectors

    X, _ = _planted(600, 10, 20, 3, seed=12, noise=0.1)
    learner = _Learner(X, _worst_vectors(X, None, 20, 0), 3, KSVD()._coder(1))
    for _ in range(6):
        learner.code(keep_better=True)
        learner.update_atoms("svd", np.arange(20))
        before = learner.energy.copy()
        learner.code(keep_better=True)
        after = ((X - learner.sparse_codes() @ learner.D) ** 2).sum(axis=1)
        assert np.all(after <= before * (1 + 1e-9) + 1e-12)


def test_recovers_a_planted_dictionary():
    X, D = _planted(1500, 16, 32, 2, seed=3)
    ksvd = KSVD(32, n_nonzero_coefs=2, max_iter=30, convergence_tol=0, random_state=0).fit(X)
    recovered = np.abs(D @ ksvd.components_.T).max(axis=1) > 0.99
    assert recovered.mean() >= 0.9
    assert np.allclose(np.linalg.norm(ksvd.components_, axis=1), 1)


def test_exact_update_is_the_best_rank_one_fit():
    from skcompress.sparse._ksvd import _TopSingularVector

    rng = np.random.default_rng(4)
    for shape in [(50, 8), (5, 8), (1, 8)]:
        E = rng.normal(size=shape)
        v = _TopSingularVector(E.dtype)(E)
        v /= np.linalg.norm(v)
        reference = np.linalg.svd(E)[2][0]
        assert abs(abs(v @ reference) - 1) < 1e-10


def test_approximate_update_is_close_to_the_exact_one():
    X, _ = _planted(1000, 12, 24, 3, seed=5, noise=0.05)
    exact = KSVD(24, n_nonzero_coefs=3, max_iter=8, random_state=0).fit(X)
    approx = KSVD(24, n_nonzero_coefs=3, max_iter=8, atom_update="approximate", random_state=0)
    approx.fit(X)
    assert approx.error_[-1] < 1.1 * exact.error_[-1]


def test_unused_atoms_are_replaced_by_worst_represented_vectors():
    rng = np.random.default_rng(6)
    X = np.zeros((300, 8))
    X[:, :4] = rng.normal(size=(300, 4))  # nothing lives in the last 4 coordinates
    X[0, 4:] = [10, 0, 0, 0]  # but one vector, badly represented by the first atoms
    init = np.eye(8)[[0, 1, 2, 3, 5, 6]]  # atoms 4 and 5 (e6, e7) are never used
    ksvd = KSVD(init=init, n_nonzero_coefs=2, max_iter=2, warm_up=False, random_state=0).fit(X)
    assert ksvd.n_replaced_[0] >= 2
    new = ksvd.components_[4:]
    assert np.abs(new[:, 4]).max() > 0.9  # one took the direction of the odd vector
    assert np.all(ksvd.atom_usage_ >= 0) and ksvd.atom_usage_.sum() > 0


def test_duplicated_atoms_are_replaced():
    X, _ = _planted(500, 8, 12, 2, seed=7, noise=0.05)
    init = overcomplete_dct(12, 8)
    init[5] = init[4]
    ksvd = KSVD(init=init, n_nonzero_coefs=2, max_iter=3, warm_up=False, random_state=0).fit(X)
    assert ksvd.n_replaced_[0] >= 1
    G = np.abs(ksvd.components_ @ ksvd.components_.T)
    assert np.tril(G, -1).max() < 0.999


def test_initialisations():
    X, _ = _planted(300, 16, 20, 2, seed=8)
    data = KSVD(20, max_iter=0, random_state=0).fit(X)
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    matches = np.abs((X / norms) @ data.components_.T).max(axis=0)
    np.testing.assert_allclose(matches, 1)  # every atom is a training vector
    dct = KSVD(40, init="dct", atom_shape=(4, 4), max_iter=0).fit(X)
    np.testing.assert_allclose(dct.components_, overcomplete_dct(40, (4, 4)))
    given = 2 * overcomplete_dct(20, 16)
    array = KSVD(init=given, max_iter=0).fit(X)
    np.testing.assert_allclose(array.components_, given / 2)
    assert array.n_components_ == 20
    few = KSVD(5, max_iter=0, random_state=0).fit(np.vstack([np.zeros((3, 16)), X[:2]]))
    np.testing.assert_allclose(np.linalg.norm(few.components_, axis=1), 1)


def test_random_state_makes_fit_reproducible():
    X, _ = _planted(300, 8, 12, 2, seed=9, noise=0.1)
    a = KSVD(12, n_nonzero_coefs=2, max_iter=3, random_state=1).fit(X).components_
    b = KSVD(12, n_nonzero_coefs=2, max_iter=3, random_state=1).fit(X).components_
    c = KSVD(12, n_nonzero_coefs=2, max_iter=3, random_state=2).fit(X).components_
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_tolerance_sparsity():
    X, _ = _planted(1000, 16, 24, 2, seed=10, noise=0.02)
    tol = 16 * 0.02**2 * 10
    counts = []
    for max_iter in (1, 10):
        ksvd = KSVD(24, tol=tol, max_iter=max_iter, random_state=0).fit(X)
        codes = ksvd.transform(X)
        residual = ((X - codes @ ksvd.components_) ** 2).sum(axis=1)
        assert np.all((residual <= tol + 1e-9) | ((codes != 0).sum(axis=1) == 16))
        counts.append((codes != 0).sum(axis=1).mean())
    assert ksvd.n_iter_ == 10  # the number of atoms still falls: no early stop
    assert counts[1] < 0.9 * counts[0]


def test_partial_fit_learns_from_a_stream():
    X, _ = _planted(3500, 16, 24, 2, seed=11, noise=0.02)
    X, held_out = X[:3000], X[3000:]

    def error(model):
        return np.linalg.norm(held_out - model.inverse_transform(model.transform(held_out)))

    stream = KSVD(24, n_nonzero_coefs=2, random_state=0)
    stream.partial_fit(X[:250])
    first = error(stream)
    for start in range(250, 3000, 250):
        stream.partial_fit(X[start : start + 250])
    assert stream.n_iter_ == 12
    assert error(stream) < 0.85 * first
    np.testing.assert_allclose(np.linalg.norm(stream.components_, axis=1), 1, rtol=1e-6)
    # after fit, partial_fit continues from the learned atoms
    fitted = KSVD(24, n_nonzero_coefs=2, max_iter=5, random_state=0).fit(X[:1000])
    before = error(fitted)
    fitted.partial_fit(X[1000:2000])
    assert error(fitted) < 1.1 * before
    with pytest.raises(ValueError, match="features"):
        stream.partial_fit(X[:10, :8])


def test_round_trips_and_layouts():
    rng = np.random.default_rng(12)
    images = rng.normal(size=(4, 16, 16))
    pipe = make_pipeline(Patches(4, layout="blocks"), KSVD(32, n_nonzero_coefs=16, max_iter=2))
    codes = pipe.fit_transform(images)
    assert codes.shape == (4, 4 * 4 * 32)
    np.testing.assert_allclose(pipe.inverse_transform(codes), images, atol=1e-8)
    flat = make_pipeline(Patches(4), KSVD(32, n_nonzero_coefs=3, vector_size=16, max_iter=2))
    assert flat.fit_transform(images).shape == (4, 16 * 32)
    B = Patches(4, layout="blocks").fit_transform(images)
    flat_step = KSVD(32, n_nonzero_coefs=3, max_iter=1, random_state=0).fit(B)
    for layout, shape in [("blocks", (4, 4, 4, 32)), ("channels_first", (4, 32, 4, 4))]:
        step = KSVD(32, n_nonzero_coefs=3, max_iter=1, layout=layout, random_state=0).fit(B)
        out = step.transform(B)
        assert out.shape == shape
        np.testing.assert_allclose(
            step.inverse_transform(out), flat_step.inverse_transform(flat_step.transform(B))
        )
    names = flat[-1].get_feature_names_out()
    assert names[0] == "vec0_atom0" and len(names) == 16 * 32


def test_quantized_codes_have_a_rate():
    X, _ = _planted(2000, 16, 32, 3, seed=13, noise=0.02)
    ksvd = KSVD(32, n_nonzero_coefs=3, max_iter=5, quantization_step=0.05, random_state=0)
    levels = ksvd.fit_transform(X)
    assert levels.dtype == np.int32
    assert ((levels != 0).sum(axis=1) <= 3).all()
    back = ksvd.inverse_transform(levels)
    floats = KSVD(32, n_nonzero_coefs=3, max_iter=5, random_state=0).fit(X)
    assert np.abs(back - floats.inverse_transform(floats.transform(X))).max() < 0.1
    parts = ksvd.bit_allocation(X)
    assert parts["count"] == 2.0 and parts["index"] <= 15.0
    assert parts["total"] == pytest.approx(parts["count"] + parts["index"] + parts["coefficient"])
    assert bits_per_sample(ksvd, X) == pytest.approx(parts["total"])
    estimate = ksvd.bits_per_sample(X, coding="entropy")
    assert estimate < parts["total"]
    codec = Codec(ksvd, model=ksvd.entropy_model_).fit(X)
    strings = codec.compress(X[:200])
    np.testing.assert_array_equal(codec.decompress_symbols(strings), levels[:200])
    rate = codec.rate(X[:200])
    assert rate["payload_bits_per_sample"] == pytest.approx(
        ksvd.bits_per_sample(X[:200], coding="entropy"),
        abs=8,  # whole bytes, coder's end
    )
    with pytest.raises(ValueError, match="needs quantization_step"):
        floats.bits_per_sample(X)
    with pytest.raises(ValueError, match="coding must be 'fixed' or 'entropy'"):
        ksvd.bits_per_sample(X, coding="huffman")


def test_sparse_coder_in_a_rate_comparison():
    X, _ = _planted(600, 16, 32, 3, seed=14, noise=0.02)
    coder = OMPCoder(overcomplete_dct(32, 16), n_nonzero_coefs=3, quantization_step=0.1)
    coarse = coder.fit(X).bits_per_sample(X)
    fine = coder.set_params(quantization_step=0.01).fit(X).bits_per_sample(X)
    assert coarse < fine


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"n_components": 6, "n_nonzero_coefs": 7}, r"KSVD: n_nonzero_coefs=7 exceeds the 6"),
        ({"n_components": 20, "n_nonzero_coefs": 9}, r"n_nonzero_coefs=9 exceeds n_features=8"),
        ({"init": np.zeros((4, 8))}, r"KSVD: init has 4 atom\(s\) of zero norm"),
        ({"init": np.ones((4, 5))}, r"init must have shape \(n_components, vector_size\)"),
        ({"init": "dct", "atom_shape": (3, 3)}, r"atom_shape=\(3, 3\) holds 9 values"),
        ({"vector_size": 3}, r"vector_size=3 must divide the length of the last axis"),
    ],
)
def test_bad_parameters_are_named(params, match):
    X = np.random.default_rng(15).normal(size=(30, 8))
    with pytest.raises(ValueError, match=match):
        KSVD(**params, max_iter=1).fit(X)


def test_nan_in_x_is_refused():
    X = np.random.default_rng(16).normal(size=(30, 8))
    X[3, 3] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        KSVD(8).fit(X)
    ksvd = KSVD(8, max_iter=1).fit(np.nan_to_num(X))
    with pytest.raises(ValueError, match="Input X contains NaN"):
        ksvd.transform(X)


def test_a_failed_fit_leaves_the_dictionary_unfitted():
    X = np.random.default_rng(0).normal(size=(40, 8))
    ksvd = KSVD(n_components=4, n_nonzero_coefs=6, max_iter=1)
    with pytest.raises(ValueError, match="n_nonzero_coefs=6 exceeds the 4 atoms"):
        ksvd.fit(X)
    with pytest.raises(NotFittedError):
        check_is_fitted(ksvd)
    coder = OMPCoder(n_components=4, n_nonzero_coefs=6)
    with pytest.raises(ValueError, match="n_nonzero_coefs=6 exceeds the 4 atoms"):
        coder.fit(X)
    with pytest.raises(NotFittedError):
        check_is_fitted(coder)
    # n_components=10**6 tried to allocate 3.6 TiB
    with pytest.raises(ValueError, match=r"'n_components' parameter of KSVD .* \[1, 8192\]"):
        KSVD(n_components=10**6).fit(X)
