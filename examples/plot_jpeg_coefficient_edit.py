"""
Edit a photograph's JPEG coefficients, get a real JPEG file
===========================================================

:class:`~skcompress.JPEGCodec` gives the quantized DCT coefficients of a
colour photograph exactly as a JPEG file holds them, here in the "blocks"
layout a network would take: one grid of minimum coded units (16 x 16 pixels
with 4:2:0 chroma), each holding its four luma blocks, then Cb and Cr, 64
coefficients per block in zig-zag order. We zero a band of high frequencies
(zig-zag positions 10 and up, in every block), write the result with
:meth:`~skcompress.JPEGCodec.compress_symbols` (the coefficients themselves;
:meth:`~skcompress.JPEGCodec.compress` takes the pixels) as ``.jpg`` files,
libjpeg's entropy coding, and open both with Pillow, as any viewer would.
"""

import tempfile
from pathlib import Path

import numpy as np

from skcompress import JPEGCodec
from skcompress.datasets import load_photographs
from skcompress.io import read_jpeg_coefficients
from skcompress.metrics import psnr

try:
    import matplotlib.pyplot as plt
except ImportError:
    plt = None
from PIL import Image

photos = load_photographs(size=256, color=True)
pick = list(photos.names).index("coffee") if "coffee" in photos.names else 0
image = photos.images[pick : pick + 1]  # (1, 256, 256, 3), RGB

codec = JPEGCodec(quality=75, layout="blocks").fit(image)
blocks = codec.transform(image)
print("blocks:", blocks.shape, "(images, MCU rows, MCU columns, Y Y Y Y Cb Cr, coefficients)")

# %%
# The edit: every coefficient from zig-zag position 10 on, in every block of
# every component, set to zero. The 10 that stay are the lowest frequencies.
band = 10
edited = blocks.copy()
edited[..., band:] = 0
print(f"nonzero coefficients: {np.count_nonzero(blocks)} before, {np.count_nonzero(edited)} after")

# %%
# Two standard JPEG files, from the same codec: the coefficients as they were,
# and as edited. libjpeg reads the edited file back exactly, and Pillow opens
# both from disk.
original_file = codec.compress_symbols(blocks)[0]
edited_file = codec.compress_symbols(edited)[0]
read_back = read_jpeg_coefficients(edited_file).coefficients
assert not any(c[..., band:].any() for c in read_back)

opened = []
with tempfile.TemporaryDirectory() as folder:
    for name, data in (("original.jpg", original_file), ("edited.jpg", edited_file)):
        path = Path(folder) / name
        path.write_bytes(data)
        with Image.open(path) as jpeg:
            opened.append(np.asarray(jpeg.convert("RGB")))
print(f"{'file':<14}{'bytes':>8}{'bits/pixel':>12}{'PSNR dB':>9}")
files = zip(("original.jpg", "edited.jpg"), (original_file, edited_file), opened, strict=True)
for name, data, pixels in files:
    quality = float(psnr(image, pixels[None])[0])
    print(f"{name:<14}{len(data):>8}{8 * len(data) / 256**2:>12.3f}{quality:>9.2f}")

# %%
# Side by side, as Pillow opened the files: the edited one has lost the fine
# texture and kept the shapes and colours, in a smaller file.
if plt is not None:
    fig, axes = plt.subplots(1, 2, figsize=(9, 4.8), layout="constrained")
    titles = [
        f"JPEG quality 75: {len(original_file):,} bytes",
        f"zig-zag positions >= {band} zeroed: {len(edited_file):,} bytes",
    ]
    for ax, pixels, title in zip(axes, opened, titles, strict=True):
        ax.imshow(pixels)
        ax.set_title(title)
        ax.set_axis_off()
    plt.show()
