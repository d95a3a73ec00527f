"""ResidualVQ: stages, beam search, streaming, dead codewords, rate, layouts, errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.cluster import KMeans
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.utils.validation import check_is_fitted

from skcompress import BlockDCT, ResidualVQ
from skcompress.metrics import bits_per_sample


def _correlated(n, d, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    mix = rng.normal(size=(d, d)) * np.linspace(3, 0.3, d)[:, None]
    return (rng.normal(size=(n, d)) @ mix).astype(dtype)


def _mse(rvq, X, **kwargs):
    return float(np.mean((rvq.inverse_transform(rvq.transform(X), **kwargs) - X) ** 2))


def test_error_falls_as_stages_grow():
    X = _correlated(2000, 8)
    errors = [_mse(ResidualVQ(s, 16, random_state=0).fit(X), X) for s in (1, 2, 3, 4)]
    assert all(a > b for a, b in zip(errors, errors[1:], strict=False))
    rvq = ResidualVQ(4, 16, random_state=0).fit(X)
    prefixes = [_mse(rvq, X, n_stages=s) for s in (1, 2, 3, 4)]
    assert all(a > b for a, b in zip(prefixes, prefixes[1:], strict=False))
    assert prefixes[-1] < 0.2 * X.var(axis=0).sum() / X.shape[1]


def test_one_stage_is_kmeans():
    X = _correlated(3000, 4, seed=1)
    ours = _mse(ResidualVQ(1, 32, random_state=0).fit(X), X)
    reference = KMeans(32, n_init=1, random_state=0).fit(X).inertia_ / X.size
    assert ours < 1.03 * reference


def test_beam_search_is_not_worse_than_greedy_on_average():
    X = _correlated(3000, 8, seed=2)
    rvq = ResidualVQ(4, 16, beam_size=1, n_refine=0, random_state=0).fit(X)
    greedy = _mse(rvq, X)
    beam = _mse(rvq.set_params(beam_size=8), X)
    assert beam < greedy
    # fitted with beam search and joint refinement: better still
    assert _mse(ResidualVQ(4, 16, beam_size=8, random_state=0).fit(X), X) < beam


def test_codes_in_range_and_dtype():
    X = _correlated(600, 6, seed=3)
    for size, dtype in [(16, np.uint8), (256, np.uint8), (300, np.uint16)]:
        codes = ResidualVQ(2, size, random_state=0).fit_transform(X)
        assert codes.dtype == dtype
        assert codes.shape == (600, 2)
        assert codes.min() >= 0 and codes.max() < size


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(1, 12),
    grid=st.lists(st.integers(1, 3), min_size=0, max_size=2),
    vector_size=st.integers(1, 5),
    groups=st.integers(1, 3),
    n_stages=st.integers(1, 3),
    beam_size=st.integers(1, 4),
    layout=st.sampled_from(["flat", "blocks", "channels_first"]),
    dtype=st.sampled_from([np.float32, np.float64]),
    seed=st.integers(0, 2**16),
)
def test_round_trip_shapes(n, grid, vector_size, groups, n_stages, beam_size, layout, dtype, seed):
    shape = (n, *grid, vector_size * groups)
    X = np.random.default_rng(seed).normal(size=shape).astype(dtype)
    n_vectors = X.size // vector_size
    rvq = ResidualVQ(
        n_stages,
        min(4, n_vectors),
        vector_size=vector_size,
        beam_size=beam_size,
        layout=layout,
        random_state=seed,
    )
    codes = rvq.fit_transform(X)
    per_sample = n_vectors // n * n_stages
    assert codes.shape[0] == n and codes[0].size == per_sample
    if layout == "flat":
        assert codes.shape == (n, per_sample)
    elif layout == "blocks":
        assert codes.shape[-1] == n_stages
    else:
        assert codes.shape[1] == n_stages
    back = rvq.inverse_transform(codes)
    assert back.shape == X.shape and back.dtype == dtype
    stage_last = np.moveaxis(codes, 1, -1) if layout == "channels_first" else codes
    np.testing.assert_array_equal(rvq.inverse_transform(stage_last.reshape(n, -1)), back)
    assert rvq.get_feature_names_out().shape == (codes[0].size,)


@settings(max_examples=30, deadline=None)
@given(
    n_distinct=st.integers(1, 8),
    repeats=st.integers(1, 5),
    d=st.integers(1, 6),
    dtype=st.sampled_from([np.float32, np.float64]),
    seed=st.integers(0, 2**16),
)
def test_as_many_codewords_as_distinct_vectors_code_them_exactly(
    n_distinct, repeats, d, dtype, seed
):
    rng = np.random.default_rng(seed)
    distinct = rng.normal(size=(n_distinct, d)) * 10
    X = np.repeat(distinct, repeats, axis=0).astype(dtype)
    rvq = ResidualVQ(1, n_distinct, random_state=seed).fit(X)
    tol = 1e-4 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(rvq.inverse_transform(rvq.transform(X)), X, atol=tol * 100)


def test_vectors_are_groups_of_the_last_axis():
    X = _correlated(400, 12, seed=4)
    whole = ResidualVQ(2, 8, random_state=0).fit(X)
    assert (whole.n_vectors_, whole.vector_size_) == (1, 12)
    groups = ResidualVQ(2, 8, vector_size=4, random_state=0).fit(X)
    assert (groups.n_vectors_, groups.vector_size_) == (3, 4)
    assert groups.transform(X).shape == (400, 6)
    assert groups.get_feature_names_out()[:3].tolist() == [
        "vec0_stage0",
        "vec0_stage1",
        "vec1_stage0",
    ]


def test_blocks_of_a_block_dct_are_vectors():
    images = np.random.default_rng(5).uniform(0, 255, (20, 16, 24))
    G = BlockDCT(layout="blocks").fit_transform(images)  # (20, 2, 3, 64)
    rvq = ResidualVQ(2, 16, layout="blocks", random_state=0).fit(G)
    codes = rvq.transform(G)
    assert codes.shape == (20, 2, 3, 2)
    assert rvq.inverse_transform(codes).shape == G.shape
    flat = BlockDCT().fit_transform(images)
    same = ResidualVQ(2, 16, vector_size=64, random_state=0).fit(flat)
    np.testing.assert_array_equal(same.transform(flat), codes.reshape(20, -1))
    cf = ResidualVQ(2, 16, layout="channels_first", random_state=0).fit(G)
    np.testing.assert_array_equal(cf.transform(G), np.moveaxis(codes, -1, 1))
    np.testing.assert_array_equal(
        cf.inverse_transform(cf.transform(G)), rvq.inverse_transform(codes)
    )


def test_partial_fit_on_chunks_comes_close_to_fit():
    X = _correlated(6000, 8, seed=6)
    full = _mse(ResidualVQ(2, 16, beam_size=1, random_state=0).fit(X), X)
    stream = ResidualVQ(2, 16, beam_size=1, random_state=0)
    for _ in range(3):
        for chunk in np.array_split(X, 20):
            stream.partial_fit(chunk)
    assert _mse(stream, X) < 1.1 * full
    assert stream.codebook_usage_.shape == (2, 16)
    assert stream.codebook_usage_.sum(axis=1).min() > 0


def test_partial_fit_after_fit_continues():
    X = _correlated(2000, 4, seed=7)
    rvq = ResidualVQ(2, 8, random_state=0).fit(X)
    before = rvq.codebooks_.copy()
    rvq.partial_fit(X[:100])
    assert not np.array_equal(rvq.codebooks_, before)
    assert np.abs(rvq.codebooks_ - before).max() < 0.5 * np.abs(before).max()


def test_dead_codewords_are_reseeded_in_the_stream():
    rng = np.random.default_rng(8)
    rvq = ResidualVQ(1, 8, reseed_after=2, random_state=0)
    rvq.partial_fit(rng.normal(size=(200, 2)))
    far = [rng.normal(100, 1, size=(200, 2)) for _ in range(12)]
    for batch in far:
        rvq.partial_fit(batch)
    # every codeword left the first cloud, which the stream no longer visits
    assert (np.linalg.norm(rvq.codebooks_[0] - 100, axis=1) < 10).all()
    assert _mse(rvq, far[0]) < 0.5
    assert (rvq.codebook_usage_ > 0).all()


def test_fit_leaves_no_codeword_unused():
    rng = np.random.default_rng(9)
    # most vectors identical: random seeding picks duplicates, whose clusters empty
    X = np.vstack([np.zeros((900, 3)), rng.normal(size=(100, 3))])
    rvq = ResidualVQ(2, 16, init="random", random_state=0).fit(X)
    assert (rvq.codebook_usage_ > 0).all()
    assert rvq.codebook_usage_.sum(axis=1).tolist() == [1000, 1000]
    assert (rvq.perplexity_ >= 1).all() and (rvq.perplexity_ <= 16).all()
    np.testing.assert_allclose(rvq.perplexity_, 2**rvq.code_entropy_)


def test_usage_and_perplexity_match_the_training_codes():
    X = _correlated(1000, 4, seed=10)
    rvq = ResidualVQ(3, 8, random_state=0).fit(X)
    codes = rvq.transform(X)
    for s in range(3):
        counts = np.bincount(codes[:, s], minlength=8)
        np.testing.assert_array_equal(rvq.codebook_usage_[s], counts)
        p = counts[counts > 0] / 1000
        assert rvq.perplexity_[s] == pytest.approx(2 ** -(p * np.log2(p)).sum())


def test_reproducible_with_random_state():
    X = _correlated(1500, 6, seed=11)
    a = ResidualVQ(3, 16, random_state=3).fit(X)
    b = ResidualVQ(3, 16, random_state=3).fit(X)
    np.testing.assert_array_equal(a.codebooks_, b.codebooks_)
    c = ResidualVQ(3, 16, random_state=4).fit(X)
    assert not np.array_equal(a.codebooks_, c.codebooks_)


def test_rate_fixed_and_entropy():
    X = _correlated(800, 8, seed=12)
    rvq = ResidualVQ(3, 16, vector_size=4, random_state=0).fit(X)
    assert rvq.bits_per_sample(X) == 2 * 3 * 4
    entropy = rvq.bits_per_sample(X, coding="entropy")
    # codes of the training data under their own (smoothed) frequencies
    assert 0 < entropy <= 2 * 3 * 4 + 0.5
    assert entropy == pytest.approx(2 * rvq.code_entropy_.sum(), rel=0.05)


def test_rate_through_a_pipeline():
    images = np.random.default_rng(13).uniform(0, 255, (30, 16, 16))
    pipe = make_pipeline(BlockDCT(layout="blocks"), ResidualVQ(2, 32, random_state=0))
    pipe.fit(images)
    assert bits_per_sample(pipe, images) == 4 * 2 * 5  # 4 blocks x 2 stages x 5 bits


def test_float32_in_float32_out():
    X = _correlated(500, 4, seed=14, dtype=np.float32)
    rvq = ResidualVQ(2, 8, random_state=0).fit(X)
    assert rvq.codebooks_.dtype == np.float32
    assert rvq.inverse_transform(rvq.transform(X)).dtype == np.float32
    assert rvq.inverse_transform(rvq.transform(X.astype(np.float64))).dtype == np.float32


def test_codebook_larger_than_the_data_is_refused():
    with pytest.raises(
        ValueError,
        match=r"codebook_size=64 exceeds the 30 training vectors \(n_samples=10 x 3 vectors",
    ):
        ResidualVQ(2, 64, vector_size=2).fit(np.zeros((10, 6)))


def test_vector_size_that_does_not_divide_is_refused():
    with pytest.raises(
        ValueError, match=r"vector_size=4 must divide the length of the last axis of X; got 6"
    ):
        ResidualVQ(1, 2, vector_size=4).fit(np.zeros((10, 6)))


def test_vector_length_that_does_not_match_fit_is_refused():
    rvq = ResidualVQ(1, 4, random_state=0).fit(_correlated(50, 8))
    with pytest.raises(ValueError, match="X has 6 features, but ResidualVQ is expecting 8"):
        rvq.transform(np.zeros((3, 6)))
    blocks = ResidualVQ(1, 4, random_state=0).fit(
        np.random.default_rng(0).normal(size=(5, 2, 2, 8))
    )
    with pytest.raises(ValueError, match=r"signals of shape \(2, 2, 8\).*\(2, 2, 6\)"):
        blocks.transform(np.zeros((5, 2, 2, 6)))


def test_nan_is_refused():
    X = _correlated(50, 4)
    X[3, 1] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        ResidualVQ(1, 4).fit(X)


def test_overflowing_vectors_are_refused():
    with pytest.raises(ValueError, match=r"squared norms of the vectors overflow float32"):
        ResidualVQ(1, 2).fit(np.full((4, 2), 1e30, dtype=np.float32))


def test_bad_codes_are_refused():
    rvq = ResidualVQ(2, 8, random_state=0).fit(_correlated(100, 4))
    codes = rvq.transform(_correlated(5, 4))
    with pytest.raises(ValueError, match=r"codes in \[0, 7\] \(codebook_size=8\); got codes in"):
        rvq.inverse_transform(codes.astype(np.int64) + 8)
    with pytest.raises(ValueError, match="expects integer codes; got an array of dtype float64"):
        rvq.inverse_transform(codes.astype(np.float64))
    with pytest.raises(ValueError, match=r"expects coefficients of shape \(n_samples, 2\)"):
        rvq.inverse_transform(codes[:, :1])
    with pytest.raises(ValueError, match=r"n_stages must be an int in \[1, 2\]; got 3"):
        rvq.inverse_transform(codes, n_stages=3)
    with pytest.raises(ValueError, match="coding must be 'fixed' or 'entropy'; got 'huffman'"):
        rvq.bits_per_sample(_correlated(5, 4), coding="huffman")


def test_bad_parameters_are_refused():
    with pytest.raises(ValueError, match="'beam_size' parameter of ResidualVQ must be"):
        ResidualVQ(beam_size=0).fit(np.zeros((300, 2)))
    with pytest.raises(ValueError, match="'n_refine' parameter of ResidualVQ must be"):
        ResidualVQ(n_refine="always").fit(np.zeros((300, 2)))


def test_same_codes_as_faiss_with_the_same_codebooks():
    faiss = pytest.importorskip("faiss")
    X = _correlated(3000, 8, seed=15, dtype=np.float32)
    for beam in (1, 4):
        rvq = ResidualVQ(3, 256, beam_size=beam, random_state=0).fit(X)
        reference = faiss.ResidualQuantizer(8, 3, 8)
        faiss.copy_array_to_vector(rvq.codebooks_.ravel(), reference.codebooks)
        reference.is_trained = True
        reference.max_beam_size = beam
        theirs = reference.compute_codes(X)  # one byte per 8-bit code
        ours = rvq.transform(X)
        assert np.mean(ours == theirs) > 0.999
        np.testing.assert_allclose(
            rvq.inverse_transform(ours), reference.decode(theirs), rtol=1e-4, atol=1e-3
        )


def test_a_failed_fit_leaves_no_half_fitted_quantizer():
    X = np.random.default_rng(0).normal(size=(5, 8))
    rvq = ResidualVQ(codebook_size=256)
    with pytest.raises(ValueError, match=r"codebook_size=256 exceeds the 5 training vectors"):
        rvq.fit(X)
    with pytest.raises(NotFittedError):  # was AttributeError: no codebooks_
        rvq.transform(X)
    fitted = ResidualVQ(2, 4, random_state=0).fit(X)
    with pytest.raises(ValueError, match="exceeds the 5 training vectors"):
        fitted.set_params(codebook_size=256).fit(X)
    with pytest.raises(NotFittedError):
        check_is_fitted(fitted)


def test_stages_and_beam_are_bounded():
    X = np.random.default_rng(0).normal(size=(50, 8))
    # n_stages=10**6 ran for minutes
    with pytest.raises(ValueError, match=r"'n_stages' parameter of ResidualVQ .* \[1, 256\]"):
        ResidualVQ(n_stages=10**6, codebook_size=2).fit(X)
    with pytest.raises(ValueError, match=r"'beam_size' parameter of ResidualVQ .* \[1, 1024\]"):
        ResidualVQ(beam_size=1025, codebook_size=2).fit(X)
