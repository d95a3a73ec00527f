"""A SoundStream-style audio codec: 1-D convolutional encoder/decoder around ResidualVQ."""

from math import prod
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from torch import nn

from .._core._contract import check_input_features, check_signals, from_layout, to_layout
from .._core._docs import fill_doc
from .._core._estimator import unfitted_on_error
from .._core._limits import MAX_BEAM_SIZE, MAX_STAGES, MAX_WIDTH
from ..entropy import CategoricalEntropyModel
from ..nets._skorch import FITTED_ATTRIBUTES, check_float32_range
from ..quantization import ResidualVQ
from ._base import (
    _CODEC_CONSTRAINTS,
    PERSISTENCE_NOTES,
    TRAINING_PARAMS,
    LearnedCodec,
)
from ._modules import SoundStreamNet

#: At most this many latent frames train the residual quantizer's k-means.
_RVQ_TRAINING_FRAMES = 1 << 15


def mel_filterbank(n_fft, n_mels, sample_rate):
    """Triangular mel filters ``(n_mels, n_fft // 2 + 1)`` (HTK mel scale, peaks up to 1).

    A filter narrower than the bin spacing takes its nearest bin, so no band
    is empty.

    Examples
    --------
    >>> from skcompress.learned._audio import mel_filterbank
    >>> bank = mel_filterbank(256, 64, 8000)
    >>> bank.shape, bool((bank.max(axis=1) > 0).all())
    ((64, 129), True)
    """
    mel = 2595 * np.log10(1 + np.array([0.0, sample_rate / 2]) / 700)
    edges = 700 * (10 ** (np.linspace(mel[0], mel[1], n_mels + 2) / 2595) - 1)
    freqs = np.linspace(0, sample_rate / 2, n_fft // 2 + 1)
    low, centre, high = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rise = (freqs - low) / np.maximum(centre - low, 1e-9)
    fall = (high - freqs) / np.maximum(high - centre, 1e-9)
    bank = np.maximum(0, np.minimum(rise, fall))
    empty = bank.max(axis=1) == 0
    bank[np.flatnonzero(empty), np.abs(freqs - centre[empty]).argmin(axis=1)] = 1.0
    return bank.astype(np.float32)


class WaveformLoss(nn.Module):
    """Waveform MSE, multi-resolution STFT and mel distances, and the VQ commitment loss.

    ``loss = waveform_weight * MSE + spectral_weight * sum_n (|S_n - S^_n| +
    |log S_n - log S^_n|) + mel_weight * sum_m (|M_m - M^_m| + |log M_m -
    log M^_m|) + commitment_weight * commitment``, with ``S_n`` the STFT
    magnitudes at FFT sizes ``n_ffts`` and ``M_m`` the mel spectrograms
    (``min(n_mels, m // 4)`` bands of the magnitudes, EnCodec's multi-scale
    mel loss) at window sizes ``mel_windows`` (hops a quarter of the size;
    means over bins and frames; logs floored at ``log_floor``), on the
    module's (standardized) signals. Sizes longer than the signals are
    skipped.

    Examples
    --------
    >>> import torch
    >>> from skcompress.learned import WaveformLoss
    >>> X = torch.zeros(2, 1, 256)                  # 2 signals, 1 channel, 256 samples
    >>> loss, parts = WaveformLoss(spectral_weight=0.0)((X + 0.5, torch.tensor(0.2)), X)
    >>> round(float(loss), 4)                       # MSE 0.25 + 0.25 * commitment 0.2
    0.3
    >>> sorted(parts)
    ['commitment', 'distortion', 'mel', 'spectral']
    >>> loss, parts = WaveformLoss(mel_weight=1.0)((X + torch.randn(2, 1, 256), 0.0 * loss), X)
    >>> bool(parts["spectral"] > 0), bool(parts["mel"] > 0)
    (True, True)
    """

    def __init__(
        self,
        spectral_weight=1.0,
        commitment_weight=0.25,
        n_ffts=(64, 128, 256, 512),
        *,
        waveform_weight=1.0,
        mel_weight=0.0,
        mel_windows=(32, 64, 128, 256, 512),
        n_mels=64,
        sample_rate=8000,
        log_floor=1e-5,
    ):
        super().__init__()
        self.spectral_weight = float(spectral_weight)
        self.commitment_weight = float(commitment_weight)
        self.n_ffts = tuple(int(n) for n in n_ffts)
        self.waveform_weight = float(waveform_weight)
        self.mel_weight = float(mel_weight)
        self.mel_windows = tuple(int(n) for n in mel_windows)
        self.n_mels = int(n_mels)
        self.sample_rate = int(sample_rate)
        self.log_floor = float(log_floor)
        self._banks = {}

    def _magnitudes(self, x_hat, x, n_fft):
        window = torch.hann_window(n_fft, device=x.device)
        both = torch.cat([x_hat[:, 0], x[:, 0]])
        spectra = torch.stft(both, n_fft, n_fft // 4, window=window, return_complex=True).abs()
        return spectra[: len(x)], spectra[len(x) :]

    def _distance(self, a, b):
        floor = self.log_floor
        linear = torch.mean(torch.abs(a - b))
        logs = torch.mean(torch.abs(torch.log(a + floor) - torch.log(b + floor)))
        return linear + logs

    def spectral(self, x_hat, x):
        total = x.new_zeros(())
        for n_fft in self.n_ffts:
            if n_fft <= x.shape[-1]:
                total = total + self._distance(*self._magnitudes(x_hat, x, n_fft))
        return total

    def mel(self, x_hat, x):
        total = x.new_zeros(())
        for n_fft in self.mel_windows:
            if n_fft > x.shape[-1]:
                continue
            key = (n_fft, x.device)
            if key not in self._banks:
                bank = mel_filterbank(n_fft, min(self.n_mels, n_fft // 4), self.sample_rate)
                self._banks[key] = torch.from_numpy(bank).to(x.device)
            bank = self._banks[key]
            a, b = (bank @ m for m in self._magnitudes(x_hat, x, n_fft))
            total = total + self._distance(a, b)
        return total

    def forward(self, y_pred, X):
        x_hat, commitment = y_pred
        zero = x_hat.new_zeros(())
        distortion = torch.mean((x_hat - X) ** 2)
        spectral = self.spectral(x_hat, X) if self.spectral_weight else zero
        mel = self.mel(x_hat, X) if self.mel_weight else zero
        loss = (
            self.waveform_weight * distortion
            + self.spectral_weight * spectral
            + self.mel_weight * mel
            + self.commitment_weight * commitment
        )
        parts = {
            "distortion": distortion.detach(),
            "spectral": spectral.detach(),
            "mel": mel.detach(),
            "commitment": commitment.detach(),
        }
        return loss, parts


class SoundStreamCodec(LearnedCodec):
    """SoundStream-style audio codec: convolutional encoder, ResidualVQ, decoder.

        After Zeghidour et al. (2021), at a size that trains on a CPU in minutes.
        The encoder (residual units of dilated convolutions, then a strided
        convolution per block, channels doubling) turns a signal into latent
        frames at ``sample_rate / prod(strides)`` per second; a
        :class:`~skcompress.ResidualVQ` codes every frame with ``n_stages``
        indices of ``log2(codebook_size)`` bits; the mirror-image decoder
        rebuilds the signal from the first ``k`` stages' sum, for any ``k``
        (quantizer dropout), so one model serves ``n_stages`` bitrates.

        ``fit`` trains in three steps, through skorch:

        1. ``pretrain_epochs`` of the autoencoder without quantization;
        2. the ResidualVQ's k-means on the latent frames of the training signals
           (at most 32768 frames);
        3. ``max_epochs`` through the quantizer: a straight-through gradient
           to the encoder, a commitment loss pulling the latents to their
           codewords and, with ``quantizer_dropout``, a random number of
           stages per training signal. With ``ema_decay`` the codebooks follow
           the encoder, stage by stage: moving averages of the residuals
           coded by each codeword, dead codewords (unused ``reseed_after``
           batches in a row) re-seeded with random residuals of the batch
           (SoundStream, EnCodec); the fitted ``quantizer_`` then takes the
           learned codebooks.

        The loss (:class:`WaveformLoss`) is ``waveform_weight`` times the
        waveform MSE plus ``spectral_weight`` times a multi-resolution STFT
        distance and ``mel_weight`` times a multi-scale mel distance (linear
        and log magnitudes both), on signals standardized by their training
        deviation; there is no adversarial loss.

        Parameters
        ----------
        n_stages : int in [1, 256], default=8
            Stages of the residual quantizer.
        codebook_size : int, default=256
            Codewords per stage.
        channels : int in [1, 4096], default=16
            Channels of the first layer (doubled at every strided block).
        strides : tuple of int, default=(2, 4, 5)
            Downsampling of each block: ``prod(strides)`` samples per frame.
        latent_dim : int in [1, 4096], default=32
            Length of a latent frame (the vectors the ResidualVQ codes).
        decoder : {"convolutional", "istft"}, default="convolutional"
            "convolutional": SoundStream's mirror-image decoder, transposed
            convolutions up to the sample rate. "istft": Vocos's head, a
            log-magnitude and phase spectrum per latent frame at the frame
            rate, turned into samples by an inverse STFT
            (:class:`~skcompress.learned.SoundStreamISTFTDecoder`); it trains
            faster per epoch on a CPU and wants a smaller ``lr`` (its
            magnitudes are exponentiated).
        quantizer_dropout : bool, default=True
            Train the decoder on a random number of stages per signal.
        beam_size : int in [1, 1024], default=4
            Beam of the ResidualVQ's encoder.
        spectral_weight : float, default=1.0
            Weight of the multi-resolution STFT distance (FFT sizes 64 to 512).
        mel_weight : float, default=1.0
            Weight of the multi-scale mel distance (windows 32 to 512, up to
            64 bands).
        waveform_weight : float, default=0.1
            Weight of the waveform MSE.
        commitment_weight : float, default=0.25
            Weight of the commitment loss of step 3.
        ema_decay : float in [0, 1) or None, default=0.99
            Decay of the codebooks' moving averages in step 3. None: the
            k-means codebooks stay fixed.
        reseed_after : int, default=8
            Batches without a residual after which a codeword is re-seeded.
        pretrain_epochs : int, default=5
            Epochs of step 1.
        sample_rate : int, default=8000
            Samples per second, for the rates in bits per second.
        patch_size : int or None, default=None
            Train on random crops of this many samples (a multiple of
            ``prod(strides)``) drawn anew for every batch. None: whole signals.
        layout : {"flat", "blocks", "channels_first"}, default="flat"
            Layout of the codes: "flat" ``(n, n_frames * n_stages)``, stage
            fastest; "blocks" ``(n, n_frames, n_stages)``; "channels_first"
            ``(n, n_stages, n_frames)``.
    {training}

        Attributes
        ----------
        quantizer_ : ResidualVQ
            The fitted residual quantizer of the latent frames.
        entropy_models_ : list of CategoricalEntropyModel
            ``entropy_models_[k - 1]`` codes the first ``k`` stages (one
            distribution per stage, counted on the training codes).
        scale_ : float
            Standard deviation of the training signals: the module works on
            ``X / scale_``.
        n_frames_ : int
            Latent frames per signal.
        frame_rate_ : float
            Latent frames per second.
        signal_shape_ : tuple of int
            ``(length,)`` of the training signals.
        net_ : skorch.NeuralNet
            The trained skorch net (``net_.history``: loss, distortion, spectral
            distance, mel distance and commitment per epoch, both training
            steps).
        history : skorch.history.History
            ``net_.history`` (None before ``fit``).
    {fitted}

        See Also
        --------
        skcompress.ResidualVQ : the quantizer in the middle.

        Notes
        -----
        Signals are 1-D, ``(n_samples, length)``, all of the length seen at
        ``fit``; a length that ``prod(strides)`` does not divide is padded with
        zeros at the end and cropped back by :meth:`inverse_transform`. Integer
        input (16-bit PCM) is converted to float. Signals shorter than
        ``prod(strides)`` are refused with a ValueError.

    {persistence}

        Examples
        --------
        >>> import numpy as np
        >>> from skcompress.learned import SoundStreamCodec
        >>> t = np.arange(400) / 8000
        >>> X = np.sin(2 * np.pi * np.outer([200, 300, 450, 600], t)).astype(np.float32)
        >>> codec = SoundStreamCodec(n_stages=2, codebook_size=4, channels=2, strides=(2, 5),
        ...                          latent_dim=4, pretrain_epochs=1, max_epochs=1,
        ...                          device="cpu", random_state=0).fit(X)
        >>> codes = codec.transform(X)
        >>> codes.shape, codes.dtype           # 40 frames x 2 stages
        ((4, 80), dtype('uint8'))
        >>> codec.inverse_transform(codes, n_stages=1).shape
        (4, 400)
        >>> codec.bits_per_second(n_stages=2)  # fixed-length codes: 800 frames/s x 2 x 2 bits
        3200.0
    """

    _loss_parts = ("distortion", "spectral", "mel", "commitment")
    _parameter_constraints = {
        **_CODEC_CONSTRAINTS,
        "n_stages": [Interval(Integral, 1, MAX_STAGES, closed="both")],
        "codebook_size": [Interval(Integral, 2, None, closed="left")],
        "channels": [Interval(Integral, 1, MAX_WIDTH, closed="both")],
        "strides": [tuple, list],
        "latent_dim": [Interval(Integral, 1, MAX_WIDTH, closed="both")],
        "decoder": [StrOptions({"convolutional", "istft"})],
        "quantizer_dropout": ["boolean"],
        "beam_size": [Interval(Integral, 1, MAX_BEAM_SIZE, closed="both")],
        "spectral_weight": [Interval(Real, 0, None, closed="left")],
        "mel_weight": [Interval(Real, 0, None, closed="left")],
        "waveform_weight": [Interval(Real, 0, None, closed="left")],
        "commitment_weight": [Interval(Real, 0, None, closed="left")],
        "ema_decay": [Interval(Real, 0, 1, closed="left"), None],
        "reseed_after": [Interval(Integral, 1, None, closed="left")],
        "pretrain_epochs": [Interval(Integral, 0, None, closed="left")],
        "sample_rate": [Interval(Integral, 1, None, closed="left")],
        "patch_size": [Interval(Integral, 1, None, closed="left"), None],
        "layout": [StrOptions({"flat", "blocks", "channels_first"})],
    }

    def __init__(
        self,
        n_stages=8,
        codebook_size=256,
        *,
        channels=16,
        strides=(2, 4, 5),
        latent_dim=32,
        decoder="convolutional",
        quantizer_dropout=True,
        beam_size=4,
        spectral_weight=1.0,
        mel_weight=1.0,
        waveform_weight=0.1,
        commitment_weight=0.25,
        ema_decay=0.99,
        reseed_after=8,
        pretrain_epochs=5,
        sample_rate=8000,
        patch_size=None,
        layout="flat",
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
        self.n_stages = n_stages
        self.codebook_size = codebook_size
        self.channels = channels
        self.strides = strides
        self.latent_dim = latent_dim
        self.decoder = decoder
        self.quantizer_dropout = quantizer_dropout
        self.beam_size = beam_size
        self.spectral_weight = spectral_weight
        self.mel_weight = mel_weight
        self.waveform_weight = waveform_weight
        self.commitment_weight = commitment_weight
        self.ema_decay = ema_decay
        self.reseed_after = reseed_after
        self.pretrain_epochs = pretrain_epochs
        self.sample_rate = sample_rate
        self.patch_size = patch_size
        self.layout = layout
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

    # -- shapes ------------------------------------------------------------

    def _stride(self):
        strides = tuple(self.strides)
        if not strides or not all(isinstance(s, Integral) and s >= 1 for s in strides):
            raise ValueError(
                f"SoundStreamCodec: strides must be a non-empty tuple of positive ints; got "
                f"{self.strides!r}."
            )
        return prod(strides)

    def _signals(self, X, *, reset):
        if getattr(X, "ndim", 2) > 2:
            raise ValueError(
                f"SoundStreamCodec takes 1-D signals, X of shape (n_samples, length); got an "
                f"array of shape {X.shape}."
            )
        X = check_signals(self, X, reset=reset)
        check_float32_range(X, "SoundStreamCodec")
        stride = self._stride()
        if X.shape[1] < stride:
            raise ValueError(
                f"SoundStreamCodec: signals must be at least prod(strides)={stride} samples "
                f"long (one latent frame); got X of shape {X.shape} (n_features={X.shape[1]})."
            )
        return X

    def _module_input(self, X):
        stride = self._stride()
        P = X / self.scale_
        if X.shape[1] % stride:
            P = np.pad(P, [(0, 0), (0, -X.shape[1] % stride)])
        return np.ascontiguousarray(P[:, None], dtype=np.float32)

    def _patch_size(self):
        return self.patch_size

    def _schedule_epochs(self):
        return self.pretrain_epochs + self.max_epochs

    def _build_module(self):
        return SoundStreamNet(
            self.channels,
            tuple(self.strides),
            self.latent_dim,
            self.quantizer_dropout,
            ema_decay=self.ema_decay,
            reseed_after=self.reseed_after,
            decoder=self.decoder,
        )

    def _criterion(self):
        return WaveformLoss, {
            "spectral_weight": self.spectral_weight,
            "commitment_weight": self.commitment_weight,
            "waveform_weight": self.waveform_weight,
            "mel_weight": self.mel_weight,
            "sample_rate": self.sample_rate,
        }

    def _prepare_module_for_state(self, module, state):
        books = state["codebooks"]
        module.set_codebooks(np.zeros(tuple(books.shape), dtype=np.float32))
        # states saved before the codebooks followed the encoder lack its moving averages:
        # they restart from the codebooks, as set_codebooks starts them
        state.setdefault("ema_counts", torch.ones(books.shape[:2], device=books.device))
        state.setdefault("ema_sums", books.clone())
        state.setdefault(
            "idle", torch.zeros(books.shape[:2], dtype=torch.long, device=books.device)
        )

    # -- fitting -----------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    @unfitted_on_error
    def fit(self, X, y=None):
        """Train the autoencoder, fit the ResidualVQ, then train through it.

        Parameters
        ----------
        X : array-like of shape (n_samples, length)
            Training signals (float, or integer PCM).
        y : None
            Ignored.

        Returns
        -------
        self
        """
        X = self._signals(X, reset=True)
        stride = self._stride()
        padded = X.shape[1] + (-X.shape[1] % stride)
        if self.patch_size is not None and (self.patch_size % stride or self.patch_size > padded):
            raise ValueError(
                f"SoundStreamCodec: patch_size must be a multiple of prod(strides)={stride} "
                f"and at most the (padded) signal length {padded}; got "
                f"patch_size={self.patch_size}."
            )
        scale = float(np.std(X, dtype=np.float64))
        self.scale_ = scale if scale > 0 else 1.0
        n_frames = min(len(X) * (padded // stride), _RVQ_TRAINING_FRAMES)
        if n_frames < self.codebook_size:
            raise ValueError(
                f"SoundStreamCodec: codebook_size={self.codebook_size} exceeds the {n_frames} "
                f"latent frames of the training signals ({len(X)} signals x "
                f"{padded // stride} frames, at most {_RVQ_TRAINING_FRAMES} used); give more "
                "or longer signals or a smaller codebook_size."
            )
        self.n_frames_ = padded // stride
        self.frame_rate_ = self.sample_rate / stride
        self._start_training()
        Z = self._module_input(X)
        self._n_train = len(Z)
        self._initialize_net()
        if self.pretrain_epochs:
            self._train(Z, reset=False, epochs=self.pretrain_epochs)
        frames = self._latents(Z)
        rng = np.random.default_rng(self._seed)
        if len(frames) > _RVQ_TRAINING_FRAMES:
            frames = frames[np.sort(rng.choice(len(frames), _RVQ_TRAINING_FRAMES, replace=False))]
        self.quantizer_ = ResidualVQ(
            self.n_stages, self.codebook_size, beam_size=self.beam_size, random_state=self._seed
        ).fit(frames)
        self.net_.module_.set_codebooks(self.quantizer_.codebooks_)
        self._train(Z, reset=False, epochs=self.max_epochs)
        # the quantizer codes with the codebooks that the decoder learned with
        self.quantizer_.codebooks_ = self.net_.module_.codebooks.cpu().numpy()
        codes = self.quantizer_.transform(self._latents(Z)).astype(np.int32)
        usage = [
            np.bincount(codes[:, s], minlength=self.codebook_size) for s in range(self.n_stages)
        ]
        self.quantizer_._set_usage(np.stack(usage).astype(np.int64))
        self.entropy_models_ = [
            CategoricalEntropyModel().fit(codes[:, : k + 1]) for k in range(self.n_stages)
        ]
        return self

    def _latents(self, Z):
        """Latent frames ``(n * n_frames, latent_dim)`` of module input ``Z``."""
        encoder = self.net_.module_.encoder

        def encode(z):
            return encoder(self._tensor(z)).transpose(1, 2).cpu().numpy()

        frames = self._map_module(encode, Z)
        return np.ascontiguousarray(frames.reshape(-1, self.latent_dim), dtype=np.float32)

    # -- transform ---------------------------------------------------------

    def transform(self, X):
        """ResidualVQ codes of every latent frame.

        Parameters
        ----------
        X : array-like of shape (n_samples, length)

        Returns
        -------
        codes : ndarray of unsigned int
            uint8 for ``codebook_size <= 256`` (uint16 up to 65536); in
            ``layout`` (by default ``(n_samples, n_frames_ * n_stages)``,
            stage fastest).
        """
        check_is_fitted(self, "quantizer_")
        X = self._signals(X, reset=False)
        codes = self.quantizer_.transform(self._latents(self._module_input(X)))
        codes = codes.reshape(len(X), self.n_frames_, 1, self.n_stages)
        return to_layout(codes, self.layout, self)

    def _codes(self, X, name):
        """Codes in ``layout`` (or flat 2-D) to ``(n, n_frames, n_stages)``."""
        codes = np.asarray(X)
        if codes.dtype.kind not in "iu":
            raise ValueError(
                f"SoundStreamCodec.{name} expects integer codes; got dtype {codes.dtype}."
            )
        T, S = self.n_frames_, self.n_stages
        name = f"SoundStreamCodec.{name}"
        return from_layout(codes, (T,), 1, S, self.layout, name=name)[:, :, 0]

    def inverse_transform(self, X, n_stages=None):
        """Decode codes (all stages, or the first ``n_stages``: a lower bitrate).

        Parameters
        ----------
        X : array-like of int
            Codes as :meth:`transform` gives them.
        n_stages : int or None, default=None
            Decode from the first ``n_stages`` stages only. None: all.

        Returns
        -------
        X_decoded : ndarray of float32, shape (n_samples, length)
        """
        check_is_fitted(self, "quantizer_")
        codes = self._codes(X, "inverse_transform")
        n = len(codes)
        frames = self.quantizer_.inverse_transform(
            codes.reshape(n * self.n_frames_, self.n_stages), n_stages=n_stages
        )
        Y = frames.reshape(n, self.n_frames_, self.latent_dim).transpose(0, 2, 1)
        decoder = self.net_.module_.decoder

        def decode(y):
            return decoder(self._tensor(y))[:, 0].cpu().numpy()

        out = self._map_module(decode, Y)
        return np.ascontiguousarray(out[:, : self.signal_shape_[0]] * self.scale_, np.float32)

    # -- rate --------------------------------------------------------------

    def _check_stages(self, n_stages):
        if n_stages is None:
            return self.n_stages
        if not (isinstance(n_stages, Integral) and 1 <= n_stages <= self.n_stages):
            raise ValueError(
                f"SoundStreamCodec: n_stages must be an int in [1, {self.n_stages}] or None; "
                f"got {n_stages!r}."
            )
        return int(n_stages)

    def bits_per_second(self, n_stages=None):
        """Bitrate of fixed-length codes: ``frame_rate_ * n_stages * log2(codebook_size)``.

        Parameters
        ----------
        n_stages : int or None, default=None
            Stages kept (None: all).

        Returns
        -------
        bits : float
        """
        check_is_fitted(self, "quantizer_")
        k = self._check_stages(n_stages)
        return float(self.frame_rate_ * k * np.log2(self.codebook_size))

    def bits_per_sample(self, X, n_stages=None):
        """Mean bits per signal of the codes of ``X`` under ``entropy_models_`` (an estimate).

        Parameters
        ----------
        X : array-like of shape (n_samples, length)
        n_stages : int or None, default=None

        Returns
        -------
        bits : float
            Ideal code length; :meth:`rate` measures the real bitstreams.
        """
        k = self._check_stages(n_stages)
        codes = self._blocks(X)[:, :, :k].reshape(-1, k).astype(np.int64)
        bits = self.entropy_models_[k - 1].code_lengths(codes)
        return float(bits.sum() / max(len(codes) // self.n_frames_, 1))

    def _blocks(self, X):
        codes = self.transform(X)
        return self._codes(codes, "transform")

    def compress(self, X, n_stages=None):
        """Range-code the first ``n_stages`` stages of every signal's codes into a bitstream.

        Parameters
        ----------
        X : array-like of shape (n_samples, length)
        n_stages : int or None, default=None

        Returns
        -------
        strings : list of bytes
            One per signal: the number of stages (one byte), then the
            bitstream of ``entropy_models_[n_stages - 1]``.
        """
        k = self._check_stages(n_stages)
        codes = self._blocks(X)[:, :, :k]
        rows = codes.reshape(len(codes), -1).astype(np.int64)
        return [bytes([k]) + s for s in self.entropy_models_[k - 1].compress(rows)]

    def decompress(self, strings):
        """Decode bitstreams of :meth:`compress` back to signals.

        Parameters
        ----------
        strings : list of bytes
            Bitstreams with the same number of stages.

        Returns
        -------
        X_decoded : ndarray of float32, shape (n_samples, length)
        """
        check_is_fitted(self, "quantizer_")
        stages = {s[0] if len(s) else -1 for s in strings}
        if len(stages) > 1:
            raise ValueError(
                "SoundStreamCodec.decompress: the bitstreams hold different numbers of stages "
                f"{sorted(stages)}; decompress them separately."
            )
        k = stages.pop() if stages else self.n_stages
        if not 1 <= k <= self.n_stages:
            raise ValueError(f"decompress: a bitstream declares {k} stages (corrupted data).")
        rows = self.entropy_models_[k - 1].decompress(
            [bytes(s[1:]) for s in strings], shape=(self.n_frames_ * k,)
        )
        if rows.min(initial=0) < 0:
            raise ValueError("decompress: the bitstreams do not hold this codec's codes.")
        if rows.max(initial=0) >= self.codebook_size:
            raise ValueError("decompress: a code exceeds the codebook (corrupted data).")
        codes = np.zeros((len(rows), self.n_frames_, self.n_stages), dtype=np.int64)
        codes[:, :, :k] = rows.reshape(len(rows), self.n_frames_, k)
        return self.inverse_transform(codes.reshape(len(rows), -1), n_stages=k)

    def rate(self, X, n_stages=None):
        """Bits of real bitstreams beside the fixed-length rate.

        Parameters
        ----------
        X : array-like of shape (n_samples, length)
        n_stages : int or None, default=None

        Returns
        -------
        rate : dict
            ``bits_per_sample`` (mean bitstream length, header included),
            ``bits_per_second`` (the same per second of signal),
            ``fixed_bits_per_second`` (:meth:`bits_per_second`).
        """
        k = self._check_stages(n_stages)
        strings = self.compress(X, n_stages=k)
        bits = float(np.mean([8 * len(s) for s in strings]))
        seconds = self.signal_shape_[0] / self.sample_rate
        return {
            "bits_per_sample": bits,
            "bits_per_second": bits / seconds,
            "fixed_bits_per_second": self.bits_per_second(k),
        }

    def get_feature_names_out(self, input_features=None):
        """Names of the "flat" codes: ``f<frame>_s<stage>``.

        Parameters
        ----------
        input_features : array-like of str or None
            Ignored except for a length check.

        Returns
        -------
        feature_names_out : ndarray of str
        """
        check_is_fitted(self, "quantizer_")
        check_input_features(self, input_features)
        names = [f"f{t}_s{s}" for t in range(self.n_frames_) for s in range(self.n_stages)]
        return np.asarray(names, dtype=object)

    @classmethod
    def get_test_params(cls):
        return [
            {
                "n_stages": 2,
                "codebook_size": 2,
                "channels": 2,
                "strides": (2,),
                "latent_dim": 2,
                "pretrain_epochs": 1,
                "max_epochs": 1,
                "spectral_weight": 0.0,
                "device": "cpu",
                "random_state": 0,
                "n_threads": 1,
            }
        ]


SoundStreamCodec.__doc__ = fill_doc(
    SoundStreamCodec.__doc__,
    {
        "{training}": TRAINING_PARAMS,
        "{fitted}": FITTED_ATTRIBUTES,
        "{persistence}": PERSISTENCE_NOTES,
    },
)
