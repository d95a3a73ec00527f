"""Rate and quality measures for compressed representations.

Rates: :func:`bits_per_sample` (the quantizer's estimate) and :func:`coded_bits`
(the length of real bitstreams); scorers for model selection that trade
accuracy against bits (:func:`make_rate_scorer`, :func:`make_lagrangian_scorer`,
:func:`rate_scoring`); distortion (:func:`mse`, :func:`psnr`, :func:`psnr_y`,
:func:`ssim`, :func:`ms_ssim`); Bjontegaard's deltas between two rate-distortion
curves (:func:`bd_rate`, :func:`bd_psnr`); and sweeps of one parameter
(:func:`rate_accuracy_curve`, :func:`rate_distortion_curve`).
"""

from ._bjontegaard import bd_psnr, bd_rate
from ._curves import rate_accuracy_curve, rate_distortion_curve
from ._quality import ms_ssim, mse, psnr, psnr_y, ssim
from ._rate import bits_per_sample
from ._scoring import coded_bits, make_lagrangian_scorer, make_rate_scorer, rate_scoring

__all__ = [
    "bd_psnr",
    "bd_rate",
    "bits_per_sample",
    "coded_bits",
    "make_lagrangian_scorer",
    "make_rate_scorer",
    "ms_ssim",
    "mse",
    "psnr",
    "psnr_y",
    "rate_accuracy_curve",
    "rate_distortion_curve",
    "rate_scoring",
    "ssim",
]
