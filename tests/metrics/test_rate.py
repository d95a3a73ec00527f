"""bits_per_sample on quantizers and on pipelines that contain one."""

import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skcompress import BlockDCT, PerceptualQuantizer
from skcompress.datasets import load_mnist
from skcompress.metrics import bits_per_sample


def test_pipeline_rate_is_its_quantizers():
    X, y = load_mnist(return_X_y=True)
    pipe = make_pipeline(
        BlockDCT(),
        PerceptualQuantizer(quality=50),
        StandardScaler(),
        LogisticRegression(max_iter=50),
    ).fit(X[:500], y[:500])
    G = pipe[0].transform(X[500:700])
    assert bits_per_sample(pipe, X[500:700]) == pipe[1].bits_per_sample(G)
    assert bits_per_sample(pipe[1], G) == pipe[1].bits_per_sample(G)


def test_needs_a_quantizer():
    with pytest.raises(TypeError, match="has no step with bits_per_sample"):
        bits_per_sample(make_pipeline(StandardScaler()), [[0.0]])
