"""What a step's output is, carried with the array, so that the next step reads it right.

A transform's "flat" output is a plain 2-D table to scikit-learn, but the next
skcompress step must know more: that these are YCbCr images 32 pixels square,
or 8x8 block-DCT coefficients of which each block keeps 16 in zig-zag order.
Repeating that by hand (``layout``, ``n_coefficients``, ``order``, the signal
shape) is how chains went wrong without a word. So every skcompress step
returns its numpy output as a :class:`StructuredArray`: an ``ndarray``
subclass whose ``structure`` attribute (a :class:`Structure`) says what one
sample is. scikit-learn's estimators call ``np.asarray`` on their input and
see an ordinary array; the skcompress step after it reads the structure,
takes its settings from it, and refuses an input it cannot read (an image
table on MDCT frames) with a ValueError that names the setting to change.

Why an array subclass, not a helper that wires steps: a
:class:`~sklearn.pipeline.Pipeline` hands each step only the previous step's
output, so the structure has to travel with the data to work in plain
``make_pipeline`` chains, cross-validation and grid searches, where the
steps are cloned and fitted apart.

The structure is trusted only while the array still has the shape it
describes: rows may be selected (cross-validation, batches), values changed
(``G * 2``); a sliced, stacked or reshaped array is read as a plain one (a
"blocks" array flattened to 2-D is read as the "flat" layout it then is).
Torch tensors and Dask arrays carry no structure: a fitted step reads them
as it read its training data.
"""

from dataclasses import dataclass, replace

import numpy as np

from ._basis import zigzag_order
from ._contract import check_signals, from_layout, to_layout

#: The kinds of data a step emits (``Structure.kind``).
KINDS = {
    "image": "images",
    "sites": "chroma-subsampled images",
    "dct": "block-transform coefficients",
    "mdct": "MDCT frames",
    "masking": "masking thresholds of MDCT frames",
    "subbands": "wavelet subbands",
    "codes": "codes",
    "patches": "patches",
    "planar": "block-DCT symbols, one plane after another",
    "hevc": "HEVC intra symbols (levels and maps of 4x4 units)",
}
#: Channel names that take JPEG's chrominance table; all others take the luminance one.
CHROMA = ("Cb", "Cr")


@dataclass(frozen=True)
class Structure:
    """What one sample of a step's output is.

    The values of a sample form the array ``(*grid, depth, k)`` (the
    "blocks" layout of the data contract, with the ``depth`` axis dropped
    when it is 1), shown in ``layout``.

    Parameters
    ----------
    kind : str
        One of ``KINDS``: "image" (``grid`` = (H, W), ``k`` channels),
        "planar" (``JPEGCodec``'s colour "flat" symbols: every plane's
        blocks in turn, ``grid`` = (), ``k`` values),
        "sites" (chroma sites of a subsampled YCbCr image, ``k = a * b + 2``
        values each: the ``a x b`` luma samples then Cb and Cr), "dct"
        (``depth`` channels of blocks of ``k`` coefficients), "mdct",
        "masking" (per frame, masking thresholds, after the MDCT
        coefficients or alone: ``PsychoacousticModel``), "subbands", "codes"
        or "patches".
    producer : str
        The step that made it, for messages.
    grid : tuple of int
        Pixels, sites, blocks or frames along each axis.
    depth : int
        Channels of blocks ("dct": one per plane; 1 otherwise).
    k : int
        Values per channel and grid cell.
    layout : {"flat", "blocks", "channels_first"}
        How the values are shown.
    channels : tuple of str
        Name of each plane: the ``k`` channels of an image ("Y", "Cb",
        "Cr"; "gray"), the ``depth`` channels of blocks (4:2:0 minimum coded
        units: "Y0" to "Y3", "Cb", "Cr").
    block_size : int or None
        Side of the transform's blocks ("dct").
    order : {"zigzag", "natural"} or None
        Order of the coefficients in a block ("dct").
    factors : tuple of int or None
        Luma samples per chroma site, (rows, columns) ("sites").
    image_shape : tuple of int or None
        (H, W) of the images before padding ("sites", "dct" of images).
    mid_level : float or None
        Middle of the samples' range, where known (128 for images that were
        8-bit): the level shift of a DCT that follows ("image", "sites").
    quantized : bool
        Integer symbols of a quantizer.
    settings : tuple of (str, object)
        Settings of the transform that a reader needs to undo it ("subbands":
        the wavelet, level and mode).
    positions : tuple of int or None
        Set when a step kept only some values of the transform's cells
        (:class:`~skcompress.FrequencySelector`): where each of the ``k``
        values of a cell sits in the cell the transform emitted, as
        :func:`cell_positions` numbers it ("dct": ``plane * b ** d`` plus
        the natural, row-major index of the coefficient in its ``b ** d``
        block; "mdct": the frequency bin; "subbands": the index in the
        transform's output). ``depth`` is then 1 and, for "dct",
        ``channels`` names the planes that ``plane`` counts. None: every
        plane keeps the first ``k`` coefficients in ``order``.
    """

    kind: str
    producer: str
    grid: tuple
    depth: int
    k: int
    layout: str = "flat"
    channels: tuple = ()
    block_size: int | None = None
    order: str | None = None
    factors: tuple | None = None
    image_shape: tuple | None = None
    mid_level: float | None = None
    quantized: bool = False
    settings: tuple = ()
    positions: tuple | None = None

    @property
    def sample_shape(self):
        """Shape of one sample as emitted, in ``layout`` (as :func:`to_layout` shapes it)."""
        grid, depth, k = tuple(self.grid), self.depth, self.k
        if self.layout == "flat":
            return (int(np.prod(grid, dtype=np.int64)) * depth * k,)
        if self.layout == "blocks":
            return (*grid, depth, k) if depth > 1 else (*grid, k)
        return (depth * k, *grid)

    @property
    def n_spatial(self):
        """Number of spatial axes of the grid: 2 for images, 1 for signals and frames."""
        return len(self.grid)

    def blocks(self, X):
        """``X`` (one of these samples per row, in ``layout``) as ``(n, *grid, depth, k)``."""
        return from_layout(X, self.grid, self.depth, self.k, self.layout, name=self.producer)

    def emit(self, blocks):
        """``(n, *grid, depth, k)`` values back in ``layout``, carrying this structure."""
        return with_structure(to_layout(blocks, self.layout), self)

    def describe(self):
        """A few words for messages, e.g. "block-transform coefficients from BlockDCT"."""
        what = KINDS.get(self.kind, self.kind)
        if self.kind == "dct":
            size = "x".join([str(self.block_size)] * self.n_spatial)
            kept = "chosen positions" if self.positions is not None else f"{self.order} order"
            what = f"{size} block-DCT coefficients ({self.k} per block, {kept})"
        elif self.positions is not None:
            what = f"{what} ({self.k} chosen per cell)"
        elif self.kind == "image" and self.channels:
            what = f"{'/'.join(self.channels)} images"
        elif self.kind == "sites" and self.factors:
            what = f"{_subsampling(self.factors)} chroma sites"
        symbols = "quantized " if self.quantized else ""
        return f"{symbols}{what} from {self.producer} (layout={self.layout!r})"


def _subsampling(factors):
    return {(1, 1): "4:4:4", (1, 2): "4:2:2", (2, 2): "4:2:0"}.get(tuple(factors), str(factors))


class StructuredArray(np.ndarray):
    """An ndarray that says, in ``structure``, what each of its rows is.

    Everything numpy does with it works as with any ndarray; ``np.asarray``
    gives the plain array (what scikit-learn's estimators see).
    """

    structure = None

    def __array_finalize__(self, obj):
        self.structure = getattr(obj, "structure", None)

    def __array_wrap__(self, array, context=None, return_scalar=False):
        # Reductions (X.sum(), X.mean(axis=0)) give plain scalars and arrays.
        out = super().__array_wrap__(array, context, return_scalar)
        if isinstance(out, np.ndarray) and out.ndim < 2:
            return out[()] if out.ndim == 0 else out.view(np.ndarray)
        return out

    def __reduce__(self):
        constructor, args, state = super().__reduce__()
        return constructor, args, (state, self.structure)

    def __setstate__(self, state):
        array_state, self.structure = state
        super().__setstate__(array_state)


def with_structure(X, structure):
    """``X`` as a :class:`StructuredArray` carrying ``structure`` (numpy arrays only).

    Tensors, Dask arrays and DataFrames come back unchanged, and so does a
    ``structure`` of None (a plain ndarray then).
    """
    if not isinstance(X, np.ndarray):
        return X
    if structure is None:
        return X.view(np.ndarray) if type(X) is not np.ndarray else X
    out = X.view(StructuredArray)
    out.structure = structure
    return out


def structure_of(X):
    """The :class:`Structure` of ``X`` if it still has the shape it describes, else None.

    A 2-D array holding a "blocks" structure's values in their order (the
    "blocks" array reshaped) is read as the "flat" layout.
    """
    structure = getattr(X, "structure", None)
    if not isinstance(structure, Structure) or not isinstance(X, np.ndarray) or X.ndim < 2:
        return None
    shape = tuple(X.shape[1:])
    if shape == tuple(structure.sample_shape):
        return structure
    flat = replace(structure, layout="flat")
    if structure.layout == "blocks" and shape == tuple(flat.sample_shape):
        return flat
    return None


def read_structure(step, X, *, reset):
    """The structure that ``step`` reads ``X`` with: recorded at ``fit``, kept after.

    ``fit`` (``reset=True``) records the structure of ``X`` (None for plain
    arrays) as ``step.input_structure_``. Later calls read ``X`` as ``fit``
    read its data: a plain array takes the fitted structure, a structured one
    must carry the same (a step fitted on plain arrays reads any as plain).

    Raises
    ------
    ValueError
        When ``X`` carries another structure than the one fitted.
    """
    structure = structure_of(X)
    if reset:
        step.input_structure_ = structure
        return structure
    fitted = getattr(step, "input_structure_", None)
    if structure is not None and fitted is not None and _same(structure) != _same(fitted):
        raise ValueError(
            f"{type(step).__name__} was fitted on {fitted.describe()}; X is "
            f"{structure.describe()}. Fit it again on this input, or pass np.asarray(X) to "
            "read X as it read its training data."
        )
    return fitted


def _same(structure):
    return replace(structure, producer="")


def refuse(step, structure, what, setting):
    """The ValueError of a step that cannot read ``structure``.

    Parameters
    ----------
    step : str
        The step refusing, e.g. "MDCT".
    structure : Structure
        Its input's structure.
    what : str
        What the step needs, e.g. "1-D signals".
    setting : str
        What to do instead.
    """
    return ValueError(f"{step} takes {what}; its input is {structure.describe()}. {setting}")


def check_structured_signals(step, X, *, reset, read, **kwargs):
    """:func:`read_structure`, the step's reading of ``X`` by it, then :func:`check_signals`.

    Parameters
    ----------
    step : BaseEstimator
        A step that reads images (``signal_shape`` parameter, channels-last).
    X : array-like
        Its input.
    reset : bool
        True in ``fit``.
    read : callable
        ``read(X, structure)``: ``X`` as the arrays the step computes on.
    **kwargs
        Passed to :func:`check_signals`.

    Returns
    -------
    X : ndarray, structure : Structure or None
    """
    structure = read_structure(step, X, reset=reset)
    X = read(X, structure)
    given = getattr(step, "signal_shape", None)
    if structure is not None and given is not None and tuple(given) != tuple(X.shape[1:]):
        raise ValueError(
            f"{type(step).__name__}: signal_shape={tuple(given)}, but its input is "
            f"{structure.describe()}, signals of shape {tuple(X.shape[1:])}. Leave "
            "signal_shape=None to read it from the input."
        )
    signal_shape = given if structure is None else None
    X = check_signals(step, X, reset=reset, signal_shape=signal_shape, images=reset, **kwargs)
    return X, structure


def read_images(step, X, structure, kinds=("image",), instead=""):
    """Images ``(n, H, W[, C])`` of ``X`` as ``structure`` lays them out (plain ``X`` as it is).

    Parameters
    ----------
    step : str
        The reading step, for the message.
    X : array-like
        Its input.
    structure : Structure or None
        From :func:`read_structure`.
    kinds : tuple of str
        Structures the step reads ("image"; "sites" as ``(n, h, w, a b + 2)``).
    instead : str
        Where the step belongs, said when it refuses.

    Raises
    ------
    ValueError
        For structures of other kinds.
    """
    if structure is None:
        return X
    if structure.kind not in kinds:
        raise refuse(step, structure, "signals or images", instead)
    values = structure.blocks(X)
    n, grid, k = len(values), structure.grid, structure.k
    return values.reshape(n, *grid) if k == 1 else values.reshape(n, *grid, k)


def read_cells(owner, X, structure):
    """``X`` as ``(n, *cells, values)`` where ``structure`` says what a cell is.

    For the steps that quantize or code vectors: images as the images they
    are (``(n, H, W[, C])``, as if given directly); coefficients, frames,
    patches and subbands as ``(n, *grid, [depth,] k)``. Plain ``X`` as it
    is; tensors stay tensors.
    """
    if structure is None:
        return X
    grid, depth, k = structure.grid, structure.depth, structure.k
    cells = from_layout(X, grid, depth, k, structure.layout, name=owner)
    n = len(cells)
    if structure.kind in ("image", "sites") and k == 1:
        return cells.reshape(n, *grid)
    return cells if depth > 1 else cells.reshape(n, *grid, k)


def indivisible(owner, vector_size, length, X, structure):
    """The ValueError of a ``vector_size`` that does not divide the values of a cell."""
    if structure is None:
        return ValueError(
            f"{owner}: vector_size={vector_size} must divide the length of the last axis of X; "
            f"got {length} (X.shape={tuple(X.shape)})."
        )
    return ValueError(
        f"{owner}: vector_size={vector_size} must divide the {length} values of each cell of "
        f"its input, {structure.describe()}, read as shape {tuple(X.shape)}. Leave "
        "vector_size=None for one vector per cell."
    )


def image_structure(producer, shape, channels, layout, mid_level=None):
    """The structure of images ``shape = (H, W[, C])`` with named ``channels``."""
    H, W = shape[:2]
    C = shape[2] if len(shape) == 3 else 1
    return Structure("image", producer, (H, W), 1, C, layout, tuple(channels), mid_level=mid_level)


def cell_positions(structure):
    """Where each value of a cell of ``structure`` sits in the cell its transform emitted.

    A cell is what one grid position holds: ``depth * k`` values. For
    "dct", value ``j`` of plane ``p`` is coefficient ``j`` in ``order``, at
    ``p * b ** d + natural`` (``natural``: its row-major index in the ``b **
    d`` block); for the other kinds, the values are numbered as emitted.
    After a step that kept some values, ``structure.positions``.

    Returns
    -------
    positions : ndarray of int64, shape (depth * k,)

    Examples
    --------
    >>> s = Structure("dct", "BlockDCT", (2, 2), 1, 4, block_size=8, order="zigzag")
    >>> cell_positions(s).tolist()          # the first four of the zig-zag scan
    [0, 1, 8, 16]
    """
    if structure.positions is not None:
        return np.asarray(structure.positions, dtype=np.int64)
    depth, k = structure.depth, structure.k
    if structure.kind != "dct":
        return np.arange(depth * k, dtype=np.int64)
    b, d = structure.block_size, structure.n_spatial
    zigzag = structure.order == "zigzag" and d == 2
    natural = zigzag_order(b)[:k] if zigzag else np.arange(k)
    return (np.arange(depth)[:, None] * b**d + natural).reshape(-1).astype(np.int64)


def channels_of(structure, n):
    """Names of ``n`` channels, from ``structure`` where it names them, else generic.

    One channel is "gray"; three unnamed ones "ch0" to "ch2".
    """
    if structure is not None and len(structure.channels) == n:
        return tuple(structure.channels)
    return ("gray",) if n == 1 else tuple(f"ch{c}" for c in range(n))
