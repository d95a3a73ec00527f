"""``skcompress demo``: the rate-accuracy sweep of JPEG on MNIST, through ``JPEGCodec``."""

import sys
import time

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ..codecs import JPEGCodec
from ..datasets import load_mnist
from ..entropy import BlockContextModel
from ..metrics import rate_scoring

QUALITIES = (5, 10, 25, 50, 75, 90)
N_COEFFICIENTS = 16


def jpeg_sizes(images, quality):
    """Mean bits per image of JPEG files at ``quality``, all 64 coefficients.

    The standard files that :meth:`JPEGCodec.compress
    <skcompress.JPEGCodec.compress>` has libjpeg write (optimized Huffman
    tables). Returns ``(file_bits, scan_bits)``: the whole file, and its
    entropy-coded scan alone (from the end of the start-of-scan header to the
    end-of-image marker), i.e. without the headers and tables that dominate
    a 28x28 file. None when skcompress was built without libjpeg.
    """
    try:
        files = JPEGCodec(quality).fit(images[:1]).compress(images)
    except ImportError:
        return None
    file_bits = scan_bits = 0
    for data in files:
        sos = data.index(b"\xff\xda")
        header = int.from_bytes(data[sos + 2 : sos + 4], "big")
        file_bits += 8 * len(data)
        scan_bits += 8 * (len(data) - (sos + 2 + header) - 2)
    return file_bits / len(images), scan_bits / len(images)


def _context_model():
    # MED prediction of DC fixed: choosing it from the data ("auto") costs more than the
    # rest of the demo here, for the same bits on MNIST.
    return BlockContextModel(dc_prediction="med")


def make_jpeg_pipeline(quality, n_coefficients=N_COEFFICIENTS):
    """The demo's pipeline: JPEG (context-coded symbols), then a linear model."""
    return make_pipeline(
        JPEGCodec(quality, n_coefficients=n_coefficients, entropy=_context_model()),
        StandardScaler(),
        LogisticRegression(C=0.1, max_iter=1000),
    )


def _progress(done, total, label, start, stream):
    # A bar redrawn in place on a terminal; one line per step in a log.
    width = 24
    filled = int(width * done / total)
    line = (
        f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {label:<12}"
        f"{time.perf_counter() - start:6.1f} s"
    )
    tty = getattr(stream, "isatty", lambda: False)()
    stream.write(f"\r{line}" if tty else f"{line}\n")
    stream.flush()


def _all_coefficients_bits(X, folds, y, quality):
    """Held-out bits per digit of all 64 coefficients, context-coded by JPEGCodec.

    The entropy model of each split is fitted on its training digits; the
    length of the held-out digits' streams, headers included, is averaged.
    """
    bits = []
    for train, test in folds.split(X, y):
        codec = JPEGCodec(quality, entropy=_context_model()).fit(X[train])
        bits.append(codec.rate(X[test])["bits_per_sample"])
    return float(np.mean(bits))


def run_demo(qualities=QUALITIES, n_samples=5000, cv=3, n_jobs=None, stream=sys.stdout):
    """Cross-validated accuracy and bits per digit over JPEG qualities.

    For each quality, ``JPEGCodec(quality, n_coefficients=16,
    entropy=...context model...)`` then ``StandardScaler`` and
    ``LogisticRegression`` is cross-validated; the held-out digits are coded
    by the codec fitted on the training folds, and their bytes are the rate
    (:func:`~skcompress.metrics.rate_scoring`).

    Parameters
    ----------
    qualities : sequence of int
        IJG qualities to sweep.
    n_samples : int
        How many of the 5,000 embedded MNIST digits to use.
    cv : int
        Stratified folds.
    n_jobs : int or None
        Passed to :func:`~sklearn.model_selection.cross_validate`.
    stream : file
        Where the table and progress go.

    Returns
    -------
    rows : list of dict
        One per setting: ``representation``, ``quality``, ``bits`` (the
        pipeline's held-out digits coded, 16 coefficients per block),
        ``bits_all`` (all 64 coded), ``jpeg_file_bits``, ``jpeg_scan_bits``
        (the JPEG file of all 64), ``accuracy``, ``accuracy_std``.
    """
    X, y = load_mnist(return_X_y=True)
    X, y = X[:n_samples], y[:n_samples]
    folds = StratifiedKFold(cv, shuffle=True, random_state=0)
    start = time.perf_counter()
    total = len(qualities) + 1
    rows = []
    _progress(0, total, "pixels", start, stream)
    pixels = cross_validate(
        make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=1000)),
        X.reshape(len(X), -1),
        y,
        cv=folds,
        n_jobs=n_jobs,
    )
    rows.append(
        dict(
            representation="pixels (8 bit)",
            quality=None,
            bits=8.0 * X[0].size,
            bits_all=None,
            jpeg_file_bits=None,
            jpeg_scan_bits=None,
            accuracy=pixels["test_score"].mean(),
            accuracy_std=pixels["test_score"].std(),
        )
    )
    for done, quality in enumerate(qualities, start=1):
        _progress(done, total, f"quality {quality}", start, stream)
        scores = cross_validate(
            make_jpeg_pipeline(quality), X, y, cv=folds, scoring=rate_scoring(), n_jobs=n_jobs
        )
        sizes = jpeg_sizes(X, quality) or (None, None)
        rows.append(
            dict(
                representation=f"JPEG q{quality}, {N_COEFFICIENTS} coef/block",
                quality=quality,
                bits=-scores["test_neg_bits_per_sample"].mean(),
                bits_all=_all_coefficients_bits(X, folds, y, quality),
                jpeg_file_bits=sizes[0],
                jpeg_scan_bits=sizes[1],
                accuracy=scores["test_accuracy"].mean(),
                accuracy_std=scores["test_accuracy"].std(),
            )
        )
    _progress(total, total, "done", start, stream)
    stream.write("\n")
    stream.write(format_table(rows, n_samples=len(X), cv=cv))
    stream.write(f"\nfinished in {time.perf_counter() - start:.1f} s\n")
    return rows


def format_table(rows, n_samples, cv):
    """The demo's table as text."""

    def num(value, fmt):
        return "n/a" if value is None else format(value, fmt)

    lines = [
        f"MNIST, {n_samples} digits, {cv}-fold stratified cross-validation of "
        f"JPEGCodec(quality, n_coefficients={N_COEFFICIENTS}),",
        "  StandardScaler and LogisticRegression(C=0.1)",
        "bits/digit: the held-out digits really coded by the codec fitted on the training folds "
        "(entropy: skcompress's",
        f"  context model; headers included), the {N_COEFFICIENTS} coefficients per block that "
        "the classifier sees, and all 64",
        "JPEG: the standard file of all 64 coefficients (JPEGCodec(quality).compress: libjpeg, "
        "optimized Huffman tables),",
        "  whole, and its entropy-coded scan alone",
        "",
        f"{'representation':<30}{'bits/digit':>11}{'all 64':>9}{'JPEG file':>11}"
        f"{'JPEG scan':>11}{'accuracy':>10}",
    ]
    for row in rows:
        lines.append(
            f"{row['representation']:<30}{row['bits']:>11.0f}{num(row['bits_all'], '.0f'):>9}"
            f"{num(row['jpeg_file_bits'], '.0f'):>11}{num(row['jpeg_scan_bits'], '.0f'):>11}"
            f"{row['accuracy']:>9.1%} ± {row['accuracy_std']:.1%}"
        )
    return "\n".join(lines) + "\n"
