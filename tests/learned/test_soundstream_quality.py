"""SoundStreamCodec's training: codebooks that follow the encoder, spectral losses, guarantees."""

import numpy as np
import pytest
import torch

from skcompress.learned._audio import SoundStreamCodec, WaveformLoss, mel_filterbank
from skcompress.learned._modules import SoundStreamNet
from tests.learned.conftest import QUICK


def voiced(n=12, length=800, rate=8000, seed=0):
    """Speech-like clips: a gliding harmonic tone with formant-ish decay, plus a little noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(length) / rate
    f0 = rng.uniform(100, 250, (n, 1)) * (1 + 0.3 * t / t[-1] * rng.uniform(-1, 1, (n, 1)))
    phase = 2 * np.pi * np.cumsum(f0, axis=1) / rate
    harmonics = sum(np.sin(h * phase) / h for h in range(1, 9))
    envelope = np.sin(np.pi * t / t[-1]) ** 2
    clips = 0.5 * harmonics * envelope + 0.01 * rng.normal(size=(n, length))
    return clips.astype(np.float32)


def lsd(x, x_hat, n_fft=128, hop=32):
    """Mean log-spectral distance (dB) over frames, powers floored 60 dB below the peak."""
    frames = np.lib.stride_tricks.sliding_window_view(x, n_fft, axis=1)[:, ::hop]
    frames_hat = np.lib.stride_tricks.sliding_window_view(x_hat, n_fft, axis=1)[:, ::hop]
    window = np.hanning(n_fft)
    P = np.abs(np.fft.rfft(frames * window)) ** 2
    Q = np.abs(np.fft.rfft(frames_hat * window)) ** 2
    floor = 1e-6 * P.max(axis=(1, 2), keepdims=True) + 1e-20
    d = 10 * np.log10(P + floor) - 10 * np.log10(Q + floor)
    return float(np.sqrt(np.mean(d**2, axis=2)).mean())


TINY = {
    "channels": 4,
    "strides": (2, 5),
    "latent_dim": 4,
    "batch_size": 4,
    "lr": 5e-3,
    "patch_size": 400,
    **QUICK,
}


@pytest.fixture(scope="module")
def codec():
    return SoundStreamCodec(3, 4, pretrain_epochs=6, max_epochs=16, **TINY).fit(voiced())


def test_more_stages_decode_strictly_better_and_codes_stay_in_use(codec):
    X = voiced()
    codes = codec.transform(X)
    distances = [lsd(X, codec.inverse_transform(codes, n_stages=k)) for k in (1, 2, 3)]
    # quantizer dropout trains the decoder on every prefix of the stages
    # (measured here: 9.71, 8.17, 7.93 dB)
    assert distances[1] < distances[0] - 0.1 and distances[2] < distances[1] - 0.1, distances
    # dead codewords are re-seeded: every stage uses all its 4 codewords
    blocks = codes.reshape(len(X), -1, 3)
    used = [np.unique(blocks[:, :, s]).size for s in range(3)]
    assert min(used) == 4, used
    assert codec.quantizer_.perplexity_.min() > 2.5, codec.quantizer_.perplexity_
    np.testing.assert_array_equal(
        codec.quantizer_.codebook_usage_.sum(axis=1), [blocks.shape[0] * blocks.shape[1]] * 3
    )


def test_codebooks_follow_the_encoder_and_the_quantizer_uses_them(codec):
    X = voiced()
    books = codec.module_.codebooks.numpy()
    np.testing.assert_array_equal(codec.quantizer_.codebooks_, books)
    # the codebooks moved from the k-means start (the moving averages count
    # more than the one count each codeword started with)
    assert codec.module_.ema_counts.sum() > 1.5 * books.shape[0] * books.shape[1]
    # the bitstreams decode to what the codes decode to
    for k in (1, 3):
        np.testing.assert_array_equal(
            codec.decompress(codec.compress(X, n_stages=k)),
            codec.inverse_transform(codec.transform(X), n_stages=k),
        )
    parts = {key for row in codec.net_.history for key in row}
    assert {"distortion", "spectral", "mel", "commitment"} <= parts


def test_ema_update_is_the_mean_of_the_assigned_residuals():
    torch.manual_seed(0)
    net = SoundStreamNet(2, (2,), 2, quantizer_dropout=False, ema_decay=0.0, reseed_after=100)
    net.set_codebooks(np.array([[[-1.0, 0.0], [1.0, 0.0]]], dtype=np.float32))
    z = torch.tensor([[[-2.0, -0.5, 3.0, 0.5]], [[1.0, 1.0, -1.0, -1.0]]]).transpose(0, 1)
    net.train()
    net.quantize(z)  # frames (-2, 1), (-0.5, 1), (3, -1), (0.5, -1)
    # decay 0: each codeword becomes the mean of its frames (counts smoothed by 1e-5)
    np.testing.assert_allclose(
        net.codebooks[0].numpy(), [[-1.25, 1.0], [1.75, -1.0]], rtol=1e-4, atol=1e-5
    )
    np.testing.assert_array_equal(net.ema_counts[0].numpy(), [2.0, 2.0])
    frozen = SoundStreamNet(2, (2,), 2, ema_decay=None)
    frozen.set_codebooks(np.array([[[-1.0, 0.0], [1.0, 0.0]]], dtype=np.float32))
    frozen.train()
    frozen.quantize(z)
    np.testing.assert_array_equal(frozen.codebooks[0].numpy(), [[-1.0, 0.0], [1.0, 0.0]])


def test_dead_codewords_are_reseeded_with_residuals_of_the_batch():
    torch.manual_seed(0)
    net = SoundStreamNet(2, (2,), 2, quantizer_dropout=False, ema_decay=0.99, reseed_after=3)
    far = np.array([[[0.0, 0.0], [100.0, 100.0]]], dtype=np.float32)
    net.set_codebooks(far)
    z = torch.randn(4, 2, 8)
    frames = z.transpose(1, 2).reshape(-1, 2)
    net.train()
    for _ in range(2):
        net.quantize(z)
    assert net.codebooks[0, 1].tolist() == pytest.approx([100.0, 100.0], abs=1e-3)  # kept
    net.quantize(z)
    reseeded = net.codebooks[0, 1]
    assert torch.isclose(frames, reseeded).all(dim=1).any()  # one of the batch's frames
    assert int(net.idle[0, 1]) == 0 and float(net.ema_counts[0, 1]) == 1.0
    net.eval()
    before = net.codebooks.clone()
    net.quantize(z)
    assert torch.equal(net.codebooks, before)  # no update outside training


def test_mel_and_spectral_losses():
    bank = mel_filterbank(512, 64, 8000)
    assert bank.shape == (64, 257) and (bank.max(axis=1) > 0).all()
    # band centres rise along the mel scale, first to last below Nyquist
    centres = bank.argmax(axis=1)
    assert (np.diff(centres) >= 0).all() and centres[-1] < 257
    torch.manual_seed(0)
    x = torch.randn(2, 1, 1024)
    loss = WaveformLoss(spectral_weight=1.0, mel_weight=1.0, waveform_weight=0.0)
    zero, parts = loss((x, torch.tensor(0.0)), x)
    assert float(zero) == 0.0 and float(parts["mel"]) == 0.0
    near, _ = loss((x + 0.01 * torch.randn_like(x), torch.tensor(0.0)), x)
    far, parts = loss((0.3 * x, torch.tensor(0.0)), x)
    assert 0 < float(near) < float(far)
    assert float(parts["distortion"]) > 0  # recorded even at weight 0
    with pytest.raises(ValueError, match="ema_decay"):
        SoundStreamCodec(ema_decay=1.0, **TINY).fit(voiced())
