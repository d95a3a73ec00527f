"""Speed of WaveletTransform against bare PyWavelets calls, batched and per image.

Inputs, with the JPEG 2000 9/7 wavelet ("cdf97", PyWavelets' "bior4.4"):

``512 f32``
    16 gray 512x512 float32 images (uniform noise in [0, 255)), 3 levels.
``mnist f32``
    The 5,000 embedded MNIST digits as float32, 1 level (the deepest that
    PyWavelets allows the 9/7 on 28x28): many small images, where the cost of
    a call per image shows.

Routines, forward and inverse:

``ours``
    ``WaveletTransform("cdf97", level=...).transform`` (validation, one
    ``pywt.wavedec2`` call, subbands copied into one row per image), and
    ``inverse_transform`` of its output.
``batched``
    ``pywt.wavedec2(X, "bior4.4", mode="reflect", level=..., axes=(1, 2))``,
    the same work without validation or flattening (``mode="reflect"`` is our
    default), and ``pywt.waverec2`` of its coefficient list.
``batched sym``
    The same call in PyWavelets' default mode "symmetric" (forward only).
``loop``
    One ``pywt.wavedec2`` / ``waverec2`` call per image, in a Python loop.

Before timing, our coefficients and reconstruction are checked against
PyWavelets' (same values, reordered) so that the table cannot compare
different computations. Times are medians of ``--repeats`` calls after a
warm-up, the routines taking turns within each repeat so that load from other
users of the machine hits them alike; ratios are against ``batched``.

Usage::

    python benchmarks/bench_wavelet.py [--repeats 15]
"""

import argparse
import os
import platform
import time

import numpy as np
import pywt

from skcompress import WaveletTransform
from skcompress.datasets import load_mnist

WAVELET, MODE = "bior4.4", "reflect"


def _jpeg2000_order(coeffs):
    """PyWavelets' list as flat rows in our subband order (HL = cV, LH = cH)."""
    n = len(coeffs[0])
    bands = [coeffs[0]] + [b for cH, cV, cD in coeffs[1:] for b in (cV, cH, cD)]
    return np.concatenate([b.reshape(n, -1) for b in bands], axis=1)


def _median_times(routines, repeats):
    for fn in routines.values():
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
    parser.add_argument("--repeats", type=int, default=15, help="timed calls per routine")
    args = parser.parse_args(argv)

    print(
        f"PyWavelets {pywt.__version__}, numpy {np.__version__}, Python "
        f"{platform.python_version()}, {os.cpu_count()} CPUs"
    )
    print(
        f"{WAVELET}, mode {MODE!r}; median ms of {args.repeats} repeats, ratio = time / batched\n"
    )
    header = f"{'input':<10} {'level':>5} {'direction':<10} {'routine':<12} {'ms':>8} {'ratio':>7}"
    print(header)
    print("-" * len(header))
    noise = np.random.default_rng(0).uniform(0, 255, (16, 512, 512)).astype(np.float32)
    inputs = {"512 f32": (noise, 3), "mnist f32": (load_mnist().images.astype(np.float32), 1)}
    for label, (X, level) in inputs.items():
        t = _time_case(X, level, args.repeats)
        for direction, table in t.items():
            for name, seconds in table.items():
                print(
                    f"{label:<10} {level:>5} {direction:<10} {name:<12} {1e3 * seconds:8.1f} "
                    f"{seconds / table['batched']:7.2f}"
                )


def _time_case(X, level, repeats):
    wt = WaveletTransform("cdf97", level=level).fit(X)
    ours = wt.transform(X)
    coeffs = pywt.wavedec2(X, WAVELET, mode=MODE, level=level, axes=(1, 2))
    np.testing.assert_array_equal(ours, _jpeg2000_order(coeffs))
    np.testing.assert_allclose(wt.inverse_transform(ours), X, atol=1e-3)
    per_image = [pywt.wavedec2(x, WAVELET, mode=MODE, level=level) for x in X]
    routines = {
        "forward": {
            "ours": lambda: wt.transform(X),
            "batched": lambda: pywt.wavedec2(X, WAVELET, mode=MODE, level=level, axes=(1, 2)),
            "batched sym": lambda: pywt.wavedec2(X, WAVELET, level=level, axes=(1, 2)),
            "loop": lambda: [pywt.wavedec2(x, WAVELET, mode=MODE, level=level) for x in X],
        },
        "inverse": {
            "ours": lambda: wt.inverse_transform(ours),
            "batched": lambda: pywt.waverec2(coeffs, WAVELET, mode=MODE, axes=(1, 2)),
            "loop": lambda: [pywt.waverec2(c, WAVELET, mode=MODE) for c in per_image],
        },
    }
    return {direction: _median_times(table, repeats) for direction, table in routines.items()}


if __name__ == "__main__":
    main()
