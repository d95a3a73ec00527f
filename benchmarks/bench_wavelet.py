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

(``--quick``: 4 images of 512x512 and 1,000 digits, 5 repeats.)

Before timing, our coefficients and reconstruction are checked against
PyWavelets' (same values, reordered) so that the table cannot compare
different computations. Times are medians of ``--repeats`` calls after a
warm-up, the routines taking turns within each repeat so that load from other
users of the machine hits them alike; ratios are against ``batched``.

Usage::

    python benchmarks/bench_wavelet.py [--quick] [--json PATH] [--repeats 15] [--threads N]
"""

import _common
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


def main(argv=None):
    parser = _common.parser(__doc__)
    parser.add_argument("--repeats", type=int, default=None, help="timed calls (default 15)")
    args = parser.parse_args(argv)
    report = _common.Report(__file__, __doc__, args, argv, peers=["pywt"])
    repeats = args.repeats or (5 if args.quick else 15)
    n_images, n_digits = (4, 1000) if args.quick else (16, None)
    noise = np.random.default_rng(0).uniform(0, 255, (n_images, 512, 512)).astype(np.float32)
    digits = load_mnist().images[:n_digits].astype(np.float32)
    inputs = {f"512 f32 x{n_images}": (noise, 3), f"mnist f32 x{len(digits)}": (digits, 1)}
    table = report.table(
        f"{WAVELET}, mode {MODE!r}: median ms of {repeats} calls; ratio = time / batched",
        [
            ("input", "s"),
            ("level", "d"),
            ("direction", "s"),
            ("routine", "s"),
            ("ms", ".1f"),
            ("ratio", ".2f"),
        ],
    )
    with _common.limit_threads(args.threads):
        for label, (X, level) in inputs.items():
            for direction, seconds in _time_case(X, level, repeats).items():
                for name, t in seconds.items():
                    table.add(label, level, direction, name, 1e3 * t, t / seconds["batched"])
    report.show(table)
    return report.finish()


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
    return {
        direction: _common.median_times(table, repeats) for direction, table in routines.items()
    }


if __name__ == "__main__":
    main()
