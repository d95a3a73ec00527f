"""scikit-learn's ``check_is_fitted`` for objects that are not estimators of ``(X, y)``."""

from sklearn.utils import Tags, TargetTags


class FittedMixin:
    """``check_is_fitted`` support: fitted once ``_fitted_attribute`` is set.

    For the entropy models, their statistics and :class:`~skcompress.codecs.Codec`:
    they fit symbols or fitted steps, not ``(X, y)``, so they are no scikit-learn
    estimators, yet ``check_is_fitted`` reads their tags and asks them.
    """

    _fitted_attribute = None

    def __sklearn_is_fitted__(self):
        return hasattr(self, self._fitted_attribute)

    def __sklearn_tags__(self):
        return Tags(estimator_type=None, target_tags=TargetTags(required=False))
