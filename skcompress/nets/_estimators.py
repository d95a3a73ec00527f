"""skorch estimators that take the output of a skcompress step directly, in a Pipeline."""

from math import prod
from numbers import Integral

import numpy as np
from sklearn.utils._param_validation import Interval, Options, StrOptions

from .._core._contract import to_layout
from .._core._limits import MAX_BLOCK_SIZE, MAX_BLOCKS, MAX_LEVELS, MAX_UPSAMPLE, MAX_WIDTH
from ..transforms import WaveletTransform
from ._base import _HEAD_CONSTRAINTS, _NET_CONSTRAINTS, _NetClassifier, _NetRegressor
from ._data import BatchIterator
from ._modules import BlockDCTNet, CodeEmbeddingNet, MDCTNet, PixelNet, WaveletNet
from ._skorch import FITTED_ATTRIBUTES, PERSISTENCE_NOTES, runtime_params

# Training of the instances that tests/test_common.py checks: tiny and quick.
_TEST_TRAINING = {
    "max_epochs": 10,
    "lr": 0.03,
    "batch_size": 64,
    "random_state": 0,
    "device": "cpu",
    "n_threads": 1,
}

# -- shared docstring parts ---------------------------------------------------

_HEAD_PARAMS = """\
    kernel_size : int in [1, 63], default=3
        Odd kernel size of the convolutions.
    hidden_units : int in [0, 16384], default=128
        Width of the hidden layer of the head (0: a linear head).
    dropout : float in [0, 1), default=0.0
        Dropout before the last layer."""

_STANDARDIZE = """\
    standardize : bool, default=True
        Standardize the input with means and deviations learned at ``fit``,
        one pair per {groups} (coefficients of very different scales, such as
        a DC term and high frequencies, then train at one learning rate).
        Part of the estimator, so its input can be raw transform output or
        quantized symbols."""

_TRAINING_PARAMS = """\
    max_epochs : int, default=10
        Passes over the training data in ``fit``.
    batch_size : int, default=128
        Samples per mini-batch (training and inference; prediction runs
        batches of at most as many samples as the first training call had).
    lr : float, default=1e-3
        Learning rate. Training whose loss turns non-finite (a learning rate
        too large) stops ``fit`` with a ValueError and leaves the estimator
        unfitted.
    lr_schedule : {{"constant", "cosine"}}, default="constant"
        "constant" keeps ``lr``. "cosine": ``fit`` decays the learning rate
        from ``lr`` to 0 along a half cosine over all its batches (Loshchilov
        and Hutter 2017, without restarts), which settles the weights by the
        last epoch; with few epochs it trains less far than "constant" at the
        same ``lr``, so raise ``lr`` with it. ``partial_fit`` always trains at
        ``lr``.
    optimizer : {{"adam", "adamw", "sgd"}} or torch optimizer class, default="adam"
        The torch optimizer ("sgd": SGD with momentum 0.9). A class
        (``torch.optim.RMSprop``) is skorch's ``optimizer``; its keywords
        are ``optimizer__*`` parameters (``optimizer__momentum=0.5``), which
        also override the defaults of the names.
    weight_decay : float, default=0.0
        L2 penalty (decoupled for "adamw"); ``optimizer__weight_decay``
        overrides it.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data{stratified} and
        stop when its loss has not improved for ``n_iter_no_change`` epochs,
        keeping the best epoch's weights (skorch's ``EarlyStopping``).
    validation_fraction : float in (0, 1), default=0.1
        Share held out by ``early_stopping``.
    n_iter_no_change : int, default=5
        Patience of ``early_stopping``, in epochs.
    criterion : torch loss class or None, default=None
        skorch's ``criterion``, called as ``criterion(outputs, targets)``
        (its keywords: ``criterion__*`` parameters). None:
        {criterion}.
    train_split : callable or None, default=None
        skorch's split of the training data into a training and a
        validation part (``skorch.dataset.ValidSplit(0.2)``): the history
        records the validation loss{valid_acc} every epoch, for callbacks
        such as ``EarlyStopping`` or ``EpochScoring`` to read. None: the
        split of ``early_stopping``, or none.
    iterator_train, iterator_valid : class, default=BatchIterator
        What serves the training batches (shuffled), and the validation and
        prediction batches (skorch's). :class:`~skcompress.nets.BatchIterator`
        slices whole tensors, and hands a torch Dataset, or any
        ``DataLoader`` option it cannot honour by slicing, to a
        ``DataLoader``: ``iterator_train__num_workers=2``,
        ``iterator_train__pin_memory=True``...; ``torch.utils.data.DataLoader``
        itself works too.
    predict_nonlinearity : "auto", callable or None, default="auto"
        skorch's: applied to the outputs by ``predict`` and
        ``predict_proba``; "auto": {nonlinearity}.
    warm_start : bool, default=False
        When fitted, ``fit`` trains on from the current weights (and input
        statistics) instead of starting afresh.
    use_caching : "auto" or bool, default="auto"
        skorch's: scoring callbacks reuse the predictions of the validation
        step.
    torch_load_kwargs : dict or None, default=None
        Keywords of ``torch.load`` in :meth:`load_params` (None:
        ``weights_only=True``)."""

_ROUTED_PARAMS = """    **kwargs
        skorch's routed parameters, in the constructor or ``set_params`` (and
        so in a grid search): ``module__<name>`` sets a keyword of the module
        ({module}) over the estimator's parameter of the same name
        (``module__widths=(32, 64)``; what the estimator reads from or checks
        against its input is refused); ``optimizer__<name>``,
        ``criterion__<name>``, ``iterator_train__<name>``,
        ``iterator_valid__<name>`` and ``callbacks__<name>__<param>`` (the
        callbacks by name: ``callbacks__print_log=None`` silences the table)
        as in skorch. A name that none of them takes is reported at ``fit``."""

_ATTRIBUTES = """\
    module_ : {module}
        The trained torch module, built at ``fit`` from the input.
    module_params_ : dict
        The keywords it was built with (read from the input, the
        estimator's parameters, ``module__*``).
    history : skorch.history.History
        The training history: loss, duration (and validation loss and
        scores, with ``train_split``) per epoch.
    criterion_, optimizer_, callbacks_
        skorch's: the loss, the optimizer and the named callbacks in use.
    input_shape_ : tuple of int
        Shape of one input sample seen at ``fit``.
    input_structure_ : Structure or None
        What the step before said its output is (see Notes); None for
        plain arrays.
{extra}    macs_ : int
        Multiply-accumulates per sample of one forward pass
        (:func:`~skcompress.nets.count_macs`; FLOPs are about twice as many).
"""

_CLASSIFIER_ATTRIBUTES = """\
    classes_ : ndarray of shape (n_classes,)
        The class labels, in the order of ``predict_proba``'s columns.
"""

_REGRESSOR_ATTRIBUTES = """\
    target_mean_, target_scale_ : ndarray of shape (n_targets,)
        Targets are standardized with these for training.
"""

_NOTES = """\
    Notes
    -----
    The estimator is a skorch ``NeuralNet{kind}`` whose module is built at
    ``fit`` from the input: ``history``, ``save_params`` / ``load_params``,
    callbacks, ``warm_start`` and the routed parameters work as in skorch.
    It checks and reshapes the input, standardizes it and holds it as whole
    tensors, whose mini-batches are slices (no per-sample collation). ``fit``
    also takes a torch ``Dataset`` of ``(X, y)`` items, one sample each (a
    dataset of files, say): a first pass over it finds the classes (or the
    target scale) and the input statistics, then its batches are checked
    and prepared as training draws them. Unlike skorch's, ``partial_fit``
    trains one epoch (as scikit-learn's ``partial_fit``), ``initialize``
    takes example input ``(X, y)`` to build the module from, and targets
    stay as given in the datasets that skorch's callbacks see ({targets}
    for the criterion only).

    The numpy output of a skcompress step says what one sample is (see
    :mod:`skcompress` and the data contract): its grid, planes, values per
    cell, layout. The network reads its input that way, in any layout,
    instead of from settings repeated by hand, and refuses what it cannot
    read (a ValueError that names the network that can). Settings given
    anyway must agree with it. That structure is recorded at ``fit``
    (``input_structure_``); plain arrays and torch tensors carry none, and a
    fitted network reads them as it read its training data.
"""

_SEEDED = "the weights, the order of the mini-batches, dropout and the early-stopping split"


def _doc(summary, params, examples, *, kind, module, groups, attributes="", see_also="", notes=""):
    """The class docstring of a network estimator; ``notes``: paragraphs added to its Notes."""
    classifier = kind == "Classifier"
    extra = attributes + (_CLASSIFIER_ATTRIBUTES if classifier else _REGRESSOR_ATTRIBUTES)
    training = _TRAINING_PARAMS.format(
        stratified=", stratified by class," if classifier else "",
        criterion=(
            "``torch.nn.CrossEntropyLoss``\n"
            "        (logits, positions of the labels in ``classes_``)"
            if classifier
            else "``torch.nn.MSELoss``\n        (outputs, standardized targets)"
        ),
        valid_acc=" and accuracy" if classifier else "",
        nonlinearity="the softmax for ``CrossEntropyLoss``" if classifier else "none",
    )
    parts = [
        summary,
        "    Parameters\n    ----------\n" + params,
        _HEAD_PARAMS,
        _STANDARDIZE.format(groups=groups) if groups else None,
        training,
        runtime_params(_SEEDED),
        _ROUTED_PARAMS.format(module=f":class:`~skcompress.nets.{module}`"),
        "",
        "    Attributes\n    ----------\n"
        + _ATTRIBUTES.format(module=f"{module}", extra=extra)
        + FITTED_ATTRIBUTES,
        "",
        see_also,
        _NOTES.format(
            kind=kind,
            targets="labels of any type, encoded" if classifier else "standardized",
        )
        + notes
        + PERSISTENCE_NOTES.format(what="estimator"),
        "",
        "    Examples\n    --------\n" + examples,
    ]
    return "\n".join(p for p in parts if p is not None) + "\n    "


# -- input families ---------------------------------------------------------


def _channels_first(X, layout):
    """``(n, C, *grid)`` from "channels_first" (as is), "blocks" (moved) or 2-D (a 1-long grid)."""
    if X.ndim == 2:
        return X[:, :, None]
    if layout == "blocks":
        if X.ndim == 5:  # (n, h, w, C, k): C * k planes, colour-major as BlockDCT orders them
            X = X.reshape(*X.shape[:3], -1)
        return np.moveaxis(X, -1, 1)
    return X


def _structured_channels_first(X, structure):
    """``(n, depth * k, *grid)``: ``X``, laid out as ``structure`` says, as planes on its grid."""
    return to_layout(structure.blocks(X), "channels_first")


def _shape(shape):
    return f"(n_samples, {', '.join(map(str, shape))})"


def _check_settings(estimator, structure, settings):
    """Raise if a setting given (not "auto" or None) contradicts what ``structure`` says.

    ``settings``: ``{parameter: (the structure's value as shown, or None when its
    description says it, accepted values)}``.
    """
    for param, (shown, accepted) in settings.items():
        own = getattr(estimator, param)
        if own in ("auto", None) or own in accepted:
            continue
        default = "auto" if param == "layout" else None
        says = "" if shown is None else f", with {param}={shown}"
        raise ValueError(
            f"{type(estimator).__name__}: {param}={own!r}, but its input is "
            f"{structure.describe()}{says}. Leave {param}={default!r} to read it from the "
            "input."
        )


def _refuse_plain_flat(estimator, X):
    """layout="flat" names the structured output of a step; a plain array has no grid to read."""
    raise ValueError(
        f"{type(estimator).__name__}: layout='flat' reads the structured 'flat' output of a "
        f"skcompress step, which says its grid; X is a plain array of shape {X.shape}. Put "
        "the network right after the skcompress steps (it standardizes its input itself), "
        "or give it a layout with a grid ('channels_first', 'blocks')."
    )


class _BlockDCTInput:
    _module_class = BlockDCTNet
    _input_settings = ("n_color_channels", "n_coefficients", "block_size", "sub_block_init")
    _structure_kinds = ("dct",)
    _takes = "block-DCT coefficients"
    _parameter_constraints = {
        **_NET_CONSTRAINTS,
        **_HEAD_CONSTRAINTS,
        "n_color_channels": [Interval(Integral, 1, None, closed="left"), None],
        "n_coefficients": [Interval(Integral, 1, None, closed="left"), None],
        "upsample": [Interval(Integral, 1, MAX_UPSAMPLE, closed="both")],
        "sub_block_init": [StrOptions({"learned", "idct"})],
        "batch_norm": ["boolean"],
        "n_pool": [Interval(Integral, 0, None, closed="left"), None],
        "block_size": [Interval(Integral, 1, MAX_BLOCK_SIZE, closed="both"), None],
        "layout": [StrOptions({"auto", "flat", "channels_first", "blocks"})],
        "standardize": ["boolean"],
    }

    def __init__(
        self,
        *,
        widths=(64,),
        kernel_size=3,
        hidden_units=128,
        dropout=0.0,
        n_color_channels=None,
        n_coefficients=None,
        upsample=2,
        sub_block_init="learned",
        batch_norm=False,
        n_pool=None,
        block_size=None,
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
        self.kernel_size = kernel_size
        self.hidden_units = hidden_units
        self.dropout = dropout
        self.n_color_channels = n_color_channels
        self.n_coefficients = n_coefficients
        self.upsample = upsample
        self.sub_block_init = sub_block_init
        self.batch_norm = batch_norm
        self.n_pool = n_pool
        self.block_size = block_size
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

    @property
    def _plain_layout(self):
        return "channels_first" if self.layout == "auto" else self.layout

    def _check_structure(self, structure):
        super()._check_structure(structure)
        if structure is None:
            return
        name = type(self).__name__
        planes = ", ".join(structure.channels)
        _check_settings(
            self,
            structure,
            {
                "layout": (None, (structure.layout,)),
                "n_color_channels": (f"{structure.depth} ({planes})", (structure.depth,)),
                "block_size": (structure.block_size, (structure.block_size,)),
            },
        )
        k, n = structure.k, self.n_coefficients
        if n is not None and n > k:
            raise ValueError(
                f"{name}: n_coefficients={n} exceeds the {k} coefficients per block of its "
                f"input, {structure.describe()}."
            )
        if n is not None and n < k:
            step = structure.producer
            raise ValueError(
                f"{name}: n_coefficients={n}, but its input is {structure.describe()}: the "
                f"steps before it code all {k} coefficients of every block, and the rate of the "
                f"pipeline would count the {k - n} that the network drops. Keep {n} at the "
                f"transform instead ({step}(n_coefficients={n}); in a Pipeline, "
                f"{step.lower()}__n_coefficients={n}) and leave n_coefficients=None here."
            )
        if (
            self.sub_block_init == "idct"
            and structure.n_spatial == 2
            and structure.order not in (None, "zigzag")
        ):
            raise ValueError(
                f"{name}: sub_block_init='idct' takes coefficients in zig-zag order; its input "
                f"is {structure.describe()}. Set order='zigzag' on the transform, or "
                "sub_block_init='learned'."
            )
        if self.sub_block_init == "idct" and structure.positions is not None:
            raise ValueError(
                f"{name}: sub_block_init='idct' takes the first coefficients in zig-zag order; "
                f"its input is {structure.describe()} (a FrequencySelector's choice). Use "
                "sub_block_init='learned' after a selector."
            )

    def _check_input(self, X):
        name = type(self).__name__
        structure = self._structure
        if structure is not None:
            self.n_color_channels_ = structure.depth
            self.grid_shape_ = tuple(structure.grid)
            return
        layout = self._plain_layout
        if layout == "flat":
            _refuse_plain_flat(self, X)
        allowed = (2, 3, 4) if layout == "channels_first" else (2, 3, 4, 5)
        if X.ndim not in allowed:
            expected = (
                "(n_samples, channels * k, h, w), as BlockDCT(layout='channels_first') gives"
                if layout == "channels_first"
                else "(n_samples, h, w, k) or (n_samples, h, w, channels, k), as "
                "BlockDCT(layout='blocks') gives"
            )
            raise ValueError(
                f"{name} (layout={self.layout!r}) expects X of shape {expected}; "
                f"got X of shape {X.shape}."
            )
        colour = X.shape[-2] if layout == "blocks" and X.ndim == 5 else None
        if colour is not None and self.n_color_channels not in (None, colour):
            raise ValueError(
                f"{name}: n_color_channels={self.n_color_channels} but X in the 'blocks' "
                f"layout has {colour} colour channels (X.shape={X.shape})."
            )
        C = colour or self.n_color_channels or 1
        planes, *grid = _channels_first(X[:1], layout).shape[1:]
        if planes % C:
            raise ValueError(
                f"{name}: n_color_channels={C} does not divide the {planes} planes of X "
                f"(X.shape={X.shape}); expected channels * k planes."
            )
        if self.n_coefficients is not None and self.n_coefficients > planes // C:
            raise ValueError(
                f"{name}: n_coefficients={self.n_coefficients} exceeds the {planes // C} "
                f"coefficients per block and colour channel of X (X.shape={X.shape})."
            )
        self.n_color_channels_ = C
        self.grid_shape_ = tuple(grid)

    def _to_module_input(self, X):
        structure = self._structure
        if structure is not None:
            return _structured_channels_first(X, structure)
        return _channels_first(X, self._plain_layout)

    def _module_kwargs(self):
        planes = self._to_module_input(np.empty((1, *self.input_shape_))).shape[1]
        structure = self._structure
        block_size = structure.block_size if structure is not None else None
        return dict(
            in_channels=planes,
            grid_shape=self.grid_shape_,
            n_outputs=self._n_outputs,
            widths=tuple(self._param("widths")),
            kernel_size=self._param("kernel_size"),
            hidden_units=self._param("hidden_units"),
            dropout=self._param("dropout"),
            n_color_channels=self.n_color_channels_,
            n_coefficients=self.n_coefficients,
            upsample=self._param("upsample"),
            sub_block_init=self.sub_block_init,
            batch_norm=self._param("batch_norm"),
            n_pool=self._param("n_pool"),
            block_size=block_size or self.block_size or 8,
        )

    def _describe_input(self):
        return f"block-DCT coefficients in the {self._plain_layout!r} layout"

    @classmethod
    def get_test_params(cls):
        return [{**_TEST_TRAINING, "widths": (8,), "hidden_units": 16}]


_BLOCK_DCT_PARAMS = """\
    widths : sequence of int, each in [1, 4096], default=(64,)
        Channels of the convolution stages (empty: an MLP on the
        coefficients).
    n_color_channels : int or None, default=None
        Planes of blocks at every grid position (1 gray, 3 YCbCr, 6 for the
        minimum coded units of 4:2:0 chroma: Y0 to Y3, Cb, Cr; see
        :class:`~skcompress.nets.BlockDCTNet`). None: from the input's
        structure, or the shape of "blocks" input, else 1.
    n_coefficients : int or None, default=None
        Use only the first ``n_coefficients`` coefficients (the lowest
        frequencies in zig-zag order) of every block and colour channel, of
        plain arrays. None: all. After skcompress steps the rate of the
        pipeline counts what they code, so the coefficients are kept at the
        transform (``BlockDCT(n_coefficients=...)``) and a smaller value
        here raises a ValueError that says so.
    upsample : int in [1, 64], default=2
        The stages work on a grid ``upsample`` times finer than the blocks:
        every block's coefficients are first mapped by one learned linear map
        to ``upsample x upsample`` sub-block features (see
        :class:`~skcompress.nets.BlockDCTNet`). A power of 2; 1 runs the
        stages on the block grid. Ignored when ``widths`` is empty.
    sub_block_init : {"learned", "idct"}, default="learned"
        Start of that map: random ("learned", then a ReLU), or the inverse
        DCT of the block ("idct"), so the network starts from the decoded
        image as ``(block_size / upsample)**2`` channels of samples on the
        sub-block grid (linear, trainable; the coefficients must be the
        first ones in zig-zag order, as ``BlockDCT`` gives them); best with
        ``batch_norm=True`` and ``n_pool=2`` (see
        :class:`~skcompress.nets.BlockDCTNet`).
    batch_norm : bool, default=False
        Batch normalization after every convolution and the sub-block map.
    n_pool : int or None, default=None
        Stages followed by a 2x max-pooling (the first ones); None:
        ``log2(upsample)``, back to the block grid.
    block_size : int in [1, 4096] or None, default=None
        Side of the DCT blocks; used by ``sub_block_init="idct"`` only.
        None: from the input's structure, else 8.
    layout : {"auto", "flat", "blocks", "channels_first"}, default="auto"
        Layout of the input. "auto": the one the step before says its
        output has (see Notes), whatever it is; an explicit layout must
        agree with it. Plain arrays (no step to say) are read as
        "channels_first", ``(n, C * k, h, w)``, or "blocks", ``(n, h, w,
        [C,] k)``; "auto" reads them as "channels_first". A plain 2-D array
        ``(n, n_features)`` has no grid to read: it is taken as
        ``n_features`` planes on a 1 x 1 grid (a perceptron on the
        features), as scikit-learn's estimator checks and tabular data
        give it; "flat" refuses it."""

_BLOCK_DCT_SUMMARY = """\
    {what} on block-DCT coefficients: JPEG's representation, without decoding it.

    Takes what ``BlockDCT`` and ``PerceptualQuantizer`` after it emit, in any
    layout (float coefficients or int32 symbols), reads the coefficients of
    every block as planes on the grid of blocks (at 1/8 resolution for
    JPEG's 8x8 blocks), and trains a :class:`~skcompress.nets.BlockDCTNet`
    on them (Gueguen et al. 2018; Xu et al. 2020). The pixel baseline is
    :class:`{pixel}`.
"""

_BLOCK_DCT_CLASSIFIER_EXAMPLES = """\
    >>> from sklearn.pipeline import make_pipeline
    >>> from skcompress import BlockDCT, PerceptualQuantizer
    >>> from skcompress.datasets import load_mnist
    >>> from skcompress.nets import BlockDCTNetClassifier
    >>> X, y = load_mnist(return_X_y=True)
    >>> pipe = make_pipeline(
    ...     BlockDCT(n_coefficients=16),
    ...     PerceptualQuantizer(quality=50),
    ...     BlockDCTNetClassifier(max_epochs=4, lr=3e-3, random_state=0, device="cpu",
    ...                           n_threads=1),
    ... ).fit(X[:1000], y[:1000])
    >>> pipe[-1].input_shape_          # the quantizer's "flat" output ...
    (256,)
    >>> pipe[-1].grid_shape_           # ... read as 16 coefficients on the 4x4 grid of blocks
    (4, 4)
    >>> bool(pipe.score(X[1000:1500], y[1000:1500]) > 0.6)     # chance: 0.1
    True
"""

_BLOCK_DCT_REGRESSOR_EXAMPLES = """\
    Regress the mean intensity of a digit from its DC coefficients alone:

    >>> from sklearn.pipeline import make_pipeline
    >>> from skcompress import BlockDCT
    >>> from skcompress.datasets import load_mnist
    >>> from skcompress.nets import BlockDCTNetRegressor
    >>> X = load_mnist().images[:600]
    >>> y = X.mean(axis=(1, 2))
    >>> pipe = make_pipeline(
    ...     BlockDCT(n_coefficients=1, layout="channels_first"),
    ...     BlockDCTNetRegressor(widths=(), max_epochs=30, lr=0.01, random_state=0,
    ...                          device="cpu", n_threads=1),
    ... ).fit(X[:500], y[:500])
    >>> bool(pipe.score(X[500:], y[500:]) > 0.8)
    True
"""


class _PixelInput:
    _module_class = PixelNet
    _structure_kinds = ("image",)
    _takes = "images (pixels or samples)"
    _parameter_constraints = {
        **_NET_CONSTRAINTS,
        **_HEAD_CONSTRAINTS,
        "layout": [StrOptions({"auto", "signals", "channels_first"})],
        "signal_shape": [tuple, list, None],
        "standardize": ["boolean"],
        "residual": ["boolean"],
        "depth": [Interval(Integral, 1, MAX_BLOCKS, closed="both")],
        "batch_norm": ["boolean"],
        "stem_stride": [Options(Integral, {1, 2, 4})],
    }

    def __init__(
        self,
        *,
        widths=(32, 64),
        kernel_size=3,
        hidden_units=128,
        dropout=0.0,
        residual=False,
        depth=1,
        batch_norm=False,
        stem_stride=1,
        layout="auto",
        signal_shape=None,
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
        self.kernel_size = kernel_size
        self.hidden_units = hidden_units
        self.dropout = dropout
        self.residual = residual
        self.depth = depth
        self.batch_norm = batch_norm
        self.stem_stride = stem_stride
        self.layout = layout
        self.signal_shape = signal_shape
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

    @property
    def _plain_layout(self):
        return "signals" if self.layout == "auto" else self.layout

    def _check_structure(self, structure):
        super()._check_structure(structure)
        if structure is None:
            return
        grid, k = tuple(structure.grid), structure.k
        reading = "channels_first" if structure.layout == "channels_first" else "signals"
        _check_settings(self, structure, {"layout": (None, (reading,))})
        image = (*grid, k) if k > 1 else grid
        if self.signal_shape is not None and tuple(self.signal_shape) not in {image, (*grid, k)}:
            raise ValueError(
                f"{type(self).__name__}: signal_shape={self.signal_shape!r}, but its input is "
                f"{structure.describe()}, of shape {image}. Leave signal_shape=None to read "
                "it from the input."
            )

    def _signals(self, X):
        """Unflatten rows given ``signal_shape``."""
        if self.signal_shape is None or X.ndim != 2:
            return X
        shape = tuple(int(s) for s in self.signal_shape)
        if prod(shape) != X.shape[1]:
            raise ValueError(
                f"{type(self).__name__} was given signal_shape={shape} ({prod(shape)} values "
                f"per sample) but X has shape {X.shape}."
            )
        return X.reshape(len(X), *shape)

    def _check_input(self, X):
        if self._structure is not None:
            return
        S = self._signals(X)
        if S.ndim not in (2, 3, 4):
            raise ValueError(
                f"{type(self).__name__} expects 1-D signals (n_samples, length), gray images "
                "(n_samples, H, W) or images (n_samples, H, W, channels) (channels first with "
                f"layout='channels_first'); got X of shape {X.shape}."
            )
        if self.layout == "auto" and S.ndim == 4 and S.shape[1] <= 4 < S.shape[3]:
            raise ValueError(
                f"{type(self).__name__} reads 4-D input as channels-last images (n_samples, "
                f"H, W, channels) with layout='auto'; X of shape {S.shape} looks channels-first "
                f"(torch's (n, C, H, W)). Set layout='channels_first' (or 'signals' if these "
                f"really are {S.shape[1]}x{S.shape[2]} images of {S.shape[3]} channels)."
            )

    def _to_module_input(self, X):
        if self._structure is not None:
            return _structured_channels_first(X, self._structure)
        S = self._signals(X)
        if S.ndim == 2:
            return S[:, None, :]
        if self._plain_layout == "signals":
            return S[:, None] if S.ndim == 3 else np.moveaxis(S, -1, 1)
        return S

    def _module_kwargs(self):
        channels, *grid = self._to_module_input(np.empty((1, *self.input_shape_))).shape[1:]
        return dict(
            in_channels=channels,
            grid_shape=tuple(grid),
            n_outputs=self._n_outputs,
            widths=tuple(self._param("widths")),
            kernel_size=self._param("kernel_size"),
            hidden_units=self._param("hidden_units"),
            dropout=self._param("dropout"),
            residual=self._param("residual"),
            depth=self._param("depth"),
            batch_norm=self._param("batch_norm"),
            stem_stride=self._param("stem_stride"),
        )

    def _describe_input(self):
        return f"signals in the {self._plain_layout!r} layout"

    @classmethod
    def get_test_params(cls):
        return [{**_TEST_TRAINING, "widths": (4,), "hidden_units": 16}]


_PIXEL_PARAMS = """\
    widths : sequence of int, each in [1, 4096], default=(32, 64)
        Channels of the stages; each stage is followed by 2x max-pooling
        (``residual=False``) or starts with a block of stride 2 (but the
        first, ``residual=True``).
    residual : bool, default=False
        A ResNet (He et al. 2016): a stem convolution, stages of ``depth``
        residual blocks, global average pooling, then the head (see
        :class:`~skcompress.nets.PixelNet`); the pixel baseline of
        :class:`~skcompress.nets.JPEGNetClassifier` at matching depth.
    depth : int in [1, 64], default=1
        Blocks per stage: residual blocks, or convolutions before each
        pooling.
    batch_norm : bool, default=False
        Batch normalization after every convolution. Training then leaves
        out a last batch of one sample.
    stem_stride : {1, 2, 4}, default=1
        Stride of the stem of ``residual=True`` (4: ResNet's ImageNet stem,
        a stride of 2 then a 3x3 max-pooling of stride 2); 1 otherwise.
    layout : {"auto", "signals", "channels_first"}, default="auto"
        "signals": skcompress's data contract, ``(n, length)`` 1-D signals,
        ``(n, H, W)`` gray or ``(n, H, W, C)`` channels-last images, as
        stored (uint8 is fine). "channels_first": ``(n, C, H, W)`` (or
        ``(n, C, length)``). "auto": the layout that the step before says
        its images have (``ColorTransform``, ``ChromaSubsampler("4:4:4")``;
        see Notes), else "signals".
    signal_shape : tuple of int or None, default=None
        Shape of one signal when plain rows arrive flattened, e.g. ``(28,
        28)``. Images from a skcompress step say their shape and channels
        themselves."""

_PIXEL_SUMMARY = """\
    {what} on pixels (or samples): the baseline for learning from coefficients.

    A :class:`~skcompress.nets.PixelNet` (convolution, ReLU and 2x
    max-pooling per stage, then the head of the other networks) on decoded
    signals, so a comparison with :class:`{dct}` sees the same family,
    parameter and operation counts side by side (``n_parameters_``,
    ``macs_``).
"""

_PIXEL_CLASSIFIER_EXAMPLES = """\
    >>> from skcompress.datasets import load_mnist
    >>> from skcompress.nets import PixelNetClassifier
    >>> X, y = load_mnist(return_X_y=True)
    >>> net = PixelNetClassifier(widths=(8, 16), max_epochs=3, lr=3e-3, random_state=0,
    ...                          device="cpu", n_threads=1)
    >>> net.fit(X[:1000], y[:1000]).input_shape_
    (28, 28)
    >>> bool(net.score(X[1000:1500], y[1000:1500]) > 0.6)     # chance: 0.1
    True
    >>> net.n_parameters_, net.macs_
    (103018, 383872)
"""

_PIXEL_REGRESSOR_EXAMPLES = """\
    >>> from skcompress.datasets import load_mnist
    >>> from skcompress.nets import PixelNetRegressor
    >>> X = load_mnist().images[:600]
    >>> y = (X > 128).mean(axis=(1, 2))      # share of ink
    >>> net = PixelNetRegressor(widths=(4,), max_epochs=20, lr=0.01, random_state=0,
    ...                         device="cpu", n_threads=1).fit(X[:500], y[:500])
    >>> bool(net.score(X[500:], y[500:]) > 0.5)
    True
"""


def _wavelet_signal_shape(structure):
    """Shape of the signals that a "subbands" structure's transform took: ``(H, W[, C])``."""
    C = len(structure.channels)
    return tuple(structure.image_shape) + ((C,) if C > 1 else ())


class _WaveletInput:
    _module_class = WaveletNet
    _structure_kinds = ("subbands",)
    _takes = "wavelet subbands"
    _parameter_constraints = {
        **_NET_CONSTRAINTS,
        **_HEAD_CONSTRAINTS,
        "signal_shape": [tuple, list, None],
        "wavelet": [str, None],
        "level": [Interval(Integral, 1, MAX_LEVELS, closed="both"), None],
        "mode": [str, None],
        "standardize": ["boolean"],
    }

    def __init__(
        self,
        *,
        signal_shape=None,
        wavelet=None,
        level=None,
        mode=None,
        widths=(32, 64),
        kernel_size=3,
        hidden_units=128,
        dropout=0.0,
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
        self.signal_shape = signal_shape
        self.wavelet = wavelet
        self.level = level
        self.mode = mode
        self.widths = widths
        self.kernel_size = kernel_size
        self.hidden_units = hidden_units
        self.dropout = dropout
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

    def _check_structure(self, structure):
        super()._check_structure(structure)
        if structure is not None and self.signal_shape is not None:
            shape = _wavelet_signal_shape(structure)
            given = tuple(self.signal_shape)
            if given != shape and given != (*shape, 1):
                raise ValueError(
                    f"{type(self).__name__}: signal_shape={self.signal_shape!r}, but its input "
                    f"is {structure.describe()} of signals of shape {shape}. Leave "
                    "signal_shape=None to read it from the input."
                )

    def _signal_shape(self):
        """Shape of the transformed signals: the input's structure says it, else signal_shape."""
        if self._structure is not None:
            return _wavelet_signal_shape(self._structure)
        if self.signal_shape is None:
            return None
        return tuple(int(s) for s in self.signal_shape)

    def _check_input(self, X):
        name = type(self).__name__
        if X.ndim != 2:
            raise ValueError(
                f"{name} expects the 'flat' output of WaveletTransform, (n_samples, "
                f"n_coefficients); got X of shape {X.shape}."
            )
        shape = self._signal_shape()
        if shape is None:  # one band, no subband structure
            self.subband_shapes_, self.subbands_ = ((X.shape[1],),), ("X",)
            self._n_channels = 1
            return
        wavelet, level, mode = self._wavelet_settings()
        wt = WaveletTransform(wavelet, level=level, mode=mode)
        zeros = np.zeros((1, *shape), dtype=np.float32)
        expected = wt.fit(zeros).transform(zeros).shape[1]
        if expected != X.shape[1]:
            raise ValueError(
                f"{name}: WaveletTransform(wavelet={wavelet!r}, level={level}, "
                f"mode={mode!r}) of signals of shape {shape} ({self._shape_source()}) "
                f"gives X of shape (n_samples, {expected}); got X of shape {X.shape}. Give the "
                "network the wavelet, level and mode of the transform before it."
            )
        self.subband_shapes_ = tuple(wt.subband_shapes_)
        self.subbands_ = tuple(wt.subbands_)
        self._n_channels = shape[2] if len(shape) == 3 else 1

    def _wavelet_settings(self):
        """Wavelet, level and mode: the transform's where its output says them, else set."""
        own = {"wavelet": self.wavelet, "level": self.level, "mode": self.mode}
        read = dict(self._structure.settings) if self._structure is not None else {}
        for name, value in read.items():
            if own.get(name) is not None and own[name] != value:
                raise ValueError(
                    f"{type(self).__name__}: {name}={own[name]!r}, but its input is "
                    f"{self._structure.describe()}, made with {name}={value!r}. Leave "
                    f"{name}=None to read it from the input."
                )
        defaults = {"wavelet": "cdf97", "level": None, "mode": "reflect"}
        return tuple(
            own[key] if own[key] is not None else read.get(key, defaults[key])
            for key in ("wavelet", "level", "mode")
        )

    def _standardize_groups(self, Z):
        sizes = [prod(s) for s in self.subband_shapes_] * self._n_channels
        return np.repeat(np.arange(len(sizes)), sizes)

    def _module_kwargs(self):
        return dict(
            subband_shapes=self.subband_shapes_,
            n_outputs=self._n_outputs,
            n_channels=self._n_channels,
            widths=tuple(self._param("widths")),
            kernel_size=self._param("kernel_size"),
            hidden_units=self._param("hidden_units"),
            dropout=self._param("dropout"),
        )

    def _shape_source(self):
        if self._structure is not None:
            return f"as {self._structure.producer} says"
        return f"signal_shape={self.signal_shape}"

    def _describe_input(self):
        shape = self._signal_shape()
        if shape is None:
            return "one band of coefficients (signal_shape=None)"
        return f"WaveletTransform coefficients of signals of shape {shape}"

    @classmethod
    def get_test_params(cls):
        return [{**_TEST_TRAINING, "wavelet": "haar", "widths": (4,), "hidden_units": 16}]


_WAVELET_PARAMS = """\
    signal_shape : tuple of int or None, default=None
        Shape of the signals given to the WaveletTransform before the network:
        ``(28, 28)`` for MNIST digits, ``(H, W, C)`` for colour, ``(length,)``
        for 1-D signals, needed to unpack the subbands. None: the shape that
        the transform's output says (see Notes); for plain arrays, every row
        of X is read as one band (a 1-D CNN over the coefficients, for inputs
        that are no WaveletTransform's output).
    wavelet : str or None, default=None
        The transform's ``wavelet``.
    level : int in [1, 16] or None, default=None
        The transform's ``level``.
    mode : str or None, default=None
        The transform's ``mode``. These say how the "flat" coefficients
        unpack into subbands. None: the transform's, read from the output
        of :class:`~skcompress.WaveletTransform` (for plain arrays: "cdf97",
        the deepest level, "reflect"); a setting that contradicts it, or
        that does not fit a plain input, is reported at ``fit``.
    widths : sequence of int, each in [1, 4096], default=(32, 64)
        Channels of the stages (one per level, finest first, then pooled
        ones)."""

_WAVELET_SUMMARY = """\
    {what} on wavelet subbands: JPEG 2000's representation, each level at its resolution.

    Takes the "flat" output of :class:`~skcompress.WaveletTransform` (or of
    a quantizer after it), unpacks it into subbands (the transform's output
    says the shape of its signals; the network is told its ``wavelet``,
    ``level`` and ``mode``), and trains a :class:`~skcompress.nets.WaveletNet`,
    which feeds every level's subbands to the stage working at their
    resolution.
"""

_WAVELET_CLASSIFIER_EXAMPLES = """\
    >>> from sklearn.pipeline import make_pipeline
    >>> from skcompress import WaveletTransform
    >>> from skcompress.datasets import load_mnist
    >>> from skcompress.nets import WaveletNetClassifier
    >>> X, y = load_mnist(return_X_y=True)
    >>> pipe = make_pipeline(
    ...     WaveletTransform("haar", level=2),
    ...     WaveletNetClassifier(wavelet="haar", level=2, widths=(8, 16), max_epochs=3,
    ...                          lr=3e-3, random_state=0, device="cpu", n_threads=1),
    ... ).fit(X[:1000], y[:1000])
    >>> pipe[-1].subbands_
    ('L2_LL', 'L2_HL', 'L2_LH', 'L2_HH', 'L1_HL', 'L1_LH', 'L1_HH')
    >>> bool(pipe.score(X[1000:1500], y[1000:1500]) > 0.3)     # chance: 0.1
    True
"""

_WAVELET_REGRESSOR_EXAMPLES = """\
    >>> from sklearn.pipeline import make_pipeline
    >>> from skcompress import WaveletTransform
    >>> from skcompress.datasets import load_mnist
    >>> from skcompress.nets import WaveletNetRegressor
    >>> X = load_mnist().images[:600]
    >>> y = X.mean(axis=(1, 2))
    >>> pipe = make_pipeline(
    ...     WaveletTransform("haar", level=2),
    ...     WaveletNetRegressor(wavelet="haar", level=2, widths=(4,), max_epochs=20, lr=0.01,
    ...                         random_state=0, device="cpu", n_threads=1),
    ... ).fit(X[:500], y[:500])
    >>> bool(pipe.score(X[500:], y[500:]) > 0.8)
    True
"""


_COMPANDERS = {
    None: None,
    "log": lambda x, scale: np.log1p(np.abs(x) / scale),
    "power": lambda x, scale: np.copysign((np.abs(x) / scale) ** 0.75, x),
}


class _MDCTInput:
    _module_class = MDCTNet
    _structure_kinds = ("mdct", "dct")
    _takes = "frames of a 1-D transform (MDCT, or BlockDCT of 1-D signals)"
    _parameter_constraints = {
        **_NET_CONSTRAINTS,
        **_HEAD_CONSTRAINTS,
        "layout": [StrOptions({"auto", "flat", "channels_first", "blocks"})],
        "compand": [StrOptions({"log", "power"}), None],
        "standardize": ["boolean"],
    }

    def __init__(
        self,
        *,
        widths=(64, 64),
        kernel_size=3,
        hidden_units=128,
        dropout=0.0,
        layout="auto",
        compand=None,
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
        self.kernel_size = kernel_size
        self.hidden_units = hidden_units
        self.dropout = dropout
        self.layout = layout
        self.compand = compand
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

    @property
    def _plain_layout(self):
        return "channels_first" if self.layout == "auto" else self.layout

    def _check_structure(self, structure):
        if structure is not None and structure.kind == "dct" and structure.n_spatial != 1:
            raise self._refusal(structure)
        super()._check_structure(structure)
        if structure is not None:
            _check_settings(self, structure, {"layout": (None, (structure.layout,))})

    def _input_needs_statistics(self):
        return self.compand is not None

    def _set_input_statistics(self, *, mean_abs, high):
        self.compand_scale_ = mean_abs if mean_abs > 0 else 1.0

    def _check_input(self, X):
        if self._structure is not None:
            return
        layout = self._plain_layout
        if layout == "flat":
            _refuse_plain_flat(self, X)
        if X.ndim not in (2, 3):
            expected = (
                "(n_samples, n_bins, n_frames), as MDCT(layout='channels_first') gives"
                if layout == "channels_first"
                else "(n_samples, n_frames, n_bins), as MDCT(layout='blocks') gives"
            )
            raise ValueError(
                f"{type(self).__name__} (layout={self.layout!r}) expects X of shape "
                f"{expected}; got X of shape {X.shape}."
            )

    def _planes(self, X):
        """``(n, n_bins, n_frames)`` (channels of every frame along axis 1) of validated X."""
        if self._structure is not None:
            return _structured_channels_first(X, self._structure)
        return _channels_first(X, self._plain_layout)

    def _to_module_input(self, X):
        Z = self._planes(X)
        compand = _COMPANDERS[self.compand]
        if compand is None:
            return Z
        return compand(Z.astype(np.float32, copy=False), np.float32(self.compand_scale_))

    def _module_kwargs(self):
        bins, frames = self._planes(np.zeros((1, *self.input_shape_))).shape[1:]
        return dict(
            in_channels=bins,
            n_frames=frames,
            n_outputs=self._n_outputs,
            widths=tuple(self._param("widths")),
            kernel_size=self._param("kernel_size"),
            hidden_units=self._param("hidden_units"),
            dropout=self._param("dropout"),
        )

    def _describe_input(self):
        return f"MDCT frames in the {self._plain_layout!r} layout"

    @classmethod
    def get_test_params(cls):
        return [{**_TEST_TRAINING, "widths": (8,), "hidden_units": 16}]


_MDCT_PARAMS = """\
    widths : sequence of int, each in [1, 4096], default=(64, 64)
        Channels of the 1-D stages over frames, each followed by 2x
        max-pooling.
    layout : {"auto", "flat", "channels_first", "blocks"}, default="auto"
        Layout of the input. "auto": the one the step before says its
        frames have (``MDCT`` and a quantizer after it, or ``BlockDCT`` of
        1-D signals; see Notes), whatever it is; an explicit layout must
        agree with it. Plain arrays are read as ``(n, n_bins, n_frames)``
        ("channels_first", the reading of "auto"; a spectrogram) or ``(n,
        n_frames, n_bins)`` ("blocks"); a plain 2-D array as one frame of
        ``n_features`` bins ("flat" refuses it: it has no frames to read).
    compand : {"log", "power"} or None, default=None
        Compress the dynamic range of the coefficients before
        standardization, relative to their mean magnitude ``s`` at ``fit``
        (``compand_scale_``). "log": the log magnitude ``log(1 + |x| / s)``,
        a log spectrum of the MDCT: its signs, which flip with the phase of
        the signal in the frame, are dropped, and so is most of what a
        network would have to learn to ignore (on unseen voices it is far
        ahead of no companding and of a signed log: see the benchmarks
        page). "power": MP3's ``sign(x) |x / s| ** 0.75``
        (ISO 11172-3's quantizer), signs kept."""

_MDCT_SUMMARY = """\
    {what} on MDCT frames: the representation of MP3, AAC and Opus, bins as channels.

    Takes what ``MDCT`` (and a quantizer after it) emit, in any layout,
    reads it as ``(n, n_bins, n_frames)``, and trains an
    :class:`~skcompress.nets.MDCTNet`, a 1-D CNN over time.
"""

_MDCT_CLASSIFIER_EXAMPLES = """\
    >>> from sklearn.pipeline import make_pipeline
    >>> from skcompress import MDCT
    >>> from skcompress.datasets import load_spoken_digits
    >>> from skcompress.nets import MDCTNetClassifier
    >>> digits = load_spoken_digits()
    >>> X, y = digits.data[:1200], digits.target[:1200]
    >>> pipe = make_pipeline(
    ...     MDCT(frame_length=256),
    ...     MDCTNetClassifier(widths=(32,), compand="log", max_epochs=5, lr=3e-3,
    ...                       random_state=0, device="cpu", n_threads=1),
    ... ).fit(X[:1000], y[:1000])
    >>> pipe[-1].module_.stages[0].conv      # 128 bins as channels over 64 frames
    Conv1d(128, 32, kernel_size=(3,), stride=(1,), padding=(1,))
    >>> bool(pipe.score(X[1000:], y[1000:]) > 0.4)     # chance: 0.1
    True
"""

_MDCT_REGRESSOR_EXAMPLES = """\
    Regress the loudness of a signal from its MDCT:

    >>> import numpy as np
    >>> from sklearn.pipeline import make_pipeline
    >>> from skcompress import MDCT
    >>> from skcompress.nets import MDCTNetRegressor
    >>> rng = np.random.default_rng(0)
    >>> gain = rng.uniform(0.5, 2, 400)
    >>> X = (gain[:, None] * rng.standard_normal((400, 512))).astype(np.float32)
    >>> pipe = make_pipeline(
    ...     MDCT(frame_length=64, layout="channels_first"),
    ...     MDCTNetRegressor(widths=(8,), max_epochs=30, lr=0.01, random_state=0,
    ...                      device="cpu", n_threads=1),
    ... ).fit(X[:300], gain[:300])
    >>> bool(pipe.score(X[300:], gain[300:]) > 0.8)
    True
"""


def _code_grid(structure):
    """The grid of a "codes" structure without its axes of length 1 (whole vectors: none)."""
    return tuple(g for g in structure.grid if g != 1)


class _CodeInput:
    _module_class = CodeEmbeddingNet
    _input_settings = ("n_codes",)
    _structure_kinds = ("codes",)
    _takes = "codes (a vector quantizer's indices)"
    _integer_input = True
    _parameter_constraints = {
        **_NET_CONSTRAINTS,
        **_HEAD_CONSTRAINTS,
        "n_codes": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "embedding_dim": [Interval(Integral, 1, MAX_WIDTH, closed="both")],
        "combine": [StrOptions({"concat", "sum"})],
        "layout": [StrOptions({"auto", "flat", "channels_first", "blocks"})],
    }

    def __init__(
        self,
        *,
        n_codes="auto",
        embedding_dim=16,
        combine="concat",
        widths=(64,),
        kernel_size=3,
        hidden_units=128,
        dropout=0.0,
        layout="auto",
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
        self.n_codes = n_codes
        self.embedding_dim = embedding_dim
        self.combine = combine
        self.widths = widths
        self.kernel_size = kernel_size
        self.hidden_units = hidden_units
        self.dropout = dropout
        self.layout = layout
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

    @property
    def _plain_layout(self):
        return "channels_first" if self.layout == "auto" else self.layout

    def _check_structure(self, structure):
        super()._check_structure(structure)
        if structure is None:
            return
        _check_settings(self, structure, {"layout": (None, (structure.layout,))})
        if len(_code_grid(structure)) > 2:
            raise ValueError(
                f"{type(self).__name__} takes codes on a grid of at most 2 axes; its input is "
                f"{structure.describe()}, on a grid {structure.grid}. Code longer vectors "
                "(the quantizer's vector_size) or fewer axes."
            )

    def _check_input(self, X):
        if self._structure is not None:
            return
        if self._plain_layout == "flat":
            _refuse_plain_flat(self, X)
        if X.ndim > 4:
            raise ValueError(
                f"{type(self).__name__} expects codes of shape (n_samples, n_streams), or "
                "(n_samples, n_stages, *grid) as ResidualVQ(layout='channels_first') gives "
                f"them (grid of 1 or 2 axes); got X of shape {X.shape}."
            )

    def _to_module_input(self, X):
        structure = self._structure
        if structure is not None:
            Z = _structured_channels_first(X, structure)
            return Z.reshape(*Z.shape[:2], *_code_grid(structure))
        if X.ndim == 2 or self._plain_layout == "channels_first":
            return X
        return np.moveaxis(X, -1, 1)

    def _module_kwargs(self):
        streams, *grid = self._to_module_input(np.empty((1, *self.input_shape_))).shape[1:]
        return dict(
            n_codes=self.n_codes_,
            n_streams=streams,
            grid_shape=tuple(grid),
            n_outputs=self._n_outputs,
            embedding_dim=self._param("embedding_dim"),
            combine=self._param("combine"),
            widths=tuple(self._param("widths")),
            kernel_size=self._param("kernel_size"),
            hidden_units=self._param("hidden_units"),
            dropout=self._param("dropout"),
        )

    def _describe_input(self):
        return f"integer codes in the {self._plain_layout!r} layout"

    @classmethod
    def get_test_params(cls):
        return [{**_TEST_TRAINING, "embedding_dim": 4, "hidden_units": 16}]


_CODE_PARAMS = """\
    n_codes : int or "auto", default="auto"
        Codes per stream (a ResidualVQ's ``codebook_size``); "auto": one more
        than the largest code seen at ``fit``. Codes outside ``[0, n_codes)``
        are refused, and so are embedding tables (streams x ``n_codes`` x
        ``embedding_dim``) of more than 2**28 weights.
    embedding_dim : int in [1, 4096], default=16
        Size of each code's embedding.
    combine : {"concat", "sum"}, default="concat"
        How the streams' embeddings at one position combine: concatenated,
        or summed (the stages of one residual VQ, as EnCodec's token models
        sum them); see :class:`~skcompress.nets.CodeEmbeddingNet`.
    widths : sequence of int, each in [1, 4096], default=(64,)
        Channels of the convolution stages over the grid of vectors (unused
        for 2-D input, which has no grid).
    layout : {"auto", "flat", "channels_first", "blocks"}, default="auto"
        Layout of the input. "auto": the one the quantizer before says its
        codes have (see Notes), whatever it is; an explicit layout must
        agree with it. Codes said to lie on a grid (a ResidualVQ's codes of
        the blocks of a BlockDCT, a PyramidVQ's of MDCT frames) are read as
        ``(n, n_stages, *grid)`` in any layout, axes of length 1 dropped;
        codes of whole signals as ``(n, n_stages)``, no grid. Plain arrays
        are read as ``(n, n_stages, *grid)`` ("channels_first", the reading
        of "auto") or ``(n, *grid, n_stages)`` ("blocks"); a plain 2-D array
        ``(n, n_streams)`` gives every column its own embedding table and no
        grid ("flat" refuses it)."""

_CODE_SUMMARY = """\
    {what} on discrete codes: residual or pyramid VQ indices as tokens.

    Takes integer codes, ``ResidualVQ``'s (any layout) or any non-negative
    integer symbols, embeds every stream's codes with its own table, as the
    token models of EnCodec and SoundStream do, and trains a
    :class:`~skcompress.nets.CodeEmbeddingNet` on them. Floats holding
    whole numbers are taken as codes; other floats are refused.
"""

_CODE_CLASSIFIER_EXAMPLES = """\
    Two residual-VQ stages of 64 codewords: 12 bits per digit before entropy
    coding.

    >>> from sklearn.pipeline import make_pipeline
    >>> from skcompress import ResidualVQ
    >>> from skcompress.datasets import load_mnist
    >>> from skcompress.nets import CodeEmbeddingClassifier
    >>> X, y = load_mnist(return_X_y=True)
    >>> X = X.reshape(len(X), -1).astype("float32")
    >>> pipe = make_pipeline(
    ...     ResidualVQ(n_stages=2, codebook_size=64, n_refine=0, random_state=0),
    ...     CodeEmbeddingClassifier(max_epochs=10, lr=0.01, random_state=0, device="cpu",
    ...                             n_threads=1),
    ... ).fit(X[:1000], y[:1000])
    >>> pipe[-1].input_shape_, pipe[-1].n_codes_
    ((2,), 64)
    >>> bool(pipe.score(X[1000:1500], y[1000:1500]) > 0.4)     # chance: 0.1
    True
"""

_CODE_REGRESSOR_EXAMPLES = """\
    >>> import numpy as np
    >>> from skcompress.nets import CodeEmbeddingRegressor
    >>> rng = np.random.default_rng(0)
    >>> codes = rng.integers(0, 8, size=(500, 3))
    >>> y = codes[:, 0] - 0.5 * codes[:, 2]
    >>> net = CodeEmbeddingRegressor(max_epochs=30, lr=0.01, random_state=0,
    ...                              device="cpu", n_threads=1).fit(codes[:400], y[:400])
    >>> bool(net.score(codes[400:], y[400:]) > 0.9)
    True
"""


# -- public estimators --------------------------------------------------------


_BLOCK_DCT_ATTRIBUTES = (
    "    n_color_channels_ : int\n        Planes of blocks (colour channels) of the input.\n"
    "    grid_shape_ : tuple of int\n        The grid of blocks the network works on.\n"
)


class BlockDCTNetClassifier(_BlockDCTInput, _NetClassifier):
    __doc__ = _doc(
        _BLOCK_DCT_SUMMARY.format(what="CNN classifier", pixel="PixelNetClassifier"),
        _BLOCK_DCT_PARAMS,
        _BLOCK_DCT_CLASSIFIER_EXAMPLES,
        module="BlockDCTNet",
        kind="Classifier",
        groups="input plane",
        attributes=_BLOCK_DCT_ATTRIBUTES,
    )


class BlockDCTNetRegressor(_BlockDCTInput, _NetRegressor):
    __doc__ = _doc(
        _BLOCK_DCT_SUMMARY.format(what="CNN regressor", pixel="PixelNetRegressor"),
        _BLOCK_DCT_PARAMS,
        _BLOCK_DCT_REGRESSOR_EXAMPLES,
        module="BlockDCTNet",
        kind="Regressor",
        groups="input plane",
        attributes=_BLOCK_DCT_ATTRIBUTES,
    )


class PixelNetClassifier(_PixelInput, _NetClassifier):
    __doc__ = _doc(
        _PIXEL_SUMMARY.format(what="CNN classifier", dct="BlockDCTNetClassifier"),
        _PIXEL_PARAMS,
        _PIXEL_CLASSIFIER_EXAMPLES,
        module="PixelNet",
        kind="Classifier",
        groups="colour channel",
    )


class PixelNetRegressor(_PixelInput, _NetRegressor):
    __doc__ = _doc(
        _PIXEL_SUMMARY.format(what="CNN regressor", dct="BlockDCTNetRegressor"),
        _PIXEL_PARAMS,
        _PIXEL_REGRESSOR_EXAMPLES,
        module="PixelNet",
        kind="Regressor",
        groups="colour channel",
    )


_WAVELET_ATTRIBUTES = (
    "    subbands_ : tuple of str\n        Subband names, as the transform's.\n"
    "    subband_shapes_ : tuple of tuple of int\n        Their shapes.\n"
)


class WaveletNetClassifier(_WaveletInput, _NetClassifier):
    __doc__ = _doc(
        _WAVELET_SUMMARY.format(what="CNN classifier"),
        _WAVELET_PARAMS,
        _WAVELET_CLASSIFIER_EXAMPLES,
        module="WaveletNet",
        kind="Classifier",
        groups="subband",
        attributes=_WAVELET_ATTRIBUTES,
    )


class WaveletNetRegressor(_WaveletInput, _NetRegressor):
    __doc__ = _doc(
        _WAVELET_SUMMARY.format(what="CNN regressor"),
        _WAVELET_PARAMS,
        _WAVELET_REGRESSOR_EXAMPLES,
        module="WaveletNet",
        kind="Regressor",
        groups="subband",
        attributes=_WAVELET_ATTRIBUTES,
    )


_MDCT_ATTRIBUTES = (
    "    compand_scale_ : float\n        Mean magnitude of the input at ``fit``, the scale "
    "of ``compand``.\n"
)


class MDCTNetClassifier(_MDCTInput, _NetClassifier):
    __doc__ = _doc(
        _MDCT_SUMMARY.format(what="1-D CNN classifier"),
        _MDCT_PARAMS,
        _MDCT_CLASSIFIER_EXAMPLES,
        module="MDCTNet",
        kind="Classifier",
        groups="frequency bin",
        attributes=_MDCT_ATTRIBUTES,
    )


class MDCTNetRegressor(_MDCTInput, _NetRegressor):
    __doc__ = _doc(
        _MDCT_SUMMARY.format(what="1-D CNN regressor"),
        _MDCT_PARAMS,
        _MDCT_REGRESSOR_EXAMPLES,
        module="MDCTNet",
        kind="Regressor",
        groups="frequency bin",
        attributes=_MDCT_ATTRIBUTES,
    )


_CODE_ATTRIBUTES = "    n_codes_ : int\n        Codes per stream.\n"


class CodeEmbeddingClassifier(_CodeInput, _NetClassifier):
    __doc__ = _doc(
        _CODE_SUMMARY.format(what="Classifier"),
        _CODE_PARAMS,
        _CODE_CLASSIFIER_EXAMPLES,
        module="CodeEmbeddingNet",
        kind="Classifier",
        groups=None,
        attributes=_CODE_ATTRIBUTES,
    )


class CodeEmbeddingRegressor(_CodeInput, _NetRegressor):
    __doc__ = _doc(
        _CODE_SUMMARY.format(what="Regressor"),
        _CODE_PARAMS,
        _CODE_REGRESSOR_EXAMPLES,
        module="CodeEmbeddingNet",
        kind="Regressor",
        groups=None,
        attributes=_CODE_ATTRIBUTES,
    )
