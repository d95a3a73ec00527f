"""Structure flows between steps: what a step emits, the next one reads, or refuses.

The issue's cases, each as a new user would write it with default settings:
a quantizer after a transform that kept 16 coefficients, or that emits
channels-first blocks; torch's channels-first images; the colour chain of
JPEG, whose output must be libjpeg's own coefficients.
"""

import io
import pickle

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.utils import check_array

from skcompress import BlockDCT, ChromaSubsampler, ColorTransform, PerceptualQuantizer
from skcompress._core._structure import (
    StructuredArray,
    image_structure,
    structure_of,
    with_structure,
)
from skcompress.quantization import JPEG_CHROMA, JPEG_LUMA, ijg_scale

RNG = np.random.default_rng(0)
GRAY = RNG.integers(0, 256, size=(4, 28, 28), dtype=np.uint8)
COLOUR = RNG.integers(0, 256, size=(3, 33, 50, 3), dtype=np.uint8)
FACTORS = {"4:4:4": (1, 1), "4:2:2": (1, 2), "4:2:0": (2, 2)}


# -- the array ---------------------------------------------------------------


def _structured():
    structure = image_structure("ColorTransform", (4, 6, 3), ("Y", "Cb", "Cr"), "flat")
    return with_structure(np.arange(5 * 72, dtype=float).reshape(5, 72), structure), structure


def test_structure_survives_rows_values_and_pickling():
    X, structure = _structured()
    assert isinstance(X, StructuredArray)
    assert structure_of(X[1:3]) is structure
    assert structure_of(X * 2) is structure
    assert pickle.loads(pickle.dumps(X)).structure == structure


def test_structure_is_dropped_where_the_shape_changes():
    X, _ = _structured()
    assert structure_of(X[:, :10]) is None
    assert structure_of(np.concatenate([X, X], axis=1)) is None
    assert type(X.sum(axis=0)) is np.ndarray
    assert type(X.sum()) is np.float64
    # scikit-learn's estimators see plain arrays
    assert type(check_array(X)) is np.ndarray
    assert type(np.asarray(X)) is np.ndarray


def test_blocks_flattened_read_as_flat():
    G = BlockDCT(layout="blocks").fit_transform(GRAY)
    flat = structure_of(G.reshape(len(G), -1))
    assert flat is not None and flat.layout == "flat"


def test_chunks_keep_the_structure():
    G = BlockDCT(batch_size=1).fit_transform(GRAY)
    assert structure_of(G) is not None and structure_of(G).k == 64


# -- the quantizer reads the transform ------------------------------------------


@pytest.mark.parametrize(
    "dct_params",
    [
        {"n_coefficients": 16},
        {"layout": "channels_first"},
        {"layout": "blocks", "n_coefficients": 6},
        {"order": "natural", "n_coefficients": 10},
    ],
)
def test_quantizer_takes_the_transforms_settings(dct_params):
    chained = make_pipeline(BlockDCT(**dct_params), PerceptualQuantizer(quality=50))
    explicit = make_pipeline(
        BlockDCT(**dct_params),
        PerceptualQuantizer(
            table="jpeg-luma",
            quality=50,
            **{k: v for k, v in dct_params.items() if k != "block_size"},
        ),
    )
    np.testing.assert_array_equal(chained.fit_transform(GRAY), explicit.fit_transform(GRAY))
    k = dct_params.get("n_coefficients", 64)
    assert chained[-1].steps_.size == k
    if dct_params.get("order", "zigzag") == "zigzag":
        # block 1's DC gets the DC step, not the table's 17th entry
        np.testing.assert_array_equal(
            chained[-1].steps_, JPEG_LUMA.ravel()[_zigzag()][:k].astype(float)
        )


def _zigzag():
    from skcompress._core._basis import zigzag_order

    return zigzag_order(8)


@pytest.mark.parametrize(
    ("dct_params", "quantizer_params", "message"),
    [
        ({"n_coefficients": 16}, {"n_coefficients": 8}, "n_coefficients=8"),
        ({}, {"order": "natural"}, "order='natural'"),
        ({"layout": "channels_first"}, {"layout": "flat"}, "layout='flat'"),
        ({"block_size": 4}, {}, "8x8 blocks"),
    ],
)
def test_contradicting_the_transform_raises(dct_params, quantizer_params, message):
    G = BlockDCT(**dct_params).fit_transform(GRAY)
    with pytest.raises(ValueError, match=message):
        PerceptualQuantizer(**quantizer_params).fit(G)


def test_image_table_on_1d_blocks_raises():
    G = BlockDCT().fit_transform(GRAY.reshape(4, -1).astype(float))
    with pytest.raises(ValueError, match="vector of 8 steps"):
        PerceptualQuantizer().fit(G)
    # a vector of steps, one per coefficient, is what 1-D blocks take
    PerceptualQuantizer(table=np.arange(1, 9)).fit(G)


def test_quantizer_refuses_images():
    Z = ColorTransform().fit_transform(COLOUR)
    with pytest.raises(ValueError, match="BlockDCT"):
        PerceptualQuantizer().fit(Z)
    PerceptualQuantizer(table=4.0).fit(Z)  # a uniform step of pixels is fine


def test_transform_with_another_structure_raises():
    q = PerceptualQuantizer().fit(BlockDCT(n_coefficients=16).fit_transform(GRAY))
    with pytest.raises(ValueError, match="fitted on"):
        q.transform(BlockDCT(n_coefficients=16, layout="blocks").fit_transform(GRAY))
    # a plain array is read as the training data was
    q.transform(np.asarray(BlockDCT(n_coefficients=16).fit_transform(GRAY)))


def test_jpeg_table_per_plane():
    G = make_pipeline(ColorTransform(), BlockDCT()).fit_transform(COLOUR)
    q = PerceptualQuantizer(quality=75).fit(G)
    steps = q.steps_.reshape(3, 64)
    order = _zigzag()
    np.testing.assert_array_equal(steps[0], ijg_scale(JPEG_LUMA, 75).ravel()[order])
    np.testing.assert_array_equal(steps[1], ijg_scale(JPEG_CHROMA, 75).ravel()[order])
    np.testing.assert_array_equal(steps[2], steps[1])
    # "jpeg-luma" is the luminance table for every plane, as asked
    luma = PerceptualQuantizer("jpeg-luma", quality=75).fit(G).steps_.reshape(3, 64)
    np.testing.assert_array_equal(luma[1], steps[0])


# -- images: no channels-first, no 1-D reading ----------------------------------


@pytest.mark.parametrize("step", [BlockDCT, ColorTransform, ChromaSubsampler])
def test_channels_first_refused(step):
    X = np.zeros((2, 3, 32, 32))
    with pytest.raises(ValueError, match="channels-first"):
        step().fit(X)


def test_channels_first_confirmed_by_signal_shape():
    X = np.zeros((2, 3, 32, 32))
    assert BlockDCT(signal_shape=(3, 32, 32)).fit(X).signal_shape_ == (3, 32, 32)


@pytest.mark.parametrize("layout", ["flat", "blocks", "channels_first"])
def test_colour_transform_then_dct_is_2d_per_plane(layout):
    ycc = ColorTransform(layout="blocks").fit_transform(COLOUR)
    expected = BlockDCT(level_shift=128).fit_transform(np.asarray(ycc))
    chained = make_pipeline(ColorTransform(layout=layout), BlockDCT())
    np.testing.assert_allclose(chained.fit_transform(COLOUR), expected, atol=1e-9)
    assert chained[-1].grid_shape_ == (5, 7)
    back = chained.inverse_transform(chained.transform(COLOUR))
    np.testing.assert_allclose(back, COLOUR, atol=1e-9)


@pytest.mark.parametrize("subsampling", ["4:2:2", "4:2:0"])
@pytest.mark.parametrize("layout", ["flat", "blocks", "channels_first"])
def test_subsampled_chain_is_jpegs_mcus(subsampling, layout):
    """Each MCU: the luma blocks it covers, then Cb, then Cr, each plane padded on its own."""
    a, b = FACTORS[subsampling]
    sub = make_pipeline(ColorTransform(), ChromaSubsampler(subsampling, layout=layout))
    S = sub.fit_transform(COLOUR)
    dct = BlockDCT(layout=layout).fit(S)
    G = dct.transform(S)
    mh, mw = dct.grid_shape_
    blocks = G.structure.blocks(G)
    assert blocks.shape == (3, mh, mw, a * b + 2, 64)
    Y, Cb, Cr = sub[-1].split(S)
    Y = np.pad(Y, [(0, 0), (0, 8 * a * mh - Y.shape[1]), (0, 8 * b * mw - Y.shape[2])], "edge")
    plane = BlockDCT(level_shift=128, layout="blocks")
    luma = plane.fit_transform(Y).reshape(3, mh, a, mw, b, 64).transpose(0, 1, 3, 2, 4, 5)
    np.testing.assert_allclose(blocks[..., : a * b, :], luma.reshape(3, mh, mw, a * b, 64))
    np.testing.assert_allclose(blocks[..., -2, :], plane.fit_transform(Cb), atol=1e-9)
    np.testing.assert_allclose(blocks[..., -1, :], plane.fit_transform(Cr), atol=1e-9)
    np.testing.assert_allclose(dct.inverse_transform(G), S, atol=1e-9)
    assert G.structure.channels == (*(f"Y{i}" for i in range(a * b)), "Cb", "Cr")


def test_refusals_name_the_fix():
    Z = ColorTransform().fit_transform(COLOUR)
    with pytest.raises(ValueError, match="one ColorTransform"):
        ColorTransform().fit(Z)
    G = BlockDCT().fit_transform(Z)
    with pytest.raises(ValueError, match="ColorTransform or ChromaSubsampler"):
        BlockDCT().fit(G)
    with pytest.raises(ValueError, match="after ColorTransform"):
        ChromaSubsampler().fit(G)
    S = make_pipeline(ColorTransform(), ChromaSubsampler()).fit_transform(COLOUR)
    with pytest.raises(ValueError, match="ChromaSubsampler\\('4:4:4'\\)"):
        BlockDCT(integer=True).fit(S)


# -- JPEG's colour chain, with default settings -----------------------------------


def _pillow_coefficients(image, quality, subsampling):
    from PIL import Image

    from skcompress.io import read_jpeg_coefficients

    buffer = io.BytesIO()
    pillow = {"4:4:4": 0, "4:2:2": 1, "4:2:0": 2}[subsampling]
    Image.fromarray(image).save(buffer, "JPEG", quality=quality, subsampling=pillow)
    decoded = np.asarray(Image.open(buffer))
    return read_jpeg_coefficients(buffer.getvalue()).coefficients, decoded


@pytest.fixture(scope="module")
def photographs():
    pytest.importorskip("PIL")
    pytest.importorskip("skcompress.io._jpeg_reader")
    from skcompress.datasets import load_photographs

    return load_photographs(size=128, color=True).images


@pytest.mark.parametrize("subsampling", ["4:2:0", "4:2:2", "4:4:4"])
@pytest.mark.parametrize("quality", [10, 50, 75])
def test_default_colour_chain_gives_libjpegs_coefficients(photographs, subsampling, quality):
    X = photographs
    pipe = make_pipeline(
        ColorTransform(),
        ChromaSubsampler(subsampling),
        BlockDCT(),
        PerceptualQuantizer(table="jpeg", quality=quality),
    )
    B = pipe.fit_transform(X)
    blocks = B.structure.blocks(B)
    (a, b), (mh, mw) = FACTORS[subsampling], blocks.shape[1:3]
    same = total = 0
    pillow = []
    for image, ours in zip(X, blocks, strict=True):
        (Y, Cb, Cr), decoded = _pillow_coefficients(image, quality, subsampling)
        pillow.append(decoded)
        Y = Y[: a * mh, : b * mw].reshape(mh, a, mw, b, 64).transpose(0, 2, 1, 3, 4)
        theirs = np.concatenate(
            [Y.reshape(mh, mw, a * b, 64), Cb[:mh, :mw, None], Cr[:mh, :mw, None]], axis=2
        )
        same += np.count_nonzero(ours == theirs)
        total += theirs.size
    assert same / total >= 0.99
    decoded = pipe.inverse_transform(B)
    assert decoded.shape == X.shape
    # what libjpeg decodes from its own file, but for float arithmetic
    pixels = np.clip(np.rint(decoded), 0, 255)
    assert np.abs(pixels - np.stack(pillow)).mean() < 1


def test_a_classifier_follows_the_colour_chain(photographs):
    pipe = make_pipeline(
        ColorTransform(),
        ChromaSubsampler(),
        BlockDCT(n_coefficients=6),
        PerceptualQuantizer(quality=50),
        LogisticRegression(max_iter=100),
    )
    y = np.arange(len(photographs)) % 2
    assert pipe.fit(photographs, y).score(photographs, y) == 1.0


def test_a_signal_shape_that_contradicts_the_input_raises():
    Z = ColorTransform().fit_transform(COLOUR)
    assert BlockDCT(signal_shape=COLOUR.shape[1:]).fit(Z).signal_shape_ == COLOUR.shape[1:]
    with pytest.raises(ValueError, match="Leave signal_shape=None"):
        BlockDCT(signal_shape=(50, 33, 3)).fit(Z)


def test_quantized_symbols_are_not_quantized_again():
    B = make_pipeline(BlockDCT(), PerceptualQuantizer(quality=50)).fit_transform(GRAY)
    with pytest.raises(ValueError, match="quantized already"):
        PerceptualQuantizer(quality=50).fit(B)


def test_jpeg_codecs_colour_flat_symbols_are_not_read_as_signals():
    from skcompress import JPEGCodec

    B = JPEGCodec().fit_transform(COLOUR)
    assert B.structure.kind == "planar" and B.structure.quantized
    for step in (BlockDCT(), PerceptualQuantizer(), JPEGCodec()):
        with pytest.raises(ValueError, match="one plane after another"):
            step.fit(B)
