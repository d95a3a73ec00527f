"""Photographs for image-codec examples: the ones scikit-learn and scikit-image ship."""

from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

# scikit-image's bundled photographs (no download), in this order after scikit-learn's.
_SKIMAGE_PHOTOGRAPHS = ("camera", "astronaut", "coffee", "chelsea", "rocket")


def _luma(rgb):
    # JPEG's (ITU-R BT.601) luma, rounded to 8 bits.
    weights = np.array([0.299, 0.587, 0.114])
    return np.clip(np.rint(rgb[..., :3] @ weights), 0, 255).astype(np.uint8)


def _square(image, size):
    from PIL import Image

    h, w = image.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    crop = np.ascontiguousarray(image[top : top + side, left : left + side])
    if side != size:
        crop = np.asarray(Image.fromarray(crop).resize((size, size), Image.Resampling.LANCZOS))
    return crop


def load_photographs(*, size=256, color=False, include_skimage=True):
    """Natural photographs, cropped square and resized, for image-codec experiments.

    No download: scikit-learn's two sample images (``china.jpg`` and
    ``flower.jpg``, :func:`sklearn.datasets.load_sample_images`) and, when
    scikit-image is installed, five of the photographs it bundles
    (``camera``, ``astronaut``, ``coffee``, ``chelsea``, ``rocket``). Each is
    cut to its central square and resized to ``size x size`` with Pillow's
    Lanczos filter. scikit-learn's images were themselves stored as JPEG
    files (at a high quality): keep that in mind when comparing codecs at
    very high rates.

    Parameters
    ----------
    size : int, default=256
        Side of the square images, in pixels (at least 8).
    color : bool, default=False
        RGB images ``(n, size, size, 3)``, or gray ones ``(n, size, size)``
        (JPEG's BT.601 luma; ``camera`` is gray to begin with, and is
        repeated over three channels in colour).
    include_skimage : bool, default=True
        Add scikit-image's photographs when it is installed.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``images`` uint8, ``names`` (ndarray of str, one per image).

    Raises
    ------
    ImportError
        When Pillow (which scikit-learn needs to read its sample images) is
        not installed.

    Examples
    --------
    >>> from skcompress.datasets import load_photographs
    >>> photos = load_photographs(size=64, include_skimage=False)
    >>> photos.images.shape, photos.images.dtype, photos.names.tolist()
    ((2, 64, 64), dtype('uint8'), ['china', 'flower'])
    >>> load_photographs(size=32, color=True, include_skimage=False).images.shape
    (2, 32, 32, 3)
    """
    if not isinstance(size, (int, np.integer)) or isinstance(size, bool) or size < 8:
        raise ValueError(f"load_photographs: size must be an int >= 8; got {size!r}.")
    try:
        import PIL  # noqa: F401
    except ImportError as error:
        raise ImportError(
            "load_photographs needs Pillow (pip install Pillow) to read scikit-learn's "
            "sample images."
        ) from error
    from sklearn.datasets import load_sample_images

    samples = load_sample_images()
    names = [Path(name).stem for name in samples.filenames]
    images = list(samples.images)
    if include_skimage:
        try:
            import skimage.data
        except ImportError:
            pass
        else:
            for name in _SKIMAGE_PHOTOGRAPHS:
                images.append(getattr(skimage.data, name)())
                names.append(name)
    out = []
    for image in images:
        if image.ndim == 2 and color:
            image = np.repeat(image[..., np.newaxis], 3, axis=-1)
        elif image.ndim == 3 and not color:
            image = _luma(image)
        out.append(_square(image, int(size)))
    return Bunch(images=np.stack(out), names=np.array(names))
