"""MP3Codec and CELTCodec against LAME, libopus (CELT-only and default) and MDCT + scalar.

Signals, 1 s at 8 kHz, int16, one bitstream per clip:

``speech``
    The embedded spoken digits (``load_spoken_digits``), split by voice
    (``_common.voice_split``, seed 0): the fitted coders learn on training
    clips (``--train``, default 120; ``--quick``: 60) and every coder codes
    held-out clips (``--test``, default 40; ``--quick``: 10).
``back-to-back``
    The same voices' digits with their leading and trailing silence cut
    (:func:`back_to_back`), laid end to end and cut into 1 s clips: more
    than half of the 20 ms frames of a spoken digit are digital silence,
    which a coder that sets its rate per clip (``CELTCodec``, ``MP3Codec``,
    LAME's ABR) hands to the word while libopus and LAME spend bytes on
    every frame; here there is none.
``music``
    Clips that :func:`synthesized_music` makes from a seed (training clips
    from seed 1, test clips from seed 2, as many as for speech): chords
    (two to four harmonic tones with an attack and an exponential decay),
    percussion (kicks: sines swept from about 150 to 50 Hz with a fast
    decay; snares: a noise burst and a 190 Hz tone; hi-hats: differenced
    noise, 30 ms decay) on an eighth-note grid, or both.

Coders, each run up a ladder of its own settings until its measured rate
passes 24 kbit/s (the peers) or the highest rate a peer reached (ours):

``lame``
    LAME, MPEG-2.5 Layer III (the only layer III at 8 kHz), mono:
    ``lame -r -s 8 --bitwidth 16 --signed --little-endian -m m -t --cbr -b R``
    for R in 8, 16, 24, 32 (MPEG-2.5's rates) and ``--abr 12`` (mixing 8 and
    16 kbit/s frames) for 12; decoded by ``lame --decode``. ``-t``: no
    LAME/Xing tag frame, so the file is Layer III frames only, and the
    decoder's 576-sample delay stays (the alignment removes it).
``lame abr``
    The same with ``--abr R`` for R in 8, 12, 16, 24, 32: LAME's average
    bit rate, the peer of MP3Codec's default.
``MP3Codec``
    ``MP3Codec(bitrate=R, sample_rate=8000, frame_length=1152,
    full_scale=32768)``: its default average rate per clip (LAME's ABR).
``MP3Codec cbr``
    The same with ``rate_control="cbr"``: the standard's constant rate and
    bit reservoir, the peer of LAME's CBR (on the shorter, ``--quick``
    ladder of MP3Codec's settings).
``libopus CELT`` / ``libopus CELT, 8 kHz in``
    ``ffmpeg -c:a libopus -application lowdelay -b:a Rk`` (CELT only, 20 ms
    frames, VBR, R from 8 to 48): the clip resampled to 48 kHz
    (:func:`skcompress.io.resample`)
    and encoded with ``-ar 48000``, or fed at 8 kHz directly; both decoded
    by ffmpeg at 48 kHz and resampled to 8 kHz.
``opus default``
    The same as ``libopus CELT`` with ``-application audio`` (ffmpeg's
    default: SILK, hybrid or CELT as libopus chooses).
``CELTCodec``
    ``CELTCodec(bitrate=R, sample_rate=8000, frame_size=20, full_scale=32768)``.
``mdct+scalar``
    ``MDCT(frame_length=320)`` then ``PerceptualQuantizer(table=step)``, one
    uniform step for every bin, coded by :class:`~skcompress.codecs.Codec`
    (a categorical model per bin, range coded), steps a factor sqrt(2) apart.

Rates: mean bytes per 1 s clip x 8 / 1000. LAME: the .mp3 file (frames
only, including the frames of its encoder delay and padding); libopus: the
Opus packets read from the Ogg pages (the OpusHead and OpusTags packets and
the pages' headers left out); ours: the whole bitstream, header and
checksum included. Decoded clips are aligned with the original by the lag
(0 to 1200 samples) of largest cross-correlation and cut to its length, so
every metric compares signals of identical length.

Metrics, on the held-out clips: PESQ (ITU-T P.862 narrowband MOS-LQO,
``pesq``; mean over the clips where it finds an utterance); STOI
(``pystoi``, on the held-out clips concatenated: a 1 s digit has too few
voiced frames for STOI alone); SNR (dB, energy of all clips over energy of
all errors); LSD, the log-spectral distance (dB, root mean square of the
difference of 10 log10 power spectra, 256-point Hann frames hopping 128,
over the frames within 50 dB of the loudest); NMR, the noise-to-mask
ratio under :class:`~skcompress.PsychoacousticModel` (see :func:`nmr`).

Tables: (1) every coder at 8, 12, 16 and 24 kbit/s of measured rate, its
metrics interpolated linearly in measured rate between the two ladder
points that bracket it ("-" where its ladder does not reach it: LAME's
lowest rate, 8 kbit/s, costs more on 1 s clips); (2) the targets, at each
peer point's own measured rate: our codec interpolated there against the
peer's measured figures; (3) every measured point.

Usage::

    python benchmarks/bench_audio_codecs.py [--quick] [--json PATH] [--signals KIND ...]
        [--train N] [--test N]
"""

import subprocess
import warnings
import wave
from pathlib import Path

import _common
import numpy as np

from skcompress import MDCT, PerceptualQuantizer
from skcompress.codecs import Codec
from skcompress.codecs._celt_codec import CELTCodec
from skcompress.codecs._mp3_codec import MP3Codec
from skcompress.datasets import load_spoken_digits
from skcompress.io import resample
from skcompress.transforms._psychoacoustic import PsychoacousticModel

RATE = 8000
TARGETS = (8, 12, 16, 24)
MAX_LAG = 1200
LAME_CBR = (8, 16, 24, 32)  # MPEG-2.5 layer III rates at 8 kHz (up to 64)
LAME_LADDER = (8, 12, 16, 24, 32)  # 12: --abr
OPUS_LADDER = (8, 12, 16, 24, 32, 48)
# ours: (full, --quick); a ladder stops at the first point past the rates it must bracket
MP3_LADDER = ((4, 6, 8, 10, 12, 16, 20, 24, 32, 40, 48, 64), (4, 8, 12, 16, 24, 32, 48, 64))
CELT_LADDER = ((4, 6, 8, 10, 12, 16, 20, 24, 28, 32, 40), (4, 8, 12, 16, 24, 32, 40))
SCALAR_STEPS = (0.2 * 2.0 ** (-np.arange(26) / 2), 0.2 * 2.0 ** -np.arange(13))


# -- signals --------------------------------------------------------------------


def synthesized_music(n, seed, *, rate=RATE, seconds=1.0):
    """``n`` clips of chords, percussion or both, int16, deterministic from ``seed``.

    Returns
    -------
    X : ndarray of int16, shape (n, rate * seconds)
    """
    rng = np.random.default_rng(seed)
    length = int(rate * seconds)
    t = np.arange(length) / rate
    X = np.zeros((n, length))
    for i in range(n):
        kind = i % 3  # 0 chords, 1 percussion, 2 both
        clip = np.zeros(length)
        if kind in (0, 2):
            clip += _chords(rng, t, rate)
        if kind in (1, 2):
            clip += _percussion(rng, t, rate) * (0.7 if kind == 2 else 1.0)
        X[i] = clip / max(np.abs(clip).max(), 1e-9) * rng.uniform(0.25, 0.7)
    return np.round(X * 32767).astype(np.int16)


def _chords(rng, t, rate):
    out = np.zeros_like(t)
    onsets = np.sort(rng.uniform(0, 0.5, rng.integers(1, 3)))
    onsets[0] = rng.uniform(0, 0.1)
    for onset in onsets:
        root = rng.integers(43, 65)  # MIDI G2 .. F4
        shape = ((0, 4, 7), (0, 3, 7), (0, 4, 7, 10), (0, 3, 7, 10), (0, 7))[rng.integers(5)]
        attack, decay = rng.uniform(0.005, 0.05), rng.uniform(0.2, 1.0)
        tau = np.maximum(t - onset, 0)
        envelope = np.where(t < onset, 0, np.minimum(tau / attack, 1) * np.exp(-tau / decay))
        tilt = rng.uniform(0.8, 1.6)
        for interval in shape:
            f0 = 440 * 2 ** ((root + interval - 69) / 12) * (1 + rng.normal(0, 0.002))
            harmonics = np.arange(1, int((rate / 2 - 100) // f0) + 1)
            phases = rng.uniform(0, 2 * np.pi, len(harmonics))
            tone = (np.sin(2 * np.pi * f0 * harmonics[:, None] * t + phases[:, None])).T
            out += envelope * (tone @ harmonics ** (-tilt))
    return out


def _percussion(rng, t, rate):
    out = np.zeros_like(t)
    grid = np.arange(0, 1.0, rng.uniform(0.11, 0.16))  # eighth notes at 190 to 270 bpm
    for k, onset in enumerate(grid):
        tau = np.maximum(t - onset, 0)
        live = t >= onset
        hit = rng.random()
        if k % 4 == 0 or hit < 0.15:  # kick: a pitch-swept sine
            sweep = 50 + 100 * np.exp(-tau / 0.04)
            phase = 2 * np.pi * np.cumsum(sweep) / rate
            out += live * np.sin(phase - phase[np.argmax(live)]) * np.exp(-tau / 0.12)
        if k % 4 == 2 or 0.15 <= hit < 0.3:  # snare: noise burst and a tone
            noise = rng.standard_normal(len(t))
            body = np.sin(2 * np.pi * 190 * tau)
            out += live * (0.5 * noise * np.exp(-tau / 0.08) + 0.4 * body * np.exp(-tau / 0.05))
        if hit >= 0.3:  # hi-hat: differenced noise, short
            noise = np.diff(rng.standard_normal(len(t) + 1))
            out += live * 0.25 * noise * np.exp(-tau / 0.03)
    return out


def back_to_back(X, n, rate=RATE):
    """``n`` clips of ``X``'s length: its signals without leading and trailing zeros, end to end.

    Raises
    ------
    ValueError
        When ``X`` holds less than ``n`` clips' worth of sound.
    """
    pieces = []
    for x in X:
        nonzero = np.flatnonzero(x)
        if len(nonzero):
            pieces.append(x[nonzero[0] : nonzero[-1] + 1])
    stream = np.concatenate(pieces)
    length = X.shape[1]
    if len(stream) < n * length:
        raise ValueError(f"back_to_back: {len(stream)} samples of sound, {n} clips asked for")
    return stream[: n * length].reshape(n, length)


# -- peers ----------------------------------------------------------------------


def _lame(X, setting, directory):
    """LAME's decoded clips (aligned) and bits; ``setting``: CBR kbit/s or ``("abr", R)``."""
    decoded, bits, lags = np.zeros(X.shape), [], []
    if isinstance(setting, tuple):
        mode = ["--abr", str(setting[1])]
    else:
        mode = ["--cbr", "-b", str(setting)]
    for i, x in enumerate(X):
        raw, mp3, wav = (Path(directory) / f"{i}.{ext}" for ext in ("raw", "mp3", "wav"))
        raw.write_bytes(x.astype("<i2").tobytes())
        subprocess.run(
            ["lame", "--silent", "-r", "-s", "8", "--bitwidth", "16", "--signed"]
            + ["--little-endian", "-m", "m", "-t", *mode, str(raw), str(mp3)],
            check=True,
        )
        subprocess.run(["lame", "--silent", "--decode", str(mp3), str(wav)], check=True)
        with wave.open(str(wav)) as w:
            if w.getframerate() != RATE:
                raise RuntimeError(f"lame decoded at {w.getframerate()} Hz, not {RATE}")
            y = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64)
        decoded[i], lag = aligned(x.astype(np.float64), y)
        lags.append(lag)
        bits.append(8 * mp3.stat().st_size)
    return decoded, np.asarray(bits, dtype=np.float64), lags


def _ffmpeg(arguments):
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *arguments], check=True)


def _opus(X, kbps, directory, *, application="lowdelay", input_rate=48000, batch=32):
    """libopus through ffmpeg: decoded clips at 8 kHz (aligned), packet bits, lags."""
    decoded, bits, lags = np.zeros(X.shape), [], []
    folder = Path(directory)
    source = X.astype(np.float64)
    if input_rate != RATE:
        source = resample(source, RATE, input_rate)
    pcm = np.clip(np.round(source), -32768, 32767).astype("<i2")
    for start in range(0, len(X), batch):
        ids = range(start, min(start + batch, len(X)))
        inputs, outputs = [], []
        for j, i in enumerate(ids):
            (folder / f"{i}.raw").write_bytes(pcm[i].tobytes())
            inputs += ["-f", "s16le", "-ar", str(input_rate), "-ac", "1"]
            inputs += ["-i", str(folder / f"{i}.raw")]
            outputs += ["-map", f"{j}:a", "-c:a", "libopus", "-application", application]
            outputs += ["-b:a", f"{kbps}k", str(folder / f"{i}.opus")]
        _ffmpeg(["-nostdin", *inputs, *outputs])
        inputs, outputs = [], []
        for j, i in enumerate(ids):
            inputs += ["-i", str(folder / f"{i}.opus")]
            outputs += ["-map", f"{j}:a", "-f", "s16le", "-ar", "48000", "-ac", "1"]
            outputs += [str(folder / f"{i}.dec")]
        _ffmpeg(["-nostdin", *inputs, *outputs])
        for i in ids:
            y = np.frombuffer((folder / f"{i}.dec").read_bytes(), dtype="<i2")
            y = resample(y.astype(np.float64)[None], 48000, RATE)[0]
            decoded[i], lag = aligned(X[i].astype(np.float64), y)
            lags.append(lag)
            bits.append(8 * sum(ogg_packet_sizes((folder / f"{i}.opus").read_bytes())[2:]))
    return decoded, np.asarray(bits, dtype=np.float64), lags


def ogg_packet_sizes(data):
    """Bytes of every packet of a one-stream Ogg file, from the pages' lacing values.

    The first two packets of an Ogg Opus file are its OpusHead and OpusTags headers.
    """
    sizes, current, at = [], 0, 0
    while at < len(data):
        if data[at : at + 4] != b"OggS":
            raise ValueError(f"not an Ogg page at byte {at}")
        n_segments = data[at + 26]
        lacing = data[at + 27 : at + 27 + n_segments]
        for value in lacing:
            current += value
            if value < 255:
                sizes.append(current)
                current = 0
        at += 27 + n_segments + sum(lacing)
    return sizes


def aligned(x, y, max_lag=MAX_LAG):
    """``y`` shifted by the lag in [0, max_lag] that correlates best with ``x``, cut to ``len(x)``.

    Returns
    -------
    y_aligned : ndarray, the length of ``x``
    lag : int
    """
    n = len(x)
    padded = np.concatenate([y, np.zeros(n + max_lag)])
    size = 1 << int(np.ceil(np.log2(len(padded) + n)))
    corr = np.fft.irfft(np.fft.rfft(padded, size) * np.conj(np.fft.rfft(x, size)), size)
    lag = int(np.argmax(corr[: max_lag + 1])) if np.any(x) else 0
    return padded[lag : lag + n], lag


# -- ours -------------------------------------------------------------------------


def _bits(strings):
    return np.array([8 * len(s) for s in strings], dtype=np.float64)


def _whole(codec, X_train, X_test):
    codec.fit(X_train)
    strings = codec.compress(X_test)
    return np.asarray(codec.decompress(strings), dtype=np.float64), _bits(strings), [0]


def _mp3codec(X_train, X_test, kbps, **options):
    codec = MP3Codec(
        bitrate=kbps, sample_rate=RATE, frame_length=1152, full_scale=32768, **options
    )
    return _whole(codec, X_train, X_test)


def _celtcodec(X_train, X_test, kbps):
    codec = CELTCodec(bitrate=kbps, sample_rate=RATE, frame_size=20, full_scale=32768)
    return _whole(codec, X_train, X_test)


def _scalar(X_train, X_test, step):
    train, test = X_train / 32768, X_test / 32768
    mdct = MDCT(frame_length=320).fit(train)
    quantizer = PerceptualQuantizer(table=step).fit(mdct.transform(train))
    codec = Codec([mdct, quantizer]).fit(train)
    strings = codec.compress(test)
    return np.asarray(codec.decompress(strings), dtype=np.float64) * 32768, _bits(strings), [0]


# -- metrics ----------------------------------------------------------------------


def snr(X, Y):
    return float(10 * np.log10(np.sum(X**2) / max(np.sum((X - Y) ** 2), 1e-12)))


def lsd(X, Y, n=256, hop=128):
    w = np.hanning(n)

    def power(Z):
        frames = np.lib.stride_tricks.sliding_window_view(Z, n, axis=1)[:, ::hop]
        return np.abs(np.fft.rfft(frames * w, axis=-1)) ** 2 + 1e-3

    P, Q = power(X), power(Y)
    energy = P.sum(axis=-1)
    keep = energy > energy.max() * 1e-5
    d = 10 * np.log10(P[keep]) - 10 * np.log10(Q[keep])
    return float(np.mean(np.sqrt(np.mean(d**2, axis=-1))))


def pesq_nb(X, Y):
    """Mean narrowband PESQ over the clips where it finds an utterance (NaN if none or no pesq)."""
    try:
        from pesq import pesq
    except ImportError:
        return float("nan")

    scores = []
    for x, y in zip(X, Y, strict=True):
        try:
            scores.append(pesq(RATE, x / 32768, np.clip(y, -32768, 32767) / 32768, "nb"))
        except Exception:  # noqa: BLE001 (no utterance found: the clip is left out)
            continue
    return float(np.mean(scores)) if scores else float("nan")


def stoi_joined(X, Y):
    """STOI of the clips concatenated (NaN without pystoi)."""
    try:
        from pystoi import stoi
    except ImportError:
        return float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(stoi(X.reshape(-1) / 32768, Y.reshape(-1) / 32768, RATE))


class NMR:
    """Noise-to-mask ratio of decoded clips under ``PsychoacousticModel`` of the originals.

    Masking thresholds ``T[f, b]`` (allowed noise energy per MDCT coefficient
    of scale-factor band ``b`` in frame ``f``: ``PsychoacousticModel(8000,
    frame_length=256, bands="sfb", full_scale=32768)``, 32 ms frames) come
    from the original clip; the error ``e = y - x`` goes through the same
    MDCT (orthonormal, sine window), ``N[f, b]`` the mean of its squared
    coefficients over the band. Then ``NMR = mean over (f, b) of 10 log10(
    max(N, 1e-6 T) / T)`` in dB, over the frames of every clip whose
    energy is within 50 dB of the clip's loudest frame (the floor keeps an
    error-free band at -60 dB). Below 0 dB the noise is (on average) masked.
    """

    def __init__(self, X):
        X = np.asarray(X, dtype=np.float64)
        self.model = PsychoacousticModel(RATE, 256, bands="sfb", full_scale=32768).fit(X)
        F, B = self.model.n_frames_, self.model.n_bands_
        self.thresholds = np.asarray(self.model.transform(X)).reshape(len(X), F, B)
        self.mdct = MDCT(256, layout="blocks").fit(X)
        self.edges = self.model.band_edges_
        energy = np.sum(np.asarray(self.mdct.transform(X)) ** 2, axis=-1)
        loudest = energy.max(axis=1, keepdims=True)
        self.keep = energy > loudest * 1e-5
        self.X = X

    def __call__(self, Y):
        E = np.asarray(self.mdct.transform(Y - self.X)) ** 2
        noise = np.add.reduceat(E, self.edges[:-1], axis=-1) / np.diff(self.edges)
        T = self.thresholds
        ratio = 10 * np.log10(np.maximum(noise, 1e-6 * T) / T)
        return float(ratio[self.keep].mean())


METRICS = ("PESQ", "STOI", "SNR dB", "LSD dB", "NMR dB")


def measure(X, Y, nmr):
    return {
        "PESQ": pesq_nb(X, Y),
        "STOI": stoi_joined(X, Y),
        "SNR dB": snr(X, Y),
        "LSD dB": lsd(X, Y),
        "NMR dB": nmr(Y),
    }


# -- ladders and interpolation ------------------------------------------------------------


def at_rate(points, rate):
    """Metrics of a coder at ``rate`` kbit/s: linear in measured rate between the bracketing
    points of its ladder (None outside them)."""
    rates = np.array([p["kbps"] for p in points])
    order = np.argsort(rates)
    rates = rates[order]
    if not len(rates) or rate < rates[0] - 1e-9 or rate > rates[-1] + 1e-9:
        return None
    out = {}
    for key in METRICS:
        values = np.array([points[i][key] for i in order], dtype=np.float64)
        out[key] = float(np.interp(rate, rates, values))
    return out


def main(argv=None):
    parser = _common.parser(__doc__, threads=1)
    parser.add_argument(
        "--signals",
        nargs="+",
        choices=["speech", "back-to-back", "music"],
        default=["speech", "back-to-back", "music"],
    )
    parser.add_argument("--train", type=int, help="training clips (default 120; --quick: 60)")
    parser.add_argument("--test", type=int, help="test clips (default 40; --quick: 10)")
    args = parser.parse_args(argv)
    report = _common.Report(
        __file__, __doc__, args, argv, peers=["lame", "ffmpeg", "pesq", "pystoi"]
    )
    if not report.has("pesq"):
        report.note("PESQ columns are NaN without pesq (pip install pesq)")
    n_train = args.train or (60 if args.quick else 120)
    n_test = args.test or (10 if args.quick else 40)
    data = load_spoken_digits()
    train, test, held = _common.voice_split(data.settings, seed=0)
    signals = {
        "speech": (
            data.data[train][:n_train].astype(np.float64),
            data.data[test][:n_test].astype(np.float64),
            f"{n_test} held-out spoken digits (voices {', '.join(held)})",
        ),
        "back-to-back": (
            back_to_back(data.data[train][: 4 * n_train], n_train).astype(np.float64),
            back_to_back(data.data[test][: 4 * n_test], n_test).astype(np.float64),
            f"{n_test} s of the held-out voices' digits back to back, silence cut",
        ),
        "music": (
            synthesized_music(n_train, 1).astype(np.float64),
            synthesized_music(n_test, 2).astype(np.float64),
            f"{n_test} synthesized music clips (chords, percussion, both; seed 2)",
        ),
    }
    with _common.limit_threads(args.threads), _common.scratch_directory() as directory:
        for kind in args.signals:
            X_train, X_test, what = signals[kind]
            _run_signal(report, args, kind, what, X_train, X_test, directory)
    return report.finish()


def _run_signal(report, args, kind, what, X_train, X_test, directory):
    nmr = NMR(X_test)
    points = {}  # coder -> list of measured points

    def add(coder, setting, result):
        Y, bits, lags = result
        point = {"setting": setting, "kbps": bits.mean() / 1000, "lag": float(np.median(lags))}
        point.update(measure(X_test, Y, nmr))
        points.setdefault(coder, []).append(point)
        return point

    def ladder(coder, settings, run, label, high):
        for setting in settings:
            point = add(coder, label(setting), run(setting))
            if point["kbps"] >= high:
                return

    X16 = X_test.astype(np.int16)
    if report.has("lame"):
        ladder(
            "lame",
            LAME_LADDER,
            lambda r: _lame(X16, r if r in LAME_CBR else ("abr", r), directory),
            lambda r: f"cbr {r}" if r in LAME_CBR else f"abr {r}",
            max(TARGETS),
        )
        ladder(
            "lame abr",
            LAME_LADDER,
            lambda r: _lame(X16, ("abr", r), directory),
            str,
            max(TARGETS),
        )
    if report.has("ffmpeg"):
        for coder, options in (
            ("libopus CELT", {}),
            ("libopus CELT, 8 kHz in", {"input_rate": RATE}),
            ("opus default", {"application": "audio"}),
        ):
            ladder(
                coder,
                OPUS_LADDER,
                lambda r, o=options: _opus(X16, r, directory, **o),
                lambda r: f"{r}k",
                max(TARGETS),
            )
    peer_rates = [p["kbps"] for coder in points for p in points[coder]]
    low, high = min([*TARGETS, *peer_rates]), max([*TARGETS, *peer_rates])
    quick = int(bool(args.quick))
    for coder, settings, run, label in (
        ("MP3Codec", MP3_LADDER[quick], lambda r: _mp3codec(X_train, X_test, r), str),
        (
            "MP3Codec cbr",
            MP3_LADDER[1],
            lambda r: _mp3codec(X_train, X_test, r, rate_control="cbr"),
            str,
        ),
        ("CELTCodec", CELT_LADDER[quick], lambda r: _celtcodec(X_train, X_test, r), str),
        (
            "mdct+scalar",
            SCALAR_STEPS[quick],
            lambda s: _scalar(X_train, X_test, float(s)),
            lambda s: f"step {s:.4g}",
        ),
    ):
        ladder(coder, settings, run, label, high)
        if min(p["kbps"] for p in points[coder]) > low:
            report.note(f"{kind}: {coder}'s lowest setting costs more than {low:.1f} kbit/s")
    _tables(report, kind, what, len(X_train), points)


def _tables(report, kind, what, n_train, points):
    peer_note = (
        "libopus CELT: -application lowdelay, clip resampled to 48 kHz; 8 kHz in: fed at 8 kHz; "
        "opus default: -application audio, 48 kHz in; all decoded at 48 kHz and resampled"
    )
    equal = report.table(
        f"{kind}: {what}, 1 s at 8 kHz; fitted coders learn on {n_train} others; "
        "figures at equal measured rate",
        [("kbit/s", "d"), ("coder", "s"), *[(m, ".2f") for m in METRICS]],
        notes=[
            "each coder's metrics interpolated linearly in measured rate between the two points "
            "of its ladder that bracket the rate; '-': its ladder does not reach it",
            peer_note,
            "NMR: noise-to-mask ratio under PsychoacousticModel of the originals (mean dB over "
            "frames and scale-factor bands; < 0: masked on average)",
        ],
    )
    for rate in TARGETS:
        for coder, coder_points in points.items():
            figures = at_rate(coder_points, rate)
            equal.add(rate, coder, *[None if figures is None else figures[m] for m in METRICS])
    report.show(equal)

    targets = report.table(
        f"{kind}: targets at each peer point's measured rate (PESQ)",
        [
            ("peer point", "s"),
            ("kbit/s", ".2f"),
            ("peer", ".2f"),
            ("ours", ".2f"),
            ("ours - peer", "+.2f"),
            ("mdct+scalar", ".2f"),
            ("vs peer", "s"),
            ("vs mdct+scalar", "s"),
        ],
        notes=[
            "ours: MP3Codec against lame and lame abr, MP3Codec cbr against lame (target: at "
            "or above), CELTCodec against libopus "
            "CELT (target: within 0.3; both input paths); both should be ahead of mdct+scalar; "
            "ours and mdct+scalar interpolated at the peer's measured rate"
        ],
    )
    for peer, ours, margin in (
        ("lame", "MP3Codec", 0.0),
        ("lame abr", "MP3Codec", 0.0),
        ("lame", "MP3Codec cbr", 0.0),
        ("libopus CELT", "CELTCodec", -0.3),
        ("libopus CELT, 8 kHz in", "CELTCodec", -0.3),
    ):
        for point in points.get(peer, []):
            mine = at_rate(points[ours], point["kbps"])
            scalar = at_rate(points["mdct+scalar"], point["kbps"])
            mine = None if mine is None else mine["PESQ"]
            scalar = None if scalar is None else scalar["PESQ"]
            diff = None if mine is None else mine - point["PESQ"]
            targets.add(
                f"{peer} {point['setting']}",
                point["kbps"],
                point["PESQ"],
                mine,
                diff,
                scalar,
                "-" if diff is None else f"{ours} {'met' if diff >= margin else 'missed'}",
                "-" if None in (mine, scalar) else ("ahead" if mine > scalar else "behind"),
            )
    report.show(targets)

    measured = report.table(
        f"{kind}: every measured point",
        [
            ("coder", "s"),
            ("setting", "s"),
            ("kbit/s", ".2f"),
            ("lag", ".0f"),
            *[(m, ".2f") for m in METRICS],
        ],
        notes=["lag: median samples of delay removed by cross-correlation (ours: none needed)"],
    )
    for coder, coder_points in points.items():
        for p in sorted(coder_points, key=lambda p: p["kbps"]):
            measured.add(coder, p["setting"], p["kbps"], p["lag"], *[p[m] for m in METRICS])
    report.show(measured)


if __name__ == "__main__":
    main()
