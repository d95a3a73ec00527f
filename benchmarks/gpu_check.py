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

Times are medians of ``--repeats`` calls. The whole check takes well under
three minutes on one GPU. Without a CUDA GPU it says so and exits 0.

Usage::

    python benchmarks/gpu_check.py [--repeats 7] [--warmup 3] [--scale 1.0]
"""

import argparse
import statistics
import sys
import time

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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the full sizes")
    args = parser.parse_args(argv)
    try:
        import torch
    except ImportError:
        print("no CUDA GPU: torch is not installed; nothing to check.")
        return 0
    if not torch.cuda.is_available():
        print("no CUDA GPU: torch.cuda.is_available() is False; nothing to check or time.")
        return 0
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    device = torch.device("cuda")
    print(f"GPU: {torch.cuda.get_device_name(device)}, torch {torch.__version__}")
    header = (
        f"{'path':30} {'numpy CPU s':>12} {'torch GPU s':>12} {'speed-up':>9} {'max diff':>10} ok"
    )
    print(header)
    print("-" * len(header))
    failed = False
    for name, step, X, tolerance in cases(args.scale):
        cpu_repeats = max(1, min(args.repeats, 3))
        step.fit(X[: min(len(X), 20_000)] if "ResidualVQ" in name else X)
        cpu_seconds, expected = cpu_time(lambda s=step, x=X: s.transform(x), cpu_repeats)
        X_gpu = torch.from_numpy(X).to(device)
        gpu_seconds, out = gpu_time(
            lambda s=step, x=X_gpu: s.transform(x), args.repeats, args.warmup, torch
        )
        assert out.device.type == "cuda", name
        got = out.cpu().numpy()
        if tolerance == 0:
            # codes: float32 sums in another order may flip a rare near-tie
            diff = float(np.mean(got != expected))
            ok = diff <= 1e-3
        else:
            diff = float(np.abs(got.astype(np.float64) - expected).max())
            ok = diff <= tolerance
        failed |= not ok
        print(
            f"{name:30} {cpu_seconds:12.4f} {gpu_seconds:12.4f} "
            f"{cpu_seconds / gpu_seconds:9.1f} {diff:10.2e} {'yes' if ok else 'NO'}"
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
        print(
            f"{'  device=cuda, numpy in/out':30} {'':12} {device_seconds:12.4f} "
            f"{cpu_seconds / device_seconds:9.1f} {'':10} {'yes' if same else 'NO'}"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
