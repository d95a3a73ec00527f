"""Build the one compiled kernel; everything else is in pyproject.toml."""

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
        )
    ]
)
