"""Rate-distortion of PyramidVQ on MDCT bands of speech, beside scalar quantization.

Data: the embedded spoken digits (8 kHz, 1 s each), scaled to [-1, 1); the
first ``--train`` utterances fit the quantizers (the gain and symbol
statistics), the next ``--test`` ones are measured. ``MDCT(frame_length=320)``
gives 20 ms frames of 160 bins (CELT's narrowband frame); PyramidVQ cuts them
into bands of 8 bins (the width of CELT's lowest bands at 20 ms) and codes each
as a gain (1.5 dB steps) and a pyramid codeword of ``K`` pulses, the same ``K`` in
every band. ``range`` is PyramidVQ's ``dynamic_range``: bands that much quieter
than the loudest one seen at fit are sent as silent (gain only), the one form of
bit allocation it has; CELT's allocator would instead give each band its own
``K``.

The peer is ``PerceptualQuantizer(table=step)``, one uniform step for every
bin, with the step bisected until its rate matches PyramidVQ's within 0.5%.
Both rates are ``bits_per_sample`` on the test utterances (entropy estimates
from statistics of the training ones; PyramidVQ's codewords cost a fixed
``log2 V(8, K)`` bits), divided by the 8000 audio samples of an utterance.
SNR is measured on the waveform after ``MDCT.inverse_transform``.

Times are medians of ``--repeats`` calls of ``transform`` then
``inverse_transform`` on the test coefficients, the two quantizers taking turns
in each repeat so that load on a shared machine hits both alike; the ratio is
PyramidVQ's time over the scalar quantizer's.

Usage::

    python benchmarks/bench_pvq.py [--quick] [--repeats 7]
"""

import argparse
import itertools
import math
import platform
import time

import numpy as np

from skcompress import MDCT, PerceptualQuantizer, PyramidVQ
from skcompress.datasets import load_spoken_digits

BAND = 8
GAIN_STEP = 1.5


def _snr(x, x_hat):
    return 10 * math.log10(np.sum(x**2) / np.sum((x - x_hat) ** 2))


def _matching_step(G_train, G_test, target_bits):
    """Uniform step whose PerceptualQuantizer rate on G_test is target_bits (0.5%)."""
    lo, hi = 1e-6, 10.0  # log-domain bisection; rate falls as the step grows
    for _ in range(60):
        step = math.sqrt(lo * hi)
        bits = PerceptualQuantizer(table=step).fit(G_train).bits_per_sample(G_test)
        if abs(bits - target_bits) <= 0.005 * target_bits:
            break
        lo, hi = (step, hi) if bits > target_bits else (lo, step)
    return step


def _time_pair(a, b, G, repeats):
    times = {id(a): [], id(b): []}
    for _ in range(repeats):
        for q in (a, b):
            start = time.perf_counter()
            q.inverse_transform(q.transform(G))
            times[id(q)].append(time.perf_counter() - start)
    return float(np.median(times[id(a)])), float(np.median(times[id(b)]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer utterances and K")
    parser.add_argument("--train", type=int, default=200)
    parser.add_argument("--test", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    n_train, n_test = (40, 40) if args.quick else (args.train, args.test)
    pulses = (1, 4, 16) if args.quick else (1, 2, 4, 8, 16, 32)
    ranges = (120.0, 40.0)

    digits = load_spoken_digits()
    audio = digits.data[: n_train + n_test].astype(np.float64) / 32768
    mdct = MDCT(frame_length=320).fit(audio)
    G = mdct.transform(audio)
    G_train, G_test = G[:n_train], G[n_train:]
    x_test = audio[n_train:]
    samples = audio.shape[1]

    print(
        f"PyramidVQ vs scalar quantization, MDCT 20 ms frames ({mdct.n_bins_} bins), "
        f"bands of {BAND}; spoken digits at {digits.sample_rate} Hz, {n_train} train / "
        f"{n_test} test utterances; numpy {np.__version__}, {platform.machine()}"
    )
    print("rate: bits per audio sample on the test set; SNR on the waveform; time: median ms")
    header = (
        f"{'K':>3} {'log2V':>6} {'range':>5} | {'PVQ b/s':>8} {'PVQ SNR':>8} | {'SQ step':>8} "
        f"{'SQ b/s':>8} {'SQ SNR':>8} | {'dSNR':>6} | {'PVQ ms':>7} {'SQ ms':>7} {'ratio':>6}"
    )
    print(header)
    print("-" * len(header))
    for k, dynamic_range in itertools.product(pulses, ranges):
        pvq = PyramidVQ(
            vector_size=BAND, pulses=k, gain_step=GAIN_STEP, dynamic_range=dynamic_range
        ).fit(G_train)
        bits = pvq.bits_per_sample(G_test)
        snr_pvq = _snr(
            x_test, mdct.inverse_transform(pvq.inverse_transform(pvq.transform(G_test)))
        )
        step = _matching_step(G_train, G_test, bits)
        sq = PerceptualQuantizer(table=step).fit(G_train)
        bits_sq = sq.bits_per_sample(G_test)
        snr_sq = _snr(x_test, mdct.inverse_transform(sq.inverse_transform(sq.transform(G_test))))
        t_pvq, t_sq = _time_pair(pvq, sq, G_test, args.repeats)
        print(
            f"{k:>3} {pvq.bits_per_codeword_:>6.2f} {dynamic_range:>5.0f} | "
            f"{bits / samples:>8.3f} {snr_pvq:>8.2f} | "
            f"{step:>8.2e} {bits_sq / samples:>8.3f} {snr_sq:>8.2f} | {snr_pvq - snr_sq:>+6.2f} | "
            f"{t_pvq * 1e3:>7.1f} {t_sq * 1e3:>7.1f} {t_pvq / t_sq:>6.2f}"
        )


if __name__ == "__main__":
    main()
