"""One base class for every entropy model: the same interface, fitted check and header."""

import pickle

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from skcompress.entropy import (
    BlockContextModel,
    CategoricalEntropyModel,
    EntropyModel,
    GainShapeModel,
    _coder,
)
from skcompress.quantization import PyramidVQ


def _cases(mnist_blocks):
    """``{name: (unfitted model, training symbols, symbols to code)}``."""
    flat = mnist_blocks.reshape(len(mnist_blocks), -1)
    X = np.random.default_rng(0).standard_normal((60, 32))
    pvq = PyramidVQ(vector_size=8, pulses=60).fit(X)
    return {
        "categorical": (CategoricalEntropyModel(), flat[:200].reshape(-1, 64), flat[200:203]),
        "context": (
            BlockContextModel(positional=False),
            mnist_blocks[:200],
            mnist_blocks[200:203],
        ),
        "context-1d": (
            BlockContextModel(positional=False),
            mnist_blocks[:200].reshape(200, 16, 64),
            mnist_blocks[200:203].reshape(3, 16, 64),
        ),
        "gain-shape": (
            GainShapeModel(pvq.codebook_size_),
            pvq.transform(X[:40]),
            pvq.transform(X[40:43]),
        ),
    }


NAMES = ["categorical", "context", "context-1d", "gain-shape"]


def test_the_base_is_abstract():
    with pytest.raises(TypeError, match="abstract"):
        EntropyModel()


@pytest.mark.parametrize("name", NAMES)
def test_every_model_is_an_entropy_model(name, mnist_blocks):
    model, train, _ = _cases(mnist_blocks)[name]
    assert isinstance(model, EntropyModel)
    assert isinstance(model.fit(train), EntropyModel)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("method", ["compress", "decompress", "code_lengths"])
def test_before_fit_every_model_says_the_same(name, method, mnist_blocks):
    model, _, symbols = _cases(mnist_blocks)[name]
    argument = [b"\0" * 8] if method == "decompress" else symbols
    expected = (
        rf"^{type(model).__name__}\.{method}: the model is not fitted yet; call fit first\.$"
    )
    with pytest.raises(NotFittedError, match=expected):
        getattr(model, method)(argument)
    assert not hasattr(model, "fingerprint_")


@pytest.mark.parametrize("name", NAMES)
def test_check_is_fitted_reads_every_model(name, mnist_blocks):
    model, train, _ = _cases(mnist_blocks)[name]
    with pytest.raises(NotFittedError):
        check_is_fitted(model)
    check_is_fitted(model.partial_fit(train))  # the first partial_fit fits


@pytest.mark.parametrize("name", NAMES)
def test_header_bits_of_the_symbol_shape_is_the_header_written(name, mnist_blocks):
    model, train, symbols = _cases(mnist_blocks)[name]
    model.fit(train)
    for s in model.compress(symbols):
        fields, payload = _coder.unpack(
            s, model._kind, model._n_fields, model.fingerprint_, "test"
        )
        assert model.header_bits(symbols.shape[1:]) == 8 * (len(s) - len(payload))


@pytest.mark.parametrize("name", NAMES)
def test_header_bits_refuses_a_shape_the_model_cannot_code(name, mnist_blocks):
    model, _, _ = _cases(mnist_blocks)[name]
    with pytest.raises(ValueError, match="header_bits expects the shape"):
        model.header_bits((2, 3, 4, 5, 6))


@pytest.mark.parametrize("name", NAMES)
def test_bitstreams_of_different_shapes_are_refused_together(name, mnist_blocks):
    model, train, symbols = _cases(mnist_blocks)[name]
    if name == "gain-shape":
        pytest.skip("one shape only: the number of vectors is fixed at fit")
    model.fit(train)
    shorter = symbols[:, : symbols.shape[1] // 2]
    strings = model.compress(symbols[:1]) + model.compress(shorter[:1])
    with pytest.raises(ValueError, match="different shapes"):
        model.decompress(strings)
    with pytest.raises(TypeError, match="Wrap it in a list"):
        model.decompress(strings[0])


@pytest.mark.parametrize("name", NAMES)
def test_pickles_drop_derived_tables_and_decode_the_same(name, mnist_blocks):
    model, train, symbols = _cases(mnist_blocks)[name]
    strings = model.fit(train).compress(symbols)
    loaded = pickle.loads(pickle.dumps(model))
    assert all(getattr(loaded, a) is None for a in model._derived)
    assert loaded.compress(symbols) == strings
    back = loaded.decompress(strings)
    assert all(
        a == b for a, b in zip(back.ravel().tolist(), symbols.ravel().tolist(), strict=True)
    )


@pytest.mark.parametrize("name", NAMES)
def test_a_refit_forgets_the_derived_tables(name, mnist_blocks):
    model, train, symbols = _cases(mnist_blocks)[name]
    before = model.fit(train[: len(train) // 2]).compress(symbols)
    fingerprint = model.fingerprint_
    model.partial_fit(train[len(train) // 2 :])
    assert model.fingerprint_ != fingerprint
    whole = type(model)(**_params(model)).fit(train)  # the choices of the first batch
    assert model.compress(symbols) == whole.compress(symbols)
    with pytest.raises(ValueError, match="checksum mismatch"):
        model.decompress(before)


def _params(model):
    if isinstance(model, GainShapeModel):
        return {"codebook_size": model.codebook_size}
    if isinstance(model, BlockContextModel):
        return {"positional": model.positional_, "dc_prediction": model.dc_prediction_}
    return {}
