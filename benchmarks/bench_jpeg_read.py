"""Reading JPEG coefficients against decoding the same files to pixels.

Files (written once by Pillow into a temporary folder, read back from the page
cache by every routine):

``mnist``
    2,000 of the embedded MNIST digits, 28x28 gray, quality 75.
``512 gray``
    200 gray 512x512 crops of the ``skimage.data`` photographs (each photo
    resized to 512 on its short side by Pillow, cropped, shifted per file),
    quality 75.
``512 colour``
    The same crops in colour, 4:2:0.

Routines, over all the files of a set, one thread (``--threads``):

``ours``, ``ours i16``
    ``JPEGCoefficients().transform(paths)``: quantized coefficients in
    BlockDCT's layout, int32 (the dtype of PerceptualQuantizer's symbols) or
    int16 (libjpeg's own, half the memory to write).
``pillow``
    ``np.asarray(Image.open(path))`` per file: libjpeg-turbo's full decode
    (entropy decoding, inverse DCT, upsampling and colour conversion).
``pillow+dct``
    The same, then ``BlockDCT`` and ``PerceptualQuantizer`` of the decoded
    pixels (the route that recomputes coefficients the file already had).
``jpeglib``
    ``jpeglib.read_dct(path)`` per file, touching ``Y`` (and ``Cb``, ``Cr``).

The table gives images/s (median of ``--repeats`` rounds, the routines taking
turns within each round) and ours / pillow. ``--quick``: 200 digits and 8
crops of each kind, 3 rounds.

``--learn`` adds the end-to-end check: the 5,000 MNIST digits written as
quality-75 JPEG files, a ``BlockDCTNetClassifier`` (16 coefficients per block,
``--epochs`` epochs, seed 0) trained on 4,000 and tested on 1,000, once from
the files' coefficients and once from our JPEG path on the pixels.

Usage::

    python benchmarks/bench_jpeg_read.py [--quick] [--json PATH] [--repeats 7]
        [--learn [--epochs 10]]
"""

import tempfile

import _common
import numpy as np
from PIL import Image
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

from skcompress.codecs import jpeg_gray_steps
from skcompress.datasets import load_mnist
from skcompress.io import JPEGCoefficients, load_jpeg_folder, write_jpeg

CROPPED = ("astronaut", "coffee", "chelsea", "rocket")


def _crops(n, colour):
    photos = list(_common.photographs(CROPPED).values())
    crops = []
    for i in range(n):
        photo = Image.fromarray(photos[i % len(photos)])
        scale = 512 / min(photo.size)
        photo = photo.resize((round(photo.width * scale) + 8, round(photo.height * scale) + 8))
        shift = i // len(photos) % 8
        crop = np.asarray(photo)[shift : shift + 512, shift : shift + 512]
        crops.append(crop if colour else np.asarray(Image.fromarray(crop).convert("L")))
    return np.stack(crops)


def _sets(folder, quick):
    n_digits, n_crops = (200, 8) if quick else (2000, 200)
    mnist = load_mnist().images[:n_digits]
    return {
        "mnist": write_jpeg(mnist, f"{folder}/mnist", quality=75),
        "512 gray": write_jpeg(_crops(n_crops, False), f"{folder}/gray", quality=75),
        "512 colour": write_jpeg(_crops(n_crops, True), f"{folder}/colour", quality=75),
    }


def _routines(paths, with_jpeglib):
    reader = JPEGCoefficients().fit(paths[:1])
    reader16 = JPEGCoefficients(dtype=np.int16).fit(paths[:1])
    first = np.asarray(Image.open(paths[0]))
    planes = first[None] if first.ndim == 2 else first[None, ..., 0]
    jpeg = make_pipeline(*jpeg_gray_steps(75)).fit(planes)

    def pillow():
        return [np.asarray(Image.open(p)) for p in paths]

    def pillow_dct():
        for p in paths:
            pixels = np.asarray(Image.open(p))
            channels = pixels[None] if pixels.ndim == 2 else np.moveaxis(pixels, -1, 0)
            jpeg.transform(channels[:, : planes.shape[1], : planes.shape[2]])

    routines = {"ours": lambda: reader.transform(paths),
                "ours i16": lambda: reader16.transform(paths), "pillow": pillow,
                "pillow+dct": pillow_dct}  # fmt: skip
    if with_jpeglib:
        import jpeglib

        def read_dct():
            for p in paths:
                jpeg = jpeglib.read_dct(p)
                jpeg.Y  # noqa: B018 (jpeglib reads lazily)
                if jpeg.has_chrominance:
                    jpeg.Cb, jpeg.Cr  # noqa: B018

        routines["jpeglib"] = read_dct
    return routines


def main(argv=None):
    parser = _common.parser(__doc__, threads=1)
    parser.add_argument("--repeats", type=int, default=None, help="timed rounds (default 7)")
    parser.add_argument("--learn", action="store_true", help="train from the files too")
    parser.add_argument("--epochs", type=int, default=10, help="epochs of --learn")
    args = parser.parse_args(argv)
    peers = ["PIL", "jpeglib"] + (["torch"] if args.learn else [])
    report = _common.Report(__file__, __doc__, args, argv, peers=peers)
    repeats = args.repeats or (3 if args.quick else 7)
    names = ["ours", "ours i16", "pillow", "pillow+dct"] + ["jpeglib"] * report.has("jpeglib")
    table = report.table(
        f"images/s, median of {repeats} rounds",
        [("files", "s"), ("n", "d")] + [(n, ".0f") for n in names] + [("ours / pillow", ".2f")],
    )
    with _common.limit_threads(args.threads), tempfile.TemporaryDirectory() as folder:
        for set_name, paths in _sets(folder, args.quick).items():
            routines = _routines(paths, report.has("jpeglib"))
            seconds = _common.median_times(routines, repeats)
            rate = {n: len(paths) / t for n, t in seconds.items()}
            table.add(
                set_name, len(paths), *(rate[n] for n in names), rate["ours"] / rate["pillow"]
            )
    report.show(table)
    if args.learn:
        if report.has("torch"):
            _learn(report, args.epochs)
        else:
            report.note("--learn needs torch: skipped")
    return report.finish()


def _learn(report, epochs):
    """Accuracy of one network on the files' coefficients and on our JPEG path."""
    from skcompress.nets import BlockDCTNetClassifier

    mnist = load_mnist()
    k = 16
    table = report.table(
        f"BlockDCTNetClassifier, {k} coefficients per block, {epochs} epochs, seed 0",
        [("input", "s"), ("accuracy", ".2%")],
    )
    with tempfile.TemporaryDirectory() as folder:
        write_jpeg(mnist.images, folder, labels=mnist.target, quality=75)
        data = load_jpeg_folder(folder)
        pixels = mnist.images[[int(p.rsplit("image", 1)[1][:-4]) for p in data.filenames]]
        train, test = train_test_split(
            np.arange(len(pixels)), test_size=1000, stratify=data.target, random_state=0
        )
        routes = {
            "JPEG files": (
                [JPEGCoefficients(n_coefficients=k, dtype=np.float32, layout="channels_first")],
                data.filenames,
            ),
            "our JPEG path": (
                jpeg_gray_steps(75, n_coefficients=k, layout="channels_first"),
                pixels,
            ),
        }
        for name, (steps, inputs) in routes.items():
            net = BlockDCTNetClassifier(n_coefficients=k, max_epochs=epochs, random_state=0)
            pipe = make_pipeline(*steps, net).fit(inputs[train], data.target[train])
            table.add(name, pipe.score(inputs[test], data.target[test]))
    report.show(table)


if __name__ == "__main__":
    main()
