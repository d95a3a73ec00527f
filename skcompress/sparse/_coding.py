"""Sparse codes as a transform and a quantizer: the shared steps, and OMP over any dictionary."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._core._chunks import chunked
from .._core._contract import LAYOUTS, check_input_features, check_signals, from_layout, to_layout
from .._core._docs import chunk_parameters, fill_doc
from .._core._estimator import PublicEstimatorMixin, unfitted_on_error
from .._core._limits import MAX_ATOMS
from .._core._statistics import CategoricalStatistics
from .._core._structure import (
    Structure,
    indivisible,
    read_cells,
    read_structure,
    refuse,
    with_structure,
)
from ._dictionary import _atom_shape, overcomplete_dct
from ._omp import check_dictionary, dense_codes, omp_support, resolve_sparsity

# The entropy model of quantized codes is fitted on at most this many vectors.
_ENTROPY_FIT_VECTORS = 1 << 16

_SPARSITY_CONSTRAINTS = {
    "n_nonzero_coefs": [Interval(Integral, 1, None, closed="left"), None],
    "tol": [Interval(Real, 0, None, closed="left"), None],
    "algorithm": [StrOptions({"omp", "ormp"})],
    "quantization_step": [Interval(Real, 0, None, closed="neither"), None],
    "vector_size": [Interval(Integral, 1, None, closed="left"), None],
    "layout": [StrOptions(set(LAYOUTS))],
}


#: The Notes of the coders on what they read (filled into their docstrings).
STRUCTURE_NOTES = """\
After another skcompress step, the last axis is what that step says one
of its cells is, in any of its layouts (so ``vector_size=None`` takes one
cell per vector): a patch of :class:`Patches`, a block of
:class:`~skcompress.BlockDCT` coefficients (per channel), a frame of
:class:`~skcompress.MDCT`, all the subbands of a
:class:`~skcompress.WaveletTransform`. Images are read as the images
they are, as if given directly (the colours of a pixel, the rows of a
gray image: put ``Patches`` first for blocks of pixels). Quantized
coefficients are vectors too; codes of another coder are refused. The
codes carry ``output_structure_`` (kind "codes"), and
:meth:`inverse_transform` gives the vectors back in the layout of the
step before.
"""


class _SparseCodes:
    """What every sparse coder shares: vectors in, codes out, and back; their rate.

    A subclass's ``fit`` calls :meth:`_vectors` with ``reset=True`` and then
    :meth:`_set_dictionary`.
    """

    # -- the transform -----------------------------------------------------

    @chunked
    def transform(self, X):
        """Sparse codes of ``X``: OMP of every vector over the dictionary.

        Parameters
        ----------
        X : array-like of shape (n_samples, *signal_shape)
            Samples of the shape seen at ``fit``; vectors along the last axis
            (see ``vector_size``).

        Returns
        -------
        codes : ndarray
            In ``layout``: by default ``(n_samples, n_vectors_ * n_components_)``
            with the atom fastest, at most ``n_nonzero_coefs`` nonzeros per
            vector. Float in the dtype of ``components_``; int32
            quantization levels ``round(coefficient / quantization_step)``
            with ``quantization_step``.
        """
        check_is_fitted(self)
        V = self._vectors(X, reset=False)
        codes = dense_codes(*self._codes(V), self.n_components_)
        n = len(V) // self.n_vectors_
        codes = to_layout(codes.reshape(n, *self._grid, 1, self.n_components_), self.layout, self)
        return with_structure(codes, self.output_structure_)

    @chunked
    def inverse_transform(self, X):
        """Signals from sparse codes: ``codes @ components_``, in the shape seen at ``fit``.

        Parameters
        ----------
        X : array-like
            Codes as ``transform`` gives them (the "flat" 2-D layout always
            works): coefficients, or quantization levels with
            ``quantization_step``.

        Returns
        -------
        X_original : ndarray of shape (n_samples, *signal_shape_)
            In the dtype of ``components_``; after another skcompress step,
            in that step's layout (with its structure).
        """
        check_is_fitted(self)
        codes = np.asarray(X)
        name = f"{type(self).__name__}.inverse_transform"
        if codes.dtype.kind not in "fiub":
            raise ValueError(f"{name} expects numeric codes; got dtype {codes.dtype}.")
        K, n = self.n_components_, len(codes)
        codes = from_layout(codes, self._grid, 1, K, self.layout, name).reshape(-1, K)
        dtype = self.components_.dtype
        values = codes.astype(dtype, copy=False)
        if self.quantization_step is not None:
            values = values * dtype.type(self.quantization_step)
        out = (values @ self.components_).reshape(n, *self.signal_shape_)
        structure = self.input_structure_
        if structure is None:
            return out
        # back in the layout of the step before, for its inverse_transform
        return structure.emit(out.reshape(n, *structure.grid, structure.depth, structure.k))

    # -- rate ---------------------------------------------------------------

    def bits_per_sample(self, X, coding="fixed"):
        """Bits per sample that the quantized sparse codes of ``X`` cost.

        Needs ``quantization_step``: float coefficients have no finite rate.

        Parameters
        ----------
        X : array-like of shape (n_samples, *signal_shape)
            Samples, as given to ``transform``.
        coding : {"fixed", "entropy"}, default="fixed"
            "fixed": an explicit, self-delimiting code, exact: per vector its
            number of nonzeros in ``ceil(log2(n_nonzero_coefs + 1))`` bits,
            then per nonzero its atom index in ``ceil(log2(n_components))``
            bits and its level as an Elias-gamma code of the magnitude plus a
            sign bit (:meth:`bit_allocation` gives the three parts). "entropy":
            the ideal code length under ``entropy_model_``, the counts of
            each atom's levels in the training codes (zeros included, so an atom's
            index costs what its frequency says); what
            :class:`skcompress.codecs.Codec` writes with
            ``model=coder.entropy_model_``, within a few bits per sample.

        Returns
        -------
        bits : float
            Mean bits per sample.
        """
        check_is_fitted(self)
        if coding not in ("fixed", "entropy"):
            raise ValueError(
                f"{type(self).__name__}.bits_per_sample: coding must be 'fixed' or 'entropy'; "
                f"got {coding!r}."
            )
        levels, n = self._levels(X, "bits_per_sample")
        if coding == "fixed":
            return _fixed_bits(levels, n, self._n_steps, self.n_components_)["total"]
        dense = dense_codes(*levels, self.n_components_)
        return float(self.entropy_model_.code_lengths(dense).sum() / n)

    def bit_allocation(self, X):
        """The parts of the fixed-length code of ``bits_per_sample(X, coding="fixed")``.

        Parameters
        ----------
        X : array-like of shape (n_samples, *signal_shape)

        Returns
        -------
        bits : dict
            Mean bits per sample spent on ``"count"`` (nonzeros per vector),
            ``"index"`` (atom indices) and ``"coefficient"`` (levels), and
            their ``"total"``.
        """
        check_is_fitted(self)
        levels, n = self._levels(X, "bit_allocation")
        return _fixed_bits(levels, n, self._n_steps, self.n_components_)

    def get_feature_names_out(self, input_features=None):
        """Names of the "flat" codes: ``atom<k>``, or ``vec<v>_atom<k>`` for several vectors.

        Parameters
        ----------
        input_features : array-like of str or None
            Ignored except for a length check.

        Returns
        -------
        feature_names_out : ndarray of str
        """
        check_is_fitted(self)
        check_input_features(self, input_features)
        atoms = [f"atom{k}" for k in range(self.n_components_)]
        if self.n_vectors_ == 1:
            return np.asarray(atoms, dtype=object)
        names = [f"vec{v}_{a}" for v in range(self.n_vectors_) for a in atoms]
        return np.asarray(names, dtype=object)

    @property
    def output_structure_(self):
        """:class:`~skcompress._core._structure.Structure` of :meth:`transform`'s output.

        Kind "codes" (quantized with ``quantization_step``): ``grid`` is the
        shape of the vectors in a sample, ``k = n_components_``, in ``layout``.
        """
        check_is_fitted(self)
        return Structure(
            "codes",
            type(self).__name__,
            tuple(self._grid),
            1,
            self.n_components_,
            self.layout,
            quantized=self.quantization_step is not None,
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        quantized = self.quantization_step is not None
        tags.transformer_tags.preserves_dtype = [] if quantized else ["float64", "float32"]
        return tags

    # -- helpers -----------------------------------------------------------

    def _vectors(self, X, *, reset):
        """``X`` as a C-contiguous ``(n_samples * n_vectors, vector_size)`` array."""
        structure = read_structure(self, X, reset=reset)
        X = _read_vectors(type(self).__name__, X, structure)
        X = check_signals(self, X, reset=reset, max_ndim=None)
        length = X.shape[-1]
        if reset:
            size = length if self.vector_size is None else self.vector_size
            if length % size:
                raise indivisible(type(self).__name__, size, length, X, structure)
            self.vector_size_ = size
            self.n_vectors_ = X[0].size // size
        fitted = getattr(self, "components_", None)
        dtype = fitted.dtype if fitted is not None and not reset else X.dtype
        return np.ascontiguousarray(X.reshape(-1, self.vector_size_), dtype=dtype)

    def _set_dictionary(self, D, norms=None):
        """Fitted state of the dictionary ``D`` (atoms as rows, ``norms`` their norms)."""
        D = np.ascontiguousarray(D)
        self.components_ = D
        self.n_components_ = len(D)
        self._n_steps = resolve_sparsity(
            self.n_nonzero_coefs, self.tol, *D.shape, owner=type(self).__name__
        )
        self._norms = None if norms is None else np.asarray(norms, dtype=D.dtype)
        atoms = D if norms is None else D / self._norms[:, None]
        self._atoms = atoms
        self._gram = atoms @ atoms.T

    def _codes(self, V):
        """Compact codes of vectors ``V``: support (-1 padded) and coefficients or levels."""
        support, coefficients = omp_support(
            V, self._atoms, self._gram, self._n_steps, self.tol, algorithm=self.algorithm
        )
        if self._norms is not None:
            valid = support >= 0
            coefficients[valid] /= self._norms[support[valid]]
        if self.quantization_step is None:
            return support, coefficients
        levels = np.rint(coefficients / self.quantization_step)
        levels = np.clip(levels, -(2**31 - 1), 2**31 - 1).astype(np.int32)
        support = np.where(levels != 0, support, -1)
        return support, levels

    def _levels(self, X, name):
        if self.quantization_step is None:
            raise ValueError(
                f"{type(self).__name__}.{name} needs quantization_step: float coefficients "
                "have no finite rate; got quantization_step=None."
            )
        V = self._vectors(X, reset=False)
        return self._codes(V), len(V) // self.n_vectors_

    def _fit_entropy_model(self, V, rng):
        """Each atom's distribution of levels, fitted on (a sample of) the training vectors."""
        if self.quantization_step is None:
            return
        if len(V) > _ENTROPY_FIT_VECTORS:
            V = V[np.sort(rng.choice(len(V), _ENTROPY_FIT_VECTORS, replace=False))]
        self.entropy_model_ = CategoricalStatistics().fit(
            dense_codes(*self._codes(V), self.n_components_)
        )

    @property
    def _grid(self):
        shape = self.signal_shape_
        per_row = shape[-1] // self.vector_size_
        return shape[:-1] if per_row == 1 and len(shape) > 1 else (*shape[:-1], per_row)

    def _dct_atom_shape(self, owner):
        """Shape of the atoms of the overcomplete DCT: ``atom_shape``, or read from the input.

        After :class:`Patches` of square gray image patches, whole patches as
        vectors: the patch, so that the atoms are 2-D cosines. Otherwise 1-D
        atoms of ``vector_size_``.
        """
        d = self.vector_size_
        if self.atom_shape is not None:
            shape = _atom_shape(self.atom_shape, owner)
            if int(np.prod(shape)) != d:
                raise ValueError(
                    f"{owner}: atom_shape={self.atom_shape} holds {int(np.prod(shape))} values "
                    f"but the vectors have {d} (vector_size_)."
                )
            return shape
        structure = self.input_structure_
        side = None if structure is None else structure.block_size
        if structure is not None and structure.kind == "patches" and side and side * side == d:
            return (side, side)
        return (d,)


def _read_vectors(owner, X, structure):
    """``X`` as ``(n, *cells, values)`` where ``structure`` says what a cell is, or a refusal.

    Images as the images they are (``(n, H, W[, C])``, as if given directly);
    coefficients, frames, patches and subbands as ``(n, *grid, [depth,] k)``.
    """
    if structure is None:
        return X
    if structure.kind == "codes":
        raise refuse(
            owner,
            structure,
            "vectors of values (patches, coefficients, frames, pixels)",
            "Code the values, not codes: put it right after the step that made them (or "
            "pass np.asarray(X) to code the numbers as they are).",
        )
    return read_cells(owner, X, structure)


def _fixed_bits(levels, n_samples, n_steps, n_atoms):
    support, values = levels
    nonzero = support >= 0
    magnitude = np.abs(values[nonzero]).astype(np.float64)
    count_bits = int(np.ceil(np.log2(n_steps + 1))) * len(support)
    index_bits = int(np.ceil(np.log2(n_atoms))) * int(nonzero.sum())
    coefficient_bits = float((2 * np.floor(np.log2(magnitude)) + 2).sum())
    parts = {
        "count": count_bits / n_samples,
        "index": index_bits / n_samples,
        "coefficient": coefficient_bits / n_samples,
    }
    parts["total"] = float(sum(parts.values()))
    return {key: float(value) for key, value in parts.items()}


@chunk_parameters(device=False)
class OMPCoder(_SparseCodes, TransformerMixin, PublicEstimatorMixin, BaseEstimator):
    """Sparse codes over a fixed dictionary by batch orthogonal matching pursuit.

    The transform half of a sparse dictionary codec, for any dictionary: one
    learned by :class:`KSVD` or by scikit-learn
    (``MiniBatchDictionaryLearning().fit(X).components_``), or the
    overcomplete DCT. Every vector of every sample is coded by OMP
    (:func:`batch_omp`: Gram matrix, progressive Cholesky, all vectors at
    once) with at most ``n_nonzero_coefs`` atoms or until its squared residual
    is at most ``tol``. With ``quantization_step`` the codes are integer
    levels, a quantizer with a rate (:meth:`bits_per_sample`), so a sparse
    coder sits in rate-accuracy comparisons like any other quantizer.

    Parameters
    ----------
    dictionary : "dct" or array-like of shape (n_atoms, vector_size), default="dct"
        Atoms, one per row. They need not have unit norm (OMP picks atoms by
        normalized correlation; the codes are coefficients of the atoms as
        given) but none may have zero norm. "dct": the overcomplete DCT of
        ``n_components`` atoms of shape ``atom_shape``
        (:func:`overcomplete_dct`).
    n_components : int in [1, 8192] or None, default=None
        Atoms of the "dct" dictionary; None: ``vector_size`` (the orthonormal
        DCT). Must be None for an array dictionary.
    atom_shape : int, tuple of int or None, default=None
        Shape of one atom of the "dct" dictionary, e.g. ``(8, 8)`` for 8x8
        patches; None: the patch after :class:`Patches` of square gray
        patches, else 1-D atoms of length ``vector_size``.
    n_nonzero_coefs : int or None, default=None
        Most atoms per vector. None: 10% of ``vector_size`` (at least 1) when
        ``tol`` is None, otherwise ``min(n_atoms, vector_size)``.
    tol : float or None, default=None
        Stop coding a vector once its squared residual norm is at most
        ``tol`` (as :func:`sklearn.linear_model.orthogonal_mp`).
    algorithm : {"omp", "ormp"}, default="omp"
        Which atom joins a vector's support at each step: the most
        correlated with the residual (OMP, scikit-learn's codes), or the one
        that most reduces it (order-recursive matching pursuit, SPAMS'
        ``omp``); see :func:`batch_omp`.
    quantization_step : float or None, default=None
        Quantize the coefficients to int32 levels ``round(c / step)``
        (atoms whose level is 0 drop out); ``inverse_transform`` dequantizes.
        None: float codes.
    vector_size : int or None, default=None
        Length of one vector. None: the last axis of ``X`` is one vector (the
        whole row of 2-D input; after another skcompress step, one of its
        cells: a patch of :class:`Patches` output in any layout, see Notes).
        An int cuts the last axis into consecutive vectors of that length.
    layout : {"flat", "blocks", "channels_first"}, default="flat"
        Layout of the codes, see :mod:`skcompress` (the data contract):
        "flat" is ``(n, n_vectors * n_atoms)``, atom fastest; "blocks" is
        ``(n, *grid, n_atoms)``; "channels_first" ``(n, n_atoms, *grid)``.
    {chunk_parameters}

    Attributes
    ----------
    components_ : ndarray of shape (n_components_, vector_size_)
        The dictionary, in the dtype seen at ``fit``.
    n_components_ : int
        Number of atoms.
    entropy_model_ : symbol statistics
        With ``quantization_step``: each atom's distribution of levels in the
        codes of the training samples (counts and code lengths;
        ``Codec(..., model=entropy_model_)`` codes with them).
    vector_size_ : int
        Length of one vector.
    n_vectors_ : int
        Vectors per sample.
    signal_shape_ : tuple of int
        Shape of one input sample seen at ``fit``.
    n_features_in_ : int
        Values per input sample.
    feature_names_in_ : ndarray of str
        Column names, when ``fit`` was given a DataFrame.

    See Also
    --------
    batch_omp : the coder as a function.
    KSVD : learns the dictionary and codes with it.
    sklearn.decomposition.SparseCoder : scikit-learn's coder, one signal at a time for OMP.

    Notes
    -----
    {structure_notes}

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.decomposition import MiniBatchDictionaryLearning
    >>> from skcompress.sparse import OMPCoder
    >>> X = np.random.default_rng(0).normal(size=(300, 16))
    >>> coder = OMPCoder(n_nonzero_coefs=3).fit(X)      # the 16-point DCT basis
    >>> codes = coder.transform(X)
    >>> codes.shape, int((codes != 0).sum(axis=1).max())
    ((300, 16), 3)
    >>> atoms = MiniBatchDictionaryLearning(32, max_iter=5, random_state=0).fit(X).components_
    >>> learned = OMPCoder(atoms, n_nonzero_coefs=3).fit(X)
    >>> learned.transform(X).shape
    (300, 32)

    Quantized, the codes are integer levels with a rate:

    >>> q = OMPCoder(n_nonzero_coefs=3, quantization_step=0.25).fit(X)
    >>> q.transform(X).dtype
    dtype('int32')
    >>> bits = q.bit_allocation(X)
    >>> bits["count"], bits["index"]   # 2 bits for 0..3 nonzeros, 4 bits per index
    (2.0, 12.0)
    """

    _parameter_constraints = {
        "dictionary": [StrOptions({"dct"}), "array-like"],
        "n_components": [Interval(Integral, 1, MAX_ATOMS, closed="both"), None],
        "atom_shape": [Interval(Integral, 1, None, closed="left"), tuple, list, None],
        **_SPARSITY_CONSTRAINTS,
        "batch_size": [Interval(Integral, 1, None, closed="left"), None],
        "n_jobs": [Integral, None],
        "dtype": "no_validation",  # checked when used
    }

    def __init__(
        self,
        dictionary="dct",
        *,
        n_components=None,
        atom_shape=None,
        n_nonzero_coefs=None,
        tol=None,
        algorithm="omp",
        quantization_step=None,
        vector_size=None,
        layout="flat",
        batch_size=None,
        n_jobs=None,
        dtype=None,
    ):
        self.dictionary = dictionary
        self.n_components = n_components
        self.atom_shape = atom_shape
        self.n_nonzero_coefs = n_nonzero_coefs
        self.tol = tol
        self.algorithm = algorithm
        self.quantization_step = quantization_step
        self.vector_size = vector_size
        self.layout = layout
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.dtype = dtype

    @_fit_context(prefer_skip_nested_validation=True)
    @unfitted_on_error
    def fit(self, X, y=None):
        """Check the dictionary against ``X``; fit the entropy model of the levels.

        Parameters
        ----------
        X : array-like of shape (n_samples, *signal_shape)
            Vectors along the last axis (see ``vector_size``).
        y : None
            Ignored.

        Returns
        -------
        self : OMPCoder
        """
        V = self._vectors(X, reset=True)
        d = self.vector_size_
        if isinstance(self.dictionary, str):
            D = overcomplete_dct(self.n_components or d, self._dct_atom_shape("OMPCoder"))
        else:
            if self.n_components is not None:
                raise ValueError(
                    "OMPCoder: n_components is for the 'dct' dictionary only; an array "
                    f"dictionary has its own number of atoms (got n_components="
                    f"{self.n_components})."
                )
            D = self.dictionary
        D, norms = check_dictionary(D, dtype=V.dtype)
        if D.shape[1] != d:
            raise ValueError(
                f"OMPCoder: the dictionary's atoms have {D.shape[1]} values but the vectors "
                f"of X have {d} (vector_size_={d}, X of signal shape {self.signal_shape_})."
            )
        self._set_dictionary(D, norms=None if np.allclose(norms, 1, rtol=1e-6) else norms)
        self._fit_entropy_model(V, np.random.RandomState(0))
        return self

    @classmethod
    def get_test_params(cls):
        return [
            {},
            {"n_components": 6, "n_nonzero_coefs": 1, "algorithm": "ormp"},
            {"n_components": 5, "tol": 0.5, "quantization_step": 0.1},
        ]


OMPCoder.__doc__ = fill_doc(OMPCoder.__doc__, {"{structure_notes}": STRUCTURE_NOTES})
