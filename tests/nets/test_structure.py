"""The networks read the structure of their input: any layout builds the same network."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.pipeline import make_pipeline

from skcompress import (
    MDCT,
    BlockDCT,
    ChromaSubsampler,
    ColorTransform,
    PerceptualQuantizer,
    ResidualVQ,
    WaveletTransform,
)
from skcompress._core._structure import structure_of
from skcompress.nets import (
    BlockDCTNetClassifier,
    BlockDCTNetRegressor,
    CodeEmbeddingClassifier,
    MDCTNetClassifier,
    PixelNetClassifier,
    WaveletNetClassifier,
)
from tests.nets.conftest import QUICK

ONE_EPOCH = {**QUICK, "max_epochs": 1, "batch_size": 32}


def _module(net):
    """What the fitted network built: parameters and the module's arguments."""
    kwargs = {k: net.module_params_[k] for k in ("in_channels", "grid_shape")}
    return net.n_parameters_, kwargs


@pytest.fixture(scope="module")
def colour():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (48, 32, 32, 3), dtype=np.uint8)
    return images, np.arange(48) % 2


# -- the default "flat" chains build what the explicit layouts build -------------


def test_default_jpeg_chain_on_digits_builds_the_channels_first_network(digits):
    Xtr, ytr, Xte, _ = digits
    X, y = Xtr[:128], ytr[:128]
    fitted = {}
    for layout in ("flat", "blocks", "channels_first"):
        steps = [BlockDCT(), PerceptualQuantizer()]
        if layout != "flat":
            steps = [s.set_params(layout=layout) for s in steps]
        fitted[layout] = make_pipeline(*steps, BlockDCTNetClassifier(**ONE_EPOCH)).fit(X, y)
    flat, blocks, first = (fitted[k][-1] for k in ("flat", "blocks", "channels_first"))
    assert flat.input_shape_ == (1024,) and first.input_shape_ == (64, 4, 4)
    assert flat.input_structure_.quantized and flat.input_structure_.layout == "flat"
    assert flat.grid_shape_ == blocks.grid_shape_ == first.grid_shape_ == (4, 4)
    assert _module(flat) == _module(blocks) == _module(first)
    assert _module(flat) == (186058, {"in_channels": 64, "grid_shape": (4, 4)})
    expected = fitted["channels_first"].predict_proba(Xte[:20])
    for layout in ("flat", "blocks"):
        np.testing.assert_allclose(fitted[layout].predict_proba(Xte[:20]), expected, atol=1e-5)
    # Plain arrays and tensors carry no structure: read as the training data was.
    symbols = fitted["flat"][:-1].transform(Xte[:20])
    assert structure_of(symbols) is not None
    for plain in (np.asarray(symbols), torch.as_tensor(np.asarray(symbols))):
        np.testing.assert_allclose(flat.predict_proba(plain), expected, atol=1e-5)
    loaded = pickle.loads(pickle.dumps(fitted["flat"]))
    np.testing.assert_array_equal(
        loaded.predict_proba(Xte[:20]), fitted["flat"].predict_proba(Xte[:20])
    )


def test_plain_flat_rows_stay_a_perceptron_on_the_features(digits):
    """The reading of a plain 2-D array, documented: no grid to read, a 1x1 one."""
    Xtr, ytr, _, _ = digits
    flat = np.asarray(BlockDCT(n_coefficients=16).fit_transform(Xtr[:64]))
    net = BlockDCTNetClassifier(**ONE_EPOCH).fit(flat, ytr[:64])
    assert net.input_structure_ is None and net.grid_shape_ == (1,)
    assert _module(net)[1] == {"in_channels": 256, "grid_shape": (1,)}
    with pytest.raises(ValueError, match=r"layout='flat' reads the structured 'flat' output"):
        BlockDCTNetClassifier(layout="flat", **ONE_EPOCH).fit(flat, ytr[:64])


def test_colour_chain_reads_minimum_coded_units_as_six_planes(colour):
    images, y = colour

    def chain(layout, subsampling="4:2:0"):
        return make_pipeline(
            ColorTransform(),
            ChromaSubsampler(subsampling),
            BlockDCT(n_coefficients=4, layout=layout),
            BlockDCTNetClassifier(widths=(8,), hidden_units=16, **ONE_EPOCH),
        ).fit(images, y)

    flat, first = chain("flat"), chain("channels_first")
    for pipe in (flat, first):
        net = pipe[-1]
        assert net.n_color_channels_ == 6 and net.grid_shape_ == (2, 2)  # 16x16 MCUs
        assert net.input_structure_.channels == ("Y0", "Y1", "Y2", "Y3", "Cb", "Cr")
    assert _module(flat[-1]) == _module(first[-1])
    assert _module(flat[-1])[1] == {"in_channels": 24, "grid_shape": (2, 2)}
    np.testing.assert_allclose(flat.predict_proba(images), first.predict_proba(images), atol=1e-5)
    full = chain("flat", "4:4:4")[-1]  # Y, Cb, Cr on the 4x4 grid of 8x8 blocks
    assert full.n_color_channels_ == 3 and full.grid_shape_ == (4, 4)


def test_pixel_network_reads_the_channels_and_shape_of_images(colour):
    images, y = colour
    net = {"widths": (4,), "hidden_units": 8, **ONE_EPOCH}
    flat = make_pipeline(ColorTransform(), PixelNetClassifier(**net)).fit(images, y)
    first = make_pipeline(ColorTransform(layout="channels_first"), PixelNetClassifier(**net)).fit(
        images, y
    )
    assert flat[-1].input_shape_ == (3072,)
    assert _module(flat[-1]) == _module(first[-1])
    assert _module(flat[-1])[1] == {"in_channels": 3, "grid_shape": (32, 32)}
    np.testing.assert_allclose(flat.predict_proba(images), first.predict_proba(images), atol=1e-5)
    # the same network as on the channels-last YCbCr images themselves
    ycbcr = np.asarray(ColorTransform(layout="blocks").fit_transform(images))
    plain = PixelNetClassifier(**net).fit(ycbcr, y)
    assert _module(plain) == _module(flat[-1])
    np.testing.assert_allclose(plain.predict_proba(ycbcr), flat.predict_proba(images), atol=1e-5)


def test_mdct_network_reads_frames_in_any_layout():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 512)).astype(np.float32)
    y = np.arange(40) % 2
    net = {"widths": (4,), "hidden_units": 8, **ONE_EPOCH}
    fitted = {
        layout: make_pipeline(
            MDCT(64, layout=layout), PerceptualQuantizer(table=0.5), MDCTNetClassifier(**net)
        ).fit(X, y)
        for layout in ("flat", "blocks")
    }
    first = make_pipeline(MDCT(64, layout="channels_first"), MDCTNetClassifier(**net))
    first.fit(X, y)
    for pipe in fitted.values():
        params = pipe[-1].module_params_
        assert (params["in_channels"], params["n_frames"]) == (32, 17)
        assert pipe[-1].n_parameters_ == first[-1].n_parameters_
    np.testing.assert_allclose(
        fitted["flat"].predict_proba(X), fitted["blocks"].predict_proba(X), atol=1e-5
    )
    # the frames of a 1-D block transform read the same way
    flat = BlockDCT(block_size=16).fit_transform(X)
    frames = BlockDCT(block_size=16, layout="channels_first").fit_transform(X)
    a = MDCTNetClassifier(**net).fit(flat, y)
    b = MDCTNetClassifier(**net).fit(frames, y)
    params = a.module_params_
    assert (params["in_channels"], params["n_frames"]) == (16, 32)
    np.testing.assert_allclose(a.predict_proba(flat), b.predict_proba(frames), atol=1e-5)


def test_wavelet_network_reads_the_shape_and_channels_of_the_signals(digits, colour):
    Xtr, ytr, _, _ = digits
    net = {"wavelet": "haar", "level": 2, "widths": (4,), "hidden_units": 8, **ONE_EPOCH}
    read = make_pipeline(WaveletTransform("haar", level=2), WaveletNetClassifier(**net))
    told = make_pipeline(
        WaveletTransform("haar", level=2), WaveletNetClassifier(signal_shape=(28, 28), **net)
    )
    read.fit(Xtr[:64], ytr[:64])
    told.fit(Xtr[:64], ytr[:64])
    assert read[-1].subband_shapes_ == told[-1].subband_shapes_
    assert read[-1].subband_shapes_[0] == (7, 7)
    np.testing.assert_allclose(
        read.predict_proba(Xtr[:20]), told.predict_proba(Xtr[:20]), atol=1e-6
    )
    images, y = colour
    colours = make_pipeline(
        ColorTransform(), WaveletTransform("haar", level=2), WaveletNetClassifier(**net)
    ).fit(images, y)
    assert colours[-1].module_params_["n_channels"] == 3


def test_code_network_reads_the_grid_of_the_codes(digits):
    Xtr, ytr, _, _ = digits
    X, y = Xtr[:100], ytr[:100]
    net = {"embedding_dim": 4, "widths": (4,), "hidden_units": 8, **ONE_EPOCH}

    def chain(layout):
        return make_pipeline(
            BlockDCT(n_coefficients=8),
            ResidualVQ(n_stages=2, codebook_size=8, n_refine=0, layout=layout, random_state=0),
            CodeEmbeddingClassifier(**net),
        ).fit(X, y)

    flat, first = chain("flat"), chain("channels_first")
    assert flat[-1].input_shape_ == (32,)
    for pipe in (flat, first):
        params = pipe[-1].module_params_
        assert (params["n_streams"], params["grid_shape"]) == (2, (4, 4))
    assert flat[-1].n_parameters_ == first[-1].n_parameters_
    np.testing.assert_allclose(flat.predict_proba(X), first.predict_proba(X), atol=1e-6)
    # codes of whole vectors: one embedding per stage, no grid
    rows = X.reshape(len(X), -1).astype(np.float32)
    whole = make_pipeline(
        ResidualVQ(n_stages=2, codebook_size=8, n_refine=0, random_state=0),
        CodeEmbeddingClassifier(**net),
    ).fit(rows, y)
    assert whole[-1].module_params_["grid_shape"] == ()


# -- coefficients kept where they are coded --------------------------------------


def test_network_refuses_to_drop_coefficients_that_the_quantizer_codes(digits):
    Xtr, ytr, _, _ = digits
    X, y = Xtr[:40], ytr[:40]
    pipe = make_pipeline(
        BlockDCT(n_coefficients=16),
        PerceptualQuantizer(),
        BlockDCTNetClassifier(n_coefficients=6, **ONE_EPOCH),
    )
    with pytest.raises(
        ValueError,
        match=r"n_coefficients=6, but its input is quantized 8x8 block-DCT coefficients "
        r"\(16 per block.*count the 10 that the network drops.*"
        r"blockdct__n_coefficients=6\) and leave n_coefficients=None here",
    ):
        pipe.fit(X, y)
    assert pipe.set_params(blockdctnetclassifier__n_coefficients=16).fit(X, y)
    with pytest.raises(ValueError, match="n_coefficients=17 exceeds the 16 coefficients"):
        pipe.set_params(blockdctnetclassifier__n_coefficients=17).fit(X, y)
    # Plain arrays: the network keeps its first coefficients, as before.
    G = np.asarray(pipe[:-1].transform(X).reshape(len(X), 4, 4, 16))
    net = BlockDCTNetRegressor(layout="blocks", n_coefficients=6, **ONE_EPOCH).fit(G, y)
    assert net.module_.selected.tolist() == list(range(6))


# -- settings that contradict the structure, structures of the wrong kind ------------


def test_settings_that_contradict_the_input_are_refused(digits, colour):
    Xtr, ytr, _, _ = digits
    X, y = Xtr[:40], ytr[:40]
    G = BlockDCT().fit_transform(X)
    cases = [
        (
            {"layout": "blocks"},
            r"layout='blocks', but its input is 8x8 .*\(layout='flat'\)\. Leave layout='auto'",
        ),
        ({"n_color_channels": 3}, r"n_color_channels=3, .*with n_color_channels=1 \(gray\)"),
        ({"block_size": 4}, r"block_size=4, .*with block_size=8"),
    ]
    for params, message in cases:
        with pytest.raises(ValueError, match=message):
            BlockDCTNetClassifier(**params, **ONE_EPOCH).fit(G, y)
    natural = BlockDCT(order="natural").fit_transform(X)
    with pytest.raises(ValueError, match="sub_block_init='idct' takes coefficients in zig-zag"):
        BlockDCTNetClassifier(sub_block_init="idct", **ONE_EPOCH).fit(natural, y)
    images, yc = colour
    ycbcr = ColorTransform().fit_transform(images)
    with pytest.raises(ValueError, match=r"signal_shape=\(32, 32\), .*of shape \(32, 32, 3\)"):
        PixelNetClassifier(signal_shape=(32, 32), **ONE_EPOCH).fit(ycbcr, yc)
    with pytest.raises(ValueError, match=r"layout='channels_first', .*\(layout='flat'\)"):
        PixelNetClassifier(layout="channels_first", **ONE_EPOCH).fit(ycbcr, yc)


def _frames():
    """MDCT frames: 17 frames of 32 bins."""
    signals = np.random.default_rng(0).standard_normal((20, 512)).astype(np.float32)
    return MDCT(64).fit_transform(signals)


def test_structures_of_the_wrong_kind_are_refused_naming_the_network_that_reads_them(
    digits, colour
):
    Xtr, _, _, _ = digits
    images, _ = colour
    y = np.arange(20) % 2
    ycbcr = ColorTransform().fit_transform(images[:20])
    sites = ChromaSubsampler().fit_transform(ycbcr)
    dct = BlockDCT().fit_transform(Xtr[:20])
    symbols = PerceptualQuantizer().fit(dct).transform(dct)
    subbands = WaveletTransform("haar", level=2).fit_transform(Xtr[:20])
    codes = ResidualVQ(n_stages=2, codebook_size=4, n_refine=0, random_state=0).fit_transform(
        BlockDCT(n_coefficients=4).fit_transform(Xtr[:20])
    )
    cases = [
        (
            BlockDCTNetClassifier,
            ycbcr,
            r"takes block-DCT coefficients; its input is Y/Cb/Cr "
            r"images from ColorTransform.*Use PixelNetClassifier",
        ),
        (
            BlockDCTNetRegressor,
            sites,
            r"4:2:0 chroma sites.*Put BlockDCT after the "
            r"ChromaSubsampler .* BlockDCTNetRegressor",
        ),
        (BlockDCTNetClassifier, _frames(), r"MDCT frames from MDCT.*Use MDCTNetClassifier"),
        (
            MDCTNetClassifier,
            dct,
            r"takes frames of a 1-D transform.*8x8 block-DCT.*"
            r"Use BlockDCTNetClassifier",
        ),
        (MDCTNetClassifier, ycbcr, "Use PixelNetClassifier on images"),
        (PixelNetClassifier, dct, "takes images .*Use BlockDCTNetClassifier"),
        (PixelNetClassifier, sites, "ChromaSubsampler"),
        (PixelNetClassifier, _frames(), "Use MDCTNetClassifier"),
        (WaveletNetClassifier, dct, "takes wavelet subbands.*Use BlockDCTNetClassifier"),
        (WaveletNetClassifier, _frames(), "takes wavelet subbands.*Use MDCTNetClassifier"),
        (CodeEmbeddingClassifier, symbols, "takes codes .*quantized 8x8 block-DCT"),
        (CodeEmbeddingClassifier, subbands, "subbands from WaveletTransform.*WaveletNet"),
        (BlockDCTNetClassifier, codes, "codes from ResidualVQ.*CodeEmbeddingClassifier"),
        (MDCTNetClassifier, subbands, "Use WaveletNetClassifier on wavelet subbands"),
        (PixelNetClassifier, codes, "Use CodeEmbeddingClassifier on codes"),
    ]
    for cls, X, message in cases:
        with pytest.raises(ValueError, match=message):
            cls(**ONE_EPOCH).fit(X, y)
    # A refused input leaves an earlier fit as it was.
    net = PixelNetClassifier(widths=(4,), **ONE_EPOCH).fit(np.asarray(ycbcr), y)
    weights = net.module_.head.layers[-1].weight.clone()
    with pytest.raises(ValueError, match="Use BlockDCTNetClassifier"):
        net.fit(dct, y)
    assert torch.equal(net.module_.head.layers[-1].weight, weights)


def test_a_fitted_network_refuses_other_structured_input(digits):
    Xtr, ytr, _, _ = digits
    dct = BlockDCT(n_coefficients=16).fit(Xtr[:40])
    net = BlockDCTNetClassifier(**ONE_EPOCH).fit(dct.transform(Xtr[:40]), ytr[:40])
    other = clone(dct).set_params(order="natural").fit(Xtr[:40])
    with pytest.raises(ValueError, match=r"fitted on 8x8 .*zigzag order.*natural order"):
        net.predict(other.transform(Xtr[:5]))
    with pytest.raises(ValueError, match="fitted on 8x8 .*Fit it again"):
        net.partial_fit(other.transform(Xtr[:5]), ytr[:5])
    assert net.predict(np.asarray(dct.transform(Xtr[:5]))).shape == (5,)


def test_idct_init_refuses_selected_frequencies():
    from skcompress import BlockDCT, FrequencySelector, PerceptualQuantizer
    from skcompress.datasets import load_mnist
    from skcompress.nets import BlockDCTNetClassifier

    mnist = load_mnist()
    X, y = mnist.images[:60], mnist.target[:60]
    G = PerceptualQuantizer(quality=50).fit_transform(
        FrequencySelector(6).fit_transform(BlockDCT().fit_transform(X), y)
    )
    with pytest.raises(ValueError, match="sub_block_init='learned' after a selector"):
        BlockDCTNetClassifier(sub_block_init="idct", max_epochs=1).fit(G, y)


def test_pixel_net_refuses_what_looks_channels_first():
    from skcompress.nets import PixelNetClassifier

    X = np.zeros((8, 3, 16, 16), dtype=np.float32)
    y = np.arange(8) % 2
    with pytest.raises(ValueError, match="layout='channels_first'"):
        PixelNetClassifier(max_epochs=1).fit(X, y)
    PixelNetClassifier(max_epochs=1, layout="channels_first").fit(X, y)
