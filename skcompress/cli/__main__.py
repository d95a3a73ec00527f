"""Command line: ``skcompress demo`` and ``skcompress sweep`` (or ``python -m skcompress ...``).

Every argument is checked before any work starts; an error is one line on
stderr (``skcompress sweep: error: ...``) and exit status 2, never a traceback.
"""

import argparse
import math
import sys
import warnings


class _Parser(argparse.ArgumentParser):
    """argparse, with errors on one line: the message, without the usage block."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {' '.join(str(message).split())}\n")


def main(argv=None):
    """Entry point of the ``skcompress`` command."""
    from .. import __version__

    parser = _Parser(prog="skcompress", description="Compressed learning with codec transforms.")
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}", help="print the version"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo",
        help="rate-accuracy sweep of the JPEG path on the embedded MNIST digits",
        description="For several JPEG qualities: JPEGCodec (16 coefficients per block, "
        "context-coded) -> StandardScaler -> LogisticRegression, cross-validated; prints the "
        "held-out bytes per digit and the accuracy beside the pixel baseline and the size of "
        "the standard JPEG file at the same quality.",
    )
    demo.add_argument(
        "--qualities",
        type=int,
        nargs="+",
        metavar="Q",
        help="IJG qualities in 1..100 (default: 5 10 25 50 75 90)",
    )
    demo.add_argument("--n-samples", type=int, default=5000, help="digits to use (<= 5000)")
    demo.add_argument("--cv", type=int, default=3, help="cross-validation folds")
    _add_n_jobs(demo)
    sweep = _add_sweep(commands)
    args = parser.parse_args(argv)
    if args.command == "sweep":
        return _sweep(sweep, args)

    from ._demo import QUALITIES, run_demo

    qualities = args.qualities or QUALITIES
    if any(not 1 <= q <= 100 for q in qualities):
        demo.error(f"--qualities must lie in 1..100; got {qualities}")
    if not 2 * args.cv <= args.n_samples <= 5000:
        demo.error(f"--n-samples must lie in {2 * args.cv}..5000; got {args.n_samples}")
    _check_n_jobs(demo, args.n_jobs)
    try:
        run_demo(qualities, n_samples=args.n_samples, cv=args.cv, n_jobs=args.n_jobs)
    except KeyboardInterrupt:
        demo.exit(130, f"{demo.prog}: interrupted\n")
    return 0


def _add_n_jobs(parser):
    parser.add_argument(
        "--n-jobs",
        type=int,
        default=None,
        metavar="N",
        help="cross-validation folds fitted in parallel (joblib: -1 uses every CPU; default: 1)",
    )


def _check_n_jobs(parser, n_jobs):
    if n_jobs == 0:
        parser.error("--n-jobs must be a positive number of workers, or negative (-1: every CPU)")


def _add_sweep(commands):
    from ._sweep import CODECS

    sweep = commands.add_parser(
        "sweep",
        help="rate-accuracy or rate-distortion sweep of a codec on embedded data or a folder",
        description="Sweep one setting of a codec (the IJG quality of the JPEG path, the "
        "target kbit/s of MP3Codec and CELTCodec, the "
        "quantization step of the wavelet or MDCT path). Rate-accuracy: cross-validated "
        "accuracy of StandardScaler + LogisticRegression after the codec, beside the bits of "
        "the held-out signals really coded. Rate-distortion: bits, PSNR, SNR and SSIM of every "
        "signal coded with steps fitted on the other half. A progress bar goes to stderr, the "
        "table to stdout. Every argument, the output paths and the input folder are checked "
        "before the sweep starts; files of the folder that Pillow cannot read are skipped with "
        "a warning that names them.",
        epilog="examples: skcompress sweep --data mnist --n-samples 1000;  skcompress sweep "
        "--data photographs --codec wavelet --plot rd.png;  skcompress sweep --data "
        "spoken-digits --codec mdct --kind distortion --n-samples 100;  skcompress sweep --data "
        "spoken-digits --codec celt --values 2 4 8 16;  skcompress sweep "
        "--data ./my_images --size 128 --csv sweep.csv (sub-folders are classes)",
    )
    sweep.add_argument(
        "--data",
        default="mnist",
        metavar="DATA",
        help="mnist, spoken-digits, photographs, or a folder of images (JPEG, PNG, ...), "
        "one sub-folder per class for rate-accuracy (default: mnist)",
    )
    sweep.add_argument(
        "--codec",
        choices=sorted(CODECS),
        default=None,
        help="jpeg (JPEGCodec over IJG qualities, context-coded), jpeg2000 (JPEG2000Codec over "
        "target bits per pixel), hevc (HEVCIntraCodec over QPs), mp3 (audio; MP3Codec over "
        "target kbit/s), celt (audio; CELTCodec over target kbit/s), wavelet (CDF 9/7 + "
        "deadzone quantizer over steps) or mdct (audio; uniform steps); default: mdct for "
        "spoken-digits, jpeg otherwise",
    )
    sweep.add_argument(
        "--kind",
        choices=("auto", "accuracy", "distortion"),
        default="auto",
        help="rate-accuracy (needs labels) or rate-distortion; auto: accuracy when the data "
        "have labels",
    )
    sweep.add_argument(
        "--values",
        type=float,
        nargs="+",
        metavar="V",
        help="settings to sweep (qualities 1..100 for jpeg, bits per pixel > 0 for jpeg2000, "
        "QPs 0..51 for hevc, kbit/s > 0 for mp3 and celt, steps > 0 otherwise)",
    )
    sweep.add_argument("--n-samples", type=int, default=None, help="use the first N samples")
    sweep.add_argument(
        "--size",
        type=int,
        default=None,
        help=f"crop and resize images to SIZE x SIZE ({_SIZES[0]}..{_SIZES[1]})",
    )
    sweep.add_argument("--cv", type=int, default=3, help="cross-validation folds (accuracy)")
    _add_n_jobs(sweep)
    sweep.add_argument(
        "--no-baseline", action="store_true", help="skip the classifier on the raw samples"
    )
    sweep.add_argument("--csv", metavar="PATH", help="also write the table as CSV")
    sweep.add_argument(
        "--plot",
        metavar="PATH",
        help="also save a figure (PNG, SVG, PDF...; needs matplotlib: "
        'pip install "skcompress[plot]")',
    )
    sweep.add_argument("--quiet", action="store_true", help="no progress bar")
    return sweep


# Images are resized to at most this square: larger ones only exhaust memory on a sweep.
_SIZES = (8, 4096)


def _check_sweep_arguments(parser, args, codec):
    """Everything that can be refused without reading data; returns the values to sweep."""
    from ._sweep import check_csv_path, check_plot_path

    values = args.values
    if values is not None:
        if not all(math.isfinite(v) for v in values):
            parser.error(f"--values must be finite numbers; got {values}")
        if codec == "jpeg":
            if any(v != int(v) or not 1 <= v <= 100 for v in values):
                parser.error(f"--values for jpeg must be qualities in 1..100; got {values}")
            values = [int(v) for v in values]
        elif codec == "hevc":
            if any(v != int(v) or not 0 <= v <= 51 for v in values):
                parser.error(f"--values for hevc must be QPs in 0..51; got {values}")
            values = [int(v) for v in values]
        elif any(not v > 0 for v in values):
            parser.error(f"--values for {codec} must be > 0; got {values}")
    if args.n_samples is not None and args.n_samples < 2:
        parser.error(f"--n-samples must be at least 2; got {args.n_samples}")
    if args.size is not None and not _SIZES[0] <= args.size <= _SIZES[1]:
        parser.error(f"--size must lie in {_SIZES[0]}..{_SIZES[1]}; got {args.size}")
    if args.cv < 2:
        parser.error(f"--cv must be at least 2; got {args.cv}")
    _check_n_jobs(parser, args.n_jobs)
    try:
        if args.plot:
            check_plot_path(args.plot)
        if args.csv:
            check_csv_path(args.csv)
    except (ValueError, ImportError) as error:
        parser.error(str(error))
    return values


def _sweep(parser, args):
    from ._sweep import load_sweep_data, plot_sweep, run_sweep, write_csv

    codec = args.codec or ("mdct" if args.data == "spoken-digits" else "jpeg")
    values = _check_sweep_arguments(parser, args, codec)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UserWarning)
            X, y, description = load_sweep_data(
                args.data, size=args.size, n_samples=args.n_samples
            )
        for warning in caught:
            sys.stderr.write(f"{parser.prog}: warning: {warning.message}\n")
        if args.kind == "accuracy" and y is not None and len(X) < 2 * args.cv:
            parser.error(f"--n-samples must be at least {2 * args.cv} for --cv {args.cv}")
        rows = run_sweep(
            X,
            y,
            codec=codec,
            kind=args.kind,
            values=values,
            cv=args.cv,
            baseline=not args.no_baseline,
            description=description,
            progress=None if args.quiet else sys.stderr,
            stream=sys.stdout,
            n_jobs=args.n_jobs,
        )
        kind = "accuracy" if "accuracy" in rows[-1] else "distortion"
        if args.csv:
            write_csv(rows, args.csv)
            print(f"table written to {args.csv}")
        if args.plot:
            plot_sweep(rows, args.plot, kind=kind, title=f"{codec} on {description}")
            print(f"figure written to {args.plot}")
    except (ValueError, ImportError, OSError, MemoryError) as error:
        parser.error(str(error) or type(error).__name__)
    except KeyboardInterrupt:
        parser.exit(130, f"{parser.prog}: interrupted\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
