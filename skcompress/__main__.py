"""Command line: ``skcompress demo`` (or ``python -m skcompress demo``)."""

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
    args = parser.parse_args(argv)

    from ._demo import QUALITIES, run_demo

    qualities = args.qualities or QUALITIES
    if any(not 1 <= q <= 100 for q in qualities):
        parser.error(f"--qualities must lie in 1..100; got {qualities}")
    if not 2 * args.cv <= args.n_samples <= 5000:
        parser.error(f"--n-samples must lie in {2 * args.cv}..5000; got {args.n_samples}")
    run_demo(qualities, n_samples=args.n_samples, cv=args.cv, n_jobs=args.n_jobs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
