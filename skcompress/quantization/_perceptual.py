"""Perceptual scalar quantization: one step per coefficient, as JPEG and MP3 do."""

from dataclasses import replace
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._core._array_api import as_array, asarray, astype, get_namespace, is_floating, size
from .._core._basis import zigzag_order
from .._core._chunks import chunked, unchunked
from .._core._contract import (
    LAYOUTS,
    check_output_container,
    check_signals,
    from_layout,
    to_layout,
)
from .._core._docs import chunk_parameters
from .._core._estimator import PublicEstimatorMixin, unfitted_on_error
from .._core._statistics import CategoricalStatistics
from .._core._structure import CHROMA, cell_positions, read_structure, refuse, with_structure
from ._tables import JPEG_CHROMA, JPEG_LUMA, TABLES, ijg_scale

_INT32_MAX = np.iinfo(np.int32).max


@chunk_parameters()
class PerceptualQuantizer(
    OneToOneFeatureMixin, TransformerMixin, PublicEstimatorMixin, BaseEstimator
):
    """Scalar quantization with a step per coefficient: ``B = round(G / Q)``.

    ``transform`` emits the integer symbols ``B`` (int32, rounded half away
    from zero as libjpeg does) and ``inverse_transform`` dequantizes them to
    ``B * Q`` (with ``deadzone``, JPEG 2000's deadzone quantizer instead).
    The steps ``Q`` come from a quantization matrix (a JPEG table
    for the coefficients of an 8x8 block), a vector (one step per coefficient
    of a 1-D block) or a single uniform step, and repeat over every block,
    so the quantizer follows a transform whose coefficient axis is last
    (``layout="flat"`` or ``"blocks"``) or, with ``layout="channels_first"``,
    on axis 1.

    Parameters
    ----------
    table : {"jpeg", "jpeg-luma", "jpeg-chroma", "masking"}, float or array-like, \
default="jpeg"
        "jpeg": JPEG's Annex K tables as a JPEG encoder picks them, the
        chrominance table for the Cb and Cr planes and the luminance table
        for every other plane (Y, gray, RGB, and planes the input does not
        name); "jpeg-luma" or "jpeg-chroma": that table for every plane.
        "masking": MP3's per-frame steps from masking thresholds, for the
        output of :class:`~skcompress.transforms.PsychoacousticModel` with
        ``output="mdct"`` (see Notes). Or a
        uniform step, a block-shaped matrix ``(b, b)`` (or ``(channels, b,
        b)`` for a table per channel) laid out by frequency, or a vector
        ``(k,)`` (``(channels, k)``) already in the order of the
        coefficients.
    quality : int in [1, 100] or None, default=None
        Scale ``table`` as libjpeg's ``jpeg_set_quality`` does (IJG scaling,
        entries clamped to [1, 255]); None uses the table as it is (for the
        JPEG tables, the same as quality 50).
    order : {"auto", "zigzag", "natural"}, default="auto"
        Order of the coefficients within a block in the input; a
        block-shaped ``table`` is read in this order. "auto": the
        transform's (from its output, see Notes), "zigzag" for plain arrays.
    n_coefficients : int or None, default=None
        Coefficients per block in the input, when the transform kept only the
        first few (``BlockDCT(n_coefficients=...)``); the table is cut to match.
        None: the transform's (see Notes); for plain arrays the whole table, or
        the last axis of a "blocks" input.
    layout : {"auto", "flat", "blocks", "channels_first"}, default="auto"
        Layout of the input coefficients. "auto": the transform's (see
        Notes), "flat" for plain arrays.
    deadzone : float in [0, 1) or None, default=None
        None rounds to the nearest level (JPEG). A float ``r`` selects JPEG
        2000's deadzone scalar quantizer (Part 1, Annex E.1):
        ``B = sign(G) * floor(|G| / Q)``, so the zero bin is ``2 Q`` wide, and
        ``r`` is the reconstruction offset of dequantization,
        ``sign(B) * (|B| + r) * Q`` for ``B != 0`` and 0 otherwise. The
        standard leaves ``r`` to the decoder (any ``0 <= r < 1``); 0.5 is the
        bin midpoint, and decoders often take a little less (e.g. 0.375),
        nearer the centroid of peaked coefficient distributions.
    noise_to_mask : float, default=1.0
        With ``table="masking"``: the quantization noise allowed per band,
        as a multiple of the masking threshold (power ratio; 1 puts the
        noise at the threshold, 4 at 6 dB above it). A grid search tunes
        rate against audibility with it. Ignored by the other tables.
    {chunk_parameters}

    Attributes
    ----------
    steps_ : ndarray of float64, shape (n_steps,)
        Quantization step of each coefficient position, in input order.
    masking_edges_ : ndarray of int64 or None
        With ``table="masking"``: the band edges (MDCT bins) read from the
        input; None otherwise.
    layout_, order_ : str
        Layout of the input and order of the coefficients in a block, as
        read (``layout`` and ``order``, or the transform's for "auto").
    entropy_model_ : symbol statistics
        Symbol statistics of the training data, one distribution per
        coefficient position, used by :meth:`bits_per_sample` (counts and
        code lengths; :class:`~skcompress.codecs.Codec` codes with them).
    n_features_in_ : int
        Values per input sample.
    feature_names_in_ : ndarray of str
        Column names, when ``fit`` was given a DataFrame.

    See Also
    --------
    skcompress.BlockDCT : the transform whose coefficients JPEG quantizes.
    skcompress.WaveletTransform : its ``step_map`` gives JPEG 2000's steps.

    Notes
    -----
    After a skcompress transform the quantizer reads the structure that the
    transform's output carries (see the data contract): block size, order,
    coefficients kept, layout and the name of each plane, so that
    ``make_pipeline(BlockDCT(n_coefficients=16), PerceptualQuantizer())``
    lays the first 16 zig-zag steps over each block and, after
    :class:`~skcompress.ColorTransform`, ``table="jpeg"`` gives Cb and Cr
    the chrominance table. Settings that contradict the transform, and
    tables made for other coefficients (an 8x8 table on 4x4 blocks, on 1-D
    blocks or on MDCT frames), raise a ValueError that says what to set.

    After :class:`~skcompress.FrequencySelector`, which keeps chosen
    frequencies rather than the first ``k``, each kept coefficient gets the
    table's step at its own frequency (the input's structure says where it
    sat), and a vector ``table`` is read over the transform's whole cell:
    ``b * b`` steps of a block in the transform's order, or one step per
    MDCT bin or wavelet coefficient.

    With ``table="masking"`` the steps change from frame to frame, as in
    MP3, so they travel with the data: the input (from
    ``PsychoacousticModel(output="mdct")``) holds, per frame, the ``M`` MDCT
    coefficients followed by the allowed noise ``T_b`` of each band ``b``
    (the structure's ``"masking_bands"`` and ``"band_edges"`` settings say
    which). A uniform quantizer of step ``D`` makes noise ``D**2 / 12``, so
    each band gets ``D_b = 2 ** (s_b / 4)`` with the integer exponent
    ``s_b = floor(4 log2 sqrt(12 noise_to_mask T_b))``: MP3's step grid
    (global gain and scale factors move steps by ``2 ** (1/4)``), rounded
    down so the noise stays at or under the allowed one. The symbols of a
    frame are the ``M`` quantized coefficients followed by the ``n_bands``
    exponents, the first as it is and each other as its difference from the
    band below (the side information a decoder needs, priced by
    :meth:`bits_per_sample` like any symbol), so :meth:`inverse_transform`
    needs nothing else: it dequantizes the coefficients and returns the
    thresholds that the exponents stand for, ``D_b**2 / (12 noise_to_mask)``,
    and ``PsychoacousticModel.inverse_transform`` gives the signals. Why not
    a per-call ``thresholds=`` argument: a Pipeline passes each step only
    the previous step's output, and the decoder needs the steps too, so
    they have to be part of that output. ``steps_`` is then all ones (the
    steps are per frame, in the symbols). A threshold output of
    ``PsychoacousticModel`` (``output="thresholds"``) is refused: it holds
    no coefficients.

    Examples
    --------
    >>> import numpy as np
    >>> from skcompress import BlockDCT, PerceptualQuantizer
    >>> rng = np.random.default_rng(0)
    >>> X = rng.integers(0, 256, size=(4, 16, 16)).astype(np.uint8)
    >>> G = BlockDCT().fit_transform(X)
    >>> q = PerceptualQuantizer(table="jpeg-luma", quality=75).fit(G)
    >>> B = q.transform(G)
    >>> B.dtype, B.shape
    (dtype('int32'), (4, 256))
    >>> bool(np.all(np.abs(q.inverse_transform(B) - G) <= q.steps_[np.arange(256) % 64] / 2))
    True
    >>> q.bits_per_sample(G) > 0
    True
    """

    _parameter_constraints = {
        "table": [
            StrOptions({"jpeg", "masking", *TABLES}),
            Interval(Real, 0, None, closed="neither"),
            "array-like",
        ],
        "quality": [Interval(Integral, 1, 100, closed="both"), None],
        "order": [StrOptions({"auto", "zigzag", "natural"})],
        "n_coefficients": [Interval(Integral, 1, None, closed="left"), None],
        "layout": [StrOptions({"auto", *LAYOUTS})],
        "deadzone": [Interval(Real, 0, 1, closed="left"), None],
        "noise_to_mask": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 1, None, closed="left"), None],
        "n_jobs": [Integral, None],
        "device": "no_validation",  # checked when used: torch is optional
        "dtype": "no_validation",  # checked when used
    }

    def __init__(
        self,
        table="jpeg",
        *,
        quality=None,
        order="auto",
        n_coefficients=None,
        layout="auto",
        deadzone=None,
        noise_to_mask=1.0,
        batch_size=None,
        n_jobs=None,
        device=None,
        dtype=None,
    ):
        self.table = table
        self.quality = quality
        self.order = order
        self.n_coefficients = n_coefficients
        self.layout = layout
        self.deadzone = deadzone
        self.noise_to_mask = noise_to_mask
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.device = device
        self.dtype = dtype

    @_fit_context(prefer_skip_nested_validation=True)
    @unfitted_on_error
    def fit(self, X, y=None):
        """Build the steps and learn the symbol statistics of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, ...)
            Transform coefficients in ``layout``.
        y : None
            Ignored.

        Returns
        -------
        self : PerceptualQuantizer
        """
        structure = read_structure(self, X, reset=True)
        X = check_signals(self, X, reset=True, max_ndim=None)
        self.steps_ = self._steps(X, structure)
        self._check_fits(X)
        self.entropy_model_ = CategoricalStatistics().fit(self._by_position(self._quantize(X)))
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    @unfitted_on_error
    def partial_fit(self, X, y=None):
        """Learn the symbol statistics from one more batch (the first call is :meth:`fit`).

        The steps do not depend on the data; the entropy model of
        :meth:`bits_per_sample` after any sequence of calls is the one that
        :meth:`fit` learns on all the batches at once (counts add up, as
        :meth:`CategoricalEntropyModel.partial_fit
        <skcompress.entropy.CategoricalEntropyModel.partial_fit>` adds them), so a
        stream of chunks (the blocks of a Dask array) gives the same rates.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, ...)
            Transform coefficients in ``layout``, of the shape of the first
            batch.
        y : None
            Ignored.

        Returns
        -------
        self : PerceptualQuantizer
        """
        if not hasattr(self, "steps_"):
            return self.fit(X)
        read_structure(self, X, reset=False)
        X = check_signals(self, X, reset=False, max_ndim=None)
        self.entropy_model_.partial_fit(self._by_position(self._quantize(X)))
        return self

    @chunked
    def transform(self, X):
        """Quantize: ``round(X / Q)`` (deadzone: ``sign(X) floor(|X| / Q)``) as int32 symbols.

        Parameters
        ----------
        X : array-like of the shape seen at ``fit``

        Returns
        -------
        symbols : ndarray of int32, same shape as X
        """
        check_is_fitted(self)
        structure = read_structure(self, X, reset=False)
        X = check_signals(self, X, reset=False, max_ndim=None, keep_tensors=True)
        out = check_output_container(self, self._quantize(X))
        return with_structure(out, structure and replace(structure, quantized=True))

    @chunked
    def inverse_transform(self, X):
        """Dequantize: ``symbols * Q`` (deadzone: ``sign(B) (|B| + r) Q``, 0 for 0).

        Parameters
        ----------
        X : array-like of int, same shape as ``transform``'s output

        Returns
        -------
        coefficients : ndarray of float64 (float32 if fitted on float32)
        """
        check_is_fitted(self)
        B = as_array(X)
        if tuple(B.shape[1:]) != tuple(self.signal_shape_):
            raise ValueError(
                f"PerceptualQuantizer.inverse_transform expects symbols of shape "
                f"(n_samples, {', '.join(map(str, self.signal_shape_))}); got {tuple(B.shape)}."
            )
        return with_structure(self._dequantize(B), self.input_structure_)

    def bits_per_sample(self, X):
        """Estimated bits per sample to code the quantized ``X``.

        The estimate is the ideal code length of the symbols under the
        per-position categorical model learned at ``fit``
        (:class:`~skcompress.entropy.CategoricalEntropyModel`: one distribution
        per coefficient position, pooled over blocks, Krichevsky-Trofimov
        smoothing, escapes for unseen values). It is honest on held-out data
        (no peeking at ``X``'s own histogram) but excludes the model's own
        cost and any context modelling.

        Parameters
        ----------
        X : array-like
            Coefficients, as given to ``transform``.

        Returns
        -------
        bits : float
            Mean over the samples of ``X``.
        """
        check_is_fitted(self)
        B = self.transform(X)
        bits = self.entropy_model_.code_lengths(self._by_position(B))
        return float(bits.sum() / len(B))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = []  # emits integer symbols
        return tags

    @classmethod
    def get_test_params(cls):
        return [
            {"table": 0.5},
            {"table": "jpeg-chroma", "quality": 40, "n_coefficients": 1},
            {"table": 0.5, "deadzone": 0.375},
        ]

    # -- helpers -----------------------------------------------------------

    def _steps(self, X, structure):
        self.masking_edges_ = self._masking(structure)
        if self.masking_edges_ is not None:
            self.layout_, self.order_ = structure.layout, "natural"
            return np.ones(structure.k)
        self.layout_, self.order_, k = self._reading(structure)
        table = self._table(structure)
        if structure is not None and structure.positions is not None:
            return np.ascontiguousarray(self._kept_steps(table, structure), dtype=np.float64)
        if structure is not None and table.ndim == 0:
            table = np.full((structure.depth, structure.k), table)  # any layout
        if self.quality is not None:
            table = ijg_scale(table, self.quality)
        if table.ndim >= 2 and table.shape[-1] == table.shape[-2] and table.ndim <= 3:
            b = table.shape[-1]
            if structure is not None and structure.kind == "dct" and b != structure.block_size:
                raise ValueError(
                    f"PerceptualQuantizer: table={self._table_name()} is for {b}x{b} blocks; "
                    f"its input is {structure.describe()}. Pass a table for "
                    f"{structure.block_size}x{structure.block_size} blocks."
                )
            order = zigzag_order(b) if self.order_ == "zigzag" else np.arange(b * b)
            table = table.reshape(*table.shape[:-2], b * b)[..., order]
        elif table.ndim > 2:
            raise ValueError(
                "PerceptualQuantizer: table must be a scalar, a vector (k,), a matrix "
                f"(b, b) or per-channel tables (channels, b, b); got shape {table.shape}."
            )
        if k is None and X.ndim > 2 and table.ndim >= 1:
            # structured input says how many coefficients a block carries
            channels = table.shape[0] if table.ndim == 2 else 1
            k = X.shape[-1] if self.layout_ == "blocks" else X.shape[1] // channels
        if k is not None and table.ndim >= 1:
            if k > table.shape[-1]:
                raise ValueError(
                    f"PerceptualQuantizer: n_coefficients={k} exceeds the "
                    f"{table.shape[-1]} steps of table={self._table_name()}."
                )
            table = table[..., :k]
        if structure is not None and structure.depth > 1 and table.ndim == 1:
            table = np.tile(table, (structure.depth, 1))  # one table for every plane
        return np.ascontiguousarray(table, dtype=np.float64).reshape(-1)

    def _kept_steps(self, table, structure):
        """The step of each value that a selector kept: the table's, at the value's position.

        A block table is read by frequency (row-major), a vector of ``b ** d``
        steps (one per plane, or a row each) in the transform's ``order``;
        after an MDCT or a wavelet transform, a vector covers the
        transform's whole cell (every bin, every coefficient).
        """
        if self.quality is not None:
            table = ijg_scale(table, self.quality)
        positions = cell_positions(structure)
        if table.ndim == 0:
            return np.full(structure.k, float(table))
        name = self._table_name()
        if structure.kind != "dct":
            if table.ndim != 1 or table.size <= positions.max():
                raise ValueError(
                    f"PerceptualQuantizer: table={name} does not cover the values its input "
                    f"kept, {structure.describe()}, whose positions reach {positions.max()}. "
                    "Pass a vector of steps for the transform's whole output (one per bin or "
                    "coefficient), or a uniform step (table=<float>)."
                )
            return table[positions]
        b, d = structure.block_size, structure.n_spatial
        cell = b**d
        if d == 2 and table.ndim in (2, 3) and table.shape[-2:] == (b, b):
            full = table.reshape(-1, cell)
        elif table.ndim in (1, 2) and table.shape[-1] == cell:
            order = zigzag_order(b) if structure.order == "zigzag" and d == 2 else np.arange(cell)
            full = np.empty_like(table)
            full[..., order] = table
            full = full.reshape(-1, cell)
        else:
            shape = "x".join([str(b)] * d)
            raise ValueError(
                f"PerceptualQuantizer: table={name} is not a table for the {shape} blocks of its "
                f"input, {structure.describe()}. Pass a table for the whole block (a "
                f"{b}x{b} matrix, or a vector of {cell} steps in {structure.order} order, per "
                "plane or for all), or a uniform step (table=<float>)."
            )
        planes = max(1, len(structure.channels))
        if len(full) not in (1, planes):
            raise ValueError(
                f"PerceptualQuantizer: table={name} holds {len(full)} tables; its input, "
                f"{structure.describe()}, has {planes} planes ({', '.join(structure.channels)}). "
                "Pass one table, or one per plane."
            )
        plane, at = np.divmod(positions, cell)
        return full[0, at] if len(full) == 1 else full[plane, at]

    def _masking(self, structure):
        """Band edges of ``table="masking"`` from the input's structure (None otherwise)."""
        settings = dict(structure.settings) if structure is not None else {}
        masking = "masking_bands" in settings
        name = "PerceptualQuantizer"
        if masking and structure.k == settings["masking_bands"]:
            raise refuse(
                name,
                structure,
                "transform coefficients",
                "These are masking thresholds alone: use PsychoacousticModel(output='mdct'), "
                "which carries the MDCT coefficients with them, and table='masking'.",
            )
        if not (isinstance(self.table, str) and self.table == "masking"):
            if masking:
                raise refuse(
                    name,
                    structure,
                    "coefficients with one step per position",
                    "Each frame carries masking thresholds: set table='masking'.",
                )
            return None
        if not masking:
            what = "a plain array" if structure is None else structure.describe()
            raise ValueError(
                f"PerceptualQuantizer: table='masking' needs MDCT frames that carry masking "
                f"thresholds, the output of PsychoacousticModel(output='mdct'); got {what}. "
                "Put PsychoacousticModel(output='mdct') before it, or pass another table."
            )
        if structure.quantized:
            raise refuse(
                name, structure, "transform coefficients", "Put the quantizer right after it."
            )
        if self.layout not in ("auto", structure.layout):
            raise ValueError(
                f"PerceptualQuantizer: layout={self.layout!r}, but its input is "
                f"{structure.describe()}. Leave layout='auto'."
            )
        return np.asarray(settings["band_edges"], dtype=np.int64)

    def _masked_cells(self, X):
        """``(n, n_frames, M + n_bands)`` values of a masking input (numpy)."""
        s = self.input_structure_
        cells = from_layout(np.asarray(X), s.grid, 1, s.k, s.layout, "PerceptualQuantizer")
        return cells.reshape(len(cells), int(np.prod(s.grid)), s.k)

    def _masked_emit(self, cells):
        s = self.input_structure_
        return to_layout(cells.reshape(len(cells), *s.grid, 1, s.k), s.layout)

    def _quantize_masked(self, X):
        """Symbols of a masking input: coefficients by their band's step, then the exponents."""
        edges = self.masking_edges_
        M = int(edges[-1])
        cells = self._masked_cells(X).astype(np.float64)
        allowed = np.maximum(cells[..., M:] * (12.0 * self.noise_to_mask), 1e-300)
        exponents = np.floor(2.0 * np.log2(allowed))  # 4 log2 sqrt(...)
        steps = np.repeat(2.0 ** (exponents / 4.0), np.diff(edges), axis=-1)
        symbols = self._round(cells[..., :M] / steps, np)
        # the first band's exponent, then each band's change from the one below (as AAC
        # codes its scale factors): neighbouring thresholds are close, so cheaper to code
        coded = np.diff(exponents, axis=-1, prepend=0.0)
        return self._masked_emit(np.concatenate([symbols, astype(coded, np.int32)], -1))

    def _dequantize_masked(self, B):
        edges = self.masking_edges_
        M = int(edges[-1])
        cells = self._masked_cells(B).astype(np.float64)
        symbols, exponents = cells[..., :M], np.cumsum(cells[..., M:], axis=-1)
        if self.deadzone is not None:
            symbols = np.where(symbols == 0, 0.0, symbols + self.deadzone * np.sign(symbols))
        steps = 2.0 ** (exponents / 4.0)
        coefs = symbols * np.repeat(steps, np.diff(edges), axis=-1)
        thresholds = steps**2 / (12.0 * self.noise_to_mask)
        return self._masked_emit(np.concatenate([coefs, thresholds], -1)).astype(self._dtype)

    def _reading(self, structure):
        """Layout, order and coefficients per block of the input: the transform's, or set."""
        layout = "flat" if self.layout == "auto" else self.layout
        order = "zigzag" if self.order == "auto" else self.order
        if structure is None:
            return layout, order, self.n_coefficients
        name = "PerceptualQuantizer"
        uniform = not isinstance(self.table, str) and np.ndim(self.table) == 0
        if structure.quantized:
            raise refuse(
                name,
                structure,
                "transform coefficients",
                "They are quantized already: put the quantizer right after the transform "
                "(for JPEGCodec, set its quality or tables instead).",
            )
        if structure.kind in ("codes", "patches", "planar") or (
            structure.kind in ("image", "sites") and not uniform
        ):
            raise refuse(
                name,
                structure,
                "transform coefficients",
                "Put a transform (BlockDCT, WaveletTransform, MDCT) before it, or use a "
                "uniform step (table=<float>).",
            )
        block_table = isinstance(self.table, str) or np.ndim(self.table) >= 2
        if structure.kind != "dct" and block_table:
            raise refuse(
                name,
                structure,
                "with this table the coefficients of 2-D blocks",
                f"table={self._table_name()} is made for image blocks: pass a vector of "
                "steps (one per coefficient) or a uniform step (table=<float>).",
            )
        if structure.kind == "dct" and structure.n_spatial == 1 and block_table:
            raise refuse(
                name,
                structure,
                "with this table the coefficients of 2-D blocks",
                f"table={self._table_name()} is made for 2-D image blocks: pass a vector "
                f"of {structure.k} steps or a uniform step (table=<float>).",
            )
        fitted = {"layout": structure.layout}
        if structure.kind == "dct":
            fitted |= {"order": structure.order, "n_coefficients": structure.k}
        for param, value in fitted.items():
            own = getattr(self, param)
            if own not in ("auto", None) and own != value:
                raise ValueError(
                    f"PerceptualQuantizer: {param}={own!r}, but its input is "
                    f"{structure.describe()}, with {param}={value!r}. Leave {param} to "
                    f"its default to read it from the input, or set it on the transform."
                )
        k = structure.k if structure.kind == "dct" else self.n_coefficients
        return structure.layout, fitted.get("order", order), k

    def _table(self, structure):
        """The table as given, or JPEG's tables per plane, as an array of steps."""
        if isinstance(self.table, str) and self.table == "jpeg":
            names = structure.channels if structure is not None else ()
            chroma = [name in CHROMA for name in names]
            if not any(chroma):
                return JPEG_LUMA
            return np.stack([JPEG_CHROMA if c else JPEG_LUMA for c in chroma])
        table = TABLES.get(self.table) if isinstance(self.table, str) else self.table
        table = np.asarray(table, dtype=np.float64 if np.ndim(table) == 0 else None)
        if (
            not np.issubdtype(table.dtype, np.number)
            or not np.all(np.isfinite(table))
            or np.any(table <= 0)
        ):
            raise ValueError(
                f"PerceptualQuantizer: table must hold finite positive steps; got {self.table!r}."
            )
        return table

    def _table_name(self):
        return (
            repr(self.table)
            if isinstance(self.table, (str, Real))
            else f"<array of shape {np.shape(self.table)}>"
        )

    def _check_fits(self, X):
        m = self.steps_.size
        if self.layout_ == "channels_first" and X.ndim > 2:
            ok, where = X.shape[1] == m, f"axis 1 of length {X.shape[1]}"
        else:
            per_sample = X[0].size
            last = X.shape[-1]
            ok = per_sample % m == 0 and (m % last == 0 or last % m == 0)
            where = f"{per_sample} values per sample, {last} along the last axis"
        if not ok:
            raise ValueError(
                f"PerceptualQuantizer: table={self._table_name()} gives {m} steps per "
                f"block, which do not tile the input ({where}, X.shape={X.shape}). Set "
                "n_coefficients to the transform's, and the same layout and order."
            )
        self._dtype = X.dtype

    def _torch_kernel(self, method):
        """Tensors run through this step's own code (see :mod:`skcompress._core._chunks`)."""
        return unchunked(self, method)

    def _with_steps(self, X, op):
        """``op(X, steps)`` with the steps repeated over every block of X."""
        m = self.steps_.size
        steps = asarray(self.steps_, like=X)
        if self.layout_ == "channels_first" and X.ndim > 2:
            return op(X, steps.reshape(1, m, *([1] * (X.ndim - 2))))
        return op(X.reshape(len(X), -1, m), steps).reshape(X.shape)

    def _quantize(self, X):
        """int32 symbols of coefficients ``X`` (numpy or torch)."""
        if getattr(self, "masking_edges_", None) is not None:
            return self._quantize_masked(as_array(X))
        xp = get_namespace(X)
        return self._round(self._with_steps(X, xp.divide), xp)

    def _round(self, scaled, xp):
        """``X / Q`` to int32 symbols: half away from zero, or the deadzone's floor."""
        magnitude = xp.abs(scaled)
        peak = float(xp.amax(magnitude)) if size(magnitude) else 0.0
        if peak >= _INT32_MAX:
            raise ValueError(
                f"PerceptualQuantizer: X / Q reaches {peak:.3g}, beyond int32 symbols; "
                f"use larger steps than table={self._table_name()}, quality={self.quality}."
            )
        whole = xp.floor(magnitude)
        if self.deadzone is None:
            # Half away from zero, as libjpeg rounds. floor(|x| + 0.5) would send
            # 0.49999999999999994 to 1; comparing the exact fraction does not.
            magnitude -= whole
            whole += magnitude >= 0.5
        return astype(xp.copysign(whole, scaled, out=whole), np.int32)

    def _dequantize(self, B):
        """Coefficients of symbols ``B`` (numpy or torch), in the dtype seen at ``fit``."""
        if getattr(self, "masking_edges_", None) is not None:
            return self._dequantize_masked(as_array(B))
        xp = get_namespace(B)
        if not is_floating(B):
            B = astype(B, np.float64)
        if self.deadzone is not None:
            # sign(B) (|B| + r); the sign of 0 is 0, and B == 0 gives 0 either way
            B = xp.where(B == 0, 0.0, B + self.deadzone * xp.sign(B))
        return astype(self._with_steps(B, xp.multiply), self._dtype)

    def _by_position(self, B):
        """Symbols as (observations, positions) for the entropy model."""
        m = self.steps_.size
        if self.layout_ == "channels_first" and B.ndim > 2:
            return np.moveaxis(B.reshape(len(B), m, -1), 1, -1).reshape(-1, m)
        return B.reshape(-1, m)
