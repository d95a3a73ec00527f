"""
Grid-search a quantization matrix: heat maps of accuracy and of bits
====================================================================

A JPEG quantization matrix is 64 numbers; a grid search needs a family with
few parameters. :class:`~skcompress.quantization.FrequencyRampTable` is the
textbook one, ``Q(i, j) = base * (1 + slope * (i + j))``: ``base`` sets the
step of the DC coefficient (the overall rate), ``slope`` how much coarser the
high frequencies are quantized. Given to
:class:`~skcompress.PerceptualQuantizer` as its ``table``, its parameters are
reached as ``perceptualquantizer__table__base`` and
``perceptualquantizer__table__slope``, so ``GridSearchCV`` searches them
like any regularization strength, while a second scorer,
:func:`~skcompress.metrics.make_rate_scorer`, reports what each setting costs
in bits per digit on the held-out folds: the length of real bitstreams,
entropy-coded by :class:`~skcompress.codecs.Codec`.
"""

import numpy as np
from sklearn.linear_model import RidgeClassifier
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skcompress import BlockDCT, PerceptualQuantizer
from skcompress.datasets import load_mnist
from skcompress.metrics import rate_scoring
from skcompress.quantization import FrequencyRampTable

try:
    import matplotlib.pyplot as plt
except ImportError:
    plt = None

X, y = load_mnist(return_X_y=True)
X, y = X[:1200], y[:1200]

# %%
# The search: 4 x 4 settings, 3 folds, a linear classifier (ridge, fast
# enough for 48 fits in seconds) on the 10 lowest frequencies of every 8x8
# block. The bits are those of real bitstreams with one categorical
# distribution per coefficient position (``model="categorical"``), the
# quickest of the entropy models to fit on every fold.
pipe = make_pipeline(
    BlockDCT(n_coefficients=10),
    PerceptualQuantizer(table=FrequencyRampTable(), n_coefficients=10),
    StandardScaler(),
    RidgeClassifier(alpha=10.0),
)
bases = [4, 16, 64, 160]
slopes = [0.0, 0.5, 1.5, 4.0]
search = GridSearchCV(
    pipe,
    {"perceptualquantizer__table__base": bases, "perceptualquantizer__table__slope": slopes},
    scoring=rate_scoring("accuracy", model="categorical"),
    refit="accuracy",
    cv=3,
).fit(X, y)

results = search.cv_results_
# ParameterGrid varies the last key (sorted by name: slope) fastest.
accuracy = results["mean_test_accuracy"].reshape(len(bases), len(slopes))
bits = -results["mean_test_neg_bits_per_sample"].reshape(len(bases), len(slopes))
print(f"{'base':>6}{'slope':>7}{'bits/digit':>12}{'accuracy':>10}")
for i, base in enumerate(bases):
    for j, slope in enumerate(slopes):
        print(f"{base:>6}{slope:>7}{bits[i, j]:>12.0f}{accuracy[i, j]:>10.1%}")

# %%
# The cheapest setting within one point of the best accuracy:
good = accuracy >= accuracy.max() - 0.01
i, j = np.unravel_index(np.argmin(np.where(good, bits, np.inf)), bits.shape)
print(
    f"best accuracy {accuracy.max():.1%}; within a point of it for the fewest bits: "
    f"base={bases[i]}, slope={slopes[j]}, {bits[i, j]:.0f} bits, {accuracy[i, j]:.1%}"
)

# %%
# Two heat maps over the same grid. The bits fall by a factor of about eight
# from the top-left corner (fine, uniform steps) to the bottom-right (coarse
# steps that grow fast with frequency), while the accuracy falls slowly at
# first and quickly only in the last corner: the classifier does not need
# most of what the fine steps keep. The chosen setting, framed, spends about
# half the bits of the most accurate one for less than a point of accuracy.
if plt is not None:
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    panels = [
        (axes[0], 100 * accuracy, "accuracy (%)", "viridis", "{:.1f}"),
        (axes[1], bits, "bits per digit (real bitstreams)", "magma_r", "{:.0f}"),
    ]
    for ax, values, title, cmap, fmt in panels:
        shown = ax.imshow(values, cmap=cmap, aspect="auto")
        for (r, c), value in np.ndenumerate(values):
            ax.text(
                c,
                r,
                fmt.format(value),
                ha="center",
                va="center",
                color="w",
                fontsize=9,
                bbox={"facecolor": "k", "alpha": 0.3, "lw": 0, "pad": 1},
            )
        ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, ec="red", lw=2.5))
        ax.set_xticks(range(len(slopes)), [str(s) for s in slopes])
        ax.set_yticks(range(len(bases)), [str(b) for b in bases])
        ax.set_xlabel("slope (steps grow with i + j)")
        ax.set_ylabel("base (DC step)")
        ax.set_title(title)
        fig.colorbar(shown, ax=ax)
    fig.suptitle("GridSearchCV over FrequencyRampTable(base, slope), MNIST, 3 folds")
    plt.tight_layout()
    plt.show()

# %%
# The matrix chosen, as the quantizer sees it (steps of the 8x8 block):
print(np.asarray(FrequencyRampTable(base=bases[i], slope=slopes[j])).round(0).astype(int))
