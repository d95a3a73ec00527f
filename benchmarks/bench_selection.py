"""Label-aware selection of coefficients: accuracy at equal coded bits against zig-zag first k.

Every row is one pipeline ``transform -> FrequencySelector(k, score_func)
-> quantizer -> StandardScaler -> LogisticRegression``, fitted on the
training split; its bits are what :func:`skcompress.metrics.rate_scoring`
reports for it on the test split (:func:`~skcompress.metrics.coded_bits`:
the bitstreams of :class:`~skcompress.codecs.Codec`, 80-bit header
included, each half of the test samples coded by an entropy model fitted on
the other half). ``score_func="order"`` keeps the transform's own first ``k``
(for a block DCT, bit for bit ``BlockDCT(n_coefficients=k)``: JPEG's zig-zag
first ``k``); "f_classif" and "mutual_info" rank the channels by the ANOVA F
statistic and by the mutual information with the class, computed on the
training split. Accuracy at equal bits: each selector's accuracy is
interpolated (linearly in bits, between its two nearest ``k``) at the bits of
each zig-zag row; "-" where the zig-zag rate lies outside the selector's
measured range.

(a) **MNIST** (``--mnist``): the 5,000 embedded digits, a fixed stratified
    4,000 / 1,000 split; ``BlockDCT() -> FrequencySelector(k) ->
    PerceptualQuantizer(quality=50)`` (JPEG's luminance table at the kept
    frequencies), channels the 64 frequencies of the 8x8 blocks, scores
    pooled (mean) over the 4x4 grid of blocks.
(b) **Spoken digits** (``--speech``): the 2,520 embedded words at 8 kHz,
    split by voice (a fifth of the voices held out,
    :func:`_common.voice_split`); ``MDCT(256) -> FrequencySelector(k) ->
    PerceptualQuantizer(step 256 for every bin)``, channels the 128 bins
    (31.25 Hz each), scores pooled over the 63 frames; the classifier reads
    ``log(1 + |symbol|)``. Bits per clip are bits per second (1 s clips).
    "mutual_info" is left out: its nearest-neighbour estimate over the 8,064
    values of a clip takes too long.
(c) **Quantization-table search** (``--tables``): MNIST as in (a), all 64
    coefficients, ``PerceptualQuantizer(table=FrequencyRampTable(base,
    slope))``, the ramp ``base * (1 + slope * (i + j))`` along the zig-zag
    scan, or along the frequencies ranked by the F statistic of the training
    digits (``scores=FrequencySelector("all").fit(...).score_map()``), over
    the same grid of ``base`` and ``slope``; the table gives the best accuracy
    of each family within a budget of bits.

(d) **Photograph crops** (``--crops``): the task of ``bench_jpeg_task.py``
    (which of the 7 photographs a 64x64 crop comes from; train crops from
    the left 60% of each photograph, test crops from the right 40%), 300 /
    100 crops per class written as q75 4:2:0 files and decoded by Pillow;
    ``ColorTransform() -> ChromaSubsampler() -> BlockDCT() ->
    FrequencySelector(k) -> PerceptualQuantizer(quality=75)``, JPEG's
    minimum coded units, channels the 192 (component, frequency) pairs (the
    four luma blocks of an MCU share theirs); the classifier reads each
    kept value's mean over the 4x4 MCUs and its mean ``log(1 + |symbol|)``
    (what a crop's texture and colour are, wherever it was cut). "order"
    with ``k = 3 m`` is ``BlockDCT(n_coefficients=m)``: the zig-zag first
    ``m`` of Y, Cb and Cr.

Usage::

    python benchmarks/bench_selection.py [--quick] [--json PATH] [--mnist] [--speech]
        [--tables] [--crops] [--threads 1] [--seed 0]

(no part named: all four; ``--quick``: a fifth of the data, few ``k``, no
mutual information: a smoke test whose figures mean little).
"""

import time
import warnings

import _common
import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_selection import mutual_info_classif
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from skcompress import (
    MDCT,
    BlockDCT,
    ChromaSubsampler,
    ColorTransform,
    FrequencySelector,
    PerceptualQuantizer,
)
from skcompress._core._structure import structure_of
from skcompress.datasets import load_mnist, load_spoken_digits
from skcompress.metrics import coded_bits
from skcompress.quantization import FrequencyRampTable

LOGREG = {"C": 0.1, "max_iter": 500}


class CachedScore:
    """A score function computed once per training set, for the fits at every ``k``.

    The selector of every ``k`` scores the same training values; the mutual
    information of 1,024 columns takes a minute, so it is computed once.
    """

    def __init__(self, function, **kwargs):
        self.function, self.kwargs, self.cache = function, kwargs, {}

    def __call__(self, X, y):
        key = (X.shape, float(np.sum(X, dtype=np.float64)), float(np.sum(y)))
        if key not in self.cache:
            self.cache[key] = self.function(X, y, **self.kwargs)
        return self.cache[key]


def log_magnitude(B):
    return np.log1p(np.abs(np.asarray(B, dtype=np.float32)))


def evaluate(pipe, Xtr, ytr, Xte, yte):
    """(coded bits per test sample, accuracy, fit seconds)."""
    start = time.perf_counter()
    pipe.fit(Xtr, ytr)
    fit_s = time.perf_counter() - start
    return coded_bits(pipe, Xte), float(np.mean(pipe.predict(Xte) == yte)), fit_s


def at_bits(curve, bits):
    """Accuracy of a ``[(bits, accuracy), ...]`` curve at ``bits``, linear in between."""
    points = sorted(curve)
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    if not xs[0] <= bits <= xs[-1]:
        return None
    return float(np.interp(bits, xs, ys))


def selection_part(report, args, label, data, make_steps, scores, ks, unit):
    """The raw rows and the equal-bits table of one data set."""
    Xtr, ytr, Xte, yte = data
    raw = report.table(
        f"({label}) every k: {len(Xtr)} training / {len(Xte)} test samples",
        [
            ("score_func", "s"),
            ("k", "d"),
            (unit, ".0f"),
            ("accuracy", ".1%"),
            ("fit s", ".1f"),
            ("kept (first 8)", "s"),
        ],
        live=True,
    )
    curves = {name: [] for name in scores}
    for name, score in scores.items():
        for k in ks:
            pipe = make_steps(FrequencySelector(k, score_func=score, random_state=args.seed))
            bits, accuracy, fit_s = evaluate(pipe, Xtr, ytr, Xte, yte)
            curves[name].append((bits, accuracy))
            selector = next(s for s in pipe if isinstance(s, FrequencySelector))
            kept = " ".join(map(str, selector.positions_[:8].tolist()))
            raw.add(name, k, bits, accuracy, fit_s, kept)
    report.show(raw)
    others = [name for name in scores if name != "order"]
    equal = report.table(
        f"({label}) accuracy at equal coded bits: zig-zag first k against the selectors",
        [("k (first k)", "d"), (unit, ".0f"), ("first k", ".1%")]
        + [(f"{name} at same bits", ".1%") for name in others]
        + [(f"gain ({others[0]})", "+.1%")],
    )
    for k, (bits, accuracy) in zip(ks, curves["order"], strict=True):
        chosen = [at_bits(curves[name], bits) for name in others]
        gain = None if chosen[0] is None else chosen[0] - accuracy
        equal.add(k, bits, accuracy, *chosen, gain)
    report.show(equal)
    return curves


def part_mnist(report, args):
    X, y = load_mnist(return_X_y=True)
    if args.quick:
        X, y = X[:1000], y[:1000]
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.2, stratify=y, random_state=args.seed)

    def make_steps(selector):
        return make_pipeline(
            BlockDCT(),
            selector,
            PerceptualQuantizer(quality=50),
            StandardScaler(),
            LogisticRegression(**LOGREG),
        )

    scores = {"order": "order", "f_classif": "f_classif"}
    if not args.quick:
        scores["mutual_info"] = CachedScore(mutual_info_classif, random_state=args.seed)
    ks = (2, 6) if args.quick else (1, 2, 3, 4, 6, 8, 10, 12, 16, 20, 24, 32)
    selection_part(report, args, "a", (Xtr, ytr, Xte, yte), make_steps, scores, ks, "bits/digit")


def part_speech(report, args):
    data = load_spoken_digits()
    X, y = data.data, data.target
    train, test, _ = _common.voice_split(data.settings, args.seed)
    if args.quick:
        keep = np.arange(len(X)) % 5 == 0
        train, test = train & keep, test & keep

    def make_steps(selector):
        return make_pipeline(
            MDCT(256),
            selector,
            PerceptualQuantizer(table=np.full(128, 256.0)),
            FunctionTransformer(log_magnitude),
            StandardScaler(),
            LogisticRegression(**LOGREG),
        )

    ks = (2, 8) if args.quick else (1, 2, 4, 6, 8, 12, 16, 24, 32)
    data = (X[train], y[train], X[test], y[test])
    scores = {"order": "order", "f_classif": "f_classif"}
    selection_part(report, args, "b", data, make_steps, scores, ks, "bits/s")


def pooled(Q):
    """Each kept value's mean over the grid of cells, and its mean ``log(1 + |symbol|)``."""
    cells = int(np.prod(structure_of(Q).grid))
    values = np.asarray(Q, dtype=np.float32).reshape(len(Q), cells, -1)
    return np.hstack([values.mean(axis=1), np.log1p(np.abs(values)).mean(axis=1)])


def decode_folder(folder):
    from PIL import Image

    from skcompress.io import JPEGDataset

    files = JPEGDataset(folder)
    images = [np.asarray(Image.open(path).convert("RGB")) for path in files.files]
    return np.stack(images), np.asarray(files.targets)


def part_crops(report, args):
    import bench_jpeg_task

    n_train, n_test = (30, 10) if args.quick else (300, 100)
    with _common.scratch_directory() as folder:
        folders, _ = bench_jpeg_task.write_crops(folder, n_train, n_test, 64, args.seed)
        Xtr, ytr = decode_folder(folders["train"])
        Xte, yte = decode_folder(folders["test"])

    def make_steps(selector):
        return make_pipeline(
            ColorTransform(),
            ChromaSubsampler(),
            BlockDCT(),
            selector,
            PerceptualQuantizer(quality=75),
            FunctionTransformer(pooled),
            StandardScaler(),
            LogisticRegression(**LOGREG),
        )

    scores = {"order": "order", "f_classif": "f_classif"}
    if not args.quick:
        scores["mutual_info"] = CachedScore(mutual_info_classif, random_state=args.seed)
    ks = (3, 6) if args.quick else (1, 2, 3, 4, 6, 9, 12, 18, 24, 36)
    data = (Xtr, ytr, Xte, yte)
    selection_part(report, args, "d", data, make_steps, scores, ks, "bits/crop")


def part_tables(report, args):
    X, y = load_mnist(return_X_y=True)
    if args.quick:
        X, y = X[:1000], y[:1000]
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.2, stratify=y, random_state=args.seed)
    G = BlockDCT().fit_transform(Xtr)
    score_map = FrequencySelector("all").fit(G, ytr).score_map()
    bases = (8, 32) if args.quick else (4, 8, 16, 32, 64, 128)
    slopes = (1.0,) if args.quick else (0.5, 1.0, 2.0, 4.0)
    raw = report.table(
        f"(c) quantization-table search: {len(Xtr)} / {len(Xte)} digits, all 64 coefficients",
        [
            ("ramp along", "s"),
            ("base", "g"),
            ("slope", "g"),
            ("bits/digit", ".0f"),
            ("accuracy", ".1%"),
        ],
        live=True,
    )
    curves = {"zig-zag": [], "F scores": []}
    for along, scores in (("zig-zag", None), ("F scores", score_map)):
        for base in bases:
            for slope in slopes:
                table = FrequencyRampTable(base, slope, scores=scores)
                pipe = make_pipeline(
                    BlockDCT(),
                    PerceptualQuantizer(table=table),
                    StandardScaler(),
                    LogisticRegression(**LOGREG),
                )
                bits, accuracy, _ = evaluate(pipe, Xtr, ytr, Xte, yte)
                curves[along].append((bits, accuracy))
                raw.add(along, base, slope, bits, accuracy)
    report.show(raw)
    every = sorted(b for curve in curves.values() for b, _ in curve)
    budgets = np.unique(np.quantile(every, [0.1, 0.25, 0.5, 0.75, 1.0]).round(-1))
    best = report.table(
        "(c) best accuracy within a budget of bits: ramp along zig-zag vs along F scores",
        [("bits/digit at most", ".0f"), ("zig-zag ramp", ".1%"), ("F-score ramp", ".1%")],
    )
    for budget in budgets:
        row = []
        for name in ("zig-zag", "F scores"):
            within = [a for b, a in curves[name] if b <= budget]
            row.append(max(within) if within else None)
        best.add(float(budget), *row)
    report.show(best)


def main(argv=None):
    parser = _common.parser(__doc__, threads=1)
    parser.add_argument("--mnist", action="store_true")
    parser.add_argument("--speech", action="store_true")
    parser.add_argument("--tables", action="store_true")
    parser.add_argument("--crops", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    report = _common.Report(__file__, __doc__, args, argv)
    everything = not (args.mnist or args.speech or args.tables or args.crops)
    warnings.filterwarnings("ignore", category=ConvergenceWarning)  # lbfgs at max_iter
    with _common.limit_threads(args.threads):
        if everything or args.mnist:
            part_mnist(report, args)
        if everything or args.speech:
            part_speech(report, args)
        if everything or args.tables:
            part_tables(report, args)
        if everything or args.crops:
            part_crops(report, args)
    return report.finish()


if __name__ == "__main__":
    main()
