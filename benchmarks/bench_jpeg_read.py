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

Routines, over all the files of a set, one thread:

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
turns within each round) and ours / pillow.

``--learn`` adds the end-to-end check: the 5,000 MNIST digits written as
quality-75 JPEG files, a ``BlockDCTNetClassifier`` (16 coefficients per block,
``--epochs`` epochs, seed 0) trained on 4,000 and tested on 1,000, once from
the files' coefficients and once from our JPEG path on the pixels.

Usage::

    python benchmarks/bench_jpeg_read.py [--repeats 7] [--learn [--epochs 10]]
"""

import argparse
import platform
import tempfile
import time
from importlib.metadata import version

import numpy as np
import PIL
import skimage.data
from PIL import Image, features
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

from skcompress import BlockDCT, PerceptualQuantizer
from skcompress.datasets import load_mnist
from skcompress.io import JPEGCoefficients, load_jpeg_folder, write_jpeg


def _crops(n, colour):
    photos = [skimage.data.astronaut(), skimage.data.coffee(), skimage.data.chelsea(),
              skimage.data.rocket()]  # fmt: skip
    crops = []
    for i in range(n):
        photo = Image.fromarray(photos[i % len(photos)])
        scale = 512 / min(photo.size)
        photo = photo.resize((round(photo.width * scale) + 8, round(photo.height * scale) + 8))
        shift = i // len(photos) % 8
        crop = np.asarray(photo)[shift : shift + 512, shift : shift + 512]
        crops.append(crop if colour else np.asarray(Image.fromarray(crop).convert("L")))
    return np.stack(crops)


def _sets(folder):
    mnist = load_mnist().images[:2000]
    return {
        "mnist": write_jpeg(mnist, f"{folder}/mnist", quality=75),
        "512 gray": write_jpeg(_crops(200, False), f"{folder}/gray", quality=75),
        "512 colour": write_jpeg(_crops(200, True), f"{folder}/colour", quality=75),
    }


def _routines(paths):
    reader = JPEGCoefficients().fit(paths[:1])
    reader16 = JPEGCoefficients(dtype=np.int16).fit(paths[:1])
    first = np.asarray(Image.open(paths[0]))
    planes = first[None] if first.ndim == 2 else first[None, ..., 0]
    dct = BlockDCT().fit(planes)
    quantizer = PerceptualQuantizer(quality=75).fit(dct.transform(planes))

    def pillow():
        return [np.asarray(Image.open(p)) for p in paths]

    def pillow_dct():
        for p in paths:
            pixels = np.asarray(Image.open(p))
            channels = pixels[None] if pixels.ndim == 2 else np.moveaxis(pixels, -1, 0)
            quantizer.transform(dct.transform(channels[:, : planes.shape[1], : planes.shape[2]]))

    routines = {"ours": lambda: reader.transform(paths),
                "ours i16": lambda: reader16.transform(paths), "pillow": pillow,
                "pillow+dct": pillow_dct}  # fmt: skip
    try:
        import jpeglib
    except ImportError:
        return routines

    def read_dct():
        for p in paths:
            jpeg = jpeglib.read_dct(p)
            jpeg.Y  # noqa: B018 (jpeglib reads lazily)
            if jpeg.has_chrominance:
                jpeg.Cb, jpeg.Cr  # noqa: B018

    routines["jpeglib"] = read_dct
    return routines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=7, help="timed rounds per routine")
    parser.add_argument("--learn", action="store_true", help="train from the files too")
    parser.add_argument("--epochs", type=int, default=10, help="epochs of --learn")
    args = parser.parse_args(argv)
    try:
        jpeglib_version = version("jpeglib")
    except Exception:  # noqa: BLE001
        jpeglib_version = "not installed"
    print(
        f"Python {platform.python_version()}, numpy {np.__version__}, Pillow {PIL.__version__} "
        f"(libjpeg-turbo {features.version('libjpeg_turbo')}), jpeglib {jpeglib_version}"
    )
    print(f"images/s, median of {args.repeats} rounds, one thread\n")
    with tempfile.TemporaryDirectory() as folder:
        sets = _sets(folder)
        names = None
        for set_name, paths in sets.items():
            routines = _routines(paths)
            if names is None:
                names = list(routines)
                header = (
                    f"{'files':<12}" + "".join(f"{n:>12}" for n in names) + f"{'ours/pillow':>13}"
                )
                print(header)
                print("-" * len(header))
            for fn in routines.values():  # warm-up: page cache, imports
                fn()
            times = {n: [] for n in routines}
            for _ in range(args.repeats):
                for n, fn in routines.items():
                    start = time.perf_counter()
                    fn()
                    times[n].append(time.perf_counter() - start)
            rate = {n: len(paths) / float(np.median(t)) for n, t in times.items()}
            print(
                f"{set_name:<12}"
                + "".join(f"{rate.get(n, float('nan')):12.0f}" for n in names)
                + f"{rate['ours'] / rate['pillow']:13.2f}"
            )

    if args.learn:
        _learn(args.epochs)


def _learn(epochs):
    """Accuracy of one network on the files' coefficients and on our JPEG path."""
    from skcompress.nets import BlockDCTNetClassifier

    mnist = load_mnist()
    with tempfile.TemporaryDirectory() as folder:
        write_jpeg(mnist.images, folder, labels=mnist.target, quality=75)
        data = load_jpeg_folder(folder)
        pixels = mnist.images[[int(p.rsplit("image", 1)[1][:-4]) for p in data.filenames]]
        train, test = train_test_split(
            np.arange(len(pixels)), test_size=1000, stratify=data.target, random_state=0
        )
        k = 16
        routes = {
            "JPEG files": (
                [JPEGCoefficients(n_coefficients=k, dtype=np.float32, layout="channels_first")],
                data.filenames,
            ),
            "our JPEG path": (
                [
                    BlockDCT(n_coefficients=k, layout="channels_first"),
                    PerceptualQuantizer(quality=75, n_coefficients=k, layout="channels_first"),
                ],
                pixels,
            ),
        }
        print(f"\nBlockDCTNetClassifier, {k} coefficients per block, {epochs} epochs, seed 0")
        for name, (steps, inputs) in routes.items():
            net = BlockDCTNetClassifier(n_coefficients=k, max_epochs=epochs, random_state=0)
            pipe = make_pipeline(*steps, net).fit(inputs[train], data.target[train])
            print(f"{name:<16} accuracy {pipe.score(inputs[test], data.target[test]):.2%}")


if __name__ == "__main__":
    main()
