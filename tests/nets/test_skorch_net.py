"""The network estimators are skorch nets: history, weights on disk, routed parameters,
callbacks, DataLoader options and torch Datasets work as in skorch (issue 20, items 1 and 4)."""

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from skorch import NeuralNetClassifier, NeuralNetRegressor
from skorch.callbacks import EarlyStopping, EpochScoring
from skorch.dataset import ValidSplit
from skorch.exceptions import NotInitializedError
from torch.utils.data import DataLoader, Dataset

from skcompress import BlockDCT, PerceptualQuantizer
from skcompress.nets import BatchIterator, BlockDCTNetClassifier, MDCTNetRegressor
from tests.nets.conftest import QUICK

TINY = {**QUICK, "widths": (4,), "hidden_units": 8, "batch_size": 16, "lr": 0.01}


def _data(n=48, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 4, 2, 2)).astype(np.float32)
    y = (X[:, 0].mean(axis=(1, 2)) > 0).astype(int) + 2 * (X[:, 1, 0, 0] > 0)
    return X, y


@pytest.fixture(scope="module")
def images():
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 255, (48, 16, 16)).astype(np.float32)
    return X, (X[:, :8].mean(axis=(1, 2)) > X[:, 8:].mean(axis=(1, 2))).astype(int)


def _pipe(**net):
    return make_pipeline(
        BlockDCT(n_coefficients=4),
        PerceptualQuantizer(quality=50),
        BlockDCTNetClassifier(**{**TINY, "max_epochs": 2, **net}),
    )


def test_the_nets_are_skorch_nets_with_a_history(images):
    X, y = images
    pipe = _pipe().fit(X, y)
    net = pipe[-1]
    assert isinstance(net, NeuralNetClassifier)
    assert isinstance(MDCTNetRegressor(), NeuralNetRegressor)
    assert len(net.history) == net.n_iter_ == 2
    assert np.all(np.isfinite(net.history[:, "train_loss"]))
    assert net.module_params_["in_channels"] == 4 and net.module_params_["grid_shape"] == (2, 2)
    assert net.history is net.history_
    assert BlockDCTNetClassifier().history is None


def test_save_params_and_load_params_into_an_initialized_net(images, tmp_path):
    X, y = images
    pipe = _pipe().fit(X, y)
    net = pipe[-1]
    files = {
        "f_params": tmp_path / "weights.pt",
        "f_optimizer": tmp_path / "optimizer.pt",
        "f_history": tmp_path / "history.json",
    }
    net.save_params(**files)
    Z = pipe[:-1].transform(X)
    fresh = clone(net)
    with pytest.raises(NotInitializedError, match=r"call initialize\(X, y\) \(or fit\) first"):
        fresh.load_params(f_params=files["f_params"])
    fresh.initialize(Z, y)
    assert fresh.n_iter_ == 0 and not np.allclose(fresh.predict_proba(Z), net.predict_proba(Z))
    fresh.load_params(**files)
    np.testing.assert_array_equal(fresh.predict_proba(Z), net.predict_proba(Z))
    assert fresh.n_iter_ == 2 and fresh.history[:, "train_loss"] == net.history[:, "train_loss"]
    with pytest.raises(NotInitializedError, match=r"initialize\(X, y\) or fit\(X, y\)"):
        BlockDCTNetClassifier().initialize()


def test_module_parameters_route_in_a_pipeline_and_a_grid_search(images):
    X, y = images
    pipe = _pipe().set_params(blockdctnetclassifier__module__widths=(3,))
    assert pipe.get_params()["blockdctnetclassifier__module__widths"] == (3,)
    pipe.fit(X, y)
    assert pipe[-1].module_.stages[0].conv.out_channels == 3
    assert pipe[-1].widths == (4,)  # the routed keyword wins over the parameter
    search = GridSearchCV(
        _pipe(max_epochs=1),
        {"blockdctnetclassifier__module__widths": [(2,), (5,)]},
        cv=2,
    ).fit(X, y)
    widths = search.best_params_["blockdctnetclassifier__module__widths"]
    assert search.best_estimator_[-1].module_params_["widths"] == widths
    assert search.cv_results_["mean_test_score"].shape == (2,)
    # on a fitted net, skorch rebuilds the module at once
    net = search.best_estimator_[-1].set_params(module__hidden_units=6)
    assert net.module_.head.layers[1].out_features == 6 and net.module_params_["hidden_units"] == 6


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"module__in_channels": 3}, r"module__in_channels cannot be set .* reads in_channels"),
        ({"module__n_coefficients": 2}, r"set n_coefficients=2 instead"),
        ({"module__bogus": 1}, r"BlockDCTNet takes no parameter 'bogus'.*\['batch_norm'"),
        ({"module__kernel_size": 0}, r"'module__kernel_size' parameter of .* must be"),
        ({"dataset__length": 3}, r"unexpected parameter 'dataset__length'"),
        ({"widht": 3}, r"unexpected parameter 'widht'"),
    ],
)
def test_routed_parameters_are_checked_at_fit(params, match):
    X, y = _data()
    net = BlockDCTNetClassifier(**TINY, max_epochs=1, **params)
    with pytest.raises(ValueError, match=match):
        net.fit(X, y)


def test_optimizer_parameters(images):
    X, y = _data()
    sgd = BlockDCTNetClassifier(**TINY, max_epochs=1, optimizer="sgd").fit(X, y)
    assert sgd.optimizer_.param_groups[0]["momentum"] == 0.9  # the default of "sgd"
    half = clone(sgd).set_params(optimizer__momentum=0.5, optimizer__nesterov=True).fit(X, y)
    group = half.optimizer_.param_groups[0]
    assert (group["momentum"], group["nesterov"]) == (0.5, True)
    half.set_params(optimizer__momentum=0.3, lr=0.02)  # skorch's virtual parameters: in place
    group = half.optimizer_.param_groups[0]
    assert (group["momentum"], group["lr"], half.lr) == (0.3, 0.02, 0.02)
    rms = BlockDCTNetClassifier(**TINY, max_epochs=1, optimizer=torch.optim.RMSprop).fit(X, y)
    assert isinstance(rms.optimizer_, torch.optim.RMSprop)
    rms.set_params(optimizer="adamw")  # skorch refuses this on a fitted net; here it rebuilds
    assert isinstance(rms.optimizer_, torch.optim.AdamW)
    smooth = BlockDCTNetClassifier(**TINY, max_epochs=1, criterion__label_smoothing=0.2)
    assert smooth.fit(X, y).criterion_.label_smoothing == 0.2


def test_skorch_callbacks_early_stopping_and_scoring():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((80, 4, 2, 2)).astype(np.float32)
    y = np.array(["cat", "dog"])[rng.integers(0, 2, 80)]  # noise, labels of any type
    net = BlockDCTNetClassifier(
        **{**TINY, "lr": 0.05},
        max_epochs=40,
        train_split=ValidSplit(4, stratified=True),
        callbacks=[
            EpochScoring("accuracy", on_train=True, name="train_acc", lower_is_better=False),
            EarlyStopping(patience=2, sink=lambda *a: None),
        ],
    ).fit(X, y)
    assert net.n_iter_ < 40
    row = net.history[-1]
    assert {"valid_loss", "valid_acc", "train_acc"} <= set(row)
    assert 0 <= row["valid_acc"] <= 1 and 0 <= row["train_acc"] <= 1
    # callbacks by name: parameters, and None to remove one
    quiet = clone(net).set_params(callbacks__EarlyStopping__patience=1, callbacks__print_log=None)
    quiet.set_params(verbose=1).fit(X, y)
    assert "print_log" not in dict(quiet.callbacks_)
    assert dict(quiet.callbacks_)["EarlyStopping"].patience == 1


def test_valid_accuracy_matches_the_predictions_on_the_held_out_part():
    X, y = _data(64)
    labels = np.array(["a", "b", "c", "d"])[y]
    split = ValidSplit(4, stratified=True)
    net = BlockDCTNetClassifier(**TINY, max_epochs=2, train_split=split).fit(X, labels)
    _, valid = split(torch.from_numpy(X), labels)
    rows = np.asarray(valid.indices)
    accuracy = np.mean(net.predict(X[rows]) == labels[rows])
    assert net.history[-1, "valid_acc"] == pytest.approx(accuracy)


@pytest.mark.parametrize("workers", [0, 1])
def test_dataloader_options_reach_the_loader(workers):
    X, y = _data()
    net = BlockDCTNetClassifier(
        **TINY, max_epochs=1, iterator_train__num_workers=workers, iterator_valid__batch_size=5
    ).fit(X, y)
    assert net.n_iter_ == 1 and net.history[-1, "train_batch_count"] == 3
    train = net.get_iterator(net.get_dataset(X, y), training=True)
    assert BatchIterator.slices(BatchIterator, net.get_params_for("iterator_train")) == (
        workers == 0
    )
    assert len(train) == 3 and train.batches.loader_options == {"num_workers": workers}
    proba = net.predict_proba(X)
    assert proba.shape == (48, 4)
    net.set_params(iterator_train__num_workers=0, iterator_valid__batch_size=48)  # fitted: fine
    np.testing.assert_allclose(net.predict_proba(X), proba, atol=1e-6)
    with pytest.raises(TypeError, match=r"does not know: \['num_worker'\]"):
        BlockDCTNetClassifier(**TINY, max_epochs=1, iterator_train__num_worker=2).fit(X, y)


def test_a_torch_dataloader_and_drop_last():
    X, y = _data()
    loader = BlockDCTNetClassifier(
        **TINY, max_epochs=1, iterator_train=DataLoader, iterator_train__drop_last=True
    ).fit(X, y)
    assert loader.history[-1, "train_batch_count"] == 3
    sliced = BlockDCTNetClassifier(**TINY, max_epochs=1, iterator_train__drop_last=True)
    sliced.fit(X[:40], y[:40])
    assert sliced.history[-1, "train_batch_count"] == 2  # 40 rows: 2 batches of 16


class _Pairs(Dataset):
    """A torch Dataset of (X, y) items, one sample each."""

    def __init__(self, X, y):
        self.X, self.y = X, y

    def __len__(self):
        return len(self.X)

    def __getitem__(self, i):
        return self.X[i], self.y[i]


def test_fit_takes_a_torch_dataset_of_items():
    X, y = _data()
    on_arrays = BlockDCTNetClassifier(**TINY, max_epochs=2).fit(X, y)
    data = _Pairs(X, y)
    net = BlockDCTNetClassifier(**TINY, max_epochs=2).fit(data)
    assert net.n_iter_ == 2 and net.classes_.tolist() == [0, 1, 2, 3]
    assert net.input_shape_ == (4, 2, 2) and net.history[-1, "train_batch_count"] == 3
    # the statistics of the pass over the items are those of the arrays
    np.testing.assert_allclose(net.input_mean_, on_arrays.input_mean_, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(net.input_scale_, on_arrays.input_scale_, rtol=1e-5)
    np.testing.assert_array_equal(net.predict_proba(data), net.predict_proba(X))
    assert net.score(X, y) == np.mean(net.predict(data) == y)
    # and partial_fit, with a validation split over the items
    net.set_params(train_split=ValidSplit(4, stratified=True)).partial_fit(data)
    assert net.n_iter_ == 3 and "valid_acc" in net.history[-1]
    with pytest.raises(ValueError, match="y must be None"):
        clone(net).fit(data, y)
    with pytest.raises(ValueError, match=r"labels \[9\] that are not among the classes"):
        net.partial_fit(_Pairs(X[:4], np.full(4, 9)))


def test_a_dataset_listing_its_targets_is_not_read_ahead():
    X, y = _data()

    class Listed(_Pairs):
        reads = 0

        @property
        def targets(self):
            return self.y

        def __getitem__(self, i):
            Listed.reads += 1
            return super().__getitem__(i)

    data = Listed(X, y)
    BlockDCTNetClassifier(**TINY, max_epochs=1, standardize=False).fit(data)
    assert Listed.reads == 1 + 48  # the first item, then one epoch
    Listed.reads = 0
    BlockDCTNetClassifier(**TINY, max_epochs=1).fit(data)  # standardization reads them
    assert Listed.reads == 1 + 2 * 48


def test_warm_start_trains_on(images):
    X, y = _data()
    net = BlockDCTNetClassifier(**TINY, max_epochs=2, warm_start=True).fit(X, y)
    weights = net.module_.head.layers[-1].weight.detach().clone()
    net.fit(X, y)
    assert net.n_iter_ == len(net.history) == 4
    assert not torch.equal(weights, net.module_.head.layers[-1].weight)
    cold = clone(net).set_params(warm_start=False).fit(X, y).fit(X, y)
    assert cold.n_iter_ == 2


def test_a_dataset_of_string_labels_with_a_validation_split():
    X, y = _data()
    labels = np.array(["ant", "bee", "cat", "dog"])[y]
    split = ValidSplit(4, stratified=True)
    net = BlockDCTNetClassifier(**TINY, max_epochs=2, train_split=split).fit(_Pairs(X, labels))
    assert net.classes_.tolist() == ["ant", "bee", "cat", "dog"]
    _, valid = split(X, labels)
    rows = np.asarray(valid.indices)
    accuracy = np.mean(net.predict(X[rows]) == labels[rows])
    assert net.history[-1, "valid_acc"] == pytest.approx(accuracy)


def test_device_auto_is_what_skorch_sees_during_calls_only(tmp_path):
    X, y = _data()
    quick = {k: v for k, v in TINY.items() if k != "device"}
    seen = []

    class Device(EpochScoring):  # a callback that reads net.device, as skorch's do
        def on_epoch_end(self, net, **kwargs):
            seen.append(net.device)
            super().on_epoch_end(net, **kwargs)

    net = BlockDCTNetClassifier(
        **quick,
        device="auto",
        max_epochs=1,
        train_split=ValidSplit(4),
        callbacks=[Device("accuracy", name="acc")],
    ).fit(X, y)
    resolved = "cuda" if torch.cuda.is_available() else "cpu"
    assert seen == [resolved] and net.device_ == resolved and net.device == "auto"
    net.set_params(module__widths=(3,))  # rebuilt on the device
    assert next(net.module_.parameters()).device.type == resolved and net.device == "auto"
    net.save_params(f_params=tmp_path / "w.pt")
    net.load_params(f_params=tmp_path / "w.pt")
    assert net.device == "auto" and net.get_params()["device"] == "auto"
    net.set_params(device="cpu")  # set anew on a fitted net: kept
    assert net.device == "cpu"


def test_early_stopping_leaves_the_last_epoch_to_the_users_callbacks():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((80, 4, 2, 2)).astype(np.float32)
    y = rng.integers(0, 2, 80)  # noise: the validation loss soon stops improving
    scoring = EpochScoring("accuracy", on_train=True, name="train_acc")
    net = BlockDCTNetClassifier(
        **{**TINY, "lr": 0.05},
        max_epochs=60,
        early_stopping=True,
        n_iter_no_change=2,
        callbacks=[scoring],
    ).fit(X, y)
    assert net.n_iter_ < 60 and "train_acc" in net.history[-1]
    names = [name for name, _ in net.callbacks_]
    assert names.index("EpochScoring") < names.index("early_stopping") == len(names) - 2
