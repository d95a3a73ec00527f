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
    content) through the colour JPEG path (the steps of
    :func:`skcompress.codecs.jpeg_color_planes`: ``ColorTransform ->
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

``--quick``: a tenth of the images and photographs, 2 qualities and 1,000
digits in the search; without ``distributed`` the dask part is skipped.

Usage::

    python benchmarks/bench_scaling.py [--quick] [--json PATH] [--repeats 3]
        [--only threads,memory,dask]
"""

import argparse
import json
import sys
import time

import _common
import numpy as np

N_IMAGES = 50_000
N_PHOTOS = 200


def mnist_images(n, dtype):
    from skcompress.datasets import load_mnist

    digits = load_mnist().images
    return np.ascontiguousarray(np.resize(digits, (n, *digits.shape[1:])).astype(dtype))


# -- threads ------------------------------------------------------------------


def bench_threads(report, n_images, repeats):
    from skcompress import BlockDCT, WaveletTransform

    X = mnist_images(n_images, np.float32)
    table = report.table(
        f"threads: {n_images:,} images 28x28 float32, images/s (median of {repeats})",
        [
            ("step", "s"),
            ("n_jobs=1", ",.0f"),
            ("n_jobs=2", ",.0f"),
            ("ratio 2 / 1", ".2f"),
            ("default", ",.0f"),
        ],
        notes=["default: n_jobs=None, one call (the block kernel's own threads)"],
    )
    for name, step in [("BlockDCT 8x8", BlockDCT()), ("Wavelet cdf97", WaveletTransform())]:
        step.fit(X[:1])
        rates = []
        for n_jobs in (1, 2, None):
            step.set_params(n_jobs=n_jobs)
            seconds = _common.median_times({"step": lambda s=step: s.transform(X)}, repeats)
            rates.append(n_images / seconds["step"])
        table.add(name, rates[0], rates[1], rates[1] / rates[0], rates[2])
    report.show(table)


# -- memory -------------------------------------------------------------------


class JPEGPath:
    """The colour JPEG path as one transform: RGB images to int32 symbols per sample."""

    def __init__(self, quality=75):
        self.quality = quality

    def fit(self, X):
        from skcompress.codecs import jpeg_color_planes

        self.steps_ = jpeg_color_planes(X[:1], self.quality).steps
        return self

    def transform(self, X):
        symbols = self.steps_.symbols(X)
        return np.concatenate([B.reshape(len(X), -1) for B in symbols], axis=1)


MEMORY_CASES = {
    "mnist-dct": "{images:,} MNIST -> BlockDCT, one call",
    "mnist-dct-chunks": "{images:,} MNIST -> BlockDCT(batch_size=2500)",
    "mnist-jpeg": "{images:,} MNIST -> DCT -> quantizer, one call",
    "mnist-jpeg-chunks": "{images:,} MNIST -> DCT -> quantizer, chunks of 2500",
    "photos-jpeg": "{photos} 512x512x3 -> colour JPEG path, one call",
    "photos-jpeg-chunks": "{photos} 512x512x3 -> colour JPEG path, chunks of 10",
}


def memory_case(case, n_images, n_photos):
    """Run one case in this process; print its figures as JSON."""
    import tracemalloc

    from sklearn.pipeline import make_pipeline

    from skcompress import BlockDCT
    from skcompress.codecs import jpeg_gray_steps
    from skcompress.utils import transform_in_chunks

    tracemalloc.start()
    if case.startswith("mnist"):
        X = mnist_images(n_images, np.uint8)
        if case.startswith("mnist-dct"):
            step = BlockDCT(batch_size=2500 if case.endswith("chunks") else None).fit(X[:1])
        else:
            step = make_pipeline(*jpeg_gray_steps(75)).fit(X[:500])
    else:
        rng = np.random.default_rng(0)
        X = rng.integers(0, 256, (n_photos, 512, 512, 3), dtype=np.uint8)
        step = JPEGPath().fit(X[:2])
    batch = {"mnist-jpeg-chunks": 2500, "photos-jpeg-chunks": 10}.get(case)
    tracemalloc.reset_peak()
    start = time.perf_counter()
    out = step.transform(X) if batch is None else transform_in_chunks(step, X, batch_size=batch)
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    print(json.dumps({"input": X.nbytes, "output": out.nbytes, "peak": peak, "seconds": seconds}))


def bench_memory(report, n_images, n_photos):
    table = report.table(
        "memory: peak traced by tracemalloc (input + output + temporaries), MB",
        [
            ("case", "s"),
            ("in MB", ".0f"),
            ("out MB", ".0f"),
            ("peak MB", ".0f"),
            ("peak / (in + out)", ".2f"),
        ],
        notes=["each case in a fresh process"],
    )
    mb = 2**20
    for case, label in MEMORY_CASES.items():
        stdout = _common.run_in_subprocess(
            [__file__, "--memory-case", case, "--n-images", n_images, "--n-photos", n_photos]
        )
        r = json.loads(stdout.strip().splitlines()[-1])
        ratio = r["peak"] / (r["input"] + r["output"])
        table.add(
            label.format(images=n_images, photos=n_photos),
            r["input"] / mb,
            r["output"] / mb,
            r["peak"] / mb,
            ratio,
        )
    report.show(table)


# -- dask ---------------------------------------------------------------------


def bench_dask(report, quick):
    import joblib
    from distributed import Client, LocalCluster
    from sklearn.base import clone
    from sklearn.linear_model import RidgeClassifier
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline

    from skcompress.codecs import jpeg_gray_steps
    from skcompress.datasets import load_mnist

    data = load_mnist()
    n = 1000 if quick else None
    X, y = data.images[:n], data.target[:n]
    qualities = [10, 75] if quick else [5, 10, 25, 50, 75, 95]
    search = GridSearchCV(
        make_pipeline(*jpeg_gray_steps(), RidgeClassifier()),
        {"perceptualquantizer__quality": qualities},
        cv=3,
    )
    timings = {}
    local, timings["in-process, n_jobs=1"] = _common.timed(clone(search).fit, X, y)
    loky, timings["loky processes, n_jobs=2"] = _common.timed(
        clone(search).set_params(n_jobs=2).fit, X, y
    )
    start = time.perf_counter()
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
        ) as cluster,
        Client(cluster),
    ):
        startup = time.perf_counter() - start
        with joblib.parallel_config(backend="dask"):
            remote, timings["dask LocalCluster, 2 workers"] = _common.timed(
                clone(search).fit, X, y
            )
    for other in (loky, remote):
        assert np.array_equal(
            other.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"]
        )
    table = report.table(
        f"dask: GridSearchCV, {len(qualities)} qualities x 3 folds, {len(X):,} digits",
        [("run", "s"), ("seconds", ".2f"), ("time / in-process", ".2f")],
        notes=[
            f"cluster start-up {startup:.2f} s (not in the search times); scores identical "
            "in all three runs"
        ],
    )
    base = timings["in-process, n_jobs=1"]
    for name, seconds in timings.items():
        table.add(name, seconds, seconds / base)
    report.show(table)


def main(argv=None):
    parser = _common.parser(__doc__)
    parser.add_argument("--repeats", type=int, default=None, help="timed calls (default 3)")
    parser.add_argument("--only", default="threads,memory,dask")
    parser.add_argument("--memory-case", choices=sorted(MEMORY_CASES), help=argparse.SUPPRESS)
    parser.add_argument("--n-images", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--n-photos", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    n_images = args.n_images or (N_IMAGES // 10 if args.quick else N_IMAGES)
    n_photos = args.n_photos or (N_PHOTOS // 10 if args.quick else N_PHOTOS)
    if args.memory_case:
        memory_case(args.memory_case, n_images, n_photos)
        return 0
    parts = args.only.split(",")
    peers = ["distributed"] if "dask" in parts else []
    report = _common.Report(__file__, __doc__, args, argv, peers=peers)
    repeats = args.repeats or (2 if args.quick else 3)
    if "threads" in parts:
        bench_threads(report, n_images, repeats)
    if "memory" in parts:
        bench_memory(report, n_images, n_photos)
    if "dask" in parts and report.has("distributed"):
        bench_dask(report, args.quick)
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())
