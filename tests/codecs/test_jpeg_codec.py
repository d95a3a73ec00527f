"""JPEGCodec against libjpeg (through Pillow): symbols, tables, files and pixels."""

import io

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from skcompress import JPEGCodec
from skcompress.io import read_jpeg_coefficients

Image = pytest.importorskip("PIL.Image")

PILLOW_SUBSAMPLING = {"4:4:4": 0, "4:2:2": 1, "4:2:0": 2}


@pytest.fixture(scope="module")
def photos():
    """Two crops of scikit-learn's sample photographs, sizes that 8 and 16 do not divide."""
    from sklearn.datasets import load_sample_image

    china = load_sample_image("china.jpg")[100:161, 200:283]
    flower = load_sample_image("flower.jpg")[50:111, 100:183]
    return np.stack([china, flower])


def pillow_file(image, quality, subsampling="4:2:0", **options):
    buffer = io.BytesIO()
    extra = {} if image.ndim == 2 else {"subsampling": PILLOW_SUBSAMPLING[subsampling]}
    if quality is not None:
        extra["quality"] = quality
    Image.fromarray(image).save(buffer, "JPEG", **extra, **options)
    return buffer.getvalue()


def decode(data):
    return np.asarray(Image.open(io.BytesIO(data)))


def file_symbols(data):
    """A file's coefficients flattened as JPEGCodec.transform orders them."""
    jpeg = read_jpeg_coefficients(data)
    return np.concatenate([c.reshape(-1) for c in jpeg.coefficients]), jpeg


def _images(photos, kind):
    return photos[..., 1] if kind == "gray" else photos


@pytest.mark.parametrize("quality", [10, 50, 90])
@pytest.mark.parametrize(
    ("kind", "subsampling"),
    [("gray", "4:2:0"), ("colour", "4:2:0"), ("colour", "4:2:2"), ("colour", "4:4:4")],
)
def test_islow_symbols_are_libjpegs(photos, kind, subsampling, quality):
    X = _images(photos, kind)
    codec = JPEGCodec(quality, subsampling=subsampling, dct="islow").fit(X)
    symbols = codec.transform(X)
    for image, ours in zip(X, symbols, strict=True):
        data = pillow_file(image, quality, subsampling)
        theirs, jpeg = file_symbols(data)
        np.testing.assert_array_equal(ours, theirs)  # 100% identical
        np.testing.assert_array_equal(codec.quantization_tables_, jpeg.quantization_tables)
        np.testing.assert_array_equal(codec.sampling_factors_, jpeg.sampling_factors)
        assert [c.shape[:2] for c in jpeg.coefficients] == codec.grid_shapes_


@pytest.mark.parametrize("quality", [10, 50, 90])
@pytest.mark.parametrize("kind", ["gray", "colour"])
def test_our_file_decodes_as_pillows_and_is_as_small(photos, kind, quality):
    X = _images(photos, kind)
    codec = JPEGCodec(quality, dct="islow").fit(X)
    for image, data in zip(X, codec.compress(X), strict=True):
        assert Image.open(io.BytesIO(data)).format == "JPEG"
        same = decode(data) == decode(pillow_file(image, quality))
        assert same.mean() >= 0.999
        optimized = len(pillow_file(image, quality, optimize=True))
        assert abs(len(data) / optimized - 1) <= 0.01


@pytest.mark.parametrize("quality", [10, 50, 90])
@pytest.mark.parametrize("kind", ["gray", "colour"])
def test_float_symbols_are_within_one_level_of_libjpegs(photos, kind, quality):
    X = _images(photos, kind)
    symbols = JPEGCodec(quality).fit(X).transform(X)
    exact = JPEGCodec(quality, dct="islow").fit(X).transform(X)
    assert np.abs(symbols - exact).max() <= 1
    # measured: gray 100 / 99.9 / 99.4%, colour 99.98 / 99.8 / 98.2% (q 10 / 50 / 90); the
    # colour planes differ too, unrounded instead of libjpeg's 8-bit samples
    assert (symbols == exact).mean() >= 0.98


@pytest.mark.parametrize("quality", [10, 50, 90])
@pytest.mark.parametrize(("kind", "tolerance"), [("gray", 1), ("colour", 3)])
def test_inverse_transform_is_close_to_pillows_decode(photos, kind, tolerance, quality):
    X = _images(photos, kind)
    codec = JPEGCodec(quality, dct="islow").fit(X)
    back = codec.inverse_transform(codec.transform(X))
    assert back.shape == X.shape and back.dtype == np.float64
    assert np.array_equal(back, np.round(back)) and back.min() >= 0 and back.max() <= 255
    pillow = np.stack([decode(pillow_file(image, quality)) for image in X]).astype(float)
    difference = np.abs(back - pillow)
    assert difference.max() <= tolerance
    assert (difference == 0).mean() >= 0.97


@pytest.mark.parametrize(("kind", "bound"), [("gray", 0.5), ("colour", 2)])
def test_round_trip_error_falls_with_quality(photos, kind, bound):
    X = _images(photos, kind)
    errors = []
    for quality in (10, 50, 90, 100):
        codec = JPEGCodec(quality).fit(X)
        errors.append(np.abs(codec.inverse_transform(codec.transform(X)) - X).mean())
    assert errors == sorted(errors, reverse=True)
    assert errors[-1] < bound  # colour: what 4:2:0 chroma loses


def test_quality_100_gray_round_trip_is_nearly_lossless(photos):
    X = photos[..., 0]
    codec = JPEGCodec(100, dct="islow").fit(X)
    assert np.abs(codec.inverse_transform(codec.transform(X)) - X).max() <= 1


def test_flat_rows_with_signal_shape_and_feature_names(photos):
    X = photos
    codec = JPEGCodec(50, signal_shape=X.shape[1:]).fit(X.reshape(len(X), -1))
    expected = JPEGCodec(50).fit(X).transform(X)
    np.testing.assert_array_equal(codec.transform(X.reshape(len(X), -1)), expected)
    names = codec.get_feature_names_out()
    assert len(names) == codec.n_features_out_ == expected.shape[1]
    rows, cols = codec.grid_shapes_[0]
    assert names[0] == "Y_r0_c0_k0" and names[64 * rows * cols] == "Cb_r0_c0_k0"
    assert names[-1] == f"Cr_r{codec.grid_shapes_[2][0] - 1}_c{codec.grid_shapes_[2][1] - 1}_k63"


def test_rows_without_signal_shape_are_images_one_pixel_high():
    rng = np.random.default_rng(0)
    rows = rng.integers(0, 256, (3, 20)).astype(float)
    codec = JPEGCodec(90, dct="islow").fit(rows)
    assert codec.grid_shapes_ == [(1, 3)]
    for row, symbols in zip(rows.astype(np.uint8), codec.transform(rows), strict=True):
        np.testing.assert_array_equal(symbols, file_symbols(pillow_file(row[None], 90))[0])


def test_in_a_pipeline_before_a_classifier(photos):
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, (12, 16, 16, 3)).astype(np.uint8)
    y = np.arange(12) % 2
    model = make_pipeline(JPEGCodec(50), LogisticRegression(max_iter=200)).fit(X, y)
    assert model.predict(X).shape == (12,)


@pytest.mark.parametrize(
    ("X", "match"),
    [
        (np.zeros((2, 8, 8, 2)), "2 channels"),
        (np.zeros((2, 8, 8, 4)), "4 channels"),
        (np.zeros((2, 2, 8, 8, 3)), "ndim=5"),
        (np.full((2, 8, 8), np.nan), "NaN"),
        (np.full((2, 8, 8, 3), np.inf), "infinity"),
    ],
)
def test_bad_images_are_refused(X, match):
    with pytest.raises(ValueError, match=match):
        JPEGCodec().fit(X)


def test_islow_needs_8bit_integers():
    for bad in (np.full((2, 8, 8), 0.5), np.full((2, 8, 8), 256.0), np.full((2, 8, 8), -1.0)):
        with pytest.raises(ValueError, match="integers from 0 to 255"):
            JPEGCodec(dct="islow").fit(bad)
    codec = JPEGCodec(dct="islow").fit(np.zeros((2, 8, 8)))
    with pytest.raises(ValueError, match="integers from 0 to 255"):
        codec.transform(np.full((2, 8, 8), 300.0))


def test_shape_mismatches_are_refused():
    codec = JPEGCodec().fit(np.zeros((2, 16, 16, 3)))
    with pytest.raises(ValueError):
        codec.transform(np.zeros((2, 16, 24, 3)))
    with pytest.raises(ValueError, match=r"\(n_samples, 384\)"):
        codec.inverse_transform(np.zeros((2, 383), dtype=np.int32))
    with pytest.raises(ValueError, match="finite integer"):
        codec.inverse_transform(np.full((2, 384), np.nan))
    with pytest.raises(ValueError, match="signal_shape"):
        JPEGCodec(signal_shape=(8, 8)).fit(np.zeros((2, 65)))


@pytest.mark.parametrize("kind", ["gray", "colour"])
def test_custom_tables_are_libjpegs_qtables(photos, kind):
    from skcompress.quantization import JPEG_LUMA

    X = _images(photos, kind)
    ramp = 1 + 3 * np.add.outer(np.arange(8), np.arange(8))  # steps grow with frequency
    tables = np.stack([ramp, 2 * ramp])
    codec = JPEGCodec(50, tables=tables, dct="islow").fit(X)
    for image, symbols in zip(X, codec.transform(X), strict=True):
        # Pillow without a quality adds its qtables unscaled, as quality 50 here
        data = pillow_file(image, None, qtables=[t.ravel().tolist() for t in tables])
        theirs, jpeg = file_symbols(data)
        np.testing.assert_array_equal(symbols, theirs)
        np.testing.assert_array_equal(codec.quantization_tables_, jpeg.quantization_tables)
    default = JPEGCodec(30).fit(X).transform(X)
    np.testing.assert_array_equal(JPEGCodec(30, tables=JPEG_LUMA).fit(X).transform(X)[:, :64],
                                  default[:, :64])  # fmt: skip


@pytest.mark.parametrize(
    ("tables", "match"),
    [
        (np.ones((3, 8, 8)), r"shape \(8, 8\)"),
        (np.zeros((8, 8)), "integers from 1 to 255"),
        (np.full((8, 8), 256), "integers from 1 to 255"),
        (np.full((8, 8), 1.5), "integers from 1 to 255"),
        (np.full((2, 8, 8), np.nan), "integers from 1 to 255"),
    ],
)
def test_bad_tables_are_refused(tables, match):
    with pytest.raises(ValueError, match=match):
        JPEGCodec(tables=tables).fit(np.zeros((2, 8, 8)))


@pytest.mark.parametrize("params", [{"quality": 0}, {"subsampling": "4:1:1"}, {"dct": "ifast"}])
def test_bad_parameters_are_refused(params):
    with pytest.raises(ValueError, match="parameter of JPEGCodec must be"):
        JPEGCodec(**params).fit(np.zeros((2, 8, 8)))


@pytest.mark.parametrize("progressive", [False, True])
@pytest.mark.parametrize("kind", ["gray", "colour"])
def test_decompress_reads_compress_and_rate_is_the_files(photos, kind, progressive):
    X = _images(photos, kind)
    codec = JPEGCodec(50, dct="islow").fit(X)
    strings = codec.compress(X, progressive=progressive)
    assert read_jpeg_coefficients(strings[0]).progressive is progressive
    expected = codec.inverse_transform(codec.transform(X))
    np.testing.assert_array_equal(codec.decompress(strings), expected)
    rate = codec.rate(X, progressive=progressive)
    assert rate["bits_per_sample"] == np.mean([8 * len(s) for s in strings])
    assert rate["bits_per_pixel"] == rate["bits_per_sample"] / (X.shape[1] * X.shape[2])


def test_decompress_refuses_files_of_another_codec(photos):
    X = _images(photos, "colour")
    codec = JPEGCodec(50).fit(X)
    with pytest.raises(ValueError, match="quantization tables"):
        codec.decompress(JPEGCodec(90).fit(X).compress(X[:1]))
    with pytest.raises(ValueError, match="sampling factors"):
        codec.decompress(JPEGCodec(50, subsampling="4:4:4").fit(X).compress(X[:1]))
    with pytest.raises(ValueError, match="image size"):
        codec.decompress([pillow_file(X[0, :40, :40], 50)])
