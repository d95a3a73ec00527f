"""
Learn from a folder of JPEG files without decoding them
=======================================================

Most images people train on are JPEG files already, and the quantized DCT
coefficients a frequency-domain network wants are in the file.
:class:`~skcompress.io.JPEGCoefficients` reads them (libjpeg's entropy
decoding only: no inverse DCT, no colour conversion) in the layout of
:class:`~skcompress.BlockDCT` followed by
:class:`~skcompress.PerceptualQuantizer`, so the same network learns from
either: from the files, or from our own JPEG path on the pixels.
"""

import tempfile

import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

from skcompress import BlockDCT, PerceptualQuantizer
from skcompress.datasets import load_mnist
from skcompress.io import JPEGCoefficients, load_jpeg_folder, write_jpeg
from skcompress.nets import BlockDCTNetClassifier

X, y = load_mnist(return_X_y=True)
X, y = X[:1200], y[:1200]

# %%
# Write the digits as a folder of JPEG files, one sub-folder per class (the
# layout of torchvision's ``ImageFolder``), and load it back as paths and labels.
folder = tempfile.mkdtemp()
write_jpeg(X, folder, labels=y, quality=75)
data = load_jpeg_folder(folder)
index = np.array([int(p.rsplit("image", 1)[1][:-4]) for p in data.filenames])
train, test = train_test_split(np.arange(len(index)), test_size=0.3, stratify=data.target,
                               random_state=0)  # fmt: skip


def network():
    return BlockDCTNetClassifier(n_coefficients=16, max_epochs=5, random_state=0)


# %%
# The same network twice: on the coefficients read from the files, and on our
# JPEG path (BlockDCT, then quality-75 quantization) of the original pixels.
routes = {
    "JPEG files": (
        make_pipeline(
            JPEGCoefficients(n_coefficients=16, dtype=np.float32, layout="channels_first"),
            network(),
        ),
        data.filenames,
    ),
    "pixels, our JPEG path": (
        make_pipeline(
            BlockDCT(n_coefficients=16, layout="channels_first"),
            PerceptualQuantizer(quality=75, n_coefficients=16, layout="channels_first"),
            network(),
        ),
        X[index],
    ),
}
accuracy = {}
for name, (pipe, inputs) in routes.items():
    pipe.fit(inputs[train], data.target[train])
    accuracy[name] = pipe.score(inputs[test], data.target[test])
    print(f"{name:<24} accuracy {accuracy[name]:.1%}")

# %%
# The two routes see the same coefficients up to libjpeg's integer DCT, which
# differs by one quantization level at a few positions in a thousand: the
# accuracies agree to within the noise of a small test set.
fig, ax = plt.subplots(figsize=(5, 2.5))
ax.barh(list(accuracy), [100 * a for a in accuracy.values()], color=["tab:blue", "tab:gray"])
ax.set_xlim(70, 100)
ax.set_xlabel("test accuracy (%)")
ax.set_title("BlockDCTNet on 16 coefficients per block")
fig.tight_layout()
plt.show()
