"""Conformance of skcompress's gray JPEG path with libjpeg, coefficient by coefficient.

Every gray image is written by Pillow (libjpeg or libjpeg-turbo, integer slow
DCT) as a baseline JPEG, its quantized DCT coefficients are read back with
jpeglib and compared with those of :func:`skcompress.codecs.jpeg_gray_steps`
(``BlockDCT`` then ``PerceptualQuantizer``).

Each mismatch is then explained with ``skcompress.codecs._libjpeg``, the
emulation of libjpeg's integer slow DCT (the Loeffler-Ligtenberg-Moschytz
factorization in 13-bit fixed point, output scaled by 8) and of its integer
quantization ``(|t| + 4 Q) // (8 Q)``. Once that emulation reproduces the file
bit for bit, a mismatch has one of two causes:

``tie``
    The exact value ``G / Q`` is half way between two levels (libjpeg rounds
    it away from zero) and our floating point value misses it by a few ulps.
``dct``
    The rounding boundary ``8 Q (k + 1/2)`` lies between our exact ``8 G`` and
    libjpeg's fixed point approximation ``t`` of it.

Anything else is counted as unexplained. The emulation follows the integer
slow DCT of libjpeg-turbo and IJG libjpeg 6b; should Pillow link a libjpeg
that rounds differently, the ``emulated`` column drops below 1.

Data: six photographs in gray (scikit-learn's china and flower, scikit-image's
camera, astronaut, coffee, chelsea) and the first ``--n-mnist`` digits.
``--quick``: 50 digits, qualities 50 and 90.

Columns: ``coefficients`` compared, ``identical`` fraction of equal ones,
``max |d|`` largest difference in levels, ``mismatches`` their count,
``near .5`` fraction of the mismatches with ``G / Q`` within 0.05 of a ``.5``
boundary, ``tie``, ``dct`` and ``other`` the mismatches by cause,
``emulated`` fraction of the file's coefficients that the emulation
reproduces. The diagnosis table follows: how many ties our rounding sent
toward zero and where they lie, the largest error of libjpeg's integer DCT,
and the steps ``Q`` of the mismatches outside the 0.05 window.

Usage::

    python benchmarks/bench_jpeg_conformance.py [--quick] [--json PATH] [--n-mnist 200]
        [--qualities 10 50 75 90]
"""

from pathlib import Path

import _common
import numpy as np

from skcompress.codecs import jpeg_gray_steps
from skcompress.codecs._libjpeg import EXACT_POSITIONS, islow_blocks, libjpeg_quantize
from skcompress.datasets import load_mnist

_EXACT = np.isin(np.arange(64), EXACT_POSITIONS).reshape(8, 8)


def gray_datasets(n_mnist):
    """Name -> uint8 batch ``(n, H, W)``: six photographs and the first MNIST digits."""
    photos = _common.photographs(_common.GRAY_PHOTOGRAPHS, gray=True)
    datasets = {name: image[np.newaxis] for name, image in photos.items()}
    datasets[f"mnist[:{n_mnist}]"] = load_mnist().images[:n_mnist]
    return datasets


def compare(X, quality, directory):
    """One row of the table: agreement with the file and the cause of each mismatch."""
    dct, quantizer = jpeg_gray_steps(quality, order="natural", layout="blocks")
    G = dct.fit_transform(X)
    B = quantizer.fit(G).transform(G).astype(np.int64)
    n, h, w, _ = G.shape
    G, B = G.reshape(n, h, w, 8, 8), B.reshape(n, h, w, 8, 8)
    steps = quantizer.steps_.reshape(8, 8)
    R, tables = _common.pillow_jpeg_coefficients(X, quality, directory)
    t = islow_blocks(X)

    differ = B != R
    scaled = G / steps
    near_half = np.abs(np.abs(scaled) % 1 - 0.5) <= 0.05
    divisor = 8 * steps
    threshold = (B + R) / 2 * divisor  # 8 Q (k + 1/2) between the two levels
    tie = (np.abs(8 * G - t) < 1e-6) & ((np.abs(t) - divisor / 2) % divisor == 0)
    crossed = (np.minimum(8 * G, t) <= threshold) & (threshold <= np.maximum(8 * G, t))
    dct_cause = ~tie & crossed
    count = int(differ.sum())
    return {
        "table": bool(np.all(tables == steps)),
        "coefficients": B.size,
        "identical": 1 - count / B.size,
        "max|d|": int(np.abs(B - R).max()),
        "mismatches": count,
        "near.5": float(near_half[differ].mean()) if count else None,
        "tie": int((differ & tie).sum()),
        "dct": int((differ & dct_cause).sum()),
        "other": int((differ & ~tie & ~dct_cause).sum()),
        "emulated": float((libjpeg_quantize(t, steps) == R).mean()),
        "tie_dc": int((differ & tie)[..., 0, 0].sum()),
        "tie_dc_positive": int((differ & tie & (R > 0))[..., 0, 0].sum()),
        "tie_toward_zero": int((differ & tie & (np.abs(B) < np.abs(R))).sum()),
        "tie_exact_basis": int((differ & tie & _EXACT).sum()),
        "tie_elsewhere": [tuple(int(i) for i in at) for at in np.argwhere(differ & tie & ~_EXACT)],
        "far_steps": {int(s) for s in np.broadcast_to(steps, B.shape)[differ & ~near_half]},
        "max_boundary": float(np.abs(8 * G - threshold)[differ].max(initial=0.0)),
        "islow_error": float(np.abs(t - 8 * G).max()),
    }


def main(argv=None):
    parser = _common.parser(__doc__)
    parser.add_argument("--n-mnist", type=int, default=None, help="digits (default 200)")
    parser.add_argument("--qualities", type=int, nargs="+", default=None)
    args = parser.parse_args(argv)
    report = _common.Report(__file__, __doc__, args, argv, peers=["jpeglib", "PIL"])
    n_mnist = args.n_mnist or (50 if args.quick else 200)
    qualities = args.qualities or ([50, 90] if args.quick else [10, 50, 75, 90])
    table = report.table(
        "Our quantized coefficients against libjpeg's files, gray",
        [
            ("data", "s"),
            ("quality", "d"),
            ("same table", "s"),
            ("coefficients", "d"),
            ("identical", ".5f"),
            ("max |d|", "d"),
            ("mismatches", "d"),
            ("near .5", ".4f"),
            ("tie", "d"),
            ("dct", "d"),
            ("other", "d"),
            ("emulated", ".4f"),
        ],
    )
    rows = []
    datasets = gray_datasets(n_mnist)
    with _common.limit_threads(args.threads), _common.scratch_directory() as tmp:
        for quality in qualities:
            for name, X in datasets.items():
                directory = Path(tmp) / f"{name}_{quality}"
                directory.mkdir()
                r = compare(X, quality, directory)
                rows.append((name, quality, r))
                table.add(
                    name,
                    quality,
                    "yes" if r["table"] else "NO",
                    r["coefficients"],
                    r["identical"],
                    r["max|d|"],
                    r["mismatches"],
                    r["near.5"],
                    r["tie"],
                    r["dct"],
                    r["other"],
                    r["emulated"],
                )
    report.show(table)

    def add(key):
        return sum(r[key] for *_, r in rows)

    diagnosis = report.table("Diagnosis", [("finding", "s"), ("value", "s")])
    diagnosis.add(
        "the emulated libjpeg (integer slow DCT + integer quantization) reproduces every "
        "file coefficient",
        "yes" if all(r["emulated"] == 1.0 for *_, r in rows) else "NO",
    )
    diagnosis.add(
        "mismatches: integer DCT / exact half-way ties / unexplained",
        f"{add('dct')} / {add('tie')} / {add('other')} of {add('mismatches')}",
    )
    diagnosis.add(
        "ties where ours rounded toward zero (libjpeg: away from zero)",
        f"{add('tie_toward_zero')} of {add('tie')}",
    )
    diagnosis.add(
        "ties at the exactly computed positions (0,0) (0,4) (4,0) (4,4); of them DC (positive)",
        f"{add('tie_exact_basis')}; {add('tie_dc')} ({add('tie_dc_positive')})",
    )
    elsewhere = [
        f"{name} Q={quality} at (u, v) = ({u}, {v})"
        for name, quality, r in rows
        for *_, u, v in r["tie_elsewhere"]
    ]
    diagnosis.add("ties elsewhere", "; ".join(elsewhere) or "none")
    diagnosis.add(
        "libjpeg's integer DCT error, max |t - 8 G|",
        f"{max(r['islow_error'] for *_, r in rows):.4f}",
    )
    diagnosis.add(
        "mismatches, max |8 G - 8 Q (k + 1/2)|",
        f"{max(r['max_boundary'] for *_, r in rows):.4f}",
    )
    far = sorted(set().union(*(r["far_steps"] for *_, r in rows)))
    diagnosis.add(
        "steps Q of the mismatches with G / Q farther than 0.05 from k + 1/2",
        ", ".join(map(str, far)) or "none",
    )
    report.show(diagnosis)
    return report.finish()


if __name__ == "__main__":
    main()
