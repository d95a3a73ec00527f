"""Reading JPEG coefficients: identity with libjpeg's, our JPEG path's layout, bad files."""

import io

import numpy as np
import pytest

from skcompress import BlockDCT, PerceptualQuantizer
from skcompress.datasets import load_mnist
from skcompress.io import JPEGCoefficients, load_jpeg_folder, read_jpeg_coefficients, write_jpeg
from skcompress.quantization import JPEG_LUMA, ijg_scale
from skcompress.transforms import zigzag_order
from tests.conftest import jpeg_files

jpeglib = pytest.importorskip("jpeglib")
Image = pytest.importorskip("PIL.Image")
skimage_data = pytest.importorskip("skimage.data")

SUBSAMPLINGS = {"4:4:4": 0, "4:2:0": 2}


@pytest.fixture(scope="module")
def photos():
    # chelsea: odd width; coffee: chroma not a whole number of blocks
    return {"chelsea": skimage_data.chelsea()[:150], "coffee": skimage_data.coffee()[:200]}


def _jpeg(image, quality=75, subsampling=2, **options):
    buffer = io.BytesIO()
    Image.fromarray(image).save(
        buffer, "JPEG", quality=quality, subsampling=subsampling, **options
    )
    return buffer.getvalue()


def _jpeglib_planes(data, tmp_path):
    path = tmp_path / "file.jpg"
    path.write_bytes(data)
    dct = jpeglib.read_dct(str(path))
    planes = [dct.Y] + ([dct.Cb, dct.Cr] if dct.has_chrominance else [])
    return [p.reshape(*p.shape[:2], 64)[..., zigzag_order(8)] for p in planes], dct


@pytest.mark.parametrize("quality", [10, 50, 90])
@pytest.mark.parametrize("subsampling", list(SUBSAMPLINGS))
@pytest.mark.parametrize("progressive", [False, True])
def test_colour_coefficients_are_the_files(photos, tmp_path, quality, subsampling, progressive):
    for rgb in photos.values():
        data = _jpeg(rgb, quality, SUBSAMPLINGS[subsampling], progressive=progressive)
        jpeg = read_jpeg_coefficients(data)
        expected, dct = _jpeglib_planes(data, tmp_path)
        assert jpeg.components == ("Y", "Cb", "Cr") and jpeg.progressive == progressive
        assert jpeg.shape == rgb.shape[:2] and jpeg.color_space == "YCbCr"
        np.testing.assert_array_equal(jpeg.sampling_factors, dct.samp_factor)
        for ours, theirs in zip(jpeg.coefficients, expected, strict=True):
            assert ours.dtype == np.int32
            np.testing.assert_array_equal(ours, theirs)
        for c, table in enumerate(jpeg.quantization_tables):
            np.testing.assert_array_equal(table, dct.qt[dct.quant_tbl_no[c]])


@pytest.mark.parametrize("quality", [10, 50, 90])
def test_gray_coefficients_are_the_files_and_our_jpeg_path(tmp_path, quality):
    X = load_mnist().images[:100]
    files = jpeg_files(X, quality=quality)
    G = JPEGCoefficients().fit(files).transform(files)
    for i in (0, 57):
        expected, _ = _jpeglib_planes(files[i], tmp_path)
        np.testing.assert_array_equal(G[i].reshape(4, 4, 64), expected[0])
    # our own JPEG path on the pixels: libjpeg's integer DCT differs at a few positions
    ours = PerceptualQuantizer(quality=quality).fit_transform(BlockDCT().fit_transform(X))
    assert (ours == G).mean() >= 0.99
    assert (np.abs(ours - G) <= 1).all()
    names = JPEGCoefficients().fit(files).get_feature_names_out()
    np.testing.assert_array_equal(names, BlockDCT().fit(X).get_feature_names_out())
    table = read_jpeg_coefficients(files[0]).quantization_tables[0]
    np.testing.assert_array_equal(table, ijg_scale(JPEG_LUMA, quality))


def test_dequantized_values_are_the_quantizers_inverse():
    X = load_mnist().images[:20]
    files = jpeg_files(X, quality=50)
    q = PerceptualQuantizer(quality=50).fit(BlockDCT().fit_transform(X))
    B = JPEGCoefficients().fit(files).transform(files)
    G = JPEGCoefficients(dequantize=True).fit(files).transform(files)
    assert G.dtype == np.float64
    np.testing.assert_array_equal(G, q.inverse_transform(B))
    G32 = JPEGCoefficients(dequantize=True, dtype=np.float32, n_coefficients=10).fit(files)
    out = G32.transform(files)
    assert out.dtype == np.float32 and out.shape == (20, 16 * 10)
    np.testing.assert_array_equal(out.reshape(20, 16, 10), G.reshape(20, 16, 64)[..., :10])


def test_layouts_components_and_grids(photos):
    files = [_jpeg(photos["coffee"]), _jpeg(photos["coffee"][::-1])]
    jpeg = read_jpeg_coefficients(files[0])
    Y, Cb, Cr = jpeg.coefficients
    flat = JPEGCoefficients().fit(files).transform(files)
    np.testing.assert_array_equal(flat[0], np.concatenate([Y.ravel(), Cb.ravel(), Cr.ravel()]))
    blocks = JPEGCoefficients(layout="blocks").fit(files).transform(files)
    rows, cols = Y.shape[:2]
    assert blocks.shape == (2, rows, cols, 3, 64)
    np.testing.assert_array_equal(blocks[0, :, :, 0], Y)
    np.testing.assert_array_equal(blocks[0, :, :, 1], Cb.repeat(2, 0).repeat(2, 1)[:rows, :cols])
    first = JPEGCoefficients(layout="channels_first", n_coefficients=6).fit(files)
    assert first.transform(files).shape == (2, 18, rows, cols)
    luma = JPEGCoefficients(components="luma").fit(files).transform(files)
    np.testing.assert_array_equal(luma[0], Y.ravel())
    grid = JPEGCoefficients(block_grid=(10, 80)).fit(files)  # rows cropped, columns padded
    assert grid.grids_ == [(10, 80), (5, 40), (5, 40)]
    out = grid.transform(files)[0]
    np.testing.assert_array_equal(out[: 10 * 80 * 64].reshape(10, 80, 64)[:, :cols], Y[:10])
    assert not out[: 10 * 80 * 64].reshape(10, 80, 64)[:, cols:].any()  # zero blocks
    assert len(grid.get_feature_names_out()) == out.size


def test_a_file_of_another_size_needs_a_block_grid():
    files = [_jpeg(np.zeros((16, 16), np.uint8)), _jpeg(np.zeros((24, 16), np.uint8))]
    reader = JPEGCoefficients().fit(files[:1])
    with pytest.raises(ValueError, match=r"<bytes>: its block grids \[\(3, 2\)\] differ"):
        reader.transform(files)
    assert JPEGCoefficients(block_grid=(2, 2)).fit(files).transform(files).shape == (2, 256)


def _mixed_column(photos, tmp_path):
    """Paths of gray and colour files of one size (partial blocks and MCUs)."""
    rgb = photos["coffee"][:45, :61]
    gray = np.ascontiguousarray(rgb[..., 1])
    files = [
        _jpeg(rgb, 70, 2),
        _jpeg(gray, 70),
        _jpeg(rgb[::-1], 80, 0, progressive=True),
        _jpeg(gray[::-1], 50, progressive=True),
        _jpeg(np.repeat(gray[..., None], 3, axis=2), 70, 2),  # a colour JPEG of the gray image
    ]
    paths = [tmp_path / f"{i}.jpg" for i in range(len(files))]
    for path, data in zip(paths, files, strict=True):
        path.write_bytes(data)
    return [str(path) for path in paths]


def test_luma_of_gray_and_colour_files_in_one_column(photos, tmp_path):
    paths = _mixed_column(photos, tmp_path)
    expected = np.stack([read_jpeg_coefficients(p).coefficients[0] for p in paths])
    assert expected.shape == (5, 6, 8, 64)
    for column, rows in [(paths, expected), (paths[::-1], expected[::-1])]:
        reader = JPEGCoefficients(components="luma", n_jobs=2).fit(column)  # colour, then gray
        assert reader.components_ == ("Y",)
        np.testing.assert_array_equal(reader.transform(column), rows.reshape(5, -1))
    blocks = JPEGCoefficients(components="luma", layout="blocks", n_coefficients=10)
    np.testing.assert_array_equal(blocks.fit_transform(paths), expected[..., :10])
    grid = JPEGCoefficients(components="luma", block_grid=(4, 9)).fit(paths[1:2])
    out = grid.transform(paths).reshape(5, 4, 9, 64)
    np.testing.assert_array_equal(out[:, :, :8], expected[:, :4])
    assert not out[:, :, 8].any()
    rgb = tmp_path / "rgb.jpg"
    rgb.write_bytes(_jpeg(photos["coffee"][:45, :61], subsampling=0, keep_rgb=True))
    with pytest.raises(ValueError, match="rgb.jpg: components='luma' needs YCbCr or grayscale"):
        reader.transform(paths + [str(rgb)])
    small = tmp_path / "small.jpg"
    small.write_bytes(_jpeg(np.zeros((16, 16), np.uint8)))
    with pytest.raises(ValueError, match=r"small.jpg: its block grids \[\(2, 2\)\] differ"):
        reader.transform([paths[0], str(small)])


def test_gray_files_among_colour_ones_are_promoted_exactly(photos, tmp_path):
    colour, gray, colour444, gray_progressive, colour_of_gray = _mixed_column(photos, tmp_path)
    Y = read_jpeg_coefficients(gray).coefficients[0]
    for dequantize in (False, True):
        reader = JPEGCoefficients(dequantize=dequantize, n_jobs=2).fit([colour])
        out = reader.transform([colour, gray, colour_of_gray])
        # a colour JPEG of the gray image holds the same Y and zero chroma blocks
        np.testing.assert_array_equal(out[1], out[2])
        assert out[1].size == Y.size + 2 * 3 * 4 * 64 and not out[1, Y.size :].any()
        steps = read_jpeg_coefficients(gray).quantization_tables[0].ravel()[zigzag_order(8)]
        np.testing.assert_array_equal(out[1, : Y.size], (Y * (steps if dequantize else 1)).ravel())
    for layout in ("blocks", "channels_first"):
        both = JPEGCoefficients(layout=layout).fit([colour]).transform([gray, colour_of_gray])
        np.testing.assert_array_equal(both[0], both[1])
    grid = JPEGCoefficients(block_grid=(8, 8)).fit([colour])
    np.testing.assert_array_equal(*grid.transform([gray, colour_of_gray]))
    # 4:4:4: chroma on the luma's grid; a progressive gray file
    full = JPEGCoefficients().fit([colour444]).transform([colour444, gray_progressive])
    expected = read_jpeg_coefficients(gray_progressive).coefficients[0].ravel()
    np.testing.assert_array_equal(full[1, : Y.size], expected)
    assert full.shape == (2, 3 * Y.size) and not full[1, Y.size :].any()


def test_colour_files_among_gray_ones_are_refused_naming_the_setting(photos, tmp_path):
    colour, gray, *_ = _mixed_column(photos, tmp_path)
    reader = JPEGCoefficients().fit([gray])
    with pytest.raises(ValueError, match=r"0.jpg: a YCbCr-coded file among the grayscale .*"
                       r"Fit on a colour file .* components='luma'"):  # fmt: skip
        reader.transform([gray, colour])
    rgb = tmp_path / "rgb.jpg"
    rgb.write_bytes(_jpeg(photos["coffee"][:45, :61], subsampling=0, keep_rgb=True))
    with pytest.raises(ValueError, match=r"1.jpg: a grayscale file among the RGB-coded files"):
        JPEGCoefficients().fit([str(rgb)]).transform([str(rgb), gray])
    # bad files are still the reader's errors, naming them
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a jpeg")
    with pytest.raises(ValueError, match="broken.jpg: corrupt or unsupported JPEG data"):
        JPEGCoefficients().fit([colour]).transform([colour, str(broken)])


def test_folder_round_trip_and_parallel_reading(tmp_path):
    mnist = load_mnist()
    X, y = mnist.images[:60], mnist.target[:60]
    paths = write_jpeg(X, tmp_path, labels=y, quality=90)
    assert len(paths) == 60
    data = load_jpeg_folder(tmp_path, n_jobs=2)
    assert data.target_names == sorted({str(label) for label in y})
    assert sorted(data.target.tolist()) == sorted(data.target_names.index(str(v)) for v in y)
    serial = JPEGCoefficients().fit(data.filenames).transform(data.filenames)
    threaded = JPEGCoefficients(n_jobs=2).fit(data.filenames).transform(data.filenames)
    np.testing.assert_array_equal(serial, threaded)
    (tmp_path / str(y[0]) / "broken.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(ValueError, match="broken.jpg: not a readable JPEG"):
        load_jpeg_folder(tmp_path)
    skipped = load_jpeg_folder(tmp_path, errors="skip")
    assert len(skipped.filenames) == 60 and skipped.skipped[0][0].endswith("broken.jpg")


def test_bad_files_are_clear_errors_naming_the_file(tmp_path):
    good = _jpeg(skimage_data.camera()[:256, :256])
    png = io.BytesIO()
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(png, "PNG")
    cmyk = io.BytesIO()
    Image.new("CMYK", (16, 16)).save(cmyk, "JPEG")
    cases = {
        "truncated.jpg": (good[: len(good) // 2], "Premature end"),
        "header_only.jpg": (good[:40], "not a readable JPEG"),
        "renamed.jpg": (png.getvalue(), "Not a JPEG file"),
        "empty.jpg": (b"", "not a readable JPEG"),
        "cmyk.jpg": (cmyk.getvalue(), "CMYK"),
    }
    for name, (data, message) in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(ValueError, match=message) as error:
            read_jpeg_coefficients(path)
        assert name in str(error.value)
    with pytest.raises(ValueError, match="cannot read JPEG file .*missing.jpg"):
        read_jpeg_coefficients(tmp_path / "missing.jpg")
    with pytest.raises(TypeError, match="a JPEG source must be a path, bytes"):
        read_jpeg_coefficients(12)
    with pytest.raises(TypeError, match="wrap it in a list"):
        JPEGCoefficients().fit(good)
    # not strict: libjpeg's warning is counted and the missing data is zeros
    lenient = read_jpeg_coefficients(good[: len(good) // 2], strict=False)
    assert lenient.warnings >= 1
    assert not lenient.coefficients[0][-1].any()


def test_fuzzed_files_never_crash():
    rng = np.random.default_rng(0)
    originals = [
        _jpeg(skimage_data.camera()[:48, :56], quality=q, progressive=p)
        for q, p in [(30, False), (80, True)]
    ] + [_jpeg(skimage_data.astronaut()[:40, :40], 60, 2)]
    outcomes = {"read": 0, "refused": 0}
    for data in originals:
        for _ in range(150):
            corrupt = bytearray(data)
            if rng.random() < 0.5:
                corrupt = corrupt[: rng.integers(0, len(corrupt))]
            for _ in range(rng.integers(1, 6)):
                if corrupt:
                    corrupt[rng.integers(0, len(corrupt))] = rng.integers(0, 256)
            for strict in (True, False):
                try:
                    jpeg = read_jpeg_coefficients(bytes(corrupt), strict=strict)
                except ValueError as error:
                    assert "<bytes>" in str(error)
                    outcomes["refused"] += 1
                else:
                    assert all(c.ndim == 3 and c.shape[2] == 64 for c in jpeg.coefficients)
                    outcomes["read"] += 1
    assert outcomes["read"] > 0 and outcomes["refused"] > 0


def test_writer_checks_its_input(tmp_path):
    with pytest.raises(ValueError, match="uint8 images"):
        write_jpeg(np.zeros((2, 8, 8)), tmp_path)
    with pytest.raises(ValueError, match="subsampling must be one of"):
        write_jpeg(np.zeros((2, 8, 8, 3), np.uint8), tmp_path, subsampling="4:1:1")
    with pytest.raises(ValueError, match="labels has 1 entries for 2 images"):
        write_jpeg(np.zeros((2, 8, 8), np.uint8), tmp_path, labels=[0])
    paths = write_jpeg(np.zeros((2, 8, 8, 3), np.uint8), tmp_path, subsampling="4:4:4")
    assert read_jpeg_coefficients(paths[1]).sampling_factors.tolist() == [[1, 1]] * 3
