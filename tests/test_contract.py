"""The data contract's bad-input cases: each error names what was wrong."""

import numpy as np
import pytest
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from skcompress import BlockDCT, PerceptualQuantizer, PyramidVQ, ResidualVQ
from skcompress._core._estimator import unfitted_on_error


def _blockdct():
    return BlockDCT()


def _quantizer():
    return PerceptualQuantizer(table=2.0)


STEPS = [_blockdct, _quantizer]


@pytest.mark.parametrize("make", STEPS)
@pytest.mark.parametrize(
    ("X", "message"),
    [
        (np.array([[1.0, np.nan]]), "Input X contains NaN"),
        (np.array([[1.0, np.inf]]), "Input X contains infinity"),
        (np.zeros((0, 8)), r"Found array with 0 sample\(s\) \(shape=\(0, 8\)\)"),
        (np.zeros((2, 0)), r"0 feature\(s\) \(shape=\(2, 0\)\)"),
        (np.zeros((2, 4)) + 1j, "Complex data not supported"),
        (np.array([["a", "b"]], dtype=object), "needs numeric input; got X of dtype object"),
        (np.array([["1.5", "2"]]), r"needs numeric input; got X of dtype <U3 \(strings\)"),
        (np.array([[1.5, "2"]], dtype=object), r"holding strings, such as '2'"),
        (np.array([[b"1", b"2"]]), r"dtype \|S1 \(strings\)"),
        ([["1", "2"], ["3", "4"]], "needs numeric input"),
        (np.zeros((6, 0, 0)), r"at least one value each; got X of shape \(6, 0, 0\)"),
        (np.zeros((6, 4, 0)), r"signals of shape \(4, 0\) are empty"),
        (np.zeros(5), "Expected 2D array, got 1D array"),
        (np.full((2, 8, 8), np.nan), "Input X contains NaN"),
        (np.zeros((0, 8, 8)), r"Found array with 0 sample\(s\)"),
    ],
)
def test_bad_input_is_refused_at_fit(make, X, message):
    with pytest.raises(ValueError, match=message):
        make().fit(X)


def test_too_many_dimensions_is_refused():
    with pytest.raises(ValueError, match=r"ndim=5 and shape \(1, 2, 3, 4, 5\)"):
        BlockDCT().fit(np.zeros((1, 2, 3, 4, 5)))


def test_object_arrays_of_numbers_are_accepted():
    X = np.arange(16.0).reshape(2, 8).astype(object)
    np.testing.assert_allclose(
        BlockDCT().fit_transform(X), BlockDCT().fit_transform(X.astype(float))
    )


@pytest.mark.parametrize("make", STEPS)
def test_shape_differing_from_fit_is_refused(make):
    step = make().fit(np.zeros((2, 16, 16)))
    with pytest.raises(
        ValueError,
        match=r"fitted on signals of shape \(16, 16\) \(gray images\) "
        r"but X has signals of shape \(16, 8\)",
    ):
        step.transform(np.zeros((2, 16, 8)))
    with pytest.raises(ValueError, match="X has 8 features, but .* is expecting 256"):
        step.transform(np.zeros((2, 8)))


def test_signal_shape_that_does_not_match_rows_is_refused():
    with pytest.raises(
        ValueError,
        match=r"signal_shape=\(8, 8\) \(64 values per sample\) but X "
        r"has shape \(3, 50\)",
    ):
        BlockDCT(signal_shape=(8, 8)).fit(np.zeros((3, 50)))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"block_size": 0},
            r"'block_size' parameter of BlockDCT must be an int in the range "
            r"\[1, 4096\]. Got 0 instead",
        ),
        (
            {"block_size": 10**6},
            r"'block_size' parameter of BlockDCT must be an int in the range "
            r"\[1, 4096\]. Got 1000000 instead",
        ),
        ({"order": "diagonal"}, r"'order' parameter of BlockDCT must be a str among "),
        ({"layout": "nchw"}, r"'layout' parameter of BlockDCT must be a str among"),
        ({"n_coefficients": 65}, r"n_coefficients=65 exceeds the 64 coefficients"),
        ({"level_shift": "jpeg"}, r"'level_shift' parameter of BlockDCT"),
    ],
)
def test_bad_parameters_are_named(params, message):
    with pytest.raises(ValueError, match=message):
        BlockDCT(**params).fit(np.zeros((1, 8, 8)))


def test_inverse_of_wrong_shape_is_refused():
    dct = BlockDCT(layout="blocks").fit(np.zeros((1, 16, 16)))
    with pytest.raises(
        ValueError,
        match=r"expects coefficients of shape \(n_samples, 256\) or, "
        r"in the 'blocks' layout, \(n_samples, 2, 2, 64\); got an array of shape "
        r"\(1, 2, 2, 32\)",
    ):
        dct.inverse_transform(np.zeros((1, 2, 2, 32)))


# -- empty signals, text, set_output and failed fits (issue 18) ---------------------


@pytest.mark.parametrize("cls", [PerceptualQuantizer, ResidualVQ, PyramidVQ])
def test_empty_signals_are_refused_by_name(cls):
    # were "integer modulo by zero" and "math domain error"
    with pytest.raises(ValueError, match=rf"{cls.__name__} needs signals with at least one value"):
        cls().fit(np.zeros((6, 0, 0)))


def test_channels_first_under_pandas_output_names_the_layout():
    pytest.importorskip("pandas")
    X = np.zeros((6, 16, 16))
    dct = BlockDCT(layout="channels_first").set_output(transform="pandas")
    # was pandas' "Must pass 2-d input"
    with pytest.raises(ValueError, match=r"layout='channels_first' gives an array of shape"):
        dct.fit_transform(X)
    flat = BlockDCT().set_output(transform="pandas").fit_transform(X)
    assert flat.shape == (6, 256) and flat.columns[0] == "blk0_0_dct0_0"


class _Steps(BaseEstimator):
    """Fits in two steps and fails between them when told to."""

    def __init__(self, fail=False):
        self.fail = fail

    @unfitted_on_error
    def fit(self, X):
        if self.fail == "before":
            raise ValueError("refused before changing anything")
        self.first_ = len(X)
        if self.fail == "between":
            raise ValueError("failed half-way")
        self.shape_ = np.shape(X)
        return self

    @unfitted_on_error
    def partial_fit(self, X):
        if not hasattr(self, "first_"):
            return self.fit(X)
        self.count_ = len(X)
        if self.fail:
            raise ValueError("later call fails")
        return self


def test_a_failed_fit_leaves_the_estimator_unfitted():
    step = _Steps(fail="between")
    with pytest.raises(ValueError, match="half-way"):
        step.fit(np.zeros(3))
    assert not hasattr(step, "first_")
    with pytest.raises(NotFittedError):
        check_is_fitted(step)
    fitted = _Steps().fit(np.zeros(3))
    with pytest.raises(ValueError, match="half-way"):
        fitted.set_params(fail="between").fit(np.zeros(4))  # fit starts afresh
    with pytest.raises(NotFittedError):
        check_is_fitted(fitted)


def test_a_fit_refused_before_any_change_keeps_the_earlier_fit():
    fitted = _Steps().fit(np.zeros(3))
    with pytest.raises(ValueError, match="before changing"):
        fitted.set_params(fail="before").fit(np.zeros(4))
    assert fitted.shape_ == (3,)
    dct = BlockDCT().fit(np.zeros((2, 8, 8)))
    with pytest.raises(ValueError, match="Input X contains NaN"):
        dct.fit(np.full((2, 16, 16), np.nan))
    assert dct.signal_shape_ == (8, 8)


def test_a_later_partial_fit_that_fails_keeps_what_was_learned():
    step = _Steps().partial_fit(np.zeros(3))
    step.fail = True
    with pytest.raises(ValueError, match="later call"):
        step.partial_fit(np.zeros(5))
    check_is_fitted(step)
    assert step.shape_ == (3,)
