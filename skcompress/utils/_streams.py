"""Streams of chunks: incremental learning and bounded-memory transforms of any step."""

import numpy as np

from .._core._chunks import (
    auto_batch_size,
    batch_size_of,
    is_dask_array,
    is_torch_tensor,
    map_numpy_chunks,
)


def iter_chunks(X, batch_size=None):
    """Chunks of samples of ``X``, in order, each as a numpy array.

    Parameters
    ----------
    X : ndarray or dask.array.Array
        A Dask array gives its blocks along the sample axis, computed one at
        a time (the other axes joined first); a numpy array gives slices of
        ``batch_size`` samples.
    batch_size : int or None, default=None
        Samples per slice of a numpy array; None: as many as scikit-learn's
        ``working_memory`` allows. Ignored for Dask arrays.

    Yields
    ------
    chunk : ndarray

    Examples
    --------
    >>> import numpy as np
    >>> from skcompress.utils import iter_chunks
    >>> [len(c) for c in iter_chunks(np.zeros((10, 3)), batch_size=4)]
    [4, 4, 2]
    """
    if is_dask_array(X):
        if X.ndim > 1 and any(len(c) > 1 for c in X.chunks[1:]):
            X = X.rechunk({axis: -1 for axis in range(1, X.ndim)})
        for i in range(X.numblocks[0]):
            yield np.asarray(X.blocks[i].compute())
        return
    X = np.asarray(X)
    step = batch_size or auto_batch_size(X)
    for start in range(0, len(X), step):
        yield X[start : start + step]


def partial_fit_chunks(estimator, X, y=None, *, batch_size=None, n_passes=1):
    """Learn from a stream: ``estimator.partial_fit`` on every chunk of ``X`` in order.

    What dask-ml's ``Incremental`` does, without its requirements: one chunk
    in memory at a time, the chunks in their order (``Incremental`` shuffles
    them unless ``shuffle_blocks=False``), any object with ``partial_fit``
    (:class:`~skcompress.ResidualVQ`, :class:`~skcompress.KSVD`,
    :class:`~skcompress.PerceptualQuantizer`, the entropy models of
    :mod:`skcompress.entropy`). The result equals a loop of ``partial_fit``
    over the same chunks in one process, given the same seed.

    Parameters
    ----------
    estimator : object with ``partial_fit``
        Updated in place.
    X : ndarray or dask.array.Array
        Chunked along the samples (see :func:`iter_chunks`).
    y : ndarray, dask.array.Array or None, default=None
        Targets chunked like ``X``, passed as the second argument.
    batch_size : int or None, default=None
        Samples per chunk of a numpy ``X``.
    n_passes : int, default=1
        Passes over the whole stream.

    Returns
    -------
    estimator : the same object, fitted

    Examples
    --------
    >>> import numpy as np
    >>> from skcompress import ResidualVQ
    >>> from skcompress.utils import partial_fit_chunks
    >>> X = np.random.default_rng(0).normal(size=(600, 8))
    >>> rvq = partial_fit_chunks(ResidualVQ(2, 16, random_state=0), X, batch_size=200)
    >>> rvq.codebooks_.shape
    (2, 16, 8)
    """
    if not hasattr(estimator, "partial_fit"):
        raise TypeError(
            f"partial_fit_chunks needs an estimator with partial_fit; got "
            f"{type(estimator).__name__}."
        )
    if isinstance(n_passes, bool) or not isinstance(n_passes, (int, np.integer)) or n_passes < 1:
        raise ValueError(f"partial_fit_chunks: n_passes must be an int >= 1; got {n_passes!r}.")
    for _ in range(n_passes):
        if y is None:
            for chunk in iter_chunks(X, batch_size):
                estimator.partial_fit(chunk)
        else:
            targets = iter_chunks(y, len(next(iter_chunks(X, batch_size))))
            for chunk, target in zip(iter_chunks(X, batch_size), targets, strict=True):
                estimator.partial_fit(chunk, target)
    return estimator


def transform_in_chunks(
    estimator, X, *, batch_size=None, n_jobs=None, method="transform", device=None
):
    """Any fitted step or ``Pipeline`` over chunks of samples, into one output array.

    Each chunk goes through the whole ``estimator`` (every step of a
    pipeline) before the next, so the intermediate arrays of a pipeline stay
    those of one chunk: the memory is the input, the output and one chunk's
    temporaries.

    Parameters
    ----------
    estimator : fitted estimator or Pipeline
    X : ndarray or dask.array.Array
        A Dask array gives a lazy Dask array, one task per block.
    batch_size : int or None, default=None
        Samples per chunk; None: as many as scikit-learn's ``working_memory``
        allows.
    n_jobs : int or None, default=None
        Threads over the chunks (joblib's convention), each with one BLAS
        thread.
    method : str, default="transform"
        The method to call, e.g. "inverse_transform" or "predict".
    device : str or None, default=None
        A torch device ("cuda", "cpu"): each chunk goes there as a tensor,
        through the steps' torch paths, and comes back as numpy.

    Returns
    -------
    out : ndarray (or dask.array.Array)

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.pipeline import make_pipeline
    >>> from skcompress import BlockDCT, PerceptualQuantizer
    >>> from skcompress.utils import transform_in_chunks
    >>> X = np.random.default_rng(0).integers(0, 256, (100, 16, 16), dtype=np.uint8)
    >>> jpeg = make_pipeline(BlockDCT(), PerceptualQuantizer(quality=75)).fit(X)
    >>> B = transform_in_chunks(jpeg, X, batch_size=32)
    >>> B.dtype, bool(np.array_equal(B, jpeg.transform(X)))
    (dtype('int32'), True)
    """
    call = getattr(estimator, method)
    if device is not None:
        import torch

        def function(chunk):
            out = call(torch.as_tensor(np.ascontiguousarray(chunk), device=device))
            return out.detach().cpu().numpy() if is_torch_tensor(out) else np.asarray(out)
    else:
        function = call
    if is_dask_array(X):
        if X.ndim > 1 and any(len(c) > 1 for c in X.chunks[1:]):
            X = X.rechunk({axis: -1 for axis in range(1, X.ndim)})
        probe = function(np.zeros((1, *X.shape[1:]), dtype=X.dtype))
        extra = {}
        if probe.ndim < X.ndim:
            extra["drop_axis"] = list(range(probe.ndim, X.ndim))
        elif probe.ndim > X.ndim:
            extra["new_axis"] = list(range(X.ndim, probe.ndim))
        return X.map_blocks(
            function,
            dtype=probe.dtype,
            chunks=(X.chunks[0], *((s,) for s in probe.shape[1:])),
            meta=np.empty((0,) * probe.ndim, dtype=probe.dtype),
            **extra,
        )
    X = np.asarray(X)
    step = batch_size or batch_size_of(None, X, n_jobs)
    return map_numpy_chunks(function, X, step, n_jobs)
