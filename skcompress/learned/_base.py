"""What the learned codecs add to the skorch foundation: their loss, patches, weights on disk."""

from abc import ABCMeta, abstractmethod
from numbers import Real

import numpy as np
import torch
from sklearn.base import TransformerMixin
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted
from skorch import NeuralNet
from skorch.callbacks import Callback, GradientNormClipping

from .._core._chunks import map_numpy_chunks
from ..nets._data import threads
from ..nets._modules import count_parameters
from ..nets._skorch import PERSISTENCE_NOTES as SKORCH_PERSISTENCE_NOTES
from ..nets._skorch import TRAINING_CONSTRAINTS, _SkorchEstimator, runtime_params

_CODEC_CONSTRAINTS = {
    **TRAINING_CONSTRAINTS,
    "max_grad_norm": [Interval(Real, 0, None, closed="neither"), None],
}

# shared parts of the docstrings
TRAINING_PARAMS = """\
    max_epochs : int, default=10
        Passes over the training data in ``fit``.
    batch_size : int, default=16
        Signals (or patches) per mini-batch; also the chunk size of
        ``transform`` and ``inverse_transform``.
    lr : float, default=0.001
        Learning rate of Adam. Training whose loss turns non-finite stops
        ``fit`` with a ValueError and leaves the codec unfitted.
    max_grad_norm : float or None, default=1.0
        Clip the gradient's norm to this before every step (skorch's
        ``GradientNormClipping``), which keeps GDN training stable at
        larger learning rates. None: no clipping.
    lr_schedule : {"constant", "cosine"}, default="constant"
        "cosine": batch by batch, a linear warm-up over the first 5% of the
        batches of ``fit``, then a cosine decay to 0 at its last (skorch's
        ``LRScheduler``); later ``partial_fit`` calls run at ``lr``.
""" + runtime_params(
    "the weights, the order of the mini-batches, the crops and the quantization noise"
)

PERSISTENCE_NOTES = (
    """\
    Training runs through skorch (a ``NeuralNet`` whose loss is the codec's
    objective), reproducibly from ``random_state``.
"""
    + SKORCH_PERSISTENCE_NOTES.format(what="codec")
    + """
    :meth:`save_params` and :meth:`load_params` write and read the weights
    alone (skorch's, as safetensors when that package is installed)."""
)


class PatchIterator:
    """Mini-batches sliced from whole tensors, optionally as random crops.

    Parameters
    ----------
    dataset : skorch.dataset.Dataset
        Holding a tensor ``X`` of shape ``(n, channels, *spatial)``.
    batch_size : int, default=16
    shuffle : bool, default=False
        New order at every pass, from torch's global generator.
    patch_size : int or None, default=None
        Crop every signal of a training batch to this size along each
        spatial axis, at a random offset of its own (in training only).
    **kwargs
        Other ``DataLoader`` options, ignored.
    """

    def __init__(self, dataset, batch_size=16, shuffle=False, patch_size=None, **kwargs):
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.patch_size = patch_size

    def __len__(self):
        return -(-len(self.dataset) // self.batch_size)

    def __iter__(self):
        X = self.dataset.X
        n = len(X)
        order = torch.randperm(n, device=X.device) if self.shuffle else None
        for start in range(0, n, self.batch_size):
            rows = slice(start, start + self.batch_size) if order is None else None
            batch = X[rows] if order is None else X[order[start : start + self.batch_size]]
            if self.patch_size is not None and self.shuffle:
                batch = random_crops(batch, self.patch_size)
            yield batch, None


def random_crops(batch, size):
    """Crop every signal of ``(n, channels, *spatial)`` to ``size`` at its own random offset."""
    n, channels, *spatial = batch.shape
    if all(s == size for s in spatial):
        return batch
    d, device = len(spatial), batch.device
    index = [
        torch.arange(n, device=device).reshape(n, 1, *([1] * d)),
        torch.arange(channels, device=device).reshape(1, channels, *([1] * d)),
    ]
    for axis, extent in enumerate(spatial):
        offset = torch.randint(0, extent - size + 1, (n,), device=device)
        view = [n, 1] + [1] * d
        view[2 + axis] = size
        index.append((offset[:, None] + torch.arange(size, device=device)).reshape(view))
    return batch[tuple(index)]


class WarmupCosine(Callback):
    """Per-batch learning rate: linear warm-up, cosine decay to 0, then the base rate again.

    The factor of batch ``t`` (counted over the net's whole life, so the two
    training steps of :class:`SoundStreamCodec` share one schedule) is
    ``min(1, (t + 1) / warmup) * (1 + cos(pi * t / total_steps)) / 2`` for
    ``t < total_steps`` (``warmup`` 5% of them), 1 afterwards (``partial_fit``).
    """

    def __init__(self, total_steps=1, warmup=0.05):
        self.total_steps = total_steps
        self.warmup = warmup

    def initialize(self):
        self.step_ = 0
        self.base_lrs_ = None
        return self

    def factor(self, step):
        total = max(int(self.total_steps), 1)
        if step >= total:
            return 1.0
        rise = min(1.0, (step + 1) / max(int(self.warmup * total), 1))
        return rise * 0.5 * (1 + np.cos(np.pi * step / total))

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        if not training:
            return
        groups = net.optimizer_.param_groups
        if self.base_lrs_ is None:
            self.base_lrs_ = [g["lr"] for g in groups]
        factor = self.factor(self.step_)
        for group, base in zip(groups, self.base_lrs_, strict=True):
            group["lr"] = base * factor
        self.step_ += 1


class _EpochMeans(Callback):
    """Averages the loss parts that the net records per batch into the epoch's row."""

    def __init__(self, keys):
        self.keys = keys

    def on_epoch_end(self, net, **kwargs):
        batches = net.history[-1]["batches"]
        for key in self.keys:
            values = [b[key] for b in batches if key in b]
            if values:
                net.history.record(key, float(np.mean(values)))


class _CodecNet(NeuralNet):
    """skorch's ``NeuralNet`` whose criterion sees the input: ``criterion_(y_pred, X)``.

    The criterion returns ``(loss, parts)``; every part (rate, distortion...)
    is recorded per batch and averaged into the epoch's row of the history,
    so the verbose table shows it beside the loss.
    """

    def __init__(self, *args, loss_parts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.loss_parts = loss_parts

    def get_default_callbacks(self):
        callbacks = list(super().get_default_callbacks())
        at = next(i for i, (name, _) in enumerate(callbacks) if name == "print_log")
        callbacks.insert(at, ("loss_parts", _EpochMeans(tuple(self.loss_parts))))
        return callbacks

    def get_loss(self, y_pred, y_true, X=None, training=False):
        loss, parts = self.criterion_(y_pred, X)
        if training:
            for key, value in parts.items():
                self.history.record_batch(key, float(value))
        return loss


def _has_safetensors():
    try:
        import safetensors  # noqa: F401
    except ImportError:
        return False
    return True


class LearnedCodec(TransformerMixin, _SkorchEstimator, metaclass=ABCMeta):
    """The skorch net of the learned codecs: a loss that sees the input, patches, clipping.

    Seeding, training calls and persistence come from ``_SkorchEstimator``
    (:mod:`skcompress.nets`). Subclasses provide ``_build_module()``,
    ``_criterion()`` (class and kwargs), ``_loss_parts`` and
    ``_patch_size()``; ``_train(Z, reset, epochs)`` trains the module on the
    module-ready array ``Z``.
    """

    _loss_parts = ()

    # -- the skorch net ----------------------------------------------------

    @abstractmethod
    def _build_module(self):
        """The torch module to train."""

    @abstractmethod
    def _criterion(self):
        """The loss: ``(class, kwargs)`` for skorch's ``criterion``."""

    def _patch_size(self):
        return None

    def _schedule_epochs(self):
        """Epochs of one ``fit``, over which the "cosine" schedule runs."""
        return self.max_epochs

    def _make_net(self):
        callbacks = []
        if self.max_grad_norm is not None:
            callbacks.append(
                ("clip", GradientNormClipping(gradient_clip_value=self.max_grad_norm))
            )
        if self.lr_schedule == "cosine":
            batches = -(-getattr(self, "_n_train", 1) // self.batch_size)
            callbacks.append(("lr_schedule", WarmupCosine(batches * self._schedule_epochs())))
        criterion, criterion_kwargs = self._criterion()
        return _CodecNet(
            module=self._build_module(),
            criterion=criterion,
            optimizer=torch.optim.Adam,
            iterator_train__patch_size=self._patch_size(),
            loss_parts=self._loss_parts,
            # the densities learn faster than the transforms need to
            optimizer__param_groups=[("entropy_bottleneck.*", {"lr": 10 * self.lr})],
            **{f"criterion__{k}": v for k, v in criterion_kwargs.items()},
            **self._net_params(PatchIterator, callbacks),
        )

    def _initialize_net(self):
        self.net_ = self._new_net()
        self.n_parameters_ = count_parameters(self.net_.module_)

    def _train(self, Z, *, reset, epochs):
        """Train on ``Z`` (numpy, the module's input) for ``epochs`` passes."""
        self._n_train = len(Z)
        if reset:
            self._initialize_net()
        Zt = torch.from_numpy(np.ascontiguousarray(Z, dtype=np.float32)).to(self.device_)
        with self._training_call():
            self.net_.partial_fit(Zt, None, epochs=epochs)
        self.net_.module_.eval()
        return self

    def _tensor(self, A):
        """``A`` as a float32 tensor on the fitted device."""
        return torch.from_numpy(np.asarray(A, dtype=np.float32)).to(self.device_)

    def _map_module(self, function, A):
        """``function`` (numpy to numpy) over chunks of ``batch_size`` signals of ``A``.

        The chunks' outputs fill one array; torch runs without gradients on
        ``n_threads`` threads.
        """

        def run(chunk):
            # no_grad holds for its own thread only, and chunks may run on
            # joblib's threads (under a parallel_config)
            with torch.no_grad():
                return function(chunk)

        with threads(self.n_threads):
            return map_numpy_chunks(run, A, self.batch_size)

    @property
    def module_(self):
        """The trained torch module (``net_.module_``)."""
        check_is_fitted(self, "net_")
        return self.net_.module_

    # -- weights on disk ---------------------------------------------------

    def save_params(self, f_params, *, use_safetensors=None):
        """Write the module's weights with skorch's ``save_params``.

        Parameters
        ----------
        f_params : str, path or file-like
            Destination.
        use_safetensors : bool or None, default=None
            None: safetensors when the ``safetensors`` package is installed,
            else torch's format.

        Returns
        -------
        self
        """
        check_is_fitted(self, "net_")
        safe = _has_safetensors() if use_safetensors is None else bool(use_safetensors)
        self.net_.save_params(f_params=f_params, use_safetensors=safe)
        return self

    def load_params(self, f_params, *, use_safetensors=None):
        """Read weights written by :meth:`save_params` into this codec.

        The codec must be fitted or initialized (:meth:`initialize`) with the
        same parameters, so that the module has the saved architecture.

        Parameters
        ----------
        f_params : str, path or file-like
        use_safetensors : bool or None, default=None
            As for :meth:`save_params` (use what the file was written with).

        Returns
        -------
        self
        """
        if not hasattr(self, "net_"):
            raise ValueError(
                f"{type(self).__name__}.load_params: call initialize(X) (or fit) first, with "
                "the parameters the weights were saved with, so the module exists."
            )
        safe = _has_safetensors() if use_safetensors is None else bool(use_safetensors)
        self.net_.load_params(f_params=f_params, use_safetensors=safe)
        self.net_.module_.eval()
        self._after_load()
        return self

    def _after_load(self):
        """Refresh what derives from the weights (entropy coding tables)."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = []  # emits integer symbols
        return tags
