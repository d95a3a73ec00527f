"""Codec quantization tables: JPEG (ITU-T T.81 Annex K) and IJG quality scaling."""

import numpy as np

# ITU-T T.81 Annex K, Table K.1 (luminance) and K.2 (chrominance), row-major.
JPEG_LUMA = np.array(
    [
        [16, 11, 10, 16, 24, 40, 51, 61],
        [12, 12, 14, 19, 26, 58, 60, 55],
        [14, 13, 16, 24, 40, 57, 69, 56],
        [14, 17, 22, 29, 51, 87, 80, 62],
        [18, 22, 37, 56, 68, 109, 103, 77],
        [24, 35, 55, 64, 81, 104, 113, 92],
        [49, 64, 78, 87, 103, 121, 120, 101],
        [72, 92, 95, 98, 112, 100, 103, 99],
    ],
    dtype=np.int64,
)
JPEG_CHROMA = np.full((8, 8), 99, dtype=np.int64)
JPEG_CHROMA[:4, :4] = [[17, 18, 24, 47], [18, 21, 26, 66], [24, 26, 56, 99], [47, 66, 99, 99]]
for _table in (JPEG_LUMA, JPEG_CHROMA):
    _table.setflags(write=False)

TABLES = {"jpeg-luma": JPEG_LUMA, "jpeg-chroma": JPEG_CHROMA}


def ijg_scale(table, quality, force_baseline=True):
    """Scale a quantization table to a quality as libjpeg's ``jpeg_set_quality``.

    Quality 50 returns the table itself; below 50 the scale is
    ``5000 / quality`` percent, above it ``200 - 2 * quality`` percent, with
    integer arithmetic, entries clamped to at least 1 and, with
    ``force_baseline`` (what Pillow and cjpeg use), to at most 255.

    Parameters
    ----------
    table : array-like
        Base table.
    quality : int
        1 (coarsest) to 100 (all steps 1).
    force_baseline : bool, default=True
        Clamp to 255 so that tables fit 8-bit baseline JPEG.

    Returns
    -------
    scaled : ndarray of int64

    Examples
    --------
    >>> from skcompress.quantization import JPEG_LUMA
    >>> ijg_scale(JPEG_LUMA, 75)[0, :4].tolist()
    [8, 6, 5, 8]
    >>> int(ijg_scale(JPEG_LUMA, 10).max())
    255
    """
    scale = 5000 // quality if quality < 50 else 200 - 2 * quality
    table = np.asarray(table)
    if np.issubdtype(table.dtype, np.integer):
        scaled = (table.astype(np.int64) * scale + 50) // 100
    else:
        scaled = np.floor((table * scale + 50) / 100)
    return np.clip(scaled, 1, 255 if force_baseline else 32767)
