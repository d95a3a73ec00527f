"""The rate of a whole image codec, from the lengths of its bitstreams."""

import numpy as np


def image_rate(strings, shape):
    """Mean bits of one image's bitstream, and the same per pixel of ``shape = (H, W)``.

    Returns ``{"bits_per_sample", "bits_per_pixel", "bits_per_value"}``
    (``bits_per_value``: the key :class:`~skcompress.codecs.Codec` uses, a
    synonym of ``bits_per_pixel``, whatever the channels).
    """
    sizes = np.array([8 * len(s) for s in strings], dtype=np.float64)
    bits = float(sizes.mean()) if len(sizes) else 0.0
    pixels = shape[0] * shape[1]
    return {
        "bits_per_sample": bits,
        "bits_per_pixel": bits / pixels,
        "bits_per_value": bits / pixels,
    }
