"""Fixed dictionaries, and how learned atoms compare with the DCT basis."""

from numbers import Integral

import numpy as np
from sklearn.utils import Bunch

from .._core._basis import dct_matrix, zigzag_order


def overcomplete_dct(n_atoms, atom_shape):
    """Overcomplete DCT dictionary: cosines at ``n_atoms`` evenly spaced frequencies.

    In 1-D, atom ``k`` samples ``cos(pi k (2 i + 1) / (2 n_atoms))`` at
    ``i = 0 .. length - 1``: with ``n_atoms == length`` these are the rows of
    the orthonormal DCT-II, with more atoms the frequencies are finer. In 2-D
    the atoms are the separable products of two 1-D dictionaries of
    ``ceil(sqrt(n_atoms))`` cosines, the ``n_atoms`` of lowest frequency
    ``u + v`` kept (the usual initial dictionary of K-SVD for image patches:
    256 atoms for 8x8 patches are 16 x 16 products).

    Parameters
    ----------
    n_atoms : int
        Number of atoms.
    atom_shape : int or tuple of int
        Shape of one atom: ``length`` (or ``(length,)``) or ``(height, width)``.

    Returns
    -------
    dictionary : ndarray of float64, shape (n_atoms, prod(atom_shape))
        Unit-norm atoms, one per row, lowest frequencies first; the first is
        the constant atom.

    Examples
    --------
    >>> import numpy as np
    >>> from skcompress.sparse import overcomplete_dct
    >>> D = overcomplete_dct(256, (8, 8))
    >>> D.shape
    (256, 64)
    >>> bool(np.allclose(np.linalg.norm(D, axis=1), 1))
    True
    >>> from skcompress.transforms import dct_matrix
    >>> bool(np.allclose(overcomplete_dct(8, 8), dct_matrix(8)))   # complete: the DCT-II
    True
    """
    shape = _atom_shape(atom_shape, "overcomplete_dct")
    if isinstance(n_atoms, bool) or not isinstance(n_atoms, Integral) or n_atoms < 1:
        raise ValueError(f"overcomplete_dct: n_atoms must be a positive int; got {n_atoms!r}.")
    if len(shape) == 1:
        return _cosines(int(n_atoms), shape[0])
    per_axis = int(np.ceil(np.sqrt(n_atoms)))
    rows, cols = _cosines(per_axis, shape[0]), _cosines(per_axis, shape[1])
    atoms = np.einsum("ui,vj->uvij", rows, cols).reshape(per_axis * per_axis, -1)
    u, v = np.divmod(np.arange(per_axis * per_axis), per_axis)
    order = np.lexsort((u, u + v))[:n_atoms]
    return np.ascontiguousarray(atoms[order])


def _cosines(n_atoms, length):
    k = np.arange(n_atoms)[:, None]
    i = np.arange(length)[None, :]
    atoms = np.cos(np.pi * k * (2 * i + 1) / (2 * n_atoms))
    return atoms / np.linalg.norm(atoms, axis=1, keepdims=True)


def _atom_shape(atom_shape, owner):
    shape = (atom_shape,) if isinstance(atom_shape, Integral) else atom_shape
    try:
        shape = tuple(int(s) for s in shape)
    except TypeError:
        shape = ()
    if len(shape) not in (1, 2) or min(shape) < 1:
        raise ValueError(
            f"{owner}: atom_shape must be a positive int or a tuple of 1 or 2 positive ints "
            f"(length, or height and width); got {atom_shape!r}."
        )
    return shape


def compare_with_dct(atoms, atom_shape=(8, 8)):
    """How close learned atoms are to the basis functions of the block DCT.

    Each atom is expanded in the orthonormal DCT-II basis of its shape (the
    basis of JPEG's 8x8 block DCT, 64 functions). Its *best-match
    correlation* is the largest ``|cos|`` of the angle between the atom and a
    DCT basis function, the share of the atom's norm that its largest DCT
    coefficient holds: 1 for a DCT basis function itself, about
    ``sqrt(2 ln N / N)`` (0.36 for 64 coefficients) for random noise. Its
    *frequency* is the energy-weighted mean radial frequency
    ``sqrt(u^2 + v^2)`` of its coefficients, which sorts atoms from smooth to
    busy as the zig-zag scan sorts the DCT basis.

    Parameters
    ----------
    atoms : array-like of shape (n_atoms, prod(atom_shape))
        Atoms, one per row (``KSVD.components_``, any ``components_``).
    atom_shape : int or tuple of int, default=(8, 8)
        Shape of one atom: ``(height, width)`` of a patch, or a length.

    Returns
    -------
    result : Bunch
        ``correlation`` (n_atoms,): each atom's best-match correlation;
        ``match`` (n_atoms,): the natural (row-major) index ``u * width + v``
        of its best-matching DCT basis function; ``frequency`` (n_atoms,);
        ``order``: the atoms' indices sorted by frequency;
        ``mean_correlation``: the mean of ``correlation``;
        ``coverage`` (n_basis,): for every DCT basis function, in zig-zag
        order, the best correlation of any atom with it, and
        ``mean_coverage`` its mean (1 when the atoms contain the whole DCT
        basis).

    See Also
    --------
    skcompress.transforms.basis_functions : the DCT basis images themselves.
    skcompress.transforms.tile_images : atoms and basis as one picture.

    Examples
    --------
    >>> import numpy as np
    >>> from skcompress.sparse import compare_with_dct, overcomplete_dct
    >>> compare_with_dct(overcomplete_dct(64, (8, 8))).mean_correlation   # the DCT itself
    1.0
    >>> noise = np.random.default_rng(0).normal(size=(256, 64))
    >>> 0.3 < compare_with_dct(noise).mean_correlation < 0.45
    True
    """
    shape = _atom_shape(atom_shape, "compare_with_dct")
    A = np.asarray(atoms, dtype=np.float64)
    size = int(np.prod(shape))
    if A.ndim != 2 or A.shape[1] != size or len(A) == 0:
        raise ValueError(
            f"compare_with_dct: atoms must have shape (n_atoms, {size}) for atom_shape="
            f"{shape}; got {A.shape}."
        )
    norms = np.linalg.norm(A, axis=1)
    if not np.all(norms > 0) or not np.isfinite(A).all():
        raise ValueError("compare_with_dct: every atom must be finite and have a norm.")
    A = A / norms[:, None]
    if len(shape) == 1:
        C = dct_matrix(shape[0])
        freq = np.arange(shape[0], dtype=np.float64)
        zigzag = np.arange(shape[0])
    else:
        C = np.kron(dct_matrix(shape[0]), dct_matrix(shape[1]))
        u, v = np.divmod(np.arange(size), shape[1])
        # frequencies in cycles per sample, so that non-square patches compare fairly
        freq = np.hypot(u / shape[0], v / shape[1]) * max(shape)
        zigzag = zigzag_order(shape[0]) if shape[0] == shape[1] else np.lexsort((u, u + v))
    coefficients = A @ C.T
    magnitude = np.abs(coefficients)
    energy = coefficients**2
    frequency = energy @ freq
    correlation = magnitude.max(axis=1)
    coverage = magnitude.max(axis=0)[zigzag]
    return Bunch(
        correlation=correlation,
        match=magnitude.argmax(axis=1),
        frequency=frequency,
        order=np.argsort(frequency, kind="stable"),
        mean_correlation=float(np.round(correlation.mean(), 12)),
        coverage=coverage,
        mean_coverage=float(np.round(coverage.mean(), 12)),
    )
