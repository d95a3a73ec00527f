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

``--quick``: 40 + 40 utterances, ``K`` of 1, 4 and 16, 3 repeats.

Usage::

    python benchmarks/bench_pvq.py [--quick] [--json PATH] [--repeats 7]
"""

import itertools
import math

import _common
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


def main(argv=None):
    parser = _common.parser(__doc__)
    parser.add_argument("--train", type=int, default=200)
    parser.add_argument("--test", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=None, help="timed calls (default 7)")
    args = parser.parse_args(argv)
    report = _common.Report(__file__, __doc__, args, argv)
    n_train, n_test = (40, 40) if args.quick else (args.train, args.test)
    pulses = (1, 4, 16) if args.quick else (1, 2, 4, 8, 16, 32)
    repeats = args.repeats or (3 if args.quick else 7)
    ranges = (120.0, 40.0)

    digits = load_spoken_digits()
    audio = digits.data[: n_train + n_test].astype(np.float64) / 32768
    mdct = MDCT(frame_length=320).fit(audio)
    G = mdct.transform(audio)
    G_train, G_test = G[:n_train], G[n_train:]
    x_test = audio[n_train:]
    samples = audio.shape[1]

    table = report.table(
        f"PyramidVQ against scalar quantization: MDCT 20 ms frames ({mdct.n_bins_} bins), "
        f"bands of {BAND}; spoken digits at {digits.sample_rate} Hz, {n_train} train / "
        f"{n_test} test utterances",
        [
            ("K", "d"),
            ("log2 V", ".2f"),
            ("range dB", ".0f"),
            ("PVQ bits/sample", ".3f"),
            ("PVQ SNR", ".2f"),
            ("SQ step", ".2e"),
            ("SQ bits/sample", ".3f"),
            ("SQ SNR", ".2f"),
            ("SNR PVQ - SQ", "+.2f"),
            ("PVQ ms", ".1f"),
            ("SQ ms", ".1f"),
            ("PVQ / SQ time", ".2f"),
        ],
        notes=[
            "bits per audio sample on the test set; SNR (dB) on the waveform; time: median ms "
            f"of {repeats} transform + inverse_transform calls"
        ],
    )
    with _common.limit_threads(args.threads):
        for k, dynamic_range in itertools.product(pulses, ranges):
            pvq = PyramidVQ(
                vector_size=BAND, pulses=k, gain_step=GAIN_STEP, dynamic_range=dynamic_range
            ).fit(G_train)
            bits = pvq.bits_per_sample(G_test)
            decoded = mdct.inverse_transform(pvq.inverse_transform(pvq.transform(G_test)))
            step = _matching_step(G_train, G_test, bits)
            sq = PerceptualQuantizer(table=step).fit(G_train)
            bits_sq = sq.bits_per_sample(G_test)
            decoded_sq = mdct.inverse_transform(sq.inverse_transform(sq.transform(G_test)))
            snr, snr_sq = _snr(x_test, decoded), _snr(x_test, decoded_sq)
            t = _common.median_times(
                {
                    "pvq": lambda q=pvq: q.inverse_transform(q.transform(G_test)),
                    "sq": lambda q=sq: q.inverse_transform(q.transform(G_test)),
                },
                repeats,
                warmup=0,
            )
            table.add(
                k,
                pvq.bits_per_codeword_,
                dynamic_range,
                bits / samples,
                snr,
                step,
                bits_sq / samples,
                snr_sq,
                snr - snr_sq,
                1e3 * t["pvq"],
                1e3 * t["sq"],
                t["pvq"] / t["sq"],
            )
    report.show(table)
    return report.finish()


if __name__ == "__main__":
    main()
