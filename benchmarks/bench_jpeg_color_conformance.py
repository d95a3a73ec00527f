"""Conformance of skcompress's colour JPEG path with libjpeg, plane by plane.

Every colour photograph is written by Pillow (libjpeg-turbo, integer slow DCT)
as a baseline JPEG with 4:2:0 chroma subsampling, its quantized coefficients
are read back with jpeglib and compared with those of
:func:`skcompress.codecs.jpeg_color_planes`::

    ColorTransform -> ChromaSubsampler(block_size=8) -> split
    -> BlockDCT(level_shift=128) per plane
    -> PerceptualQuantizer("jpeg-luma") for Y, ("jpeg-chroma") for Cb and Cr

once with ``method="float"`` (exact colour matrix and chroma means) and once
with ``method="libjpeg"`` (libjpeg's fixed point colour conversion and biased
integer downsampling) for both colour steps. The luma blocks that libjpeg adds
to complete the last MCUs are dummy blocks that jpeglib leaves out; ours are
cropped to the file's grid.

The mismatches of the "libjpeg" rows are then explained as in
``bench_jpeg_conformance.py``: our planes go through the emulation of
libjpeg's integer slow DCT and integer quantization
(``skcompress.codecs._libjpeg``; ``emulated``: fraction of the file's
coefficients it reproduces, 1 meaning that our planes are libjpeg's samples
exactly), and a mismatch counts as ``dct`` when the rounding boundary lies
between our exact ``8 G`` and libjpeg's fixed point ``t`` (ties included), as
``other`` otherwise.

Data: the six colour photographs (scikit-image's astronaut, coffee, chelsea,
rocket; scikit-learn's china and flower). ``--quick``: qualities 50 and 90.

Columns: ``Y``, ``Cb``, ``Cr`` fraction of identical coefficients per plane,
``max |d|`` largest difference in levels, ``mismatches`` their count over the
three planes, ``dct``, ``other`` and ``emulated`` as above ("libjpeg" rows
only).

Usage::

    python benchmarks/bench_jpeg_color_conformance.py [--quick] [--json PATH]
        [--qualities 10 50 75 90]
"""

from pathlib import Path

import _common
import jpeglib
import numpy as np
from PIL import Image

from skcompress.codecs import jpeg_color_planes
from skcompress.codecs._libjpeg import islow_blocks, libjpeg_quantize

PLANES = ("Y", "Cb", "Cr")
METHODS = ("float", "libjpeg")


def compare(rgb, quality, path):
    """Rows for both methods: agreement per plane and the cause of each mismatch."""
    Image.fromarray(rgb).save(path, quality=quality, subsampling=2)
    jpeg = jpeglib.read_dct(str(path))
    rows = {}
    for method in METHODS:
        ours = jpeg_color_planes(rgb[np.newaxis], quality, method=method, order="natural")
        row = {"identical": {}, "max|d|": 0, "mismatches": 0, "dct": 0, "other": 0, "emu": []}
        for plane, samples, G, B, quantizer in zip(
            PLANES,
            ours.samples,
            ours.coefficients,
            ours.symbols,
            ours.steps.quantizers,
            strict=True,
        ):
            R = getattr(jpeg, plane).astype(np.int64)
            h, w = R.shape[:2]
            G = G[0, :h, :w].reshape(h, w, 8, 8)
            B = B[0, :h, :w].reshape(h, w, 8, 8).astype(np.int64)
            steps = quantizer.steps_.reshape(8, 8)
            differ = B != R
            row["identical"][plane] = 1 - differ.mean()
            row["max|d|"] = max(row["max|d|"], int(np.abs(B - R).max()))
            row["mismatches"] += int(differ.sum())
            if method == "libjpeg":
                t = islow_blocks(samples[:, : 8 * h, : 8 * w].astype(np.int64))[0]
                threshold = (B + R) / 2 * 8 * steps
                low, high = np.minimum(8 * G, t), np.maximum(8 * G, t)
                crossed = (low <= threshold + 1e-6) & (threshold - 1e-6 <= high)
                row["dct"] += int((differ & crossed).sum())
                row["other"] += int((differ & ~crossed).sum())
                row["emu"].append(float((libjpeg_quantize(t, steps) == R).mean()))
        rows[method] = row
    return rows


def main(argv=None):
    parser = _common.parser(__doc__)
    parser.add_argument("--qualities", type=int, nargs="+", default=None)
    args = parser.parse_args(argv)
    report = _common.Report(__file__, __doc__, args, argv, peers=["jpeglib", "PIL"])
    qualities = args.qualities or ([50, 90] if args.quick else [10, 50, 75, 90])
    table = report.table(
        "Our quantized coefficients against libjpeg's files, colour 4:2:0",
        [
            ("image", "s"),
            ("quality", "d"),
            ("method", "s"),
            ("Y", ".5f"),
            ("Cb", ".5f"),
            ("Cr", ".5f"),
            ("max |d|", "d"),
            ("mismatches", "d"),
            ("dct", "d"),
            ("other", "d"),
            ("emulated", ".4f"),
        ],
    )
    pooled = {}
    with _common.limit_threads(args.threads), _common.scratch_directory() as tmp:
        for quality in qualities:
            for name, rgb in _common.photographs().items():
                rows = compare(rgb, quality, Path(tmp) / f"{name}_{quality}.jpg")
                for method, r in rows.items():
                    explained = method == "libjpeg"
                    table.add(
                        name,
                        quality,
                        method,
                        *(r["identical"][p] for p in PLANES),
                        r["max|d|"],
                        r["mismatches"],
                        r["dct"] if explained else None,
                        r["other"] if explained else None,
                        min(r["emu"]) if explained else None,
                    )
                    for p in PLANES:
                        pooled.setdefault((method, quality, p), []).append(r["identical"][p])
    report.show(table)
    summary = report.table(
        "Mean fraction identical over the photographs",
        [("method", "s"), ("quality", "d"), ("Y", ".5f"), ("Cb", ".5f"), ("Cr", ".5f")],
    )
    for method in METHODS:
        for quality in qualities:
            summary.add(method, quality, *(np.mean(pooled[method, quality, p]) for p in PLANES))
    report.show(summary)
    return report.finish()


if __name__ == "__main__":
    main()
