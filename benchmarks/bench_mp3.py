"""MP3Codec against LAME on the spoken digits at 8, 12, 16 and 24 kbit/s.

Input: the embedded spoken digits (``load_spoken_digits``, int16, 1 s at
8 kHz), split by voice (``_common.voice_split``, seed 0): ``MP3Codec`` fits on
training clips (``--quick``: 120; else 200) and both codecs code held-out clips
(``--quick``: 24; else 80) one bitstream per clip.

Codecs, for each nominal bit rate:

``lame``
    LAME (MPEG-2.5 Layer III at 8 kHz, mono, CBR):
    ``lame -r -s 8 --bitwidth 16 --signed --little-endian -m m --cbr -b R``,
    decoded with ``lame --decode`` and aligned with the clip by the lag (0
    to 1200 samples) of largest cross-correlation: at 8 and 16 kbit/s the
    decoder leaves one 576-sample granule of delay that the LAME tag does
    not remove. kbit/s: the .mp3 file's bytes (frames, tag frame included).
    MPEG-2.5 has no 12 kbit/s at 8 kHz (8, 16, 24, ...): asked for 12,
    LAME codes at 8.
``ours``
    ``MP3Codec(bitrate=R, frame_length=1152, full_scale=32768)``: block
    switching on transients, the power-law quantizer, the rate and
    distortion loops with the bit reservoir, a categorical entropy model
    range-coded. kbit/s: the bitstream's bytes, header
    included. Its loops aim every frame under ``R`` but never pad, so silent
    frames cost little and the mean rate falls below ``R``; ``ours@lame``
    reruns it with the nominal rate scaled once so that its mean rate meets
    LAME's, the fair point of comparison; ``ours@lame, no reservoir`` the
    same with ``reservoir=False`` (every frame aims under the nominal rate,
    scaled twice).

Quality, on the held-out clips: SNR (dB, energy of all clips over energy of
all errors); LSD, the log-spectral distance (dB, root mean square of the
difference of 10 log10 power spectra, 256-point Hann frames hopping 128,
over the frames within 50 dB of the loudest); PESQ (ITU-T P.862
narrowband MOS-LQO, ``pesq`` on PyPI; mean over clips) where installed.
Neither codec is given the other's settings; LAME low-passes at low rates,
which costs it SNR but little PESQ.

Usage::

    python benchmarks/bench_mp3.py [--quick] [--json PATH] [--rates 8 12 16 24]
"""

import subprocess
import wave
from pathlib import Path

import _common
import numpy as np

from skcompress.codecs._mp3_codec import MP3Codec
from skcompress.datasets import load_spoken_digits

RATE = 8000


def _lame(X, bitrate, directory):
    """LAME's decoded clips and bits of each .mp3 file."""
    decoded, bits = np.zeros_like(X, dtype=np.float64), []
    for i, x in enumerate(X):
        raw, mp3, wav = (Path(directory) / f"{i}.{ext}" for ext in ("raw", "mp3", "wav"))
        raw.write_bytes(x.astype("<i2").tobytes())
        common = ["lame", "--silent"]
        subprocess.run(
            [*common, "-r", "-s", "8", "--bitwidth", "16", "--signed", "--little-endian"]
            + ["-m", "m", "--cbr", "-b", str(bitrate), str(raw), str(mp3)],
            check=True,
        )
        subprocess.run([*common, "--decode", str(mp3), str(wav)], check=True)
        with wave.open(str(wav)) as w:
            y = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64)
        decoded[i] = _aligned(x.astype(np.float64), y)
        bits.append(mp3.stat().st_size * 8)
    return decoded, np.asarray(bits, dtype=np.float64)


def _aligned(x, y, max_lag=1200):
    """``y`` shifted by the lag in [0, max_lag] that correlates best with ``x``, cut to it."""
    n = len(x)
    padded = np.concatenate([y, np.zeros(n + max_lag)])
    size = 1 << int(np.ceil(np.log2(len(padded) + n)))
    corr = np.fft.irfft(np.fft.rfft(padded, size) * np.conj(np.fft.rfft(x, size)), size)
    lag = int(np.argmax(corr[: max_lag + 1])) if np.any(x) else 0
    return padded[lag : lag + n]


def _ours(X_train, X_test, bitrate, reservoir=True):
    codec = MP3Codec(
        bitrate=bitrate, sample_rate=RATE, frame_length=1152, full_scale=32768, reservoir=reservoir
    )
    codec.fit(X_train)
    strings = codec.compress(X_test)
    bits = np.array([len(s) * 8 for s in strings], dtype=np.float64)
    return codec.decompress(strings), bits


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
    report = _common.Report(__file__, __doc__, args, argv, peers=["lame", "pesq"])
    data = load_spoken_digits()
    train, test, held = _common.voice_split(data.settings, seed=0)
    X_train = data.data[train][: 120 if args.quick else 200].astype(np.float64)
    X_test = data.data[test][: 24 if args.quick else 80].astype(np.float64)
    seconds = X_test.shape[1] / RATE
    table = report.table(
        f"{len(X_test)} held-out spoken digits (voices {', '.join(held)}), 1 s at 8 kHz; "
        f"MP3Codec fitted on {len(X_train)} others",
        [
            ("nominal kbit/s", "d"),
            ("codec", "s"),
            ("kbit/s", ".2f"),
            ("SNR dB", ".2f"),
            ("LSD dB", ".2f"),
            ("PESQ", ".2f"),
        ],
        notes=[
            "kbit/s: mean bytes per 1 s clip x 8 / 1000 (LAME: .mp3 file; ours: bitstream)",
            "ours@lame: MP3Codec with the nominal rate scaled once to meet LAME's mean rate",
            "no reservoir: every frame aims under the (scaled) nominal rate; silent frames "
            "spend little, so speech frames get more than with the capped reservoir",
        ],
    )
    with _common.limit_threads(args.threads), _common.scratch_directory() as directory:
        for rate in args.rates:
            rows = {}
            if report.has("lame"):
                rows["lame"] = _lame(X_test.astype(np.int16), rate, directory)
            rows["ours"] = _ours(X_train, X_test, rate)
            if "lame" in rows:
                target = rows["lame"][1].mean()
                ratio = target / rows["ours"][1].mean()
                rows["ours@lame"] = _ours(X_train, X_test, rate * ratio)
                # without the reservoir every frame has the nominal rate: scale it to match
                once = _ours(X_train, X_test, rate * ratio, reservoir=False)
                scaled = rate * ratio * target / once[1].mean()
                rows["ours@lame, no reservoir"] = _ours(X_train, X_test, scaled, reservoir=False)
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
