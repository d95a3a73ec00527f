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
    path (``ColorTransform -> ChromaSubsampler("4:2:0") -> BlockDCT ->
    PerceptualQuantizer`` per plane, then real bitstreams of
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
    stages (fixed-length and coded kbps), beside Opus (``opusenc --bitrate``
    / ``opusdec``, Debian's opus-tools, the held-out clips concatenated into
    one stream per bitrate so the Ogg overhead is amortized), then the
    spoken-digit accuracy of a LogisticRegression on bag-of-codes histograms.
    The CPU-sized default trains on the waveform MSE alone (the few hundred
    steps it can afford do not let the multi-resolution spectral loss pay);
    ``--size large`` uses SoundStream's spectral loss.

Default sizes are set to finish in about 15 minutes on two shared CPU cores
(images about half of it). LearnedWaveletCodec's defaults (dyadic
decomposition, colour start, 96 latents at this size) were chosen comparing
variants on astronaut and chelsea; ``--swap`` tests them on two photographs
that played no part in the choice. Without ``opusenc``/``opusdec`` on the
PATH the Opus rows are skipped with a message.

Usage::

    python benchmarks/bench_learned.py [--images] [--mnist] [--audio]
                                        [--size {quick,default,large}]
                                        [--threads 2] [--seed 0] [--swap]

(no part named: all three).
"""

import argparse
import io
import platform
import shutil
import subprocess
import tempfile
import time
import wave
from pathlib import Path

import numpy as np
import skimage.data
import sklearn
import torch
from PIL import Image
from sklearn.datasets import load_sample_images
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skcompress import BlockDCT, ChromaSubsampler, ColorTransform, PerceptualQuantizer
from skcompress.codecs import Codec
from skcompress.datasets import load_mnist, load_spoken_digits
from skcompress.entropy import BlockContextModel
from skcompress.learned import BalleCodec, LearnedWaveletCodec, SoundStreamCodec
from skcompress.metrics import psnr

TABLES = ("jpeg-luma", "jpeg-chroma", "jpeg-chroma")
JPEG_QUALITIES = (5, 10, 20, 30, 40, 50, 60, 75, 90, 95)
J2K_RATES = (0.15, 0.25, 0.35, 0.5, 0.75, 1.0, 1.5, 2.0)  # bpp targets
AT_BPP = (0.25, 0.5, 1.0)


# -- data -----------------------------------------------------------------


def photographs(swap=False):
    """(training, test) photographs: name -> uint8 RGB.

    ``swap``: astronaut and chelsea train, coffee and rocket are tested, a
    second split for checking choices made while looking at the first.
    """
    china, flower = load_sample_images().images
    first = {"coffee": skimage.data.coffee(), "rocket": skimage.data.rocket()}
    second = {"astronaut": skimage.data.astronaut(), "chelsea": skimage.data.chelsea()}
    if swap:
        first, second = second, first
    return {**first, "china": china, "flower": flower}, second


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
    """Fitted steps of our colour JPEG path for one image, and its quantized planes."""
    X = rgb[np.newaxis].astype(np.float32)
    color = ColorTransform(layout="blocks").fit(X)
    ycc = color.transform(X)
    sub = ChromaSubsampler("4:2:0", block_size=8).fit(ycc)
    planes = sub.split(sub.transform(ycc))
    steps = []
    for plane, table in zip(planes, TABLES, strict=True):
        dct = BlockDCT(layout="blocks").fit(plane)
        G = dct.transform(plane)
        q = PerceptualQuantizer(table=table, quality=quality, layout="blocks").fit(G)
        steps.append((plane, dct, q, q.transform(G)))
    return color, sub, steps


class JPEGPath:
    """Our JPEG path at one quality; entropy models fitted on the training photographs."""

    def __init__(self, quality, train):
        self.quality = quality
        luma, chroma = [], []
        for rgb in train.values():
            _, _, steps = jpeg_planes(rgb, quality)
            luma.append(steps[0][3])
            chroma += [steps[1][3], steps[2][3]]
        self.models = (BlockContextModel().fit(luma), BlockContextModel().fit(chroma))

    def code(self, rgb):
        """(bits, decoded uint8 RGB)."""
        color, sub, steps = jpeg_planes(rgb, self.quality)
        bits, decoded = 0, []
        for i, (plane, dct, q, _) in enumerate(steps):
            codec = Codec([dct, q], model=self.models[min(i, 1)]).fit(plane)
            strings = codec.compress(plane)
            bits += 8 * len(strings[0])
            decoded.append(codec.decompress(strings))
        ycc = sub.inverse_transform(sub.merge(*decoded))
        out = color.inverse_transform(ycc)
        return bits, np.clip(np.rint(out), 0, 255).astype(np.uint8)[0]

    def prepare(self, rgb):
        """Steps and codecs fitted for one image: what the speed table times afterwards."""
        color, sub, steps = jpeg_planes(rgb, self.quality)
        codecs = [
            Codec([dct, q], model=self.models[min(i, 1)]).fit(plane)
            for i, (plane, dct, q, _) in enumerate(steps)
        ]
        return color, sub, codecs

    @staticmethod
    def encode(prepared, rgb, to_bytes):
        """Quantized symbols of every plane, or their bitstreams."""
        color, sub, codecs = prepared
        planes = sub.split(sub.transform(color.transform(rgb[np.newaxis].astype(np.float32))))
        if to_bytes:
            return [codec.compress(plane) for codec, plane in zip(codecs, planes, strict=True)]
        return [codec.symbols(plane) for codec, plane in zip(codecs, planes, strict=True)]


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


def _fmt(value):
    return "   -  " if value is None else f"{value:6.2f}"


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
        return balle, wavelet, 32, 1
    balle = {"n_filters": 48, "n_latents": 64, "max_epochs": 3, "batch_size": 8}
    wavelet = {"n_latents": 96, "n_filters": 64, "n_blocks": 2, "max_epochs": 4}
    return balle, wavelet, 600, 1


def train_sweep(make, lambdas, X, epochs_tune, label):
    """Models at every lambda: the middle one from scratch, the others fine-tuned from it.

    ``epochs_tune=None`` trains every lambda from scratch instead.
    """
    first = len(lambdas) // 2
    t0 = time.perf_counter()
    base = make(lambdas[first]).fit(X)
    seconds = time.perf_counter() - t0
    print(
        f"  {label} lmbda={lambdas[first]}: {base.n_iter_} epochs in {seconds:.0f} s "
        f"({base.n_parameters_} parameters)"
    )
    models = {lambdas[first]: base}
    for lmbda in lambdas[:first] + lambdas[first + 1 :]:
        t0 = time.perf_counter()
        if epochs_tune is None:
            models[lmbda] = make(lmbda).fit(X)
            what = f"{models[lmbda].n_iter_} epochs from scratch"
        else:
            model = pickle_copy(base)
            model.set_params(lmbda=lmbda, warm_start=True, max_epochs=epochs_tune)
            models[lmbda] = model.fit(X)
            what = f"fine-tuned {epochs_tune} epochs"
        print(f"  {label} lmbda={lmbda}: {what} in {time.perf_counter() - t0:.0f} s")
    return dict(sorted(models.items()))


def pickle_copy(model):
    import pickle

    return pickle.loads(pickle.dumps(model))


def part_images(args):
    print("\n(a) images: held-out photographs, RGB, PSNR of the 8-bit decode")
    train, test = photographs(args.swap)
    rng = np.random.default_rng(args.seed)
    balle_params, wavelet_params, n_patches, epochs_tune = image_models(args.size)
    X = patches(train, 128, n_patches, rng)
    print(
        f"training: {n_patches} random 128x128 crops of {', '.join(train)} (64x64 patches "
        f"drawn from them per batch for BalleCodec); test: {', '.join(test)}"
    )
    common = {"device": "auto", "random_state": args.seed, "lr": 1e-3, "lr_schedule": "cosine"}
    balle = train_sweep(
        lambda lm: BalleCodec(lm, patch_size=64, **balle_params, **common),
        [0.004, 0.008, 0.016, 0.032],
        X,
        epochs_tune,
        "BalleCodec",
    )
    wavelet = train_sweep(
        lambda lm: LearnedWaveletCodec(lm, batch_size=16, **wavelet_params, **common),
        # the context coder spends about a quarter fewer bits than the factorized
        # densities: a wider grid keeps 0.25 to 1 bpp inside the sweep
        [0.002, 0.004, 0.008, 0.016, 0.032, 0.064],
        X,
        None,  # each from its own start: cheap, and the start sets the step
        "LearnedWaveletCodec",
    )
    jpeg_paths = {q: JPEGPath(q, train) for q in JPEG_QUALITIES}

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
        for q in JPEG_QUALITIES:
            add("Pillow JPEG", *pillow(rgb, "JPEG", quality=q, optimize=True, subsampling=2))
        for bpp in J2K_RATES:
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

    print(
        "\noperating points (bpp: real bitstreams, est: their ideal code length under the "
        "learned codecs' own entropy model, headers excluded)"
    )
    line = "{:<32} {:<10} {:>7} {:>7} {:>7}"
    print(line.format("method", "photo", "bpp", "est", "PSNR"))
    for method, photos in results.items():
        for photo, points in photos.items():
            for bpp, quality, estimate in sorted(points):
                est = "" if estimate is None else f"{estimate:.3f}"
                print(line.format(method, photo, f"{bpp:.3f}", est, f"{quality:.2f}"))

    print("\nPSNR (dB) at equal bits per pixel, interpolated in log rate inside each sweep")
    head = "{:<32}" + " {:>18}" * len(AT_BPP)
    print(head.format("method", *[f"{b} bpp: " + "/".join(test) for b in AT_BPP]))
    summary = {}
    for method, photos in results.items():
        cells = []
        for bpp in AT_BPP:
            values = [at_rate([(b, q) for b, q, _ in photos[p]], bpp) for p in test]
            mean = None if any(v is None for v in values) else float(np.mean(values))
            summary[(method, bpp)] = mean
            cells.append(" ".join(_fmt(v) for v in values) + f" ({_fmt(mean).strip()})")
        print(head.format(method, *cells))
    ours = summary.get(("ours JPEG (ctx)", 0.5))
    for method in ("BalleCodec", "LearnedWaveletCodec", "LearnedWaveletCodec (factorized)"):
        learned = summary.get((method, 0.5))
        if ours is not None and learned is not None:
            verdict = "met" if learned - ours >= 1.0 else "missed"
            print(
                f"target (>= +1 dB over our JPEG path at 0.5 bpp, mean of the test photos): "
                f"{method} {learned - ours:+.2f} dB -> {verdict}"
            )

    speed_table(test, balle, wavelet, jpeg_paths, args)


def median_seconds(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def speed_table(test, balle, wavelet, jpeg_paths, args):
    print(f"\nencode speed, megapixels/s (median of {args.repeats}, {args.threads} threads)")
    megapixels = sum(rgb.shape[0] * rgb.shape[1] for rgb in test.values()) / 1e6
    batches = [rgb[np.newaxis].astype(np.float32) for rgb in test.values()]
    mb, mw = (list(m.values())[len(m) // 2] for m in (balle, wavelet))
    path = jpeg_paths[50]
    prepared = [path.prepare(rgb) for rgb in test.values()]
    j2k = {"quality_mode": "rates", "quality_layers": [48], "irreversible": True, "mct": 1}
    rows = {
        "BalleCodec": (
            lambda: [mb.transform(b) for b in batches],
            lambda: [mb.compress(b) for b in batches],
        ),
        "LearnedWaveletCodec": (
            lambda: [mw.transform(b) for b in batches],
            lambda: [mw.compress(b) for b in batches],
        ),
        "ours JPEG q50": tuple(
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
        "Pillow JPEG 2000": (
            None,
            lambda: [pillow_encode(rgb, "JPEG2000", **j2k) for rgb in test.values()],
        ),
    }
    line = "{:<20} {:>16} {:>16}"
    print(line.format("method", "to symbols", "to bytes"))
    for name, (symbols, full) in rows.items():
        cells = []
        for fn in (symbols, full):
            if fn is None:
                cells.append("-")
                continue
            fn()  # warm-up
            cells.append(f"{megapixels / median_seconds(fn, args.repeats):.2f}")
        print(line.format(name, *cells))
    print(
        "(encoding only, one image per call; the middle lmbda of each learned codec; our JPEG "
        "path's steps fitted beforehand; Pillow: libjpeg-turbo and OpenJPEG writing files)"
    )


# -- (b) MNIST from learned latents ------------------------------------------


def part_mnist(args):
    mnist = load_mnist()
    X = mnist.images.astype(np.float32)
    y = mnist.target
    large, quick = args.size == "large", args.size == "quick"
    n_train = 500 if quick else 4000
    train, test = slice(0, n_train), slice(4000, 5000)
    print(f"\n(b) MNIST from BalleCodec latents ({n_train} train / 1,000 test digits)")
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
    lambdas = [3e-5, 1e-4, 0.0005, 0.002, 0.008, 0.032]
    models = train_sweep(
        lambda lm: BalleCodec(lm, max_epochs=30 if large else 1 if quick else 6, **params),
        lambdas,
        X[train],
        10 if large else 1 if quick else 2,
        "BalleCodec",
    )
    line = "{:>8} {:>12} {:>14} {:>12} {:>10} {:>10}"
    print(line.format("lmbda", "coded bits", "payload bits", "est. bits", "PSNR", "accuracy"))
    for lmbda, model in models.items():
        rate = model.rate(X[test])
        decoded = model.decompress(model.compress(X[test]))
        quality = float(np.mean(psnr(X[test], decoded, data_range=255)))
        clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
        clf.fit(model.transform(X[train]), y[train])
        accuracy = clf.score(model.transform(X[test]), y[test])
        print(
            line.format(
                lmbda,
                f"{rate['bits_per_sample']:.1f}",
                f"{rate['payload_bits_per_sample']:.1f}",
                f"{rate['estimated_bits_per_sample']:.1f}",
                f"{quality:.2f}",
                f"{100 * accuracy:.1f}%",
            )
        )
    print(
        "(coded bits: each digit's own bitstream, the 2-varint size and the coder's 56-bit "
        "header included; payload: without them; reference point from the learning issue: "
        "84.3% at 14.2 bits per digit)"
    )


# -- (c) speech ---------------------------------------------------------------


def voice_split(settings, seed):
    """Held-out voices: a fifth of the (accent, variant) pairs, all speeds and pitches."""
    voices = np.array([s.split("|")[0] for s in settings])
    names = np.unique(voices)
    rng = np.random.default_rng(seed)
    held = set(rng.choice(names, size=max(1, len(names) // 5), replace=False))
    test = np.array([v in held for v in voices])
    return ~test, test, sorted(held)


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
    """Opus at ``kbps`` of the clips concatenated: (decoded clips, file kbps)."""
    wav, coded, back = (Path(directory) / n for n in ("in.wav", "out.opus", "back.wav"))
    write_wav(wav, X.reshape(-1), rate)
    subprocess.run(
        ["opusenc", "--quiet", "--bitrate", str(kbps), "--hard-cbr", str(wav), str(coded)],
        check=True,
    )
    subprocess.run(["opusdec", "--quiet", "--rate", str(rate), str(coded), str(back)], check=True)
    decoded, _ = read_wav(back)
    decoded = decoded[: X.size]
    if decoded.size < X.size:
        decoded = np.pad(decoded, (0, X.size - decoded.size))
    seconds = X.size / rate
    return decoded.reshape(X.shape), 8 * coded.stat().st_size / seconds / 1000


def part_audio(args):
    print("\n(c) speech: SoundStreamCodec on the spoken digits, held-out voices")
    data = load_spoken_digits()
    X, y, rate = data["data"], data["target"], int(data["sample_rate"])
    train, test, held = voice_split(data["settings"], args.seed)
    print(f"{train.sum()} training clips, {test.sum()} test clips (voices {', '.join(held)})")
    large, quick = args.size == "large", args.size == "quick"
    if quick:
        keep = np.zeros(len(X), dtype=bool)
        keep[::10] = True
        train, test = train & keep, test & keep
    params = {
        "channels": 32 if large else 8,
        "strides": (2, 4, 5),
        "latent_dim": 32,
        "pretrain_epochs": 20 if large else 1 if quick else 2,
        "max_epochs": 30 if large else 1 if quick else 2,
        "patch_size": 2000 if large else 1000,
        "batch_size": 16,
        # CPU-sized training is too short for the spectral loss to pay: the
        # waveform MSE alone gives the better SNR (and about the same LSD)
        "spectral_weight": 1.0 if large else 0.0,
        "lr": 2e-3 if large else 5e-3,
        "device": "auto",
        "random_state": args.seed,
        "sample_rate": rate,
    }
    codec = SoundStreamCodec(8, 256, **params)
    t0 = time.perf_counter()
    codec.fit(X[train])
    print(
        f"  fit: {codec.n_iter_} epochs in {time.perf_counter() - t0:.0f} s "
        f"({codec.n_parameters_} parameters), {codec.frame_rate_:.0f} frames/s"
    )
    Xt = X[test].astype(np.float64)
    codes = codec.transform(X[test])
    line = "{:<24} {:>10} {:>10} {:>9} {:>9}"
    print(line.format("codec", "kbps", "file kbps", "SNR dB", "LSD dB"))
    seconds = X.shape[1] / rate
    blocks = codes.reshape(len(codes), codec.n_frames_, codec.n_stages).astype(np.int64)
    for k in range(1, codec.n_stages + 1):
        decoded = codec.inverse_transform(codes, n_stages=k)
        # what codec.compress(X, n_stages=k) writes (a stage-count byte, then the
        # coder's bitstream), from the codes at hand rather than encoding again
        strings = codec.entropy_models_[k - 1].compress(blocks[:, :, :k].reshape(len(codes), -1))
        coded = np.mean([8 * (1 + len(s)) for s in strings]) / seconds / 1000
        print(
            line.format(
                f"SoundStreamCodec {k} st.",
                f"{codec.bits_per_second(k) / 1000:.1f}",
                f"{coded:.2f}",
                f"{snr(Xt, decoded).mean():.2f}",
                f"{log_spectral_distance(Xt, decoded).mean():.2f}",
            )
        )
    if shutil.which("opusenc") and shutil.which("opusdec"):
        with tempfile.TemporaryDirectory() as tmp:
            for kbps in (6, 8, 12, 16):
                decoded, file_kbps = opus_round_trip(X[test], kbps, rate, tmp)
                print(
                    line.format(
                        f"Opus {kbps} kbps (CBR)",
                        f"{kbps:.1f}",
                        f"{file_kbps:.2f}",
                        f"{snr(Xt, decoded).mean():.2f}",
                        f"{log_spectral_distance(Xt, decoded).mean():.2f}",
                    )
                )
    else:
        print("Opus: opusenc/opusdec not found (Debian: apt-get install opus-tools)")
    print("(kbps: fixed-length codes; file kbps: real bitstreams, or Opus' Ogg file)")

    print("\nspoken-digit accuracy from the RVQ codes (bag of codes, LogisticRegression)")
    train_codes = codec.transform(X[train])
    for k in (1, 2, 4, codec.n_stages):
        features = [bag_of_codes(c, codec, k) for c in (train_codes, codes)]
        clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
        clf.fit(features[0], y[train])
        print(
            f"  {k} stage(s), {codec.bits_per_second(k) / 1000:.1f} kbps: "
            f"{100 * clf.score(features[1], y[test]):.1f}%"
        )


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
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", action="store_true")
    parser.add_argument("--mnist", action="store_true")
    parser.add_argument("--audio", action="store_true")
    parser.add_argument(
        "--size",
        choices=("quick", "default", "large"),
        default="default",
        help="quick: a smoke test of the code paths; large: bigger models, longer (GPU)",
    )
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--swap",
        action="store_true",
        help="images: train on astronaut and chelsea (with china, flower), test on coffee, rocket",
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    parts = [p for p in ("images", "mnist", "audio") if getattr(args, p)] or [
        "images",
        "mnist",
        "audio",
    ]
    device = "cuda" if torch.cuda.is_available() else "cpu"
    print(
        f"Python {platform.python_version()}, numpy {np.__version__}, torch {torch.__version__} "
        f"({device}, {args.threads} threads), scikit-learn {sklearn.__version__}, Pillow "
        f"{Image.__version__}, {platform.processor() or platform.machine()}"
    )
    for part in parts:
        t0 = time.perf_counter()
        globals()[f"part_{part}"](args)
        print(f"[{part}: {time.perf_counter() - t0:.0f} s]")


if __name__ == "__main__":
    main()
