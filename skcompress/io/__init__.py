"""JPEG files as input: coefficients read without decoding, folders as data sets, writers."""

from ._folder import load_jpeg_folder, write_jpeg
from ._jpeg import JPEGCoefficients, read_jpeg_coefficients
from ._jpeg_writer import write_jpeg_coefficients

__all__ = [
    "JPEGCoefficients",
    "load_jpeg_folder",
    "read_jpeg_coefficients",
    "write_jpeg",
    "write_jpeg_coefficients",
]
