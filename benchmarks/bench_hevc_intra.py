"""HEVCIntraCodec against x265 (all-intra) and JPEGCodec on gray photographs.

Inputs: the seven photographs of :func:`skcompress.datasets.load_photographs`
(gray, central squares resized to 512 x 512; ``--quick``: 256 x 256). No
codec is fitted on data, so every image is held out.

Codecs, each at QP 22, 27, 32 and 37 (the common test conditions' QPs):

``HEVCIntraCodec`` / ``HEVCIntraCodec rdoq``
    ``HEVCIntraCodec(qp).compress``: our bitstreams (bytes counted with their
    header and CRC), decoded by ``decompress``.
``x265``
    ``x265 --input-res WxH --input-csp i400 --keyint 1 --tune psnr --qp Q
    --ipratio 1 --no-info --frames 1 --pools 1 --frame-threads 1`` on the raw
    gray picture (preset medium: deblocking, SAO, RDOQ and its RD search),
    decoded by ``ffmpeg -i out.hevc -f rawvideo -pix_fmt gray``; ``--ipratio 1``
    makes the I picture's QP the one asked for, ``--no-info`` drops x265's
    SEI message with its version and options (about 2 kB), so that both
    rates count the coded picture and its headers.
``JPEGCodec``
    ``JPEGCodec(quality).compress`` (standard files, optimized Huffman
    tables), quality 5 to 95.
``JPEG2000Codec``
    ``JPEG2000Codec(bpp).compress`` at 0.25, 0.375, 0.5, 0.75 and 1 bit per
    pixel (CDF 9/7, 5 levels, rate control), its own streams; the table
    "against JPEG2000Codec" gives each HEVC curve's BD-PSNR over the rates
    both span (the issue's 0.25-1 bpp, cut to where HEVC's QPs reach).

Colour: the same photographs in colour, as JFIF YCbCr with 4:2:0 chroma (the
planes ``HEVCIntraCodec`` codes, given to x265 as ``--input-csp i420``); quality
is the PSNR of Y and the common test conditions' PSNR-YUV ``(6 Y + Cb + Cr) /
8`` against those planes, and the PSNR of the RGB images that
``HEVCIntraCodec.decompress`` and ``JPEGCodec`` (4:2:0, quality 5 to 95) return.

Rate: bits per pixel of the bytes; quality: PSNR of 8-bit pixels. BD-rate
(``skcompress.metrics.bd_rate``, PCHIP, JCT-VC's method) of each codec
against x265, per image then averaged, negative when fewer bits at equal
PSNR; BD-PSNR likewise. PSNR at 0.5 bpp: each image's curve interpolated
(linear in log rate). Speed: megapixels per second of encoding and decoding
all images (medians of ``--repeats``; x265 and ffmpeg encode/decode the
images as one all-intra sequence in one process each, one thread).

Usage::

    python benchmarks/bench_hevc_intra.py [--quick] [--json PATH] [--repeats 3]
"""

import shutil
import subprocess
from pathlib import Path

import _common
import numpy as np

from skcompress.codecs import JPEG2000Codec, JPEGCodec
from skcompress.codecs import _hevc_intra as hevc
from skcompress.codecs._hevc_intra_codec import HEVCIntraCodec, _to_ycbcr420
from skcompress.datasets import load_photographs
from skcompress.metrics import bd_psnr, bd_rate

QPS = (22, 27, 32, 37)
QUALITIES = (5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95)
JPEG2000_BPP = (0.25, 0.375, 0.5, 0.75, 1.0)
#: Curves that are not indexed by QP.
OTHERS = ("JPEGCodec", "JPEG2000Codec")


def psnr(a, b):
    mse = np.mean((np.asarray(a, float) - np.asarray(b, float)) ** 2)
    return float(10 * np.log10(255**2 / mse)) if mse > 0 else 99.0


def x265_command(W, H, qp, source, target, frames=1, csp="i400"):
    return [
        "x265", "--input", str(source), "--input-res", f"{W}x{H}", "--input-csp", csp,
        "--fps", "1", "--frames", str(frames), "--keyint", "1", "--tune", "psnr",
        "--qp", str(qp), "--ipratio", "1", "--no-info", "--pools", "1", "--frame-threads", "1",
        "--log-level", "error", "--no-progress", "--output", str(target),
    ]  # fmt: skip


def ffmpeg_decode(source, target, pix_fmt="gray"):
    cmd = ["ffmpeg", "-v", "error", "-y", "-threads", "1", "-i", str(source)]
    subprocess.run(cmd + ["-f", "rawvideo", "-pix_fmt", pix_fmt, str(target)], check=True)


def yuv_psnrs(planes, source):
    """PSNR of Y and PSNR-YUV (6 Y + Cb + Cr) / 8 of decoded planes against the source's."""
    p = [psnr(a, b) for a, b in zip(planes, source, strict=True)]
    return p[0], (6 * p[0] + p[1] + p[2]) / 8


def x265_colour_points(planes, qp, directory):
    """Per image: bits per pixel, PSNR-Y, PSNR-YUV of x265 on its YCbCr 4:2:0 planes."""
    out = []
    for i, (Y, C) in enumerate(planes):
        H, W = Y.shape
        raw, hevc_file, back = (directory / f"c{i}.{e}" for e in ("yuv", "hevc", "out.yuv"))
        raw.write_bytes(Y.tobytes() + C.tobytes())
        subprocess.run(x265_command(W, H, qp, raw, hevc_file, csp="i420"), check=True)
        ffmpeg_decode(hevc_file, back, "yuv420p")
        data = np.fromfile(back, dtype=np.uint8)
        decoded = [data[: H * W].reshape(H, W)] + list(data[H * W :].reshape(2, H // 2, W // 2))
        y, yuv = yuv_psnrs(decoded, [Y, *C])
        out.append((8 * hevc_file.stat().st_size / (H * W), y, yuv))
    return out


def ours_colour_points(codec, X, planes):
    """Per image: bits per pixel, PSNR-Y, PSNR-YUV, PSNR-RGB of HEVCIntraCodec."""
    streams = codec.compress(X)
    rgb = codec.decompress(streams)
    H, W = X.shape[1:3]
    out = []
    coef, maps, coefc = codec._parse(streams)
    rec, recc = hevc.reconstruct(coef, maps, codec._factors, codec.qp, 6, coefc)
    for i, (stream, (Y, C)) in enumerate(zip(streams, planes, strict=True)):
        y, yuv = yuv_psnrs([rec[i], *recc[i]], [Y, *C])
        out.append((8 * len(stream) / (H * W), y, yuv, psnr(rgb[i], X[i])))
    return out


def bd_table(report, title, curves, anchor, extra=None):
    """BD-rate and BD-PSNR of every curve against ``anchor``'s, per image then mean."""
    columns = [("codec", "s"), ("BD-rate %", ".1f"), ("BD-PSNR dB", ".2f")]
    table = report.table(title, columns + (extra[0] if extra else []))
    for label, per_image in curves.items():
        rates, gains = [], []
        for ours, theirs in zip(per_image, curves[anchor], strict=True):
            r0, q0 = np.array(theirs).T
            r1, q1 = np.array(ours).T
            try:
                rates.append(bd_rate(r0, q0, r1, q1))
                gains.append(bd_psnr(r0, q0, r1, q1))
            except ValueError:
                pass
        row = [float(np.mean(rates)) if rates else float("nan")]
        row.append(float(np.mean(gains)) if gains else float("nan"))
        table.add(label, *row, *(extra[1](label) if extra else []))
    return table


def x265_points(X, qp, directory):
    """Bits per pixel and PSNR of every image coded alone by x265 and decoded by ffmpeg."""
    H, W = X.shape[1:]
    out = []
    for i, x in enumerate(X):
        raw, hevc, back = (directory / f"{i}.{e}" for e in ("yuv", "hevc", "out.yuv"))
        x.tofile(raw)
        subprocess.run(x265_command(W, H, qp, raw, hevc), check=True)
        ffmpeg_decode(hevc, back)
        decoded = np.fromfile(back, dtype=np.uint8).reshape(H, W)
        out.append((8 * hevc.stat().st_size / (H * W), psnr(decoded, x)))
    return out


def ours_points(codec, X):
    streams = codec.compress(X)
    decoded = codec.decompress(streams)
    H, W = X.shape[1:3]
    return [
        (8 * len(s) / (H * W), psnr(d, x)) for s, d, x in zip(streams, decoded, X, strict=True)
    ]


def at_rate(points, rate):
    """PSNR at ``rate`` bpp on a curve (linear in log rate), NaN outside it."""
    r, q = np.array(sorted(points)).T
    if not r[0] <= rate <= r[-1]:
        return float("nan")
    return float(np.interp(np.log(rate), np.log(r), q))


def main(argv=None):
    parser = _common.parser(__doc__, threads=1)
    parser.add_argument("--repeats", type=int, default=None, help="timed calls (default 3)")
    args = parser.parse_args(argv)
    report = _common.Report(__file__, __doc__, args, argv, peers=["x265", "ffmpeg"])
    size = 256 if args.quick else 512
    repeats = args.repeats or (1 if args.quick else 3)
    photos = load_photographs(size=size)
    X, names = photos.images, photos.names.tolist()
    have_x265 = report.has("x265") and report.has("ffmpeg")
    curves = {}  # codec -> per image list of (bpp, psnr)
    with _common.limit_threads(args.threads), _common.scratch_directory() as tmp:
        tmp = Path(tmp)
        for label, rdoq in (("HEVCIntraCodec", False), ("HEVCIntraCodec rdoq", True)):
            per = [ours_points(HEVCIntraCodec(qp, rdoq=rdoq).fit(X[:1]), X) for qp in QPS]
            curves[label] = list(zip(*per, strict=True))
        per = [ours_points(JPEGCodec(q).fit(X[:1]), X) for q in QUALITIES]
        curves["JPEGCodec"] = list(zip(*per, strict=True))
        per = [ours_points(JPEG2000Codec(b).fit(X[:1]), X) for b in JPEG2000_BPP]
        curves["JPEG2000Codec"] = list(zip(*per, strict=True))
        if have_x265:
            per = [x265_points(X, qp, tmp) for qp in QPS]
            curves["x265"] = list(zip(*per, strict=True))

        points = report.table(
            f"{len(X)} gray photographs {size} x {size}: mean rate and PSNR at each QP",
            [("codec", "s"), ("QP", "d"), ("bpp", ".3f"), ("PSNR dB", ".2f")],
        )
        for label in [k for k in curves if k not in OTHERS]:
            for j, qp in enumerate(QPS):
                rates = [c[j][0] for c in curves[label]]
                quality = [c[j][1] for c in curves[label]]
                points.add(label, qp, float(np.mean(rates)), float(np.mean(quality)))
        report.show(points)

        anchor = "x265" if have_x265 else "JPEGCodec"
        bd = report.table(
            f"BD-rate and BD-PSNR against {anchor} (PCHIP), per image then mean",
            [
                ("codec", "s"),
                ("BD-rate %", ".1f"),
                ("BD-PSNR dB", ".2f"),
                ("PSNR @0.5 bpp", ".2f"),
                ("vs JPEGCodec dB", ".2f"),
            ],  # fmt: skip
            notes=[
                "BD-rate < 0: fewer bits than the anchor at equal PSNR",
                "PSNR @0.5 bpp: mean over the images whose curves (all codecs) span 0.5 bpp",
            ],
        )
        at_half = {k: np.array([at_rate(c, 0.5) for c in v]) for k, v in curves.items()}
        ok = np.logical_and.reduce([np.isfinite(a) for a in at_half.values()])
        bd.notes.append(f"0.5 bpp spanned by all curves on {int(ok.sum())} of {len(X)} images")
        for label, per_image in curves.items():
            rates, gains = [], []
            for ours, theirs in zip(per_image, curves[anchor], strict=True):
                r0, q0 = np.array(theirs).T
                r1, q1 = np.array(ours).T
                try:
                    rates.append(bd_rate(r0, q0, r1, q1))
                    gains.append(bd_psnr(r0, q0, r1, q1))
                except ValueError:
                    pass
            at, jpeg_at = at_half[label], at_half["JPEGCodec"]
            bd.add(
                label,
                float(np.mean(rates)) if rates else float("nan"),
                float(np.mean(gains)) if gains else float("nan"),
                float(np.mean(at[ok])) if ok.any() else float("nan"),
                float(np.mean(at[ok] - jpeg_at[ok])) if ok.any() else float("nan"),
            )
        report.show(bd)

        per_image = report.table(
            f"BD-rate against {anchor} per image (%)",
            [("image", "s")] + [(k, ".1f") for k in curves if k != anchor],
        )
        for i, name in enumerate(names):
            row = []
            for label in [k for k in curves if k != anchor]:
                r0, q0 = np.array(curves[anchor][i]).T
                r1, q1 = np.array(curves[label][i]).T
                try:
                    row.append(bd_rate(r0, q0, r1, q1))
                except ValueError:
                    row.append(float("nan"))
            per_image.add(name, *row)
        report.show(per_image)

        against = report.table(
            "BD-PSNR against JPEG2000Codec (PCHIP, over the rates both curves span), "
            "per image then mean",
            [
                ("codec", "s"),
                ("BD-PSNR dB", "+.2f"),
                ("BD-rate %", "+.1f"),
                ("from bpp", ".2f"),
                ("to bpp", ".2f"),
            ],  # fmt: skip
        )
        for label in [k for k in curves if k not in OTHERS]:
            gains, rates, lows, highs = [], [], [], []
            for ours, theirs in zip(curves[label], curves["JPEG2000Codec"], strict=True):
                r0, q0 = np.array(theirs).T
                r1, q1 = np.array(ours).T
                try:
                    gains.append(bd_psnr(r0, q0, r1, q1))
                    rates.append(bd_rate(r0, q0, r1, q1))
                except ValueError:
                    continue
                lows.append(max(r0.min(), r1.min()))
                highs.append(min(r0.max(), r1.max()))
            against.add(
                label,
                *(float(np.mean(v)) if v else float("nan") for v in (gains, rates, lows, highs)),
            )
        report.show(against)

        # -- colour ---------------------------------------------------------
        colour = load_photographs(size=size, color=True).images
        planes = [_to_ycbcr420(x) for x in colour]
        y_curves, yuv_curves, rgb_curves, means = {}, {}, {}, {}
        for label, rdoq in (("HEVCIntraCodec", False), ("HEVCIntraCodec rdoq", True)):
            ours = {}
            for qp in QPS:
                codec = HEVCIntraCodec(qp, rdoq=rdoq).fit(colour[:1])
                ours[qp] = ours_colour_points(codec, colour, planes)
            per_image = list(zip(*[ours[qp] for qp in QPS], strict=True))
            y_curves[label] = [[(p[0], p[1]) for p in c] for c in per_image]
            yuv_curves[label] = [[(p[0], p[2]) for p in c] for c in per_image]
            rgb_curves[label] = [[(p[0], p[3]) for p in c] for c in per_image]
            means[label] = ours
        jpeg = [ours_points(JPEGCodec(q).fit(colour[:1]), colour) for q in QUALITIES]
        rgb_curves["JPEGCodec"] = list(zip(*jpeg, strict=True))
        if have_x265:
            theirs = [x265_colour_points(planes, qp, tmp) for qp in QPS]
            per_image = list(zip(*theirs, strict=True))
            y_curves["x265"] = [[(p[0], p[1]) for p in c] for c in per_image]
            yuv_curves["x265"] = [[(p[0], p[2]) for p in c] for c in per_image]
            table = report.table(
                f"{len(colour)} colour photographs {size} x {size}, YCbCr 4:2:0: mean rate and "
                "PSNR at each QP",
                [
                    ("codec", "s"),
                    ("QP", "d"),
                    ("bpp", ".3f"),
                    ("PSNR-Y dB", ".2f"),
                    ("PSNR-YUV dB", ".2f"),
                ],  # fmt: skip
            )
            for label, points in [*means.items(), ("x265", dict(zip(QPS, theirs, strict=True)))]:
                for qp in QPS:
                    mean = np.mean([p[:3] for p in points[qp]], axis=0)
                    table.add(label, qp, *map(float, mean))
            report.show(table)
            for name, curves in (("PSNR-Y", y_curves), ("PSNR-YUV", yuv_curves)):
                report.show(
                    bd_table(report, f"Colour: BD-rate on {name} against x265", curves, "x265")
                )
        at_half = {k: np.array([at_rate(c, 0.5) for c in v]) for k, v in rgb_curves.items()}
        ok = np.isfinite(at_half["HEVCIntraCodec"]) & np.isfinite(at_half["JPEGCodec"])
        table = report.table(
            "Colour: RGB PSNR at 0.5 bpp (decoded images against the originals)",
            [("codec", "s"), ("PSNR-RGB @0.5 bpp", ".2f"), ("vs JPEGCodec dB", ".2f")],
            notes=[
                "mean over the images whose curves span 0.5 bpp; 4:2:0 limits both",
                f"0.5 bpp spanned on {int(ok.sum())} of {len(colour)} images",
            ],
        )
        for label in rgb_curves:
            gap = at_half[label][ok] - at_half["JPEGCodec"][ok]
            table.add(label, float(np.mean(at_half[label][ok])), float(np.mean(gap)))
        report.show(table)

        # -- speed ----------------------------------------------------------
        qp = 32
        codec = HEVCIntraCodec(qp).fit(X[:1])
        streams = codec.compress(X)
        routines = {
            "HEVCIntraCodec.compress": lambda: codec.compress(X),
            "HEVCIntraCodec.decompress": lambda: codec.decompress(streams),
        }
        if have_x265:
            H, W = X.shape[1:]
            raw, hevc, back = tmp / "all.yuv", tmp / "all.hevc", tmp / "all.out.yuv"
            X.tofile(raw)
            command = x265_command(W, H, qp, raw, hevc, frames=len(X))
            routines["x265 encode"] = lambda: subprocess.run(command, check=True)
            routines["ffmpeg decode"] = lambda: ffmpeg_decode(hevc, back)
        medians = _common.median_times(routines, repeats)
        speed = report.table(
            f"Speed at QP {qp}, {len(X)} images {size} x {size}: median of {repeats}, one thread",
            [("routine", "s"), ("s", ".3f"), ("MP/s", ".3f"), ("time / peer", ".1f")],
            notes=[
                "x265 and ffmpeg: one process for all images (its start-up included)",
                "time / peer: ours over x265 encode (compress) or ffmpeg decode (decompress)",
            ],
        )
        megapixels = X.size / 1e6
        peers = {
            "HEVCIntraCodec.compress": "x265 encode",
            "HEVCIntraCodec.decompress": "ffmpeg decode",
        }
        for name, seconds in medians.items():
            peer = peers.get(name)
            ratio = seconds / medians[peer] if peer in medians else float("nan")
            speed.add(name, seconds, megapixels / seconds, ratio)
        report.show(speed)
    if not have_x265:
        report.note("x265/ffmpeg missing: BD figures are against JPEGCodec")
    return report.finish()


if __name__ == "__main__":
    if shutil.which("x265") is None:
        print("x265 not found: " + _common.how_to_install("x265"))
    main()
