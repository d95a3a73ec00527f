"""Augmentation on JPEG coefficients against the same operation on pixels, then our encoder.

Flips, rotations, transposition, block-aligned crops and exact brightness shifts must give
the symbols of the operated pixels encoded by ``JPEGCodec(dct="float")`` bit for bit;
resizing, contrast and inexact brightness shifts stay within their documented bounds.
"""

import io

import numpy as np
import pytest
from PIL import Image
from scipy.fft import dctn, idctn

from skcompress._core._basis import zigzag_order
from skcompress.codecs import JPEGCodec
from skcompress.datasets import load_photographs
from skcompress.io import (
    adjust_brightness,
    adjust_contrast,
    crop_blocks,
    downsample2x,
    flip_horizontal,
    flip_vertical,
    random_crop,
    random_flip,
    read_jpeg_coefficients,
    rotate90,
    transpose,
    upsample2x,
    write_jpeg_coefficients,
)
from skcompress.io._augment import _resize_bound
from skcompress.metrics import psnr
from skcompress.quantization import JPEG_CHROMA, JPEG_LUMA

ZIGZAG = zigzag_order(8)
TRANSPOSED = np.stack([JPEG_LUMA.T, JPEG_CHROMA.T])
SIZES = [(64, 64), (58, 46)]  # whole MCUs; partial blocks and partial 4:2:0 MCUs
MCU = {"gray": (8, 8), "4:4:4": (8, 8), "4:2:0": (16, 16), "4:2:2": (8, 16)}

GEOMETRY = {
    "flip_horizontal": flip_horizontal,
    "flip_vertical": flip_vertical,
    "rotate90": rotate90,
    "rotate180": lambda x: rotate90(x, 2),
    "rotate270": lambda x: rotate90(x, -1),
    "transpose": transpose,
}
TRANSPOSING = ("rotate90", "rotate270", "transpose")
INVERSE = {"rotate90": lambda x: rotate90(x, -1), "rotate270": rotate90, "transpose": transpose}


@pytest.fixture(scope="module")
def photos():
    return {
        "gray": load_photographs(size=64, include_skimage=False).images,
        "color": load_photographs(size=64, color=True, include_skimage=False).images,
    }


def _images(photos, kind, size):
    images = photos["gray" if kind == "gray" else "color"]
    return np.ascontiguousarray(images[:, : size[0], : size[1]])


def _on_pixels(X, name, mcu):
    """The operation on images ``(n, H, W[, 3])``, trimmed as the coefficients are."""
    H, W = X.shape[1:3]
    h, w = H // mcu[0] * mcu[0], W // mcu[1] * mcu[1]
    out = {
        "flip_horizontal": lambda: X[:, :, :w][:, :, ::-1],
        "flip_vertical": lambda: X[:, :h][:, ::-1],
        "rotate90": lambda: np.rot90(X[:, :, :w], 1, axes=(1, 2)),
        "rotate180": lambda: np.rot90(X[:, :h, :w], 2, axes=(1, 2)),
        "rotate270": lambda: np.rot90(X[:, :h], 3, axes=(1, 2)),
        "transpose": lambda: np.swapaxes(X, 1, 2),
    }[name]()
    return np.ascontiguousarray(out)


def _blocks(X, quality=75, **kwargs):
    codec = JPEGCodec(quality, subsampling="4:4:4", layout="blocks", **kwargs).fit(X)
    return codec, codec.transform(X)


def _files(X, subsampling, quality=75, **kwargs):
    subsampling = "4:4:4" if subsampling == "gray" else subsampling
    codec = JPEGCodec(quality, subsampling=subsampling, **kwargs).fit(X)
    return [read_jpeg_coefficients(f) for f in codec.compress(X)]


def _round(x):
    return np.copysign(np.floor(np.abs(x) + 0.5), x)


def _max_difference(a, b):
    assert [x.shape for x in a.coefficients] == [y.shape for y in b.coefficients]
    pairs = zip(a.coefficients, b.coefficients, strict=True)
    return max(int(np.abs(x - y).max()) for x, y in pairs)


# -- flips, rotations, transposition -------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("kind", ["gray", "4:4:4"])
@pytest.mark.parametrize("name", GEOMETRY)
def test_geometry_is_exact_on_batches(photos, name, kind, size):
    X = _images(photos, kind, size)
    tables = TRANSPOSED if name in TRANSPOSING else None
    _, S = _blocks(X)
    out = GEOMETRY[name](S)
    Y = _on_pixels(X, name, MCU[kind])
    _, P = _blocks(Y, tables=tables)
    assert out.structure.image_shape == Y.shape[1:3]
    assert out.structure.layout == "blocks" and out.dtype == S.dtype
    np.testing.assert_array_equal(np.asarray(out), np.asarray(P))
    # plain arrays of whole blocks: the same, without the structure
    if size == (64, 64):
        plain = GEOMETRY[name](np.asarray(S))
        assert type(plain) is np.ndarray
        np.testing.assert_array_equal(plain, np.asarray(P))


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("subsampling", ["4:2:0", "4:2:2"])
@pytest.mark.parametrize("name", GEOMETRY)
def test_geometry_is_exact_on_subsampled_files(photos, name, subsampling, size):
    X = _images(photos, "color", size)
    jpegs = _files(X, subsampling)
    outs = [GEOMETRY[name](j) for j in jpegs]
    Y = _on_pixels(X, name, MCU[subsampling])
    assert all(o.shape == Y.shape[1:3] for o in outs)
    if name in TRANSPOSING:
        for j, o in zip(jpegs, outs, strict=True):  # 4:2:2 turns 4:4:0, tables transposed
            np.testing.assert_array_equal(o.sampling_factors, j.sampling_factors[:, ::-1])
            np.testing.assert_array_equal(
                o.quantization_tables, j.quantization_tables.transpose(0, 2, 1)
            )
        if subsampling == "4:2:2":  # JPEGCodec does not encode 4:4:0: turn back instead
            for j, o in zip(jpegs, outs, strict=True):
                back = INVERSE[name](o)
                assert _max_difference(back, _keep(j, back.shape)) == 0
            return
    expected = _files(Y, subsampling, tables=TRANSPOSED if name in TRANSPOSING else None)
    for o, e in zip(outs, expected, strict=True):
        if name in TRANSPOSING and size != (64, 64):
            # libjpeg pads a component's right edge before subsampling, its bottom edge
            # after: the padding of the last chroma blocks (outside the image) is not
            # transposed by the encoder; everything else is
            for c in (1, 2):
                o.coefficients[c] = o.coefficients[c][:-1, :-1]
                e.coefficients[c] = e.coefficients[c][:-1, :-1]
        assert _max_difference(o, e) == 0


def _keep(jpeg, shape):
    """``jpeg`` cut to the top left ``shape`` pixels, whole MCUs (a crop from 0, 0)."""
    mcu = 8 * jpeg.sampling_factors.max(axis=0)
    return crop_blocks(jpeg, 0, 0, -(-shape[0] // mcu[0]), -(-shape[1] // mcu[1]))


def test_islow_is_symmetric_to_one_level(photos):
    """libjpeg's integer DCT is not exactly symmetric: within one level, rarely."""
    for kind in ("gray", "4:4:4"):
        X = _images(photos, kind, (64, 64))
        _, S = _blocks(X, dct="islow")
        for name in GEOMETRY:
            tables = TRANSPOSED if name in TRANSPOSING else None
            _, P = _blocks(_on_pixels(X, name, (8, 8)), dct="islow", tables=tables)
            difference = np.abs(np.asarray(GEOMETRY[name](S)) - np.asarray(P))
            assert difference.max() <= 1 and (difference > 0).mean() < 1e-2


def _pillow_file(image, subsampling, quality=80):
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "JPEG", quality=quality, subsampling=subsampling)
    return buffer.getvalue()


def _decode(data):
    return np.asarray(Image.open(io.BytesIO(data))).astype(int)


@pytest.mark.parametrize("size", [(64, 64), (58, 46)])
@pytest.mark.parametrize("kind", ["gray", "4:4:4", "4:2:2", "4:2:0"])
def test_written_files_decode_to_the_operated_image(photos, kind, size):
    """Pillow's decode of the written result is the operated Pillow decode of the input:
    identical for vertical flips; libjpeg's integer IDCT and its "fancy" chroma upsampling
    are not exactly mirror-symmetric (1 level, gray; 3, colour), and the chroma upsampling
    reads the neighbours that a trim drops (2 pixels at a cut edge)."""
    image = _images(photos, kind, size)[0]
    data = _pillow_file(image, {"4:2:2": 1, "4:2:0": 2}.get(kind, 0))
    jpeg = read_jpeg_coefficients(data)
    decoded = _decode(data)[None]
    for name, operation in GEOMETRY.items():
        result = operation(jpeg)
        written = write_jpeg_coefficients(result)
        assert Image.open(io.BytesIO(written)).size == result.shape[::-1]
        difference = np.abs(_decode(written) - _on_pixels(decoded, name, MCU[kind])[0])
        if difference.ndim == 3:
            difference = difference.max(axis=2)
        if kind in ("4:2:0", "4:2:2"):
            difference = difference[2:-2, 2:-2]
        if name == "flip_vertical":
            assert difference.max() == 0
        else:
            assert difference.max() <= (1 if kind == "gray" else 3)


def test_n_coefficients_and_layouts(photos):
    X = _images(photos, "gray", (64, 64))
    for k in (10, 21):
        for layout in ("flat", "channels_first"):
            codec = JPEGCodec(75, layout=layout, n_coefficients=k).fit(X)
            Y = _on_pixels(X, "rotate90", (8, 8))
            expected = JPEGCodec(75, layout=layout, n_coefficients=k, tables=TRANSPOSED)
            out = rotate90(codec.transform(X))
            assert out.structure.layout == layout
            np.testing.assert_array_equal(out, expected.fit(Y).transform(Y))
    _, S = _blocks(X, n_coefficients=8)
    np.testing.assert_array_equal(
        flip_vertical(S), _blocks(X[:, ::-1].copy(), n_coefficients=8)[1]
    )
    with pytest.raises(ValueError, match="k=8 .*anti-diagonals"):
        transpose(S)


# -- crops ----------------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
def test_crop_blocks_is_exact(photos, size):
    for kind in ("gray", "4:4:4"):
        X = _images(photos, kind, size)
        _, S = _blocks(X)
        rows, cols = S.shape[1:3]
        for top, left, height, width in [(1, 2, 3, 2), (2, 1, rows - 2, cols - 1)]:
            out = crop_blocks(S, top, left, height, width)
            Y = X[:, 8 * top : 8 * (top + height), 8 * left : 8 * (left + width)]
            assert out.structure.image_shape == Y.shape[1:3]
            np.testing.assert_array_equal(out, _blocks(np.ascontiguousarray(Y))[1])
    X = _images(photos, "color", size)
    for top, left, height, width in [(1, 0, 2, 1), (1, 1, 3, 2)]:  # 4:2:0: MCUs of 16
        Y = X[:, 16 * top : 16 * (top + height), 16 * left : 16 * (left + width)]
        for j, e in zip(_files(X, "4:2:0"), _files(np.ascontiguousarray(Y), "4:2:0"), strict=True):
            out = crop_blocks(j, top, left, height, width)
            assert out.shape == Y.shape[1:3] and _max_difference(out, e) == 0


def test_random_crop(photos):
    X = np.concatenate([_images(photos, "gray", (58, 46))] * 8)  # 16 images, 7 x 5 whole
    _, S = _blocks(X)
    out = random_crop(S, (3, 2), random_state=0)
    assert out.shape == (16, 3, 2, 64) and out.structure.image_shape == (24, 16)
    np.testing.assert_array_equal(out, random_crop(S, (3, 2), random_state=0))
    places = set()
    for i in range(len(X)):  # each crop is a crop of its own image, whole blocks only
        found = [
            (top, left)
            for top in range(5)
            for left in range(4)
            if np.array_equal(out[i], S[i, top : top + 3, left : left + 2])
        ]
        assert found
        places.add(found[0])
    assert len(places) > 4
    # a file: 4:2:0, in MCUs, with the generator given
    jpeg = _files(_images(photos, "color", (58, 46)), "4:2:0")[0]
    crop = random_crop(jpeg, 2, random_state=np.random.default_rng(1))
    assert crop.shape == (32, 32) and [c.shape[:2] for c in crop.coefficients] == [
        (4, 4),
        (2, 2),
        (2, 2),
    ]
    assert len(write_jpeg_coefficients(crop)) > 0


def test_random_flip(photos):
    X = np.concatenate([_images(photos, "4:4:4", (58, 46))] * 10)
    _, S = _blocks(X)
    out = random_flip(S, horizontal=0.5, vertical=0.5, random_state=3)
    trimmed = S[:, :7, :5]
    assert out.shape == trimmed.shape and out.structure.image_shape == (56, 40)
    trimmed = np.asarray(trimmed)  # whole blocks
    candidates = [trimmed, flip_horizontal(trimmed), flip_vertical(trimmed), rotate90(trimmed, 2)]
    drawn = [[np.array_equal(out[i], c[i]) for c in candidates].index(True) for i in range(len(X))]
    assert set(drawn) == {0, 1, 2, 3}
    np.testing.assert_array_equal(random_flip(S, horizontal=1.0), flip_horizontal(S))
    unchanged = random_flip(S, horizontal=0.0)
    assert np.array_equal(unchanged, S) and not np.shares_memory(unchanged, S)


# -- 2x resizing ----------------------------------------------------------------------------


def _planes(symbols, table):
    """Dequantized, orthonormal inverse DCT, no rounding: ``(n, 8 rows, 8 cols)``."""
    n, rows, cols, k = symbols.shape
    natural = np.zeros((n, rows, cols, 64))
    natural[..., ZIGZAG[:k]] = symbols * table.reshape(64)[ZIGZAG[:k]]
    blocks = idctn(natural.reshape(n, rows, cols, 8, 8), axes=(3, 4), norm="ortho")
    return blocks.transpose(0, 1, 3, 2, 4).reshape(n, 8 * rows, 8 * cols)


def _unrounded(planes, table, grid):
    """The quotients ``DCT / Q`` of ``planes``' first ``grid`` blocks, zig-zag order."""
    n = len(planes)
    rows, cols = grid
    blocks = planes[:, : 8 * rows, : 8 * cols].reshape(n, rows, 8, cols, 8)
    coefficients = dctn(blocks.transpose(0, 1, 3, 2, 4), axes=(3, 4), norm="ortho")
    return (coefficients.reshape(n, rows, cols, 64) / table.reshape(64))[..., ZIGZAG]


def _assert_rounds_to(symbols, exact):
    """``symbols`` is ``exact`` rounded, where ``exact`` is not within float noise of a tie."""
    assert np.abs(symbols - exact).max() <= 0.5 + 1e-6
    clear = np.abs(np.abs(exact) % 1 - 0.5) > 1e-6
    np.testing.assert_array_equal(symbols[clear], _round(exact)[clear])


def _mean2(planes):
    return (planes[:, 0::2, 0::2] + planes[:, 1::2, 0::2] + planes[:, 0::2, 1::2] +
            planes[:, 1::2, 1::2]) / 4  # fmt: skip


@pytest.mark.parametrize("size", [(64, 64), (58, 46)])
def test_resizing_is_exact_on_the_decoded_image(photos, size):
    """Per component plane: 2x2 means / pixel repetition of the unrounded decode, encoded."""
    jpeg = _files(_images(photos, "color", size), "4:2:0")[0]
    down, up = downsample2x(jpeg), upsample2x(jpeg)
    assert down.shape == ((16, 16) if size == (58, 46) else (32, 32))
    assert up.shape == (2 * size[0], 2 * size[1])
    for c, symbols in enumerate(jpeg.coefficients):
        table = jpeg.quantization_tables[c]
        planes = _planes(symbols[None], table)
        grid = down.coefficients[c].shape[:2]
        _assert_rounds_to(down.coefficients[c], _unrounded(_mean2(planes), table, grid)[0])
        doubled = planes.repeat(2, axis=1).repeat(2, axis=2)
        grid = up.coefficients[c].shape[:2]
        _assert_rounds_to(up.coefficients[c], _unrounded(doubled, table, grid)[0])
    for result in (down, up):
        data = write_jpeg_coefficients(result)
        assert Image.open(io.BytesIO(data)).size == result.shape[::-1]


def _within_bound(out, expected, tables, direction):
    difference = np.abs(np.asarray(out) - np.asarray(expected))
    difference = difference if difference.ndim == 5 else difference[:, :, :, None]
    for c, table in enumerate(tables):
        assert (difference[..., c, :] <= _resize_bound(table, direction)).all()
    return int(difference.max())


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("kind", ["gray", "4:4:4"])
def test_resizing_against_the_pixel_route(photos, kind, size):
    X = _images(photos, kind, size).astype(float)
    codec, S = _blocks(X)
    tables = codec.quantization_tables_
    down = downsample2x(S, quantization_tables=tables)
    h, w = down.structure.image_shape
    assert (h, w) == ((32, 32) if size == (64, 64) else (24, 16))
    target = _mean2(X[:, : 2 * h, : 2 * w])
    small, P = _blocks(target)
    assert _within_bound(down, P, tables, "down") <= 1  # measured: 1
    ours, theirs = small.inverse_transform(down), small.inverse_transform(P)
    assert psnr(theirs, ours, data_range=255).min() > 30
    assert (psnr(target, theirs, data_range=255) - psnr(target, ours, data_range=255)).max() < 0.5

    up = upsample2x(S, quantization_tables=tables)
    target = X.repeat(2, axis=1).repeat(2, axis=2)
    assert up.structure.image_shape == target.shape[1:3]
    large, P = _blocks(target)
    assert _within_bound(up, P, tables, "up") <= 10  # measured: 7 (bound 16)
    # as close to the input's decode, repeated, as that decode re-encoded is (within 0.1 dB)
    decoded = codec.inverse_transform(S).repeat(2, axis=1).repeat(2, axis=2)
    again = large.inverse_transform(large.transform(decoded))
    ours = large.inverse_transform(up)
    gap = psnr(decoded, again, data_range=255) - psnr(decoded, ours, data_range=255)
    assert gap.max() < 0.1


def test_resizing_4_2_0_files_against_the_pixel_route(photos):
    X = _images(photos, "color", (64, 64)).astype(float)
    target = _mean2(X)
    for jpeg, expected in zip(_files(X, "4:2:0"), _files(target, "4:2:0"), strict=True):
        out = downsample2x(jpeg)
        for c in range(3):
            difference = np.abs(out.coefficients[c] - expected.coefficients[c])
            assert (difference <= _resize_bound(jpeg.quantization_tables[c], "down")).all()
            assert difference.max() <= 1


def test_resize_bounds():
    table = np.full((8, 8), 10)
    down, up = _resize_bound(table, "down"), _resize_bound(table, "up")
    assert down[0] == 1  # the new DC is the mean of 4 DCs: one level at most
    assert (down >= 1).all()
    # repeated pairs of samples have no frequency 4 (cos(pi (2 i + 1) / 4) cancels in pairs):
    # those symbols are 0 on both routes
    u, v = np.divmod(ZIGZAG, 8)
    np.testing.assert_array_equal(up == 0, (u == 4) | (v == 4))


# -- brightness and contrast ----------------------------------------------------------------


@pytest.mark.parametrize("subsampling", ["gray", "4:4:4", "4:2:0"])
def test_brightness(photos, subsampling):
    X = _images(photos, "gray" if subsampling == "gray" else "color", (58, 46))
    for quality in (50, 75):  # DC steps 16 and 8
        jpegs = _files(X, subsampling, quality)
        step = int(jpegs[0].quantization_tables[0, 0, 0])
        for delta in (-16, 4, 5, 2.5):
            expected = _files(X.astype(float) + delta, subsampling, quality)
            exact = (8 * delta / step) % 1 == 0
            for j, e in zip(jpegs, expected, strict=True):
                out = adjust_brightness(j, delta)
                assert _max_difference(out, e) <= (0 if exact else 1)
                for c, (a, b) in enumerate(zip(out.coefficients, e.coefficients, strict=True)):
                    np.testing.assert_array_equal(a[..., 1:], b[..., 1:])  # AC untouched
                    if c:  # chroma DC too
                        np.testing.assert_array_equal(a, b)
    # a batch, with the tables given
    codec, S = _blocks(_images(photos, "4:4:4", (64, 64)))
    out = adjust_brightness(S, 8, quantization_tables=codec.quantization_tables_)
    Y = _images(photos, "4:4:4", (64, 64)).astype(float) + 8
    np.testing.assert_array_equal(out, _blocks(Y)[1])


@pytest.mark.parametrize("factor", [0.5, 1.5, 3.0])
def test_contrast_within_the_bound(photos, factor):
    X = _images(photos, "color", (58, 46)).astype(float)
    Y = 128 + factor * (X - 128)
    bound = int(np.ceil(factor / 2))
    for subsampling in ("4:4:4", "4:2:0"):
        for j, e in zip(_files(X, subsampling), _files(Y, subsampling), strict=True):
            assert _max_difference(adjust_contrast(j, factor), e) <= bound
    _, S = _blocks(X[..., 0])
    assert np.array_equal(adjust_contrast(S, 1.0), S)
    assert not np.asarray(adjust_contrast(S, 0)).any()


# -- inputs, forms and errors ---------------------------------------------------------------


def test_inputs_are_left_alone_and_forms_kept(photos):
    jpeg = _files(_images(photos, "color", (58, 46)), "4:2:0")[0]
    before = [c.copy() for c in jpeg.coefficients]
    for operation in GEOMETRY.values():
        out = operation(jpeg)
        assert set(out) == set(jpeg) and out.color_space == "YCbCr"
        assert not any(np.shares_memory(a, b) for a in out.coefficients for b in jpeg.coefficients)
    for operation in (downsample2x, upsample2x):
        operation(jpeg)
    adjust_brightness(jpeg, 10)
    adjust_contrast(jpeg, 0.5)
    crop_blocks(jpeg, 0, 0, 1, 1)
    assert all(np.array_equal(a, b) for a, b in zip(before, jpeg.coefficients, strict=True))
    assert jpeg.shape == (58, 46)
    # RGB-coded files: brightness on every component
    rgb = dict(jpeg, color_space="RGB", quantization_tables=np.full((3, 8, 8), 8))
    shifted = adjust_brightness(rgb, 2)
    for a, b in zip(shifted.coefficients, before, strict=True):
        assert (a[..., 0] - b[..., 0] == 2).all()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda S: rotate90(S, 1.5), "k must be an integer"),
        (lambda S: crop_blocks(S, -1, 0, 1, 1), "top must be an integer from 0 to 7"),
        (lambda S: crop_blocks(S, 0, 0, 1, 9), "width must be an integer from 1 to 8"),
        (lambda S: crop_blocks(S, 6, 0, 3, 1), "height must be an integer from 1 to 2"),
        (lambda S: random_crop(S, 9), "size must be whole minimum coded units"),
        (lambda S: random_crop(S, (0, 2)), "size must be whole"),
        (lambda S: random_crop(S, (1, 2, 3)), "size must be an int or two ints"),
        (lambda S: random_crop(S, 2, random_state="a"), "random_state must be"),
        (lambda S: random_flip(S, horizontal=1.5), "horizontal must be a probability"),
        (lambda S: random_flip(S, vertical=-0.1), "vertical must be a probability"),
        (lambda S: adjust_brightness(S, 300, quantization_tables=np.ones((8, 8))), "delta"),
        (lambda S: adjust_brightness(S, float("nan")), "delta must be"),
        (lambda S: adjust_brightness(S, 4), "pass quantization_tables"),
        (lambda S: adjust_contrast(S, -1), "factor must be a finite number, at least 0"),
        (lambda S: adjust_contrast(S, float("inf")), "factor must be"),
        (lambda S: downsample2x(S), "pass quantization_tables"),
        (lambda S: upsample2x(S, quantization_tables=np.ones((4, 4))), "quantization_tables"),
        (lambda S: downsample2x(S, quantization_tables=-np.ones((8, 8))), "positive steps"),
        (lambda S: flip_horizontal(S[:, :, :, :0]), "1 to 64 coefficients"),
        (lambda S: flip_horizontal(S[0]), r"\(n, rows, cols, k\)"),
        (lambda S: flip_horizontal(S.tolist()), "must be read_jpeg_coefficients' result"),
        (lambda S: adjust_contrast(S + 0.5, 2), "not integers"),
    ],
)
def test_bad_parameters_are_named(photos, call, message):
    _, S = _blocks(_images(photos, "gray", (64, 64)))
    with pytest.raises((ValueError, TypeError), match=message):
        call(np.asarray(S))


def test_bad_inputs(photos):
    tiny = _files(_images(photos, "color", (12, 40)), "4:2:0")[0]  # below one 16-pixel MCU
    with pytest.raises(ValueError, match="12 pixels high, less than one minimum coded unit"):
        flip_vertical(tiny)
    assert flip_horizontal(tiny).shape == (12, 32)
    assert transpose(tiny).shape == (40, 12)  # nothing to trim
    with pytest.raises(ValueError, match="needs 2 whole minimum coded units"):
        downsample2x(_files(_images(photos, "color", (24, 40)), "4:2:0")[0])
    with pytest.raises(ValueError, match="quantization_tables is for batches"):
        adjust_brightness(tiny, 2, quantization_tables=np.ones((8, 8)))
    with pytest.raises(ValueError, match="lacks the fields"):
        flip_horizontal({"coefficients": tiny.coefficients})
    with pytest.raises(ValueError, match="has blocks of shape"):
        flip_horizontal(dict(tiny, shape=(30, 40)))
    with pytest.raises(TypeError, match="signed integers or floats"):
        flip_horizontal(np.zeros((1, 2, 2, 64), dtype=np.uint8))
    codec = JPEGCodec(75, layout="blocks").fit(_images(photos, "color", (32, 32)))
    with pytest.raises(ValueError, match="on one block grid"):  # 4:2:0 MCU layout
        flip_horizontal(codec.transform(_images(photos, "color", (32, 32))))


@pytest.mark.parametrize("dtype", [np.int16, np.int32, np.float32, np.float64])
def test_the_datasets_dict_form_in_every_dtype(photos, dtype):
    # JPEGDataset passes a plain dict of planes in the items' dtype; its fast path must give
    # what the Bunch of int32 symbols gives, in new arrays
    jpeg = _files(_images(photos, "color", (58, 46)), "4:2:0")[0]
    item = {
        "coefficients": [c.astype(dtype) for c in jpeg.coefficients],
        "quantization_tables": jpeg.quantization_tables,
        "sampling_factors": jpeg.sampling_factors,
        "shape": jpeg.shape,
        "components": jpeg.components,
        "color_space": jpeg.color_space,
    }
    before = [c.copy() for c in item["coefficients"]]
    for name, call in {
        "flip_horizontal": flip_horizontal,
        "flip_vertical": flip_vertical,
        "crop_blocks": lambda x: crop_blocks(x, 1, 0, 2, 2),
    }.items():
        ours, reference = call(item), call(jpeg)
        assert ours.shape == reference.shape and set(ours) == set(item), name
        for a, b in zip(ours.coefficients, reference.coefficients, strict=True):
            assert a.dtype == dtype and a.flags.c_contiguous
            np.testing.assert_array_equal(a, b.astype(dtype))
        np.testing.assert_array_equal(ours.quantization_tables, jpeg.quantization_tables)
        assert ours.quantization_tables is not jpeg.quantization_tables
        for a in ours.coefficients:
            a[...] = 7  # the result shares no memory with the input
    for a, b in zip(item["coefficients"], before, strict=True):
        np.testing.assert_array_equal(a, b)


def test_malformed_steps_and_components_are_refused(photos):
    jpeg = _files(_images(photos, "gray", (16, 16)), "gray")[0]
    steps = np.ones((1, 8, 8))
    for bad in (np.zeros((1, 8, 8), np.uint16), steps * np.nan, steps * np.inf, -steps):
        with pytest.raises(ValueError, match="must be positive steps of shape"):
            flip_horizontal(dict(jpeg, quantization_tables=bad))
    with pytest.raises(ValueError, match="sampling_factors .* do not match"):
        flip_horizontal(dict(jpeg, sampling_factors=np.zeros((1, 2), int)))
    with pytest.raises(ValueError, match="needs at least one component"):
        flip_horizontal(np.zeros((1, 2, 2, 0, 64), np.int32))
