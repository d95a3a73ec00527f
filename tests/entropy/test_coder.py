"""The range coder plumbing: termination, escapes, big indices, the bitstream container."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skcompress.entropy import _coder


@settings(max_examples=200, deadline=None)
@given(
    st.integers(0, 300),
    st.integers(2, 40),
    st.floats(0.02, 3.0),
    st.integers(0, 2**32 - 1),
)
def test_sealed_stream_decodes_exactly_and_costs_little(n, width, concentration, seed):
    rng = np.random.default_rng(seed)
    rows = rng.dirichlet(np.full(width, concentration), size=n).astype(np.float32)
    rows = np.maximum(rows, 1e-6)  # as every model's rows: no zero-probability symbol coded
    symbols = np.array([rng.choice(width, p=r / r.sum()) for r in rows], dtype=np.int32)
    plan = _coder.StreamPlan(1)
    plan.add(0, np.arange(n), 0, symbols, np.arange(n))
    (payload,) = plan.encode([rows])
    decoded = _coder.Reader(payload).categorical(rows)
    np.testing.assert_array_equal(decoded, symbols)
    ideal = -np.log2(rows[np.arange(n), symbols] / rows.sum(axis=1)).sum()
    # termination: the shortest byte string in the final interval, not a whole word
    assert 8 * len(payload) <= ideal + 16 + 1e-3 * n


def test_termination_costs_about_four_bits_on_average():
    rng = np.random.default_rng(0)
    rows = np.full((100, 8), 1 / 8, dtype=np.float32)  # 3 bits each, 300 bits
    waste = []
    for _ in range(300):
        plan = _coder.StreamPlan(1)
        plan.add(0, np.arange(100), 0, rng.integers(0, 8, 100), np.arange(100))
        waste.append(8 * len(plan.encode([rows])[0]) - 300)
    assert 0 <= np.mean(waste) < 6


def test_streams_in_one_plan_are_independent_and_ordered_by_key():
    rows = np.array([[0.5, 0.5], [0.9, 0.1]], dtype=np.float32)
    plan = _coder.StreamPlan(3)
    # queued out of order: stream 2 first, keys descending
    plan.add([2, 2, 0], [5, 1, 0], 0, [1, 0, 1], [0, 1, 0])
    plan.add([0, 2], [1, 3], [_coder.UNIFORM, _coder.GAMMA], [6, 2], [7, 0])
    payloads = plan.encode([rows])
    assert payloads[1] == b""
    r = _coder.Reader(payloads[0])
    assert r.categorical(rows[[0]]).tolist() == [1] and r.uniform([7]).tolist() == [6]
    r = _coder.Reader(payloads[2])
    assert r.categorical(rows[[1]]).tolist() == [0]
    assert r.gamma(1).tolist() == [2] and r.categorical(rows[[0]]).tolist() == [1]


@pytest.mark.parametrize("signed", [False, True])
def test_escapes_round_trip_every_magnitude_bit_length(signed):
    magnitude = np.array(
        [0, 1, 2, 3, 2**16 - 2, 2**16 - 1, 2**31, 2**62, 2**63 - 1, 2**63, 2**64 - 2],
        dtype=np.uint64,
    )
    negative = np.arange(len(magnitude)) % 2 == 1 if signed else None
    prefix, value, size, owner = _coder.escape_symbols(magnitude, negative)
    np.testing.assert_array_equal(_coder.gamma_value(*_coder.gamma_parts(magnitude)), magnitude)
    plan = _coder.StreamPlan(1)
    plan.add(0, np.arange(len(prefix)), _coder.GAMMA, prefix, 0)
    plan.add(0, len(prefix) + np.arange(len(value)), _coder.UNIFORM, value, size)
    (payload,) = plan.encode([])
    back, neg = _coder.read_escapes(_coder.Reader(payload), len(magnitude), signed=signed)
    np.testing.assert_array_equal(back, magnitude)
    if signed:
        np.testing.assert_array_equal(neg, negative)
    else:
        assert neg is None


@pytest.mark.parametrize("size", [1, 2, 3, 2**16, 2**16 + 1, 2**40 + 7, 2**63, 3**100])
def test_index_digits_carry_any_index_at_log2_cost(size):
    sizes, shifts = _coder.index_digits(size)
    if size == 1:
        assert sizes == []
        return
    cost = sum(math.log2(s) for s in sizes)
    assert math.log2(size) <= cost + 1e-9 <= math.log2(size) + 1e-4
    for index in {0, 1 % size, size // 3, size - 1}:
        digits = [
            (index >> s) & ((1 << (z - 1).bit_length()) - 1)
            for z, s in zip(sizes, shifts, strict=True)
        ]
        assert all(0 <= d < z for d, z in zip(digits, sizes, strict=True))
        assert sum(d << s for d, s in zip(digits, shifts, strict=True)) == index


def test_container_checks_kind_checksum_and_length():
    data = _coder.pack(_coder.KIND_CONTEXT, [4, 300, 1, 1, 64], b"\x12\x34", fingerprint=99)
    assert _coder.header_bits(_coder.KIND_CONTEXT, [4, 300, 1, 1, 64]) == 8 * (len(data) - 2)
    fields, payload = _coder.unpack(data, _coder.KIND_CONTEXT, 5, 99, "f")
    assert fields == [4, 300, 1, 1, 64] and payload == b"\x12\x34"
    with pytest.raises(ValueError, match="checksum mismatch"):
        _coder.unpack(data, _coder.KIND_CONTEXT, 5, 98, "f")  # another model
    with pytest.raises(ValueError, match="checksum mismatch"):
        _coder.unpack(data[:-1], _coder.KIND_CONTEXT, 5, 99, "f")
    with pytest.raises(ValueError, match="at least 6 bytes"):
        _coder.unpack(data[:5], _coder.KIND_CONTEXT, 5, 99, "f")
    with pytest.raises(ValueError, match="kind 1"):
        _coder.unpack(data, _coder.KIND_CATEGORICAL, 1, 99, "f")
    with pytest.raises(TypeError, match="bytes; got str"):
        _coder.unpack("abc", _coder.KIND_CONTEXT, 5, 99, "f")


def test_short_seals_are_checked_once_and_whole_words_are_the_fallback(monkeypatch):
    assert _coder._short_seal_works()  # this constriction: short seals decode exactly
    rows = np.full((50, 4), 0.25, dtype=np.float32)
    symbols = np.arange(50) % 4
    plan = _coder.StreamPlan(1)
    plan.add(0, np.arange(50), 0, symbols, np.arange(50))
    short = plan.encode([rows])[0]
    monkeypatch.setattr(_coder, "_SEAL_CHECK", [False])  # as if a release broke them
    whole = plan.encode([rows])[0]
    assert len(whole) % 4 == 0 and len(whole) >= len(short)
    np.testing.assert_array_equal(_coder.Reader(whole).categorical(rows), symbols)
