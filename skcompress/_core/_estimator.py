"""What every public estimator of skcompress shares (private).

:class:`PublicEstimatorMixin` gives an estimator the link to its API page in
the HTML repr (scikit-learn's ``_doc_link_*`` convention) and its documented
test parameters (:meth:`~PublicEstimatorMixin.get_test_params`);
:func:`unfitted_on_error` makes a failed ``fit`` leave the estimator unfitted.
"""

import functools
import sys

#: The API pages of the documentation, as ``docs/api.rst`` generates them.
DOC_LINK_TEMPLATE = (
    "https://skcompress.readthedocs.io/en/latest/generated/"
    "{estimator_module}.{estimator_name}.html"
)


class PublicEstimatorMixin:
    """The documentation link and the test parameters of a public estimator.

    Put to the left of ``BaseEstimator``. The link in the HTML repr points to
    the page that ``docs/api.rst`` generates for the class, under the name of
    the highest public package that exports it (``skcompress.BlockDCT``,
    ``skcompress.nets.PixelNetClassifier``).
    """

    _doc_link_module = "skcompress"
    _doc_link_template = DOC_LINK_TEMPLATE

    def _doc_link_url_param_generator(self):
        cls = type(self)
        parts = cls.__module__.split(".")
        public = []
        for part in parts:
            if part.startswith("_"):
                break
            public.append(part)
        # sys.modules, not an import: the package root sits above every layer, and it
        # is loaded whenever one of its modules is
        for end in range(1, len(public) + 1):
            package = sys.modules.get(".".join(public[:end]))
            if package is not None and getattr(package, cls.__name__, None) is cls:
                return {"estimator_module": package.__name__, "estimator_name": cls.__name__}
        return {"estimator_module": ".".join(public), "estimator_name": cls.__name__}

    @classmethod
    def get_test_params(cls):
        """Parameter sets on which the estimator passes scikit-learn's ``check_estimator``.

        Small settings (few epochs, small codebooks and networks) that keep the
        checks fast; they are what ``tests/test_common.py`` checks, and what the
        persistence tests fit, as sktime's ``get_test_params``.

        Returns
        -------
        params : list of dict
            Keyword arguments of the constructor, at least one set; ``[{}]``
            where the defaults are fast enough.

        Examples
        --------
        >>> from sklearn.utils.estimator_checks import check_estimator
        >>> from skcompress import BlockDCT
        >>> params = BlockDCT.get_test_params()[0]
        >>> _ = check_estimator(BlockDCT(**params))
        """
        return [{}]


def unfitted_on_error(fit):
    """Decorate ``fit`` (or ``partial_fit``): a call that fails leaves no half-fitted state.

    A ``fit`` that raises after it set or replaced some fitted attributes
    (those ending in ``_``, which :func:`~sklearn.utils.validation.check_is_fitted`
    looks for) removes them all, so the estimator reads as unfitted instead
    of as a half fitted one; a ``fit`` that raises before it changed any (a
    refused input or parameter) leaves an earlier fit as it was. A
    ``partial_fit`` cleans up only when it was the first call: a later one
    that fails keeps what the earlier calls learned.
    """

    @functools.wraps(fit)
    def wrapper(self, *args, **kwargs):
        before = _fitted_attributes(self)
        fresh = fit.__name__ == "fit" or not before
        try:
            return fit(self, *args, **kwargs)
        except BaseException:
            after = _fitted_attributes(self)
            changed = after.keys() != before.keys() or any(
                after[k] is not before[k] for k in after
            )
            if fresh and changed:
                for name in after:
                    delattr(self, name)
            raise

    return wrapper


def _fitted_attributes(estimator):
    return {k: v for k, v in vars(estimator).items() if k.endswith("_") and not k.startswith("__")}
