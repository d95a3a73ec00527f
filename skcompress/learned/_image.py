"""Learned image codecs: Ballé et al. (2017), and a wavelet-domain codec after WaLLoC."""

from math import prod
from numbers import Integral, Real

import numpy as np
import pywt
import torch
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from torch import nn

from .._core._contract import check_input_features, check_signals, from_layout, to_layout
from .._core._docs import fill_doc
from .._core._estimator import unfitted_on_error
from .._core._limits import MAX_BLOCKS, MAX_KERNEL_SIZE, MAX_LEVELS, MAX_WIDTH
from ..entropy import BlockContextModel, CategoricalEntropyModel
from ..entropy._coder import MAX_VALUES, read_varint, varint
from ..nets._data import threads
from ..nets._skorch import FITTED_ATTRIBUTES, check_float32_range
from ..transforms import WaveletTransform
from ._base import (
    _CODEC_CONSTRAINTS,
    PERSISTENCE_NOTES,
    TRAINING_PARAMS,
    LearnedCodec,
)
from ._modules import BalleNet, WaveletCodecNet

#: Pseudo-observations per channel from which the coding tables are counted.
_TABLE_COUNTS = 1 << 14


class RateDistortionLoss(nn.Module):
    """``R + lmbda * D``: bits per pixel plus ``lmbda`` times the MSE in the units of ``X``.

    ``y_pred`` is ``(x_hat, likelihood)`` from the module; ``X`` the module's
    input. ``scale`` (a number or one per channel) brings the module's units
    back to the data's; a position of the module's grid stands for
    ``pixels_per_position`` pixels.

    Examples
    --------
    >>> import torch
    >>> from skcompress.learned import RateDistortionLoss
    >>> X = torch.zeros(2, 1, 4, 4)                 # 2 images of 4 x 4 pixels
    >>> likelihood = torch.full((2, 3, 2, 2), 0.5)  # 12 latent values of 1 bit per image
    >>> loss, parts = RateDistortionLoss(lmbda=100)((X + 0.1, likelihood), X)
    >>> round(float(parts["rate"]), 4), round(float(parts["distortion"]), 4)  # bpp, MSE
    (0.75, 0.01)
    >>> round(float(loss), 4)                       # 0.75 + 100 * 0.01
    1.75
    """

    def __init__(self, lmbda, scale=1.0, pixels_per_position=1):
        super().__init__()
        self.lmbda = float(lmbda)
        self.register_buffer("scale", torch.as_tensor(np.asarray(scale, dtype=np.float32)))
        self.pixels_per_position = int(pixels_per_position)

    def forward(self, y_pred, X):
        x_hat, likelihood = y_pred
        pixels = X.shape[0] * prod(X.shape[2:]) * self.pixels_per_position
        rate = -torch.log2(likelihood).sum() / pixels
        scale = self.scale.to(X.device)
        if scale.ndim:
            scale = scale.reshape(1, -1, *([1] * (X.ndim - 2)))
        distortion = torch.mean(((x_hat - X) * scale) ** 2)
        loss = rate + self.lmbda * distortion
        return loss, {"rate": rate.detach(), "distortion": distortion.detach()}


class _LatentImageCodec(LearnedCodec):
    """Images (or 1-D signals) to integer latents and back, with real bitstreams.

    Subclasses give ``_stride()``, ``_min_size()``, ``_module_input(P)`` and
    ``_module_output(out)`` (padded channels-first signals to the module's
    input, and back), ``_build_module()`` and ``_criterion()``.
    """

    # -- validation ----------------------------------------------------------

    def _signals(self, X, *, reset):
        """Validated signals ``(n, *spatial[, channels])``, float32 or float64.

        ``fit`` checks and records them as the data contract says
        (:func:`~skcompress._core._contract.check_signals`). Later calls take
        signals of the same kind and channels, of any size; flat 2-D rows
        keep the fitted number of features.
        """
        name = type(self).__name__
        X = check_signals(self, X, reset=reset, signal_shape=self.signal_shape, any_size=True)
        check_float32_range(X, name)
        ndim = 1 if X.ndim == 2 else 2
        channels = X.shape[3] if X.ndim == 4 else 1
        if reset:
            self.n_spatial_dims_ = ndim
            self.n_channels_ = channels
        else:
            if ndim != self.n_spatial_dims_ or (X.ndim == 4) != (len(self.signal_shape_) == 3):
                fitted = self._describe(self.signal_shape_)
                raise ValueError(
                    f"{name} was fitted on {fitted}; got X of shape {X.shape} "
                    f"({self._describe(X.shape[1:])})."
                )
            if channels != self.n_channels_:
                raise ValueError(
                    f"{name} was fitted on images with {self.n_channels_} channels; got X "
                    f"with {channels} channels (X.shape={X.shape})."
                )
        small = self._min_size()
        spatial = X.shape[1 : 1 + ndim]
        if min(spatial) < small:
            raise ValueError(
                f"{name}: signals must be at least {small} samples along every spatial axis "
                f"({self._min_size_reason()}); got X of shape {X.shape}"
                + (f" (n_features={X.shape[1]})." if X.ndim == 2 else ".")
            )
        return X

    @staticmethod
    def _describe(shape):
        if len(shape) == 1:
            return f"1-D signals of length {shape[0]}"
        channels = shape[2] if len(shape) == 3 else None
        kind = "gray images" if channels is None else f"images with {channels} channels"
        return f"{kind} (signal shape {tuple(shape)})"

    def _min_size_reason(self):
        return f"the total stride of the transform is {self._stride()}"

    # -- padding and layouts -------------------------------------------------

    def _channels_first(self, X):
        """``(n, *spatial[, C])`` to ``(n, C, *spatial)``, padded to whole strides."""
        if X.ndim == 4:
            X = np.moveaxis(X, -1, 1)
        else:
            X = X[:, None]
        stride = self._stride()
        pad = [(0, 0), (0, 0)] + [(0, -s % stride) for s in X.shape[2:]]
        if any(p[1] for p in pad):
            X = np.pad(X, pad, mode="edge")
        return np.ascontiguousarray(X, dtype=np.float32)

    def _grid(self, spatial):
        return tuple(-(-int(s) // self._stride()) for s in spatial)

    def _latent_layout(self, Y):
        """``(n, M, *grid)`` integer latents in ``layout``."""
        blocks = np.moveaxis(Y, 1, -1)[..., np.newaxis, :]  # one channel of M latents
        return np.ascontiguousarray(to_layout(blocks, self.layout, self))

    def _from_latent_layout(self, Xt, size):
        """Latents in ``layout`` (or flat 2-D) to ``(n, M, *grid)`` and the output size.

        The grid is read from the array, or for flat latents from ``size``
        (the fitted size by default); arrays with ``nd + 2`` dimensions are
        read in the "channels_first" layout where that is the codec's, else
        in "blocks".
        """
        name = f"{type(self).__name__}.inverse_transform"
        M, nd = self.n_latents, self.n_spatial_dims_
        Xt = np.asarray(Xt)
        if size is not None:
            size = tuple(int(s) for s in np.atleast_1d(size))
            if len(size) != nd or min(size) < 1:
                raise ValueError(
                    f"{name}: size must give the {nd} spatial size(s) of the signals; got "
                    f"{size!r}."
                )
        if Xt.ndim == 2:
            layout = "flat"
            spatial = size if size is not None else self.signal_shape_[:nd]
            grid = self._grid(spatial)
            if Xt.shape[1] != prod(grid) * M:
                raise ValueError(
                    f"{name}: flat latents of signals of spatial size {tuple(spatial)} have "
                    f"{prod(grid) * M} values per row ({M} latents on a {grid} grid); got an "
                    f"array of shape {Xt.shape}. Pass size=... for signals of other sizes."
                )
        elif Xt.ndim == nd + 2:
            layout = "channels_first" if self.layout == "channels_first" else "blocks"
            channel_axis = 1 if layout == "channels_first" else -1
            if Xt.shape[channel_axis] != M:
                raise ValueError(
                    f"{name}: latents in the {self.layout!r} layout have {M} channels on axis "
                    f"{channel_axis}; got an array of shape {Xt.shape}."
                )
            grid = Xt.shape[2:] if layout == "channels_first" else Xt.shape[1:-1]
            if size is None:
                fitted = self.signal_shape_[:nd]
                size = fitted if self._grid(fitted) == tuple(grid) else None
        else:
            raise ValueError(
                f"{name} expects latents of shape (n_samples, n_values) or, in the "
                f"{self.layout!r} layout, with {nd + 2} dimensions; got shape {Xt.shape}."
            )
        if size is None:
            size = tuple(g * self._stride() for g in grid)
        elif self._grid(size) != tuple(grid):
            raise ValueError(
                f"{name}: signals of size {size} have latents on a {self._grid(size)} grid; "
                f"got a {tuple(grid)} grid."
            )
        Y = from_layout(Xt, grid, 1, M, layout, name=name)[..., 0, :]
        return np.moveaxis(Y, -1, 1), size

    def _finish(self, P, size):
        """Channels-first padded output to the caller's signals: cropped, channels last."""
        crop = (slice(None), slice(None), *(slice(0, s) for s in size))
        P = P[crop]
        X = np.moveaxis(P, 1, -1) if len(self.signal_shape_) == 3 else P[:, 0]
        if self.data_range is not None:
            X = np.clip(X, 0.0, self.data_range)
        return np.ascontiguousarray(X, dtype=np.float32)

    # -- the module on numpy arrays ----------------------------------------

    def _encode(self, X):
        """Latents before rounding, ``(n, M, *grid)`` float32 (numpy)."""
        module = self.module_
        Z = self._module_input(self._channels_first(X))
        return self._map_module(lambda z: module.encode(self._tensor(z)).cpu().numpy(), Z)

    def _decode(self, Y):
        module = self.module_
        out = self._map_module(lambda y: module.decode(self._tensor(y)).cpu().numpy(), Y)
        return self._module_output(out)

    # -- fitting -----------------------------------------------------------

    def _fit(self, X, *, partial):
        first = not hasattr(self, "net_") or not (partial or self.warm_start)
        if not first:
            self._check_continuation(X)
        X = self._signals(X, reset=first)
        if first:
            self._start_training()
        Z = self._training_input(X, reset=first)
        self._check_patch_size(Z)
        self._n_train = len(Z)
        if first:
            self._initialize_net()
            self._initialize_weights(Z)
            self._train(Z, reset=False, epochs=1 if partial else self.max_epochs)
        else:
            state = {k: v.clone() for k, v in self.module_.state_dict().items()}
            if not partial:  # warm start: new objective and schedule, same weights
                self._initialize_net()
                try:
                    self.net_.module_.load_state_dict(state)
                except RuntimeError as exc:
                    raise ValueError(
                        f"{type(self).__name__}: warm_start needs the architecture of the "
                        "fitted model (same n_filters, n_latents, layers...); the parameters "
                        "changed since. Fit afresh with warm_start=False."
                    ) from exc
            self._train(Z, reset=False, epochs=1 if partial else self.max_epochs)
        self._build_entropy_model()
        return self

    def _initialize_weights(self, Z):
        """Set data-dependent starting weights before the first training epoch."""

    def _check_continuation(self, X):
        shape = getattr(X, "shape", None)
        if shape is not None and len(shape) >= 2 and len(shape) != len(self.signal_shape_) + 1:
            raise ValueError(
                f"{type(self).__name__}: warm_start/partial_fit continue training on signals "
                f"like those of the first fit ({self._describe(self.signal_shape_)}); got X of "
                f"shape {shape}."
            )

    def _training_input(self, X, *, reset):
        return self._module_input(self._channels_first(X))

    def _input_stride(self):
        """Pixels per position of the module's input along each axis."""
        return 1

    def _check_patch_size(self, Z):
        if self.patch_size is None:
            return
        stride = self._stride()
        padded = tuple(g * self._input_stride() for g in Z.shape[2:])
        if self.patch_size % stride or self.patch_size > min(padded):
            raise ValueError(
                f"{type(self).__name__}: patch_size must be a multiple of the total stride "
                f"{stride} and at most the (padded) size of the training signals {padded}; "
                f"got patch_size={self.patch_size}."
            )

    def _patch_size(self):
        return None if self.patch_size is None else self.patch_size // self._input_stride()

    @_fit_context(prefer_skip_nested_validation=True)
    @unfitted_on_error
    def fit(self, X, y=None):
        """Train the codec on images (or patches): ``max_epochs`` passes of ``R + lmbda * D``.

        Parameters
        ----------
        X : array-like of shape (n_samples, height, width[, channels])
            Training images, any size of at least the total stride (padded
            to whole strides by edge replication), or 1-D signals
            ``(n_samples, length)``.
        y : None
            Ignored.

        Returns
        -------
        self
        """
        return self._fit(X, partial=False)

    @_fit_context(prefer_skip_nested_validation=True)
    @unfitted_on_error
    def partial_fit(self, X, y=None):
        """One more epoch on ``X``; the first call builds the model.

        Parameters
        ----------
        X : array-like
            Signals of the kind seen by the first call.
        y : None
            Ignored.

        Returns
        -------
        self
        """
        return self._fit(X, partial=True)

    @unfitted_on_error
    def initialize(self, X):
        """Build the untrained model for signals like ``X``, e.g. to :meth:`load_params` into.

        Parameters
        ----------
        X : array-like
            Example signals (their kind and channels set the architecture;
            for :class:`LearnedWaveletCodec`, also the standardization).

        Returns
        -------
        self
        """
        self._validate_params()
        X = self._signals(X, reset=True)
        self._start_training()
        self._training_input(X, reset=True)
        self._initialize_net()
        self.net_.module_.eval()
        self.n_iter_ = 0
        self._build_entropy_model()
        return self

    def _build_entropy_model(self):
        """The coding tables: a CategoricalEntropyModel counted from the learned densities.

        Each channel's learned probabilities of the integers become
        ``2 ** 14`` pseudo-observations (largest-remainder rounding); the
        model's Krichevsky-Trofimov estimate then reproduces them to within
        about ``2 ** -15``, and values outside a channel's range (mass below
        ``2 ** -20`` on each side) are escaped.
        """
        with threads(self.n_threads):
            low, pmf = self.module_.entropy_bottleneck.integer_pmf()
        N = _TABLE_COUNTS
        exact = pmf * N
        counts = np.floor(exact).astype(np.int64)
        short = N - counts.sum(axis=1)
        order = np.argsort(-(exact - counts), axis=1, kind="stable")
        bump = np.arange(pmf.shape[1])[None, :] < short[:, None]
        np.put_along_axis(counts, order, np.take_along_axis(counts, order, axis=1) + bump, axis=1)
        values = low[:, None] + np.arange(pmf.shape[1])
        table = np.repeat(values.ravel(), counts.ravel()).reshape(len(low), N).T
        self.entropy_model_ = CategoricalEntropyModel().fit(table.astype(np.int32))

    def _after_load(self):
        self._build_entropy_model()

    # -- transform ---------------------------------------------------------

    def transform(self, X):
        """Integer latents: the analysis transform, rounded.

        Parameters
        ----------
        X : array-like of shape (n_samples, height, width[, channels])
            Signals of the kind seen at ``fit`` (same channels; any size of at
            least the total stride).

        Returns
        -------
        latents : ndarray of int32
            ``layout`` "flat": ``(n_samples, h * w * n_latents)``, latent
            channel fastest; "blocks": ``(n_samples, h, w, n_latents)``;
            "channels_first": ``(n_samples, n_latents, h, w)``, where ``h, w``
            are the sizes divided by the total stride, rounded up.
        """
        check_is_fitted(self, "net_")
        X = self._signals(X, reset=False)
        return self._latent_layout(self._rounded(self._encode(X)))

    @staticmethod
    def _rounded(Y):
        return np.round(Y).astype(np.int32)

    def inverse_transform(self, X, size=None):
        """Signals decoded from integer latents (the synthesis transform).

        Parameters
        ----------
        X : array-like of int
            Latents as :meth:`transform` gives them.
        size : tuple of int or None, default=None
            Spatial size ``(height, width)`` (or ``(length,)``) of the signals
            the latents came from, to crop the stride padding away. None: the
            size seen at ``fit`` when the latent grid matches it, else the
            whole padded size. A flat 2-D ``X`` of another size needs it.

        Returns
        -------
        X_decoded : ndarray of float32, shape (n_samples, *size[, channels])
            Clipped to ``[0, data_range]`` unless ``data_range`` is None.
        """
        check_is_fitted(self, "net_")
        Y, size = self._from_latent_layout(X, size)
        if Y.dtype.kind not in "iu":
            if Y.dtype.kind != "f" or not np.array_equal(Y, np.round(Y)):
                raise ValueError(
                    f"{type(self).__name__}.inverse_transform expects integer latents; got "
                    f"dtype {Y.dtype}."
                )
        return self._finish(self._decode(Y), size)

    # -- rate --------------------------------------------------------------

    def _estimated_bits(self, Y):
        """Bits of each signal's integer latents ``(n, M, *grid)`` under the learned model."""
        eb = self.module_.entropy_bottleneck

        def bits(y):
            lik = eb.likelihood(self._tensor(y))
            return (-torch.log2(lik)).flatten(1).sum(1).double().cpu().numpy()

        return self._map_module(bits, Y)

    def bits_per_sample(self, X):
        """Mean bits per signal of the latents of ``X``, as the learned entropy model estimates.

        The ideal code length ``-log2 p`` of every integer latent under the
        factorized model (what training minimizes); :meth:`rate` measures
        real bitstreams beside it.

        Parameters
        ----------
        X : array-like
            Signals, as :meth:`transform` takes them.

        Returns
        -------
        bits : float
        """
        check_is_fitted(self, "net_")
        X = self._signals(X, reset=False)
        return float(self._estimated_bits(self._rounded(self._encode(X))).mean())

    def compress(self, X):
        """Range-code the latents of every signal into its own bitstream.

        Latents are coded with :class:`~skcompress.entropy.CategoricalEntropyModel`
        (``entropy_model_``), one distribution per latent channel counted from
        the learned densities, or, for :class:`LearnedWaveletCodec` with
        ``entropy_coder="context"``, with its ``context_model_``. Each
        bitstream starts with the signal's spatial size (varints), then the
        entropy coder's own bitstream (header, payload, CRC-32).

        Parameters
        ----------
        X : array-like
            Signals, as :meth:`transform` takes them.

        Returns
        -------
        strings : list of bytes
        """
        check_is_fitted(self, "net_")
        X = self._signals(X, reset=False)
        Y = self._rounded(self._encode(X))
        return self._compress_latents(Y, X.shape[1 : 1 + self.n_spatial_dims_])

    def _compress_latents(self, Y, spatial):
        header = b"".join(varint(int(s)) for s in spatial)
        return [header + s for s in self._code_latents(Y)]

    def _code_latents(self, Y):
        """Payloads of integer latents ``(n, M, *grid)``: one bitstream per signal."""
        return self.entropy_model_.compress(np.moveaxis(Y, 1, -1).reshape(len(Y), -1))

    def _decode_latents(self, payloads, grid, size):
        """Integer latents ``(n, M, *grid)`` from the payloads of :meth:`_code_latents`."""
        expected = prod(grid) * self.n_latents
        rows = self.entropy_model_.decompress(payloads, shape=(expected,))
        return np.moveaxis(rows.reshape(len(rows), *grid, self.n_latents), -1, 1)

    def _coder_header_bits(self, Y):
        """Bits of the entropy coder's own header for one signal's latents."""
        return self.entropy_model_.header_bits(Y[0].size if len(Y) else 0)

    def _ideal_bits(self, Y):
        """Ideal code length of each signal's latents under the model the coder uses."""
        return self._estimated_bits(Y)

    def _split_strings(self, strings, max_values):
        sizes, payloads = set(), []
        for s in strings:
            if not isinstance(s, (bytes, bytearray)):
                raise TypeError(
                    f"{type(self).__name__}.decompress expects a list of bytes; got an element "
                    f"of type {type(s).__name__}."
                )
            at, size = 0, []
            for _ in range(self.n_spatial_dims_):
                value, at = read_varint(s, at, "decompress")
                size.append(value)
            sizes.add(tuple(size))
            payloads.append(bytes(s[at:]))
        if len(sizes) > 1:
            raise ValueError(
                f"{type(self).__name__}.decompress: the bitstreams hold signals of different "
                f"sizes {sorted(sizes)}; decompress them separately."
            )
        size = sizes.pop() if sizes else tuple(self.signal_shape_[: self.n_spatial_dims_])
        if min(size) < 1:
            raise ValueError(f"decompress: implausible signal size {size} (corrupted data).")
        if prod(size) * self.n_channels_ > max_values:
            raise ValueError(
                f"{type(self).__name__}.decompress: the bitstreams declare signals of size "
                f"{size} with {self.n_channels_} channel(s), more than max_values={max_values} "
                "values; refused before decoding (raise max_values for larger trusted signals)."
            )
        return payloads, size

    def decompress(self, strings, *, max_values=MAX_VALUES):
        """Decode bitstreams from :meth:`compress` back to signals.

        The size a bitstream declares is checked before anything is decoded:
        against ``max_values``, and its latents against the shape that size
        gives (the checksum detects accidents, not forgery: see the
        robustness guide).

        Parameters
        ----------
        strings : list of bytes
            Bitstreams of signals of one size.
        max_values : int, default=2**24
            Most values (samples times channels) one decoded signal may hold.

        Returns
        -------
        X_decoded : ndarray of float32, shape (n_samples, *size[, channels])
            As :meth:`inverse_transform` returns them.
        """
        check_is_fitted(self, "net_")
        payloads, size = self._split_strings(strings, max_values)
        grid = self._grid(size)
        Y = self._decode_latents(payloads, grid, size)
        return self._finish(self._decode(Y), size)

    def rate(self, X):
        """What coding ``X`` costs: real bitstreams beside the learned model's estimate.

        Parameters
        ----------
        X : array-like
            Signals, as :meth:`transform` takes them.

        Returns
        -------
        rate : dict
            ``bits_per_sample`` (mean length of the bitstreams of
            :meth:`compress`, headers included), ``payload_bits_per_sample``
            and ``header_bits_per_sample`` (size varints, the coder's format
            byte, length and CRC-32), ``bits_per_value`` (bits per pixel, or
            per sample of a 1-D signal), and the ideal code length of the same
            latents under the model the bitstreams use (the learned densities,
            or the context model): ``estimated_bits_per_sample`` and
            ``estimated_bits_per_value``.
        """
        check_is_fitted(self, "net_")
        X = self._signals(X, reset=False)
        Y = self._rounded(self._encode(X))
        spatial = X.shape[1 : 1 + self.n_spatial_dims_]
        strings = self._compress_latents(Y, spatial)
        total = np.array([8 * len(s) for s in strings], dtype=np.float64)
        ours = 8 * sum(len(varint(int(s))) for s in spatial)
        header = ours + self._coder_header_bits(Y)
        estimate = self._ideal_bits(Y)
        pixels = prod(spatial)
        return {
            "bits_per_sample": float(total.mean()),
            "payload_bits_per_sample": float(total.mean() - header),
            "header_bits_per_sample": float(header),
            "bits_per_value": float(total.mean() / pixels),
            "estimated_bits_per_sample": float(estimate.mean()),
            "estimated_bits_per_value": float(estimate.mean() / pixels),
        }

    def get_feature_names_out(self, input_features=None):
        """Names of the "flat" latents of signals of the fitted size, e.g. ``r0_c1_y5``.

        ``r<row>_c<col>_y<channel>`` for images, ``t<position>_y<channel>``
        for 1-D signals, latent channel fastest.

        Parameters
        ----------
        input_features : array-like of str or None
            Ignored except for a length check.

        Returns
        -------
        feature_names_out : ndarray of str
        """
        check_is_fitted(self, "net_")
        check_input_features(self, input_features)
        grid = self._grid(self.signal_shape_[: self.n_spatial_dims_])
        channels = [f"y{m}" for m in range(self.n_latents)]
        if len(grid) == 1:
            names = [f"t{t}_{c}" for t in range(grid[0]) for c in channels]
        else:
            names = [
                f"r{r}_c{col}_{c}"
                for r in range(grid[0])
                for col in range(grid[1])
                for c in channels
            ]
        return np.asarray(names, dtype=object)


_IMAGE_INPUT = """\
    data_range : float or None, default=255.0
        Peak value of the signals: the network sees ``X / data_range`` and
        decoded signals are clipped to ``[0, data_range]``. None: no scaling
        and no clipping (signals of any range).
    patch_size : int or None, default=None
        Train on random crops of this size (a multiple of the total stride),
        drawn anew for every batch from the training signals. None: whole
        signals.
    layout : {"flat", "blocks", "channels_first"}, default="flat"
        Layout of the latents, see :mod:`skcompress` (the data contract):
        "flat" ``(n, h * w * n_latents)``, latent channel fastest; "blocks"
        ``(n, h, w, n_latents)``; "channels_first" ``(n, n_latents, h, w)``
        (``(n, n_latents, length)`` for 1-D signals), as a network takes it.
    signal_shape : tuple of int or None, default=None
        Shape of one signal when rows arrive flattened, e.g. ``(28, 28)``.
    warm_start : bool, default=False
        When fitted, ``fit`` goes on from the current weights (with the
        current ``lmbda``, ``lr`` and schedule) instead of starting afresh:
        a trained model is fine-tuned to another rate this way."""

_IMAGE_ATTRIBUTES = """\
    net_ : skorch.NeuralNet
        The trained skorch net (``net_.module_`` the torch module,
        ``net_.history`` the loss, rate and distortion per epoch).
    history : skorch.history.History
        ``net_.history`` (None before ``fit``).
    entropy_model_ : CategoricalEntropyModel
        The coding tables of :meth:`compress`: one distribution per latent
        channel, counted from the learned densities.
    signal_shape_ : tuple of int
        Shape of one training signal.
    n_spatial_dims_ : int
        1 for 1-D signals, 2 for images.
    n_channels_ : int
        Channels of the signals (1 for gray images and 1-D signals).
"""

_PADDING_NOTES = """\
    Signals whose sizes the total stride does not divide are padded at the
    bottom and right by edge replication and cropped back by
    :meth:`inverse_transform` and :meth:`decompress` (which read the size
    from the bitstream). Signals smaller than the stride are refused with a
    ValueError, as are images with another number of channels than at
    ``fit``; sizes may otherwise differ from those seen at ``fit``."""


class BalleCodec(_LatentImageCodec):
    """End-to-end optimized image codec of Ballé, Laparra and Simoncelli (2017).

        A convolutional analysis transform with GDN maps an image to latents, which
        are rounded to integers and entropy coded under a learned factorized
        model (one non-parametric density per latent channel); a synthesis
        transform with inverse GDN decodes them. Training minimizes
        ``R + lmbda * D`` through skorch, with additive uniform noise standing in
        for the rounding: ``R`` the bits per pixel of the noisy latents under the
        model, ``D`` the mean squared error per value in the units of ``X`` (for
        8-bit images, ``lmbda`` has the scale of CompressAI's: about 0.01 for
        half a bit per pixel once fully trained).

        :meth:`transform` gives the integer latents (a quantizer's symbols, for
        any entropy coder, scorer or network), :meth:`inverse_transform` the
        decoded images; :meth:`compress` / :meth:`decompress` write and read real
        bitstreams (:class:`~skcompress.entropy.CategoricalEntropyModel` under
        the learned densities), and :meth:`rate` reports their length beside
        the entropy model's estimate.

        Parameters
        ----------
        lmbda : float, default=0.01
            Weight of the distortion in the loss: larger gives more bits and
            higher quality.
        n_filters : int in [1, 4096], default=64
            Channels of the hidden layers (128 in the paper's small models).
        n_latents : int in [1, 4096], default=96
            Channels of the latents.
        n_layers : int in [1, 16], default=4
            Stride-2 convolutions in each transform: the total stride is
            ``2 ** n_layers`` (16 by default).
        kernel_size : int in [1, 63], default=5
            Odd kernel size of the convolutions.
    {input}
    {training}

        Attributes
        ----------
    {attributes}

        See Also
        --------
        LearnedWaveletCodec : a cheap-to-encode learned codec on wavelet packets.
        skcompress.entropy.CategoricalEntropyModel : codes the latents.

        Notes
        -----
    {padding}

    {persistence}

        Examples
        --------
        >>> import numpy as np
        >>> from skcompress.learned import BalleCodec
        >>> X = np.random.default_rng(0).uniform(0, 255, (4, 16, 16, 3)).astype(np.float32)
        >>> codec = BalleCodec(n_filters=8, n_latents=4, n_layers=2, max_epochs=2,
        ...                    device="cpu", random_state=0).fit(X)
        >>> latents = codec.transform(X)
        >>> latents.shape, latents.dtype     # 4 x 4 grid x 4 latents
        ((4, 64), dtype('int32'))
        >>> codec.inverse_transform(latents).shape
        (4, 16, 16, 3)
        >>> strings = codec.compress(X)
        >>> codec.decompress(strings).shape
        (4, 16, 16, 3)
        >>> sorted(codec.rate(X))[:3]
        ['bits_per_sample', 'bits_per_value', 'estimated_bits_per_sample']
    """

    _loss_parts = ("rate", "distortion")
    _parameter_constraints = {
        **_CODEC_CONSTRAINTS,
        "lmbda": [Interval(Real, 0, None, closed="left")],
        "n_filters": [Interval(Integral, 1, MAX_WIDTH, closed="both")],
        "n_latents": [Interval(Integral, 1, MAX_WIDTH, closed="both")],
        "n_layers": [Interval(Integral, 1, MAX_LEVELS, closed="both")],
        "kernel_size": [Interval(Integral, 1, MAX_KERNEL_SIZE, closed="both")],
        "data_range": [Interval(Real, 0, None, closed="neither"), None],
        "patch_size": [Interval(Integral, 1, None, closed="left"), None],
        "layout": [StrOptions({"flat", "blocks", "channels_first"})],
        "signal_shape": [tuple, list, None],
        "warm_start": ["boolean"],
    }

    def __init__(
        self,
        lmbda=0.01,
        *,
        n_filters=64,
        n_latents=96,
        n_layers=4,
        kernel_size=5,
        data_range=255.0,
        patch_size=None,
        layout="flat",
        signal_shape=None,
        warm_start=False,
        max_epochs=10,
        batch_size=16,
        lr=1e-3,
        max_grad_norm=1.0,
        lr_schedule="constant",
        device="auto",
        random_state=None,
        verbose=0,
        callbacks=None,
        n_threads=None,
    ):
        self.lmbda = lmbda
        self.n_filters = n_filters
        self.n_latents = n_latents
        self.n_layers = n_layers
        self.kernel_size = kernel_size
        self.data_range = data_range
        self.patch_size = patch_size
        self.layout = layout
        self.signal_shape = signal_shape
        self.warm_start = warm_start
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.max_grad_norm = max_grad_norm
        self.lr_schedule = lr_schedule
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks
        self.n_threads = n_threads

    def _stride(self):
        return 2**self.n_layers

    def _min_size(self):
        return self._stride()

    def _module_input(self, P):
        return P if self.data_range is None else P / np.float32(self.data_range)

    def _module_output(self, out):
        return out if self.data_range is None else out * np.float32(self.data_range)

    def _build_module(self):
        if self.kernel_size % 2 == 0:
            raise ValueError(f"BalleCodec: kernel_size must be odd; got {self.kernel_size}.")
        return BalleNet(
            self.n_channels_,
            self.n_filters,
            self.n_latents,
            self.n_layers,
            self.kernel_size,
            self.n_spatial_dims_,
        )

    def _criterion(self):
        scale = 1.0 if self.data_range is None else self.data_range
        return RateDistortionLoss, {"lmbda": self.lmbda, "scale": scale}

    @classmethod
    def get_test_params(cls):
        return [
            {
                "n_filters": 4,
                "n_latents": 3,
                "n_layers": 1,
                "kernel_size": 3,
                "max_epochs": 2,
                "batch_size": 8,
                "data_range": None,
                "device": "cpu",
                "random_state": 0,
                "n_threads": 1,
            }
        ]


class LearnedWaveletCodec(_LatentImageCodec):
    """A learned codec on wavelet coefficients: linear encoder, entropy model, nonlinear decoder.

        In the spirit of WaLLoC (Jacobellis et al. 2025): a fixed wavelet
        transform does the heavy lifting, its coefficients laid out as ``4 **
        level`` channels per image channel on a grid of ``1 / 2 ** level`` the
        resolution (critically sampled); a learned linear projection (a ``1 x
        1`` convolution) maps the standardized channels to ``n_latents``
        latents, which are rounded and coded under a learned entropy model; a
        small convolutional decoder maps them back and the inverse wavelet
        transform to pixels. Encoding is the wavelet transform plus one small
        matrix product per position: cheap enough to run at data-loading time
        on a CPU.

        Training minimizes ``R + lmbda * D`` as :class:`BalleCodec` does (``D``
        measured on the wavelet coefficients, in the units of ``X``: exactly
        the pixels' mean squared error for an orthogonal wavelet, within a few
        percent for the near-orthogonal "cdf97"). The coefficients of the
        training signals are computed once, at ``fit``.

        Parameters
        ----------
        lmbda : float, default=0.01
            Weight of the distortion in the loss.
        wavelet : str, default="cdf97"
            Any wavelet :class:`~skcompress.WaveletTransform` takes.
        level : int in [1, 16], default=3
            Wavelet levels: the total stride is ``2 ** level``.
        n_latents : int in [1, 4096], default=24
            Channels of the latents (the transform has ``channels * 4 ** level``).
        n_filters : int in [1, 4096], default=64
            Width of the decoder.
        n_blocks : int in [0, 64], default=2
            Residual blocks of the decoder.
        kernel_size : int in [1, 63], default=3
            Odd kernel size of the decoder's convolutions.
        decomposition : {"dyadic", "packet"}, default="dyadic"
            The fixed transform. "dyadic": JPEG 2000's, a ``level``-level
            :class:`~skcompress.WaveletTransform` (only the low-pass band split
            again), every subband's ``f x f`` polyphase components (``f = 2 **
            (level - j)`` at level ``j``) made channels of the coarsest grid.
            "packet": the full packet tree, ``WaveletTransform(level=1)``
            applied ``level`` times to every subband. The fine levels of
            "dyadic" keep short filters, so detail stays localized.
        init : {"color", "pca", "random"}, default="color"
            Starting weights of the encoder and the decoder's linear path, with
            the quantization step that ``lmbda`` implies at high rate and the
            densities fitted to those latents. "color": every coefficient a
            latent of its own, its colours decorrelated by a KLT of the image
            channels fitted per coefficient (a learned ICT), keeping the
            ``n_latents`` (colour component, coefficient) pairs of largest
            variance on the training signals; "pca": the principal components of all
            coefficients of a position, which mix neighbouring coefficients;
            "random": torch's random weights. "dyadic" with "color" is the
            best of these on photographs (``benchmarks/bench_learned.py``).
        entropy_coder : {"context", "factorized"}, default="context"
            How :meth:`compress` codes the latents. "context": with a
            :class:`~skcompress.entropy.BlockContextModel` counted on the
            training latents at ``fit``: the latent vector of each position is
            a "block" whose channels come in order of decreasing variance (the
            principal components' order), split into ``context_groups``; the
            first of a group is predicted from its left and upper neighbours,
            every other one coded in a context of the magnitudes of the same
            channel at the neighbouring positions and of how many channels the
            position needs: fewer bits than "factorized" for the same
            latents. "factorized":
            one distribution per latent channel, the learned densities that
            training minimizes (as :class:`BalleCodec` codes). Training is the
            same for both; the setting may be changed after ``fit``.
        context_groups : int in [1, 4096], default=2
            For ``entropy_coder="context"``: the latent channels, in order of
            decreasing variance, are dealt round-robin into this many groups
            (at most ``n_latents``), the context model's channels; the first
            of each group is predicted from its neighbours and each group has
            its own contexts. Set it before ``fit``, which counts the tables.
    {input}
    {training}

        Attributes
        ----------
        packet_mean_, packet_scale_ : ndarray of float32, shape (n_channels * 4 ** level,)
            Standardization of the transform's channels learned at ``fit``
            (``2 ** level`` per channel for 1-D signals).
        context_model_ : BlockContextModel
            The tables of ``entropy_coder="context"``, counted on the rounded
            latents of the signals of the latest ``fit`` (or ``partial_fit``).
        latent_order_ : ndarray of int64, shape (n_latents,)
            Latent channels in order of decreasing variance on those signals,
            the order in which they are dealt into the context model's groups.
    {attributes}

        See Also
        --------
        BalleCodec : the convolutional codec with GDN.
        skcompress.WaveletTransform : the fixed transform.

        Notes
        -----
    {padding} Every wavelet level also needs the wavelet's filter length:
        signals of at least ``2 ** (level - 1) * 2 * (taps - 1)`` samples per side
        (72 for "cdf97" at level 3, 8 for "haar").

    {persistence}

        :meth:`save_params` writes the network only: after ``initialize(X)``
        and :meth:`load_params`, the context model is counted again on the
        latents of that ``X`` under the loaded weights (the training signals
        give back the fitted tables).

        Examples
        --------
        >>> import numpy as np
        >>> from skcompress.learned import LearnedWaveletCodec
        >>> X = np.random.default_rng(0).uniform(0, 255, (4, 16, 16)).astype(np.float32)
        >>> codec = LearnedWaveletCodec(wavelet="haar", level=2, n_latents=4, n_filters=8,
        ...                             max_epochs=2, device="cpu", random_state=0).fit(X)
        >>> codec.transform(X).shape          # 4 x 4 grid x 4 latents
        (4, 64)
        >>> codec.inverse_transform(codec.transform(X)).shape
        (4, 16, 16)
    """

    _loss_parts = ("rate", "distortion")
    _parameter_constraints = {
        **_CODEC_CONSTRAINTS,
        "lmbda": [Interval(Real, 0, None, closed="left")],
        "wavelet": [str],
        "level": [Interval(Integral, 1, MAX_LEVELS, closed="both")],
        "n_latents": [Interval(Integral, 1, MAX_WIDTH, closed="both")],
        "n_filters": [Interval(Integral, 1, MAX_WIDTH, closed="both")],
        "n_blocks": [Interval(Integral, 0, MAX_BLOCKS, closed="both")],
        "kernel_size": [Interval(Integral, 1, MAX_KERNEL_SIZE, closed="both")],
        "decomposition": [StrOptions({"dyadic", "packet"})],
        "init": [StrOptions({"color", "pca", "random"})],
        "entropy_coder": [StrOptions({"context", "factorized"})],
        "context_groups": [Interval(Integral, 1, MAX_WIDTH, closed="both")],
        "data_range": [Interval(Real, 0, None, closed="neither"), None],
        "patch_size": [Interval(Integral, 1, None, closed="left"), None],
        "layout": [StrOptions({"flat", "blocks", "channels_first"})],
        "signal_shape": [tuple, list, None],
        "warm_start": ["boolean"],
    }

    def __init__(
        self,
        lmbda=0.01,
        *,
        wavelet="cdf97",
        level=3,
        n_latents=24,
        n_filters=64,
        n_blocks=2,
        kernel_size=3,
        decomposition="dyadic",
        init="color",
        entropy_coder="context",
        context_groups=2,
        data_range=255.0,
        patch_size=None,
        layout="flat",
        signal_shape=None,
        warm_start=False,
        max_epochs=10,
        batch_size=16,
        lr=1e-3,
        max_grad_norm=1.0,
        lr_schedule="constant",
        device="auto",
        random_state=None,
        verbose=0,
        callbacks=None,
        n_threads=None,
    ):
        self.lmbda = lmbda
        self.wavelet = wavelet
        self.level = level
        self.n_latents = n_latents
        self.n_filters = n_filters
        self.n_blocks = n_blocks
        self.kernel_size = kernel_size
        self.decomposition = decomposition
        self.init = init
        self.entropy_coder = entropy_coder
        self.context_groups = context_groups
        self.data_range = data_range
        self.patch_size = patch_size
        self.layout = layout
        self.signal_shape = signal_shape
        self.warm_start = warm_start
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.max_grad_norm = max_grad_norm
        self.lr_schedule = lr_schedule
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks
        self.n_threads = n_threads

    def _stride(self):
        return 2**self.level

    def _input_stride(self):
        return self._stride()

    def _taps(self):
        name = {"cdf97": "bior4.4", "cdf53": "bior2.2"}.get(self.wavelet, self.wavelet)
        try:
            return pywt.Wavelet(name).dec_len
        except ValueError as exc:
            raise ValueError(
                f"LearnedWaveletCodec: wavelet must be a discrete wavelet of PyWavelets or "
                f"'cdf97'/'cdf53'; got {self.wavelet!r}."
            ) from exc

    def _min_size(self):
        return max(self._stride(), 2 ** (self.level - 1) * 2 * (self._taps() - 1))

    def _min_size_reason(self):
        return (
            f"{self.level} packet levels of wavelet={self.wavelet!r} with "
            f"{self._taps()} taps; the total stride is {self._stride()}"
        )

    @property
    def _split(self):
        return 2**self.n_spatial_dims_

    def _packets(self, P):
        """``(n, C, *spatial)`` to ``(n, C * split ** level, *spatial / 2 ** level)``."""
        n, C = P.shape[:2]
        bands = P.reshape(n * C, *P.shape[2:])
        if self.decomposition == "dyadic":
            return self._dyadic(bands).reshape(n, -1, *self._grid(P.shape[2:]))
        for _ in range(self.level):
            wt = WaveletTransform(self.wavelet, level=1, mode="periodization")
            coefficients = wt.fit_transform(bands)
            half = tuple(s // 2 for s in bands.shape[1:])
            bands = coefficients.reshape(len(bands) * self._split, *half)
        return bands.reshape(n, -1, *bands.shape[1:])

    def _unpackets(self, Q):
        n = len(Q)
        if self.decomposition == "dyadic":
            bands = self._undyadic(Q.reshape(n * self.n_channels_, -1, *Q.shape[2:]))
            return bands.reshape(n, -1, *bands.shape[1:])
        bands = Q.reshape(-1, *Q.shape[2:])
        for _ in range(self.level):
            full = tuple(2 * s for s in bands.shape[1:])
            wt = WaveletTransform(self.wavelet, level=1, mode="periodization")
            wt.fit(np.zeros((1, *full), dtype=bands.dtype))
            bands = wt.inverse_transform(bands.reshape(-1, self._split * prod(bands.shape[1:])))
        return bands.reshape(n, -1, *bands.shape[1:])

    def _dyadic_transform(self, spatial):
        wt = WaveletTransform(self.wavelet, level=self.level, mode="periodization")
        return wt.fit(np.zeros((1, *spatial), dtype=np.float32))

    def _dyadic(self, bands):
        """Bands ``(m, *spatial)`` to ``(m, split ** level, *grid)``: every subband of a
        ``level``-level DWT rearranged onto the coarsest grid (its ``f x f`` polyphase
        components as channels, ``f = 2 ** (level - j)`` at level ``j``)."""
        m, spatial = len(bands), bands.shape[1:]
        grid = self._grid(spatial)
        wt = self._dyadic_transform(spatial)
        flat, at, parts = wt.transform(bands), 0, []
        for shape in wt.subband_shapes_:
            f = shape[0] // grid[0]
            band = flat[:, at : at + prod(shape)].reshape(m, *(x for g in grid for x in (g, f)))
            at += prod(shape)
            nd = len(grid)
            order = (0, *range(2, 2 * nd + 1, 2), *range(1, 2 * nd, 2))
            parts.append(band.transpose(order).reshape(m, f**nd, *grid))
        return np.ascontiguousarray(np.concatenate(parts, axis=1), dtype=np.float32)

    def _undyadic(self, Q):
        """The inverse of :meth:`_dyadic`."""
        m, grid = len(Q), Q.shape[2:]
        nd = len(grid)
        wt = self._dyadic_transform(tuple(g * self._stride() for g in grid))
        at, parts = 0, []
        for shape in wt.subband_shapes_:
            f = shape[0] // grid[0]
            band = Q[:, at : at + f**nd].reshape(m, *([f] * nd), *grid)
            at += f**nd
            order = (0, *(x for i in range(nd) for x in (1 + nd + i, 1 + i)))
            parts.append(band.transpose(order).reshape(m, -1))
        return wt.inverse_transform(np.concatenate(parts, axis=1).astype(np.float32))

    def _training_input(self, X, *, reset):
        Q = self._packets(self._channels_first(X))
        if reset:
            axes = (0, *range(2, Q.ndim))
            self.packet_mean_ = Q.mean(axis=axes, dtype=np.float64).astype(np.float32)
            scale = Q.std(axis=axes, dtype=np.float64)
            scale[~(scale > 1e-6 * max(1.0, float(np.abs(self.packet_mean_).max())))] = 1.0
            self.packet_scale_ = scale.astype(np.float32)
        return self._standardize(Q)

    def _standardize(self, Q):
        view = (1, -1, *([1] * (Q.ndim - 2)))
        Q = (Q - self.packet_mean_.reshape(view)) / self.packet_scale_.reshape(view)
        return np.ascontiguousarray(Q, dtype=np.float32)

    def _module_input(self, P):
        return self._standardize(self._packets(P))

    def _module_output(self, out):
        view = (1, -1, *([1] * (out.ndim - 2)))
        Q = out * self.packet_scale_.reshape(view) + self.packet_mean_.reshape(view)
        return self._unpackets(Q.astype(np.float32))

    def _initialize_weights(self, Z):
        if self.init == "random":
            return
        scale = self.packet_scale_.astype(np.float64)
        V = np.moveaxis(Z, 1, -1).reshape(-1, Z.shape[1]).astype(np.float64) * scale
        basis = self._color_basis(V) if self.init == "color" else self._pca_basis(V)
        if basis.shape[1] < self.n_latents:
            basis = np.pad(basis, [(0, 0), (0, self.n_latents - basis.shape[1])])
        step = np.sqrt(6 * self.n_channels_ / (max(self.lmbda, 1e-9) * np.log(2)))
        encoder = basis.T * scale / step  # latents = basis^T (scale * z) / step
        decoder = basis / scale[:, None] * step
        module = self.net_.module_
        with torch.no_grad():
            weight = module.encoder.weight
            weight.copy_(torch.as_tensor(encoder, dtype=weight.dtype).reshape(weight.shape))
            module.encoder.bias.zero_()
            weight = module.linear_decoder.weight
            weight.copy_(torch.as_tensor(decoder, dtype=weight.dtype).reshape(weight.shape))
            module.linear_decoder.bias.zero_()
            # the densities start matched to these latents: a fresh entropy model
            # would cost several bits per latent until training caught up
            sample = torch.from_numpy(Z[: max(1, 4096 // prod(Z.shape[2:]) + 1)])
            latents = module.encoder(sample.to(self.device_))
        generator = torch.Generator().manual_seed(self._seed)
        with threads(self.n_threads):
            module.entropy_bottleneck.fit_density(latents, generator=generator)

    def _pca_basis(self, V):
        """``(packets, <= n_latents)``: principal components of ``V``, largest first."""
        eigenvalues, vectors = np.linalg.eigh(V.T @ V / max(len(V), 1))
        return vectors[:, np.argsort(eigenvalues)[::-1][: self.n_latents]]

    def _color_basis(self, V):
        """``(packets, <= n_latents)``: each coefficient's colours decorrelated, not mixed.

        A ``C x C`` KLT of the colours per coefficient of the position; the
        ``n_latents`` (colour component, coefficient) pairs of largest variance
        are kept, largest first.
        """
        C = self.n_channels_
        W = V.reshape(len(V), C, -1)
        covariance = np.einsum("nck,ndk->kcd", W, W) / max(len(V), 1)
        variance, vectors = np.linalg.eigh(covariance)  # ascending, per coefficient
        variance, vectors = variance[:, ::-1].T, vectors[:, :, ::-1]  # (C, K), (K, C, C)
        keep = np.argsort(-variance, axis=None, kind="stable")[: self.n_latents]
        components, coefficients = np.unravel_index(keep, variance.shape)
        basis = np.zeros((C, W.shape[2], len(keep)))
        basis[:, coefficients, np.arange(len(keep))] = vectors[coefficients, :, components].T
        return basis.reshape(-1, len(keep))

    # -- the context coder ---------------------------------------------------

    def _fit(self, X, *, partial):
        super()._fit(X, partial=partial)
        self._fit_context_model(self._signals(X, reset=False))
        return self

    @unfitted_on_error
    def initialize(self, X):
        super().initialize(X)
        X = self._signals(X, reset=False)
        self._fit_context_model(X)
        self._context_signals = X  # counted again under the weights load_params reads
        return self

    initialize.__doc__ = _LatentImageCodec.initialize.__doc__

    def _after_load(self):
        super()._after_load()
        X = self.__dict__.pop("_context_signals", None)
        if X is not None:
            self._fit_context_model(X)

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_context_signals", None)
        return state

    def _slots(self):
        """``(groups, K)``: the latent channel in each slot of a block, -1 for padding."""
        groups = min(self.context_groups, self.n_latents)
        K = -(-self.n_latents // groups)
        flat = np.full(groups * K, -1, dtype=np.int64)
        flat[: self.n_latents] = self.latent_order_
        return flat.reshape(K, groups).T

    def _blocks(self, Y):
        """``(n, M, *grid)`` latents to the context model's blocks ``(n, h, w, groups, K)``.

        Channels dealt round-robin, in order of decreasing variance, into the
        groups (the model's channels); 1-D grids are one row.
        """
        moved = np.moveaxis(Y, 1, -1)
        if moved.ndim == 3:
            moved = moved[:, np.newaxis]
        zero = np.zeros((*moved.shape[:-1], 1), dtype=moved.dtype)
        return np.ascontiguousarray(np.concatenate([moved, zero], axis=-1)[..., self._slots()])

    def _unblocks(self, blocks):
        slots = self._slots()
        used = slots >= 0
        Y = np.empty((*blocks.shape[:3], self.n_latents), dtype=np.int32)
        Y[..., slots[used]] = blocks[..., used]
        if self.n_spatial_dims_ == 1:
            Y = Y[:, 0]
        return np.moveaxis(Y, -1, 1)

    def _fit_context_model(self, X):
        Y = self._rounded(self._encode(X))
        variance = np.moveaxis(Y, 1, -1).reshape(-1, Y.shape[1]).astype(np.float64).var(axis=0)
        self.latent_order_ = np.argsort(-variance, kind="stable").astype(np.int64)
        self.context_model_ = BlockContextModel(positional=False).fit(self._blocks(Y))

    def _code_latents(self, Y):
        if self.entropy_coder == "factorized":
            return super()._code_latents(Y)
        return self.context_model_.compress(self._blocks(Y))

    def _decode_latents(self, payloads, grid, size):
        if self.entropy_coder == "factorized":
            return super()._decode_latents(payloads, grid, size)
        expected = self._blocks(np.zeros((0, self.n_latents, *grid), np.int32)).shape[1:]
        blocks = self.context_model_.decompress(payloads, shape=expected)
        return self._unblocks(blocks.reshape(len(blocks), *expected))

    def _coder_header_bits(self, Y):
        if self.entropy_coder == "factorized":
            return super()._coder_header_bits(Y)
        return self.context_model_.header_bits(self._blocks(Y).shape[1:])

    def _ideal_bits(self, Y):
        if self.entropy_coder == "factorized":
            return super()._ideal_bits(Y)
        return self.context_model_.code_lengths(self._blocks(Y))

    def _build_module(self):
        if self.kernel_size % 2 == 0:
            raise ValueError(
                f"LearnedWaveletCodec: kernel_size must be odd; got {self.kernel_size}."
            )
        return WaveletCodecNet(
            self.n_channels_ * self._split**self.level,
            self.n_latents,
            self.n_filters,
            self.n_blocks,
            self.kernel_size,
            self.n_spatial_dims_,
        )

    def _criterion(self):
        return RateDistortionLoss, {
            "lmbda": self.lmbda,
            "scale": self.packet_scale_,
            "pixels_per_position": self._split**self.level,
        }

    @classmethod
    def get_test_params(cls):
        return [
            {
                "wavelet": "haar",
                "level": 1,
                "n_latents": 2,
                "n_filters": 4,
                "n_blocks": 1,
                "max_epochs": 2,
                "batch_size": 8,
                "data_range": None,
                "device": "cpu",
                "random_state": 0,
                "n_threads": 1,
            }
        ]


def _fill_docs(cls):
    parts = {
        "{input}": _IMAGE_INPUT,
        "{training}": TRAINING_PARAMS,
        "{attributes}": _IMAGE_ATTRIBUTES + FITTED_ATTRIBUTES,
        "{padding}": _PADDING_NOTES,
        "{persistence}": PERSISTENCE_NOTES,
    }
    cls.__doc__ = fill_doc(cls.__doc__, parts)


_fill_docs(BalleCodec)
_fill_docs(LearnedWaveletCodec)
