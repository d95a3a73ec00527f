"""CELTCodec against libopus (CELT-only) and the MDCT + scalar and one-K PVQ paths.

Input: the embedded spoken digits (``load_spoken_digits``, int16, 1 s at
8 kHz), split by voice (``_common.voice_split``, seed 0): every fitted coder
learns on training clips (``--quick``: 120; else 200) and codes held-out
clips (``--quick``: 24; else 80), one bitstream per clip.

Coders, for each nominal bit rate ``R``:

``celt``
    ``CELTCodec(bitrate=R, sample_rate=8000, frame_size=20,
    full_scale=32768)``: CELT's 13 narrowband bands on a 20 ms MDCT, coarse
    energies with CELT's prediction and a Laplace model, CELT's allocation
    table, fine energies, PVQ shapes with spreading, range coded. Average
    bit rate per clip: digital silence costs a flag per frame and the other
    frames share the clip's budget.
``celt@opus``
    The same with ``R`` scaled once so that its mean rate meets libopus's.
``libopus``
    ``ffmpeg -f s16le -ar 8000 -ac 1 -i clip.raw -c:a libopus -application
    lowdelay -b:a Rk clip.opus`` (CELT-only mode, 20 ms frames, VBR, its
    default), decoded by ffmpeg at 8 kHz and aligned with the clip by the lag
    of largest cross-correlation. kbit/s: the Opus packets' bytes (``ffprobe
    -show_packets``), without the Ogg pages' headers. Skipped when ffmpeg is
    absent.
``mdct+scalar``
    ``MDCT(frame_length=320)`` then ``PerceptualQuantizer(table=step)`` (one
    uniform step for every bin) coded by ``Codec`` (a categorical model per
    bin, range coded), the step bisected until its bytes meet ``celt``'s
    mean rate within 2%.
``pvq one K``
    ``MDCT(frame_length=320)`` then ``PyramidVQ(vector_size=8, pulses=K,
    gain_step=1.5)`` coded by ``Codec`` (gains categorical, codewords
    uniform): the row before CELTCodec, one ``K`` for every band of 8 bins,
    ``K`` the largest whose rate stays under ``celt``'s.

Quality, on the held-out clips: SNR (dB, energy of all clips over energy
of all errors); LSD, the log-spectral distance (dB, root mean square of the
difference of 10 log10 power spectra, 256-point Hann frames hopping 128,
over the frames within 50 dB of the loudest); PESQ (ITU-T P.862 narrowband
MOS-LQO, ``pesq`` on PyPI, mean over clips) where installed. kbit/s: mean
bytes per 1 s clip x 8 / 1000 (ours: the whole bitstream, header and
checksum included).

Usage::

    python benchmarks/bench_celt.py [--quick] [--json PATH] [--rates 8 12 16 24]
"""

import subprocess
from pathlib import Path

import _common
import numpy as np

from skcompress import MDCT, PerceptualQuantizer
from skcompress.codecs import Codec
from skcompress.codecs._celt_codec import CELTCodec
from skcompress.datasets import load_spoken_digits
from skcompress.quantization import PyramidVQ

RATE = 8000


def _celt(X_train, X_test, bitrate):
    codec = CELTCodec(bitrate=bitrate, sample_rate=RATE, full_scale=32768).fit(X_train)
    strings = codec.compress(X_test)
    return codec.decompress(strings), _bits(strings)


def _bits(strings):
    return np.array([8 * len(s) for s in strings], dtype=np.float64)


def _chain(quantizer, X_train, X_test):
    """MDCT of 20 ms frames, ``quantizer``, coded by Codec: decoded clips and bits."""
    train, test = X_train / 32768, X_test / 32768
    mdct = MDCT(frame_length=320).fit(train)
    G = mdct.transform(train)
    quantizer.fit(G)
    codec = Codec([mdct, quantizer]).fit(train)
    strings = codec.compress(test)
    return np.asarray(codec.decompress(strings), dtype=np.float64) * 32768, _bits(strings)


def _scalar(X_train, X_test, target_bits):
    lo, hi = 1e-5, 1.0  # log-domain bisection on the step; bits fall as it grows
    best = None
    for _ in range(14):
        step = float(np.sqrt(lo * hi))
        Y, bits = _chain(PerceptualQuantizer(table=step), X_train, X_test)
        if best is None or abs(bits.mean() - target_bits) < abs(best[1].mean() - target_bits):
            best = (Y, bits)
        if abs(bits.mean() - target_bits) <= 0.02 * target_bits:
            break
        lo, hi = (step, hi) if bits.mean() > target_bits else (lo, step)
    return best


def _pvq_one_k(X_train, X_test, target_bits):
    lo, hi, best = 1, 128, None  # the largest K whose rate is at most the target
    while lo <= hi:
        k = (lo + hi) // 2
        Y, bits = _chain(PyramidVQ(vector_size=8, pulses=k, gain_step=1.5), X_train, X_test)
        if bits.mean() <= target_bits:
            best, lo = (Y, bits, k), k + 1
        else:
            hi = k - 1
    if best is None:
        Y, bits = _chain(PyramidVQ(vector_size=8, pulses=1, gain_step=1.5), X_train, X_test)
        best = (Y, bits, 1)
    return best


def _libopus(X, bitrate, directory):
    decoded, bits = np.zeros_like(X, dtype=np.float64), []
    quiet = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y"]
    pcm = ["-f", "s16le", "-ar", str(RATE), "-ac", "1"]
    for i, x in enumerate(X):
        raw, opus, out = (Path(directory) / f"{i}.{ext}" for ext in ("raw", "opus", "dec"))
        raw.write_bytes(x.astype("<i2").tobytes())
        subprocess.run(
            [*quiet, *pcm, "-i", str(raw), "-c:a", "libopus", "-application", "lowdelay"]
            + ["-b:a", f"{bitrate}k", str(opus)],
            check=True,
        )
        subprocess.run([*quiet, "-i", str(opus), *pcm, str(out)], check=True)
        y = np.frombuffer(out.read_bytes(), dtype="<i2").astype(np.float64)
        decoded[i] = _aligned(x.astype(np.float64), y)
        sizes = subprocess.run(
            ["ffprobe", "-v", "error", "-select_streams", "a", "-show_entries", "packet=size"]
            + ["-of", "csv=p=0", str(opus)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        bits.append(8 * sum(int(s.strip(",")) for s in sizes if s.strip(",")))
    return decoded, np.asarray(bits, dtype=np.float64)


def _aligned(x, y, max_lag=800):
    """``y`` shifted by the lag in [0, max_lag] that correlates best with ``x``, cut to it."""
    n = len(x)
    padded = np.concatenate([y, np.zeros(n + max_lag)])
    size = 1 << int(np.ceil(np.log2(len(padded) + n)))
    corr = np.fft.irfft(np.fft.rfft(padded, size) * np.conj(np.fft.rfft(x, size)), size)
    lag = int(np.argmax(corr[: max_lag + 1])) if np.any(x) else 0
    return padded[lag : lag + n]


def _snr(X, Y):
    return 10 * np.log10(np.sum(X**2) / np.sum((X - Y) ** 2))


def _lsd(X, Y, n=256, hop=128):
    w = np.hanning(n)

    def power(Z):
        frames = np.lib.stride_tricks.sliding_window_view(Z, n, axis=1)[:, ::hop]
        return np.abs(np.fft.rfft(frames * w, axis=-1)) ** 2 + 1e-3

    P, Q = power(X), power(Y)
    energy = P.sum(axis=-1)
    keep = energy > energy.max() * 1e-5
    d = 10 * np.log10(P[keep]) - 10 * np.log10(Q[keep])
    return float(np.mean(np.sqrt(np.mean(d**2, axis=-1))))


def _pesq(X, Y):
    try:
        from pesq import pesq
    except ImportError:
        return float("nan")
    scores = []
    for x, y in zip(X, Y, strict=True):
        try:
            scores.append(pesq(RATE, x / 32768, np.clip(y, -32768, 32767) / 32768, "nb"))
        except Exception:  # noqa: BLE001 (a clip PESQ finds no speech in is left out)
            continue
    return float(np.mean(scores)) if scores else float("nan")


def main(argv=None):
    parser = _common.parser(__doc__, threads=1)
    parser.add_argument("--rates", type=int, nargs="+", default=[8, 12, 16, 24])
    args = parser.parse_args(argv)
    report = _common.Report(__file__, __doc__, args, argv, peers=["ffmpeg", "pesq"])
    data = load_spoken_digits()
    train, test, held = _common.voice_split(data.settings, seed=0)
    X_train = data.data[train][: 120 if args.quick else 200].astype(np.float64)
    X_test = data.data[test][: 24 if args.quick else 80].astype(np.float64)
    seconds = X_test.shape[1] / RATE
    table = report.table(
        f"{len(X_test)} held-out spoken digits (voices {', '.join(held)}), 1 s at 8 kHz; "
        f"fitted coders learn on {len(X_train)} others",
        [
            ("nominal kbit/s", "d"),
            ("coder", "s"),
            ("kbit/s", ".2f"),
            ("SNR dB", ".2f"),
            ("LSD dB", ".2f"),
            ("PESQ", ".2f"),
        ],
        notes=[
            "kbit/s: mean bytes per 1 s clip x 8 / 1000 (libopus: Opus packets; ours: the "
            "bitstream with its header and checksum)",
            "celt@opus: CELTCodec with the nominal rate scaled once to meet libopus's mean rate",
            "mdct+scalar: step bisected to celt's rate; pvq one K: the largest K under it",
        ],
    )
    with _common.limit_threads(args.threads), _common.scratch_directory() as directory:
        for rate in args.rates:
            rows = {"celt": _celt(X_train, X_test, rate)}
            target = rows["celt"][1].mean()
            if report.has("ffmpeg"):
                rows["libopus"] = _libopus(X_test.astype(np.int16), rate, directory)
                ratio = rows["libopus"][1].mean() / target
                rows["celt@opus"] = _celt(X_train, X_test, rate * ratio)
            rows["mdct+scalar"] = _scalar(X_train, X_test, target)
            Y, bits, k = _pvq_one_k(X_train, X_test, target)
            rows[f"pvq one K (K={k})"] = (Y, bits)
            for name, (Y, bits) in rows.items():
                table.add(
                    rate,
                    name,
                    bits.mean() / seconds / 1000,
                    _snr(X_test, Y),
                    _lsd(X_test, Y),
                    _pesq(X_test, Y),
                )
    report.show(table)
    return report.finish()


if __name__ == "__main__":
    main()
