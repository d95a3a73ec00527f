"""Scorers that weigh accuracy against bits, for GridSearchCV and cross_validate."""

from collections.abc import Mapping
from numbers import Real

import numpy as np
from sklearn.metrics import check_scoring, get_scorer

# scikit-learn's own scorers share this base: metadata routing (``set_score_request``) and
# the multimetric scorer's cached predictions come with it. Private, but stable since 1.4.
from sklearn.metrics._scorer import _BaseScorer
from sklearn.pipeline import Pipeline

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


def _values_per_sample(shape):
    # Pixels of an image (channels count once), values of a 1-D signal.
    return int(np.prod(shape[:2])) if len(shape) >= 2 else int(np.prod(shape))


def _check_sample_weight(sample_weight, n_samples):
    if sample_weight is None:
        return None
    weights = np.asarray(sample_weight, dtype=np.float64)
    if weights.shape != (n_samples,) or not np.all(np.isfinite(weights)):
        raise ValueError(
            f"sample_weight must be {n_samples} finite numbers, one per sample; got an array "
            f"of shape {weights.shape}."
        )
    if np.any(weights < 0) or not weights.sum() > 0:
        raise ValueError("sample_weight must be >= 0 with a positive sum.")
    return weights


def _whole_codec(estimator):
    """``(steps before it, step)`` when the coding step of ``estimator`` is a whole codec.

    A whole codec (:class:`~skcompress.JPEGCodec`, the learned codecs) writes
    its own bitstreams: it has ``compress`` and ``rate`` and no
    ``bits_per_sample``. The coding step is the last step that is a whole
    codec or a quantizer; None when it is a quantizer, or there is none.
    """

    def codes(step):
        return hasattr(step, "bits_per_sample") or _is_whole_codec(step)

    if _is_whole_codec(estimator):
        return [], estimator
    if not isinstance(estimator, Pipeline):
        return None
    positions = [i for i, (_, step) in enumerate(estimator.steps) if codes(step)]
    if not positions or not _is_whole_codec(estimator.steps[positions[-1]][1]):
        return None
    last = positions[-1]
    return [step for _, step in estimator.steps[:last]], estimator.steps[last][1]


def _is_whole_codec(step):
    return (
        callable(getattr(step, "compress", None))
        and callable(getattr(step, "rate", None))
        and not hasattr(step, "bits_per_sample")
    )


def _whole_codec_bits_each(head, codec, X, unit):
    """Bits of every sample's bitstream, written by a whole codec as it was fitted."""
    Xt = X
    for step in head:
        Xt = step.transform(Xt)
    bits = np.array([8 * len(s) for s in codec.compress(Xt)], dtype=np.float64)
    if unit == "value":
        shape = np.shape(Xt)[1:]
        fitted = tuple(getattr(codec, "signal_shape_", ()))
        if len(shape) == 1 and len(fitted) >= 2 and int(np.prod(fitted)) == shape[0]:
            shape = fitted  # images as flattened rows
        bits /= _values_per_sample(shape)
    return bits


def _coded_bits_each(estimator, X, model, unit, n_splits):
    """Bits of every sample's bitstream, each coded by a model fitted on other parts."""
    whole = _whole_codec(estimator)
    if whole is not None:
        return _whole_codec_bits_each(*whole, X, unit)
    X = np.asarray(X)
    if len(X) < n_splits:
        raise ValueError(
            f"coded_bits needs at least n_splits={n_splits} samples to cross-fit the entropy "
            f"model; got {len(X)}."
        )
    bits = np.empty(len(X))
    for part in range(n_splits):
        held = np.arange(part, len(X), n_splits)
        rest = np.setdiff1d(np.arange(len(X)), held)
        codec = Codec(estimator, model=model).fit(X[rest])
        bits[held] = [8 * len(s) for s in codec.compress(X[held])]
        if unit == "value":
            bits[held] /= _values_per_sample(codec.signal_shape_)
    return bits


def coded_bits(estimator, X, *, model="auto", unit="sample", n_splits=2, sample_weight=None):
    """Bits that really coding ``X`` costs, with entropy models fitted on other samples.

    A scorer sees the fitted estimator and the held-out samples only, not the
    training data that an entropy model should be fitted on. So ``X`` is cut
    into ``n_splits`` interleaved parts; each part is coded (its bitstreams
    written, :class:`~skcompress.codecs.Codec`) by a model fitted on the
    others (cross-fitting), and the lengths of the bitstreams, headers
    included, are averaged. No sample is coded by a model that saw it.

    A whole codec among the steps (:class:`~skcompress.JPEGCodec`, or any
    step with ``compress`` and ``rate`` and no ``bits_per_sample``) writes
    its own bitstreams, with whatever entropy model it fitted with the
    pipeline: when it is the last coding step, ``X`` is coded by it as it
    is, and the bits are the lengths of its bitstreams, what its ``rate``
    measures (``model`` and ``n_splits`` are then unused).

    Parameters
    ----------
    estimator : Pipeline, quantizer or whole codec
        Fitted; its steps up to the last quantizer (or whole codec) are used
        as they are.
    X : array-like of shape (n_samples, ...)
        At least ``n_splits`` samples.
    model : str or entropy model, default="auto"
        As for :class:`~skcompress.codecs.Codec`.
    unit : {"sample", "value"}, default="sample"
        Bits per sample, or per pixel (images) / per value of 1-D signals.
    n_splits : int >= 2, default=2
        Parts for the cross-fitting.
    sample_weight : array-like of shape (n_samples,) or None, default=None
        Weights of the mean over the samples' bitstreams (the entropy models
        are fitted unweighted). None: every sample counts once.

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

    A whole codec's own bitstreams, here JPEG files:

    >>> from skcompress import JPEGCodec
    >>> jpeg = make_pipeline(JPEGCodec(50)).fit(X[:200])
    >>> bool(coded_bits(jpeg, X[200:]) == jpeg[0].rate(X[200:])["bits_per_sample"])
    True
    """
    _check(unit, "coded", n_splits)
    weights = _check_sample_weight(sample_weight, len(X))
    bits = _coded_bits_each(estimator, X, model, unit, n_splits)
    return float(np.average(bits, weights=weights))


def _estimated_bits_each(estimator, X, unit, weights):
    """The quantizer's estimate, one value per sample: the mean of its weight group.

    The estimate is a mean of per-sample code lengths under the model fitted
    at ``fit``, so the weighted mean over groups of equal weight is exact.
    """
    X = np.asarray(X)
    bits = np.empty(len(X))
    groups = (
        np.zeros(len(X), dtype=np.intp)
        if weights is None
        else np.unique(weights, return_inverse=True)[1]
    )
    for group in np.unique(groups):
        members = groups == group
        bits[members] = bits_per_sample(estimator, X[members])
    if unit == "value":
        bits /= _values_per_sample(X.shape[1:])
    return bits


def _mean_bits(y_true, y_pred, *, sample_weight=None):
    """Mean of the bits ``y_pred`` that each sample costs (``y_true`` is unused)."""
    return float(np.average(y_pred, weights=sample_weight))


class _RateScorer(_BaseScorer):
    """``-bits`` (greater is better, as scikit-learn scorers go).

    Its response is the bits each held-out sample costs, its metric their
    (weighted) mean; so it takes ``sample_weight`` and routes it as
    scikit-learn's own scorers do (``set_score_request``).
    """

    def __init__(self, model, unit, rate, n_splits):
        # No response method of the estimator is called; "fit", which every estimator has,
        # keeps scikit-learn's multimetric cache check from asking for one it may lack.
        super().__init__(_mean_bits, sign=-1, kwargs={}, response_method="fit")
        self.model, self.unit, self.rate, self.n_splits = model, unit, rate, n_splits

    def bits(self, estimator, X, sample_weight=None):
        """Mean bits per sample (or per value) of ``X``, weighted by ``sample_weight``."""
        weights = _check_sample_weight(sample_weight, len(X))
        if self.rate == "estimate" and _whole_codec(estimator) is None:
            each = _estimated_bits_each(estimator, X, self.unit, weights)
        else:
            each = _coded_bits_each(estimator, X, self.model, self.unit, self.n_splits)
        return self._score_func(None, each, sample_weight=weights)

    def __call__(self, estimator, X, y_true=None, *, sample_weight=None, **kwargs):
        # y_true is optional: bits need no labels.
        return super().__call__(estimator, X, y_true, sample_weight=sample_weight, **kwargs)

    def _score(self, method_caller, estimator, X, y_true=None, sample_weight=None):
        return -self.bits(estimator, X, sample_weight=sample_weight)

    def __repr__(self):
        return (
            f"make_rate_scorer(model={self.model!r}, unit={self.unit!r}, rate={self.rate!r}, "
            f"n_splits={self.n_splits})"
        )


class _LagrangianScorer(_BaseScorer):
    """``score - lmbda * bits``; ``sample_weight``, when routed, weighs both.

    Its metric, as far as metadata routing reads it, is the rate's (a mean
    that takes ``sample_weight``); the score is computed by ``scoring``.
    """

    def __init__(self, lmbda, scoring, rate_scorer):
        # The score's response method, so that a multimetric search caches its predictions.
        inner = get_scorer(scoring) if isinstance(scoring, str) else None
        response = inner._response_method if isinstance(inner, _BaseScorer) else "fit"
        super().__init__(_mean_bits, sign=1, kwargs={}, response_method=response)
        self.lmbda, self.scoring, self.rate_scorer = lmbda, scoring, rate_scorer

    def __call__(self, estimator, X, y_true, *, sample_weight=None, **kwargs):
        return super().__call__(estimator, X, y_true, sample_weight=sample_weight, **kwargs)

    def _score(self, method_caller, estimator, X, y_true, **kwargs):
        scorer = check_scoring(estimator, scoring=self.scoring)
        if isinstance(scorer, _BaseScorer):
            score = scorer._score(method_caller, estimator, X, y_true, **kwargs)
        else:
            score = scorer(estimator, X, y_true, **kwargs)
        bits = self.rate_scorer.bits(estimator, X, sample_weight=kwargs.get("sample_weight"))
        return score - self.lmbda * bits

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
        the training fold, no context model, no header). A pipeline whose
        coding step is a whole codec (:class:`~skcompress.JPEGCodec`) is
        rated by the bytes that codec writes either way (see
        :func:`coded_bits`).
    n_splits : int >= 2, default=2
        Parts of the scored samples for cross-fitting the entropy model.

    Returns
    -------
    scorer : scikit-learn scorer
        ``scorer(estimator, X, y=None, sample_weight=None)`` returns
        ``-bits`` (greater is better, as ``neg_mean_squared_error``), for any
        fitted Pipeline whose steps include a quantizer; ``sample_weight``
        weighs the mean over the samples. A scorer object as
        :func:`~sklearn.metrics.make_scorer` makes: with
        ``sklearn.set_config(enable_metadata_routing=True)``,
        ``scorer.set_score_request(sample_weight=True)`` has
        ``cross_validate(..., params={"sample_weight": w})`` or
        ``GridSearchCV(...).fit(X, y, sample_weight=w)`` weigh the bits too.

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
    scorer : scikit-learn scorer
        With metadata routing, ``set_score_request(sample_weight=True)``
        passes the weights to ``scoring`` and to the bits alike.

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
    if not (scoring is None or isinstance(scoring, str) or callable(scoring)):
        raise ValueError(
            f"scoring must be one metric (a str, a callable or None); got {scoring!r}. "
            "rate_scoring takes several."
        )
    return _LagrangianScorer(
        float(lmbda),
        scoring,
        make_rate_scorer(model=model, unit=unit, rate=rate, n_splits=n_splits),
    )


def _named_scorers(scoring):
    """``{name: scorer}`` from any multi-metric ``scoring`` that scikit-learn takes."""
    if isinstance(scoring, str):
        return {scoring: get_scorer(scoring)}
    if callable(scoring):
        return {"score": scoring}
    if isinstance(scoring, Mapping):
        names = list(scoring)
        scorers = dict(scoring)
    elif isinstance(scoring, (list, tuple, set, frozenset)):
        names = sorted(scoring) if isinstance(scoring, (set, frozenset)) else list(scoring)
        if not all(isinstance(name, str) for name in names):
            raise ValueError(
                "scoring as a list, tuple or set must hold the names of scikit-learn scorers "
                f"(a dict maps names to callables); got {scoring!r}."
            )
        if len(set(names)) != len(names):
            raise ValueError(f"scoring names a metric twice; got {scoring!r}.")
        scorers = {name: name for name in names}
    else:
        raise ValueError(
            "scoring must be a str, a callable, a list, tuple or set of str, or a dict of "
            f"names to scorers; got {scoring!r}."
        )
    if not names:
        raise ValueError(f"scoring must name at least one metric; got {scoring!r}.")
    out = {}
    for name in names:
        scorer = scorers[name]
        if not isinstance(name, str) or not (isinstance(scorer, str) or callable(scorer)):
            raise ValueError(
                "scoring as a dict must map names (str) to scorer names or callables; got "
                f"{name!r}: {scorer!r}."
            )
        out[name] = get_scorer(scorer) if isinstance(scorer, str) else scorer
    return out


def rate_scoring(scoring="accuracy", **kwargs):
    """Multi-metric scoring: the metrics of ``scoring`` and ``"neg_bits_per_sample"``.

    Give it to ``GridSearchCV(scoring=rate_scoring(), refit="accuracy")``; its
    ``cv_results_`` then holds both columns, ``mean_test_accuracy`` and
    ``mean_test_neg_bits_per_sample``.

    Parameters
    ----------
    scoring : str, callable, list, tuple, set or dict, default="accuracy"
        The scores kept beside the rate, as scikit-learn's ``scoring`` takes
        them: one scorer name; a callable (named ``"score"``); a list, tuple
        or set of scorer names (``["accuracy", "f1_macro"]``); or a dict of
        names to scorer names or callables.
    **kwargs
        Passed to :func:`make_rate_scorer` (``unit="value"`` names the entry
        ``neg_bits_per_value``).

    Returns
    -------
    scoring : dict
        Names to scorer objects (``sklearn.metrics.get_scorer`` of each
        name), the rate scorer last; each has ``set_score_request`` for
        metadata routing.

    Examples
    --------
    >>> from sklearn.model_selection import cross_validate
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.naive_bayes import GaussianNB
    >>> from skcompress import BlockDCT, PerceptualQuantizer
    >>> from skcompress.datasets import load_mnist
    >>> from skcompress.metrics import rate_scoring
    >>> list(rate_scoring())
    ['accuracy', 'neg_bits_per_sample']
    >>> list(rate_scoring(["accuracy", "f1_macro"]))
    ['accuracy', 'f1_macro', 'neg_bits_per_sample']
    >>> X, y = load_mnist(return_X_y=True)
    >>> pipe = make_pipeline(BlockDCT(n_coefficients=6),
    ...                      PerceptualQuantizer(quality=25, n_coefficients=6), GaussianNB())
    >>> scores = cross_validate(pipe, X[:300], y[:300], cv=2,
    ...                         scoring=rate_scoring(unit="value", rate="estimate"))
    >>> bits_per_pixel = -scores["test_neg_bits_per_value"].mean()
    >>> bool(0 < bits_per_pixel < 8), bool(scores["test_accuracy"].mean() > 0.3)
    (True, True)
    """
    scorers = _named_scorers(scoring)
    rate_name = f"neg_bits_per_{kwargs.get('unit', 'sample')}"
    rate_scorer = make_rate_scorer(**kwargs)
    if rate_name in scorers:
        raise ValueError(
            f"scoring already has a metric named {rate_name!r}, the name of the rate; rename it."
        )
    scorers[rate_name] = rate_scorer
    return scorers
