"""Signals to patches and back: overlapping or not, overlaps averaged, whole batches at once."""

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._core._chunks import as_output_dtype
from .._core._contract import LAYOUTS, check_input_features, from_layout, to_layout
from .._core._docs import DTYPE_PARAMETER, fill_doc
from .._core._estimator import PublicEstimatorMixin, unfitted_on_error
from .._core._limits import MAX_BLOCK_SIZE
from .._core._structure import (
    Structure,
    channels_of,
    check_structured_signals,
    read_images,
    refuse,
    with_structure,
)


def extract_patches(X, patch_size, step=None):
    """Every patch of every signal of a batch, on a regular grid.

    Patches start every ``step`` samples along each axis; where the grid
    does not end exactly at the edge, the signal is padded by edge
    replication (as a block codec pads) so that every sample lies in a patch.

    Parameters
    ----------
    X : array-like of shape (n, length), (n, height, width) or (n, height, width, channels)
        A batch of 1-D signals, gray images or channels-last images.
    patch_size : int or tuple of int
        Patch length (1-D) or ``(height, width)``; an int is square for images.
    step : int, tuple of int or None, default=None
        Distance between the starts of neighbouring patches, at most the
        patch size. None: the patch size (non-overlapping patches, a block
        grid); 1: every position.

    Returns
    -------
    patches : ndarray of shape (n, *grid, *patch_shape[, channels])
        ``(n, n_patches)`` + ``(length,)`` for 1-D signals,
        ``(n, rows, cols, height, width[, channels])`` for images, in the dtype
        of ``X`` (a copy).

    See Also
    --------
    reconstruct_from_patches : the way back, averaging overlaps.
    Patches : the same as a scikit-learn transformer.

    Examples
    --------
    >>> import numpy as np
    >>> from skcompress.sparse import extract_patches, reconstruct_from_patches
    >>> images = np.arange(2 * 6 * 6, dtype=float).reshape(2, 6, 6)
    >>> patches = extract_patches(images, 4, step=2)
    >>> patches.shape
    (2, 2, 2, 4, 4)
    >>> bool(np.array_equal(reconstruct_from_patches(patches, (6, 6), step=2), images))
    True
    """
    X = np.asarray(X)
    if X.ndim not in (2, 3, 4):
        raise ValueError(
            "extract_patches expects X of shape (n, length), (n, height, width) or "
            f"(n, height, width, channels); got shape {X.shape}."
        )
    spatial = 1 if X.ndim == 2 else 2
    patch, stride = _sizes(patch_size, step, spatial, "extract_patches")
    _, padded = _grid(X.shape[1 : 1 + spatial], patch, stride)
    pad = [(0, 0)] + [(0, p - s) for p, s in zip(padded, X.shape[1 : 1 + spatial], strict=True)]
    pad += [(0, 0)] * (X.ndim - 1 - spatial)
    Xp = np.pad(X, pad, mode="edge") if any(after for _, after in pad) else X
    axes = tuple(range(1, 1 + spatial))
    windows = np.lib.stride_tricks.sliding_window_view(Xp, patch, axis=axes)
    windows = windows[(slice(None),) + tuple(slice(None, None, s) for s in stride)]
    if X.ndim == 4:  # (n, rows, cols, C, h, w) -> (n, rows, cols, h, w, C)
        windows = np.moveaxis(windows, 3, -1)
    return np.ascontiguousarray(windows)


def reconstruct_from_patches(patches, signal_shape, step=None):
    """Signals from their patches, the average of every patch that covers a sample.

    Parameters
    ----------
    patches : array-like of shape (n, *grid, *patch_shape[, channels])
        As :func:`extract_patches` returns them (possibly processed: denoised,
        coded).
    signal_shape : tuple of int
        Shape of one signal: ``(length,)``, ``(height, width)`` or
        ``(height, width, channels)``.
    step : int, tuple of int or None, default=None
        The step the patches were taken with (None: the patch size).

    Returns
    -------
    X : ndarray of shape (n, *signal_shape)
        Float (float32 patches stay float32), the padding cropped off.

    Examples
    --------
    >>> import numpy as np
    >>> from skcompress.sparse import reconstruct_from_patches
    >>> ones = np.ones((1, 3, 3, 4, 4))   # 4x4 patches every 2 pixels of an 8x8 image
    >>> reconstruct_from_patches(ones, (8, 8), step=2).shape
    (1, 8, 8)
    """
    P = np.asarray(patches)
    signal_shape = tuple(int(s) for s in signal_shape)
    if len(signal_shape) not in (1, 2, 3):
        raise ValueError(
            "reconstruct_from_patches: signal_shape must be (length,), (height, width) or "
            f"(height, width, channels); got {signal_shape}."
        )
    spatial = 1 if len(signal_shape) == 1 else 2
    channels = signal_shape[2:]
    if P.ndim != 1 + 2 * spatial + len(channels) or P.shape[P.ndim - len(channels) :] != channels:
        raise ValueError(
            f"reconstruct_from_patches: patches for signals of shape {signal_shape} must have "
            f"shape (n, {'rows, cols, height, width' if spatial == 2 else 'n_patches, length'}"
            f"{', ' + str(channels[0]) if channels else ''}); got {P.shape}."
        )
    patch = P.shape[1 + spatial : 1 + 2 * spatial]
    _, stride = _sizes(patch, step, spatial, "reconstruct_from_patches")
    grid, padded = _grid(signal_shape[:spatial], patch, stride)
    if P.shape[1 : 1 + spatial] != grid:
        raise ValueError(
            f"reconstruct_from_patches: signals of shape {signal_shape} have a grid of "
            f"{grid} patches of {patch} with step {stride}; got a grid of "
            f"{P.shape[1 : 1 + spatial]}."
        )
    dtype = P.dtype if P.dtype in (np.float32, np.float64) else np.float64
    n = len(P)
    total = np.zeros((n, *padded, *channels), dtype=dtype)
    count = np.zeros(padded, dtype=dtype)
    for offset in np.ndindex(*patch):
        where = tuple(slice(o, o + g * s, s) for o, g, s in zip(offset, grid, stride, strict=True))
        total[(slice(None), *where)] += P[(slice(None),) * (1 + spatial) + offset]
        count[where] += 1
    if channels:
        count = count[..., None]
    total /= count
    crop = tuple(slice(0, s) for s in signal_shape[:spatial])
    return np.ascontiguousarray(total[(slice(None), *crop)])


def _sizes(patch_size, step, spatial, owner):
    patch = _per_axis(patch_size, spatial, "patch_size", owner)
    stride = patch if step is None else _per_axis(step, spatial, "step", owner)
    if any(t > p for t, p in zip(stride, patch, strict=True)):
        raise ValueError(
            f"{owner}: step={step!r} exceeds the patch size {patch}: the samples between "
            "patches would be in none of them."
        )
    return patch, stride


def _per_axis(value, spatial, name, owner):
    values = (value,) * spatial if isinstance(value, Integral) else value
    try:
        values = tuple(int(v) for v in values)
    except TypeError:
        values = ()
    if (
        len(values) != spatial
        or min(values) < 1
        or max(values) > MAX_BLOCK_SIZE
        or isinstance(value, bool)
    ):
        raise ValueError(
            f"{owner}: {name} must be an int in [1, {MAX_BLOCK_SIZE}] or a tuple of "
            f"{spatial} such ints for {'1-D signals' if spatial == 1 else 'images'}; got "
            f"{value!r}."
        )
    return values


def _grid(shape, patch, stride):
    """Patches per axis and the padded size they cover."""
    grid = tuple(1 + -(-max(s - p, 0) // t) for s, p, t in zip(shape, patch, stride, strict=True))
    padded = tuple(p + (g - 1) * t for g, p, t in zip(grid, patch, stride, strict=True))
    return grid, padded


class Patches(TransformerMixin, PublicEstimatorMixin, BaseEstimator):
    """Cut signals into patches, overlapping or not; put them back by averaging.

    The step that dictionary learning takes from images: every image of a
    batch becomes its grid of patches (vectors of ``height * width *
    channels`` pixels), one sample per image still, so a sparse coder can
    follow in a Pipeline and ``inverse_transform`` returns images.
    Overlapping patches (``step`` smaller than the patch) are averaged back,
    which is how K-SVD denoises. 1-D signals (2-D input) give 1-D patches.

    Parameters
    ----------
    patch_size : int or tuple of int, each in [1, 4096], default=8
        Patch side (an int: square) or ``(height, width)``; the length for
        1-D signals.
    step : int, tuple of int or None, default=None
        Distance between the starts of neighbouring patches, at most the
        patch size. None: the patch size, non-overlapping patches; 1: every
        position (all overlapping patches). Sizes the grid does not cover
        exactly are padded by edge replication and cropped back by
        ``inverse_transform``.
    layout : {"flat", "blocks", "channels_first"}, default="flat"
        Output layout, see :mod:`skcompress` (the data contract): "flat" is
        ``(n, n_patches * patch_values)``; "blocks" is ``(n, rows, cols,
        patch_values)`` (``(n, n_patches, length)`` for 1-D signals), which a
        sparse coder reads as one vector per patch; "channels_first" is
        ``(n, patch_values, rows, cols)``.
    signal_shape : tuple of int or None, default=None
        Shape of one signal when rows arrive flattened. Not needed after a
        skcompress step that emits images (:class:`~skcompress.ColorTransform`,
        ``ChromaSubsampler("4:4:4")``): their shape comes with their output.
    {dtype_parameter}

    Attributes
    ----------
    grid_shape_ : tuple of int
        Patches along each spatial axis.
    patch_shape_ : tuple of int
        Shape of one patch, channels last.
    n_patch_values_ : int
        Values per patch.
    signal_shape_ : tuple of int
        Shape of one input signal seen at ``fit``.
    n_features_in_ : int
        Values per input signal.
    feature_names_in_ : ndarray of str
        Column names, when ``fit`` was given a DataFrame.

    See Also
    --------
    extract_patches, reconstruct_from_patches : the same as functions.
    KSVD : learns a dictionary of patches.

    Notes
    -----
    After another skcompress step, the images it emits are read in any of
    its layouts; coefficients, codes, patches and chroma subsampled to 4:2:2
    or 4:2:0 are refused with a ValueError that says what to change. 4-D
    input is read as channels-last images: an array that looks
    channels-first (torch's ``(n, C, H, W)``) is refused unless
    ``signal_shape`` confirms it. The output carries ``output_structure_``
    (kind "patches", one vector of ``n_patch_values_`` per patch), which
    :class:`KSVD` and :class:`OMPCoder` read as one vector per patch;
    :meth:`inverse_transform` returns the images in the layout of the step
    before.

    Examples
    --------
    >>> import numpy as np
    >>> from skcompress.sparse import Patches
    >>> images = np.random.default_rng(0).uniform(size=(3, 22, 22))
    >>> patches = Patches(8, step=4, layout="blocks").fit(images)
    >>> patches.transform(images).shape      # 22 is padded to 24: 5 x 5 patches of 64
    (3, 5, 5, 64)
    >>> back = patches.inverse_transform(patches.transform(images))
    >>> bool(np.allclose(back, images))
    True
    """

    _parameter_constraints = {
        "patch_size": [Interval(Integral, 1, MAX_BLOCK_SIZE, closed="both"), tuple, list],
        "step": [Interval(Integral, 1, None, closed="left"), tuple, list, None],
        "layout": [StrOptions(set(LAYOUTS))],
        "signal_shape": [tuple, list, None],
        "dtype": "no_validation",  # checked when used
    }

    def __init__(self, patch_size=8, *, step=None, layout="flat", signal_shape=None, dtype=None):
        self.patch_size = patch_size
        self.step = step
        self.layout = layout
        self.signal_shape = signal_shape
        self.dtype = dtype

    @_fit_context(prefer_skip_nested_validation=True)
    @unfitted_on_error
    def fit(self, X, y=None):
        """Record the signal shape and the patch grid.

        Parameters
        ----------
        X : array-like of shape (n_samples, *signal_shape)
            1-D signals (2-D array), gray images (3-D) or channels-last
            images (4-D).
        y : None
            Ignored.

        Returns
        -------
        self : Patches
        """
        X, structure = check_structured_signals(self, X, reset=True, read=self._read)
        shape = self.signal_shape_
        spatial = 1 if len(shape) == 1 else 2
        patch, stride = _sizes(self.patch_size, self.step, spatial, "Patches")
        self.grid_shape_, _ = _grid(shape[:spatial], patch, stride)
        self.patch_shape_ = patch + tuple(shape[2:])
        self.n_patch_values_ = int(np.prod(self.patch_shape_))
        self._stride = stride
        return self

    def transform(self, X):
        """Patches of every signal of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, *signal_shape)

        Returns
        -------
        patches : ndarray
            In ``layout``; float32 stays float32, other input becomes float64.
        """
        check_is_fitted(self)
        X, _ = check_structured_signals(self, X, reset=False, read=self._read)
        spatial = len(self.grid_shape_)
        P = extract_patches(X, self.patch_shape_[:spatial], self._stride)
        blocks = P.reshape(len(X), *self.grid_shape_, 1, self.n_patch_values_)
        out = to_layout(blocks, self.layout, self)
        return as_output_dtype(self, with_structure(out, self.output_structure_))

    def inverse_transform(self, X):
        """Signals from patches, averaging where patches overlap.

        Parameters
        ----------
        X : array-like
            Patches in the step's ``layout`` (2-D "flat" always works).

        Returns
        -------
        X_original : ndarray of shape (n_samples, *signal_shape_)
            After a skcompress step, in that step's layout (with its
            structure).
        """
        check_is_fitted(self)
        X = np.asarray(X)
        if X.dtype.kind not in "fiub":
            raise ValueError(
                f"Patches.inverse_transform expects numeric patches; got dtype {X.dtype}."
            )
        blocks = from_layout(
            X,
            self.grid_shape_,
            1,
            self.n_patch_values_,
            self.layout,
            name="Patches.inverse_transform",
        )
        P = blocks.reshape(len(X), *self.grid_shape_, *self.patch_shape_)
        out = reconstruct_from_patches(P, self.signal_shape_, self._stride)
        structure = self.input_structure_
        if structure is None:
            return out
        # back in the layout of the step before, for its inverse_transform
        return structure.emit(out.reshape(len(X), *structure.grid, structure.depth, structure.k))

    def get_feature_names_out(self, input_features=None):
        """Names of the "flat" output features, e.g. ``patch2_3_px4_5``.

        ``patch<row>_<col>`` is the patch, ``px<i>_<j>`` the pixel in it and
        ``ch<c>`` the channel (1-D: ``patch<i>_px<j>``).

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
        grid = ["_".join(map(str, g)) for g in np.ndindex(*self.grid_shape_)]
        spatial = len(self.grid_shape_)
        pixels = ["_".join(map(str, p)) for p in np.ndindex(*self.patch_shape_[:spatial])]
        channels = [""]
        if len(self.patch_shape_) > spatial:
            channels = [f"_ch{c}" for c in range(self.patch_shape_[-1])]
        names = [f"patch{g}_px{p}{c}" for g in grid for p in pixels for c in channels]
        return np.asarray(names, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    @classmethod
    def get_test_params(cls):
        return [{}, {"patch_size": 3, "step": 1}]

    @property
    def output_structure_(self):
        """:class:`~skcompress._core._structure.Structure` of :meth:`transform`'s output.

        Kind "patches": ``grid = grid_shape_``, ``depth = 1``, ``k =
        n_patch_values_`` (one patch's values, channels last); ``channels``
        names the image's channels, ``block_size`` is the side of square
        image patches (None otherwise) and ``image_shape`` the size of the
        signals.
        """
        check_is_fitted(self)
        spatial = len(self.grid_shape_)
        side = self.patch_shape_[:spatial]
        n_channels = self.patch_shape_[2] if len(self.patch_shape_) > spatial else 1
        return Structure(
            "patches",
            "Patches",
            tuple(self.grid_shape_),
            1,
            self.n_patch_values_,
            self.layout,
            channels_of(self.input_structure_, n_channels),
            block_size=side[0] if spatial == 2 and side[0] == side[1] else None,
            image_shape=tuple(self.signal_shape_[:spatial]),
        )

    def _read(self, X, structure):
        """Images of ``X`` as ``structure`` lays them out."""
        if structure is not None and structure.kind == "sites":
            raise refuse(
                "Patches",
                structure,
                "images with every channel at one resolution",
                "Use ChromaSubsampler('4:4:4') before it, or cut the planes of "
                "ChromaSubsampler.split(...) into patches one at a time.",
            )
        return read_images(
            "Patches",
            X,
            structure,
            instead="Cut the images into patches before any transform: put Patches first, "
            "or right after ColorTransform.",
        )


Patches.__doc__ = fill_doc(Patches.__doc__, {"{dtype_parameter}": DTYPE_PARAMETER})
