"""Mini-batches sliced from whole tensors, and seeding that leaves global RNGs alone."""

from contextlib import contextmanager
from math import cos, pi

import numpy as np
import torch
from skorch.callbacks import Callback
from torch.utils.data import Subset


class BatchIterator:
    """Mini-batches as slices of the tensors of a skorch ``Dataset`` (no per-sample collation).

    skorch's default ``DataLoader`` fetches samples one at a time and collates
    them, which costs more than the forward pass of a small network; the
    inputs here are whole arrays already, so a batch is one indexing
    operation. Used as ``iterator_train`` and ``iterator_valid`` of the nets.

    Parameters
    ----------
    dataset : skorch.dataset.Dataset or torch.utils.data.Subset of one
        Holding tensors ``X`` (or a dict of tensors) and ``y`` (or None).
    batch_size : int, default=128
    shuffle : bool, default=False
        Draw a new order at every pass, from torch's global generator (the
        estimators seed it in a forked RNG state, see ``seeded``).
    **kwargs
        Other ``DataLoader`` options, ignored.

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
    """

    def __init__(self, dataset, batch_size=128, shuffle=False, **kwargs):
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = shuffle

    def _source(self):
        data, index = self.dataset, None
        while isinstance(data, Subset):
            picked = torch.as_tensor(np.asarray(data.indices), dtype=torch.long)
            index = picked if index is None else picked[index]
            data = data.dataset
        return data.X, data.y, index

    def __len__(self):
        return -(-len(self.dataset) // self.batch_size)

    def __iter__(self):
        X, y, index = self._source()
        n = len(self.dataset)
        order = torch.randperm(n) if self.shuffle else None
        for start in range(0, n, self.batch_size):
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
            yield Xb, (None if y is None else y[rows])


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

    Active only while ``fit`` trains (the estimators switch it on there);
    ``partial_fit`` runs at the constant ``lr``.

    Parameters
    ----------
    total_steps : int
        Batches that the decay spans (all epochs of the ``fit``).
    """

    def __init__(self, total_steps=1):
        self.total_steps = total_steps

    def initialize(self):
        self.step_ = 0
        self.active_ = False
        return self

    def start(self):
        self.step_, self.active_ = 0, True

    def on_batch_begin(self, net, batch=None, training=None, **kwargs):
        if not (training and self.active_):
            return
        T = max(1, int(self.total_steps))
        lr = net.lr * 0.5 * (1.0 + cos(pi * min(self.step_, T) / T))
        for group in net.optimizer_.param_groups:
            group["lr"] = lr
        self.step_ += 1

    def on_train_end(self, net, **kwargs):
        if self.active_:
            for group in net.optimizer_.param_groups:
                group["lr"] = net.lr
            self.active_ = False
