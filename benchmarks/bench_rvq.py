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

Peers that are not installed (faiss-cpu, vector-quantize-pytorch: the
``bench`` extra) are left out, and the run says so. ``--quick``: every 8th
vector, 1 and 2 stages, one fit each, 10 vqtorch steps.

Usage::

    python benchmarks/bench_rvq.py [--quick] [--json PATH] [--stages 1,2,4,8] [--repeats 3]
        [--threads 1] [--steps 100]
"""

import _common
import numpy as np
from sklearn.cluster import KMeans

from skcompress import MDCT, BlockDCT, ResidualVQ
from skcompress.datasets import load_mnist, load_spoken_digits

K = 256
BATCH = 4096


def _datasets(every):
    mnist = BlockDCT(layout="blocks").fit_transform(load_mnist().images).reshape(-1, 64)
    audio = load_spoken_digits().data[::4]
    mdct = MDCT(frame_length=128, layout="blocks").fit_transform(audio).reshape(-1, 64)
    return {"mnist dct": mnist[::every], "digits mdct": mdct[::every]}


def _ours(V, stages):
    rvq, seconds = _common.timed(ResidualVQ(stages, K, random_state=0).fit, V)
    return rvq.inverse_transform(rvq.transform(V)), seconds


def _faiss(V, stages, beam):
    import faiss

    rq = faiss.ResidualQuantizer(V.shape[1], stages, 8)
    rq.max_beam_size = beam
    _, seconds = _common.timed(rq.train, V)
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

    def train():
        for _ in range(steps):
            rvq(data[torch.randint(len(data), (BATCH,), generator=generator)][None])

    _, seconds = _common.timed(train)
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
        km, seconds = _common.timed(KMeans(K, random_state=s).fit, residual)
        step = km.cluster_centers_[km.labels_]
        elapsed += seconds
        residual -= step
        decoded += step
        out.append((decoded.copy(), elapsed))
    return out


def _relative_mse(X, decoded):
    return float(np.mean((np.asarray(decoded, dtype=np.float64) - X) ** 2) / X.var(axis=0).mean())


def main(argv=None):
    parser = _common.parser(__doc__, threads=1)
    parser.add_argument("--stages", default=None, help="comma-separated (default 1,2,4,8)")
    parser.add_argument("--repeats", type=int, default=None, help="timed fits (default 3)")
    parser.add_argument("--steps", type=int, default=None, help="vqtorch steps (default 100)")
    args = parser.parse_args(argv)
    report = _common.Report(
        __file__, __doc__, args, argv, peers=["faiss", "vector_quantize_pytorch", "sklearn"]
    )
    stages_arg = args.stages or ("1,2" if args.quick else "1,2,4,8")
    stage_counts = [int(s) for s in stages_arg.split(",")]
    repeats = args.repeats or (1 if args.quick else 3)
    steps = args.steps or (10 if args.quick else 100)

    methods = {"ours": _ours}
    if report.has("faiss"):
        import faiss

        faiss.omp_set_num_threads(args.threads)
        methods["faiss b1"] = lambda V, s: _faiss(V, s, 1)
        methods["faiss b8"] = lambda V, s: _faiss(V, s, 8)
    if report.has("vector_quantize_pytorch"):
        import torch  # noqa: F401 (imported before limit_threads, which then sets its threads)

        methods["vqtorch"] = lambda V, s: _vqtorch(V, s, steps)
    names = [*methods, "sklearn"]
    peer = "faiss b1" if "faiss b1" in methods else "sklearn"
    with _common.limit_threads(args.threads):
        for data_name, X in _datasets(8 if args.quick else 1).items():
            V = np.ascontiguousarray(X, dtype=np.float32)
            mse = {name: {} for name in names}
            seconds = {name: {s: [] for s in stage_counts} for name in names}
            for _ in range(repeats):
                for stages in stage_counts:
                    for name, fit in methods.items():
                        decoded, t = fit(V, stages)
                        mse[name][stages] = _relative_mse(X, decoded)
                        seconds[name][stages].append(t)
                for s, (decoded, t) in enumerate(_sklearn(V, max(stage_counts)), start=1):
                    if s in stage_counts:
                        mse["sklearn"][s] = _relative_mse(X, decoded)
                        seconds["sklearn"][s].append(t)
            table = report.table(
                f"{data_name}: {len(V)} vectors of {V.shape[1]}, codebooks of {K}; relative "
                f"MSE and median fit seconds of {repeats}",
                [("stages", "d")]
                + [(f"{n} MSE", ".4f") for n in names]
                + [(f"{n} s", ".2f") for n in names]
                + [(f"ours / {peer} time", ".2f"), ("best peer", "s")],
                notes=["MSE relative to the data variance, each method with its own encoder"],
            )
            for s in stage_counts:
                median = {n: float(np.median(seconds[n][s])) for n in names}
                best = min((mse[n][s], n) for n in names if n != "ours")
                table.add(
                    s,
                    *(mse[n][s] for n in names),
                    *(median[n] for n in names),
                    median["ours"] / median[peer],
                    best[1],
                )
            report.show(table)
    return report.finish()


if __name__ == "__main__":
    main()
