"""Distortion of decoded signals: MSE, PSNR and SSIM over a batch."""

import numpy as np

_WINDOW = 7  # scikit-image's default SSIM window


def _pair(X, X_hat, name):
    X, X_hat = np.asarray(X), np.asarray(X_hat)
    if X.shape != X_hat.shape or X.ndim < 2:
        raise ValueError(
            f"{name} expects two batches of the same shape (n_samples, ...); got {X.shape} and "
            f"{X_hat.shape}."
        )
    return X, X_hat


def _data_range(X, data_range):
    if data_range is not None:
        return float(data_range)
    if X.dtype.kind in "iu":
        info = np.iinfo(X.dtype)
        return float(info.max) - float(info.min)
    return float(X.max() - X.min()) or 1.0


def mse(X, X_hat):
    """Mean squared error of every sample.

    Parameters
    ----------
    X, X_hat : array-like of shape (n_samples, ...)
        Signals and their decoded versions.

    Returns
    -------
    mse : ndarray of float64, shape (n_samples,)

    Examples
    --------
    >>> import numpy as np
    >>> mse(np.zeros((2, 3)), np.array([[1.0, 1, 1], [0, 0, 3]]))
    array([1., 3.])
    """
    X, X_hat = _pair(X, X_hat, "mse")
    d = X.astype(np.float64) - X_hat.astype(np.float64)
    return (d * d).reshape(len(X), -1).mean(axis=1)


def psnr(X, X_hat, *, data_range=None):
    """Peak signal-to-noise ratio of every sample, in dB.

    ``10 log10(data_range**2 / MSE)``, infinite for a perfect copy.

    Parameters
    ----------
    X, X_hat : array-like of shape (n_samples, ...)
    data_range : float or None, default=None
        Peak-to-peak range of the signal: None takes the range of ``X``'s
        integer dtype (255 for uint8) or, for floats, ``X.max() - X.min()``.

    Returns
    -------
    psnr : ndarray of float64, shape (n_samples,)

    Examples
    --------
    >>> import numpy as np
    >>> X = np.full((1, 4, 4), 100, dtype=np.uint8)
    >>> psnr(X, X + 1).round(2)
    array([48.13])
    """
    X, X_hat = _pair(X, X_hat, "psnr")
    peak = _data_range(X, data_range)
    with np.errstate(divide="ignore"):
        return 10 * np.log10(peak * peak / mse(X, X_hat))


def ssim(X, X_hat, *, data_range=None):
    """Structural similarity of every image (scikit-image's, imported here).

    Parameters
    ----------
    X, X_hat : array-like of shape (n_samples, height, width[, channels])
        Gray or channels-last images, at least 7 x 7; colour SSIM is the
        mean over channels.
    data_range : float or None, default=None
        As for :func:`psnr`.

    Returns
    -------
    ssim : ndarray of float64, shape (n_samples,)

    Raises
    ------
    ImportError
        If scikit-image is not installed.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).integers(0, 256, (2, 16, 16)).astype(np.uint8)
    >>> ssim(X, X)
    array([1., 1.])
    """
    X, X_hat = _pair(X, X_hat, "ssim")
    if X.ndim not in (3, 4):
        raise ValueError(
            f"ssim expects images (n, height, width) or (n, height, width, channels); got shape "
            f"{X.shape}."
        )
    try:
        from skimage.metrics import structural_similarity
    except ImportError as error:  # pragma: no cover - scikit-image is a dev dependency
        raise ImportError("ssim needs scikit-image: pip install scikit-image") from error
    n = len(X)
    channels = 1 if X.ndim == 3 else X.shape[3]

    def stacked(images):  # every image and channel as one channel of a single call
        images = images.reshape(n, *X.shape[1:3], channels).astype(np.float64)
        return np.moveaxis(images, 0, 2).reshape(*X.shape[1:3], n * channels)

    _, full = structural_similarity(
        stacked(X),
        stacked(X_hat),
        data_range=_data_range(X, data_range),
        channel_axis=-1,
        full=True,
    )
    pad = (_WINDOW - 1) // 2  # scikit-image averages the map without its borders
    inner = full[pad : full.shape[0] - pad, pad : full.shape[1] - pad]
    return inner.reshape(-1, n, channels).mean(axis=(0, 2))
