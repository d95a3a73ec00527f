"""The overcomplete DCT, and learned atoms compared with the block DCT basis."""

import numpy as np
import pytest

from skcompress import BlockDCT
from skcompress.sparse import compare_with_dct, overcomplete_dct
from skcompress.transforms import basis_functions, dct_matrix, zigzag_order


@pytest.mark.parametrize("shape", [(8,), (8, 8), (4, 6)])
@pytest.mark.parametrize("n_atoms", [1, 10, 48, 100])
def test_unit_atoms_lowest_frequencies_first(shape, n_atoms):
    D = overcomplete_dct(n_atoms, shape)
    assert D.shape == (n_atoms, int(np.prod(shape)))
    np.testing.assert_allclose(np.linalg.norm(D, axis=1), 1)
    np.testing.assert_allclose(D[0], D[0, 0])  # the constant atom
    assert compare_with_dct(D, shape).frequency[0] == pytest.approx(0, abs=1e-12)


def test_complete_dct_is_the_block_dct_basis():
    np.testing.assert_allclose(overcomplete_dct(8, 8), dct_matrix(8))
    D = overcomplete_dct(64, (8, 8))
    basis = basis_functions(BlockDCT(8, order="natural"), signal_shape=(8, 8)).reshape(64, 64)
    np.testing.assert_allclose(np.abs(D @ basis.T).max(axis=1), 1, atol=1e-12)
    assert overcomplete_dct(256, (8, 8)).shape == (256, 64)


def test_comparison_with_dct():
    dct = compare_with_dct(overcomplete_dct(64, (8, 8)))
    assert dct.mean_correlation == 1.0 and dct.mean_coverage == 1.0
    basis = basis_functions(BlockDCT(8), signal_shape=(8, 8)).reshape(64, 64)  # zig-zag order
    shuffled = compare_with_dct(-3 * basis[::-1])
    assert shuffled.mean_correlation == 1.0
    np.testing.assert_array_equal(shuffled.match, zigzag_order(8)[::-1])
    assert np.all(np.diff(shuffled.frequency[shuffled.order]) >= 0)
    assert shuffled.order[0] == 63 and shuffled.frequency[63] == pytest.approx(0, abs=1e-12)
    noise = compare_with_dct(np.random.default_rng(0).normal(size=(500, 64)))
    assert 0.3 < noise.mean_correlation < 0.45
    assert noise.coverage.shape == (64,)
    one_d = compare_with_dct(dct_matrix(16), atom_shape=16)
    assert one_d.mean_correlation == 1.0
    np.testing.assert_array_equal(one_d.match, np.arange(16))


def test_errors_are_named():
    with pytest.raises(ValueError, match=r"atom_shape must be a positive int or a tuple"):
        overcomplete_dct(10, (2, 2, 2))
    with pytest.raises(ValueError, match="n_atoms must be a positive int; got 0"):
        overcomplete_dct(0, 8)
    with pytest.raises(ValueError, match=r"atoms must have shape \(n_atoms, 64\)"):
        compare_with_dct(np.ones((3, 10)))
    with pytest.raises(ValueError, match="every atom must be finite and have a norm"):
        compare_with_dct(np.zeros((3, 64)))
