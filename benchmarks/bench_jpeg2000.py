"""JPEG2000Codec against OpenJPEG: rate-distortion (BD-PSNR, BD-rate), lossless sizes, speed.

Inputs: the photographs of :func:`skcompress.datasets.load_photographs`
(scikit-learn's and scikit-image's, central squares resized to ``--size``,
512 by default), gray and colour. Nothing is tuned on them: the codec runs
with its defaults (9/7, 5 levels, 64 x 64 code blocks, base step 1 under
rate control, OpenJPEG's steps).

Rate-distortion: at every target rate (bits per pixel over ``H * W``, all
channels), ours is ``JPEG2000Codec(bits_per_pixel=r)``; OpenJPEG is
``opj_compress -r <ratio> -I`` (the 9/7 with the ICT on colour, 5 levels,
64 x 64 code blocks, its defaults otherwise) with ``ratio = 8 C / r``,
decoded by ``opj_decompress``. Both rates are measured on the bytes of the
files and streams (ours: header and CRC-32 included; OpenJPEG: the whole
``.j2k`` codestream). PSNR over all pixels and channels. BD-PSNR and BD-rate
(:func:`skcompress.metrics.bd_psnr`, :func:`skcompress.metrics.bd_rate`,
piecewise cubic) of ours against OpenJPEG as the anchor, per photograph and
their mean: a positive BD-PSNR and a negative BD-rate mean ours is better.

Lossless: ``JPEG2000Codec(wavelet="cdf53")`` (5/3 + RCT) against
``opj_compress`` with its defaults (lossless 5/3), bytes per image.

Speed: megapixels per second of encoding (pixels to bytes) and decoding
(bytes to pixels), one thread, median of ``--repeats``, ours one call for
the batch, OpenJPEG in process through Pillow (``libopenjp2``; ``save(...,
"JPEG2000", quality_mode="rates", quality_layers=[ratio], irreversible=True,
mct=1)`` and ``Image.open(...).load()``), at 1 bpp and lossless.

``--quick``: 256 x 256, three rates, 3 repeats.

Usage::

    python benchmarks/bench_jpeg2000.py [--quick] [--json PATH] [--size 512]
        [--repeats 5]
"""

import io
import shutil
import subprocess

import _common
import numpy as np
from PIL import Image

from skcompress.codecs._jpeg2000_codec import JPEG2000Codec
from skcompress.datasets import load_photographs
from skcompress.metrics._bjontegaard import bd_psnr, bd_rate

RATES = (0.25, 0.375, 0.5, 0.75, 1.0)
QUICK_RATES = (0.25, 0.5, 1.0)


def psnr(a, b):
    mse = np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2)
    return float(10 * np.log10(255.0**2 / mse))


def openjpeg(x, directory, ratio=None):
    """``(bytes, decoded image)`` of opj_compress (``-r ratio -I``, or lossless) and back."""
    suffix = "ppm" if x.ndim == 3 else "pgm"
    src, out, dec = (directory / f"{name}.{suffix}" for name in ("in", "x", "out"))
    out = directory / "x.j2k"
    Image.fromarray(x).save(src)
    command = ["opj_compress", "-i", str(src), "-o", str(out)]
    if ratio is not None:
        command += ["-r", f"{ratio:.6f}", "-I"]
    subprocess.run(command, check=True, capture_output=True)
    subprocess.run(
        ["opj_decompress", "-i", str(out), "-o", str(dec)], check=True, capture_output=True
    )
    return out.read_bytes(), np.asarray(Image.open(dec))


def pillow_encode(x, ratio):
    buffer = io.BytesIO()
    options = {"irreversible": True, "quality_mode": "rates", "quality_layers": [ratio]}
    if ratio is None:
        options = {}
    if x.ndim == 3:
        options["mct"] = 1
    Image.fromarray(x).save(buffer, "JPEG2000", **options)
    return buffer.getvalue()


def pillow_decode(data):
    image = Image.open(io.BytesIO(data))
    image.load()
    return np.asarray(image)


def rate_distortion(report, X, names, rates, label, directory):
    C = 3 if X.ndim == 4 else 1
    H, W = X.shape[1:3]
    ours = np.zeros((len(X), len(rates), 2))
    theirs = np.zeros((len(X), len(rates), 2))
    for j, bpp in enumerate(rates):
        codec = JPEG2000Codec(bpp).fit(X)
        streams = codec.compress(X)
        decoded = codec.decompress(streams)
        for i, x in enumerate(X):
            ours[i, j] = 8 * len(streams[i]) / (H * W), psnr(x, decoded[i])
            data, back = openjpeg(x, directory, 8 * C / bpp)
            theirs[i, j] = 8 * len(data) / (H * W), psnr(x, back)
    table = report.table(
        f"{label}: BD-PSNR and BD-rate of JPEG2000Codec against OpenJPEG (opj_compress -r -I), "
        f"{rates[0]}-{rates[-1]} bpp",
        [
            ("photograph", "s"),
            ("BD-PSNR dB", "+.3f"),
            ("BD-rate %", "+.2f"),
            ("PSNR ours @1st", ".2f"),
            ("PSNR opj @1st", ".2f"),
            ("PSNR ours @last", ".2f"),
            ("PSNR opj @last", ".2f"),
        ],
        notes=[
            "positive BD-PSNR / negative BD-rate: ours better; rates from the real bytes",
            "targets (bpp): " + ", ".join(map(str, rates)),
        ],
    )
    gains, savings = [], []
    for i, name in enumerate(names):
        gain = bd_psnr(theirs[i, :, 0], theirs[i, :, 1], ours[i, :, 0], ours[i, :, 1])
        saving = bd_rate(theirs[i, :, 0], theirs[i, :, 1], ours[i, :, 0], ours[i, :, 1])
        gains.append(gain)
        savings.append(saving)
        table.add(name, gain, saving, ours[i, 0, 1], theirs[i, 0, 1], ours[i, -1, 1],
                  theirs[i, -1, 1])  # fmt: skip
    table.add(
        "mean",
        float(np.mean(gains)),
        float(np.mean(savings)),
        float(ours[:, 0, 1].mean()),
        float(theirs[:, 0, 1].mean()),
        float(ours[:, -1, 1].mean()),
        float(theirs[:, -1, 1].mean()),
    )
    hit = np.abs(ours[:, :, 0] / np.asarray(rates) - 1).max()
    table.note(f"ours: largest gap between a stream's rate and its target {100 * hit:.2f} %")
    report.show(table)
    return float(np.mean(gains))


def lossless(report, sets, directory):
    table = report.table(
        "Lossless (5/3 + RCT): bytes per image, JPEG2000Codec against opj_compress's default",
        [
            ("images", "s"),
            ("ours bytes", ",.0f"),
            ("opj bytes", ",.0f"),
            ("ours / opj", ".4f"),
            ("worst ours / opj", ".4f"),
            ("exact", "s"),
        ],  # fmt: skip
        notes=["mean over the photographs; exact: decompress(compress(X)) == X for every image"],
    )
    for label, X in sets:
        codec = JPEG2000Codec(wavelet="cdf53").fit(X)
        streams = codec.compress(X)
        exact = bool(np.array_equal(codec.decompress(streams), X))
        ours = np.array([len(s) for s in streams], dtype=float)
        theirs = np.array([len(openjpeg(x, directory)[0]) for x in X], dtype=float)
        table.add(label, ours.mean(), theirs.mean(), ours.sum() / theirs.sum(),
                  float((ours / theirs).max()), str(exact))  # fmt: skip
    report.show(table)


def speed(report, sets, repeats, threads):
    table = report.table(
        f"Speed: megapixels per second, median of {repeats} repeats, one thread",
        [
            ("images", "s"),
            ("routine", "s"),
            ("ours MP/s", ".2f"),
            ("OpenJPEG MP/s", ".2f"),
            ("ours / OpenJPEG", ".2f"),
        ],  # fmt: skip
        notes=[
            "ours: one call for the batch; OpenJPEG: libopenjp2 through Pillow, one call per "
            "image; lossy at 1 bpp (its ratio 8 C / 1)",
        ],
    )
    for label, X in sets:
        C = 3 if X.ndim == 4 else 1
        megapixels = X.shape[0] * X.shape[1] * X.shape[2] / 1e6
        for mode, codec, ratio in [
            ("1 bpp", JPEG2000Codec(1.0), 8.0 * C),
            ("lossless", JPEG2000Codec(wavelet="cdf53"), None),
        ]:
            codec.fit(X)
            streams = codec.compress(X)
            files = [pillow_encode(x, ratio) for x in X]
            routines = {
                "ours encode": lambda codec=codec, X=X: codec.compress(X),
                "opj encode": lambda ratio=ratio, X=X: [pillow_encode(x, ratio) for x in X],
                "ours decode": lambda codec=codec, s=streams: codec.decompress(s),
                "opj decode": lambda f=files: [pillow_decode(d) for d in f],
            }
            with _common.limit_threads(threads):
                t = _common.median_times(routines, repeats)
            for what in ("encode", "decode"):
                ours, theirs = megapixels / t[f"ours {what}"], megapixels / t[f"opj {what}"]
                table.add(label, f"{what} {mode}", ours, theirs, ours / theirs)
    report.show(table)


def main(argv=None):
    parser = _common.parser(__doc__, threads=1)
    parser.add_argument("--size", type=int, default=None, help="side of the photographs")
    parser.add_argument("--repeats", type=int, default=None, help="timed calls (default 5)")
    args = parser.parse_args(argv)
    report = _common.Report(__file__, __doc__, args, argv, peers=["opj_compress", "PIL"])
    if shutil.which("opj_compress") is None or shutil.which("opj_decompress") is None:
        report.note("OpenJPEG's opj_compress / opj_decompress are needed: nothing to compare")
        return report.finish()
    size = args.size or (256 if args.quick else 512)
    repeats = args.repeats or (3 if args.quick else 5)
    rates = QUICK_RATES if args.quick else RATES
    gray = load_photographs(size=size)
    colour = load_photographs(size=size, color=True)
    sets = [
        (f"{len(gray.images)} gray {size} x {size}", gray.images),
        (f"{len(colour.images)} colour {size} x {size}", colour.images),
    ]
    with _common.scratch_directory() as tmp:
        from pathlib import Path

        directory = Path(tmp)
        rate_distortion(report, gray.images, gray.names, rates, sets[0][0], directory)
        rate_distortion(report, colour.images, colour.names, rates, sets[1][0], directory)
        lossless(report, sets, directory)
    speed(report, sets, repeats, args.threads)
    return report.finish()


if __name__ == "__main__":
    main()
