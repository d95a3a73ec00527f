"""Throughput of the compiled JPEG kernel against Pillow's encoder and decoder (libjpeg-turbo).

Inputs: the seven colour photographs of
:func:`skcompress.datasets.load_photographs` (scikit-learn's and
scikit-image's, central squares resized to 512 x 512), at quality 75 with
4:2:0 chroma subsampling, and the gray MNIST digits (28 x 28) of
:func:`skcompress.datasets.load_mnist` at quality 75.

Routines, each over all the images of a set (ours: one call for the batch,
as ``JPEGCodec`` makes it; Pillow: one call per image, as it codes them):

``kernel encode islow`` / ``kernel encode float``
    :func:`skcompress.codecs._libjpeg.jpeg_encode`: pixels to the quantized
    coefficients of each component, with libjpeg's integer arithmetic (the
    coefficients of Pillow's files, bit for bit) or the float arithmetic of
    skcompress's numpy steps (``JPEGCodec(dct="float")``).
``kernel compress islow`` / ``kernel compress float``
    The same, then :func:`skcompress.io.write_jpeg_coefficients_batch`:
    standard files with optimized Huffman tables, ``JPEGCodec.compress``'s path.
``kernel decode``
    :func:`skcompress.codecs._libjpeg.jpeg_decode` of the islow coefficients:
    libjpeg-turbo's pixels (integer IDCT, fancy upsampling), bit for bit.
``JPEGCodec.transform islow`` / ``float``, ``JPEGCodec.compress``, ``JPEGCodec.inverse_transform``
    The estimator itself (pixels to symbols, to standard files, symbols to
    pixels), with its checks.
``pillow encode`` / ``pillow encode optimize``
    ``Image.fromarray(x).save(BytesIO(), "JPEG", quality=75, subsampling=2)``
    (and ``optimize=True``: two passes, optimized Huffman tables, as ours):
    the same steps in libjpeg-turbo's SIMD code, plus entropy coding.
``pillow decode``
    ``np.asarray(Image.open(BytesIO(data)))`` of Pillow's files: entropy
    decoding plus what ``kernel decode`` does.

Everything runs on one thread: BLAS gets ``--threads`` (default 1), the
kernel ``n_threads=1``. Every routine runs ``--repeats`` times after a
warm-up, the routines taking turns within each repeat so that noise on a
shared machine hits them alike; the table gives the median and the speed
relative to Pillow (encoders against ``pillow encode``, decoders against
``pillow decode``). ``--quick``: 3 repeats, three photographs, 500 digits.
Before timing, the islow coefficients are checked against those of Pillow's
files and the decoded pixels against Pillow's (identical).

Usage::

    python benchmarks/bench_jpeg_codec.py [--quick] [--json PATH] [--repeats 15]
        [--quality 75] [--threads 1]
"""

import io

import _common
import numpy as np
from PIL import Image

from skcompress.codecs import JPEGCodec
from skcompress.codecs._libjpeg import jpeg_decode, jpeg_encode
from skcompress.datasets import load_mnist, load_photographs
from skcompress.io import read_jpeg_coefficients, write_jpeg_coefficients_batch

FACTORS = [[2, 2], [1, 1], [1, 1]]  # 4:2:0


def pillow_file(image, quality, **options):
    buffer = io.BytesIO()
    extra = {"subsampling": 2} if image.ndim == 3 else {}
    Image.fromarray(image).save(buffer, "JPEG", quality=quality, **extra, **options)
    return buffer.getvalue()


def pillow_decode(data):
    return np.asarray(Image.open(io.BytesIO(data)))


def compress(X, tables, dct):
    """The kernel's coefficients written to one standard file per image."""
    coefficients = jpeg_encode(X, tables, dct=dct)
    factors = FACTORS[: len(coefficients)] if X.ndim == 4 else None
    return write_jpeg_coefficients_batch(
        coefficients, tables, shape=X.shape[1:3], sampling_factors=factors
    )


def check_against_pillow(X, files, tables):
    """islow coefficients and decoded pixels identical to Pillow's, or an error."""
    coefficients = jpeg_encode(X, tables)
    pixels = jpeg_decode(coefficients, tables, X.shape[1:3])
    for i, data in enumerate(files):
        jpeg = read_jpeg_coefficients(data)
        for ours, theirs in zip(coefficients, jpeg.coefficients, strict=True):
            if not np.array_equal(ours[i], theirs):
                raise AssertionError(f"image {i}: islow coefficients differ from Pillow's file")
        if not np.array_equal(pixels[i], pillow_decode(data)):
            raise AssertionError(f"image {i}: decoded pixels differ from Pillow's")
    return coefficients


def routines(X, quality, with_codec):
    """The timed routines of one image set, and the peer each is compared with."""
    files = [pillow_file(x, quality) for x in X]
    tables = np.asarray(read_jpeg_coefficients(files[0]).quantization_tables)
    coefficients = check_against_pillow(X, files, tables)
    found = {
        "kernel encode islow": (lambda: jpeg_encode(X, tables), "pillow encode"),
        "kernel encode float": (lambda: jpeg_encode(X, tables, dct="float"), "pillow encode"),
        "kernel compress islow": (lambda: compress(X, tables, "islow"), "pillow encode"),
        "kernel compress float": (lambda: compress(X, tables, "float"), "pillow encode"),
        "kernel decode": (
            lambda: jpeg_decode(coefficients, tables, X.shape[1:3]),
            "pillow decode",
        ),
    }
    if with_codec:
        for dct in ("islow", "float"):
            codec = JPEGCodec(quality, dct=dct).fit(X[:1])
            found[f"JPEGCodec.transform {dct}"] = (
                lambda codec=codec: codec.transform(X),
                "pillow encode",
            )
        symbols = codec.transform(X)
        found["JPEGCodec.compress"] = (lambda: codec.compress(X), "pillow encode")
        found["JPEGCodec.inverse_transform"] = (
            lambda: codec.inverse_transform(symbols),
            "pillow decode",
        )
    found["pillow encode"] = (lambda: [pillow_file(x, quality) for x in X], "pillow encode")
    found["pillow encode optimize"] = (
        lambda: [pillow_file(x, quality, optimize=True) for x in X],
        "pillow encode",
    )
    found["pillow decode"] = (lambda: [pillow_decode(f) for f in files], "pillow decode")
    return found


def main(argv=None):
    parser = _common.parser(__doc__, threads=1)
    parser.add_argument("--repeats", type=int, default=None, help="timed calls (default 15)")
    parser.add_argument("--quality", type=int, default=75)
    args = parser.parse_args(argv)
    report = _common.Report(__file__, __doc__, args, argv, peers=["PIL"])
    repeats = args.repeats or (3 if args.quick else 15)
    photos = load_photographs(size=512, color=True).images
    digits = load_mnist().images
    if args.quick:
        photos, digits = photos[:3], digits[:500]
    sets = [
        (f"{len(photos)} colour photographs 512 x 512, 4:2:0", photos, True),
        (f"{len(digits)} gray MNIST digits 28 x 28", digits, True),
    ]
    for title, X, with_codec in sets:
        found = routines(X, args.quality, with_codec)
        with _common.limit_threads(args.threads):
            medians = _common.median_times({k: fn for k, (fn, _) in found.items()}, repeats)
        table = report.table(
            f"{title}, quality {args.quality}: median of {repeats} repeats, one thread",
            [
                ("routine", "s"),
                ("ms", ".2f"),
                ("images/s", ",.0f"),
                ("speed / Pillow", ".2f"),
                ("Pillow routine", "s"),
            ],
            notes=[
                "ours: one call for the batch; Pillow: one call per image",
                "kernel islow coefficients and decoded pixels checked identical to Pillow's",
            ],
        )
        for name, seconds in medians.items():
            peer = found[name][1]
            table.add(name, 1e3 * seconds, len(X) / seconds, medians[peer] / seconds, peer)
        report.show(table)
    return report.finish()


if __name__ == "__main__":
    main()
