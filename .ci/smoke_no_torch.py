"""Smoke test of an install without torch: numpy paths work, torch parts name the extra.

Run by .ci/run with the interpreter of a virtualenv that has ``pip install .`` and no torch.
"""

import sys

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skcompress import BlockDCT, Codec, PerceptualQuantizer
from skcompress.datasets import load_mnist
from skcompress.entropy import BlockContextModel
from skcompress.metrics import bits_per_sample

try:
    import torch  # noqa: F401
except ImportError:
    pass
else:
    sys.exit("smoke_no_torch: torch is installed in this environment; the smoke test needs none")

mnist = load_mnist()
X, y = mnist.images[:600], mnist.target[:600]
pipe = make_pipeline(
    BlockDCT(n_coefficients=16),
    PerceptualQuantizer(n_coefficients=16, quality=50),
    StandardScaler(),
    LogisticRegression(max_iter=300),
)
accuracy = pipe.fit(X[:500], y[:500]).score(X[500:], y[500:])
assert accuracy > 0.6, accuracy
bits = bits_per_sample(pipe, X[500:])

dct, quantizer = BlockDCT().fit(X), PerceptualQuantizer(quality=50)
B = quantizer.fit_transform(dct.transform(X))
codec = Codec([dct, quantizer], model=BlockContextModel()).fit(X[:500])
strings = codec.compress(X[500:])
assert np.array_equal(codec.decompress_symbols(strings), B[500:])

for module in ("skcompress.nets", "skcompress.learned"):
    try:
        __import__(module)
    except ImportError as exc:
        assert "skcompress[torch]" in str(exc), exc
    else:
        sys.exit(f"smoke_no_torch: import {module} did not fail without torch")
try:
    BlockDCT(device="cpu").fit(X[:2]).transform(X[:2])
except ImportError as exc:
    assert "skcompress[torch]" in str(exc), exc
else:
    sys.exit("smoke_no_torch: device='cpu' did not ask for torch")
assert "torch" not in sys.modules

print(
    f"smoke without torch: JPEG path {accuracy:.1%} at {bits:.0f} bits/digit, "
    f"Codec round trip of {len(strings)} bitstreams exact, nets/learned/device= name the extra"
)
