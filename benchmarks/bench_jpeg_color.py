"""Throughput of the colour JPEG path against Pillow's JPEG encoder (libjpeg-turbo).

Inputs: the six colour photographs of ``skimage.data`` (astronaut, coffee,
chelsea, rocket) and ``sklearn.datasets.load_sample_images`` (china, flower),
uint8 RGB, one image per call as a JPEG encoder gets them.

Routines, each over all six photographs:

``ours float`` / ``ours libjpeg``
    The steps of :func:`skcompress.codecs.jpeg_color_planes`:
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

BLAS gets ``--threads`` threads (default 1: Pillow encodes on one thread,
and on a shared machine idle BLAS threads wait for busy cores). Every
routine runs ``--repeats`` times after a warm-up, the routines taking
turns within each repeat so that noise on a shared machine hits them alike;
the table gives the median (``--quick``: 3 repeats, three photographs). The
breakdown times each stage of ``ours float`` on its own (inputs prepared
beforehand), median over the repeats of the sum over the photographs.

Usage::

    python benchmarks/bench_jpeg_color.py [--quick] [--json PATH] [--repeats 15]
        [--quality 75] [--threads 1]
"""

import io
from pathlib import Path

import _common
import jpeglib
import numpy as np
from PIL import Image

from skcompress.codecs import jpeg_color_planes


def stages(steps):
    """Each stage of the fitted colour path as a function of the previous stage's output."""
    return {
        "color": steps.color.transform,
        "subsample": steps.subsampler.transform,
        "split": steps.subsampler.split,
        "dct": lambda planes: [
            d.transform(p) for d, p in zip(steps.transforms, planes, strict=True)
        ],
        "quantize": lambda Gs: [q.transform(G) for q, G in zip(steps.quantizers, Gs, strict=True)],
    }


def pillow_encode(rgb, quality):
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=quality, subsampling=2)
    return buffer


def check_against_libjpeg(photos, paths, quality, directory):
    """Our libjpeg-method coefficients agree with Pillow's files."""
    for name, rgb in photos.items():
        path = directory / f"{name}.jpg"
        path.write_bytes(pillow_encode(rgb, quality).getvalue())
        jpeg = jpeglib.read_dct(str(path))
        ours = paths["libjpeg"][name].encode(rgb[np.newaxis]).symbols
        for plane, B in zip(("Y", "Cb", "Cr"), ours, strict=True):
            R = getattr(jpeg, plane)
            h, w = R.shape[:2]
            identical = (B[0, :h, :w] == R.reshape(h, w, 64)).mean()
            if identical < 0.99:
                raise AssertionError(f"{name} {plane}: {identical:.4f} identical < 0.99")


def main(argv=None):
    parser = _common.parser(__doc__, threads=1)
    parser.add_argument("--repeats", type=int, default=None, help="timed calls (default 15)")
    parser.add_argument("--quality", type=int, default=75)
    args = parser.parse_args(argv)
    report = _common.Report(__file__, __doc__, args, argv, peers=["PIL", "jpeglib"])
    repeats = args.repeats or (3 if args.quick else 15)
    names = _common.COLOUR_PHOTOGRAPHS[:3] if args.quick else _common.COLOUR_PHOTOGRAPHS
    photos = _common.photographs(names)
    n_pixels = sum(rgb.shape[0] * rgb.shape[1] for rgb in photos.values())
    paths = {
        method: {
            name: jpeg_color_planes(
                rgb[np.newaxis], args.quality, method=method, order="natural"
            ).steps
            for name, rgb in photos.items()
        }
        for method in ("float", "libjpeg")
    }
    with _common.scratch_directory() as tmp:
        check_against_libjpeg(photos, paths, args.quality, Path(tmp))
    inputs = {name: rgb[np.newaxis] for name, rgb in photos.items()}

    def ours(method):
        return lambda: [paths[method][n].encode(X) for n, X in inputs.items()]

    routines = {
        "ours float": ours("float"),
        "ours libjpeg": ours("libjpeg"),
        "pillow": lambda: [pillow_encode(rgb, args.quality) for rgb in photos.values()],
    }
    with _common.limit_threads(args.threads):
        medians = _common.median_times(routines, repeats)
        # the breakdown of "ours float": every stage timed alone on prepared inputs
        stage_inputs = {}
        for name, X in inputs.items():
            out = X
            for stage, fn in stages(paths["float"][name]).items():
                stage_inputs[name, stage] = out
                out = fn(out)

        def stage(which):
            return lambda: [
                stages(paths["float"][n])[which](stage_inputs[n, which]) for n in inputs
            ]

        stage_names = list(stages(paths["float"][names[0]]))
        stage_medians = _common.median_times({s: stage(s) for s in stage_names}, repeats)

    table = report.table(
        f"{len(photos)} photographs, {n_pixels / 1e6:.2f} Mpixel in all, quality "
        f"{args.quality}, 4:2:0: median of {repeats} repeats",
        [
            ("routine", "s"),
            ("ms", ".1f"),
            ("images/s", ".1f"),
            ("Mpixel/s", ".1f"),
            ("speed / Pillow", ".3f"),
        ],
        notes=[
            "ours: the quantized coefficients; Pillow: the same steps in libjpeg-turbo's SIMD "
            "code, plus Huffman coding and the file",
            "ours libjpeg checked against Pillow's files (>= 99% identical per plane) first",
        ],
    )
    for name, seconds in medians.items():
        table.add(
            name,
            1e3 * seconds,
            len(photos) / seconds,
            n_pixels / seconds / 1e6,
            medians["pillow"] / seconds,
        )
    report.show(table)
    total = sum(stage_medians.values())
    breakdown = report.table(
        "Where ours float spends its time (each stage alone)",
        [("stage", "s"), ("ms", ".1f"), ("share", ".1%")],
    )
    for name, seconds in stage_medians.items():
        breakdown.add(name, 1e3 * seconds, seconds / total)
    breakdown.add("sum", 1e3 * total, None)
    report.show(breakdown)
    return report.finish()


if __name__ == "__main__":
    main()
