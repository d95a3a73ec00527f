"""CELTCodec: CELT's bands, energies, allocation, spreading and shapes; streams, refusals."""

import math
import zlib

import numpy as np
import pytest

from skcompress.codecs import _celt
from skcompress.codecs._celt_codec import RADIUS, CELTCodec
from skcompress.quantization import pvq_size

RATE = 8000


def _speech_like(n, length, seed=0):
    """Voiced bursts (harmonics of a varying pitch, decaying) between digital silence."""
    rng = np.random.default_rng(seed)
    t = np.arange(length) / RATE
    X = np.zeros((n, length))
    for i in range(n):
        f0 = rng.uniform(90, 220)
        burst = sum(np.sin(2 * np.pi * h * f0 * t + rng.uniform(0, 6)) / h for h in range(1, 12))
        envelope = np.exp(-((t - 0.25) ** 2) / 0.01)
        X[i] = 6000 * burst * envelope * (np.abs(t - 0.25) < 0.15)
    return X


@pytest.fixture(scope="module")
def data():
    X = _speech_like(14, 4000)
    return X[:10], X[10:]


@pytest.fixture(scope="module")
def codec(data):
    return CELTCodec(bitrate=16, full_scale=32768).fit(data[0])


def _snr(X, Y):
    return 10 * np.log10(np.sum(X**2) / np.sum((X - Y) ** 2))


# -- CELT's layout and tables ---------------------------------------------------------


def test_band_layout_is_celt_s_for_every_rate_and_frame_size():
    edges, lm = _celt.band_layout(8000, 20.0)
    assert lm == 3
    assert edges.tolist() == [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160]
    edges, lm = _celt.band_layout(48000, 20.0)
    assert len(edges) == 22 and edges[-1] == 800  # 21 bands up to 20 kHz of 960 bins
    edges, lm = _celt.band_layout(16000, 10.0)
    assert lm == 2 and len(edges) - 1 == 17 and edges[-1] == 160  # up to 8 kHz
    edges, lm = _celt.band_layout(8000, 2.5)
    assert lm == 0 and edges.tolist() == list(_celt.EBAND_5MS[:14])


def test_allocation_never_exceeds_the_budget_and_grows_with_it():
    widths = np.diff(_celt.band_layout(8000, 20.0)[0])
    budget = np.arange(0, 10000, 37)
    fine, pulses, used = _celt.allocate(budget, widths, 3)
    assert np.all(used <= budget)
    assert np.all(fine >= 0) and np.all(fine <= _celt.MAX_FINE_BITS)
    # what is left over is less than one band's next step, so usage tracks the budget
    assert np.all(budget[budget > 4000] - used[budget > 4000] < 0.1 * budget[budget > 4000])
    assert np.all(np.diff(pulses.sum(axis=1)) >= -2)
    costs = np.stack([_celt.pulse_costs(int(n))[pulses[:, b]] for b, n in enumerate(widths)], 1)
    assert np.array_equal(used, 8 * fine.sum(axis=1) + costs.sum(axis=1))


def test_allocation_follows_celt_s_table_at_its_rows():
    widths = np.diff(_celt.band_layout(8000, 20.0)[0])
    rows = _celt.allocation_rows(widths)
    for r in (3, 6, 9):
        fine, pulses, used = _celt.allocate(rows[r].sum()[None], widths, 3)
        spent = 8 * fine[0] + np.array(
            [_celt.pulse_costs(int(n))[k] for n, k in zip(widths, pulses[0], strict=True)]
        )
        # every band spends its row's bits, give or take what rounding to pulses moves on
        assert np.all(np.cumsum(spent) <= np.cumsum(rows[r]))
        assert np.all(np.cumsum(rows[r]) - np.cumsum(spent) < 8 * 12)


def test_pulse_costs_are_the_codebook_sizes_in_eighths():
    for n in (1, 2, 8, 32):
        costs = _celt.pulse_costs(n)
        for k in (1, 2, 5, 40):
            expected = 8 if n == 1 else math.ceil(8 * math.log2(pvq_size(n, k)))
            assert costs[k] == expected


def _exp_rotation1(x, stride, c, s):
    """celt/vq.c exp_rotation1, as the C code runs it."""
    x = x.copy()
    n = len(x)
    for i in range(n - stride):
        x1, x2 = x[i], x[i + stride]
        x[i + stride] = c * x2 + s * x1
        x[i] = c * x1 - s * x2
    for i in range(n - 2 * stride - 1, -1, -1):
        x1, x2 = x[i], x[i + stride]
        x[i + stride] = c * x2 + s * x1
        x[i] = c * x1 - s * x2
    return x


@pytest.mark.parametrize(
    ("n", "k", "level"),
    [(8, 1, "normal"), (24, 3, "light"), (32, 5, "aggressive"), (5, 1, "normal")],
)
def test_spreading_is_celt_s_exp_rotation_and_its_inverse_undoes_it(n, k, level):
    x = np.random.default_rng(n).normal(size=n)
    factor = {"light": 15, "normal": 10, "aggressive": 5}[level]
    gain = n / (n + factor * k)
    theta = 0.5 * gain**2
    c, s = math.cos(0.5 * math.pi * theta), math.sin(0.5 * math.pi * theta)
    expected = _exp_rotation1(x, 1, c, -s)
    if n >= 8:
        stride2 = 1
        while stride2 * stride2 + stride2 < n:
            stride2 += 1
        expected = _exp_rotation1(expected, stride2, s, -c)
    got = _celt.spread(x[None].copy(), np.array([k]), level)[0]
    assert np.allclose(got, expected)
    back = _celt.spread(got[None].copy(), np.array([k]), level, inverse=True)[0]
    assert np.allclose(back, x)
    # no rotation when 2 K >= N, as CELT
    assert np.array_equal(_celt.spread(x[None].copy(), np.array([n]), level)[0], x)


# -- the coder ------------------------------------------------------------------------


def test_coarse_energies_follow_celt_s_prediction(codec, data):
    X = data[1][:1]
    coefs, active, energies = codec._analyse(X)
    walk = codec._walk(_celt_codec_encoding(active, energies), 1)
    alpha, beta = _celt.PRED_COEF[3], _celt.BETA_COEF[3]  # 20 ms frames: LM = 3
    old = np.zeros(energies.shape[-1])
    was_active = False
    for t in range(codec.n_frames_):
        if not active[0, t]:
            assert not walk["q"][0, t].any()
            was_active = False
            continue
        intra = not was_active
        a, b_coef = (0.0, _celt.BETA_INTRA) if intra else (alpha, beta)
        prev = 0.0
        for b in range(energies.shape[-1]):
            pred = a * max(old[b], -9.0) + prev
            q = min(max(math.floor(0.5 + energies[0, t, b] - pred), -RADIUS), RADIUS)
            assert walk["q"][0, t, b] == q
            prev += q - b_coef * q
        assert walk["intra"][0, t] == intra
        old = walk["E"][0, t]
        # fine energies refine the coarse ones to within half a fine step
        fine_bits = walk["fine_bits"][0, t]
        error = np.abs(walk["E"][0, t] - energies[0, t])
        ok = (fine_bits == 0) | (error <= 0.5 / 2.0**fine_bits + 1e-9)
        assert np.all(ok | (energies[0, t] <= _celt.ENERGY_FLOOR + 1))
        was_active = True


def _celt_codec_encoding(active, energies):
    from skcompress.codecs._celt_codec import _Encoding

    return _Encoding(active, energies)


def test_symbols_hold_each_band_s_pulses(codec, data):
    X = data[1]
    S = np.asarray(codec.transform(X))
    B, M = len(codec.band_edges_) - 1, codec.n_bins_
    assert S.shape == (len(X), codec.n_frames_ * (1 + 2 * B + M)) and S.dtype == np.int64
    frames = S.reshape(len(X), codec.n_frames_, -1)
    coefs, active, energies = codec._analyse(X)
    walk = codec._walk(_celt_codec_encoding(active, energies), len(X))
    Y = frames[..., 1 + 2 * B :]
    sums = np.add.reduceat(np.abs(Y), codec.band_edges_[:-1], axis=-1)
    assert np.array_equal(sums, walk["K"])
    assert np.array_equal(frames[..., 0], active)
    assert not frames[~active].any()
    assert walk["K"][active].max() > 10  # the allocation gives pulses where there is signal


def test_compress_decompress_equals_inverse_transform_and_meets_the_rate(codec, data):
    X = data[1]
    strings = codec.compress(X)
    decoded = codec.decompress(strings)
    assert np.array_equal(decoded, codec.inverse_transform(codec.transform(X)))
    seconds = X.shape[1] / RATE
    kbps = np.array([8 * len(s) for s in strings]) / seconds / 1000
    assert np.all(kbps <= 16.0 + 1e-9) and np.all(kbps > 14.5)
    assert codec.rate(X) == pytest.approx(kbps.mean())
    assert _snr(X, decoded) > 12


def test_quality_grows_with_the_bit_rate(data):
    X_train, X = data
    snrs = []
    for rate in (8, 16, 32):
        codec = CELTCodec(bitrate=rate, full_scale=32768).fit(X_train)
        snrs.append(_snr(X, codec.decompress(codec.compress(X))))
    assert snrs[0] + 3 < snrs[1] < snrs[2] - 3


@pytest.mark.parametrize(
    ("sample_rate", "frame_size", "spread"),
    [(16000, 10.0, "aggressive"), (48000, 5.0, "none"), (8000, 2.5, "light")],
)
def test_other_rates_frame_sizes_and_spreads_round_trip(sample_rate, frame_size, spread):
    t = np.arange(sample_rate // 20) / sample_rate
    X = 0.3 * np.sin(2 * np.pi * np.array([[440.0], [1250.0], [300.0]]) * t)
    codec = CELTCodec(
        bitrate=32, sample_rate=sample_rate, frame_size=frame_size, spread=spread
    ).fit(X)
    decoded = codec.decompress(codec.compress(X))
    assert np.array_equal(decoded, codec.inverse_transform(codec.transform(X)))
    assert _snr(X, decoded) > 10


# -- bad input --------------------------------------------------------------------------


def test_silence_codes_to_flags_and_decodes_to_zeros(codec):
    X = np.zeros((2, 4000))
    strings = codec.compress(X)
    assert all(len(s) <= 16 for s in strings)
    assert np.array_equal(codec.decompress(strings), X)


def test_clipping_dc_offset_and_a_single_sample_decode_to_finite_signals(codec, data):
    clipped = np.clip(data[1] * 20, -32768, 32767)
    dc = data[1] + 8000.0
    for X in (clipped, dc):
        Y = codec.decompress(codec.compress(X))
        assert np.all(np.isfinite(Y)) and _snr(X, Y) > 5
    one = CELTCodec(full_scale=32768).fit(np.array([[1000.0], [-500.0], [0.0]]))
    Y = one.decompress(one.compress(np.array([[1000.0], [0.0]])))
    assert Y.shape == (2, 1) and np.all(np.isfinite(Y)) and Y[1, 0] == 0


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"sample_rate": 44100}, "sample_rate must be one of Opus's rates"),
        ({"frame_size": 7.0}, "frame_size must be one of CELT's"),
    ],
)
def test_settings_celt_lacks_are_refused(data, params, match):
    with pytest.raises(ValueError, match=match):
        CELTCodec(**params).fit(data[0])


def test_no_streams_decode_to_no_signals(codec):
    assert codec.decompress([]).shape == (0, 4000)
    assert codec.inverse_transform(
        np.zeros((0, codec.n_frames_ * codec._positions()), int)
    ).shape == (0, 4000)


def test_nan_and_other_shapes_are_refused(codec, data):
    X = data[1].copy()
    X[0, 5] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        codec.compress(X)
    with pytest.raises(ValueError, match="features"):
        codec.transform(data[1][:, :100])
    with pytest.raises(ValueError, match="2-D array"):
        CELTCodec().fit(np.zeros((2, 3, 4)))


# -- forged symbols and bitstreams ------------------------------------------------------


def test_forged_symbols_are_refused(codec, data):
    S = np.asarray(codec.transform(data[1][:1])).copy()
    B, P = len(codec.band_edges_) - 1, codec._positions()
    frames = S.reshape(1, codec.n_frames_, P)
    t = int(np.flatnonzero(frames[0, :, 0])[3])
    cases = [
        ((0, t, 0), 2, "silence flag"),
        ((0, t, 1), RADIUS + 1, "coarse energy symbols"),
        ((0, t, 1 + B), -1, "fine energy symbols"),
        ((0, t, 1 + 2 * B), 1000, "sum |y_b| must equal K_b"),
    ]
    silent = int(np.flatnonzero(frames[0, :, 0] == 0)[0])
    cases.append(((0, silent, 5), 1, "silent frame"))
    for where, value, match in cases:
        forged = frames.copy()
        forged[where] = value
        with pytest.raises(ValueError, match=match):
            codec.inverse_transform(forged.reshape(1, -1))


def test_truncated_flipped_and_forged_streams_are_refused(codec, data):
    (s,) = codec.compress(data[1][:1])
    with pytest.raises(ValueError, match="checksum|at least 6 bytes"):
        codec.decompress([s[: len(s) // 2]])
    rng = np.random.default_rng(0)
    for _ in range(20):
        flipped = bytearray(s)
        flipped[rng.integers(len(s))] ^= 1 << rng.integers(8)
        with pytest.raises(ValueError, match="checksum|header byte"):
            codec.decompress([bytes(flipped)])
    other = CELTCodec(bitrate=12, full_scale=32768).fit(data[0])
    with pytest.raises(ValueError, match="different model"):
        other.decompress([s])
    # a forged header (right checksum, wrong count of coded frames)
    body = bytearray(s[:-4])
    body[1] += 1
    crc = zlib.crc32(bytes(body), codec._fingerprint & 0xFFFFFFFF)
    with pytest.raises(ValueError, match="silence flags disagree|coded frames"):
        codec.decompress([bytes(body) + crc.to_bytes(4, "little")])
    # forged payloads with the right checksum: refused, or decoded to finite signals
    for seed in range(5):
        payload = np.random.default_rng(seed).bytes(len(s) - 7)
        body = s[:2] + payload
        crc = zlib.crc32(body, codec._fingerprint & 0xFFFFFFFF)
        try:
            Y = codec.decompress([body + crc.to_bytes(4, "little")])
        except ValueError:
            continue
        assert Y.shape == (1, 4000) and np.all(np.isfinite(Y))


def test_fuzzed_streams_never_crash_nor_give_nan(codec, data):
    strings = codec.compress(data[1][:2])
    rng = np.random.default_rng(1)
    for _ in range(30):
        s = bytearray(strings[rng.integers(2)])
        for _ in range(rng.integers(1, 4)):
            s[rng.integers(len(s))] = rng.integers(256)
        try:
            Y = codec.decompress([bytes(s)])
        except ValueError:
            continue
        assert np.all(np.isfinite(Y))
