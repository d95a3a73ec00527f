"""The data contract that every skcompress signal step keeps.

Input
-----
A batch of signals is an array ``(n_samples, *signal_shape)``:

* 2-D ``(n, length)``: a batch of 1-D signals (audio frames, or any tabular
  row), so scikit-learn's own checks apply unchanged;
* 3-D ``(n, height, width)``: a batch of gray images;
* 4-D ``(n, height, width, channels)``: colour images, channels last, as
  images are stored.

A step that is given ``signal_shape`` also accepts flattened rows
``(n, prod(signal_shape))`` and reshapes them itself. Values are numbers:
arrays of strings, even of numeric ones, are refused, and so are signals
without values (``(n, 0, 0)``).

Output layouts
--------------
Every transform offers one ``layout`` parameter:

``"flat"`` (default)
    ``(n_samples, n_features)``, so any scikit-learn estimator can follow the
    step directly. Features are ordered with the coefficient axis last and
    fastest, and ``get_feature_names_out`` names each of them.
``"blocks"``
    The same values unflattened: ``(n, *grid, n_coefficients)``, coefficient
    axis last (for a block DCT of colour images ``(n, h, w, channels, k)``).
``"channels_first"``
    ``(n, channels * n_coefficients, *grid)``, the layout a convolutional
    network expects (e.g. DCT coefficients as channels at 1/8 resolution).

Only "flat" output fills a DataFrame: under ``set_output(transform="pandas")``
the other layouts raise a ValueError that says so.

``inverse_transform`` accepts any of the three and returns signals in the shape
seen by ``fit``. Floating point input keeps its dtype (float32 stays float32);
integer input is converted to float64.

Tensors
-------
A fitted step with a torch kernel takes torch tensors too: the same checks of
the signal shape and of finiteness, the same layouts, and a tensor back on the
input's device.
"""

import numpy as np
from sklearn.utils._set_output import _get_output_config
from sklearn.utils.validation import check_array, validate_data

from ._array_api import as_array, contiguous, get_namespace, is_torch

LAYOUTS = ("flat", "blocks", "channels_first")
_SIGNAL_KINDS = {1: "1-D signals", 2: "gray images", 3: "channels-last images"}


def check_signals(
    estimator,
    X,
    *,
    reset,
    signal_shape=None,
    dtype=("numeric",),
    max_ndim=4,
    keep_tensors=False,
    any_size=False,
    images=False,
):
    """Validate a batch of signals and record or check its shape.

    Parameters
    ----------
    estimator : BaseEstimator
        The step; ``fit`` (``reset=True``) sets ``signal_shape_`` and
        ``n_features_in_`` on it, later calls check against them.
    X : array-like of shape (n_samples, *signal_shape)
        2-D, 3-D or 4-D; with ``signal_shape`` also flattened 2-D rows.
    reset : bool
        True in ``fit``.
    signal_shape : tuple of int or None
        Shape of one signal, when rows arrive flattened.
    dtype : str, type or tuple
        Passed to :func:`~sklearn.utils.check_array`; ``"numeric"`` keeps
        float32 and converts integers to float64.
    max_ndim : int or None
        Largest accepted ``X.ndim`` (coefficient arrays in the "blocks" layout
        of colour images have 5 dimensions).
    keep_tensors : bool
        True in code that also runs as a torch kernel: after ``fit``, a torch
        tensor is checked for its signal shape and finiteness (scikit-learn's
        checks need numpy) and returned as a tensor of floats. False converts
        it, as any array-like.
    any_size : bool
        True for a fully convolutional step: after ``fit``, images (3-D and
        4-D ``X``) may have any height and width; the caller checks their
        kind and channels. Flat 2-D rows keep the fitted number of features.
    images : bool
        True for a step that reads 4-D input as channels-last images: at
        ``fit``, an array that looks channels-first (torch's ``(n, C, H, W)``:
        at most 4 along axis 1, more along the last axis) is refused unless
        ``signal_shape`` confirms the reading.

    Returns
    -------
    X : ndarray of shape (n_samples, *signal_shape)

    Raises
    ------
    ValueError
        For strings or bytes, even of numbers (numpy would parse them); for
        signals with no values, as ``(n_samples, 0, 0)``; for a shape other
        than the fitted one.
    """
    name = type(estimator).__name__
    if keep_tensors and not reset and is_torch(X):
        return _check_tensor(estimator, X, signal_shape)
    check_numeric(X, name)
    if getattr(X, "ndim", 2) <= 2:
        # 2-D input keeps scikit-learn's path: feature names from DataFrames.
        X = validate_data(estimator, X, reset=reset, dtype=_float_dtype(dtype))
    else:
        X = check_array(
            X, allow_nd=True, dtype=_float_dtype(dtype), input_name="X", estimator=estimator
        )
        if max_ndim is not None and X.ndim > max_ndim:
            raise ValueError(
                f"{name} expects X of shape (n_samples, length), (n_samples, height, "
                f"width) or (n_samples, height, width, channels); got an array with "
                f"ndim={X.ndim} and shape {X.shape}."
            )
        check_nonempty(X, name)
        if images and reset and signal_shape is None:
            _refuse_channels_first(X, name)
        if any_size and not reset:
            return X
        if not reset:
            _check_same_signal_shape(estimator, X)
        validate_data(estimator, X.reshape(len(X), -1), reset=reset, skip_check_array=True)
    if signal_shape is not None:
        signal_shape = tuple(int(s) for s in signal_shape)
        if X.shape[1:] != signal_shape:
            if X.ndim != 2 or X.shape[1] != np.prod(signal_shape):
                raise ValueError(
                    f"{name} was given signal_shape={signal_shape} "
                    f"({int(np.prod(signal_shape))} values per sample) but X has shape "
                    f"{X.shape}."
                )
            X = X.reshape(len(X), *signal_shape)
        if not 1 <= len(signal_shape) <= 3:
            raise ValueError(
                f"{name}: signal_shape must have 1, 2 or 3 entries (length; height, "
                f"width; or height, width, channels); got {signal_shape}."
            )
    if reset:
        estimator.signal_shape_ = X.shape[1:]
    else:
        _check_same_signal_shape(estimator, X)
    return X


def _refuse_channels_first(X, name):
    if X.ndim == 4 and X.shape[1] <= 4 < X.shape[3]:
        n, c, h, w = X.shape
        raise ValueError(
            f"{name} reads 4-D input as channels-last images (n_samples, height, width, "
            f"channels); X of shape {X.shape} looks channels-first (torch's (n, C, H, W): "
            f"{c} channels of {h}x{w}). Pass np.moveaxis(X, 1, -1) (or X.permute(0, 2, 3, 1) "
            f"for a tensor); if these really are {c}x{h} images with {w} channels, say so "
            f"with signal_shape={X.shape[1:]}."
        )


def check_numeric(X, name):
    """Raise a ValueError for an array of strings or bytes (of numbers, too).

    scikit-learn's ``check_array`` with a float dtype parses numeric strings
    (``np.array(["1.5"])`` becomes 1.5), so a column of text would pass as
    signals. Object arrays of numbers (as pandas gives) are fine. A
    ValueError, as scikit-learn's for ``dtype="numeric"`` and strings.

    Parameters
    ----------
    X : array-like
        The input, before :func:`~sklearn.utils.check_array`.
    name : str
        The estimator, for the message.

    Examples
    --------
    >>> import numpy as np
    >>> check_numeric(np.zeros((2, 3)), "BlockDCT")
    >>> check_numeric(np.array([["1.5", "2"]]), "BlockDCT")
    Traceback (most recent call last):
    ...
    ValueError: BlockDCT needs numeric input; got X of dtype <U3 (strings). ...
    """
    dtype = getattr(X, "dtype", None)
    columns = getattr(X, "dtypes", None)  # a DataFrame
    if columns is not None and all(getattr(d, "kind", "O") in "biufc" for d in columns):
        return
    if dtype is None or columns is not None:  # lists, DataFrames: as check_array sees them
        try:
            dtype = np.asarray(X).dtype
        except (TypeError, ValueError):
            return  # ragged or odd input: check_array says what is wrong
    kind = getattr(dtype, "kind", None)
    if kind in ("U", "S"):
        text = f"{dtype} (strings)"
    elif kind == "O":
        values = np.asarray(X, dtype=object).ravel()
        found = next((v for v in values if isinstance(v, (str, bytes))), None)
        if found is None:
            return
        text = f"object holding strings, such as {found!r}"
    else:
        return
    raise ValueError(
        f"{name} needs numeric input; got X of dtype {text}. Convert it first, e.g. "
        "np.asarray(X, dtype=float), if the strings hold numbers."
    )


def check_nonempty(X, name):
    """Raise a ValueError for signals without values, as ``X`` of shape ``(n, 0, 0)``.

    scikit-learn's ``check_array`` counts the features of 2-D arrays only.
    """
    if 0 in X.shape[1:]:
        raise ValueError(
            f"{name} needs signals with at least one value each; got X of shape "
            f"{X.shape}, whose signals of shape {X.shape[1:]} are empty."
        )


def check_output_container(estimator, Xt):
    """``Xt``, or a ValueError where ``set_output`` asks a container of non-2-D output.

    ``set_output(transform="pandas")`` (or "polars") wraps what ``transform``
    returns in a DataFrame, which only 2-D output can fill; the layouts other
    than "flat" give more dimensions.

    Parameters
    ----------
    estimator : BaseEstimator
        The step whose ``transform`` returns ``Xt``.
    Xt : ndarray or tensor
        Its output.

    Returns
    -------
    Xt : ndarray or tensor
        Unchanged.
    """
    if Xt.ndim == 2:
        return Xt
    container = _get_output_config("transform", estimator)["dense"]
    if container == "default":
        return Xt
    layout = getattr(estimator, "layout", None)
    cause = f"layout={layout!r} gives" if layout not in (None, "flat") else "this input gives"
    raise ValueError(
        f"{type(estimator).__name__}: set_output(transform={container!r}) needs 2-D output, "
        f"but {cause} an array of shape {tuple(Xt.shape)}. Use layout='flat' (2-D, with "
        "feature names) for DataFrame output, or set_output(transform='default')."
    )


def _check_same_signal_shape(estimator, X):
    fitted = tuple(estimator.signal_shape_)
    shape = tuple(X.shape)
    if shape[1:] != fitted:
        kind = _SIGNAL_KINDS.get(len(fitted), f"{len(fitted)}-D arrays")
        raise ValueError(
            f"{type(estimator).__name__} was fitted on signals of shape {fitted} ({kind}) "
            f"but X has signals of shape {shape[1:]} (X.shape={shape})."
        )


def _check_tensor(estimator, X, signal_shape):
    """A tensor of signals of the fitted shape, as floats, or the numpy path's ValueError.

    float32 and float64 keep their dtype, every other dtype becomes float64
    (as :func:`check_signals` converts numpy arrays).
    """
    shape = tuple(estimator.signal_shape_)
    if signal_shape is not None and X.ndim == 2 and X.shape[1] == int(np.prod(shape)):
        X = X.reshape(len(X), *shape)
    _check_same_signal_shape(estimator, X)
    torch = get_namespace(X)
    if X.dtype not in (torch.float32, torch.float64):
        X = X.to(torch.float64)
    if not bool(torch.isfinite(X).all()):
        raise ValueError(f"{type(estimator).__name__}: X contains NaN or infinity.")
    return X


def _float_dtype(dtype):
    if dtype == ("numeric",):
        return (np.float64, np.float32)
    return dtype


def check_input_features(estimator, input_features):
    """Raise the ValueError of ``get_feature_names_out`` for a wrong ``input_features``."""
    if input_features is not None and len(input_features) != estimator.n_features_in_:
        raise ValueError(
            f"input_features should have length {estimator.n_features_in_}; got "
            f"{len(input_features)}."
        )


def to_layout(blocks, layout, estimator=None):
    """Turn ``(n, *grid, channels, k)`` coefficients into the requested layout.

    ``blocks`` has the channel axis just before the coefficient axis; gray and
    1-D signals carry a channel axis of length 1, which the "blocks" layout
    drops. A numpy array or a torch tensor. ``estimator``: the step whose
    ``transform`` output this is, checked by :func:`check_output_container`.

    Examples
    --------
    >>> import numpy as np
    >>> blocks = np.arange(12).reshape(1, 2, 3, 1, 2)  # 2x3 blocks of 2 coefficients
    >>> to_layout(blocks, "channels_first").shape
    (1, 2, 2, 3)
    """
    n, *grid, channels, k = blocks.shape
    if layout == "flat":
        out = blocks.reshape(n, -1)
    elif layout == "blocks":
        out = blocks if channels > 1 else blocks.reshape(n, *grid, k)
    else:
        xp = get_namespace(blocks)
        moved = xp.moveaxis(blocks.reshape(n, -1, channels * k), -1, 1)
        out = contiguous(moved).reshape(n, channels * k, *grid)
    return out if estimator is None else check_output_container(estimator, out)


def from_layout(Xt, grid, channels, k, layout, name="inverse_transform"):
    """Inverse of :func:`to_layout`: back to ``(n, *grid, channels, k)``.

    A 2-D array is always read as the "flat" layout; otherwise ``layout`` (the
    step's own) says how to read it. A torch tensor comes back as one.
    """
    Xt = as_array(Xt)
    grid = tuple(grid)
    per_sample = int(np.prod(grid)) * channels * k
    if layout == "channels_first" and Xt.ndim > 2:
        expected = (channels * k, *grid)
    elif layout == "blocks" and Xt.ndim > 2:
        expected = (*grid, channels, k) if channels > 1 else (*grid, k)
    else:
        expected = (per_sample,)
    if Xt.ndim < 2 or tuple(Xt.shape[1:]) != expected:
        raise ValueError(
            f"{name} expects coefficients of shape (n_samples, {per_sample}) or, in the "
            f"{layout!r} layout, (n_samples, {', '.join(map(str, expected))}); got an "
            f"array of shape {tuple(Xt.shape)}."
        )
    n = len(Xt)
    if layout == "channels_first" and Xt.ndim > 2:
        moved = get_namespace(Xt).moveaxis(Xt.reshape(n, channels * k, -1), 1, -1)
        return moved.reshape(n, *grid, channels, k)
    return Xt.reshape(n, *grid, channels, k)
