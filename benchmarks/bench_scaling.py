"""Scaling up: threads over chunks, peak memory of chunked paths, a Dask cluster's overhead.

Three measurements, each printed as a table with its ratios:

``threads``
    Throughput of ``BlockDCT()`` (8x8, the compiled kernel) and
    ``WaveletTransform()`` (JPEG 2000's 9/7, PyWavelets) on 50,000
    MNIST-sized images (the 5,000 embedded digits tiled, float32), with
    ``n_jobs=1`` (one thread, one BLAS thread) and ``n_jobs=2`` (two threads
    over chunks of samples); the ratio is the speed-up. "default" is
    ``n_jobs=None``: one call, the block kernel's own threads (as many as
    the BLAS thread count allows), PyWavelets on one thread. Medians of
    ``--repeats`` calls.
``memory``
    Peak memory of a transform, each case in a fresh process: the peak of
    numpy's allocations traced by :mod:`tracemalloc` from before the input
    is made (input, output and every temporary), divided by the size of the
    input plus the output. Cases: 50,000 MNIST digits (uint8) through
    ``BlockDCT`` and through the pipeline ``BlockDCT -> PerceptualQuantizer``,
    and 200 photographs of 512x512x3 (uint8 noise: memory does not depend on
    content) through the colour JPEG path (``ColorTransform ->
    ChromaSubsampler("4:2:0", block_size=8)`` -> the three planes ->
    ``BlockDCT -> PerceptualQuantizer`` each, int32 symbols), each as one
    call on the whole batch and in chunks (``transform_in_chunks``).
``dask``
    ``GridSearchCV`` over ``PerceptualQuantizer(quality=...)`` (6 qualities x
    3 folds) in a ``BlockDCT -> PerceptualQuantizer -> RidgeClassifier``
    pipeline on the 5,000 digits: in-process (``n_jobs=1``), with joblib's
    loky processes (``n_jobs=2``), and through joblib's dask backend on a
    ``LocalCluster`` of 2 worker processes (1 thread each, loopback). The
    cluster's start-up is timed apart; the ratios compare the searches. The
    scores are checked equal.

Usage::

    python benchmarks/bench_scaling.py [--repeats 3] [--only threads,memory,dask]
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import numpy as np

N_IMAGES = 50_000
N_PHOTOS = 200


def mnist_images(n, dtype):
    from skcompress.datasets import load_mnist

    digits = load_mnist().images
    return np.ascontiguousarray(np.resize(digits, (n, *digits.shape[1:])).astype(dtype))


def median_time(function, repeats):
    function()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# -- threads ------------------------------------------------------------------


def bench_threads(repeats):
    from skcompress import BlockDCT, WaveletTransform

    X = mnist_images(N_IMAGES, np.float32)
    print(f"\nthreads: {N_IMAGES:,} images 28x28 float32 ({os.cpu_count()} CPUs)")
    print(
        f"{'step':24} {'n_jobs=1 img/s':>15} {'n_jobs=2 img/s':>15} {'ratio 2/1':>9} "
        f"{'default img/s':>14}"
    )
    rows = {}
    for name, step in [("BlockDCT 8x8", BlockDCT()), ("Wavelet cdf97", WaveletTransform())]:
        step.fit(X[:1])
        rates = []
        for n_jobs in (1, 2, None):
            step.set_params(n_jobs=n_jobs)
            rates.append(N_IMAGES / median_time(lambda s=step: s.transform(X), repeats))
        rows[name] = rates
        print(
            f"{name:24} {rates[0]:15,.0f} {rates[1]:15,.0f} {rates[1] / rates[0]:9.2f} "
            f"{rates[2]:14,.0f}"
        )
    return rows


# -- memory -------------------------------------------------------------------


class JPEGPath:
    """The colour JPEG path as one transform: RGB images to int32 symbols per sample."""

    def __init__(self, quality=75):
        self.quality = quality

    def fit(self, X):
        from skcompress import BlockDCT, ChromaSubsampler, ColorTransform, PerceptualQuantizer

        self.color = ColorTransform(layout="blocks").fit(X[:1])
        ycc = self.color.transform(X[:1])
        self.sub = ChromaSubsampler("4:2:0", block_size=8).fit(ycc)
        planes = self.sub.split(self.sub.transform(ycc))
        self.steps = []
        for plane, table in zip(planes, ("jpeg-luma", "jpeg-chroma", "jpeg-chroma"), strict=True):
            dct = BlockDCT(layout="blocks").fit(plane)
            q = PerceptualQuantizer(table=table, quality=self.quality, layout="blocks")
            self.steps.append((dct, q.fit(dct.transform(plane))))
        return self

    def transform(self, X):
        planes = self.sub.split(self.sub.transform(self.color.transform(X)))
        symbols = [
            q.transform(dct.transform(p)).reshape(len(X), -1)
            for (dct, q), p in zip(self.steps, planes, strict=True)
        ]
        return np.concatenate(symbols, axis=1)


MEMORY_CASES = {
    "mnist-dct": "50,000 MNIST -> BlockDCT, one call",
    "mnist-dct-chunks": "50,000 MNIST -> BlockDCT(batch_size=2500)",
    "mnist-jpeg": "50,000 MNIST -> DCT -> quantizer, one call",
    "mnist-jpeg-chunks": "50,000 MNIST -> DCT -> quantizer, chunks of 2500",
    "photos-jpeg": "200 512x512x3 -> colour JPEG path, one call",
    "photos-jpeg-chunks": "200 512x512x3 -> colour JPEG path, chunks of 10",
}


def memory_case(case):
    """Run one case in this process; print its figures as JSON."""
    import tracemalloc

    from sklearn.pipeline import make_pipeline

    from skcompress import BlockDCT, PerceptualQuantizer
    from skcompress.utils import transform_in_chunks

    tracemalloc.start()
    if case.startswith("mnist"):
        X = mnist_images(N_IMAGES, np.uint8)
        if case.startswith("mnist-dct"):
            step = BlockDCT(batch_size=2500 if case.endswith("chunks") else None).fit(X[:1])
        else:
            step = make_pipeline(BlockDCT(), PerceptualQuantizer(quality=75)).fit(X[:500])
    else:
        rng = np.random.default_rng(0)
        X = rng.integers(0, 256, (N_PHOTOS, 512, 512, 3), dtype=np.uint8)
        step = JPEGPath().fit(X[:2])
    batch = {"mnist-jpeg-chunks": 2500, "photos-jpeg-chunks": 10}.get(case)
    tracemalloc.reset_peak()
    start = time.perf_counter()
    out = step.transform(X) if batch is None else transform_in_chunks(step, X, batch_size=batch)
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    print(json.dumps({"input": X.nbytes, "output": out.nbytes, "peak": peak, "seconds": seconds}))


def bench_memory():
    print("\nmemory: peak traced by tracemalloc (input + output + temporaries)")
    print(f"{'case':48} {'in MB':>7} {'out MB':>7} {'peak MB':>8} {'peak/(in+out)':>14}")
    rows = {}
    for case, label in MEMORY_CASES.items():
        done = subprocess.run(
            [sys.executable, __file__, "--memory-case", case],
            capture_output=True,
            text=True,
            check=True,
        )
        r = json.loads(done.stdout.strip().splitlines()[-1])
        ratio = r["peak"] / (r["input"] + r["output"])
        rows[case] = {**r, "ratio": ratio}
        mb = 2**20
        print(
            f"{label:48} {r['input'] / mb:7.0f} {r['output'] / mb:7.0f} "
            f"{r['peak'] / mb:8.0f} {ratio:14.2f}"
        )
    return rows


# -- dask ---------------------------------------------------------------------


def bench_dask():
    import joblib
    from distributed import Client, LocalCluster
    from sklearn.base import clone
    from sklearn.linear_model import RidgeClassifier
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline

    from skcompress import BlockDCT, PerceptualQuantizer
    from skcompress.datasets import load_mnist

    data = load_mnist()
    X, y = data.images, data.target
    search = GridSearchCV(
        make_pipeline(BlockDCT(), PerceptualQuantizer(), RidgeClassifier()),
        {"perceptualquantizer__quality": [5, 10, 25, 50, 75, 95]},
        cv=3,
    )
    print(f"\ndask: GridSearchCV, 6 qualities x 3 folds, {len(X):,} digits")
    timings = {}
    start = time.perf_counter()
    local = clone(search).fit(X, y)
    timings["in-process, n_jobs=1"] = time.perf_counter() - start
    start = time.perf_counter()
    loky = clone(search).set_params(n_jobs=2).fit(X, y)
    timings["loky processes, n_jobs=2"] = time.perf_counter() - start
    start = time.perf_counter()
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
        ) as cluster,
        Client(cluster),
    ):
        startup = time.perf_counter() - start
        start = time.perf_counter()
        with joblib.parallel_config(backend="dask"):
            remote = clone(search).fit(X, y)
        timings["dask LocalCluster, 2 workers"] = time.perf_counter() - start
    for other in (loky, remote):
        assert np.array_equal(
            other.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"]
        )
    base = timings["in-process, n_jobs=1"]
    print(f"{'run':32} {'seconds':>8} {'vs in-process':>14}")
    for name, seconds in timings.items():
        print(f"{name:32} {seconds:8.2f} {seconds / base:14.2f}")
    dask_vs_loky = timings["dask LocalCluster, 2 workers"] / timings["loky processes, n_jobs=2"]
    print(
        f"cluster start-up {startup:.2f} s (not in the search times); "
        f"dask / loky {dask_vs_loky:.2f}"
    )
    print("scores identical in all three runs")
    return {**timings, "startup": startup}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", default="threads,memory,dask")
    parser.add_argument("--memory-case", choices=sorted(MEMORY_CASES), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_case:
        memory_case(args.memory_case)
        return 0
    import sklearn

    print(
        f"Python {platform.python_version()}, numpy {np.__version__}, scikit-learn "
        f"{sklearn.__version__}, {os.cpu_count()} CPUs ({platform.machine()})"
    )
    parts = args.only.split(",")
    if "threads" in parts:
        bench_threads(args.repeats)
    if "memory" in parts:
        bench_memory()
    if "dask" in parts:
        bench_dask()
    return 0


if __name__ == "__main__":
    sys.exit(main())
