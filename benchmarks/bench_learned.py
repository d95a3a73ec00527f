"""Learned codecs against the classical ones: images, MNIST from latents, speech.

Three parts, every peer measured in the same run (CPU-sized by default;
``--size large`` trains bigger models longer, for a GPU):

(a) **Images** (``--images``): :class:`~skcompress.learned.BalleCodec` and
    :class:`~skcompress.learned.LearnedWaveletCodec` trained on random patches
    of four photographs (``skimage.data`` coffee and rocket, scikit-learn's
    china and flower) at several ``lmbda`` (BalleCodec: the first trained
    from scratch, the others fine-tuned from it with ``warm_start``;
    LearnedWaveletCodec: each from its own start, its latents coded by
    its context model, and as a second row by its factorized learned
    densities), tested on two others
    (``skimage.data`` astronaut and chelsea; ``--swap`` exchanges them with
    coffee and rocket), RGB. Peers: our colour JPEG
    path (:func:`skcompress.codecs.jpeg_color_planes`: ``ColorTransform ->
    ChromaSubsampler("4:2:0") -> BlockDCT -> PerceptualQuantizer`` per
    plane, then real bitstreams of
    :class:`~skcompress.codecs.Codec` with a
    :class:`~skcompress.entropy.BlockContextModel` per plane kind fitted on
    the training photographs) at qualities 5..95; Pillow's JPEG
    (``optimize=True``, 4:2:0, whole files) and JPEG 2000 (OpenJPEG,
    ``quality_mode="rates"``, whole files). Bits per pixel are those of the
    real bitstreams (headers included); PSNR is on the 8-bit RGB decode. The
    table gives every operating point and each method's PSNR interpolated
    (in log rate, inside its own sweep) at 0.25, 0.5 and 1 bpp; then encode
    speed in megapixels per second (transform to symbols, and to bytes).
(b) **MNIST from learned latents** (``--mnist``): ``BalleCodec`` on 28x28
    digits (two stride-2 layers: 7x7 latents) at several ``lmbda``;
    LogisticRegression on the integer latents, 4,000 / 1,000 split; coded
    bits per digit (real bitstreams) beside the learned model's estimate.
(c) **Speech** (``--audio``): :class:`~skcompress.learned.SoundStreamCodec`
    on the spoken digits, split by voice (``settings`` without its speed and
    pitch: accent and voice variant; a fifth of the voices held out). SNR
    and log-spectral distance on the held-out voices at every number of
    stages (fixed-length and coded kbps), beside Opus (``opusenc --bitrate
    --hard-cbr`` / ``opusdec``, Debian's opus-tools, else ffmpeg's libopus
    with ``-vbr off``; the held-out clips concatenated into
    one stream per bitrate so the Ogg overhead is amortized), then the
    spoken-digit accuracy of a LogisticRegression on bag-of-codes histograms.
    Training uses SoundStream's multi-resolution STFT and EnCodec's
    multi-scale mel losses, the waveform MSE weighted 0.1, and by default
    Vocos's inverse-STFT decoder (``--decoder istft``, learning rate 1e-3;
    ``--decoder convolutional``: SoundStream's, 5e-3): 16 channels, 10
    epochs without the quantizer and 30 through it (``--size large``: 32
    channels, 20 + 30 epochs on 2,000-sample patches, a GPU run).

Default sizes are set to finish in about 15 minutes on two shared CPU cores
(images about half of it); ``--quick`` (``--size quick``) trains tiny models
for a step or two, a smoke test of every code path whose figures mean little.
LearnedWaveletCodec's defaults (dyadic decomposition, colour start, 96
latents at this size) were chosen comparing variants on astronaut and
chelsea; ``--swap`` tests them on two photographs that played no part in the
choice. Without opus-tools or ffmpeg on the PATH the Opus rows are
skipped, and the run says so.

Usage::

    python benchmarks/bench_learned.py [--quick] [--json PATH] [--images] [--mnist] [--audio]
        [--size {quick,default,large}] [--decoder {convolutional,istft}] [--threads 1]
        [--seed 0] [--swap]

(no part named: all three).
"""

import io
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path

import _common
import numpy as np
from PIL import Image
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skcompress.codecs import Codec, jpeg_color_planes
from skcompress.datasets import load_mnist, load_spoken_digits
from skcompress.entropy import BlockContextModel
from skcompress.metrics import psnr

JPEG_QUALITIES = (5, 10, 20, 30, 40, 50, 60, 75, 90, 95)
J2K_RATES = (0.15, 0.25, 0.35, 0.5, 0.75, 1.0, 1.5, 2.0)  # bpp targets
AT_BPP = (0.25, 0.5, 1.0)


# -- data -----------------------------------------------------------------


def photographs(swap=False):
    """(training, test) photographs: name -> uint8 RGB.

    ``swap``: astronaut and chelsea train, coffee and rocket are tested, a
    second split for checking choices made while looking at the first.
    """
    photos = _common.photographs()
    first, second = ("coffee", "rocket"), ("astronaut", "chelsea")
    if swap:
        first, second = second, first
    train = {name: photos[name] for name in (*first, "china", "flower")}
    return train, {name: photos[name] for name in second}


def patches(images, size, count, rng):
    """``count`` random ``size x size`` crops of the images (and their mirror images)."""
    out = []
    names = list(images)
    for i in range(count):
        image = images[names[i % len(names)]]
        r = rng.integers(0, image.shape[0] - size + 1)
        c = rng.integers(0, image.shape[1] - size + 1)
        crop = image[r : r + size, c : c + size]
        out.append(crop[:, ::-1] if rng.random() < 0.5 else crop)
    return np.stack(out).astype(np.float32)


# -- our JPEG path with real bitstreams ---------------------------------------


def jpeg_planes(rgb, quality):
    """Our colour JPEG path fitted on one image (float32 planes)."""
    return jpeg_color_planes(rgb[np.newaxis].astype(np.float32), quality)


class JPEGPath:
    """Our JPEG path at one quality; entropy models fitted on the training photographs."""

    def __init__(self, quality, train):
        self.quality = quality
        luma, chroma = [], []
        for rgb in train.values():
            Y, Cb, Cr = jpeg_planes(rgb, quality).symbols
            luma.append(Y)
            chroma += [Cb, Cr]
        self.models = (BlockContextModel().fit(luma), BlockContextModel().fit(chroma))

    def prepare(self, rgb):
        """The fitted steps for one image, and a Codec per plane."""
        planes = jpeg_planes(rgb, self.quality)
        steps = planes.steps
        codecs = [
            Codec([dct, q], model=self.models[min(i, 1)]).fit(samples)
            for i, (dct, q, samples) in enumerate(
                zip(steps.transforms, steps.quantizers, planes.samples, strict=True)
            )
        ]
        return steps, codecs

    def code(self, rgb):
        """(bits, decoded uint8 RGB)."""
        steps, codecs = self.prepare(rgb)
        strings = self.encode((steps, codecs), rgb, to_bytes=True)
        bits = sum(8 * len(s[0]) for s in strings)
        decoded = [codec.decompress(s) for codec, s in zip(codecs, strings, strict=True)]
        ycc = steps.subsampler.inverse_transform(steps.subsampler.merge(*decoded))
        out = steps.color.inverse_transform(ycc)
        return bits, np.clip(np.rint(out), 0, 255).astype(np.uint8)[0]

    @staticmethod
    def encode(prepared, rgb, to_bytes):
        """Quantized symbols of every plane, or their bitstreams."""
        steps, codecs = prepared
        X = rgb[np.newaxis].astype(np.float32)
        if not to_bytes:
            return steps.symbols(X)
        return [c.compress(p) for c, p in zip(codecs, steps.planes(X), strict=True)]


def pillow_encode(rgb, fmt, **options):
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format=fmt, **options)
    return buffer.getvalue()


def pillow(rgb, fmt, **options):
    """(bits, decoded uint8 RGB) of Pillow's file."""
    data = pillow_encode(rgb, fmt, **options)
    return 8 * len(data), np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def at_rate(points, bpp):
    """PSNR interpolated in log rate at ``bpp``, inside the sweep only (else None)."""
    rates, quality = np.array(sorted(points)).T
    if not rates.min() <= bpp <= rates.max():
        return None
    return float(np.interp(np.log(bpp), np.log(rates), quality))


# -- (a) images ---------------------------------------------------------------


def image_models(size):
    """Settings of part (a): BalleCodec's, LearnedWaveletCodec's, patches, fine-tuning epochs."""
    if size == "large":
        balle = {"n_filters": 128, "n_latents": 192, "max_epochs": 60, "batch_size": 16}
        wavelet = {"n_latents": 96, "n_filters": 128, "n_blocks": 4, "max_epochs": 30}
        return balle, wavelet, 4000, 20
    if size == "quick":
        balle = {"n_filters": 16, "n_latents": 16, "max_epochs": 1, "batch_size": 8}
        wavelet = {"n_latents": 16, "n_filters": 16, "n_blocks": 1, "max_epochs": 1}
        return balle, wavelet, 16, 1
    balle = {"n_filters": 48, "n_latents": 64, "max_epochs": 3, "batch_size": 8}
    wavelet = {"n_latents": 96, "n_filters": 64, "n_blocks": 2, "max_epochs": 4}
    return balle, wavelet, 600, 1


def training_table(report, title):
    """A live table of the fits of :func:`train_sweep`."""
    columns = [("codec", "s"), ("lmbda", "g"), ("training", "s"), ("seconds", ".0f")]
    return report.table(title, [*columns, ("parameters", ",d")], live=True)


def train_sweep(training, make, lambdas, X, epochs_tune, label):
    """Models at every lambda: the middle one from scratch, the others fine-tuned from it.

    ``epochs_tune=None`` trains every lambda from scratch instead. Each fit is
    a row of the ``training`` table.
    """
    first = len(lambdas) // 2
    base, seconds = _common.timed(make(lambdas[first]).fit, X)
    training.add(label, lambdas[first], f"{base.n_iter_} epochs", seconds, base.n_parameters_)
    models = {lambdas[first]: base}
    for lmbda in lambdas[:first] + lambdas[first + 1 :]:
        if epochs_tune is None:
            models[lmbda], seconds = _common.timed(make(lmbda).fit, X)
            what = f"{models[lmbda].n_iter_} epochs from scratch"
        else:
            model = pickle_copy(base)
            model.set_params(lmbda=lmbda, warm_start=True, max_epochs=epochs_tune)
            models[lmbda], seconds = _common.timed(model.fit, X)
            what = f"fine-tuned {epochs_tune} epochs"
        training.add(label, lmbda, what, seconds, None)
    return dict(sorted(models.items()))


def pickle_copy(model):
    import pickle

    return pickle.loads(pickle.dumps(model))


def part_images(report, args):
    from skcompress.learned import BalleCodec, LearnedWaveletCodec

    train, test = photographs(args.swap)
    rng = np.random.default_rng(args.seed)
    balle_params, wavelet_params, n_patches, epochs_tune = image_models(args.size)
    X = patches(train, 128, n_patches, rng)
    training = training_table(
        report,
        f"(a) images, training: {n_patches} random 128x128 crops of {', '.join(train)} (64x64 "
        f"patches drawn from them per batch for BalleCodec); test: {', '.join(test)}",
    )
    common = {"device": "auto", "random_state": args.seed, "lr": 1e-3, "lr_schedule": "cosine"}
    quick = args.size == "quick"
    balle = train_sweep(
        training,
        lambda lm: BalleCodec(lm, patch_size=64, **balle_params, **common),
        [0.008, 0.016] if quick else [0.004, 0.008, 0.016, 0.032],
        X,
        epochs_tune,
        "BalleCodec",
    )
    wavelet = train_sweep(
        training,
        lambda lm: LearnedWaveletCodec(lm, batch_size=16, **wavelet_params, **common),
        # the context coder spends about a quarter fewer bits than the factorized
        # densities: a wider grid keeps 0.25 to 1 bpp inside the sweep
        [0.004, 0.032] if quick else [0.002, 0.004, 0.008, 0.016, 0.032, 0.064],
        X,
        None,  # each from its own start: cheap, and the start sets the step
        "LearnedWaveletCodec",
    )
    report.show(training)
    qualities = (10, 30, 50, 75, 95) if quick else JPEG_QUALITIES
    jpeg_paths = {q: JPEGPath(q, train) for q in qualities}
    j2k = report.has("PIL") and _pillow_has_jpeg2000()
    if not j2k:
        report.note("Pillow without OpenJPEG: the JPEG 2000 rows are skipped")

    results = {}  # method -> photo -> list of (bpp, psnr, estimated bpp or None)
    for name, rgb in test.items():
        pixels = rgb.shape[0] * rgb.shape[1]
        ref = rgb[np.newaxis]

        def add(method, bits, decoded, estimate=None, name=name, pixels=pixels, ref=ref):
            quality = float(psnr(ref, decoded[np.newaxis].astype(np.uint8))[0])
            results.setdefault(method, {}).setdefault(name, []).append(
                (bits / pixels, quality, estimate)
            )

        learned = (
            ("BalleCodec", balle, None),
            ("LearnedWaveletCodec", wavelet, "context"),
            ("LearnedWaveletCodec (factorized)", wavelet, "factorized"),
        )
        for label, models, coder in learned:
            for model in models.values():
                if coder is not None:
                    model.set_params(entropy_coder=coder)
                Xi = rgb[np.newaxis].astype(np.float32)
                strings = model.compress(Xi)
                decoded = np.clip(np.rint(model.decompress(strings)[0]), 0, 255)
                estimate = model.rate(Xi)["estimated_bits_per_sample"] / pixels
                add(label, 8 * len(strings[0]), decoded, estimate)
        for model in wavelet.values():
            model.set_params(entropy_coder="context")
        for path in jpeg_paths.values():
            add("ours JPEG (ctx)", *path.code(rgb))
        for q in qualities:
            add("Pillow JPEG", *pillow(rgb, "JPEG", quality=q, optimize=True, subsampling=2))
        for bpp in J2K_RATES if j2k else ():
            add(
                "Pillow JPEG 2000",
                *pillow(
                    rgb,
                    "JPEG2000",
                    quality_mode="rates",
                    quality_layers=[24 / bpp],
                    irreversible=True,
                    mct=1,
                ),
            )

    points = report.table(
        "(a) operating points: bits per pixel of real bitstreams, PSNR (dB) of the 8-bit RGB "
        "decode",
        [
            ("method", "s"),
            ("photo", "s"),
            ("bpp", ".3f"),
            ("estimated bpp", ".3f"),
            ("PSNR", ".2f"),
        ],
        notes=[
            "estimated: the ideal code length under the learned codecs' own entropy model, "
            "headers excluded"
        ],
    )
    for method, photos in results.items():
        for photo, rows in photos.items():
            for bpp, quality, estimate in sorted(rows, key=lambda r: r[0]):
                points.add(method, photo, bpp, estimate, quality)
    report.show(points)

    equal = report.table(
        "(a) PSNR (dB) at equal bits per pixel, interpolated in log rate inside each sweep",
        [("method", "s")] + [(f"{b} bpp {p}", ".2f") for b in AT_BPP for p in (*test, "mean")],
        notes=["'-': outside the method's sweep"],
    )
    summary = {}
    for method, photos in results.items():
        cells = []
        for bpp in AT_BPP:
            values = [at_rate([(b, q) for b, q, _ in photos[p]], bpp) for p in test]
            mean = None if any(v is None for v in values) else float(np.mean(values))
            summary[method, bpp] = mean
            cells += [*values, mean]
        equal.add(method, *cells)
    ours = summary.get(("ours JPEG (ctx)", 0.5))
    for method in ("BalleCodec", "LearnedWaveletCodec", "LearnedWaveletCodec (factorized)"):
        learned = summary.get((method, 0.5))
        if ours is not None and learned is not None:
            verdict = "met" if learned - ours >= 1.0 else "missed"
            equal.note(
                f"target (>= +1 dB over our JPEG path at 0.5 bpp, mean of the test photos): "
                f"{method} {learned - ours:+.2f} dB, {verdict}"
            )
    report.show(equal)
    speed_table(report, test, balle, wavelet, jpeg_paths, args, j2k)


def _pillow_has_jpeg2000():
    from PIL import features

    return bool(features.check("jpg_2000"))


def speed_table(report, test, balle, wavelet, jpeg_paths, args, j2k):
    megapixels = sum(rgb.shape[0] * rgb.shape[1] for rgb in test.values()) / 1e6
    batches = [rgb[np.newaxis].astype(np.float32) for rgb in test.values()]
    mb, mw = (list(m.values())[len(m) // 2] for m in (balle, wavelet))
    path = jpeg_paths.get(50) or next(iter(jpeg_paths.values()))
    prepared = [path.prepare(rgb) for rgb in test.values()]
    options = {"quality_mode": "rates", "quality_layers": [48], "irreversible": True, "mct": 1}
    rows = {
        "BalleCodec": (
            lambda: [mb.transform(b) for b in batches],
            lambda: [mb.compress(b) for b in batches],
        ),
        "LearnedWaveletCodec": (
            lambda: [mw.transform(b) for b in batches],
            lambda: [mw.compress(b) for b in batches],
        ),
        f"ours JPEG q{path.quality}": tuple(
            (
                lambda b=b: [
                    path.encode(p, rgb, b) for p, rgb in zip(prepared, test.values(), strict=True)
                ]
            )
            for b in (False, True)
        ),
        "Pillow JPEG q50": (
            None,
            lambda: [
                pillow_encode(rgb, "JPEG", quality=50, subsampling=2) for rgb in test.values()
            ],
        ),
    }
    if j2k:
        rows["Pillow JPEG 2000"] = (
            None,
            lambda: [pillow_encode(rgb, "JPEG2000", **options) for rgb in test.values()],
        )
    routines = {}
    for name, (symbols, full) in rows.items():
        if symbols is not None:
            routines[name, "symbols"] = symbols
        routines[name, "bytes"] = full
    seconds = _common.median_times(routines, args.repeats)
    table = report.table(
        f"(a) encode speed, megapixels/s (median of {args.repeats})",
        [("method", "s"), ("to symbols", ".2f"), ("to bytes", ".2f")],
        notes=[
            "encoding only, one image per call; the middle lmbda of each learned codec; our "
            "JPEG path's steps fitted beforehand; Pillow: libjpeg-turbo and OpenJPEG writing "
            "files"
        ],
    )
    for name in rows:
        table.add(
            name,
            megapixels / seconds[name, "symbols"] if (name, "symbols") in seconds else None,
            megapixels / seconds[name, "bytes"],
        )
    report.show(table)


# -- (b) MNIST from learned latents ------------------------------------------


def part_mnist(report, args):
    from skcompress.learned import BalleCodec

    mnist = load_mnist()
    X = mnist.images.astype(np.float32)
    y = mnist.target
    large, quick = args.size == "large", args.size == "quick"
    n_train = 300 if quick else 4000
    train, test = slice(0, n_train), slice(4000, 4300 if quick else 5000)
    params = {
        "n_filters": 64 if large else 32,
        "n_latents": 16 if large else 8,
        "n_layers": 2,
        "batch_size": 32,
        "lr": 3e-3,
        "lr_schedule": "cosine",
        "device": "auto",
        "random_state": args.seed,
    }
    lambdas = [1e-4, 0.002] if quick else [3e-5, 1e-4, 0.0005, 0.002, 0.008, 0.032]
    training = training_table(
        report, f"(b) MNIST from BalleCodec latents: training on {n_train} digits"
    )
    models = train_sweep(
        training,
        lambda lm: BalleCodec(lm, max_epochs=30 if large else 1 if quick else 6, **params),
        lambdas,
        X[train],
        10 if large else 1 if quick else 2,
        "BalleCodec",
    )
    report.show(training)
    table = report.table(
        f"(b) MNIST from BalleCodec latents: LogisticRegression, {n_train} training / "
        f"{test.stop - test.start} test digits",
        [
            ("lmbda", "g"),
            ("coded bits", ".1f"),
            ("payload bits", ".1f"),
            ("estimated bits", ".1f"),
            ("PSNR", ".2f"),
            ("accuracy", ".1%"),
        ],
        notes=[
            "coded bits: each digit's own bitstream, the 2-varint size and the coder's 56-bit "
            "header included; payload: without them; reference point from the learning issue: "
            "84.3% at 14.2 bits per digit"
        ],
    )
    for lmbda, model in models.items():
        rate = model.rate(X[test])
        decoded = model.decompress(model.compress(X[test]))
        quality = float(np.mean(psnr(X[test], decoded, data_range=255)))
        clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
        clf.fit(model.transform(X[train]), y[train])
        table.add(
            lmbda,
            rate["bits_per_sample"],
            rate["payload_bits_per_sample"],
            rate["estimated_bits_per_sample"],
            quality,
            clf.score(model.transform(X[test]), y[test]),
        )
    report.show(table)


# -- (c) speech ---------------------------------------------------------------


def snr(x, x_hat):
    x, x_hat = np.asarray(x, np.float64), np.asarray(x_hat, np.float64)
    return 10 * np.log10((x**2).sum(1) / np.maximum(((x - x_hat) ** 2).sum(1), 1e-12))


def log_spectral_distance(x, x_hat, n_fft=256, hop=64, floor_db=50, range_db=60):
    """Mean over active frames of the RMS difference of log power spectra (dB).

    Frames within ``floor_db`` of the clip's loudest are active; powers are
    floored ``range_db`` below the clip's largest bin (both spectra alike),
    so bins of digital silence do not dominate.
    """
    from scipy.signal import stft

    window = np.hanning(n_fft)
    _, _, S = stft(np.asarray(x, np.float64), nperseg=n_fft, noverlap=n_fft - hop, window=window)
    _, _, T = stft(
        np.asarray(x_hat, np.float64), nperseg=n_fft, noverlap=n_fft - hop, window=window
    )
    P, Q = np.abs(S) ** 2, np.abs(T) ** 2
    eps = 10 ** (-range_db / 10) * P.max(axis=(1, 2), keepdims=True) + 1e-20
    d = 10 * np.log10(P + eps) - 10 * np.log10(Q + eps)
    frame = np.sqrt(np.mean(d**2, axis=1))  # (n, frames)
    energy = 10 * np.log10(P.sum(axis=1) + 1e-20)
    active = energy > energy.max(axis=1, keepdims=True) - floor_db
    return np.array([f[a].mean() for f, a in zip(frame, active, strict=True)])


def write_wav(path, samples, rate):
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.asarray(samples, dtype="<i2").tobytes())


def read_wav(path):
    with wave.open(str(path), "rb") as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2"), w.getframerate()


def opus_round_trip(X, kbps, rate, directory):
    """Opus at ``kbps`` of the clips concatenated: (decoded clips, file kbps).

    opus-tools (``opusenc --hard-cbr``/``opusdec``) when on the PATH, else
    ffmpeg's libopus (``-b:a``, its default VBR).
    """
    wav, coded, back = (Path(directory) / n for n in ("in.wav", "out.opus", "back.wav"))
    write_wav(wav, X.reshape(-1), rate)
    if shutil.which("opusenc") and shutil.which("opusdec"):
        encode = ["opusenc", "--quiet", "--bitrate", str(kbps), "--hard-cbr", str(wav), str(coded)]
        decode = ["opusdec", "--quiet", "--rate", str(rate), str(coded), str(back)]
    else:
        quiet = ["ffmpeg", "-loglevel", "error", "-y", "-i"]
        encode = [
            *quiet,
            str(wav),
            "-c:a",
            "libopus",
            "-vbr",
            "off",
            "-b:a",
            f"{kbps}k",
            str(coded),
        ]
        decode = [*quiet, str(coded), "-ar", str(rate), "-ac", "1", str(back)]
    subprocess.run(encode, check=True)
    subprocess.run(decode, check=True)
    decoded, _ = read_wav(back)
    decoded = decoded[: X.size]
    if decoded.size < X.size:
        decoded = np.pad(decoded, (0, X.size - decoded.size))
    seconds = X.size / rate
    return decoded.reshape(X.shape), 8 * coded.stat().st_size / seconds / 1000


def part_audio(report, args):
    from skcompress.learned import SoundStreamCodec

    data = load_spoken_digits()
    X, y, rate = data["data"], data["target"], int(data["sample_rate"])
    train, test, held = _common.voice_split(data["settings"], args.seed)
    large, quick = args.size == "large", args.size == "quick"
    if quick:
        keep = np.zeros(len(X), dtype=bool)
        keep[::20] = True
        train, test = train & keep, test & keep
    istft = args.decoder == "istft"
    params = {
        "channels": 32 if large else 8 if quick else 16,
        "strides": (2, 4, 5),
        "latent_dim": 32,
        "pretrain_epochs": 20 if large else 1 if quick else 10,
        "max_epochs": 30 if large else 1 if quick else 30,
        "patch_size": 2000 if large else 1000,
        "batch_size": 16,
        "spectral_weight": 1.0,
        "mel_weight": 1.0,
        "waveform_weight": 0.1,
        # the inverse-STFT head exponentiates magnitudes: it trains at a smaller rate
        "lr": 1e-3 if istft else 2e-3 if large else 5e-3,
        "decoder": args.decoder,
        "device": "auto",
        "random_state": args.seed,
        "sample_rate": rate,
    }
    codec, seconds_fit = _common.timed(SoundStreamCodec(8, 256, **params).fit, X[train])
    Xt = X[test].astype(np.float64)
    codes = codec.transform(X[test])
    table = report.table(
        f"(c) speech: SoundStreamCodec on the spoken digits, {train.sum()} training clips, "
        f"{test.sum()} test clips of held-out voices ({', '.join(held)})",
        [
            ("codec", "s"),
            ("kbps", ".1f"),
            ("file kbps", ".2f"),
            ("SNR dB", ".2f"),
            ("LSD dB", ".2f"),
        ],
        notes=[
            f"fit: {codec.n_iter_} epochs in {seconds_fit:.0f} s ({codec.n_parameters_} "
            f"parameters), {codec.frame_rate_:.0f} frames/s",
            "kbps: fixed-length codes; file kbps: real bitstreams, or Opus' Ogg file",
        ],
    )
    seconds = X.shape[1] / rate
    blocks = codes.reshape(len(codes), codec.n_frames_, codec.n_stages).astype(np.int64)
    for k in range(1, codec.n_stages + 1):
        decoded = codec.inverse_transform(codes, n_stages=k)
        # what codec.compress(X, n_stages=k) writes (a stage-count byte, then the
        # coder's bitstream), from the codes at hand rather than encoding again
        strings = codec.entropy_models_[k - 1].compress(blocks[:, :, :k].reshape(len(codes), -1))
        coded = np.mean([8 * (1 + len(s)) for s in strings]) / seconds / 1000
        table.add(
            f"SoundStreamCodec {k} stages",
            codec.bits_per_second(k) / 1000,
            coded,
            snr(Xt, decoded).mean(),
            log_spectral_distance(Xt, decoded).mean(),
        )
    if (report.has("opusenc") and report.has("opusdec")) or report.has("ffmpeg"):
        with tempfile.TemporaryDirectory() as tmp:
            for kbps in (6, 8, 12, 16):
                decoded, file_kbps = opus_round_trip(X[test], kbps, rate, tmp)
                table.add(
                    f"Opus {kbps} kbps (CBR)",
                    kbps,
                    file_kbps,
                    snr(Xt, decoded).mean(),
                    log_spectral_distance(Xt, decoded).mean(),
                )
    report.show(table)

    accuracy = report.table(
        "(c) spoken-digit accuracy from the RVQ codes (bag of codes, LogisticRegression)",
        [("stages", "d"), ("kbps", ".1f"), ("accuracy", ".1%")],
    )
    train_codes = codec.transform(X[train])
    for k in (1, 2, 4, codec.n_stages):
        features = [bag_of_codes(c, codec, k) for c in (train_codes, codes)]
        clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
        clf.fit(features[0], y[train])
        accuracy.add(k, codec.bits_per_second(k) / 1000, clf.score(features[1], y[test]))
    report.show(accuracy)


def bag_of_codes(codes, codec, n_stages):
    """Per clip and stage, the histogram of codes (over frames), the first stages kept."""
    blocks = codes.reshape(len(codes), codec.n_frames_, codec.n_stages)[:, :, :n_stages]
    K = codec.codebook_size
    keys = blocks.astype(np.int64) + K * np.arange(n_stages)
    counts = np.zeros((len(codes), n_stages * K))
    np.add.at(counts, (np.arange(len(codes))[:, None, None], keys), 1.0)
    return counts


# -- main ---------------------------------------------------------------------


def main(argv=None):
    parser = _common.parser(__doc__, threads=1)
    parser.add_argument("--images", action="store_true")
    parser.add_argument("--mnist", action="store_true")
    parser.add_argument("--audio", action="store_true")
    parser.add_argument(
        "--size",
        choices=("quick", "default", "large"),
        default=None,
        help="quick (what --quick takes): a smoke test of the code paths; large: bigger "
        "models, longer (GPU)",
    )
    parser.add_argument(
        "--decoder",
        choices=("convolutional", "istft"),
        default="istft",
        help="audio: SoundStreamCodec's decoder",
    )
    parser.add_argument("--repeats", type=int, default=None, help="timed calls (default 3)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--swap",
        action="store_true",
        help="images: train on astronaut and chelsea (with china, flower), test on coffee, rocket",
    )
    args = parser.parse_args(argv)
    args.size = args.size or ("quick" if args.quick else "default")
    args.quick = args.quick or args.size == "quick"
    args.repeats = args.repeats or (1 if args.quick else 3)
    report = _common.Report(
        __file__, __doc__, args, argv, peers=["torch", "PIL", "opusenc", "opusdec", "ffmpeg"]
    )
    if not report.has("torch"):
        report.note("the learned codecs need torch: nothing to run without it")
        return report.finish()
    import torch

    report.environment["torch_device"] = "cuda" if torch.cuda.is_available() else "cpu"
    parts = [p for p in ("images", "mnist", "audio") if getattr(args, p)] or [
        "images",
        "mnist",
        "audio",
    ]
    with _common.limit_threads(args.threads):
        for part in parts:
            _, seconds = _common.timed(globals()[f"part_{part}"], report, args)
            print(f"[{part}: {seconds:.0f} s]")
    return report.finish()


if __name__ == "__main__":
    main()
