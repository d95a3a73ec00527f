"""JPEGCodec against libjpeg (through Pillow): symbols, tables, files and pixels."""

import io

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from skcompress import JPEGCodec
from skcompress.entropy import BlockContextModel
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
@pytest.mark.parametrize("subsampling", ["4:2:0", "4:2:2", "4:4:4"])
@pytest.mark.parametrize("kind", ["gray", "colour"])
@pytest.mark.parametrize("dct", ["islow", "float"])
def test_inverse_transform_is_libjpegs_decode(photos, kind, subsampling, quality, dct):
    X = _images(photos, kind)
    codec = JPEGCodec(quality, dct=dct, subsampling=subsampling).fit(X)
    symbols = codec.transform(X)
    back = codec.inverse_transform(symbols)
    assert back.shape == X.shape and back.dtype == np.float64
    # what Pillow (libjpeg-turbo) decodes from the file of the same symbols, bit for bit
    ours = np.stack([decode(data) for data in codec.compress(X)])
    np.testing.assert_array_equal(back, ours)
    if dct == "islow":  # the same symbols as Pillow's own file: its decode too
        pillow = [decode(pillow_file(image, quality, subsampling)) for image in X]
        np.testing.assert_array_equal(back, np.stack(pillow))


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


# -- n_coefficients, layouts, entropy="context" ------------------------------

SUBSAMPLINGS = [("gray", "4:2:0"), ("colour", "4:4:4"), ("colour", "4:2:2"), ("colour", "4:2:0")]
MCU_SLOTS = {"4:4:4": 3, "4:2:2": 4, "4:2:0": 6}


def scan_blocks(data):
    """The blocks of a baseline JPEG file's scan in coding order, dummy blocks included.

    A minimal baseline decoder of the entropy-coded segment (one scan, no restart
    intervals): every block as libjpeg coded it, ``(n_blocks, 64)`` in zig-zag order
    with the DC undifferenced. Readers (libjpeg's, jpeglib) crop the dummy blocks that
    fill an MCU beyond the image; this one keeps them.
    """
    pos, tables, factors = 2, {}, {}
    while True:
        marker, size = data[pos + 1], int.from_bytes(data[pos + 2 : pos + 4], "big")
        body = data[pos + 4 : pos + 2 + size]
        if marker == 0xC4:  # DHT: one or more Huffman tables
            at = 0
            while at < len(body):
                counts = body[at + 1 : at + 17]
                values, codes, code, i = body[at + 17 : at + 17 + sum(counts)], {}, 0, 0
                for length, count in enumerate(counts, start=1):
                    for _ in range(count):
                        codes[length, code] = values[i]
                        code, i = code + 1, i + 1
                    code <<= 1
                tables[body[at] >> 4, body[at] & 15] = codes
                at += 17 + sum(counts)
        elif marker == 0xC0:  # SOF0: size and sampling factors (h, v)
            height, width = int.from_bytes(body[1:3], "big"), int.from_bytes(body[3:5], "big")
            for j in range(body[5]):
                factors[body[6 + 3 * j]] = (body[7 + 3 * j] >> 4, body[7 + 3 * j] & 15)
        elif marker == 0xDA:  # SOS: the components of the scan and their tables
            scan = [(body[1 + 2 * j], body[2 + 2 * j]) for j in range(body[0])]
            start = pos + 2 + size
            break
        pos += 2 + size
    coded = data[start : data.rindex(b"\xff\xd9")].replace(b"\xff\x00", b"\xff")
    bits = "".join(f"{byte:08b}" for byte in coded)
    h_max = max(h for h, _ in factors.values())
    v_max = max(v for _, v in factors.values())
    if len(scan) == 1:  # a component alone: its blocks, no MCU padding
        factors = {scan[0][0]: (1, 1)}
        h_max = v_max = 1
    mcus = -(-height // (8 * v_max)) * -(-width // (8 * h_max))
    at, dc, blocks = 0, dict.fromkeys(factors, 0), []

    def read(n):
        nonlocal at
        at += n
        return int(bits[at - n : at], 2) if n else 0

    def decode(codes):
        code, length = 0, 0
        while (length, code) not in codes:
            code, length = code << 1 | read(1), length + 1
        return codes[length, code]

    def extend(value, s):
        return value if s == 0 or value >= 1 << (s - 1) else value - (1 << s) + 1

    for _ in range(mcus):
        for component, selectors in scan:
            h, v = factors[component]
            for _ in range(h * v):
                block = np.zeros(64, dtype=np.int64)
                s = decode(tables[0, selectors >> 4])
                dc[component] += extend(read(s), s)
                block[0], k = dc[component], 1
                while k < 64:
                    rs = decode(tables[1, selectors & 15])
                    if rs & 15 == 0:
                        if rs >> 4 != 15:
                            break  # end of block
                        k += 16
                        continue
                    k += rs >> 4
                    block[k] = extend(read(rs & 15), rs & 15)
                    k += 1
                blocks.append(block)
    return np.stack(blocks)


@pytest.mark.parametrize(("size", "mcus"), [((37, 33), (3, 3)), ((20, 32), (2, 2))])
@pytest.mark.parametrize(("kind", "subsampling"), SUBSAMPLINGS)
def test_mcu_layout_is_the_scan_of_libjpegs_file_dummy_blocks_included(
    photos, kind, subsampling, size, mcus
):
    # with 4:2:0, 37 x 33 pixels (5 x 5 luma blocks) fill 3 x 3 MCUs only with a dummy
    # row, a dummy column and a dummy corner, 20 x 32 (3 x 4) 2 x 2 MCUs with a dummy
    # row; with 4:2:2, 37 x 33 needs a dummy column
    X = _images(photos, kind)[:, : size[0], : size[1]]
    codec = JPEGCodec(50, subsampling=subsampling, dct="islow", layout="blocks").fit(X)
    blocks = codec.transform(X)
    slots = 1 if kind == "gray" else MCU_SLOTS[subsampling]
    v, h = codec.sampling_factors_[0]
    grid = mcus if (v, h) == (2, 2) else (-(-size[0] // (8 * v)), -(-size[1] // (8 * h)))
    assert codec.mcu_shape_ == grid
    assert blocks.shape == ((2, *grid, 64) if slots == 1 else (2, *grid, slots, 64))
    for image, ours, data in zip(X, blocks, codec.compress(X), strict=True):
        in_scan_order = ours.reshape(-1, 64)
        np.testing.assert_array_equal(
            scan_blocks(pillow_file(image, 50, subsampling)), in_scan_order
        )
        np.testing.assert_array_equal(scan_blocks(data), in_scan_order)  # fmt: skip


@pytest.mark.parametrize("size", [(16, 16), (37, 33), (20, 32), (1, 20)])
@pytest.mark.parametrize(("kind", "subsampling"), SUBSAMPLINGS)
@pytest.mark.parametrize("layout", ["blocks", "channels_first"])
def test_layouts_round_trip_and_name_every_value(photos, kind, subsampling, size, layout):
    X = _images(photos, kind)[:, : size[0], : size[1]]
    k = 10
    flat = JPEGCodec(50, subsampling=subsampling, n_coefficients=k).fit(X)
    codec = JPEGCodec(50, subsampling=subsampling, n_coefficients=k, layout=layout).fit(X)
    symbols, reference = codec.transform(X), flat.transform(X)
    slots = 1 if kind == "gray" else MCU_SLOTS[subsampling]
    grid = codec.mcu_shape_
    v, h = codec.sampling_factors_[0]
    assert grid == (-(-size[0] // (8 * v)), -(-size[1] // (8 * h)))
    if layout == "channels_first":
        assert symbols.shape == (2, slots * k, *grid)
    else:
        assert symbols.shape == ((2, *grid, k) if slots == 1 else (2, *grid, slots, k))
    assert symbols.dtype == np.int32 and codec.n_features_out_ == symbols[0].size
    # every layout decodes, codes and is named as the flat symbols
    np.testing.assert_array_equal(
        codec.inverse_transform(symbols), flat.inverse_transform(reference)
    )
    np.testing.assert_array_equal(
        codec.inverse_transform(reference), flat.inverse_transform(reference)
    )
    assert codec.compress_symbols(symbols) == flat.compress(X) == codec.compress(X)
    np.testing.assert_array_equal(codec.decompress_symbols(codec.compress(X)), symbols)
    names = codec.get_feature_names_out()
    assert len(names) == symbols[0].size
    lookup = dict(zip(flat.get_feature_names_out(), reference[1], strict=True))
    for name, value in zip(names, symbols[1].ravel(), strict=True):
        if name in lookup:
            assert lookup[name] == value
        else:  # a dummy block, beyond the luma grid
            component, row, col, _ = name.split("_")
            rows, cols = codec.grid_shapes_[0]
            assert component == "Y" and (int(row[1:]) >= rows or int(col[1:]) >= cols)


def test_feature_names_of_the_mcu_layout():
    X = np.zeros((2, 20, 30, 3), dtype=np.uint8)  # luma 3 x 4 blocks, MCUs 2 x 2
    codec = JPEGCodec(n_coefficients=2, layout="blocks").fit(X)
    names = codec.get_feature_names_out().reshape(2, 2, 6, 2)
    assert names[1, 1, :, 0].tolist() == [
        "Y_r2_c2_k0", "Y_r2_c3_k0", "Y_r3_c2_k0", "Y_r3_c3_k0", "Cb_r1_c1_k0", "Cr_r1_c1_k0"
    ]  # fmt: skip
    codec.set_params(layout="channels_first").fit(X)
    names = codec.get_feature_names_out().reshape(12, 2, 2)
    assert names[:, 0, 1].tolist()[:3] == ["Y_r0_c2_k0", "Y_r0_c2_k1", "Y_r0_c3_k0"]


def test_dummy_blocks_repeat_the_dc_coded_before():
    rng = np.random.default_rng(1)
    X = rng.integers(0, 256, (3, 20, 24, 3)).astype(np.uint8)  # luma 3 x 3, MCUs 2 x 2
    blocks = JPEGCodec(40, layout="blocks").fit(X).transform(X)
    luma = blocks[..., :4, :].reshape(3, 2, 2, 2, 2, 64).transpose(0, 1, 3, 2, 4, 5)
    luma = luma.reshape(3, 4, 4, 64)  # the luma grid with its dummy row and column
    assert not luma[:, 3, :, 1:].any() and not luma[:, :, 3, 1:].any()
    np.testing.assert_array_equal(luma[:, :3, 3, 0], luma[:, :3, 2, 0])  # the block to the left
    # below the image, the DC of the last block of the MCU's last row
    np.testing.assert_array_equal(luma[:, 3, 0:2, 0], luma[:, 2, [1, 1], 0])
    np.testing.assert_array_equal(luma[:, 3, 2:4, 0], luma[:, 2, [3, 3], 0])


def test_n_coefficients_keeps_the_lowest_frequencies_and_sets_the_rate(photos):
    X = photos
    full = JPEGCodec(50, dct="islow").fit(X)
    all64 = full.transform(X)
    rates = {}
    for k in (1, 6, 16, 64):
        codec = JPEGCodec(50, dct="islow", n_coefficients=k).fit(X)
        symbols = codec.transform(X)
        kept = all64.reshape(2, -1, 64)[..., :k]
        np.testing.assert_array_equal(symbols, kept.reshape(2, -1))
        zeroed = np.zeros_like(all64).reshape(2, -1, 64)
        zeroed[..., :k] = kept
        np.testing.assert_array_equal(
            codec.inverse_transform(symbols), full.inverse_transform(zeroed.reshape(2, -1))
        )
        files = codec.compress(X)
        coefficients = read_jpeg_coefficients(files[0]).coefficients
        assert not any(c[..., k:].any() for c in coefficients)  # the rest is zero in the file
        np.testing.assert_array_equal(codec.decompress_symbols(files), symbols)
        # a file with all 64: the coefficients beyond k are dropped, as transform drops them
        np.testing.assert_array_equal(codec.decompress_symbols(full.compress(X)), symbols)
        rates[k] = codec.rate(X)["bits_per_sample"]
    assert rates[1] < rates[6] < rates[16] < rates[64]
    assert JPEGCodec(50, dct="islow", n_coefficients=64).fit(X).compress(X) == full.compress(X)


@pytest.fixture(scope="module")
def colour_photographs():
    from skcompress.datasets import load_photographs

    return load_photographs(size=96, color=True).images


@pytest.mark.parametrize(("kind", "subsampling"), SUBSAMPLINGS)
def test_context_stream_is_smaller_than_the_jpeg_file_and_decodes_both(
    colour_photographs, kind, subsampling
):
    photographs = (
        colour_photographs.mean(axis=-1).round() if kind == "gray" else colour_photographs
    )
    train, test = photographs[:4], photographs[4:]
    codec = JPEGCodec(50, subsampling=subsampling, entropy="context").fit(train)
    jpeg = JPEGCodec(50, subsampling=subsampling).fit(train)
    assert len(codec.entropy_models_) == (2 if subsampling != "4:4:4" and kind != "gray" else 1)
    streams, files = codec.compress(test), jpeg.compress(test)
    assert all(s[:2] != b"\xff\xd8" for s in streams) and all(f[:2] == b"\xff\xd8" for f in files)
    ours = np.array([len(s) for s in streams])
    theirs = np.array([len(f) for f in files])
    assert (ours < 0.95 * theirs).all()  # measured: 16 to 38% smaller, held out
    symbols = codec.transform(test)
    np.testing.assert_array_equal(codec.decompress_symbols(streams), symbols)
    np.testing.assert_array_equal(codec.decompress_symbols(files), symbols)  # reads both
    decoded = codec.inverse_transform(symbols)
    np.testing.assert_array_equal(codec.decompress(streams), decoded)
    mixed = codec.decompress([files[0], streams[1], files[2]])
    np.testing.assert_array_equal(mixed, decoded)
    rate = codec.rate(test)
    assert rate["bits_per_sample"] == 8 * ours.mean()
    assert rate["bits_per_pixel"] == rate["bits_per_value"] == 8 * ours.mean() / 96**2


def test_context_streams_are_checked(colour_photographs):
    X = colour_photographs[:3]
    codec = JPEGCodec(50, entropy="context").fit(X)
    streams = codec.compress(X)
    with pytest.raises(ValueError, match="not a JPEG file"):
        JPEGCodec(50).fit(X).decompress(streams)
    with pytest.raises(ValueError, match="checksum"):
        codec.decompress([streams[0][:-1] + bytes([streams[0][-1] ^ 1])])
    with pytest.raises(ValueError, match="checksum"):  # another model wrote it
        JPEGCodec(50, entropy="context").fit(X[1:]).decompress(streams[:1])
    with pytest.raises(ValueError, match="starts with the byte 0xc2"):
        codec.decompress([b"\x12" + streams[0][1:]])
    with pytest.raises(TypeError, match="Wrap it in a list"):
        codec.decompress(streams[0])
    with pytest.raises(ValueError, match="progressive=True"):
        codec.compress(X, progressive=True)
    assert codec.decompress([]).shape == (0, 96, 96, 3)


def test_fitted_context_codec_pickles(colour_photographs):
    import pickle

    X = colour_photographs[:2]
    model = BlockContextModel(dc_prediction="med")
    codec = JPEGCodec(30, n_coefficients=6, entropy=model).fit(X)
    assert not hasattr(model, "counts_")  # the parameter is copied, never fitted
    again = pickle.loads(pickle.dumps(codec))
    strings = codec.compress(X)
    np.testing.assert_array_equal(again.decompress(strings), codec.decompress(strings))


@pytest.mark.parametrize(
    "params",
    [
        {"n_coefficients": 0},
        {"n_coefficients": 65},
        {"layout": "nchw"},
        {"entropy": "huffman"},
        {"entropy": object()},
    ],
)
def test_bad_new_parameters_are_refused(params):
    with pytest.raises(ValueError, match="parameter of JPEGCodec must be"):
        JPEGCodec(**params).fit(np.zeros((2, 8, 8)))


@pytest.mark.parametrize("layout", ["flat", "blocks", "channels_first"])
def test_symbols_of_another_shape_are_refused(layout):
    codec = JPEGCodec(n_coefficients=4, layout=layout).fit(np.zeros((2, 20, 30, 3)))
    good = codec.transform(np.zeros((2, 20, 30, 3)))
    for bad in (good[:, :-1], good[..., :-1], np.zeros((2, 79))):
        with pytest.raises(ValueError, match=r"expects symbols of shape \(n_samples, 80\)"):
            codec.inverse_transform(bad)
        with pytest.raises(ValueError, match=r"expects symbols of shape \(n_samples, 80\)"):
            codec.compress_symbols(bad)
    with pytest.raises(ValueError, match="finite integer"):
        codec.inverse_transform(np.full(good.shape, np.nan))


def test_grid_search_over_quality_and_n_coefficients_rates_real_bytes():
    from sklearn.base import clone
    from sklearn.model_selection import GridSearchCV

    from skcompress.datasets import load_mnist
    from skcompress.metrics import rate_scoring

    X, y = load_mnist(return_X_y=True)
    X, y = X[:240], y[:240]
    pipe = make_pipeline(JPEGCodec(), LogisticRegression(C=0.1, max_iter=300))
    grid = {"jpegcodec__quality": [10, 90], "jpegcodec__n_coefficients": [6, 16]}
    search = GridSearchCV(pipe, grid, cv=2, scoring=rate_scoring(), refit="accuracy").fit(X, y)
    results = search.cv_results_
    bits = dict(
        zip(
            zip(
                results["param_jpegcodec__quality"],
                results["param_jpegcodec__n_coefficients"],
                strict=True,
            ),
            -results["mean_test_neg_bits_per_sample"],
            strict=True,
        )
    )
    assert bits[10, 6] < bits[10, 16] < bits[90, 16] and bits[90, 6] < bits[90, 16]
    assert min(results["mean_test_accuracy"]) > 0.5
    assert search.best_estimator_[0].n_features_out_ in (16 * 6, 16 * 16)
    # the bits of one setting are the JPEG files of the held-out digits
    fitted = clone(pipe).set_params(jpegcodec__n_coefficients=6).fit(X[:120], y[:120])
    files = fitted[0].compress(X[120:])
    assert fitted[0].rate(X[120:])["bits_per_sample"] == np.mean([8 * len(f) for f in files])
    assert (
        clone(JPEGCodec(entropy=BlockContextModel(positional=False))).entropy.positional is False
    )


def test_pandas_output_takes_the_flat_layout_only():
    pd = pytest.importorskip("pandas")
    X = np.zeros((2, 16, 16))
    frame = JPEGCodec(n_coefficients=3).set_output(transform="pandas").fit_transform(X)
    assert isinstance(frame, pd.DataFrame) and list(frame.columns[:2]) == [
        "Y_r0_c0_k0",
        "Y_r0_c0_k1",
    ]
    with pytest.raises(ValueError, match="layout='blocks' gives"):
        JPEGCodec(layout="blocks").set_output(transform="pandas").fit_transform(X)
