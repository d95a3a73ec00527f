"""Writing batches of JPEG files: the single-file writer's bytes, libjpeg's own Huffman
tables, the same checks and messages naming the image."""

import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skcompress.io import (
    _jpeg_writer,
    read_jpeg_coefficients,
    write_jpeg_coefficients,
    write_jpeg_coefficients_batch,
)

from . import _craft

skimage_data = pytest.importorskip("skimage.data")
pytest.importorskip("PIL.Image")

# Pillow's subsampling codes and the sampling factors they give
SUBSAMPLINGS = {
    "4:4:4": (0, [[1, 1], [1, 1], [1, 1]]),
    "4:2:2": (1, [[1, 2], [1, 1], [1, 1]]),
    "4:2:0": (2, [[2, 2], [1, 1], [1, 1]]),
}
TABLES = np.array([np.full((8, 8), 3), np.full((8, 8), 5), np.full((8, 8), 5)])


def _read_batch(subsampling, quality=75, n_images=3, size=(83, 131)):
    """Pillow's coefficients of crops of one photograph, stacked: odd sizes, so that the
    last MCUs are padded."""
    photo = skimage_data.chelsea()
    jpegs = []
    for i in range(n_images):
        image = photo[7 * i : 7 * i + size[0], 11 * i : 11 * i + size[1]]
        if subsampling == "gray":
            image, options = image.mean(axis=-1).astype(np.uint8), {}
        else:
            options = {"subsampling": SUBSAMPLINGS[subsampling][0]}
        jpegs.append(read_jpeg_coefficients(_craft.pillow_jpeg(image, quality=quality, **options)))
    planes = [np.stack(c) for c in zip(*(j.coefficients for j in jpegs), strict=True)]
    return planes, jpegs[0]


def _libjpegs_own(planes, tables, progressive=False, **options):
    """The files with libjpeg's own optimized Huffman tables (its two passes)."""
    planes, checked = _jpeg_writer._check(
        list(planes),
        tables,
        options.get("shape"),
        options.get("sampling_factors"),
        options.get("color_space"),
        True,
        True,
    )
    return _jpeg_writer._write(planes, checked, progressive, True, reference=True)


def _singles(planes, tables, **options):
    return [
        write_jpeg_coefficients([p[i] for p in planes], tables, **options)
        for i in range(len(planes[0]))
    ]


def _huffman_code_lengths(data):
    """``{(class, slot): counts of codes of 1..16 bits}`` of a file's DHT segments."""
    found = {}
    for code, start, end in _craft.markers(data):
        if code != 0xC4:
            continue
        i = start + 4
        while i < end:
            counts = list(data[i + 1 : i + 17])
            found[data[i] >> 4, data[i] & 15] = counts
            i += 17 + sum(counts)
    return found


@pytest.mark.parametrize("progressive", [False, True])
@pytest.mark.parametrize("subsampling", ["gray", *SUBSAMPLINGS])
def test_batch_files_are_the_single_files_and_libjpegs(subsampling, progressive):
    planes, jpeg = _read_batch(subsampling)
    options = {
        "shape": jpeg.shape,
        "sampling_factors": jpeg.sampling_factors,
        "progressive": progressive,
    }
    files = write_jpeg_coefficients_batch(planes, jpeg.quantization_tables, **options)
    assert len(files) == len(planes[0])
    assert files == _singles(planes, jpeg.quantization_tables, **options)
    # our one-pass Huffman tables are those of libjpeg's own optimizing pass, bit for bit
    assert files == _libjpegs_own(planes, jpeg.quantization_tables, **options)
    for i, data in enumerate(files):
        again = read_jpeg_coefficients(data)
        assert again.progressive == progressive and again.shape == jpeg.shape
        for a, b in zip(again.coefficients, planes, strict=True):
            np.testing.assert_array_equal(a, b[i])


def test_dtypes_and_layouts_give_the_same_files():
    planes, jpeg = _read_batch("4:2:0")
    options = {"shape": jpeg.shape, "sampling_factors": jpeg.sampling_factors}
    tables = jpeg.quantization_tables
    expected = write_jpeg_coefficients_batch(planes, tables, **options)
    # JPEGCodec's layout: each component a slice of one (n, features) array, read in place
    flat = np.concatenate([p.reshape(len(p), -1) for p in planes], axis=1)
    views, start = [], 0
    for p in planes:
        views.append(flat[:, start : start + p[0].size].reshape(p.shape))
        start += p[0].size
    assert not views[1].flags.c_contiguous
    variants = {
        "views": views,
        "int16": [p.astype(np.int16) for p in planes],
        "int64": [p.astype(np.int64) for p in planes],
        "float32": [p.astype(np.float32) for p in planes],
        "big-endian": [p.astype(">i4") for p in planes],
        "mixed": [planes[0].astype(np.int16), planes[1], planes[2].astype(np.int64)],
        "fortran": [np.asfortranarray(p) for p in planes],
    }
    for name, variant in variants.items():
        assert write_jpeg_coefficients_batch(variant, tables, **options) == expected, name
    # images in reverse order, and one image repeated by broadcasting
    assert (
        write_jpeg_coefficients_batch([p[::-1] for p in planes], tables, **options)
        == (expected[::-1])
    )
    repeated = [np.broadcast_to(p[1], (4, *p.shape[1:])) for p in planes]
    assert write_jpeg_coefficients_batch(repeated, tables, **options) == [expected[1]] * 4
    # fewer coefficients a block: the rest written as zeros
    first = [p[..., :10] for p in planes]
    files = write_jpeg_coefficients_batch(first, tables, **options)
    assert files == _singles(first, tables, **options)
    assert files == _libjpegs_own(first, tables, **options)
    again = read_jpeg_coefficients(files[2])
    np.testing.assert_array_equal(again.coefficients[0][..., :10], first[0][2])
    assert not again.coefficients[0][..., 10:].any()
    # RGB
    rgb = write_jpeg_coefficients_batch(planes, tables, color_space="RGB", **options)
    assert rgb == _singles(planes, tables, color_space="RGB", **options)
    assert read_jpeg_coefficients(rgb[0]).color_space == "RGB"
    assert write_jpeg_coefficients_batch([p[:0] for p in planes], tables, **options) == []


@pytest.mark.parametrize("ties", [False, True])
def test_codes_longer_than_16_bits_are_folded_as_libjpeg_folds_them(ties):
    # one AC symbol a block, each symbol more frequent than all the rarer ones together
    # (with the pseudo-symbol 256): an optimal code 21 bits deep, which JPEG's 16-bit
    # limit folds (T.81 K.2's adjustment). Fibonacci frequencies tie at every merge.
    symbols = [(s % 8, 1 + s // 8) for s in range(20)]  # (run of zeros, size)
    counts = [1, 1] if ties else [1, 2]
    while len(counts) < len(symbols):
        counts.append(counts[-1] + counts[-2] + (not ties))
    if not ties:
        assert all(c > 1 + sum(counts[: i - 1]) for i, c in enumerate(counts) if i > 1)
    cols = 2048
    blocks = np.zeros((-(-sum(counts) // cols) * cols, 64), dtype=np.int16)
    at = 0
    for (run, size), count in zip(symbols, counts, strict=True):
        blocks[at : at + count, run + 1] = -(2 ** (size - 1))
        at += count
    blocks = blocks[np.random.default_rng(0).permutation(len(blocks))]
    planes = [blocks.reshape(1, -1, cols, 64)]
    files = write_jpeg_coefficients_batch(planes, np.ones((8, 8)))
    assert files == _libjpegs_own(planes, np.ones((8, 8)))
    if not ties:
        assert _huffman_code_lengths(files[0])[1, 0][15] > 0  # 16-bit codes
    np.testing.assert_array_equal(read_jpeg_coefficients(files[0]).coefficients[0], planes[0][0])


@settings(max_examples=30, deadline=None)
@given(
    height=st.integers(1, 70),
    width=st.integers(1, 70),
    subsampling=st.sampled_from(["gray", *SUBSAMPLINGS, "3:1"]),
    k=st.integers(1, 64),
    scale=st.sampled_from([0.3, 2.0, 30.0, 300.0]),
    seed=st.integers(0, 2**16),
)
def test_random_symbols_give_libjpegs_files(height, width, subsampling, k, scale, seed):
    factors = {"gray": [[1, 1]], "3:1": [[1, 3], [2, 1], [1, 1]]}.get(subsampling)
    factors = factors or SUBSAMPLINGS[subsampling][1]
    v_max, h_max = np.max(factors, axis=0)
    rng = np.random.default_rng(seed)
    planes = []
    for v, h in factors:
        grid = (-(-height * v // (8 * v_max)), -(-width * h // (8 * h_max)))
        plane = rng.laplace(0, scale, (2, *grid, k)).round()
        plane *= rng.random(plane.shape) < rng.random()  # sparse, or not
        plane[..., 1:] = plane[..., 1:].clip(-1023, 1023)
        plane[..., 0] = rng.integers(-1000, 1000, plane.shape[:3])
        planes.append(plane.astype(np.int32))
    options = {"shape": (height, width), "sampling_factors": factors}
    tables = TABLES[: len(factors)]
    files = write_jpeg_coefficients_batch(planes, tables, **options)
    assert files == _libjpegs_own(planes, tables, **options)
    assert files[1] == write_jpeg_coefficients([p[1] for p in planes], tables, **options)


def test_a_coefficient_out_of_range_is_named_with_its_image():
    luma = np.zeros((4, 2, 4, 64), dtype=np.int32)
    chroma = np.zeros((4, 1, 2, 64), dtype=np.int32)
    factors = [[2, 2], [1, 1], [1, 1]]

    def write(luma, cb, dtype=np.int32):
        planes = [luma.astype(dtype), cb.astype(dtype), chroma.astype(dtype)]
        return write_jpeg_coefficients_batch(planes, np.ones((8, 8)), sampling_factors=factors)

    # the limits pass: AC +-1023, DC differences +-2047 in the order libjpeg codes blocks
    edge = luma.copy()
    edge[1, 0, 1, 5], edge[1, 0, 2, 63] = -1023, 1023
    edge[2, 0, 1, 0], edge[2, 1, 0, 0] = 2047, 0  # (0, 1) then (1, 0): 4:2:0's MCUs
    for dtype in (np.int16, np.int32, np.int64, np.float64):
        files = write(edge, chroma, dtype)
        np.testing.assert_array_equal(read_jpeg_coefficients(files[1]).coefficients[0], edge[1])
    # one beyond, in images 3 and 2: image 2 is named, as the single file's message names it
    bad = edge.copy()
    bad[3, 0, 0, 9] = 5000
    bad[2, 1, 0, 0] = -1
    with pytest.raises(
        ValueError,
        match=r"coefficients\[0\]\[2\] \(Y\): the DC coefficient -1 of block \(1, 0\) differs "
        r"from the block coded before it, \(0, 1\), with 2047, by -2048",
    ):
        write(bad, chroma)
    with pytest.raises(ValueError, match=r"^coefficients\[0\] \(Y\): the DC coefficient -1"):
        write_jpeg_coefficients(
            [bad[2], chroma[2], chroma[2]], np.ones((8, 8)), sampling_factors=factors
        )
    for dtype, value in [(np.int16, -32768), (np.int32, 5000), (np.int64, 2**40)]:
        cb = chroma.copy().astype(dtype)
        cb[1, 0, 1, 63] = value
        with pytest.raises(
            ValueError,
            match=rf"coefficients\[1\]\[1\] \(Cb\): the AC coefficient {value} \(zig-zag "
            r"index 63\) of block \(0, 1\) is beyond \+-1023",
        ):
            write(luma, cb, dtype)
    big = luma.copy()
    big[0, 1, 3, 0] = 40000
    with pytest.raises(ValueError, match=r"\[0\]\[0\] \(Y\): the DC coefficient 40000 of block"):
        write(big, chroma)


def test_libjpeg_refuses_what_the_checks_refuse(monkeypatch):
    # without our check of the named coefficient, libjpeg's own refuses the same image
    blocks = np.zeros((3, 2, 3, 64), dtype=np.int16)
    blocks[1, 1, 2, 7] = 1024
    monkeypatch.setattr(_jpeg_writer, "_check_range", lambda *args: None)
    with pytest.raises(ValueError, match="libjpeg refused.*DCT coefficient"):
        write_jpeg_coefficients_batch([blocks], np.ones((8, 8)))
    with pytest.raises(ValueError, match="libjpeg refused.*DCT coefficient"):
        _libjpegs_own([blocks], np.ones((8, 8)))


@pytest.mark.parametrize(
    ("coefficients", "tables", "options", "message"),
    [
        ([np.zeros((2, 2, 3, 64))], np.ones((8, 8)), {"shape": (16, 32)}, "needs 2 x 4"),
        ([np.zeros((2, 3, 64))], np.ones((8, 8)), {}, r"shape \(n_images, rows, cols, k\)"),
        (np.zeros((2, 2, 3, 64)), np.ones((8, 8)), {}, "wrap it in a list"),
        (np.zeros((2, 2, 3, 64)).tolist(), np.ones((8, 8)), {}, r"1 component .* or 3"),
        ({"coefficients": 1}, np.ones((8, 8)), {}, "list of arrays"),
        (
            [np.zeros((2, 2, 2, 64)), np.zeros((3, 1, 1, 64)), np.zeros((2, 1, 1, 64))],
            np.ones((8, 8)),
            {"sampling_factors": [[2, 2], [1, 1], [1, 1]]},
            r"same number of images; coefficients\[1\] \(Cb\) has 3, the first 2",
        ),
        (
            [np.full((2, 1, 1, 64), 0.5)],
            np.ones((8, 8)),
            {},
            r"coefficients\[0\] \(Y\) must hold integers; 0.5 at index \(0, 0, 0, 0\)",
        ),
        ([np.zeros((2, 1, 1, 64))], np.zeros((8, 8)), {}, r"\[0\] \(Y\) has the step 0"),
        ([np.zeros((2, 1, 1, 64))], np.full((8, 8), 300), {}, "baseline=False"),
        ([np.zeros((2, 1, 1, 64))], np.ones((8, 8)), {"color_space": "RGB"}, "color_space"),
        ([np.zeros((2, 1, 1, 64))], np.ones((8, 8)), {"sampling_factors": [[0, 1]]}, "1 to 4"),
    ],
)
def test_bad_batches_are_refused(coefficients, tables, options, message):
    with pytest.raises(ValueError, match=message):
        write_jpeg_coefficients_batch(coefficients, tables, **options)


def test_tables_are_checked_by_value_not_identity():
    blocks = np.zeros((1, 1, 1, 64), dtype=np.int16)
    table = np.full((8, 8), 7)
    write_jpeg_coefficients_batch([blocks], table)
    table[3, 4] = 9  # the same array, edited
    again = read_jpeg_coefficients(write_jpeg_coefficients_batch([blocks], table)[0])
    assert again.quantization_tables[0, 3, 4] == 9
    table[3, 4] = 0
    with pytest.raises(ValueError, match="step 0 at row 3, column 4"):
        write_jpeg_coefficients_batch([blocks], table)
    with pytest.raises(ValueError, match="step 0 at row 3, column 4"):
        write_jpeg_coefficients([blocks[0]], table)


def test_threads_write_batches_at_once():
    planes, jpeg = _read_batch("4:2:0", n_images=2)
    options = {"shape": jpeg.shape, "sampling_factors": jpeg.sampling_factors}
    expected = write_jpeg_coefficients_batch(planes, jpeg.quantization_tables, **options)
    results = [None] * 4

    def work(i):
        results[i] = write_jpeg_coefficients_batch(planes, jpeg.quantization_tables, **options)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [expected] * 4
