"""The data contract's bad-input cases: each error names what was wrong."""

import numpy as np
import pytest

from skcompress import BlockDCT, PerceptualQuantizer


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
        (np.array([["a", "b"]], dtype=object), "could not convert string to float"),
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
            r"\[1, inf\). Got 0 instead",
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
