"""
What the transforms see: DCT and DST-VII bases, wavelet subbands, the MDCT of a word
====================================================================================

Every codec starts with a transform that packs a signal's energy into few
coefficients. Here are the four that skcompress takes from the standards,
drawn from the library's own ``inverse_transform``
(:func:`~skcompress.transforms.basis_functions` feeds each transform one unit
coefficient at a time and keeps what comes out), and one learned from data:

* the 64 basis images of JPEG's 8x8 DCT (:class:`~skcompress.BlockDCT`);
* HEVC's 4x4 DST-VII beside the 4x4 DCT (``BlockDCT(4, kind="dst7")``);
* the subbands of a photograph under JPEG 2000's CDF 9/7 wavelet
  (:class:`~skcompress.WaveletTransform`,
  :func:`~skcompress.transforms.subband_mosaic`);
* the MDCT of a spoken digit (:class:`~skcompress.MDCT`), the transform of
  MP3, AAC and Opus;
* and, beside the DCT, the filters that PCA learns from 8x8 patches of
  photographs: the DCT is close to what one would learn.
"""

import numpy as np
from sklearn.decomposition import PCA

from skcompress import MDCT, BlockDCT, WaveletTransform
from skcompress.datasets import load_photographs, load_spoken_digits
from skcompress.sparse import compare_with_dct, extract_patches
from skcompress.transforms import basis_functions, subband_mosaic, tile_images

try:
    import matplotlib.pyplot as plt
except ImportError:  # the numbers below still print
    plt = None

# %%
# The 8x8 DCT basis
# -----------------
# In row-major ``(u, v)`` order: vertical frequency grows down the grid,
# horizontal frequency to the right. The top-left image is the flat DC term;
# JPEG's zig-zag scan visits the rest from the top-left corner outwards.
dct8 = basis_functions(BlockDCT(8, order="natural"), signal_shape=(8, 8))
print(
    f"8x8 DCT: {len(dct8)} basis images; orthonormal: "
    f"{np.allclose(dct8.reshape(64, 64) @ dct8.reshape(64, 64).T, np.eye(64))}"
)

if plt is not None:
    fig, ax = plt.subplots(figsize=(6, 6))
    ax.imshow(tile_images(dct8, n_cols=8), cmap="gray", vmin=-1, vmax=1)
    ax.set_title("JPEG's 8x8 DCT-II basis (u down, v across)")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_facecolor("tab:blue")  # the padding between tiles (NaN) shows this colour
    plt.show()

# %%
# HEVC's DST-VII beside the DCT
# -----------------------------
# HEVC codes the residual of a 4x4 intra-predicted luma block with a DST-VII.
# The residual is small next to the edge the block is predicted from and grows
# away from it; the DST-VII's first basis function does the same, where the
# DCT's is flat.
dct4 = basis_functions(BlockDCT(4, order="natural"), signal_shape=(4, 4))
dst4 = basis_functions(BlockDCT(4, kind="dst7", order="natural"), signal_shape=(4, 4))
print(
    "top row of the first basis image, scaled to its peak: DCT",
    np.round(dct4[0, 0] / dct4[0, 0].max(), 3),
    "DST-VII",
    np.round(dst4[0, 0] / dst4[0, 0].max(), 3),
)

if plt is not None:
    fig, axes = plt.subplots(1, 2, figsize=(8, 4))
    for ax, basis, title in [(axes[0], dct4, "4x4 DCT-II"), (axes[1], dst4, "4x4 DST-VII")]:
        ax.imshow(tile_images(basis, n_cols=4), cmap="gray", vmin=-1, vmax=1)
        ax.set_title(title)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_facecolor("tab:blue")
    plt.show()

# %%
# Wavelet subbands of a photograph
# --------------------------------
# Three levels of the CDF 9/7 wavelet, laid out as in the JPEG 2000 standard:
# the coarse approximation LL3 top left, then for each level the horizontal
# detail HL (vertical edges) to its right, LH (horizontal edges) below and HH
# diagonally. Each subband is scaled to its own peak, or the details would be
# invisible beside LL. Most detail coefficients are near zero: that is what
# the quantizer exploits.
photos = load_photographs(size=256)
photo = photos.images[list(photos.names).index("camera") if "camera" in photos.names else 0]
wavelet = WaveletTransform("cdf97", level=3).fit(photo[np.newaxis])
mosaic = subband_mosaic(wavelet, photo)
coefficients = wavelet.transform(photo[np.newaxis].astype(np.float64))[0]
n_ll = int(np.prod(wavelet.subband_shapes_[0]))
energy_ll = np.sum(coefficients[:n_ll] ** 2) / np.sum(coefficients**2)
print(
    f"subbands {wavelet.subbands_}; LL3 holds {n_ll / coefficients.size:.1%} of the "
    f"coefficients and {energy_ll:.2%} of the energy"
)

if plt is not None:
    fig, axes = plt.subplots(1, 2, figsize=(11, 5.5))
    axes[0].imshow(photo, cmap="gray")
    axes[0].set_title("photograph (256 x 256)")
    axes[1].imshow(np.sign(mosaic) * np.sqrt(np.abs(mosaic)), cmap="gray", vmin=-1, vmax=1)
    axes[1].set_title("CDF 9/7 subbands, 3 levels (square-root contrast)")
    for ax in axes:
        ax.set_axis_off()
    plt.show()

# %%
# The MDCT of a spoken digit
# --------------------------
# 1 s of a synthesized voice at 8 kHz in 50%-overlapped frames of 256
# samples (32 ms): 128 frequency bins of 31.25 Hz per frame. The harmonics of
# the voice are the horizontal stripes; the silence around the word costs
# next to nothing once quantized.
digits = load_spoken_digits()
signal = digits.data[:1].astype(np.float64)
word = digits.target_names[digits.target[0]]
mdct = MDCT(frame_length=256, layout="blocks").fit(signal)
frames = mdct.transform(signal)[0]  # (n_frames, n_bins)
rebuilt = MDCT(frame_length=256).fit(signal)
error = np.abs(rebuilt.inverse_transform(rebuilt.transform(signal)) - signal).max()
print(
    f"'{word}': {frames.shape[0]} frames x {frames.shape[1]} bins; "
    f"perfect reconstruction error {error:.1e}"
)

if plt is not None:
    rate = digits.sample_rate
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6), height_ratios=[1, 2], sharex=True)
    top.plot(np.arange(signal.shape[1]) / rate, signal[0], lw=0.5)
    top.set_ylabel("amplitude")
    top.set_title(f"spoken digit '{word}' and its MDCT (frames of 256 samples)")
    hop = mdct.n_bins_ / rate
    bottom.imshow(
        20 * np.log10(np.abs(frames.T) + 1),
        origin="lower",
        aspect="auto",
        extent=[-hop, frames.shape[0] * hop - hop, 0, rate / 2],
        cmap="magma",
    )
    bottom.set_xlabel("time (s)")
    bottom.set_ylabel("frequency (Hz)")
    plt.show()

# %%
# Learned filters beside the DCT
# ------------------------------
# The DCT is a fixed approximation of the Karhunen-Loeve transform of
# natural images: the orthogonal basis that decorrelates their 8x8 blocks.
# PCA learns that basis from data. Its components, fitted on every 8x8 block
# of the photographs less its mean (so there is no DC component) and sorted
# by variance, come out as smooth ramps and
# checkerboards much like the DCT's; :func:`~skcompress.sparse.compare_with_dct`
# measures how much of each component its best-matching DCT basis function
# explains (1 for a DCT basis function itself, about 0.36 for noise).
patches = extract_patches(photos.images.astype(np.float64), (8, 8), step=8).reshape(-1, 64)
patches = patches - patches.mean(axis=1, keepdims=True)
pca = PCA(n_components=63, random_state=0).fit(patches)  # the mean (DC) is removed
match = compare_with_dct(pca.components_)
print(
    f"PCA of {len(patches)} 8x8 patches: mean best-match correlation with the DCT "
    f"{match.mean_correlation:.2f}; first 10 components "
    f"{np.round(match.correlation[:10], 2).tolist()}"
)

if plt is not None:
    fig, axes = plt.subplots(1, 2, figsize=(11, 5.5))
    axes[0].imshow(tile_images(dct8, n_cols=8), cmap="gray", vmin=-1, vmax=1)
    axes[0].set_title("8x8 DCT basis")
    learned = pca.components_.reshape(-1, 8, 8)
    axes[1].imshow(tile_images(learned, n_cols=8), cmap="gray", vmin=-1, vmax=1)
    axes[1].set_title(f"PCA of photograph patches (mean match {match.mean_correlation:.2f})")
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_facecolor("tab:blue")
    plt.show()
