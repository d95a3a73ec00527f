"""A parametric family of quantization matrices, searchable as hyperparameters."""

from numbers import Integral, Real

import numpy as np

from .._core._basis import zigzag_order


class FrequencyRampTable:
    """Quantization matrix ``Q(i, j) = base * (1 + slope * (i + j))``, steps rising with frequency.

    The textbook family of JPEG quantization tables (Nelson and Gailly, *The
    Data Compression Book*, 1995, chapter 11: ``Q = 1 + (1 + i + j) *
    quality``): one step for the DC coefficient, and steps that grow linearly
    with the sum of the vertical and horizontal frequency indices ``i`` and
    ``j``, as the eye's contrast sensitivity falls. ``base`` sets the overall
    rate and ``slope`` how much harder high frequencies are quantized than
    low ones; ``slope=0`` is uniform quantization.

    Give it to :class:`~skcompress.PerceptualQuantizer` as its ``table``: it
    is array-like (``numpy.asarray`` gives the ``(block_size, block_size)``
    matrix) and has ``get_params`` / ``set_params``, so ``GridSearchCV``
    reaches its parameters through the quantizer's:
    ``perceptualquantizer__table__base``, ``perceptualquantizer__table__slope``.

    With ``scores`` (what each frequency says about the labels, e.g.
    :meth:`FrequencySelector.score_map <skcompress.FrequencySelector.score_map>`),
    the same ramp follows the frequencies ranked by score instead of the
    zig-zag scan: the frequency ranked ``r``-th gets the step of the
    ``r``-th position of the scan, ``base * (1 + slope * d_r)`` with
    ``d_r = i + j`` of that position. The steps then grow where the score is
    low, and a grid search over ``base`` and ``slope`` searches the tables
    that spend the bits on what the task needs; scores that fall along the
    scan give the plain ramp.

    Parameters
    ----------
    base : float > 0, default=16.0
        Step of the DC coefficient.
    slope : float >= 0, default=0.5
        Growth of the step per unit of ``i + j``.
    block_size : int >= 1, default=8
        Side of the matrix.
    scores : array-like of shape (block_size, block_size) or (planes, block_size, block_size), \
default=None
        Score of every frequency (row-major, NaN for none; higher is more
        useful), one matrix per plane for a table per plane. None: the ramp
        along ``i + j``. Scores are data: compute them on training samples
        only (a :class:`~skcompress.FrequencySelector` fitted on them).

    See Also
    --------
    skcompress.PerceptualQuantizer : the quantizer that uses the table.
    skcompress.quantization.ijg_scale : JPEG's quality scaling of any table.

    Examples
    --------
    >>> import numpy as np
    >>> from skcompress import BlockDCT, PerceptualQuantizer
    >>> from skcompress.quantization import FrequencyRampTable
    >>> table = FrequencyRampTable(base=10, slope=0.5, block_size=4)
    >>> np.asarray(table)[0].tolist()        # first row: i = 0, j = 0..3
    [10.0, 15.0, 20.0, 25.0]
    >>> X = np.random.default_rng(0).uniform(0, 255, size=(3, 8, 8))
    >>> q = PerceptualQuantizer(table=table).fit(BlockDCT(4).fit_transform(X))
    >>> q.steps_[:3].tolist()                 # zig-zag order: (0, 0), (0, 1), (1, 0)
    [10.0, 15.0, 15.0]
    >>> q.set_params(table__slope=0.0).get_params()["table__slope"]
    0.0

    In a grid search:

    >>> from sklearn.model_selection import ParameterGrid
    >>> grid = {"perceptualquantizer__table__base": [4, 16],
    ...         "perceptualquantizer__table__slope": [0.0, 1.0]}
    >>> len(ParameterGrid(grid))
    4

    Guided by scores: here the vertical frequencies (first column) matter
    most, so they get the small steps that the ramp gives the first
    positions of the scan:

    >>> scores = np.zeros((4, 4)); scores[:, 0] = [4, 3, 2, 1]
    >>> np.asarray(FrequencyRampTable(10, 0.5, 4, scores=scores))[:, 0].tolist()
    [10.0, 15.0, 15.0, 20.0]
    """

    def __init__(self, base=16.0, slope=0.5, block_size=8, scores=None):
        self.base = base
        self.slope = slope
        self.block_size = block_size
        self.scores = scores

    def matrix(self):
        """The ``(block_size, block_size)`` matrix of steps.

        Returns
        -------
        table : ndarray of float64, shape (block_size, block_size)
        """
        base, slope, b = self.base, self.slope, self.block_size
        if not isinstance(b, Integral) or isinstance(b, bool) or b < 1:
            raise ValueError(f"FrequencyRampTable: block_size must be an int >= 1; got {b!r}.")
        if not isinstance(base, Real) or isinstance(base, bool) or not base > 0:
            raise ValueError(f"FrequencyRampTable: base must be a number > 0; got {base!r}.")
        if not isinstance(slope, Real) or isinstance(slope, bool) or not slope >= 0:
            raise ValueError(f"FrequencyRampTable: slope must be a number >= 0; got {slope!r}.")
        if not (np.isfinite(base) and np.isfinite(slope)):
            raise ValueError(
                f"FrequencyRampTable: base and slope must be finite; got {base!r}, {slope!r}."
            )
        i = np.arange(b)
        ramp = float(base) * (1.0 + float(slope) * (i[:, None] + i[None, :]))
        if self.scores is None:
            return ramp
        scores = self._scores()
        zigzag = zigzag_order(b)
        planes = scores.reshape(-1, b * b)
        # rank every plane's frequencies by score (NaN last; ties in scan order)
        keys = np.where(np.isnan(planes), -np.inf, planes)[:, zigzag]
        ranked = zigzag[np.argsort(-keys, axis=1, kind="stable")]
        out = np.empty_like(planes)
        out[np.arange(len(planes))[:, None], ranked] = ramp.reshape(-1)[zigzag]
        return out.reshape(scores.shape)

    def _scores(self):
        b = self.block_size
        try:
            scores = np.asarray(self.scores, dtype=np.float64)
        except (TypeError, ValueError):
            scores = None
        if scores is None or scores.shape[-2:] != (b, b) or scores.ndim not in (2, 3):
            shape = "None" if scores is None else str(scores.shape)
            raise ValueError(
                f"FrequencyRampTable: scores must be a ({b}, {b}) matrix (or one per plane, "
                f"(planes, {b}, {b})) for block_size={b}; got an array of shape {shape}."
            )
        return scores

    def __array__(self, dtype=None, copy=None):
        table = self.matrix()
        return table if dtype is None else table.astype(dtype)

    def __len__(self):
        return self.shape[0]

    @property
    def shape(self):
        if self.scores is not None:
            return tuple(np.shape(self.scores))
        return (self.block_size, self.block_size)

    @property
    def ndim(self):
        return len(self.shape)

    def get_params(self, deep=True):
        """Parameters, as scikit-learn estimators give them.

        Parameters
        ----------
        deep : bool, default=True
            Ignored (no nested parameters).

        Returns
        -------
        params : dict
        """
        return {
            "base": self.base,
            "slope": self.slope,
            "block_size": self.block_size,
            "scores": self.scores,
        }

    def set_params(self, **params):
        """Set parameters (``base``, ``slope``, ``block_size``, ``scores``).

        Parameters
        ----------
        **params : dict

        Returns
        -------
        self : FrequencyRampTable
        """
        for key, value in params.items():
            if key not in ("base", "slope", "block_size", "scores"):
                raise ValueError(
                    f"FrequencyRampTable has no parameter {key!r}; it has base, slope, "
                    "block_size and scores."
                )
            setattr(self, key, value)
        return self

    def __eq__(self, other):
        if not isinstance(other, FrequencyRampTable):
            return NotImplemented
        mine, theirs = self.get_params(), other.get_params()
        a, b = mine.pop("scores"), theirs.pop("scores")
        same = (a is None and b is None) or (
            a is not None and b is not None and np.array_equal(a, b, equal_nan=True)
        )
        return same and mine == theirs

    def __hash__(self):
        scores = None if self.scores is None else np.asarray(self.scores).tobytes()
        return hash((FrequencyRampTable, self.base, self.slope, self.block_size, scores))

    def __repr__(self):
        scores = (
            ""
            if self.scores is None
            else f", scores=<array of shape {tuple(np.shape(self.scores))}>"
        )
        return (
            f"FrequencyRampTable(base={self.base!r}, slope={self.slope!r}, "
            f"block_size={self.block_size!r}{scores})"
        )
