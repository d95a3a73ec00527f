"""Block DCT: the transform of JPEG (8x8 blocks) and of MPEG audio frames."""

import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import lru_cache
from numbers import Integral, Real

import joblib
import numpy as np
from sklearn import config_context, get_config
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import assert_all_finite, check_is_fitted
from threadpoolctl import ThreadpoolController

from .._contract import LAYOUTS, check_signals, from_layout, to_layout
from ._basis import dct2_matrix, dct_matrix, zigzag_order

# Bytes of gathered blocks per chunk: small enough that the blocks are still in
# the L2 cache when the matrix product reads them back, large enough that the
# Python overhead per chunk stays small.
_CHUNK_BYTES = 1 << 19


class BlockDCT(TransformerMixin, BaseEstimator):
    """Orthonormal DCT-II over non-overlapping blocks, as JPEG and HEVC use it.

    Images (3-D ``(n, H, W)`` or 4-D ``(n, H, W, C)`` input) are cut into
    ``block_size x block_size`` blocks, each channel on its own; 1-D signals
    (2-D input) into blocks of ``block_size`` samples. Sizes that the block
    does not divide are padded by edge replication, as libjpeg does, and
    :meth:`inverse_transform` crops the padding back off.

    Parameters
    ----------
    block_size : int, default=8
        Side of the square block (length of the 1-D block).
    order : {"zigzag", "natural"}, default="zigzag"
        Order of the coefficients within a block: JPEG's zig-zag scan (low
        frequencies first) or row-major ``(u, v)``.
    n_coefficients : int or None, default=None
        Keep only the first ``n_coefficients`` of every block in ``order``
        (with "zigzag", the lowest frequencies: the usual input of
        frequency-domain networks). None keeps all of them.
        :meth:`inverse_transform` then treats the dropped ones as zero.
    level_shift : "auto" or float, default="auto"
        Value subtracted from every sample before the transform (JPEG subtracts
        128 from 8-bit pixels) and added back by :meth:`inverse_transform`.
        "auto" takes ``2 ** (bits - 1)`` for unsigned integer input (128 for
        uint8) and 0 otherwise, decided at ``fit``.
    layout : {"flat", "blocks", "channels_first"}, default="flat"
        Output layout, see :mod:`skcompress` (the data contract): "flat" is
        ``(n, n_features)``; "blocks" is ``(n, h, w, [C,] k)``;
        "channels_first" is ``(n, C * k, h, w)`` for convolutional networks.
    signal_shape : tuple of int or None, default=None
        Shape of one signal when rows arrive flattened, e.g. ``(8, 8)`` for
        :func:`sklearn.datasets.load_digits`.

    Attributes
    ----------
    signal_shape_ : tuple of int
        Shape of one input signal seen at ``fit``.
    grid_shape_ : tuple of int
        Number of blocks along each spatial axis (after padding).
    n_coefficients_ : int
        Coefficients kept per block and channel.
    level_shift_ : float
        Level shift in use.
    n_features_in_ : int
        Values per input signal.
    feature_names_in_ : ndarray of str
        Column names, when ``fit`` was given a DataFrame.

    See Also
    --------
    skcompress.PerceptualQuantizer : JPEG's quantization of these coefficients.
    scipy.fft.dctn : the same orthonormal DCT-II, one array at a time.

    Notes
    -----
    Output features are ordered block by block, then channel, then
    coefficient (coefficient axis last and fastest), so a per-coefficient
    quantization vector broadcasts over every layout. The transform is one
    matrix product per chunk of blocks with the Kronecker product of the 1-D
    DCT matrices, columns already permuted to ``order`` and cut to
    ``n_coefficients``; the level shift is folded into the DC coefficient.
    Chunks are shared by as many threads as BLAS may use, each calling BLAS
    with one thread, so limits set with ``threadpoolctl`` or by joblib in its
    workers are respected.

    Examples
    --------
    >>> import numpy as np
    >>> from skcompress import BlockDCT
    >>> X = np.random.default_rng(0).integers(0, 256, size=(2, 28, 28), dtype=np.uint8)
    >>> dct = BlockDCT(block_size=8)
    >>> dct.fit_transform(X).shape   # 28x28 padded to 4x4 blocks of 64
    (2, 1024)
    >>> float(np.abs(dct.inverse_transform(dct.transform(X)) - X).max()) < 1e-10
    True
    >>> BlockDCT(n_coefficients=6, layout="channels_first").fit_transform(X).shape
    (2, 6, 4, 4)
    """

    _parameter_constraints = {
        "block_size": [Interval(Integral, 1, None, closed="left")],
        "order": [StrOptions({"zigzag", "natural"})],
        "n_coefficients": [Interval(Integral, 1, None, closed="left"), None],
        "level_shift": [StrOptions({"auto"}), Interval(Real, None, None, closed="neither")],
        "layout": [StrOptions(set(LAYOUTS))],
        "signal_shape": [tuple, list, None],
    }

    def __init__(
        self,
        block_size=8,
        *,
        order="zigzag",
        n_coefficients=None,
        level_shift="auto",
        layout="flat",
        signal_shape=None,
    ):
        self.block_size = block_size
        self.order = order
        self.n_coefficients = n_coefficients
        self.level_shift = level_shift
        self.layout = layout
        self.signal_shape = signal_shape

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Record the signal shape, block grid and level shift.

        Parameters
        ----------
        X : array-like of shape (n_samples, *signal_shape)
            1-D signals (2-D array), gray images (3-D) or channels-last images
            (4-D).
        y : None
            Ignored.

        Returns
        -------
        self : BlockDCT
        """
        dtype = getattr(X, "dtype", None)
        X = check_signals(
            self, X, reset=True, signal_shape=self.signal_shape, dtype=_input_dtype(X)
        )
        b = self.block_size
        per_block = b**self._n_block_axes
        if self.n_coefficients is not None and self.n_coefficients > per_block:
            raise ValueError(
                f"BlockDCT: n_coefficients={self.n_coefficients} exceeds the "
                f"{per_block} coefficients of a block of size {b}."
            )
        self.n_coefficients_ = self.n_coefficients or per_block
        self.grid_shape_ = tuple(-(-s // b) for s in self.signal_shape_[: self._n_block_axes])
        if self.level_shift == "auto":
            unsigned = dtype is not None and np.dtype(dtype).kind == "u"
            self.level_shift_ = float(2 ** (8 * np.dtype(dtype).itemsize - 1)) if unsigned else 0.0
        else:
            self.level_shift_ = float(self.level_shift)
        return self

    def transform(self, X):
        """Block DCT coefficients of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, *signal_shape)
            Signals of the shape seen at ``fit``.

        Returns
        -------
        Xt : ndarray
            Coefficients in ``layout``; float32 for float32 input, float64
            otherwise.
        """
        check_is_fitted(self)
        check_finite = not get_config()["assume_finite"]
        # Finiteness is checked on the results instead, see _check_finite.
        with config_context(assume_finite=True):
            X = check_signals(
                self, X, reset=False, signal_shape=self.signal_shape, dtype=_input_dtype(X)
            )
        check_finite = check_finite and X.dtype.kind == "f"
        dtype = np.float32 if X.dtype == np.float32 else np.float64
        basis = self._basis(dtype)
        k = basis.shape[1]
        geo = _Geometry(self, len(X), np.dtype(dtype).itemsize)
        out = np.empty((len(X), *self.grid_shape_, self._channels, k), dtype=dtype)
        units, out_units = geo.units(geo.padded_rows(X)), out.reshape(geo.n_units, -1, k)
        step = _chunk_units(geo.unit_blocks * basis.shape[0] * out.itemsize)
        index = None if geo.moves_rows(units, dtype) else geo.gather_index()
        shift = self.level_shift_ * self._dc_gain()

        def process(start, stop, scratch):
            signals = units[start:stop]
            coefs = out_units[start:stop].reshape(-1, k)
            np.matmul(geo.gather(signals, scratch, dtype, index), basis, out=coefs)
            if check_finite:
                _check_finite(signals, coefs[:, 0], self)
            if shift:  # DC is first in every order
                coefs[:, 0] -= shift

        _map_chunks(process, geo.n_units, step)
        return to_layout(out, self.layout)

    def inverse_transform(self, X):
        """Signals from block DCT coefficients (dropped coefficients as zero).

        Parameters
        ----------
        X : array-like
            Coefficients in the step's ``layout`` (2-D "flat" always works).

        Returns
        -------
        X_original : ndarray of shape (n_samples, *signal_shape_)
            float32 for float32 coefficients, float64 otherwise.
        """
        check_is_fitted(self)
        X = np.asarray(X)
        dtype = X.dtype if X.dtype in (np.float32, np.float64) else np.float64
        coefs = from_layout(
            X,
            self.grid_shape_,
            self._channels,
            self.n_coefficients_,
            self.layout,
            name="BlockDCT.inverse_transform",
        )
        basis_t = np.ascontiguousarray(self._basis(dtype).T)
        k = basis_t.shape[0]
        n = len(coefs)
        geo = _Geometry(self, n, np.dtype(dtype).itemsize)
        out = np.empty((n, geo.H + geo.pad_rows, geo.W, geo.C), dtype=dtype)
        units, coef_units = geo.units(out), coefs.reshape(geo.n_units, -1, k)
        step = _chunk_units(geo.unit_blocks * basis_t.shape[1] * out.itemsize)
        index = None if geo.moves_rows(out, dtype) else geo.scatter_index()
        shift = self.level_shift_ * self._dc_gain()

        def process(start, stop, scratch):
            chunk = coef_units[start:stop].reshape(-1, k)
            if shift or chunk.dtype != dtype:
                chunk = _buffer(scratch, "coefs", chunk.shape, dtype)
                chunk[...] = coef_units[start:stop].reshape(-1, k)
                if shift:
                    chunk[:, 0] += shift
            geo.scatter(chunk, basis_t, units[start:stop], scratch, index)

        _map_chunks(process, geo.n_units, step)
        if geo.pad_rows:
            out = np.ascontiguousarray(out[:, : geo.H])
        return out.reshape(n, *self.signal_shape_)

    def get_feature_names_out(self, input_features=None):
        """Names of the "flat" output features, e.g. ``blk2_3_dct0_1``.

        ``blk<row>_<col>`` is the block, ``ch<c>`` the channel (multichannel
        only) and ``dct<u>_<v>`` the vertical and horizontal frequency (1-D:
        ``blk<i>_dct<u>``).

        Parameters
        ----------
        input_features : array-like of str or None
            Ignored except for a length check.

        Returns
        -------
        feature_names_out : ndarray of str
        """
        check_is_fitted(self)
        if input_features is not None and len(input_features) != self.n_features_in_:
            raise ValueError(
                f"input_features should have length {self.n_features_in_}; got "
                f"{len(input_features)}."
            )
        b, d = self.block_size, self._n_block_axes
        positions = self._coefficient_positions()
        if d == 2:
            u, v = np.divmod(positions, b)
            freq = [f"dct{a}_{c}" for a, c in zip(u, v, strict=True)]
            blocks = [
                f"blk{r}_{c}"
                for r in range(self.grid_shape_[0])
                for c in range(self.grid_shape_[1])
            ]
        else:
            freq = [f"dct{a}" for a in positions]
            blocks = [f"blk{i}" for i in range(self.grid_shape_[0])]
        channels = [""] if self._channels == 1 else [f"_ch{c}" for c in range(self._channels)]
        names = [f"{blk}{ch}_{f}" for blk in blocks for ch in channels for f in freq]
        return np.asarray(names, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    @classmethod
    def _get_test_params(cls):
        return [{}, {"block_size": 4, "order": "natural", "n_coefficients": 3}]

    # -- helpers -----------------------------------------------------------

    @property
    def _n_block_axes(self):
        shape = getattr(self, "signal_shape_", None)
        if shape is None:
            return 1 if self.signal_shape is not None and len(self.signal_shape) == 1 else 2
        return 1 if len(shape) == 1 else 2

    @property
    def _channels(self):
        return self.signal_shape_[2] if len(self.signal_shape_) == 3 else 1

    def _dc_gain(self):
        # DCT-II of a constant c over the block: DC = c * sqrt(b) per axis
        # (exactly c * b for square blocks, so a level shift of 128 stays exact).
        b = self.block_size
        return float(b) if self._n_block_axes == 2 else float(np.sqrt(b))

    def _coefficient_positions(self):
        b, d = self.block_size, self._n_block_axes
        order = zigzag_order(b) if d == 2 and self.order == "zigzag" else np.arange(b**d)
        return order[: self.n_coefficients_]

    def _basis(self, dtype):
        """``(b**d, k)`` matrix taking raster-ordered blocks to kept coefficients."""
        b = self.block_size
        full = dct2_matrix(b) if self._n_block_axes == 2 else dct_matrix(b)
        return np.ascontiguousarray(full[self._coefficient_positions()].T, dtype=dtype)


def _input_dtype(X):
    """``dtype`` for :func:`check_signals`: integer arrays are cast chunk by chunk."""
    if isinstance(X, np.ndarray) and X.dtype.kind in "ui" and X.dtype.itemsize <= 4:
        return [X.dtype]  # exact in float64, as the cast of check_array
    return ("numeric",)


def _check_finite(signals, dc, estimator):
    """Raise the error of :func:`~sklearn.utils.check_array` on NaN or infinity.

    Every value adds to the DC coefficient of its block with a positive
    weight, so a finite DC (a few values, in cache) proves its block finite;
    only otherwise are the signals searched.
    """
    if not np.isfinite(dc).all():
        assert_all_finite(signals, input_name="X", estimator_name=type(estimator).__name__)


def _buffer(scratch, name, shape, dtype):
    """Array of ``shape`` in a worker's memory ``scratch[name]``, reused across chunks."""
    size = math.prod(shape)
    memory = scratch.get(name)
    if memory is None or memory.size < size or memory.dtype != dtype:
        memory = scratch[name] = np.empty(size, dtype=dtype)
    return memory[:size].reshape(shape)


class _Geometry:
    """How a batch of signals is cut into blocks, in units of whole block rows.

    Signals are seen as images ``(H, W, C)`` (1-D signals as ``(1, L, 1)``) cut
    into ``bh x bw`` blocks. Chunks of work are made of units: strips of ``bh``
    rows, or whole samples when the height needs padding. Samples larger than
    a chunk are still cut into strips, of signals whose rows are padded first
    (``pad_rows``).
    """

    def __init__(self, estimator, n, itemsize):
        b = estimator.block_size
        if estimator._n_block_axes == 2:
            (H, W), bh, (h, w) = estimator.signal_shape_[:2], b, estimator.grid_shape_
        else:
            (H, W), bh, (h, w) = (1, estimator.signal_shape_[0]), 1, (1, *estimator.grid_shape_)
        self.bh, self.bw, self.H, self.W, self.w, self.C = bh, b, H, W, w, estimator._channels
        strips = H % bh == 0 or h * bh * w * b * self.C * itemsize > _CHUNK_BYTES
        self.pad_rows = h * bh - H if strips else 0
        self.rows = bh if strips else H  # rows per unit
        self.block_rows = 1 if strips else h  # block rows per unit
        self.n_units = n * h if strips else n
        self.unit_blocks = self.block_rows * w * self.C
        self.padded = self.block_rows * bh > self.rows or w * b > W
        self._key = (bh, b, self.block_rows, self.rows, w, W, self.C)

    def units(self, signals):
        """View ``(n_units, rows, W, C)`` of signals ``(n, H + pad_rows, W, C)``."""
        return signals.reshape(self.n_units, self.rows, self.W, self.C)

    def padded_rows(self, signals):
        """Signals ``(n, H + pad_rows, W, C)``, the last row repeated."""
        signals = signals.reshape(len(signals), self.H, self.W, self.C)
        if self.pad_rows:
            signals = np.pad(signals, [(0, 0), (0, self.pad_rows), (0, 0), (0, 0)], mode="edge")
        return signals

    def moves_rows(self, signals, dtype):
        """Whether rows of blocks can be moved whole between units and blocks."""
        return (
            self.C == 1
            and not self.padded
            and signals.dtype == dtype
            and signals.flags.c_contiguous
        )

    def gather_index(self):
        """Flat positions in a unit of the values of its blocks.

        Positions past the edge of a signal are clipped to it: edge replication.
        """
        return _index("gather", *self._key)

    def scatter_index(self):
        """Flat positions in the blocks of a unit of the unit's values."""
        return _index("scatter", *self._key)

    def gather(self, units, scratch, dtype, index):
        """Blocks ``(n_blocks, bh * bw)`` of ``units``, cast to ``dtype``."""
        shape = (len(units) * self.unit_blocks, self.bh * self.bw)
        if index is None:  # whole gray blocks of the right dtype
            if self.bh == 1:
                return units.reshape(shape)
            blocks = _buffer(scratch, "blocks", shape, dtype)
            rows, block_rows = self._rows_as_items(units, blocks)
            np.copyto(block_rows, rows)
            return blocks
        values = _buffer(scratch, "values", shape, units.dtype)
        S = len(units)
        np.take(units.reshape(S, -1), index, axis=1, out=values.reshape(S, -1), mode="clip")
        if units.dtype == dtype:
            return values
        blocks = _buffer(scratch, "blocks", shape, dtype)
        blocks[...] = values
        return blocks

    def scatter(self, coefs, basis_t, units, scratch, index):
        """Write the blocks ``coefs @ basis_t`` into ``units`` (crop the padding)."""
        if index is None and self.bh == 1:
            np.matmul(coefs, basis_t, out=units.reshape(-1, self.bw))
            return
        blocks = _buffer(scratch, "blocks", (len(coefs), self.bh * self.bw), coefs.dtype)
        np.matmul(coefs, basis_t, out=blocks)
        if index is None:
            rows, block_rows = self._rows_as_items(units, blocks)
            np.copyto(rows, block_rows)
        else:
            S = len(units)
            np.take(blocks.reshape(S, -1), index, axis=1, out=units.reshape(S, -1), mode="clip")

    def _rows_as_items(self, units, blocks):
        """Views ``(S, block_rows, w, bh)`` of gray units and of their blocks.

        A row of a block is contiguous in both arrays: copied as one item, it
        moves much faster than value by value.
        """
        S, hb, bh, bw, w = len(units), self.block_rows, self.bh, self.bw, self.w
        run = _void(bw * units.itemsize)
        rows = units.reshape(S, hb, bh, w * bw).view(run).transpose(0, 1, 3, 2)
        return rows, blocks.reshape(S, hb, w, bh * bw).view(run)


@lru_cache
def _void(itemsize):
    return np.dtype((np.void, itemsize))


@lru_cache(maxsize=8)
def _index(kind, bh, bw, block_rows, rows, w, W, C):
    """Read-only positions for :meth:`_Geometry.gather_index` or ``scatter_index``.

    A position is a sum of a part per row, column and channel, added up by
    broadcasting.
    """
    if kind == "gather":  # blocks (block_rows, w, C, bh, bw) of units (rows, W, C)
        row = np.minimum(np.arange(block_rows * bh), rows - 1) * (W * C)
        col = np.minimum(np.arange(w * bw), W - 1) * C
        row, col = row.reshape(block_rows, 1, 1, bh, 1), col.reshape(1, w, 1, 1, bw)
        channel = np.arange(C).reshape(1, 1, C, 1, 1)
    else:  # units (rows, W, C) in blocks (block_rows, w, C, bh, bw)
        r, c = np.arange(rows), np.arange(W)
        row = (r // bh * (w * C * bh * bw) + r % bh * bw).reshape(-1, 1, 1)
        col = (c // bw * (C * bh * bw) + c % bw).reshape(1, -1, 1)
        channel = np.arange(C) * (bh * bw)
    index = (row + col + channel).ravel()
    index.setflags(write=False)
    return index


_controller = None
_cpu_count = 1
_busy = threading.Lock()  # held by the call whose chunks run on several threads


def _blas():
    """Controller of the BLAS libraries loaded (found at the first call)."""
    global _controller, _cpu_count
    if _controller is None:
        _cpu_count = joblib.cpu_count()
        _controller = ThreadpoolController().select(user_api="blas")
    return _controller


@contextmanager
def _threads_for(n_chunks):
    """Number of threads to share ``n_chunks`` chunks, BLAS on one thread meanwhile.

    As many threads as BLAS may use and the CPUs allow: the BLAS thread count
    already says what the caller allows (joblib limits it in its workers, and
    so does ``threadpoolctl.threadpool_limits``). One call at a time uses
    several threads, and its calling thread sets and restores the BLAS limit,
    as threadpoolctl wants for OpenBLAS's process-wide thread pool.
    """
    blas = _blas().lib_controllers if n_chunks > 1 else []
    n = min(n_chunks, _cpu_count, *(lib.num_threads for lib in blas)) if blas else 1
    if n < 2 or not _busy.acquire(blocking=False):
        yield 1
        return
    try:
        with _blas().limit(limits=1):
            # threadpoolctl ignores the limit while another thread controls BLAS
            yield 1 if any(lib.num_threads > 1 for lib in blas) else n
    finally:
        _busy.release()


def _chunk_units(unit_bytes):
    """Units per chunk for ``unit_bytes`` bytes of blocks per unit."""
    return max(1, _CHUNK_BYTES // unit_bytes)


def _map_chunks(process, n_units, step):
    """Call ``process(start, stop, scratch)`` over chunks of ``step`` units.

    Chunks go to a pool of threads (numpy and BLAS release the GIL), each with
    its own ``scratch`` memory, while BLAS is limited to one thread per call.
    """
    starts = iter(range(0, n_units, step))
    lock = threading.Lock()
    failed = []

    def work():
        scratch = {}
        while not failed:
            with lock:
                start = next(starts, None)
            if start is None:
                return
            try:
                process(start, min(start + step, n_units), scratch)
            except BaseException:
                failed.append(True)  # the other threads stop at their next chunk
                raise

    with _threads_for(-(-n_units // step)) as n_threads:
        helpers = [_helper_threads(n_threads - 1).submit(work) for _ in range(n_threads - 1)]
        try:
            work()
        finally:
            for helper in helpers:
                helper.result()


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
            _pool, _pool_size = ThreadPoolExecutor(n, thread_name_prefix="BlockDCT"), n
        return _pool


def _forget_helper_threads():
    # a forked child has none of its parent's threads
    global _pool, _pool_size, _pool_lock
    _pool, _pool_size, _pool_lock = None, 0, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_helper_threads)
