"""
Learned atoms beside the 8x8 DCT basis
======================================

JPEG codes every 8x8 block in the fixed DCT basis. K-SVD learns its own 256
atoms from photographs instead: how close are they to the DCT's 64 cosines?
:func:`skcompress.sparse.compare_with_dct` expands every atom in the DCT
basis and reports its *best-match correlation*, the share of its norm that
its largest DCT coefficient holds (1 for a DCT basis function, about 0.33
for noise), and sorts the atoms by their mean frequency, as the zig-zag scan
sorts the DCT basis.
"""

import numpy as np
import skimage.data

from skcompress import KSVD, BlockDCT
from skcompress.sparse import compare_with_dct, overcomplete_dct
from skcompress.transforms import basis_functions, tile_images

# %%
# 12,000 random 8x8 patches of six gray photographs, each patch's mean
# removed (the DC coefficient, which JPEG codes apart).

rng = np.random.default_rng(0)
X = []
for name in ("camera", "clock", "coins", "moon", "page", "text"):
    windows = np.lib.stride_tricks.sliding_window_view(getattr(skimage.data, name)() / 255, (8, 8))
    rows, cols = rng.integers(0, windows.shape[0], 2000), rng.integers(0, windows.shape[1], 2000)
    X.append(windows[rows, cols].reshape(-1, 64))
X = np.vstack(X)
X -= X.mean(axis=1, keepdims=True)

ksvd = KSVD(256, n_nonzero_coefs=5, max_iter=5, random_state=0).fit(X)

# %%
# The numbers: learned atoms sit between noise and the DCT. Few are DCT
# basis functions; many are edges and corners at positions and angles the
# DCT spreads over several coefficients.

rows = {
    "K-SVD atoms": ksvd.components_,
    "overcomplete DCT (256)": overcomplete_dct(256, (8, 8)),
    "Gaussian noise": rng.normal(size=(256, 64)),
}
print(f"{'atoms':>24} {'mean best-match corr.':>22} {'atoms > 0.9':>12} {'DCT coverage':>13}")
for name, atoms in rows.items():
    result = compare_with_dct(atoms, (8, 8))
    close = np.mean(result.correlation > 0.9)
    print(f"{name:>24} {result.mean_correlation:22.3f} {close:12.1%} {result.mean_coverage:13.3f}")

learned = compare_with_dct(ksvd.components_, (8, 8))
print("smoothest learned atoms match the DCT functions (row-major u * 8 + v):")
print(learned.match[learned.order[:12]].tolist())

# %%
# The picture (if matplotlib is installed): learned atoms from smooth to
# busy, beside the DCT basis in zig-zag order.

try:
    import matplotlib.pyplot as plt
except ImportError:
    plt = None
if plt is not None:
    atoms = ksvd.components_[learned.order].reshape(-1, 8, 8)
    dct = basis_functions(BlockDCT(8), signal_shape=(8, 8))
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 6), width_ratios=[2, 1])
    left.imshow(tile_images(atoms, n_cols=16), cmap="gray")
    left.set_title(f"256 K-SVD atoms (mean best-match {learned.mean_correlation:.2f})")
    right.imshow(tile_images(dct, n_cols=8), cmap="gray")
    right.set_title("8x8 DCT basis, zig-zag order")
    for ax in (left, right):
        ax.axis("off")
    plt.tight_layout()
    plt.show()
