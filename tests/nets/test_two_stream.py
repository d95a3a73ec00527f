"""JPEGNet: colour networks on JPEG's coefficients as stored (luma at 1/8, chroma at 1/16)."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.pipeline import make_pipeline

from skcompress import (
    BlockDCT,
    ChromaSubsampler,
    ColorTransform,
    FrequencySelector,
    JPEGCodec,
    PerceptualQuantizer,
)
from skcompress.datasets import load_photographs
from skcompress.io import JPEGDataset, read_jpeg_coefficients, write_jpeg
from skcompress.nets import (
    BlockDCTNetClassifier,
    JPEGNet,
    JPEGNetClassifier,
    JPEGNetRegressor,
    PixelNet,
    PixelNetClassifier,
    count_macs,
    count_parameters,
)
from skcompress.nets._two_stream import XU24
from skcompress.transforms import zigzag_order
from tests.nets.conftest import QUICK

SMALL = {**QUICK, "widths": (8, 16), "depth": 1, "hidden_units": 0, "batch_size": 16}


@pytest.fixture(scope="module")
def tinted():
    """96 32x32 crops of photographs in gray, tinted red (class 1) or blue (class 0).

    The tint leaves the luma as it is (0.299 * 20 = 0.114 * 52, to 0.05): only the
    chroma tells the classes apart.
    """
    photos = load_photographs(size=128, color=True).images.astype(np.float64)
    crops = photos.reshape(len(photos), 4, 32, 4, 32, 3).transpose(0, 1, 3, 2, 4, 5)
    crops = crops.reshape(-1, 32, 32, 3)[:96]
    y = np.arange(len(crops)) % 2
    tint = (2 * y[:, None, None, None] - 1) * np.array([20, 0, -52])
    return np.clip(crops.mean(axis=3, keepdims=True) + tint, 0, 255).astype(np.uint8), y


def _mcus(images, layout="channels_first", subsampling="4:2:0"):
    steps = [ColorTransform(), ChromaSubsampler(subsampling), BlockDCT(layout=layout)]
    return make_pipeline(*steps).fit_transform(images)


# -- the module ------------------------------------------------------------------------


def test_streams_are_the_components_grids_of_the_jpeg_file(tmp_path, tinted):
    """The MCU's luma blocks go back on the luma grid exactly: libjpeg's own grids."""
    images = tinted[0][:3]
    paths = write_jpeg(images, tmp_path, quality=75, subsampling="4:2:0")
    codec = JPEGCodec(quality=75, dct="islow", layout="channels_first").fit(images)
    mcus = torch.as_tensor(np.asarray(codec.transform(images)), dtype=torch.float32)
    luma, chroma = JPEGNet(64, 128, (2, 2), 2).streams(mcus)
    assert tuple(luma.shape) == (3, 64, 4, 4) and tuple(chroma.shape) == (3, 128, 2, 2)
    for i, path in enumerate(paths):
        y, cb, cr = read_jpeg_coefficients(path).coefficients
        np.testing.assert_array_equal(luma[i].numpy(), y.transpose(2, 0, 1))
        both = np.concatenate([cb, cr], axis=2).transpose(2, 0, 1)
        np.testing.assert_array_equal(chroma[i].numpy(), both)
    # a JPEGDataset's two streams hold the same
    streams, _ = JPEGDataset(paths, layout="two_stream")[1]
    np.testing.assert_array_equal(streams["luma"], luma[1].numpy())


def test_module_shapes_and_one_stream():
    net = JPEGNet(16, 8, (14, 14), 10, widths=(8, 16, 32), depth=1)
    x = torch.randn(2, 72, 14, 14)
    assert net(x).shape == (2, 10)
    assert net.reduce.conv1.stride == (2, 2) and net.trunk[0].conv1.in_channels == 16 + 8
    assert net.trunk[1].conv1.stride == (2, 2)
    half = JPEGNet(4, 4, (4, 2), 3, factors=(1, 2), widths=(4, 8))  # 4:2:2
    assert half.reduce.conv1.stride == (1, 2) and half(torch.randn(2, 12, 4, 2)).shape == (2, 3)
    gray = JPEGNet(6, 0, (4, 4), 3, factors=(1, 1), widths=(4, 8))
    assert gray.one_stream and gray.luma[0].conv1.in_channels == 6
    with pytest.raises(ValueError, match=r"takes \(n, 6, rows, cols\)"):
        gray(torch.zeros(1, 7, 4, 4))
    with pytest.raises(ValueError, match="widths needs at least 2"):
        JPEGNet(6, 0, (4, 4), 3, widths=(4,))


def test_parameter_and_mac_counts_by_hand():
    """A tiny network counted layer by layer (convolutions with bias, no batch norm)."""
    net = JPEGNet(2, 2, (2, 2), 3, widths=(4, 8), depth=1, hidden_units=0, batch_norm=False)
    # luma block 2->4 at 4x4 (projected), stride-2 block 4->8 to 2x2, trunk block 10->8 at 2x2
    weights = [(2, 4, 9), (4, 4, 9), (2, 4, 1), (4, 8, 9), (8, 8, 9), (4, 8, 1)]
    weights += [(10, 8, 9), (8, 8, 9), (10, 8, 1)]
    positions = [16] * 3 + [4] * 6
    parameters = sum(i * o * k + o for i, o, k in weights) + 8 * 3 + 3
    macs = sum(p * i * o * k for p, (i, o, k) in zip(positions, weights, strict=True)) + 8 * 3
    assert count_parameters(net) == parameters == sum(p.numel() for p in net.parameters())
    assert count_macs(net, torch.zeros(5, 2 * 4 + 2, 2, 2)) == macs == 12696


def test_pixel_resnet_is_resnet18_with_a_small_stem():
    resnet = PixelNet(
        3,
        (224, 224),
        1000,
        widths=(64, 128, 256, 512),
        residual=True,
        depth=2,
        batch_norm=True,
        stem_stride=4,
        hidden_units=0,
    )
    # torchvision's resnet18: 11,689,512 parameters; its 7x7 stem has 7680 more than 3x3
    assert count_parameters(resnet) == 11_689_512 - (49 - 9) * 3 * 64
    assert count_macs(resnet, torch.zeros(1, 3, 224, 224)) == 1_814_073_344 - 112**2 * 64 * 120
    with pytest.raises(ValueError, match="stem_stride must be 1, 2 or 4"):
        PixelNet(3, (8, 8), 2, stem_stride=2)


# -- the estimators: reading the input -------------------------------------------------


def test_every_layout_builds_the_same_network(tinted):
    images, y = tinted[0][:32], tinted[1][:32]
    one_epoch = {**SMALL, "max_epochs": 1}
    fitted = {}
    for layout in ("flat", "blocks", "channels_first"):
        X = _mcus(images, layout)
        fitted[layout] = JPEGNetClassifier(**one_epoch).fit(X, y)
    probas = [net.predict_proba(_mcus(images, k)) for k, net in fitted.items()]
    for net, proba in zip(fitted.values(), probas, strict=True):
        assert net.subsampling_ == "4:2:0" and net.grid_shape_ == (2, 2)
        assert net.module_params_["luma_channels"] == 64
        assert net.module_params_["chroma_channels"] == 128
        assert net.n_parameters_ == fitted["flat"].n_parameters_
        np.testing.assert_allclose(proba, probas[0], atol=1e-5)
    # JPEGCodec's MCUs, and plain arrays read as the training data were
    codec = make_pipeline(JPEGCodec(layout="blocks"), JPEGNetClassifier(**one_epoch))
    codec.fit(images, y)
    assert codec[-1].input_structure_.producer == "JPEGCodec"
    symbols = codec[0].transform(images)
    np.testing.assert_array_equal(
        codec[-1].predict_proba(np.asarray(symbols)), codec.predict_proba(images)
    )
    plain = JPEGNetClassifier(**one_epoch).fit(np.asarray(symbols), y)  # 5-D: read as blocks
    assert plain.input_structure_ is None and plain.subsampling_ == "4:2:0"
    assert plain.n_parameters_ == codec[-1].n_parameters_
    first = JPEGNetClassifier(subsampling="4:2:0", **one_epoch)
    first.fit(np.asarray(_mcus(images, "channels_first")), y)
    assert first.module_params_["chroma_channels"] == 128


def test_gray_and_444_make_one_stream(tinted):
    images, y = tinted[0][:24], tinted[1][:24]
    gray = make_pipeline(JPEGCodec(layout="channels_first"), JPEGNetClassifier(**SMALL))
    gray.fit(images[..., 0], y)
    assert gray[-1].subsampling_ == "gray" and gray[-1].module_.one_stream
    assert gray[-1].grid_shape_ == (4, 4) and gray[-1].module_params_["chroma_channels"] == 0
    full = JPEGNetClassifier(**SMALL).fit(_mcus(images, "blocks", "4:4:4"), y)
    assert full.subsampling_ == "4:4:4" and full.module_.one_stream
    assert full.module_.luma[0].conv1.in_channels == 3 * 64
    half = JPEGNetClassifier(**SMALL).fit(_mcus(images, "blocks", "4:2:2"), y)
    assert half.subsampling_ == "4:2:2" and half.module_.reduce.conv1.stride == (1, 2)


def test_xu24_keeps_their_24_channels(tinted):
    images, y = tinted[0][:24], tinted[1][:24]
    natural = zigzag_order(8)
    assert sorted(natural[list(XU24["Y"])]) == [8 * u + v for u in range(4) for v in range(4)]
    assert sorted(natural[list(XU24["Cb"])]) == [0, 1, 8, 9] == sorted(natural[list(XU24["Cr"])])
    X = _mcus(images, "blocks")
    net = JPEGNetClassifier(channels="xu24", standardize=False, **SMALL).fit(X, y)
    assert len(net.channels_) == 24
    assert [c for c, _ in net.channels_] == ["Y"] * 16 + ["Cb"] * 4 + ["Cr"] * 4
    Z = net._to_module_input(np.asarray(X))
    assert Z.shape == (24, 4 * 16 + 8, 2, 2)
    blocks = np.asarray(X)  # (n, rows, cols, 6 blocks, 64)
    for j, (component, position) in enumerate(net.channels_[16:]):
        slot = 4 if component == "Cb" else 5
        np.testing.assert_array_equal(Z[:, 64 + j], blocks[:, :, :, slot, position])
    np.testing.assert_array_equal(Z[:, 16 * 3 + 5], blocks[:, :, :, 3, XU24["Y"][5]])
    pairs = JPEGNetClassifier(channels=[("Y", 0), ("Cr", 2), ("Y", 1)], **SMALL).fit(X, y)
    assert pairs.channels_ == (("Y", 0), ("Y", 1), ("Cr", 2))
    assert pairs.module_params_["luma_channels"] == 2
    first = JPEGNetClassifier(n_coefficients=3, **SMALL).fit(X, y)
    assert len(first.channels_) == 9 and first.macs_ < net.macs_


def test_frequency_selector_keeps_a_components_frequencies_in_all_its_blocks(tinted):
    images, y = tinted[0][:24], tinted[1][:24]
    chain = make_pipeline(
        ColorTransform(),
        ChromaSubsampler("4:2:0"),
        BlockDCT(),
        FrequencySelector(30),
        PerceptualQuantizer(),
        JPEGNetClassifier(**SMALL),
    ).fit(images, y)
    net, kept = chain[-1], chain[3].positions_
    luma = sorted({p % 64 for p in kept if p // 64 < 4})
    assert [p for c, p in net.channels_ if c == "Y"] == sorted(
        int(np.argsort(zigzag_order(8))[n]) for n in luma
    )
    # the four luma blocks of an MCU keep the same frequencies: no slot of the net is empty
    assert all(sorted(p % 64 for p in kept if p // 64 == b) == luma for b in range(4))
    Z = net._to_module_input(np.asarray(chain[:-1].transform(images[:2])))
    assert Z.shape[1] == len(kept)  # every kept value is one input channel of the net


def test_jpeg_dataset_in_every_layout(tmp_path, tinted):
    images, y = tinted
    paths = write_jpeg(images[:32], tmp_path, quality=80)
    one_epoch = {**SMALL, "max_epochs": 1}
    probas = {}
    for layout in ("two_stream", "channels_first", "blocks"):
        dataset = JPEGDataset(paths, labels=y[:32], layout=layout, n_coefficients=16)
        net = JPEGNetClassifier(**one_epoch).fit(dataset)
        assert net.subsampling_ == "4:2:0" and net.input_structure_.producer == "JPEGDataset"
        assert len(net.channels_) == 48
        probas[layout] = net.predict_proba(dataset)
        assert count_macs(net, dataset) == net.macs_
    for proba in probas.values():
        np.testing.assert_allclose(proba, probas["two_stream"], atol=1e-5)
    # a dict of streams and a pair are read as the data set's items
    items = JPEGDataset(paths[:4], layout="two_stream", n_coefficients=16)
    streams = {key: np.stack([items[i][0][key] for i in range(4)]) for key in ("luma", "chroma")}
    np.testing.assert_allclose(net.predict_proba(streams), probas["two_stream"][:4], atol=1e-5)
    pair = (streams["luma"], streams["chroma"])
    np.testing.assert_allclose(net.predict_proba(pair), probas["two_stream"][:4], atol=1e-5)
    luma = JPEGDataset(paths, labels=y[:32], components="luma", n_coefficients=8)
    assert JPEGNetClassifier(**one_epoch).fit(luma).subsampling_ == "gray"
    with pytest.raises(ValueError, match="tables=False"):
        tables = JPEGDataset(paths, y[:32], layout="two_stream", tables=True)
        JPEGNetClassifier(**one_epoch).fit(tables)
    with pytest.raises(ValueError, match="Use JPEGNetClassifier"):
        BlockDCTNetClassifier(**QUICK).fit(JPEGDataset(paths, y[:32], layout="two_stream"))


# -- the estimators: learning, counts, persistence ---------------------------------------


def test_learns_the_chroma_task_from_the_chroma_stream(tinted):
    images, y = tinted
    train = {**SMALL, "batch_size": 8, "lr": 0.01, "max_epochs": 2}
    scores = {}
    for name, channels in [("xu24", "xu24"), ("luma", [("Y", p) for p in XU24["Y"]])]:
        pipe = make_pipeline(
            JPEGCodec(layout="channels_first"), JPEGNetClassifier(channels=channels, **train)
        )
        scores[name] = pipe.fit(images[:64], y[:64]).score(images[64:], y[64:])
    assert scores["xu24"] > 0.9 and scores["luma"] < 0.7  # chance: 0.5
    brightness = images.mean(axis=(1, 2, 3))
    regression = make_pipeline(
        JPEGCodec(layout="blocks"), JPEGNetRegressor(n_coefficients=1, **train)
    ).fit(images[:64], brightness[:64])
    assert regression.score(images[64:], brightness[64:]) > 0.5


def test_counts_of_the_estimators_and_pickle(tinted):
    images, y = tinted[0][:17], tinted[1][:17]
    pipe = make_pipeline(JPEGCodec(layout="channels_first"), JPEGNetClassifier(**SMALL))
    with pytest.raises(ValueError, match="fit it, or call initialize"):
        count_parameters(pipe[-1])
    pipe.fit(images, y)  # 17 samples in batches of 16: the last batch of 1 is left out
    net = pipe[-1]
    assert (
        count_parameters(net)
        == net.n_parameters_
        == sum(p.numel() for p in net.module_.parameters())
    )
    assert count_parameters(pipe) == net.n_parameters_
    assert count_macs(pipe, images) == count_macs(net, pipe[0].transform(images)) == net.macs_
    assert net.macs_ == count_macs(net.module_, net._module_example(pipe[0].transform(images)))
    loaded = pickle.loads(pickle.dumps(pipe))
    np.testing.assert_array_equal(loaded.predict_proba(images), pipe.predict_proba(images))
    with pytest.raises(TypeError, match="takes a torch module"):
        count_parameters(JPEGCodec())


def test_pixel_resnet_estimator_fits(tinted):
    images, y = tinted[0][:24], tinted[1][:24]
    resnet = {**SMALL, "residual": True, "depth": 2, "batch_norm": True}
    net = PixelNetClassifier(**resnet).fit(images, y)
    assert len(net.module_.stages) == 4 and net.module_.stages[2].conv1.stride == (2, 2)
    plain = PixelNetClassifier(depth=2, widths=(4,), **QUICK, max_epochs=1).fit(images, y)
    assert len(plain.module_.stages) == 2 and plain.module_.stages[1].pool


# -- refusals ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "params", "message"),
    [
        (lambda im: ColorTransform().fit_transform(im), {}, "Put JPEGCodec"),
        (
            lambda im: ChromaSubsampler().fit_transform(ColorTransform().fit_transform(im)),
            {},
            "BlockDCT after the ChromaSubsampler",
        ),
        (lambda im: BlockDCT().fit_transform(im.astype(float)), {}, "Put ColorTransform"),
        (
            lambda im: JPEGCodec(layout="blocks").fit_transform(im[..., 0]),
            {"channels": "xu24"},
            "no Cb component",
        ),
        (
            lambda im: JPEGCodec(n_coefficients=8, layout="blocks").fit_transform(im),
            {"channels": "xu24"},
            r"no Y coefficients at zig-zag positions \[8, 9, 11",
        ),
        (lambda im: _mcus(im), {"channels": "xu24", "n_coefficients": 4}, "not both"),
        (lambda im: _mcus(im), {"channels": [("Y", 64)]}, "distinct"),
        (lambda im: _mcus(im), {"channels": [("Cb", 0)]}, "keeps no luma"),
        (lambda im: _mcus(im), {"subsampling": "4:4:4"}, "subsampling='4:2:0'. Leave"),
        (lambda im: _mcus(im), {"layout": "blocks"}, "layout='channels_first'. Leave"),
        (lambda im: np.asarray(_mcus(im, "channels_first")), {}, "Set subsampling"),
        (lambda im: np.zeros((len(im), 5, 2, 2, 3)), {}, "6 blocks per MCU"),
    ],
)
def test_refusals_say_what_to_do(tinted, make, params, message):
    images, y = tinted[0][:8], tinted[1][:8]
    with pytest.raises(ValueError, match=message):
        JPEGNetClassifier(**{**SMALL, **params}).fit(make(images), y)


def test_one_sample_and_two_stream_shapes_are_refused():
    with pytest.raises(ValueError, match="1 sample"):
        JPEGNetClassifier(**SMALL).fit(np.zeros((1, 2, 2, 6, 4)), [0])
    streams = {"luma": np.zeros((2, 4, 4, 4)), "chroma": np.zeros((2, 4, 2, 2))}
    with pytest.raises(ValueError, match=r"chroma \(n, 2 k, rows, cols\)"):
        JPEGNetClassifier(**SMALL).fit(streams, [0, 1])
    with pytest.raises(ValueError, match="Use JPEGNetClassifier"):
        BlockDCTNetClassifier(**QUICK).fit(streams, [0, 1])


@pytest.mark.parametrize("kernel_size", [1, 3])
def test_every_luma_block_reaches_the_output_whatever_the_kernel(kernel_size):
    # a 1 x 1 kernel of stride 2 would read one luma block in four; the strided blocks tile
    torch.manual_seed(0)
    net = JPEGNet(4, 2, (3, 3), 5, widths=(4, 8), depth=1, kernel_size=kernel_size).eval()
    x = torch.randn(16, 4 * 4 + 2, 3, 3, requires_grad=True)
    net(x).sum().backward()
    # (block in the MCU, channel, row, column), over the batch: no block is left out
    luma = x.grad[:, :16].abs().sum(dim=0).reshape(4, 4, 3, 3)
    assert torch.all(luma.sum(dim=1) > 0)
    mcus = torch.randn(2, 18, 5, 7)  # odd grids keep their size: ceil, as with a 3 x 3 kernel
    assert net(mcus).shape == (2, 5)
