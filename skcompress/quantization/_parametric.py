"""A parametric family of quantization matrices, searchable as hyperparameters."""

from numbers import Integral, Real

import numpy as np


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

    Parameters
    ----------
    base : float > 0, default=16.0
        Step of the DC coefficient.
    slope : float >= 0, default=0.5
        Growth of the step per unit of ``i + j``.
    block_size : int >= 1, default=8
        Side of the matrix.

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
    """

    def __init__(self, base=16.0, slope=0.5, block_size=8):
        self.base = base
        self.slope = slope
        self.block_size = block_size

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
        return float(base) * (1.0 + float(slope) * (i[:, None] + i[None, :]))

    def __array__(self, dtype=None, copy=None):
        table = self.matrix()
        return table if dtype is None else table.astype(dtype)

    def __len__(self):
        return self.block_size

    @property
    def shape(self):
        return (self.block_size, self.block_size)

    @property
    def ndim(self):
        return 2

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
        return {"base": self.base, "slope": self.slope, "block_size": self.block_size}

    def set_params(self, **params):
        """Set parameters (``base``, ``slope``, ``block_size``).

        Parameters
        ----------
        **params : dict

        Returns
        -------
        self : FrequencyRampTable
        """
        for key, value in params.items():
            if key not in ("base", "slope", "block_size"):
                raise ValueError(
                    f"FrequencyRampTable has no parameter {key!r}; it has base, slope and "
                    "block_size."
                )
            setattr(self, key, value)
        return self

    def __eq__(self, other):
        if not isinstance(other, FrequencyRampTable):
            return NotImplemented
        return self.get_params() == other.get_params()

    def __hash__(self):
        return hash((FrequencyRampTable, self.base, self.slope, self.block_size))

    def __repr__(self):
        return f"FrequencyRampTable(base={self.base!r}, slope={self.slope!r}, " + (
            f"block_size={self.block_size!r})"
        )
