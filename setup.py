"""Build the compiled kernels; everything else is in pyproject.toml."""

import sys

from setuptools import Extension, setup

if sys.platform == "win32":
    flags = ["/O2", "/std:c++14"]
else:
    flags = ["-O3", "-std=c++11", "-fno-exceptions", "-fno-rtti", "-Wno-psabi"]

setup(
    ext_modules=[
        Extension(
            "skcompress.transforms._separable",
            ["skcompress/transforms/_separable.cpp"],
            extra_compile_args=flags,
            language="c++",
        ),
        # Baseline JPEG's pixel <-> coefficient arithmetic, fused (plain C, no library).
        Extension(
            "skcompress.codecs._jpeg_kernel",
            ["skcompress/codecs/_jpeg_kernel.c"],
            # no implicit fused multiply-adds (the float path fuses where BlockDCT does); no
            # floating point traps, so that loops with floor() and divisions vectorize
            extra_compile_args=(
                []
                if sys.platform == "win32"
                else ["-O3", "-ffp-contract=off", "-fno-trapping-math"]
            ),
        ),
        # JPEG 2000: wavelet lifting and the EBCOT block coder with the MQ coder (plain C).
        Extension(
            "skcompress.codecs._ebcot_kernel",
            ["skcompress/codecs/_ebcot_kernel.c"],
            extra_compile_args=[] if sys.platform == "win32" else ["-O3"],
        ),
        # HEVC intra coding (luma, 4:2:0 chroma): prediction, transforms, RD search, range coder.
        Extension(
            "skcompress.codecs._hevc_kernel",
            ["skcompress/codecs/_hevc_kernel.c"],
            extra_compile_args=[] if sys.platform == "win32" else ["-O3"],
        ),
        # Reading JPEG coefficients needs libjpeg's headers (Debian: libjpeg-dev); without
        # them the package still installs and skcompress.io says what is missing.
        Extension(
            "skcompress.io._jpeg_reader",
            ["skcompress/io/_jpeg_reader.c"],
            libraries=["jpeg"],
            extra_compile_args=[] if sys.platform == "win32" else ["-O3"],
            optional=True,
        ),
    ]
)
