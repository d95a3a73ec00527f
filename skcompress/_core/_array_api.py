"""Array namespaces: one implementation of an algorithm for numpy arrays and torch tensors.

A step's code asks :func:`get_namespace` for the library of its input and
computes with it (``xp.where``, ``xp.concatenate``, ``xp.einsum``, ...): numpy
and torch spell most operations alike (torch takes ``axis=`` for ``dim=``).
The few that differ have one spelling here: the dtype of a result
(:func:`astype`, :func:`zeros`), constants brought to the input's device
(:func:`asarray`), contiguity, copies and edge padding. Dtypes are always
given as numpy dtypes.

torch is never imported here: an input can only be a tensor when torch is
already loaded, and the numpy paths never load it.
"""

import math
import sys

import numpy as np


def is_torch(X):
    """Whether ``X`` is a ``torch.Tensor`` (without importing torch)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(X, torch.Tensor)


def get_namespace(*arrays):
    """The array library of ``arrays``: the ``torch`` module if any is a tensor, else numpy.

    Examples
    --------
    >>> import numpy as np
    >>> get_namespace(np.zeros(3)) is np
    True
    """
    for X in arrays:
        if is_torch(X):
            return sys.modules["torch"]
    return np


def as_array(X):
    """``X`` itself if it is a tensor, else ``numpy.asarray(X)``."""
    return X if is_torch(X) else np.asarray(X)


def dtype_of(xp, dtype):
    """The ``xp`` dtype of the numpy ``dtype``.

    torch's unsigned integers beyond 8 bits support few operations: they map
    to int64.
    """
    dtype = np.dtype(dtype)
    if xp is np:
        return dtype
    if dtype.kind == "u" and dtype != np.uint8:
        dtype = np.dtype(np.int64)
    return getattr(xp, dtype.name)


def astype(X, dtype, *, copy=False):
    """``X`` as the numpy ``dtype`` (its torch counterpart for a tensor).

    Examples
    --------
    >>> import numpy as np
    >>> astype(np.arange(3), np.float32).dtype
    dtype('float32')
    """
    if not is_torch(X):
        return X.astype(dtype, copy=copy)
    return X.to(dtype_of(sys.modules["torch"], dtype), copy=copy)


def float_dtype(X):
    """The numpy dtype that a step computes ``X`` in: float32 and float64 stay, others float64."""
    if is_torch(X):
        return np.dtype(np.float32 if X.dtype == sys.modules["torch"].float32 else np.float64)
    return X.dtype if X.dtype in (np.float32, np.float64) else np.dtype(np.float64)


def asarray(values, like, dtype=None):
    """``values`` in the namespace and on the device of ``like``.

    ``dtype``: a numpy dtype, None to keep that of ``values``, or ``"like"``
    for the dtype of ``like``.
    """
    if isinstance(dtype, str) and dtype == "like":
        dtype = like.dtype
    if not is_torch(like):
        return np.asarray(values, dtype=dtype)
    torch = sys.modules["torch"]
    if not is_torch(values):
        values = np.asarray(values)
        if not values.flags.writeable:
            values = values.copy()  # torch wants to be able to write what it shares
    if dtype is None and not is_torch(values):
        dtype = dtype_of(torch, values.dtype)
    elif dtype is not None and not isinstance(dtype, torch.dtype):
        dtype = dtype_of(torch, dtype)
    return torch.as_tensor(values, dtype=dtype, device=like.device)


def zeros(shape, dtype, like):
    """Zeros of the numpy ``dtype`` (None: that of ``like``) beside ``like``."""
    return _new("zeros", shape, dtype, like)


def empty(shape, dtype, like):
    """An uninitialised array of the numpy ``dtype`` (None: that of ``like``) beside ``like``."""
    return _new("empty", shape, dtype, like)


def _new(kind, shape, dtype, like):
    xp = get_namespace(like)
    dtype = like.dtype if dtype is None else dtype_of(xp, dtype)
    if xp is np:
        return getattr(np, kind)(shape, dtype=dtype)
    return getattr(xp, kind)(shape, dtype=dtype, device=like.device)


def arange(n, like):
    """``0, 1, ..., n - 1`` as integer indices beside ``like``."""
    if not is_torch(like):
        return np.arange(n)
    return sys.modules["torch"].arange(n, device=like.device)


def size(X):
    """Number of elements of ``X``."""
    return math.prod(X.shape)


def contiguous(X):
    """``X`` in C order (itself if it already is)."""
    return X.contiguous() if is_torch(X) else np.ascontiguousarray(X)


def copy(X):
    """A copy of ``X``."""
    return X.clone() if is_torch(X) else X.copy()


def as_index(X):
    """Integer indices ``X`` ready for indexing: torch reads uint8 tensors as masks."""
    if is_torch(X) and X.dtype != sys.modules["torch"].int64:
        return X.long()
    return X


def stable_argsort(X):
    """Indices that sort the 1-D ``X``, equal values kept in their order."""
    if is_torch(X):
        return sys.modules["torch"].argsort(X, stable=True)
    return np.argsort(X, kind="stable")


def is_integer(X):
    """Whether ``X`` holds integers (not booleans)."""
    if not is_torch(X):
        return X.dtype.kind in "iu"
    torch = sys.modules["torch"]
    return not (X.is_floating_point() or X.is_complex() or X.dtype == torch.bool)


def is_floating(X):
    """Whether ``X`` holds real floating point numbers."""
    return X.is_floating_point() if is_torch(X) else X.dtype.kind == "f"


def pad(X, widths, mode="constant"):
    """``X`` padded by ``widths`` ``(before, after)`` per axis: zeros or edge values.

    ``mode``: "constant" (zeros) or "edge" (the edge value repeated, torch's
    "replicate"), as :func:`numpy.pad`. ``X`` itself when nothing is padded.

    Examples
    --------
    >>> import numpy as np
    >>> pad(np.array([[1, 2]]), [(0, 0), (0, 2)], mode="edge").tolist()
    [[1, 2, 2, 2]]
    """
    if not any(before or after for before, after in widths):
        return X
    if not is_torch(X):
        return np.pad(X, widths, mode=mode)
    torch = sys.modules["torch"]
    for axis, (before, after) in enumerate(widths):
        if not before and not after:
            continue
        length = X.shape[axis]
        if mode == "edge":
            index = np.clip(np.arange(-before, length + after), 0, length - 1)
            X = X.index_select(axis, torch.as_tensor(index, device=X.device))
        else:
            shape = list(X.shape)
            parts = []
            for width in (before, after):
                shape[axis] = width
                parts.append(torch.zeros(shape, dtype=X.dtype, device=X.device))
            X = torch.cat([parts[0], X, parts[1]], dim=axis)
    return X
