"""Entropy coding of quantized JPEG coefficients: our bitstreams against the peers.

Four tables, every peer measured in the same run:

(a) **Against the estimate.** The payload of our bitstreams beside the ideal
    code length under the same model (``code_lengths``), the header (format
    byte, shape, CRC-32) reported apart. MNIST at ``--quality``, models fitted
    on the first ``--n-train`` digits, the next ones coded.
(b) **Against libjpeg, same coefficients.** Every image is written by Pillow
    (libjpeg-turbo, baseline Huffman, default tables and ``optimize=True``),
    its quantized coefficients read back with jpeglib
    (``jpeg_conformance.libjpeg_coefficients``) and coded by our models,
    fitted on the libjpeg coefficients of *other* images: the first
    ``--n-train`` digits for the other MNIST digits, the other five
    photographs for each photograph (leave one out). libjpeg's arithmetic
    coder is measured by ``jpegtran -arithmetic`` (Debian's
    libjpeg-turbo-progs) transcoding Pillow's file losslessly. Sizes are the
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

Usage::

    python benchmarks/bench_entropy.py [--quality 50] [--n-train 2500] [--repeats 5]
                                        [--quick] [--rd]
"""

import argparse
import io
import lzma
import platform
import shutil
import subprocess
import tempfile
import time
import zlib
from pathlib import Path

import constriction
import jpeglib
import numpy as np
from jpeg_conformance import gray_datasets, libjpeg_coefficients
from PIL import Image

from skcompress import BlockDCT, PerceptualQuantizer
from skcompress.codecs import Codec
from skcompress.entropy import BlockContextModel, CategoricalEntropyModel
from skcompress.metrics import psnr
from skcompress.transforms import zigzag_order

RD_QUALITIES = [10, 25, 50, 75, 90, 95]
RD_EXTRA = 98  # one more point of ours, to interpolate at Pillow's quality-95 rate


def scan_bits(data):
    """Bits of the entropy-coded segment of a one-scan JPEG: after SOS's header, before EOI."""
    at = 2
    while at < len(data):
        if data[at] != 0xFF:
            raise ValueError("not a JPEG marker segment")
        marker, length = data[at + 1], int.from_bytes(data[at + 2 : at + 4], "big")
        if marker == 0xDA:
            start = at + 2 + length
            end = data.rindex(b"\xff\xd9")
            return 8 * (end - start)
        at += 2 + length
    raise ValueError("no SOS marker")


def libjpeg_sizes(X, quality, directory, arithmetic):
    """Scan bits of Pillow's files per image: Huffman, optimized Huffman, arithmetic."""
    default, optimized, arith = [], [], []
    for i, image in enumerate(X):
        path = Path(directory) / f"{i}.jpg"  # written by libjpeg_coefficients
        default.append(scan_bits(path.read_bytes()))
        buffer = io.BytesIO()
        Image.fromarray(image, mode="L").save(
            buffer, format="JPEG", quality=quality, optimize=True
        )
        optimized.append(scan_bits(buffer.getvalue()))
        if arithmetic:
            out = subprocess.run(
                ["jpegtran", "-arithmetic", str(path)], capture_output=True, check=True
            ).stdout
            arith.append(scan_bits(out))
    return np.array(default), np.array(optimized), np.array(arith) if arithmetic else None


def cjpeg_agrees(image, quality, directory):
    """``cjpeg -arithmetic`` from the pixels writes the scan ``jpegtran`` transcodes."""
    pgm, jpg = Path(directory) / "x.pgm", Path(directory) / "x.jpg"
    Image.fromarray(image, mode="L").save(pgm)
    Image.fromarray(image, mode="L").save(jpg, quality=quality)

    def run(*cmd):
        return subprocess.run(cmd, capture_output=True, check=True).stdout

    direct = run("cjpeg", "-arithmetic", "-quality", str(quality), str(pgm))
    return scan_bits(direct) == scan_bits(run("jpegtran", "-arithmetic", str(jpg)))


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
    G = BlockDCT(layout="blocks").fit_transform(X)
    return PerceptualQuantizer(quality=quality, layout="blocks").fit(G).transform(G)


def payload_bits(model, strings, header):
    return np.array([8 * len(s) for s in strings], dtype=np.float64) - header


def median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def table_a(mnist_train, mnist_test, photos):
    print("\n(a) our bitstreams against the ideal code length under the same model")
    line = "{:<34} {:>10} {:>10} {:>8} {:>9}"
    print(line.format("data, model", "ideal", "payload", "header", "pay/ideal"))
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
        pay = payload_bits(model, strings, header)
        print(
            line.format(
                name,
                f"{ideal.mean():.1f}",
                f"{pay.mean():.1f}",
                header,
                f"{pay.sum() / ideal.sum():.4f}",
            )
        )
    ideal_total = pay_total = 0.0
    for name in photos:
        model = BlockContextModel().fit([photos[o] for o in photos if o != name])
        strings = model.compress(photos[name])
        header = model.header_bits(photos[name].shape[1:])
        ideal_total += model.code_lengths(photos[name]).sum()
        pay_total += payload_bits(model, strings, header).sum()
    print(
        line.format(
            f"{len(photos)} photos, ctx (per photo)",
            f"{ideal_total / len(photos):.0f}",
            f"{pay_total / len(photos):.0f}",
            header,
            f"{pay_total / ideal_total:.4f}",
        )
    )


def table_b(datasets, quality, n_train, arithmetic):
    print(f"\n(b) against libjpeg on the same coefficients (quality {quality}), bits per image")
    head = (
        "data",
        "n",
        "huffman",
        "optimized",
        "arith",
        "ours cat",
        "ours ctx",
        "+header",
        "ctx/opt",
        "ctx/arith",
        "ctx/cat",
    )
    line = "{:<10} {:>5} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>8} {:>9} {:>8}"
    print(line.format(*head))
    photos = {}
    with tempfile.TemporaryDirectory() as tmp:
        coefficients, sizes = {}, {}
        for name, X in datasets.items():
            directory = Path(tmp) / name
            directory.mkdir()
            R, _ = libjpeg_coefficients(X, quality, directory)
            coefficients[name] = zigzag(R)
            sizes[name] = libjpeg_sizes(X, quality, directory, arithmetic)
        if arithmetic:
            first = Path(tmp) / next(iter(datasets)) / "0.jpg"
            lossless = check_arithmetic_is_lossless(first, tmp)
            agree = all(cjpeg_agrees(X[0], quality, tmp) for X in datasets.values())
            print(
                f"  (jpegtran -arithmetic is lossless on these files: {lossless}; cjpeg "
                f"-arithmetic from the pixels writes the same scans: {agree})"
            )
    rows = {}
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
        ours = payload_bits(ctx, strings, header)
        pooled = (
            train.reshape(-1, 64)
            if name == "mnist"
            else np.concatenate([t.reshape(-1, 64) for t in train])
        )
        cat = CategoricalEntropyModel().fit(pooled)
        cat_bits = payload_bits(
            cat, cat.compress(test.reshape(len(test), -1)), cat.header_bits(test[0].size)
        )
        arith_mean = arith.mean() if arith is not None else np.nan
        rows[name] = (ours.mean(), optimized.mean(), arith_mean)
        print(
            line.format(
                name,
                len(test),
                f"{default.mean():.0f}",
                f"{optimized.mean():.0f}",
                "n/a" if arith is None else f"{arith_mean:.0f}",
                f"{cat_bits.mean():.0f}",
                f"{ours.mean():.0f}",
                f"{ours.mean() + header:.0f}",
                f"{ours.mean() / optimized.mean():.3f}",
                "n/a" if arith is None else f"{ours.mean() / arith_mean:.3f}",
                f"{ours.mean() / cat_bits.mean():.3f}",
            )
        )
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


def table_c(mnist_train, mnist_test, photo_name, photos, repeats):
    print(f"\n(c) throughput on int32 symbols, medians of {repeats}; MB = 10**6 bytes of int32")
    line = "{:<20} {:<28} {:>11} {:>10} {:>10} {:>9} {:>9}"
    print(
        line.format("data", "coder", "bits/sample", "enc MB/s", "dec MB/s", "enc/zlib", "dec/zlib")
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
        results = []
        for name, enc, dec in coders:
            strings = enc()
            if name.startswith("ours"):
                back = dec(strings)
                assert np.array_equal(np.asarray(back).reshape(raw.shape), raw), name
            t_enc = median_time(enc, repeats)
            t_dec = median_time(lambda dec=dec, strings=strings: dec(strings), repeats)
            bits = 8 * sum(len(s) for s in strings) / n
            results.append((name, bits, megabytes / t_enc, megabytes / t_dec))
        zlib_enc, zlib_dec = results[2][2], results[2][3]
        for name, bits, enc, dec in results:
            print(
                line.format(
                    data,
                    name,
                    f"{bits:.0f}",
                    f"{enc:.1f}",
                    f"{dec:.1f}",
                    f"{enc / zlib_enc:.2f}",
                    f"{dec / zlib_dec:.2f}",
                )
            )


def table_d(datasets):
    print("\n(d) rate-distortion against Pillow's JPEG on the photographs (8-bit decode)")
    line = "{:<10} {:>4} {:>9} {:>9} {:>9} {:>10} {:>10} {:>20}"
    print(
        line.format(
            "photo",
            "Q",
            "pil bpp",
            "pil PSNR",
            "ours bpp",
            "ours PSNR",
            "bpp ratio",
            "ours PSNR @ pil bpp",
        )
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
            dct = BlockDCT(layout="blocks").fit(X)
            q = PerceptualQuantizer(quality=quality, layout="blocks").fit(dct.transform(X))
            # the entropy model learns from the other photographs' coefficients
            model = BlockContextModel().fit([jpeg_symbols(o, quality) for o in others])
            codec = Codec([dct, q], model=model).fit(X)  # a fitted model is used as it is
            strings = codec.compress(X)
            ours.append((8 * len(strings[0]) / pixels, psnr(X, codec.decompress(strings))[0]))
        ours_bpp, ours_psnr = np.array(ours).T
        n = len(RD_QUALITIES)
        for quality, (pb, pp), (ob, op) in zip(RD_QUALITIES, pil[:n], ours[:n], strict=True):
            if ours_bpp.min() <= pb <= ours_bpp.max():
                at = np.interp(np.log(pb), np.log(ours_bpp), ours_psnr)
                equal = f"{at:.2f} ({at - pp:+.2f})"
            else:
                equal = "beyond sweep"
            print(
                line.format(
                    name,
                    quality,
                    f"{pb:.3f}",
                    f"{pp:.2f}",
                    f"{ob:.3f}",
                    f"{op:.2f}",
                    f"{ob / pb:.3f}",
                    equal,
                )
            )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quality", type=int, default=50)
    parser.add_argument("--n-train", type=int, default=2500)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="500 + 500 digits, 3 repeats")
    parser.add_argument("--rd", action="store_true", help="also table (d)")
    args = parser.parse_args(argv)
    n_mnist = 1000 if args.quick else 2 * args.n_train
    n_train = n_mnist // 2 if args.quick else args.n_train
    repeats = 3 if args.quick else args.repeats
    arithmetic = shutil.which("jpegtran") is not None
    print(
        f"Python {platform.python_version()}, numpy {np.__version__}, constriction "
        f"{getattr(constriction, '__version__', '0.5')}, Pillow {Image.__version__} "
        f"(libjpeg-turbo {Image.core.libjpeg_turbo_version or 'no'}), jpeglib "
        f"{jpeglib.__version__}, jpegtran: {'yes' if arithmetic else 'not installed'}"
    )
    datasets = gray_datasets(n_mnist)
    datasets["mnist"] = datasets.pop(f"mnist[:{n_mnist}]")
    coefficients, photos = table_b(datasets, args.quality, n_train, arithmetic)
    mnist = coefficients["mnist"]
    table_a(mnist[:n_train], mnist[n_train:], photos)
    table_c(mnist[:n_train], mnist[n_train:], "china", photos, repeats)
    if args.rd:
        table_d(datasets)


if __name__ == "__main__":
    main()
