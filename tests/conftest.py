"""Shared fixtures: every public estimator, and data each one can be fitted on."""

import importlib.util
import io

import numpy as np
import pytest

from skcompress.utils import all_estimators

# Estimators that do not take images say here what they fit on; the rest get
# IMAGES. Values are functions of a numpy Generator, returning X or, for
# estimators that need targets (the networks of skcompress.nets), (X, y).
FIT_DATA = {
    "FrequencySelector": lambda rng: (
        rng.standard_normal((30, 12)).astype(np.float32),
        np.arange(30) % 3,
    ),
    "ChromaSubsampler": lambda rng: rng.uniform(0, 255, (6, 16, 16, 3)).astype(np.float32),
    "ColorTransform": lambda rng: rng.uniform(0, 255, (6, 16, 16, 3)).astype(np.float32),
    "JPEGCoefficients": lambda rng: jpeg_files(rng.integers(0, 256, (4, 16, 24, 3), np.uint8)),
    "KSVD": lambda rng: rng.standard_normal((40, 8)).astype(np.float32),
    "MDCT": lambda rng: rng.standard_normal((6, 100)).astype(np.float32),
    "CELTCodec": lambda rng: rng.standard_normal((6, 400)).astype(np.float32),
    "MP3Codec": lambda rng: rng.standard_normal((6, 100)).astype(np.float32),
    "PsychoacousticModel": lambda rng: rng.standard_normal((6, 100)).astype(np.float32),
    "OMPCoder": lambda rng: rng.standard_normal((40, 8)).astype(np.float32),
    "SoundStreamCodec": lambda rng: rng.standard_normal((6, 40)).astype(np.float32),
}


def _supervised(make_X):
    """(X, y) for a network classifier or regressor: 12 samples, 3 classes or a target."""

    def make(rng, regression):
        X = make_X(rng)
        y = rng.standard_normal(len(X)) if regression else np.arange(len(X)) % 3
        return X, y

    return make


_NET_INPUTS = {
    "BlockDCTNet": lambda rng: rng.standard_normal((12, 6, 2, 2)).astype(np.float32),
    "PixelNet": lambda rng: rng.uniform(0, 255, (12, 8, 8)).astype(np.float32),
    "WaveletNet": lambda rng: rng.standard_normal((12, 16)).astype(np.float32),
    "MDCTNet": lambda rng: rng.standard_normal((12, 8, 5)).astype(np.float32),
    "CodeEmbedding": lambda rng: rng.integers(0, 4, (12, 3, 2)),
    # 4:2:0 minimum coded units in the "blocks" layout: a 2x2 grid of (4 Y + Cb + Cr) x 4
    "JPEGNet": lambda rng: rng.standard_normal((12, 2, 2, 6, 4)).astype(np.float32),
}
for _family, _make in _NET_INPUTS.items():
    for _task in ("Classifier", "Regressor"):
        _name = f"{_family}{_task}"
        _fn = _supervised(_make)
        FIT_DATA[_name] = lambda rng, _fn=_fn, _reg=_task == "Regressor": _fn(rng, _reg)


def jpeg_files(images, quality=75, subsampling=2):
    """The bytes of ``images`` as JPEG files (Pillow), an object array."""
    from PIL import Image

    files = []
    for image in images:
        buffer = io.BytesIO()
        Image.fromarray(image).save(buffer, "JPEG", quality=quality, subsampling=subsampling)
        files.append(buffer.getvalue())
    return np.array(files, dtype=object)


def images(rng):
    """A batch of 6 gray 16x16 float32 images in [0, 255)."""
    return rng.uniform(0, 255, (6, 16, 16)).astype(np.float32)


def fit_data(estimator):
    """Data that ``estimator`` can be fitted on, reproducibly: X, or (X, y)."""
    make = FIT_DATA.get(type(estimator).__name__, images)
    return make(np.random.default_rng(0))


def estimator_instances():
    """One instance per test-parameter set of every public estimator.

    A step with a torch kernel (a ``_torch_kernel`` method) runs its first
    set again with ``device="cpu"``, so that every check also goes through
    the torch path.
    """
    instances = []
    with_torch = importlib.util.find_spec("torch") is not None
    for _, cls in all_estimators():
        sets = cls.get_test_params()
        for params in sets:
            instances.append(cls(**params))
        if with_torch and hasattr(cls, "_torch_kernel"):
            instances.append(cls(**{**sets[0], "device": "cpu"}))
    return instances


@pytest.fixture(params=estimator_instances(), ids=repr)
def estimator(request):
    return request.param
