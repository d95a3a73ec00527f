"""Command line: ``skcompress demo`` and ``skcompress sweep`` (or ``python -m skcompress ...``)."""

import argparse
import sys


def main(argv=None):
    """Entry point of the ``skcompress`` command."""
    parser = argparse.ArgumentParser(
        prog="skcompress", description="Compressed learning with codec transforms."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo",
        help="rate-accuracy sweep of the JPEG path on the embedded MNIST digits",
        description="For several JPEG qualities: BlockDCT -> PerceptualQuantizer -> "
        "LogisticRegression, cross-validated; prints bits per digit and accuracy beside "
        "the pixel baseline and Pillow's JPEG size at the same quality.",
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
    demo.add_argument("--n-jobs", type=int, default=None, help="parallel folds")
    _add_sweep(commands)
    args = parser.parse_args(argv)
    if args.command == "sweep":
        return _sweep(parser, args)

    from ._demo import QUALITIES, run_demo

    qualities = args.qualities or QUALITIES
    if any(not 1 <= q <= 100 for q in qualities):
        parser.error(f"--qualities must lie in 1..100; got {qualities}")
    if not 2 * args.cv <= args.n_samples <= 5000:
        parser.error(f"--n-samples must lie in {2 * args.cv}..5000; got {args.n_samples}")
    run_demo(qualities, n_samples=args.n_samples, cv=args.cv, n_jobs=args.n_jobs)
    return 0


def _add_sweep(commands):
    from ._sweep import CODECS

    sweep = commands.add_parser(
        "sweep",
        help="rate-accuracy or rate-distortion sweep of a codec on embedded data or a folder",
        description="Sweep one setting of a codec (the IJG quality of the JPEG path, the "
        "quantization step of the wavelet or MDCT path). Rate-accuracy: cross-validated "
        "accuracy of StandardScaler + LogisticRegression after the codec, beside the bits of "
        "the held-out signals really coded. Rate-distortion: bits, PSNR, SNR and SSIM of every "
        "signal coded with steps fitted on the other half. A progress bar goes to stderr, the "
        "table to stdout.",
        epilog="examples: skcompress sweep --data mnist --n-samples 1000;  skcompress sweep "
        "--data photographs --codec wavelet --plot rd.png;  skcompress sweep --data "
        "spoken-digits --codec mdct --kind distortion --n-samples 100;  skcompress sweep "
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
        help="jpeg (BlockDCT + JPEG table over IJG qualities), wavelet (CDF 9/7 + deadzone "
        "quantizer over steps) or mdct (audio; uniform steps); default: mdct for "
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
        help="settings to sweep (qualities 1..100 for jpeg, steps > 0 otherwise)",
    )
    sweep.add_argument("--n-samples", type=int, default=None, help="use the first N samples")
    sweep.add_argument(
        "--size", type=int, default=None, help="crop and resize images to SIZE x SIZE"
    )
    sweep.add_argument("--cv", type=int, default=3, help="cross-validation folds (accuracy)")
    sweep.add_argument(
        "--no-baseline", action="store_true", help="skip the classifier on the raw samples"
    )
    sweep.add_argument("--csv", metavar="PATH", help="also write the table as CSV")
    sweep.add_argument("--plot", metavar="PATH", help="also save a figure (PNG, SVG, PDF...)")
    sweep.add_argument("--quiet", action="store_true", help="no progress bar")


def _sweep(parser, args):
    from ._sweep import load_sweep_data, plot_sweep, run_sweep, write_csv

    codec = args.codec or ("mdct" if args.data == "spoken-digits" else "jpeg")
    values = args.values
    if values is not None:
        if codec == "jpeg":
            if any(v != int(v) or not 1 <= v <= 100 for v in values):
                parser.error(f"--values for jpeg must be qualities in 1..100; got {values}")
            values = [int(v) for v in values]
        elif any(not v > 0 for v in values):
            parser.error(f"--values for {codec} must be steps > 0; got {values}")
    if args.n_samples is not None and args.n_samples < 2:
        parser.error(f"--n-samples must be at least 2; got {args.n_samples}")
    if args.size is not None and args.size < 8:
        parser.error(f"--size must be at least 8; got {args.size}")
    if args.cv < 2:
        parser.error(f"--cv must be at least 2; got {args.cv}")
    try:
        X, y, description = load_sweep_data(args.data, size=args.size, n_samples=args.n_samples)
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
        )
    except (ValueError, ImportError) as error:
        parser.error(str(error))
    kind = "accuracy" if "accuracy" in rows[-1] else "distortion"
    if args.csv:
        write_csv(rows, args.csv)
        print(f"table written to {args.csv}")
    if args.plot:
        plot_sweep(rows, args.plot, kind=kind, title=f"{codec} on {description}")
        print(f"figure written to {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
