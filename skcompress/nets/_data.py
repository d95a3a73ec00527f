"""Mini-batches (tensor slices, or a DataLoader's) and seeding that leaves global RNGs alone."""

from contextlib import contextmanager
from math import cos, pi

import numpy as np
import torch
from skorch.callbacks import Callback
from skorch.dataset import Dataset
from torch.utils.data import DataLoader, Subset

#: DataLoader's options at their defaults. With these, the batches of a dataset of whole
#: tensors are slices of them; any other value (workers, pinned memory, a sampler, a
#: collate function...) takes a ``DataLoader``.
_LOADER_DEFAULTS = {
    "sampler": None,
    "batch_sampler": None,
    "num_workers": 0,
    "collate_fn": None,
    "pin_memory": False,
    "timeout": 0,
    "worker_init_fn": None,
    "multiprocessing_context": None,
    "generator": None,
    "prefetch_factor": None,
    "persistent_workers": False,
    "pin_memory_device": "",
    "in_order": True,
}


class BatchIterator:
    """Mini-batches of a dataset: slices of its tensors, or a ``DataLoader``'s batches.

    skorch's default ``DataLoader`` fetches samples one at a time and collates
    them, which costs more than the forward pass of a small network. The
    inputs of the network estimators are whole tensors already (a skorch
    ``Dataset`` of them, or ``Subset`` views of one), so a batch is one
    indexing operation. Any other dataset (a torch ``Dataset`` of files, say),
    and any ``DataLoader`` option that slicing cannot honour (``num_workers``
    above 0, ``pin_memory``, ``collate_fn``, ``sampler``...), is served by
    :class:`torch.utils.data.DataLoader` with these options. It is the
    default ``iterator_train`` and ``iterator_valid`` of the nets, so
    ``iterator_train__num_workers=2`` reaches the ``DataLoader``.

    Parameters
    ----------
    dataset : torch.utils.data.Dataset
        Sliced when it is a skorch ``Dataset`` (or ``Subset`` of one) holding
        a tensor ``X`` (or a dict of tensors) and ``y`` (a tensor, an array or
        None).
    batch_size : int, default=128
    shuffle : bool, default=False
        Draw a new order at every pass, from torch's global generator (the
        estimators seed it in a forked RNG state, see ``seeded``).
    drop_last : bool, default=False
        Leave out the last batch when it is smaller than ``batch_size``.
    **loader_options
        The other options of :class:`~torch.utils.data.DataLoader`
        (``num_workers``, ``pin_memory``, ``collate_fn``...); a name that it
        does not take raises a TypeError.

    Examples
    --------
    >>> import torch
    >>> from skorch.dataset import Dataset
    >>> from skcompress.nets import BatchIterator
    >>> data = Dataset(torch.arange(10.0).reshape(5, 2), torch.arange(5))
    >>> batches = BatchIterator(data, batch_size=2)
    >>> len(batches)
    3
    >>> [y.tolist() for _, y in batches]
    [[0, 1], [2, 3], [4]]
    >>> [y.tolist() for _, y in BatchIterator(data, batch_size=2, drop_last=True)]
    [[0, 1], [2, 3]]
    >>> loader = BatchIterator(data, batch_size=2, num_workers=0, collate_fn=list)
    >>> len(next(iter(loader)))       # a DataLoader's batch: the list of 2 (X, y) items
    2
    """

    def __init__(self, dataset, batch_size=128, shuffle=False, drop_last=False, **loader_options):
        unknown = sorted(set(loader_options) - set(_LOADER_DEFAULTS))
        if unknown:
            raise TypeError(
                f"BatchIterator got DataLoader options it does not know: {unknown}; the "
                f"options are batch_size, shuffle, drop_last and {sorted(_LOADER_DEFAULTS)}."
            )
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.loader_options = loader_options

    @staticmethod
    def slices(iterator, options):
        """Whether ``iterator`` with these keyword options slices tensors (no DataLoader).

        Parameters
        ----------
        iterator : type
            An ``iterator_train`` or ``iterator_valid`` of a net.
        options : dict
            Its keyword options (the net's ``iterator_train__*`` parameters).

        Returns
        -------
        bool
        """
        if not (isinstance(iterator, type) and issubclass(iterator, BatchIterator)):
            return False
        return all(
            _is_default(options[name], default)
            for name, default in _LOADER_DEFAULTS.items()
            if name in options
        )

    def _source(self):
        """``(X, y, index)`` of a sliceable dataset (``index``: rows of a Subset), else None."""
        data, index = self.dataset, None
        while isinstance(data, Subset):
            picked = torch.as_tensor(np.asarray(data.indices), dtype=torch.long)
            index = picked if index is None else picked[index]
            data = data.dataset
        if not isinstance(data, Dataset):
            return None
        X, y = data.X, data.y
        tensors = X.values() if isinstance(X, dict) else [X]
        if not all(isinstance(t, torch.Tensor) for t in tensors):
            return None
        if y is not None and not isinstance(y, (torch.Tensor, np.ndarray)):
            return None
        return X, y, index

    def __len__(self):
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self):
        source = self._source()
        if source is None or not self.slices(type(self), self.loader_options):
            loader = DataLoader(
                self.dataset,
                batch_size=self.batch_size,
                shuffle=self.shuffle,
                drop_last=self.drop_last,
                **self.loader_options,
            )
            yield from loader
            return
        X, y, index = source
        n = len(self.dataset)
        end = n - n % self.batch_size if self.drop_last else n
        order = torch.randperm(n) if self.shuffle else None
        for start in range(0, end, self.batch_size):
            if order is None and index is None:
                rows = slice(start, start + self.batch_size)
            else:
                rows = (
                    order[start : start + self.batch_size]
                    if order is not None
                    else torch.arange(start, min(n, start + self.batch_size))
                )
                if index is not None:
                    rows = index[rows]
            Xb = {k: v[rows] for k, v in X.items()} if isinstance(X, dict) else X[rows]
            if y is None:
                yb = None
            elif isinstance(y, np.ndarray) and isinstance(rows, torch.Tensor):
                yb = y[rows.numpy()]
            else:
                yb = y[rows]
            yield Xb, yb


def _is_default(value, default):
    return value is None if default is None else value is not None and value == default


@contextmanager
def seeded(seed, device):
    """Seed torch inside a forked RNG state: reproducible, and global generators untouched."""
    device = torch.device(device)
    devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(int(seed))
        yield


@contextmanager
def threads(n_threads):
    """torch's intra-op threads set to ``n_threads`` for the block, then restored (None: as is)."""
    if n_threads is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(int(n_threads))
    try:
        yield
    finally:
        torch.set_num_threads(before)


class CosineDecay(Callback):
    """Cosine decay of the learning rate over the batches of one ``fit``, from ``net.lr`` to 0.

    Active only while ``fit`` trains (the estimators switch it on there with
    :meth:`start`); ``partial_fit`` runs at the constant ``lr``. The decay
    spans ``epochs`` passes over the training batches (those left after the
    validation split, as the net's ``iterator_train`` gives them).
    """

    def initialize(self):
        self.step_ = 0
        self.active_ = False
        self.epochs_ = 1
        self.total_steps_ = None
        return self

    def start(self, epochs):
        """Decay over the next ``epochs`` epochs of training."""
        self.step_, self.active_, self.epochs_, self.total_steps_ = 0, True, int(epochs), None

    def on_epoch_begin(self, net, dataset_train=None, **kwargs):
        if self.active_ and self.total_steps_ is None and dataset_train is not None:
            self.total_steps_ = self.epochs_ * len(net.get_iterator(dataset_train, training=True))

    def on_batch_begin(self, net, batch=None, training=None, **kwargs):
        if not (training and self.active_):
            return
        T = max(1, int(self.total_steps_ or 1))
        lr = net.lr * 0.5 * (1.0 + cos(pi * min(self.step_, T) / T))
        for group in net.optimizer_.param_groups:
            group["lr"] = lr
        self.step_ += 1

    def on_train_end(self, net, **kwargs):
        if self.active_:
            for group in net.optimizer_.param_groups:
                group["lr"] = net.lr
            self.active_ = False
