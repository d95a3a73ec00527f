"""Large inputs: chunks and threads, Dask arrays, streams of partial_fit, a Dask cluster."""

from operator import methodcaller

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import RidgeClassifier
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from skcompress import (
    KSVD,
    MDCT,
    BlockDCT,
    ChromaSubsampler,
    ColorTransform,
    PerceptualQuantizer,
    PyramidVQ,
    ResidualVQ,
    WaveletTransform,
)
from skcompress.datasets import load_mnist
from skcompress.entropy import BlockContextModel, CategoricalEntropyModel, GainShapeModel
from skcompress.utils import all_estimators, partial_fit_chunks, transform_in_chunks
from tests.conftest import fit_data

RNG = np.random.default_rng(0)
DIGITS = load_mnist().images[:300]
PHOTOS = RNG.integers(0, 256, (20, 24, 40, 3), dtype=np.uint8)
AUDIO = RNG.standard_normal((30, 300)).astype(np.float32)
VECTORS = RNG.standard_normal((90, 16)).astype(np.float32)

# (step, data): every kind of step and of input the chunked paths must keep
CASES = [
    (BlockDCT(), DIGITS),
    (BlockDCT(4, n_coefficients=5, layout="channels_first"), PHOTOS),
    (BlockDCT(8, integer=True), DIGITS),
    (WaveletTransform(), DIGITS.astype(np.float32)),
    (WaveletTransform("haar", level=2), PHOTOS),
    (MDCT(64, layout="blocks"), AUDIO),
    (ColorTransform(), PHOTOS),
    (ColorTransform(method="libjpeg", layout="channels_first"), PHOTOS),
    (ChromaSubsampler("4:2:0"), PHOTOS.astype(np.float64)),
    (PerceptualQuantizer(quality=50), BlockDCT().fit_transform(DIGITS)),
    (ResidualVQ(2, 8, vector_size=8, random_state=0), VECTORS),
    (PyramidVQ(vector_size=8, pulses=4), VECTORS),
    (KSVD(n_components=20, n_nonzero_coefs=3, max_iter=2, random_state=0), VECTORS),
]
IDS = [f"{type(step).__name__}-{i}" for i, (step, _) in enumerate(CASES)]


def assert_same(actual, expected, step):
    """Identical numbers, except for the sparse codes of OMP: BLAS sums a chunk of
    vectors in another order than the whole batch (float32: a few 1e-7)."""
    if isinstance(step, KSVD):
        np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-5)
    else:
        np.testing.assert_array_equal(actual, expected)


@pytest.mark.parametrize(("step", "X"), CASES, ids=IDS)
def test_numpy_chunks_and_threads_give_the_same_numbers(step, X):
    fitted = clone(step).fit(X)
    whole = fitted.transform(X)
    chunked = (
        clone(step).set_params(batch_size=7, n_jobs=2) if "n_jobs" in step.get_params() else None
    )
    if chunked is not None:
        chunked.fit(X)
        assert_same(chunked.transform(X), whole, step)
        assert_same(chunked.inverse_transform(whole), fitted.inverse_transform(whole), step)
    assert_same(transform_in_chunks(fitted, X, batch_size=7, n_jobs=2), whole, step)


@pytest.mark.parametrize(("step", "X"), CASES, ids=IDS)
def test_dask_arrays_stay_lazy_and_match_numpy(step, X):
    da = pytest.importorskip("dask.array")
    dask = pytest.importorskip("dask")
    fitted = clone(step).fit(X)
    lazy_X = da.from_array(X, chunks=(8, *X.shape[1:]))

    def refuse(*args, **kwargs):
        raise AssertionError("transform computed its Dask input")

    with dask.config.set(scheduler=refuse):
        lazy = fitted.transform(lazy_X)
        back = fitted.inverse_transform(lazy)
    assert isinstance(lazy, da.Array) and lazy.chunks[0] == lazy_X.chunks[0]
    whole = fitted.transform(X)
    assert_same(lazy.compute(), whole, step)  # identical, chunk by chunk
    assert_same(back.compute(), fitted.inverse_transform(whole), step)


def test_stateless_pipeline_fits_and_transforms_lazily():
    da = pytest.importorskip("dask.array")
    jpeg = make_pipeline(ColorTransform(layout="blocks"), ChromaSubsampler(block_size=8))
    lazy_X = da.from_array(PHOTOS, chunks=(6, 24, 40, 3))
    lazy = clone(jpeg).fit_transform(lazy_X)
    assert isinstance(lazy, da.Array)
    np.testing.assert_array_equal(lazy.compute(), jpeg.fit_transform(PHOTOS))


def test_lazy_results_of_different_inputs_do_not_share_keys():
    # a fixed task name per step once made two transforms of different arrays
    # overwrite each other's blocks when computed together
    da = pytest.importorskip("dask.array")
    dct = BlockDCT().fit(DIGITS)
    flipped = DIGITS[::-1].copy()
    a = dct.transform(da.from_array(DIGITS, chunks=20))
    b = dct.transform(da.from_array(flipped, chunks=20))
    assert a.name != b.name
    both = da.concatenate([a, b]).compute()
    np.testing.assert_array_equal(both[: len(DIGITS)], dct.transform(DIGITS))
    np.testing.assert_array_equal(both[len(DIGITS) :], dct.transform(flipped))


def test_wrong_shape_fails_before_computing():
    da = pytest.importorskip("dask.array")
    dct = BlockDCT().fit(DIGITS)
    with pytest.raises(ValueError, match="fitted on signals of shape"):
        dct.transform(da.zeros((10, 16, 16), chunks=5))


def test_batch_size_is_checked():
    with pytest.raises(ValueError, match="batch_size"):
        BlockDCT(batch_size=0).fit(DIGITS)


def _stream(X, sizes):
    return np.split(X, np.cumsum(sizes)[:-1])


@pytest.mark.parametrize(
    "make",
    [
        lambda: ResidualVQ(2, 8, vector_size=8, random_state=0),
        lambda: KSVD(n_components=20, n_nonzero_coefs=3, random_state=0),
        lambda: PerceptualQuantizer(quality=50),
    ],
    ids=["ResidualVQ", "KSVD", "PerceptualQuantizer"],
)
def test_partial_fit_over_dask_blocks_equals_the_loop(make):
    da = pytest.importorskip("dask.array")
    X = (
        VECTORS
        if not isinstance(make(), PerceptualQuantizer)
        else BlockDCT().fit_transform(DIGITS)
    )
    lazy = da.from_array(X, chunks=(30, X.shape[1]))
    streamed = partial_fit_chunks(make(), lazy)
    looped = make()
    for chunk in _stream(X, [30] * (len(X) // 30)):
        looped.partial_fit(chunk)
    np.testing.assert_array_equal(streamed.transform(X), looped.transform(X))
    np.testing.assert_array_equal(
        streamed.inverse_transform(streamed.transform(X)),
        looped.inverse_transform(looped.transform(X)),
    )


def test_dask_ml_incremental_equals_the_loop():
    da = pytest.importorskip("dask.array")
    wrappers = pytest.importorskip("dask_ml.wrappers")
    lazy = da.from_array(VECTORS, chunks=(30, 16))
    # our steps have no score: Incremental needs a scoring, and its blocks in order
    inc = wrappers.Incremental(
        ResidualVQ(2, 8, vector_size=8, random_state=0),
        scoring=lambda estimator, X, y=None: 0.0,
        shuffle_blocks=False,
    ).fit(lazy)
    looped = partial_fit_chunks(ResidualVQ(2, 8, vector_size=8, random_state=0), lazy)
    np.testing.assert_array_equal(inc.estimator_.codebooks_, looped.codebooks_)


def test_entropy_models_learn_from_a_stream_exactly():
    B = PerceptualQuantizer(quality=20).fit(BlockDCT().fit_transform(DIGITS))
    B = B.transform(BlockDCT().fit_transform(DIGITS)).reshape(-1, 64)
    B[5, 3] = 5000  # an escape beyond the table
    whole = CategoricalEntropyModel().fit(B)
    streamed = CategoricalEntropyModel()
    for chunk in _stream(B, [1, 700, 3000, len(B) - 3701]):
        streamed.partial_fit(chunk)
    np.testing.assert_array_equal(streamed.counts_, whole.counts_)
    np.testing.assert_array_equal(streamed.code_lengths(B), whole.code_lengths(B))
    assert streamed.compress(B[:4]) == whole.compress(B[:4])

    symbols = PyramidVQ(vector_size=8, pulses=4).fit(VECTORS).transform(VECTORS)
    size = PyramidVQ(vector_size=8, pulses=4).fit(VECTORS).codebook_size_
    gain = GainShapeModel(size)
    for chunk in _stream(symbols, [40, 50]):
        gain.partial_fit(chunk)
    assert gain.compress(symbols) == GainShapeModel(size).fit(symbols).compress(symbols)

    blocks = BlockDCT(layout="blocks").fit_transform(DIGITS)
    B = PerceptualQuantizer(quality=50, layout="blocks").fit(blocks).transform(blocks)
    streamed = BlockContextModel()  # "auto" choices made on the first batch
    for chunk in _stream(B, [100, 150, 50]):
        streamed.partial_fit(chunk)
    chosen = {"positional": streamed.positional_, "dc_prediction": streamed.dc_prediction_}
    whole = BlockContextModel(**chosen).fit(B)
    np.testing.assert_array_equal(streamed.counts_, whole.counts_)
    assert streamed.compress(B[:10]) == whole.compress(B[:10])
    with pytest.raises(ValueError, match="coefficients per block of the first batch"):
        streamed.partial_fit(B[..., :10])

    dct = BlockDCT().fit_transform(DIGITS)
    q = PerceptualQuantizer(quality=50)
    for chunk in _stream(dct, [100, 100, 100]):
        q.partial_fit(chunk)
    fitted = PerceptualQuantizer(quality=50).fit(dct)
    assert q.bits_per_sample(dct) == fitted.bits_per_sample(dct)


def _core_estimators():
    """Every public estimator whose module needs no torch in the workers."""
    for _, cls in all_estimators():
        if not cls.__module__.startswith(("skcompress.nets", "skcompress.learned")):
            for params in cls.get_test_params()[:1]:
                yield cls(**params)


def test_local_cluster_grid_search_and_pickled_estimators():
    """One cluster for both checks: 2 worker processes on loopback, shut down here."""
    distributed = pytest.importorskip("distributed")
    joblib = pytest.importorskip("joblib")
    y = load_mnist().target[: len(DIGITS)]
    search = GridSearchCV(
        make_pipeline(BlockDCT(), PerceptualQuantizer(), RidgeClassifier()),
        {"perceptualquantizer__quality": [5, 30, 90]},
        cv=3,
    )
    local = clone(search).fit(DIGITS, y)
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        with joblib.parallel_config(backend="dask"):
            remote = clone(search).fit(DIGITS, y)
        # every fitted estimator crosses to a worker process and computes the same there
        for estimator in _core_estimators():
            data = fit_data(estimator)
            X, target = data if isinstance(data, tuple) else (data, None)
            fitted = clone(estimator).fit(X, target)
            there = client.submit(methodcaller("transform", X), fitted, pure=False).result()
            np.testing.assert_array_equal(there, fitted.transform(X), err_msg=repr(estimator))
    for key in ("mean_test_score", "std_test_score", "rank_test_score"):
        np.testing.assert_array_equal(remote.cv_results_[key], local.cv_results_[key])
    assert remote.best_params_ == local.best_params_


def test_import_loads_neither_dask_nor_torch():
    import subprocess
    import sys

    code = (
        "import sys, skcompress, skcompress.utils\n"
        "loaded = sorted(m for m in ('dask', 'distributed', 'torch') if m in sys.modules)\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
