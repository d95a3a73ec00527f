"""Large inputs: chunks of samples, threads, Dask arrays and torch tensors.

Every transform and quantizer decorates its ``transform`` and
``inverse_transform`` with :func:`chunked`, which adds, without changing the
method itself:

* **numpy arrays** larger than one chunk are processed in chunks of samples
  (the estimator's ``batch_size``, or as many samples as scikit-learn's
  ``working_memory`` allows), written into one preallocated output, so the
  temporaries of a step stay those of a chunk; with ``n_jobs`` the chunks run
  on threads (numpy, scipy.fft, PyWavelets, BLAS and the block kernel release
  the GIL), each held to one BLAS thread so that the cores are not
  oversubscribed;
* **Dask arrays** (``dask.array.Array``) come back as a lazy Dask array:
  one task per chunk of samples (``map_blocks``), nothing computed inside
  ``transform``;
* **torch tensors** come back as tensors on the same device, computed by the
  estimator's torch kernel where it has one, by numpy otherwise;
* a step whose ``device`` is set (``"cuda"``, ``"cpu"``, ``"auto"``) sends
  numpy chunks to that device as tensors, through its torch kernel, and
  returns numpy; tensors are computed there and come back on their own
  device.

A step offers torch kernels through a method, ``_torch_kernel(method_name)``,
which returns a callable ``(tensor) -> tensor or NotImplemented`` for the
step's current settings, or None where they have none; a subclass inherits
it. Most kernels are the step's own code written over the array namespace
(:mod:`skcompress._core._array_api`); where torch computes differently (a
compiled kernel on numpy's side, a convolution for PyWavelets), the kernel
lives beside its step. A kernel may return NotImplemented to leave an input
to the numpy path (which computes it, or refuses it with its own message).

Neither dask nor torch is imported here: an input can only be one of their
arrays if its library is already loaded.
"""

import functools
import sys
from numbers import Integral

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs
from sklearn import get_config
from sklearn.utils.validation import check_is_fitted, validate_data

from ._array_api import is_torch as is_torch_tensor
from ._device import torch_device
from ._structure import structure_of, with_structure

# Bytes a step may use per input value for its temporaries (a few float64
# copies): with scikit-learn's default working_memory of 1 GiB, chunks of
# about 33 million values (42,000 MNIST digits, 42 photographs of 512x512x3).
_BYTES_PER_VALUE = 32
# Inputs whose temporaries fit here go in one piece; larger ones in 8 chunks
# or more, so that the temporaries of a step stay a fraction of its data.
_SMALL_TEMPORARIES = 64 * 2**20


def is_dask_array(X):
    """Whether ``X`` is a ``dask.array.Array`` (without importing dask)."""
    da = sys.modules.get("dask.array")
    return da is not None and isinstance(X, da.Array)


def chunked(method):
    """Decorate ``transform``/``inverse_transform``: chunks, threads, Dask, torch.

    ``transform``'s output then takes the step's ``dtype`` where it has one
    (see :func:`as_output_dtype`).
    """

    @functools.wraps(method)
    def wrapper(self, X, *args, **kwargs):
        out = _dispatch(self, method, X, args, kwargs)
        return as_output_dtype(self, out) if method.__name__ == "transform" else out

    # what unchunked() returns (wrappers that copy __dict__, such as
    # scikit-learn's set_output, carry it along)
    wrapper._unchunked = method
    return wrapper


def _dispatch(self, method, X, args, kwargs):
    device = torch_device(self)
    if device is not None and not (args or kwargs):
        computed = _on_device(self, method, X, device)
        if computed is not NotImplemented:
            return computed
    if is_dask_array(X):
        return _map_dask(self, method, X, args, kwargs)
    if is_torch_tensor(X):
        return _call_torch(self, method, X, args, kwargs)
    if isinstance(X, np.ndarray) and X.ndim >= 2 and len(X) > 1:
        n_jobs = getattr(self, "n_jobs", None)
        batch = batch_size_of(self, X, n_jobs)
        if batch < len(X) or n_jobs is not None:
            return map_numpy_chunks(
                lambda chunk: method(self, chunk, *args, **kwargs), X, batch, n_jobs
            )
    return method(self, X, *args, **kwargs)


def as_output_dtype(estimator, out):
    """``out`` in the estimator's ``dtype`` (numpy, Dask or torch), or as it is for None.

    A step's ``dtype`` parameter sets the type of what ``transform`` returns:
    ``np.float32`` for a torch network after it, whatever the step computes
    in (float64 coefficients, int32 symbols).

    Raises
    ------
    ValueError
        For a ``dtype`` that is not a numeric type.
    """
    dtype = getattr(estimator, "dtype", None)
    if dtype is None:
        return out
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        dtype = None
    if dtype is None or dtype.kind not in "biuf":
        raise ValueError(
            f"{type(estimator).__name__}: dtype must be None or a numeric type such as "
            f"np.float32; got dtype={estimator.dtype!r}."
        )
    if is_torch_tensor(out):
        import torch

        return out.to(torch.from_numpy(np.zeros(0, dtype)).dtype)
    return out if out.dtype == dtype else out.astype(dtype)


def _on_device(estimator, method, X, device):
    """``method`` through the estimator's torch kernel on ``device``.

    numpy in, numpy out (in chunks of ``batch_size`` samples, each sent to
    the device and back); a tensor is computed on ``device`` and returned
    on its own; a Dask array maps this over its blocks. NotImplemented where
    the estimator's settings have no kernel, or for inputs that the numpy
    path should refuse with its own message.
    """
    import torch

    if torch_kernel(estimator, method) is None:
        return NotImplemented
    if is_torch_tensor(X):
        out = _call_torch(estimator, method, X.to(device), (), {})
        return out.to(X.device)

    def function(chunk):
        tensor = torch.from_numpy(np.ascontiguousarray(chunk)).to(device)
        return _call_torch(estimator, method, tensor, (), {}).cpu().numpy()

    if is_dask_array(X):
        return _map_dask(
            estimator, lambda est, chunk: function(chunk), X, (), {}, name=method.__name__
        )
    if getattr(X, "ndim", 2) == 2 and method.__name__ == "transform":
        # scikit-learn's checks of feature names and counts, as the numpy path
        check_is_fitted(estimator)
        validate_data(estimator, X, reset=False, skip_check_array=True)
    given, X = X, np.asarray(X)
    if X.dtype.kind not in "biuf" or X.ndim < 2 or len(X) == 0:
        return NotImplemented
    out = map_numpy_chunks(function, X, batch_size_of(estimator, X))
    # the structure that the numpy path gives its output (see _structure), from one sample
    probe = given[:1] if isinstance(given, np.ndarray) else X[:1]
    return with_structure(out, structure_of(method(estimator, probe)))


def batch_size_of(estimator, X, n_jobs=None):
    """Samples per chunk: ``estimator.batch_size``, else from ``working_memory``.

    Automatic chunks: none for small inputs (temporaries within 64 MiB),
    else at least 8 even ones, each within ``working_memory``; and small
    enough to give each of ``n_jobs`` threads four of them.
    """
    batch = getattr(estimator, "batch_size", None)
    if batch is not None:
        if isinstance(batch, bool) or not isinstance(batch, Integral) or batch < 1:
            raise ValueError(
                f"{type(estimator).__name__}: batch_size must be None or an int >= 1; got "
                f"batch_size={batch!r}."
            )
        return int(batch)
    batch = auto_batch_size(X)
    values = len(X) * max(1, int(np.prod(X.shape[1:], dtype=np.int64)))
    if batch < len(X) or values * _BYTES_PER_VALUE > _SMALL_TEMPORARIES:
        # at least 8 even chunks, so that one chunk's temporaries and output
        # (copied into the whole) add at most an eighth of the data to the peak
        n_chunks = max(8, -(-len(X) // batch))
        batch = -(-len(X) // n_chunks)
    workers = effective_n_jobs(n_jobs)
    if workers > 1:
        batch = min(batch, max(1, -(-len(X) // (4 * workers))))
    return batch


def auto_batch_size(X):
    """Samples per chunk that keep a step's temporaries within ``working_memory``."""
    per_sample = max(1, int(np.prod(X.shape[1:], dtype=np.int64)))
    budget = get_config()["working_memory"] * 2**20
    return max(1, int(budget // (_BYTES_PER_VALUE * per_sample)))


def map_numpy_chunks(function, X, batch, n_jobs=None):
    """``function`` over chunks of ``batch`` samples of ``X``, into one output array.

    One sample gives the output's per-sample shape and dtype; every chunk is
    then written into its rows of the output, on ``n_jobs`` threads (joblib's
    ``n_jobs``: None is 1 unless a ``joblib.parallel_config`` says otherwise).
    When ``n_jobs`` is given or more than one thread runs, each holds one BLAS
    thread (the block kernel follows the BLAS limit), so ``n_jobs=1`` is one
    core.
    """
    n = len(X)
    starts = range(0, n, batch)
    probe = function(X[:1])
    if not isinstance(probe, np.ndarray):
        # not an array per chunk (a sparse matrix, a list): stack the pieces
        return _stack([function(X[s : s + batch]) for s in starts])
    # a chunk's structure (see _structure) describes one sample: the whole keeps it
    out = np.empty((n, *probe.shape[1:]), dtype=probe.dtype).view(type(probe))
    out.__array_finalize__(probe)

    def run(start):
        out[start : start + batch] = function(X[start : start + batch])

    n_workers = min(effective_n_jobs(n_jobs), len(starts))
    if n_jobs is None and n_workers < 2:
        for start in starts:
            run(start)
        return out
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        if n_workers < 2:
            for start in starts:
                run(start)
        else:
            Parallel(n_jobs=n_workers, require="sharedmem")(
                delayed(run)(start) for start in starts
            )
    return out


def _stack(pieces):
    import scipy.sparse as sp

    if all(sp.issparse(p) for p in pieces):
        return sp.vstack(pieces, format=pieces[0].format)
    return np.concatenate([np.asarray(p) for p in pieces])


def _map_dask(estimator, method, X, args, kwargs, name=None):
    """One lazy task per chunk of samples; the other axes are one chunk."""
    from dask.base import tokenize

    name = name or method.__name__
    check_is_fitted(estimator)
    if X.ndim > 1 and any(len(c) > 1 for c in X.chunks[1:]):
        X = X.rechunk({axis: -1 for axis in range(1, X.ndim)})
    # one sample of zeros gives the output's per-sample shape and dtype, and
    # raises now, not at compute time, if X does not fit the estimator
    probe = method(estimator, np.zeros((1, *X.shape[1:]), dtype=X.dtype), *args, **kwargs)
    if not isinstance(probe, np.ndarray):
        raise TypeError(
            f"{type(estimator).__name__}.{name} gives {type(probe).__name__}, not "
            "an array, per chunk; it cannot return a Dask array."
        )
    tail = probe.shape[1:]

    def block(chunk):
        if len(chunk) == 0:
            return np.empty((0, *tail), dtype=probe.dtype)
        return method(estimator, chunk, *args, **kwargs)

    extra = {}
    if probe.ndim < X.ndim:
        extra["drop_axis"] = list(range(probe.ndim, X.ndim))
    elif probe.ndim > X.ndim:
        extra["new_axis"] = list(range(X.ndim, probe.ndim))
    # keys unique per fitted step, input and method: with one fixed name, two
    # transforms of different arrays would overwrite each other's blocks
    token = tokenize(estimator, X.name, name, args, kwargs)
    return X.map_blocks(
        block,
        dtype=probe.dtype,
        chunks=(X.chunks[0], *((s,) for s in tail)),
        meta=np.empty((0,) * probe.ndim, dtype=probe.dtype),
        name=f"{type(estimator).__name__.lower()}-{name}-{token}",
        **extra,
    )


def torch_kernel(estimator, method):
    """The torch kernel of ``method`` for the estimator's settings, or None.

    Asked of the step's ``_torch_kernel`` method, once the step is fitted.
    ``method`` is a method's name, or the function that a :func:`chunked`
    wrapper runs: then None too where a subclass overrode the method, whose
    body the kernel of the class that wrote it does not compute (the
    override runs with numpy, and its ``super()`` call reaches the kernel).
    """
    owner = _kernel_owner(estimator)
    if owner is None:
        return None
    name = method if isinstance(method, str) else method.__name__
    if not isinstance(method, str) and _as_written(owner, name) is not method:
        return None
    check_is_fitted(estimator)
    return estimator._torch_kernel(name)


def unchunked(estimator, name):
    """``estimator.name`` as the class with the kernel wrote it, without :func:`chunked`.

    The torch kernel of a step whose method is written over the array
    namespace: tensors then run through the numpy path's own code.
    """
    return functools.partial(_as_written(_kernel_owner(estimator), name), estimator)


def _kernel_owner(estimator):
    """The class in ``type(estimator).__mro__`` that defines ``_torch_kernel``, or None."""
    for cls in type(estimator).__mro__:
        if "_torch_kernel" in vars(cls):
            return cls
    return None


def _as_written(cls, name):
    """The function that ``cls.name``'s :func:`chunked` wrapper runs, or None."""
    return getattr(getattr(cls, name, None), "_unchunked", None)


def _call_torch(estimator, method, X, args, kwargs):
    """The torch kernel where the estimator has one for its settings, else numpy."""
    import torch

    kernel = None if args or kwargs else torch_kernel(estimator, method)
    if kernel is not None:
        out = kernel(X)
        if out is not NotImplemented:
            return out
    result = np.asarray(method(estimator, X.detach().cpu().numpy(), *args, **kwargs))
    if result.dtype == object:
        raise TypeError(
            f"{type(estimator).__name__}.{method.__name__} gives Python integers beyond int64 "
            "(an object array), which no tensor holds; give it a numpy array."
        )
    return torch.from_numpy(np.ascontiguousarray(result)).to(X.device)


def fit_on_shape(fit):
    """Decorate the ``fit`` of a step that learns only the shape and dtype of ``X``.

    A Dask array is then fitted on its first sample, computed alone, so that
    ``fit_transform`` and a ``Pipeline`` stay lazy; a torch tensor on a numpy
    copy of its first sample.
    """

    @functools.wraps(fit)
    def wrapper(self, X, y=None, **kwargs):
        if is_dask_array(X) and X.shape[0]:
            X = X[:1].compute()
        elif is_torch_tensor(X) and len(X):
            X = X[:1].detach().cpu().numpy()
        return fit(self, X, y, **kwargs)

    return wrapper
