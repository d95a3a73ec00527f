"""Block DCT: the transform of JPEG (8x8 blocks) and of MPEG audio frames."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._contract import LAYOUTS, check_signals, from_layout, to_layout
from ._basis import dct2_matrix, dct_matrix, zigzag_order

# Samples per chunk are chosen so that one chunk of blocks stays near this many
# values: the gathered blocks then still sit in cache when the matrix product
# reads them, and memory stays bounded for large batches.
_CHUNK_VALUES = 1 << 18


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
        X = check_signals(self, X, reset=True, signal_shape=self.signal_shape)
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
        X = check_signals(self, X, reset=False, signal_shape=self.signal_shape)
        basis = self._basis(X.dtype)
        gain = self._dc_gain()
        padded = self._pad(X)
        blocks = self._gather(padded)
        n = len(X)
        out = np.empty((n, *self.grid_shape_, self._channels, basis.shape[1]), dtype=X.dtype)
        per_sample = blocks[0].size
        step = max(1, _CHUNK_VALUES // per_sample)
        for start in range(0, n, step):
            chunk = np.ascontiguousarray(blocks[start : start + step])
            np.matmul(
                chunk.reshape(-1, basis.shape[0]),
                basis,
                out=out[start : start + step].reshape(-1, basis.shape[1]),
            )
        if self.level_shift_:  # DC is first in every order
            out[..., 0] -= self.level_shift_ * gain
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
        channels = self._channels
        coefs = from_layout(
            X,
            self.grid_shape_,
            channels,
            self.n_coefficients_,
            self.layout,
            name="BlockDCT.inverse_transform",
        ).astype(dtype, copy=True)
        if self.level_shift_:
            coefs[..., 0] += self.level_shift_ * self._dc_gain()
        basis = self._basis(dtype)
        values = coefs.reshape(-1, basis.shape[1]) @ basis.T
        b, d = self.block_size, self._n_block_axes
        n = len(coefs)
        values = values.reshape(n, *self.grid_shape_, channels, *([b] * d))
        if d == 2:
            h, w = self.grid_shape_
            signals = values.transpose(0, 1, 4, 2, 5, 3).reshape(n, h * b, w * b, channels)
        else:
            signals = values.transpose(0, 1, 3, 2).reshape(n, -1, channels)
        crop = tuple(slice(0, s) for s in self.signal_shape_[:d])
        signals = signals[(slice(None), *crop)]
        return np.ascontiguousarray(signals).reshape(n, *self.signal_shape_)

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

    def _pad(self, X):
        d = self._n_block_axes
        pads = [
            (0, g * self.block_size - s)
            for g, s in zip(self.grid_shape_, X.shape[1 : 1 + d], strict=True)
        ]
        if any(p for _, p in pads):
            X = np.pad(X, [(0, 0), *pads] + [(0, 0)] * (X.ndim - 1 - d), mode="edge")
        return X

    def _gather(self, X):
        """View ``(n, *grid, C, b[, b])`` of padded signals (no copy)."""
        n, b = len(X), self.block_size
        if self._n_block_axes == 1:
            return X.reshape(n, self.grid_shape_[0], 1, b)
        h, w = self.grid_shape_
        six = X.reshape(n, h, b, w, b, self._channels)
        return six.transpose(0, 1, 3, 5, 2, 4)
