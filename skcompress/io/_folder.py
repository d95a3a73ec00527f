"""Folders of JPEG files as data sets, and a writer to make them."""

import io
import os
import textwrap
import warnings
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed
from sklearn.utils import Bunch

from .._core._docs import fill_doc
from ._jpeg import (
    _COLOR_SPACES,
    BUDGET_PARAMETERS,
    MAX_COEFFICIENTS,
    MAX_SCANS,
    _check_budget,
    _load,
    _reader,
)

_EXTENSIONS = (".jpg", ".jpeg", ".jpe", ".jfif")
#: Other image files (torchvision's ``IMG_EXTENSIONS`` and a few more): handled by ``unsupported``.
_IMAGE_EXTENSIONS = (".png", ".ppm", ".pgm", ".pbm", ".bmp", ".gif", ".tif", ".tiff", ".webp")
_SUBSAMPLING = {"4:4:4": 0, "4:2:2": 1, "4:2:0": 2}
_POLICIES = ("skip", "raise", "convert")
_SIXTEEN_BIT = ("I;16", "I;16B", "I;16L", "I;16N", "I")


def unsupported_parameter(default, more=""):
    """The docstring entry of ``unsupported`` with its ``default`` (and ``more`` said)."""
    text = (
        "Image files that Pillow reads but the JPEG reader does not take as they are: "
        f"other formats (PNG, BMP, TIFF, WebP, ...; 16-bit ones too) and CMYK or YCCK "
        f'JPEGs{more}. "skip" leaves them out and lists them in ``skipped``; "raise" '
        'raises a ValueError naming the file; "convert" decodes them with Pillow as '
        'torchvision\'s loader does (``convert("RGB")``, or ``"L"``; 16-bit samples '
        "scaled to 8 bits) and re-encodes them as baseline JPEG data at ``quality`` (a JPEG "
        "keeps its own quantization tables), listing them in ``converted``. Pillow is needed "
        "to tell these files from broken ones."
    )
    entry = f'unsupported : {{"skip", "raise", "convert"}}, default="{default}"\n'
    return entry + textwrap.indent(textwrap.fill(text, 74), "    ") + "\n"


def load_jpeg_folder(root, *, extensions=_EXTENSIONS, errors="raise", unsupported="skip",
                     quality=75, strict=True, max_scans=MAX_SCANS,
                     max_coefficients=MAX_COEFFICIENTS, n_jobs=None):  # fmt: skip
    """Paths and labels of a folder of JPEG files, one sub-folder per class.

    The layout of torchvision's ``ImageFolder``: ``root/<class>/**/<file>``.
    Classes are the sub-folder names in sorted order; files are walked in
    sorted order within each. Files ending in ``extensions`` are read as
    JPEG, other image files (.png, .bmp, .gif, .tif, .tiff, .webp, .ppm,
    .pgm, .pbm) are handled by ``unsupported``, the rest is ignored. Every
    file's header is checked (cheap: no entropy decoding) as
    :class:`~skcompress.io.JPEGCoefficients` with the same ``strict``,
    ``max_scans`` and ``max_coefficients`` will read it, on ``n_jobs``
    threads.

    Parameters
    ----------
    root : str or path-like
    extensions : tuple of str, default=(".jpg", ".jpeg", ".jpe", ".jfif")
        File name endings of JPEG files (case-insensitive).
    errors : {"raise", "skip"}, default="raise"
        A file that is not a readable image, or is over a budget, raises a
        ValueError naming it, or is left out and reported in ``skipped``.
    {unsupported}
    quality : int in [1, 95], default=75
        libjpeg's quality of the files that ``unsupported="convert"``
        re-encodes (JPEG files keep their own tables).
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
        ``target_names`` (the class folders), ``sources`` (what to give
        :class:`~skcompress.io.JPEGCoefficients`: the paths, with the JPEG
        bytes of the converted files in place of theirs), ``skipped`` and
        ``converted`` (lists of ``(path, reason)``).

    See Also
    --------
    JPEGDataset : the same folders as a torch data set, item by item.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from PIL import Image
    >>> from skcompress.io import load_jpeg_folder, write_jpeg
    >>> folder = tempfile.mkdtemp()
    >>> images = np.zeros((4, 16, 16), dtype=np.uint8)
    >>> _ = write_jpeg(images, folder, labels=["cat", "dog", "cat", "dog"])
    >>> data = load_jpeg_folder(folder)
    >>> data.target.tolist(), data.target_names
    ([0, 0, 1, 1], ['cat', 'dog'])
    >>> Image.new("RGB", (16, 16)).save(f"{folder}/dog/extra.png")
    >>> [reason.split(": ")[1] for _, reason in load_jpeg_folder(folder).skipped]
    ['a PNG image (RGB), not a JPEG']
    >>> load_jpeg_folder(folder, unsupported="convert").target.tolist()
    [0, 0, 1, 1, 1]
    """
    if errors not in ("raise", "skip"):
        raise ValueError(f"errors must be 'raise' or 'skip'; got {errors!r}.")
    _check_policy(unsupported)
    _check_quality(quality)
    budget = _check_budget(max_scans, max_coefficients)
    paths, target, names = folder_files(root, extensions, "load_jpeg_folder")

    def check(path):
        try:
            data, name = _load(path)
            kind, found = probe(data, name, bool(strict), budget)
            if kind == "jpeg":
                return path, None
            what = found[0]
            if unsupported == "raise":
                raise ValueError(f"{what}; set unsupported='convert' or 'skip'.")
            if unsupported == "skip":
                return None, what
            return reencode(data, name, gray=None, subsampling="4:2:0", quality=quality), what
        except ValueError as error:
            if errors == "raise":
                raise
            return None, str(error)

    checked = Parallel(n_jobs=n_jobs, prefer="threads")(delayed(check)(p) for p in paths)
    keep = np.array([source is not None for source, _ in checked])
    sources = np.empty(int(keep.sum()), dtype=object)
    sources[:] = [source for source, _ in checked if source is not None]
    return Bunch(
        filenames=np.asarray(paths, dtype=object)[keep],
        target=np.asarray(target, dtype=np.int64)[keep],
        target_names=names,
        sources=sources,
        skipped=[(p, r) for p, (s, r) in zip(paths, checked, strict=True) if s is None],
        converted=[(p, r) for p, (s, r) in zip(paths, checked, strict=True) if s and r],
    )


load_jpeg_folder.__doc__ = fill_doc(
    load_jpeg_folder.__doc__,
    {"{budget}": BUDGET_PARAMETERS, "{unsupported}": unsupported_parameter("skip")},
)


def _check_policy(unsupported):
    if unsupported not in _POLICIES:
        raise ValueError(f"unsupported must be one of {list(_POLICIES)}; got {unsupported!r}.")


def _check_quality(quality):
    if isinstance(quality, bool) or not isinstance(quality, int | np.integer) or not (
        1 <= quality <= 95
    ):  # fmt: skip
        raise ValueError(f"quality must be an int in [1, 95]; got {quality!r}.")


def folder_files(root, extensions, caller):
    """``(paths, target, class names)`` of an image-folder tree, as torchvision walks it."""
    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"{caller}: {os.fspath(root)!r} is not a directory.")
    names = sorted(p.name for p in root.iterdir() if p.is_dir())
    jpeg = tuple(e.lower() for e in extensions)
    endings = jpeg + tuple(e for e in _IMAGE_EXTENSIONS if e not in jpeg)
    paths, target = [], []
    for label, name in enumerate(names):
        for folder, _, files in sorted(os.walk(root / name, followlinks=True)):
            found = [os.path.join(folder, f) for f in sorted(files)]
            found = [f for f in found if f.lower().endswith(endings)]
            paths += found
            target += [label] * len(found)
    if not paths:
        raise ValueError(
            f"{caller}: no files ending in {endings} in the sub-folders of {os.fspath(root)!r}."
        )
    return paths, target, names


def probe(data, name, strict, budget):
    """What a file is, from its header: ``("jpeg", header)`` or ``("other", found)``.

    ``header`` is ``(width, height, colour space, components)`` as the
    reader gives them; ``found`` is ``(what, width, height)`` for an image
    that Pillow reads and the reader does not take as it is (another format,
    CMYK), ``what`` saying so. Anything else, a file over a budget included,
    is a ValueError naming the file.
    """
    reader = _reader()
    try:
        width, height, space, _, components = reader.header(data, strict, *budget)
    except reader.LimitError as error:
        raise ValueError(f"{name}: {error}.") from None
    except ValueError as error:
        refusal = f"{name}: not a readable JPEG file ({error})."
    else:
        return "jpeg", (width, height, _COLOR_SPACES.get(space, "unknown"), components)
    found = _identify(data, name)
    if found is None:
        raise ValueError(refusal)
    kind, mode, (width, height), bands = found
    if width * height * bands > budget[1]:
        raise ValueError(
            f"{name}: a {kind} image of {width} x {height} pixels and {bands} channels, more "
            f"than max_coefficients={budget[1]} values; raise max_coefficients to read it."
        )
    what = f"a {mode} JPEG" if kind == "JPEG" else f"a {kind} image ({mode}), not a JPEG"
    return "other", (f"{name}: {what}", width, height)


def _identify(data, name):
    """``(format, mode, size, bands)`` of an image that the reader refused and Pillow reads."""
    try:
        from PIL import Image
    except ImportError:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                found = image.format, image.mode, image.size, len(image.getbands())
    except Image.DecompressionBombError as error:
        if data[:2] == b"\xff\xd8":  # a JPEG: the reader's refusal says more
            return None
        raise ValueError(f"{name}: {error}") from None
    except Exception:  # noqa: BLE001 (whatever Pillow raises, the file is not an image it reads)
        return None
    # a JPEG of 1 or 3 components that the reader refused is broken, not of another kind
    return None if found[0] == "JPEG" and found[1] in ("L", "RGB") else found


def reencode(data, name, *, gray, subsampling, quality):
    """JPEG bytes of an image Pillow reads, decoded as torchvision's loader does.

    ``gray``: True for a gray file, False for RGB, None to keep the image's
    kind (gray modes stay gray). A JPEG keeps its first quantization tables;
    other images take ``quality``.
    """
    try:
        from PIL import Image
    except ImportError:
        raise ImportError(
            'converting images to JPEG needs Pillow: pip install "skcompress[jpeg]".'
        ) from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                tables = getattr(image, "quantization", None) if image.format == "JPEG" else None
                if gray is None:
                    gray = image.mode in ("1", "L", "LA", "F", *_SIXTEEN_BIT)
                if image.mode in _SIXTEEN_BIT:
                    wide = np.clip(np.asarray(image, dtype=np.int64), 0, 65535)
                    image = Image.fromarray(((wide + 128) // 257).astype(np.uint8))
                elif image.mode == "F":
                    raise ValueError("float samples (mode F) have no 8-bit scale")
                pixels = image.convert("L" if gray else "RGB")
    except ValueError as error:
        raise ValueError(f"{name}: cannot convert it to JPEG ({error}).") from None
    except Exception as error:  # noqa: BLE001 (Pillow's decoders raise OSError, SyntaxError...)
        raise ValueError(f"{name}: Pillow cannot decode it ({error}).") from None
    if tables:
        tables = [tables[key] for key in sorted(tables)][: 1 if gray else 2]
        options = {"qtables": tables * (1 if gray else 3 - len(tables))}
    else:
        options = {"quality": int(quality)}
    buffer = io.BytesIO()
    pixels.save(buffer, "JPEG", subsampling=_SUBSAMPLING[subsampling], **options)
    return buffer.getvalue()


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
