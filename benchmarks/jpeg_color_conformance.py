"""Conformance of skcompress's colour JPEG path with libjpeg, plane by plane.

Every colour photograph is written by Pillow (libjpeg-turbo, integer slow DCT)
as a baseline JPEG with 4:2:0 chroma subsampling, its quantized coefficients
are read back with jpeglib and compared with ours::

    ColorTransform -> ChromaSubsampler(block_size=8) -> split
    -> BlockDCT(level_shift=128) per plane
    -> PerceptualQuantizer("jpeg-luma") for Y, ("jpeg-chroma") for Cb and Cr

once with ``method="float"`` (exact colour matrix and chroma means) and once
with ``method="libjpeg"`` (libjpeg's fixed point colour conversion and biased
integer downsampling) for both colour steps. The luma blocks that libjpeg adds
to complete the last MCUs are dummy blocks that jpeglib leaves out; ours are
cropped to the file's grid.

The mismatches of the "libjpeg" rows are then explained as in
``jpeg_conformance.py``: our planes go through a re-implementation of
libjpeg's integer slow DCT and integer quantization (``emu``: fraction of the
file's coefficients it reproduces; 1 means that our planes are libjpeg's
samples exactly), and a mismatch counts as ``dct`` when the rounding boundary
lies between our exact ``8 G`` and libjpeg's fixed point ``t`` (ties included),
as ``other`` otherwise.

Usage::

    python benchmarks/jpeg_color_conformance.py [--qualities 10 50 75 90]

Columns: ``Y``, ``Cb``, ``Cr`` fraction of identical coefficients per plane,
``max|d|`` largest difference in levels, ``mismatch`` their count over the
three planes, ``dct``, ``other`` and ``emu`` as above ("libjpeg" rows only).
"""

import argparse
import tempfile
from pathlib import Path

import jpeglib
import numpy as np
import skimage.data
from jpeg_conformance import islow_fdct, libjpeg_quantize
from PIL import Image
from sklearn.datasets import load_sample_images

from skcompress import BlockDCT, ChromaSubsampler, ColorTransform, PerceptualQuantizer

PLANES = ("Y", "Cb", "Cr")
TABLES = ("jpeg-luma", "jpeg-chroma", "jpeg-chroma")


def photographs():
    """Name -> uint8 RGB image ``(H, W, 3)``."""
    china, flower = load_sample_images().images
    photos = {n: getattr(skimage.data, n)() for n in ("astronaut", "coffee", "chelsea", "rocket")}
    return {**photos, "china": china, "flower": flower}


def ours(rgb, quality, method):
    """Per plane: the samples, unrounded ``G``, quantized ``B`` and steps ``(8, 8)``."""
    ycc = ColorTransform(method=method, layout="blocks").fit_transform(rgb[np.newaxis])
    sub = ChromaSubsampler("4:2:0", method=method, block_size=8).fit(ycc)
    planes = []
    for samples, table in zip(sub.split(sub.transform(ycc)), TABLES, strict=True):
        G = BlockDCT(level_shift=128, layout="blocks", order="natural").fit_transform(samples)
        quantizer = PerceptualQuantizer(
            table=table, quality=quality, order="natural", layout="blocks"
        ).fit(G)
        h, w = G.shape[1:3]
        B = quantizer.transform(G).astype(np.int64)
        shape = (h, w, 8, 8)
        planes.append(
            (samples[0], G[0].reshape(shape), B[0].reshape(shape), quantizer.steps_.reshape(8, 8))
        )
    return planes


def compare(rgb, quality, path):
    """Rows for both methods: agreement per plane and the cause of each mismatch."""
    Image.fromarray(rgb).save(path, quality=quality, subsampling=2)
    jpeg = jpeglib.read_dct(str(path))
    rows = {}
    for method in ("float", "libjpeg"):
        row = {"identical": {}, "max|d|": 0, "mismatch": 0, "dct": 0, "other": 0, "emu": []}
        for plane, (samples, G, B, steps) in zip(PLANES, ours(rgb, quality, method), strict=True):
            R = getattr(jpeg, plane).astype(np.int64)
            h, w = R.shape[:2]
            G, B = G[:h, :w], B[:h, :w]
            differ = B != R
            row["identical"][plane] = 1 - differ.mean()
            row["max|d|"] = max(row["max|d|"], int(np.abs(B - R).max()))
            row["mismatch"] += int(differ.sum())
            if method == "libjpeg":
                blocks = samples[: 8 * h, : 8 * w].reshape(h, 8, w, 8).swapaxes(1, 2)
                t = islow_fdct(blocks.astype(np.int64) - 128)
                threshold = (B + R) / 2 * 8 * steps
                low, high = np.minimum(8 * G, t), np.maximum(8 * G, t)
                crossed = (low <= threshold + 1e-6) & (threshold - 1e-6 <= high)
                row["dct"] += int((differ & crossed).sum())
                row["other"] += int((differ & ~crossed).sum())
                row["emu"].append(float((libjpeg_quantize(t, steps) == R).mean()))
        rows[method] = row
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--qualities", type=int, nargs="+", default=[10, 50, 75, 90])
    args = parser.parse_args(argv)

    print(
        f"jpeglib {jpeglib.__version__}, Pillow {Image.__version__} "
        f"(libjpeg-turbo {Image.core.libjpeg_turbo_version or 'no'}), 4:2:0"
    )
    line = "{:<10} {:>3} {:<8} {:>8} {:>8} {:>8} {:>6} {:>8} {:>5} {:>5} {:>6}"
    print(
        line.format("image", "Q", "method", *PLANES, "max|d|", "mismatch", "dct", "other", "emu")
    )
    pooled = {}
    photos = photographs()
    with tempfile.TemporaryDirectory() as tmp:
        for quality in args.qualities:
            for name, rgb in photos.items():
                rows = compare(rgb, quality, Path(tmp) / f"{name}_{quality}.jpg")
                for method, r in rows.items():
                    explained = method == "libjpeg"
                    print(
                        line.format(
                            name,
                            quality,
                            method,
                            *(f"{r['identical'][p]:.5f}" for p in PLANES),
                            r["max|d|"],
                            r["mismatch"],
                            r["dct"] if explained else "-",
                            r["other"] if explained else "-",
                            f"{min(r['emu']):.4f}" if explained else "-",
                        )
                    )
                    for p in PLANES:
                        pooled.setdefault((method, quality, p), []).append(r["identical"][p])

    print("\nMean fraction identical over the photographs")
    summary = "{:<8} {:>3} {:>8} {:>8} {:>8}"
    print(summary.format("method", "Q", *PLANES))
    for method in ("float", "libjpeg"):
        for quality in args.qualities:
            means = [np.mean(pooled[method, quality, p]) for p in PLANES]
            print(summary.format(method, quality, *(f"{m:.5f}" for m in means)))


if __name__ == "__main__":
    main()
