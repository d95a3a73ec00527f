"""ms_ssim against pytorch-msssim and scikit-image; psnr_y and colour psnr."""

import numpy as np
import pytest

from skcompress.datasets import load_photographs
from skcompress.metrics._quality import _halve, ms_ssim, psnr, psnr_y


def synthetic(height, width, phase=0.0):
    """A deterministic image and two distortions of it: a ripple and a 7-pixel blur."""
    i, j = np.meshgrid(np.arange(height), np.arange(width), indexing="ij")
    clean = 128 + 70 * np.sin(i / 9 + phase) * np.cos(j / 13) + 40 * np.sin((i + 2 * j) / 5)
    ripple = clean + 45 * np.sin(i * j / 23 + phase)
    blurred = sum(np.roll(clean, (k, k), axis=(0, 1)) for k in range(-3, 4)) / 7
    return clean, ripple, blurred


def gray_pair():
    clean, ripple, blurred = synthetic(192, 192)
    return np.stack([clean, clean]), np.stack([ripple, blurred])


def color_pair():
    parts = [synthetic(176, 208, phase) for phase in (0.0, 1.0, 2.0)]
    clean, ripple, blurred = (np.stack([p[k] for p in parts], axis=-1) for k in range(3))
    return np.stack([clean, clean]), np.stack([ripple, blurred])


# pytorch-msssim 1.0.0, computed once on the float64 images above:
# ms_ssim(torch.from_numpy(X[:, None]), torch.from_numpy(X_hat[:, None]), data_range=255,
# size_average=False) for gray, and with X.transpose(0, 3, 1, 2) for colour. Its window is
# float32 (differences near 3e-7).
REFERENCE_GRAY = [0.91200311, 0.88266587]
REFERENCE_COLOR = [0.91493247, 0.88214034]


def test_matches_stored_pytorch_msssim_values():
    np.testing.assert_allclose(ms_ssim(*gray_pair(), data_range=255), REFERENCE_GRAY, atol=1e-5)
    np.testing.assert_allclose(ms_ssim(*color_pair(), data_range=255), REFERENCE_COLOR, atol=1e-5)


@pytest.fixture(scope="module")
def photographs():
    X = load_photographs(size=192).images
    noise = np.random.default_rng(0).normal(0, 12, X.shape)
    return X, np.clip(X + noise, 0, 255).astype(np.uint8)


def _reference(X, X_hat, data_range):
    torch = pytest.importorskip("torch")
    pytorch_msssim = pytest.importorskip("pytorch_msssim")
    if X.ndim == 3:
        X, X_hat = X[..., None], X_hat[..., None]
    as_tensor = lambda a: torch.from_numpy(np.ascontiguousarray(a.transpose(0, 3, 1, 2), "f8"))  # noqa: E731
    value = pytorch_msssim.ms_ssim(
        as_tensor(X), as_tensor(X_hat), data_range=data_range, size_average=False
    )
    return value.numpy()


def test_matches_pytorch_msssim(photographs):
    X, X_hat = photographs
    np.testing.assert_allclose(ms_ssim(X, X_hat), _reference(X, X_hat, 255), atol=1e-5)
    color = load_photographs(size=176, color=True).images[:3]
    noisy = np.clip(color + np.random.default_rng(1).normal(0, 20, color.shape), 0, 255)
    noisy = noisy.astype(np.uint8)
    np.testing.assert_allclose(ms_ssim(color, noisy), _reference(color, noisy, 255), atol=1e-5)
    # floats in [0, 1]: data_range taken from the data
    x, x_hat = X[:2] / 255.0, X_hat[:2] / 255.0
    np.testing.assert_allclose(
        ms_ssim(x, x_hat, data_range=1.0), _reference(x, x_hat, 1.0), atol=1e-5
    )


def test_odd_sides_repeat_the_last_row(photographs):
    # Odd sides are halved as the authors' MATLAB code does (symmetric border: the last row
    # or column repeated); pytorch-msssim pads with zeros, so the two differ slightly there.
    X, X_hat = photographs[0][:3, :171, :181], photographs[1][:3, :171, :181]
    np.testing.assert_allclose(ms_ssim(X, X_hat), _reference(X, X_hat, 255), atol=1e-2)
    images = np.arange(2 * 5 * 7 * 1, dtype=float).reshape(2, 5, 7, 1)
    padded = np.pad(images, ((0, 0), (0, 1), (0, 1), (0, 0)), mode="edge")
    expected = padded.reshape(2, 3, 2, 4, 2, 1).mean(axis=(2, 4))
    np.testing.assert_allclose(_halve(images), expected)


def test_one_scale_is_gaussian_ssim():
    # One weight: SSIM with Wang et al.'s Gaussian window, as scikit-image computes it.
    metrics = pytest.importorskip("skimage.metrics")
    X, X_hat = gray_pair()
    expected = [
        metrics.structural_similarity(
            x, x_hat, data_range=255, gaussian_weights=True, sigma=1.5,
            use_sample_covariance=False,
        )
        for x, x_hat in zip(X, X_hat, strict=True)
    ]  # fmt: skip
    np.testing.assert_allclose(ms_ssim(X, X_hat, data_range=255, weights=[1.0]), expected)


def test_batch_channels_and_dtypes_are_consistent(photographs):
    X, X_hat = photographs[0][:3], photographs[1][:3]
    values = ms_ssim(X, X_hat)
    assert values.shape == (3,) and values.dtype == np.float64
    assert np.all((0 < values) & (values < 1))
    np.testing.assert_array_equal(ms_ssim(X, X), 1.0)
    np.testing.assert_allclose(ms_ssim(X_hat, X), values)  # symmetric
    np.testing.assert_allclose(ms_ssim(X[1:2], X_hat[1:2]), values[1:2])  # sample by sample
    np.testing.assert_allclose(ms_ssim(X[..., None], X_hat[..., None]), values)
    np.testing.assert_allclose(ms_ssim(X.astype(np.float32), X_hat, data_range=255), values)
    # colour: the mean over channels
    color, color_hat = np.stack([X, X[::-1]], axis=-1), np.stack([X_hat, X_hat[::-1]], axis=-1)
    np.testing.assert_allclose(ms_ssim(color, color_hat), (values + values[::-1]) / 2)
    # more noise, lower MS-SSIM
    noisier = np.clip(X + 3.0 * (X_hat.astype(float) - X), 0, 255).astype(np.uint8)
    assert np.all(ms_ssim(X, noisier) < values)


def test_refusals():
    X = np.zeros((1, 160, 200))
    with pytest.raises(ValueError, match="160 x 200 are too small.*at least 161"):
        ms_ssim(X, X)
    assert ms_ssim(X[:, :41, :41], X[:, :41, :41], weights=[0.5, 0.3, 0.2]) == 1.0
    with pytest.raises(ValueError, match="at least 81"):
        ms_ssim(X[:, :80, :80], X[:, :80, :80], weights=[0.5, 0.3, 0.1, 0.1])
    ok = np.zeros((1, 161, 161))
    for weights in ([], [0.5, -0.1], [[0.5]], [np.nan]):
        with pytest.raises(ValueError, match="weights must be"):
            ms_ssim(ok, ok, weights=weights)
    with pytest.raises(ValueError, match="expects images"):
        ms_ssim(np.zeros((1, 161)), np.zeros((1, 161)))
    with pytest.raises(ValueError, match="same shape"):
        ms_ssim(ok, np.zeros((1, 161, 162)))


# psnr on colour images and psnr_y


def test_psnr_of_rgb_is_over_all_channels():
    rng = np.random.default_rng(2)
    X = rng.integers(0, 256, (3, 8, 9, 3)).astype(np.uint8)
    X_hat = np.clip(X + rng.integers(-9, 10, X.shape), 0, 255).astype(np.uint8)
    squared = (X.astype(float) - X_hat) ** 2
    expected = 10 * np.log10(255**2 / squared.mean(axis=(1, 2, 3)))
    np.testing.assert_allclose(psnr(X, X_hat), expected)
    # the same as one gray image holding the three channels side by side
    np.testing.assert_allclose(psnr(X, X_hat), psnr(X.reshape(3, 8, 27), X_hat.reshape(3, 8, 27)))


def test_psnr_y_is_the_psnr_of_bt601_luma():
    rng = np.random.default_rng(3)
    X = rng.integers(0, 256, (4, 10, 12, 3)).astype(np.uint8)
    X_hat = np.clip(X + rng.integers(-20, 21, X.shape), 0, 255).astype(np.uint8)
    weights = np.array([0.299, 0.587, 0.114])
    luma, luma_hat = X @ weights, X_hat @ weights
    np.testing.assert_allclose(psnr_y(X, X_hat), psnr(luma, luma_hat, data_range=255))
    # studio swing: scikit-image's rgb2ycbcr (MATLAB's, Y in 16..235), 1.32 dB higher
    color = pytest.importorskip("skimage.color")
    y, y_hat = color.rgb2ycbcr(X)[..., 0], color.rgb2ycbcr(X_hat)[..., 0]
    limited = psnr_y(X, X_hat, luma_range="limited")
    np.testing.assert_allclose(limited, psnr(y, y_hat, data_range=255))
    np.testing.assert_allclose(limited - psnr_y(X, X_hat), -20 * np.log10(219 / 255))


def test_psnr_y_passes_gray_images_through():
    rng = np.random.default_rng(4)
    X = rng.integers(0, 256, (2, 6, 7)).astype(np.uint8)
    X_hat = np.clip(X + rng.integers(-5, 6, X.shape), 0, 255).astype(np.uint8)
    np.testing.assert_allclose(psnr_y(X, X_hat), psnr(X, X_hat))
    np.testing.assert_allclose(psnr_y(X[..., None], X_hat[..., None]), psnr(X, X_hat))
    np.testing.assert_array_equal(psnr_y(X, X), np.inf)


def test_psnr_y_refusals():
    two = np.zeros((1, 4, 4, 2))
    with pytest.raises(ValueError, match="psnr_y expects gray images"):
        psnr_y(two, two)
    rgb = np.zeros((1, 4, 4, 3))
    with pytest.raises(ValueError, match="luma_range must be 'full' or 'limited'"):
        psnr_y(rgb, rgb, luma_range="studio")
