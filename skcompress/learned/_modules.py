"""Torch modules of the learned codecs: GDN, the factorized entropy bottleneck, the transforms.

Written from the papers: Ballé, Laparra and Simoncelli, "End-to-end optimized
image compression" (ICLR 2017) for GDN and the rate-distortion training;
Ballé et al., "Variational image compression with a scale hyperprior" (ICLR
2018), appendix 6.1, for the non-parametric factorized density; Zeghidour et
al., "SoundStream" (2021) for the 1-D encoder and decoder; Jacobellis et al.
(WaLLoC, 2025) for a linear encoder over wavelet coefficients with a nonlinear
decoder.
"""

import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

_CONV = {1: nn.Conv1d, 2: nn.Conv2d}
_CONV_T = {1: nn.ConvTranspose1d, 2: nn.ConvTranspose2d}
_CONV_FN = {1: F.conv1d, 2: F.conv2d}
#: Smallest likelihood a symbol is given (a code length of at most ~30 bits).
LIKELIHOOD_BOUND = 1e-9


class GDN(nn.Module):
    """Generalized divisive normalization (Ballé et al. 2016), or its inverse.

    ``y_i = x_i / sqrt(beta_i + sum_j gamma_ij x_j ** 2)``; the inverse (the
    synthesis transform's IGDN) multiplies by the square root instead.
    ``beta`` and ``gamma`` are kept non-negative by squaring their parameters
    (``beta`` above ``beta_min``); ``gamma`` starts at ``0.1 * I``.

    Parameters
    ----------
    channels : int
    inverse : bool, default=False
    ndim : {1, 2}, default=2
        Spatial dimensions of the input ``(n, channels, *spatial)``.
    beta_min : float, default=1e-6

    Examples
    --------
    >>> import torch
    >>> gdn = GDN(3)
    >>> x = torch.ones(1, 3, 2, 2)
    >>> y = gdn(x).detach()
    >>> y.shape, round(float(y[0, 0, 0, 0]), 4)  # 1 / sqrt(1 + 0.1 + 2e-6)
    (torch.Size([1, 3, 2, 2]), 0.9535)
    >>> torch.allclose(GDN(3, inverse=True)(y), x, atol=0.05)
    True
    """

    def __init__(self, channels, inverse=False, ndim=2, beta_min=1e-6):
        super().__init__()
        self.inverse = bool(inverse)
        self.ndim = int(ndim)
        self.beta_min = float(beta_min)
        self.beta_param = nn.Parameter(torch.ones(channels))
        # off-diagonal entries start small but non-zero: a squared parameter at
        # exactly 0 would have zero gradient forever
        gamma = 0.1 * torch.eye(channels) + 1e-6
        self.gamma_param = nn.Parameter(gamma.sqrt())

    def forward(self, x):
        channels = self.beta_param.shape[0]
        beta = self.beta_param**2 + self.beta_min
        gamma = (self.gamma_param**2).reshape(channels, channels, *([1] * self.ndim))
        norm = _CONV_FN[self.ndim](x * x, gamma, beta)
        return x * torch.sqrt(norm) if self.inverse else x * torch.rsqrt(norm)


class EntropyBottleneck(nn.Module):
    """A learned factorized density, one non-parametric model per channel.

    The cumulative distribution of channel ``c`` is ``sigmoid(f(x))`` where
    ``f`` is a monotone chain of small dense layers (Ballé et al. 2018,
    appendix 6.1): ``x -> softplus(H_k) x + b_k``, each followed by
    ``x + tanh(a_k) * tanh(x)`` except the last. The likelihood of a value
    ``y`` is the mass of ``[y - 1/2, y + 1/2]``, the density convolved with a
    unit uniform, which is what additive uniform noise in training and
    rounding at test time both see.

    Parameters
    ----------
    channels : int
    filters : tuple of int, default=(3, 3, 3)
        Widths of the hidden layers of ``f``.
    init_scale : float, default=10.0
        Initial spread of the density (about the standard deviation).

    Examples
    --------
    >>> import torch
    >>> eb = EntropyBottleneck(2).eval()  # rounding; training mode adds noise
    >>> y = torch.zeros(1, 2, 3, 3)
    >>> y_hat, likelihood = eb(y)
    >>> bool(torch.equal(y_hat, y)), likelihood.shape
    (True, torch.Size([1, 2, 3, 3]))
    >>> low, pmf = eb.integer_pmf()
    >>> low.shape, bool(abs(pmf.sum(axis=1) - 1).max() < 1e-3)
    ((2,), True)
    """

    def __init__(self, channels, filters=(3, 3, 3), init_scale=10.0):
        super().__init__()
        widths = (1, *filters, 1)
        scale = init_scale ** (1 / (len(widths) - 1))
        self.matrices = nn.ParameterList()
        self.biases = nn.ParameterList()
        self.factors = nn.ParameterList()
        generator = torch.Generator().manual_seed(0)  # fixed start; weights are seeded outside
        for k in range(len(widths) - 1):
            value = math.log(math.expm1(1 / scale / widths[k + 1]))
            self.matrices.append(
                nn.Parameter(torch.full((channels, widths[k + 1], widths[k]), value))
            )
            bias = torch.rand((channels, widths[k + 1], 1), generator=generator) - 0.5
            self.biases.append(nn.Parameter(bias))
            if k < len(widths) - 2:
                self.factors.append(nn.Parameter(torch.zeros(channels, widths[k + 1], 1)))

    @property
    def channels(self):
        return self.matrices[0].shape[0]

    def logits_cdf(self, x):
        """``f(x)`` for ``x`` of shape ``(channels, 1, m)``: logits of the CDF."""
        for k, (matrix, bias) in enumerate(zip(self.matrices, self.biases, strict=True)):
            x = torch.matmul(F.softplus(matrix), x) + bias
            if k < len(self.factors):
                x = x + torch.tanh(self.factors[k]) * torch.tanh(x)
        return x

    def likelihood(self, y):
        """Probability mass of ``[y - 1/2, y + 1/2]`` under each channel's model.

        Parameters
        ----------
        y : Tensor of shape (n, channels, *spatial)

        Returns
        -------
        likelihood : Tensor of the same shape, at least ``LIKELIHOOD_BOUND``
        """
        shape = y.shape
        values = y.transpose(0, 1).reshape(shape[1], 1, -1)
        lower = self.logits_cdf(values - 0.5)
        upper = self.logits_cdf(values + 0.5)
        # difference taken in the tail where it does not cancel
        sign = -torch.sign(lower + upper).detach()
        mass = torch.abs(torch.sigmoid(sign * upper) - torch.sigmoid(sign * lower))
        mass = mass.clamp_min(LIKELIHOOD_BOUND)
        moved = (shape[1], shape[0], *shape[2:])
        return mass.reshape(moved).transpose(0, 1)

    def forward(self, y):
        """Noisy ``y`` (training) or rounded ``y`` (evaluation), and its likelihood."""
        if self.training:
            y_hat = y + torch.empty_like(y).uniform_(-0.5, 0.5)
        else:
            y_hat = torch.round(y)
        return y_hat, self.likelihood(y_hat)

    def fit_density(self, y, n_steps=200, lr=0.03, generator=None):
        """Fit the densities alone to samples ``y`` (``(n, channels, *spatial)``), in place.

        Adam on the negative log-likelihood of ``y`` plus uniform noise, the
        other modules untouched: gives a freshly initialized transform a
        matching entropy model before joint training starts.
        """
        values = y.detach().transpose(0, 1).reshape(self.channels, -1)
        if values.shape[1] > 2048:
            pick = torch.randperm(values.shape[1], generator=generator)[:2048]
            values = values[:, pick.to(values.device)]
        optimizer = torch.optim.Adam(self.parameters(), lr=lr)
        for _ in range(n_steps):
            noise = torch.rand(values.shape, generator=generator).to(values.device) - 0.5
            sample = (values + noise)[None]
            loss = -torch.log2(self.likelihood(sample)).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return self

    @torch.no_grad()
    def integer_pmf(self, tail=2.0**-20, max_range=2048):
        """Each channel's probabilities of the integers, where they are not negligible.

        Parameters
        ----------
        tail : float, default=2**-20
            Mass left out on either side of a channel's range.
        max_range : int, default=2048
            Ranges are clipped to ``[-max_range, max_range]``.

        Returns
        -------
        low : ndarray of int64, shape (channels,)
            Smallest integer of each channel's range.
        pmf : ndarray of float64, shape (channels, width)
            ``pmf[c, i]`` is the probability of ``low[c] + i`` (0 past the
            channel's range); each row is normalized to sum to 1.
        """
        device = self.matrices[0].device
        grid = torch.arange(-max_range, max_range + 1, dtype=torch.float32, device=device)
        C = self.channels
        cdf = torch.sigmoid(self.logits_cdf(grid.expand(C, 1, -1) + 0.5))[:, 0].double()
        cdf = cdf.cpu().numpy()  # P(Y <= k + 1/2) for k on the grid
        first = np.argmax(cdf >= tail, axis=1)
        last = np.minimum(
            np.where((cdf >= 1 - tail).any(axis=1), np.argmax(cdf >= 1 - tail, axis=1), len(grid)),
            len(grid) - 1,
        )
        width = int((last - first).max()) + 1
        index = first[:, None] + np.arange(width)
        inside = index <= last[:, None]
        index = np.minimum(index, len(grid) - 1)
        upper = np.take_along_axis(cdf, index, axis=1)
        lower = np.take_along_axis(cdf, np.maximum(index - 1, 0), axis=1)
        lower[:, 0] = 0.0
        pmf = np.where(inside, np.maximum(upper - lower, 0.0), 0.0)
        pmf /= pmf.sum(axis=1, keepdims=True)
        return (first - max_range).astype(np.int64), pmf


def _conv(ndim, c_in, c_out, kernel_size, stride=1):
    return _CONV[ndim](c_in, c_out, kernel_size, stride=stride, padding=kernel_size // 2)


def _upconv(ndim, c_in, c_out, kernel_size):
    return _CONV_T[ndim](
        c_in, c_out, kernel_size, stride=2, padding=kernel_size // 2, output_padding=1
    )


class BalleNet(nn.Module):
    """The transforms of Ballé et al. (2017) around an :class:`EntropyBottleneck`.

    Analysis: ``n_layers`` stride-2 convolutions, GDN between them; synthesis:
    the mirror image with transposed convolutions and inverse GDN. The input
    ``(n, channels, *spatial)`` must have spatial sizes divisible by
    ``2 ** n_layers``.

    Parameters
    ----------
    in_channels : int
    n_filters : int
        Channels of the hidden layers.
    n_latents : int
        Channels of the latent representation.
    n_layers : int
    kernel_size : int
        Odd.
    ndim : {1, 2}
        1-D signals or images.

    Examples
    --------
    >>> import torch
    >>> net = BalleNet(3, n_filters=4, n_latents=5, n_layers=2, kernel_size=3, ndim=2)
    >>> x_hat, likelihood = net(torch.zeros(2, 3, 8, 12))
    >>> x_hat.shape, likelihood.shape
    (torch.Size([2, 3, 8, 12]), torch.Size([2, 5, 2, 3]))
    """

    def __init__(self, in_channels, n_filters, n_latents, n_layers, kernel_size, ndim):
        super().__init__()
        analysis, synthesis = [], []
        for i in range(n_layers):
            c_in = in_channels if i == 0 else n_filters
            c_out = n_latents if i == n_layers - 1 else n_filters
            analysis.append(_conv(ndim, c_in, c_out, kernel_size, stride=2))
            if i < n_layers - 1:
                analysis.append(GDN(c_out, ndim=ndim))
        for i in range(n_layers):
            c_in = n_latents if i == 0 else n_filters
            c_out = in_channels if i == n_layers - 1 else n_filters
            synthesis.append(_upconv(ndim, c_in, c_out, kernel_size))
            if i < n_layers - 1:
                synthesis.append(GDN(c_out, inverse=True, ndim=ndim))
        self.analysis = nn.Sequential(*analysis)
        self.synthesis = nn.Sequential(*synthesis)
        self.entropy_bottleneck = EntropyBottleneck(n_latents)

    def encode(self, x):
        """Latents before quantization."""
        return self.analysis(x)

    def decode(self, y_hat):
        return self.synthesis(y_hat)

    def forward(self, x):
        y_hat, likelihood = self.entropy_bottleneck(self.encode(x))
        return self.decode(y_hat), likelihood


class _ResidualBlock(nn.Module):
    def __init__(self, channels, ndim, kernel_size=3):
        super().__init__()
        self.body = nn.Sequential(
            _conv(ndim, channels, channels, kernel_size),
            nn.GELU(),
            _conv(ndim, channels, channels, kernel_size),
        )

    def forward(self, x):
        return x + self.body(x)


class WaveletCodecNet(nn.Module):
    """Linear encoder and nonlinear decoder over wavelet channels (WaLLoC-style).

    The encoder is one ``1 x 1`` convolution from the ``in_channels``
    wavelet-coefficient channels to ``n_latents``; the decoder maps the quantized
    latents back with a linear path plus a small convolutional network
    (``n_blocks`` residual blocks of width ``n_filters``), so encoding costs
    one small matrix product per position.

    Parameters
    ----------
    in_channels, n_latents, n_filters, n_blocks, kernel_size : int
    ndim : {1, 2}

    Examples
    --------
    >>> import torch
    >>> net = WaveletCodecNet(16, n_latents=4, n_filters=8, n_blocks=1, kernel_size=3, ndim=2)
    >>> x_hat, likelihood = net(torch.zeros(2, 16, 4, 4))
    >>> x_hat.shape, likelihood.shape
    (torch.Size([2, 16, 4, 4]), torch.Size([2, 4, 4, 4]))
    """

    def __init__(self, in_channels, n_latents, n_filters, n_blocks, kernel_size, ndim):
        super().__init__()
        self.encoder = _CONV[ndim](in_channels, n_latents, 1)
        self.entropy_bottleneck = EntropyBottleneck(n_latents)
        self.linear_decoder = _CONV[ndim](n_latents, in_channels, 1)
        layers = [_conv(ndim, n_latents, n_filters, kernel_size), nn.GELU()]
        layers += [_ResidualBlock(n_filters, ndim, kernel_size) for _ in range(n_blocks)]
        layers += [nn.GELU(), _CONV[ndim](n_filters, in_channels, 1)]
        self.decoder = nn.Sequential(*layers)
        nn.init.zeros_(self.decoder[-1].weight)
        nn.init.zeros_(self.decoder[-1].bias)

    def encode(self, x):
        return self.encoder(x)

    def decode(self, y_hat):
        return self.linear_decoder(y_hat) + self.decoder(y_hat)

    def forward(self, x):
        y_hat, likelihood = self.entropy_bottleneck(self.encode(x))
        return self.decode(y_hat), likelihood


class _ResidualUnit1d(nn.Module):
    """SoundStream's residual unit: dilated 7-tap convolution, then 1 x 1."""

    def __init__(self, channels, dilation):
        super().__init__()
        self.body = nn.Sequential(
            nn.ELU(),
            nn.Conv1d(channels, channels, 7, dilation=dilation, padding=3 * dilation),
            nn.ELU(),
            nn.Conv1d(channels, channels, 1),
        )

    def forward(self, x):
        return x + self.body(x)


class SoundStreamEncoder(nn.Module):
    """SoundStream's encoder at any size: residual units, then a strided convolution per block.

    Channels double at every block, from ``channels`` to ``channels * 2 **
    len(strides)``; the output ``(n, latent_dim, length / prod(strides))``.

    Examples
    --------
    >>> import torch
    >>> SoundStreamEncoder(4, (2, 5), 6)(torch.zeros(1, 1, 40)).shape
    torch.Size([1, 6, 4])
    """

    def __init__(self, channels, strides, latent_dim, dilations=(1, 3, 9)):
        super().__init__()
        layers = [nn.Conv1d(1, channels, 7, padding=3)]
        width = channels
        for stride in strides:
            layers += [_ResidualUnit1d(width, d) for d in dilations]
            layers += [
                nn.ELU(),
                nn.Conv1d(width, 2 * width, 2 * stride, stride=stride, padding=(stride + 1) // 2),
            ]
            width *= 2
        layers += [nn.ELU(), nn.Conv1d(width, latent_dim, 3, padding=1)]
        self.layers = nn.Sequential(*layers)

    def forward(self, x):
        return self.layers(x)


class SoundStreamDecoder(nn.Module):
    """The mirror image of :class:`SoundStreamEncoder`, with transposed convolutions.

    Examples
    --------
    >>> import torch
    >>> SoundStreamDecoder(4, (2, 5), 6)(torch.zeros(1, 6, 4)).shape
    torch.Size([1, 1, 40])
    """

    def __init__(self, channels, strides, latent_dim, dilations=(1, 3, 9)):
        super().__init__()
        width = channels * 2 ** len(strides)
        layers = [nn.Conv1d(latent_dim, width, 7, padding=3)]
        for stride in reversed(strides):
            layers += [
                nn.ELU(),
                nn.ConvTranspose1d(
                    width,
                    width // 2,
                    2 * stride,
                    stride=stride,
                    padding=(stride + 1) // 2,
                    output_padding=stride % 2,
                ),
            ]
            width //= 2
            layers += [_ResidualUnit1d(width, d) for d in dilations]
        layers += [nn.ELU(), nn.Conv1d(width, 1, 7, padding=3)]
        self.layers = nn.Sequential(*layers)

    def forward(self, z):
        return self.layers(z)


_LOG_MIN_MAGNITUDE, _LOG_MAX_MAGNITUDE = float(np.log(1e-6)), float(np.log(1e3))


class SoundStreamISTFTDecoder(nn.Module):
    """A decoder that predicts short-time spectra and inverts them (Vocos, Siuzdak 2023).

    At the latent frame rate (no upsampling): a 7-tap convolution to
    ``channels * 2 ** len(strides)`` channels, the residual units of
    :class:`SoundStreamDecoder` (``dilations`` once per stride), then a 1 x 1
    convolution to a log magnitude and a phase for each of the ``n_fft / 2 +
    1`` bins of a Hann-windowed STFT of ``n_fft = 4 * prod(strides)`` hopping
    by ``prod(strides)``; magnitudes are kept within ``[1e-6, 1e3]`` (the
    module's signals are standardized). The inverse STFT gives ``prod(strides)``
    samples per latent frame, as :class:`SoundStreamDecoder` does, for a
    fraction of its work.

    Examples
    --------
    >>> import torch
    >>> SoundStreamISTFTDecoder(4, (2, 5), 6)(torch.zeros(1, 6, 4)).shape
    torch.Size([1, 1, 40])
    """

    def __init__(self, channels, strides, latent_dim, dilations=(1, 3, 9)):
        super().__init__()
        self.hop = int(np.prod(strides))
        self.n_fft = 4 * self.hop
        width = channels * 2 ** len(strides)
        layers = [nn.Conv1d(latent_dim, width, 7, padding=3)]
        layers += [_ResidualUnit1d(width, d) for _ in strides for d in dilations]
        layers += [nn.ELU(), nn.Conv1d(width, self.n_fft + 2, 1)]
        self.layers = nn.Sequential(*layers)
        self.register_buffer("window", torch.hann_window(self.n_fft), persistent=False)

    def forward(self, z):
        out = self.layers(z)
        # a centred STFT of T hops has T + 1 frames: the last one repeated
        out = torch.cat([out, out[:, :, -1:]], dim=2)
        bins = self.n_fft // 2 + 1
        # bounded in the log domain: exp's gradient would overflow before a cap after it, and
        # magnitudes that underflow to 0 make silent frames whose |STFT| has no gradient
        magnitude = torch.exp(out[:, :bins].clamp(_LOG_MIN_MAGNITUDE, _LOG_MAX_MAGNITUDE))
        spectrum = torch.polar(magnitude, out[:, bins:])
        length = z.shape[-1] * self.hop
        x = torch.istft(spectrum, self.n_fft, self.hop, window=self.window, length=length)
        return x[:, None]


class SoundStreamNet(nn.Module):
    """Encoder, residual vector quantizer (straight-through) and decoder.

    Without codebooks (:meth:`set_codebooks` not called) the latents pass
    unquantized: the autoencoder is pre-trained that way, then the codebooks
    of a fitted :class:`~skcompress.ResidualVQ` are installed and training
    goes on through the quantizer with a straight-through gradient and a
    commitment loss. ``quantizer_dropout`` decodes each training signal with
    a random number of stages, so one model serves every bitrate.

    With ``ema_decay``, the codebooks follow the encoder in training, stage
    by stage (SoundStream, EnCodec): every codeword is the exponential moving
    average (``ema_decay``) of the residuals assigned to it, counts
    Laplace-smoothed, and a codeword that no residual chose in
    ``reseed_after`` consecutive batches is re-seeded with a random residual
    of the batch. ``ema_decay=None``: the installed codebooks stay fixed.

    ``decoder``: "convolutional", :class:`SoundStreamDecoder`; "istft",
    :class:`SoundStreamISTFTDecoder`.

    Examples
    --------
    >>> import torch
    >>> net = SoundStreamNet(4, (2, 5), 6)
    >>> x_hat, commitment = net(torch.zeros(2, 1, 40))
    >>> x_hat.shape, float(commitment)
    (torch.Size([2, 1, 40]), 0.0)
    >>> SoundStreamNet(4, (2, 5), 6, decoder="istft").decoder.n_fft
    40
    """

    def __init__(
        self,
        channels,
        strides,
        latent_dim,
        quantizer_dropout=True,
        ema_decay=None,
        reseed_after=8,
        decoder="convolutional",
    ):
        super().__init__()
        self.encoder = SoundStreamEncoder(channels, strides, latent_dim)
        decoders = {"convolutional": SoundStreamDecoder, "istft": SoundStreamISTFTDecoder}
        self.decoder = decoders[decoder](channels, strides, latent_dim)
        self.quantizer_dropout = bool(quantizer_dropout)
        self.ema_decay = None if ema_decay is None else float(ema_decay)
        self.reseed_after = int(reseed_after)
        self.register_buffer("codebooks", torch.zeros(0, 0, latent_dim))
        self.register_buffer("ema_counts", torch.zeros(0, 0))
        self.register_buffer("ema_sums", torch.zeros(0, 0, latent_dim))
        self.register_buffer("idle", torch.zeros(0, 0, dtype=torch.long))

    def set_codebooks(self, codebooks):
        """Install ``(n_stages, codebook_size, latent_dim)`` codebooks (buffers, not weights).

        The moving averages restart from them, each codeword counting once.
        """
        device = self.codebooks.device
        books = torch.as_tensor(np.asarray(codebooks), dtype=torch.float32).to(device)
        self.codebooks = books.clone()
        self.ema_counts = torch.ones(books.shape[:2], device=device)
        self.ema_sums = books.clone()
        self.idle = torch.zeros(books.shape[:2], dtype=torch.long, device=device)

    @torch.no_grad()
    def _follow(self, s, residual, labels):
        """EMA update of stage ``s`` from the batch's residuals, then dead codes re-seeded."""
        K = self.codebooks.shape[1]
        decay = self.ema_decay
        counts = torch.bincount(labels, minlength=K).to(residual.dtype)
        sums = torch.zeros_like(self.ema_sums[s]).index_add_(0, labels, residual)
        self.ema_counts[s].mul_(decay).add_(counts, alpha=1 - decay)
        self.ema_sums[s].mul_(decay).add_(sums, alpha=1 - decay)
        total = self.ema_counts[s].sum()
        smoothed = (self.ema_counts[s] + 1e-5) / (total + K * 1e-5) * total
        self.codebooks[s] = self.ema_sums[s] / smoothed[:, None]
        self.idle[s] += 1
        self.idle[s][counts > 0] = 0
        dead = torch.nonzero(self.idle[s] >= self.reseed_after)[:, 0]
        if dead.numel():
            picked = residual[torch.randint(0, len(residual), (dead.numel(),))]
            self.codebooks[s, dead] = picked
            self.ema_sums[s, dead] = picked
            self.ema_counts[s, dead] = 1.0
            self.idle[s, dead] = 0

    def quantize(self, z, n_stages=None):
        """Greedy residual quantization of ``(n, latent_dim, frames)``: partial sums per stage.

        Returns the quantized latents after ``n_stages`` stages (all when
        None); in training mode with ``quantizer_dropout``, each signal gets
        its own random number of stages, and with ``ema_decay`` every stage's
        codebook moves towards the residuals it coded (all stages, all
        signals).
        """
        S = self.codebooks.shape[0]
        n, D, T = z.shape
        vectors = z.transpose(1, 2).reshape(-1, D)
        residual = vectors
        partial = []
        total = torch.zeros_like(vectors)
        follow = self.training and self.ema_decay is not None
        for s in range(S):
            book = self.codebooks[s]
            distance = (residual**2).sum(1, keepdim=True) - 2 * residual @ book.T
            labels = (distance + (book**2).sum(1)).argmin(dim=1)
            chosen = book[labels]  # a copy: the update below rewrites the book
            if follow:
                self._follow(s, residual.detach(), labels)
            total = total + chosen
            residual = residual - chosen
            partial.append(total)
        stacked = torch.stack(partial, dim=1).reshape(n, T, S, D)
        if self.training and self.quantizer_dropout:
            stages = torch.randint(0, S, (n,), device=z.device)
        else:
            stages = torch.full((n,), S - 1 if n_stages is None else n_stages - 1, device=z.device)
        picked = stacked[torch.arange(n, device=z.device), :, stages]
        return picked.transpose(1, 2)

    def forward(self, x):
        z = self.encoder(x)
        if self.codebooks.shape[0] == 0:
            return self.decoder(z), z.new_zeros(())
        q = self.quantize(z.detach())
        commitment = F.mse_loss(z, q)
        z_q = z + (q - z).detach()
        return self.decoder(z_q), commitment
