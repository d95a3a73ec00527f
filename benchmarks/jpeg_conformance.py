"""Conformance of skcompress's JPEG path with libjpeg, coefficient by coefficient.

Every gray image is written by Pillow (libjpeg or libjpeg-turbo, integer slow
DCT) as a baseline JPEG, its quantized DCT coefficients are read back with
jpeglib and compared with ``PerceptualQuantizer(BlockDCT(X))``.

Each mismatch is then explained with a re-implementation of libjpeg's integer
slow DCT (the Loeffler-Ligtenberg-Moschytz factorization in 13-bit fixed
point, output scaled by 8) followed by libjpeg's integer quantization
``(|t| + 4 Q) // (8 Q)``. Once that emulation reproduces the file bit for
bit, a mismatch has one of two causes:

``tie``
    The exact value ``G / Q`` is half way between two levels (libjpeg rounds
    it away from zero) and our floating point value misses it by a few ulps.
``dct``
    The rounding boundary ``8 Q (k + 1/2)`` lies between our exact ``8 G`` and
    libjpeg's fixed point approximation ``t`` of it.

Anything else is counted as unexplained. The emulation follows the integer
slow DCT of libjpeg-turbo and IJG libjpeg 6b; should Pillow link a libjpeg
that rounds differently, the ``emu`` column drops below 1.

Usage::

    python benchmarks/jpeg_conformance.py [--n-mnist 200] [--qualities 10 50 75 90]

Columns: ``coefs`` coefficients compared, ``identical`` fraction of equal
ones, ``max|d|`` largest difference in levels, ``mismatch`` their count,
``near.5`` fraction of the mismatches with ``G / Q`` within 0.05 of a ``.5``
boundary, ``tie``, ``dct`` and ``other`` the mismatches by cause, ``emu``
fraction of the file's coefficients that the emulation reproduces. A summary
follows the table: how many ties our rounding sent toward zero and where they
lie, the largest error of libjpeg's integer DCT, and the steps ``Q`` of the
mismatches outside the 0.05 window.
"""

import argparse
import tempfile
from pathlib import Path

import jpeglib
import numpy as np
import skimage.data
from PIL import Image
from sklearn.datasets import load_sample_images

from skcompress import BlockDCT, PerceptualQuantizer
from skcompress.datasets import load_mnist

# Natural positions (0, 0), (0, 4), (4, 0), (4, 4): every basis entry is +-1/8, so
# libjpeg's integer DCT computes these coefficients exactly.
_EXACT_BASIS = np.zeros((8, 8), dtype=bool)
_EXACT_BASIS[[0, 0, 4, 4], [0, 4, 0, 4]] = True

_CONST_BITS = 13
_PASS1_BITS = 2


def _fix(x):
    return round(x * (1 << _CONST_BITS))


# cos / sin products of the LLM factorization, in 13-bit fixed point
_C = {
    name: _fix(value)
    for name, value in {
        "0.298": 0.298631336,
        "0.390": 0.390180644,
        "0.541": 0.541196100,
        "0.765": 0.765366865,
        "0.899": 0.899976223,
        "1.175": 1.175875602,
        "1.501": 1.501321110,
        "1.847": 1.847759065,
        "1.961": 1.961570560,
        "2.053": 2.053119869,
        "2.562": 2.562915447,
        "3.072": 3.072711026,
    }.items()
}


def _descale(x, bits):
    """Right shift by ``bits`` with rounding (libjpeg's DESCALE)."""
    return (x + (1 << (bits - 1))) >> bits


def _fdct_1d(x, first_pass):
    """One pass of the integer slow DCT along the last axis of int64 ``x``."""
    d = np.moveaxis(x, -1, 0)
    s07, d07 = d[0] + d[7], d[0] - d[7]
    s16, d16 = d[1] + d[6], d[1] - d[6]
    s25, d25 = d[2] + d[5], d[2] - d[5]
    s34, d34 = d[3] + d[4], d[3] - d[4]
    even_sum, even_diff = s07 + s34, s07 - s34
    odd_sum, odd_diff = s16 + s25, s16 - s25
    out = [None] * 8
    if first_pass:  # keep PASS1_BITS of fraction for the second pass
        out[0] = (even_sum + odd_sum) << _PASS1_BITS
        out[4] = (even_sum - odd_sum) << _PASS1_BITS
        bits = _CONST_BITS - _PASS1_BITS
    else:
        out[0] = _descale(even_sum + odd_sum, _PASS1_BITS)
        out[4] = _descale(even_sum - odd_sum, _PASS1_BITS)
        bits = _CONST_BITS + _PASS1_BITS
    z = (odd_diff + even_diff) * _C["0.541"]
    out[2] = _descale(z + even_diff * _C["0.765"], bits)
    out[6] = _descale(z - odd_diff * _C["1.847"], bits)
    z5 = (d34 + d16 + d25 + d07) * _C["1.175"]
    z1 = -(d34 + d07) * _C["0.899"]
    z2 = -(d25 + d16) * _C["2.562"]
    z3 = -(d34 + d16) * _C["1.961"] + z5
    z4 = -(d25 + d07) * _C["0.390"] + z5
    out[7] = _descale(d34 * _C["0.298"] + z1 + z3, bits)
    out[5] = _descale(d25 * _C["2.053"] + z2 + z4, bits)
    out[3] = _descale(d16 * _C["3.072"] + z2 + z3, bits)
    out[1] = _descale(d07 * _C["1.501"] + z1 + z4, bits)
    return np.stack(out, axis=-1)


def islow_fdct(blocks):
    """libjpeg's integer slow DCT of level-shifted blocks ``(..., 8, 8)``: about ``8 G``."""
    rows = _fdct_1d(blocks.astype(np.int64), first_pass=True)
    return np.swapaxes(_fdct_1d(np.swapaxes(rows, -1, -2), first_pass=False), -1, -2)


def libjpeg_quantize(t, steps):
    """libjpeg's quantization of ``t`` (scaled by 8): half away from zero."""
    divisor = 8 * steps.astype(np.int64)
    return np.sign(t) * ((np.abs(t) + divisor // 2) // divisor)


def gray_datasets(n_mnist):
    """Name -> uint8 batch ``(n, H, W)``: six photographs and the first MNIST digits."""

    def gray(rgb):
        return np.asarray(Image.fromarray(rgb).convert("L"))[np.newaxis]

    china, flower = load_sample_images().images
    return {
        "china": gray(china),
        "flower": gray(flower),
        "camera": skimage.data.camera()[np.newaxis],
        "astronaut": gray(skimage.data.astronaut()),
        "coffee": gray(skimage.data.coffee()),
        "chelsea": gray(skimage.data.chelsea()),
        f"mnist[:{n_mnist}]": load_mnist().images[:n_mnist],
    }


def libjpeg_coefficients(X, quality, directory):
    """Quantized coefficients ``(n, h, w, 8, 8)`` and tables ``(n, 8, 8)`` from Pillow files."""
    coefficients, tables = [], []
    for i, image in enumerate(X):
        path = Path(directory) / f"{i}.jpg"
        Image.fromarray(image, mode="L").save(path, quality=quality)
        jpeg = jpeglib.read_dct(str(path))
        coefficients.append(jpeg.Y.astype(np.int64))
        tables.append(jpeg.qt[jpeg.quant_tbl_no[0]])
    return np.stack(coefficients), np.stack(tables)


def compare(X, quality, directory):
    """One row of the table: agreement with the file and the cause of each mismatch."""
    G = BlockDCT(block_size=8, layout="blocks", order="natural").fit_transform(X)
    quantizer = PerceptualQuantizer(
        table="jpeg-luma", quality=quality, order="natural", layout="blocks"
    ).fit(G)
    B = quantizer.transform(G).astype(np.int64)
    n, h, w, _ = G.shape
    G, B = G.reshape(n, h, w, 8, 8), B.reshape(n, h, w, 8, 8)
    steps = quantizer.steps_.reshape(8, 8)
    R, tables = libjpeg_coefficients(X, quality, directory)

    padded = np.pad(X, [(0, 0), (0, 8 * h - X.shape[1]), (0, 8 * w - X.shape[2])], mode="edge")
    blocks = padded.reshape(n, h, 8, w, 8).swapaxes(2, 3).astype(np.int64) - 128
    t = islow_fdct(blocks)

    differ = B != R
    scaled = G / steps
    near_half = np.abs(np.abs(scaled) % 1 - 0.5) <= 0.05
    divisor = 8 * steps
    threshold = (B + R) / 2 * divisor  # 8 Q (k + 1/2) between the two levels
    tie = (np.abs(8 * G - t) < 1e-6) & ((np.abs(t) - divisor / 2) % divisor == 0)
    crossed = (np.minimum(8 * G, t) <= threshold) & (threshold <= np.maximum(8 * G, t))
    dct = ~tie & crossed
    count = int(differ.sum())
    return {
        "table": bool(np.all(tables == steps)),
        "coefs": B.size,
        "identical": 1 - count / B.size,
        "max|d|": int(np.abs(B - R).max()),
        "mismatch": count,
        "near.5": near_half[differ].mean() if count else float("nan"),
        "tie": int((differ & tie).sum()),
        "dct": int((differ & dct).sum()),
        "other": int((differ & ~tie & ~dct).sum()),
        "emu": float((libjpeg_quantize(t, steps) == R).mean()),
        "tie_dc": int((differ & tie)[..., 0, 0].sum()),
        "tie_dc_positive": int((differ & tie & (R > 0))[..., 0, 0].sum()),
        "tie_toward_zero": int((differ & tie & (np.abs(B) < np.abs(R))).sum()),
        "tie_exact_basis": int((differ & tie & _EXACT_BASIS).sum()),
        "tie_elsewhere": [
            tuple(int(i) for i in where) for where in np.argwhere(differ & tie & ~_EXACT_BASIS)
        ],
        "far_steps": {int(s) for s in np.broadcast_to(steps, B.shape)[differ & ~near_half]},
        "max_boundary": float(np.abs(8 * G - threshold)[differ].max(initial=0.0)),
        "islow_error": float(np.abs(t - 8 * G).max()),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-mnist", type=int, default=200)
    parser.add_argument("--qualities", type=int, nargs="+", default=[10, 50, 75, 90])
    args = parser.parse_args(argv)

    print(
        f"jpeglib {jpeglib.__version__}, Pillow {Image.__version__} "
        f"(libjpeg-turbo {Image.core.libjpeg_turbo_version or 'no'})"
    )
    header = (
        "data",
        "Q",
        "table",
        "coefs",
        "identical",
        "max|d|",
        "mismatch",
        "near.5",
        "tie",
        "dct",
        "other",
        "emu",
    )
    line = "{:<12} {:>3} {:>5} {:>7} {:>9} {:>6} {:>8} {:>6} {:>5} {:>5} {:>5} {:>6}"
    print(line.format(*header))
    rows = []
    datasets = gray_datasets(args.n_mnist)
    with tempfile.TemporaryDirectory() as tmp:
        for quality in args.qualities:
            for name, X in datasets.items():
                directory = Path(tmp) / f"{name}_{quality}"
                directory.mkdir()
                r = compare(X, quality, directory)
                rows.append((name, quality, r))
                print(
                    line.format(
                        name,
                        quality,
                        "ok" if r["table"] else "DIFF",
                        r["coefs"],
                        f"{r['identical']:.5f}",
                        r["max|d|"],
                        r["mismatch"],
                        f"{r['near.5']:.4f}",
                        r["tie"],
                        r["dct"],
                        r["other"],
                        f"{r['emu']:.4f}",
                    )
                )

    print("\nDiagnosis")
    total = sum(r["mismatch"] for *_, r in rows)

    def add(key):
        return sum(r[key] for *_, r in rows)

    print(
        f"  emulated libjpeg (integer slow DCT + integer quantization) reproduces every "
        f"file coefficient: {all(r['emu'] == 1.0 for *_, r in rows)}"
    )
    print(
        f"  mismatches: {total}; integer DCT: {add('dct')}; exact half-way ties: "
        f"{add('tie')}; unexplained: {add('other')}"
    )
    print(
        f"  ties where ours rounded toward zero (libjpeg: away from zero): "
        f"{add('tie_toward_zero')} of {add('tie')}"
    )
    print(
        f"  ties at the exactly computed positions (0,0) (0,4) (4,0) (4,4): "
        f"{add('tie_exact_basis')}; of them DC: {add('tie_dc')} "
        f"({add('tie_dc_positive')} positive)"
    )
    for name, quality, r in rows:
        for *_, u, v in r["tie_elsewhere"]:
            print(f"  tie elsewhere: {name} Q={quality} at (u, v) = ({u}, {v})")
    print(
        f"  libjpeg integer DCT error, max |t - 8 G|: "
        f"{max(r['islow_error'] for *_, r in rows):.4f}"
    )
    print(
        f"  mismatches, max |8 G - 8 Q (k + 1/2)|: {max(r['max_boundary'] for *_, r in rows):.4f}"
    )
    far = sorted(set().union(*(r["far_steps"] for *_, r in rows)))
    print(f"  steps Q of mismatches with G / Q farther than 0.05 from k + 1/2: {far}")


if __name__ == "__main__":
    main()
