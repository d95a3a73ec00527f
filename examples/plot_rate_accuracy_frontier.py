"""
The rate-accuracy frontier: how few bits a digit needs to be recognized
=======================================================================

A classifier that learns from a codec's output never sees more than what
was coded, so every representation has a price in bits and an accuracy.
This example measures both for two families of MNIST codes and draws the
frontier, the best accuracy found at each rate:

* JPEG's route: the ``k`` lowest-frequency coefficients of every 8x8 block
  (``BlockDCT``), quantized at a JPEG quality (``PerceptualQuantizer``), fed
  as symbols to a small ``BlockDCTNetClassifier``;
* a vector quantizer's route: ``ResidualVQ`` codes of whole digits, one
  to four codes of 6 bits each, decoded (a sum of one codeword per stage)
  and read by a 5-nearest-neighbours classifier; on so few bits, the
  codebook's geometry helps more than a network learning every code's
  embedding from scratch (``CodeEmbeddingClassifier`` takes the codes as
  tokens; the benchmark compares both).

The baseline, drawn as a line, is a ``PixelNetClassifier`` of the same
size on the 8-bit pixels (6,272 bits a digit).

Rates are the payload of real bitstreams (:class:`~skcompress.codecs.Codec`,
its entropy model fitted on the training digits, the test digits coded),
not estimates. The networks train for a few epochs on 2,000 digits, so the
accuracies are lower than the benchmark's (``benchmarks/bench_learning.py``
trains on 4,000); the shape of the frontier is the point.
"""

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skcompress import BlockDCT, PerceptualQuantizer, ResidualVQ
from skcompress.codecs import Codec
from skcompress.datasets import load_mnist
from skcompress.nets import BlockDCTNetClassifier, PixelNetClassifier

try:
    import matplotlib.pyplot as plt
except ImportError:
    plt = None

X, y = load_mnist(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X[:2500], y[:2500], test_size=500, stratify=y[:2500], random_state=0
)
training = {"max_epochs": 4, "lr": 3e-3, "random_state": 0, "device": "cpu", "n_threads": 1}


def measure(pipe, X_train, X_test):
    """Accuracy on the test digits and payload bits per test digit of a pipeline."""
    pipe.fit(X_train, y_train)
    accuracy = pipe.score(X_test, y_test)
    bits = Codec(pipe).fit(X_train).rate(X_test)["payload_bits_per_sample"]
    return bits, accuracy


# %%
# The baseline: the same kind of network on the 8-bit pixels (6,272 bits a digit)
pixel_net = PixelNetClassifier(widths=(32,), hidden_units=64, **training)
pixel_accuracy = pixel_net.fit(X_train, y_train).score(X_test, y_test)

# %%
# Block DCT symbols
# -----------------
# Fewer coefficients and a coarser quality cost fewer bits.
dct_points = []
for k, quality in [(1, 10), (3, 25), (6, 25), (16, 50)]:
    pipe = make_pipeline(
        BlockDCT(n_coefficients=k, layout="channels_first"),
        PerceptualQuantizer(quality=quality, layout="channels_first"),
        BlockDCTNetClassifier(widths=(32,), hidden_units=64, **training),
    )
    bits, accuracy = measure(pipe, X_train, X_test)
    dct_points.append((f"q{quality} k={k}", bits, accuracy))

# %%
# Residual-VQ codes of whole digits
# ---------------------------------
# Each stage adds one code of 64 codewords (6 bits before entropy coding)
# that refines the previous ones. The classifier sees the decoded digit,
# which is a function of the codes alone: nothing else was sent.
rows_train = X_train.reshape(len(X_train), -1).astype(np.float32)
rows_test = X_test.reshape(len(X_test), -1).astype(np.float32)
rvq_points = []
for stages in (1, 2, 4):
    rvq = ResidualVQ(n_stages=stages, codebook_size=64, n_refine=0, random_state=0)
    pipe = make_pipeline(rvq, FunctionTransformer(rvq.inverse_transform), KNeighborsClassifier(5))
    bits, accuracy = measure(pipe, rows_train, rows_test)
    rvq_points.append((f"{stages}x64", bits, accuracy))

# %%
# The table and the frontier
# --------------------------
points = [("DCT " + p[0], *p[1:]) for p in dct_points] + [
    ("RVQ " + p[0], *p[1:]) for p in rvq_points
]
print(f"{'code':<14}{'bits/digit':>11}{'accuracy':>10}")
print(f"{'pixels (8 bit)':<14}{6272:>11.1f}{pixel_accuracy:>10.1%}")
for name, bits, accuracy in sorted(points, key=lambda p: p[1]):
    print(f"{name:<14}{bits:>11.1f}{accuracy:>10.1%}")

ordered = sorted(points, key=lambda p: p[1])
frontier = [ordered[0]]
for point in ordered[1:]:
    if point[2] > frontier[-1][2]:
        frontier.append(point)
for budget in (16, 32, 64, 128):
    inside = [p for p in points if p[1] <= budget]
    best = max(inside, key=lambda p: p[2]) if inside else None
    print(
        f"best at <= {budget:>3} bits: "
        + (f"{best[2]:.1%} ({best[0]})" if best else "none of these codes")
    )

# %%
# The picture (if matplotlib is installed): every code, and the frontier.
if plt is not None:
    fig, ax = plt.subplots(figsize=(6, 4))
    for label, family in (
        ("block DCT + BlockDCTNet", dct_points),
        ("RVQ, decoded + 5 nearest neighbours", rvq_points),
    ):
        ax.plot([p[1] for p in family], [p[2] for p in family], "o", label=label)
        for name, bits, accuracy in family:
            ax.annotate(
                name, (bits, accuracy), textcoords="offset points", xytext=(4, -10), fontsize=7
            )
    ax.step(
        [p[1] for p in frontier],
        [p[2] for p in frontier],
        "k--",
        where="post",
        lw=1,
        label="frontier",
    )
    ax.axhline(
        pixel_accuracy, color="gray", ls=":", lw=1, label="PixelNet on 8-bit pixels (6,272 bits)"
    )
    ax.set_xscale("log")
    ax.set_xlabel("bits per digit (coded payload)")
    ax.set_ylabel("test accuracy")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="lower right")
    ax.set_title("MNIST: accuracy against coded bits")
    fig.tight_layout()
    plt.show()
