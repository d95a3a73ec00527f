"""Sweep one parameter; tabulate bits, distortion and accuracy; plot on request."""

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone, is_classifier
from sklearn.metrics import check_scoring
from sklearn.model_selection import check_cv
from sklearn.pipeline import make_pipeline
from sklearn.utils import Bunch

from ..codecs import Codec
from ._quality import mse, psnr, ssim


def _distortion(X, X_hat, data_range, with_ssim):
    out = {"mse": float(mse(X, X_hat).mean())}
    with np.errstate(divide="ignore"):
        out["psnr"] = float(np.mean(psnr(X, X_hat, data_range=data_range)))
    out["ssim"] = np.nan
    if with_ssim:
        out["ssim"] = float(ssim(X, X_hat, data_range=data_range).mean())
    return out


def _wants_ssim(ssim_option, X):
    images = X.ndim in (3, 4) and min(X.shape[1:3]) >= 7
    if ssim_option == "auto":
        if not images:
            return False
        try:
            import skimage.metrics  # noqa: F401
        except ImportError:
            return False
        return True
    if ssim_option and not images:
        raise ValueError(
            f"ssim=True needs images (n, height, width[, channels]) of at least 7 x 7; got X "
            f"of shape {X.shape}."
        )
    return bool(ssim_option)


def _as_estimator(estimator):
    if isinstance(estimator, (list, tuple)):
        return make_pipeline(*estimator)
    return estimator


def _table(param_name, param_range, rows, keys):
    table = Bunch(**{param_name: np.asarray(list(param_range))})
    for key in keys:
        table[key] = np.array([r[key] for r in rows], dtype=np.float64)
    return table


def _plot(table, x, y, param_name, ax, label):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots()
    ax.plot(table[x], table[y], "o-", label=label)
    for value, xi, yi in zip(table[param_name], table[x], table[y], strict=True):
        ax.annotate(str(value), (xi, yi), textcoords="offset points", xytext=(4, 4), fontsize=8)
    ax.set_xlabel(x.replace("_", " "))
    ax.set_ylabel(y.upper() if y in ("psnr", "ssim", "mse") else y)
    ax.grid(True, alpha=0.3)
    return ax


def rate_accuracy_curve(
    estimator,
    X,
    y,
    param_name,
    param_range,
    *,
    cv=3,
    scoring="accuracy",
    model="auto",
    data_range=None,
    ssim="auto",
    plot=False,
    ax=None,
    n_jobs=None,
):
    """Accuracy, bits and distortion of a Pipeline as one parameter sweeps a range.

    For every value and every cross-validation split, a clone of
    ``estimator`` with that value is fitted on the training part; the
    held-out part is scored, coded for real by a
    :class:`~skcompress.codecs.Codec` of the pipeline's steps (entropy model
    fitted on the training part), decoded, and compared with the original.

    Parameters
    ----------
    estimator : Pipeline
        Unfitted; transform and quantizer steps, then a classifier (or any
        estimator ``scoring`` applies to).
    X : array-like of shape (n_samples, ...)
    y : array-like of shape (n_samples,)
    param_name : str
        Parameter to sweep, e.g. ``"perceptualquantizer__quality"``.
    param_range : sequence
        Its values.
    cv : int or cross-validation generator, default=3
        As ``cross_validate`` takes it (stratified folds for classifiers).
    scoring : str or callable, default="accuracy"
    model : str or entropy model, default="auto"
        Entropy model of the codec.
    data_range : float or None, default=None
        Peak-to-peak range for PSNR and SSIM (None: from ``X``'s dtype or
        values, see :func:`~skcompress.metrics.psnr`).
    ssim : "auto" or bool, default="auto"
        Compute SSIM (scikit-image); "auto" does for images when
        scikit-image is installed.
    plot : bool, default=False
        Draw accuracy against bits per sample with matplotlib (imported only
        then); the axes are returned as ``table.ax``.
    ax : matplotlib Axes or None
        Where to draw (implies ``plot``).
    n_jobs : int or None, default=None
        Fits (one per value and split) run in parallel on this many joblib
        workers, as ``cross_validate``'s ``n_jobs``; None is 1 unless in a
        ``joblib.parallel_config`` context, -1 is every CPU.

    Returns
    -------
    table : Bunch
        Arrays over ``param_range``: ``param_name`` (the values),
        ``bits_per_sample``, ``bits_per_value`` (per pixel or value),
        ``accuracy`` (mean over splits of ``scoring``), ``accuracy_std``,
        ``mse``, ``psnr``, ``ssim`` (NaN when not computed); and ``ax`` when
        plotted. ``pandas.DataFrame(table)`` makes it a data frame (drop
        ``ax`` first).

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.naive_bayes import GaussianNB
    >>> from skcompress import BlockDCT, PerceptualQuantizer
    >>> from skcompress.datasets import load_mnist
    >>> X, y = load_mnist(return_X_y=True)
    >>> pipe = make_pipeline(BlockDCT(n_coefficients=10),
    ...                      PerceptualQuantizer(quality=50, n_coefficients=10), GaussianNB())
    >>> table = rate_accuracy_curve(pipe, X[:600], y[:600], "perceptualquantizer__quality",
    ...                             [10, 50, 90], cv=2)
    >>> sorted(k for k in table if k != "perceptualquantizer__quality")
    ['accuracy', 'accuracy_std', 'bits_per_sample', 'bits_per_value', 'mse', 'psnr', 'ssim']
    >>> bool(table.bits_per_sample[0] < table.bits_per_sample[2])
    True
    >>> bool(table.psnr[0] < table.psnr[2])
    True
    """
    estimator = _as_estimator(estimator)
    X, y = np.asarray(X), np.asarray(y)
    splitter = check_cv(cv, y, classifier=is_classifier(estimator))
    splits = list(splitter.split(X, y))
    with_ssim = _wants_ssim(ssim, X)
    values = list(param_range)
    results = Parallel(n_jobs=n_jobs)(
        delayed(_score_fold)(
            estimator,
            X,
            y,
            train,
            test,
            {param_name: value},
            scoring,
            model,
            data_range,
            with_ssim,
        )
        for value in values
        for train, test in splits
    )
    rows = []
    for i in range(len(values)):
        folds = results[i * len(splits) : (i + 1) * len(splits)]
        row = {key: float(np.mean([f[key] for f in folds])) for key in folds[0]}
        row["accuracy_std"] = float(np.std([f["accuracy"] for f in folds]))
        rows.append(row)
    keys = ["bits_per_sample", "bits_per_value", "accuracy", "accuracy_std", "mse", "psnr", "ssim"]
    table = _table(param_name, values, rows, keys)
    if plot or ax is not None:
        table.ax = _plot(table, "bits_per_sample", "accuracy", param_name, ax, param_name)
    return table


def _score_fold(estimator, X, y, train, test, params, scoring, model, data_range, with_ssim):
    """Fit on ``train`` with ``params``; score, code and decode ``test``."""
    fitted = clone(estimator).set_params(**params).fit(X[train], y[train])
    score = check_scoring(fitted, scoring=scoring)(fitted, X[test], y[test])
    codec = Codec(fitted, model=model).fit(X[train])
    strings = codec.compress(X[test])
    row = {"accuracy": score, **_rate_of(codec, strings)}
    row.update(_distortion(X[test], codec.decompress(strings), data_range, with_ssim))
    return row


def _code_part(estimator, X, X_fit, train, test, params, model, data_range, with_ssim):
    """Fit the steps and the entropy model on one part; code, decode and compare ``test``."""
    data = X_fit if train is None else X[train]
    steps = clone(estimator).set_params(**params).fit(data)
    codec = Codec(steps, model=model).fit(data)
    strings = codec.compress(X[test])
    row = _rate_of(codec, strings)
    row.update(_distortion(X[test], codec.decompress(strings), data_range, with_ssim))
    return len(test), row


def rate_distortion_curve(
    estimator,
    X,
    param_name,
    param_range,
    *,
    X_fit=None,
    model="auto",
    data_range=None,
    ssim="auto",
    plot=False,
    ax=None,
    n_jobs=None,
):
    """Bits and distortion of a transform-and-quantizer chain as one parameter sweeps.

    For every value, a clone of the steps with that value is fitted, ``X`` is
    coded for real (:class:`~skcompress.codecs.Codec`), decoded, and
    compared with the original.

    Parameters
    ----------
    estimator : Pipeline, list of steps or a quantizer
        Unfitted transform and quantizer steps (a list is chained with
        ``make_pipeline``).
    X : array-like of shape (n_samples, ...)
        Signals to code.
    param_name : str
        Parameter to sweep, e.g. ``"perceptualquantizer__quality"``.
    param_range : sequence
        Its values.
    X_fit : array-like or None, default=None
        Training signals for the steps and the entropy model. None
        cross-fits on ``X``: it is cut into two interleaved halves, each
        coded by steps and a model fitted on the other.
    model : str or entropy model, default="auto"
    data_range : float or None, default=None
        Peak-to-peak range for PSNR and SSIM.
    ssim : "auto" or bool, default="auto"
    plot : bool, default=False
        Draw PSNR against bits per value (pixel) with matplotlib; the axes
        are returned as ``table.ax``.
    ax : matplotlib Axes or None
    n_jobs : int or None, default=None
        Fits (one per value, two with cross-fitting) run in parallel on this
        many joblib workers; None is 1 unless in a ``joblib.parallel_config``
        context, -1 is every CPU.

    Returns
    -------
    table : Bunch
        Arrays over ``param_range``: the values, ``bits_per_sample``,
        ``bits_per_value``, ``mse``, ``psnr``, ``ssim``; ``ax`` when plotted.

    Examples
    --------
    >>> from skcompress import BlockDCT, PerceptualQuantizer
    >>> from skcompress.datasets import load_mnist
    >>> X = load_mnist().images[:300]
    >>> table = rate_distortion_curve([BlockDCT(), PerceptualQuantizer()], X,
    ...                               "perceptualquantizer__quality", [25, 75])
    >>> bool(table.bits_per_value[0] < table.bits_per_value[1] < 3)   # bits per pixel
    True
    >>> bool(20 < table.psnr[0] < table.psnr[1])
    True
    """
    estimator = _as_estimator(estimator)
    X = np.asarray(X)
    if X_fit is None:
        if len(X) < 2:
            raise ValueError(
                "rate_distortion_curve needs X_fit, or at least 2 samples in X to cross-fit; "
                f"got {len(X)}."
            )
        halves = [np.arange(0, len(X), 2), np.arange(1, len(X), 2)]
        parts = [(halves[1], halves[0]), (halves[0], halves[1])]
    else:
        X_fit = np.asarray(X_fit)
        parts = [(None, np.arange(len(X)))]
    with_ssim = _wants_ssim(ssim, X)
    values = list(param_range)
    results = Parallel(n_jobs=n_jobs)(
        delayed(_code_part)(
            estimator, X, X_fit, train, test, {param_name: value}, model, data_range, with_ssim
        )
        for value in values
        for train, test in parts
    )
    rows = []
    for i in range(len(values)):
        pieces = results[i * len(parts) : (i + 1) * len(parts)]
        total = sum(n for n, _ in pieces)
        rows.append({k: sum(n * r[k] for n, r in pieces) / total for k in pieces[0][1]})
    table = _table(
        param_name, values, rows, ["bits_per_sample", "bits_per_value", "mse", "psnr", "ssim"]
    )
    if plot or ax is not None:
        table.ax = _plot(table, "bits_per_value", "psnr", param_name, ax, param_name)
    return table


def _rate_of(codec, strings):
    bits = 8 * np.mean([len(s) for s in strings])
    shape = codec.signal_shape_
    values = int(np.prod(shape[:2])) if len(shape) >= 2 else int(np.prod(shape))
    return {"bits_per_sample": float(bits), "bits_per_value": float(bits / values)}
