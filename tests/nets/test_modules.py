"""The torch modules: shapes, coefficient selection, sizes, argument checks."""

import numpy as np
import pytest
import torch
from torch import nn

from skcompress import BlockDCT, WaveletTransform
from skcompress.nets import (
    BlockDCTNet,
    CodeEmbeddingNet,
    MDCTNet,
    PixelNet,
    WaveletNet,
    count_macs,
    count_parameters,
)


def test_block_dct_net_keeps_the_lowest_coefficients_of_each_colour():
    net = BlockDCTNet(
        3 * 64, (2, 2), 5, n_color_channels=3, n_coefficients=2, widths=(), upsample=1
    )
    assert net.selected.tolist() == [0, 1, 64, 65, 128, 129]
    assert net(torch.zeros(4, 192, 2, 2)).shape == (4, 5)
    # only the selected planes matter
    x = torch.randn(4, 192, 2, 2)
    y = x.clone()
    y[:, 2:64] = 100.0
    torch.testing.assert_close(net(x), net(y))


def test_sub_blocks_work_on_a_finer_grid_and_pool_back():
    net = BlockDCTNet(16, (4, 4), 10, widths=(8, 8), upsample=4)
    assert [stage.out_grid for stage in net.stages] == [(8, 8), (4, 4)]
    assert net.sub_blocks.expand.out_channels == 8 * 16
    flat = BlockDCTNet(16, (4, 4), 10, widths=(8,), upsample=1)
    assert isinstance(flat.sub_blocks, nn.Identity) and flat.stages[0].out_grid == (4, 4)
    one_d = BlockDCTNet(4, (5,), 2, widths=(3,), upsample=2)
    assert one_d(torch.zeros(2, 4, 5)).shape == (2, 2)


@pytest.mark.parametrize("factor", [1, 2, 4, 8])
def test_idct_sub_blocks_start_as_the_decoded_image(factor):
    """Before training, the sub-block features of quantized-free coefficients are the pixels."""
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 255, size=(2, 16, 24))
    dct = BlockDCT(layout="channels_first", level_shift=0).fit(images)
    G = torch.as_tensor(dct.transform(images), dtype=torch.float32)  # (2, 64, 2, 3)
    net = BlockDCTNet(64, (2, 3), 5, widths=(4,), upsample=factor, sub_block_init="idct")
    s = 8 // factor
    assert net.stages[0].conv.in_channels == s * s
    features = net.sub_blocks(G)  # (2, s * s, 2 * factor, 3 * factor), linear
    # channel u * s + v at sub-block (r, c) is pixel (r * s + u, c * s + v)
    pixels = features.detach().numpy().reshape(2, s, s, 2 * factor, 3 * factor)
    pixels = pixels.transpose(0, 3, 1, 4, 2).reshape(2, 16, 24)
    np.testing.assert_allclose(pixels, images, atol=2e-3)
    assert net(G).shape == (2, 5)


def test_idct_sub_blocks_of_few_coefficients_colours_and_1d_blocks():
    rng = np.random.default_rng(1)
    images = rng.uniform(0, 255, size=(3, 8, 16, 3))
    dct = BlockDCT(n_coefficients=6, layout="channels_first", level_shift=0).fit(images)
    G = dct.transform(images)  # (3, 18, 1, 2): 6 coefficients of 3 colours
    low_pass = np.moveaxis(dct.inverse_transform(G), -1, 1)  # (3, 3, 8, 16)
    net = BlockDCTNet(
        18,
        (1, 2),
        4,
        n_color_channels=3,
        widths=(4,),
        upsample=2,
        sub_block_init="idct",
        batch_norm=True,
    )
    net.eval()  # batch norm: running statistics of 0 and 1 before training
    features = net.sub_blocks.expand(torch.as_tensor(G, dtype=torch.float32))
    # colour c's 16 samples of the top-left 4x4 sub-block: channels (c * 16 + p) * 4 + 0
    top_left = features[:, 0::4, 0, 0].detach().numpy().reshape(3, 3, 4, 4)
    np.testing.assert_allclose(top_left, low_pass[:, :, :4, :4], atol=2e-3)
    signals = rng.uniform(-1, 1, size=(2, 16))
    dct1 = BlockDCT(8, layout="channels_first", level_shift=0).fit(signals)
    net1 = BlockDCTNet(8, (2,), 3, widths=(4,), upsample=2, sub_block_init="idct")
    samples = net1.sub_blocks(torch.as_tensor(dct1.transform(signals), dtype=torch.float32))
    assert samples.shape == (2, 4, 4)  # 4 samples per sub-block, 4 sub-blocks
    np.testing.assert_allclose(
        samples.detach().numpy().transpose(0, 2, 1).reshape(2, 16), signals, atol=1e-5
    )


def test_batch_norm_and_n_pool():
    net = BlockDCTNet(
        10, (4, 4), 10, widths=(8, 8), sub_block_init="idct", batch_norm=True, n_pool=2
    )
    assert [stage.out_grid for stage in net.stages] == [(4, 4), (2, 2)]
    assert isinstance(net.stages[0].norm, nn.BatchNorm2d)
    assert (
        isinstance(net.sub_blocks.norm, nn.BatchNorm2d) and net.sub_blocks.norm.num_features == 16
    )
    assert net.head.layers[1].in_features == 8 * 2 * 2
    plain = BlockDCTNet(10, (4, 4), 10, widths=(8,), upsample=1, n_pool=0)
    assert isinstance(plain.stages[0].norm, nn.Identity) and plain.stages[0].out_grid == (4, 4)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in BlockDCTNet(10, (4, 4), 2).modules())


def test_code_embeddings_concatenate_or_sum():
    concat = CodeEmbeddingNet(4, 3, (), 2, embedding_dim=5, hidden_units=0)
    summed = CodeEmbeddingNet(4, 3, (), 2, embedding_dim=5, hidden_units=0, combine="sum")
    assert concat.head.layers[-1].in_features == 15 and summed.head.layers[-1].in_features == 5
    codes = torch.tensor([[1, 2, 3]])
    table = summed.embedding.weight
    expected = table[1] + table[4 + 2] + table[8 + 3]  # stream s has rows s * n_codes + code
    torch.testing.assert_close(
        summed.head.layers[0](summed.embedding(codes + summed.offsets).sum(1)), expected[None]
    )


@pytest.mark.parametrize(
    ("module", "x"),
    [
        (BlockDCTNet(16, (4, 4), 10), torch.zeros(3, 16, 4, 4)),
        (BlockDCTNet(16, (1, 1), 10), torch.zeros(3, 16, 1, 1)),
        (BlockDCTNet(8, (5,), 2), torch.zeros(3, 8, 5)),
        (PixelNet(3, (17, 9), 4), torch.zeros(3, 3, 17, 9)),
        (PixelNet(1, (1,), 2), torch.zeros(3, 1, 1)),
        (MDCTNet(32, 7, 3), torch.zeros(3, 32, 7)),
        (CodeEmbeddingNet(8, 2, (3, 3), 4), torch.zeros(3, 2, 3, 3, dtype=torch.long)),
        (CodeEmbeddingNet(8, 5, (), 4), torch.zeros(3, 5, dtype=torch.long)),
    ],
)
def test_output_shapes(module, x):
    assert module(x).shape[0] == 3


@pytest.mark.parametrize(
    ("wavelet", "level", "shape"),
    [
        ("haar", 2, (28, 28)),
        ("cdf97", 1, (28, 28)),
        ("haar", 4, (28, 28)),
        ("cdf53", 2, (20,)),
        ("haar", 2, (16, 16, 3)),
    ],
)
def test_wavelet_net_unpacks_every_level(wavelet, level, shape):
    zeros = np.zeros((1, *shape))
    wt = WaveletTransform(wavelet, level=level).fit(zeros)
    channels = shape[2] if len(shape) == 3 else 1
    net = WaveletNet(wt.subband_shapes_, 3, n_channels=channels, widths=(4, 8))
    x = torch.from_numpy(wt.transform(zeros).astype(np.float32))
    assert net(x.repeat(2, 1)).shape == (2, 3)
    # every coefficient reaches the output
    x = x.repeat(2, 1).requires_grad_(True)
    net(x).sum().backward()
    assert net.per_channel * channels == x.shape[1]


def test_counts():
    assert count_parameters(nn.Linear(10, 3)) == 33
    conv = nn.Conv2d(2, 4, 3, padding=1)
    assert count_macs(conv, torch.zeros(5, 2, 8, 8)) == 8 * 8 * 4 * 2 * 9
    pixel = PixelNet(1, (28, 28), 10)
    dct = BlockDCTNet(16, (4, 4), 10)
    assert count_macs(dct, torch.zeros(1, 16, 4, 4)) < count_macs(pixel, torch.zeros(1, 1, 28, 28))
    assert pixel.training  # counting leaves the mode alone


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: BlockDCTNet(10, (4, 4), 2, n_color_channels=3), "must divide in_channels=10"),
        (lambda: BlockDCTNet(16, (4, 4), 2, n_coefficients=17), r"n_coefficients=17 must be in"),
        (lambda: PixelNet(1, (4, 4, 4), 2), "grid_shape must hold 1 or 2"),
        (lambda: PixelNet(1, (4, 4), 2, kernel_size=2), "kernel_size must be an odd"),
        (lambda: PixelNet(1, (4, 4), 2, widths=()), "widths must be a non-empty"),
        (lambda: WaveletNet([(4, 4), (4, 4)], 2), "do not make an LL"),
        (lambda: CodeEmbeddingNet(0, 2, (), 2), "must be positive"),
        (lambda: CodeEmbeddingNet(4, 2, (), 2, combine="mean"), "combine must be"),
        (lambda: BlockDCTNet(16, (4, 4), 2, upsample=3), "upsample must be a power of 2"),
        (lambda: BlockDCTNet(16, (4, 4), 2, sub_block_init="dct"), "sub_block_init must be"),
        (lambda: BlockDCTNet(16, (4, 4), 2, n_pool=-1), "n_pool must be None or an int"),
        (
            lambda: BlockDCTNet(16, (4, 4), 2, upsample=8, block_size=4, sub_block_init="idct"),
            "needs upsample=8 to divide block_size=4",
        ),
        (
            lambda: BlockDCTNet(32, (4, 4), 2, block_size=4, sub_block_init="idct"),
            "takes at most 16 coefficients",
        ),
    ],
)
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()
