"""Label-aware selection of a transform's coefficient channels, before the quantizer."""

import warnings
from dataclasses import replace
from numbers import Integral

import numpy as np
import pywt
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context, clone
from sklearn.feature_selection import (
    f_classif,
    f_regression,
    mutual_info_classif,
    mutual_info_regression,
)
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import (
    _check_feature_names_in,
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
)

from .._core._chunks import chunked
from .._core._contract import check_signals
from .._core._estimator import PublicEstimatorMixin, unfitted_on_error
from .._core._structure import cell_positions, read_structure, refuse, with_structure
from ._wavelet import JPEG2000_WAVELETS

_SCORES = {
    "f_classif": f_classif,
    "f_regression": f_regression,
    "mutual_info": mutual_info_classif,
    "mutual_info_regression": mutual_info_regression,
}
_RANDOMIZED = {"mutual_info", "mutual_info_regression"}
# Kinds of structure whose cells are coefficients of a transform.
_READS = ("dct", "mdct", "subbands")
# Input dtypes kept as they are (integer HEVC coefficients stay integers).
_DTYPES = (np.float64, np.float32, np.int64, np.int32, np.int16)


class FrequencySelector(TransformerMixin, PublicEstimatorMixin, BaseEstimator):
    """Keep the ``k`` coefficient channels of a transform that say most about the labels.

    A codec keeps what a viewer or listener needs (JPEG's zig-zag first
    ``k`` coefficients of each block, low frequencies first); this step
    keeps what the task needs. It sits between a transform and its
    quantizer, ``make_pipeline(BlockDCT(), FrequencySelector(12),
    PerceptualQuantizer(quality=50), LogisticRegression())``, and reads the
    structure of the transform's output to know what a channel is:

    * block-DCT coefficients (:class:`~skcompress.BlockDCT`): a (plane,
      frequency) pair, one value in every block of the grid; for JPEG's
      minimum coded units (after :class:`~skcompress.ChromaSubsampler`), a
      (component, frequency) pair: the luma blocks of an MCU keep the same
      frequencies, as a JPEG file's component does;
    * MDCT frames (:class:`~skcompress.MDCT`): a frequency bin, one value
      in every frame;
    * wavelet subbands (:class:`~skcompress.WaveletTransform`): a subband
      of a channel, all its coefficients;
    * a plain 2-D array: a column.

    Every value of the input gets a score (its information about ``y``),
    a channel the pool of its values' scores, and the best ``k`` channels
    are kept, in the transform's order (ties go to the earlier one). The
    grid stays: a block-DCT output keeps its blocks, each with the ``k``
    kept coefficients, in the transform's layout, so a network can still
    follow. The output carries the positions it kept (``Structure.positions``),
    so that :class:`~skcompress.PerceptualQuantizer` lays the step of each
    kept frequency on it, and the rate of the pipeline
    (:func:`skcompress.metrics.rate_scoring`) counts only the kept values.

    Parameters
    ----------
    k : int >= 1 or "all", default=16
        Channels to keep. "all" keeps every one (to read ``scores_``).
    score_func : str, callable or estimator, default="f_classif"
        How much a value says about ``y``:

        - "f_classif": the ANOVA F statistic
          (:func:`~sklearn.feature_selection.f_classif`);
        - "mutual_info": the mutual information with the class,
          :func:`~sklearn.feature_selection.mutual_info_classif` (nearest
          neighbours; slower, and randomized by ``random_state``);
        - "f_regression", "mutual_info_regression": the same for a
          continuous ``y``;
        - "order": no labels; the transform's own order (the first ``k``:
          zig-zag first ``k`` of a block DCT, frequency by frequency across
          its planes, so that ``k = planes * m`` keeps what
          ``BlockDCT(n_coefficients=m)`` keeps; the lowest ``k`` bins of an
          MDCT; the coarsest subbands), the baseline to compare with;
        - a callable ``score(X, y)`` of scikit-learn's ``score_func`` kind
          (``SelectKBest``), returning scores or ``(scores, p-values)``, one
          per column of the 2-D ``X`` it is given;
        - an estimator, cloned and fitted on the values: a model's
          ``feature_importances_``, or ``|coef_|`` summed over the classes
          and weighted by each value's standard deviation (so that the scale
          of a frequency does not count).
    pool : {"mean", "max"}, default="mean"
        How the scores of a channel's values (one per block, frame or
        coefficient of a subband) make the channel's score.
    random_state : int, RandomState instance or None, default=None
        For the randomized scores ("mutual_info").
    dtype : numpy dtype or None, default=None
        Type of what :meth:`transform` returns: None keeps the input's;
        ``np.float32`` is what a torch network after the step takes.

    Attributes
    ----------
    scores_ : ndarray of float64, shape (n_channels,)
        Score of every channel, in the transform's order ("order": minus
        the channel's index).
    support_ : ndarray of bool, shape (n_channels,)
        The kept channels.
    n_channels_ : int
        Channels of the input: ``planes * k`` block coefficients (``3 k`` for
        JPEG's MCUs), bins, subbands of every channel, or columns.
    positions_ : ndarray of int64, shape (n_kept_values,)
        Where each kept value of a cell sits in the transform's cell (see
        :func:`~skcompress._core._structure.cell_positions`: for a block
        DCT, ``plane * block_size ** 2`` plus the row-major index of the
        frequency); for plain input, the kept columns.
    feature_indices_ : ndarray of int64, shape (n_features_out,)
        Index of every output value among the input's values (flattened).
    signal_shape_ : tuple of int
        Shape of one input sample.
    n_features_in_ : int
        Values per input sample.
    feature_names_in_ : ndarray of str
        Column names, when ``fit`` was given a DataFrame.

    See Also
    --------
    skcompress.quantization.ScoreRampTable : a quantization table whose
        steps rise as these scores fall (:meth:`score_map`).
    sklearn.feature_selection.SelectKBest : the same on plain columns.

    Notes
    -----
    The selector refuses what is not a transform's coefficients (images,
    codes, patches) and what a quantizer already coded (its symbols, or a
    :class:`~skcompress.JPEGCodec`'s): selecting after the quantizer would
    save no bits, as every coded value is still counted by the rate.

    For a block DCT, channels are (plane, frequency) pairs, so colour
    planes may keep different frequencies; the output's cells then hold
    one list of kept coefficients (``depth`` 1), the planes named in the
    structure's ``channels``. :meth:`inverse_transform` puts the kept
    values back in place and zeros elsewhere, for the transform's own
    ``inverse_transform`` (the decoder of :class:`~skcompress.codecs.Codec`).

    Examples
    --------
    >>> from sklearn.naive_bayes import GaussianNB
    >>> from sklearn.pipeline import make_pipeline
    >>> from skcompress import BlockDCT, FrequencySelector, PerceptualQuantizer
    >>> from skcompress.datasets import load_mnist
    >>> X, y = load_mnist(return_X_y=True)
    >>> pipe = make_pipeline(BlockDCT(), FrequencySelector(6),
    ...                      PerceptualQuantizer(quality=50), GaussianNB()).fit(X[:500], y[:500])
    >>> pipe[:2].transform(X[:3]).shape          # 16 blocks of 6 coefficients
    (3, 96)
    >>> pipe[1].positions_.tolist()              # row-major (8 u + v), in zig-zag order
    [0, 1, 8, 16, 9, 17]
    >>> pipe[2].steps_.tolist()                  # JPEG's luma steps at those frequencies
    [16.0, 11.0, 12.0, 14.0, 12.0, 13.0]
    >>> bool(pipe.score(X[500:700], y[500:700]) > 0.5)
    True

    The zig-zag scan's first six, which ``BlockDCT(n_coefficients=6)`` keeps,
    end with (0, 2) where the labels prefer (2, 1):

    >>> G = pipe[0].transform(X[:50])
    >>> FrequencySelector(6, score_func="order").fit(G).positions_.tolist()
    [0, 1, 8, 16, 9, 2]
    """

    _parameter_constraints = {
        "k": [Interval(Integral, 1, None, closed="left"), StrOptions({"all"})],
        "score_func": [StrOptions({*_SCORES, "order"}), callable, HasMethods(["fit"])],
        "pool": [StrOptions({"mean", "max"})],
        "random_state": ["random_state"],
        "dtype": "no_validation",  # checked when used
    }

    def __init__(
        self, k=16, *, score_func="f_classif", pool="mean", random_state=None, dtype=None
    ):
        self.k = k
        self.score_func = score_func
        self.pool = pool
        self.random_state = random_state
        self.dtype = dtype

    @_fit_context(prefer_skip_nested_validation=False)
    @unfitted_on_error
    def fit(self, X, y=None):
        """Score every channel of ``X`` against ``y`` and keep the best ``k``.

        Parameters
        ----------
        X : array-like
            A transform's output (:class:`~skcompress.BlockDCT`,
            :class:`~skcompress.MDCT`, :class:`~skcompress.WaveletTransform`),
            or a 2-D array whose columns are the channels.
        y : array-like of shape (n_samples,)
            Targets; None only for ``score_func="order"``.

        Returns
        -------
        self : FrequencySelector
        """
        structure = read_structure(self, X, reset=True)
        self._check_kind(structure)
        X = check_signals(self, X, reset=True, dtype=_DTYPES, max_ndim=None)
        if structure is None and X.ndim > 2:
            raise ValueError(
                "FrequencySelector reads the structure of a transform's output to know what "
                f"a channel is; X is a plain array of shape {X.shape}. Put it right after the "
                "transform (BlockDCT, MDCT, WaveletTransform), or pass 2-D rows whose columns "
                "are the channels."
            )
        if self.score_func != "order":
            if y is None:
                raise ValueError(
                    f"FrequencySelector requires y to be passed, but the target y is None: "
                    f"score_func={self._score_name()} ranks channels by their information about "
                    "y. Pass y, or score_func='order' for the transform's own order."
                )
            y = column_or_1d(y, warn=True)
            check_consistent_length(X, y)
            if len(X) < 2:
                raise ValueError(
                    f"FrequencySelector: score_func={self._score_name()} needs at least 2 "
                    f"samples to score the channels; got n_samples = {len(X)}."
                )
        cells, channel_of, n_channels = self._channels(X, structure)
        self.n_channels_ = n_channels
        k = n_channels if self.k == "all" else self.k
        if k > n_channels:
            raise ValueError(
                f"FrequencySelector: k={self.k} exceeds the {n_channels} channels of its input"
                + (f", {structure.describe()}" if structure is not None else "")
                + f". Set k to at most {n_channels}."
            )
        if self.score_func == "order":
            scores = -self._order(structure, n_channels)
        else:
            values = X.reshape(len(X), -1)[:, cells.reshape(-1)]
            scores = self._pool(self._value_scores(values, y).reshape(cells.shape), channel_of)
        self.scores_ = scores
        kept = np.argsort(-scores, kind="stable")[:k]
        self.support_ = np.zeros(n_channels, dtype=bool)
        self.support_[kept] = True
        values = np.flatnonzero(self.support_[channel_of])  # in the transform's order
        if structure is None:
            self.positions_ = values.astype(np.int64)
            self.output_structure_ = None
            self.feature_indices_ = cells[0, values].astype(np.int64)
            return self
        self.positions_ = cell_positions(structure)[values]
        self.output_structure_ = replace(
            structure,
            producer="FrequencySelector",
            depth=1,
            k=len(values),
            positions=tuple(int(p) for p in self.positions_),
        )
        index = cells[:, values].reshape(1, *structure.grid, 1, len(values))
        self.feature_indices_ = np.asarray(self.output_structure_.emit(index)).reshape(-1)
        return self

    @chunked
    def transform(self, X):
        """The kept channels of ``X``, in the transform's layout.

        Parameters
        ----------
        X : array-like of the shape seen at ``fit``

        Returns
        -------
        X_selected : ndarray
            The input's dtype (or ``dtype``); with the structure of the kept
            values after a skcompress transform, a plain 2-D array otherwise.
        """
        check_is_fitted(self)
        read_structure(self, X, reset=False)
        X = check_signals(self, X, reset=False, dtype=_DTYPES, max_ndim=None)
        out = X.reshape(len(X), -1)[:, self.feature_indices_]
        structure = self.output_structure_
        if structure is None:
            return out
        return with_structure(out.reshape(len(X), *structure.sample_shape), structure)

    @chunked
    def inverse_transform(self, X):
        """The input's shape back: kept values in place, zeros for the dropped channels.

        Parameters
        ----------
        X : array-like, of the shape :meth:`transform` returns

        Returns
        -------
        X_full : ndarray of shape (n_samples, *signal_shape_)
            With the input's structure, for the transform's ``inverse_transform``.
        """
        check_is_fitted(self)
        Xt = np.asarray(X)
        m = len(self.feature_indices_)
        if Xt.ndim < 2 or int(np.prod(Xt.shape[1:])) != m:
            raise ValueError(
                f"FrequencySelector.inverse_transform expects {m} values per sample, as "
                f"transform returns them; got an array of shape {Xt.shape}."
            )
        full = np.zeros((len(Xt), self.n_features_in_), dtype=Xt.dtype)
        full[:, self.feature_indices_] = Xt.reshape(len(Xt), m)
        return with_structure(full.reshape(len(Xt), *self.signal_shape_), self.input_structure_)

    def get_support(self, indices=False):
        """The kept channels, as a mask or as indices.

        Parameters
        ----------
        indices : bool, default=False
            Indices instead of a mask.

        Returns
        -------
        support : ndarray of shape (n_channels,) (bool) or (k,) (int)
        """
        check_is_fitted(self)
        return np.flatnonzero(self.support_) if indices else self.support_.copy()

    def score_map(self):
        """The channels' scores laid out as the transform's cells, for a quantization table.

        Returns
        -------
        scores : ndarray of float64
            Block DCT: ``(block_size, block_size)`` in row-major frequency
            order (``(planes, block_size, block_size)`` for several planes;
            ``(block_size,)`` for 1-D blocks), NaN where the input carried
            no coefficient; otherwise ``scores_``. Give it to
            :class:`~skcompress.quantization.ScoreRampTable`.
        """
        check_is_fitted(self)
        structure = self.input_structure_
        if structure is None or structure.kind != "dct":
            return self.scores_.copy()
        b, d = structure.block_size, structure.n_spatial
        planes = len(structure.channels) if structure.positions is not None else structure.depth
        out = np.full(max(planes, 1) * b**d, np.nan)
        out[cell_positions(structure)] = self.scores_
        shape = (b,) * d
        return out.reshape(shape if planes <= 1 else (planes, *shape))

    def get_feature_names_out(self, input_features=None):
        """Names of the kept values: the input's names (``x0``, ... for unnamed columns).

        Parameters
        ----------
        input_features : array-like of str or None
            The input's names, e.g. :meth:`BlockDCT.get_feature_names_out
            <skcompress.BlockDCT.get_feature_names_out>`'s.

        Returns
        -------
        feature_names_out : ndarray of str
        """
        check_is_fitted(self)
        names = _check_feature_names_in(self, input_features)
        return np.asarray(names, dtype=object)[self.feature_indices_]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    @classmethod
    def get_test_params(cls):
        return [
            {"k": 1},
            {"k": 1, "score_func": "mutual_info", "pool": "max", "random_state": 0},
        ]

    # -- helpers -----------------------------------------------------------

    def _score_name(self):
        return (
            repr(self.score_func)
            if isinstance(self.score_func, str)
            else type(self.score_func).__name__
        )

    def _check_kind(self, structure):
        """Refuse what is not a transform's coefficients, or what was already quantized."""
        name = "FrequencySelector"
        if structure is None:
            return
        if structure.quantized:
            raise refuse(
                name,
                structure,
                "a transform's coefficients, before they are quantized",
                "Put it between the transform and the quantizer (BlockDCT -> "
                "FrequencySelector -> PerceptualQuantizer): after the quantizer, the rate "
                "still counts every coded value. For JPEGCodec, set its n_coefficients, or use "
                "BlockDCT, FrequencySelector and PerceptualQuantizer.",
            )
        if structure.kind not in _READS:
            raise refuse(
                name,
                structure,
                "a transform's coefficients (block DCT, MDCT frames, wavelet subbands)",
                "Put a transform (BlockDCT, MDCT, WaveletTransform) before it.",
            )

    def _channels(self, X, structure):
        """``(cells, channel_of, n_channels)``: the layout of the values as channels.

        ``cells[g, v]`` is the index (among a sample's flattened values) of
        value ``v`` of grid cell ``g``; ``channel_of[v]`` its channel.
        """
        n_values = int(np.prod(X.shape[1:]))
        index = np.arange(n_values).reshape(1, *X.shape[1:])
        if structure is None:
            cells = index.reshape(1, n_values)
        else:
            blocks = structure.blocks(index)
            cells = blocks.reshape(int(np.prod(structure.grid)), -1)
        per_cell = cells.shape[1]
        if structure is not None and structure.kind == "subbands" and structure.positions is None:
            sizes = _subband_sizes(structure)
            channel_of = np.repeat(np.arange(len(sizes)), sizes)
            return cells, channel_of, len(sizes)
        components = _components(structure)
        if components is not None:
            k = structure.k
            channel_of = (components[:, None] * k + np.arange(k)).reshape(-1)
            return cells, channel_of, int(components[-1] + 1) * k
        return cells, np.arange(per_cell), per_cell

    @staticmethod
    def _order(structure, n_channels):
        """Rank of every channel in the transform's own order ("order" keeps the first k)."""
        planes = 1
        if structure is not None and structure.kind == "dct" and structure.positions is None:
            components = _components(structure)
            planes = structure.depth if components is None else int(components[-1] + 1)
        # frequency by frequency, plane by plane: the first k of every plane together
        j = np.arange(n_channels)
        return ((j % (n_channels // planes)) * planes + j // (n_channels // planes)).astype(
            np.float64
        )

    def _value_scores(self, values, y):
        """One score per column of ``values`` (finite or +inf; NaN read as 0)."""
        score = self.score_func
        if isinstance(score, str):
            function = _SCORES[score]
            kwargs = {}
            if score in _RANDOMIZED:
                seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
                kwargs = {"random_state": seed}
            with warnings.catch_warnings():
                # constant values (blank borders) give 0/0: read as no information
                warnings.simplefilter("ignore", RuntimeWarning)
                warnings.filterwarnings("ignore", message="Features ", category=UserWarning)
                out = function(values, y, **kwargs)
        elif hasattr(score, "fit"):
            out = _importances(clone(score).fit(values, y), values)
        else:
            out = score(values, y)
        if isinstance(out, tuple):
            out = out[0]
        out = np.asarray(out, dtype=np.float64)
        if out.shape != (values.shape[1],):
            raise ValueError(
                f"FrequencySelector: score_func={self._score_name()} gave scores of shape "
                f"{out.shape} for {values.shape[1]} values; expected one score per column "
                "of the 2-D array it is given."
            )
        return np.where(np.isnan(out), 0.0, out)

    def _pool(self, scores, channel_of):
        """Channel scores from ``scores[g, v]`` (grid cell, value of the cell)."""
        n = channel_of.max() + 1
        if self.pool == "max":
            out = np.full(n, -np.inf)
            np.maximum.at(out, channel_of, scores.max(axis=0))
            return out
        sums = np.bincount(channel_of, weights=scores.sum(axis=0), minlength=n)
        return sums / (len(scores) * np.bincount(channel_of, minlength=n))


def _components(structure):
    """Component of every plane of JPEG's minimum coded units (luma slots share one), or None.

    After :class:`~skcompress.ChromaSubsampler`, a cell holds the ``v x h``
    luma blocks of an MCU, then Cb and Cr: the luma blocks are one
    component, so they keep the same frequencies, as a file's component does.
    """
    if structure is None or structure.kind != "dct" or structure.positions is not None:
        return None
    slots = int(np.prod(structure.factors)) if structure.factors else 1
    if slots < 2 or structure.depth != slots + 2:
        return None
    return np.r_[np.zeros(slots, dtype=np.int64), 1, 2]


def _importances(model, values):
    """A fitted model's importance of each column: trees' own, or standardized ``|coef_|``."""
    importances = getattr(model, "feature_importances_", None)
    if importances is not None:
        return np.asarray(importances, dtype=np.float64)
    coef = getattr(model, "coef_", None)
    if coef is None:
        raise TypeError(
            f"FrequencySelector: score_func={type(model).__name__} has neither "
            "feature_importances_ nor coef_ once fitted; pass a model that has one (a tree "
            "ensemble, a linear model) or a score function."
        )
    coef = np.abs(np.asarray(coef, dtype=np.float64)).reshape(-1, values.shape[1])
    return coef.sum(axis=0) * values.std(axis=0)


def _subband_sizes(structure):
    """Coefficients of every subband of every channel, in WaveletTransform's output order."""
    settings = dict(structure.settings)
    wavelet = pywt.Wavelet(JPEG2000_WAVELETS.get(settings["wavelet"], settings["wavelet"]))
    level, mode = settings["level"], settings["mode"]
    lengths = [tuple(structure.image_shape)]
    for _ in range(level):
        lengths.append(tuple(pywt.dwt_coeff_len(s, wavelet.dec_len, mode) for s in lengths[-1]))
    details = 3 if len(lengths[0]) == 2 else 1
    sizes = [int(np.prod(lengths[level]))]
    for j in range(level, 0, -1):
        sizes += [int(np.prod(lengths[j]))] * details
    channels = max(1, len(structure.channels))
    sizes = sizes * channels
    if sum(sizes) != structure.k:
        raise refuse(
            "FrequencySelector",
            structure,
            "wavelet subbands whose sizes its settings give",
            "Pass the WaveletTransform's output itself.",
        )
    return sizes
