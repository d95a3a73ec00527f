"""Transform matrices against the standards' own numbers."""

import numpy as np
import pytest
import scipy.fft

from skcompress.transforms import dct_matrix, dst7_matrix, hevc_matrix

# ITU-T H.265 (8.6.4.2): rows 1 of the 8-, 16- and 32-point matrices (first halves),
# the 4-point matrix and the 4x4 DST-VII.
HEVC_ROW1 = {
    8: [89, 75, 50, 18],
    16: [90, 87, 80, 70, 57, 43, 25, 9],
    32: [90, 90, 88, 85, 82, 78, 73, 67, 61, 54, 46, 38, 31, 22, 13, 4],
}
HEVC_4 = [[64, 64, 64, 64], [83, 36, -36, -83], [64, -64, -64, 64], [36, -83, 83, -36]]
HEVC_DST7 = [[29, 55, 74, 84], [74, 74, 0, -74], [84, -29, -74, 55], [55, -84, 74, -29]]


def test_hevc_matrices_hold_the_standards_entries():
    assert hevc_matrix(4).tolist() == HEVC_4
    assert hevc_matrix(4, "dst7").tolist() == HEVC_DST7
    for n, row in HEVC_ROW1.items():
        assert hevc_matrix(n)[1, : n // 2].tolist() == row
        # odd rows are antisymmetric, even rows symmetric
        M = hevc_matrix(n)
        np.testing.assert_array_equal(M[1::2], -M[1::2, ::-1])
        np.testing.assert_array_equal(M[::2], M[::2, ::-1])


@pytest.mark.parametrize("n", [4, 8, 16, 32])
def test_hevc_matrix_approximates_the_scaled_dct(n):
    M = hevc_matrix(n)
    scaled = dct_matrix(n) * 64 * np.sqrt(n)
    assert np.abs(M - scaled).max() < 1.5
    # even rows of the 2n-point matrix are the n-point matrix (HEVC's embedding)
    if n < 32:
        np.testing.assert_array_equal(hevc_matrix(2 * n)[::2, :n], M)
    gram = M @ M.T / (64.0 * 64 * n)
    assert np.abs(gram - np.eye(n)).max() < 3e-3


def test_hevc_matrix_refuses_sizes_it_does_not_define():
    with pytest.raises(ValueError, match=r"kind='dct2', n=64"):
        hevc_matrix(64)
    with pytest.raises(ValueError, match="DST-VII is 4x4 only; got n=8"):
        hevc_matrix(8, "dst7")


@pytest.mark.parametrize("n", [2, 4, 7, 16])
def test_dst7_matrix_is_orthonormal_and_matches_a_dst1(n):
    S = dst7_matrix(n)
    np.testing.assert_allclose(S @ S.T, np.eye(n), atol=1e-14)
    # DST-VII of x: the even outputs of a DST-I of x zero-padded to 2n, scaled
    x = np.random.default_rng(n).standard_normal(n)
    padded = np.concatenate([x, np.zeros(n)])
    dst1 = scipy.fft.dst(padded, type=1)  # length 2n, sin(pi (j+1)(i+1) / (2n+1))
    np.testing.assert_allclose(S @ x, dst1[::2] / np.sqrt(2 * n + 1), atol=1e-12)
