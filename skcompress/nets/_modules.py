"""Torch modules for compressed representations: block DCT, wavelet subbands, pixels, MDCT, codes.

All of them are one family: stages of ``convolution -> ReLU`` (with a 2x
max-pooling after each stage where the input is still at full resolution),
then a flattening multilayer-perceptron head. What changes is where the
input enters and at what resolution, which is the point of learning from a
codec's representation: a block DCT hands the network 1/8-resolution planes
of coefficients (Gueguen et al. 2018, "Faster Neural Networks Straight from
JPEG"; Xu et al. 2020, "Learning in the Frequency Domain"), so the stages
that a pixel network spends learning its own downsampling are not needed.
"""

from math import prod

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .._core._limits import MAX_WIDTH
from ..transforms import dct_matrix, zigzag_order

_CONV = {1: nn.Conv1d, 2: nn.Conv2d}
_BATCH_NORM = {1: nn.BatchNorm1d, 2: nn.BatchNorm2d}


def _check_grid(name, grid_shape):
    grid = tuple(int(s) for s in grid_shape)
    if len(grid) not in (1, 2) or min(grid) < 1:
        raise ValueError(
            f"{name}: grid_shape must hold 1 or 2 positive sizes (a 1-D or 2-D grid); got "
            f"{tuple(grid_shape)}."
        )
    return grid


def _check_widths(name, widths, allow_empty=False):
    widths = tuple(int(w) for w in widths)
    if (not widths and not allow_empty) or any(not 1 <= w <= MAX_WIDTH for w in widths):
        raise ValueError(
            f"{name}: widths must be a{'' if allow_empty else ' non-empty'} sequence of "
            f"channel counts in [1, {MAX_WIDTH}]; got {widths}."
        )
    return widths


def _check_kernel(name, kernel_size):
    if int(kernel_size) < 1 or int(kernel_size) % 2 == 0:
        raise ValueError(
            f"{name}: kernel_size must be an odd positive int (same padding); got {kernel_size}."
        )
    return int(kernel_size)


def _halved(grid):
    """Max-pooling window that halves every axis longer than 1, and the grid after it."""
    window = tuple(2 if s > 1 else 1 for s in grid)
    return window, tuple(-(-s // w) for s, w in zip(grid, window, strict=True))


def _idct_sub_block_weights(n_coefficients, block_size, factor, d):
    """Weights of the 1x1 map from a block's coefficients to the samples of its sub-blocks.

    ``(s**d * factor**d, n_coefficients)`` with ``s = block_size // factor``:
    output channel ``p * factor**d + phase`` is sample ``p`` (raster order in
    the ``s``-wide sub-block) of the sub-block at ``phase`` (raster order of
    the ``factor``-wide grid of sub-blocks), the order in which a pixel
    shuffle lays channels out. Coefficients are the first ``n_coefficients``
    of the orthonormal DCT-II in zig-zag order (natural order in 1-D), as
    :class:`~skcompress.BlockDCT` emits them, so the map is its inverse.
    """
    b, f = block_size, factor
    C = dct_matrix(b)  # C[frequency, sample]
    if d == 2:
        basis = np.einsum("ui,vj->uvij", C, C).reshape(b * b, b, b)[zigzag_order(b)]
    else:
        basis = C
    basis = basis[:n_coefficients]  # (k, b) or (k, b, b): the synthesis functions
    s = b // f
    # sample (phase * s + p) along every axis -> axes (p..., phase...) per coefficient
    shape = (n_coefficients,) + (f, s) * d
    blocks = basis.reshape(shape)
    if d == 2:
        blocks = blocks.transpose(0, 2, 4, 1, 3)  # (k, p_row, p_col, phase_row, phase_col)
    else:
        blocks = blocks.transpose(0, 2, 1)  # (k, p, phase)
    return blocks.reshape(n_coefficients, -1).T


class _SubBlocks(nn.Module):
    """Every block's coefficients to ``factor x factor`` sub-block features.

    A 1x1 convolution (the same linear map for every block, as an inverse
    transform is) to ``width * factor**d`` channels, then a pixel shuffle
    that lays them out as a ``factor`` times finer grid. ``init="learned"``:
    a default-initialized map, then a ReLU. ``init="idct"``: the map starts
    as the block's inverse DCT, ``width`` the samples of a sub-block per
    colour channel, and stays linear (no ReLU; batch normalization when
    ``batch_norm``).
    """

    def __init__(
        self,
        in_channels,
        width,
        factor,
        d,
        *,
        init="learned",
        n_color_channels=1,
        block_size=8,
        batch_norm=False,
    ):
        super().__init__()
        self.factor, self.d, self.init = factor, d, init
        self.expand = _CONV[d](in_channels, width * factor**d, 1)
        if init == "idct":
            C, k = n_color_channels, in_channels // n_color_channels
            # the same map for every colour channel, none across them
            weight = np.kron(np.eye(C), _idct_sub_block_weights(k, block_size, factor, d))
            with torch.no_grad():
                self.expand.weight.copy_(
                    torch.as_tensor(weight, dtype=torch.float32).reshape(self.expand.weight.shape)
                )
                self.expand.bias.zero_()
        self.norm = _BATCH_NORM[d](width) if batch_norm else nn.Identity()

    def forward(self, x):
        x = self.expand(x)
        if self.d == 2:
            x = F.pixel_shuffle(x, self.factor)
        else:
            n, c, L = x.shape
            x = x.reshape(n, c // self.factor, self.factor, L).transpose(2, 3)
            x = x.reshape(n, c // self.factor, L * self.factor)
        x = self.norm(x)
        return x if self.init == "idct" else F.relu(x)


class _Stage(nn.Module):
    """``conv (same padding) [-> BatchNorm] -> ReLU``, then optionally pooled to a smaller grid."""

    def __init__(self, in_channels, width, grid, kernel_size, pool, batch_norm=False):
        super().__init__()
        self.conv = _CONV[len(grid)](in_channels, width, kernel_size, padding=kernel_size // 2)
        self.norm = _BATCH_NORM[len(grid)](width) if batch_norm else nn.Identity()
        self.window, out = _halved(grid) if pool else (None, grid)
        self.pool = pool and self.window != (1,) * len(grid)
        self.out_grid = out if self.pool else grid

    def forward(self, x):
        x = F.relu(self.norm(self.conv(x)))
        if self.pool:
            pool = F.max_pool1d if x.ndim == 3 else F.max_pool2d
            x = pool(x, self.window, ceil_mode=True)
        return x


class _Head(nn.Module):
    """Flatten, then ``Linear -> ReLU -> Dropout`` (if ``hidden_units``), then ``Linear``."""

    def __init__(self, in_features, hidden_units, n_outputs, dropout):
        super().__init__()
        layers = [nn.Flatten()]
        if hidden_units:
            layers += [nn.Linear(in_features, hidden_units), nn.ReLU(), nn.Dropout(dropout)]
            in_features = hidden_units
        layers.append(nn.Linear(in_features, n_outputs))
        self.layers = nn.Sequential(*layers)

    def forward(self, x):
        return self.layers(x)


def _stages(in_channels, grid, widths, kernel_size, pool, batch_norm=False):
    """Stages of the given widths; ``pool``: True (after each), False, or how many (first)."""
    stages, channels = [], in_channels
    for s, width in enumerate(widths):
        pooled = pool if isinstance(pool, bool) else s < pool
        stage = _Stage(channels, width, grid, kernel_size, pooled, batch_norm)
        stages.append(stage)
        channels, grid = width, stage.out_grid
    return nn.Sequential(*stages), channels, grid


class _ResidualBlock(nn.Module):
    """He et al.'s (2016) basic block: ``relu(F(x) + shortcut(x))``, ``F`` two convolutions.

    ``F`` is ``conv (stride) [-> BatchNorm] -> ReLU -> conv [-> BatchNorm]``,
    same padding; the shortcut is the identity where the shape is kept, else
    a strided 1x1 convolution (ResNet's projection shortcut). ``stride``: an
    int or one per axis. Convolutions followed by batch normalization have
    no bias (it would be cancelled). Along an axis whose stride exceeds
    ``kernel_size`` (a 1 x 1 block of stride 2) a strided convolution would
    skip inputs, so there the strided convolution and the shortcut take a
    kernel of the stride and tile the input (space to depth), the input
    padded at the end to a multiple of the stride.
    """

    def __init__(self, in_channels, width, d, kernel_size, stride=1, batch_norm=False):
        super().__init__()
        conv, bias = _CONV[d], not batch_norm
        strides = (stride,) * d if isinstance(stride, int) else tuple(stride)
        tiled = [s > kernel_size for s in strides]
        kernel = tuple(s if t else kernel_size for s, t in zip(strides, tiled, strict=True))
        pad = tuple(0 if t else kernel_size // 2 for t in tiled)
        self.tile = tuple(s if t else 1 for s, t in zip(strides, tiled, strict=True))
        self.conv1 = conv(in_channels, width, kernel, stride=strides, padding=pad, bias=bias)
        self.norm1 = _BATCH_NORM[d](width) if batch_norm else nn.Identity()
        self.conv2 = conv(width, width, kernel_size, padding=kernel_size // 2, bias=bias)
        self.norm2 = _BATCH_NORM[d](width) if batch_norm else nn.Identity()
        if in_channels != width or any(s != 1 for s in strides):
            self.shortcut = nn.Sequential(
                conv(in_channels, width, self.tile, stride=strides, bias=bias),
                _BATCH_NORM[d](width) if batch_norm else nn.Identity(),
            )
        else:
            self.shortcut = nn.Identity()

    def forward(self, x):
        if any(t > 1 for t in self.tile):
            ends = [(-n) % t for n, t in zip(x.shape[2:], self.tile, strict=True)]
            x = F.pad(x, [p for end in reversed(ends) for p in (0, end)])
        out = F.relu(self.norm1(self.conv1(x)))
        return F.relu(self.norm2(self.conv2(out)) + self.shortcut(x))


def _residual_stages(in_channels, d, widths, depth, kernel_size, batch_norm, first_stride=1):
    """``depth`` residual blocks per width; each stage's first block strides by 2 but the first
    stage's (``first_stride``). Returns the blocks (one Sequential) and their output channels."""
    blocks, channels = [], in_channels
    for s, width in enumerate(widths):
        for b in range(depth):
            stride = 1 if b else (first_stride if s == 0 else 2)
            blocks.append(_ResidualBlock(channels, width, d, kernel_size, stride, batch_norm))
            channels = width
    return nn.Sequential(*blocks), channels


def _check_depth(name, depth):
    if isinstance(depth, bool) or int(depth) != depth or int(depth) < 1:
        raise ValueError(
            f"{name}: depth must be a positive int (blocks per stage); got {depth!r}."
        )
    return int(depth)


def _global_average(x):
    """Mean over the grid axes: ``(n, C, *grid)`` to ``(n, C)``."""
    return x.mean(dim=tuple(range(2, x.ndim)))


class BlockDCTNet(nn.Module):
    """CNN on block-DCT coefficients as channels at block resolution (1/8 for JPEG's 8x8).

    The input is what ``BlockDCT(layout="channels_first")`` (and a quantizer
    with the same layout) gives: ``(n, C * K, h, w)``, the ``K`` coefficients
    of every block of each of ``C`` colour channels as ``C * K`` planes on the
    ``h x w`` grid of blocks. The network is Gueguen et al.'s (2018) idea at
    small scale: the block DCT already did the 8x downsampling that the first
    stages of a pixel network learn, so the network starts at the block grid.

    With ``upsample=f > 1`` it first maps every block's coefficients, by one
    linear map shared by all blocks (a 1x1 convolution, as an inverse DCT is
    the same map for every block), to ``f x f`` sub-block feature vectors
    laid out on an ``f`` times finer grid (a pixel shuffle; Gueguen et al.'s
    "deconvolution" variants, Shi et al. 2016). The stages then work there,
    each pooling by 2 until the block grid is reached again (or ``n_pool``
    times): 3x3 features at sub-block resolution, which small data sets need
    to generalize as a pixel network does, at a fraction of its operations.
    ``upsample=1`` runs the stages on the block grid itself.

    ``sub_block_init`` says where that map starts. "learned": a randomly
    initialized map to ``widths[0]`` features, then a ReLU. "idct": the
    block's own inverse DCT, so the sub-block features are the ``(8 / f)**2``
    samples of every sub-block (per colour channel) and the network starts
    from the decoded image, rearranged as channels on the sub-block grid
    (space to depth), rather than from random features; the map stays linear
    (no ReLU) and trainable, and every stage gets all of ``widths``. The
    coefficients must be the first ones in zig-zag order of an orthonormal
    DCT of ``block_size`` (``BlockDCT``'s defaults; 1-D blocks: natural
    order). After the input standardization of the estimators, every
    coefficient has unit variance, so the start is the image with its
    frequencies equalized; ``batch_norm`` then rescales it. How close
    this start comes to the pixel network on MNIST, at what share of the
    bits and fitting time, is measured on the benchmarks page
    (``benchmarks/bench_learning.py``).

    Parameters
    ----------
    in_channels : int
        ``C * K``: colour channels times coefficients per block.
    grid_shape : tuple of int
        ``(h, w)`` blocks (a 1-tuple for 1-D block transforms).
    n_outputs : int
        Classes (logits) or regression targets.
    widths : sequence of int, default=(64,)
        Channels of each convolution stage (and, with
        ``sub_block_init="learned"``, of the sub-block features); empty for a
        perceptron on the coefficients.
    kernel_size : int, default=3
        Odd kernel size of the convolutions, in grid steps.
    hidden_units : int, default=128
        Width of the hidden layer of the head (0: a linear head).
    dropout : float, default=0.0
        Dropout before the last layer.
    n_color_channels : int, default=1
        ``C``: 1 for gray, 3 for YCbCr (see Notes); must divide
        ``in_channels``.
    n_coefficients : int or None, default=None
        Use only the first ``n_coefficients`` of the ``K`` coefficients of each
        colour channel: with zig-zag ordered input (``BlockDCT``'s default),
        the lowest frequencies, as Xu et al. (2020) select frequency channels.
        None uses all ``K``.
    upsample : int, default=2
        Factor of the sub-block grid (a power of 2); 1 for none. Ignored
        when ``widths`` is empty.
    sub_block_init : {"learned", "idct"}, default="learned"
        Start of the map from coefficients to sub-block features (see
        above). "idct" needs ``upsample`` to divide ``block_size`` and uses
        the map even at ``upsample=1`` (the block's samples as channels).
    batch_norm : bool, default=False
        Batch normalization after every convolution (and after the
        sub-block map), before its ReLU.
    n_pool : int or None, default=None
        Stages followed by a 2x max-pooling, the first ones; None:
        ``log2(upsample)``, back to the block grid.
    block_size : int, default=8
        Side of the DCT blocks (their length for 1-D blocks); only
        ``sub_block_init="idct"`` uses it.

    Attributes
    ----------
    selected : torch.Tensor or None
        Indices of the input planes used (buffer), None when all are.

    Notes
    -----
    Colour: channels are taken as they come, each colour channel's
    coefficients contiguous (the order of ``BlockDCT`` on ``(n, H, W, 3)``
    YCbCr images from ``ColorTransform``). Chroma must then be on the luma's
    block grid: 4:4:4, or subsampled chroma upsampled back before the DCT
    (``ChromaSubsampler.inverse_transform``), which costs the network nothing
    but spends coefficients on chroma detail that 4:2:0 removed. Chroma at
    its own resolution fits one array too: ``ChromaSubsampler("4:2:0",
    layout="blocks")`` followed by ``BlockDCT(layout="channels_first")``
    transforms the 4 luma phases and Cb, Cr of every 2x2 site as 6 planes on
    the chroma's block grid (``n_color_channels=6``, half the luma's block
    resolution); the luma is then coded as polyphase planes, not as JPEG
    codes it.

    Examples
    --------
    >>> import torch
    >>> from skcompress.nets import BlockDCTNet
    >>> net = BlockDCTNet(64, (4, 4), 10, n_coefficients=16)
    >>> net(torch.zeros(2, 64, 4, 4)).shape
    torch.Size([2, 10])
    >>> net.stages[0].conv                 # 3x3 features on the 8x8 sub-block grid
    Conv2d(64, 64, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))

    Starting from the decoded image: with ``sub_block_init="idct"`` the
    sub-block features of a block's coefficients are its pixels, 4x4 of them
    per sub-block, as 16 channels on the 8x8 grid of sub-blocks.

    >>> import numpy as np
    >>> from skcompress import BlockDCT
    >>> image = np.random.default_rng(0).uniform(0, 255, size=(1, 32, 32))
    >>> dct = BlockDCT(layout="channels_first", level_shift=0).fit(image)
    >>> G = torch.as_tensor(dct.transform(image), dtype=torch.float32)
    >>> net = BlockDCTNet(64, (4, 4), 10, widths=(64, 64), sub_block_init="idct",
    ...                   batch_norm=True, n_pool=2)
    >>> features = net.sub_blocks.expand(G)          # before the pixel shuffle
    >>> top_left = features[0, ::4, 0, 0].detach().numpy().reshape(4, 4)
    >>> bool(np.allclose(top_left, image[0, :4, :4], atol=1e-3))
    True
    >>> net.stages[0].conv
    Conv2d(16, 64, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
    """

    def __init__(
        self,
        in_channels,
        grid_shape,
        n_outputs,
        *,
        widths=(64,),
        kernel_size=3,
        hidden_units=128,
        dropout=0.0,
        n_color_channels=1,
        n_coefficients=None,
        upsample=2,
        sub_block_init="learned",
        batch_norm=False,
        n_pool=None,
        block_size=8,
    ):
        super().__init__()
        name = type(self).__name__
        grid = _check_grid(name, grid_shape)
        d = len(grid)
        widths = _check_widths(name, widths, allow_empty=True)
        kernel_size = _check_kernel(name, kernel_size)
        C = int(n_color_channels)
        if C < 1 or in_channels % C:
            raise ValueError(
                f"{name}: n_color_channels={n_color_channels} must divide in_channels="
                f"{in_channels} (colour channels x coefficients per block)."
            )
        K = in_channels // C
        if n_coefficients is not None and not 1 <= n_coefficients <= K:
            raise ValueError(
                f"{name}: n_coefficients={n_coefficients} must be in [1, {K}], the "
                f"coefficients per block of each of the {C} colour channel(s)."
            )
        k = K if n_coefficients is None else int(n_coefficients)
        if k < K:
            planes = (np.arange(C)[:, None] * K + np.arange(k)).reshape(-1)
            self.register_buffer("selected", torch.as_tensor(planes, dtype=torch.long))
        else:
            self.selected = None
        f = int(upsample)
        if f < 1 or f & (f - 1):
            raise ValueError(
                f"{name}: upsample must be a power of 2 (1 for none); got upsample={upsample}."
            )
        if sub_block_init not in ("learned", "idct"):
            raise ValueError(
                f"{name}: sub_block_init must be 'learned' or 'idct'; got {sub_block_init!r}."
            )
        if n_pool is not None and int(n_pool) < 0:
            raise ValueError(f"{name}: n_pool must be None or an int >= 0; got {n_pool}.")
        b = int(block_size)
        if sub_block_init == "idct":
            if b < 1 or b % f:
                raise ValueError(
                    f"{name}: sub_block_init='idct' needs upsample={upsample} to divide "
                    f"block_size={block_size}."
                )
            if k > b**d:
                raise ValueError(
                    f"{name}: sub_block_init='idct' with block_size={block_size} takes at "
                    f"most {b**d} coefficients per block; got {k}."
                )
        if not widths:  # a perceptron on the coefficients: no grid to refine
            f = 1
        channels = C * k
        idct = sub_block_init == "idct" and bool(widths)
        if f > 1 or idct:
            width = C * (b // f) ** d if idct else widths[0]
            self.sub_blocks = _SubBlocks(
                channels,
                width,
                f,
                d,
                init=sub_block_init if idct else "learned",
                n_color_channels=C,
                block_size=b,
                batch_norm=batch_norm,
            )
            channels, grid = width, tuple(g * f for g in grid)
        else:
            self.sub_blocks = nn.Identity()
        pools = f.bit_length() - 1 if n_pool is None else int(n_pool)
        self.stages, channels, out_grid = _stages(
            channels, grid, widths, kernel_size, pools, batch_norm
        )
        self.head = _Head(channels * prod(out_grid), hidden_units, n_outputs, dropout)

    def forward(self, x):
        if self.selected is not None:
            x = x.index_select(1, self.selected)
        return self.head(self.stages(self.sub_blocks(x)))


class PixelNet(nn.Module):
    """The same family on pixels: convolution stages, each followed by 2x max-pooling.

    The honest baseline for :class:`BlockDCTNet`: a small classic CNN
    (conv -> ReLU -> pool per stage, then the same head) that must learn
    from decoded samples the downsampling a block transform gives for free.
    Two stages bring 28x28 digits to 7x7; three to 1/8 resolution, the block
    grid of an 8x8 DCT.

    With ``residual=True`` it is a ResNet (He et al. 2016), the baseline of
    :class:`JPEGNet`: a stem convolution (stride ``stem_stride``), then per
    width a stage of ``depth`` residual blocks whose first block strides by
    2 (but the first stage's), global average pooling and the head.
    ``widths=(64, 128, 256, 512), depth=2, stem_stride=4, batch_norm=True``
    is ResNet-18 with a ``kernel_size`` stem instead of its 7x7 one.

    Parameters
    ----------
    in_channels : int
        Colour channels (1 for gray).
    grid_shape : tuple of int
        ``(H, W)`` of the images (a 1-tuple for 1-D signals).
    n_outputs : int
        Classes (logits) or regression targets.
    widths : sequence of int, default=(32, 64)
        Channels of each stage.
    kernel_size : int, default=3
        Odd kernel size of the convolutions, in samples.
    hidden_units : int, default=128
        Width of the hidden layer of the head (0: a linear head).
    dropout : float, default=0.0
        Dropout before the last layer.
    residual : bool, default=False
        Residual stages, the stem and global average pooling (see above),
        instead of ``conv -> ReLU -> max-pool`` stages and a head on the
        flattened grid.
    depth : int, default=1
        Blocks per stage: residual blocks, or convolutions before the
        stage's pooling.
    batch_norm : bool, default=False
        Batch normalization after every convolution, before its ReLU.
    stem_stride : {1, 2, 4}, default=1
        With ``residual``: stride of the stem convolution, 4 for a stride of
        2 followed by a 3x3 max-pooling of stride 2 (ResNet's ImageNet stem).
        It must be 1 without ``residual``.

    Examples
    --------
    >>> import torch
    >>> from skcompress.nets import PixelNet
    >>> PixelNet(1, (28, 28), 10)(torch.zeros(2, 1, 28, 28)).shape
    torch.Size([2, 10])
    >>> resnet = PixelNet(3, (32, 32), 10, widths=(16, 32), residual=True, depth=2)
    >>> resnet(torch.zeros(2, 3, 32, 32)).shape
    torch.Size([2, 10])
    >>> resnet.stages[2].conv1                  # the second stage halves the grid
    Conv2d(16, 32, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1))
    """

    def __init__(
        self,
        in_channels,
        grid_shape,
        n_outputs,
        *,
        widths=(32, 64),
        kernel_size=3,
        hidden_units=128,
        dropout=0.0,
        residual=False,
        depth=1,
        batch_norm=False,
        stem_stride=1,
    ):
        super().__init__()
        name = type(self).__name__
        grid = _check_grid(name, grid_shape)
        d = len(grid)
        widths = _check_widths(name, widths)
        kernel_size = _check_kernel(name, kernel_size)
        depth = _check_depth(name, depth)
        if stem_stride not in (1, 2, 4) or (stem_stride != 1 and not residual):
            raise ValueError(
                f"{name}: stem_stride must be 1, 2 or 4, and 1 unless residual=True; got "
                f"stem_stride={stem_stride!r} with residual={residual!r}."
            )
        self.residual = bool(residual)
        if not residual:
            stages, channels = [], in_channels
            for width in widths:  # depth - 1 unpooled convolutions, then a pooled one
                for j in range(depth):
                    stage = _Stage(channels, width, grid, kernel_size, j == depth - 1, batch_norm)
                    stages.append(stage)
                    channels, grid = width, stage.out_grid
            self.stages = nn.Sequential(*stages)
            self.head = _Head(channels * prod(grid), hidden_units, n_outputs, dropout)
            return
        self.stem = nn.Sequential(
            _CONV[d](
                in_channels,
                widths[0],
                kernel_size,
                stride=min(stem_stride, 2),
                padding=kernel_size // 2,
                bias=not batch_norm,
            ),
            _BATCH_NORM[d](widths[0]) if batch_norm else nn.Identity(),
            nn.ReLU(),
        )
        self.stem_pool = stem_stride == 4
        self.stages, channels = _residual_stages(
            widths[0], d, widths, depth, kernel_size, batch_norm
        )
        self.head = _Head(channels, hidden_units, n_outputs, dropout)

    def forward(self, x):
        if not self.residual:
            return self.head(self.stages(x))
        x = self.stem(x)
        if self.stem_pool:
            pool = F.max_pool1d if x.ndim == 3 else F.max_pool2d
            x = pool(x, 3, stride=2, padding=1)
        return self.head(_global_average(self.stages(x)))


class WaveletNet(nn.Module):
    """CNN on wavelet subbands, each level entering at its own resolution.

    The input is the "flat" output of :class:`~skcompress.WaveletTransform`:
    per channel, the subbands in JPEG 2000's order (``LL`` of the coarsest
    level, then ``HL, LH, HH`` from the coarsest level to the finest). The
    network unpacks them and, as the wavelet CNNs of Fujieda et al. (2018)
    do, feeds the finest level's detail subbands to the first stage, pools
    its output to the grid of the next level and concatenates that level's
    subbands there, and so on; the coarsest level brings its ``LL`` too.
    Stages beyond the coarsest level work on the previous grid pooled by 2,
    and the last stage is pooled by 2, as :class:`PixelNet`'s are; a
    transform with more levels than stages feeds the extra coarse levels to
    the last stage, pooled to its grid.

    Parameters
    ----------
    subband_shapes : sequence of tuple of int
        Shape of every subband of one channel, in output order
        (``WaveletTransform.subband_shapes_``): ``1 + 3 J`` 2-D shapes for
        images, ``1 + J`` 1-D shapes for signals (one shape: a single band).
    n_outputs : int
        Classes (logits) or regression targets.
    n_channels : int, default=1
        Image channels, each with the same subbands one after the other.
    widths : sequence of int, default=(32, 64)
        Channels of each stage.
    kernel_size : int, default=3
        Odd kernel size of the convolutions.
    hidden_units : int, default=128
        Width of the hidden layer of the head (0: a linear head).
    dropout : float, default=0.0
        Dropout before the last layer.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from skcompress import WaveletTransform
    >>> from skcompress.nets import WaveletNet
    >>> wt = WaveletTransform("haar", level=2).fit(np.zeros((1, 28, 28)))
    >>> net = WaveletNet(wt.subband_shapes_, 10)
    >>> net(torch.zeros(3, 784)).shape
    torch.Size([3, 10])
    """

    def __init__(
        self,
        subband_shapes,
        n_outputs,
        *,
        n_channels=1,
        widths=(32, 64),
        kernel_size=3,
        hidden_units=128,
        dropout=0.0,
    ):
        super().__init__()
        name = type(self).__name__
        shapes = [tuple(int(s) for s in shape) for shape in subband_shapes]
        dims = {len(s) for s in shapes}
        if not shapes or len(dims) != 1 or dims - {1, 2}:
            raise ValueError(
                f"{name}: subband_shapes must be 1-D or 2-D shapes, all of one kind; got {shapes}."
            )
        d = dims.pop()
        per_level = 3 if d == 2 else 1
        if (len(shapes) - 1) % per_level:
            raise ValueError(
                f"{name}: {len(shapes)} subbands do not make an LL (A) band and "
                f"{per_level} detail band(s) per level."
            )
        widths = _check_widths(name, widths)
        kernel_size = _check_kernel(name, kernel_size)
        C = int(n_channels)
        n_levels = (len(shapes) - 1) // per_level
        sizes = [prod(s) for s in shapes]
        self.shapes, self.n_channels, self.per_level = shapes, C, per_level
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).tolist()
        self.per_channel = self.offsets[-1]
        # Level j (1 = finest) is subbands [1 + per_level (J - j), ...); LL is band 0.
        levels = [[0]] if n_levels == 0 else []
        for j in range(1, n_levels + 1):
            first = 1 + per_level * (n_levels - j)
            bands = list(range(first, first + per_level)) + ([0] if j == n_levels else [])
            levels.append(bands)
        self.levels = levels
        inject = [[] for _ in widths]
        for j, bands in enumerate(levels):
            inject[min(j, len(widths) - 1)].append(bands)
        self.inject = inject
        grids, stages, channels = [], nn.ModuleList(), 0
        grid = shapes[levels[0][0]]
        for s, width in enumerate(widths):
            if s and inject[s]:
                grid = shapes[inject[s][0][0]]
            elif s:
                grid = _halved(grid)[1]
            grids.append(grid)
            incoming = channels + C * sum(len(b) for b in inject[s])
            stages.append(_CONV[d](incoming, width, kernel_size, padding=kernel_size // 2))
            channels = width
        self.grids = grids
        self.stages = stages
        # the last stage is pooled as PixelNet's are
        out_grid = _halved(grids[-1])[1]
        self.pool_last = out_grid != grids[-1]
        self.head = _Head(channels * prod(out_grid), hidden_units, n_outputs, dropout)

    def _bands(self, x, bands, grid):
        n, per = len(x), self.per_channel
        planes = []
        for c in range(self.n_channels):
            for b in bands:
                lo, hi = c * per + self.offsets[b], c * per + self.offsets[b + 1]
                plane = x[:, lo:hi].reshape(n, 1, *self.shapes[b])
                if self.shapes[b] != grid:
                    plane = _adaptive_pool(plane, grid, "avg")
                planes.append(plane)
        return planes

    def forward(self, x):
        z = None
        for s, conv in enumerate(self.stages):
            grid = self.grids[s]
            parts = [] if z is None else [_adaptive_pool(z, grid, "max")]
            for bands in self.inject[s]:
                parts += self._bands(x, bands, grid)
            z = F.relu(conv(torch.cat(parts, dim=1)))
        if self.pool_last:
            z = _adaptive_pool(z, _halved(self.grids[-1])[1], "max")
        return self.head(z)


def _adaptive_pool(x, grid, kind):
    if tuple(x.shape[2:]) == tuple(grid):
        return x
    if x.ndim == 3:
        pool = F.adaptive_max_pool1d if kind == "max" else F.adaptive_avg_pool1d
    else:
        pool = F.adaptive_max_pool2d if kind == "max" else F.adaptive_avg_pool2d
    return pool(x, grid)


class MDCTNet(nn.Module):
    """1-D CNN over MDCT frames: frequency bins as channels, time as the axis of convolution.

    The input is ``MDCT(layout="channels_first")`` output ``(n, M, n_frames)``
    (or any ``(n, channels, length)`` array such as a log spectrogram). Stages
    of ``conv1d -> ReLU -> max-pool 2`` over frames, as in time-delay networks
    for keyword spotting, then the mean and the maximum over the remaining
    frames (so the word may sit anywhere in the window), then the head.

    Parameters
    ----------
    in_channels : int
        Bins per frame ``M``.
    n_frames : int
        Frames per signal.
    n_outputs : int
        Classes (logits) or regression targets.
    widths : sequence of int, default=(64, 64)
        Channels of each stage.
    kernel_size : int, default=3
        Odd kernel size of the convolutions, in frames.
    hidden_units : int, default=128
        Width of the hidden layer of the head (0: a linear head).
    dropout : float, default=0.0
        Dropout before the last layer.

    Examples
    --------
    >>> import torch
    >>> from skcompress.nets import MDCTNet
    >>> MDCTNet(128, 64, 10)(torch.zeros(2, 128, 64)).shape
    torch.Size([2, 10])
    """

    def __init__(
        self,
        in_channels,
        n_frames,
        n_outputs,
        *,
        widths=(64, 64),
        kernel_size=3,
        hidden_units=128,
        dropout=0.0,
    ):
        super().__init__()
        name = type(self).__name__
        grid = _check_grid(name, (n_frames,))
        widths = _check_widths(name, widths)
        kernel_size = _check_kernel(name, kernel_size)
        self.stages, channels, _ = _stages(in_channels, grid, widths, kernel_size, pool=True)
        self.head = _Head(2 * channels, hidden_units, n_outputs, dropout)

    def forward(self, x):
        z = self.stages(x)
        return self.head(torch.cat([z.mean(dim=2), z.amax(dim=2)], dim=1))


class CodeEmbeddingNet(nn.Module):
    """Embeddings of discrete codes (ResidualVQ / PyramidVQ indices) as tokens, then a CNN or MLP.

    The input is integer codes ``(n, S, *grid)``: ``S`` streams (the stages
    of a residual VQ, as ``ResidualVQ(layout="channels_first")`` gives them,
    or any columns of codes) on an optional 1-D or 2-D grid of vectors (the
    blocks of an image, the frames of a signal). Every stream has its own
    embedding table, as EnCodec's and SoundStream's token models embed each
    codebook on its own; the ``S`` embeddings of a position are concatenated
    as channels (or summed, as EnCodec's language models sum the embeddings
    of a frame's residual codes: a learned counterpart of decoding, where
    the codewords of the stages add up), convolution stages run over the
    grid (if there is one), and the head reads the result. With no grid
    (whole-signal codes, ``(n, S)``), the network is an MLP on the
    embeddings.

    Parameters
    ----------
    n_codes : int
        Codes per stream (``codebook_size``); codes are in ``[0, n_codes)``.
    n_streams : int
        ``S``.
    grid_shape : tuple of int
        Shape of the grid of vectors; ``()`` for none.
    n_outputs : int
        Classes (logits) or regression targets.
    embedding_dim : int, default=16
        Size of each code's embedding.
    widths : sequence of int, default=(64,)
        Channels of the convolution stages over the grid (ignored without a
        grid).
    kernel_size : int, default=3
        Odd kernel size of the convolutions.
    hidden_units : int, default=128
        Width of the hidden layer of the head (0: a linear head).
    dropout : float, default=0.0
        Dropout before the last layer.
    combine : {"concat", "sum"}, default="concat"
        How the embeddings of the streams at one position are combined:
        "concat" keeps every stream apart (codes of different quantizers);
        "sum" adds them (the stages of one residual VQ, whose later codes
        refine the earlier ones rather than mean anything alone).

    Examples
    --------
    >>> import torch
    >>> from skcompress.nets import CodeEmbeddingNet
    >>> net = CodeEmbeddingNet(256, 2, (), 10)    # two RVQ stages per digit
    >>> net(torch.zeros(5, 2, dtype=torch.long)).shape
    torch.Size([5, 10])
    """

    def __init__(
        self,
        n_codes,
        n_streams,
        grid_shape,
        n_outputs,
        *,
        embedding_dim=16,
        widths=(64,),
        kernel_size=3,
        hidden_units=128,
        dropout=0.0,
        combine="concat",
    ):
        super().__init__()
        name = type(self).__name__
        grid = tuple(int(s) for s in grid_shape)
        if grid:
            grid = _check_grid(name, grid)
        if combine not in ("concat", "sum"):
            raise ValueError(f"{name}: combine must be 'concat' or 'sum'; got {combine!r}.")
        self.combine = combine
        if int(n_codes) < 1 or int(n_streams) < 1 or int(embedding_dim) < 1:
            raise ValueError(
                f"{name}: n_codes, n_streams and embedding_dim must be positive; got "
                f"{n_codes}, {n_streams}, {embedding_dim}."
            )
        S, K, d = int(n_streams), int(n_codes), int(embedding_dim)
        self.n_streams, self.n_codes, self.embedding_dim = S, K, d
        self.embedding = nn.Embedding(S * K, d)
        offsets = torch.arange(S, dtype=torch.long).mul_(K).reshape(1, S, *([1] * len(grid)))
        self.register_buffer("offsets", offsets)
        channels, out_grid = (S * d if combine == "concat" else d), grid
        if grid:
            widths = _check_widths(name, widths, allow_empty=True)
            kernel_size = _check_kernel(name, kernel_size)
            self.stages, channels, out_grid = _stages(
                channels, grid, widths, kernel_size, pool=False
            )
        else:
            self.stages = nn.Identity()
        self.head = _Head(channels * prod(out_grid), hidden_units, n_outputs, dropout)

    def forward(self, x):
        e = self.embedding(x + self.offsets)  # (n, S, *grid, d)
        n, S = e.shape[:2]
        if self.combine == "sum":
            e = torch.movedim(e.sum(dim=1), -1, 1)
        else:
            e = torch.movedim(e, -1, 2).reshape(n, S * self.embedding_dim, *e.shape[2:-1])
        return self.head(self.stages(e))


def _module_of(model, caller):
    """The torch module of ``model``: a module, a network estimator, a Pipeline ending in one."""
    if isinstance(model, nn.Module):
        return model
    steps = getattr(model, "steps", None)
    if steps:
        model = steps[-1][1]
    model = getattr(model, "net_", model)  # a learned codec's skorch net
    module = getattr(model, "module_", None)
    if isinstance(module, nn.Module):
        return module
    if hasattr(model, "initialize_module"):
        raise ValueError(
            f"{caller}: {type(model).__name__} builds its module from its input: fit it, or "
            "call initialize(X, y), first."
        )
    raise TypeError(
        f"{caller} takes a torch module, a network estimator of skcompress.nets or a Pipeline "
        f"ending in one; got {type(model).__name__}."
    )


def count_parameters(model):
    """Number of trainable parameters of a torch module, or of a network estimator's.

    Parameters
    ----------
    model : torch.nn.Module, network estimator or Pipeline
        A module; an estimator of :mod:`skcompress.nets` that is fitted (or
        built by ``initialize(X, y)``), or a Pipeline ending in one: its
        ``module_``.

    Returns
    -------
    n_parameters : int

    Examples
    --------
    >>> from torch import nn
    >>> count_parameters(nn.Linear(10, 3))
    33
    """
    module = _module_of(model, "count_parameters")
    return int(sum(p.numel() for p in module.parameters() if p.requires_grad))


def count_macs(model, X):
    """Multiply-accumulates per sample of one forward pass, counted layer by layer.

    Convolutions count ``output size x in_channels / groups x kernel size``,
    linear layers ``in_features x out_features``; activations, pooling,
    normalization, embeddings and additions are not counted (they are a few
    percent of the total in these networks). FLOPs, as most papers count
    them, are about twice the multiply-accumulates.

    Parameters
    ----------
    model : torch.nn.Module, network estimator or Pipeline
        A module; or an estimator of :mod:`skcompress.nets` that is fitted
        (or built by ``initialize(X, y)``), or a Pipeline ending in one.
    X : torch.Tensor or the input of ``model``
        A module's input batch (its first axis is the batch); what the
        estimator or the Pipeline takes otherwise (its first sample is
        counted; a torch Dataset: its first item).

    Returns
    -------
    macs : int
        Per sample.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> count_macs(nn.Conv2d(1, 8, 3, padding=1), torch.zeros(1, 1, 28, 28))
    56448
    """
    module = _module_of(model, "count_macs")
    if model is not module:
        steps = getattr(model, "steps", None)
        if steps:
            X = model[:-1].transform(X) if len(steps) > 1 else X
            model = steps[-1][1]
        example = getattr(model, "_module_example", None)
        if example is None:
            raise TypeError(
                f"count_macs reads the input of the networks of skcompress.nets; for a "
                f"{type(model).__name__}, pass its torch module and an input tensor."
            )
        X = example(X)
    total = [0]

    def hook(layer, inputs, output):
        if isinstance(layer, (nn.Conv1d, nn.Conv2d)):
            per_output = layer.in_channels // layer.groups * prod(layer.kernel_size)
            total[0] += output[0].numel() * per_output
        elif isinstance(layer, nn.Linear):
            total[0] += output[0].numel() * layer.in_features

    handles = [
        m.register_forward_hook(hook)
        for m in module.modules()
        if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Linear))
    ]
    training = module.training
    try:
        module.eval()
        with torch.no_grad():
            module(X[:1])
    finally:
        module.train(training)
        for h in handles:
            h.remove()
    return int(total[0])
