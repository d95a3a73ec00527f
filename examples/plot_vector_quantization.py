"""
Vector quantizers: residual VQ stage by stage, pyramid VQ pulse by pulse
========================================================================

Scalar quantization rounds each coefficient on its own; a vector quantizer
codes a whole vector with one index. skcompress has the two that modern codecs
use:

* :class:`~skcompress.ResidualVQ`, the quantizer of SoundStream and EnCodec:
  stages of codebooks, each one coding what the stages before it left, so
  every stage adds ``log2(codebook_size)`` bits and the stream can be cut
  after any stage;
* :class:`~skcompress.PyramidVQ`, the gain-shape quantizer of CELT (Opus):
  a vector's norm on a log scale, and its direction as the nearest point of
  a pyramid of ``K`` integer pulses, with no codebook to learn at all.
"""

import numpy as np

from skcompress import MDCT, BlockDCT, PyramidVQ, ResidualVQ
from skcompress.datasets import load_photographs, load_spoken_digits
from skcompress.metrics import psnr
from skcompress.quantization import pvq_size

try:
    import matplotlib.pyplot as plt
except ImportError:
    plt = None

# %%
# Residual VQ of 8x8 DCT blocks
# -----------------------------
# Photographs (128 x 128) are cut into 8x8 DCT blocks, one 64-d vector per
# block; eight stages of 64 codewords are learned on all but the last two
# photographs, which are then coded and decoded with the first 1, 2, ..., 8
# stages. Each stage costs 6 bits per block, 3/32 bit per pixel. Two
# encoders: SoundStream's greedy stage-by-stage k-means, and the default beam
# search (4 candidates) with joint refinement of the codebooks.
photos = load_photographs(size=128).images
train, test = photos[:-2], photos[-2:]
dct = BlockDCT(layout="blocks").fit(train)
vectors_train, vectors_test = dct.transform(train), dct.transform(test)

n_stages, codebook_size = 8, 64
encoders = {
    "greedy, stage-wise k-means": ResidualVQ(
        n_stages, codebook_size, beam_size=1, n_refine=0, layout="blocks", random_state=0
    ),
    "beam 4 + joint refinement": ResidualVQ(
        n_stages, codebook_size, beam_size=4, layout="blocks", random_state=0
    ),
}
bpp = np.arange(1, n_stages + 1) * np.log2(codebook_size) / 64
curves = {}
for name, rvq in encoders.items():
    codes = rvq.fit(vectors_train).transform(vectors_test)
    curves[name] = [
        psnr(test, dct.inverse_transform(rvq.inverse_transform(codes, n_stages=s))).mean()
        for s in range(1, n_stages + 1)
    ]
    print(f"{name}: PSNR by stage " + " ".join(f"{p:.1f}" for p in curves[name]))
rvq = encoders["beam 4 + joint refinement"]
print("codewords in use per stage (perplexity):", np.round(rvq.perplexity_, 1).tolist())

# %%
# Error falls with every stage, by less each time. The beam and the refined
# codebooks give up a little at the first stage (k-means alone is the best
# one-stage code of the training blocks) and gain about half a decibel by the
# eighth, what one more greedy stage would buy. On the right, how often the
# training blocks chose each codeword, sorted, stage by stage: the first stage
# spreads its blocks over its codebook most evenly, while later stages, coding
# small residuals, send most blocks to a few codewords. Their perplexity
# (``perplexity_``) is about 11 of 64: an entropy coder would spend about 3.5
# bits on such a stage where fixed-length codes spend 6.
if plt is not None:
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    for name, curve in curves.items():
        left.plot(bpp, curve, "o-", label=name)
    left.set_xlabel("bits per pixel (6 bits per stage per 8x8 block)")
    left.set_ylabel("PSNR on held-out photographs (dB)")
    left.set_title("ResidualVQ: error vs stages")
    left.legend()
    left.grid(True, alpha=0.3)
    usage = np.sort(rvq.codebook_usage_, axis=1)[:, ::-1]
    for stage in range(0, n_stages, 2):
        share = usage[stage] / usage[stage].sum()
        right.plot(np.arange(1, codebook_size + 1), share, label=f"stage {stage + 1}")
    right.set_yscale("log")
    right.set_xlabel("codeword rank")
    right.set_ylabel("share of training blocks")
    right.set_title("codebook usage")
    right.legend()
    plt.tight_layout()
    plt.show()

# %%
# Reconstructions of a held-out photograph with 1, 2, 4 and 8 stages:
if plt is not None:
    codes = rvq.transform(vectors_test[:1])
    fig, axes = plt.subplots(1, 5, figsize=(15, 3.4))
    axes[0].imshow(test[0], cmap="gray", vmin=0, vmax=255)
    axes[0].set_title("original")
    for ax, stages in zip(axes[1:], [1, 2, 4, 8], strict=True):
        decoded = dct.inverse_transform(rvq.inverse_transform(codes, n_stages=stages))
        ax.imshow(np.clip(decoded[0], 0, 255), cmap="gray", vmin=0, vmax=255)
        ax.set_title(f"{stages} stage{'s' if stages > 1 else ''}: {bpp[stages - 1]:.2f} bpp")
    for ax in axes:
        ax.set_axis_off()
    plt.show()

# %%
# Pyramid VQ of MDCT bands
# ------------------------
# CELT codes each band of MDCT coefficients as a gain and a shape. Here the
# 128 bins of every 32 ms frame of spoken digits are cut into bands of 8 and
# 16 bins, and the shape quantized with ``K`` pulses: ``log2 V(N, K)`` bits
# per band. The signal-to-noise ratio of the decoded coefficients grows by
# 3 to 5 dB for each doubling of the pulses, more slowly in the wider bands,
# where the same pulses spread thinner. Nothing is learned: ``fit`` only reads
# the range of the gains.
digits = load_spoken_digits()
mdct = MDCT(frame_length=256).fit(digits.data[:40].astype(np.float64))
coefficients = mdct.transform(digits.data[:40].astype(np.float64))
pulses = [1, 2, 4, 8, 16, 32]
energy = np.sum(coefficients**2)
snr = {}
for band in (8, 16):
    snr[band] = []
    for k in pulses:
        pvq = PyramidVQ(vector_size=band, pulses=k).fit(coefficients)
        decoded = pvq.inverse_transform(pvq.transform(coefficients))
        snr[band].append(10 * np.log10(energy / np.sum((decoded - coefficients) ** 2)))
    bits = [float(np.log2(pvq_size(band, k))) for k in pulses]
    print(
        f"bands of {band}: "
        + ", ".join(
            f"K={k} ({b:.1f} bits) {s:.1f} dB"
            for k, b, s in zip(pulses, bits, snr[band], strict=True)
        )
    )

if plt is not None:
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for band, curve in snr.items():
        ax.plot(pulses, curve, "o-", label=f"bands of {band} bins")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("pulses K per band")
    ax.set_ylabel("SNR of the MDCT coefficients (dB)")
    ax.set_title("PyramidVQ on spoken digits: SNR vs pulses")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    plt.tight_layout()
    plt.show()
