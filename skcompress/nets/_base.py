"""The network estimators: skorch's ``NeuralNetClassifier`` / ``NeuralNetRegressor`` that read
the output of skcompress steps.

Each estimator *is* a skorch net: ``history``, ``save_params`` / ``load_params``,
callbacks and skorch's routed parameters (``module__*``, ``optimizer__*``,
``criterion__*``, ``iterator_train__*``, ``iterator_valid__*``,
``callbacks__*``) work as in skorch. What it adds: the module is built from
the input at ``fit`` (its shape, and the structure the step before says it
has), the input is checked and standardized, labels of any type are encoded,
training is seeded from ``random_state``, and ``fit`` also takes a torch
``Dataset`` of ``(X, y)`` items.
"""

import inspect
from contextlib import contextmanager
from math import prod
from numbers import Integral, Real
from types import MappingProxyType

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.utils._available_if import available_if
from sklearn.utils._param_validation import (
    Interval,
    StrOptions,
    validate_parameter_constraints,
)
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    check_array,
    check_is_fitted,
    column_or_1d,
    validate_data,
)
from skorch import NeuralNet, NeuralNetClassifier, NeuralNetRegressor
from skorch.callbacks import EarlyStopping, PrintLog, ProgressBar
from skorch.dataset import Dataset, ValidSplit, unpack_data
from skorch.exceptions import NotInitializedError
from skorch.history import History
from skorch.utils import is_dataset, to_numpy, to_tensor
from torch.utils.data import Subset

from .._core._contract import check_nonempty, check_numeric
from .._core._estimator import PublicEstimatorMixin, unfitted_on_error
from .._core._limits import MAX_HIDDEN_UNITS, MAX_KERNEL_SIZE
from .._core._structure import read_structure, refuse, structure_of
from ._data import BatchIterator, CosineDecay, seeded, threads
from ._modules import count_macs, count_parameters
from ._skorch import (
    TRAINING_CONSTRAINTS,
    DivergenceCheck,
    SeededTraining,
    check_float32_range,
    loading_device,
    plain_history,
    to_numpy_tree,
    to_torch_tree,
)

_OPTIMIZERS = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD}

#: Most values of the embedding tables of the code networks (all streams together):
#: 2**28 float32 weights are 1 GiB, 4 GiB with their gradients and Adam's two moments.
_MAX_EMBEDDING_VALUES = 1 << 28

#: The components whose parameters the nets route, as skorch routes them: ``<prefix>__<name>``.
ROUTED_PREFIXES = (
    "module",
    "criterion",
    "optimizer",
    "iterator_train",
    "iterator_valid",
    "callbacks",
)

_NET_CONSTRAINTS = {
    **TRAINING_CONSTRAINTS,
    "optimizer": [StrOptions(set(_OPTIMIZERS)), callable],
    "weight_decay": [Interval(Real, 0, None, closed="left")],
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
    "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
    "criterion": [callable, None],
    "train_split": [callable, None],
    "iterator_train": [callable],
    "iterator_valid": [callable],
    "predict_nonlinearity": [StrOptions({"auto"}), callable, None],
    "warm_start": ["boolean"],
    "use_caching": [StrOptions({"auto"}), "boolean"],
    "torch_load_kwargs": [dict, None],
}
_HEAD_CONSTRAINTS = {
    "widths": [tuple, list],  # each at most MAX_WIDTH, checked by the module
    "kernel_size": [Interval(Integral, 1, MAX_KERNEL_SIZE, closed="both")],
    "hidden_units": [Interval(Integral, 0, MAX_HIDDEN_UNITS, closed="both")],
    "dropout": [Interval(Real, 0, 1, closed="left")],
}

#: skorch's state of a net that is not initialized, which skorch's ``__init__`` would set
#: on the instance; kept out of the instance so that ``__init__`` sets parameters only.
_RUNTIME_STATE = (
    "module_",
    "criterion_",
    "optimizer_",
    "callbacks_",
    "history_",
    "virtual_params_",
    "initialized_",
    "prefixes_",
    "cuda_dependent_attributes_",
    "init_context_",
    "_modules",
    "_criteria",
    "_optimizers",
    "forward_iter",
)


class _PreparedDataset(Dataset):
    """The input as the module takes it (layout, dtype, standardization); targets as given."""


def _is_prepared(dataset):
    while isinstance(dataset, Subset):
        dataset = dataset.dataset
    return isinstance(dataset, _PreparedDataset)


def _as_array(X):
    """A batch or item of a torch Dataset as numpy (tensors moved to the CPU)."""
    if isinstance(X, torch.Tensor):
        return X.detach().cpu().numpy()
    return X if isinstance(X, np.ndarray) else np.asarray(X)


def _is_streams(X):
    """Whether ``X`` is a dict of arrays (a DOK sparse matrix is a dict too: not one)."""
    return isinstance(X, dict) and not sp.issparse(X)


def _as_input(X):
    """An input batch as numpy: an array, or a dict or pair of arrays (two-stream input)."""
    if _is_streams(X):
        return {key: _as_array(value) for key, value in X.items()}
    if (
        isinstance(X, (tuple, list))
        and X
        and all(isinstance(x, (torch.Tensor, np.ndarray)) for x in X)
    ):
        return tuple(_as_array(x) for x in X)
    return _as_array(X)


def _refuse_streams(estimator, X):
    """Raise for a dict of arrays (two streams), which only the JPEG networks read."""
    if _is_streams(X):
        raise ValueError(
            f"{type(estimator).__name__} takes one array per sample; X is a dict of "
            f"{sorted(X)} (a JPEGDataset's layout='two_stream' or tables=True). Use "
            "JPEGNetClassifier or JPEGNetRegressor for the two streams, or the dataset's "
            "layout='channels_first'."
        )


def _dataset_targets(dataset):
    """The targets a torch Dataset lists (``targets``, torchvision's name), else None."""
    targets = getattr(dataset, "targets", None)
    if targets is None:
        return None
    targets = _as_array(targets)
    return targets if targets.ndim >= 1 and len(targets) == len(dataset) else None


class _Batches:
    """An iterator's batches as the network takes them.

    The inputs of a user's dataset (``prepare``) are checked and prepared;
    targets that a ``DataLoader`` collated into a list (strings) become an
    array, as skorch's scoring callbacks read them.
    """

    def __init__(self, batches, estimator, *, prepare):
        self.batches = batches
        self.estimator = estimator
        self.prepare = prepare

    def __len__(self):
        return len(self.batches)

    def __iter__(self):
        net = self.estimator
        for batch in self.batches:
            Xb, yb = unpack_data(batch)
            if self.prepare:
                Xb = net._prepare(net._validate_X(_as_input(Xb), reset=False), net.device_)
            yield Xb, np.asarray(yb) if isinstance(yb, (list, tuple)) else yb


class _GroupMoments:
    """Means and deviations of groups of features, batch by batch (Chan et al.'s update)."""

    def __init__(self):
        self.count = None

    def add(self, Z, groups):
        flat = Z.reshape(len(Z), -1).astype(np.float64)
        n_groups = int(groups.max()) + 1
        count = np.bincount(groups, minlength=n_groups) * len(Z)
        mean = np.bincount(groups, weights=flat.sum(axis=0), minlength=n_groups) / count
        centred = flat - mean[groups]
        m2 = np.bincount(groups, weights=(centred**2).sum(axis=0), minlength=n_groups)
        if self.count is None:
            self.count, self.mean, self.m2 = count, mean, m2
            return
        total = self.count + count
        delta = mean - self.mean
        self.mean = self.mean + delta * (count / total)
        self.m2 = self.m2 + m2 + delta**2 * (self.count * count / total)
        self.count = total

    def result(self):
        scale = np.sqrt(self.m2 / self.count)
        scale[~(scale > 1e-12 * np.maximum(1.0, np.abs(self.mean)))] = 1.0
        return self.mean.astype(np.float32), scale.astype(np.float32)


class _InputStatistics:
    """What ``fit`` learns from the input (mean magnitude, largest code, standardization)."""

    def __init__(self, estimator):
        self.estimator = estimator
        self.count, self.abs_sum, self.high = 0, 0.0, 0
        standardize = not estimator._integer_input and getattr(estimator, "standardize", False)
        self.moments = _GroupMoments() if standardize else None
        # the module's input depends on this pass's statistics (companding): a second pass
        self.second_pass = standardize and estimator._input_needs_statistics()
        self.needed = (
            standardize or estimator._integer_input or estimator._input_needs_statistics()
        )

    def add(self, X):
        self.count += X.size
        self.abs_sum += float(np.abs(X).sum(dtype=np.float64))
        if self.estimator._integer_input:
            self.high = max(self.high, int(X.max(initial=0)))
        if self.moments is not None and not self.second_pass:
            self._add_moments(X)

    def _add_moments(self, X):
        Z = self.estimator._to_module_input(X)
        self.moments.add(Z, self.estimator._standardize_groups(Z))

    def finish(self, batches):
        """Set the statistics; ``batches()`` gives the input again for a second pass."""
        net = self.estimator
        net._set_input_statistics(mean_abs=self.abs_sum / max(self.count, 1), high=self.high)
        if self.second_pass:
            for X in batches():
                self._add_moments(X)
        if self.moments is None:
            net.input_mean_ = net.input_scale_ = None
        else:
            net.input_mean_, net.input_scale_ = self.moments.result()


class _NetEstimator(SeededTraining, PublicEstimatorMixin, NeuralNet):
    """A skorch net whose module is built from the input; families fill in the input."""

    # set by the families
    _module_class = None
    _integer_input = False
    #: Module keywords that the estimator checks against its input: set as its parameters.
    _input_settings = ()

    # skorch's state before ``initialize`` (skorch's ``__init__`` puts it on the instance)
    history_ = None
    initialized_ = False
    virtual_params_ = MappingProxyType({})
    # the module, criterion and optimizer, registered as skorch registers them on first use
    prefixes_ = [*NeuralNet.prefixes_, "module", "criterion", "optimizer"]
    cuda_dependent_attributes_ = ["module_", "criterion_", "optimizer_"]
    _modules = ["module"]
    _criteria = ["criterion"]
    _optimizers = ["optimizer"]
    compile = False
    dataset = Dataset

    __repr__ = BaseEstimator.__repr__

    def __delattr__(self, name):
        # skorch's would unregister the module, criterion and optimizer registered above
        object.__delattr__(self, name)

    # -- parameters --------------------------------------------------------

    def _set_routed(self, kwargs):
        """Keep skorch's routed parameters given to ``__init__`` (checked at ``fit``)."""
        self._params_to_validate = set(kwargs)
        vars(self).update(kwargs)

    def _signature_names(self):
        return BaseEstimator._get_param_names.__func__(type(self))

    def _routed_names(self):
        """The parameters beyond the signature (skorch's routed ones), sorted."""
        own = set(self._signature_names())
        return sorted(k for k in self._params_to_validate if k in vars(self) and k not in own)

    def _get_param_names(self):
        return [*self._signature_names(), *self._routed_names()]

    def _get_params_callbacks(self, deep=True):
        # skorch lists every callback's parameters here, as new default instances before
        # initialize; they would make get_params differ from call to call and from clone
        return {}

    def _param(self, name):
        """The module keyword ``name``: ``module__<name>`` where given, else the parameter."""
        return self.__dict__.get(f"module__{name}", getattr(self, name))

    def _validate_params(self):
        BaseEstimator._validate_params(self)
        name = type(self).__name__
        for key in self._routed_names():
            prefix, _, rest = key.partition("__")
            if prefix not in ROUTED_PREFIXES or not rest:
                raise ValueError(
                    f"{name} got an unexpected parameter {key!r}. Besides the parameters of "
                    f"its signature, it takes skorch's routed parameters "
                    f"{', '.join(p + '__<name>' for p in ROUTED_PREFIXES)}."
                )
            if prefix == "module":
                self._check_module_param(rest, vars(self)[key])

    def _check_module_param(self, name, value):
        owner, module = type(self).__name__, self._module_class.__name__
        accepted = inspect.signature(self._module_class).parameters
        tunable = sorted(
            p
            for p in accepted
            if p in self._parameter_constraints and p not in self._input_settings
        )
        if name in tunable:
            key = f"module__{name}"
            validate_parameter_constraints(
                {key: self._parameter_constraints[name]}, {key: value}, caller_name=owner
            )
            return
        if name in self._input_settings:
            reason = f"{owner} checks {name} against its input: set {name}={value!r} instead"
        elif name in accepted:
            reason = f"{owner} reads {name} from its input"
        else:
            reason = f"{module} takes no parameter {name!r}"
        raise ValueError(
            f"{owner}: module__{name} cannot be set ({reason}). The keywords of {module} that "
            f"module__ sets are {tunable}."
        )

    def set_params(self, **params):
        """Set parameters, skorch's routed ones included (see the class docstring).

        On a fitted net, ``module__*`` and ``criterion__*`` parameters rebuild
        the module (new weights) as in skorch; ``lr`` and ``optimizer__*`` set
        the optimizer in place.

        Parameters
        ----------
        **params : dict
            Parameter names and values.

        Returns
        -------
        self
        """
        # Kept as they are for the next fit when nothing is built (skorch would build the
        # callbacks at once), and where skorch refuses them on a built net ("Something
        # went wrong"): the iterators are read at every call, the optimizer is rebuilt;
        # and the device, which skorch's calls below see as device_ (_on_device).
        direct = {
            k: params.pop(k)
            for k in list(params)
            if not self.initialized_
            or k in ("optimizer", "device")
            or k.startswith(("iterator_train", "iterator_valid"))
        }
        routed = {k: direct.pop(k) for k in list(direct) if "__" in k}
        BaseEstimator.set_params(self, **direct)
        for key, value in routed.items():
            setattr(self, key, value)
            self._params_to_validate.add(key)
        with self._on_device():
            if params:
                NeuralNet.set_params(self, **params)
            if "optimizer" in direct and self.initialized_:
                self._initialize_optimizer()
        return self

    @contextmanager
    def _on_device(self):
        """skorch reads ``self.device`` as a torch device: the resolved ``device_`` during a call.

        ("auto" names none.) Only the calls into skorch's machinery (training,
        initialize, set_params, load_params) run inside; prediction uses
        ``device_`` directly.
        """
        given, resolved = self.__dict__.get("device"), self.__dict__.get("device_")
        if resolved is None or given == resolved:
            yield
            return
        self.__dict__["device"] = resolved
        try:
            yield
        finally:
            self.__dict__["device"] = given

    def _trained_net(self):
        return self

    # -- hooks of the input families ---------------------------------------

    #: Kinds of structured input the family reads (``Structure.kind``); others are refused.
    _structure_kinds = ()
    #: What the family takes, for the message that refuses another kind.
    _takes = "arrays"

    def _check_structure(self, structure):
        """At fit, before any fitted state changes: raise if the family cannot read ``structure``.

        ``structure``: that of ``X`` (None for plain arrays). The default refuses
        every kind not in ``_structure_kinds``, naming the network that reads it.
        """
        if structure is not None and structure.kind not in self._structure_kinds:
            raise self._refusal(structure)

    def _refusal(self, structure):
        """The ValueError that refuses ``structure``, naming the network that reads it."""
        return refuse(type(self).__name__, structure, self._takes, _network_for(self, structure))

    def _check_input(self, X):
        """At fit: raise if ``X`` is not an input this network takes."""

    def _to_module_input(self, X):
        """``X`` (validated numpy) to the array the module takes, before standardization."""
        return X

    def _module_kwargs(self):
        raise NotImplementedError

    def _input_needs_statistics(self):
        """Whether the module's input depends on the input statistics (a second pass)."""
        return False

    def _set_input_statistics(self, *, mean_abs, high):
        """Set what the family learns from the input: its mean magnitude, its largest value."""
        if self._integer_input:
            self._set_codes(high)

    def _standardize_groups(self, Z):
        """Group of every feature of one module input for standardization (default: axis 1)."""
        shape = Z.shape[1:]
        return np.repeat(np.arange(shape[0]), prod(shape[1:]))

    def _describe_input(self):
        return f"arrays of shape (n_samples, {', '.join(map(str, self.input_shape_))})"

    @property
    def _structure(self):
        """The structure of the input read at ``fit`` (None: plain arrays, or a net fitted so)."""
        return getattr(self, "input_structure_", None)

    # -- validation --------------------------------------------------------

    def _validate_X(self, X, *, reset, codes_fitted=True):
        """Checked numpy ``X``; ``reset``: record its shape and structure (``fit``).

        ``codes_fitted=False``: codes are not yet checked against ``n_codes_``
        (the pass over a Dataset that finds the largest).
        """
        name = type(self).__name__
        _refuse_streams(self, X)
        if reset:
            self._check_structure(structure_of(X))
        # At fit: records the structure; later: plain arrays and tensors are read as at fit.
        read_structure(self, X, reset=reset)
        check_numeric(X, name)
        dtype = "numeric" if self._integer_input else (np.float32, np.float64)
        if getattr(X, "ndim", 2) <= 2:
            X = validate_data(self, X, reset=reset, dtype=dtype)
        else:
            X = check_array(X, allow_nd=True, dtype=dtype, input_name="X", estimator=self)
            check_nonempty(X, name)
            validate_data(self, X.reshape(len(X), -1), reset=reset, skip_check_array=True)
        if reset:
            self.input_shape_ = tuple(int(s) for s in X.shape[1:])
            self._check_input(X)
        elif X.shape[1:] != self.input_shape_:
            structure = self._structure
            what = structure.describe() if structure is not None else self._describe_input()
            raise ValueError(
                f"{name} was fitted on X of shape (n_samples, "
                f"{', '.join(map(str, self.input_shape_))}) ({what}); got X "
                f"of shape {X.shape}. Give it the layout and shape it was fitted on."
            )
        if self._integer_input:
            X = self._check_codes(X, in_range=codes_fitted and not reset)
        else:
            check_float32_range(X, name)
        return X

    def _check_codes(self, X, *, in_range):
        name = type(self).__name__
        if X.dtype.kind == "f":
            if not np.array_equal(X, np.round(X)):
                raise ValueError(
                    f"{name} takes integer codes (the indices a ResidualVQ or PyramidVQ "
                    "emits); X has non-integer values. Quantize first."
                )
        elif X.dtype.kind not in "iub":
            raise TypeError(f"{name} takes integer codes; got X of dtype {X.dtype}.")
        X = X.astype(np.int64)
        low = int(X.min(initial=0))
        if low < 0:
            raise ValueError(
                f"Negative values in data passed to {name}: codes must be >= 0; X holds {low}."
            )
        if in_range:
            self._check_code_range(int(X.max(initial=0)))
        return X

    def _check_code_range(self, high):
        if high >= self.n_codes_:
            raise ValueError(
                f"{type(self).__name__}: codes must be in [0, {self.n_codes_ - 1}] "
                f"(n_codes={self.n_codes!r}, {self.n_codes_} codes per stream); X holds {high}."
            )

    def _set_codes(self, high):
        """``n_codes_`` from the largest code at ``fit``, its checks before any allocation."""
        self.n_codes_ = high + 1 if self.n_codes == "auto" else int(self.n_codes)
        self._check_embedding_size(high)
        self._check_code_range(high)

    def _check_embedding_size(self, high):
        streams = self._to_module_input(np.empty((1, *self.input_shape_))).shape[1]
        embedding_dim = self._param("embedding_dim")
        values = streams * self.n_codes_ * embedding_dim
        if values > _MAX_EMBEDDING_VALUES:
            raise ValueError(
                f"{type(self).__name__}: an embedding of {self.n_codes_} codes "
                f"(n_codes={self.n_codes!r}; X holds codes up to {high}) x {streams} streams "
                f"x embedding_dim={embedding_dim} has {values} weights; expected at most "
                f"{_MAX_EMBEDDING_VALUES} (2**28). The codes must be indices into codebooks "
                "(a ResidualVQ's), not arbitrary integers: give fewer codes or a smaller "
                "embedding_dim."
            )

    def _require_y(self, y):
        if y is None:
            raise ValueError(
                f"This {type(self).__name__} estimator requires y to be passed, but the "
                "target y is None."
            )

    # -- training data -----------------------------------------------------

    def _training_data(self, X, y, *, reset, classes=None):
        """``(dataset, targets)`` of a training call; ``reset``: record the input, fit statistics.

        Arrays are checked, prepared once and held as tensors (their batches are
        slices); a torch Dataset is read in a pass (statistics, targets) and its
        batches are checked and prepared as training draws them.
        """
        if is_dataset(X):
            return self._training_dataset(X, y, reset=reset, classes=classes)
        X = self._validate_X(X, reset=reset)
        self._require_y(y)
        y = self._validate_y(y, len(X), reset=reset, classes=classes)
        if reset:
            self._start_training()
            self._n_train = len(X)
            self._check_n_train()
            statistics = _InputStatistics(self)
            statistics.add(X)
            statistics.finish(lambda: [X])
        data = _PreparedDataset(self._prepare(X, self._data_device(training=True)), y)
        return data, y

    def _training_dataset(self, dataset, y, *, reset, classes):
        name = type(self).__name__
        if y is not None:
            raise ValueError(
                f"{name}: X is a torch Dataset, whose items are (X, y) pairs; y must be None, "
                f"got {type(y).__name__}."
            )
        if not len(dataset):
            raise ValueError(f"{name}: the Dataset is empty; it needs at least one (X, y) item.")
        if reset:
            item = dataset[0]
            if not isinstance(item, (tuple, list)) or len(item) != 2:
                raise ValueError(
                    f"{name} takes a torch Dataset whose items are (X, y) pairs; its first "
                    f"item is a {type(item).__name__}."
                )
            self._validate_X(self._one_sample(_as_input(item[0])), reset=True)
            self._start_training()
            self._n_train = len(dataset)
            self._check_n_train()
        if not reset and self._train_split() is None:
            return dataset, None  # nothing needs the targets before training reads them
        statistics = _InputStatistics(self) if reset else None
        known = _dataset_targets(dataset)
        if known is not None and (statistics is None or not statistics.needed):
            # the targets without reading the items (a JPEGDataset's ``targets``)
            y = self._validate_y(known, len(dataset), reset=reset, classes=classes)
            if statistics is not None:
                statistics.finish(list)
            return dataset, y
        targets = []
        for X, target in self._raw_batches(dataset):
            if statistics is not None:
                statistics.add(X)
            targets.append(target)
        y = self._validate_y(np.concatenate(targets), len(dataset), reset=reset, classes=classes)
        if statistics is not None:
            statistics.finish(lambda: (X for X, _ in self._raw_batches(dataset)))
        return dataset, y

    def _raw_batches(self, dataset):
        """Checked numpy batches ``(X, y)`` of a torch Dataset, as ``iterator_valid`` serves it."""
        kwargs = self.get_params_for("iterator_valid")
        kwargs.setdefault("batch_size", self.batch_size)
        for batch in self.iterator_valid(dataset, **kwargs):
            Xb, yb = unpack_data(batch)
            if yb is None:
                raise ValueError(
                    f"{type(self).__name__} takes a torch Dataset whose items are (X, y) pairs; "
                    "its batches have no targets."
                )
            X = self._validate_X(_as_input(Xb), reset=False, codes_fitted=False)
            yield X, _as_array(yb)

    def _one_sample(self, x):
        """A Dataset's item input ``x`` (numpy) as a batch of one sample."""
        _refuse_streams(self, x)
        if isinstance(x, tuple):
            raise ValueError(
                f"{type(self).__name__} takes one array per item; the Dataset's items hold "
                f"{len(x)} arrays."
            )
        return x[None]

    def _module_example(self, X):
        """``X`` (as the estimator takes it; a Dataset: its first item) as the module's input."""
        if not self.initialized_:
            raise NotInitializedError(
                f"{type(self).__name__} builds its module from its input: fit it, or call "
                "initialize(X, y), first."
            )
        if is_dataset(X):
            X = self._one_sample(_as_input(X[0][0]))
        return self._prepare(self._validate_X(X, reset=False), self.device_)

    def _batch_norm(self):
        """Whether the module normalizes by batch statistics (``batch_norm``)."""
        return bool(self.__dict__.get("module__batch_norm", getattr(self, "batch_norm", False)))

    def _drop_last(self, n_samples, batch_size):
        """Leave out a last training batch of one sample, whose batch statistics do not exist."""
        return self._batch_norm() and n_samples > batch_size and n_samples % batch_size == 1

    def _check_n_train(self):
        if self._n_train < 2 and self._batch_norm():
            raise ValueError(
                f"{type(self).__name__} with batch_norm=True needs at least 2 samples to train "
                f"(batch normalization reads statistics of a batch); got {self._n_train} "
                "sample. Give more samples or set batch_norm=False."
            )

    def _prepare(self, X, device):
        """Checked X to a tensor on ``device``, in the module's layout and dtype, standardized."""
        Z = self._to_module_input(X)
        if self._integer_input:
            return torch.from_numpy(np.array(Z, dtype=np.int64, order="C")).to(device)
        Z = np.array(Z, dtype=np.float32, order="C")
        if self.input_mean_ is not None:
            groups = self._standardize_groups(Z)
            flat = Z.reshape(len(Z), -1)
            flat -= self.input_mean_[groups]
            flat /= self.input_scale_[groups]
        return torch.from_numpy(Z).to(device)

    def _data_device(self, *, training):
        """Where prepared tensors live: the device when their batches are slices of them.

        A ``DataLoader`` (workers, pinned memory...) takes them on the CPU; each
        batch then moves to the device.
        """
        names = ("iterator_train", "iterator_valid") if training else ("iterator_valid",)
        sliced = all(BatchIterator.slices(getattr(self, n), self.get_params_for(n)) for n in names)
        return self.device_ if sliced else "cpu"

    def _inference_batch_size(self):
        """Rows of every prediction batch: ``batch_size``, at most the first training set."""
        given = self.get_params_for("iterator_valid").get("batch_size")
        return given if given is not None else min(self.batch_size, self._n_train)

    def _train_split(self):
        if self.train_split is not None:
            return self.train_split
        if self.early_stopping:
            return ValidSplit(
                self.validation_fraction,
                stratified=isinstance(self, ClassifierMixin),
                random_state=self._seed,
            )
        return None

    # -- skorch's components -----------------------------------------------

    def get_default_callbacks(self):
        callbacks = list(super().get_default_callbacks())
        if self.early_stopping:
            sink = print if self.verbose else _silent
            stopping = EarlyStopping(
                monitor="valid_loss", patience=self.n_iter_no_change, load_best=True, sink=sink
            )
            callbacks.append(("early_stopping", stopping))
        if self.lr_schedule == "cosine":
            callbacks.append(("lr_schedule", CosineDecay()))
        callbacks.append(("divergence_check", DivergenceCheck(type(self).__name__)))
        if self.verbose and self.verbose >= 2:
            callbacks.append(("progress_bar", ProgressBar()))
        return callbacks

    def _yield_callbacks(self):
        # early_stopping ends training from its epoch end: after the user's callbacks (whose
        # scores of that epoch it would cut), before skorch's PrintLog (last, as in skorch)
        items = list(super()._yield_callbacks())
        stop = [item for item in items if item[0] == "early_stopping"]
        items = [item for item in items if item[0] != "early_stopping"]
        logs = [
            i for i, (_, cb, _) in enumerate(items) if cb is PrintLog or isinstance(cb, PrintLog)
        ]
        at = logs[0] if logs else len(items)
        yield from [*items[:at], *stop, *items[at:]]

    def initialize_module(self):
        kwargs = self._module_kwargs()
        module = self._module_class(**kwargs)
        self.module_ = module
        self.module_params_ = kwargs
        self.n_parameters_ = count_parameters(module)
        self.macs_ = count_macs(module, self._prepare(np.zeros((1, *self.input_shape_)), "cpu"))
        return self

    def initialize_criterion(self):
        criterion = self._default_criterion if self.criterion is None else self.criterion
        self.criterion_ = self.initialized_instance(criterion, self.get_params_for("criterion"))
        return self

    def initialize_optimizer(self, triggered_directly=None):
        args, kwargs = self.get_params_for_optimizer("optimizer", self.get_all_learnable_params())
        optimizer = _OPTIMIZERS.get(self.optimizer) if isinstance(self.optimizer, str) else None
        defaults = {"weight_decay": self.weight_decay} if self.weight_decay else {}
        if self.optimizer == "sgd":
            defaults["momentum"] = 0.9
        self.optimizer_ = (optimizer or self.optimizer)(*args, **{**defaults, **kwargs})
        return self

    def check_data(self, X, y=None):
        # the estimator checks its input itself, before skorch sees it
        pass

    def get_dataset(self, X, y=None):
        """A torch Dataset as is; arrays checked and prepared as at ``fit``."""
        if is_dataset(X):
            return X
        X = self._validate_X(X, reset=False)
        return _PreparedDataset(self._prepare(X, self._data_device(training=False)), y)

    def get_split_datasets(self, X, y=None, **fit_params):
        dataset = self.get_dataset(X, y)
        split = self._train_split()
        if not split:
            return dataset, None
        if y is None:
            return split(dataset, **fit_params)
        return split(dataset, y, **fit_params)

    def get_iterator(self, dataset, training=False):
        """Batches of ``dataset``: ``iterator_train`` (shuffled) or ``iterator_valid``.

        A user's torch Dataset has its batches checked and prepared as they
        come; prediction batches hold :meth:`_inference_batch_size` rows.
        """
        prefix = "iterator_train" if training else "iterator_valid"
        kwargs = self.get_params_for(prefix)
        kwargs.setdefault(
            "batch_size", self.batch_size if training else self._inference_batch_size()
        )
        if kwargs["batch_size"] == -1:
            kwargs["batch_size"] = len(dataset)
        if training:
            kwargs.setdefault("shuffle", True)
            if self._drop_last(len(dataset), kwargs["batch_size"]):
                kwargs.setdefault("drop_last", True)
        batches = getattr(self, prefix)(dataset, **kwargs)
        return _Batches(batches, self, prepare=not _is_prepared(dataset))

    def infer(self, x, **fit_params):
        return self.module_(to_tensor(x, device=self.device_), **fit_params)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """The criterion on the module's outputs and the targets as it takes them.

        Datasets hold the targets as given (labels, or values on their own
        scale); they are encoded here (positions in ``classes_``, or
        standardized values).
        """
        return self.criterion_(y_pred, self._criterion_target(y_true))

    def evaluation_step(self, batch, training=False):
        """The module's outputs on one batch; prediction batches are padded to one size.

        Every forward pass of a prediction sees :meth:`_inference_batch_size`
        rows (a short batch is padded with zeros), so a sample's outputs do
        not depend on the batch it came in: the kernels that a batch size
        selects sum in their own orders.
        """
        self.check_is_fitted()
        Xi, _ = unpack_data(batch)
        with torch.set_grad_enabled(training):
            if self.module_.training != training:  # every submodule's flag: not per batch
                self._set_training(training)
            if training:
                return self.infer(Xi)
            x = to_tensor(Xi, device=self.device_)
            rows, size = len(x), self._inference_batch_size()
            if rows < size:
                x = torch.cat([x, x.new_zeros((size - rows, *x.shape[1:]))])
            return self.module_(x)[:rows]

    # -- training ----------------------------------------------------------

    def _build(self):
        """skorch's initialize: callbacks, module, criterion, optimizer, history."""
        NeuralNet.initialize(self)

    @_fit_context(prefer_skip_nested_validation=True)
    @unfitted_on_error
    def initialize(self, X=None, y=None):
        """Build the untrained network for input like ``X``, e.g. to :meth:`load_params` into.

        Parameters
        ----------
        X : array-like, torch Dataset or None, default=None
            Example input: its shape and structure set the module, and its
            statistics the standardization. None: the input of the last
            ``fit`` (fresh weights; skorch's ``initialize()``).
        y : array-like or None, default=None
            Its targets (they set the classes, or the target scale); None
            when ``X`` is a Dataset of ``(X, y)`` items.

        Returns
        -------
        self
        """
        if X is not None:
            self._training_data(X, y, reset=True)
        elif getattr(self, "input_shape_", None) is None:
            raise NotInitializedError(
                f"{type(self).__name__} builds its module from its input: call initialize(X, y) "
                "or fit(X, y) first."
            )
        else:
            self._start_training()
        with self._training_call():
            self._build()
        return self

    def _fit(self, X, y, *, partial, classes=None):
        reset = not self.initialized_ or not (partial or self.warm_start)
        dataset, targets = self._training_data(X, y, reset=reset, classes=classes)
        epochs = 1 if partial else self.max_epochs
        with self._training_call():
            if reset:
                self._build()
            schedule = dict(self.callbacks_).get("lr_schedule")
            if schedule is not None and not partial:
                schedule.start(epochs)
            NeuralNet.partial_fit(self, dataset, targets, epochs=epochs)
        return self

    def _outputs(self, X):
        """The module's outputs after ``predict_nonlinearity``, float64 numpy."""
        check_is_fitted(self)
        nonlinearity = self._get_predict_nonlinearity()
        outputs = []
        with threads(self.n_threads):
            for out in self.forward_iter(X, training=False):
                outputs.append(to_numpy(nonlinearity(out)))
        if not outputs:
            return np.zeros((0, self._n_outputs))
        return np.concatenate(outputs).astype(np.float64)

    # -- weights on disk ---------------------------------------------------

    def load_params(
        self,
        f_params=None,
        f_optimizer=None,
        f_criterion=None,
        f_history=None,
        checkpoint=None,
        use_safetensors=False,
        **kwargs,
    ):
        """Read what :meth:`save_params` wrote (skorch's ``load_params``).

        The net must be fitted or initialized (``initialize(X, y)``) with the
        parameters the weights were saved with, so that the module has their
        architecture.

        Parameters
        ----------
        f_params, f_optimizer, f_criterion, f_history : str, path, file-like or None
            What to read: the module's weights, the optimizer's and the
            criterion's state, the history (JSON).
        checkpoint : skorch.callbacks.Checkpoint or None, default=None
            Read the files that this checkpoint wrote.
        use_safetensors : bool, default=False
            The files are safetensors (as ``save_params`` wrote them with it).
        **kwargs
            ``f_<name>`` for other modules, as in skorch.

        Returns
        -------
        self
        """
        if not self.initialized_:
            raise NotInitializedError(
                f"{type(self).__name__}.load_params: the module is built from the input; call "
                "initialize(X, y) (or fit) first, with the parameters the weights were saved "
                "with."
            )
        with self._on_device():
            NeuralNet.load_params(
                self,
                f_params=f_params,
                f_optimizer=f_optimizer,
                f_criterion=f_criterion,
                f_history=f_history,
                checkpoint=checkpoint,
                use_safetensors=use_safetensors,
                **kwargs,
            )
        self.n_iter_ = len(self.history)
        return self

    # -- persistence: numpy state only, so skops loads it --------------------

    def __getstate__(self):
        state = dict(BaseEstimator.__getstate__(self))
        runtime = {k: state.pop(k) for k in _RUNTIME_STATE if k in state}
        state["_params_to_validate"] = sorted(state.get("_params_to_validate", ()))
        if runtime.get("initialized_"):
            criterion, optimizer = self.criterion_, self.optimizer_
            state["_net_state"] = {
                "module": to_numpy_tree(self.module_.state_dict()),
                "criterion": (
                    to_numpy_tree(criterion.state_dict())
                    if isinstance(criterion, torch.nn.Module)
                    else None
                ),
                "optimizer": None if optimizer is None else to_numpy_tree(optimizer.state_dict()),
                "history": plain_history(list(self.history)),
            }
        return state

    def __setstate__(self, state):
        state = dict(state)
        net_state = state.pop("_net_state", None)
        state["_params_to_validate"] = set(state.get("_params_to_validate", ()))
        BaseEstimator.__setstate__(self, state)
        if net_state is None:
            return
        self.device_ = loading_device(self.device, type(self).__name__)
        with seeded(self._seed, self.device_), self._on_device():
            self._build()
        self.module_.load_state_dict(to_torch_tree(net_state["module"], self.device_))
        if net_state.get("criterion") is not None:
            self.criterion_.load_state_dict(to_torch_tree(net_state["criterion"], self.device_))
        if net_state.get("optimizer") is not None:
            self.optimizer_.load_state_dict(to_torch_tree(net_state["optimizer"], "cpu"))
        self.history_ = History(net_state["history"])
        self.module_.eval()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        if self._integer_input:
            tags.input_tags.categorical = True
            tags.input_tags.positive_only = True
        return tags


def _silent(*args, **kwargs):
    pass


#: What to do with each kind of structure, ``{}`` for "Classifier" or "Regressor".
_READERS = {
    "image": "Use PixelNet{} on images.",
    "sites": (
        "Put BlockDCT after the ChromaSubsampler (4:2:0 and 4:2:2 chroma then make JPEG's "
        "minimum coded units) and use BlockDCTNet{}, or use ChromaSubsampler('4:4:4')."
    ),
    "dct": "Use BlockDCTNet{} on block-DCT coefficients.",
    "mdct": "Use MDCTNet{} on MDCT frames.",
    "frames": "Use MDCTNet{} on the frames of 1-D transforms.",
    "subbands": "Use WaveletNet{} on wavelet subbands.",
    "codes": "Use CodeEmbedding{} on codes.",
}


def _network_for(estimator, structure):
    """A sentence that says which network reads ``structure``, for refusals."""
    task = "Classifier" if isinstance(estimator, ClassifierMixin) else "Regressor"
    kind = structure.kind
    if kind == "dct" and structure.n_spatial == 1:  # frames of a 1-D block transform
        kind = "frames"
    reader = _READERS.get(kind)
    if reader is None:
        return "No network of skcompress.nets reads them: give it a transform's coefficients."
    return reader.format(task)


class _NetClassifier(_NetEstimator, NeuralNetClassifier):
    """fit / partial_fit / predict_proba / predict of the network classifiers."""

    _default_criterion = torch.nn.CrossEntropyLoss

    # a fitted attribute, not skorch's property over its ``classes`` parameter
    @property
    def classes_(self):
        try:
            return self.__dict__["classes_"]
        except KeyError:
            raise AttributeError(
                f"{type(self).__name__} has no attribute 'classes_' before fit"
            ) from None

    @classes_.setter
    def classes_(self, value):
        self.__dict__["classes_"] = value

    @classes_.deleter
    def classes_(self):
        del self.__dict__["classes_"]

    def _validate_y(self, y, n_samples, *, reset, classes=None):
        """Checked labels (1-D); ``reset``: the classes, from ``classes`` or ``y``."""
        y = column_or_1d(y, warn=True)
        if len(y) != n_samples:
            raise ValueError(
                "Found input variables with inconsistent numbers of samples: "
                f"[{n_samples}, {len(y)}]"
            )
        check_classification_targets(y)
        if reset:
            if classes is not None:
                self.classes_ = np.unique(np.asarray(classes))
                check_classification_targets(self.classes_)
            else:
                self.classes_ = np.unique(y)
            self._n_outputs = len(self.classes_)
        self._positions(y)
        return y

    def _positions(self, labels):
        """Positions of ``labels`` in ``classes_``; a label that is not a class raises."""
        labels = np.asarray(labels)
        position = np.searchsorted(self.classes_, labels)
        position = np.minimum(position, len(self.classes_) - 1)
        unknown = self.classes_[position] != labels
        if np.any(unknown):
            raise ValueError(
                f"{type(self).__name__}: y holds labels {np.unique(labels[unknown]).tolist()} "
                f"that are not among the classes {self.classes_.tolist()}."
            )
        return position.astype(np.int64)

    def _criterion_target(self, y):
        return torch.from_numpy(self._positions(_as_array(y))).to(self.device_)

    @_fit_context(prefer_skip_nested_validation=True)
    @unfitted_on_error
    def fit(self, X, y=None):
        """Train the network for ``max_epochs`` epochs on ``(X, y)``.

        From a fresh start, or from the current weights when ``warm_start``
        and fitted.

        Parameters
        ----------
        X : array-like or torch Dataset
            Inputs in the layout the network takes (see the class docstring),
            or a torch Dataset of ``(X, y)`` items (one sample each).
        y : array-like of shape (n_samples,) or None
            Class labels of any type (integers, strings); continuous values
            are refused. None when ``X`` is a Dataset.

        Returns
        -------
        self
        """
        return self._fit(X, y, partial=False)

    @_fit_context(prefer_skip_nested_validation=True)
    @unfitted_on_error
    def partial_fit(self, X, y=None, classes=None):
        """One more epoch over ``(X, y)``; the first call builds the network.

        Parameters
        ----------
        X : array-like or torch Dataset
            Inputs of the shape seen by the first call.
        y : array-like of shape (n_samples,) or None
            Labels, all among ``classes``; None when ``X`` is a Dataset.
        classes : array-like or None, default=None
            Every class that will be seen, needed at the first call when
            its ``y`` does not hold them all (ignored afterwards).

        Returns
        -------
        self
        """
        return self._fit(X, y, partial=True, classes=classes)

    def predict_proba(self, X):
        """Class probabilities (softmax of the network's outputs).

        Parameters
        ----------
        X : array-like or torch Dataset
            Inputs of the shape seen at ``fit``.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            float64, columns in the order of ``classes_``.
        """
        proba = self._outputs(X)
        return proba / proba.sum(axis=1, keepdims=True)

    def predict(self, X):
        """The most probable class of every sample.

        Parameters
        ----------
        X : array-like or torch Dataset
            Inputs of the shape seen at ``fit``.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Labels, of the type of ``classes_``.
        """
        best = np.argmax(self._outputs(X), axis=1)
        return self.classes_[best]


class _NetRegressor(_NetEstimator, NeuralNetRegressor):
    """fit / partial_fit / predict of the network regressors (targets standardized inside)."""

    _default_criterion = torch.nn.MSELoss

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _validate_y(self, y, n_samples, *, reset, classes=None):
        """Checked targets, shape kept; ``reset``: their means and deviations."""
        y = check_array(y, ensure_2d=False, dtype=(np.float64, np.float32), input_name="y")
        if y.ndim not in (1, 2):
            raise ValueError(
                f"{type(self).__name__}: y must be of shape (n_samples,) or (n_samples, "
                f"n_targets); got shape {y.shape}."
            )
        if len(y) != n_samples:
            raise ValueError(
                "Found input variables with inconsistent numbers of samples: "
                f"[{n_samples}, {len(y)}]"
            )
        Y = y.reshape(len(y), -1).astype(np.float64)
        if reset:
            self._y_ndim = y.ndim
            self._n_outputs = Y.shape[1]
            self.target_mean_ = Y.mean(axis=0)
            scale = Y.std(axis=0)
            self.target_scale_ = np.where(scale > 0, scale, 1.0)
        elif Y.shape[1] != self._n_outputs:
            raise ValueError(
                f"{type(self).__name__} was fitted on {self._n_outputs} target(s); got y of "
                f"shape {y.shape}."
            )
        return y

    def _criterion_target(self, y):
        Y = np.asarray(_as_array(y), dtype=np.float64).reshape(len(y), -1)
        Y = ((Y - self.target_mean_) / self.target_scale_).astype(np.float32)
        return torch.from_numpy(Y).to(self.device_)

    @_fit_context(prefer_skip_nested_validation=True)
    @unfitted_on_error
    def fit(self, X, y=None):
        """Train the network for ``max_epochs`` epochs on ``(X, y)``.

        From a fresh start, or from the current weights when ``warm_start``
        and fitted.

        Parameters
        ----------
        X : array-like or torch Dataset
            Inputs in the layout the network takes (see the class docstring),
            or a torch Dataset of ``(X, y)`` items (one sample each).
        y : array-like of shape (n_samples,) or (n_samples, n_targets), or None
            Numeric targets; None when ``X`` is a Dataset.

        Returns
        -------
        self
        """
        return self._fit(X, y, partial=False)

    @_fit_context(prefer_skip_nested_validation=True)
    @unfitted_on_error
    def partial_fit(self, X, y=None):
        """One more epoch over ``(X, y)``; the first call builds the network.

        Targets are standardized with the statistics of the first call.

        Parameters
        ----------
        X : array-like or torch Dataset
            Inputs of the shape seen by the first call.
        y : array-like of shape (n_samples,) or (n_samples, n_targets), or None
            None when ``X`` is a Dataset.

        Returns
        -------
        self
        """
        return self._fit(X, y, partial=True)

    @available_if(lambda self: False)
    def predict_proba(self, X):
        """Regressors give no probabilities (skorch's would be the standardized outputs)."""

    def predict(self, X):
        """Predicted targets.

        Parameters
        ----------
        X : array-like or torch Dataset
            Inputs of the shape seen at ``fit``.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
            float64, as ``y`` was at ``fit``.
        """
        Y = self._outputs(X) * self.target_scale_ + self.target_mean_
        return Y[:, 0] if self._y_ndim == 1 else Y
