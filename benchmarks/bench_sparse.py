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
alike.

Usage::

    python benchmarks/bench_sparse.py [--sections omp,learn,denoise,atoms] [--repeats 5]
        [--threads 1] [--quick]
"""

import argparse
import os
import platform
import time
import warnings
from importlib.metadata import PackageNotFoundError, version

import numpy as np
import scipy
import sklearn
from sklearn.decomposition import DictionaryLearning, MiniBatchDictionaryLearning
from sklearn.linear_model import orthogonal_mp_gram
from threadpoolctl import threadpool_info, threadpool_limits

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


def _optional(name):
    try:
        module = __import__(name)
        return module, version({"spams": "spams-bin"}.get(name, name))
    except (ImportError, PackageNotFoundError) as error:
        return None, f"not available ({type(error).__name__}: {error})"


def _timed(function):
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


def _gaussian_problem(n, d, n_atoms, seed=0):
    rng = np.random.default_rng(seed)
    D = rng.normal(size=(n_atoms, d))
    D /= np.linalg.norm(D, axis=1, keepdims=True)
    X = np.random.default_rng(seed + 1).normal(size=(n, d))
    return X, D


def _same_support(a, b):
    return ((a != 0) == (b != 0)).all(axis=1)


def bench_omp(args, spams):
    n = 4000 if args.quick else 20000
    X, D = _gaussian_problem(n, 64, 256)
    k = 8
    runs = {"ours": [], "ours ormp": [], "sklearn": []}
    codes = {}

    def ours():
        return batch_omp(X, D, n_nonzero_coefs=k)

    def ours_ormp():
        return batch_omp(X, D, n_nonzero_coefs=k, algorithm="ormp")

    def reference():
        return orthogonal_mp_gram(D @ D.T, D @ X.T, n_nonzero_coefs=k).T

    methods = {"ours": ours, "ours ormp": ours_ormp, "sklearn": reference}
    if spams is not None:
        Xf, Df = np.asfortranarray(X.T), np.asfortranarray(D.T)
        methods[f"spams {args.threads}t"] = lambda: (
            spams.omp(Xf, Df, L=k, numThreads=args.threads).toarray().T
        )
        methods["spams all CPUs"] = lambda: spams.omp(Xf, Df, L=k, numThreads=-1).toarray().T
        runs.update({name: [] for name in methods if name.startswith("spams")})
    for r in range(args.repeats):
        for name, method in methods.items():
            if name == "sklearn" and r >= max(1, args.repeats // 2):
                continue  # the slowest by far: fewer repeats
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # sklearn's early stops
                codes[name], seconds = _timed(method)
            runs[name].append(seconds)
    rate = {name: n / float(np.median(t)) for name, t in runs.items()}
    best = {name: n / float(np.min(t)) for name, t in runs.items()}
    print(f"OMP encode: {n} Gaussian signals of 64, 256 Gaussian atoms, {k} nonzeros")
    print(
        "ours: batch OMP (scikit-learn's algorithm); ours ormp: algorithm='ormp', the greedy "
        "rule SPAMS' omp implements (order-recursive MP)"
    )
    print("signals/s: median (and best) of the repeats; ratios of the medians")
    header = (
        f"{'method':>16} {'signals/s':>10} {'(best)':>8} {'ours / it':>10} {'ormp / it':>10} "
        f"{'same support as ours':>21} {'as ours ormp':>13}"
    )
    print(header)
    print("-" * len(header))
    for name in methods:
        same = _same_support(codes["ours"], codes[name]).mean()
        same_ormp = _same_support(codes["ours ormp"], codes[name]).mean()
        print(
            f"{name:>16} {rate[name]:10.0f} {best[name]:8.0f} {rate['ours'] / rate[name]:10.2f} "
            f"{rate['ours ormp'] / rate[name]:10.2f} {same:21.1%} {same_ormp:13.1%}"
        )
    exact = _same_support(codes["ours"], codes["sklearn"])
    gap = np.abs(codes["ours"][exact] - codes["sklearn"][exact]).max()
    print(f"ours vs sklearn: largest coefficient difference on equal supports {gap:.1e}")
    if spams is not None:
        name = next(n for n in methods if n.startswith("spams"))
        exact = _same_support(codes["ours ormp"], codes[name])
        gap = np.abs(codes["ours ormp"][exact] - codes[name][exact]).max()
        differ = ~_same_support(codes["ours"], codes[name])
        ours_r = ((X - codes["ours"] @ D) ** 2).sum(axis=1)
        spams_r = ((X - codes[name] @ D) ** 2).sum(axis=1)
        ratio = np.median(spams_r[differ] / ours_r[differ]) if differ.any() else 1.0
        print(
            f"ours ormp vs SPAMS: largest coefficient difference on equal supports {gap:.1e}; "
            f"OMP vs SPAMS: {differ.sum()} supports differ, not by ties: SPAMS' residual there "
            f"is {ratio:.3f}x OMP's (median)"
        )
    print()


def _photo_patches(n_train, n_test, seed=0):
    """Random 8x8 patches, as many from each photograph, shuffled; means removed."""
    import skimage.data

    rng = np.random.default_rng(seed)
    n = n_train + n_test
    per_image = -(-n // len(PHOTOGRAPHS))
    patches = []
    for name in PHOTOGRAPHS:
        image = getattr(skimage.data, name)().astype(np.float64) / 255
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


def bench_learn(args, ksvd_package):
    n_train, n_test = (10000, 2000) if args.quick else (50000, 10000)
    X, held_out = _photo_patches(n_train, n_test)
    fits = {}
    for max_iter in (1, 2, 3, 6, 10):
        fits[f"ours svd, {max_iter} it"] = lambda m=max_iter: KSVD(
            256, n_nonzero_coefs=5, max_iter=m, random_state=0
        ).fit(X)
        fits[f"ours approx, {max_iter} it"] = lambda m=max_iter: KSVD(
            256, n_nonzero_coefs=5, max_iter=m, atom_update="approximate", random_state=0
        ).fit(X)
    for max_iter in (3, 10):
        fits[f"ours svd no warm-up, {max_iter} it"] = lambda m=max_iter: KSVD(
            256, n_nonzero_coefs=5, max_iter=m, warm_up=False, random_state=0
        ).fit(X)
    fits["MiniBatchDL defaults"] = lambda: MiniBatchDictionaryLearning(256, random_state=0).fit(X)
    for epochs in (1, 2):
        fits[f"MiniBatchDL a=0.1 cd, {epochs} ep"] = lambda e=epochs: MiniBatchDictionaryLearning(
            256, alpha=0.1, fit_algorithm="cd", max_iter=e, random_state=0
        ).fit(X)
    for max_iter in (1, 2):
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
                model, t = _timed(fit)
            seconds[name].append(t)
            errors[name] = _held_out_error(model.components_, held_out)
    print(
        f"Dictionary learning: {len(X)} 8x8 patches of {', '.join(PHOTOGRAPHS)} (mean removed), "
        f"256 atoms, OMP with 5 nonzeros on {len(held_out)} held-out patches"
    )
    header = f"{'method':>34} {'fit s':>7} {'held-out rel. sq. error':>24}"
    print(header)
    print("-" * len(header))
    print(f"{'8x8 DCT, best 5 coefficients':>34} {0:7.2f} {_dct_best(held_out, 5):24.4f}")
    odct = _held_out_error(overcomplete_dct(256, (8, 8)), held_out)
    print(f"{'overcomplete DCT (256)':>34} {0:7.2f} {odct:24.4f}")
    for name in fits:
        print(f"{name:>34} {np.median(seconds[name]):7.2f} {errors[name]:24.4f}")
    _summarize_learning(seconds, errors)
    print()


def _summarize_learning(seconds, errors):
    """Ours against each peer: our error at the peer's time, and our time to the peer's error."""
    ours = sorted(
        (float(np.median(t)), errors[name])
        for name, t in seconds.items()
        if name.startswith("ours svd,") or name.startswith("ours approx,")
    )
    print("ours (best of exact/approximate at that time) against each peer:")
    for name, t in seconds.items():
        if name.startswith("ours"):
            continue
        peer_time, peer_error = float(np.median(t)), errors[name]
        within = [e for s, e in ours if s <= peer_time]
        at_time = f"{min(within):.4f}" if within else "  none"
        reach = [s for s, e in ours if e <= peer_error]
        sooner = f"{peer_time / min(reach):5.1f}x sooner" if reach else "not reached"
        print(
            f"  {name:>34}: {peer_error:.4f} in {peer_time:6.2f} s | ours within that time "
            f"{at_time} | ours reaches its error {sooner}"
        )


def _denoise_setup(quick):
    import skimage.data

    image = skimage.data.camera().astype(np.float64)
    size = 128 if quick else 256
    top = (512 - size) // 2
    clean = image[top : top + size, top : top + size]
    sigma = 20.0
    noisy = clean + np.random.default_rng(0).normal(scale=sigma, size=clean.shape)
    return clean, noisy, sigma


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


def bench_denoise(args):
    clean, noisy, sigma = _denoise_setup(args.quick)
    patches = extract_patches(noisy[None], 8, step=1).reshape(-1, 64)
    patches = patches - patches.mean(axis=1, keepdims=True)
    rng = np.random.default_rng(0)
    train = patches[rng.choice(len(patches), min(20000, len(patches)), replace=False)]
    tol = 64 * (1.15 * sigma) ** 2
    rows = [("noisy", noisy, 0.0)]
    estimate, t = _timed(lambda: _denoise(noisy, overcomplete_dct(256, (8, 8)), sigma))
    rows.append(("overcomplete DCT", estimate, t))

    def ksvd(X, max_iter):
        return KSVD(
            256, tol=tol, max_iter=max_iter, init="dct", atom_shape=(8, 8), random_state=0
        ).fit(X)

    def mbdl(**params):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return MiniBatchDictionaryLearning(256, random_state=0, **params).fit(train / 255)

    learners = {
        f"K-SVD, {len(train)} patches, 10 it": lambda: ksvd(train, 10),
        f"K-SVD, all {len(patches)} patches, 20 it": lambda: ksvd(patches, 20),
        f"MiniBatchDL defaults, {len(train)}": lambda: mbdl(),
        f"MiniBatchDL a=0.3 cd 1 ep, {len(train)}": lambda: mbdl(
            alpha=0.3, fit_algorithm="cd", max_iter=1
        ),
    }
    for name, learn in learners.items():
        model, t_fit = _timed(learn)
        estimate, t = _timed(lambda m=model: _denoise(noisy, m.components_, sigma))
        rows.append((name, estimate, t_fit + t))
    print(
        f"Denoising: camera {clean.shape[0]}x{clean.shape[1]}, sigma {sigma:g}; dictionaries "
        "learned from the noisy patches (means removed), every patch coded by OMP to the "
        "noise level"
    )
    header = f"{'dictionary':>38} {'PSNR dB':>8} {'seconds':>8}"
    print(header)
    print("-" * len(header))
    for name, estimate, t in rows:
        print(f"{name:>38} {_psnr(clean, estimate):8.2f} {t:8.2f}")
    print()


def bench_atoms(args):
    X, _ = _photo_patches(20000 if args.quick else 50000, 0)
    ksvd = KSVD(256, n_nonzero_coefs=5, max_iter=10, random_state=0).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mbdl = MiniBatchDictionaryLearning(256, random_state=0).fit(X)
    rows = {
        "K-SVD (ours)": ksvd.components_,
        "MiniBatchDictionaryLearning": mbdl.components_,
        "overcomplete DCT (256)": overcomplete_dct(256, (8, 8)),
        "Gaussian noise": np.random.default_rng(0).normal(size=(256, 64)),
    }
    print("Atoms against the 8x8 DCT basis (skcompress.sparse.compare_with_dct)")
    header = f"{'atoms':>28} {'mean best-match corr.':>22} {'DCT coverage':>13}"
    print(header)
    print("-" * len(header))
    for name, atoms in rows.items():
        result = compare_with_dct(atoms, (8, 8))
        print(f"{name:>28} {result.mean_correlation:22.3f} {result.mean_coverage:13.3f}")
    print()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sections", default="omp,learn,denoise,atoms")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs of each encoder")
    parser.add_argument("--learn-repeats", type=int, default=1, help="timed fits per learner")
    parser.add_argument("--threads", type=int, default=1, help="threads for every method")
    parser.add_argument("--quick", action="store_true", help="smaller problems, for a try")
    args = parser.parse_args(argv)
    sections = args.sections.split(",")
    spams, spams_version = _optional("spams")
    ksvd_package, ksvd_version = _optional("ksvd")
    limits = threadpool_limits(args.threads)
    blas = ", ".join(
        f"{lib['internal_api']} {lib['version']}"
        for lib in threadpool_info()
        if lib["user_api"] == "blas"
    )
    print(
        f"numpy {np.__version__}, scipy {scipy.__version__}, scikit-learn {sklearn.__version__}, "
        f"spams-bin {spams_version}, ksvd {ksvd_version}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, BLAS: {blas}, {args.threads} thread(s) per method\n"
    )
    if "omp" in sections:
        bench_omp(args, spams)
    if "learn" in sections:
        bench_learn(args, ksvd_package)
    if "denoise" in sections:
        bench_denoise(args)
    if "atoms" in sections:
        bench_atoms(args)
    limits.restore_original_limits()


if __name__ == "__main__":
    main()
