"""Run the benchmark suite: every benchmark (or the ones named), JSON results, the docs page.

Each benchmark runs in its own process as ``python benchmarks/<name>.py
--quick --json benchmarks/results/<name>.json`` (``--full``: without
``--quick``: the real sizes, hours in all on a small machine), its output
going to ``benchmarks/results/logs/<name>.log``; then ``render.py`` turns the
JSON files into ``docs/benchmarks.rst``. A benchmark that fails leaves no JSON
(its old one is removed first) and makes the run exit 1.

Usage::

    python benchmarks/run.py [--full] [--only bench_blockdct,bench_mdct] [--timeout 900]
        [--results benchmarks/results] [--no-render]
"""

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: The order of the suite, and of the sections of docs/benchmarks.rst.
BENCHMARKS = (
    "bench_jpeg_conformance",
    "bench_jpeg_color_conformance",
    "bench_blockdct",
    "bench_wavelet",
    "bench_mdct",
    "bench_audio_codecs",
    "bench_jpeg_color",
    "bench_jpeg_codec",
    "bench_jpeg2000",
    "bench_hevc_intra",
    "bench_jpeg_read",
    "bench_jpeg_loader",
    "bench_jpeg_task",
    "bench_pvq",
    "bench_rvq",
    "bench_entropy",
    "bench_sparse",
    "bench_scaling",
    "bench_learning",
    "bench_selection",
    "bench_learned",
    "bench_fuzz",
    "gpu_check",
)


def discover():
    """The benchmarks in :data:`BENCHMARKS` order, then any other ``bench_*.py``."""
    found = {p.stem for p in HERE.glob("bench_*.py")} | {"gpu_check"}
    return [n for n in BENCHMARKS if n in found] + sorted(found - set(BENCHMARKS))


def run(name, results, quick, timeout):
    """Run one benchmark; returns (exit status, seconds)."""
    output = results / f"{name}.json"
    output.unlink(missing_ok=True)
    logs = results / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, str(HERE / f"{name}.py"), "--json", str(output)]
    command += ["--quick"] if quick else []
    start = time.perf_counter()
    with open(logs / f"{name}.log", "w") as log:
        try:
            status = subprocess.run(
                command, stdout=log, stderr=subprocess.STDOUT, timeout=timeout, check=False
            ).returncode
        except subprocess.TimeoutExpired:
            log.write(f"\ntimed out after {timeout} s\n")
            status = "timeout"
    seconds = time.perf_counter() - start
    if status == 0 and not output.exists():
        status = "no JSON"
    return status, seconds


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--full", action="store_true", help="the real sizes, not --quick")
    parser.add_argument("--only", help="comma-separated benchmark names (default: all)")
    parser.add_argument("--timeout", type=float, default=None, help="seconds per benchmark")
    parser.add_argument("--results", type=Path, default=HERE / "results")
    parser.add_argument("--no-render", action="store_true", help="do not write the docs page")
    args = parser.parse_args(argv)
    names = discover()
    if args.only:
        wanted = args.only.split(",")
        unknown = sorted(set(wanted) - set(names))
        if unknown:
            parser.error(f"--only: no benchmark named {', '.join(unknown)}; there are {names}")
        names = [n for n in names if n in wanted]
    args.results.mkdir(parents=True, exist_ok=True)
    failed = []
    start = time.perf_counter()
    for name in names:
        print(f"{name:<32}", end="", flush=True)
        status, seconds = run(name, args.results, not args.full, args.timeout)
        print(f"{seconds:7.0f} s  {'ok' if status == 0 else f'FAILED ({status})'}", flush=True)
        if status != 0:
            failed.append(name)
            log = (args.results / "logs" / f"{name}.log").read_text()
            print("    " + "\n    ".join(log.strip().splitlines()[-15:]))
    print(f"{len(names)} benchmarks in {time.perf_counter() - start:.0f} s; failed: {failed or 0}")
    if not args.no_render:
        import render

        render.main(["--results", str(args.results)])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
