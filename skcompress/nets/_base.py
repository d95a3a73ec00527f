"""The network estimators' machinery: input validation, standardization, the skorch net."""

from math import prod
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import ClassifierMixin, RegressorMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    check_array,
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    validate_data,
)
from skorch import NeuralNetClassifier, NeuralNetRegressor
from skorch.callbacks import EarlyStopping
from skorch.dataset import ValidSplit

from .._core._contract import check_nonempty, check_numeric
from .._core._estimator import unfitted_on_error
from .._core._limits import MAX_HIDDEN_UNITS, MAX_KERNEL_SIZE
from .._core._structure import read_structure, refuse, structure_of
from ._data import BatchIterator, CosineDecay, threads
from ._modules import count_macs, count_parameters
from ._skorch import TRAINING_CONSTRAINTS, _SkorchEstimator, check_float32_range

_OPTIMIZERS = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD}

#: Most values of the embedding tables of the code networks (all streams together):
#: 2**28 float32 weights are 1 GiB, 4 GiB with their gradients and Adam's two moments.
_MAX_EMBEDDING_VALUES = 1 << 28

_NET_CONSTRAINTS = {
    **TRAINING_CONSTRAINTS,
    "optimizer": [StrOptions(set(_OPTIMIZERS))],
    "weight_decay": [Interval(Real, 0, None, closed="left")],
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
    "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
}
_HEAD_CONSTRAINTS = {
    "widths": [tuple, list],  # each at most MAX_WIDTH, checked by the module
    "kernel_size": [Interval(Integral, 1, MAX_KERNEL_SIZE, closed="both")],
    "hidden_units": [Interval(Integral, 0, MAX_HIDDEN_UNITS, closed="both")],
    "dropout": [Interval(Real, 0, 1, closed="left")],
}


class _NetEstimator(_SkorchEstimator):
    """Validation, standardization and the skorch net; families fill in the input."""

    # set by the families
    _module_class = None
    _integer_input = False

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

    def _validate_X(self, X, *, reset):
        name = type(self).__name__
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
            X = self._check_codes(X, reset=reset)
        else:
            check_float32_range(X, name)
        return X

    def _check_codes(self, X, *, reset):
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
        high = int(X.max(initial=0))
        if low < 0:
            raise ValueError(
                f"Negative values in data passed to {name}: codes must be >= 0; X holds {low}."
            )
        if reset:
            self.n_codes_ = high + 1 if self.n_codes == "auto" else int(self.n_codes)
            self._check_embedding_size(high)
        if high >= self.n_codes_:
            raise ValueError(
                f"{name}: codes must be in [0, {self.n_codes_ - 1}] (n_codes={self.n_codes!r}, "
                f"{self.n_codes_} codes per stream); X holds {high}."
            )
        return X

    def _check_embedding_size(self, high):
        streams = self._to_module_input(np.empty((1, *self.input_shape_))).shape[1]
        values = streams * self.n_codes_ * self.embedding_dim
        if values > _MAX_EMBEDDING_VALUES:
            raise ValueError(
                f"{type(self).__name__}: an embedding of {self.n_codes_} codes "
                f"(n_codes={self.n_codes!r}; X holds codes up to {high}) x {streams} streams "
                f"x embedding_dim={self.embedding_dim} has {values} weights; expected at most "
                f"{_MAX_EMBEDDING_VALUES} (2**28). The codes must be indices into codebooks "
                "(a ResidualVQ's), not arbitrary integers: give fewer codes or a smaller "
                "embedding_dim."
            )

    @staticmethod
    def _require_y(estimator, y):
        if y is None:
            raise ValueError(
                f"This {type(estimator).__name__} estimator requires y to be passed, but the "
                "target y is None."
            )

    # -- preparation -------------------------------------------------------

    def _fit_standardization(self, Z):
        if self._integer_input or not getattr(self, "standardize", False):
            self.input_mean_ = self.input_scale_ = None
            return
        groups = self._standardize_groups(Z)
        flat = Z.reshape(len(Z), -1).astype(np.float64)
        n_groups = int(groups.max()) + 1
        count = np.bincount(groups, minlength=n_groups) * len(Z)
        total = np.bincount(groups, weights=flat.sum(axis=0), minlength=n_groups)
        mean = total / count
        centred = flat - mean[groups]
        var = np.bincount(groups, weights=(centred**2).sum(axis=0), minlength=n_groups) / count
        scale = np.sqrt(var)
        scale[~(scale > 1e-12 * np.maximum(1.0, np.abs(mean)))] = 1.0
        self.input_mean_ = mean.astype(np.float32)
        self.input_scale_ = scale.astype(np.float32)

    def _prepare(self, X):
        """Validated X to a tensor on the fitted device, in the module's layout and dtype."""
        Z = self._to_module_input(X)
        if self._integer_input:
            return torch.from_numpy(np.array(Z, dtype=np.int64, order="C")).to(self.device_)
        Z = np.array(Z, dtype=np.float32, order="C")
        if self.input_mean_ is not None:
            groups = self._standardize_groups(Z)
            flat = Z.reshape(len(Z), -1)
            flat -= self.input_mean_[groups]
            flat /= self.input_scale_[groups]
        return torch.from_numpy(Z).to(self.device_)

    # -- the skorch net ----------------------------------------------------

    def _net_class(self):
        raise NotImplementedError

    def _net_extra(self):
        return {}

    def _make_net(self):
        callbacks = []
        if self.early_stopping:
            callbacks.append(
                (
                    "early_stopping",
                    EarlyStopping(
                        monitor="valid_loss",
                        patience=self.n_iter_no_change,
                        load_best=True,
                        sink=print if self.verbose else _silent,
                    ),
                )
            )
        if self.lr_schedule == "cosine":
            steps = self.max_epochs * -(-self._n_train // self.batch_size)
            callbacks.append(("lr_schedule", CosineDecay(steps)))
        train_split = None
        if self.early_stopping:
            train_split = ValidSplit(
                self.validation_fraction,
                stratified=isinstance(self, ClassifierMixin),
                random_state=self._seed,
            )
        optimizer_params = {"optimizer__weight_decay": self.weight_decay}
        if self.optimizer == "sgd":
            optimizer_params["optimizer__momentum"] = 0.9
        module_params = {f"module__{k}": v for k, v in self._module_kwargs().items()}
        return self._net_class()(
            module=self._module_class,
            optimizer=_OPTIMIZERS[self.optimizer],
            **self._net_params(BatchIterator, callbacks, train_split=train_split),
            **optimizer_params,
            **module_params,
            **self._net_extra(),
        )

    def _train(self, X, y, *, reset, epochs, fit):
        """Build (when ``reset``) and train the net for ``epochs`` passes over ``(X, y)``.

        ``fit``: a whole ``fit``, over which the learning-rate schedule runs.
        """
        if reset:
            self._n_train = len(X)
            self._start_training()
            self._fit_standardization(self._to_module_input(X))
        Xt = self._prepare(X)
        yt = torch.from_numpy(y).to(self.device_)
        with self._training_call():
            if reset:
                self.net_ = self._make_net()
                self.net_.initialize()
                self.n_parameters_ = count_parameters(self.net_.module_)
                self.macs_ = count_macs(self.net_.module_, Xt[:1])
            schedule = dict(self.net_.callbacks_).get("lr_schedule")
            if schedule is not None and fit:
                schedule.start()
            self.net_.partial_fit(Xt, yt, epochs=epochs)
        return self

    def _outputs(self, X):
        """The module's outputs (probabilities for classifiers), float64 numpy.

        Every forward pass sees exactly ``min(batch_size, n)`` rows, ``n`` the
        samples of the first training call (the last batch is padded), so a
        sample's outputs do not depend on the batch it came in: the kernels
        that a batch size selects sum in their own orders. Training's batch is
        never larger, so neither is prediction's memory, whatever ``batch_size``.
        """
        check_is_fitted(self)
        Xt = self._prepare(self._validate_X(X, reset=False))
        module, size = self.net_.module_, min(self.batch_size, self._n_train)
        outputs = []
        with threads(self.n_threads), torch.no_grad():
            module.eval()
            for start in range(0, len(Xt), size):
                batch = Xt[start : start + size]
                rows = len(batch)
                if rows < size:
                    pad = batch.new_zeros((size - rows, *batch.shape[1:]))
                    batch = torch.cat([batch, pad])
                outputs.append(self._finish(module(batch)[:rows]))
        if not outputs:
            return np.zeros((0, self._n_outputs))
        return torch.cat(outputs).cpu().numpy().astype(np.float64)

    def _finish(self, out):
        return out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
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


class NetClassifierMixin(ClassifierMixin):
    """fit / partial_fit / predict_proba / predict of the network classifiers."""

    def _net_class(self):
        return NeuralNetClassifier

    def _finish(self, out):
        return torch.softmax(out, dim=1)

    def _net_extra(self):
        return {
            "criterion": torch.nn.CrossEntropyLoss,
            "classes": np.arange(len(self.classes_)),
        }

    def _validate_y(self, X, y, *, reset, classes=None):
        _NetEstimator._require_y(self, y)
        y = column_or_1d(y, warn=True)
        check_consistent_length(X, y)
        check_classification_targets(y)
        if reset:
            if classes is not None:
                self.classes_ = np.unique(np.asarray(classes))
                check_classification_targets(self.classes_)
            else:
                self.classes_ = np.unique(y)
        position = np.searchsorted(self.classes_, y)
        position = np.minimum(position, len(self.classes_) - 1)
        unknown = self.classes_[position] != y
        if np.any(unknown):
            raise ValueError(
                f"{type(self).__name__}: y holds labels {np.unique(y[unknown]).tolist()} "
                f"that are not among the classes {self.classes_.tolist()}."
            )
        self._n_outputs = len(self.classes_)
        return position.astype(np.int64)

    @_fit_context(prefer_skip_nested_validation=True)
    @unfitted_on_error
    def fit(self, X, y):
        """Train the network for ``max_epochs`` epochs on ``(X, y)``, from a fresh start.

        Parameters
        ----------
        X : array-like
            Inputs in the layout the network takes (see the class docstring).
        y : array-like of shape (n_samples,)
            Class labels of any type (integers, strings); continuous values
            are refused.

        Returns
        -------
        self
        """
        X = self._validate_X(X, reset=True)
        y = self._validate_y(X, y, reset=True)
        return self._train(X, y, reset=True, epochs=self.max_epochs, fit=True)

    @_fit_context(prefer_skip_nested_validation=True)
    @unfitted_on_error
    def partial_fit(self, X, y, classes=None):
        """One more epoch over ``(X, y)``; the first call builds the network.

        Parameters
        ----------
        X : array-like
            Inputs of the shape seen by the first call.
        y : array-like of shape (n_samples,)
            Labels, all among ``classes``.
        classes : array-like or None, default=None
            Every class that will be seen, needed at the first call when
            its ``y`` does not hold them all (ignored afterwards).

        Returns
        -------
        self
        """
        first = not hasattr(self, "net_")
        X = self._validate_X(X, reset=first)
        y = self._validate_y(X, y, reset=first, classes=classes)
        return self._train(X, y, reset=first, epochs=1, fit=False)

    def predict_proba(self, X):
        """Class probabilities (softmax of the network's outputs).

        Parameters
        ----------
        X : array-like
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
        X : array-like
            Inputs of the shape seen at ``fit``.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Labels, of the type of ``classes_``.
        """
        best = np.argmax(self._outputs(X), axis=1)
        return self.classes_[best]


class NetRegressorMixin(RegressorMixin):
    """fit / partial_fit / predict of the network regressors (targets standardized inside)."""

    def _net_class(self):
        return NeuralNetRegressor

    def _net_extra(self):
        return {"criterion": torch.nn.MSELoss}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _validate_y(self, X, y, *, reset):
        _NetEstimator._require_y(self, y)
        y = check_array(y, ensure_2d=False, dtype=(np.float64, np.float32), input_name="y")
        if y.ndim not in (1, 2):
            raise ValueError(
                f"{type(self).__name__}: y must be of shape (n_samples,) or (n_samples, "
                f"n_targets); got shape {y.shape}."
            )
        check_consistent_length(X, y)
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
        return ((Y - self.target_mean_) / self.target_scale_).astype(np.float32)

    @_fit_context(prefer_skip_nested_validation=True)
    @unfitted_on_error
    def fit(self, X, y):
        """Train the network for ``max_epochs`` epochs on ``(X, y)``, from a fresh start.

        Parameters
        ----------
        X : array-like
            Inputs in the layout the network takes (see the class docstring).
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Numeric targets.

        Returns
        -------
        self
        """
        X = self._validate_X(X, reset=True)
        y = self._validate_y(X, y, reset=True)
        return self._train(X, y, reset=True, epochs=self.max_epochs, fit=True)

    @_fit_context(prefer_skip_nested_validation=True)
    @unfitted_on_error
    def partial_fit(self, X, y):
        """One more epoch over ``(X, y)``; the first call builds the network.

        Targets are standardized with the statistics of the first call.

        Parameters
        ----------
        X : array-like
            Inputs of the shape seen by the first call.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)

        Returns
        -------
        self
        """
        first = not hasattr(self, "net_")
        X = self._validate_X(X, reset=first)
        y = self._validate_y(X, y, reset=first)
        return self._train(X, y, reset=first, epochs=1, fit=False)

    def predict(self, X):
        """Predicted targets.

        Parameters
        ----------
        X : array-like
            Inputs of the shape seen at ``fit``.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
            float64, as ``y`` was at ``fit``.
        """
        Y = self._outputs(X) * self.target_scale_ + self.target_mean_
        return Y[:, 0] if self._y_ndim == 1 else Y
