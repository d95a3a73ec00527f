"""FrequencyRampTable: Q(i, j) = base * (1 + slope * (i + j)) as a PerceptualQuantizer table."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline

from skcompress import BlockDCT, PerceptualQuantizer
from skcompress.datasets import load_mnist
from skcompress.metrics import rate_scoring
from skcompress.quantization import FrequencyRampTable
from skcompress.transforms import zigzag_order


def test_matrix_follows_the_formula():
    table = FrequencyRampTable(base=3.0, slope=0.25, block_size=8)
    i, j = np.mgrid[:8, :8]
    np.testing.assert_array_equal(np.asarray(table), 3.0 * (1 + 0.25 * (i + j)))
    assert np.asarray(table, dtype=np.float32).dtype == np.float32
    assert table.shape == (8, 8) and np.ndim(table) == 2
    np.testing.assert_array_equal(np.asarray(FrequencyRampTable(5, 0.0, 4)), np.full((4, 4), 5.0))


def test_quantizer_reads_it_in_zigzag_order_and_cuts_it():
    X = np.random.default_rng(0).uniform(0, 255, (4, 16, 16))
    G = BlockDCT(n_coefficients=10).fit_transform(X)
    table = FrequencyRampTable(base=8, slope=0.5)
    q = PerceptualQuantizer(table=table, n_coefficients=10).fit(G)
    expected = np.asarray(table).reshape(-1)[zigzag_order(8)][:10]
    np.testing.assert_array_equal(q.steps_, expected)
    same = PerceptualQuantizer(table=np.asarray(table), n_coefficients=10).fit(G)
    np.testing.assert_array_equal(q.transform(G), same.transform(G))
    scaled = PerceptualQuantizer(table=table, quality=90, n_coefficients=10).fit(G)
    assert np.all(scaled.steps_ <= q.steps_)  # IJG scaling applies to it as to any table


def test_nested_parameters_clone_and_pickle():
    q = PerceptualQuantizer(table=FrequencyRampTable())
    assert q.get_params()["table__slope"] == 0.5
    q.set_params(table__base=2.0, table__slope=1.0)
    assert q.table == FrequencyRampTable(2.0, 1.0)
    copy = clone(q)
    assert copy.table is not q.table and copy.table == q.table
    assert clone(q).get_params() == q.get_params()
    assert pickle.loads(pickle.dumps(q.table)) == q.table
    assert repr(q.table) == "FrequencyRampTable(base=2.0, slope=1.0, block_size=8)"
    with pytest.raises(ValueError, match="has no parameter 'gamma'"):
        q.table.set_params(gamma=1)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"base": 0}, "base must be a number > 0; got 0"),
        ({"slope": -1}, "slope must be a number >= 0; got -1"),
        ({"block_size": 0}, "block_size must be an int >= 1; got 0"),
        ({"base": np.inf}, "must be finite"),
    ],
)
def test_bad_parameters_are_named(params, match):
    with pytest.raises(ValueError, match=match):
        np.asarray(FrequencyRampTable(**params))


def test_grid_search_over_base_and_slope():
    X, y = load_mnist(return_X_y=True)
    pipe = make_pipeline(
        BlockDCT(n_coefficients=10),
        PerceptualQuantizer(table=FrequencyRampTable(), n_coefficients=10),
        GaussianNB(),
    )
    grid = {
        "perceptualquantizer__table__base": [8.0, 64.0],
        "perceptualquantizer__table__slope": [0.0, 1.0],
    }
    search = GridSearchCV(pipe, grid, cv=2, scoring=rate_scoring(), refit="accuracy")
    search.fit(X[:400], y[:400])
    results = search.cv_results_
    bits = -results["mean_test_neg_bits_per_sample"]
    base = np.asarray(results["param_perceptualquantizer__table__base"], dtype=float)
    slope = np.asarray(results["param_perceptualquantizer__table__slope"], dtype=float)
    # coarser steps (larger base, steeper slope) cost fewer bits
    assert bits[(base == 64) & (slope == 1)][0] < bits[(base == 8) & (slope == 0)][0]
    assert search.best_estimator_[1].table == FrequencyRampTable(
        search.best_params_["perceptualquantizer__table__base"],
        search.best_params_["perceptualquantizer__table__slope"],
    )
