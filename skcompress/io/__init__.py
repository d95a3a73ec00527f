"""Files in and out: JPEG coefficients read without decoding, folders as data sets, writers;
audio files and resampling."""

from ._audio import read_audio, resample, write_audio
from ._augment import (
    adjust_brightness,
    adjust_contrast,
    crop_blocks,
    downsample2x,
    flip_horizontal,
    flip_vertical,
    random_crop,
    random_flip,
    rotate90,
    transpose,
    upsample2x,
)
from ._dataset import JPEGDataset
from ._folder import load_jpeg_folder, write_jpeg
from ._jpeg import JPEGCoefficients, read_jpeg_coefficients
from ._jpeg_writer import write_jpeg_coefficients, write_jpeg_coefficients_batch

__all__ = [
    "JPEGCoefficients",
    "load_jpeg_folder",
    "read_jpeg_coefficients",
    "write_jpeg",
    "write_jpeg_coefficients",
    "write_jpeg_coefficients_batch",
]

# exact augmentation on coefficients (_augment.py)
__all__ += [
    "adjust_brightness",
    "adjust_contrast",
    "crop_blocks",
    "downsample2x",
    "flip_horizontal",
    "flip_vertical",
    "random_crop",
    "random_flip",
    "rotate90",
    "transpose",
    "upsample2x",
]

# a streaming data set of files' coefficients for networks (_dataset.py)
__all__ += ["JPEGDataset"]

# audio files and resampling (_audio.py)
__all__ += ["read_audio", "resample", "write_audio"]
