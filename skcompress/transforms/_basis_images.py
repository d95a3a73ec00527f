"""Pictures of transforms: basis functions and subband pyramids as image grids."""

import numpy as np
from sklearn.base import clone
from sklearn.utils.validation import check_is_fitted


def basis_functions(transform, signal_shape=None):
    """Synthesis basis functions of a linear transform.

    The basis function of coefficient ``i`` is what ``inverse_transform``
    makes of the unit vector ``e_i`` (less what it makes of zero, so that an
    offset such as JPEG's level shift drops out). Works for every skcompress
    transform whose inverse accepts the "flat" layout: ``BlockDCT`` over one
    block gives the 64 DCT basis images, ``MDCT`` over one frame its windowed
    cosines.

    Parameters
    ----------
    transform : estimator
        A linear skcompress transform, fitted or not.
    signal_shape : tuple of int or None
        Shape of one signal to fit ``transform`` on (a clone of it, on zeros).
        None uses ``transform`` as fitted. Keep it small: the result has
        ``n_coefficients x prod(signal_shape)`` values.

    Returns
    -------
    basis : ndarray of shape (n_coefficients,) + signal_shape
        In the transform's coefficient order.

    Examples
    --------
    >>> from skcompress import BlockDCT
    >>> basis = basis_functions(BlockDCT(4, order="natural"), signal_shape=(4, 4))
    >>> basis.shape
    (16, 4, 4)
    >>> float(basis[0, 0, 0])   # the DC basis image is flat, 1/4
    0.25
    """
    if signal_shape is not None:
        transform = clone(transform).fit(np.zeros((1, *signal_shape)))
    check_is_fitted(transform)
    n_out = transform.transform(np.zeros((1, *transform.signal_shape_))).size
    units = np.vstack([np.eye(n_out), np.zeros((1, n_out))])
    images = transform.inverse_transform(units)
    return images[:-1] - images[-1]


def tile_images(images, n_cols=None, pad=1, normalize="each", fill=np.nan):
    """Tile a stack of equally sized 2-D images into one grid image.

    Parameters
    ----------
    images : array-like of shape (n, h, w)
    n_cols : int or None
        Tiles per row; None makes the grid as square as possible.
    pad : int
        Pixels of ``fill`` between tiles.
    normalize : {"each", "global", None}
        Scale each tile (or all of them together) by its largest magnitude to
        [-1, 1], so that basis functions of every frequency are visible.
    fill : float
        Value of the padding (NaN shows as blank in matplotlib's ``imshow``).

    Returns
    -------
    grid : ndarray of float64, shape (rows * (h + pad) - pad, n_cols * (w + pad) - pad)

    Examples
    --------
    >>> import numpy as np
    >>> tile_images(np.ones((6, 2, 3)), n_cols=3, pad=1).shape
    (5, 11)
    """
    images = np.asarray(images, dtype=np.float64)
    if images.ndim != 3 or len(images) == 0:
        raise ValueError(
            f"tile_images expects a non-empty stack of 2-D images (n, h, w); got shape "
            f"{images.shape}."
        )
    if normalize not in ("each", "global", None):
        raise ValueError(
            f"tile_images: normalize must be 'each', 'global' or None; got {normalize!r}."
        )
    n, h, w = images.shape
    if normalize is not None:
        axes = (1, 2) if normalize == "each" else None
        peak = np.abs(images).max(axis=axes, keepdims=True)
        images = images / np.where(peak > 0, peak, 1)
    n_cols = n_cols or int(np.ceil(np.sqrt(n)))
    n_rows = -(-n // n_cols)
    grid = np.full((n_rows * (h + pad), n_cols * (w + pad)), fill, dtype=np.float64)
    framed = np.full((n_rows * n_cols, h + pad, w + pad), fill)
    framed[:n, :h, :w] = images
    grid[:] = framed.reshape(n_rows, n_cols, h + pad, w + pad).swapaxes(1, 2).reshape(grid.shape)
    return grid[: grid.shape[0] - pad, : grid.shape[1] - pad]


def subband_mosaic(wavelet_transform, image, normalize=True):
    """A gray image's wavelet subbands in the classic pyramid arrangement.

    The coarsest LL sits top left; at every level HL goes to its right, LH
    below it and HH diagonally, as in the figures of the JPEG 2000 standard.

    Parameters
    ----------
    wavelet_transform : WaveletTransform
        Fitted on gray images (3-D input).
    image : array-like of shape (H, W)
        One image of the fitted shape.
    normalize : bool
        Scale every subband by its largest magnitude to [-1, 1] (detail
        subbands are otherwise invisible beside LL).

    Returns
    -------
    mosaic : ndarray of float64
        About the image's size (larger by the border coefficients of
        non-periodic modes); uncovered corners are NaN.

    Examples
    --------
    >>> import numpy as np
    >>> from skcompress import WaveletTransform
    >>> wt = WaveletTransform("haar", level=2).fit(np.zeros((1, 8, 8)))
    >>> subband_mosaic(wt, np.arange(64.0).reshape(8, 8)).shape
    (8, 8)
    """
    check_is_fitted(wavelet_transform)
    if len(wavelet_transform.signal_shape_) != 2:
        raise ValueError(
            "subband_mosaic needs a WaveletTransform fitted on gray images (n, H, W); this "
            f"one was fitted on signals of shape {wavelet_transform.signal_shape_}."
        )
    row = wavelet_transform.transform(np.asarray(image)[np.newaxis])[0]
    bands, start = [], 0
    for shape in wavelet_transform.subband_shapes_:
        size = int(np.prod(shape))
        band = row[start : start + size].reshape(shape).astype(np.float64)
        start += size
        if normalize:
            peak = np.abs(band).max()
            band = band / peak if peak > 0 else band
        bands.append(band)
    mosaic = bands[0]
    for hl, lh, hh in zip(bands[1::3], bands[2::3], bands[3::3], strict=True):
        h0, w0 = mosaic.shape
        out = np.full((h0 + lh.shape[0], w0 + hl.shape[1]), np.nan)
        out[:h0, :w0] = mosaic
        out[: hl.shape[0], w0 : w0 + hl.shape[1]] = hl
        out[h0 : h0 + lh.shape[0], : lh.shape[1]] = lh
        out[h0 : h0 + hh.shape[0], w0 : w0 + hh.shape[1]] = hh
        mosaic = out
    return mosaic
