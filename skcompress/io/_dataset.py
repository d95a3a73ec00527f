"""JPEG files as a data set for networks: one file's quantized coefficients an item."""

import operator
import os
import sys
import tempfile
import uuid
import warnings
import weakref
from numbers import Integral

import numpy as np
from joblib import Parallel, delayed
from sklearn.utils import Bunch

from .._core._basis import zigzag_order
from .._core._docs import fill_doc
from ._augment import crop_blocks, flip_horizontal
from ._folder import (
    _EXTENSIONS,
    _check_policy,
    _check_quality,
    folder_files,
    probe,
    reencode,
    unsupported_parameter,
)
from ._jpeg import (
    _TYPES,
    BUDGET_PARAMETERS,
    MAX_COEFFICIENTS,
    MAX_SCANS,
    _check_budget,
    _check_n_coefficients,
    _load,
    _read,
)

#: Luma sampling factors (vertical, horizontal) of each chroma subsampling.
_FACTORS = {"4:4:4": (1, 1), "4:2:2": (1, 2), "4:2:0": (2, 2)}
_LAYOUTS = ("channels_first", "blocks", "two_stream")
#: Files that fail one after the other before an item gives up.
_MAX_TRIES = 100


class _Skip(Exception):  # noqa: N818 (not an error: a file left out by the policy)
    """A file that ``unsupported="skip"`` leaves out."""


class _Refused(ValueError):
    """A file that ``unsupported="raise"`` refuses, whatever ``errors`` says."""


class JPEGDataset:
    """JPEG files as a data set: each item the quantized DCT coefficients of one file.

    A map-style data set (``len`` and indexing) that torch's ``DataLoader``
    takes with any ``num_workers``: every item is read when it is asked
    for, with libjpeg's entropy decoder only (no inverse DCT, no colour
    conversion, no upsampling), so a network learns from what the files
    store. Files are a folder of class folders, labelled as torchvision's
    ``ImageFolder`` labels them, or a list of paths with their labels.
    Where torch is installed the data set is also a
    ``torch.utils.data.Dataset`` (torch is imported when the first one is
    made, never by ``import skcompress.io``), which skorch's ``fit`` takes
    as it is.

    Parameters
    ----------
    files : str, path-like, or sequence of paths (or bytes)
        A folder ``files/<class>/**/<file>`` (classes: the sub-folder names
        in sorted order; files walked in sorted order), or the files.
    labels : array-like of shape (n_files,) or None, default=None
        Labels of a sequence of files: integers are kept, others (strings)
        become the index of their class in ``classes`` (sorted). None with a
        sequence: every item's label is -1.
    components : {"color", "luma"}, default="color"
        "color": Y, Cb and Cr, gray files promoted exactly (their chroma
        blocks are all zero: a colour JPEG of a gray image holds exactly
        that). "luma": the Y component only, read from colour files without
        decoding the others.
    layout : {"channels_first", "blocks", "two_stream"}, default="channels_first"
        An item's coefficients, as :class:`~skcompress.JPEGCodec` lays them
        out. For colour on JPEG's MCU grid: per minimum coded unit its
        ``v x h`` luma blocks in raster order, then Cb, then Cr, ``S = v h +
        2`` blocks (6 for 4:2:0, 3 for 4:4:4): "channels_first" ``(S k,
        H / (8 v), W / (8 h))`` (block slot slowest), "blocks" ``(H / (8 v),
        W / (8 h), S, k)``; for luma ``(k, H / 8, W / 8)`` and ``(H / 8, W /
        8, k)``. "two_stream" (colour only): a dict ``{"luma": (k, H / 8, W /
        8), "chroma": (2 k, H / (8 v), W / (8 h))}``, each stream at its own
        resolution, as the colour networks of Gueguen et al. (2018) take
        them; skorch passes a dict's entries to ``forward`` by name.
    n_coefficients : int in [1, 64] or None, default=None
        Keep the first ``n_coefficients`` (``k``) of every block in zig-zag
        order.
    dtype : {np.float32, np.float64, np.int16, np.int32}, default=np.float32
        Type of the coefficients (float32: what a torch network takes).
    dequantize : bool, default=False
        Coefficients times their quantization steps (a float ``dtype``).
    tables : bool, default=False
        Give the quantization steps with the coefficients: the item's ``X``
        is then a dict, ``"coefficients"`` and ``"tables"`` (for
        "two_stream": ``"luma"``, ``"chroma"``, ``"luma_tables"``,
        ``"chroma_tables"``), the tables laid out as the channels, so that
        ``X * tables[:, None, None]`` ("channels_first", ``(S k,)``) and
        ``X * tables`` ("blocks", ``(S, k)``) dequantize. Zig-zag order, X's
        dtype (int32 for integer coefficients). Promoted gray files have
        chroma steps of 1.
    subsampling : {"4:2:0", "4:2:2", "4:4:4"} or None, default=None
        Chroma subsampling of the colour items (the MCU grid); None: that of
        the first readable colour file (4:2:0 when there is none). Files of
        other sampling factors, and RGB-coded JPEGs, are converted, skipped
        or refused as ``unsupported`` says. Not used with
        ``components="luma"``.
    size : (int, int) or None, default=None
        Height and width in pixels of every item, whole MCUs (multiples of
        16 for 4:2:0, of 8 for luma and 4:4:4). Larger files are cropped at
        their centre on MCU boundaries (exact: whole blocks are kept), smaller
        ones centred and padded with zero blocks (mid-gray). None: every file
        has the size of the first readable file, and a file of another size
        is an error (``errors``). A batch needs one size: set ``size`` for
        files of several.
    random_crop : (int, int) or None, default=None
        Crop every item, after ``size``, to this many pixels (whole MCUs) at
        a random MCU-aligned place (:func:`~skcompress.io.crop_blocks`).
    random_flip : bool, default=False
        Mirror every item left to right with probability 1/2
        (:func:`~skcompress.io.flip_horizontal`: blocks in reverse order,
        odd horizontal frequencies negated; exact).
    transform : callable or None, default=None
        ``transform(jpeg, rng)`` of every item after the crop and flip,
        before the layout: ``jpeg`` is a Bunch as
        :func:`~skcompress.io.read_jpeg_coefficients` gives (per-component
        grids ``(rows, cols, k)`` in ``coefficients``,
        ``quantization_tables``, ``sampling_factors``, ``shape``), the
        image extended to whole MCUs, in the items' dtype; ``rng`` a numpy
        Generator of this data set. Returns such a Bunch: every function of
        :mod:`skcompress.io`'s augmentations takes and gives one
        (``lambda jpeg, rng: adjust_contrast(jpeg, rng.uniform(0.8,
        1.2))``). With ``num_workers``, it must pickle where workers are
        spawned rather than forked.
    random_state : int or None, default=None
        Seed of the items' randomness. Each process draws from its own
        generator: in a ``DataLoader`` worker it is seeded from
        ``random_state`` and the worker's seed (torch's, new every epoch:
        seed torch too, or pass the loader a ``generator``, for repeatable
        epochs); None draws fresh entropy.
    errors : {"skip", "raise"}, default="skip"
        A file that cannot be read (not an image, truncated or corrupt with
        ``strict``, over a budget, gone, of another size with
        ``size=None``): "skip" leaves it out and reports it (``skipped``,
        and a ``RuntimeWarning`` when found while iterating, where the item
        is the next readable file's); "raise" raises a ValueError naming it.
    {unsupported}
    quality : int in [1, 95], default=75
        libjpeg's quality of the images that ``unsupported="convert"``
        encodes (JPEG files keep their own tables).
    extensions : tuple of str, default=(".jpg", ".jpeg", ".jpe", ".jfif")
        File name endings of JPEG files in a folder; other image files (.png,
        .bmp, .gif, .tif, .tiff, .webp, .ppm, .pgm, .pbm) meet
        ``unsupported``, the rest is ignored.
    check : bool, default=True
        Read every file's header when the data set is made (cheap: no
        entropy decoding; on ``n_jobs`` threads), so files the policies
        leave out are left out of ``len`` and reported at once, and
        ``converted`` lists conversions. False defers everything to the
        items (no pass over a large set); only a file's entropy data
        (truncation, corruption) is always found at its item.
    strict : bool, default=True
        Refuse files with any flaw (see
        :func:`~skcompress.io.read_jpeg_coefficients`); False reads them as
        libjpeg and Pillow do.
    {budget}
    n_jobs : int or None, default=None
        Threads of ``check`` (joblib's convention).

    Attributes
    ----------
    files : list
        The files of the items, in order (those left out by ``check``
        removed).
    targets : ndarray of int64
        Their labels (torchvision's name).
    classes : list
        The class names (a folder's sub-folders), or the sorted labels.
    item_shape : tuple or dict
        Shape of an item's coefficients (a dict of the two streams').
    skipped, converted : list of (str, str)
        Files left out and files converted, with the reason: those found by
        ``check`` and, through a log file shared with the ``DataLoader``
        workers, those found while iterating.

    See Also
    --------
    load_jpeg_folder : a folder's paths and labels, for JPEGCoefficients.
    JPEGCoefficients : the coefficients of many files as one array.

    Notes
    -----
    **An item** is ``(X, y)``: ``X`` a numpy array (a dict of them for
    "two_stream" or ``tables``), ``y`` the label, an int. torch's default
    ``collate_fn`` stacks them into tensors; numpy items keep the data set
    usable without torch (a ``partial_fit`` loop).

    **What happens to each file**, with the default ``errors="skip"``
    (nothing stops an epoch):

    ==================================  =====================================
    file                                item
    ==================================  =====================================
    YCbCr JPEG, the items' sampling     read as it is
    gray JPEG, ``components="color"``   promoted: zero Cb and Cr blocks
    colour JPEG, ``components="luma"``  its Y blocks only
    other sampling; RGB-coded JPEG      ``unsupported``
    CMYK or YCCK JPEG                   ``unsupported``
    PNG, BMP, TIFF, WebP (16-bit too)   ``unsupported``
    12-bit JPEG, not an image           ``errors``
    truncated or corrupt (``strict``)   ``errors``
    over ``max_scans``, ``max_coeff.``  ``errors``
    another size, ``size=None``         ``errors``
    ==================================  =====================================

    **Training.** skorch's ``NeuralNet.fit(dataset, y=None)`` takes a torch
    data set of ``(X, y)`` items as it is (``iterator_train__num_workers``
    sets the loader's workers). A scikit-learn estimator with
    ``partial_fit`` learns from the batches of a ``DataLoader``::

        loader = DataLoader(dataset, batch_size=64, shuffle=True, num_workers=2)
        classes = np.unique(dataset.targets)
        for epoch in range(n_epochs):
            for X, y in loader:
                model.partial_fit(X.numpy().reshape(len(X), -1), y.numpy(), classes=classes)

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from skcompress.io import JPEGDataset, write_jpeg
    >>> folder = tempfile.mkdtemp()
    >>> rng = np.random.default_rng(0)
    >>> images = rng.integers(0, 256, (4, 32, 48, 3), dtype=np.uint8)
    >>> _ = write_jpeg(images, folder, labels=["cat", "dog", "cat", "dog"])
    >>> dataset = JPEGDataset(folder, n_coefficients=8)
    >>> len(dataset), dataset.classes
    (4, ['cat', 'dog'])
    >>> X, y = dataset[2]
    >>> X.shape, X.dtype, y  # 4:2:0: 6 blocks of 8 coefficients per 16 x 16 pixels
    ((48, 2, 3), dtype('float32'), 1)
    >>> streams, _ = JPEGDataset(folder, layout="two_stream")[0]
    >>> streams["luma"].shape, streams["chroma"].shape
    ((64, 4, 6), (128, 2, 3))

    In batches, with torch:

    >>> from torch.utils.data import DataLoader
    >>> X, y = next(iter(DataLoader(dataset, batch_size=4)))
    >>> tuple(X.shape), y.tolist()
    ((4, 48, 2, 3), [0, 0, 1, 1])
    """

    def __new__(cls, *args, **kwargs):
        if cls is JPEGDataset:
            cls = _torch_dataset_class() or cls
        return super().__new__(cls)

    def __init__(self, files, labels=None, *, components="color", layout="channels_first",
                 n_coefficients=None, dtype=np.float32, dequantize=False, tables=False,
                 subsampling=None, size=None, random_crop=None, random_flip=False,
                 transform=None, random_state=None, errors="skip", unsupported="convert",
                 quality=75, extensions=_EXTENSIONS, check=True, strict=True,
                 max_scans=MAX_SCANS, max_coefficients=MAX_COEFFICIENTS,
                 n_jobs=None):  # fmt: skip
        self.components = _option("components", components, ("color", "luma"))
        self.layout = _option("layout", layout, _LAYOUTS)
        if layout == "two_stream" and components == "luma":
            raise ValueError(
                "layout='two_stream' holds a luma and a chroma stream; with "
                "components='luma' use layout='channels_first' or 'blocks'."
            )
        self.n_coefficients = _check_n_coefficients(n_coefficients)
        self.dtype = _coefficient_dtype(dtype, dequantize)
        self.dequantize = bool(dequantize)
        self.tables = bool(tables)
        self.errors = _option("errors", errors, ("skip", "raise"))
        _check_policy(unsupported)
        self.unsupported = unsupported
        _check_quality(quality)
        self.quality = int(quality)
        self.strict = bool(strict)
        self.budget = _check_budget(max_scans, max_coefficients)
        if subsampling is not None:
            _option("subsampling", subsampling, tuple(_FACTORS))
        if transform is not None and not callable(transform):
            raise TypeError(f"transform must be a callable or None; got {transform!r}.")
        self.transform = transform
        self.random_flip = bool(random_flip)
        if random_state is not None and (
            isinstance(random_state, bool) or not isinstance(random_state, Integral)
        ):
            raise ValueError(f"random_state must be an int or None; got {random_state!r}.")
        self.random_state = random_state
        self._sources, targets, self.classes = _sources(files, labels, extensions)
        self._targets = np.asarray(targets, dtype=np.int64)
        self._skipped, self._converted = [], []
        self._log = os.path.join(
            tempfile.gettempdir(), f"skcompress-jpegdataset-{uuid.uuid4().hex}.log"
        )
        weakref.finalize(self, _remove, self._log, os.getpid())
        self._reported = set()
        self._rng, self._rng_pid, self._size_given = None, None, None
        self._direct = set()  # (colour space, sampling factors) of files read as they are

        first = self._first_readable(subsampling is None or size is None)
        if self.components == "luma":
            self.factors = (1, 1)
        elif subsampling is not None:
            self.factors = _FACTORS[subsampling]
        else:
            self.factors = first[0] if first and first[0] else _FACTORS["4:2:0"]
        self.size = first[1] if size is None else self._check_size("size", size)
        self.random_crop = None
        if random_crop is not None:
            self.random_crop = self._check_size("random_crop", random_crop)
            if any(c > s for c, s in zip(self.random_crop, self._whole(self.size), strict=True)):
                raise ValueError(
                    f"random_crop={tuple(random_crop)} is larger than the items "
                    f"({self.size[0]} x {self.size[1]} pixels); set size to at least it."
                )
        self._grid = self._mcus(self.size)  # the items' MCUs
        if check:
            self._check_all(n_jobs)
        if not self._sources:
            raise ValueError(
                "JPEGDataset: no file is left to read; skipped: "
                + "; ".join(reason for _, reason in self._skipped[:5])
            )

    # -- the public attributes -----------------------------------------------------------------

    @property
    def files(self):
        return [self._name(i) for i in range(len(self))]

    def _name(self, i):
        source = self._sources[i]
        return source if isinstance(source, str) else "<bytes>"

    @property
    def targets(self):
        return self._targets

    @property
    def skipped(self):
        return _merge(self._skipped, self._read_log("skipped"))

    @property
    def converted(self):
        return _merge(self._converted, self._read_log("converted"))

    @property
    def item_shape(self):
        k, (v, h) = self.n_coefficients, self.factors
        height, width = self.random_crop or self._whole(self.size)
        rows, cols = height // (8 * v), width // (8 * h)
        if self.components == "luma":
            return (k, rows, cols) if self.layout == "channels_first" else (rows, cols, k)
        slots = v * h + 2
        if self.layout == "channels_first":
            return (slots * k, rows, cols)
        if self.layout == "blocks":
            return (rows, cols, slots, k)
        return {"luma": (k, rows * v, cols * h), "chroma": (2 * k, rows, cols)}

    def __len__(self):
        return len(self._sources)

    def __repr__(self):
        return (
            f"JPEGDataset({len(self)} files, {len(self.classes)} classes, "
            f"components={self.components!r}, layout={self.layout!r}, "
            f"size={self.size})"
        )

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_rng"] = state["_rng_pid"] = None
        return state

    # -- items -----------------------------------------------------------------------------

    def __getitem__(self, index):
        n = len(self)
        index = operator.index(index)
        if not -n <= index < n:
            raise IndexError(f"JPEGDataset index {index} is out of range for {n} items.")
        index %= n
        for tried in range(min(n, _MAX_TRIES)):
            i = (index + tried) % n
            try:
                jpeg = self._read_file(i)
            except _Skip as reason:
                self._report("skipped", i, str(reason))
                continue
            except ValueError as error:
                if self.errors == "raise" or isinstance(error, _Refused):
                    raise
                self._report("skipped", i, str(error))
                continue
            return self._item(jpeg), int(self._targets[i])
        raise ValueError(
            f"JPEGDataset: {min(n, _MAX_TRIES)} files in a row from item {index} could not be "
            f"read; the last: {self._sources[i]!r}. See the data set's skipped."
        )

    def _item(self, jpeg):
        if self.random_crop is None and not self.random_flip and self.transform is None:
            return self._layout(jpeg)
        jpeg, rng = Bunch(**jpeg), self._generator()
        if self.random_crop is not None:
            (rows, cols), (height, width) = self._mcus(jpeg.shape), self._mcus(self.random_crop)
            top, left = rng.integers(rows - height + 1), rng.integers(cols - width + 1)
            jpeg = crop_blocks(jpeg, int(top), int(left), height, width)
        if self.random_flip and rng.random() < 0.5:
            jpeg = flip_horizontal(jpeg)
        if self.transform is not None:
            jpeg = self.transform(jpeg, self._generator())
        return self._layout(jpeg)

    def _read_file(self, i):
        """The coefficients of file ``i`` as the items take them, before the augmentations."""
        data, name = _load(self._sources[i])
        kind, found = probe(data, name, self.strict, self.budget)
        reason = found[0] if kind == "other" else self._conversion(found, name)
        if reason is not None:
            if self.unsupported == "raise":
                raise _Refused(f"{reason}; set unsupported='convert' or 'skip'.")
            if self.unsupported == "skip":
                raise _Skip(reason)
            data = reencode(
                data,
                name,
                gray=self.components == "luma",
                subsampling=_subsampling(self.factors),
                quality=self.quality,
            )
            self._report("converted", i, reason)
            kind, found = probe(data, name, self.strict, self.budget)
        width, height, space, components = found
        if self._fixed_size is None and (height, width) != self.size:
            raise ValueError(
                f"{name}: {height} x {width} pixels, not the {self.size[0]} x {self.size[1]} "
                "of the first file; set size=(height, width) to crop or pad every file."
            )
        k, dtype = self.n_coefficients, self.dtype
        n_read = 1 if self.components == "luma" or space == "grayscale" else 3
        grids = [(rows, cols) for *_, rows, cols, _ in components]
        planes = [np.empty((*g, k), dtype=dtype) for g in grids[:n_read]]
        tables = np.empty((len(components), 8, 8), dtype=np.uint16)
        _read(
            data,
            name,
            tuple(_address(p) for p in planes) + (0,) * (len(grids) - n_read),
            tuple(grids[:n_read]) + ((0, 0),) * (len(grids) - n_read),
            k,
            dtype,
            self.dequantize,
            self.strict,
            self.budget,
            _address(tables),
        )
        tables = tables[:n_read]
        (v, h), luma = self.factors, planes[0]
        if len(planes) == 3:
            mcu_rows, mcu_cols = planes[1].shape[:2]
        else:
            mcu_rows, mcu_cols = -(-luma.shape[0] // v), -(-luma.shape[1] // h)
        if self.components == "color" and n_read == 1:  # gray: chroma blocks are zero
            chroma = np.zeros((mcu_rows, mcu_cols, k), dtype=dtype)
            planes += [chroma, chroma.copy()]
            tables = np.concatenate([tables, np.ones((2, 8, 8), dtype=np.uint16)])
        planes[0] = _whole_mcus(luma, v, h, mcu_rows, mcu_cols)
        planes = self._fit(planes, (mcu_rows, mcu_cols))
        factors = [(v, h), (1, 1), (1, 1)][: len(planes)]
        return dict(  # a Bunch for the augmentations (building one costs)
            coefficients=planes,
            quantization_tables=tables,
            sampling_factors=np.array(factors),
            shape=(len(planes[-1]) * 8 * v, planes[-1].shape[1] * 8 * h),
            components=("Y", "Cb", "Cr")[: len(planes)],
            color_space="YCbCr" if len(planes) == 3 else "grayscale",
        )

    def _conversion(self, header, name):
        """Why a readable JPEG must be converted for the items, or None."""
        _, _, space, components = header
        signature = (space, tuple(c[1:3] for c in components))
        if space == "grayscale" or signature in self._direct:
            return None
        if space != "YCbCr":
            return f"{name}: an {space}-coded JPEG (no luma component)"
        factors = np.array([(v, h) for _, h, v, *_ in components])
        if (factors[0] != factors.max(axis=0)).any():
            return f"{name}: a JPEG whose chroma is sampled finer than its luma"
        found = _effective(factors)
        if self.components == "color" and found != self.factors:
            text = _subsampling(found) or f"sampling factors {factors.tolist()}"
            return (
                f"{name}: chroma subsampling {text}, not the {_subsampling(self.factors)} of "
                "the items"
            )
        self._direct.add(signature)  # read as it is: the next files of these factors skip this
        return None

    def _fit(self, planes, grid):
        """``planes`` (whole MCUs) cropped at their centre or padded to the items' MCUs."""
        target = self._grid
        if tuple(grid) == target:
            return planes
        (v, h), out = self.factors, []
        for c, plane in enumerate(planes):
            f = (v, h) if c == 0 else (1, 1)
            source, dest = [], []
            for have, want, m in zip(grid, target, f, strict=True):
                start = abs(have - want) // 2 * m
                span = min(have, want) * m
                inner = slice(start, start + span)
                source.append(inner if have > want else slice(0, span))
                dest.append(inner if have < want else slice(0, span))
            fitted = np.zeros((target[0] * f[0], target[1] * f[1], plane.shape[2]), plane.dtype)
            fitted[tuple(dest)] = plane[tuple(source)]
            out.append(fitted)
        return out

    def _layout(self, jpeg):
        """The item's X from the component grids (one copy, block slot by block slot)."""
        planes = list(jpeg["coefficients"])
        tables = np.asarray(jpeg["quantization_tables"])
        k, dtype, read = planes[0].shape[-1], self.dtype, planes[0].dtype
        steps = tables.reshape(len(tables), 64)[:, zigzag_order(8)[:k]]
        steps = steps.astype(dtype if dtype.kind == "f" else np.int32)
        first = self.layout == "channels_first"
        if len(planes) == 1:
            X = planes[0].transpose(2, 0, 1) if first else planes[0]
            X = X.astype(dtype, order="C")
            return {"coefficients": X, "tables": steps[0]} if self.tables else X
        (v, h), chroma = self.factors, planes[1:]
        rows, cols = chroma[0].shape[:2]
        luma = _whole_mcus(planes[0], v, h, rows, cols)
        if self.layout == "two_stream":
            both = np.empty((2, k, rows, cols), dtype=read)
            for c, plane in enumerate(chroma):
                both[c] = plane.transpose(2, 0, 1)
            X = {
                "luma": luma.transpose(2, 0, 1).astype(dtype, order="C"),
                "chroma": both.reshape(-1, rows, cols).astype(dtype, copy=False),
            }
            if self.tables:
                X["luma_tables"], X["chroma_tables"] = steps[0], steps[1:].ravel()
            return X
        # JPEGCodec's MCU layouts: the v x h luma blocks of each MCU, then Cb, then Cr
        slots = [luma.reshape(rows, v, cols, h, k)[:, a, :, b] for a in range(v) for b in range(h)]
        slots += chroma
        if first:
            X = np.empty((len(slots), k, rows, cols), dtype=read)
            for j, plane in enumerate(slots):
                X[j] = plane.transpose(2, 0, 1)
            X = X.reshape(-1, rows, cols)
        else:
            X = np.empty((rows, cols, len(slots), k), dtype=read)
            for j, plane in enumerate(slots):
                X[:, :, j] = plane
        X = X.astype(dtype, copy=False)
        steps = steps[[0] * (v * h) + [1, 2]]
        if self.tables:
            return {"coefficients": X, "tables": steps.ravel() if first else steps}
        return X

    # -- sizes -----------------------------------------------------------------------------

    @property
    def _fixed_size(self):
        return self._size_given

    def _mcu_pixels(self):
        v, h = self.factors
        return 8 * v, 8 * h

    def _mcus(self, size):
        return tuple(-(-s // m) for s, m in zip(size, self._mcu_pixels(), strict=True))

    def _whole(self, size):
        """``size`` extended to whole MCUs."""
        return tuple(n * m for n, m in zip(self._mcus(size), self._mcu_pixels(), strict=True))

    def _check_size(self, name, size):
        mcu = self._mcu_pixels()
        try:
            pair = tuple(operator.index(s) for s in size)
        except TypeError:
            pair = ()
        if len(pair) != 2 or any(p < m or p % m for p, m in zip(pair, mcu, strict=True)):
            raise ValueError(
                f"{name} must be (height, width) in pixels, whole minimum coded units of "
                f"{mcu[0]} x {mcu[1]} pixels here; got {size!r}."
            )
        if name == "size":
            self._size_given = pair
        return pair

    # -- the files -----------------------------------------------------------------------------

    def _first_readable(self, needed):
        """``(luma factors or None, (height, width))`` of the first file that probes."""
        if not needed:
            return None
        for source in self._sources:
            try:
                data, name = _load(source)
                kind, found = probe(data, name, self.strict, self.budget)
            except ValueError:
                continue
            if kind == "other":
                return None, (found[2], found[1])
            width, height, space, components = found
            factors = np.array([(v, h) for _, h, v, *_ in components])
            effective = _effective(factors) if space == "YCbCr" else None
            return (effective if _subsampling(effective) else None), (height, width)
        raise ValueError("JPEGDataset: no file can be read; the first: " + repr(self._sources[0]))

    def _check_all(self, n_jobs):
        def check(source):
            try:
                data, name = _load(source)
                kind, found = probe(data, name, self.strict, self.budget)
            except ValueError as error:
                return "error", str(error)
            if kind == "other":
                reason, width, height = found
            else:
                width, height, *_ = found
                reason = self._conversion(found, name)
            if self._fixed_size is None and (height, width) != self.size:
                return "error", (
                    f"{name}: {height} x {width} pixels, not the {self.size[0]} x "
                    f"{self.size[1]} of the first file; set size=(height, width) to crop or "
                    "pad every file."
                )
            return ("convert", reason) if reason else ("ok", None)

        found = Parallel(n_jobs=n_jobs, prefer="threads")(delayed(check)(s) for s in self._sources)
        keep = []
        for i, (status, reason) in enumerate(found):
            if status == "error":
                if self.errors == "raise":
                    raise ValueError(reason)
                self._skipped.append((self._name(i), reason))
            elif status == "convert" and self.unsupported != "convert":
                if self.unsupported == "raise":
                    raise ValueError(f"{reason}; set unsupported='convert' or 'skip'.")
                self._skipped.append((self._name(i), reason))
            else:
                if status == "convert":
                    self._converted.append((self._name(i), reason))
                    self._reported.add(("converted", len(keep)))
                keep.append(i)
        self._sources = [self._sources[i] for i in keep]
        self._targets = self._targets[keep]

    # -- reports and randomness ------------------------------------------------------------------

    def _report(self, what, i, reason):
        if (what, i) in self._reported:
            return
        self._reported.add((what, i))
        line = f"{what}\t{self._name(i)}\t{' '.join(reason.split())}\n"
        with open(self._log, "a", encoding="utf-8") as log:
            log.write(line)
        if what == "skipped":
            warnings.warn(
                f"JPEGDataset skipped {reason} (its item is the next readable file's)",
                RuntimeWarning,
                stacklevel=3,
            )

    def _read_log(self, what):
        try:
            with open(self._log, encoding="utf-8") as log:
                lines = [line.rstrip("\n").split("\t") for line in log]
        except FileNotFoundError:
            return []
        return [(path, reason) for kind, path, reason in lines if kind == what]

    def _generator(self):
        if self._rng_pid != os.getpid():
            seed = None if self.random_state is None else [int(self.random_state)]
            torch = sys.modules.get("torch")
            info = torch.utils.data.get_worker_info() if torch is not None else None
            if seed is not None and info is not None:
                seed.append(int(info.seed))
            self._rng, self._rng_pid = np.random.default_rng(seed), os.getpid()
        return self._rng


_MORE = (
    ", JPEGs of other sampling factors than the items' and RGB-coded ones (gray files "
    "promoted and the luma of colour files are read, not converted)"
)
JPEGDataset.__doc__ = fill_doc(
    JPEGDataset.__doc__,
    {"{budget}": BUDGET_PARAMETERS, "{unsupported}": unsupported_parameter("convert", _MORE)},
)


# -- helpers ---------------------------------------------------------------------------------


def _address(array):
    return array.__array_interface__["data"][0]


def _option(name, value, options):
    if value not in options:
        raise ValueError(f"{name} must be one of {list(options)}; got {value!r}.")
    return value


def _coefficient_dtype(dtype, dequantize):
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        dtype = None
    if dtype not in _TYPES or (dequantize and dtype.kind != "f"):
        kinds = "float32 or float64" if dequantize else "float32, float64, int16 or int32"
        raise ValueError(
            f"dtype must be {kinds}{' with dequantize=True' if dequantize else ''}; got {dtype}."
        )
    return dtype


def _sources(files, labels, extensions):
    """``(sources, targets, classes)`` of a folder or a sequence of files."""
    if isinstance(files, str | os.PathLike) and os.path.isdir(files):
        if labels is not None:
            raise ValueError(
                "labels are the class folders' names for a folder; give labels only with a "
                "sequence of files."
            )
        paths, targets, classes = folder_files(files, extensions, "JPEGDataset")
        return paths, targets, classes
    if isinstance(files, str | os.PathLike | bytes):
        raise ValueError(
            f"files must be a folder or a sequence of files; got {files!r}, which is not a "
            "folder (wrap a single file in a list)."
        )
    sources = [os.fspath(f) if isinstance(f, os.PathLike) else f for f in files]
    if not sources:
        raise ValueError("JPEGDataset needs at least one file; got an empty sequence.")
    if labels is None:
        return sources, [-1] * len(sources), []
    labels = np.asarray(labels)
    if labels.shape != (len(sources),):
        raise ValueError(
            f"labels must have one entry per file ({len(sources)}); got shape {labels.shape}."
        )
    classes, targets = np.unique(labels, return_inverse=True)
    if labels.dtype.kind in "iu":
        targets = labels
    return sources, targets, classes.tolist()


def _effective(factors):
    """Luma factors (v, h) relative to equal chroma factors that divide them, or None."""
    if len(factors) != 3 or (factors[1] != factors[2]).any() or (factors[0] % factors[1]).any():
        return None
    return tuple(int(f) for f in factors[0] // factors[1])


def _subsampling(factors):
    return {f: name for name, f in _FACTORS.items()}.get(factors)


def _whole_mcus(luma, v, h, mcu_rows, mcu_cols):
    """Luma blocks extended to whole MCUs with what libjpeg codes there (its dummy blocks:
    AC 0, the DC of the block coded before it in the MCU), as JPEGCodec's layouts show them."""
    rows, cols, k = luma.shape
    if (rows, cols) == (mcu_rows * v, mcu_cols * h):
        return luma
    padded = np.zeros((mcu_rows * v, mcu_cols * h, k), dtype=luma.dtype)
    padded[:rows, :cols] = luma
    padded[:rows, cols:, 0] = luma[:, cols - 1 :, 0]
    ends = padded[rows - 1, h - 1 :: h, 0]  # last block of each MCU's last real row
    padded[rows:, :, 0] = np.repeat(ends, h)[None, :]
    return padded


def _merge(*lists):
    seen, out = set(), []
    for entry in (tuple(e) for entries in lists for e in entries):
        if entry not in seen:
            seen.add(entry)
            out.append(entry)
    return out


def _remove(path, owner):
    if os.getpid() == owner:
        try:
            os.remove(path)
        except OSError:
            pass


_TORCH_CLASS = []


def _torch_dataset_class():
    """JPEGDataset made a ``torch.utils.data.Dataset`` too, or None without torch."""
    if not _TORCH_CLASS:
        try:
            from torch.utils.data import Dataset
        except ImportError:
            _TORCH_CLASS.append(None)
        else:
            _TORCH_CLASS.append(
                type(
                    "JPEGDataset",
                    (JPEGDataset, Dataset),
                    {
                        "__module__": __name__,
                        "__qualname__": "_TorchJPEGDataset",
                        "__doc__": JPEGDataset.__doc__,
                    },  # fmt: skip
                )
            )
    return _TORCH_CLASS[0]


def __getattr__(name):
    # unpickling in a spawned DataLoader worker finds the torch class by this name
    if name == "_TorchJPEGDataset" and _torch_dataset_class() is not None:
        return _torch_dataset_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
