"""Rate of a fitted pipeline: the bits its quantizer's symbols cost."""

import numpy as np
from sklearn.pipeline import Pipeline


def bits_per_sample(estimator, X):
    """Estimated bits per sample that ``estimator`` spends coding ``X``.

    ``estimator`` is a fitted step that has ``bits_per_sample`` (a quantizer)
    or a fitted :class:`~sklearn.pipeline.Pipeline` containing one: ``X`` goes
    through the steps before the last such quantizer, which then reports the
    rate of its symbols. Steps after it (a classifier, say) are ignored.

    Parameters
    ----------
    estimator : estimator or Pipeline
    X : array-like
        Input of ``estimator``.

    Returns
    -------
    bits : float
        Mean bits per sample, as the quantizer's ``bits_per_sample`` documents.

    See Also
    --------
    coded_bits : the length of real bitstreams instead of an estimate.
    skcompress.codecs.Codec : writes those bitstreams.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skcompress import BlockDCT, PerceptualQuantizer
    >>> from skcompress.datasets import load_mnist
    >>> X, y = load_mnist(return_X_y=True)
    >>> pipe = make_pipeline(BlockDCT(), PerceptualQuantizer(quality=50),
    ...                      LogisticRegression(max_iter=200)).fit(X[:300], y[:300])
    >>> 50 < bits_per_sample(pipe, X[300:600]) < 5000
    True
    """
    if hasattr(estimator, "bits_per_sample"):
        return estimator.bits_per_sample(X)
    if isinstance(estimator, Pipeline):
        positions = [
            i for i, (_, step) in enumerate(estimator.steps) if hasattr(step, "bits_per_sample")
        ]
        if positions:
            last = positions[-1]
            head = estimator[:last]
            Xt = head.transform(X) if last else np.asarray(X)
            return estimator.steps[last][1].bits_per_sample(Xt)
    raise TypeError(
        f"bits_per_sample needs a quantizer or a Pipeline containing one; got "
        f"{type(estimator).__name__}, which has no step with bits_per_sample."
    )
