"""The network estimators learn, take every skcompress layout, refuse bad input clearly."""

import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from skcompress import MDCT, BlockDCT, PerceptualQuantizer, ResidualVQ, WaveletTransform
from skcompress.metrics import rate_scoring
from skcompress.nets import (
    BlockDCTNetClassifier,
    BlockDCTNetRegressor,
    CodeEmbeddingClassifier,
    MDCTNetClassifier,
    PixelNetClassifier,
    WaveletNetClassifier,
    WaveletNetRegressor,
    resolve_device,
)
from tests.nets.conftest import QUICK

FAST = {**QUICK, "batch_size": 32, "lr": 3e-3}


def _dct_pipe(quality=50, k=16, **net):
    return make_pipeline(
        BlockDCT(n_coefficients=k, layout="channels_first"),
        PerceptualQuantizer(quality=quality, layout="channels_first"),
        BlockDCTNetClassifier(**{"widths": (16,), "hidden_units": 32, "max_epochs": 3, **FAST}),
    ).set_params(**{f"blockdctnetclassifier__{k}": v for k, v in net.items()})


# -- training learns ----------------------------------------------------------


def test_block_dct_network_learns_from_quantized_symbols(digits):
    Xtr, ytr, Xte, yte = digits
    pipe = _dct_pipe().fit(Xtr, ytr)
    net = pipe[-1]
    assert net.input_shape_ == (16, 4, 4) and net.n_iter_ == 3
    assert pipe.score(Xte, yte) > 0.4  # chance is 0.1; about 0.7 is reached
    assert net.n_parameters_ > 0 and net.macs_ > 0


def test_block_dct_network_from_the_inverse_dct_learns(digits):
    Xtr, ytr, Xte, yte = digits
    options = {"sub_block_init": "idct", "batch_norm": True, "n_pool": 2, "widths": (16, 16)}
    pipe = _dct_pipe(quality=15, k=10, **options).fit(Xtr, ytr)
    module = pipe[-1].module_
    assert module.stages[0].conv.in_channels == 16  # the 4x4 pixels of every sub-block
    assert pipe.score(Xte, yte) > 0.4  # chance is 0.1; about 0.8 is reached
    loaded = pickle.loads(pickle.dumps(pipe))
    np.testing.assert_array_equal(loaded.predict_proba(Xte), pipe.predict_proba(Xte))


def test_pixel_wavelet_and_code_networks_learn(digits):
    Xtr, ytr, Xte, yte = digits
    pixel = PixelNetClassifier(widths=(8,), hidden_units=32, max_epochs=3, **FAST)
    assert pixel.fit(Xtr, ytr).score(Xte, yte) > 0.5  # about 0.8 is reached
    wavelet = make_pipeline(
        WaveletTransform("haar", level=2),
        WaveletNetClassifier(
            signal_shape=(28, 28),
            wavelet="haar",
            level=2,
            widths=(8,),
            hidden_units=32,
            max_epochs=3,
            **FAST,
        ),
    )
    assert wavelet.fit(Xtr, ytr).score(Xte, yte) > 0.5  # about 0.8
    rows = Xtr.reshape(len(Xtr), -1).astype(np.float32)
    codes = make_pipeline(
        ResidualVQ(n_stages=2, codebook_size=16, n_refine=0, random_state=0),
        CodeEmbeddingClassifier(max_epochs=10, **FAST),
    ).fit(rows, ytr)
    assert codes.score(Xte.reshape(len(Xte), -1).astype(np.float32), yte) > 0.4  # about 0.7


def test_mdct_network_learns_on_unseen_voices(spoken):
    Xtr, ytr, Xte, yte = spoken
    pipe = make_pipeline(
        MDCT(256, layout="channels_first"),
        MDCTNetClassifier(widths=(16,), hidden_units=32, compand="log", max_epochs=10, **FAST),
    ).fit(Xtr, ytr)
    assert pipe[-1].input_shape_ == (128, 64)
    assert pipe.score(Xte, yte) > 0.5  # chance is 0.1; about 0.95 is reached


def test_code_network_on_block_codes_with_a_grid(digits):
    Xtr, ytr, Xte, yte = digits
    pipe = make_pipeline(
        BlockDCT(n_coefficients=8, layout="blocks"),
        ResidualVQ(
            n_stages=2, codebook_size=8, n_refine=0, layout="channels_first", random_state=0
        ),
        CodeEmbeddingClassifier(embedding_dim=4, widths=(16,), max_epochs=5, **FAST),
    ).fit(Xtr, ytr)
    assert pipe[-1].input_shape_ == (2, 4, 4) and pipe[-1].n_codes_ == 8
    assert pipe.score(Xte, yte) > 0.35  # about 0.65


# -- model selection ------------------------------------------------------------


def test_grid_search_over_quality_with_coded_bits_and_a_trade_off_refit(digits):
    Xtr, ytr, _, _ = digits

    def cheapest_within_two_points(results):
        accuracy = results["mean_test_accuracy"]
        bits = -results["mean_test_neg_bits_per_sample"]
        return int(np.argmin(np.where(accuracy >= accuracy.max() - 0.02, bits, np.inf)))

    search = GridSearchCV(
        _dct_pipe(max_epochs=2, lr=1e-2),
        {"perceptualquantizer__quality": [5, 50]},
        cv=2,
        scoring=rate_scoring(),
        refit=cheapest_within_two_points,
    ).fit(Xtr, ytr)
    results = search.cv_results_
    bits = -results["mean_test_neg_bits_per_sample"]
    assert bits[0] < bits[1]  # quality 5 codes into fewer bits
    assert np.all(results["mean_test_accuracy"] > 0.25)  # chance is 0.1; about 0.5
    assert search.best_index_ == cheapest_within_two_points(results)
    assert search.predict(Xtr[:5]).shape == (5,)


def test_grid_search_over_kept_coefficients_counts_only_what_the_network_uses(digits):
    Xtr, ytr, _, _ = digits
    search = GridSearchCV(
        _dct_pipe(k=None, max_epochs=1),
        {"blockdct__n_coefficients": [1, 6]},
        cv=2,
        scoring=rate_scoring(),
        refit="accuracy",
    ).fit(Xtr[:300], ytr[:300])
    bits = -search.cv_results_["mean_test_neg_bits_per_sample"]
    assert bits[0] < bits[1] / 2  # the quantizer codes only the coefficients kept
    kept = search.best_params_["blockdct__n_coefficients"]
    assert search.best_estimator_[-1].input_shape_ == (kept, 4, 4)
    # Kept at the network instead, the quantizer would code all 64: refused.
    with pytest.raises(ValueError, match=r"blockdct__n_coefficients=6\) and leave"):
        _dct_pipe(k=None, max_epochs=1, n_coefficients=6).fit(Xtr[:60], ytr[:60])


# -- inputs and layouts -------------------------------------------------------


def test_blocks_layout_matches_channels_first(digits):
    Xtr, ytr, _, _ = digits
    net = {"widths": (8,), "hidden_units": 16, "max_epochs": 1, **FAST}
    first = BlockDCT(n_coefficients=6, layout="channels_first").fit_transform(Xtr)
    blocks = BlockDCT(n_coefficients=6, layout="blocks").fit_transform(Xtr)
    a = BlockDCTNetClassifier(**net).fit(first, ytr)
    b = BlockDCTNetClassifier(layout="blocks", **net).fit(blocks, ytr)
    np.testing.assert_allclose(a.predict_proba(first), b.predict_proba(blocks), atol=1e-6)


def test_colour_blocks_take_their_channels_from_the_shape():
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 255, (20, 16, 16, 3)).astype(np.float32)
    # a plain array: its shape says the colour channels (BlockDCT's output says more)
    blocks = np.asarray(BlockDCT(n_coefficients=4, layout="blocks").fit_transform(images))
    assert blocks.shape == (20, 2, 2, 3, 4)
    y = np.arange(20) % 2
    net = BlockDCTNetClassifier(layout="blocks", n_coefficients=2, max_epochs=1, **QUICK)
    net.fit(blocks, y)
    assert net.n_color_channels_ == 3
    assert net.module_.selected.tolist() == [0, 1, 4, 5, 8, 9]  # Y, Cb, Cr: 2 lowest each


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64, np.uint8])
def test_input_dtypes(dtype):
    rng = np.random.default_rng(0)
    X = rng.integers(0, 50, (16, 4, 2, 2)).astype(dtype)
    y = np.arange(16) % 2
    net = BlockDCTNetClassifier(widths=(4,), max_epochs=1, **QUICK).fit(X, y)
    assert net.predict_proba(X).dtype == np.float64


def test_regressor_keeps_the_shape_of_y():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 4, 2, 2)).astype(np.float32)
    Y = rng.standard_normal((30, 2))
    net = BlockDCTNetRegressor(widths=(4,), max_epochs=2, **QUICK)
    assert net.fit(X, Y[:, 0]).predict(X).shape == (30,)
    assert net.fit(X, Y).predict(X).shape == (30, 2)


# -- bad input ----------------------------------------------------------------


def test_wrong_layout_names_expected_and_received_shapes(digits):
    Xtr, ytr, _, _ = digits
    pipe = _dct_pipe(max_epochs=1).fit(Xtr[:64], ytr[:64])
    flat = BlockDCT(n_coefficients=16).fit_transform(Xtr[:5])
    with pytest.raises(
        ValueError,
        match=r"fitted on X of shape \(n_samples, 16, 4, 4\) \(quantized 8x8 block-DCT .*"
        r"got X of shape \(5, 256\)",
    ):
        pipe[-1].predict(np.asarray(flat))  # a plain array: its shape is checked
    with pytest.raises(ValueError, match=r"layout='channels_first'\); X is 8x8 .*'flat'"):
        pipe[-1].predict(flat)  # it says it is other coefficients
    with pytest.raises(
        ValueError,
        match=r"expects X of shape \(n_samples, channels \* k, h, w\)"
        r".*got X of shape \(4, 1, 2, 3, 4, 5\)",
    ):
        BlockDCTNetClassifier(**QUICK).fit(np.zeros((4, 1, 2, 3, 4, 5)), np.arange(4) % 2)


def test_wavelet_layout_mismatch_is_reported():
    X = WaveletTransform("haar", level=2).fit_transform(np.zeros((4, 16, 16)))
    y = np.arange(4) % 2
    net = WaveletNetClassifier(signal_shape=(28, 28), wavelet="haar", level=2, **QUICK)
    with pytest.raises(
        ValueError,
        match=r"\(signal_shape=\(28, 28\)\) gives X of shape \(n_samples, 784\); got X of "
        r"shape \(4, 256\)",
    ):
        net.fit(np.asarray(X), y)  # a plain array: the shape given is all there is
    with pytest.raises(ValueError, match=r"signal_shape=\(28, 28\), but .* shape \(16, 16\)"):
        net.fit(X, y)  # the transform's output says its signals' shape
    with pytest.raises(ValueError, match=r"wavelet='db2', but .* made with wavelet='haar'"):
        WaveletNetClassifier(wavelet="db2", level=1, **QUICK).fit(X, y)  # told another wavelet
    with pytest.raises(ValueError, match=r"level=1, but .* made with level=2"):
        WaveletNetClassifier(level=1, **QUICK).fit(X, y)
    # haar at levels 1 and 2 both give 256 coefficients: the structure tells them apart
    net = WaveletNetClassifier(**QUICK).fit(X, y)
    reference = WaveletTransform("haar", level=2).fit(np.zeros((1, 16, 16)))
    assert net.subband_shapes_ == tuple(reference.subband_shapes_)


def test_labels_are_converted_or_refused(digits):
    Xtr, ytr, _, _ = digits
    X = BlockDCT(n_coefficients=4, layout="channels_first").fit_transform(Xtr[:60])
    names = np.array(
        ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    )
    net = BlockDCTNetClassifier(widths=(4,), max_epochs=1, **QUICK)
    predicted = net.fit(X, names[ytr[:60]]).predict(X)
    assert predicted.dtype.kind == "U" and set(predicted) <= set(names)
    assert net.fit(X, ytr[:60].astype(np.float64)).classes_.dtype == np.float64
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        net.fit(X, np.linspace(0, 1, 60))
    with pytest.raises(ValueError, match="y should be a 1d array"):
        net.fit(X, np.zeros((60, 2)))
    with pytest.raises(ValueError, match="requires y to be passed"):
        net.fit(X, None)
    with pytest.raises(ValueError, match=r"could not convert|not compatible"):
        BlockDCTNetRegressor(**QUICK).fit(X, names[ytr[:60]])


def test_codes_must_be_non_negative_integers_in_range():
    net = CodeEmbeddingClassifier(max_epochs=1, **QUICK)
    y = np.arange(6) % 2
    with pytest.raises(ValueError, match="non-integer values"):
        net.fit(np.full((6, 3), 0.5), y)
    with pytest.raises(ValueError, match="Negative values in data"):
        net.fit(-np.ones((6, 3), dtype=int), y)
    net.fit(np.arange(18).reshape(6, 3) % 4, y)
    assert net.n_codes_ == 4
    with pytest.raises(ValueError, match=r"codes must be in \[0, 3\].*holds 7"):
        net.predict(np.full((2, 3), 7))
    fixed = CodeEmbeddingClassifier(n_codes=16, max_epochs=1, **QUICK).fit(np.ones((6, 3)), y)
    assert fixed.n_codes_ == 16 and fixed.predict(np.full((2, 3), 15)).shape == (2,)


def test_device_names():
    assert resolve_device("cpu") == "cpu"
    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ValueError, match="device must be 'auto' or a torch device name"):
        resolve_device("bogus")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="asks for CUDA"):
            resolve_device("cuda")


# -- reproducibility, partial_fit, early stopping, progress -----------------------


def test_seed_makes_fits_reproducible_and_leaves_global_rngs_alone(digits):
    Xtr, ytr, Xte, _ = digits
    state = torch.random.get_rng_state()
    a = _dct_pipe(max_epochs=1).fit(Xtr, ytr).predict_proba(Xte)
    b = _dct_pipe(max_epochs=1).fit(Xtr, ytr).predict_proba(Xte)
    c = _dct_pipe(max_epochs=1, random_state=1).fit(Xtr, ytr).predict_proba(Xte)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    assert torch.equal(state, torch.random.get_rng_state())


def test_predictions_do_not_depend_on_the_batch():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 6, 3, 3)).astype(np.float32)
    net = BlockDCTNetClassifier(max_epochs=1, batch_size=16, **QUICK).fit(X, np.arange(50) % 3)
    whole = net.predict_proba(X)
    one_by_one = np.vstack([net.predict_proba(X[i : i + 1]) for i in range(0, 50, 7)])
    np.testing.assert_array_equal(whole[::7], one_by_one)


def test_partial_fit_continues_and_survives_pickling():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 4, 2, 2)).astype(np.float32)
    y = np.arange(40) % 4
    net = BlockDCTNetClassifier(widths=(4,), **QUICK)
    net.partial_fit(X[:20], y[:20] % 2, classes=[0, 1, 2, 3])
    assert net.n_iter_ == 1 and net.classes_.tolist() == [0, 1, 2, 3]
    net.partial_fit(X[20:], y[20:])
    assert net.n_iter_ == 2
    loaded = pickle.loads(pickle.dumps(net))
    np.testing.assert_array_equal(loaded.predict_proba(X), net.predict_proba(X))
    before = loaded.optimizer_.state_dict()["state"][0]["step"]
    assert float(before) == float(net.optimizer_.state_dict()["state"][0]["step"])
    loaded.partial_fit(X, y)
    assert loaded.n_iter_ == 3 and len(loaded.history) == 3
    with pytest.raises(ValueError, match=r"labels \[7\] that are not among the classes"):
        net.partial_fit(X[:2], [0, 7])
    assert clone(net).get_params() == net.get_params()


def test_early_stopping_and_progress_display(capsys):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((80, 4, 2, 2)).astype(np.float32)
    y = rng.integers(0, 2, 80)  # noise: the validation loss soon stops improving
    net = BlockDCTNetClassifier(
        max_epochs=60, early_stopping=True, n_iter_no_change=2, lr=0.05, verbose=2, **QUICK
    ).fit(X, y)
    assert net.n_iter_ < 60
    assert "valid_loss" in net.history[-1]
    out = capsys.readouterr()
    assert "valid_loss" in out.out and "Stopping" in out.out


def test_cosine_schedule_decays_over_fit_and_partial_fit_keeps_lr():
    from skorch.callbacks import Callback

    class Record(Callback):
        def initialize(self):
            self.lrs = []
            return self

        def on_batch_end(self, net, training=None, **kwargs):
            if training:
                self.lrs.append(net.optimizer_.param_groups[0]["lr"])

    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 4, 2, 2)).astype(np.float32)
    y = np.arange(40) % 2
    record = Record()
    net = BlockDCTNetClassifier(
        max_epochs=4, batch_size=10, lr=0.01, lr_schedule="cosine", callbacks=[record], **QUICK
    )
    net.fit(X, y)
    lrs = np.array(record.lrs)
    assert len(lrs) == 16 and lrs[0] == 0.01 and np.all(np.diff(lrs) < 0) and lrs[-1] < 0.001
    assert net.optimizer_.param_groups[0]["lr"] == 0.01  # restored after fit
    record.lrs.clear()
    net.partial_fit(X, y)
    assert record.lrs == [0.01] * 4
    constant = BlockDCTNetClassifier(max_epochs=2, **QUICK).fit(X, y)  # the default
    assert "lr_schedule" not in dict(constant.callbacks_)


def test_mdct_log_compand_drops_signs(spoken):
    Xtr, ytr, _, _ = spoken
    G = MDCT(256, layout="channels_first").fit_transform(Xtr[:40])
    net = MDCTNetClassifier(compand="log", max_epochs=1, **QUICK).fit(G, ytr[:40])
    assert net.compand_scale_ == pytest.approx(np.abs(G).mean(), rel=1e-5)
    np.testing.assert_array_equal(net.predict_proba(G), net.predict_proba(-G))


def test_threads_are_restored():
    before = torch.get_num_threads()
    X = np.zeros((8, 2, 1, 1), dtype=np.float32)
    net = BlockDCTNetClassifier(max_epochs=1, **QUICK).fit(X, np.arange(8) % 2)
    net.predict(X)
    assert torch.get_num_threads() == before


def test_import_skcompress_does_not_import_torch():
    code = (
        "import sys, skcompress, skcompress.quantization, skcompress.transforms, "
        "skcompress.entropy, skcompress.metrics, skcompress.datasets, skcompress.utils\n"
        "loaded = sorted(m for m in ('torch', 'skorch') if m in sys.modules)\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# -- hostile settings and input (issue 18) ------------------------------------------


def test_diverging_training_raises_naming_lr_and_leaves_the_net_unfitted():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((12, 16)).astype(np.float32), rng.standard_normal(12)
    net = WaveletNetRegressor(lr=1e6, max_epochs=3, **QUICK)
    with pytest.raises(ValueError, match=r"training diverged: the training loss is .*lr=1000000"):
        net.fit(X, y)
    with pytest.raises(NotFittedError):
        net.predict(X)
    assert np.all(np.isfinite(net.set_params(lr=1e-3).fit(X, y).predict(X)))


def test_prediction_batches_are_no_larger_than_the_training_set():
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 255, (12, 8, 8)).astype(np.float32)
    net = PixelNetClassifier(max_epochs=1, batch_size=10**6, **QUICK).fit(X, np.arange(12) % 3)
    rows = []
    net.module_.register_forward_hook(lambda module, args, out: rows.append(len(args[0])))
    whole = net.predict_proba(X)
    assert set(rows) == {12}  # not 10**6 rows of padding (was 5.9 GB)
    np.testing.assert_array_equal(net.predict_proba(X[:5]), whole[:5])


def test_codes_beyond_any_codebook_are_refused_before_allocating():
    net = CodeEmbeddingClassifier(max_epochs=1, **QUICK)
    with pytest.raises(
        ValueError, match=r"holds codes up to 10{18}.*at most 268435456 \(2\*\*28\)"
    ):
        net.fit(np.full((12, 3, 2), 10**18), np.arange(12) % 3)
    with pytest.raises(NotFittedError):
        net.predict(np.zeros((2, 3, 2), dtype=int))


def test_values_beyond_float32_are_refused():
    X = np.full((12, 16), 1e300)
    with pytest.raises(ValueError, match=r"computes in float32.*values up to 1e\+300"):
        WaveletNetClassifier(max_epochs=1, **QUICK).fit(X, np.arange(12) % 3)


def test_widths_are_bounded():
    X = np.zeros((12, 8, 8), dtype=np.float32)
    net = PixelNetClassifier(widths=(10**6,), max_epochs=1, **QUICK)
    with pytest.raises(ValueError, match=r"widths must be .* channel counts in \[1, 4096\]"):
        net.fit(X, np.arange(12) % 3)
    with pytest.raises(NotFittedError):
        net.predict(X)
