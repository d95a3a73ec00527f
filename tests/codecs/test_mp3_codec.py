"""MP3Codec: Layer III's power-law quantizer, rate and distortion loops, real bitstreams."""

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from skcompress.codecs._mp3_codec import MP3Codec

RATE = 8000


def _signals(n=12, length=4000, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(length) / RATE
    tones = np.sin(2 * np.pi * rng.uniform(150, 3000, (n, 3, 1)) * t).sum(axis=1)
    return 0.2 * tones + 0.01 * rng.standard_normal((n, length))


@pytest.fixture(scope="module")
def fitted():
    X = _signals()
    codecs = {br: MP3Codec(bitrate=br, frame_length=576).fit(X) for br in (8, 24)}
    cbr = {br: MP3Codec(bitrate=br, frame_length=576, rate_control="cbr").fit(X) for br in (8, 24)}
    return X, codecs, cbr


@parametrize_with_checks([MP3Codec(**p) for p in MP3Codec.get_test_params()])
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_power_law_quantizer_is_the_standards(fitted):
    X, codecs, _ = fitted
    codec = codecs[24]
    types, coefs, _, _ = codec._analyse(X[:2])
    B = len(codec.band_edges_) - 1
    gain = np.full(len(coefs), -40)
    sf = np.tile(np.arange(B) % 3, (len(coefs), 1))
    S = codec._symbols(types, coefs, gain, sf)
    steps = 2.0 ** ((gain[:, None] - 2 * sf) / 4)
    steps = np.repeat(steps, np.diff(codec.band_edges_), axis=-1)
    # ISO 11172-3: ix = nint(|xr / step| ** 0.75 - 0.0946), xr' = sign ix ** (4/3) step
    ix = np.sign(coefs) * np.rint(np.abs(coefs / steps) ** 0.75 - 0.0946)
    np.testing.assert_array_equal(S[:, 2 + B :], ix)
    np.testing.assert_allclose(
        codec._dequantize(S), np.sign(ix) * np.abs(ix) ** (4 / 3) * steps, rtol=1e-12
    )


def test_rate_loop_keeps_frames_under_the_budget_and_bitstreams_decode(fitted):
    X, _, codecs = fitted
    test = _signals(n=4, seed=1)
    for bitrate, codec in codecs.items():
        S = np.asarray(codec.transform(test))
        P = codec._positions()
        bits = codec._code_lengths(S.reshape(-1, P))
        # the reservoir lends only what earlier frames of the signal saved
        spent = np.cumsum(bits.reshape(len(test), -1), axis=-1)
        allowed = codec.frame_bits_ * np.arange(1, codec.n_frames_ + 1)
        assert np.all(spent <= allowed + 1e-6), bitrate
        assert np.any(bits > codec.frame_bits_)  # some frame borrowed
        strings = codec.compress(test)
        np.testing.assert_allclose(codec.decompress(strings), codec.inverse_transform(S))
        payload = np.mean([len(s) for s in strings]) * 8
        seconds = test.shape[1] / RATE
        assert payload / seconds / 1000 < bitrate * 1.1


def test_average_rate_moves_bits_to_where_the_signal_is(fitted):
    # half silence, half tones: the tones get the silent half's bits
    _, codecs, cbr = fitted
    test = _signals(n=4, seed=3)
    test[:, :2000] = 0
    for bitrate, codec in codecs.items():
        S = np.asarray(codec.transform(test)).reshape(-1, codec._positions())
        bits = codec._code_lengths(S).reshape(len(test), -1)
        # the whole signal within its budget, to the bits of the side information
        assert np.all(bits.sum(axis=1) <= codec.frame_bits_ * codec.n_frames_ + 64), bitrate
        assert np.all(bits[:, -4:].mean(axis=1) > 1.3 * codec.frame_bits_), bitrate
        error = {}
        for name, c in (("abr", codec), ("cbr", cbr[bitrate])):
            error[name] = np.sum((c.decompress(c.compress(test)) - test) ** 2)
        assert error["abr"] < error["cbr"], bitrate


def test_bitstreams_hold_a_mask_of_short_frames_and_refuse_what_contradicts_it():
    from skcompress.entropy import _coder

    X, at = _click_track()
    codec = MP3Codec(bitrate=16, frame_length=576).fit(X)
    strings = codec.compress(X)
    S = np.asarray(codec.transform(X))
    np.testing.assert_allclose(codec.decompress(strings), codec.inverse_transform(S))
    (size,), payload = _coder.unpack(strings[0], _coder.KIND_MP3, 1, codec._fingerprint, "t")
    head = -(-codec.n_frames_ // 8)
    short = np.unpackbits(np.frombuffer(payload[:head], np.uint8))[: codec.n_frames_]
    types = S[0].reshape(codec.n_frames_, -1)[:, 0]
    np.testing.assert_array_equal(short, types == 2)
    # a well-sealed stream whose mask disagrees with its frames' types
    flipped = bytes([payload[0] ^ 0x80]) + payload[1:]
    forged = _coder.pack(_coder.KIND_MP3, [size], flipped, codec._fingerprint)
    with pytest.raises(ValueError, match="MP3Codec"):
        codec.decompress([forged])
    with pytest.raises(ValueError, match="checksum"):
        codec.decompress([strings[0][:-1]])


def test_without_reservoir_every_frame_fits_its_own_budget():
    X = _signals(n=6)
    codec = MP3Codec(bitrate=8, frame_length=576, rate_control="cbr", reservoir=False).fit(X)
    S = np.asarray(codec.transform(X)).reshape(-1, codec._positions())
    bits = codec._code_lengths(S)
    assert np.all(bits <= codec.frame_bits_ + 1e-9)


@pytest.mark.parametrize("control", ["abr", "cbr"])
def test_more_bits_less_noise_and_noise_under_the_mask_where_bits_allow(fitted, control):
    X, codecs, cbr = fitted
    codecs = codecs if control == "abr" else cbr
    test = _signals(n=4, seed=2)
    snr = {}
    for bitrate, codec in codecs.items():
        X_hat = codec.decompress(codec.compress(test))
        snr[bitrate] = 10 * np.log10((test**2).sum() / ((test - X_hat) ** 2).sum())
    assert snr[24] > snr[8] + 6
    # at 24 kbit/s these three tones fit: nearly every band's noise under the mask
    codec = codecs[24]
    _, coefs, xmin, _ = codec._analyse(test)
    S = np.asarray(codec.transform(test)).reshape(len(coefs), -1)
    error = (codec._dequantize(S) - coefs) ** 2
    noise = np.add.reduceat(error, codec.band_edges_[:-1], axis=-1)
    assert np.mean(noise <= xmin) > 0.9
    # at 8 kbit/s the distortion loop raised scale factors
    tight = np.asarray(codecs[8].transform(test)).reshape(len(coefs), -1)
    assert tight[:, 2 : 1 + len(codec.band_edges_)].max() > 0


@pytest.mark.parametrize(
    "name, X",
    [
        ("silence", np.zeros((2, 4000))),
        ("clipping", np.clip(_signals(n=2) * 10, -1, 1)),
        ("dc offset", _signals(n=2) + 0.5),
    ],
)
def test_hard_signals_decode_finite(fitted, name, X):
    codec = fitted[1][8]
    X_hat = codec.decompress(codec.compress(X))
    assert X_hat.shape == X.shape and np.all(np.isfinite(X_hat)), name
    if name == "silence":
        assert not X_hat.any()


def test_bad_input_raises_clear_errors(fitted):
    codec = fitted[1][8]
    with pytest.raises(ValueError, match="sample_rate"):
        MP3Codec(sample_rate=10000).fit(_signals(n=2))
    with pytest.raises(ValueError, match="NaN|infinity"):
        codec.transform(np.full((1, 4000), np.nan))
    with pytest.raises(ValueError, match="frame_length"):
        MP3Codec(frame_length=576).fit(np.zeros((3, 1)))
    with pytest.raises(ValueError, match="symbols of shape"):
        codec.inverse_transform(np.zeros((1, 5), dtype=int))
    with pytest.raises(ValueError, match="2-D array"):
        codec.transform(np.zeros((1, 4000, 2)))


def _click_track(n=3, length=6000, seed=5):
    """Quiet tones with a loud click: the pre-echo case that short blocks exist for."""
    rng = np.random.default_rng(seed)
    X = 0.01 * _signals(n=n, length=length, seed=seed)
    at = rng.integers(2000, 4000, n)
    X[np.arange(n), at] += 0.9
    X[np.arange(n), at + 1] -= 0.6
    return X, at


def test_transients_switch_to_short_blocks_with_start_and_stop_windows():
    from skcompress.codecs._mp3_codec import _bases

    X, at = _click_track()
    codec = MP3Codec(bitrate=24, frame_length=576).fit(X)
    types = codec._analyse(X)[0].reshape(len(X), -1)
    M = 288
    for row, sample in zip(types, at, strict=True):
        frames = np.flatnonzero(row == 2)
        assert frames.size, row
        # the short frames cover the click: frame f spans samples [(f - 1) M, (f + 1) M)
        assert np.any(((frames - 1) * M <= sample) & (sample < (frames + 1) * M))
        # every short run has a start window before it and a stop window after it
        # (-1: beyond the signal, where the padding overlaps nothing)
        padded = np.concatenate([[-1], row, [-1]])
        for f in np.flatnonzero(padded[1:-1] == 2) + 1:
            assert padded[f - 1] in (-1, 1, 2) and padded[f + 1] in (-1, 2, 3)
        assert set(np.unique(row)) <= {0, 1, 2, 3}
    # away from transients, long blocks
    assert np.mean(types == 0) > 0.5
    # every window sequence decodes exactly: TDAC across long, start, short and stop
    rng = np.random.default_rng(0)
    Y = rng.standard_normal((2, 3000))
    F, bases = -(-3000 // M) + 1, _bases(M, True)
    sequence = np.array([0, 1, 2, 3, 1, 2, 2, 3, 0, 1, 2, 3][:F])
    padded = np.zeros((2, (F + 1) * M))
    padded[:, M : M + 3000] = Y
    frames = np.lib.stride_tricks.sliding_window_view(padded, 2 * M, axis=1)[:, ::M][:, :F]
    windowed = np.stack([frames[:, f] @ bases[t] @ bases[t].T for f, t in enumerate(sequence)], 1)
    hops = windowed[:, 1:, :M] + windowed[:, :-1, M:]
    np.testing.assert_allclose(hops.reshape(2, -1)[:, :3000], Y, atol=1e-10)


def test_short_blocks_keep_the_noise_near_the_transient():
    # pre-echo: the quantization noise before the click, in the quiet part
    X, at = _click_track(n=4, seed=6)
    errors = {}
    for switching in (True, False):
        codec = MP3Codec(bitrate=16, frame_length=576, block_switching=switching).fit(X)
        error = codec.decompress(codec.compress(X)) - X
        before = [np.sum(e[a - 288 : a - 40] ** 2) for e, a in zip(error, at, strict=True)]
        errors[switching] = np.sum(before)
    assert errors[True] < errors[False] / 2


def test_block_switching_needs_frames_of_six():
    with pytest.raises(ValueError, match="multiple of 6"):
        MP3Codec(frame_length=256).fit(_signals(n=2))
    codec = MP3Codec(frame_length=256, block_switching=False).fit(_signals(n=2))
    S = np.asarray(codec.transform(_signals(n=1)))
    assert not S.reshape(codec.n_frames_, -1)[:, 0].any()  # long blocks only


def test_symbols_out_of_range_and_malformed_streams_are_refused(fitted):
    from sklearn.exceptions import NotFittedError

    from skcompress.entropy import _coder

    codec = fitted[1][8]
    X = _signals(n=2, seed=4)
    S = np.asarray(codec.transform(X), dtype=np.int64).reshape(2, codec.n_frames_, -1)
    B = len(codec.band_edges_) - 1
    for column, value in ((1, 2**62), (2, -1), (2, 16), (2 + B, 8207)):
        bad = S.copy()
        bad[0, 3, column] = value
        with pytest.raises(ValueError, match="out of range"):
            codec.inverse_transform(bad.reshape(2, -1))
    bad = S.copy()
    bad[0, 3, 1], bad[0, 3, 2 + B] = 4096, 8206  # in range, but beyond float64 together
    with pytest.raises(ValueError, match="beyond float64"):
        codec.inverse_transform(bad.reshape(2, -1))
    # a resealed stream whose mask sets the padding bits past the last frame
    strings = codec.compress(X)
    (size,), payload = _coder.unpack(strings[0], _coder.KIND_MP3, 1, codec._fingerprint, "t")
    head = -(-codec.n_frames_ // 8)  # the mask's last bit is padding: frame 8 head - 1
    padded = payload[: head - 1] + bytes([payload[head - 1] | 1]) + payload[head:]
    if codec.n_frames_ % 8:
        forged = _coder.pack(_coder.KIND_MP3, [size], padded, codec._fingerprint)
        with pytest.raises(ValueError, match="mask of short frames"):
            codec.decompress([forged])
    assert codec.decompress([]).shape == (0, X.shape[1])
    with pytest.raises(NotFittedError):
        MP3Codec().compress(X)
