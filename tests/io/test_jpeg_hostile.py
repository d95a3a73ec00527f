"""The reader under hostile and unusual files: budgets, strictness, latched tables,
sampling factors, colour spaces (issue 18). Files are built here (Pillow, byte
edits, or marker by marker with tests/io/_craft.py); jpeglib writes the
arithmetic-coded ones and reads every file as the reference."""

import os
import tempfile
import time

import numpy as np
import pytest

from skcompress.io import JPEGCoefficients, load_jpeg_folder, read_jpeg_coefficients
from skcompress.transforms import zigzag_order

from . import _craft

Image = pytest.importorskip("PIL.Image")
skimage_data = pytest.importorskip("skimage.data")


_pillow = _craft.pillow_jpeg
_pixels = _craft.pillow_pixels


def _jpeglib_planes(data):
    jpeglib = pytest.importorskip("jpeglib")
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "file.jpg")
        with open(path, "wb") as f:
            f.write(data)
        with jpeglib.version("turbo210"):  # arithmetic coding too
            dct = jpeglib.read_dct(path)
            dct.load()
        planes = [dct.Y] + ([dct.Cb, dct.Cr] if dct.has_chrominance else [])
        return [p.reshape(*p.shape[:2], 64)[..., zigzag_order(8)] for p in planes]


def _arithmetic(image, progressive=False, quality=75):
    """An arithmetic-coded file of ``image`` (libjpeg-turbo 2.1 through jpeglib)."""
    jpeglib = pytest.importorskip("jpeglib")
    flags = ["+ARITH_CODE"] + (["+PROGRESSIVE_MODE"] if progressive else [])
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "file.jpg")
        image = image if image.ndim == 3 else image[..., None]
        with jpeglib.version("turbo210"):
            jpeglib.from_spatial(image).write_spatial(path, qt=quality, flags=flags)
        with open(path, "rb") as f:
            return f.read()


def _scan_data(data, index=0):
    """``(start, end)`` of the entropy-coded data of a file's ``index``-th scan."""
    scans = [(start, end) for code, start, end in _craft.markers(data) if code == 0xDA]
    start, end = scans[index]
    return start + 2 + int.from_bytes(data[start + 2 : start + 4], "big"), end


@pytest.fixture(scope="module")
def textured():
    return skimage_data.camera()[200:296, 180:300]


# -- resource bombs ----------------------------------------------------------------------------


def test_many_scans_stop_at_max_scans_before_decoding():
    # the bomb, small: a DC scan and 999 scans without data
    scans = [(0, 0, 0, 0)] + [(1, 63, 0, 0)] * 999
    bomb = _craft.progressive_zero(64, 64, scans, empty=range(1, 1000))
    for strict in (True, False):
        with pytest.raises(ValueError, match=r"<bytes>: .*1000 scans.*max_scans=100"):
            read_jpeg_coefficients(bomb, strict=strict)
    # a file of libjpeg's progression (10 scans) reads; max_scans is a parameter everywhere
    photo = _pillow(skimage_data.astronaut()[:64, :64], progressive=True)
    assert read_jpeg_coefficients(photo, max_scans=10).progressive
    with pytest.raises(ValueError, match="max_scans=9"):
        read_jpeg_coefficients(photo, max_scans=9)
    with pytest.raises(ValueError, match="max_scans=9"):
        JPEGCoefficients(max_scans=9).fit([photo])
    reader = JPEGCoefficients(max_scans=10).fit([photo])
    with pytest.raises(ValueError, match="max_scans=10"):
        reader.transform([_craft.progressive_zero(64, 64, scans[:11])])


def test_libjpeg_counts_the_scans_a_marker_walk_misses():
    # the reader counts SOS markers before decoding, and stops walking at anything
    # unexpected (here a stray byte before the frame header, which libjpeg skips with
    # a warning): libjpeg's own count then stops the decoding at scan 101
    scans = [(0, 0, 0, 0)] + [(1, 63, 0, 0)] * 999
    bomb = _craft.progressive_zero(64, 64, scans, empty=range(1, 1000))
    frame = [start for code, start, _ in _craft.markers(bomb) if code == 0xC2][0]
    bomb = bomb[:frame] + b"\x00" + bomb[frame:]
    with pytest.raises(ValueError, match=r"more than max_scans=100 scans"):
        read_jpeg_coefficients(bomb, strict=False)
    data = _craft.progressive_zero(16, 16, [(0, 0, 0, 0)] + [(k, k, 0, 0) for k in range(1, 64)])
    with pytest.raises(ValueError, match="64 scans, more than max_scans=63"):
        read_jpeg_coefficients(data, max_scans=63)
    assert read_jpeg_coefficients(data, max_scans=64).warnings == 0


def test_declared_size_is_checked_before_allocating():
    # the header (here 161 bytes) declaring 16384 x 16384 4:4:4 and no data: it
    # allocated 4.8 GB before
    bomb = _craft.header_only(16384, 16384, [(1, 1)] * 3)
    for strict, dequantize in [(True, False), (False, False), (False, True)]:
        start = time.perf_counter()
        with pytest.raises(
            ValueError, match=r"805306368 coefficients.*max_coefficients=268435456"
        ):
            read_jpeg_coefficients(bomb, strict=strict, dequantize=dequantize)
        assert time.perf_counter() - start < 1
    with pytest.raises(ValueError, match="max_coefficients"):
        JPEGCoefficients().fit([bomb])
    small = _craft.header_only(64, 64, [(1, 1)])
    assert read_jpeg_coefficients(small, strict=False, max_coefficients=4096).warnings
    with pytest.raises(ValueError, match=r"4096 coefficients, more than max_coefficients=4095"):
        read_jpeg_coefficients(small, strict=False, max_coefficients=4095)
    with pytest.raises(ValueError, match="max_coefficients must be"):
        read_jpeg_coefficients(small, max_coefficients=0)


def test_strict_huffman_files_need_one_bit_a_block():
    # a gray header of 2048 x 2048 pixels (65,536 blocks) and no data: strict refuses
    # before allocating; lenient reads zeros, as Pillow shows gray
    header = _craft.header_only(2048, 2048, [(1, 1)])
    with pytest.raises(ValueError, match=r"65536 blocks.*at least 8192 bytes"):
        read_jpeg_coefficients(header)
    lenient = read_jpeg_coefficients(header, strict=False)
    assert lenient.warnings >= 1 and not lenient.coefficients[0].any()


def test_folders_check_budgets_from_headers(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "big.jpg").write_bytes(_craft.header_only(16384, 16384, [(1, 1)] * 3))
    (tmp_path / "a" / "fine.jpg").write_bytes(_pillow(np.zeros((16, 16), np.uint8)))
    with pytest.raises(ValueError, match="big.jpg: .*max_coefficients"):
        load_jpeg_folder(tmp_path)
    data = load_jpeg_folder(tmp_path, errors="skip")
    assert [os.path.basename(p) for p in data.filenames] == ["fine.jpg"]
    with pytest.raises(ValueError, match="big.jpg: .*at least one bit a block"):
        load_jpeg_folder(tmp_path, max_coefficients=2**30)
    assert len(load_jpeg_folder(tmp_path, max_coefficients=2**30, strict=False).filenames) == 2
    scans = [(0, 0, 0, 0)] + [(1, 63, 0, 0)] * 199
    (tmp_path / "a" / "scans.jpg").write_bytes(
        _craft.progressive_zero(16, 16, scans, empty=range(1, 200))
    )
    lenient = {"max_coefficients": 2**30, "strict": False}
    skipped = load_jpeg_folder(tmp_path, errors="skip", **lenient).skipped
    assert [os.path.basename(p) for p, _ in skipped] == ["scans.jpg"]
    assert "max_scans=100" in skipped[0][1]
    assert len(load_jpeg_folder(tmp_path, max_scans=200, **lenient).filenames) == 3


# -- arithmetic coding -------------------------------------------------------------------------


@pytest.mark.parametrize("progressive", [False, True])
def test_arithmetic_data_cut_and_closed_is_refused(textured, progressive):
    data = _arithmetic(textured, progressive)
    start, end = _scan_data(data)
    cut = data[: (start + end) // 2] + b"\xff\xd9"
    # a progressive file cut in its first scan also lacks its later scans
    message = "not every coefficient" if progressive else "premature end of arithmetic-coded"
    with pytest.raises(ValueError, match=message):
        read_jpeg_coefficients(cut)
    lenient = read_jpeg_coefficients(cut, strict=False)
    assert lenient.warnings >= 1
    assert lenient.coefficients[0].shape == (12, 15, 64)


def test_arithmetic_scan_missing_its_second_half_is_refused(textured):
    # half of the largest AC scan of a progressive file removed, the later scans kept:
    # libjpeg decodes that scan's second half from zero bits, without a warning
    data = _arithmetic(textured, progressive=True)
    n_scans = sum(code == 0xDA for code, *_ in _craft.markers(data))
    largest = max(range(1, n_scans), key=lambda i: np.subtract(*_scan_data(data, i)[::-1]))
    start, end = _scan_data(data, largest)
    spliced = data[: (start + end) // 2] + data[end:]
    with pytest.raises(
        ValueError, match=f"premature end of arithmetic-coded data in scan {largest + 1}"
    ):
        read_jpeg_coefficients(spliced)
    assert read_jpeg_coefficients(spliced, strict=False).warnings >= 1


def test_arithmetic_header_without_data_is_refused():
    # the 106-byte SOF9 twin: libjpeg decodes the zero padding without a warning
    bomb = _craft.header_only(256, 256, [(1, 1)] * 3, arithmetic=True)
    assert len(bomb) == 106
    with pytest.raises(ValueError, match="premature end of arithmetic-coded data"):
        read_jpeg_coefficients(bomb)
    assert read_jpeg_coefficients(bomb, strict=False).warnings >= 1


def test_valid_arithmetic_files_are_read_strictly(textured):
    # libjpeg's encoder drops the zero bytes that end a scan, so valid files end their
    # data early (flat areas, periodic patterns): strict reads them, as jpeglib does
    flat_bottom = textured.copy()
    flat_bottom[40:] = 255
    stripes = np.tile(np.array([0, 0, 255, 255], np.uint8), (96, 30))
    wide_stripes = np.tile(np.repeat(np.array([0, 255], np.uint8), 8), (96, 8))
    checker = ((np.indices((96, 120)) // 8).sum(0) % 2 * 255).astype(np.uint8)
    diagonal = (np.add.outer(np.arange(96), np.arange(120)) % 16 * 16).astype(np.uint8)
    colour = skimage_data.astronaut()[100:196, 100:220]
    images = [textured, flat_bottom, np.zeros((96, 120), np.uint8), stripes, wide_stripes,
              checker, diagonal, colour]  # fmt: skip
    for image in images:
        for progressive in (False, True):
            data = _arithmetic(image, progressive)
            jpeg = read_jpeg_coefficients(data)
            assert jpeg.warnings == 0
            for ours, theirs in zip(jpeg.coefficients, _jpeglib_planes(data), strict=True):
                np.testing.assert_array_equal(ours, theirs)


# -- strict means strict; lenient reads what Pillow reads --------------------------------------


def test_extraneous_bytes_in_the_header(textured):
    data = _pillow(textured, quality=80)
    dqt = data.index(b"\xff\xdb")
    edited = data[:dqt] + b"\x00\x00" + data[dqt:]
    assert (_pixels(edited) == _pixels(data)).all()  # Pillow reads it
    with pytest.raises(ValueError, match="2 extraneous bytes before marker 0xdb"):
        read_jpeg_coefficients(edited)
    lenient = read_jpeg_coefficients(edited, strict=False)
    assert lenient.warnings == 1
    np.testing.assert_array_equal(
        lenient.coefficients[0], read_jpeg_coefficients(data).coefficients[0]
    )
    assert JPEGCoefficients(strict=False).fit_transform([edited, data]).shape == (2, 180 * 64)
    with pytest.raises(ValueError, match="extraneous bytes"):
        JPEGCoefficients().fit([edited])


def test_zero_quantization_steps_are_refused_strictly(textured):
    data = bytearray(_pillow(textured, quality=80))
    start = data.index(b"\xff\xdb") + 5
    data[start : start + 64] = bytes(64)
    data = bytes(data)
    with pytest.raises(ValueError, match="quantization table 0 has a zero step"):
        read_jpeg_coefficients(data)
    lenient = read_jpeg_coefficients(data, strict=False, dequantize=True)
    assert lenient.warnings == 1 and not lenient.coefficients[0].any()


def test_scans_missing_at_the_end_are_refused_strictly(textured):
    # a progressive file cut at a scan boundary and closed: the spec lets a progressive
    # file stop early, strict does not (coefficients never sent or never refined)
    data = _pillow(np.stack([textured] * 3, -1), quality=80, progressive=True)
    for scan in (1, 5, 9):
        start = [start for code, start, _ in _craft.markers(data) if code == 0xDA][scan]
        cut = data[:start] + b"\xff\xd9"
        with pytest.raises(ValueError, match="not every coefficient"):
            read_jpeg_coefficients(cut)
        assert read_jpeg_coefficients(cut, strict=False).warnings >= 1


def test_a_component_in_no_scan_is_refused_strictly():
    data, _ = _craft.sequential(32, 32, [(1, 1)] * 3)
    scans = [start for code, start, _ in _craft.markers(data) if code == 0xDA]
    cut = data[: scans[1]] + b"\xff\xd9"  # only the first component's scan
    with pytest.raises(ValueError, match="not every coefficient"):
        read_jpeg_coefficients(cut)
    assert read_jpeg_coefficients(cut, strict=False).warnings >= 1


# -- latched quantization tables ---------------------------------------------------------------


@pytest.mark.parametrize("progressive", [False, True])
def test_a_table_redefined_after_use_is_not_the_components(textured, progressive):
    data = _pillow(textured, quality=50, progressive=progressive)
    redefine = _craft.dqt(0, np.full(64, 7))
    scans = [start for code, start, _ in _craft.markers(data) if code == 0xDA]
    where = scans[1] if progressive else len(data) - 2  # before the 2nd SOS, or EOI
    edited = data[:where] + redefine + data[where:]
    assert (_pixels(edited) == _pixels(data)).all()
    for dequantize in (False, True):
        original = read_jpeg_coefficients(data, dequantize=dequantize)
        jpeg = read_jpeg_coefficients(edited, dequantize=dequantize)
        np.testing.assert_array_equal(jpeg.quantization_tables, original.quantization_tables)
        np.testing.assert_array_equal(jpeg.coefficients[0], original.coefficients[0])
    out = JPEGCoefficients(dequantize=True).fit_transform([edited])
    np.testing.assert_array_equal(out, JPEGCoefficients(dequantize=True).fit_transform([data]))


# -- sampling factors --------------------------------------------------------------------------

UNUSUAL = {
    "1x1,2x2,1x1": [(1, 1), (2, 2), (1, 1)],
    "2x1,1x2,1x1": [(2, 1), (1, 2), (1, 1)],
    "1x1,1x1,3x2": [(1, 1), (1, 1), (3, 2)],
}


@pytest.mark.parametrize("sampling", list(UNUSUAL))
def test_luma_without_the_largest_sampling_factors(sampling):
    files = [_craft.sequential(37, 45, UNUSUAL[sampling], seed=s)[0] for s in range(2)]
    expected = [_jpeglib_planes(f) for f in files]
    luma = JPEGCoefficients(components="luma", layout="blocks").fit_transform(files)
    np.testing.assert_array_equal(luma, np.stack([e[0] for e in expected]))
    flat = JPEGCoefficients().fit_transform(files)
    np.testing.assert_array_equal(flat[1], np.concatenate([p.ravel() for p in expected[1]]))
    for layout in ("blocks", "channels_first"):
        with pytest.raises(ValueError, match=f"layout='{layout}' cannot hold"):
            JPEGCoefficients(layout=layout).fit(files)


def test_block_grids_follow_each_components_factors():
    files = [_craft.sequential(37, 45, UNUSUAL["1x1,2x2,1x1"])[0]]
    reader = JPEGCoefficients(block_grid=(3, 4)).fit(files)
    assert reader.grids_ == [(3, 4), (6, 8), (3, 4)]
    Y, Cb, Cr = _jpeglib_planes(files[0])
    out = reader.transform(files)[0]
    np.testing.assert_array_equal(out[: 3 * 4 * 64].reshape(3, 4, 64)[:, :3], Y)
    np.testing.assert_array_equal(out[3 * 4 * 64 : 15 * 4 * 64].reshape(6, 8, 64)[:5, :6], Cb)
    # a file with other sampling factors is not read into these grids
    other = _pillow(np.zeros((24, 32, 3), np.uint8), subsampling=0)
    with pytest.raises(ValueError, match="sampling factors"):
        reader.transform([other])


def test_luma_with_the_largest_factors_is_repeated_chroma():
    data, (Y, Cb, Cr) = _craft.sequential(37, 45, [(2, 2), (1, 1), (1, 1)])
    blocks = JPEGCoefficients(layout="blocks").fit_transform([data])[0]
    np.testing.assert_array_equal(blocks[..., 0, 0], Y)
    np.testing.assert_array_equal(blocks[..., 1, 0], Cb.repeat(2, 0).repeat(2, 1)[:5, :6])


# -- colour spaces -----------------------------------------------------------------------------


def test_rgb_coded_files_say_so():
    rgb = skimage_data.astronaut()[:32, :40]
    data = _pillow(rgb, keep_rgb=True, quality=90)  # Adobe APP14, transform 0
    jpeg = read_jpeg_coefficients(data)
    assert jpeg.color_space == "RGB" and jpeg.components == ("R", "G", "B")
    reader = JPEGCoefficients(n_coefficients=1).fit([data])
    assert reader.color_space_ == "RGB" and reader.components_ == ("R", "G", "B")
    names = reader.get_feature_names_out()
    assert names[0] == "R_blk0_0_dct0_0" and names[-1] == "B_blk3_4_dct0_0"
    with pytest.raises(ValueError, match="components='luma'.*RGB"):
        JPEGCoefficients(components="luma").fit([data])
    ycc = _pillow(rgb, quality=90, subsampling=0)
    assert read_jpeg_coefficients(ycc).components == ("Y", "Cb", "Cr")
    with pytest.raises(ValueError, match="colour space RGB.*YCbCr"):
        JPEGCoefficients().fit([ycc]).transform([data])
    gray = read_jpeg_coefficients(_pillow(rgb[..., 0]))
    assert gray.color_space == "grayscale" and gray.components == ("Y",)
    # no Adobe marker, components named R, G, B: libjpeg takes RGB too
    named, _ = _craft.sequential(16, 16, [(1, 1)] * 3, ids=b"RGB")
    assert read_jpeg_coefficients(named).components == ("R", "G", "B")
