"""Writing JPEG coefficients: the reader's exact inverse, files Pillow reads, bad input."""

import io
import os

import numpy as np
import pytest

from skcompress.io import _jpeg_writer, read_jpeg_coefficients, write_jpeg_coefficients

from . import _craft

Image = pytest.importorskip("PIL.Image")
skimage_data = pytest.importorskip("skimage.data")

# Pillow's subsampling codes and the sampling factors they give the luma
SUBSAMPLINGS = {"4:4:4": (0, [1, 1]), "4:2:2": (1, [1, 2]), "4:2:0": (2, [2, 2])}


@pytest.fixture(scope="module")
def photos():
    # chelsea: whole MCUs neither way at 4:2:0; coffee: odd sizes, partial chroma blocks
    return {
        "chelsea": skimage_data.chelsea()[:150, :210],
        "coffee": skimage_data.coffee()[:83, :131],
    }


_pillow = _craft.pillow_jpeg
_pixels = _craft.pillow_pixels


def _assert_same(read, expected):
    assert len(read.coefficients) == len(expected.coefficients)
    for a, b in zip(read.coefficients, expected.coefficients, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(read.quantization_tables, expected.quantization_tables)
    np.testing.assert_array_equal(read.sampling_factors, expected.sampling_factors)
    assert read.shape == expected.shape
    assert read.color_space == expected.color_space


def _gray_blocks(rows=2, cols=3, dc=0):
    blocks = np.zeros((rows, cols, 64), dtype=np.int32)
    blocks[..., 0] = dc
    return blocks


@pytest.mark.parametrize("progressive", [False, True])
@pytest.mark.parametrize("quality", [10, 50, 95])
@pytest.mark.parametrize("subsampling", [*SUBSAMPLINGS, "gray"])
def test_pillow_files_round_trip_bit_exactly(photos, subsampling, quality, progressive):
    for image in photos.values():
        if subsampling == "gray":
            image, options = image.mean(axis=-1).astype(np.uint8), {}
        else:
            options = {"subsampling": SUBSAMPLINGS[subsampling][0]}
        pillow = _pillow(image, quality=quality, progressive=progressive, optimize=True, **options)
        jpeg = read_jpeg_coefficients(pillow)
        if subsampling != "gray":
            assert jpeg.sampling_factors[0].tolist() == SUBSAMPLINGS[subsampling][1]
        data = write_jpeg_coefficients(jpeg)
        again = read_jpeg_coefficients(data)
        _assert_same(again, jpeg)
        assert again.progressive == progressive
        # the same coefficients and tables: Pillow decodes the same pixels
        np.testing.assert_array_equal(_pixels(data), _pixels(pillow))
        # optimized Huffman tables, as Pillow's optimize=True (measured: the same bytes)
        assert abs(len(data) / len(pillow) - 1) < 0.01
        # and the other way: baseline from progressive, progressive from baseline
        other = write_jpeg_coefficients(jpeg, progressive=not progressive)
        _assert_same(read_jpeg_coefficients(other), jpeg)
        assert read_jpeg_coefficients(other).progressive == (not progressive)


def test_fields_as_arguments_and_fewer_coefficients(photos):
    pillow = _pillow(photos["coffee"], quality=75, subsampling=2)
    jpeg = read_jpeg_coefficients(pillow)
    data = write_jpeg_coefficients(
        jpeg.coefficients,
        jpeg.quantization_tables,
        shape=jpeg.shape,
        sampling_factors=jpeg.sampling_factors,
        color_space=jpeg.color_space,
    )
    _assert_same(read_jpeg_coefficients(data), jpeg)
    assert not read_jpeg_coefficients(data).progressive
    # arguments given beside the reader's result take precedence over its fields
    coarse = read_jpeg_coefficients(write_jpeg_coefficients(jpeg, jpeg.quantization_tables * 2))
    np.testing.assert_array_equal(coarse.quantization_tables, jpeg.quantization_tables * 2)
    # what the reader keeps with n_coefficients, the rest written as zeros
    first = read_jpeg_coefficients(pillow, n_coefficients=10)
    again = read_jpeg_coefficients(write_jpeg_coefficients(first))
    for a, b in zip(again.coefficients, first.coefficients, strict=True):
        np.testing.assert_array_equal(a[..., :10], b)
        assert not a[..., 10:].any()


@pytest.mark.parametrize("progressive", [False, True])
def test_edited_coefficients_round_trip_and_open(photos, progressive):
    pillow = _pillow(photos["chelsea"], quality=90, subsampling=2)
    jpeg = read_jpeg_coefficients(pillow)
    for plane in jpeg.coefficients:
        plane[..., 6:] = 0  # a frequency band zeroed
    data = write_jpeg_coefficients(jpeg, progressive=progressive)
    _assert_same(read_jpeg_coefficients(data), jpeg)
    assert len(data) < len(pillow)
    edited, original = _pixels(data).astype(int), _pixels(pillow).astype(int)
    assert edited.shape == original.shape
    assert 0 < np.abs(edited - original).mean() < 20  # blurred, still the photograph


def test_our_own_coefficients_and_colour_spaces(photos):
    # one gray component: DC only, step 16, decodes to 128 + dc * 16 / 8
    data = write_jpeg_coefficients([_gray_blocks(dc=4)], np.full((8, 8), 16), shape=(13, 20))
    assert _pixels(data).shape == (13, 20)
    assert (_pixels(data) == 136).all()
    # float symbols that are integers are accepted
    again = read_jpeg_coefficients(
        write_jpeg_coefficients([_gray_blocks(dc=4.0)], np.ones((8, 8)))
    )
    assert again.coefficients[0][..., 0].tolist() == [[4] * 3] * 2
    # the same components flagged as RGB (Adobe transform 0) are read as RGB
    jpeg = read_jpeg_coefficients(_pillow(photos["coffee"], quality=75, subsampling=0))
    rgb = read_jpeg_coefficients(write_jpeg_coefficients(jpeg, color_space="RGB"))
    assert rgb.color_space == "RGB" and rgb.components == ("R", "G", "B")
    for a, b in zip(rgb.coefficients, jpeg.coefficients, strict=True):
        np.testing.assert_array_equal(a, b)
    # equal tables are stored once, in the order of the components (luma in slot 0)
    tables, numbers = _jpeg_writer._check_tables(jpeg.quantization_tables, ("Y", "Cb", "Cr"), True)
    assert numbers == (0, 1, 1)
    np.testing.assert_array_equal(tables[0], jpeg.quantization_tables[0].ravel())


def test_sixteen_bit_tables_need_baseline_false():
    table = np.full((8, 8), 300)
    with pytest.raises(ValueError, match=r"step 300 .*baseline=False"):
        write_jpeg_coefficients([_gray_blocks(dc=2)], table)
    data = write_jpeg_coefficients([_gray_blocks(dc=2)], table, baseline=False)
    again = read_jpeg_coefficients(data)
    assert (again.quantization_tables == 300).all()
    assert again.coefficients[0][..., 0].tolist() == [[2] * 3] * 2
    Image.open(io.BytesIO(data)).load()


def test_the_coefficient_limits_are_libjpegs(monkeypatch):
    table = np.ones((8, 8))
    # AC: 10 bits of magnitude
    blocks = _gray_blocks()
    blocks[0, 1, 5] = -1023
    again = read_jpeg_coefficients(write_jpeg_coefficients([blocks], table))
    assert again.coefficients[0][0, 1, 5] == -1023
    blocks[0, 1, 5] = 1024
    with pytest.raises(
        ValueError,
        match=r"coefficients\[0\] \(Y\): the AC coefficient 1024 "
        r"\(zig-zag index 5\) of block \(0, 1\)",
    ):
        write_jpeg_coefficients([blocks], table)
    # DC: differences between consecutive coded blocks, 11 bits; a slow ramp of large
    # values passes
    ramp = _gray_blocks(4, 8)
    ramp[..., 0] = np.linspace(-3000, 3000, 32).round().reshape(4, 8)
    ramp[0, 0, 0] = -2047
    again = read_jpeg_coefficients(write_jpeg_coefficients([ramp], table))
    np.testing.assert_array_equal(again.coefficients[0], ramp)
    jump = _gray_blocks(2, 3)
    jump[0, 2, 0], jump[1, 0, 0] = 1000, -1100
    with pytest.raises(
        ValueError,
        match=r"DC coefficient -1100 of block \(1, 0\) differs from "
        r"the block coded before it, \(0, 2\), with 1000, by "
        r"-2100",
    ):
        write_jpeg_coefficients([jump], table)
    # without our check, libjpeg refuses the same (its own message), and nothing is written
    monkeypatch.setattr(_jpeg_writer, "_check_range", lambda *args: None)
    for bad in (blocks, jump):
        with pytest.raises(ValueError, match="libjpeg refused.*DCT coefficient"):
            write_jpeg_coefficients([bad], table)


def test_dc_differences_follow_the_interleaved_order(monkeypatch):
    # 4:2:0: the luma's blocks are coded 2 x 2 a minimum coded unit; blocks (0, 1) and
    # (1, 0) are consecutive there, not in raster order
    luma = _gray_blocks(2, 4)
    luma[0, 1, 0], luma[1, 0, 0] = 1000, -1100
    chroma = _gray_blocks(1, 2)
    factors = [[2, 2], [1, 1], [1, 1]]
    with pytest.raises(
        ValueError,
        match=r"block \(1, 0\) differs from the block coded "
        r"before it, \(0, 1\)",
    ):
        write_jpeg_coefficients([luma, chroma, chroma], np.ones((8, 8)), sampling_factors=factors)
    # raster neighbours (0, 3) and (1, 0) are not: this passes
    luma[0, 1, 0], luma[0, 3, 0] = 0, 1000
    data = write_jpeg_coefficients(
        [luma, chroma, chroma], np.ones((8, 8)), sampling_factors=factors
    )
    np.testing.assert_array_equal(read_jpeg_coefficients(data).coefficients[0], luma)
    # libjpeg agrees: without our check it refuses the first and only the first
    monkeypatch.setattr(_jpeg_writer, "_check_range", lambda *args: None)
    luma[0, 1, 0], luma[1, 0, 0], luma[0, 3, 0] = 1000, -1100, 0
    with pytest.raises(ValueError, match="libjpeg refused.*DCT coefficient"):
        write_jpeg_coefficients([luma, chroma, chroma], np.ones((8, 8)), sampling_factors=factors)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"coefficients": [_gray_blocks(2, 4)]},
            r"coefficients\[0\] \(Y\) has a grid of 2 x 4 "
            r"blocks.*needs 2 x 3",
        ),
        ({"coefficients": [_gray_blocks(2, 3)[..., :0]]}, r"shape \(rows, cols, k\)"),
        ({"coefficients": [_gray_blocks() + 0.5]}, r"coefficients\[0\] \(Y\) must hold integers"),
        ({"coefficients": [_gray_blocks().astype(str)]}, "must be an array of integers"),
        ({"coefficients": _gray_blocks()}, "wrap it in a list"),
        ({"coefficients": [_gray_blocks()] * 2}, "1 component .* or 3"),
        (
            {"quantization_tables": np.zeros((8, 8))},
            r"quantization_tables\[0\] \(Y\) has the "
            r"step 0 at row 0, column 0",
        ),
        ({"quantization_tables": np.full((8, 8), 40000)}, r"from 1 to 255"),
        ({"quantization_tables": np.ones((8, 8)) * 1.5}, "must hold integers"),
        ({"quantization_tables": np.ones((2, 8, 8))}, r"shape \(1, 8, 8\)"),
        ({"shape": (16, 0)}, r"shape must be \(height, width\)"),
        ({"color_space": "RGB"}, "color_space must be one of"),
        ({"sampling_factors": [[5, 1]]}, "from 1 to 4"),
    ],
)
def test_bad_input_is_refused_before_writing(tmp_path, change, message):
    arguments = {
        "coefficients": [_gray_blocks()],
        "quantization_tables": np.ones((8, 8)),
        "shape": (16, 24),
    }
    arguments.update(change)
    path = tmp_path / "out.jpg"
    with pytest.raises(ValueError, match=message):
        write_jpeg_coefficients(
            arguments.pop("coefficients"),
            arguments.pop("quantization_tables"),
            path=path,
            **arguments,
        )
    assert os.listdir(tmp_path) == []


def test_colour_bad_input(photos):
    jpeg = read_jpeg_coefficients(_pillow(photos["coffee"], quality=75, subsampling=2))
    with pytest.raises(ValueError, match=r"coefficients\[1\] \(Cb\) has a grid"):
        write_jpeg_coefficients(jpeg, sampling_factors=[[1, 1]] * 3)
    with pytest.raises(ValueError, match="blocks a minimum coded unit"):
        write_jpeg_coefficients(jpeg, sampling_factors=[[2, 2], [2, 2], [2, 2]])
    with pytest.raises(ValueError, match="same number of coefficients"):
        planes = [jpeg.coefficients[0], *(c[..., :10] for c in jpeg.coefficients[1:])]
        write_jpeg_coefficients(
            planes,
            jpeg.quantization_tables,
            shape=jpeg.shape,
            sampling_factors=jpeg.sampling_factors,
        )
    with pytest.raises(ValueError, match="quantization_tables is required"):
        write_jpeg_coefficients(jpeg.coefficients, shape=jpeg.shape)
    with pytest.raises(ValueError, match="'coefficients' field"):
        write_jpeg_coefficients({"tables": 1})


def test_a_failed_write_leaves_no_file(tmp_path, monkeypatch):
    data = write_jpeg_coefficients([_gray_blocks(dc=3)], np.ones((8, 8)))
    path = tmp_path / "folder" / "image.jpg"
    path.parent.mkdir()
    assert write_jpeg_coefficients([_gray_blocks(dc=3)], np.ones((8, 8)), path=path) == data
    assert path.read_bytes() == data and os.listdir(path.parent) == ["image.jpg"]

    def broken(source, target):
        raise OSError("disk full")

    # a write that fails after the temporary file is complete: the old file stays whole
    monkeypatch.setattr(_jpeg_writer.os, "replace", broken)
    with pytest.raises(OSError, match="disk full"):
        write_jpeg_coefficients([_gray_blocks(dc=9)], np.ones((8, 8)), path=path)
    assert path.read_bytes() == data and os.listdir(path.parent) == ["image.jpg"]
    with pytest.raises(OSError, match="disk full"):
        write_jpeg_coefficients([_gray_blocks(dc=9)], np.ones((8, 8)), path=tmp_path / "new.jpg")
    assert sorted(os.listdir(tmp_path)) == ["folder"]
    # libjpeg failing mid-way (its own check of a coefficient): no file
    monkeypatch.undo()
    monkeypatch.setattr(_jpeg_writer, "_check_range", lambda *args: None)
    blocks = _gray_blocks()
    blocks[1, 2, 63] = 5000
    with pytest.raises(ValueError, match="libjpeg refused"):
        write_jpeg_coefficients([blocks], np.ones((8, 8)), path=tmp_path / "bad.jpg")
    assert sorted(os.listdir(tmp_path)) == ["folder"]
