"""Block DCT: the transform of JPEG (8x8 blocks), HEVC (4 to 32) and MPEG audio frames."""

from numbers import Integral, Real

import numpy as np
from sklearn import config_context, get_config
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import assert_all_finite, check_is_fitted

from .._core._array_api import asarray, astype, contiguous, float_dtype, get_namespace, pad, zeros
from .._core._basis import dct_matrix_extended, dst7_matrix_extended, zigzag_order
from .._core._chunks import chunked, fit_on_shape
from .._core._contract import LAYOUTS, check_input_features, check_signals, from_layout, to_layout
from .._core._docs import chunk_parameters
from .._core._estimator import PublicEstimatorMixin, unfitted_on_error
from .._core._limits import MAX_BLOCK_SIZE
from .._core._structure import (
    Structure,
    channels_of,
    check_structured_signals,
    read_images,
    read_structure,
    with_structure,
)
from ._block_kernel import BlockPlan, row_sums
from ._hevc import hevc_forward, hevc_inverse

_MATRICES = {"dct": dct_matrix_extended, "dst7": dst7_matrix_extended}
_HEVC_KINDS = {"dct": "dct2", "dst7": "dst7"}


@chunk_parameters()
class BlockDCT(TransformerMixin, PublicEstimatorMixin, BaseEstimator):
    """Orthonormal DCT-II (or DST-VII) over non-overlapping blocks, as JPEG and HEVC use it.

    Images (3-D ``(n, H, W)`` or 4-D ``(n, H, W, C)`` input) are cut into
    ``block_size x block_size`` blocks, each channel on its own; 1-D signals
    (2-D input) into blocks of ``block_size`` samples. Sizes that the block
    does not divide are padded by edge replication, as libjpeg does, and
    :meth:`inverse_transform` crops the padding back off.

    Parameters
    ----------
    block_size : int in [1, 4096], default=8
        Side of the square block (length of the 1-D block). HEVC uses 4, 8,
        16 and 32.
    kind : {"dct", "dst7"}, default="dct"
        The orthonormal DCT-II of JPEG and HEVC, or the DST-VII that HEVC
        applies to 4x4 intra luma residuals (its first basis function rises
        from the predicted edge instead of being flat).
    integer : bool, default=False
        Compute HEVC's integer core transform instead of the exact orthonormal
        one: the integer matrices of H.265 8.6.4.2 (64/83/36 for 4 points, up
        to 32), with the reference encoder's rounding shifts after each pass
        for 8-bit samples. Coefficients are int32, about ``128 / block_size``
        times the orthonormal ones, and :meth:`inverse_transform` is the
        standard's decoder transform, which returns the samples to within one
        or two levels (HEVC's transform pair is not exactly lossless). Needs
        images of integer-valued samples, ``block_size`` in (4, 8, 16, 32)
        (4 for "dst7").
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
    {chunk_parameters}

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
    skcompress.transforms.hevc_matrix : the integer matrices of ``integer=True``.

    Notes
    -----
    Output features are ordered block by block, then channel, then
    coefficient (coefficient axis last and fastest), so a per-coefficient
    quantization vector broadcasts over every layout.

    Images go through a compiled kernel that reads each block once from the
    image (padding on the fly), applies the two 1-D transforms as SIMD row
    operations, and writes the kept coefficients in ``order``; the level shift
    is folded in, and the DCT's coefficients that are exact in theory (DC and
    frequencies 0 and 4 of an 8x8 block, as libjpeg computes them) are exact.
    Chunks of block rows are shared by as many threads as the CPUs and the
    BLAS thread count allow, so limits set with ``threadpoolctl`` or by joblib
    in its workers are respected. 1-D blocks are one matrix product.

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

    HEVC's 4x4 integer transform of a flat residual block of 10: the
    orthonormal DC, 40, times 128 / 4.

    >>> hevc = BlockDCT(4, integer=True, order="natural", level_shift=0)
    >>> hevc.fit_transform(np.full((1, 4, 4), 10))[0, :4].tolist()
    [1280, 0, 0, 0]
    """

    _parameter_constraints = {
        "block_size": [Interval(Integral, 1, MAX_BLOCK_SIZE, closed="both")],
        "kind": [StrOptions(set(_MATRICES))],
        "integer": ["boolean"],
        "order": [StrOptions({"zigzag", "natural"})],
        "n_coefficients": [Interval(Integral, 1, None, closed="left"), None],
        "level_shift": [StrOptions({"auto"}), Interval(Real, None, None, closed="neither")],
        "layout": [StrOptions(set(LAYOUTS))],
        "signal_shape": [tuple, list, None],
        "batch_size": [Interval(Integral, 1, None, closed="left"), None],
        "n_jobs": [Integral, None],
        "device": "no_validation",  # checked when used: torch is optional
        "dtype": "no_validation",  # checked when used
    }

    def __init__(
        self,
        block_size=8,
        *,
        kind="dct",
        integer=False,
        order="zigzag",
        n_coefficients=None,
        level_shift="auto",
        layout="flat",
        signal_shape=None,
        batch_size=None,
        n_jobs=None,
        device=None,
        dtype=None,
    ):
        self.block_size = block_size
        self.kind = kind
        self.integer = integer
        self.order = order
        self.n_coefficients = n_coefficients
        self.level_shift = level_shift
        self.layout = layout
        self.signal_shape = signal_shape
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.device = device
        self.dtype = dtype

    @fit_on_shape
    @_fit_context(prefer_skip_nested_validation=True)
    @unfitted_on_error
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
        X, structure = check_structured_signals(
            self, X, reset=True, read=self._read, dtype=_input_dtype(X)
        )
        b = self.block_size
        per_block = b**self._n_block_axes
        if self.n_coefficients is not None and self.n_coefficients > per_block:
            raise ValueError(
                f"BlockDCT: n_coefficients={self.n_coefficients} exceeds the "
                f"{per_block} coefficients of a block of size {b}."
            )
        if self.integer:
            self._check_hevc()
        self.n_coefficients_ = self.n_coefficients or per_block
        self.grid_shape_ = tuple(-(-s // b) for s in self.signal_shape_[: self._n_block_axes])
        if self._mcu and self.integer:
            raise ValueError(
                "BlockDCT(integer=True) transforms planes of one resolution; its input is "
                f"{structure.describe()}. Use ChromaSubsampler('4:4:4') before it."
            )
        if self.level_shift == "auto":
            unsigned = dtype is not None and np.dtype(dtype).kind == "u"
            self.level_shift_ = float(2 ** (8 * np.dtype(dtype).itemsize - 1)) if unsigned else 0.0
            if structure is not None and structure.mid_level is not None:
                self.level_shift_ = float(structure.mid_level)
        else:
            self.level_shift_ = float(self.level_shift)
        self._plan = None
        return self

    @chunked
    def transform(self, X):
        """Block transform coefficients of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, *signal_shape)
            Signals of the shape seen at ``fit``.

        Returns
        -------
        Xt : ndarray
            Coefficients in ``layout``; float32 for float32 input, float64
            otherwise (int32 with ``integer=True``).
        """
        check_is_fitted(self)
        X = self._read(X, read_structure(self, X, reset=False))
        check_finite = not get_config()["assume_finite"]
        # Finiteness is checked on the results instead, see _check_finite.
        with config_context(assume_finite=True):
            X = check_signals(
                self,
                X,
                reset=False,
                signal_shape=self.signal_shape if self.input_structure_ is None else None,
                dtype=_input_dtype(X),
            )
        check_finite = check_finite and X.dtype.kind == "f"
        if self.integer:
            out = self._hevc_forward(X)
        else:
            dtype = np.float32 if X.dtype == np.float32 else np.float64
            if self._mcu:
                out = self._forward_mcu(X, dtype)
            elif self._n_block_axes == 2:
                images = X if X.ndim == 4 else X[..., None]
                out = self._kernel().forward(images, dtype)
            else:
                out = self._forward_1d(X, dtype)
            if check_finite:
                _check_finite(X, out[..., 0], self)
        return with_structure(to_layout(out, self.layout, self), self.output_structure_)

    @chunked
    def inverse_transform(self, X):
        """Signals from block coefficients (dropped coefficients as zero).

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
        dtype = float_dtype(X)
        coefs = self._blocks(X)
        n = len(coefs)
        if self.integer:
            out = self._hevc_inverse(coefs)
        elif self._mcu:
            out = self._inverse_mcu(coefs.astype(dtype, copy=False))
        elif self._n_block_axes == 2:
            out = self._kernel().inverse(coefs.astype(dtype, copy=False), self.signal_shape_[:2])
        else:
            out = self._inverse_1d(coefs.astype(dtype, copy=False))
        structure = self.input_structure_
        if structure is None:
            return out.reshape(n, *self.signal_shape_)
        # back in the layout of the step before, for its inverse_transform
        return structure.emit(out.reshape(n, *structure.grid, structure.depth, structure.k))

    def _blocks(self, X):
        """Coefficients in ``layout`` as ``(n, *grid_shape_, channels, k)``."""
        grid, C, k = self.grid_shape_, self._channels, self.n_coefficients_
        return from_layout(X, grid, C, k, self.layout, name="BlockDCT.inverse_transform")

    def _torch_kernel(self, method):
        """The kernel of tensors (see :mod:`skcompress._core._chunks`), None for ``integer``.

        The compiled kernel takes numpy arrays; tensors of images take the same
        products as einsums, 1-D signals the numpy path's own code. Minimum
        coded units of subsampled chroma take the numpy path.
        """
        if self.integer or self._mcu:
            return None
        kernels = {"transform": self._transform_tensor, "inverse_transform": self._inverse_tensor}
        return kernels.get(method)

    def _transform_tensor(self, X):
        X = check_signals(self, X, reset=False, signal_shape=self.signal_shape, keep_tensors=True)
        if self._n_block_axes == 1:
            return to_layout(self._forward_1d(X, float_dtype(X)), self.layout, self)
        xp = get_namespace(X)
        b, n, (h, w), C = self.block_size, len(X), self.grid_shape_, self._channels
        H, W = self.signal_shape_[:2]
        images = xp.moveaxis(X.reshape(n, H, W, C), -1, 1) - self.level_shift_
        images = pad(images, [(0, 0), (0, 0), (0, h * b - H), (0, w * b - W)], mode="edge")
        blocks = images.reshape(n, C, h, b, w, b)
        # As the compiled kernel: rows scaled by sqrt(b), so the DCT's rows 0 and b/2
        # are exactly +-1 and the coefficients exact in theory (DC, frequencies 0 and
        # 4 of 8x8 blocks) come out exact, as the kernel's do: quantizing them then
        # rounds the same way at ties.
        root = np.sqrt(np.longdouble(b))
        A = asarray((root * self._matrix()).astype(np.float64), like=X, dtype="like")
        B = asarray((root * self._matrix() / b).astype(np.float64), like=X, dtype="like")
        coefs = xp.einsum("nchuwv,pu,qv->nhwcpq", blocks, A, B).reshape(n, h, w, C, b * b)
        positions = asarray(self._coefficient_positions(), like=X)
        return to_layout(coefs[..., positions], self.layout, self)

    def _inverse_tensor(self, Xt):
        Xt = astype(Xt, float_dtype(Xt))
        coefs = self._blocks(Xt)
        n = len(coefs)
        if self._n_block_axes == 1:
            return self._inverse_1d(coefs).reshape(n, *self.signal_shape_)
        xp = get_namespace(Xt)
        b, (h, w), C = self.block_size, self.grid_shape_, self._channels
        full = zeros((*coefs.shape[:-1], b * b), None, like=coefs)
        full[..., asarray(self._coefficient_positions(), like=Xt)] = coefs
        M = asarray(self._matrix().astype(np.float64), like=Xt, dtype="like")
        blocks = xp.einsum("nhwcpq,pu,qv->nchuwv", full.reshape(n, h, w, C, b, b), M, M)
        H, W = self.signal_shape_[:2]
        images = blocks.reshape(n, C, h * b, w * b)[:, :, :H, :W] + self.level_shift_
        return contiguous(xp.moveaxis(images, 1, -1)).reshape(n, *self.signal_shape_)

    def get_feature_names_out(self, input_features=None):
        """Names of the "flat" output features, e.g. ``blk2_3_dct0_1``.

        ``blk<row>_<col>`` is the block, ``ch<c>`` the channel (multichannel
        only) and ``dct<u>_<v>`` (``dst<u>_<v>``) the vertical and horizontal
        frequency (1-D: ``blk<i>_dct<u>``).

        Parameters
        ----------
        input_features : array-like of str or None
            Ignored except for a length check.

        Returns
        -------
        feature_names_out : ndarray of str
        """
        check_is_fitted(self)
        check_input_features(self, input_features)
        b, d, kind = self.block_size, self._n_block_axes, self.kind[:3]
        positions = self._coefficient_positions()
        if d == 2:
            u, v = np.divmod(positions, b)
            freq = [f"{kind}{a}_{c}" for a, c in zip(u, v, strict=True)]
            blocks = [
                f"blk{r}_{c}"
                for r in range(self.grid_shape_[0])
                for c in range(self.grid_shape_[1])
            ]
        else:
            freq = [f"{kind}{a}" for a in positions]
            blocks = [f"blk{i}" for i in range(self.grid_shape_[0])]
        names = self.output_structure_.channels
        channels = [""] if self._channels == 1 else [f"_{name}" for name in names]
        names = [f"{blk}{ch}_{f}" for blk in blocks for ch in channels for f in freq]
        return np.asarray(names, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    @classmethod
    def get_test_params(cls):
        return [
            {},
            {"block_size": 4, "order": "natural", "n_coefficients": 3},
            {"block_size": 4, "kind": "dst7"},
        ]

    @property
    def output_structure_(self):
        """:class:`~skcompress._core._structure.Structure` of :meth:`transform`'s output."""
        check_is_fitted(self)
        structure = self.input_structure_
        if self._mcu:
            a, b = self._mcu
            names = (*(f"Y{i}" for i in range(a * b)), "Cb", "Cr")
        else:
            names = channels_of(structure, self._channels)
        d = self._n_block_axes
        return Structure(
            "dct",
            type(self).__name__,
            tuple(self.grid_shape_),
            self._channels,
            self.n_coefficients_,
            self.layout,
            names,
            block_size=self.block_size,
            order=self.order if d == 2 else "natural",
            factors=self._mcu,
            image_shape=tuple(self.signal_shape_[:d]),
        )

    # -- helpers -----------------------------------------------------------

    def _read(self, X, structure):
        """Images (or chroma sites) of ``X`` as ``structure`` lays them out."""
        return read_images(
            type(self).__name__,
            X,
            structure,
            ("image", "sites"),
            "Use it on images, or after ColorTransform or ChromaSubsampler.",
        )

    @property
    def _mcu(self):
        """Luma samples per chroma site (a, b) when the input is 4:2:2 or 4:2:0 sites."""
        structure = getattr(self, "input_structure_", None)
        if structure is None or structure.kind != "sites" or structure.factors == (1, 1):
            return None
        return tuple(structure.factors)

    def _forward_mcu(self, sites, dtype):
        """Coefficients ``(n, h, w, a b + 2, k)`` of chroma sites: JPEG's minimum coded units.

        Luma and chroma are transformed as planes, each padded by repeating
        its own last row and column (as libjpeg pads luma), and every MCU of
        ``a x b`` luma blocks and one Cb and one Cr block becomes one cell of
        the grid, luma blocks in raster order.
        """
        (a, b), B, (mh, mw) = self._mcu, self.block_size, self.grid_shape_
        n, h, w, _ = sites.shape
        luma = _sites_to_plane(sites[..., : a * b], a, b)
        pads = [(0, 0), (0, a * (mh * B - h)), (0, b * (mw * B - w))]
        if any(p[1] for p in pads):
            luma = np.pad(luma, pads, mode="edge")
        kernel = self._kernel()
        Y = kernel.forward(luma[..., None], dtype)
        k = Y.shape[-1]
        Y = Y.reshape(n, mh, a, mw, b, k).transpose(0, 1, 3, 2, 4, 5).reshape(n, mh, mw, a * b, k)
        chroma = kernel.forward(np.ascontiguousarray(sites[..., a * b :]), dtype)
        return np.concatenate([Y, chroma], axis=3)

    def _inverse_mcu(self, coefs):
        """Chroma sites ``(n, h, w, a b + 2)`` of MCU coefficients (inverse of _forward_mcu)."""
        (a, b), (mh, mw) = self._mcu, self.grid_shape_
        h, w, _ = self.signal_shape_
        n, k = len(coefs), coefs.shape[-1]
        Y = coefs[..., : a * b, :].reshape(n, mh, mw, a, b, k).transpose(0, 1, 3, 2, 4, 5)
        kernel = self._kernel()
        luma = kernel.inverse(Y.reshape(n, mh * a, mw * b, 1, k), (a * h, b * w))
        sites = np.empty((n, h, w, a * b + 2), dtype=coefs.dtype)
        sites[..., : a * b] = _plane_to_sites(luma[..., 0], a, b)
        sites[..., a * b :] = kernel.inverse(coefs[..., a * b :, :], (h, w))
        return sites

    @property
    def _n_block_axes(self):
        shape = getattr(self, "signal_shape_", None)
        if shape is None:
            return 1 if self.signal_shape is not None and len(self.signal_shape) == 1 else 2
        return 1 if len(shape) == 1 else 2

    @property
    def _channels(self):
        return self.signal_shape_[2] if len(self.signal_shape_) == 3 else 1

    def _coefficient_positions(self):
        b, d = self.block_size, self._n_block_axes
        order = zigzag_order(b) if d == 2 and self.order == "zigzag" else np.arange(b**d)
        return order[: self.n_coefficients_]

    def _matrix(self):
        """The 1-D transform, rows the basis functions, in extended precision."""
        return _MATRICES[self.kind](self.block_size)

    def _kernel(self):
        # Built at first use, not pickled (see __getstate__).
        if getattr(self, "_plan", None) is None:
            M = self._matrix()
            self._plan = BlockPlan(
                M, M, self._coefficient_positions(), self.level_shift_, self.kind == "dct"
            )
        return self._plan

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_plan", None)
        return state

    def _forward_1d(self, X, dtype):
        """Coefficients ``(n, w, 1, k)`` of 1-D signals (numpy or torch): one matrix product."""
        b, (w,) = self.block_size, self.grid_shape_
        M = self._matrix()
        positions = self._coefficient_positions()
        basis = contiguous(asarray(M[positions].T.astype(dtype), like=X))
        signals = pad(astype(X, dtype), [(0, 0), (0, w * b - X.shape[1])], mode="edge")
        out = (signals.reshape(-1, b) @ basis).reshape(len(X), w, 1, -1)
        if self.level_shift_:
            out -= asarray((self.level_shift_ * row_sums(M)[positions]).astype(dtype), like=X)
        return out

    def _inverse_1d(self, coefs):
        """Signals ``(n, L)`` of 1-D coefficients (numpy or torch)."""
        b, (w,), L = self.block_size, self.grid_shape_, self.signal_shape_[0]
        basis = self._matrix()[self._coefficient_positions()]
        basis = contiguous(asarray(basis.astype(float_dtype(coefs)), like=coefs))
        out = coefs.reshape(-1, basis.shape[0]) @ basis
        if self.level_shift_:
            out += self.level_shift_
        return out.reshape(len(coefs), w * b)[:, :L]

    def _check_hevc(self):
        b = self.block_size
        sizes = (4,) if self.kind == "dst7" else (4, 8, 16, 32)
        if self._n_block_axes != 2 or b not in sizes:
            raise ValueError(
                f"BlockDCT(integer=True) is HEVC's transform of square blocks: it needs "
                f"images and block_size in {sizes} for kind={self.kind!r}; got "
                f"block_size={b} and signals of shape {self.signal_shape_}."
            )

    def _hevc_blocks(self, X):
        """Integer residual blocks ``(n, h, w, C, b, b)`` of images ``X``."""
        b, (h, w), C = self.block_size, self.grid_shape_, self._channels
        residual = X.reshape(len(X), *self.signal_shape_[:2], C) - self.level_shift_
        rounded = np.rint(residual)
        if not np.array_equal(rounded, residual):
            raise ValueError(
                "BlockDCT(integer=True) transforms integer samples (HEVC's residuals); "
                "X minus level_shift has non-integer values."
            )
        H, W = self.signal_shape_[:2]
        padded = np.pad(
            rounded.astype(np.int64), [(0, 0), (0, h * b - H), (0, w * b - W), (0, 0)], "edge"
        )
        return padded.reshape(len(X), h, b, w, b, C).transpose(0, 1, 3, 5, 2, 4)

    def _hevc_forward(self, X):
        coefs = hevc_forward(self._hevc_blocks(X), _HEVC_KINDS[self.kind])
        n, h, w, C = coefs.shape[:4]
        flat = coefs.reshape(n, h, w, C, -1)[..., self._coefficient_positions()]
        return flat.astype(np.int32)

    def _hevc_inverse(self, coefs):
        b, (h, w), C = self.block_size, self.grid_shape_, self._channels
        n = len(coefs)
        full = np.zeros((n, h, w, C, b * b), dtype=np.int64)
        full[..., self._coefficient_positions()] = np.rint(coefs)
        blocks = hevc_inverse(full.reshape(n, h, w, C, b, b), _HEVC_KINDS[self.kind])
        images = blocks.transpose(0, 1, 4, 2, 5, 3).reshape(n, h * b, w * b, C)
        H, W = self.signal_shape_[:2]
        return images[:, :H, :W].astype(np.float64) + self.level_shift_


def _sites_to_plane(values, a, b):
    """``(n, h, w, a b)`` luma samples per site -> the plane ``(n, a h, b w)``."""
    n, h, w, _ = values.shape
    return values.reshape(n, h, w, a, b).transpose(0, 1, 3, 2, 4).reshape(n, a * h, b * w)


def _plane_to_sites(plane, a, b):
    """Inverse of :func:`_sites_to_plane`."""
    n, H, W = plane.shape
    h, w = H // a, W // b
    return plane.reshape(n, h, a, w, b).transpose(0, 1, 3, 2, 4).reshape(n, h, w, a * b)


def _input_dtype(X):
    """``dtype`` for :func:`check_signals`: integer arrays go to the kernel as they are."""
    if isinstance(X, np.ndarray) and X.dtype.kind in "ui" and X.dtype.itemsize <= 4:
        return [X.dtype]  # exact in float64, as the cast of check_array
    return ("numeric",)


def _check_finite(signals, dc, estimator):
    """Raise the error of :func:`~sklearn.utils.check_array` on NaN or infinity.

    Every value adds to the first coefficient of its block with a positive
    weight (the DCT's DC, the DST-VII's lowest frequency), so a finite one (a
    few values, in cache) proves its block finite; only otherwise are the
    signals searched.
    """
    if not np.isfinite(dc).all():
        assert_all_finite(signals, input_name="X", estimator_name=type(estimator).__name__)
