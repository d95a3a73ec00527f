"""Batch OMP and K-SVD against scikit-learn, SPAMS and the ``ksvd`` package, in one run.

Sections (``--sections``, all by default):

``omp``
    Encoding speed: 20,000 Gaussian signals of 64 values over a Gaussian
    dictionary of 256 unit-norm atoms, 8 nonzeros each: signals per second
    (median of ``--repeats``), against scikit-learn's ``orthogonal_mp_gram``
    (Gram matrix and ``D X`` computed inside the timing, as our call does)
    and SPAMS' ``omp`` (``spams-bin``; on ``--threads`` threads, and on its
    default of all CPUs), and how many signals get the same support. SPAMS'
    ``omp`` is order-recursive matching pursuit (the atom that most reduces
    the residual), so it is compared with ours with ``algorithm="ormp"``
    too.
``learn``
    Dictionary learning: 50,000 random 8x8 patches of the gray photographs
    of ``skimage.data`` (camera, clock, coins, moon, page, text; pixels in
    [0, 1], each patch's mean removed) to learn 256 atoms, 10,000 other
    patches held out. The score is the held-out *relative squared error*
    ``||X - X_hat||^2 / ||X||^2`` with every dictionary coding by OMP with
    5 nonzeros (our batch OMP, which gives scikit-learn's OMP codes), beside
    the fit seconds: K-SVD (ours, exact and approximate atom updates, with
    and without warm-up), ``MiniBatchDictionaryLearning`` (defaults; and
    ``alpha=0.1``, coordinate descent, one or two epochs),
    ``DictionaryLearning`` (``alpha=0.1``, coordinate descent, one and two
    iterations), the ``ksvd`` package's ``ApproximateKSVD`` (one and three
    iterations), and the fixed 8x8 DCT (best 5 coefficients) and 256-atom
    overcomplete DCT.
``denoise``
    K-SVD denoising (Elad and Aharon 2006) of the camera photograph (center
    256x256, Gaussian noise of sigma 20 on 0..255): every overlapping 8x8
    patch coded by OMP until its residual reaches the noise
    (``tol = 64 (1.15 sigma)^2``), patches averaged back. PSNR with the
    overcomplete DCT, with K-SVD atoms learned on the noisy patches, and
    with ``MiniBatchDictionaryLearning`` atoms learned on the same patches
    (coded the same way).
``atoms``
    How close learned atoms are to the 8x8 DCT basis: the mean best-match
    correlation of every atom (``skcompress.sparse.compare_with_dct``) for
    K-SVD and MiniBatchDictionaryLearning atoms, the overcomplete DCT and
    Gaussian noise.

Every method runs on ``--threads`` threads (default 1: on a shared machine
multithreaded timings measure the neighbours more than the code); methods
take turns within a repeat, so that load from other processes hits them
alike. Peers that are not installed (SPAMS, ``ksvd``) are left out, and the
run says so. ``--quick``: a tenth of the signals and patches, fewer learners
and iterations, a 64x64 crop to denoise.

Usage::

    python benchmarks/bench_sparse.py [--quick] [--json PATH]
        [--sections omp,learn,denoise,atoms] [--repeats 5] [--threads 1]
"""

import warnings

import _common
import numpy as np
from sklearn.decomposition import DictionaryLearning, MiniBatchDictionaryLearning
from sklearn.linear_model import orthogonal_mp_gram

from skcompress import KSVD
from skcompress.sparse import (
    batch_omp,
    compare_with_dct,
    extract_patches,
    overcomplete_dct,
    reconstruct_from_patches,
)
from skcompress.transforms import dct_matrix

PHOTOGRAPHS = ("camera", "clock", "coins", "moon", "page", "text")


def _gaussian_problem(n, d, n_atoms, seed=0):
    rng = np.random.default_rng(seed)
    D = rng.normal(size=(n_atoms, d))
    D /= np.linalg.norm(D, axis=1, keepdims=True)
    X = np.random.default_rng(seed + 1).normal(size=(n, d))
    return X, D


def _same_support(a, b):
    return ((a != 0) == (b != 0)).all(axis=1)


def bench_omp(report, args, spams):
    n = 2000 if args.quick else 20000
    X, D = _gaussian_problem(n, 64, 256)
    k = 8
    codes = {}

    def ours():
        codes["ours"] = batch_omp(X, D, n_nonzero_coefs=k)

    def ours_ormp():
        codes["ours ormp"] = batch_omp(X, D, n_nonzero_coefs=k, algorithm="ormp")

    def reference():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # sklearn's early stops
            codes["sklearn"] = orthogonal_mp_gram(D @ D.T, D @ X.T, n_nonzero_coefs=k).T

    methods = {"ours": ours, "ours ormp": ours_ormp, "sklearn": reference}
    if spams is not None:
        Xf, Df = np.asfortranarray(X.T), np.asfortranarray(D.T)

        def spams_omp(threads, name):
            def run():
                codes[name] = spams.omp(Xf, Df, L=k, numThreads=threads).toarray().T

            return run

        methods[f"spams {args.threads}t"] = spams_omp(args.threads, f"spams {args.threads}t")
        methods["spams all CPUs"] = spams_omp(-1, "spams all CPUs")
    seconds = _common.median_times(methods, args.repeats, warmup=0)
    rate = {name: n / t for name, t in seconds.items()}
    table = report.table(
        f"OMP encode: {n} Gaussian signals of 64, 256 Gaussian atoms, {k} nonzeros; signals/s "
        f"(median of {args.repeats})",
        [
            ("method", "s"),
            ("signals/s", ".0f"),
            ("ours / it", ".2f"),
            ("ours ormp / it", ".2f"),
            ("same support as ours", ".1%"),
            ("same support as ours ormp", ".1%"),
        ],
        notes=[
            "ours: batch OMP (scikit-learn's algorithm); ours ormp: algorithm='ormp', the greedy "
            "rule SPAMS' omp implements (order-recursive matching pursuit)"
        ],
    )
    for name in methods:
        table.add(
            name,
            rate[name],
            rate["ours"] / rate[name],
            rate["ours ormp"] / rate[name],
            _same_support(codes["ours"], codes[name]).mean(),
            _same_support(codes["ours ormp"], codes[name]).mean(),
        )
    exact = _same_support(codes["ours"], codes["sklearn"])
    gap = np.abs(codes["ours"][exact] - codes["sklearn"][exact]).max()
    table.note(f"ours vs sklearn: largest coefficient difference on equal supports {gap:.1e}")
    if spams is not None:
        name = next(n for n in methods if n.startswith("spams"))
        exact = _same_support(codes["ours ormp"], codes[name])
        gap = np.abs(codes["ours ormp"][exact] - codes[name][exact]).max()
        differ = ~_same_support(codes["ours"], codes[name])
        ours_r = ((X - codes["ours"] @ D) ** 2).sum(axis=1)
        spams_r = ((X - codes[name] @ D) ** 2).sum(axis=1)
        ratio = np.median(spams_r[differ] / ours_r[differ]) if differ.any() else 1.0
        table.note(
            f"ours ormp vs SPAMS: largest coefficient difference on equal supports {gap:.1e}; "
            f"OMP vs SPAMS: {differ.sum()} supports differ, not by ties: SPAMS' residual there "
            f"is {ratio:.3f}x OMP's (median)"
        )
    report.show(table)


def _photo_patches(n_train, n_test, seed=0):
    """Random 8x8 patches, as many from each photograph, shuffled; means removed."""
    rng = np.random.default_rng(seed)
    n = n_train + n_test
    per_image = -(-n // len(PHOTOGRAPHS))
    patches = []
    for image in _common.photographs(PHOTOGRAPHS).values():
        image = image.astype(np.float64) / 255
        windows = np.lib.stride_tricks.sliding_window_view(image, (8, 8))
        rows = rng.integers(0, windows.shape[0], per_image)
        cols = rng.integers(0, windows.shape[1], per_image)
        patches.append(windows[rows, cols].reshape(-1, 64))
    X = np.vstack(patches)[rng.permutation(per_image * len(PHOTOGRAPHS))[:n]]
    X -= X.mean(axis=1, keepdims=True)
    return X[:n_train], X[n_train:]


def _held_out_error(atoms, X):
    codes = batch_omp(X, atoms, n_nonzero_coefs=5)
    return float(((X - codes @ atoms) ** 2).sum() / (X**2).sum())


def _dct_best(X, k):
    C = np.kron(dct_matrix(8), dct_matrix(8))
    coefficients = X @ C.T
    drop = np.argsort(-np.abs(coefficients), axis=1)[:, k:]
    np.put_along_axis(coefficients, drop, 0, axis=1)
    return float(((X - coefficients @ C) ** 2).sum() / (X**2).sum())


def bench_learn(report, args, ksvd_package):
    n_train, n_test = (5000, 1000) if args.quick else (50000, 10000)
    X, held_out = _photo_patches(n_train, n_test)
    fits = {}
    for max_iter in (1, 3) if args.quick else (1, 2, 3, 6, 10):
        fits[f"ours svd, {max_iter} it"] = lambda m=max_iter: KSVD(
            256, n_nonzero_coefs=5, max_iter=m, random_state=0
        ).fit(X)
        fits[f"ours approx, {max_iter} it"] = lambda m=max_iter: KSVD(
            256, n_nonzero_coefs=5, max_iter=m, atom_update="approximate", random_state=0
        ).fit(X)
    for max_iter in () if args.quick else (3, 10):
        fits[f"ours svd no warm-up, {max_iter} it"] = lambda m=max_iter: KSVD(
            256, n_nonzero_coefs=5, max_iter=m, warm_up=False, random_state=0
        ).fit(X)
    fits["MiniBatchDL defaults"] = lambda: MiniBatchDictionaryLearning(256, random_state=0).fit(X)
    for epochs in (1,) if args.quick else (1, 2):
        fits[f"MiniBatchDL a=0.1 cd, {epochs} ep"] = lambda e=epochs: MiniBatchDictionaryLearning(
            256, alpha=0.1, fit_algorithm="cd", max_iter=e, random_state=0
        ).fit(X)
    for max_iter in () if args.quick else (1, 2):
        fits[f"DictionaryLearning a=0.1, {max_iter} it"] = lambda m=max_iter: DictionaryLearning(
            256, alpha=0.1, fit_algorithm="cd", max_iter=m, random_state=0
        ).fit(X)
    if ksvd_package is not None:
        for max_iter in (1, 3):

            def fit(m=max_iter):
                # the package draws its initial atoms from numpy's global state
                np.random.seed(0)  # noqa: NPY002
                return ksvd_package.ApproximateKSVD(
                    256, max_iter=m, transform_n_nonzero_coefs=5
                ).fit(X)

            fits[f"ksvd package, {max_iter} it"] = fit
    seconds = {name: [] for name in fits}
    errors = {}
    for _ in range(args.learn_repeats):
        for name, fit in fits.items():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # convergence warnings of the L1 solvers
                model, t = _common.timed(fit)
            seconds[name].append(t)
            errors[name] = _held_out_error(model.components_, held_out)
    table = report.table(
        f"Dictionary learning: {len(X)} 8x8 patches of {', '.join(PHOTOGRAPHS)} (mean "
        f"removed), 256 atoms, OMP with 5 nonzeros on {len(held_out)} held-out patches",
        [("method", "s"), ("fit s", ".2f"), ("held-out relative squared error", ".4f")],
    )
    table.add("8x8 DCT, best 5 coefficients", None, _dct_best(held_out, 5))
    odct = _held_out_error(overcomplete_dct(256, (8, 8)), held_out)
    table.add("overcomplete DCT (256)", None, odct)
    for name in fits:
        table.add(name, float(np.median(seconds[name])), errors[name])
    report.show(table)
    _summarize_learning(report, seconds, errors)


def _summarize_learning(report, seconds, errors):
    """Ours against each peer: our error at the peer's time, and our time to the peer's error."""
    ours = sorted(
        (float(np.median(t)), errors[name])
        for name, t in seconds.items()
        if name.startswith("ours svd,") or name.startswith("ours approx,")
    )
    table = report.table(
        "Ours (best of exact and approximate at that time) against each peer",
        [
            ("peer", "s"),
            ("peer error", ".4f"),
            ("peer s", ".2f"),
            ("ours within that time", ".4f"),
            ("ours reaches its error, x sooner", ".1f"),
        ],
        notes=["'-': ours did not get there within the iterations tried"],
    )
    for name, t in seconds.items():
        if name.startswith("ours"):
            continue
        peer_time, peer_error = float(np.median(t)), errors[name]
        within = [e for s, e in ours if s <= peer_time]
        reach = [s for s, e in ours if e <= peer_error]
        table.add(
            name,
            peer_error,
            peer_time,
            min(within) if within else None,
            peer_time / min(reach) if reach else None,
        )
    report.show(table)


def _psnr(clean, estimate):
    return float(10 * np.log10(255**2 / np.mean((clean - estimate) ** 2)))


def _denoise(noisy, atoms, sigma):
    patches = extract_patches(noisy[None], 8, step=1)
    grid = patches.shape[1:3]
    P = patches.reshape(-1, 64)
    means = P.mean(axis=1, keepdims=True)
    codes = batch_omp(P - means, atoms, tol=64 * (1.15 * sigma) ** 2)
    denoised = (codes @ atoms + means).reshape(1, *grid, 8, 8)
    return reconstruct_from_patches(denoised, noisy.shape, step=1)[0]


def bench_denoise(report, args):
    image = _common.photographs(["camera"])["camera"].astype(np.float64)
    size = 64 if args.quick else 256
    top = (512 - size) // 2
    clean = image[top : top + size, top : top + size]
    sigma = 20.0
    noisy = clean + np.random.default_rng(0).normal(scale=sigma, size=clean.shape)
    patches = extract_patches(noisy[None], 8, step=1).reshape(-1, 64)
    patches = patches - patches.mean(axis=1, keepdims=True)
    rng = np.random.default_rng(0)
    train = patches[rng.choice(len(patches), min(20000, len(patches)), replace=False)]
    tol = 64 * (1.15 * sigma) ** 2
    rows = [("noisy", noisy, None)]
    estimate, t = _common.timed(_denoise, noisy, overcomplete_dct(256, (8, 8)), sigma)
    rows.append(("overcomplete DCT", estimate, t))

    def ksvd(X, max_iter):
        return KSVD(
            256, tol=tol, max_iter=max_iter, init="dct", atom_shape=(8, 8), random_state=0
        ).fit(X)

    def mbdl(**params):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return MiniBatchDictionaryLearning(256, random_state=0, **params).fit(train / 255)

    few, many = (3, 5) if args.quick else (10, 20)
    learners = {
        f"K-SVD, {len(train)} patches, {few} it": lambda: ksvd(train, few),
        f"K-SVD, all {len(patches)} patches, {many} it": lambda: ksvd(patches, many),
        f"MiniBatchDL defaults, {len(train)}": lambda: mbdl(),
        f"MiniBatchDL a=0.3 cd 1 ep, {len(train)}": lambda: mbdl(
            alpha=0.3, fit_algorithm="cd", max_iter=1
        ),
    }
    for name, learn in learners.items():
        model, t_fit = _common.timed(learn)
        estimate, t = _common.timed(_denoise, noisy, model.components_, sigma)
        rows.append((name, estimate, t_fit + t))
    table = report.table(
        f"Denoising: camera {size}x{size}, sigma {sigma:g}; dictionaries learned from the "
        "noisy patches (means removed), every patch coded by OMP to the noise level",
        [("dictionary", "s"), ("PSNR dB", ".2f"), ("seconds", ".2f")],
    )
    for name, estimate, t in rows:
        table.add(name, _psnr(clean, estimate), t)
    report.show(table)


def bench_atoms(report, args):
    X, _ = _photo_patches(5000 if args.quick else 50000, 0)
    ksvd = KSVD(256, n_nonzero_coefs=5, max_iter=3 if args.quick else 10, random_state=0).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mbdl = MiniBatchDictionaryLearning(256, random_state=0).fit(X)
    rows = {
        "K-SVD (ours)": ksvd.components_,
        "MiniBatchDictionaryLearning": mbdl.components_,
        "overcomplete DCT (256)": overcomplete_dct(256, (8, 8)),
        "Gaussian noise": np.random.default_rng(0).normal(size=(256, 64)),
    }
    table = report.table(
        "Atoms against the 8x8 DCT basis (skcompress.sparse.compare_with_dct)",
        [("atoms", "s"), ("mean best-match correlation", ".3f"), ("DCT coverage", ".3f")],
    )
    for name, atoms in rows.items():
        result = compare_with_dct(atoms, (8, 8))
        table.add(name, result.mean_correlation, result.mean_coverage)
    report.show(table)


def main(argv=None):
    parser = _common.parser(__doc__, threads=1)
    parser.add_argument("--sections", default="omp,learn,denoise,atoms")
    parser.add_argument("--repeats", type=int, default=None, help="OMP timings (default 5)")
    parser.add_argument("--learn-repeats", type=int, default=1, help="timed fits per learner")
    args = parser.parse_args(argv)
    args.repeats = args.repeats or (2 if args.quick else 5)
    report = _common.Report(__file__, __doc__, args, argv, peers=["spams", "ksvd", "sklearn"])
    sections = args.sections.split(",")
    spams = __import__("spams") if report.has("spams") else None
    ksvd_package = __import__("ksvd") if report.has("ksvd") else None
    with _common.limit_threads(args.threads):
        if "omp" in sections:
            bench_omp(report, args, spams)
        if "learn" in sections:
            bench_learn(report, args, ksvd_package)
        if "denoise" in sections:
            bench_denoise(report, args)
        if "atoms" in sections:
            bench_atoms(report, args)
    return report.finish()


if __name__ == "__main__":
    main()
