"""Folders of JPEG files as data sets, and a writer to make them."""

import io
import os
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed
from sklearn.utils import Bunch

from .._core._docs import fill_doc
from ._jpeg import BUDGET_PARAMETERS, MAX_COEFFICIENTS, MAX_SCANS, _check_budget, _header, _load

_EXTENSIONS = (".jpg", ".jpeg", ".jpe", ".jfif")
_SUBSAMPLING = {"4:4:4": 0, "4:2:2": 1, "4:2:0": 2}


def load_jpeg_folder(root, *, extensions=_EXTENSIONS, errors="raise", strict=True,
                     max_scans=MAX_SCANS, max_coefficients=MAX_COEFFICIENTS,
                     n_jobs=None):  # fmt: skip
    """Paths and labels of a folder of JPEG files, one sub-folder per class.

    The layout of torchvision's ``ImageFolder``: ``root/<class>/<file>.jpg``.
    Classes are the sub-folder names in sorted order; files are sorted within
    each. Every file's header is checked (cheap: no entropy decoding) as
    :class:`~skcompress.io.JPEGCoefficients` with the same ``strict``,
    ``max_scans`` and ``max_coefficients`` will read it, on ``n_jobs``
    threads.

    Parameters
    ----------
    root : str or path-like
    extensions : tuple of str, default=(".jpg", ".jpeg", ".jpe", ".jfif")
        File name endings taken (case-insensitive); other files are ignored.
    errors : {"raise", "skip"}, default="raise"
        A file whose header is not a readable JPEG, or is over a budget,
        raises a ValueError naming it, or is left out and reported in
        ``skipped``.
    strict : bool, default=True
        Refuse headers that libjpeg warns about (stray bytes between
        markers), and Huffman-coded files too short for the blocks they
        declare; False checks them as libjpeg and Pillow read them.
    {budget}
    n_jobs : int or None, default=None
        Threads checking headers (joblib's convention).

    Returns
    -------
    data : Bunch
        ``filenames`` (ndarray of str), ``target`` (ndarray of int),
        ``target_names`` (the class folders), ``skipped`` (list of ``(path,
        reason)``).

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from skcompress.io import load_jpeg_folder, write_jpeg
    >>> folder = tempfile.mkdtemp()
    >>> images = np.zeros((4, 16, 16), dtype=np.uint8)
    >>> _ = write_jpeg(images, folder, labels=["cat", "dog", "cat", "dog"])
    >>> data = load_jpeg_folder(folder)
    >>> data.target.tolist(), data.target_names
    ([0, 0, 1, 1], ['cat', 'dog'])
    """
    if errors not in ("raise", "skip"):
        raise ValueError(f"errors must be 'raise' or 'skip'; got {errors!r}.")
    budget = _check_budget(max_scans, max_coefficients)
    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"load_jpeg_folder: {os.fspath(root)!r} is not a directory.")
    names = sorted(p.name for p in root.iterdir() if p.is_dir())
    endings = tuple(e.lower() for e in extensions)
    paths, target = [], []
    for label, name in enumerate(names):
        files = sorted(p for p in (root / name).iterdir() if p.name.lower().endswith(endings))
        paths += [os.fspath(p) for p in files]
        target += [label] * len(files)
    if not paths:
        raise ValueError(
            f"load_jpeg_folder: no files ending in {extensions} in the sub-folders of "
            f"{os.fspath(root)!r}."
        )
    reasons = Parallel(n_jobs=n_jobs, prefer="threads")(
        delayed(_check)(p, bool(strict), budget) for p in paths
    )
    skipped = [(p, r) for p, r in zip(paths, reasons, strict=True) if r is not None]
    if skipped and errors == "raise":
        raise ValueError(skipped[0][1])
    keep = np.array([r is None for r in reasons])
    return Bunch(
        filenames=np.asarray(paths, dtype=object)[keep],
        target=np.asarray(target, dtype=np.int64)[keep],
        target_names=names,
        skipped=skipped,
    )


load_jpeg_folder.__doc__ = fill_doc(load_jpeg_folder.__doc__, {"{budget}": BUDGET_PARAMETERS})


def _check(path, strict, budget):
    try:
        _header(*_load(path), strict, *budget)
    except ValueError as error:
        return str(error)
    return None


def write_jpeg(images, directory, *, labels=None, quality=75, subsampling="4:2:0",
               progressive=False, optimize=False, prefix="image"):  # fmt: skip
    """Write a batch of images as JPEG files (Pillow, libjpeg-turbo).

    Parameters
    ----------
    images : array-like of uint8, shape (n, H, W) or (n, H, W, 3)
        Gray or RGB images.
    directory : str or path-like
        Created if missing. With ``labels``, one sub-folder per label (the
        layout :func:`load_jpeg_folder` reads).
    labels : array-like of shape (n,) or None, default=None
    quality : int in [1, 95], default=75
        libjpeg's quality (IJG scaling of the Annex K tables).
    subsampling : {"4:4:4", "4:2:2", "4:2:0"}, default="4:2:0"
        Chroma subsampling of RGB images.
    progressive, optimize : bool, default=False
        Progressive scans; optimized Huffman tables.
    prefix : str, default="image"
        Files are ``<prefix><index>.jpg``, the index zero-padded.

    Returns
    -------
    paths : list of str
        One per image, in order.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> paths = write_jpeg(np.zeros((2, 8, 8), np.uint8), tempfile.mkdtemp(), quality=90)
    >>> [p.rsplit("/", 1)[-1] for p in paths]
    ['image0.jpg', 'image1.jpg']
    """
    from PIL import Image

    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim not in (3, 4) or (
        images.ndim == 4 and images.shape[-1] != 3
    ):  # fmt: skip
        raise ValueError(
            "write_jpeg expects uint8 images (n, H, W) or (n, H, W, 3); got dtype "
            f"{images.dtype} and shape {images.shape}."
        )
    if not 1 <= int(quality) <= 95:
        raise ValueError(f"quality must be in [1, 95] (libjpeg's useful range); got {quality}.")
    if subsampling not in _SUBSAMPLING:
        raise ValueError(f"subsampling must be one of {list(_SUBSAMPLING)}; got {subsampling!r}.")
    if labels is not None and len(labels) != len(images):
        raise ValueError(f"labels has {len(labels)} entries for {len(images)} images.")
    directory = Path(directory)
    width = len(str(max(len(images) - 1, 0)))
    paths = []
    for i, image in enumerate(images):
        folder = directory if labels is None else directory / str(labels[i])
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{prefix}{i:0{width}d}.jpg"
        buffer = io.BytesIO()
        Image.fromarray(image).save(
            buffer,
            "JPEG",
            quality=int(quality),
            subsampling=_SUBSAMPLING[subsampling],
            progressive=progressive,
            optimize=optimize,
        )
        path.write_bytes(buffer.getvalue())
        paths.append(os.fspath(path))
    return paths
