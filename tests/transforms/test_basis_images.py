"""Basis functions and subband pictures of the transforms."""

import numpy as np
import pytest

from skcompress import MDCT, BlockDCT, WaveletTransform
from skcompress.transforms import basis_functions, dct_matrix, subband_mosaic, tile_images


def test_dct_basis_images_are_outer_products_of_the_1d_basis():
    basis = basis_functions(BlockDCT(order="natural"), signal_shape=(8, 8))
    C = dct_matrix(8)
    expected = np.einsum("ui,vj->uvij", C, C).reshape(64, 8, 8)
    np.testing.assert_allclose(basis, expected, atol=1e-12)


def test_basis_is_orthonormal_and_level_shift_drops_out():
    dct = BlockDCT(level_shift=128).fit(np.zeros((1, 8, 8)))
    basis = basis_functions(dct).reshape(64, 64)
    np.testing.assert_allclose(basis @ basis.T, np.eye(64), atol=1e-12)


def test_mdct_basis_is_a_tight_frame_of_unit_energy_functions():
    basis = basis_functions(MDCT(frame_length=16), signal_shape=(32,))
    assert basis.shape == (5 * 8, 32)  # 5 frames of 8 bins, edge frames included
    # perfect reconstruction: synthesis after analysis is the identity
    np.testing.assert_allclose(basis.T @ basis, np.eye(32), atol=1e-12)
    # frames 1..3 lie inside the signal: unit energy (edge frames are cropped)
    np.testing.assert_allclose((basis[8:32] ** 2).sum(axis=1), 1.0, atol=1e-12)


def test_tile_images_places_tiles_row_by_row():
    images = np.arange(4 * 2 * 2, dtype=float).reshape(4, 2, 2) + 1
    grid = tile_images(images, n_cols=2, pad=1, normalize=None)
    assert grid.shape == (5, 5)
    np.testing.assert_array_equal(grid[:2, 3:], images[1])
    np.testing.assert_array_equal(grid[3:, :2], images[2])
    assert np.isnan(grid[2]).all() and np.isnan(grid[:, 2]).all()
    each = tile_images(images, n_cols=2, normalize="each")
    assert np.nanmax(each) == 1.0 and each[0, 0] == 0.25


def test_tile_images_refuses_bad_input():
    with pytest.raises(ValueError, match=r"stack of 2-D images \(n, h, w\); got shape \(3, 3\)"):
        tile_images(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="normalize must be 'each', 'global' or None; got 'max'"):
        tile_images(np.zeros((1, 3, 3)), normalize="max")


def test_subband_mosaic_puts_bands_where_jpeg2000_draws_them():
    image = np.random.default_rng(0).standard_normal((16, 16))
    wt = WaveletTransform("haar", level=2, mode="periodization").fit(image[np.newaxis])
    mosaic = subband_mosaic(wt, image, normalize=False)
    assert mosaic.shape == (16, 16)
    # haar level 1 details by hand: HL (vertical edges) top right of the 8x8 corner
    a, b = image[0::2, 0::2], image[0::2, 1::2]
    c, d = image[1::2, 0::2], image[1::2, 1::2]
    np.testing.assert_allclose(np.abs(mosaic[8:, 8:]), np.abs(a - b - c + d) / 2, atol=1e-12)
    np.testing.assert_allclose(np.abs(mosaic[:8, 8:]), np.abs(a - b + c - d) / 2, atol=1e-12)
    # two haar levels: each LL coefficient is a 4x4 block's sum / 4
    np.testing.assert_allclose(mosaic[:4, :4].sum(), image.sum() / 4, atol=1e-9)


def test_subband_mosaic_needs_gray_images():
    wt = WaveletTransform("haar", level=1).fit(np.zeros((1, 8)))
    with pytest.raises(ValueError, match=r"fitted on gray images \(n, H, W\)"):
        subband_mosaic(wt, np.zeros(8))
