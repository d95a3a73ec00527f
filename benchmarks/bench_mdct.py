"""Throughput of MDCT against a plain FFT of the same frames and a matrix-product MDCT.

Input: the 2,520 embedded spoken digits (``load_spoken_digits``, int16
(2520, 8000), 1 s at 8 kHz; ``--quick``: the first 300, 5 repeats), converted
to float32 once before timing; the routines all read that float32 array, so
MB is its size (80.6 MB) forward and the size of the float32 coefficients
(82.6 MB, 64 frames of 128 bins per signal at frame length 256) inverse.

Routines, for each frame length and direction, on the same array:

``ours``
    ``MDCT(frame_length).transform`` ("flat" layout, sine window) and
    ``inverse_transform`` of its output.
``rfft``
    The ceiling to approach: the same zero padding, the 50%-overlapped frames
    as a ``sliding_window_view`` and ``scipy.fft.rfft`` over them (no window);
    inverse, ``scipy.fft.irfft`` of those spectra, overlap-add and crop.
``naive``
    The MDCT as one matrix product: the frames made contiguous, times the
    ``(N, M)`` matrix ``w[n] sqrt(2/M) cos(pi/M (n + 1/2 + M/2)(k + 1/2))``;
    inverse, the coefficients times its transpose, overlap-add and crop.

Everything runs on one thread (``--threads``: BLAS limited by threadpoolctl,
scipy.fft with its default single worker), so the ratios compare algorithms,
not cores.
Throughput is MB over the median time of ``--repeats`` calls after a warm-up;
the routines take turns within each repeat so that noise on a shared machine
hits them alike. Before timing, ours is checked against the naive product
(coefficients and reconstruction, relative 1e-5) and the round trip against
the input.

Usage::

    python benchmarks/bench_mdct.py [--quick] [--json PATH] [--repeats 15]
        [--frame-lengths 256 2048]
"""

from functools import partial

import _common
import numpy as np
import scipy.fft

from skcompress import MDCT
from skcompress.datasets import load_spoken_digits


def _padded(X, M, F):
    hops = np.zeros((len(X), (F + 1) * M), dtype=X.dtype)
    hops[:, M : M + X.shape[1]] = X
    return hops


def _frames(X, M, F):
    return np.lib.stride_tricks.sliding_window_view(_padded(X, M, F), 2 * M, axis=-1)[:, ::M]


def _overlap_add(frames, length):
    """Hops 1..F-1 of the overlap-added ``(n, F, 2M)`` frames, cropped to ``length``."""
    n, _, N = frames.shape
    M = N // 2
    hops = frames[:, 1:, :M] + frames[:, :-1, M:]
    return np.ascontiguousarray(hops.reshape(n, -1)[:, :length])


def _naive_matrix(mdct, dtype):
    M = mdct.n_bins_
    n, k = np.arange(2 * M), np.arange(M)
    cos = np.cos(np.pi / M * (n[:, None] + 0.5 + M / 2) * (k[None] + 0.5))
    return (mdct.window_[:, None] * np.sqrt(2 / M) * cos).astype(dtype)


def _routines(mdct, X):
    M, F, length = mdct.n_bins_, mdct.n_frames_, X.shape[1]
    C = _naive_matrix(mdct, X.dtype)

    def naive_forward(X):
        frames = np.ascontiguousarray(_frames(X, M, F))
        return (frames.reshape(-1, 2 * M) @ C).reshape(len(X), -1)

    def naive_inverse(G):
        return _overlap_add((G.reshape(-1, M) @ C.T).reshape(len(G), F, 2 * M), length)

    def rfft_forward(X):
        return scipy.fft.rfft(_frames(X, M, F), axis=-1)

    def rfft_inverse(S):
        return _overlap_add(scipy.fft.irfft(S, n=2 * M, axis=-1), length)

    return {
        "forward": {"ours": mdct.transform, "rfft": rfft_forward, "naive": naive_forward},
        "inverse": {
            "ours": mdct.inverse_transform,
            "rfft": rfft_inverse,
            "naive": naive_inverse,
        },
    }


def _check(mdct, X, routines):
    G = routines["forward"]["ours"](X)
    back = routines["inverse"]["ours"](G)
    pairs = [
        ("forward", G, routines["forward"]["naive"](X)),
        ("inverse", back, routines["inverse"]["naive"](G)),
        ("round trip", back, X),
    ]
    for what, a, b in pairs:
        error = np.abs(a - b).max() / np.abs(b).max()
        if not error <= 1e-5:
            raise AssertionError(f"{what}: relative error {error:.2e} > 1e-5")
    rfft_back = routines["inverse"]["rfft"](routines["forward"]["rfft"](X))
    if not np.allclose(rfft_back, 2 * X, rtol=0, atol=1e-3 * np.abs(X).max()):
        raise AssertionError("rfft peer: overlap-add of the frames is not 2 X")


def main(argv=None):
    parser = _common.parser(__doc__, threads=1)
    parser.add_argument("--repeats", type=int, default=None, help="timed calls (default 15)")
    parser.add_argument("--frame-lengths", type=int, nargs="+", default=[256])
    args = parser.parse_args(argv)
    report = _common.Report(__file__, __doc__, args, argv, peers=["scipy"])
    repeats = args.repeats or (5 if args.quick else 15)
    X = load_spoken_digits().data[: 300 if args.quick else None].astype(np.float32)
    table = report.table(
        f"spoken digits {X.shape} as float32: MB/s (float32 input bytes / median seconds of "
        f"{repeats} calls)",
        [
            ("N", "d"),
            ("direction", "s"),
            ("MB", ".1f"),
            ("ours", ".0f"),
            ("rfft", ".0f"),
            ("naive", ".0f"),
            ("ours / rfft", ".2f"),
            ("ours / naive", ".2f"),
        ],
        notes=["ours / rfft and ours / naive: throughput ratios (above 1: ours is faster)"],
    )
    with _common.limit_threads(args.threads):
        for N in args.frame_lengths:
            mdct = MDCT(N).fit(X)
            routines = _routines(mdct, X)
            _check(mdct, X, routines)
            G = mdct.transform(X)
            spectra = routines["forward"]["rfft"](X)
            inputs = {
                "forward": {"ours": X, "rfft": X, "naive": X},
                "inverse": {"ours": G, "rfft": spectra, "naive": G},
            }
            for direction, group in routines.items():
                calls = {name: partial(fn, inputs[direction][name]) for name, fn in group.items()}
                t = _common.median_times(calls, repeats)
                mb = (X.nbytes if direction == "forward" else G.nbytes) / 1e6
                rate = {name: mb / seconds for name, seconds in t.items()}
                ratios = rate["ours"] / rate["rfft"], rate["ours"] / rate["naive"]
                table.add(N, direction, mb, *rate.values(), *ratios)
    report.show(table)
    return report.finish()


if __name__ == "__main__":
    main()
