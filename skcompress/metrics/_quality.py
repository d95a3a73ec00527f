"""Distortion of decoded signals: MSE, PSNR, SSIM and MS-SSIM over a batch."""

import numpy as np
from scipy.ndimage import correlate1d

from ..transforms._color import _LUMA

_WINDOW = 7  # scikit-image's default SSIM window
# MS-SSIM (Wang, Simoncelli, Bovik 2003): its Gaussian window, constants and scale weights.
_GAUSSIAN_SIZE, _GAUSSIAN_SIGMA = 11, 1.5
_K1, _K2 = 0.01, 0.03
_MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
# BT.601 studio swing: 8-bit luma spans 16..235, 219/255 of the full range.
_LIMITED_LUMA_SCALE = 219 / 255


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

    ``10 log10(data_range**2 / MSE)``, infinite for a perfect copy. The MSE
    is over every value of a sample: for colour images, over all pixels of
    all channels (RGB PSNR); :func:`psnr_y` measures the luma only.

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


def psnr_y(X, X_hat, *, data_range=None, luma_range="full"):
    """PSNR of the luma (BT.601 Y) of every image, in dB.

    Image codecs are compared on luma: ``Y = 0.299 R + 0.587 G + 0.114 B``
    (ITU-R BT.601, the weights of JPEG's YCbCr) is computed in float from
    each RGB image and its decoded version, then :func:`psnr` is taken on
    ``Y``. Gray images pass through unchanged.

    Parameters
    ----------
    X, X_hat : array-like of shape (n_samples, height, width[, channels])
        Gray images (no channel axis, or one channel) or RGB images (three
        channels, last).
    data_range : float or None, default=None
        Peak of the luma, as for :func:`psnr` (None: 255 for uint8 input).
    luma_range : {"full", "limited"}, default="full"
        "full": Y spans the input's range, as in JPEG (JFIF). "limited": the
        BT.601 studio swing of video codecs' YUV files (8-bit Y in 16..235,
        as MATLAB's ``rgb2ycbcr``): Y and its errors shrink by 219/255, which
        adds 1.32 dB to the PSNR of the same images.

    Returns
    -------
    psnr_y : ndarray of float64, shape (n_samples,)

    Examples
    --------
    >>> import numpy as np
    >>> X = np.full((1, 4, 4, 3), 100, dtype=np.uint8)
    >>> X_hat = X.copy()
    >>> X_hat[..., 2] += 10  # blue errs by 10: Y by 0.114 * 10
    >>> psnr_y(X, X_hat).round(2), psnr(X, X_hat).round(2)
    (array([46.99]), array([32.9]))
    """
    X, X_hat = _pair(X, X_hat, "psnr_y")
    if luma_range not in ("full", "limited"):
        raise ValueError(f"psnr_y: luma_range must be 'full' or 'limited'; got {luma_range!r}.")
    if X.ndim == 4 and X.shape[3] in (1, 3):
        channels = X.shape[3]
    elif X.ndim == 3:
        channels = 1
    else:
        raise ValueError(
            "psnr_y expects gray images (n, height, width[, 1]) or RGB images "
            f"(n, height, width, 3); got shape {X.shape}."
        )
    peak = _data_range(X, data_range)

    def luma(images):
        images = images.astype(np.float64)
        y = images @ _LUMA if channels == 3 else images.reshape(X.shape[:3])
        return y * _LIMITED_LUMA_SCALE if luma_range == "limited" else y

    return psnr(luma(X), luma(X_hat), data_range=peak)


def _gaussian_window():
    offsets = np.arange(_GAUSSIAN_SIZE) - _GAUSSIAN_SIZE // 2
    window = np.exp(-(offsets**2) / (2 * _GAUSSIAN_SIGMA**2))
    return window / window.sum()


def _blur_valid(images, window):
    """Separable filter over axes 1 and 2 of ``(n, h, w, c)``, 'valid' part only."""
    cut = len(window) // 2
    for axis in (1, 2):
        images = correlate1d(images, window, axis=axis, mode="nearest")
        images = np.take(images, np.arange(cut, images.shape[axis] - cut), axis=axis)
    return images


def _ssim_means(x, y, window, c1, c2):
    """Mean SSIM and mean contrast-structure term of every image and channel."""
    mu_x, mu_y = _blur_valid(x, window), _blur_valid(y, window)
    var_x = _blur_valid(x * x, window) - mu_x * mu_x
    var_y = _blur_valid(y * y, window) - mu_y * mu_y
    cov = _blur_valid(x * y, window) - mu_x * mu_y
    cs = (2 * cov + c2) / (var_x + var_y + c2)
    luminance = (2 * mu_x * mu_y + c1) / (mu_x * mu_x + mu_y * mu_y + c1)
    return (luminance * cs).mean(axis=(1, 2)), cs.mean(axis=(1, 2))


def _halve(images):
    """2 x 2 means of ``(n, h, w, c)``; an odd last row or column is repeated first."""
    for axis in (1, 2):
        if images.shape[axis] % 2:
            last = np.take(images, [-1], axis=axis)
            images = np.concatenate([images, last], axis=axis)
    return 0.25 * (
        images[:, 0::2, 0::2]
        + images[:, 1::2, 0::2]
        + images[:, 0::2, 1::2]
        + images[:, 1::2, 1::2]
    )


def ms_ssim(X, X_hat, *, data_range=None, weights=None):
    """Multi-scale structural similarity of every image (Wang, Simoncelli, Bovik 2003).

    SSIM's contrast-structure term is measured at five scales, each half the
    size of the one before (2 x 2 means), and the luminance term at the
    coarsest only; MS-SSIM is the product of the five means, each raised to
    its weight. Every scale uses SSIM's 11-tap Gaussian window (sigma 1.5)
    over the positions where it fits, and ``K1 = 0.01``, ``K2 = 0.03``, as
    the authors' MATLAB code and pytorch-msssim do. A negative mean at a
    scale counts as 0 (as in pytorch-msssim). An odd side is halved to
    ``ceil(side / 2)`` by repeating its last row or column (the symmetric
    border of the authors' code; pytorch-msssim pads with zeros instead, so
    the two agree exactly on sides that stay even).

    Parameters
    ----------
    X, X_hat : array-like of shape (n_samples, height, width[, channels])
        Gray or channels-last images; colour MS-SSIM is the mean over
        channels. The coarsest scale must hold the window: with five scales,
        height and width at least 161.
    data_range : float or None, default=None
        As for :func:`psnr`.
    weights : sequence of float or None, default=None
        Exponent of each scale, finest first; their number is the number of
        scales. None: Wang et al.'s (0.0448, 0.2856, 0.3001, 0.2363, 0.1333).

    Returns
    -------
    ms_ssim : ndarray of float64, shape (n_samples,)

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).integers(0, 256, (2, 176, 176)).astype(np.uint8)
    >>> ms_ssim(X, X)
    array([1., 1.])
    >>> ms_ssim(X[:, :32, :32], X[:, :32, :32], weights=[0.5, 0.5]).round(6)
    array([1., 1.])
    """
    X, X_hat = _pair(X, X_hat, "ms_ssim")
    if X.ndim not in (3, 4):
        raise ValueError(
            "ms_ssim expects images (n, height, width) or (n, height, width, channels); got "
            f"shape {X.shape}."
        )
    weights = np.asarray(_MS_SSIM_WEIGHTS if weights is None else weights, dtype=np.float64)
    if weights.ndim != 1 or len(weights) == 0 or not np.all(np.isfinite(weights) & (weights >= 0)):
        raise ValueError(
            f"ms_ssim: weights must be a non-empty 1-D sequence of non-negative numbers; got "
            f"{weights.tolist()}."
        )
    n_scales = len(weights)
    smallest = (_GAUSSIAN_SIZE - 1) * 2 ** (n_scales - 1) + 1
    if min(X.shape[1:3]) < smallest:
        raise ValueError(
            f"ms_ssim: images of {X.shape[1]} x {X.shape[2]} are too small for {n_scales} scales "
            f"of an {_GAUSSIAN_SIZE}-tap window: height and width must be at least {smallest} "
            "(or pass fewer weights)."
        )
    peak = _data_range(X, data_range)
    c1, c2 = (_K1 * peak) ** 2, (_K2 * peak) ** 2
    window = _gaussian_window()
    x = X.astype(np.float64).reshape(*X.shape[:3], -1)
    y = X_hat.astype(np.float64).reshape(x.shape)
    terms = []
    for scale in range(n_scales):
        ssim_mean, cs_mean = _ssim_means(x, y, window, c1, c2)
        if scale < n_scales - 1:
            terms.append(cs_mean)
            x, y = _halve(x), _halve(y)
    terms.append(ssim_mean)
    terms = np.maximum(np.stack(terms), 0.0)  # (scales, n, channels)
    return np.prod(terms ** weights[:, None, None], axis=0).mean(axis=1)
