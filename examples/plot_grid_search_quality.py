"""
Grid-search JPEG quality with its cost in bits beside its accuracy
==================================================================

A JPEG quality is a hyperparameter like any other: ``GridSearchCV`` tries
several, and a second scorer reports what each one costs in bits per digit
(the quantizer's entropy estimate on the held-out fold,
:func:`~skcompress.metrics.bits_per_sample`). The pipeline keeps the 16
lowest frequencies of every 8x8 block, and a linear classifier (ridge, fast
enough for the 15 fits to take seconds) learns from the quantized symbols.
"""

import numpy as np
from sklearn.linear_model import RidgeClassifier
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skcompress import BlockDCT, PerceptualQuantizer
from skcompress.datasets import load_mnist
from skcompress.metrics import bits_per_sample

try:
    import matplotlib.pyplot as plt
except ImportError:
    plt = None

X, y = load_mnist(return_X_y=True)
X, y = X[:1500], y[:1500]

pipe = make_pipeline(
    BlockDCT(n_coefficients=16),
    PerceptualQuantizer(table="jpeg-luma", n_coefficients=16),
    StandardScaler(),
    RidgeClassifier(alpha=10.0),
)
qualities = [2, 5, 10, 25, 50, 90]
search = GridSearchCV(
    pipe,
    {"perceptualquantizer__quality": qualities},
    scoring={"accuracy": "accuracy", "bits": lambda est, X, y=None: bits_per_sample(est, X)},
    refit="accuracy",
    cv=3,
).fit(X, y)

results = search.cv_results_
print(f"{'quality':>8}{'bits/digit':>12}{'accuracy':>10}")
for quality, bits, accuracy in zip(
    results["param_perceptualquantizer__quality"],
    results["mean_test_bits"],
    results["mean_test_accuracy"],
    strict=True,
):
    print(f"{quality:>8}{bits:>12.0f}{accuracy:>10.1%}")

# %%
# The cheapest quality within one point of the best accuracy:
best = results["mean_test_accuracy"].max()
good = results["mean_test_accuracy"] >= best - 0.01
cheapest = np.argmin(np.where(good, results["mean_test_bits"], np.inf))
print("chosen quality:", results["param_perceptualquantizer__quality"][cheapest])

# %%
# Accuracy against bits, one point per quality (the error bars are the
# spread over the folds). The curve flattens early: past about 700 bits per
# digit, more bits buy this classifier almost nothing; the raw pixels cost
# 6,272.
if plt is not None:
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    ax.errorbar(
        results["mean_test_bits"],
        100 * results["mean_test_accuracy"],
        yerr=100 * results["std_test_accuracy"],
        fmt="o-",
        capsize=3,
    )
    for quality, bits, accuracy in zip(
        qualities, results["mean_test_bits"], results["mean_test_accuracy"], strict=True
    ):
        ax.annotate(
            f"q{quality}", (bits, 100 * accuracy), xytext=(5, -12), textcoords="offset points"
        )
    ax.plot(
        results["mean_test_bits"][cheapest],
        100 * results["mean_test_accuracy"][cheapest],
        "o",
        ms=14,
        mfc="none",
        mec="red",
        label="chosen: cheapest within a point",
    )
    ax.set_xlabel("bits per digit (entropy estimate, held-out folds)")
    ax.set_ylabel("accuracy (%)")
    ax.set_title("GridSearchCV over JPEG quality, MNIST, 3 folds")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right")
    plt.tight_layout()
    plt.show()
