"""Entropy coding of quantized JPEG coefficients: our bitstreams against the peers.

Four tables, every peer measured in the same run:

(a) **Against the estimate.** The payload of our bitstreams beside the ideal
    code length under the same model (``code_lengths``), the header (format
    byte, shape, CRC-32) reported apart. MNIST at ``--quality``, models fitted
    on the first ``--n-train`` digits, the next ones coded.
(b) **Against libjpeg, same coefficients.** Every image is written by Pillow
    (libjpeg-turbo, baseline Huffman, default tables and ``optimize=True``),
    its quantized coefficients read back with jpeglib and coded by our models,
    fitted on the libjpeg coefficients of *other* images: the first
    ``--n-train`` digits for the other MNIST digits, the other five
    photographs for each photograph (leave one out). libjpeg's arithmetic
    coder is measured by ``jpegtran -arithmetic`` (Debian's
    libjpeg-turbo-progs; its column is empty without it) transcoding
    Pillow's file losslessly. Sizes are the
    entropy-coded scan only (SOS to EOI, byte stuffing included; JPEG headers
    and Huffman tables excluded), beside our payload (header excluded, then
    included). ``cat`` is one categorical distribution per frequency (no
    context); ``ctx`` is :class:`~skcompress.entropy.BlockContextModel`.
(c) **Throughput.** Compress and decompress the same int32 symbol arrays
    (MNIST's coded digits, one bitstream per digit; one photograph) with our
    models, zlib and lzma; MB of int32 symbols per second, medians of
    ``--repeats``; zlib and lzma get the whole array in one call (their best
    case) and also one call per sample, as our bitstreams are.
(d) **Rate-distortion against Pillow** (``--rd``): the whole JPEG-like path
    (BlockDCT, PerceptualQuantizer, Codec with its model fitted on the other
    photographs) against Pillow's JPEG (``optimize=True``) at qualities
    10..95 on the photographs: bits per pixel of the whole file (JPEG
    headers and tables included) or of our whole bitstream (10-byte header
    included), PSNR of the decoded 8-bit images, their ratio of bits at the
    same quality (same coefficients, so nearly the same PSNR), and our PSNR
    interpolated (in log rate) at Pillow's bits per pixel.

``--quick``: 500 + 500 digits, 3 repeats.

Usage::

    python benchmarks/bench_entropy.py [--quick] [--json PATH] [--quality 50] [--n-train 2500]
        [--repeats 5] [--rd]
"""

import io
import lzma
import subprocess
import tempfile
import zlib
from pathlib import Path

import _common
import jpeglib
import numpy as np
from PIL import Image

from skcompress.codecs import Codec, jpeg_gray_steps
from skcompress.datasets import load_mnist
from skcompress.entropy import BlockContextModel, CategoricalEntropyModel
from skcompress.metrics import psnr
from skcompress.transforms import zigzag_order

RD_QUALITIES = [10, 25, 50, 75, 90, 95]
RD_EXTRA = 98  # one more point of ours, to interpolate at Pillow's quality-95 rate


def libjpeg_sizes(X, quality, directory, arithmetic):
    """Scan bits of Pillow's files per image: Huffman, optimized Huffman, arithmetic."""
    default, optimized, arith = [], [], []
    for i, image in enumerate(X):
        path = Path(directory) / f"{i}.jpg"  # written by pillow_jpeg_coefficients
        default.append(_common.jpeg_scan_bits(path.read_bytes()))
        buffer = io.BytesIO()
        Image.fromarray(image, mode="L").save(
            buffer, format="JPEG", quality=quality, optimize=True
        )
        optimized.append(_common.jpeg_scan_bits(buffer.getvalue()))
        if arithmetic:
            out = subprocess.run(
                ["jpegtran", "-arithmetic", str(path)], capture_output=True, check=True
            ).stdout
            arith.append(_common.jpeg_scan_bits(out))
    return np.array(default), np.array(optimized), np.array(arith) if arithmetic else None


def cjpeg_agrees(image, quality, directory):
    """``cjpeg -arithmetic`` from the pixels writes the scan ``jpegtran`` transcodes."""
    pgm, jpg = Path(directory) / "x.pgm", Path(directory) / "x.jpg"
    Image.fromarray(image, mode="L").save(pgm)
    Image.fromarray(image, mode="L").save(jpg, quality=quality)

    def run(*cmd):
        return subprocess.run(cmd, capture_output=True, check=True).stdout

    direct = run("cjpeg", "-arithmetic", "-quality", str(quality), str(pgm))
    scan = _common.jpeg_scan_bits
    return scan(direct) == scan(run("jpegtran", "-arithmetic", str(jpg)))


def check_arithmetic_is_lossless(path, directory):
    """jpegtran -arithmetic then back to Huffman gives the same coefficients."""
    arith = Path(directory) / "arith.jpg"
    back = Path(directory) / "back.jpg"
    arith.write_bytes(
        subprocess.run(
            ["jpegtran", "-arithmetic", str(path)], capture_output=True, check=True
        ).stdout
    )
    back.write_bytes(
        subprocess.run(
            ["jpegtran", "-optimize", str(arith)], capture_output=True, check=True
        ).stdout
    )
    return np.array_equal(jpeglib.read_dct(str(path)).Y, jpeglib.read_dct(str(back)).Y)


def zigzag(R):
    """libjpeg's ``(n, h, w, 8, 8)`` natural-order blocks as ``(n, h, w, 64)`` zig-zag."""
    n, h, w = R.shape[:3]
    return R.reshape(n, h, w, 64)[..., zigzag_order(8)].astype(np.int32)


def jpeg_symbols(X, quality):
    """Our JPEG path's quantized coefficients of ``X``, ``(n, h, w, 64)``."""
    dct, quantizer = jpeg_gray_steps(quality, layout="blocks")
    G = dct.fit_transform(X)
    return quantizer.fit(G).transform(G)


def payload_bits(strings, header):
    return np.array([8 * len(s) for s in strings], dtype=np.float64) - header


def table_a(report, mnist_train, mnist_test, photos):
    table = report.table(
        "(a) our bitstreams against the ideal code length under the same model, bits per image",
        [
            ("data, model", "s"),
            ("ideal", ".1f"),
            ("payload", ".1f"),
            ("header", "d"),
            ("payload / ideal", ".4f"),
        ],
    )
    n = len(mnist_test)
    flat_train = mnist_train.reshape(len(mnist_train), -1)
    flat_test = mnist_test.reshape(n, -1)
    cases = [
        (
            "mnist, cat per frequency",
            CategoricalEntropyModel().fit(flat_train.reshape(-1, 64)),
            flat_test,
        ),
        (
            "mnist, cat per block and frequency",
            CategoricalEntropyModel().fit(flat_train),
            flat_test,
        ),
        ("mnist, ctx positional", BlockContextModel(positional=True).fit(mnist_train), mnist_test),
        ("mnist, ctx", BlockContextModel(positional=False).fit(mnist_train), mnist_test),
    ]
    for name, model, symbols in cases:
        strings = model.compress(symbols)
        if isinstance(model, CategoricalEntropyModel):
            P = len(model.low_)
            ideal = model.code_lengths(symbols.reshape(-1, P)).reshape(n, -1).sum(axis=1)
            header = model.header_bits(symbols.shape[1])
        else:
            ideal = model.code_lengths(symbols)
            header = model.header_bits(symbols.shape[1:])
        pay = payload_bits(strings, header)
        table.add(name, ideal.mean(), pay.mean(), header, pay.sum() / ideal.sum())
    ideal_total = pay_total = 0.0
    for name in photos:
        model = BlockContextModel().fit([photos[o] for o in photos if o != name])
        strings = model.compress(photos[name])
        header = model.header_bits(photos[name].shape[1:])
        ideal_total += model.code_lengths(photos[name]).sum()
        pay_total += payload_bits(strings, header).sum()
    table.add(
        f"{len(photos)} photos, ctx (per photo)",
        ideal_total / len(photos),
        pay_total / len(photos),
        header,
        pay_total / ideal_total,
    )
    report.show(table)


def table_b(report, datasets, quality, n_train, arithmetic, cjpeg):
    table = report.table(
        f"(b) against libjpeg on the same coefficients (quality {quality}), bits per image",
        [
            ("data", "s"),
            ("n", "d"),
            ("huffman", ".0f"),
            ("optimized", ".0f"),
            ("arith", ".0f"),
            ("ours cat", ".0f"),
            ("ours ctx", ".0f"),
            ("+ header", ".0f"),
            ("ctx / opt", ".3f"),
            ("ctx / arith", ".3f"),
            ("ctx / cat", ".3f"),
        ],
        notes=[
            "entropy-coded scans only (JPEG headers and Huffman tables excluded) beside our "
            "payloads (our header excluded, then included)"
        ],
    )
    photos = {}
    with tempfile.TemporaryDirectory() as tmp:
        coefficients, sizes = {}, {}
        for name, X in datasets.items():
            directory = Path(tmp) / name
            directory.mkdir()
            R, _ = _common.pillow_jpeg_coefficients(X, quality, directory)
            coefficients[name] = zigzag(R)
            sizes[name] = libjpeg_sizes(X, quality, directory, arithmetic)
        if arithmetic:
            first = Path(tmp) / next(iter(datasets)) / "0.jpg"
            lossless = check_arithmetic_is_lossless(first, tmp)
            table.note(f"jpegtran -arithmetic is lossless on these files: {lossless}")
            if cjpeg:
                agree = all(cjpeg_agrees(X[0], quality, tmp) for X in datasets.values())
                table.note(f"cjpeg -arithmetic from the pixels writes the same scans: {agree}")
    for name, B in coefficients.items():
        if name == "mnist":
            train, test = B[:n_train], B[n_train:]
            default, optimized, arith = (None if s is None else s[n_train:] for s in sizes[name])
        else:
            photos[name] = B
            train = [coefficients[o] for o in coefficients if o not in (name, "mnist")]
            test = B
            default, optimized, arith = sizes[name]
        ctx = BlockContextModel().fit(train)
        strings = ctx.compress(test)
        header = ctx.header_bits(test.shape[1:])
        ours = payload_bits(strings, header)
        pooled = (
            train.reshape(-1, 64)
            if name == "mnist"
            else np.concatenate([t.reshape(-1, 64) for t in train])
        )
        cat = CategoricalEntropyModel().fit(pooled)
        cat_bits = payload_bits(
            cat.compress(test.reshape(len(test), -1)), cat.header_bits(test[0].size)
        )
        arith_mean = None if arith is None else arith.mean()
        table.add(
            name,
            len(test),
            default.mean(),
            optimized.mean(),
            arith_mean,
            cat_bits.mean(),
            ours.mean(),
            ours.mean() + header,
            ours.mean() / optimized.mean(),
            None if arith is None else ours.mean() / arith_mean,
            ours.mean() / cat_bits.mean(),
        )
    report.show(table)
    return coefficients, photos


def _coders(ctx, cat, raw, flat):
    """(name, encode, decode) of every coder on the same symbols."""

    def whole(compress, level=None):
        args = () if level is None else (level,)
        return lambda: [compress(raw.tobytes(), *args)]

    def per_sample(compress):
        return lambda: [compress(r.tobytes()) for r in flat]

    def each(decompress):
        return lambda strings: [decompress(s) for s in strings]

    return [
        ("ours ctx (per sample)", lambda: ctx.compress(raw), ctx.decompress),
        ("ours cat (per sample)", lambda: cat.compress(flat), cat.decompress),
        ("zlib -6 (one call)", whole(zlib.compress, 6), each(zlib.decompress)),
        ("zlib -9 (one call)", whole(zlib.compress, 9), each(zlib.decompress)),
        ("lzma -6 (one call)", whole(lzma.compress), each(lzma.decompress)),
        ("zlib -6 (per sample)", per_sample(zlib.compress), each(zlib.decompress)),
        ("lzma -6 (per sample)", per_sample(lzma.compress), each(lzma.decompress)),
    ]


def table_c(report, mnist_train, mnist_test, photo_name, photos, repeats):
    table = report.table(
        f"(c) throughput on int32 symbols, MB/s (10**6 bytes of int32), median of {repeats}",
        [
            ("data", "s"),
            ("coder", "s"),
            ("bits/sample", ".0f"),
            ("encode MB/s", ".1f"),
            ("decode MB/s", ".1f"),
            ("encode / zlib", ".2f"),
            ("decode / zlib", ".2f"),
        ],
        notes=["zlib -6 (one call) is the reference of the ratios"],
    )
    others = [photos[o] for o in photos if o != photo_name]
    cases = [
        (
            "mnist (per digit)",
            mnist_test,
            BlockContextModel().fit(mnist_train),
            CategoricalEntropyModel().fit(mnist_train.reshape(-1, 64)),
        ),
        (
            f"{photo_name} (1 image)",
            photos[photo_name],
            BlockContextModel().fit(others),
            CategoricalEntropyModel().fit(np.concatenate([o.reshape(-1, 64) for o in others])),
        ),
    ]
    for data, S, ctx, cat in cases:
        n = len(S)
        raw = np.ascontiguousarray(S, dtype=np.int32)
        megabytes = raw.nbytes / 1e6
        flat = raw.reshape(n, -1)
        coders = _coders(ctx, cat, raw, flat)
        strings = {name: enc() for name, enc, _ in coders}
        for name, _, dec in coders:
            if name.startswith("ours"):
                back = dec(strings[name])
                assert np.array_equal(np.asarray(back).reshape(raw.shape), raw), name
        t_enc = _common.median_times({name: enc for name, enc, _ in coders}, repeats)
        t_dec = _common.median_times(
            {name: (lambda d=dec, s=strings[name]: d(s)) for name, _, dec in coders}, repeats
        )
        reference = "zlib -6 (one call)"
        for name, _, _ in coders:
            bits = 8 * sum(len(s) for s in strings[name]) / n
            table.add(
                data,
                name,
                bits,
                megabytes / t_enc[name],
                megabytes / t_dec[name],
                t_enc[reference] / t_enc[name],
                t_dec[reference] / t_dec[name],
            )
    report.show(table)


def table_d(report, datasets):
    table = report.table(
        "(d) rate-distortion against Pillow's JPEG on the photographs (8-bit decode)",
        [
            ("photo", "s"),
            ("quality", "d"),
            ("Pillow bpp", ".3f"),
            ("Pillow PSNR", ".2f"),
            ("ours bpp", ".3f"),
            ("ours PSNR", ".2f"),
            ("bpp ours / Pillow", ".3f"),
            ("ours PSNR at Pillow's bpp", ".2f"),
            ("difference dB", "+.2f"),
        ],
        notes=["ours interpolated in log rate inside its sweep; '-' beyond it"],
    )
    names = [n for n in datasets if n != "mnist"]
    for name in names:
        X = datasets[name]
        others = [datasets[o] for o in names if o != name]
        pil, ours = [], []
        for quality in RD_QUALITIES + [RD_EXTRA]:
            buffer = io.BytesIO()
            Image.fromarray(X[0], mode="L").save(
                buffer, format="JPEG", quality=quality, optimize=True
            )
            decoded = np.asarray(Image.open(io.BytesIO(buffer.getvalue())))[np.newaxis]
            pixels = X[0].size
            pil.append((8 * len(buffer.getvalue()) / pixels, psnr(X, decoded)[0]))
            dct, quantizer = jpeg_gray_steps(quality, layout="blocks")
            quantizer.fit(dct.fit_transform(X))
            # the entropy model learns from the other photographs' coefficients
            model = BlockContextModel().fit([jpeg_symbols(o, quality) for o in others])
            codec = Codec([dct, quantizer], model=model).fit(X)  # a fitted model, used as it is
            strings = codec.compress(X)
            ours.append((8 * len(strings[0]) / pixels, psnr(X, codec.decompress(strings))[0]))
        ours_bpp, ours_psnr = np.array(ours).T
        n = len(RD_QUALITIES)
        for quality, (pb, pp), (ob, op) in zip(RD_QUALITIES, pil[:n], ours[:n], strict=True):
            at = None
            if ours_bpp.min() <= pb <= ours_bpp.max():
                at = float(np.interp(np.log(pb), np.log(ours_bpp), ours_psnr))
            table.add(name, quality, pb, pp, ob, op, ob / pb, at, None if at is None else at - pp)
    report.show(table)


def main(argv=None):
    parser = _common.parser(__doc__)
    parser.add_argument("--quality", type=int, default=50)
    parser.add_argument("--n-train", type=int, default=2500)
    parser.add_argument("--repeats", type=int, default=None, help="timed calls (default 5)")
    parser.add_argument("--rd", action="store_true", help="also table (d)")
    args = parser.parse_args(argv)
    report = _common.Report(
        __file__,
        __doc__,
        args,
        argv,
        peers=["jpeglib", "PIL", "constriction", "jpegtran", "cjpeg"],
    )
    n_train = 500 if args.quick else args.n_train
    repeats = args.repeats or (3 if args.quick else 5)
    arithmetic, cjpeg = report.has("jpegtran"), report.has("cjpeg")
    datasets = {
        name: image[np.newaxis]
        for name, image in _common.photographs(_common.GRAY_PHOTOGRAPHS, gray=True).items()
    }
    datasets["mnist"] = load_mnist().images[: 2 * n_train]
    with _common.limit_threads(args.threads):
        coefficients, photos = table_b(report, datasets, args.quality, n_train, arithmetic, cjpeg)
        mnist = coefficients["mnist"]
        table_a(report, mnist[:n_train], mnist[n_train:], photos)
        table_c(report, mnist[:n_train], mnist[n_train:], "china", photos, repeats)
        if args.rd:
            table_d(report, datasets)
    return report.finish()


if __name__ == "__main__":
    main()
