"""Every step's ``dtype``: the type of what ``transform`` returns, so any network can follow."""

import numpy as np
import pytest

from skcompress import (
    KSVD,
    MDCT,
    BlockDCT,
    CELTCodec,
    ChromaSubsampler,
    ColorTransform,
    HEVCIntraCodec,
    JPEG2000Codec,
    JPEGCodec,
    MP3Codec,
    OMPCoder,
    Patches,
    PerceptualQuantizer,
    PsychoacousticModel,
    PyramidVQ,
    ResidualVQ,
    WaveletTransform,
)
from skcompress._core._structure import structure_of

RNG = np.random.default_rng(0)
GRAY = RNG.integers(0, 256, size=(12, 32, 32), dtype=np.uint8)
COLOUR = RNG.integers(0, 256, size=(4, 16, 16, 3), dtype=np.uint8)
SIGNALS = RNG.normal(size=(12, 512))

CASES = [
    (BlockDCT, {}, GRAY),
    (ColorTransform, {}, COLOUR),
    (ChromaSubsampler, {}, COLOUR),
    (WaveletTransform, {"wavelet": "haar"}, GRAY),
    (MDCT, {}, SIGNALS),
    (PerceptualQuantizer, {"table": 4.0}, SIGNALS),
    (PyramidVQ, {}, SIGNALS),
    (ResidualVQ, {"codebook_size": 4, "n_stages": 2, "random_state": 0}, SIGNALS),
    (KSVD, {"n_components": 8, "max_iter": 2, "random_state": 0}, SIGNALS[:, :16]),
    (OMPCoder, {}, SIGNALS[:, :64]),
    (Patches, {}, GRAY),
    (JPEGCodec, {}, GRAY),
    (JPEG2000Codec, {}, GRAY),
    (HEVCIntraCodec, {}, GRAY),
    (MP3Codec, {"frame_length": 192}, SIGNALS),
    (CELTCodec, {}, SIGNALS),
    (PsychoacousticModel, {"sample_rate": 8000}, SIGNALS),
]


@pytest.mark.parametrize(("step", "params", "X"), CASES, ids=[c[0].__name__ for c in CASES])
@pytest.mark.parametrize("dtype", [np.float32, "int16"])
def test_transform_returns_the_dtype_asked(step, params, X, dtype):
    plain = step(**params).fit(X)
    typed = step(**params, dtype=dtype).fit(X)
    out = typed.transform(X)
    assert out.dtype == np.dtype(dtype)
    expected = plain.transform(X)
    np.testing.assert_array_equal(out, np.asarray(expected).astype(dtype))
    assert structure_of(out) == structure_of(expected)  # the structure stays


def test_a_bad_dtype_is_named():
    with pytest.raises(ValueError, match="dtype='text'"):
        BlockDCT(dtype="text").fit_transform(GRAY)


def test_a_plain_skorch_net_follows_a_quantizer():
    torch = pytest.importorskip("torch")
    skorch = pytest.importorskip("skorch")
    from sklearn.pipeline import make_pipeline

    module = torch.nn.Sequential(
        torch.nn.Linear(16 * 6, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2)
    )
    net = skorch.NeuralNetClassifier(
        module, criterion=torch.nn.CrossEntropyLoss, max_epochs=2, train_split=None
    )
    y = np.arange(len(GRAY)) % 2
    pipe = make_pipeline(
        BlockDCT(n_coefficients=6),
        PerceptualQuantizer(quality=50, dtype=np.float32),
        net,
    )
    assert pipe.fit(GRAY, y).predict(GRAY).shape == y.shape
