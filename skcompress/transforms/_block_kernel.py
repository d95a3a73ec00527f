"""Separable transforms of 2-D blocks, run by the compiled kernel on threads.

:class:`BlockPlan` holds what the kernel needs for one transform (matrices,
kept positions, the level shift as an offset block) and runs it over a batch
in chunks of block rows. The kernel releases the GIL, so the chunks share a
pool of threads; how many follows the BLAS thread count, which is what
``threadpoolctl.threadpool_limits`` and joblib's workers set to say what the
caller allows.
"""

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import joblib
import numpy as np
from threadpoolctl import ThreadpoolController

from . import _separable

# Element types as the kernel numbers them.
_TYPE_CODES = {
    np.dtype(t): i
    for i, t in enumerate(
        [np.uint8, np.int8, np.uint16, np.int16, np.uint32, np.int32, np.float32, np.float64]
    )
}
# Bytes of input per chunk: large enough that the call overhead stays small,
# small enough that a batch of a few images still splits across threads.
_CHUNK_BYTES = 1 << 18


class BlockPlan:
    """Matrices and positions of one separable block transform.

    The forward transform of a ``bh x bw`` block ``X`` is ``M_v X M_h^T``
    minus ``level_shift`` times the transform of a constant block, read out at
    the raster positions ``positions``; the inverse scatters coefficients back
    to those positions (the others zero), adds the shift back and applies the
    transposed matrices.

    Parameters
    ----------
    vertical, horizontal : ndarray of shape (bh, bh) and (bw, bw)
        Orthonormal matrices, rows the basis functions, in extended precision
        where the caller has it.
    positions : ndarray of int
        Raster positions ``u * bw + v`` of the kept coefficients, in output order.
    level_shift : float
        Value subtracted from every sample before the transform.
    symmetric : bool
        Whether the rows of both matrices are alternately symmetric and
        antisymmetric (the DCT family), which halves one pass of the kernel.
    """

    def __init__(self, vertical, horizontal, positions, level_shift, symmetric):
        self.bh, self.bw = len(vertical), len(horizontal)
        self.positions = np.ascontiguousarray(positions, dtype=np.int32)
        self.symmetric = symmetric and self.bh % 2 == 0
        # Rows scaled by sqrt(b): the DCT's rows 0 and b/2 become exactly +-1,
        # so the coefficients libjpeg computes exactly (DC and the frequencies
        # 0 and 4 of 8x8 blocks) are exact sums here too, and so is the factor
        # 1/sqrt(bh bw) that undoes the scaling (1/8 for 8x8 blocks).
        sv, sh = np.sqrt(np.longdouble(self.bh)), np.sqrt(np.longdouble(self.bw))
        norm = np.sqrt(np.longdouble(self.bh * self.bw))
        self._forward = (sv * vertical, (sh * horizontal).T / norm)
        self._inverse = (vertical.T, horizontal)
        self._shift = level_shift * np.outer(row_sums(vertical), row_sums(horizontal))
        self._cache = {}

    def forward(self, X, dtype):
        """Coefficients ``(n, h, w, C, k)`` of images ``X`` ``(n, H, W, C)``."""
        X = np.ascontiguousarray(X)
        n, H, W, C = X.shape
        h, w = -(-H // self.bh), -(-W // self.bw)
        out = np.empty((n, h, w, C, len(self.positions)), dtype=dtype)
        A, Bt, offset = self._arrays("forward", dtype)
        self._run(
            _separable.forward,
            X,
            out,
            _TYPE_CODES[X.dtype],
            (H, W, C, h, w),
            A,
            Bt,
            1 if self.symmetric else 0,
            offset,
            X.nbytes,
        )
        return out

    def inverse(self, coefs, image_shape):
        """Images ``(n, H, W, C)`` from coefficients ``(n, h, w, C, k)``."""
        coefs = np.ascontiguousarray(coefs)
        n, h, w, C, _ = coefs.shape
        H, W = image_shape
        out = np.empty((n, H, W, C), dtype=coefs.dtype)
        A, Bt, base = self._arrays("inverse", coefs.dtype)
        self._run(
            _separable.inverse,
            coefs,
            out,
            _TYPE_CODES[coefs.dtype],
            (H, W, C, h, w),
            A,
            Bt,
            2 if self.symmetric else 0,
            base,
            out.nbytes,
        )
        return out

    def _arrays(self, direction, dtype):
        key = direction, np.dtype(dtype)
        if key not in self._cache:
            if direction == "forward":
                A, Bt = self._forward
                extra = -self._shift if self._shift.any() else None
            else:
                A, Bt = self._inverse
                extra = self._shift
            self._cache[key] = tuple(
                None if a is None else np.ascontiguousarray(a, dtype=dtype) for a in (A, Bt, extra)
            )
        return self._cache[key]

    def _run(self, kernel, src, dst, src_code, sizes, A, Bt, sym, extra, nbytes):
        H, W, C, h, w = sizes
        n_rows = len(src) * h
        step = max(1, int(n_rows * _CHUNK_BYTES // max(nbytes, 1)))
        address = 0 if extra is None else extra.ctypes.data
        dst_code = _TYPE_CODES[dst.dtype]
        fixed = (H, W, C, self.bh, self.bw, h, w, A.ctypes.data, Bt.ctypes.data, sym)
        k = len(self.positions)

        def process(start, stop):
            kernel(src.ctypes.data, dst.ctypes.data, src_code, dst_code, start, stop, *fixed,
                   k, self.positions.ctypes.data, address)  # fmt: skip

        map_chunks(process, n_rows, step)


def row_sums(matrix):
    """Transform of a constant 1, with the sums that vanish in theory set to 0."""
    sums = matrix.sum(axis=1)
    sums[np.abs(sums) < 1e-9 * np.abs(sums).max()] = 0
    return sums


_controller = None
_cpu_count = 1
_busy = threading.Lock()  # held by the call whose chunks run on several threads


def _allowed_threads():
    """Threads the caller allows: the BLAS thread count, at most the CPUs."""
    global _controller, _cpu_count
    if _controller is None:
        _cpu_count = joblib.cpu_count()
        _controller = ThreadpoolController().select(user_api="blas")
    limits = [lib.num_threads for lib in _controller.lib_controllers]
    return min(_cpu_count, *limits) if limits else _cpu_count


def map_chunks(process, n_units, step):
    """Call ``process(start, stop)`` over chunks of ``step`` units on threads.

    One call at a time spreads over several threads; a call made meanwhile
    (from another thread) runs on its own thread only, so nested or concurrent
    use never oversubscribes the CPUs.
    """
    n_chunks = -(-n_units // step)
    n_threads = min(n_chunks, _allowed_threads()) if n_chunks > 1 else 1
    if n_threads < 2 or not _busy.acquire(blocking=False):
        for start in range(0, n_units, step):
            process(start, min(start + step, n_units))
        return
    try:
        starts = iter(range(0, n_units, step))
        lock = threading.Lock()
        failed = []

        def work():
            while not failed:
                with lock:
                    start = next(starts, None)
                if start is None:
                    return
                try:
                    process(start, min(start + step, n_units))
                except BaseException:
                    failed.append(True)  # the other threads stop at their next chunk
                    raise

        helpers = [_helper_threads(n_threads - 1).submit(work) for _ in range(n_threads - 1)]
        try:
            work()
        finally:
            for helper in helpers:
                helper.result()
    finally:
        _busy.release()


_pool = None
_pool_size = 0
_pool_lock = threading.Lock()


def _helper_threads(n):
    """Pool of at least ``n`` threads, kept between calls.

    Starting a thread takes about as long as transforming a megabyte.
    """
    global _pool, _pool_size
    with _pool_lock:
        if _pool_size < n:
            if _pool is not None:
                _pool.shutdown(wait=False)
            _pool, _pool_size = ThreadPoolExecutor(n, thread_name_prefix="skcompress"), n
        return _pool


def _forget_helper_threads():
    # a forked child has none of its parent's threads
    global _pool, _pool_size, _pool_lock, _busy
    _pool, _pool_size, _pool_lock, _busy = None, 0, threading.Lock(), threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_helper_threads)
