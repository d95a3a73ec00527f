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

(``--quick``: 1,000 digits, 4 images of 512x512, 5 repeats.)

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

    python benchmarks/bench_blockdct.py [--quick] [--json PATH] [--repeats 15] [--threads N]
"""

from functools import partial

import _common
import numpy as np
import scipy.fft

from skcompress import BlockDCT
from skcompress.datasets import load_mnist
from skcompress.transforms import _separable, zigzag_order

B = 8


def _inputs(quick):
    mnist = load_mnist().images[: 1000 if quick else None]
    noise = np.random.default_rng(0).uniform(0, 255, (4 if quick else 16, 512, 512))
    return {
        "mnist u8": mnist,
        "mnist f32": mnist.astype(np.float32),
        "512 f32": noise.astype(np.float32),
    }


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


def main(argv=None):
    parser = _common.parser(__doc__)
    parser.add_argument("--repeats", type=int, default=None, help="timed calls (default 15)")
    args = parser.parse_args(argv)
    report = _common.Report(__file__, __doc__, args, argv, peers=["scipy"])
    repeats = args.repeats or (5 if args.quick else 15)
    with _common.limit_threads(args.threads):
        table = report.table(
            f"MB/s (input bytes / median seconds of {repeats} calls); BlockDCT kernel: "
            f"{_separable.instruction_set()}",
            [
                ("input", "s"),
                ("direction", "s"),
                ("MB", ".1f"),
                ("ours", ".0f"),
                ("scipy", ".0f"),
                ("copy", ".0f"),
                ("ours / scipy", ".2f"),
                ("copy / ours", ".2f"),
            ],
            notes=["ours / scipy above 1: ours is faster; copy / ours: how far from a memcpy"],
        )
        for name, X in _inputs(args.quick).items():
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
                seconds = _common.median_times(routines, repeats)
                rate = {k: data.nbytes / 1e6 / t for k, t in seconds.items()}
                ratios = rate["ours"] / rate["scipy"], rate["copy"] / rate["ours"]
                table.add(name, direction, data.nbytes / 1e6, *rate.values(), *ratios)
        report.show(table)
    return report.finish()


if __name__ == "__main__":
    main()
