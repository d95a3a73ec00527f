"""Throughput of the colour JPEG path against Pillow's JPEG encoder (libjpeg-turbo).

Inputs: the six colour photographs of ``skimage.data`` (astronaut, coffee,
chelsea, rocket) and ``sklearn.datasets.load_sample_images`` (china, flower),
uint8 RGB, one image per call as a JPEG encoder gets them.

Routines, each over all six photographs:

``ours float`` / ``ours libjpeg``
    ``ColorTransform -> ChromaSubsampler("4:2:0", block_size=8) -> split ->
    BlockDCT(level_shift=128)`` per plane ``-> PerceptualQuantizer`` (luma
    table for Y, chroma table for Cb and Cr), both colour steps with
    ``method="float"`` or ``"libjpeg"``; ``transform`` calls only, the steps
    being fitted beforehand. Ends with the quantized coefficients.
``pillow``
    ``Image.fromarray(rgb).save(BytesIO(), "JPEG", quality=q, subsampling=2)``:
    the same steps in libjpeg-turbo's SIMD code, plus Huffman coding and the
    file markers that ours does not do.

Before timing, the quantized coefficients of ``ours libjpeg`` are checked
against those of Pillow's files (read with jpeglib, at least 99% identical per
plane), so the table compares the same computation.

BLAS gets ``--blas-threads`` threads (default 1: Pillow encodes on one
thread, and on a shared machine idle BLAS threads wait for busy cores). Every
routine runs ``--repeats`` times after a warm-up, the routines taking
turns within each repeat so that noise on a shared machine hits them alike;
the table gives the median. The breakdown times each stage of ``ours float``
on its own (inputs prepared beforehand), median over the repeats of the sum
over the photographs.

Usage::

    python benchmarks/bench_jpeg_color.py [--quick] [--repeats 15] [--quality 75]
        [--blas-threads 1]
"""

import argparse
import io
import os
import platform
import tempfile
import time
from pathlib import Path

import jpeglib
import numpy as np
import skimage.data
import sklearn
from PIL import Image
from sklearn.datasets import load_sample_images
from threadpoolctl import threadpool_info, threadpool_limits

from skcompress import BlockDCT, ChromaSubsampler, ColorTransform, PerceptualQuantizer

TABLES = ("jpeg-luma", "jpeg-chroma", "jpeg-chroma")


def photographs():
    china, flower = load_sample_images().images
    photos = {n: getattr(skimage.data, n)() for n in ("astronaut", "coffee", "chelsea", "rocket")}
    return {**photos, "china": china, "flower": flower}


class ColourJPEG:
    """The fitted steps of our colour JPEG path for one image size."""

    def __init__(self, rgb, quality, method):
        X = rgb[np.newaxis]
        self.color = ColorTransform(method=method, layout="blocks").fit(X)
        ycc = self.color.transform(X)
        self.subsampler = ChromaSubsampler("4:2:0", method=method, block_size=8).fit(ycc)
        planes = self.subsampler.split(self.subsampler.transform(ycc))
        self.dcts, self.quantizers = [], []
        for plane, table in zip(planes, TABLES, strict=True):
            dct = BlockDCT(level_shift=128, layout="blocks", order="natural").fit(plane)
            G = dct.transform(plane)
            self.dcts.append(dct)
            self.quantizers.append(
                PerceptualQuantizer(
                    table=table, quality=quality, order="natural", layout="blocks"
                ).fit(G)
            )

    def stages(self, X):
        """Each stage as a function of the previous stage's output."""
        return {
            "color": self.color.transform,
            "subsample": self.subsampler.transform,
            "split": self.subsampler.split,
            "dct": lambda planes: [d.transform(p) for d, p in zip(self.dcts, planes, strict=True)],
            "quantize": lambda Gs: [
                q.transform(G) for q, G in zip(self.quantizers, Gs, strict=True)
            ],
        }

    def encode(self, X):
        out = X
        for stage in self.stages(X).values():
            out = stage(out)
        return out


def pillow_encode(rgb, quality):
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=quality, subsampling=2)
    return buffer


def check_against_libjpeg(photos, paths, quality):
    """Our libjpeg-method coefficients agree with Pillow's files."""
    with tempfile.TemporaryDirectory() as tmp:
        for name, rgb in photos.items():
            path = Path(tmp) / f"{name}.jpg"
            path.write_bytes(pillow_encode(rgb, quality).getvalue())
            jpeg = jpeglib.read_dct(str(path))
            ours = paths["libjpeg"][name].encode(rgb[np.newaxis])
            for plane, B in zip(("Y", "Cb", "Cr"), ours, strict=True):
                R = getattr(jpeg, plane)
                h, w = R.shape[:2]
                identical = (B[0, :h, :w] == R.reshape(h, w, 64)).mean()
                if identical < 0.99:
                    raise AssertionError(f"{name} {plane}: {identical:.4f} identical < 0.99")


def median_times(routines, repeats):
    """Median seconds of each routine; they take turns within every repeat."""
    for fn in routines.values():
        fn()
    times = {name: [] for name in routines}
    for _ in range(repeats):
        for name, fn in routines.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: float(np.median(t)) for name, t in times.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="5 repeats instead of 15")
    parser.add_argument("--repeats", type=int, default=None, help="timed calls per routine")
    parser.add_argument("--quality", type=int, default=75)
    parser.add_argument("--blas-threads", type=int, default=1)
    args = parser.parse_args(argv)
    with threadpool_limits(limits=args.blas_threads, user_api="blas"):
        run(args)


def run(args):
    repeats = args.repeats or (5 if args.quick else 15)

    blas = ", ".join(
        f"{lib['internal_api']} {lib['version']} ({lib['num_threads']} threads)"
        for lib in threadpool_info()
        if lib["user_api"] == "blas"
    )
    print(
        f"Python {platform.python_version()}, numpy {np.__version__}, scikit-learn "
        f"{sklearn.__version__}, Pillow {Image.__version__} (libjpeg-turbo "
        f"{Image.core.libjpeg_turbo_version or 'no'}), BLAS {blas}, {os.cpu_count()} CPUs"
    )
    photos = photographs()
    n_pixels = sum(rgb.shape[0] * rgb.shape[1] for rgb in photos.values())
    print(
        f"{len(photos)} photographs, {n_pixels / 1e6:.2f} Mpixel in all, quality "
        f"{args.quality}, 4:2:0, median of {repeats} repeats"
    )
    paths = {
        method: {name: ColourJPEG(rgb, args.quality, method) for name, rgb in photos.items()}
        for method in ("float", "libjpeg")
    }
    check_against_libjpeg(photos, paths, args.quality)
    inputs = {name: rgb[np.newaxis] for name, rgb in photos.items()}

    def ours(method):
        return lambda: [paths[method][n].encode(X) for n, X in inputs.items()]

    routines = {
        "ours float": ours("float"),
        "ours libjpeg": ours("libjpeg"),
        "pillow": lambda: [pillow_encode(rgb, args.quality) for rgb in photos.values()],
    }
    medians = median_times(routines, repeats)
    peer = medians["pillow"]
    line = "{:<14} {:>10} {:>10} {:>10} {:>14}"
    print("\n" + line.format("routine", "ms", "images/s", "Mpixel/s", "speed / pillow"))
    for name, seconds in medians.items():
        print(
            line.format(
                name,
                f"{1e3 * seconds:.1f}",
                f"{len(photos) / seconds:.1f}",
                f"{n_pixels / seconds / 1e6:.1f}",
                f"{peer / seconds:.3f}",
            )
        )

    # Breakdown of "ours float": every stage timed alone on prepared inputs.
    stage_inputs = {}
    for name, X in inputs.items():
        out, steps = X, paths["float"][name].stages(X)
        for stage, fn in steps.items():
            stage_inputs[name, stage] = out
            out = fn(out)

    def stage(which):
        return lambda: [
            paths["float"][n].stages(X)[which](stage_inputs[n, which]) for n, X in inputs.items()
        ]

    names = list(paths["float"]["astronaut"].stages(None))
    stage_medians = median_times({s: stage(s) for s in names}, repeats)
    total = sum(stage_medians.values())
    print("\nWhere ours float spends its time (each stage alone)")
    line = "{:<10} {:>8} {:>8}"
    print(line.format("stage", "ms", "share"))
    for name, seconds in stage_medians.items():
        print(line.format(name, f"{1e3 * seconds:.1f}", f"{seconds / total:.1%}"))
    print(line.format("sum", f"{1e3 * total:.1f}", ""))


if __name__ == "__main__":
    main()
