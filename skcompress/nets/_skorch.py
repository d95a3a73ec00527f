"""The skorch foundation of every trained estimator: devices, seeding, training calls, persistence.

:class:`SeededTraining` seeds the training calls of both kinds: the network
estimators of :mod:`skcompress.nets`, which are skorch nets themselves, and
the learned codecs of :mod:`skcompress.learned`, which hold one as ``net_``
(``_SkorchEstimator``). The constraints and docstring pieces here are those
of the parameters they all take.
"""

import textwrap
import warnings
from contextlib import contextmanager, nullcontext
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from skorch.callbacks import Callback, ProgressBar
from skorch.history import History

from .._core._device import checked_device
from .._core._estimator import PublicEstimatorMixin
from .._core._limits import MAX_THREADS
from ._data import seeded, threads

#: Seeds are drawn in ``[0, SEED_LIMIT)`` from ``random_state``.
SEED_LIMIT = np.iinfo(np.int32).max

#: Constraints of the training parameters that every skorch estimator takes.
TRAINING_CONSTRAINTS = {
    "max_epochs": [Interval(Integral, 1, None, closed="left")],
    "batch_size": [Interval(Integral, 1, None, closed="left")],
    "lr": [Interval(Real, 0, None, closed="neither")],
    "lr_schedule": [StrOptions({"constant", "cosine"})],
    "device": [str],
    "random_state": ["random_state"],
    "verbose": ["verbose"],
    "callbacks": [list, None],
    "n_threads": [Interval(Integral, 1, MAX_THREADS, closed="both"), None],
}

_FLOAT32_MAX = float(np.finfo(np.float32).max)

# -- docstring pieces (indented as a class docstring's sections) --------------

_RUNTIME_PARAMS = """\
    device : str, default="auto"
        "auto": CUDA when torch sees a GPU, else the CPU; or any torch device
        name ("cpu", "cuda:1").
    random_state : int, RandomState instance or None, default=None
{random_state}
    verbose : int, default=0
        0: silent; 1: skorch's table of the losses per epoch (for a codec,
        with the parts of its objective); 2: and a progress bar over the
        batches of every epoch.
    callbacks : list of skorch callbacks or None, default=None
        More skorch callbacks (learning-rate schedulers, checkpoints...),
        added to those above.
    n_threads : int in [1, 1024] or None, default=None
        torch's intra-op threads during every call (training, prediction,
        coding, decoding), set for the call and restored after it
        (``torch.set_num_threads`` is process-wide). None leaves torch's
        setting. Small networks on small batches often run fastest on 1
        thread, and need it where several processes share the cores (joblib
        workers, ``pytest -n``): oversubscribed threads wait on each other."""


def runtime_params(seeded):
    """Docstring entries ``device`` to ``n_threads``; ``seeded``: what ``random_state`` seeds."""
    random_state = textwrap.fill(
        f"Seeds {seeded}. torch is seeded inside a forked RNG state, so fitting leaves "
        "torch's global generators as they were, and two fits with the same int give the "
        "same model on the same device (CUDA kernels may add their own non-determinism).",
        width=78,
        initial_indent=" " * 8,
        subsequent_indent=" " * 8,
    )
    return _RUNTIME_PARAMS.format(random_state=random_state)


#: The fitted attributes that every trained estimator has.
FITTED_ATTRIBUTES = """\
    n_iter_ : int
        Epochs trained so far (every training call together).
    n_parameters_ : int
        Trainable parameters of the network.
    device_ : str
        The device in use.
    n_features_in_ : int
        Values per input sample.
    feature_names_in_ : ndarray of str
        Column names, when ``fit`` was given a DataFrame."""

#: Persistence; ``{what}`` names the estimator ("estimator", "codec").
PERSISTENCE_NOTES = """\
    Pickle, :func:`~sklearn.base.clone` and ``skops.io`` keep a fitted
    {what}: its state is saved as numpy arrays (weights, optimizer state,
    history) and the skorch net is rebuilt on loading, on the saved device
    or, when that CUDA device is missing, on the CPU."""


def resolve_device(device):
    """``"auto"``: CUDA when torch sees a GPU, else the CPU; any other name is checked.

    Parameters
    ----------
    device : str or torch.device
        "auto", or a torch device name ("cpu", "cuda", "cuda:1", ...).

    Returns
    -------
    device : str
        The torch device name to use.

    Raises
    ------
    ValueError
        For a name torch does not know, or CUDA when torch sees no GPU.

    Examples
    --------
    >>> import torch
    >>> from skcompress.nets import resolve_device
    >>> resolve_device("cpu")
    'cpu'
    >>> resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    True
    >>> resolve_device("abacus")
    Traceback (most recent call last):
    ...
    ValueError: device must be 'auto' or a torch device name such as 'cpu' or ...
    """
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return str(checked_device(device))


def loading_device(device, owner):
    """The device to load a saved net on: its own, or the CPU when that CUDA is gone."""
    try:
        return resolve_device(device)
    except ValueError:
        warnings.warn(
            f"{owner} was saved with device={device!r}, which is not available here; it is "
            "loaded on the CPU.",
            RuntimeWarning,
            stacklevel=3,
        )
        return "cpu"


def check_float32_range(X, name):
    """Raise a ValueError where ``X`` holds values that float32, the networks' dtype, cannot.

    Parameters
    ----------
    X : ndarray
        Validated, finite input (float64 may exceed float32's range).
    name : str
        The estimator, for the message.

    Examples
    --------
    >>> import numpy as np
    >>> check_float32_range(np.array([[1.0, 1e300]]), "BalleCodec")
    Traceback (most recent call last):
    ...
    ValueError: BalleCodec computes in float32, which holds magnitudes up to 3.4e+38; ...
    """
    if X.dtype.kind != "f" or X.dtype.itemsize <= 4 or not X.size:
        return
    peak = float(np.max(np.abs(X)))
    if peak > _FLOAT32_MAX:
        raise ValueError(
            f"{name} computes in float32, which holds magnitudes up to {_FLOAT32_MAX:.2g}; "
            f"X holds values up to {peak:.3g}. Scale X to a sensible range first (images in "
            "[0, 255] or [0, 1], signals of unit variance)."
        )


class DivergenceCheck(Callback):
    """Stop training with a ValueError as soon as a training batch's loss is not finite.

    A loss that overflows or turns NaN (a learning rate too large, inputs of
    absurd scale) would leave weights of NaN that predict NaN for every
    sample; the estimator's ``fit`` then fails instead, naming ``lr``.

    Parameters
    ----------
    owner : str
        Name of the estimator, for the message.
    """

    def __init__(self, owner="estimator"):
        self.owner = owner

    def on_batch_end(self, net, batch=None, training=None, loss=None, **kwargs):
        if not training or loss is None or bool(torch.isfinite(loss).all()):
            return
        epoch = len(net.history)
        batches = len(net.history[-1]["batches"]) if epoch else 0
        raise ValueError(
            f"{self.owner}: training diverged: the training loss is "
            f"{float(loss.detach().reshape(-1)[0])} at batch {batches} of epoch {epoch}. "
            f"Lower the learning rate (lr={net.lr!r}); inputs of a sensible scale "
            "(standardized, or images in [0, 255]) also keep the loss finite."
        )


def to_numpy_tree(value):
    """Tensors in nested dicts/lists/tuples to numpy arrays; int dict keys kept."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    if isinstance(value, dict):
        return {k: to_numpy_tree(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(to_numpy_tree(v) for v in value)
    return value


def to_torch_tree(value, device):
    """Numpy arrays in nested dicts/lists/tuples to tensors on ``device``."""
    if isinstance(value, np.ndarray):
        return torch.from_numpy(np.array(value)).to(device)
    if isinstance(value, dict):
        return {k: to_torch_tree(v, device) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(to_torch_tree(v, device) for v in value)
    return value


def plain_history(value):
    """skorch's History, or any part of it, as plain lists, dicts, scalars and arrays."""
    if isinstance(value, dict):
        return {str(k): plain_history(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_history(v) for v in value]
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    if isinstance(value, np.generic):
        return value.item()
    return value


class SeededTraining:
    """Seeding and training calls of an estimator that trains a skorch net.

    The net is the estimator itself (:mod:`skcompress.nets`) or its ``net_``
    (:mod:`skcompress.learned`): :meth:`_trained_net` says which. A fit starts
    with :meth:`_start_training`; every training call then runs inside
    :meth:`_training_call`, seeded with ``seed + number of the call``, so a
    fit is reproducible from ``random_state`` and leaves torch's global
    generators alone.
    """

    def _trained_net(self):
        """The skorch net being trained."""
        raise NotImplementedError

    def _on_device(self):
        """Context of the skorch calls (nets: ``device`` as torch names it)."""
        return nullcontext()

    def _start_training(self):
        """Resolve the device, draw the seed and reset the count of training calls."""
        self.device_ = resolve_device(self.device)
        self._seed = int(check_random_state(self.random_state).randint(SEED_LIMIT))
        self._n_calls = 0

    @contextmanager
    def _training_call(self):
        """One training call: ``n_threads`` threads, torch seeded anew; then ``n_iter_``."""
        self._n_calls += 1
        seed = self._seed + self._n_calls
        with threads(self.n_threads), seeded(seed, self.device_), self._on_device():
            yield
        self.n_iter_ = len(self._trained_net().history)


class _SkorchEstimator(SeededTraining, PublicEstimatorMixin, BaseEstimator):
    """An estimator that trains a skorch net ``net_``: seeding, training calls, persistence.

    Subclasses give ``_make_net()`` (the skorch net, not yet initialized) and
    take the parameters of :data:`TRAINING_CONSTRAINTS`; seeding and training
    calls are those of :class:`SeededTraining`.

    Pickling keeps numpy state only (weights, optimizer state, history), so
    ``skops.io`` loads it; the net is rebuilt on loading.

    Training that diverges (a non-finite loss) raises a ValueError naming
    ``lr`` (:class:`DivergenceCheck`).
    """

    def _make_net(self):
        """The skorch net of the current parameters and fitted state, not initialized."""
        raise NotImplementedError

    def _trained_net(self):
        return self.net_

    def _net_params(self, iterator, callbacks, *, train_split=None):
        """The keywords of the skorch net that the training parameters set.

        ``iterator`` serves training (shuffled) and validation; ``callbacks``
        (the estimator's own) follow the user's, and a progress bar follows
        them with ``verbose >= 2``.
        """
        callbacks = [
            *(self.callbacks or []),
            *callbacks,
            ("divergence_check", DivergenceCheck(type(self).__name__)),
        ]
        if self.verbose and self.verbose >= 2:
            callbacks.append(("progress_bar", ProgressBar()))
        return {
            "lr": self.lr,
            "max_epochs": self.max_epochs,
            "batch_size": self.batch_size,
            "iterator_train": iterator,
            "iterator_valid": iterator,
            "iterator_train__shuffle": True,
            "train_split": train_split,
            "callbacks": callbacks,
            "verbose": int(self.verbose or 0),
            "device": self.device_,
        }

    def _new_net(self):
        """A net from :meth:`_make_net`, initialized under the estimator's seed."""
        with seeded(self._seed, self.device_):
            net = self._make_net()
            net.initialize()
        return net

    @property
    def history(self):
        """The training history of the net (skorch's ``History``; None before ``fit``)."""
        net = self.__dict__.get("net_")
        return None if net is None else net.history

    # -- persistence: numpy state only, so skops loads it --------------------

    def __getstate__(self):
        state = dict(super().__getstate__())
        net = state.pop("net_", None)
        if net is not None:
            state["_net_state"] = {
                "module": to_numpy_tree(net.module_.state_dict()),
                "optimizer": to_numpy_tree(net.optimizer_.state_dict()),
                "history": plain_history(list(net.history)),
            }
        return state

    def __setstate__(self, state):
        state = dict(state)
        net_state = state.pop("_net_state", None)
        super().__setstate__(state)
        if net_state is not None:
            self.device_ = loading_device(self.device, type(self).__name__)
            net = self._new_net()
            module_state = to_torch_tree(net_state["module"], self.device_)
            self._prepare_module_for_state(net.module_, module_state)
            net.module_.load_state_dict(module_state)
            net.optimizer_.load_state_dict(to_torch_tree(net_state["optimizer"], "cpu"))
            net.history_ = History(net_state["history"])
            net.module_.eval()
            self.net_ = net

    def _prepare_module_for_state(self, module, state):
        """Give buffers whose shape the state sets (codebooks) that shape before loading."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags
