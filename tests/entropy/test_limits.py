"""Hostile bitstreams cost bounded time and memory: headers are checked before decoding.

The CRC-32 of a bitstream detects accidents, not forgery: every model's
``fingerprint_`` is public, so these tests forge headers the way an attacker
would (``_coder.pack`` with the fingerprint). The cases that once took minutes
and gigabytes run in a subprocess under a memory limit (``RLIMIT_AS``, set
after the imports) and a timeout, so that a regression fails in seconds
instead of exhausting the machine.
"""

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from skcompress.entropy import BlockContextModel, CategoricalEntropyModel, GainShapeModel, _coder
from skcompress.quantization import PyramidVQ

linux_only = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="RLIMIT_AS and /proc/self/status"
)

_PRELUDE = """
import json, resource, time
import numpy as np
from skcompress.entropy import BlockContextModel, CategoricalEntropyModel, _coder

def limit_memory(mib):
    # the address space reached after the imports, plus mib
    size = next(line for line in open("/proc/self/status") if line.startswith("VmSize:"))
    limit = int(size.split()[1]) * 1024 + mib * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

def outcome(call):
    start = time.perf_counter()
    try:
        out = call()
        result = "decoded " + str(np.asarray(out).shape)
    except ValueError as error:
        result = "ValueError: " + str(error)
    return {"outcome": result, "seconds": time.perf_counter() - start}

rng = np.random.default_rng(0)
context = BlockContextModel(positional=False).fit(rng.integers(-3, 4, size=(20, 4, 4, 64)))
categorical = CategoricalEntropyModel().fit(rng.integers(-3, 4, size=(100, 64)))
"""


def _guarded(body, timeout=60):
    """Run ``body`` after :data:`_PRELUDE` in a fresh interpreter; the JSON it prints last."""
    done = subprocess.run(
        [sys.executable, "-c", _PRELUDE + textwrap.dedent(body)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@linux_only
def test_a_forged_thin_grid_is_refused_from_its_header():
    # issue 18: a valid 12-byte stream of 262144 x 1 blocks took 126 s and 2 GB to decode
    result = _guarded(
        """
        forged = _coder.pack(_coder.KIND_CONTEXT, [4, 262144, 1, 1, 64], b"\\0",
                             context.fingerprint_)
        limit_memory(100)
        print(json.dumps(outcome(lambda: context.decompress([forged]))))
        """
    )
    assert result["outcome"].startswith("ValueError: BlockContextModel.decompress: a bitstream")
    assert "(262144, 1, 64)" in result["outcome"]
    assert "524287 wavefront stages" in result["outcome"]
    assert "more than max_values=16777216" in result["outcome"]


@linux_only
def test_decoding_memory_is_linear_in_the_declared_size():
    # 4M coefficients: 32 MiB of output; the decoder used to peak at about 480 MiB
    # (1.9 GiB for 2**24), the categorical decoder at 1.1 GiB for 2**24 values
    result = _guarded(
        """
        square = _coder.pack(_coder.KIND_CONTEXT, [5, 256, 256, 1, 64], b"\\0",
                             context.fingerprint_)
        flat = _coder.pack(_coder.KIND_CATEGORICAL, [1 << 22], b"\\0", categorical.fingerprint_)
        limit_memory(200)
        results = [outcome(lambda: context.decompress([square])),
                   outcome(lambda: categorical.decompress([flat]))]
        print(json.dumps(results))
        """,
        timeout=120,
    )
    assert [r["outcome"] for r in result] == [
        "decoded (1, 256, 256, 1, 64)",
        f"decoded (1, {1 << 22})",
    ]


@linux_only
def test_a_codec_refuses_a_shape_it_was_not_fitted_on_before_decoding():
    # issue 18: Codec refused the thin grid only after decoding it (156 s), and a
    # categorical stream of 2**24 values after 11 s and 3.4 GB with a numpy reshape error
    result = _guarded(
        """
        from sklearn.pipeline import make_pipeline
        from skcompress import BlockDCT, PerceptualQuantizer
        from skcompress.codecs import Codec
        from skcompress.datasets import load_mnist

        X = load_mnist().images[:100]
        pipe = make_pipeline(BlockDCT(), PerceptualQuantizer(quality=50)).fit(X)
        blocks = Codec(pipe, model=BlockContextModel(positional=False)).fit(X)
        flat = Codec(pipe, model="categorical").fit(X)
        forged = [
            (blocks, _coder.KIND_CONTEXT, [5, 262144, 1, 1, 64]),
            (blocks, _coder.KIND_CONTEXT, [5, 64, 64, 1, 64]),
            (flat, _coder.KIND_CATEGORICAL, [1 << 24]),
        ]
        limit_memory(100)
        results = []
        for codec, kind, fields in forged:
            stream = _coder.pack(kind, fields, b"\\0", codec.model_.fingerprint_)
            results.append(outcome(lambda: codec.decompress([stream])))
        print(json.dumps(results))
        """
    )
    messages = [r["outcome"] for r in result]
    assert "declare symbols of shape (262144, 1, 1, 64); expected (4, 4, 1, 64)" in messages[0]
    assert "declare symbols of shape (64, 64, 1, 64); expected (4, 4, 1, 64)" in messages[1]
    assert "declare symbols of shape (16777216,); expected (1024,)" in messages[2]


def test_compress_refuses_what_decompress_would_refuse_by_default():
    model = BlockContextModel(positional=False).fit(np.zeros((2, 4, 4, 64), dtype=np.int8))
    with pytest.raises(ValueError, match="524287 wavefront stages.*smaller pieces"):
        model.compress(np.zeros((1, 262144, 1, 64), dtype=np.int8))


def test_max_values_is_a_parameter_that_counts_stages():
    rng = np.random.default_rng(1)
    model = BlockContextModel(positional=False).fit(rng.integers(-2, 3, size=(10, 4, 4, 64)))
    symbols = rng.integers(-2, 3, size=(2, 64, 1, 64))
    strings = model.compress(symbols)
    # 4096 coefficients, but 127 stages at 1024 values each
    with pytest.raises(ValueError, match=r"4096 coefficients in 127 wavefront stages, counted as"):
        model.decompress(strings, max_values=100_000)
    np.testing.assert_array_equal(model.decompress(strings, max_values=130_048), symbols)
    np.testing.assert_array_equal(model.decompress(strings, shape=(64, 1, 64)), symbols)
    with pytest.raises(ValueError, match=r"shape \(64, 1, 64\); expected \(1, 64, 64\)"):
        model.decompress(strings, shape=(1, 64, 64))


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "many"])
def test_max_values_is_checked(bad):
    model = CategoricalEntropyModel().fit(np.array([[0, 1], [1, 1]]))
    strings = model.compress(np.zeros((1, 4), dtype=int))
    with pytest.raises(ValueError, match=r"max_values must be an int >= 1 or None; got"):
        model.decompress(strings, max_values=bad)


def test_categorical_limits():
    model = CategoricalEntropyModel().fit(np.array([[0, 1], [1, 1]]))
    strings = model.compress(np.zeros((1, 2000), dtype=int))
    with pytest.raises(ValueError, match=r"\(2000,\) \(2000 values\), more than max_values=1000"):
        model.decompress(strings, max_values=1000)
    with pytest.raises(ValueError, match=r"shape \(2000,\); expected \(2,\)"):
        model.decompress(strings, shape=(2,))
    with pytest.raises(TypeError, match="a shape is a tuple of ints"):
        model.decompress(strings, shape="2000")
    assert model.decompress(strings, shape=2000, max_values=2000).shape == (1, 2000)
    forged = _coder.pack(_coder.KIND_CATEGORICAL, [(1 << 24) + 2], b"\0", model.fingerprint_)
    with pytest.raises(ValueError, match="more than max_values=16777216"):
        model.decompress([forged])
    odd = _coder.pack(_coder.KIND_CATEGORICAL, [3], b"\0", model.fingerprint_)
    with pytest.raises(ValueError, match="not a multiple of the 2 positions"):
        model.decompress([odd])


def test_gain_shape_limits():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 32))
    pvq = PyramidVQ(vector_size=8, pulses=10).fit(X)
    model = GainShapeModel(pvq.codebook_size_).fit(pvq.transform(X))
    symbols = pvq.transform(X[:3])
    strings = model.compress(symbols)
    assert np.array_equal(model.decompress(strings, shape=(8,), max_values=8), symbols)
    forged = _coder.pack(_coder.KIND_PYRAMID, [1 << 24], b"\0", model.fingerprint_)
    with pytest.raises(ValueError, match="hold 16777216 symbols each; this model codes 8"):
        model.decompress([forged])
    with pytest.raises(ValueError, match="more than max_values=4"):
        model.decompress(strings, max_values=4)
    with pytest.raises(ValueError, match=r"expected \(10,\)"):
        model.decompress(strings, shape=(10,))


def test_long_streams_decode_in_pieces():
    # more values than the coder builds probability rows for at once (_coder._ROWS)
    rng = np.random.default_rng(2)
    model = CategoricalEntropyModel().fit(rng.integers(-40, 40, size=(50, 3)))
    rows = rng.integers(-60, 60, size=(2, 3 * 70_001))
    np.testing.assert_array_equal(model.decompress(model.compress(rows)), rows)
    context = BlockContextModel(positional=False).fit(rng.integers(-40, 40, size=(4, 4, 4, 64)))
    blocks = rng.integers(-40, 40, size=(1, 72, 72, 64))  # 327,000 AC values with raw bits
    np.testing.assert_array_equal(context.decompress(context.compress(blocks)), blocks)
