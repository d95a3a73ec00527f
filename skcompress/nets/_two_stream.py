"""Colour networks for JPEG as stored: luma and chroma coefficients at their own resolutions.

JPEG keeps colour as YCbCr with subsampled chroma (4:2:0: Cb and Cr at half
the luma's resolution along both axes) and interleaves the blocks in minimum
coded units (MCUs). :class:`JPEGNet` takes them that way: the luma blocks of
every MCU are put back on the luma's block grid (1/8 of the image), a luma
stream of residual blocks brings them to the chroma's grid (1/16), and the
chroma coefficients join there, Gueguen et al.'s (2018) "late concatenation";
the estimators can keep a fixed set of frequency channels, as Xu et al.'s
(2020) static selection does.
"""

import re
from dataclasses import dataclass
from numbers import Integral

import numpy as np
import torch
from sklearn.base import ClassifierMixin
from sklearn.utils._param_validation import Interval, StrOptions
from torch import nn
from torch.utils.data import Subset

from .._core._basis import zigzag_order
from .._core._contract import to_layout
from .._core._limits import MAX_BLOCKS
from .._core._structure import Structure, cell_positions, refuse, structure_of, with_structure
from ._base import (
    _HEAD_CONSTRAINTS,
    _NET_CONSTRAINTS,
    _as_array,
    _is_streams,
    _NetClassifier,
    _NetRegressor,
    _network_for,
)
from ._data import BatchIterator
from ._estimators import _TEST_TRAINING, _doc, _refuse_plain_flat
from ._modules import (
    _check_depth,
    _check_grid,
    _check_kernel,
    _check_widths,
    _global_average,
    _Head,
    _residual_stages,
    _ResidualBlock,
)

#: Luma blocks per MCU (rows, columns) of each chroma subsampling.
_FACTORS = {"4:2:0": (2, 2), "4:2:2": (1, 2), "4:4:4": (1, 1)}
_COMPONENTS = ("Y", "Cb", "Cr")


def _zigzag_positions(naturals, b=8):
    """Zig-zag positions of row-major frequency indices of a ``b x b`` block, sorted."""
    position = np.argsort(zigzag_order(b))
    return tuple(sorted(int(position[i]) for i in naturals))


#: Xu et al.'s (2020) 24 channels (their DCTNet code's ``dct_channel_index[24]``): the
#: 4x4 lowest frequencies of Y and the 2x2 of Cb and Cr, as zig-zag positions.
XU24 = {
    "Y": _zigzag_positions([8 * u + v for u in range(4) for v in range(4)]),
    "Cb": _zigzag_positions([0, 1, 8, 9]),
    "Cr": _zigzag_positions([0, 1, 8, 9]),
}


class JPEGNet(nn.Module):
    """Two-stream ResNet on JPEG's minimum coded units: luma at 1/8, chroma at 1/16.

    The input is JPEG's coefficients as a file interleaves them:
    ``(n, v h k_Y + k_C, rows, cols)`` on the grid of minimum coded units
    (MCUs), per MCU its ``v x h`` luma blocks in raster order, ``k_Y``
    coefficients each (block slot slowest), then ``k_C`` chroma coefficients
    (Cb's, then Cr's), as ``JPEGCodec(layout="channels_first")`` gives them
    for 4:2:0 (``v = h = 2``). The network

    1. puts the luma blocks back on the luma's block grid, ``(n, k_Y, v
       rows, h cols)`` (the inverse of the MCU's space to depth: exact, no
       arithmetic);
    2. runs the luma stream there: ``depth`` residual blocks of
       ``widths[0]`` channels, then one block of stride ``(v, h)`` to
       ``widths[1]`` channels, which brings the luma to the chroma's grid;
    3. concatenates the chroma coefficients there (batch-normalized with
       ``batch_norm``): Gueguen et al.'s (2018) "Late-Concat", whose luma
       gets more computation than the chroma, as the eye gives it more
       resolution;
    4. runs the trunk: ``depth - 1`` blocks of ``widths[1]`` channels (at
       least one; the first projects the concatenation), so that the stage
       where the streams meet has ``depth`` blocks with the luma's strided
       one, as a ResNet stage has; then ``depth`` blocks per further width,
       the first of each of stride 2;
    5. averages over the grid (global average pooling) and applies the head.

    The blocks are He et al.'s (2016) basic blocks. With ``factors=(1, 1)``
    (4:4:4, or gray with ``chroma_channels=0``) chroma and luma share the
    block grid: one stream, the chroma planes joining the luma's at the
    input, and the luma stream's last block has stride 2, so the trunk works
    at 1/16 as for 4:2:0. Counted with :func:`count_parameters` and
    :func:`count_macs`, against :class:`PixelNet` with ``residual=True``.

    Parameters
    ----------
    luma_channels : int
        ``k_Y``: coefficients per luma block (at least 1).
    chroma_channels : int
        ``k_C``: chroma coefficients per MCU, Cb's and Cr's together (0: none).
    grid_shape : tuple of int
        ``(rows, cols)``: the MCU grid (the chroma's block grid).
    n_outputs : int
        Classes (logits) or regression targets.
    factors : (int, int), default=(2, 2)
        Luma blocks per MCU, vertically and horizontally: (2, 2) for 4:2:0,
        (1, 2) for 4:2:2, (1, 1) for 4:4:4 and gray.
    widths : sequence of int, default=(64, 128, 256)
        Channels of the luma stage, of the stage where the streams meet,
        and of every further stage; at least two.
    depth : int, default=2
        Residual blocks per stage (the luma's strided block is the first of
        the stage where the streams meet, which has at least one more).
    kernel_size : int, default=3
        Odd kernel size of the convolutions, in blocks.
    hidden_units : int, default=128
        Width of the hidden layer of the head (0: a linear head).
    dropout : float, default=0.0
        Dropout before the last layer.
    batch_norm : bool, default=True
        Batch normalization after every convolution, and of the chroma
        coefficients before they join.

    Examples
    --------
    Xu et al.'s 24 channels of a 224 x 224 image: 16 luma coefficients in
    28 x 28 blocks, 4 + 4 chroma coefficients in 14 x 14 MCUs.

    >>> import torch
    >>> from skcompress.nets import JPEGNet
    >>> net = JPEGNet(16, 8, (14, 14), 1000, widths=(128, 256, 512))
    >>> x = torch.zeros(2, 4 * 16 + 8, 14, 14)
    >>> net(x).shape
    torch.Size([2, 1000])
    >>> luma, chroma = net.streams(x)
    >>> tuple(luma.shape), tuple(chroma.shape)
    ((2, 16, 28, 28), (2, 8, 14, 14))
    >>> net.reduce.conv1                    # the luma's stride-2 block
    Conv2d(128, 256, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), bias=False)
    >>> net.trunk[0].conv1                  # the first block after the concatenation
    Conv2d(264, 256, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False)
    """

    def __init__(
        self,
        luma_channels,
        chroma_channels,
        grid_shape,
        n_outputs,
        *,
        factors=(2, 2),
        widths=(64, 128, 256),
        depth=2,
        kernel_size=3,
        hidden_units=128,
        dropout=0.0,
        batch_norm=True,
    ):
        super().__init__()
        name = type(self).__name__
        grid = _check_grid(name, grid_shape)
        if len(grid) != 2:
            raise ValueError(f"{name}: grid_shape must be (rows, cols) of MCUs; got {grid}.")
        widths = _check_widths(name, widths)
        if len(widths) < 2:
            raise ValueError(
                f"{name}: widths needs at least 2 channel counts (the luma stage, the stage "
                f"where the streams meet); got {widths}."
            )
        kernel_size = _check_kernel(name, kernel_size)
        depth = _check_depth(name, depth)
        k_y, k_c = int(luma_channels), int(chroma_channels)
        if k_y < 1 or k_c < 0:
            raise ValueError(
                f"{name}: luma_channels must be >= 1 and chroma_channels >= 0; got "
                f"{luma_channels} and {chroma_channels}."
            )
        v, h = (int(f) for f in factors)
        if v < 1 or h < 1:
            raise ValueError(f"{name}: factors must be two positive ints; got {factors}.")
        self.grid_shape, self.factors = grid, (v, h)
        self.luma_channels, self.chroma_channels = k_y, k_c
        self.one_stream = (v, h) == (1, 1)
        self.in_channels = v * h * k_y + k_c
        joining = 0 if self.one_stream else k_c
        self.luma, _ = _residual_stages(
            k_y + k_c - joining, 2, widths[:1], depth, kernel_size, batch_norm
        )
        stride = (2, 2) if self.one_stream else (v, h)
        self.reduce = _ResidualBlock(widths[0], widths[1], 2, kernel_size, stride, batch_norm)
        self.chroma_norm = nn.BatchNorm2d(joining) if batch_norm and joining else nn.Identity()
        # the stage where the streams meet counts the luma's strided block as its first
        meet, channels = _residual_stages(
            widths[1] + joining, 2, widths[1:2], max(depth - 1, 1), kernel_size, batch_norm
        )
        further, channels = _residual_stages(
            channels, 2, widths[2:], depth, kernel_size, batch_norm, first_stride=2
        )
        self.trunk = nn.Sequential(*meet, *further)
        self.head = _Head(channels, hidden_units, n_outputs, dropout)

    def streams(self, x):
        """The luma on its block grid and the chroma on the MCU grid (None for one stream).

        Parameters
        ----------
        x : torch.Tensor of shape (n, v h k_Y + k_C, rows, cols)

        Returns
        -------
        luma : torch.Tensor of shape (n, k_Y, v rows, h cols)
            The whole input for one stream (4:4:4, gray).
        chroma : torch.Tensor of shape (n, k_C, rows, cols) or None
        """
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f"{type(self).__name__} takes (n, {self.in_channels}, rows, cols) MCU "
                f"coefficients; got a tensor of shape {tuple(x.shape)}."
            )
        if self.one_stream:
            return x, None
        n, _, rows, cols = x.shape
        (v, h), k = self.factors, self.luma_channels
        luma = x[:, : v * h * k].reshape(n, v, h, k, rows, cols)
        luma = luma.permute(0, 3, 4, 1, 5, 2).reshape(n, k, rows * v, cols * h)
        return luma, (x[:, v * h * k :] if self.chroma_channels else None)

    def forward(self, x):
        luma, chroma = self.streams(x)
        z = self.reduce(self.luma(luma))
        if chroma is not None:
            z = torch.cat([z, self.chroma_norm(chroma)], dim=1)
        return self.head(_global_average(self.trunk(z)))


# -- what the input holds ----------------------------------------------------------


@dataclass(frozen=True)
class _Cells:
    """What each value of an MCU (a cell of the input's grid) is, as the network reads it."""

    subsampling: str
    factors: tuple
    block_size: int
    component: np.ndarray  # "Y", "Cb" or "Cr" of every value of a cell
    slot: np.ndarray  # the luma block of the MCU (raster order); 0 for chroma
    position: np.ndarray  # zig-zag position of the coefficient in its block

    def available(self, component):
        return sorted(set(self.position[self.component == component].tolist()))


def _plane_roles(names):
    """``(component, slot)`` of every plane name, or None for a name that is not JPEG's."""
    roles = []
    for name in names:
        if name in ("Cb", "Cr"):
            roles.append((name, 0))
        elif name == "gray" or re.fullmatch(r"Y\d*", name):
            roles.append(("Y", int(name[1:]) if name[1:].isdigit() else 0))
        else:
            return None
    return roles


def _subsampling_of(factors):
    return {f: name for name, f in _FACTORS.items()}.get(tuple(factors))


def _plane_names(subsampling):
    """Plane names of an MCU of ``subsampling`` (JPEGCodec's and BlockDCT's names)."""
    if subsampling == "gray":
        return ("gray",)
    v, h = _FACTORS[subsampling]
    luma = ("Y",) if v * h == 1 else tuple(f"Y{i}" for i in range(v * h))
    return (*luma, "Cb", "Cr")


def _mcu_structure(producer, grid, subsampling, k, layout, quantized=False):
    """The structure of JPEG's MCUs, as JPEGCodec describes its output."""
    factors = _FACTORS.get(subsampling, (1, 1))
    names = _plane_names(subsampling)
    return Structure(
        "dct",
        producer,
        tuple(int(g) for g in grid),
        len(names),
        int(k),
        layout,
        names,
        block_size=8,
        order="zigzag",
        factors=None if factors == (1, 1) else factors,
        quantized=quantized,
    )


def _same_cells(a, b):
    """Whether two structures describe the same values of a cell, on the same grid."""
    keys = ("grid", "depth", "k", "channels", "factors", "block_size", "order", "positions")
    return all(getattr(a, key) == getattr(b, key) for key in keys)


def _dataset_structure(dataset):
    """The structure of a JPEGDataset's items (two streams: as MCU blocks), else None."""
    from ..io import JPEGDataset

    while isinstance(dataset, Subset):
        dataset = dataset.dataset
    if not isinstance(dataset, JPEGDataset) or dataset.tables:
        return None
    k, shape, layout = int(dataset.n_coefficients), dataset.item_shape, dataset.layout
    quantized = not dataset.dequantize
    if dataset.components == "luma":
        grid = shape[1:] if layout == "channels_first" else shape[:2]
        return _mcu_structure("JPEGDataset", grid, "gray", k, layout, quantized)
    if layout == "two_stream":
        grid, layout = shape["chroma"][1:], "blocks"
        slots = (shape["luma"][1] // grid[0]) * (shape["luma"][2] // grid[1]) + 2
    elif layout == "channels_first":
        grid, slots = shape[1:], shape[0] // k
    else:
        grid, slots = shape[:2], shape[2]
    subsampling = {6: "4:2:0", 4: "4:2:2", 3: "4:4:4"}.get(slots)
    if subsampling is None:
        return None
    return _mcu_structure("JPEGDataset", grid, subsampling, k, layout, quantized)


# -- the estimators ----------------------------------------------------------------


class _JPEGInput:
    _module_class = JPEGNet
    _structure_kinds = ("dct",)
    _takes = "JPEG's block-DCT coefficients (YCbCr minimum coded units, or gray blocks)"
    _parameter_constraints = {
        **_NET_CONSTRAINTS,
        **_HEAD_CONSTRAINTS,
        "depth": [Interval(Integral, 1, MAX_BLOCKS, closed="both")],
        "batch_norm": ["boolean"],
        "channels": [StrOptions({"xu24"}), list, tuple, None],
        "n_coefficients": [Interval(Integral, 1, None, closed="left"), None],
        "subsampling": [StrOptions({"auto", "gray", *_FACTORS})],
        "layout": [StrOptions({"auto", "flat", "channels_first", "blocks"})],
        "standardize": ["boolean"],
    }
    #: The structure of the JPEGDataset being read at ``fit`` (its items carry none).
    _reading_dataset = None

    def __init__(
        self,
        *,
        widths=(64, 128, 256),
        depth=2,
        kernel_size=3,
        hidden_units=128,
        dropout=0.0,
        batch_norm=True,
        channels=None,
        n_coefficients=None,
        subsampling="auto",
        layout="auto",
        standardize=True,
        max_epochs=10,
        batch_size=128,
        lr=1e-3,
        lr_schedule="constant",
        optimizer="adam",
        weight_decay=0.0,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=5,
        criterion=None,
        train_split=None,
        iterator_train=BatchIterator,
        iterator_valid=BatchIterator,
        predict_nonlinearity="auto",
        warm_start=False,
        use_caching="auto",
        torch_load_kwargs=None,
        device="auto",
        random_state=None,
        verbose=0,
        callbacks=None,
        n_threads=None,
        **kwargs,
    ):
        self.widths = widths
        self.depth = depth
        self.kernel_size = kernel_size
        self.hidden_units = hidden_units
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.channels = channels
        self.n_coefficients = n_coefficients
        self.subsampling = subsampling
        self.layout = layout
        self.standardize = standardize
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.lr_schedule = lr_schedule
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.criterion = criterion
        self.train_split = train_split
        self.iterator_train = iterator_train
        self.iterator_valid = iterator_valid
        self.predict_nonlinearity = predict_nonlinearity
        self.warm_start = warm_start
        self.use_caching = use_caching
        self.torch_load_kwargs = torch_load_kwargs
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks
        self.n_threads = n_threads
        self._set_routed(kwargs)

    # -- two streams and data sets -------------------------------------------------

    def _streams(self, X):
        """``(blocks, structure)`` of a dict or pair ``(luma, chroma)``; other X: ``(X, None)``.

        ``blocks``: the MCUs ``(n, rows, cols, v h + 2, k)`` ("blocks" layout).
        """
        name = type(self).__name__
        if _is_streams(X):
            if set(X) != {"luma", "chroma"}:
                raise ValueError(
                    f"{name} takes two streams as a dict {{'luma', 'chroma'}}; got one of "
                    f"{sorted(X)}. Quantization tables are not read: give the JPEGDataset "
                    "tables=False (dequantize=True multiplies the coefficients by them)."
                )
            luma, chroma = X["luma"], X["chroma"]
        elif (
            isinstance(X, (tuple, list))
            and len(X) == 2
            and all(isinstance(x, (np.ndarray, torch.Tensor)) and x.ndim == 4 for x in X)
            and X[0].shape != X[1].shape
        ):
            luma, chroma = X
        else:
            return X, None
        luma, chroma = _as_array(luma), _as_array(chroma)
        n, k, luma_rows, luma_cols = luma.shape if luma.ndim == 4 else (0,) * 4
        shape_c = chroma.shape if chroma.ndim == 4 else (0,) * 4
        rows, cols = shape_c[2:]
        if (
            luma.ndim != 4
            or shape_c[:2] != (n, 2 * k)
            or not (rows and cols)
            or luma_rows % rows
            or luma_cols % cols
        ):
            raise ValueError(
                f"{name} takes two streams: luma (n, k, v rows, h cols) and chroma (n, 2 k, "
                f"rows, cols), as JPEGDataset(layout='two_stream') gives them; got luma of "
                f"shape {luma.shape} and chroma of shape {chroma.shape}."
            )
        v, h = luma_rows // rows, luma_cols // cols
        subsampling = _subsampling_of((v, h))
        if subsampling is None:
            raise ValueError(
                f"{name}: the luma's grid is {v} x {h} times the chroma's ({luma.shape} and "
                f"{chroma.shape}); JPEGNet reads 4:2:0, 4:2:2 and 4:4:4."
            )
        dtype = np.result_type(luma, chroma)
        luma = luma.reshape(n, k, rows, v, cols, h).transpose(0, 2, 4, 3, 5, 1)
        blocks = np.concatenate(
            [
                luma.reshape(n, rows, cols, v * h, k).astype(dtype, copy=False),
                chroma.reshape(n, 2, k, rows, cols).transpose(0, 3, 4, 1, 2).astype(dtype),
            ],
            axis=3,
        )
        quantized = dtype.kind in "iu"
        return blocks, _mcu_structure(
            "two streams", (rows, cols), subsampling, k, "blocks", quantized
        )

    def _validate_X(self, X, *, reset, codes_fitted=True):
        X, streams = self._streams(X)
        given = self._reading_dataset
        if streams is not None:
            if reset:
                X = with_structure(X, given if given and _same_cells(given, streams) else streams)
            else:
                fitted = getattr(self, "_cells_structure", None)
                if fitted is not None and _same_cells(fitted, streams):
                    X = to_layout(X, fitted.layout)  # read as the training data were
                else:
                    X = with_structure(X, streams)
        elif reset and given is not None and isinstance(X, np.ndarray):
            if structure_of(X) is None and X.shape[1:] == given.sample_shape:
                X = with_structure(X, given)
        return super()._validate_X(X, reset=reset, codes_fitted=codes_fitted)

    def _one_sample(self, x):
        if _is_streams(x):
            return {key: value[None] for key, value in x.items()}
        if isinstance(x, tuple) and len(x) == 2:
            return tuple(value[None] for value in x)
        return super()._one_sample(x)

    def _training_dataset(self, dataset, y, *, reset, classes):
        if not reset:
            return super()._training_dataset(dataset, y, reset=reset, classes=classes)
        self._reading_dataset = _dataset_structure(dataset)
        try:
            return super()._training_dataset(dataset, y, reset=reset, classes=classes)
        finally:
            del self._reading_dataset

    # -- reading the input -----------------------------------------------------------

    def _refusal(self, structure):
        if structure.kind in ("image", "sites"):
            task = "Classifier" if isinstance(self, ClassifierMixin) else "Regressor"
            instead = (
                "Put JPEGCodec(layout='channels_first') before it (or BlockDCT after the "
                f"ChromaSubsampler), or use PixelNet{task} on the images."
            )
        else:
            instead = _network_for(self, structure)
        return refuse(type(self).__name__, structure, self._takes, instead)

    def _cells_of(self, structure):
        """The :class:`_Cells` of ``structure``; a ValueError for what is not JPEG's."""
        name = type(self).__name__
        roles = _plane_roles(structure.channels)
        if structure.n_spatial != 2 or not roles:
            raise refuse(
                name,
                structure,
                self._takes,
                "Put ColorTransform before the DCT (YCbCr planes), or give gray images; "
                "1-D blocks are read by MDCTNet and BlockDCTNet.",
            )
        luma = [slot for component, slot in roles if component == "Y"]
        chroma = any(component != "Y" for component, _ in roles)
        factors = tuple(structure.factors) if structure.factors else (1, 1)
        subsampling = _subsampling_of(factors) if chroma else "gray"
        if subsampling is None or sorted(luma) != list(range(factors[0] * factors[1])):
            raise refuse(
                name,
                structure,
                self._takes,
                "Use ChromaSubsampler('4:2:0'), '4:2:2' or '4:4:4' (JPEGCodec's subsampling).",
            )
        b = structure.block_size or 8
        positions = cell_positions(structure)
        plane, natural = np.divmod(positions, b * b)
        component = np.array([roles[p][0] for p in plane.tolist()])
        slot = np.array([roles[p][1] for p in plane.tolist()], dtype=np.int64)
        zigzag = np.argsort(zigzag_order(b))[natural]
        return _Cells(subsampling, factors, b, component, slot, zigzag)

    def _check_structure(self, structure):
        super()._check_structure(structure)
        if structure is None:
            return
        cells = self._cells_of(structure)
        name = type(self).__name__
        for param, value in (("layout", structure.layout), ("subsampling", cells.subsampling)):
            own = getattr(self, param)
            if own not in ("auto", value):
                raise ValueError(
                    f"{name}: {param}={own!r}, but its input is {structure.describe()}, with "
                    f"{param}={value!r}. Leave {param}='auto' to read it from the input."
                )

    def _plain_structure(self, X):
        """How a plain array is read: its layout and ``subsampling``, as JPEG's MCUs."""
        name, given = type(self).__name__, self.subsampling
        layout = self.layout
        if layout == "auto":
            layout = "flat" if X.ndim == 2 else "blocks" if X.ndim == 5 else "channels_first"
        if layout == "flat" and (self.layout == "flat" or X.ndim != 2):
            _refuse_plain_flat(self, X)
        if layout == "blocks" and X.ndim in (4, 5):
            *grid, slots, k = X.shape[1:] if X.ndim == 5 else (*X.shape[1:3], 1, X.shape[3])
            found = {6: "4:2:0", 4: "4:2:2", 3: "4:4:4", 1: "gray"}.get(slots)
            if found is None or (X.ndim == 5 and slots == 1) or given not in ("auto", found):
                raise ValueError(
                    f"{name} (layout='blocks', subsampling={given!r}) expects X of shape "
                    "(n_samples, rows, cols, blocks, k), 6 blocks per MCU for 4:2:0, 4 for "
                    "4:2:2, 3 for 4:4:4 (as JPEGCodec(layout='blocks') gives them), or "
                    f"(n_samples, rows, cols, k) for gray; got X of shape {X.shape}."
                )
            subsampling = found
        elif layout in ("channels_first", "flat") and X.ndim == (4 if layout != "flat" else 2):
            if layout == "flat":
                grid, planes = (1, 1), X.shape[1]
                subsampling = "gray" if given == "auto" else given
            else:
                planes, *grid = X.shape[1:]
                if given == "auto":
                    raise ValueError(
                        f"{name}: a plain array (n_samples, planes, rows, cols) does not say "
                        "how its planes divide into JPEG's components. Set subsampling "
                        "('4:2:0' for the MCUs of JPEGCodec(layout='channels_first'), 'gray' "
                        "for one component), or give the output of the skcompress step "
                        f"itself (X.shape={X.shape})."
                    )
                subsampling = given
            slots = len(_plane_names(subsampling))
            if planes % slots:
                raise ValueError(
                    f"{name}: subsampling={subsampling!r} reads {slots} blocks per grid "
                    f"position; X has {planes} planes (X.shape={X.shape})."
                )
            k = planes // slots
        else:
            raise ValueError(
                f"{name} (layout={self.layout!r}) expects MCUs of shape (n_samples, planes, "
                "rows, cols) ('channels_first') or (n_samples, rows, cols, blocks, k) "
                f"('blocks'), or 2-D rows; got X of shape {X.shape}."
            )
        if k > 64:
            raise ValueError(
                f"{name} reads at most 64 coefficients per 8x8 block; X holds {k} per block "
                f"(X.shape={X.shape}, subsampling={subsampling!r})."
            )
        return _mcu_structure("a plain array", grid, subsampling, k, layout)

    def _check_input(self, X):
        structure = self._structure
        if structure is None:
            structure = self._plain_structure(X)
        cells = self._cells_of(structure)
        kept = self._kept_channels(cells)
        self._cells_structure = structure
        self.subsampling_ = cells.subsampling
        self.grid_shape_ = tuple(int(g) for g in structure.grid)
        self.channels_ = tuple((c, p) for c in _COMPONENTS for p in kept[c])
        # where each module channel is among the values of a cell
        lookup = {
            (c, s, p): i
            for i, (c, s, p) in enumerate(
                zip(
                    cells.component.tolist(),
                    cells.slot.tolist(),
                    cells.position.tolist(),
                    strict=True,
                )
            )
        }
        v, h = cells.factors
        index, groups = [], []
        for s in range(v * h):
            missing = [p for p in kept["Y"] if ("Y", s, p) not in lookup]
            if missing:  # FrequencySelector keeps a component's frequencies in all its blocks
                raise ValueError(
                    f"{type(self).__name__}: luma block {s} of each MCU lacks the coefficients "
                    f"at zig-zag positions {missing} that another block holds; the luma blocks "
                    "of an MCU must hold the same frequencies, as a JPEG file's do. Select "
                    "them with FrequencySelector, or set channels to what every block holds."
                )
            index += [lookup[("Y", s, p)] for p in kept["Y"]]
            groups += range(len(kept["Y"]))  # one group per luma frequency, all blocks
        chroma = [lookup[(c, 0, p)] for c in ("Cb", "Cr") for p in kept[c]]
        self._index = np.array(index + chroma, dtype=np.int64)
        self._groups = np.array(groups + [len(kept["Y"]) + j for j in range(len(chroma))])
        self._factors = (v, h)
        self._n_luma, self._n_chroma = len(kept["Y"]), len(chroma)

    def _kept_channels(self, cells):
        """``{component: sorted zig-zag positions}`` that the network reads."""
        name = type(self).__name__
        present = [c for c in _COMPONENTS if c in set(cells.component.tolist())]
        available = {c: cells.available(c) for c in present}
        channels, n = self.channels, self.n_coefficients
        if channels is not None and n is not None:
            raise ValueError(
                f"{name}: give channels or n_coefficients, not both; got channels={channels!r} "
                f"and n_coefficients={n}."
            )
        if channels is None and n is None:
            return {c: available.get(c, []) for c in _COMPONENTS}
        if n is not None:
            wanted = {c: list(range(n)) for c in present}
            setting = f"n_coefficients={n}"
        else:
            wanted = self._parse_channels(cells.block_size)
            setting = "channels='xu24'" if isinstance(channels, str) else "channels"
        kept = {c: [] for c in _COMPONENTS}
        for component, positions in wanted.items():
            missing = sorted(set(positions) - set(available.get(component, [])))
            if component not in available or missing:
                what = (
                    f"no {component} component"
                    if component not in available
                    else f"no {component} coefficients at zig-zag positions {missing}"
                )
                raise ValueError(
                    f"{name}: {setting} asks for {what}; its input holds "
                    f"{', '.join(f'{len(available[c])} {c}' for c in present)} coefficients "
                    f"per block ({cells.subsampling}). Keep more at the transform "
                    "(n_coefficients of JPEGCodec or BlockDCT), or ask for fewer."
                )
            kept[component] = sorted(positions)
        if not kept["Y"]:
            raise ValueError(
                f"{name}: {setting} keeps no luma (Y) coefficient; keep at least one."
            )
        return kept

    def _parse_channels(self, block_size):
        """``channels`` as ``{component: zig-zag positions}``."""
        name, channels = type(self).__name__, self.channels
        if isinstance(channels, str):
            if block_size != 8:
                raise ValueError(
                    f"{name}: channels='xu24' names frequencies of 8x8 blocks; the input's "
                    f"blocks are {block_size}x{block_size}."
                )
            return {c: list(p) for c, p in XU24.items()}
        wanted, limit = {}, block_size * block_size
        for pair in channels:
            ok = isinstance(pair, (tuple, list)) and len(pair) == 2
            component, position = pair if ok else (None, None)
            if (
                component not in _COMPONENTS
                or not isinstance(position, Integral)
                or isinstance(position, bool)
                or not 0 <= position < limit
                or position in wanted.get(component, ())
            ):
                raise ValueError(
                    f"{name}: channels must be 'xu24' or distinct (component, zig-zag "
                    f"position) pairs, component in {_COMPONENTS} and position in [0, "
                    f"{limit}); got {pair!r} in channels={channels!r}."
                )
            wanted.setdefault(component, []).append(int(position))
        if not wanted:
            raise ValueError(f"{name}: channels is empty; keep at least one Y coefficient.")
        return wanted

    def _to_module_input(self, X):
        structure = self._cells_structure
        n, (rows, cols) = len(X), structure.grid
        values = structure.blocks(X).reshape(n, rows, cols, -1)
        return np.moveaxis(values[..., self._index], -1, 1)

    def _standardize_groups(self, Z):
        return np.repeat(self._groups, Z.shape[2] * Z.shape[3])

    def _module_kwargs(self):
        return dict(
            luma_channels=self._n_luma,
            chroma_channels=self._n_chroma,
            grid_shape=self.grid_shape_,
            n_outputs=self._n_outputs,
            factors=self._factors,
            widths=tuple(self._param("widths")),
            depth=self._param("depth"),
            kernel_size=self._param("kernel_size"),
            hidden_units=self._param("hidden_units"),
            dropout=self._param("dropout"),
            batch_norm=self._param("batch_norm"),
        )

    def _describe_input(self):
        structure = getattr(self, "_cells_structure", None)
        return "JPEG's MCU coefficients" if structure is None else structure.describe()

    @classmethod
    def get_test_params(cls):
        return [{**_TEST_TRAINING, "widths": (4, 8), "depth": 1, "hidden_units": 16}]


_JPEG_PARAMS = """\
    widths : sequence of int, each in [1, 4096], default=(64, 128, 256)
        Channels of the luma stage (at the luma's block grid, 1/8), of the
        stage where luma and chroma meet (the chroma's grid, 1/16 for
        4:2:0), and of every further stage, each at half the grid of the one
        before; at least two. ``(128, 256, 512)`` with ``depth=2`` has the
        last three stages of ResNet-18.
    depth : int in [1, 64], default=2
        Residual blocks per stage (see :class:`~skcompress.nets.JPEGNet`:
        the luma's strided block is the first of the stage where the streams
        meet).
    batch_norm : bool, default=True
        Batch normalization after every convolution, and of the chroma
        before it joins. Training leaves out a last batch of one sample.
    channels : "xu24", sequence of (str, int) or None, default=None
        The frequency channels to read, the same in every block of a
        component (a static selection, Xu et al. 2020): "xu24", their 24
        channels (the 4 x 4 lowest frequencies of Y, the 2 x 2 of Cb and
        of Cr); or pairs ``(component, position)``, component "Y", "Cb" or
        "Cr" and position the coefficient's index in JPEG's zig-zag scan
        (``("Y", 0)`` is the luma's DC). None: every coefficient of the
        input, or the first ``n_coefficients``.
    n_coefficients : int or None, default=None
        Read the first ``n_coefficients`` coefficients in zig-zag order of
        every block. None: all (or ``channels``).
    subsampling : {"auto", "4:2:0", "4:2:2", "4:4:4", "gray"}, default="auto"
        How the planes at a grid position divide into components: per MCU
        4 luma blocks, Cb and Cr ("4:2:0"), 2 luma blocks, Cb and Cr
        ("4:2:2"), one block of each ("4:4:4"), or one gray block. "auto":
        what the step before (or the JPEGDataset) says, or the blocks of a
        plain "blocks" array ``(n, rows, cols, blocks, k)``; a plain
        "channels_first" array does not say it, and must be given it.
    layout : {"auto", "flat", "blocks", "channels_first"}, default="auto"
        Layout of the input. "auto": the one the step before says its
        output has, whatever it is; an explicit layout must agree with it.
        Plain arrays: "blocks" ``(n, rows, cols, blocks, k)`` (5-D, or
        ``(n, rows, cols, k)`` for gray), "channels_first" ``(n, blocks k,
        rows, cols)`` (block slowest); "auto" reads 5-D arrays as "blocks",
        4-D ones as "channels_first", and a plain 2-D array ``(n,
        n_features)`` as one cell (a 1 x 1 grid) of ``n_features`` gray
        coefficients, as scikit-learn's checks give it ("flat" refuses it)."""

_JPEG_SUMMARY = """\
    {what} on JPEG's colour coefficients as stored: luma and chroma at their own resolutions.

    JPEG codes colour as YCbCr with subsampled chroma (4:2:0: Cb and Cr at
    half the resolution of Y along both axes), interleaved in minimum coded
    units (MCUs): per 16 x 16 pixels, four luma blocks, then one Cb and one
    Cr block. The estimator takes them so, from ``JPEGCodec`` (layout
    "channels_first" or "blocks"), ``ColorTransform -> ChromaSubsampler ->
    BlockDCT`` (and a quantizer, a ``FrequencySelector``) in any layout, or a
    :class:`~skcompress.io.JPEGDataset` of files (any layout; its
    "two_stream" items ``{{"luma": (k, H/8, W/8), "chroma": (2 k, H/16,
    W/16)}}``, or such a dict or pair of arrays), and trains a
    :class:`~skcompress.nets.JPEGNet`: the luma back on its block grid
    (1/8), a luma stream of residual blocks down to the chroma's grid
    (1/16), the chroma joined there (Gueguen et al. 2018's late
    concatenation), then residual stages, global average pooling and the
    head. ``channels`` reads a fixed set of frequency channels (Xu et al.
    2020's static selection). Gray and 4:4:4 input make one stream. The
    pixel baseline of matching depth is ``{pixel}(residual=True)``.
"""

_JPEG_ATTRIBUTES = """\
    subsampling_ : str
        The input's sampling: "4:2:0", "4:2:2", "4:4:4" or "gray".
    channels_ : tuple of (str, int)
        The ``(component, zig-zag position)`` channels read, Y's, then Cb's,
        then Cr's, each in zig-zag order (the same in every block).
    grid_shape_ : tuple of int
        The grid of MCUs (the chroma's block grid; the block grid of 4:4:4
        and gray input).
"""

_JPEG_NOTES = """
    ``channels`` and ``n_coefficients`` choose what the network reads, not
    what the steps before code: a pipeline's rate counts every coefficient
    they emit, as JPEG files hold them (Xu et al. read whole files too). To
    spend no bits on the others, keep them at the transform instead
    (``JPEGCodec(n_coefficients=...)``, ``FrequencySelector``, which keeps
    the same frequencies in the luma blocks of an MCU).

    A :class:`~skcompress.io.JPEGDataset`'s items carry no structure; the
    estimator reads them as the data set says they are (its layout,
    components and coefficients), and a fitted one reads every input so.
    A plain 4-D array needs ``subsampling``.

"""

_JPEG_CLASSIFIER_EXAMPLES = """\
    Reddish versus bluish noise: the classes differ in the chroma only.

    >>> import numpy as np
    >>> from sklearn.pipeline import make_pipeline
    >>> from skcompress import JPEGCodec
    >>> from skcompress.nets import JPEGNetClassifier
    >>> rng = np.random.default_rng(0)
    >>> y = np.arange(96) % 2
    >>> rgb = rng.normal(128, 30, (96, 32, 32, 3))
    >>> rgb[..., 0] += 20 * (2 * y[:, None, None] - 1)
    >>> rgb = np.clip(rgb, 0, 255).astype(np.uint8)
    >>> pipe = make_pipeline(
    ...     JPEGCodec(quality=75, layout="channels_first"),
    ...     JPEGNetClassifier(channels="xu24", widths=(8, 16), depth=1, max_epochs=8,
    ...                       lr=0.01, random_state=0, device="cpu", n_threads=1),
    ... ).fit(rgb[:64], y[:64])
    >>> net = pipe[-1]
    >>> net.input_shape_, net.subsampling_, len(net.channels_)   # 6 blocks of 64 per MCU
    ((384, 2, 2), '4:2:0', 24)
    >>> net.module_params_["luma_channels"], net.module_params_["chroma_channels"]
    (16, 8)
    >>> bool(pipe.score(rgb[64:], y[64:]) > 0.8)
    True
"""

_JPEG_REGRESSOR_EXAMPLES = """\
    The brightness of a picture from its JPEG coefficients:

    >>> import numpy as np
    >>> from sklearn.pipeline import make_pipeline
    >>> from skcompress import JPEGCodec
    >>> from skcompress.nets import JPEGNetRegressor
    >>> rng = np.random.default_rng(0)
    >>> level = rng.uniform(60, 190, 96)
    >>> rgb = np.clip(rng.normal(level[:, None, None, None], 20, (96, 32, 32, 3)), 0, 255)
    >>> pipe = make_pipeline(
    ...     JPEGCodec(layout="blocks"),
    ...     JPEGNetRegressor(n_coefficients=1, widths=(8, 8), depth=1, max_epochs=30,
    ...                      lr=0.01, random_state=0, device="cpu", n_threads=1),
    ... ).fit(rgb[:64].astype(np.uint8), level[:64])
    >>> pipe[-1].channels_
    (('Y', 0), ('Cb', 0), ('Cr', 0))
    >>> bool(pipe.score(rgb[64:].astype(np.uint8), level[64:]) > 0.8)
    True
"""


class JPEGNetClassifier(_JPEGInput, _NetClassifier):
    __doc__ = _doc(
        _JPEG_SUMMARY.format(what="CNN classifier", pixel="PixelNetClassifier"),
        _JPEG_PARAMS,
        _JPEG_CLASSIFIER_EXAMPLES,
        module="JPEGNet",
        kind="Classifier",
        groups="luma frequency (all the luma blocks of an MCU together) and chroma channel",
        attributes=_JPEG_ATTRIBUTES,
        notes=_JPEG_NOTES,
    )


class JPEGNetRegressor(_JPEGInput, _NetRegressor):
    __doc__ = _doc(
        _JPEG_SUMMARY.format(what="CNN regressor", pixel="PixelNetRegressor"),
        _JPEG_PARAMS,
        _JPEG_REGRESSOR_EXAMPLES,
        module="JPEGNet",
        kind="Regressor",
        groups="luma frequency (all the luma blocks of an MCU together) and chroma channel",
        attributes=_JPEG_ATTRIBUTES,
        notes=_JPEG_NOTES,
    )
