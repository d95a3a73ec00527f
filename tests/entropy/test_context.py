"""BlockContextModel: exact round trips on any grid, escapes, rate against its own estimate."""

import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skcompress.entropy import BlockContextModel
from skcompress.entropy._context import _tokens, _untoken


def _coefficients(rng, shape, scale):
    """Coefficients that decay with frequency, as quantized DCT blocks do."""
    k = shape[-1]
    decay = scale / (1 + np.arange(k)) ** 1.5
    values = np.rint(rng.laplace(size=shape) * decay).astype(np.int64)
    values[..., 0] += rng.integers(-40, 40)  # a DC offset
    return values


def test_tokens_invert():
    u = np.concatenate([np.arange(5000), [2**20, 2**40 + 3, 2**62]])
    token, bits, extra = _tokens(u)
    small = token <= 31
    base, nbits = _untoken(token[small])
    np.testing.assert_array_equal(base + extra[small], u[small])
    np.testing.assert_array_equal(nbits, bits[small])
    assert token[u < 4096].max() == 31 and token[u >= 4096].min() == 32


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from([3, 4, 5]),
    st.integers(1, 4),
    st.integers(1, 5),
    st.integers(1, 3),
    st.integers(1, 20),
    st.sampled_from([False, True, "auto"]),
    st.sampled_from(["auto", "med", "none"]),
    st.floats(0.5, 300.0),
    st.integers(0, 2**32 - 1),
)
def test_round_trip_is_exact(ndim, h, w, channels, k, positional, dc, scale, seed):
    rng = np.random.default_rng(seed)
    shape = {3: (w, k), 4: (h, w, k), 5: (h, w, channels, k)}[ndim]
    train = _coefficients(rng, (8, *shape), scale)
    model = BlockContextModel(positional=positional, dc_prediction=dc).fit(train)
    test = _coefficients(rng, (3, *shape), 3 * scale)  # wider than training: escapes
    test.flat[rng.integers(test.size)] = 5_000_000  # beyond every token
    test.flat[rng.integers(test.size)] = -(2**40)
    strings = model.compress(test)
    assert len(strings) == 3 and all(isinstance(s, bytes) for s in strings)
    back = model.decompress(strings)
    assert back.shape == test.shape
    np.testing.assert_array_equal(back, test)


def test_int32_extremes_and_empty_blocks_round_trip():
    train = np.zeros((4, 2, 2, 64), dtype=np.int32)
    model = BlockContextModel().fit(train)  # saw nothing but zeros
    test = np.zeros((2, 2, 2, 64), dtype=np.int32)
    test[0, 0, 0, [0, 5, 63]] = np.iinfo(np.int32).max, np.iinfo(np.int32).min, 1
    np.testing.assert_array_equal(model.decompress(model.compress(test)), test)


def test_rate_is_within_2_percent_of_the_estimate_and_beats_libjpeg_on_mnist(mnist_blocks):
    model = BlockContextModel().fit(mnist_blocks[:700])
    assert model.positional_ and model.dc_prediction_ in ("med", "none")
    test = mnist_blocks[700:]
    strings = model.compress(test)
    header = model.header_bits(test.shape[1:])
    assert header == 8 * (1 + 5 + 4)
    payload = np.array([8 * len(s) for s in strings]) - header
    ideal = model.code_lengths(test)
    assert abs(payload.sum() / ideal.sum() - 1) < 0.02
    assert np.all(payload <= ideal + 24)
    # libjpeg's optimized Huffman scan of these digits takes about 1,285 bits
    assert payload.mean() < 0.9 * 1285


def test_any_grid_codes_without_positional(photo_blocks):
    model = BlockContextModel().fit(photo_blocks[0])
    assert not model.positional_  # 32 x 40 blocks: position means little
    for blocks in (photo_blocks[1], photo_blocks[1][:, :7, :9]):
        np.testing.assert_array_equal(model.decompress(model.compress(blocks)), blocks)
    rate = 8 * len(model.compress(photo_blocks[1])[0])
    assert abs(rate / model.code_lengths(photo_blocks[1])[0] - 1) < 0.02


def test_fit_pools_arrays_of_different_grids(photo_blocks):
    model = BlockContextModel().fit([photo_blocks[0], photo_blocks[1][:, :10, :12]])
    np.testing.assert_array_equal(
        model.decompress(model.compress(photo_blocks[1])), photo_blocks[1]
    )
    with pytest.raises(ValueError, match="positional=True every array must have the same grid"):
        BlockContextModel(positional=True).fit([photo_blocks[0], photo_blocks[1][:, :10]])


def test_context_pays_against_one_distribution_per_frequency(mnist_blocks):
    from skcompress.entropy import CategoricalEntropyModel

    train, test = mnist_blocks[:700], mnist_blocks[700:]
    flat = CategoricalEntropyModel().fit(train.reshape(-1, 64))
    pooled = 8 * np.mean([len(s) for s in flat.compress(test.reshape(len(test), -1))])
    context = 8 * np.mean([len(s) for s in BlockContextModel().fit(train).compress(test)])
    assert context < 0.85 * pooled


def test_shape_errors_name_the_expected_shape(mnist_blocks):
    model = BlockContextModel(positional=True).fit(mnist_blocks[:50])
    with pytest.raises(ValueError, match=r"grid \(4, 4\) \(positional=True\)"):
        model.compress(mnist_blocks[:2, :3])
    with pytest.raises(ValueError, match="1 channel"):
        model.compress(mnist_blocks[:2, :, :, np.newaxis, :].repeat(2, axis=3))
    with pytest.raises(ValueError, match="'blocks' layout"):
        model.compress(mnist_blocks[:2].astype(float))
    other = BlockContextModel(positional=False).fit(mnist_blocks[:50])
    with pytest.raises(ValueError, match="checksum mismatch"):
        other.decompress(model.compress(mnist_blocks[:2]))
    with pytest.raises(ValueError, match="different shapes"):
        other.decompress(other.compress(mnist_blocks[:1]) + other.compress(mnist_blocks[:1, :2]))


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"positional": "yes"}, "positional must be True, False or 'auto'"),
        ({"dc_prediction": "left"}, "dc_prediction must be one of"),
        ({"prior_strength": 0}, "prior_strength must be a positive number"),
    ],
)
def test_bad_parameters_are_refused(params, match, mnist_blocks):
    with pytest.raises(ValueError, match=match):
        BlockContextModel(**params).fit(mnist_blocks[:5])


def test_pickle_round_trip(mnist_blocks):
    model = BlockContextModel().fit(mnist_blocks[:100])
    strings = model.compress(mnist_blocks[100:110])
    loaded = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(loaded.decompress(strings), mnist_blocks[100:110])
