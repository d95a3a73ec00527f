"""Throughput of BlockDCT against the scipy route and a plain copy.

Inputs:

``mnist u8``
    The 5,000 embedded MNIST digits, 28x28 uint8 as loaded: BlockDCT converts
    them to float64, pads 28 to 32 by edge replication and subtracts the JPEG
    level shift of 128.
``mnist f32``
    The same digits as float32, so that the comparison is like for like.
``512 f32``
    16 gray 512x512 float32 images (uniform noise in [0, 255)).

For each input and direction three routines run on the same array:

``ours``
    ``BlockDCT().transform`` (zig-zag order, "flat" layout) and
    ``inverse_transform`` of its output.
``scipy``
    ``scipy.fft.dctn(X.reshape(n, h, 8, w, 8).transpose(0, 1, 3, 2, 4),
    axes=(3, 4), norm="ortho")`` after ``np.pad(..., mode="edge")`` where the
    size is not a multiple of 8; the inverse is ``idctn`` of its output, put
    back into ``(n, H, W)`` and cropped to a contiguous array.
``copy``
    ``X.copy()`` of the same input array: the memory-bound ceiling.

Throughput is input bytes (the images forward, the coefficients inverse) over
the median time of ``--repeats`` calls after a warm-up; the routines take turns
within each repeat, so that noise on a shared machine hits them alike. Before
timing, our coefficients (reordered to natural order, the level shift added
back to DC) and our reconstruction are checked against scipy's to a relative
1e-5 in float32 and 1e-10 in float64 (relative to the largest magnitude), so
the table cannot compare different computations.

Usage::

    python benchmarks/bench_blockdct.py [--quick] [--repeats 15] [--threads N]
"""

import argparse
import os
import platform
import time
from functools import partial

import numpy as np
import scipy.fft
import sklearn
from threadpoolctl import threadpool_info, threadpool_limits

from skcompress import BlockDCT
from skcompress.datasets import load_mnist
from skcompress.transforms import _separable, zigzag_order

B = 8


def _inputs():
    mnist = load_mnist().images
    noise = np.random.default_rng(0).uniform(0, 255, (16, 512, 512)).astype(np.float32)
    return {"mnist u8": mnist, "mnist f32": mnist.astype(np.float32), "512 f32": noise}


def _scipy_forward(X):
    n, H, W = X.shape
    pad = [(0, 0), (0, -H % B), (0, -W % B)]
    if any(p for _, p in pad):
        X = np.pad(X, pad, mode="edge")
    h, w = X.shape[1] // B, X.shape[2] // B
    view = X.reshape(n, h, B, w, B).transpose(0, 1, 3, 2, 4)
    return scipy.fft.dctn(view, axes=(3, 4), norm="ortho")


def _scipy_inverse(G, shape):
    n, H, W = shape
    h, w = G.shape[1:3]
    blocks = scipy.fft.idctn(G, axes=(3, 4), norm="ortho")
    images = blocks.transpose(0, 1, 3, 2, 4).reshape(n, h * B, w * B)
    return np.ascontiguousarray(images[:, :H, :W])


def _check(name, X, dct, ours, theirs, back, their_back):
    """Same coefficients and reconstructions as scipy, up to rounding."""
    tol = 1e-5 if ours.dtype == np.float32 else 1e-10
    n, h, w = theirs.shape[:3]
    natural = np.empty((n, h, w, B * B), dtype=ours.dtype)
    natural[..., zigzag_order(B)] = ours.reshape(n, h, w, B * B)
    natural[..., 0] += dct.level_shift_ * B
    expected = theirs.reshape(n, h, w, B * B)
    pairs = [
        ("forward", natural, expected),
        ("inverse", back, their_back),
        ("round trip", back, X),
    ]
    for what, a, b in pairs:
        error = np.abs(a - b).max() / np.abs(b).max()
        if not error <= tol:
            raise AssertionError(f"{name} {what}: relative error {error:.2e} > {tol:g}")


def _median_times(routines, repeats):
    """Median seconds of each routine; they take turns within every repeat."""
    for fn in routines.values():  # warm-up: page faults, plan caches, thread start
        fn()
    times = {name: [] for name in routines}
    for _ in range(repeats):
        for name, fn in routines.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: float(np.median(t)) for name, t in times.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="5 repeats instead of 15")
    parser.add_argument("--repeats", type=int, default=None, help="timed calls per routine")
    parser.add_argument(
        "--threads", type=int, default=None, help="thread limit for every routine (default: all)"
    )
    args = parser.parse_args(argv)
    repeats = args.repeats or (5 if args.quick else 15)
    with threadpool_limits(args.threads):
        _run(repeats)


def _run(repeats):
    blas = ", ".join(
        f"{lib['internal_api']} {lib['version']} ({lib['num_threads']} threads)"
        for lib in threadpool_info()
        if lib["user_api"] == "blas"
    )
    print(
        f"numpy {np.__version__}, scipy {scipy.__version__}, scikit-learn "
        f"{sklearn.__version__}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, BLAS: {blas}; BlockDCT kernel: "
        f"{_separable.instruction_set()}"
    )
    print(f"median of {repeats} repeats after a warm-up; MB/s = input bytes / median seconds\n")
    header = (
        f"{'input':<10} {'dir':<8} {'MB':>6} {'ours':>8} {'scipy':>8} {'copy':>8} "
        f"{'ours/scipy':>10} {'copy/ours':>9}"
    )
    print(header)
    print("-" * len(header))
    for name, X in _inputs().items():
        dct = BlockDCT().fit(X)
        ours, theirs = dct.transform(X), _scipy_forward(X)
        back, their_back = dct.inverse_transform(ours), _scipy_inverse(theirs, X.shape)
        _check(name, X, dct, ours, theirs, back, their_back)
        cases = [
            ("forward", X, dct.transform, partial(_scipy_forward, X)),
            ("inverse", ours, dct.inverse_transform, partial(_scipy_inverse, theirs, X.shape)),
        ]
        for direction, data, mine, scipy_route in cases:
            routines = {"ours": partial(mine, data), "scipy": scipy_route, "copy": data.copy}
            rate = {k: data.nbytes / 1e6 / t for k, t in _median_times(routines, repeats).items()}
            print(
                f"{name:<10} {direction:<8} {data.nbytes / 1e6:6.1f} {rate['ours']:8.0f} "
                f"{rate['scipy']:8.0f} {rate['copy']:8.0f} {rate['ours'] / rate['scipy']:10.2f} "
                f"{rate['copy'] / rate['ours']:9.2f}"
            )


if __name__ == "__main__":
    main()
