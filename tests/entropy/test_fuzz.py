"""Bounded fuzzing of bitstreams: a clear ValueError, never a crash, a hang or a wrong array.

Two layers are fuzzed. Corrupted bitstreams as they arrive (truncated, bytes
flipped, inserted or appended) must fail the CRC-32 and raise a ValueError.
Then, to test the decoders behind the checksum, corrupted payloads are
re-sealed with a valid checksum (what a CRC collision would let through):
the decoder must then raise a ValueError or return an array of the declared
shape, never another exception, and in bounded time.
"""

import time

import numpy as np
import pytest

from skcompress.entropy import BlockContextModel, CategoricalEntropyModel, GainShapeModel, _coder
from skcompress.quantization import PyramidVQ

N_MUTATIONS = 150


def _models(mnist_blocks):
    rng = np.random.default_rng(0)
    context = BlockContextModel().fit(mnist_blocks[:200])
    flat = mnist_blocks.reshape(len(mnist_blocks), -1)
    categorical = CategoricalEntropyModel().fit(flat[:200].reshape(-1, 64))
    X = rng.standard_normal((60, 32))
    pvq = PyramidVQ(vector_size=8, pulses=60).fit(X)  # indices beyond int64
    gains = GainShapeModel(pvq.codebook_size_).fit(pvq.transform(X[:40]))
    return {
        "context": (context, mnist_blocks[200:203], _coder.KIND_CONTEXT, 5),
        "categorical": (categorical, flat[200:203], _coder.KIND_CATEGORICAL, 1),
        "gain-shape": (gains, pvq.transform(X[40:43]), _coder.KIND_PYRAMID, 1),
    }


def _mutate(data, rng):
    data = bytearray(data)
    kind = rng.integers(5)
    if kind == 0:  # truncate
        return bytes(data[: rng.integers(len(data))])
    if kind == 1:  # flip one bit
        data[rng.integers(len(data))] ^= 1 << int(rng.integers(8))
        return bytes(data)
    if kind == 2:  # overwrite a few bytes
        for at in rng.integers(len(data), size=rng.integers(1, 4)):
            data[at] = int(rng.integers(256))
        return bytes(data)
    if kind == 3:  # insert a byte
        at = int(rng.integers(len(data) + 1))
        return bytes(data[:at] + bytes([int(rng.integers(256))]) + data[at:])
    return bytes(data) + bytes(rng.integers(256, size=rng.integers(1, 9)).astype(np.uint8))


@pytest.mark.parametrize("name", ["context", "categorical", "gain-shape"])
def test_corrupted_bitstreams_raise_a_clear_value_error(name, mnist_blocks):
    model, symbols, _, _ = _models(mnist_blocks)[name]
    strings = model.compress(symbols)
    rng = np.random.default_rng(1)
    for _ in range(N_MUTATIONS):
        i = int(rng.integers(len(strings)))
        bad = _mutate(strings[i], rng)
        if bad == strings[i]:
            continue
        with pytest.raises(ValueError, match="checksum mismatch|at least 6 bytes"):
            model.decompress(strings[:i] + [bad] + strings[i + 1 :])


@pytest.mark.parametrize("name", ["context", "categorical", "gain-shape"])
def test_decoders_behind_the_checksum_never_crash_or_hang(name, mnist_blocks):
    model, symbols, kind, n_fields = _models(mnist_blocks)[name]
    strings = model.compress(symbols)
    expected = np.asarray(model.decompress(strings)).shape[1:]
    rng = np.random.default_rng(2)
    start = time.perf_counter()
    outcomes = {"error": 0, "decoded": 0}
    for _ in range(N_MUTATIONS):
        fields, payload = _coder.unpack(strings[0], kind, n_fields, model.fingerprint_, "t")
        forged = _coder.pack(kind, fields, _mutate(payload or b"\0", rng), model.fingerprint_)
        try:
            out = model.decompress([forged])
        except ValueError:
            outcomes["error"] += 1
        else:
            assert np.asarray(out).shape == (1, *expected)
            outcomes["decoded"] += 1
    assert time.perf_counter() - start < 60
    assert sum(outcomes.values()) == N_MUTATIONS


def test_forged_headers_are_bounded(mnist_blocks):
    model = BlockContextModel(positional=False).fit(mnist_blocks[:50])
    for fields, match in (
        ([4, 1 << 13, 1 << 13, 1, 64], "more than max_values=16777216"),
        ([4, 4, 4, 2, 64], "cannot have written"),
        ([9, 4, 4, 1, 64], "cannot have written"),
        ([3, 2, 4, 1, 64], "cannot have written"),  # a 1-D signal has one row of blocks
        ([4, 4, 4, 0, 64], "cannot have written"),
    ):
        forged = _coder.pack(_coder.KIND_CONTEXT, fields, b"\x55" * 8, model.fingerprint_)
        with pytest.raises(ValueError, match=match):
            model.decompress([forged])
