"""A codec: fitted transform and quantizer steps, an entropy model, and real bitstreams."""

import copy
import math

import numpy as np
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from .._core._contract import from_layout, to_layout
from .._core._fitted import FittedMixin
from .._core._statistics import CategoricalStatistics
from ..entropy import BlockContextModel, CategoricalEntropyModel, EntropyModel, GainShapeModel
from ..quantization import PerceptualQuantizer, PyramidVQ, ResidualVQ

_MODELS = ("auto", "context", "categorical")


class Codec(FittedMixin):
    """Signals to bytes and back: fitted transform and quantizer steps, and an entropy model.

    The steps are used as they were fitted, never refitted or rewritten:
    :meth:`fit` only learns the entropy model of the quantizer's symbols on
    training signals. :meth:`compress` then writes every signal as its own
    self-describing bitstream (format, shape, payload, CRC-32) and
    :meth:`decompress` reads it back through the quantizer's and the
    transforms' ``inverse_transform``, so the names and contract follow
    CompressAI's ``compress`` / ``decompress``. The rate that :meth:`rate`
    reports is the length of those bytes, not an estimate.

    Parameters
    ----------
    steps : Pipeline, list of estimators or a quantizer
        Fitted steps: zero or more transforms, then a quantizer (a step with
        ``bits_per_sample``: :class:`~skcompress.PerceptualQuantizer`,
        :class:`~skcompress.ResidualVQ`, :class:`~skcompress.PyramidVQ`). In a
        Pipeline, the steps up to its last quantizer are used and the rest (a
        classifier, say) ignored. ``(name, estimator)`` pairs are accepted.
    model : {"auto", "context", "categorical"} or an entropy model, default="auto"
        The entropy model. "context": :class:`BlockContextModel`, for a
        quantizer that follows a block transform
        (:class:`~skcompress.BlockDCT`); "categorical":
        :class:`CategoricalEntropyModel`, one distribution per coefficient
        position (per stage for ResidualVQ; per vector position for
        PyramidVQ's gains, its codewords then uniform, :class:`GainShapeModel`).
        "auto" takes "context" where it applies and "categorical" otherwise.
        An :class:`~skcompress.entropy.EntropyModel` instance is copied;
        unfitted, the copy is fitted; fitted (``check_is_fitted`` passes), it
        is used as it is (fitted on other data, e.g. images of other sizes)
        and :meth:`fit` only reads the shapes of ``X``.

    Attributes
    ----------
    transforms_ : list of estimators
        The steps before the quantizer.
    quantizer_ : estimator
        The quantizer whose symbols are coded.
    model_ : EntropyModel
        The fitted entropy model: a :class:`CategoricalEntropyModel`,
        :class:`BlockContextModel` or :class:`GainShapeModel`.
    signal_shape_ : tuple of int
        Shape of one input signal.
    symbol_shape_ : tuple of int
        Shape of one sample's symbols, as the quantizer emits them.

    See Also
    --------
    skcompress.metrics.rate_scoring : bits per sample as a GridSearchCV scorer.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.naive_bayes import GaussianNB
    >>> from skcompress import BlockDCT, PerceptualQuantizer
    >>> from skcompress.datasets import load_mnist
    >>> from skcompress.codecs import Codec
    >>> X, y = load_mnist(return_X_y=True)
    >>> pipe = make_pipeline(BlockDCT(), PerceptualQuantizer(quality=50),
    ...                      GaussianNB()).fit(X[:500], y[:500])
    >>> codec = Codec(pipe).fit(X[:500])        # the pipeline's steps, untouched
    >>> strings = codec.compress(X[500:600])      # one bitstream per digit
    >>> type(strings[0]), len(strings)
    (<class 'bytes'>, 100)
    >>> X_hat = codec.decompress(strings)         # uint8 digits, as a decoder gives them
    >>> X_hat.shape, X_hat.dtype
    ((100, 28, 28), dtype('uint8'))
    >>> B = pipe[:2].transform(X[500:600])
    >>> np.array_equal(codec.decompress_symbols(strings), B)
    True
    >>> rate = codec.rate(X[500:600])
    >>> bool(900 < rate["bits_per_sample"] < 1500), rate["header_bits_per_sample"]
    (True, 80.0)
    """

    _fitted_attribute = "model_"

    def __init__(self, steps, *, model="auto"):
        self.steps = steps
        self.model = model

    @classmethod
    def from_pipeline(cls, pipeline, *, model="auto"):
        """The codec of a fitted Pipeline's steps up to its last quantizer.

        Parameters
        ----------
        pipeline : Pipeline
            Fitted; its transformer steps are used as they are.
        model : str or entropy model, default="auto"
            As for :class:`Codec`.

        Returns
        -------
        codec : Codec
            Not yet fitted: call :meth:`fit` with training signals.
        """
        if not isinstance(pipeline, Pipeline):
            raise TypeError(
                f"Codec.from_pipeline expects a sklearn Pipeline; got {type(pipeline).__name__}."
            )
        return cls(pipeline, model=model)

    # -- fitting -----------------------------------------------------------

    def fit(self, X, y=None):
        """Learn the entropy model of the quantizer's symbols of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, *signal_shape)
            Training signals, as the first step takes them.
        y : None
            Ignored.

        Returns
        -------
        self : Codec
        """
        transforms, quantizer = _resolve_steps(self.steps)
        for step in [*transforms, quantizer]:
            check_is_fitted(step)
        self.transforms_, self.quantizer_ = transforms, quantizer
        values = np.asarray(X)  # X itself goes to the steps (a DataFrame keeps its names)
        self.signal_shape_ = tuple(
            getattr(transforms[0] if transforms else quantizer, "signal_shape_", values.shape[1:])
        )
        self.dtype_ = values.dtype
        B = self.symbols(X)
        self.symbol_shape_, self.symbol_dtype_ = B.shape[1:], B.dtype
        self._adapter = _adapter(transforms, quantizer, self.model, B)
        self.model_ = self._adapter.new_model(self.model)
        try:
            check_is_fitted(self.model_)
        except NotFittedError:
            self.model_.fit(self._adapter.fit_input(B))
        return self

    # -- coding ------------------------------------------------------------

    def symbols(self, X):
        """The quantizer's symbols of ``X``: what the bitstreams carry.

        Parameters
        ----------
        X : array-like of shape (n_samples, *signal_shape)

        Returns
        -------
        symbols : ndarray
            As the quantizer's ``transform`` returns them.
        """
        Xt = X
        for step in self.transforms_:
            Xt = step.transform(Xt)
        return np.asarray(self.quantizer_.transform(Xt))

    def compress(self, X):
        """Write every signal of ``X`` as its own bitstream.

        Parameters
        ----------
        X : array-like of shape (n_samples, *signal_shape)

        Returns
        -------
        strings : list of bytes
            One self-describing bitstream per sample, sealed with a CRC-32
            that detects accidents, not forgery (see
            :meth:`decompress_symbols`).
        """
        self._check_fitted("compress")
        return self.model_.compress(self._adapter.to_model(self.symbols(X)))

    def decompress_symbols(self, strings):
        """Decode bitstreams back to the quantizer's exact symbols.

        Every bitstream's header must declare the symbol shape this codec
        was fitted on (:attr:`symbol_shape_`); one that declares another is
        refused with a ValueError before anything is allocated or decoded,
        so a forged header costs nothing (the CRC-32 detects accidents, not
        forgery: the model's fingerprint is public).

        Parameters
        ----------
        strings : list of bytes
            Bitstreams from :meth:`compress`.

        Returns
        -------
        symbols : ndarray
            Equal to ``self.symbols(X)``, shape and dtype included.
        """
        self._check_fitted("decompress_symbols")
        if isinstance(strings, (bytes, bytearray)):
            raise TypeError(
                "decompress expects a list of bitstreams (one per sample); got a single bytes "
                "object. Wrap it in a list."
            )
        strings = list(strings)
        if not strings:
            return np.zeros((0, *self.symbol_shape_), dtype=self.symbol_dtype_)
        shape = self._adapter.model_shape(self.symbol_shape_)
        B = self._adapter.from_model(self.model_.decompress(strings, shape=shape))
        if self.symbol_dtype_.kind != "O":
            info = np.iinfo(self.symbol_dtype_)
            if B.size and (B.min() < info.min or B.max() > info.max):
                raise ValueError(
                    f"decompress: decoded symbols do not fit the quantizer's {self.symbol_dtype_}."
                )
        return B.astype(self.symbol_dtype_, copy=False)

    def decompress(self, strings):
        """Decode bitstreams to signals: dequantize, then invert every transform.

        The bitstreams' headers are checked against the fitted symbol shape
        before anything is decoded (see :meth:`decompress_symbols`).

        Parameters
        ----------
        strings : list of bytes
            Bitstreams from :meth:`compress`.

        Returns
        -------
        X_hat : ndarray of shape (n_samples, *signal_shape)
            Integer input (8-bit images, 16-bit audio) comes back rounded and
            clipped to its dtype, as a decoder outputs it; float input as the
            steps' ``inverse_transform`` returns it.
        """
        Xt = self.quantizer_.inverse_transform(self.decompress_symbols(strings))
        for step in reversed(self.transforms_):
            Xt = step.inverse_transform(Xt)
        Xt = np.asarray(Xt)
        if self.dtype_.kind in "iu":
            info = np.iinfo(self.dtype_)
            Xt = np.clip(np.rint(Xt), info.min, info.max).astype(self.dtype_)
        return Xt

    def rate(self, X):
        """What coding ``X`` costs, measured on the bitstreams themselves.

        Parameters
        ----------
        X : array-like of shape (n_samples, *signal_shape)

        Returns
        -------
        rate : dict
            ``bits_per_sample`` (mean length of a bitstream in bits),
            ``payload_bits_per_sample`` and ``header_bits_per_sample`` (its
            two parts: the entropy-coded symbols; format byte, shape and
            CRC-32), and ``bits_per_value``: bits per pixel for images, per
            sample of a 1-D signal (audio).
        """
        self._check_fitted("rate")
        S = self._adapter.to_model(self.symbols(X))
        total = np.array([8 * len(s) for s in self.model_.compress(S)], dtype=np.float64)
        header = float(self.model_.header_bits(S.shape[1:]))  # the same for every stream
        shape = self.signal_shape_
        values = int(np.prod(shape[:2])) if len(shape) >= 2 else int(np.prod(shape))
        return {
            "bits_per_sample": float(total.mean()),
            "payload_bits_per_sample": float(total.mean() - header),
            "header_bits_per_sample": header,
            "bits_per_value": float(total.mean() / values),
        }

    def _check_fitted(self, name):
        check_is_fitted(self, msg=f"Codec.{name}: call fit first (it learns the entropy model).")


def _resolve_steps(steps):
    """``(transforms, quantizer)`` from a Pipeline, a list of steps or a quantizer."""
    if isinstance(steps, Pipeline):
        estimators = [s for _, s in steps.steps]
    elif isinstance(steps, (list, tuple)):
        estimators = [s[1] if isinstance(s, tuple) else s for s in steps]
    else:
        estimators = [steps]
    positions = [i for i, s in enumerate(estimators) if hasattr(s, "bits_per_sample")]
    if not positions:
        raise TypeError(
            "Codec: steps must be a fitted Pipeline, a list of fitted steps or a quantizer, "
            "with a quantizer (a step with bits_per_sample: PerceptualQuantizer, ResidualVQ, "
            f"PyramidVQ); got {[type(s).__name__ for s in estimators]}."
        )
    last = positions[-1]
    for step in estimators[:last]:
        if not hasattr(step, "inverse_transform"):
            raise TypeError(
                f"Codec: every step before the quantizer needs inverse_transform; "
                f"{type(step).__name__} has none."
            )
    return list(estimators[:last]), estimators[last]


class _Layout:
    """How a quantizer's symbols become an entropy model's input, and back."""

    def __init__(self, kind, **info):
        self.kind = kind
        self.info = info

    def new_model(self, model):
        if isinstance(model, CategoricalStatistics) and not isinstance(
            model, CategoricalEntropyModel
        ):
            # a step's rate estimate (entropy_model_): code with the same counts
            return CategoricalEntropyModel.from_statistics(model)
        if not isinstance(model, str):
            if not isinstance(model, EntropyModel):
                raise TypeError(
                    f"Codec: model must be one of {_MODELS} or an entropy model (an instance "
                    "of skcompress.entropy.EntropyModel: CategoricalEntropyModel, "
                    f"BlockContextModel, GainShapeModel); got {type(model).__name__}."
                )
            return copy.deepcopy(model)
        if self.kind == "blocks":
            return BlockContextModel()
        if self.kind == "pyramid":
            return GainShapeModel(self.info["codebook_size"])
        return CategoricalEntropyModel()

    def model_shape(self, symbol_shape):
        """The shape of one sample's symbols as the model codes them (its ``shape=``)."""
        if self.kind == "blocks":
            grid, C, k = (self.info[key] for key in ("grid", "channels", "k"))
            return ((1, grid[0]) if len(grid) == 1 else tuple(grid)) + (C, k)
        if self.kind == "pyramid":
            return tuple(symbol_shape)
        return (math.prod(symbol_shape),)

    def fit_input(self, B):
        """What the model's ``fit`` takes: for a categorical model, one row per observation."""
        S = self.to_model(B)
        if self.kind == "flat":
            return S.reshape(-1, self.info["positions"])
        return S

    def to_model(self, B):
        n = len(B)
        if self.kind == "blocks":
            grid, C, k, layout = (self.info[key] for key in ("grid", "channels", "k", "layout"))
            blocks = from_layout(B, grid, C, k, layout, "Codec")
            H, W = (1, grid[0]) if len(grid) == 1 else grid
            return blocks.reshape(n, H, W, C, k)
        if self.kind == "pyramid":
            return B
        if self.info["axis1"] and B.ndim > 2:
            B = np.moveaxis(B, 1, -1)
        return np.ascontiguousarray(B).reshape(n, -1)

    def from_model(self, S):
        n = len(S)
        if self.kind == "blocks":
            grid, C, k, layout = (self.info[key] for key in ("grid", "channels", "k", "layout"))
            return to_layout(S.reshape(n, *grid, C, k), layout)
        if self.kind == "pyramid":
            return S
        shape = self.info["shape"]
        if self.info["axis1"] and len(shape) > 1:
            moved = (*shape[1:], shape[0])
            return np.moveaxis(S.reshape(n, *moved), -1, 1)
        return S.reshape(n, *shape)


def _adapter(transforms, quantizer, model, B):
    """The layout of a quantizer's symbols for the chosen model."""
    if isinstance(model, str) and model not in _MODELS:
        raise ValueError(
            f"Codec: model must be one of {_MODELS} or an entropy model; got {model!r}."
        )
    shape = B.shape[1:]
    if isinstance(quantizer, PyramidVQ):
        return _Layout("pyramid", codebook_size=quantizer.codebook_size_)
    if B.dtype.kind not in "iu":
        raise TypeError(
            f"Codec: the quantizer {type(quantizer).__name__} emits {B.dtype} symbols; the "
            "entropy models code integers."
        )
    grid = _block_grid(transforms, quantizer, B)
    wants_context = model == "context" or isinstance(model, BlockContextModel)
    if grid is not None and (model == "auto" or wants_context):
        return _Layout("blocks", **grid)
    if wants_context:
        raise ValueError(
            "Codec: model='context' needs a quantizer that follows a block transform "
            "(BlockDCT), whose coefficients form a grid of blocks; got steps "
            f"{[type(s).__name__ for s in [*transforms, quantizer]]}."
        )
    if isinstance(quantizer, PerceptualQuantizer):
        m = quantizer.steps_.size
        axis1 = quantizer.layout_ == "channels_first" and B.ndim > 2
    elif isinstance(quantizer, ResidualVQ):
        m, axis1 = quantizer.n_stages, quantizer.layout == "channels_first" and B.ndim > 2
    else:
        m, axis1 = int(np.prod(shape)), False
    if int(np.prod(shape)) % m:
        m = int(np.prod(shape))
    if isinstance(model, GainShapeModel):
        raise TypeError("Codec: GainShapeModel codes PyramidVQ symbols only.")
    return _Layout("flat", shape=shape, axis1=axis1, positions=m)


def _block_grid(transforms, quantizer, B):
    """Grid, channels, coefficients and layout when ``B`` are block-transform coefficients.

    Read from the structure of the quantizer's input, which says what its
    symbols are whatever steps came before (a :class:`~skcompress.FrequencySelector`
    keeping some coefficients of every block); for a quantizer fitted on a
    plain array, from the block transform before it.
    """
    if not isinstance(quantizer, PerceptualQuantizer):
        return None
    structure = getattr(quantizer, "input_structure_", None)
    if structure is not None:
        if structure.kind != "dct" or structure.layout != quantizer.layout_:
            return None
        grid, depth, k = tuple(structure.grid), structure.depth, structure.k
        if int(np.prod(B.shape[1:])) != int(np.prod(grid)) * depth * k:
            return None
        return {"grid": grid, "channels": depth, "k": k, "layout": structure.layout}
    if not transforms:
        return None
    dct = transforms[-1]
    grid = getattr(dct, "grid_shape_", None)
    k = getattr(dct, "n_coefficients_", None)
    signal = getattr(dct, "signal_shape_", None)
    if grid is None or k is None or signal is None:
        return None
    channels = signal[2] if len(signal) == 3 else 1
    if int(np.prod(B.shape[1:])) != int(np.prod(grid)) * channels * k:
        return None
    if getattr(dct, "layout", None) != quantizer.layout_:
        return None
    return {"grid": tuple(grid), "channels": channels, "k": k, "layout": quantizer.layout_}
