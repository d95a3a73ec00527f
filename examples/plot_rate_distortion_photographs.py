"""
Rate-distortion curves on photographs: our codecs beside Pillow's
=================================================================

How many bits per pixel does each codec spend for a given fidelity? Seven
gray 192x192 photographs (:func:`~skcompress.datasets.load_photographs`) are
coded by four codecs at several settings:

* **our JPEG path**: :class:`~skcompress.BlockDCT` and
  :class:`~skcompress.PerceptualQuantizer` over IJG qualities, entropy-coded
  for real by :class:`~skcompress.codecs.Codec`
  (:func:`~skcompress.metrics.rate_distortion_curve` cross-fits the entropy
  model: each half of the photographs is coded with a model learned on the
  other half);
* **Pillow's JPEG** (libjpeg) at the same qualities: Huffman coding, file
  headers and tables included;
* **JPEG 2000 through Pillow** (OpenJPEG) at fixed compression ratios, the
  raw codestream;
* **our wavelet path**: :class:`~skcompress.WaveletTransform` (CDF 9/7,
  4 levels) and JPEG 2000's deadzone quantizer
  (``PerceptualQuantizer(deadzone=0.375)``), one uniform step per curve
  point, coded with a categorical model per coefficient position;
* **a learned codec**, :class:`~skcompress.learned.LearnedWaveletCodec`
  (a wavelet transform, a learned projection, a learned entropy model and a
  nonlinear decoder), trained for a few seconds per point on four of the
  photographs and scored on the other three, when torch is installed.

Rates are bits per pixel of real bytes in every case; PSNR and SSIM are
averaged over the photographs. Bjontegaard's deltas
(:func:`~skcompress.metrics.bd_rate`, :func:`~skcompress.metrics.bd_psnr`)
sum each curve up against Pillow's JPEG in two numbers.
"""

import io

import numpy as np

from skcompress import BlockDCT, PerceptualQuantizer, WaveletTransform
from skcompress.datasets import load_photographs
from skcompress.metrics import bd_psnr, bd_rate, psnr, rate_distortion_curve, ssim

try:
    import matplotlib.pyplot as plt
except ImportError:
    plt = None
try:
    from PIL import Image, features
except ImportError:
    Image = None

X = load_photographs(size=192).images
print(f"{len(X)} photographs, {X.shape[1]} x {X.shape[2]}")
curves = {}

# %%
# Our JPEG path and our wavelet path
# ----------------------------------
qualities = [5, 10, 25, 50, 90]
jpeg = rate_distortion_curve(
    [BlockDCT(), PerceptualQuantizer(table="jpeg-luma")],
    X,
    "perceptualquantizer__quality",
    qualities,
)
curves["skcompress JPEG path"] = (jpeg.bits_per_value, jpeg.psnr, jpeg.ssim)

steps = [96.0, 48.0, 24.0, 12.0, 6.0]
wavelet = rate_distortion_curve(
    [WaveletTransform("cdf97", level=4), PerceptualQuantizer(table=1.0, deadzone=0.375)],
    X,
    "perceptualquantizer__table",
    steps,
)
curves["skcompress wavelet path"] = (wavelet.bits_per_value, wavelet.psnr, wavelet.ssim)


# %%
# Pillow's JPEG and JPEG 2000
# ---------------------------
def pillow_curve(settings, save):
    """Mean bpp, PSNR and SSIM of Pillow files written by ``save(image, setting, buffer)``."""
    bpp, quality_psnr, quality_ssim = [], [], []
    for setting in settings:
        decoded, bits = [], 0
        for image in X:
            buffer = io.BytesIO()
            save(Image.fromarray(image), setting, buffer)
            bits += 8 * buffer.tell()
            buffer.seek(0)
            decoded.append(np.asarray(Image.open(buffer).convert("L")))
        decoded = np.stack(decoded)
        bpp.append(bits / X[:, :, :].size)
        quality_psnr.append(psnr(X, decoded).mean())
        quality_ssim.append(ssim(X, decoded).mean())
    return np.array(bpp), np.array(quality_psnr), np.array(quality_ssim)


if Image is not None:
    curves["Pillow JPEG (libjpeg)"] = pillow_curve(
        qualities, lambda im, q, f: im.save(f, format="JPEG", quality=q)
    )
    if features.check("jpg_2000"):
        ratios = [96, 48, 24, 12, 6]
        curves["Pillow JPEG 2000 (OpenJPEG)"] = pillow_curve(
            ratios,
            lambda im, r, f: im.save(
                f, format="JPEG2000", quality_mode="rates", quality_layers=[r], no_jp2=True
            ),
        )

# %%
# A learned codec
# ---------------
# One model per trade-off ``lmbda`` between rate and squared error, trained on
# random 64x64 crops of four photographs (a tiny training set: a codec
# trained on thousands of images does better) and scored on the three others.
try:
    from skcompress.learned import LearnedWaveletCodec
except ImportError:  # torch or skorch missing
    LearnedWaveletCodec = None

if LearnedWaveletCodec is not None:
    train, test = X[:4].astype(np.float32), X[4:]
    bpp, learned_psnr, learned_ssim = [], [], []
    for lmbda in [0.003, 0.02]:
        codec = LearnedWaveletCodec(
            lmbda=lmbda,
            wavelet="cdf97",
            level=2,
            n_latents=12,
            n_filters=16,
            max_epochs=12,
            batch_size=4,
            patch_size=64,
            device="cpu",
            random_state=0,
            n_threads=1,
        ).fit(train)
        strings = codec.compress(test.astype(np.float32))
        decoded = np.clip(np.rint(codec.decompress(strings)), 0, 255).astype(np.uint8)
        bpp.append(8 * np.mean([len(s) for s in strings]) / test[0].size)
        learned_psnr.append(psnr(test, decoded).mean())
        learned_ssim.append(ssim(test, decoded).mean())
    curves["learned wavelet codec (3 photographs)"] = (
        np.array(bpp),
        np.array(learned_psnr),
        np.array(learned_ssim),
    )

# %%
# The table, then the curves
# --------------------------
for name, (bpp, curve_psnr, curve_ssim) in curves.items():
    print(name)
    for b, p, s in zip(bpp, curve_psnr, curve_ssim, strict=True):
        print(f"    {b:6.3f} bpp   PSNR {p:5.2f} dB   SSIM {s:.3f}")

if plt is not None:
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8))
    for name, (bpp, curve_psnr, curve_ssim) in curves.items():
        style = "s--" if name.startswith("Pillow") else "o-"
        left.plot(bpp, curve_psnr, style, label=name)
        right.plot(bpp, curve_ssim, style, label=name)
    left.set_ylabel("PSNR (dB)")
    right.set_ylabel("SSIM")
    for ax in (left, right):
        ax.set_xlabel("bits per pixel")
        ax.set_xscale("log")
        ax.grid(True, which="both", alpha=0.3)
    left.legend()
    fig.suptitle(f"Rate-distortion on {len(X)} gray photographs, {X.shape[1]} x {X.shape[2]}")
    plt.tight_layout()
    plt.show()

# %%
# Bjontegaard's deltas against JPEG
# ---------------------------------
# BD-rate: how many more bits (percent; negative: fewer) a codec spends than
# the anchor for the same PSNR, averaged over the PSNRs both curves reach.
# BD-PSNR: how many decibels it gains at the same rate, averaged over the
# rates both reach. Both interpolate each curve piecewise-cubically (PCHIP,
# as the JCT-VC and JVET common test conditions do). The learned codec is
# left out: it is scored on three of the photographs only.
anchor_name = (
    "Pillow JPEG (libjpeg)" if "Pillow JPEG (libjpeg)" in curves else "skcompress JPEG path"
)
anchor_bpp, anchor_psnr, _ = curves[anchor_name]
print(f"\nBjontegaard deltas against {anchor_name} (PSNR, PCHIP)")
print(f"    {'codec':32s} {'BD-rate':>9s} {'BD-PSNR':>9s}")
for name, (bpp, curve_psnr, _) in curves.items():
    if name == anchor_name or name.startswith("learned"):
        continue
    try:
        delta_rate = bd_rate(anchor_bpp, anchor_psnr, bpp, curve_psnr)
        delta_psnr = bd_psnr(anchor_bpp, anchor_psnr, bpp, curve_psnr)
    except ValueError as error:  # curves that share no range, say
        print(f"    {name:32s} not comparable: {error}")
        continue
    print(f"    {name:32s} {delta_rate:8.1f}% {delta_psnr:6.2f} dB")

# %%
# What the curves say
# -------------------
# Our JPEG path quantizes exactly as libjpeg does: at every quality the two
# PSNRs agree to a hundredth of a decibel. It spends fewer bits for them,
# because it writes no file headers (about 600 bytes in Pillow's files) and
# because its context model (:class:`~skcompress.entropy.BlockContextModel`)
# adapts to the coefficients where baseline JPEG has fixed Huffman codes.
#
# In PSNR, JPEG 2000 leads both JPEG curves from about 0.3 bpp up, by one to
# three decibels (the more, the higher the rate); below about 0.2 bpp our
# JPEG path keeps level with it, and in SSIM it does so at every rate. Our wavelet path has
# the same transform and quantizer but trails it: its entropy model has one
# distribution per coefficient position, learned from three or four
# photographs, where JPEG 2000's EBCOT coder models bit-planes in contexts of
# neighbouring coefficients and truncates each code block where it pays most.
#
# The learned codec, trained in seconds on four photographs, is scored on
# three others only, so its curve is not averaged over the same images; what
# it shows is that end-to-end training from a handful of images already lands
# among the hand-designed codecs.
#
# The Bjontegaard table condenses each comparison into two numbers, averaged
# over the range both curves cover. Against Pillow's files they include the
# file headers, which weigh most at the lowest rates.
