"""Quality and training time of ResidualVQ against faiss, vector-quantize-pytorch and KMeans.

Data (64-d vectors, float32 for every method):

``mnist dct``
    The 5,000 embedded MNIST digits through ``BlockDCT(layout="blocks")``
    (28x28 padded to 4x4 blocks of 8x8): 80,000 vectors of 64 coefficients.
``digits mdct``
    Every 4th of the 2,520 spoken digits (8 kHz, 1 s) through
    ``MDCT(frame_length=128, layout="blocks")``: 630 x 126 frames of 64 bins,
    79,380 vectors (silent frames included).

Methods, each fitted on all the vectors with codebooks of 256 codewords:

``ours``
    ``ResidualVQ(n_stages, 256, random_state=0)`` with its defaults (beam 4,
    3 refinement rounds; for one stage, k-means run to ``tol``).
``faiss b1``, ``faiss b8``
    ``faiss.ResidualQuantizer(64, n_stages, 8)`` with ``max_beam_size`` 1 and
    8 (its default training: stage-wise k-means, 25 iterations).
``vqtorch``
    vector-quantize-pytorch ``ResidualVQ(dim=64, num_quantizers=n_stages,
    codebook_size=256, kmeans_init=True, decay=0.8,
    threshold_ema_dead_code=2)``, trained by its EMA k-means updates for
    ``--steps`` forward passes of 4096 random vectors, then evaluated.
``sklearn``
    ``KMeans(256)`` (k-means++, ``max_iter=300``, ``tol=1e-4``) fitted stage
    by stage on the residuals, greedy encoding. Stage-wise fitting nests, so
    one fit of the most stages gives every stage count; its time is the
    cumulative time up to that stage.

MSE is ``mean((x - x_hat) ** 2) / mean(var(x, axis=0))`` on the training
vectors, each method coding them with its own encoder (ours and faiss: their
beam). Times are fit seconds, the median of ``--repeats`` fits; the methods
take turns within each repeat so that load from other processes hits them
alike. Every method runs on one thread (``--threads``): on a shared machine
multithreaded timings measure the neighbours more than the code.

Usage::

    python benchmarks/bench_rvq.py [--stages 1,2,4,8] [--repeats 3] [--threads 1]
"""

import argparse
import os
import platform
import time
from importlib.metadata import version

import numpy as np
import scipy
import sklearn
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_info, threadpool_limits

from skcompress import MDCT, BlockDCT, ResidualVQ
from skcompress.datasets import load_mnist, load_spoken_digits

K = 256
BATCH = 4096


def _datasets():
    mnist = BlockDCT(layout="blocks").fit_transform(load_mnist().images).reshape(-1, 64)
    audio = load_spoken_digits().data[::4]
    mdct = MDCT(frame_length=128, layout="blocks").fit_transform(audio).reshape(-1, 64)
    return {"mnist dct": mnist, "digits mdct": mdct}


def _ours(V, stages):
    start = time.perf_counter()
    rvq = ResidualVQ(stages, K, random_state=0).fit(V)
    seconds = time.perf_counter() - start
    return rvq.inverse_transform(rvq.transform(V)), seconds


def _faiss(V, stages, beam):
    import faiss

    rq = faiss.ResidualQuantizer(V.shape[1], stages, 8)
    rq.max_beam_size = beam
    start = time.perf_counter()
    rq.train(V)
    seconds = time.perf_counter() - start
    return rq.decode(rq.compute_codes(V)), seconds


def _vqtorch(V, stages, steps):
    import torch
    from vector_quantize_pytorch import ResidualVQ as TorchResidualVQ

    torch.manual_seed(0)
    rvq = TorchResidualVQ(
        dim=V.shape[1],
        num_quantizers=stages,
        codebook_size=K,
        kmeans_init=True,
        decay=0.8,
        threshold_ema_dead_code=2,
    )
    data = torch.from_numpy(V)
    generator = torch.Generator().manual_seed(0)
    start = time.perf_counter()
    for _ in range(steps):
        rvq(data[torch.randint(len(data), (BATCH,), generator=generator)][None])
    seconds = time.perf_counter() - start
    rvq.eval()
    with torch.no_grad():
        decoded, _, _ = rvq(data[None])
    return decoded[0].numpy(), seconds


def _sklearn(V, max_stages):
    """Reconstructions and cumulative seconds after each stage."""
    residual = V.copy()
    decoded = np.zeros_like(V)
    out, elapsed = [], 0.0
    for s in range(max_stages):
        start = time.perf_counter()
        km = KMeans(K, random_state=s).fit(residual)
        step = km.cluster_centers_[km.labels_]
        elapsed += time.perf_counter() - start
        residual -= step
        decoded += step
        out.append((decoded.copy(), elapsed))
    return out


def _relative_mse(X, decoded):
    return float(np.mean((np.asarray(decoded, dtype=np.float64) - X) ** 2) / X.var(axis=0).mean())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stages", default="1,2,4,8", help="comma-separated stage counts")
    parser.add_argument("--repeats", type=int, default=3, help="timed fits per method")
    parser.add_argument("--threads", type=int, default=1, help="threads for every method")
    parser.add_argument("--steps", type=int, default=100, help="vqtorch training steps")
    args = parser.parse_args(argv)
    stage_counts = [int(s) for s in args.stages.split(",")]

    import faiss
    import torch

    faiss.omp_set_num_threads(args.threads)
    torch.set_num_threads(args.threads)
    limits = threadpool_limits(args.threads)
    blas = ", ".join(
        f"{lib['internal_api']} {lib['version']}"
        for lib in threadpool_info()
        if lib["user_api"] == "blas"
    )
    print(
        f"numpy {np.__version__}, scipy {scipy.__version__}, scikit-learn "
        f"{sklearn.__version__}, faiss {faiss.__version__}, torch {torch.__version__}, "
        f"vector-quantize-pytorch {version('vector-quantize-pytorch')}, "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, BLAS: {blas}, "
        f"{args.threads} thread(s) per method"
    )
    print(
        f"MSE relative to the data variance; seconds: median fit time of {args.repeats} "
        "repeats; ratio: ours / faiss b1 time\n"
    )
    methods = {
        "ours": _ours,
        "faiss b1": lambda V, s: _faiss(V, s, 1),
        "faiss b8": lambda V, s: _faiss(V, s, 8),
        "vqtorch": lambda V, s: _vqtorch(V, s, args.steps),
    }
    names = [*methods, "sklearn"]
    for data_name, X in _datasets().items():
        V = np.ascontiguousarray(X, dtype=np.float32)
        mse = {name: {} for name in names}
        seconds = {name: {s: [] for s in stage_counts} for name in names}
        for _ in range(args.repeats):
            for stages in stage_counts:
                for name, fit in methods.items():
                    decoded, t = fit(V, stages)
                    mse[name][stages] = _relative_mse(X, decoded)
                    seconds[name][stages].append(t)
            for s, (decoded, t) in enumerate(_sklearn(V, max(stage_counts)), start=1):
                if s in stage_counts:
                    mse["sklearn"][s] = _relative_mse(X, decoded)
                    seconds["sklearn"][s].append(t)
        print(f"{data_name}: {len(V)} vectors of {V.shape[1]}")
        header = (
            f"{'stages':>6} | "
            + " ".join(f"{n:>9}" for n in names)
            + " | "
            + " ".join(f"{n + ' s':>10}" for n in names)
            + f" | {'ratio':>5} {'best peer':>9}"
        )
        print(header)
        print("-" * len(header))
        for s in stage_counts:
            median = {n: float(np.median(seconds[n][s])) for n in names}
            best = min((mse[n][s], n) for n in names if n != "ours")
            print(
                f"{s:>6} | "
                + " ".join(f"{mse[n][s]:9.4f}" for n in names)
                + " | "
                + " ".join(f"{median[n]:10.2f}" for n in names)
                + f" | {median['ours'] / median['faiss b1']:5.2f} {best[1]:>9}"
            )
        print()
    limits.restore_original_limits()


if __name__ == "__main__":
    main()
