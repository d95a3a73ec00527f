"""Conformance of the colour JPEG path (``jpeg_color_planes``) with libjpeg, encoder and decoder.

Encoder: every photograph is written by Pillow (libjpeg-turbo) as a baseline
colour JPEG with 4:2:0 (or 4:2:2) chroma subsampling, and jpeglib reads the
quantized coefficients of Y, Cb and Cr back from the file. Ours are
:func:`skcompress.codecs.jpeg_color_planes`: ``ColorTransform ->
ChromaSubsampler(block_size=8) -> split -> BlockDCT(level shift 128) per plane
-> PerceptualQuantizer`` (luma table for Y, chroma table for Cb and Cr).

With ``method="libjpeg"`` the planes are libjpeg's own samples (its fixed
point colour conversion and biased integer downsampling, its padding to whole
MCUs), so, as for gray images, a coefficient can only differ by one level
where ``G`` lies within libjpeg's integer DCT error of a rounding boundary,
and libjpeg's integer DCT emulated on our planes reproduces the file.
With ``method="float"`` the planes are exact and unrounded, which moves more
coefficients across a boundary at fine quantization steps.

libjpeg codes the luma blocks beyond ``ceil(H / 8) x ceil(W / 8)`` that complete
the last MCUs as dummy blocks, and jpeglib leaves them out; our luma plane
covers whole MCUs, so its block grid is cropped to the file's.

Decoder: each component of a file is re-wrapped losslessly (jpeglib) as a
grayscale JPEG that Pillow decodes: those are libjpeg's decoded planes.
``ChromaSubsampler(method="libjpeg").inverse_transform`` of them must equal
Pillow's own YCbCr decoding (fancy upsampling) bit for bit, and
``ColorTransform(method="libjpeg").inverse_transform`` its RGB decoding.
"""

import numpy as np
import pytest

from skcompress import ChromaSubsampler, ColorTransform
from skcompress.codecs import jpeg_color_planes
from skcompress.codecs._libjpeg import islow_blocks, libjpeg_quantize
from skcompress.quantization import JPEG_CHROMA, JPEG_LUMA, ijg_scale

jpeglib = pytest.importorskip("jpeglib")
Image = pytest.importorskip("PIL.Image")
skimage_data = pytest.importorskip("skimage.data")

QUALITIES = [10, 50, 75, 90]
# Pillow's subsampling argument and ours
SUBSAMPLINGS = {"4:2:0": 2, "4:2:2": 1}
PLANES = ("Y", "Cb", "Cr")
# Largest error of libjpeg's integer slow DCT, in units of its output (8 * G).
ISLOW_ERROR = 1.5


@pytest.fixture(scope="module")
def photos():
    # Top halves, for speed. chelsea: odd width; coffee: even width whose chroma
    # is not a whole number of blocks. Neither height is a whole number of MCUs.
    return {
        "chelsea": skimage_data.chelsea()[:150],
        "coffee": skimage_data.coffee()[:200],
    }


def encode_ours(rgb, quality, subsampling, method):
    """Unrounded ``G``, quantized ``B`` ``(h, w, 64)``, steps and samples, per plane."""
    planes = jpeg_color_planes(
        rgb[np.newaxis], quality, subsampling=subsampling, method=method, order="natural"
    )
    return [
        (G[0], B[0].astype(np.int64), q.steps_, samples[0])
        for G, B, q, samples in zip(
            planes.coefficients,
            planes.symbols,
            planes.steps.quantizers,
            planes.samples,
            strict=True,
        )
    ]


def encode_libjpeg(rgb, quality, subsampling, path):
    Image.fromarray(rgb).save(path, quality=quality, subsampling=SUBSAMPLINGS[subsampling])
    return jpeglib.read_dct(str(path))


@pytest.fixture(scope="module")
def compared(photos, tmp_path_factory):
    """``get(subsampling, quality, method)``: per plane pooled ``G``, ``B``, file ``R``, steps,
    and libjpeg's quantized integer DCT of our planes."""
    cache = {}
    directory = tmp_path_factory.mktemp("colour")

    def get(subsampling, quality, method):
        key = subsampling, quality, method
        if key not in cache:
            pooled = {plane: [] for plane in PLANES}
            for name, rgb in photos.items():
                jpeg = encode_libjpeg(rgb, quality, subsampling, directory / f"{name}.jpg")
                ours = encode_ours(rgb, quality, subsampling, method)
                for plane, (G, B, steps, samples) in zip(PLANES, ours, strict=True):
                    R = getattr(jpeg, plane)
                    h, w = R.shape[:2]
                    t = islow_blocks(samples[np.newaxis, : 8 * h, : 8 * w].astype(np.int64))[0]
                    emulated = libjpeg_quantize(t, steps.reshape(8, 8)).reshape(h, w, 64)
                    pooled[plane].append(
                        (G[:h, :w], B[:h, :w], R.reshape(h, w, 64), steps, emulated)
                    )
            cache[key] = {
                plane: (
                    np.concatenate([G.reshape(-1, 64) for G, *_ in parts]),
                    np.concatenate([B.reshape(-1, 64) for _, B, *_ in parts]),
                    np.concatenate([R.reshape(-1, 64) for _, _, R, *_ in parts]).astype(np.int64),
                    parts[0][3],
                    np.concatenate([E.reshape(-1, 64) for *_, E in parts]),
                )
                for plane, parts in pooled.items()
            }
        return cache[key]

    return get


@pytest.mark.parametrize("subsampling", list(SUBSAMPLINGS))
def test_file_layout_and_tables_match_ours(photos, tmp_path, subsampling):
    rgb = photos["coffee"]
    jpeg = encode_libjpeg(rgb, 75, subsampling, tmp_path / "coffee.jpg")
    factors = {"4:2:0": [2, 2], "4:2:2": [1, 2]}[subsampling]  # (vertical, horizontal)
    np.testing.assert_array_equal(jpeg.samp_factor, [factors, [1, 1], [1, 1]])
    ours = encode_ours(rgb, 75, subsampling, "libjpeg")
    for plane, (_, B, steps, _), base in zip(
        PLANES, ours, (JPEG_LUMA, JPEG_CHROMA, JPEG_CHROMA), strict=True
    ):
        R = getattr(jpeg, plane)
        table = jpeg.qt[jpeg.quant_tbl_no[PLANES.index(plane)]]
        np.testing.assert_array_equal(steps, ijg_scale(base, 75).reshape(64))
        np.testing.assert_array_equal(table.reshape(64), steps)
        if plane == "Y":  # ours covers whole MCUs, the file's only the image
            assert all(
                0 <= o - r < f for o, r, f in zip(B.shape[:2], R.shape[:2], factors, strict=True)
            )
        else:
            assert B.shape[:2] == R.shape[:2]


@pytest.mark.parametrize("subsampling", list(SUBSAMPLINGS))
@pytest.mark.parametrize("quality", QUALITIES)
@pytest.mark.parametrize("plane", PLANES)
def test_libjpeg_method_matches_file(compared, subsampling, quality, plane):
    G, B, R, steps, emulated = compared(subsampling, quality, "libjpeg")[plane]
    differ = B != R
    assert 1 - differ.mean() >= 0.99
    assert np.abs(B - R).max() <= 1
    # every difference crosses a rounding boundary within libjpeg's DCT error of G
    boundary = (B + R) / 2 * steps
    assert np.all(np.abs(G - boundary)[differ] <= ISLOW_ERROR / 8)
    # our planes are libjpeg's samples: its integer DCT on them gives the file
    np.testing.assert_array_equal(emulated, R)


@pytest.mark.parametrize("quality", QUALITIES)
@pytest.mark.parametrize("plane", PLANES)
def test_float_method_is_close_to_file(compared, quality, plane):
    _, B, R, _, _ = compared("4:2:0", quality, "float")[plane]
    identical = (B == R).mean()
    assert identical >= 0.96
    # unrounded planes move G by up to 8 * 0.5 from libjpeg's: two levels at small steps
    assert np.abs(B - R).max() <= 2
    _, B_libjpeg, *_ = compared("4:2:0", quality, "libjpeg")[plane]
    assert (B_libjpeg == R).mean() >= identical


def test_libjpeg_colour_conversion_is_libjpeg_on_flat_blocks(tmp_path):
    # At quality 100 (all steps 1) a flat 8x8 block has DC = 8 * (value - 128) exactly.
    rgb = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    rgb[0, :5] = [[0, 0, 0], [255, 255, 255], [255, 0, 0], [0, 255, 0], [0, 0, 255]]
    image = rgb.repeat(8, axis=0).repeat(8, axis=1)
    path = tmp_path / "flat.jpg"
    Image.fromarray(image).save(path, quality=100, subsampling=0)
    jpeg = jpeglib.read_dct(str(path))
    assert np.all(jpeg.qt == 1)
    file_ycc = np.stack([getattr(jpeg, p)[..., 0, 0] / 8 + 128 for p in PLANES], axis=-1)
    ours = ColorTransform(method="libjpeg", layout="blocks").fit_transform(rgb[np.newaxis])
    np.testing.assert_array_equal(ours[0], file_ycc)


def _decoded_planes(path, directory):
    """libjpeg's decoded Y, Cb, Cr: each component re-wrapped as a gray JPEG."""
    jpeg = jpeglib.read_dct(str(path))
    planes = []
    for i, plane in enumerate(PLANES):
        table = jpeg.qt[jpeg.quant_tbl_no[i]]
        gray = jpeglib.from_dct(Y=getattr(jpeg, plane).copy(), qt=table[np.newaxis].copy())
        gray.write_dct(str(directory / f"{plane}.jpg"))
        planes.append(np.asarray(Image.open(directory / f"{plane}.jpg"), dtype=np.float64))
    return planes


@pytest.mark.parametrize("subsampling", list(SUBSAMPLINGS))
@pytest.mark.parametrize("size", [(101, 77), (100, 78), (9, 3), (4, 4)])
def test_decoder_matches_pillow(photos, tmp_path, subsampling, size):
    rgb = np.ascontiguousarray(photos["coffee"][: size[0], : size[1]])
    path = tmp_path / "image.jpg"
    Image.fromarray(rgb).save(path, quality=75, subsampling=SUBSAMPLINGS[subsampling])
    Y, Cb, Cr = _decoded_planes(path, tmp_path)
    with Image.open(path) as image:
        image.draft("YCbCr", None)  # decode without the colour conversion
        pillow_ycc = np.asarray(image)
    pillow_rgb = np.asarray(Image.open(path))

    fitted_on = np.zeros((1, *size, 3))
    for method in ("libjpeg", "float"):
        sub = ChromaSubsampler(subsampling, method=method).fit(fitted_on)
        (h, w), (a, b) = sub.grid_shape_, (2 if subsampling == "4:2:0" else 1, 2)
        Xt = sub.merge(Y[np.newaxis, : a * h, : b * w], Cb[None, :h, :w], Cr[None, :h, :w])
        ycc = sub.inverse_transform(Xt)
        if method == "libjpeg":
            np.testing.assert_array_equal(ycc[0], pillow_ycc)
            back = ColorTransform(method="libjpeg", layout="blocks").fit(ycc)
            np.testing.assert_array_equal(back.inverse_transform(ycc)[0], pillow_rgb)
        else:  # the exact filter, before libjpeg's rounding
            assert np.abs(ycc[0] - pillow_ycc).max() < 1
