"""Every torch path on the GPU against the numpy path on the CPU: same numbers, and how fast.

For each step with a torch kernel (BlockDCT, WaveletTransform, MDCT,
ColorTransform, PerceptualQuantizer, ResidualVQ and PyramidVQ encoding),
fitted on numpy data:

* the numpy path on the CPU (``transform`` of a numpy array), timed with
  ``time.perf_counter``;
* the torch path on the GPU (``transform`` of a CUDA tensor already on the
  device), timed with CUDA events around each call, after ``--warmup`` calls;
* the largest difference between the two outputs, against the tolerance the
  test suite states for CPU tensors (float32: 5e-4 on samples in [0, 255]);
  for the quantizers the fraction of symbols that differ (at most 0.1%:
  float32 distances summed in another order may flip a near-tie; identical
  on CPU).

Then the same steps with ``device="cuda"`` given numpy arrays (each chunk of
``batch_size`` sent to the GPU and back), timed with ``time.perf_counter``
from numpy in to numpy out: what a Pipeline step set to the GPU costs,
transfers included.

TF32 is switched off (``torch.backends.cudnn.allow_tf32 = False``): with it,
cuDNN convolutions (the wavelet path) round inputs to 10 mantissa bits.

Last, ``bench_jpeg_task.py --quick --device cuda`` in a subprocess: the
two-stream DCT network and the pixel ResNet trained from JPEG files through
``DataLoader`` workers onto the GPU, with and without augmentation (it must
run and give an accuracy; its figures are not compared).

Times are medians of ``--repeats`` calls. The whole check takes well under
three minutes on one GPU (``--quick``: a twentieth of the sizes, 3 repeats).
Without a CUDA GPU it says so and exits 0; a mismatch exits 1.

Usage::

    python benchmarks/gpu_check.py [--quick] [--json PATH] [--repeats 7] [--warmup 3]
        [--scale 1.0]
"""

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import _common
import numpy as np


def cases(scale):
    from skcompress import (
        MDCT,
        BlockDCT,
        ColorTransform,
        PerceptualQuantizer,
        PyramidVQ,
        ResidualVQ,
        WaveletTransform,
    )
    from skcompress.datasets import load_mnist

    rng = np.random.default_rng(0)
    n_digits = max(100, int(50_000 * scale))
    digits = load_mnist().images.astype(np.float32)
    digits = digits[rng.integers(0, len(digits), n_digits)]
    photos = rng.uniform(0, 255, (max(2, int(32 * scale)), 512, 512, 3)).astype(np.float32)
    audio = rng.standard_normal((max(10, int(2_000 * scale)), 8_000)).astype(np.float32)
    vectors = rng.standard_normal((max(1_000, int(50_000 * scale)), 16)).astype(np.float32)
    return [
        ("BlockDCT 8x8, MNIST", BlockDCT(), digits, 5e-4),
        ("BlockDCT 8x8, 512x512x3", BlockDCT(), photos, 5e-4),
        ("Wavelet cdf97, MNIST", WaveletTransform(), digits, 5e-4),
        ("Wavelet haar L3, 512x512x3", WaveletTransform("haar", level=3), photos, 5e-4),
        ("MDCT 256, 1 s at 8 kHz", MDCT(256), audio, 5e-4),
        ("ColorTransform, 512x512x3", ColorTransform(), photos, 5e-4),
        # float32 coefficients: both paths divide them by float64 steps alike
        (
            "PerceptualQuantizer q75, MNIST",
            PerceptualQuantizer(quality=75),
            BlockDCT().fit(digits[:1]).transform(digits),
            0,
        ),
        (
            "ResidualVQ 4x256, beam 4",
            ResidualVQ(4, 256, vector_size=16, random_state=0, n_refine=0),
            vectors,
            0,
        ),
        ("PyramidVQ N=16 K=12 (32 bits)", PyramidVQ(vector_size=16), vectors.reshape(-1, 64), 0),
    ]


def cpu_time(function, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def gpu_time(function, repeats, warmup, torch):
    """Median seconds by CUDA events (the GPU's own clock), after ``warmup`` calls."""
    for _ in range(warmup):
        function()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeats):
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        out = function()
        stop.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(stop) / 1000)
    return statistics.median(times), out


def main(argv=None):
    parser = _common.parser(__doc__)
    parser.add_argument("--repeats", type=int, default=None, help="timed calls (default 7)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--scale", type=float, default=None, help="fraction of the full sizes")
    args = parser.parse_args(argv)
    repeats = args.repeats or (3 if args.quick else 7)
    scale = args.scale or (0.05 if args.quick else 1.0)
    report = _common.Report(__file__, __doc__, args, argv, peers=["torch"])
    if not report.has("torch"):
        report.note("no CUDA GPU: torch is not installed; nothing to check.")
        return report.finish()
    import torch

    if not torch.cuda.is_available():
        report.note("no CUDA GPU: torch.cuda.is_available() is False; nothing to check or time.")
        return report.finish()
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    device = torch.device("cuda")
    report.environment["gpu"] = torch.cuda.get_device_name(device)
    table = report.table(
        f"Torch paths on {report.environment['gpu']} against numpy on the CPU",
        [
            ("path", "s"),
            ("numpy CPU s", ".4f"),
            ("torch GPU s", ".4f"),
            ("speed-up", ".1f"),
            ("max difference", ".2e"),
            ("same", "s"),
        ],
        notes=[
            "'device=cuda' rows: numpy in, numpy out, transfers included",
            "codes: the fraction that differ (at most 0.1%: float32 sums in another order may "
            "flip a near-tie)",
        ],
    )
    failed = False
    for name, step, X, tolerance in cases(scale):
        cpu_repeats = max(1, min(repeats, 3))
        step.fit(X[: min(len(X), 20_000)] if "ResidualVQ" in name else X)
        cpu_seconds, expected = cpu_time(lambda s=step, x=X: s.transform(x), cpu_repeats)
        X_gpu = torch.from_numpy(X).to(device)
        gpu_seconds, out = gpu_time(
            lambda s=step, x=X_gpu: s.transform(x), repeats, args.warmup, torch
        )
        assert out.device.type == "cuda", name
        got = out.cpu().numpy()
        if tolerance == 0:
            diff = float(np.mean(got != expected))
            ok = diff <= 1e-3
        else:
            diff = float(np.abs(got.astype(np.float64) - expected).max())
            ok = diff <= tolerance
        failed |= not ok
        table.add(
            name, cpu_seconds, gpu_seconds, cpu_seconds / gpu_seconds, diff, "yes" if ok else "NO"
        )
        del X_gpu, out
        torch.cuda.empty_cache()
        step.set_params(device="cuda")
        step.transform(X[:1000])  # warm-up
        device_seconds, got = cpu_time(lambda s=step, x=X: s.transform(x), cpu_repeats)
        step.set_params(device=None)
        same = (
            np.mean(got != expected) <= 1e-3
            if tolerance == 0
            else np.allclose(got, expected, rtol=0, atol=tolerance)
        )
        failed |= not same
        table.add(
            "  device=cuda, numpy in/out",
            None,
            device_seconds,
            cpu_seconds / device_seconds,
            None,
            "yes" if same else "NO",
        )
    report.show(table)
    failed |= not task_on_gpu(report)
    report.finish()
    return 1 if failed else 0


def task_on_gpu(report):
    """``bench_jpeg_task.py --quick --device cuda``: its rows, and whether it ran."""
    table = report.table(
        "bench_jpeg_task.py --quick --device cuda: training from JPEG files on the GPU",
        [("network", "s"), ("aug", "s"), ("accuracy", ".3f"), ("fit s", ".2f"), ("ran", "s")],
    )
    script = Path(__file__).resolve().parent / "bench_jpeg_task.py"
    with _common.scratch_directory() as folder:
        output = Path(folder) / "task.json"
        try:
            _common.run_in_subprocess(
                [script, "--quick", "--device", "cuda", "--json", output], timeout=300
            )
            (result,) = json.loads(output.read_text())["tables"]
        except (RuntimeError, OSError, ValueError, subprocess.TimeoutExpired) as error:
            table.add("bench_jpeg_task", None, None, None, "NO")
            table.note(str(error)[-1000:])
            report.show(table)
            return False
    columns = result["columns"]
    ok = len(result["rows"]) == 4
    for row in result["rows"]:
        cells = dict(zip(columns, row, strict=True))
        ran = isinstance(cells["accuracy"], (int, float)) and 0 <= cells["accuracy"] <= 1
        ok &= ran
        table.add(
            cells["network"],
            cells["aug"],
            cells["accuracy"],
            cells["fit s"],
            "yes" if ran else "NO",
        )
    report.show(table)
    return ok


if __name__ == "__main__":
    sys.exit(main())
