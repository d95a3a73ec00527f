"""SoundStreamCodec: training learns, stages refine, codes and bitstreams, errors."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError

from skcompress.learned import SoundStreamCodec
from tests.learned.conftest import QUICK

TINY = {"channels": 4, "strides": (2, 5), "latent_dim": 4, "batch_size": 2, "lr": 5e-3, **QUICK}


def tones(n=8, length=403):
    t = np.arange(length) / 8000
    freqs = np.linspace(150, 900, n)
    return (0.5 * np.sin(2 * np.pi * np.outer(freqs, t))).astype(np.float32)


@pytest.fixture(scope="module")
def codec():
    return SoundStreamCodec(3, 8, pretrain_epochs=8, max_epochs=4, **TINY).fit(tones())


def test_training_learns_and_more_stages_decode_better(codec):
    X = tones()
    loss = np.array(codec.net_.history[:, "train_loss"])
    assert codec.n_iter_ == 12 and loss[1:8].min() < 0.9 * loss[0]
    assert codec.quantizer_.codebooks_.shape == (3, 8, 4)
    np.testing.assert_array_equal(codec.module_.codebooks.numpy(), codec.quantizer_.codebooks_)
    # Decoding with k stages sees the ResidualVQ's first k stages of the
    # latents, each trained on the residual of those before: they quantize the
    # latents finer, here by 6% or more a stage (beam search chooses whole
    # paths, so a prefix is not guaranteed better, hence the margin below; the
    # waveform error of a network this small need not follow at all: its
    # decoder is nonlinear).
    frames = codec._latents(codec._module_input(X))
    codes = codec.quantizer_.transform(frames)
    errors = [
        np.mean((codec.quantizer_.inverse_transform(codes, n_stages=k) - frames) ** 2)
        for k in (1, 2, 3)
    ]
    assert errors[1] < 0.98 * errors[0] and errors[2] < 0.98 * errors[1]
    # and decoding with k stages reads nothing of the later ones
    codes = codec.transform(X).reshape(8, -1, 3)
    for k in (1, 2):
        changed = codes.copy()
        changed[:, :, k:] = (codes[:, :, k:] + 1) % 8
        np.testing.assert_array_equal(
            codec.inverse_transform(changed.reshape(8, -1), n_stages=k),
            codec.inverse_transform(codes.reshape(8, -1), n_stages=k),
        )


def test_codes_layouts_and_odd_length(codec):
    X = tones()
    assert codec.n_frames_ == 41  # 403 samples padded to 410, 10 per frame
    codes = codec.transform(X)
    assert codes.dtype == np.uint8 and codes.shape == (8, 41 * 3)
    assert codes.max() < 8
    assert codec.inverse_transform(codes).shape == X.shape
    assert codec.inverse_transform(codes).dtype == np.float32
    blocks = codec.set_params(layout="blocks").transform(X)
    first = codec.set_params(layout="channels_first").transform(X)
    codec.set_params(layout="flat")
    assert blocks.shape == (8, 41, 3) and first.shape == (8, 3, 41)
    np.testing.assert_array_equal(blocks.reshape(8, -1), codes)
    np.testing.assert_array_equal(first.transpose(0, 2, 1), blocks)
    assert codec.get_feature_names_out()[:2].tolist() == ["f0_s0", "f0_s1"]


@pytest.mark.parametrize("n_stages", [1, 3])
def test_bitstreams_round_trip_at_every_bitrate(codec, n_stages):
    X = tones()
    strings = codec.compress(X, n_stages=n_stages)
    np.testing.assert_array_equal(
        codec.decompress(strings), codec.inverse_transform(codec.transform(X), n_stages=n_stages)
    )
    rate = codec.rate(X, n_stages=n_stages)
    assert rate["bits_per_sample"] == np.mean([8 * len(s) for s in strings])
    assert rate["fixed_bits_per_second"] == 800 * n_stages * 3
    assert codec.bits_per_second(n_stages) == 800 * n_stages * 3
    assert codec.bits_per_sample(X, n_stages=n_stages) <= 41 * n_stages * 3 + 8
    with pytest.raises(ValueError, match="different numbers of stages"):
        codec.decompress([strings[0], codec.compress(X[:1], n_stages=2)[0]])


def test_pickled(codec):
    X = tones()
    loaded = pickle.loads(pickle.dumps(codec))
    np.testing.assert_array_equal(loaded.transform(X), codec.transform(X))
    np.testing.assert_array_equal(
        loaded.inverse_transform(codec.transform(X)), codec.inverse_transform(codec.transform(X))
    )


def test_states_saved_before_the_moving_averages_still_load(codec):
    # the state of a codec pickled before its codebooks followed the encoder (no EMA
    # buffers) loads and decodes as the codec did
    state = codec.__getstate__()
    module = dict(state["_net_state"]["module"])
    for key in ("ema_counts", "ema_sums", "idle"):
        del module[key]
    state["_net_state"] = {**state["_net_state"], "module": module}
    old = SoundStreamCodec.__new__(SoundStreamCodec)
    old.__setstate__(state)
    X = tones()
    np.testing.assert_array_equal(old.transform(X), codec.transform(X))
    np.testing.assert_allclose(
        old.inverse_transform(codec.transform(X)), codec.inverse_transform(codec.transform(X))
    )
    np.testing.assert_array_equal(old.module_.ema_sums.numpy(), codec.quantizer_.codebooks_)


def test_int16_pcm_and_without_dropout():
    X = (tones(6, 200) * 20000).astype(np.int16)
    codec = SoundStreamCodec(
        2, 4, pretrain_epochs=1, max_epochs=1, quantizer_dropout=False, **TINY
    )
    decoded = codec.fit(X).inverse_transform(codec.transform(X))
    assert decoded.dtype == np.float32 and 1000 < np.abs(decoded).max() < 1e5


def test_bad_input_gets_clear_errors(codec):
    X = tones()
    with pytest.raises(ValueError, match=r"1-D signals, X of shape \(n_samples, length\)"):
        codec.transform(X[:, None])
    with pytest.raises(ValueError, match="at least prod\\(strides\\)=10 samples"):
        SoundStreamCodec(**TINY).fit(X[:, :7])
    with pytest.raises(ValueError, match="403 features"):
        codec.transform(X[:, :400])
    with pytest.raises(ValueError, match=r"n_stages must be an int in \[1, 3\]"):
        codec.compress(X, n_stages=4)
    with pytest.raises(ValueError, match=r"of shape \(n_samples, 123\)"):
        codec.inverse_transform(np.zeros((2, 5), dtype=np.uint8))
    with pytest.raises(ValueError, match="integer codes"):
        codec.inverse_transform(codec.transform(X).astype(float))
    with pytest.raises(ValueError, match="codebook_size=64 exceeds"):
        SoundStreamCodec(2, 64, pretrain_epochs=0, max_epochs=1, **TINY).fit(X[:2, :100])
    with pytest.raises(ValueError, match="patch_size"):
        SoundStreamCodec(patch_size=15, **TINY).fit(X)


def test_weights_on_disk_and_progress_shown(codec, tmp_path, capsys):
    X = tones()
    path = tmp_path / "w.pt"
    codec.save_params(path, use_safetensors=False)
    loaded = pickle.loads(pickle.dumps(codec))
    with torch.no_grad():
        for p in loaded.module_.parameters():
            p.zero_()
    loaded.load_params(path, use_safetensors=False)
    np.testing.assert_array_equal(loaded.transform(X), codec.transform(X))
    SoundStreamCodec(2, 4, pretrain_epochs=1, max_epochs=1, verbose=1, **TINY).fit(X)
    out = capsys.readouterr().out
    assert "train_loss" in out and "commitment" in out


def test_stages_are_bounded_and_a_failed_fit_is_unfitted():
    # n_stages=10**6 ran for minutes
    with pytest.raises(
        ValueError, match=r"'n_stages' parameter of SoundStreamCodec .* \[1, 256\]"
    ):
        SoundStreamCodec(n_stages=10**6, **TINY).fit(tones())
    codec = SoundStreamCodec(2, 4096, pretrain_epochs=1, max_epochs=1, **TINY)
    with pytest.raises(ValueError, match=r"codebook_size=4096 exceeds the 328 latent frames"):
        codec.fit(tones())  # refused before any training
    assert not hasattr(codec, "net_")
    with pytest.raises(NotFittedError):
        codec.transform(tones())


def test_istft_decoder_trains_and_codes_like_the_convolutional_one():
    X = tones()
    codec = SoundStreamCodec(2, 8, decoder="istft", pretrain_epochs=8, max_epochs=2, **TINY).fit(X)
    assert type(codec.module_.decoder).__name__ == "SoundStreamISTFTDecoder"
    loss = np.array(codec.net_.history[:, "train_loss"])
    assert loss[1:8].min() < 0.9 * loss[0]
    codes = codec.transform(X)
    decoded = codec.inverse_transform(codes)
    assert decoded.shape == X.shape and np.all(np.isfinite(decoded))
    np.testing.assert_allclose(codec.decompress(codec.compress(X)), decoded)
    loaded = pickle.loads(pickle.dumps(codec))
    np.testing.assert_array_equal(loaded.inverse_transform(codes), decoded)
    with pytest.raises(ValueError, match="decoder"):
        SoundStreamCodec(decoder="wavenet").fit(X)
