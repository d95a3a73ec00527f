"""``skcompress sweep``: rate-accuracy and rate-distortion sweeps from the command line."""

import csv
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import Bunch

from ..codecs import CELTCodec, HEVCIntraCodec, JPEG2000Codec, JPEGCodec, MP3Codec
from ..quantization import PerceptualQuantizer
from ..transforms import MDCT, WaveletTransform
from ._demo import N_COEFFICIENTS, _progress

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".bmp", ".gif", ".tif", ".tiff")

# name: (signal kind, parameter swept, default values, steps factory, accuracy steps factory,
# what writes the bitstreams)
CODECS = {
    "jpeg": dict(
        signal="image",
        param="jpegcodec__quality",
        values=(5, 10, 25, 50, 75, 90),
        label="IJG quality",
        # JPEG as one step, whose bitstreams are its own (the symbols context-coded)
        steps=lambda: [JPEGCodec(entropy="context")],
        # A classifier sees the 16 lowest frequencies of every block (as the demo does).
        accuracy_steps=lambda: [JPEGCodec(n_coefficients=N_COEFFICIENTS, entropy="context")],
        coder="JPEGCodec(entropy='context')",
    ),
    "jpeg2000": dict(
        signal="image",
        param="jpeg2000codec__bits_per_pixel",
        values=(0.25, 0.5, 1.0, 2.0, 4.0),
        label="bits per pixel",
        # JPEG 2000 as one step: rate control to the target, its own bitstreams
        steps=lambda: [JPEG2000Codec()],
        accuracy_steps=lambda: [JPEG2000Codec()],
        coder="JPEG2000Codec (EBCOT, MQ coder)",
    ),
    "hevc": dict(
        signal="image",
        param="hevcintracodec__qp",
        values=(47, 42, 37, 32, 27, 22),
        label="QP",
        # HEVC intra as one step: prediction, quad-tree and its own bitstreams
        steps=lambda: [HEVCIntraCodec()],
        accuracy_steps=lambda: [HEVCIntraCodec()],
        coder="HEVCIntraCodec (adaptive binary range coder)",
    ),
    "mp3": dict(
        signal="audio",
        param="mp3codec__bitrate",
        values=(2.0, 4.0, 8.0, 16.0),
        label="target kbit/s",
        # MP3's loops as one step (8 kHz: MPEG-2.5's bands), its own bitstreams; int16 samples
        steps=lambda: [MP3Codec(sample_rate=8000, full_scale=32768)],
        accuracy_steps=lambda: [MP3Codec(sample_rate=8000, full_scale=32768)],
        coder="MP3Codec (Layer III loops, range coded)",
    ),
    "celt": dict(
        signal="audio",
        param="celtcodec__bitrate",
        values=(2.0, 4.0, 8.0, 16.0),
        label="target kbit/s",
        # CELT as one step: band energies, allocation, PVQ shapes, its own bitstreams
        steps=lambda: [CELTCodec(sample_rate=8000, full_scale=32768)],
        accuracy_steps=lambda: [CELTCodec(sample_rate=8000, full_scale=32768)],
        coder="CELTCodec (range coded)",
    ),
    "wavelet": dict(
        signal="image",
        param="perceptualquantizer__table",
        values=(96.0, 48.0, 24.0, 12.0, 6.0),
        label="uniform step",
        steps=lambda: [
            WaveletTransform("cdf97"),
            PerceptualQuantizer(table=1.0, deadzone=0.375),
        ],
        accuracy_steps=None,
        coder="skcompress.codecs.Codec",
    ),
    "mdct": dict(
        signal="audio",
        param="perceptualquantizer__table",
        values=(2048.0, 1024.0, 512.0, 256.0, 128.0),
        label="uniform step",
        steps=lambda: [MDCT(frame_length=256), PerceptualQuantizer(table=1.0)],
        accuracy_steps=None,
        coder="skcompress.codecs.Codec",
    ),
}
EMBEDDED = ("mnist", "spoken-digits", "photographs")


def load_sweep_data(data, *, size=None, n_samples=None, unreadable="skip"):
    """Signals and labels for a sweep: an embedded data set or a folder of images.

    Parameters
    ----------
    data : str or path-like
        "mnist", "spoken-digits", "photographs", or a folder. In a folder,
        images in sub-folders are labelled by the sub-folder's name (one
        class per sub-folder, as torchvision's ``ImageFolder``); images
        directly inside it have no labels. Every file with an image's
        extension (``IMAGE_EXTENSIONS``) is read with Pillow and converted
        to gray.
    size : int or None
        Side of the square to which every image of a folder (or of
        "photographs", default 256) is centre-cropped and resized; None
        keeps a folder's images as they are (they must then all have one
        shape). Ignored by "mnist" and "spoken-digits".
    n_samples : int or None
        Keep the first ``n_samples`` (the embedded sets are shuffled).
    unreadable : {"skip", "raise"}, default="skip"
        A file of a folder that Pillow cannot read (not an image, truncated,
        a decompression bomb, no permission): "skip" leaves it out with one
        ``UserWarning`` that names the files skipped; "raise" raises a
        ValueError naming it. A folder with no readable image raises either
        way.

    Returns
    -------
    X : ndarray
        uint8 images ``(n, H, W)`` or int16 audio ``(n, length)``.
    y : ndarray or None
        Integer labels, None when there are none.
    description : str

    Examples
    --------
    >>> X, y, text = load_sweep_data("mnist", n_samples=100)
    >>> X.shape, y.shape, text
    ((100, 28, 28), (100,), 'MNIST (embedded)')
    """
    from ..datasets import load_mnist, load_photographs, load_spoken_digits

    if data == "mnist":
        X, y = load_mnist(return_X_y=True)
        description = "MNIST (embedded)"
    elif data == "spoken-digits":
        X, y = load_spoken_digits(return_X_y=True)
        description = "spoken digits, 8 kHz (embedded)"
    elif data == "photographs":
        X, y = load_photographs(size=size or 256).images, None
        description = "photographs (scikit-learn's and scikit-image's)"
    else:
        X, y = _read_folder(Path(data), size, unreadable)
        description = f"images in {data}"
    if n_samples is not None:
        X = X[:n_samples]
        y = None if y is None else y[:n_samples]
    return X, y, description


def _square(image, size):
    from ..datasets._photographs import _square as square

    return square(image, size)


def _read_folder(root, size, unreadable="skip"):
    if unreadable not in ("skip", "raise"):
        raise ValueError(f"unreadable must be 'skip' or 'raise'; got {unreadable!r}.")
    try:
        from PIL import Image
    except ImportError as error:
        message = "skcompress sweep on a folder needs Pillow (pip install Pillow)"
        raise ImportError(message) from error
    if not root.is_dir():
        raise ValueError(
            f"--data must be one of {', '.join(EMBEDDED)} or a folder of images; got {root!s}, "
            "which is not a folder."
        )

    def images_in(folder):
        return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS)

    classes = sorted(p for p in root.iterdir() if p.is_dir() and images_in(p))
    if classes:
        paths = [
            (path, label) for label, folder in enumerate(classes) for path in images_in(folder)
        ]
    else:
        paths = [(path, None) for path in images_in(root)]
    if not paths:
        raise ValueError(f"no images ({', '.join(IMAGE_EXTENSIONS)}) found in {root!s}.")
    images, labels, skipped = [], [], []
    for path, label in paths:
        try:
            with Image.open(path) as image:
                gray = np.asarray(image.convert("L"))
        except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError) as error:
            # UnidentifiedImageError and truncated files are OSErrors; plugins raise the others.
            reason = " ".join(str(error).split()) or type(error).__name__
            if unreadable == "raise":
                raise ValueError(f"Pillow cannot read {path!s}: {reason}") from error
            skipped.append(f"{path.relative_to(root)} ({reason})")
            continue
        images.append(gray if size is None else _square(gray, size))
        labels.append(label)
    if not images:
        raise ValueError(
            f"Pillow can read no image in {root!s} ({len(paths)} files with an image's "
            f"extension, e.g. {skipped[0]})."
        )
    if skipped:
        shown = ", ".join(skipped[:3]) + (
            f" and {len(skipped) - 3} more" if len(skipped) > 3 else ""
        )
        warnings.warn(
            f"skipped {len(skipped)} of {len(paths)} files in {root!s} that Pillow cannot read: "
            f"{shown}",
            UserWarning,
            stacklevel=3,
        )
    shapes = {image.shape for image in images}
    if len(shapes) > 1:
        raise ValueError(
            f"the images in {root!s} have {len(shapes)} different shapes (e.g. "
            f"{sorted(shapes)[:3]}); pass --size to crop and resize them to one square."
        )
    y = None if not classes else np.array(labels)
    return np.stack(images), y


def run_sweep(
    X,
    y=None,
    *,
    codec="jpeg",
    kind="auto",
    values=None,
    cv=3,
    baseline=True,
    description="",
    progress=sys.stderr,
    stream=sys.stdout,
    n_jobs=None,
):
    """Rate and accuracy (or distortion) of one codec at several settings.

    ``kind="accuracy"``: for every value, :func:`~skcompress.metrics.rate_accuracy_curve`
    cross-validates the codec's steps followed by ``StandardScaler`` and
    ``LogisticRegression(C=0.1)``, and codes the held-out fold for real.
    ``kind="distortion"``: :func:`~skcompress.metrics.rate_distortion_curve`
    codes every signal with steps and entropy model fitted on the other half.
    Bits are the length of real bitstreams
    (:class:`~skcompress.codecs.Codec`, headers included).

    Parameters
    ----------
    X : ndarray
        Images ``(n, H, W)`` for "jpeg", "jpeg2000", "hevc" and "wavelet", 1-D signals
        ``(n, length)`` for "mdct", "mp3" and "celt" (int16 samples at 8 kHz for "mp3"
        and "celt").
    y : ndarray or None
        Labels, needed for ``kind="accuracy"``.
    codec : {"jpeg", "jpeg2000", "hevc", "mp3", "celt", "wavelet", "mdct"}
        The codec: :class:`~skcompress.JPEGCodec` (its symbols coded by its
        own context model; 16 coefficients per block for a classifier),
        :class:`~skcompress.JPEG2000Codec` (its own bitstreams; a classifier
        reads its subbands), :class:`~skcompress.HEVCIntraCodec` (its own
        bitstreams; a classifier reads its levels and maps),
        :class:`~skcompress.MP3Codec` or :class:`~skcompress.CELTCodec` (their
        own bitstreams; a classifier reads their symbols), or a transform
        and quantizer coded by :class:`~skcompress.codecs.Codec`. The
        parameter swept is the IJG quality for "jpeg", the target bits per
        pixel for "jpeg2000", the QP for "hevc", the target kbit/s for "mp3"
        and "celt" and a uniform quantization step otherwise.
    kind : {"auto", "accuracy", "distortion"}
        "auto": "accuracy" when there are labels.
    values : sequence or None
        Settings to sweep; None takes the codec's defaults.
    cv : int
        Stratified folds (accuracy).
    baseline : bool
        With ``kind="accuracy"``, add the same classifier on the raw samples
        (8 bits per pixel, 16 per audio sample) as the first row.
    description : str
        Name of the data for the table's header.
    progress, stream : file or None
        Where the progress bar and the table go (None: nowhere).
    n_jobs : int or None
        Parallel fits within each setting (the folds; the two halves of a
        rate-distortion sweep), as ``cross_validate``'s ``n_jobs``.

    Returns
    -------
    rows : list of dict
        One per setting (and the baseline first): ``setting``, ``value``,
        ``bits_per_sample``, ``bits_per_value``, and ``accuracy`` and
        ``accuracy_std`` or ``mse``, ``psnr``, ``snr`` and ``ssim``.

    Examples
    --------
    >>> from skcompress.datasets import load_mnist
    >>> X = load_mnist().images[:60]
    >>> rows = run_sweep(X, codec="jpeg", values=[20, 80], progress=None, stream=None)
    >>> [row["value"] for row in rows], bool(rows[0]["bits_per_value"] < rows[1]["bits_per_value"])
    ([20, 80], True)
    """
    from ..metrics import rate_accuracy_curve, rate_distortion_curve

    if codec not in CODECS:
        raise ValueError(f"codec must be one of {sorted(CODECS)}; got {codec!r}.")
    spec = CODECS[codec]
    X = np.asarray(X)
    wanted_ndim = 3 if spec["signal"] == "image" else 2
    if X.ndim != wanted_ndim:
        what = "gray images (n, H, W)" if wanted_ndim == 3 else "1-D signals (n, length)"
        raise ValueError(f"codec {codec!r} takes {what}; got data of shape {X.shape}.")
    if kind == "auto":
        kind = "accuracy" if y is not None else "distortion"
    if kind not in ("accuracy", "distortion"):
        raise ValueError(f"kind must be 'auto', 'accuracy' or 'distortion'; got {kind!r}.")
    if kind == "accuracy" and y is None:
        raise ValueError("a rate-accuracy sweep needs labels; these data have none.")
    values = list(spec["values"] if values is None else values)
    start = time.perf_counter()
    total = len(values) + (kind == "accuracy" and baseline)
    step = 0
    rows = []
    value_bits = 8 if X.dtype == np.uint8 else 8 * X.dtype.itemsize
    values_per_sample = int(np.prod(X.shape[1:]))

    def tick(label):
        if progress is not None:
            _progress(step, total, label, start, progress)

    if kind == "accuracy":
        classifier = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=1000))
        folds = StratifiedKFold(cv, shuffle=True, random_state=0)
        if baseline:
            tick("raw samples")
            scores = cross_val_score(
                clone(classifier), X.reshape(len(X), -1), y, cv=folds, n_jobs=n_jobs
            )
            rows.append(
                dict(
                    setting="raw samples",
                    value=None,
                    bits_per_sample=float(value_bits * values_per_sample),
                    bits_per_value=float(value_bits),
                    accuracy=float(scores.mean()),
                    accuracy_std=float(scores.std()),
                )
            )
            step += 1
        make_steps = spec["accuracy_steps"] or spec["steps"]
        for value in values:
            tick(f"{spec['label']} {value}")
            pipe = make_pipeline(
                *make_steps(), StandardScaler(), LogisticRegression(C=0.1, max_iter=1000)
            )
            if _whole_codec(pipe[0]):
                table = _whole_codec_accuracy(pipe, X, y, spec["param"], value, folds, n_jobs)
            else:
                table = rate_accuracy_curve(
                    pipe, X, y, spec["param"], [value], cv=folds, n_jobs=n_jobs
                )
            rows.append(_row(spec, value, table, ("accuracy", "accuracy_std")))
            step += 1
    else:
        power = float(np.mean(np.asarray(X, dtype=np.float64) ** 2))
        for value in values:
            tick(f"{spec['label']} {value}")
            steps = make_pipeline(*spec["steps"]())
            if _whole_codec(steps[0]):
                table = _whole_codec_distortion(steps, X, spec["param"], value, n_jobs)
            else:
                table = rate_distortion_curve(steps, X, spec["param"], [value], n_jobs=n_jobs)
            row = _row(spec, value, table, ("mse", "psnr", "ssim"))
            with np.errstate(divide="ignore"):
                row["snr"] = float(10 * np.log10(power / row["mse"])) if row["mse"] else np.inf
            rows.append(row)
            step += 1
    tick("done")
    if progress is not None:
        progress.write("\n")
        progress.flush()
    if stream is not None:
        stream.write(
            format_sweep_table(
                rows, codec=codec, kind=kind, description=description, n_samples=len(X), cv=cv
            )
        )
        stream.write(f"finished in {time.perf_counter() - start:.1f} s\n")
    return rows


def _whole_codec(step):
    """Whether ``step`` writes its own bitstreams (``JPEGCodec``): no Codec around it."""
    return callable(getattr(step, "compress", None)) and not hasattr(step, "bits_per_sample")


def _values_per_sample(X):
    return int(np.prod(X.shape[1:3]))  # pixels of an image (channels count once)


def _whole_codec_accuracy(pipe, X, y, param, value, folds, n_jobs):
    """Accuracy and held-out bits of a pipeline that starts with a whole codec.

    The codec is fitted with the classifier on the training folds (its entropy
    model too) and writes the held-out images (:func:`~skcompress.metrics.rate_scoring`).
    """
    from ..metrics import rate_scoring

    scores = cross_validate(
        clone(pipe).set_params(**{param: value}),
        X,
        y,
        cv=folds,
        scoring=rate_scoring(),
        n_jobs=n_jobs,
    )
    bits = -scores["test_neg_bits_per_sample"]
    return Bunch(
        bits_per_sample=[bits.mean()],
        bits_per_value=[bits.mean() / _values_per_sample(X)],
        accuracy=[scores["test_accuracy"].mean()],
        accuracy_std=[scores["test_accuracy"].std()],
    )


def _code_half(steps, X, train, test, param, value, with_ssim):
    from ..metrics._curves import _distortion

    codec = clone(steps).set_params(**{param: value}).fit(X[train])[0]
    strings = codec.compress(X[test])
    bits = 8 * np.mean([len(s) for s in strings])
    row = {"bits_per_sample": bits, "bits_per_value": bits / _values_per_sample(X)}
    row.update(_distortion(X[test], codec.decompress(strings), None, with_ssim))
    return len(test), row


def _whole_codec_distortion(steps, X, param, value, n_jobs):
    """Bits and distortion of a whole codec, each half of ``X`` coded by one fitted on the other.

    As :func:`~skcompress.metrics.rate_distortion_curve` does for steps and a
    :class:`~skcompress.codecs.Codec`; here the codec's own bitstreams.
    """
    from ..metrics._curves import _wants_ssim

    halves = [np.arange(0, len(X), 2), np.arange(1, len(X), 2)]
    with_ssim = _wants_ssim("auto", X)
    pieces = Parallel(n_jobs=n_jobs)(
        delayed(_code_half)(steps, X, train, test, param, value, with_ssim)
        for train, test in ((halves[1], halves[0]), (halves[0], halves[1]))
    )
    total = sum(n for n, _ in pieces)
    return Bunch(**{key: [sum(n * r[key] for n, r in pieces) / total] for key in pieces[0][1]})


def _row(spec, value, table, keys):
    row = dict(
        setting=f"{spec['label']} {value}",
        value=value,
        bits_per_sample=float(table.bits_per_sample[0]),
        bits_per_value=float(table.bits_per_value[0]),
    )
    row.update({key: float(table[key][0]) for key in keys})
    return row


def format_sweep_table(rows, *, codec, kind, description, n_samples, cv):
    """The sweep's rows as a text table.

    Parameters
    ----------
    rows : list of dict
        As :func:`run_sweep` returns them.
    codec, kind, description : str
    n_samples, cv : int

    Returns
    -------
    text : str

    Examples
    --------
    >>> rows = [dict(setting="IJG quality 50", value=50, bits_per_sample=900.0,
    ...              bits_per_value=1.15, mse=20.0, psnr=35.1, snr=20.0, ssim=0.95)]
    >>> print(format_sweep_table(rows, codec="jpeg", kind="distortion", description="MNIST",
    ...                          n_samples=10, cv=3))  # doctest: +NORMALIZE_WHITESPACE
    rate-distortion of the jpeg codec on MNIST, 10 samples; ...
    setting           bits/sample  bits/value  PSNR dB  SNR dB   SSIM
    IJG quality 50            900       1.150    35.10   20.00  0.950
    """
    unit = "pixel" if CODECS[codec]["signal"] == "image" else "audio sample"
    if kind == "accuracy":
        header = (
            f"rate-accuracy of the {codec} codec on {description}, {n_samples} samples; "
            f"{cv}-fold stratified cross-validation, StandardScaler + LogisticRegression(C=0.1)"
        )
        columns = f"{'setting':<18}{'bits/sample':>12}{'bits/value':>12}{'accuracy':>10}"
    else:
        header = (
            f"rate-distortion of the {codec} codec on {description}, {n_samples} samples; "
            "each half coded with steps and entropy model fitted on the other"
        )
        columns = (
            f"{'setting':<18}{'bits/sample':>12}{'bits/value':>12}{'PSNR dB':>9}{'SNR dB':>8}"
            f"{'SSIM':>7}"
        )
    lines = [
        header,
        f"bits: real bitstreams ({CODECS[codec]['coder']}, headers included); value = {unit}",
        "",
        columns,
    ]
    for row in rows:
        line = f"{row['setting']:<18}{row['bits_per_sample']:>12.0f}{row['bits_per_value']:>12.3f}"
        if kind == "accuracy":
            line += f"{row['accuracy']:>9.1%} ± {row['accuracy_std']:.1%}"
        else:
            ssim = "n/a" if np.isnan(row["ssim"]) else f"{row['ssim']:.3f}"
            line += f"{row['psnr']:>9.2f}{row['snr']:>8.2f}{ssim:>7}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def write_csv(rows, path):
    """Write the sweep's rows to a CSV file, one column per key.

    Parameters
    ----------
    rows : list of dict
    path : str or path-like

    Examples
    --------
    >>> import csv, os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "sweep.csv")
    >>> write_csv([dict(setting="q 50", value=50, bits_per_sample=900.0)], path)
    >>> next(csv.DictReader(open(path)))["bits_per_sample"]
    '900.0'
    """
    keys = list(dict.fromkeys(key for row in rows for key in row))
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=keys)
        writer.writeheader()
        for row in rows:
            writer.writerow({key: "" if row.get(key) is None else row.get(key) for key in keys})


PLOT_EXTRA = 'pip install "skcompress[plot]"'


def check_plot_path(path):
    """Refuse, before any work, a figure path that :func:`plot_sweep` cannot write.

    Parameters
    ----------
    path : str or path-like
        Its extension must be a format matplotlib writes (png, pdf, svg,
        ...) and its folder must exist.

    Raises
    ------
    ImportError
        matplotlib is missing (the message names ``skcompress[plot]``).
    ValueError
        The extension or the folder is wrong.

    Examples
    --------
    >>> check_plot_path("curve.png")
    >>> check_plot_path("curve.xyz")
    Traceback (most recent call last):
    ...
    ValueError: --plot must end in a format matplotlib writes (...); got 'curve.xyz'.
    """
    try:
        from matplotlib.backend_bases import FigureCanvasBase
    except ImportError as error:
        raise ImportError(f"--plot needs matplotlib: {PLOT_EXTRA}") from error
    formats = sorted(FigureCanvasBase.get_supported_filetypes())
    path = Path(path)
    if path.suffix.lower().lstrip(".") not in formats:
        raise ValueError(
            f"--plot must end in a format matplotlib writes ({', '.join(formats)}); "
            f"got {str(path)!r}."
        )
    _check_folder("--plot", path)


def _check_folder(option, path):
    folder = Path(path).parent
    if not folder.is_dir():
        raise ValueError(f"{option} {str(path)!r}: the folder {str(folder)!r} does not exist.")
    if Path(path).is_dir():
        raise ValueError(f"{option} {str(path)!r} is a folder; give a file name.")


def check_csv_path(path):
    """Refuse, before any work, a CSV path whose folder does not exist.

    Examples
    --------
    >>> check_csv_path("no/such/folder/sweep.csv")
    Traceback (most recent call last):
    ...
    ValueError: --csv 'no/such/folder/sweep.csv': the folder 'no/such/folder' does not exist.
    """
    _check_folder("--csv", path)


def plot_sweep(rows, path, *, kind, title=""):
    """Save the sweep as a figure: accuracy (or PSNR) against bits per value.

    Parameters
    ----------
    rows : list of dict
    path : str or path-like
        Image file; the format follows its extension (matplotlib's
        ``savefig``).
    kind : {"accuracy", "distortion"}
    title : str

    Examples
    --------
    >>> import os, tempfile
    >>> rows = [dict(setting="q 10", value=10, bits_per_value=0.5, psnr=28.0),
    ...         dict(setting="q 90", value=90, bits_per_value=2.0, psnr=40.0)]
    >>> path = os.path.join(tempfile.mkdtemp(), "sweep.png")
    >>> plot_sweep(rows, path, kind="distortion")
    >>> os.path.getsize(path) > 0
    True
    """
    from matplotlib.figure import Figure  # no pyplot: the backend of the caller is left alone

    fig = Figure(figsize=(6.4, 4.4))
    ax = fig.subplots()
    coded = [row for row in rows if row["value"] is not None]
    y_key = "accuracy" if kind == "accuracy" else "psnr"
    x = [row["bits_per_value"] for row in coded]
    values = [row[y_key] for row in coded]
    ax.plot(x, values, "o-", label="codec")
    for row, xi, yi in zip(coded, x, values, strict=True):
        ax.annotate(
            str(row["value"]), (xi, yi), textcoords="offset points", xytext=(4, 4), fontsize=8
        )
    for row in rows:
        if row["value"] is None:
            ax.axhline(
                row[y_key],
                color="gray",
                ls="--",
                label=f"{row['setting']} ({row['bits_per_value']:.0f} bits/value)",
            )
    ax.set_xlabel("bits per value (pixel or audio sample)")
    ax.set_ylabel("accuracy" if kind == "accuracy" else "PSNR (dB)")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
