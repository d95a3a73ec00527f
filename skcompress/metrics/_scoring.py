"""Scorers that weigh accuracy against bits, for GridSearchCV and cross_validate."""

from numbers import Real

import numpy as np
from sklearn.metrics import check_scoring

from ..codecs import Codec
from ._rate import bits_per_sample

_UNITS = ("sample", "value")
_RATES = ("coded", "estimate")


def _check(unit, rate, n_splits):
    if unit not in _UNITS:
        raise ValueError(f"unit must be one of {_UNITS}; got {unit!r}.")
    if rate not in _RATES:
        raise ValueError(f"rate must be one of {_RATES}; got {rate!r}.")
    if not (isinstance(n_splits, (int, np.integer)) and n_splits >= 2):
        raise ValueError(f"n_splits must be an int >= 2; got {n_splits!r}.")


def coded_bits(estimator, X, *, model="auto", unit="sample", n_splits=2):
    """Bits that really coding ``X`` costs, with entropy models fitted on other samples.

    A scorer sees the fitted estimator and the held-out samples only, not the
    training data that an entropy model should be fitted on. So ``X`` is cut
    into ``n_splits`` interleaved parts; each part is coded (its bitstreams
    written, :class:`~skcompress.codecs.Codec`) by a model fitted on the
    others (cross-fitting), and the lengths of the bitstreams, headers
    included, are averaged. No sample is coded by a model that saw it.

    Parameters
    ----------
    estimator : Pipeline or quantizer
        Fitted; its steps up to the last quantizer are used as they are.
    X : array-like of shape (n_samples, ...)
        At least ``n_splits`` samples.
    model : str or entropy model, default="auto"
        As for :class:`~skcompress.codecs.Codec`.
    unit : {"sample", "value"}, default="sample"
        Bits per sample, or per pixel (images) / per value of 1-D signals.
    n_splits : int >= 2, default=2
        Parts for the cross-fitting.

    Returns
    -------
    bits : float

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from skcompress import BlockDCT, PerceptualQuantizer
    >>> from skcompress.datasets import load_mnist
    >>> X = load_mnist().images[:400]
    >>> pipe = make_pipeline(BlockDCT(), PerceptualQuantizer(quality=50)).fit(X[:200])
    >>> bits = coded_bits(pipe, X[200:])
    >>> bool(900 < bits < 1600), bool(coded_bits(pipe, X[200:], unit="value") < 2)
    (True, True)
    """
    _check(unit, "coded", n_splits)
    X = np.asarray(X)
    if len(X) < n_splits:
        raise ValueError(
            f"coded_bits needs at least n_splits={n_splits} samples to cross-fit the entropy "
            f"model; got {len(X)}."
        )
    total, count, key = 0.0, 0, f"bits_per_{unit if unit == 'sample' else 'value'}"
    for part in range(n_splits):
        held = np.arange(part, len(X), n_splits)
        rest = np.setdiff1d(np.arange(len(X)), held)
        rate = Codec(estimator, model=model).fit(X[rest]).rate(X[held])
        total += rate[key] * len(held)
        count += len(held)
    return total / count


class _RateScorer:
    """``-bits`` (greater is better, as scikit-learn scorers go)."""

    def __init__(self, model, unit, rate, n_splits):
        self.model, self.unit, self.rate, self.n_splits = model, unit, rate, n_splits

    def bits(self, estimator, X):
        if self.rate == "estimate":
            bits = bits_per_sample(estimator, X)
            if self.unit == "value":
                shape = np.asarray(X).shape[1:]
                bits /= int(np.prod(shape[:2])) if len(shape) >= 2 else int(np.prod(shape))
            return bits
        return coded_bits(estimator, X, model=self.model, unit=self.unit, n_splits=self.n_splits)

    def __call__(self, estimator, X, y=None):
        return -self.bits(estimator, X)

    def __repr__(self):
        return (
            f"make_rate_scorer(model={self.model!r}, unit={self.unit!r}, rate={self.rate!r}, "
            f"n_splits={self.n_splits})"
        )


class _LagrangianScorer:
    """``score - lmbda * bits``."""

    def __init__(self, lmbda, scoring, rate_scorer):
        self.lmbda, self.scoring, self.rate_scorer = lmbda, scoring, rate_scorer

    def __call__(self, estimator, X, y=None):
        score = check_scoring(estimator, scoring=self.scoring)(estimator, X, y)
        return score - self.lmbda * self.rate_scorer.bits(estimator, X)

    def __repr__(self):
        return f"make_lagrangian_scorer(lmbda={self.lmbda!r}, scoring={self.scoring!r}, ...)"


def make_rate_scorer(*, model="auto", unit="sample", rate="coded", n_splits=2):
    """A scorer of negated bits per sample, for ``GridSearchCV(scoring=...)``.

    Parameters
    ----------
    model : str or entropy model, default="auto"
        Entropy model of the codec (see :class:`~skcompress.codecs.Codec`).
    unit : {"sample", "value"}, default="sample"
        Bits per sample, or per pixel / per value of 1-D signals.
    rate : {"coded", "estimate"}, default="coded"
        "coded": the length of real bitstreams (:func:`coded_bits`, entropy
        model cross-fitted on the scored samples). "estimate": the
        quantizer's own ``bits_per_sample`` estimate (faster; statistics of
        the training fold, no context model, no header).
    n_splits : int >= 2, default=2
        Parts of the scored samples for cross-fitting the entropy model.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y)`` returns ``-bits`` (greater is better, as
        ``neg_mean_squared_error``), for any fitted Pipeline whose steps
        include a quantizer.

    See Also
    --------
    rate_scoring : the multi-metric dict of accuracy and this scorer.
    make_lagrangian_scorer : accuracy minus a price per bit.

    Examples
    --------
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.naive_bayes import GaussianNB
    >>> from skcompress import BlockDCT, PerceptualQuantizer
    >>> from skcompress.datasets import load_mnist
    >>> X, y = load_mnist(return_X_y=True)
    >>> pipe = make_pipeline(BlockDCT(n_coefficients=10),
    ...                      PerceptualQuantizer(quality=50, n_coefficients=10), GaussianNB())
    >>> search = GridSearchCV(pipe, {"perceptualquantizer__quality": [10, 75]}, cv=2,
    ...                       scoring=rate_scoring(), refit="accuracy").fit(X[:600], y[:600])
    >>> bits = -search.cv_results_["mean_test_neg_bits_per_sample"]
    >>> bool(bits[0] < bits[1])    # quality 10 costs fewer bits than 75
    True
    """
    _check(unit, rate, n_splits)
    return _RateScorer(model, unit, rate, n_splits)


def make_lagrangian_scorer(
    lmbda, *, scoring="accuracy", model="auto", unit="sample", rate="coded", n_splits=2
):
    """A scorer of ``score - lmbda * bits``: accuracy with a price on every bit.

    The Lagrangian of rate-constrained model selection: maximizing it over a
    grid picks the setting on the convex hull of the rate-accuracy curve
    where one more bit buys ``lmbda`` of accuracy.

    Parameters
    ----------
    lmbda : float >= 0
        Price of one bit (per sample, or per value with ``unit="value"``) in
        units of ``scoring``.
    scoring : str or callable, default="accuracy"
        The score being traded, as ``GridSearchCV`` takes it.
    model, unit, rate, n_splits
        How bits are counted, as for :func:`make_rate_scorer`.

    Returns
    -------
    scorer : callable

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.naive_bayes import GaussianNB
    >>> from skcompress import BlockDCT, PerceptualQuantizer
    >>> from skcompress.datasets import load_mnist
    >>> X, y = load_mnist(return_X_y=True)
    >>> pipe = make_pipeline(BlockDCT(n_coefficients=6),
    ...                      PerceptualQuantizer(quality=50, n_coefficients=6),
    ...                      GaussianNB()).fit(X[:500], y[:500])
    >>> free = make_lagrangian_scorer(0.0)(pipe, X[500:700], y[500:700])
    >>> costly = make_lagrangian_scorer(1e-3)(pipe, X[500:700], y[500:700])
    >>> bool(free == pipe.score(X[500:700], y[500:700])), bool(costly < free)
    (True, True)
    """
    if not isinstance(lmbda, Real) or isinstance(lmbda, bool) or not lmbda >= 0:
        raise ValueError(f"lmbda must be a number >= 0; got {lmbda!r}.")
    return _LagrangianScorer(
        float(lmbda),
        scoring,
        make_rate_scorer(model=model, unit=unit, rate=rate, n_splits=n_splits),
    )


def rate_scoring(scoring="accuracy", **kwargs):
    """Multi-metric scoring: ``{scoring: scoring, "neg_bits_per_sample": rate scorer}``.

    Give it to ``GridSearchCV(scoring=rate_scoring(), refit="accuracy")``; its
    ``cv_results_`` then holds both columns, ``mean_test_accuracy`` and
    ``mean_test_neg_bits_per_sample``.

    Parameters
    ----------
    scoring : str, default="accuracy"
        Name of the score kept beside the rate.
    **kwargs
        Passed to :func:`make_rate_scorer` (``unit="value"`` names the entry
        ``neg_bits_per_value``).

    Returns
    -------
    scoring : dict

    Examples
    --------
    >>> from sklearn.model_selection import cross_validate
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.naive_bayes import GaussianNB
    >>> from skcompress import BlockDCT, PerceptualQuantizer
    >>> from skcompress.datasets import load_mnist
    >>> from skcompress.metrics import rate_scoring
    >>> sorted(rate_scoring())
    ['accuracy', 'neg_bits_per_sample']
    >>> X, y = load_mnist(return_X_y=True)
    >>> pipe = make_pipeline(BlockDCT(n_coefficients=6),
    ...                      PerceptualQuantizer(quality=25, n_coefficients=6), GaussianNB())
    >>> scores = cross_validate(pipe, X[:300], y[:300], cv=2,
    ...                         scoring=rate_scoring(unit="value", rate="estimate"))
    >>> bits_per_pixel = -scores["test_neg_bits_per_value"].mean()
    >>> bool(0 < bits_per_pixel < 8), bool(scores["test_accuracy"].mean() > 0.3)
    (True, True)
    """
    unit = kwargs.get("unit", "sample")
    return {scoring: scoring, f"neg_bits_per_{unit}": make_rate_scorer(**kwargs)}
