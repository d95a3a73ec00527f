"""Every ordered pair of the README's steps, default settings, on gray, colour and 1-D input.

Each pair either computes what its codec computes or raises a ValueError
that says what to set: never a silent 1-D reading of images, never a table
laid over coefficients it was not made for. A step that refuses the input on
its own (ColorTransform of gray images) is not a chain, and is skipped.
"""

import itertools
import re
import warnings

import numpy as np
import pytest

from skcompress import (
    KSVD,
    MDCT,
    BlockDCT,
    CELTCodec,
    ChromaSubsampler,
    ColorTransform,
    FrequencySelector,
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

STEPS = {
    "BlockDCT": BlockDCT,
    "ColorTransform": ColorTransform,
    "ChromaSubsampler": ChromaSubsampler,
    "WaveletTransform": WaveletTransform,
    "MDCT": MDCT,
    "PsychoacousticModel": PsychoacousticModel,
    "PerceptualQuantizer": PerceptualQuantizer,
    "PyramidVQ": PyramidVQ,
    "ResidualVQ": ResidualVQ,
    "KSVD": KSVD,
    "OMPCoder": OMPCoder,
    "Patches": Patches,
    # whole codecs and selector beside the README table's steps
    "JPEGCodec": JPEGCodec,
    "JPEG2000Codec": JPEG2000Codec,
    "MP3Codec": MP3Codec,
    "CELTCodec": CELTCodec,
    "HEVCIntraCodec": HEVCIntraCodec,
    "FrequencySelector": FrequencySelector,
}
#: Steps that read 4-D input as images: after an image step they must see images.
IMAGE_READERS = {"BlockDCT", "ColorTransform", "ChromaSubsampler", "WaveletTransform", "Patches"}

RNG = np.random.default_rng(0)
INPUTS = {
    "gray": RNG.integers(0, 256, size=(8, 32, 40), dtype=np.uint8),
    "colour": RNG.integers(0, 256, size=(8, 32, 40, 3), dtype=np.uint8),
    "1-D": RNG.normal(size=(8, 512)),
}
# a ValueError must say what to do: a setting, a step to use or to move
ADVICE = re.compile(r"=|Use |use |Put |put |Pass |pass |[Ss]et |[Ll]eave |Fit it|before|after")


def _fit_transform(step, X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence of tiny fits is not the point here
        return step.fit_transform(X, np.arange(len(X)) % 2)  # labels for the selector


@pytest.mark.parametrize("kind", list(INPUTS))
@pytest.mark.parametrize(("first", "second"), list(itertools.product(STEPS, STEPS)))
def test_pair_computes_or_says_what_to_set(first, second, kind):
    X = INPUTS[kind]
    try:
        Z = _fit_transform(STEPS[first](), X)
    except ValueError:
        pytest.skip(f"{first} refuses {kind} input on its own")
    structure = structure_of(Z)
    step = STEPS[second]()
    try:
        _fit_transform(step, Z)
    except ValueError as error:
        assert ADVICE.search(str(error)), f"{second} after {first}: no advice in {error}"
        return
    if kind == "1-D" or structure is None:
        return
    if structure.kind in ("image", "sites") and second in IMAGE_READERS:
        # read as images, never as rows of 1-D signals
        assert len(step.signal_shape_) >= 2, (first, second, step.signal_shape_)
    if hasattr(step, "input_structure_"):
        assert step.input_structure_ == structure, (first, second)
