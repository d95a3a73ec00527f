"""rate_accuracy_curve and rate_distortion_curve: tables, plots on request, distortion."""

import subprocess
import sys
import types

import numpy as np
import pytest
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline

from skcompress import BlockDCT, PerceptualQuantizer, ResidualVQ
from skcompress.datasets import load_mnist
from skcompress.metrics import mse, psnr, rate_accuracy_curve, rate_distortion_curve, ssim


@pytest.fixture(scope="module")
def digits():
    X, y = load_mnist(return_X_y=True)
    return X[:400], y[:400]


def test_rate_accuracy_table(digits):
    X, y = digits
    pipe = make_pipeline(
        BlockDCT(n_coefficients=10),
        PerceptualQuantizer(quality=50, n_coefficients=10),
        GaussianNB(),
    )
    table = rate_accuracy_curve(pipe, X, y, "perceptualquantizer__quality", [10, 90], cv=2)
    np.testing.assert_array_equal(table["perceptualquantizer__quality"], [10, 90])
    assert table.bits_per_sample[0] < table.bits_per_sample[1]
    assert table.psnr[0] < table.psnr[1] and table.mse[0] > table.mse[1]
    assert np.all((0 <= table.accuracy) & (table.accuracy <= 1))
    assert np.all((0 < table.ssim) & (table.ssim <= 1))
    np.testing.assert_allclose(table.bits_per_value, table.bits_per_sample / 784)
    pd = pytest.importorskip("pandas")
    assert pd.DataFrame(table).shape == (2, 8)


def test_rate_distortion_of_any_quantizer(digits):
    X, _ = digits
    steps = [BlockDCT(), ResidualVQ(n_stages=1, codebook_size=4, vector_size=64, random_state=0)]
    table = rate_distortion_curve(steps, X[:100], "residualvq__n_stages", [1, 2], ssim=False)
    assert table.bits_per_sample[0] < table.bits_per_sample[1]
    assert table.psnr[0] < table.psnr[1]
    assert np.all(np.isnan(table.ssim))


def test_rate_distortion_with_training_signals(digits):
    X, _ = digits
    table = rate_distortion_curve(
        [BlockDCT(), PerceptualQuantizer()],
        X[:50],
        "perceptualquantizer__quality",
        [50],
        X_fit=X[200:],
    )
    assert table.bits_per_value[0] < 2.5 and table.psnr[0] > 25
    with pytest.raises(ValueError, match="needs X_fit"):
        rate_distortion_curve(
            [BlockDCT(), PerceptualQuantizer()], X[:1], "perceptualquantizer__quality", [50]
        )
    with pytest.raises(ValueError, match="ssim=True needs images"):
        rate_distortion_curve(
            [PerceptualQuantizer(table=1.0)],
            X[:10].reshape(10, -1).astype(float),
            "perceptualquantizer__table",
            [2.0],
            ssim=True,
        )


def test_importing_metrics_imports_neither_matplotlib_nor_scikit_image():
    code = (
        "import sys, skcompress.metrics, skcompress.entropy; "
        "print(any(m.split('.')[0] in ('matplotlib', 'skimage') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_plot_imports_matplotlib_only_when_asked(digits, monkeypatch):
    calls = []

    class Axes:
        def __getattr__(self, name):
            return lambda *a, **k: calls.append(name)

    pyplot = types.ModuleType("matplotlib.pyplot")
    pyplot.subplots = lambda: (None, Axes())
    matplotlib = types.ModuleType("matplotlib")
    matplotlib.pyplot = pyplot
    monkeypatch.setitem(sys.modules, "matplotlib", matplotlib)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", pyplot)
    X, _ = digits
    table = rate_distortion_curve(
        [BlockDCT(), PerceptualQuantizer()],
        X[:20],
        "perceptualquantizer__quality",
        [20, 60],
        plot=True,
    )
    assert isinstance(table.ax, Axes)
    assert calls.count("plot") == 1 and calls.count("annotate") == 2
    assert {"set_xlabel", "set_ylabel"} <= set(calls)


def test_distortion_measures_match_scikit_image():
    metrics = pytest.importorskip("skimage.metrics")
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, (3, 20, 24, 3)).astype(np.uint8)
    X_hat = np.clip(X + rng.integers(-20, 21, X.shape), 0, 255).astype(np.uint8)
    expected = [
        metrics.structural_similarity(a, b, channel_axis=-1, data_range=255)
        for a, b in zip(X, X_hat, strict=True)
    ]
    np.testing.assert_allclose(ssim(X, X_hat), expected, rtol=1e-10)
    gray = X[..., 0], X_hat[..., 0]
    expected = [
        metrics.structural_similarity(a, b, data_range=255) for a, b in zip(*gray, strict=True)
    ]
    np.testing.assert_allclose(ssim(*gray), expected, rtol=1e-10)
    expected = [
        metrics.peak_signal_noise_ratio(a, b, data_range=255)
        for a, b in zip(X, X_hat, strict=True)
    ]
    np.testing.assert_allclose(psnr(X, X_hat), expected, rtol=1e-12)
    np.testing.assert_allclose(
        mse(X, X_hat), [metrics.mean_squared_error(a, b) for a, b in zip(X, X_hat, strict=True)]
    )
    with pytest.raises(ValueError, match="same shape"):
        psnr(X, X_hat[:2])


def test_curves_in_parallel_give_the_same_tables(digits):
    X, y = digits
    pipe = make_pipeline(
        BlockDCT(n_coefficients=10),
        PerceptualQuantizer(quality=50, n_coefficients=10),
        GaussianNB(),
    )
    args = ("perceptualquantizer__quality", [10, 90])
    for curve, data in (
        (rate_accuracy_curve, (X[:120], y[:120])),
        (rate_distortion_curve, (X[:60],)),
    ):
        steps = pipe if curve is rate_accuracy_curve else pipe[:2]
        serial = curve(steps, *data, *args, ssim=False)
        parallel = curve(steps, *data, *args, ssim=False, n_jobs=2)
        assert serial.keys() == parallel.keys()
        for key in serial:
            np.testing.assert_allclose(parallel[key], serial[key])
