"""The compiled JPEG kernel against libjpeg-turbo (through Pillow) and the numpy steps.

Every test that computes runs on each build of the kernel this processor has
("portable" everywhere, "avx2" on x86 processors with AVX2 and FMA).
"""

import io

import numpy as np
import pytest

from skcompress import BlockDCT, ChromaSubsampler, ColorTransform, PerceptualQuantizer
from skcompress._core._basis import zigzag_order
from skcompress.codecs import _jpeg_kernel
from skcompress.codecs._libjpeg import (
    islow_blocks,
    islow_idct,
    jpeg_component_views,
    jpeg_decode,
    jpeg_encode,
    jpeg_grids,
    libjpeg_quantize,
)
from skcompress.datasets import load_mnist, load_photographs
from skcompress.io import read_jpeg_coefficients, write_jpeg_coefficients
from skcompress.quantization import JPEG_CHROMA, JPEG_LUMA, ijg_scale

Image = pytest.importorskip("PIL.Image")

PILLOW_SUBSAMPLING = {"4:4:4": 0, "4:2:2": 1, "4:2:0": 2}
QUALITIES = [10, 50, 75, 95]
# (image, subsampling) cases: gray images ignore the subsampling
KINDS = [("gray", "4:4:4"), ("colour", "4:4:4"), ("colour", "4:2:2"), ("colour", "4:2:0")]


@pytest.fixture(params=_jpeg_kernel.builds())
def build(request):
    before = _jpeg_kernel.build()
    _jpeg_kernel.use(request.param)
    yield request.param
    _jpeg_kernel.use(before)


@pytest.fixture(scope="module")
def images():
    """Photographs and random images, sizes that 8 and 16 do not divide, down to 1 x 1."""
    photos = load_photographs(size=48, color=True).images
    rng = np.random.default_rng(0)
    cases = [photos[i] for i in range(len(photos))]
    cases += [
        np.ascontiguousarray(photos[0, 3:40, 5:46]),
        np.ascontiguousarray(photos[1, :17, :33]),
    ]
    for shape in [(1, 1), (17, 33), (2, 9), (9, 2), (3, 5), (4, 4), (8, 8), (16, 24), (31, 47)]:
        cases.append(rng.integers(0, 256, (*shape, 3), dtype=np.uint8))
    return cases


def as_kind(image, kind):
    return np.ascontiguousarray(image[..., 1]) if kind == "gray" else image


def pillow_file(image, quality, subsampling, **options):
    buffer = io.BytesIO()
    extra = {} if image.ndim == 2 else {"subsampling": PILLOW_SUBSAMPLING[subsampling]}
    Image.fromarray(image).save(buffer, "JPEG", quality=quality, **extra, **options)
    return buffer.getvalue()


def pillow_pixels(data, mode=None):
    image = Image.open(io.BytesIO(data))
    if mode is not None:
        image.draft(mode, image.size)
    return np.asarray(image)


def tables_for(n_components, quality):
    tables = [JPEG_LUMA] + [JPEG_CHROMA] * (n_components - 1)
    return np.stack([ijg_scale(t, quality) for t in tables]).astype(np.int64)


# -- islow: libjpeg's encoder and decoder, bit for bit ----------------------------------


@pytest.mark.parametrize(("kind", "subsampling"), KINDS)
def test_islow_encode_is_libjpegs(build, images, kind, subsampling):
    same = total = 0
    for image in images:
        image = as_kind(image, kind)
        for quality in QUALITIES:
            jpeg = read_jpeg_coefficients(pillow_file(image, quality, subsampling))
            ours = jpeg_encode(image[None], jpeg.quantization_tables, subsampling=subsampling)
            for mine, theirs in zip(ours, jpeg.coefficients, strict=True):
                same += int((mine[0] == theirs).sum())
                total += theirs.size
    assert same == total  # 100% identical


@pytest.mark.parametrize(("kind", "subsampling"), KINDS)
def test_decode_is_pillows(build, images, kind, subsampling):
    same = total = worst = 0
    for image in images:
        image = as_kind(image, kind)
        for quality in QUALITIES + [100]:
            data = pillow_file(image, quality, subsampling)
            jpeg = read_jpeg_coefficients(data)
            coefficients = [c[None] for c in jpeg.coefficients]
            ours = jpeg_decode(
                coefficients, jpeg.quantization_tables, image.shape[:2], subsampling=subsampling
            )[0]
            theirs = pillow_pixels(data)
            assert ours.shape == theirs.shape and ours.dtype == np.uint8
            difference = np.abs(ours.astype(int) - theirs)
            same += int((difference == 0).sum())
            total += difference.size
            worst = max(worst, int(difference.max()))
    assert (same, worst) == (total, 0)  # 100% identical


def test_islow_matches_pillow_on_mnist_and_photographs(build):
    digits = load_mnist().images[:40]
    photos = load_photographs(size=128, color=True).images[:3]
    for X, subsampling in [(digits, "4:2:0"), (photos, "4:2:0"), (photos, "4:2:2")]:
        files = [pillow_file(x, 75, subsampling) for x in X]
        tables = read_jpeg_coefficients(files[0]).quantization_tables
        ours = jpeg_encode(X, tables, subsampling=subsampling)
        pixels = jpeg_decode(ours, tables, X.shape[1:3], subsampling=subsampling)
        for i, data in enumerate(files):
            jpeg = read_jpeg_coefficients(data)
            for mine, theirs in zip(ours, jpeg.coefficients, strict=True):
                np.testing.assert_array_equal(mine[i], theirs)
            np.testing.assert_array_equal(pixels[i], pillow_pixels(data))


def test_steps_beyond_baseline(build):
    """Steps up to 8191 as libjpeg-turbo divides; beyond, the exact division (numpy's)."""
    rng = np.random.default_rng(1)
    gray = rng.integers(0, 256, (1, 24, 40), dtype=np.uint8)
    for step in [256, 1000, 8191]:
        buffer = io.BytesIO()
        Image.fromarray(gray[0]).save(buffer, "JPEG", qtables=[[step] * 64])
        jpeg = read_jpeg_coefficients(buffer.getvalue())
        np.testing.assert_array_equal(
            jpeg_encode(gray, jpeg.quantization_tables)[0][0], jpeg.coefficients[0]
        )
    for step in [8192, 20000, 32767]:
        steps = np.full((8, 8), step)
        expected = libjpeg_quantize(islow_blocks(gray), steps).reshape(1, 3, 5, 64)
        np.testing.assert_array_equal(jpeg_encode(gray, steps)[0], expected[..., zigzag_order(8)])


def test_decode_any_coefficients_as_jidctint(build):
    """Coefficients far beyond those of images: jidctint.c's wrap-around, as numpy emulates it."""
    rng = np.random.default_rng(2)
    grid = jpeg_grids((20, 28), 1)[0]
    for amplitude, step in [(4, 2), (300, 16), (3000, 8), (32767, 1), (32767, 32767)]:
        symbols = rng.integers(-amplitude, amplitude + 1, (5, *grid, 64)).astype(np.int32)
        steps = np.full((8, 8), step)
        ours = jpeg_decode([symbols], steps, (20, 28))
        natural = np.zeros(symbols.shape, dtype=np.int64)
        natural[..., zigzag_order(8)] = symbols.astype(np.int64) * step
        blocks = islow_idct(natural.reshape(*natural.shape[:3], 8, 8))
        expected = blocks.transpose(0, 1, 3, 2, 4).reshape(5, 8 * grid[0], 8 * grid[1])
        np.testing.assert_array_equal(ours, expected[:, :20, :28])


def test_fewer_coefficients_decode_as_their_file(build, images):
    image = images[1]
    jpeg = read_jpeg_coefficients(pillow_file(image, 90, "4:2:0"))
    for k in [1, 6, 64]:
        kept = [c[None, ..., :k].copy() for c in jpeg.coefficients]
        padded = [np.pad(c, [(0, 0)] * 3 + [(0, 64 - k)]) for c in kept]
        data = write_jpeg_coefficients(
            [p[0] for p in padded],
            jpeg.quantization_tables,
            shape=image.shape[:2],
            sampling_factors=jpeg.sampling_factors,
        )
        ours = jpeg_decode(kept, jpeg.quantization_tables, image.shape[:2])
        np.testing.assert_array_equal(ours[0], pillow_pixels(data))
        encoded = jpeg_encode(image[None], jpeg.quantization_tables, n_coefficients=k)
        full = jpeg_encode(image[None], jpeg.quantization_tables)
        for a, b in zip(encoded, full, strict=True):
            np.testing.assert_array_equal(a, b[..., :k])


def test_gray_output_of_colour_and_colour_output_of_gray(build, images):
    image = images[2]
    data = pillow_file(image, 75, "4:2:0")
    jpeg = read_jpeg_coefficients(data)
    coefficients = [c[None] for c in jpeg.coefficients]
    luma = jpeg_decode(coefficients, jpeg.quantization_tables, image.shape[:2], channels=1)
    np.testing.assert_array_equal(luma[0], pillow_pixels(data, "L"))  # libjpeg's JCS_GRAYSCALE
    gray = jpeg_decode(coefficients[:1], jpeg.quantization_tables[:1], image.shape[:2])
    np.testing.assert_array_equal(luma, gray)
    rgb = jpeg_decode(coefficients[:1], jpeg.quantization_tables[:1], image.shape[:2], channels=3)
    np.testing.assert_array_equal(rgb, np.repeat(gray[..., None], 3, axis=-1))


def test_our_files_decode_as_pillow_decodes_them(build):
    """The compress path: the kernel's coefficients written by libjpeg, read by Pillow."""
    photos = load_photographs(size=40, color=True).images[:3]
    tables = tables_for(3, 60)
    coefficients = jpeg_encode(photos, tables)
    pixels = jpeg_decode(coefficients, tables, (40, 40))
    for i in range(len(photos)):
        data = write_jpeg_coefficients(
            [c[i] for c in coefficients],
            tables,
            shape=(40, 40),
            sampling_factors=[[2, 2], [1, 1], [1, 1]],
        )
        np.testing.assert_array_equal(pixels[i], pillow_pixels(data))
        assert data == write_jpeg_coefficients(
            read_jpeg_coefficients(pillow_file(photos[i], 60, "4:2:0"))
        )


# -- float: the numpy steps ----------------------------------------------------------------


def numpy_float_symbols(X, tables, subsampling):
    """JPEGCodec(dct="float")'s path with the public steps: zig-zag symbols per component."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 3:
        planes = [X]
    else:
        colour = ColorTransform(offset=128, layout="blocks").fit(X[:1])
        subsampler = ChromaSubsampler(subsampling, block_size=8).fit(colour.transform(X[:1]))
        planes = subsampler.split(subsampler.transform(colour.transform(X)))
    symbols = []
    for plane, table, (rows, cols) in zip(
        planes, tables, jpeg_grids(X.shape[1:3], len(planes), subsampling), strict=True
    ):
        dct = BlockDCT(8, level_shift=128, layout="blocks").fit(plane)
        quantizer = PerceptualQuantizer(table.astype(np.float64), layout="blocks")
        G = dct.transform(plane)
        symbols.append(quantizer.fit(G).transform(G)[:, :rows, :cols])
    return symbols


def test_float_encode_is_the_numpy_steps(build):
    """Identical but for ties that the last bit of a float decides: at least 99.99%."""
    photos = load_photographs(size=64, color=True).images
    rng = np.random.default_rng(3)
    sets = [
        (photos, ["4:4:4", "4:2:2", "4:2:0"]),
        (np.ascontiguousarray(photos[:3, :37, :45]), ["4:2:0", "4:2:2"]),
        (photos[..., 0].copy(), ["4:2:0"]),
        (rng.uniform(-20, 300, (3, 19, 21, 3)), ["4:2:0"]),  # any numbers, as floats
    ]
    same = total = 0
    for X, subsamplings in sets:
        for subsampling in subsamplings:
            for quality in [10, 75, 95]:
                tables = tables_for(3 if X.ndim == 4 else 1, quality)
                ours = jpeg_encode(X, tables, subsampling=subsampling, dct="float")
                theirs = numpy_float_symbols(X, tables, subsampling)
                for mine, reference in zip(ours, theirs, strict=True):
                    assert mine.shape == reference.shape
                    assert np.abs(mine - reference).max() <= 1
                    same += int((mine == reference).sum())
                    total += reference.size
    assert same / total >= 0.9999, f"{total - same} of {total} symbols differ"


def test_float_dtypes_agree(build):
    photos = load_photographs(size=32, color=True).images[:2]
    tables = tables_for(3, 50)
    from_uint8 = jpeg_encode(photos, tables, dct="float")
    from_float = jpeg_encode(photos.astype(np.float32), tables, dct="float", dtype=np.int16)
    for a, b in zip(from_uint8, from_float, strict=True):
        np.testing.assert_array_equal(a, b)


# -- layout, threads, dtypes ---------------------------------------------------------------


def test_flat_layout_threads_and_int16(build):
    X = load_mnist().images[:30]
    tables = tables_for(1, 75)
    grids = jpeg_grids(X.shape[1:], 1)
    reference = jpeg_encode(X, tables)[0]
    flat = np.full((30, 64 * 16 + 0), -9, dtype=np.int32)
    views = jpeg_component_views(flat, grids)
    assert jpeg_encode(X, tables, out=views, n_threads=3)[0] is views[0]
    np.testing.assert_array_equal(flat.reshape(reference.shape), reference)
    small = jpeg_encode(X, tables, dtype=np.int16, n_threads=2)[0]
    assert small.dtype == np.int16
    np.testing.assert_array_equal(small, reference)
    pixels = jpeg_decode(views, tables, X.shape[1:])
    np.testing.assert_array_equal(jpeg_decode([small], tables, X.shape[1:], n_threads=4), pixels)
    for dtype in [np.int64, np.float64]:  # converted, values checked
        np.testing.assert_array_equal(
            jpeg_decode([reference.astype(dtype)], tables, (28, 28)), pixels
        )
    assert jpeg_encode(X[:0], tables)[0].shape == (0, 4, 4, 64)
    assert jpeg_decode([reference[:0]], tables, (28, 28)).shape == (0, 28, 28)


# -- bad input ---------------------------------------------------------------------------------


def test_bad_input_is_refused():
    rgb = np.zeros((2, 16, 16, 3), dtype=np.uint8)
    tables = tables_for(3, 50)
    with pytest.raises(ValueError, match="gray .* or RGB"):
        jpeg_encode(np.zeros((2, 8, 8, 4), np.uint8), tables)
    with pytest.raises(ValueError, match="at least 1 x 1"):
        jpeg_encode(np.zeros((2, 0, 8), np.uint8), tables[:1])
    with pytest.raises(ValueError, match="integers from 0 to 255.*index"):
        jpeg_encode(rgb + 0.5, tables)
    with pytest.raises(ValueError, match="integers from 0 to 255"):
        jpeg_encode(rgb.astype(np.int64) + 256, tables)
    with pytest.raises(ValueError, match="real numbers"):
        jpeg_encode(rgb.astype(np.complex128), tables, dct="float")
    with pytest.raises(ValueError, match=r"tables\[1\] has the step 0 at row 2"):
        bad = tables.copy()
        bad[1, 2, 3] = 0
        jpeg_encode(rgb, bad)
    with pytest.raises(ValueError, match="32768"):
        jpeg_encode(rgb, np.full((8, 8), 32768))
    with pytest.raises(ValueError, match=r"shape \(3, 8, 8\)"):
        jpeg_encode(rgb, tables[:2])
    with pytest.raises(ValueError, match="subsampling must be one of"):
        jpeg_encode(rgb, tables, subsampling="4:1:1")
    with pytest.raises(ValueError, match="dct must be one of"):
        jpeg_encode(rgb, tables, dct="fast")
    with pytest.raises(ValueError, match="n_threads"):
        jpeg_encode(rgb, tables, n_threads=0)
    with pytest.raises(ValueError, match="n_coefficients"):
        jpeg_encode(rgb, tables, n_coefficients=65)
    with pytest.raises(ValueError, match="dtype must be"):
        jpeg_encode(rgb, tables, dtype=np.int64)
    with pytest.raises(
        ValueError, match=r"not finite or beyond int32 in component 0, block \(0, 0\)"
    ):
        jpeg_encode(np.full((1, 8, 8), np.nan), tables[:1], dct="float")
    with pytest.raises(ValueError, match="beyond int16"):
        jpeg_encode(np.full((1, 8, 8), 1e9), tables[:1], dct="float", dtype=np.int16)
    grids = jpeg_grids((16, 16), 3)
    good = [np.zeros((2, r, c, 64), np.int32) for r, c in grids]
    with pytest.raises(ValueError, match=r"out\[1\] must have shape \(2, 1, 1, 64\)"):
        jpeg_encode(rgb, tables, out=[good[0], np.zeros((2, 2, 2, 64), np.int32), good[2]])
    with pytest.raises(ValueError, match=r"out\[0\] must be int16 or int32 and contiguous"):
        jpeg_encode(rgb, tables, out=[good[0].astype(np.float32), *good[1:]])
    with pytest.raises(ValueError, match=r"out\[2\] must be int16 or int32 and contiguous"):
        strided = np.zeros((2, 1, 1, 128), np.int32)[..., ::2]
        jpeg_encode(rgb, tables, out=[*good[:2], strided])
    with pytest.raises(ValueError, match="same dtype"):
        jpeg_encode(rgb, tables, out=[good[0], good[1].astype(np.int16), good[2]])
    with pytest.raises(ValueError, match="writable"):
        readonly = good[0].copy()
        readonly.setflags(write=False)
        jpeg_encode(rgb, tables, out=[readonly, *good[1:]])
    with pytest.raises(ValueError, match="n_coefficients is 10"):
        jpeg_encode(rgb, tables, out=good, n_coefficients=10)
    with pytest.raises(ValueError, match="contiguous rows"):
        jpeg_component_views(np.zeros((64 * 6, 2), np.int32).T, grids)
    with pytest.raises(ValueError, match=r"shape \(n_samples, 384\)"):
        jpeg_component_views(np.zeros((2, 380), np.int32), grids)
    # decoding
    with pytest.raises(ValueError, match="list of arrays"):
        jpeg_decode(good[0], tables, (16, 16))
    with pytest.raises(ValueError, match="1 component .* or 3"):
        jpeg_decode(good[:2], tables, (16, 16))
    with pytest.raises(ValueError, match=r"coefficients\[0\] must have shape \(2, 3, 2, k\)"):
        jpeg_decode(good, tables, (24, 16))
    with pytest.raises(ValueError, match="-32768.*32767.*16-bit"):
        jpeg_decode([good[0] + 40000, *good[1:]], tables, (16, 16))
    with pytest.raises(ValueError, match="must hold integers"):
        jpeg_decode([good[0] + 0.5, *good[1:]], tables, (16, 16))
    with pytest.raises(ValueError, match="shape must be"):
        jpeg_decode(good, tables, (16, 0))
    with pytest.raises(ValueError, match="channels"):
        jpeg_decode(good, tables, (16, 16), channels=2)


def test_the_kernel_checks_its_own_arguments():
    """Direct calls with inconsistent arguments raise instead of crashing."""
    kernel = _jpeg_kernel
    rgb = np.zeros((2, 16, 16, 3), dtype=np.uint8)
    steps = np.ones((3, 64), dtype=np.int32)
    outs = tuple(np.zeros((2, r, c, 64), np.int32) for r, c in jpeg_grids((16, 16), 3))
    kernel.encode(rgb, steps, outs, 2, 0, 0, 2, None)
    calls = [
        lambda: kernel.encode([1, 2], steps, outs, 2, 0, 0, 2, None),
        lambda: kernel.encode(rgb, steps, outs[:2], 2, 0, 0, 2, None),
        lambda: kernel.encode(rgb, steps[:2], outs, 2, 0, 0, 2, None),
        lambda: kernel.encode(rgb, steps.astype(np.int64), outs, 2, 0, 0, 2, None),
        lambda: kernel.encode(rgb, steps - 1, outs, 2, 0, 0, 2, None),
        lambda: kernel.encode(rgb, steps, outs, 1, 0, 0, 2, None),  # grids of 4:2:0
        lambda: kernel.encode(rgb, steps, outs, 7, 0, 0, 2, None),
        lambda: kernel.encode(rgb, steps, outs, 2, 0, 0, 3, None),
        lambda: kernel.encode(rgb, steps, outs, 2, 1, 0, 2, None),  # float without parameters
        lambda: kernel.encode(rgb, steps, outs, 2, 1, 0, 2, np.zeros(5)),
        lambda: kernel.encode(rgb.astype(np.float64), steps, outs, 2, 0, 0, 2, None),
        lambda: kernel.encode(rgb[:, ::2], steps, outs, 2, 0, 0, 2, None),
        lambda: kernel.encode(
            rgb, steps, tuple(o.astype(np.int64) for o in outs), 2, 0, 0, 2, None
        ),
        lambda: kernel.decode(outs, steps, np.zeros((2, 16, 16, 3), np.int32), 2, 0, 2),
        lambda: kernel.decode(outs, steps, np.zeros((2, 16, 16, 4), np.uint8), 2, 0, 2),
        lambda: kernel.decode(outs, steps, np.zeros((2, 16, 32, 3), np.uint8)[:, :, ::2], 2, 0, 2),
        lambda: kernel.decode(outs, steps, np.zeros((2, 16, 16, 3), np.uint8), 2, -1, 2),
        lambda: kernel.decode(outs[:2], steps, np.zeros((2, 16, 16, 3), np.uint8), 2, 0, 2),
        lambda: kernel.decode(outs, steps, bytes(1536), 2, 0, 2),
        lambda: kernel.use("nonexistent"),
    ]
    for call in calls:
        with pytest.raises(ValueError):
            call()
