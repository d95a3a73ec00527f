"""
Grid-search JPEG quality with its cost in bits beside its accuracy
==================================================================

A JPEG quality is a hyperparameter like any other: ``GridSearchCV`` tries
several, and a second scorer reports what each one costs in bits per digit
(the quantizer's entropy estimate on the held-out fold).
"""

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skcompress import BlockDCT, PerceptualQuantizer
from skcompress.datasets import load_mnist
from skcompress.metrics import bits_per_sample

X, y = load_mnist(return_X_y=True)
X, y = X[:2000], y[:2000]

pipe = make_pipeline(
    BlockDCT(n_coefficients=16),
    PerceptualQuantizer(table="jpeg-luma", n_coefficients=16),
    StandardScaler(),
    LogisticRegression(C=0.1, max_iter=1000),
)
search = GridSearchCV(
    pipe,
    {"perceptualquantizer__quality": [5, 10, 25, 50, 90]},
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
