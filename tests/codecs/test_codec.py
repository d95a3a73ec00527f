"""Codec: exact round trips through every quantizer, rates that are real bytes, errors."""

import pickle
import re
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.exceptions import NotFittedError
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from skcompress import MDCT, BlockDCT, PerceptualQuantizer, PyramidVQ, ResidualVQ
from skcompress.codecs import Codec
from skcompress.entropy import BlockContextModel, CategoricalEntropyModel, GainShapeModel
from skcompress.quantization import JPEG_CHROMA, JPEG_LUMA


def _steps(kind, layout, rng, colour=False):
    # colour images: a table per channel (luma, chroma, chroma), as JPEG has
    table = np.stack([JPEG_LUMA, JPEG_CHROMA, JPEG_CHROMA]) if colour else "jpeg-luma"
    if kind == "jpeg":
        quality = int(rng.integers(5, 95))
        return [
            BlockDCT(layout=layout),
            PerceptualQuantizer(table=table, quality=quality, layout=layout),
        ]
    if kind == "jpeg-k":
        k = int(rng.integers(1, 20))
        return [
            BlockDCT(n_coefficients=k, layout=layout),
            PerceptualQuantizer(table=table, quality=50, n_coefficients=k, layout=layout),
        ]
    if kind == "deadzone":
        return [BlockDCT(block_size=4), PerceptualQuantizer(table=20.0, deadzone=0.375)]
    if kind == "scalar":
        return [PerceptualQuantizer(table=float(rng.uniform(1, 40)))]
    if kind == "mdct":
        return [MDCT(frame_length=16), PerceptualQuantizer(table=5.0)]
    if kind == "rvq":
        return [
            ResidualVQ(n_stages=2, codebook_size=8, vector_size=4, layout=layout, random_state=0)
        ]
    if kind == "pvq":
        return [PyramidVQ(vector_size=4, pulses=int(rng.integers(0, 6)))]
    return [PyramidVQ(vector_size=8, pulses=120)]  # indices beyond int64


def _data(kind, n, shape, rng):
    if kind in ("jpeg", "jpeg-k", "deadzone"):
        return rng.integers(0, 256, (n, *shape)).astype(np.uint8)
    return (rng.standard_normal((n, 32)) * 30).astype(np.float32)


def _fit(steps, X):
    Xt = X
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tiny k-means fits
        for step in steps:
            Xt = step.fit_transform(Xt)
    return steps


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(["jpeg", "jpeg-k", "deadzone", "scalar", "mdct", "rvq", "pvq", "pvq-big"]),
    st.sampled_from(["flat", "blocks", "channels_first"]),
    st.sampled_from([(9, 17), (16, 16), (8, 30, 3)]),
    st.sampled_from(["auto", "categorical"]),
    st.integers(0, 2**32 - 1),
)
def test_decompress_gives_back_the_exact_symbols(kind, layout, shape, model, seed):
    rng = np.random.default_rng(seed)
    X = _data(kind, 12, shape, rng)
    steps = _fit(_steps(kind, layout, rng, colour=len(shape) == 3), X[:8])
    codec = Codec(steps, model=model).fit(X[:8])
    strings = codec.compress(X)
    B = codec.symbols(X)
    back = codec.decompress_symbols(strings)
    assert back.dtype == B.dtype and back.shape == B.shape
    assert all(a == b for a, b in zip(back.ravel().tolist(), B.ravel().tolist(), strict=True))
    expected = steps[-1].inverse_transform(B)
    for step in reversed(steps[:-1]):
        expected = step.inverse_transform(expected)
    if X.dtype == np.uint8:
        expected = np.clip(np.rint(expected), 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(codec.decompress(strings), expected)
    rate = codec.rate(X)
    assert rate["bits_per_sample"] == pytest.approx(8 * np.mean([len(s) for s in strings]))
    assert rate["bits_per_sample"] == pytest.approx(
        rate["payload_bits_per_sample"] + rate["header_bits_per_sample"]
    )


def test_models_chosen_for_each_quantizer():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (6, 16, 16)).astype(np.uint8)
    signals = rng.standard_normal((6, 32))
    cases = [
        (_fit(_steps("jpeg", "flat", rng), images), images, BlockContextModel),
        (_fit(_steps("scalar", "flat", rng), signals), signals, CategoricalEntropyModel),
        (_fit(_steps("rvq", "flat", rng), signals), signals, CategoricalEntropyModel),
        (_fit(_steps("pvq", "flat", rng), signals), signals, GainShapeModel),
    ]
    for steps, X, expected in cases:
        assert type(Codec(steps).fit(X).model_) is expected
    steps, X, _ = cases[0]
    assert type(Codec(steps, model="categorical").fit(X).model_) is CategoricalEntropyModel
    given_model = BlockContextModel(positional=False)
    codec = Codec(steps, model=given_model).fit(X)
    assert codec.model_ is not given_model and not codec.model_.positional_
    assert not hasattr(given_model, "probabilities_")  # copied, not fitted in place


def test_pipeline_steps_are_used_as_fitted():
    from skcompress.datasets import load_mnist

    X, y = load_mnist(return_X_y=True)
    pipe = make_pipeline(
        BlockDCT(), PerceptualQuantizer(quality=30), StandardScaler(), GaussianNB()
    ).fit(X[:300], y[:300])
    before = pickle.dumps(pipe)
    codec = Codec.from_pipeline(pipe).fit(X[:300])
    assert codec.quantizer_ is pipe[1] and codec.transforms_ == [pipe[0]]
    strings = codec.compress(X[300:400])
    np.testing.assert_array_equal(
        codec.decompress_symbols(strings), pipe[:2].transform(X[300:400])
    )
    assert pickle.dumps(pipe) == before  # nothing refitted or rewritten
    rate = codec.rate(X[300:400])
    assert rate["bits_per_value"] == pytest.approx(rate["bits_per_sample"] / 784)
    loaded = pickle.loads(pickle.dumps(codec))
    np.testing.assert_array_equal(loaded.decompress(strings), codec.decompress(strings))


def test_skops_round_trip_trusts_only_our_and_numpy_types():
    skops_io = pytest.importorskip("skops.io")
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, (6, 16, 16)).astype(np.uint8)
    codec = Codec(_fit(_steps("jpeg", "flat", rng), X)).fit(X)
    blob = skops_io.dumps(codec)
    untrusted = skops_io.get_untrusted_types(data=blob)
    assert all(t.startswith(("skcompress.", "numpy.")) for t in untrusted), untrusted
    loaded = skops_io.loads(blob, trusted=untrusted)
    np.testing.assert_array_equal(
        loaded.decompress(codec.compress(X)), codec.decompress(codec.compress(X))
    )


def test_errors_name_what_was_expected():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((6, 32))
    with pytest.raises(TypeError, match="with a quantizer"):
        Codec([StandardScaler().fit(X)]).fit(X)
    steps = _fit(_steps("scalar", "flat", rng), X)
    with pytest.raises(ValueError, match="model must be one of"):
        Codec(steps, model="huffman").fit(X)
    with pytest.raises(ValueError, match="needs a quantizer that follows a block transform"):
        Codec(steps, model="context").fit(X)
    with pytest.raises(ValueError, match=r"^Codec\.compress: call fit first"):
        Codec(steps).compress(X)
    with pytest.raises(TypeError, match="an instance of skcompress.entropy.EntropyModel"):
        Codec(steps, model=StandardScaler()).fit(X)
    with pytest.raises(TypeError, match="expects a sklearn Pipeline"):
        Codec.from_pipeline(steps)
    codec = Codec(steps).fit(X)
    with pytest.raises(TypeError, match="Wrap it in a list"):
        codec.decompress(codec.compress(X)[0])
    with pytest.raises(NotFittedError):
        Codec([PerceptualQuantizer(table=1.0)]).fit(X)


def test_check_is_fitted_reads_the_codec():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((6, 32))
    codec = Codec(_fit(_steps("scalar", "flat", rng), X))
    with pytest.raises(NotFittedError, match=r"^Codec\.rate: call fit first"):
        codec.rate(X)
    with pytest.raises(NotFittedError):
        check_is_fitted(codec)
    check_is_fitted(codec.fit(X))
    check_is_fitted(codec.model_)


def test_a_fitted_model_is_used_as_it_is():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (1, 64, 80)).astype(np.uint8)
    steps = _fit([BlockDCT(), PerceptualQuantizer(quality=50)], image)
    # blocks of images of another size: 9 x 11 blocks, too many for positional contexts
    other = rng.integers(0, 256, (2, 72, 88)).astype(np.uint8)
    blocks = [BlockDCT(layout="blocks"), PerceptualQuantizer(quality=50, layout="blocks")]
    model = BlockContextModel().fit(_fit(blocks, other)[-1].transform(blocks[0].transform(other)))
    assert not model.positional_
    codec = Codec(steps, model=model).fit(image)
    np.testing.assert_array_equal(codec.model_.probabilities_, model.probabilities_)
    strings = codec.compress(image)
    np.testing.assert_array_equal(codec.decompress_symbols(strings), codec.symbols(image))


@pytest.mark.parametrize("model", ["context", "categorical", "pvq"])
def test_a_shape_other_than_the_fitted_one_is_refused_before_decoding(model, monkeypatch):
    # issue 18: a forged header of another shape was decoded (minutes, gigabytes) and
    # refused only afterwards. The CRC-32 does not stop it: the fingerprint is public.
    from skcompress.entropy import _coder

    rng = np.random.default_rng(0)
    if model == "pvq":
        X = rng.standard_normal((8, 32))
        codec = Codec(_fit([PyramidVQ(vector_size=8, pulses=4)], X)).fit(X)
        fields, expected = [2 * 5], "the bitstreams hold 10 symbols each; this model codes 8"
    else:
        X = rng.integers(0, 256, (4, 16, 24)).astype(np.uint8)
        steps = _fit([BlockDCT(), PerceptualQuantizer(quality=50)], X)
        if model == "context":
            codec = Codec(steps, model=BlockContextModel(positional=False)).fit(X)
            fields = [5, 262144, 1, 1, 64]
            expected = "declare symbols of shape (262144, 1, 1, 64); expected (2, 3, 1, 64)"
        else:
            codec = Codec(steps, model="categorical").fit(X)
            fields, expected = [1 << 24], "declare symbols of shape (16777216,); expected (384,)"
    strings = codec.compress(X[:2])
    model_ = codec.model_
    forged = _coder.pack(model_._kind, fields, b"\0", model_.fingerprint_)

    def never(*args, **kwargs):
        raise AssertionError("decoding started")

    for name in ("_decode", "_row_reader"):
        if hasattr(model_, name):
            monkeypatch.setattr(model_, name, never)
    monkeypatch.setattr(_coder, "Reader", never)
    with pytest.raises(ValueError, match="symbols of different shapes"):
        codec.decompress(strings[:1] + [forged])
    with pytest.raises(ValueError, match=re.escape(expected)):
        codec.decompress([forged])
    monkeypatch.undo()
    assert codec.decompress(strings).shape == (2, *codec.signal_shape_)
