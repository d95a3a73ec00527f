"""
The JPEG quality ladder: what each bit buys
===========================================

One photograph coded at several IJG qualities through skcompress's JPEG path,
:class:`~skcompress.BlockDCT` then :class:`~skcompress.PerceptualQuantizer`
with the Annex K luminance table scaled as libjpeg scales it. Every picture
here is a real round trip: a :class:`~skcompress.codecs.Codec` writes the
quantized coefficients as a bitstream (its entropy model learned on the
*other* photographs, as a decoder would share it) and decodes them back. The
titles give the length of that bitstream in bits per pixel (bpp) and the
quality of the result (PSNR, SSIM); the second row shows where the error
goes: along edges first, then in 8x8 blocks as the quality falls.
"""

import io

import numpy as np

from skcompress import BlockDCT, PerceptualQuantizer
from skcompress.codecs import Codec
from skcompress.datasets import load_photographs
from skcompress.metrics import psnr, ssim

try:
    import matplotlib.pyplot as plt
except ImportError:
    plt = None

photos = load_photographs(size=256)
pick = list(photos.names).index("astronaut") if "astronaut" in photos.names else 0
image = photos.images[pick : pick + 1]
others = np.delete(photos.images, pick, axis=0)

qualities = [5, 15, 40, 90]
rows = []
for quality in qualities:
    steps = [BlockDCT(), PerceptualQuantizer(table="jpeg-luma", quality=quality)]
    steps[1].fit(steps[0].fit_transform(others))
    codec = Codec(steps).fit(others)
    strings = codec.compress(image)
    decoded = codec.decompress(strings)
    rows.append(
        {
            "quality": quality,
            "bpp": 8 * len(strings[0]) / image[0].size,
            "psnr": float(psnr(image, decoded)[0]),
            "ssim": float(ssim(image, decoded)[0]),
            "decoded": decoded[0],
        }
    )

# %%
# Beside Pillow's JPEG at the same quality (same tables, same scaling; a real
# file with Huffman coding and its headers):
try:
    from PIL import Image
except ImportError:
    Image = None

print(f"{'quality':>8}{'bpp':>8}{'PSNR dB':>9}{'SSIM':>7}{'Pillow bpp':>12}")
for row in rows:
    pillow = ""
    if Image is not None:
        buffer = io.BytesIO()
        Image.fromarray(image[0]).save(buffer, format="JPEG", quality=row["quality"])
        pillow = f"{8 * buffer.tell() / image[0].size:12.3f}"
    print(f"{row['quality']:>8}{row['bpp']:>8.3f}{row['psnr']:>9.2f}{row['ssim']:>7.3f}{pillow}")

# %%
# The ladder: reconstructions above, absolute error below (same scale for
# every quality, so the columns compare).
if plt is not None:
    fig, axes = plt.subplots(
        2, len(rows) + 1, figsize=(3 * (len(rows) + 1), 6.6), layout="constrained"
    )
    axes[0, 0].imshow(image[0], cmap="gray", vmin=0, vmax=255)
    axes[0, 0].set_title(f"original\n{photos.names[pick]}, 8 bpp")
    for column, row in enumerate(rows, start=1):
        error = np.abs(row["decoded"].astype(np.float64) - image[0])
        axes[0, column].imshow(row["decoded"], cmap="gray", vmin=0, vmax=255)
        axes[0, column].set_title(
            f"quality {row['quality']}: {row['bpp']:.2f} bpp\n"
            f"PSNR {row['psnr']:.1f} dB, SSIM {row['ssim']:.3f}"
        )
        shown = axes[1, column].imshow(error, cmap="inferno", vmin=0, vmax=40)
        axes[1, column].set_title(f"|error|, mean {error.mean():.1f} levels")
    for ax in axes.ravel():
        ax.set_axis_off()
    # The colour scale of the error maps, in the empty cell below the original.
    scale = axes[1, 0].inset_axes([0.45, 0.05, 0.1, 0.9])
    fig.colorbar(shown, cax=scale, label="absolute error (levels)")
    plt.show()
