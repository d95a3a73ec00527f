"""load_jpeg_folder: other image formats and CMYK by a stated policy, never without a word."""

import io
import os

import numpy as np
import pytest
from PIL import Image
from skimage import data as skimage_data

from skcompress.io import JPEGCoefficients, load_jpeg_folder, read_jpeg_coefficients

PHOTO = skimage_data.coffee()[:32, :48]


def _folder(root):
    (root / "cups" / "more").mkdir(parents=True)
    (root / "pots").mkdir()
    Image.fromarray(PHOTO).save(root / "cups" / "a.jpg", quality=75)
    Image.fromarray(PHOTO).save(root / "cups" / "more" / "b.png")
    Image.fromarray(PHOTO).convert("CMYK").save(root / "pots" / "c.jpg", quality=75)
    deep = PHOTO[..., 1].astype(np.uint16) * 257
    Image.fromarray(deep).save(root / "pots" / "d.png")
    (root / "pots" / "README").write_text("ignored: not an image file")


def _names(pairs):
    return sorted(os.path.basename(p) for p, _ in pairs)


def test_other_formats_and_cmyk_are_skipped_with_a_report_by_default(tmp_path):
    _folder(tmp_path)
    data = load_jpeg_folder(tmp_path)
    assert [os.path.basename(p) for p in data.filenames] == ["a.jpg"]
    assert list(data.sources) == list(data.filenames) and data.converted == []
    reasons = dict((os.path.basename(p), r) for p, r in data.skipped)
    assert sorted(reasons) == ["b.png", "c.jpg", "d.png"]
    assert reasons["b.png"].endswith("b.png: a PNG image (RGB), not a JPEG")
    assert reasons["c.jpg"].endswith("c.jpg: a CMYK JPEG")
    assert "PNG image (I;16" in reasons["d.png"]
    with pytest.raises(ValueError, match=r"b.png: a PNG image \(RGB\), not a JPEG; set unsup"):
        load_jpeg_folder(tmp_path, unsupported="raise")
    with pytest.raises(ValueError, match="unsupported must be one of"):
        load_jpeg_folder(tmp_path, unsupported="ignore")
    with pytest.raises(ValueError, match="quality must be an int in"):
        load_jpeg_folder(tmp_path, unsupported="convert", quality=100)


def test_converted_files_become_jpeg_bytes_that_the_reader_takes(tmp_path):
    _folder(tmp_path)
    data = load_jpeg_folder(tmp_path, unsupported="convert", quality=90, n_jobs=2)
    assert [os.path.basename(p) for p in data.filenames] == ["a.jpg", "b.png", "c.jpg", "d.png"]
    assert data.target.tolist() == [0, 0, 1, 1] and data.skipped == []
    assert _names(data.converted) == ["b.png", "c.jpg", "d.png"]
    assert isinstance(data.sources[0], str) and isinstance(data.sources[1], bytes)
    png = io.BytesIO()
    Image.fromarray(PHOTO).save(png, "JPEG", quality=90)
    got = read_jpeg_coefficients(data.sources[1]).coefficients
    for have, want in zip(got, read_jpeg_coefficients(png.getvalue()).coefficients, strict=True):
        np.testing.assert_array_equal(have, want)
    deep = read_jpeg_coefficients(data.sources[3])  # 16-bit gray: gray, scaled to 8 bits
    assert deep.color_space == "grayscale"
    eight = io.BytesIO()
    Image.fromarray(PHOTO[..., 1]).save(eight, "JPEG", quality=90)
    np.testing.assert_array_equal(
        deep.coefficients[0], read_jpeg_coefficients(eight.getvalue()).coefficients[0]
    )
    # the colour ones read together, the CMYK JPEG with its own table
    colour = [data.sources[i] for i in range(3)]
    assert JPEGCoefficients().fit(colour).transform(colour).shape[0] == 3


def test_budgets_hold_for_other_formats(tmp_path):
    _folder(tmp_path)
    limit = 32 * 48 * 3 - 1
    data = load_jpeg_folder(tmp_path, errors="skip", unsupported="convert",
                            max_coefficients=limit)  # fmt: skip
    reasons = dict((os.path.basename(p), r) for p, r in data.skipped)
    assert "b.png: a PNG image of 48 x 32 pixels and 3 channels" in reasons["b.png"]
    assert f"max_coefficients={limit}" in reasons["b.png"]
    assert "d.png" not in reasons  # one channel: within the budget
