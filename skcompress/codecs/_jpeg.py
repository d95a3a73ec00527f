"""The JPEG paths as building blocks: the gray and colour steps of a baseline JPEG encoder.

A baseline JPEG encoder (libjpeg's ``cjpeg``, Pillow's ``save``) turns 8-bit
samples into quantized DCT coefficients in a fixed order of steps, each of
which skcompress has as a transformer:

* gray: level shift by 128, 8x8 block DCT, quantization by the luminance
  table scaled to the IJG quality (:func:`jpeg_gray_steps`);
* colour: RGB -> YCbCr, chroma subsampling with the planes padded to whole
  MCUs, then the gray path on each plane, luminance table for Y and
  chrominance table for Cb and Cr (:func:`jpeg_color_planes`).

These functions wire the steps together with one set of settings, so that
the block order, the number of coefficients kept and the layout agree on
every step; Huffman coding and the file markers are left out (the entropy
models of :mod:`skcompress.entropy` code the symbols instead).
"""

from typing import NamedTuple

import numpy as np

from ..quantization import PerceptualQuantizer
from ..transforms import BlockDCT, ChromaSubsampler, ColorTransform

#: JPEG's level shift and chroma offset for 8-bit samples.
_OFFSET = 128
#: The colour planes, in the order of a JPEG file's components, and their tables.
PLANES = ("Y", "Cb", "Cr")
_TABLES = ("jpeg-luma", "jpeg-chroma", "jpeg-chroma")


def jpeg_gray_steps(
    quality=None, *, n_coefficients=None, table="jpeg-luma", order="zigzag", layout="flat"
):
    """The steps of JPEG's gray path, unfitted: 8x8 block DCT, then quantization.

    ``BlockDCT(8, level_shift=128)`` followed by ``PerceptualQuantizer``
    with the same ``order``, ``n_coefficients`` and ``layout``, ready for
    :func:`~sklearn.pipeline.make_pipeline` (the quality is then the
    parameter ``perceptualquantizer__quality``) or for
    :class:`~skcompress.codecs.Codec` once fitted. On 8-bit gray images the
    symbols are those of a baseline JPEG file at the same quality except
    where libjpeg's integer DCT crosses a rounding boundary, and there one
    level away (the conformance benchmark counts them, :doc:`/benchmarks`).

    Parameters
    ----------
    quality : int in [1, 100] or None, default=None
        IJG quality that scales ``table`` as libjpeg does; None takes the
        table as it is (quality 50).
    n_coefficients : int or None, default=None
        Keep only the first coefficients of every block in ``order`` (the
        lowest frequencies in zig-zag order); None keeps all 64.
    table : {"jpeg-luma", "jpeg-chroma"}, float or array-like, default="jpeg-luma"
        The quantization table (see :class:`~skcompress.PerceptualQuantizer`).
    order : {"zigzag", "natural"}, default="zigzag"
        Order of the coefficients within a block.
    layout : {"flat", "blocks", "channels_first"}, default="flat"
        Output layout of both steps (see :mod:`skcompress`).

    Returns
    -------
    steps : list of [BlockDCT, PerceptualQuantizer]

    See Also
    --------
    jpeg_color_planes : the colour path, fitted and applied.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from skcompress.codecs import jpeg_gray_steps
    >>> from skcompress.datasets import load_mnist
    >>> X = load_mnist().images[:50]
    >>> jpeg = make_pipeline(*jpeg_gray_steps(75, n_coefficients=16)).fit(X)
    >>> jpeg.transform(X).shape         # 4x4 blocks of 16 coefficients
    (50, 256)
    >>> list(jpeg.named_steps)
    ['blockdct', 'perceptualquantizer']
    """
    return [
        BlockDCT(
            8,
            order=order,
            n_coefficients=n_coefficients,
            level_shift=_OFFSET,
            layout=layout,
        ),
        PerceptualQuantizer(
            table,
            quality=quality,
            order=order,
            n_coefficients=n_coefficients,
            layout=layout,
        ),
    ]


class JPEGColorPlanes(NamedTuple):
    """The quantized planes of colour images, what came before, and the steps that made them.

    Each field but ``steps`` holds one array per plane, Y, Cb and Cr, at
    the plane's own resolution.

    Attributes
    ----------
    symbols : tuple of 3 ndarray of int32
        Quantized coefficients in the steps' ``layout``; with "blocks",
        ``(n_samples, h, w, 64)`` for a plane of ``h x w`` blocks.
    coefficients : tuple of 3 ndarray
        The DCT coefficients before rounding, same shapes.
    samples : tuple of 3 ndarray
        The planes that went into the DCT: ``(n_samples, 8 h, 8 w)``,
        padded to whole MCUs.
    steps : JPEGColorSteps
        The fitted steps; ``steps.decode(symbols)`` inverts them.
    """

    symbols: tuple
    coefficients: tuple
    samples: tuple
    steps: "JPEGColorSteps"


class JPEGColorSteps(NamedTuple):
    """The fitted steps of JPEG's colour path: colour, subsampling, a DCT and quantizer per plane.

    Made by :func:`jpeg_color_planes`; :meth:`encode` (or :meth:`symbols`)
    applies them to other images of the same size, :meth:`decode` inverts
    them, :meth:`planes` stops before the DCT.

    Attributes
    ----------
    color : ColorTransform
    subsampler : ChromaSubsampler
    transforms : tuple of 3 BlockDCT
        For Y, Cb and Cr.
    quantizers : tuple of 3 PerceptualQuantizer
        Luminance table for Y, chrominance table for Cb and Cr.
    """

    color: ColorTransform
    subsampler: ChromaSubsampler
    transforms: tuple
    quantizers: tuple

    def encode(self, X):
        """Quantized planes of RGB images of the size the steps were fitted on.

        Parameters
        ----------
        X : array-like of shape (n_samples, H, W, 3)
            8-bit RGB samples.

        Returns
        -------
        planes : JPEGColorPlanes
            With the intermediate planes and coefficients.
        """
        samples = self.planes(X)
        coefficients = tuple(
            dct.transform(plane) for dct, plane in zip(self.transforms, samples, strict=True)
        )
        symbols = tuple(q.transform(G) for q, G in zip(self.quantizers, coefficients, strict=True))
        return JPEGColorPlanes(symbols, coefficients, samples, self)

    def symbols(self, X):
        """The quantized Y, Cb and Cr only: :meth:`encode` without keeping what came before.

        The planes and coefficients of one plane are freed before the next
        plane is transformed, so the memory is that of the output and one
        plane's temporaries.

        Parameters
        ----------
        X : array-like
            RGB images, as for :meth:`encode`.

        Returns
        -------
        symbols : tuple of 3 ndarray of int32
        """
        samples = list(self.planes(X))
        out = []
        for i, (dct, q) in enumerate(zip(self.transforms, self.quantizers, strict=True)):
            plane, samples[i] = samples[i], None  # each plane freed once transformed
            out.append(q.transform(dct.transform(plane)))
        return tuple(out)

    def planes(self, X):
        """The planes Y, Cb and Cr before the DCT: colour conversion and subsampling only.

        What a :class:`~skcompress.codecs.Codec` of one plane's DCT and
        quantizer takes as input.

        Parameters
        ----------
        X : array-like of shape (n_samples, H, W, 3)
            RGB images of the size the steps were fitted on.

        Returns
        -------
        samples : tuple of 3 ndarray
            ``(n_samples, 8 h, 8 w)`` each, padded to whole MCUs.
        """
        return tuple(self.subsampler.split(self.subsampler.transform(self.color.transform(X))))

    def decode(self, symbols):
        """RGB images from quantized planes: dequantize, inverse DCT, upsample, convert.

        Parameters
        ----------
        symbols : sequence of 3 array-like
            Quantized Y, Cb and Cr, as :meth:`encode` returns them.

        Returns
        -------
        images : ndarray of shape (n_samples, H, W, 3)
            Unrounded RGB samples (float; with ``method="libjpeg"`` the
            planes are rounded and clipped on the way, as libjpeg's decoder
            does).
        """
        if len(symbols) != 3:
            raise ValueError(
                f"JPEGColorSteps.decode expects the 3 planes Y, Cb, Cr; got {len(symbols)}."
            )
        planes = [
            dct.inverse_transform(q.inverse_transform(B))
            for dct, q, B in zip(self.transforms, self.quantizers, symbols, strict=True)
        ]
        ycc = self.subsampler.inverse_transform(self.subsampler.merge(*planes))
        return self.color.inverse_transform(ycc)


def jpeg_color_planes(
    X, quality=None, *, subsampling="4:2:0", method="float", order="zigzag", layout="blocks"
):
    """JPEG's colour path on RGB images: the quantized Y, Cb and Cr, and the steps to invert them.

    ``ColorTransform`` (JFIF YCbCr, chroma offset 128) ->
    ``ChromaSubsampler(subsampling, block_size=8)`` -> the planes Y, Cb, Cr
    at their own resolutions, padded to whole MCUs as libjpeg pads them ->
    per plane ``BlockDCT(8, level_shift=128)`` -> ``PerceptualQuantizer``
    with the luminance table for Y and the chrominance table for Cb and Cr,
    scaled to ``quality``. Every step is fitted on ``X`` (the quantizers'
    symbol statistics too); :meth:`JPEGColorSteps.encode` of the returned
    ``steps`` applies them to other images of the same size.

    With ``method="libjpeg"`` the colour conversion and the subsampling use
    libjpeg's integer arithmetic, so the planes are libjpeg's own samples and
    the symbols differ from a JPEG file's only where libjpeg's integer DCT
    crosses a rounding boundary, by one level (:doc:`/benchmarks`). libjpeg
    codes extra luma blocks to complete the last MCUs that readers such as
    jpeglib leave out: crop the Y plane to ``ceil(H / 8) x ceil(W / 8)``
    blocks to compare.

    Parameters
    ----------
    X : array-like of shape (n_samples, H, W, 3)
        8-bit RGB samples (uint8, or integers in [0, 255] held as floats;
        float32 stays float32).
    quality : int in [1, 100] or None, default=None
        IJG quality of both tables; None takes the Annex K tables as they
        are (quality 50).
    subsampling : {"4:2:0", "4:2:2", "4:4:4"}, default="4:2:0"
        Chroma subsampling (Pillow's ``subsampling=2``, ``1``, ``0``).
    method : {"float", "libjpeg"}, default="float"
        Exact colour matrix and chroma means, or libjpeg's integer ones
        (integer samples only).
    order : {"zigzag", "natural"}, default="zigzag"
        Order of the coefficients within a block ("natural" is row-major, as
        jpeglib reads them from a file).
    layout : {"blocks", "flat", "channels_first"}, default="blocks"
        Layout of every plane's coefficients and symbols.

    Returns
    -------
    planes : JPEGColorPlanes
        ``symbols``, ``coefficients`` (before rounding) and ``samples`` (the
        planes before the DCT), one array per plane, and the fitted
        ``steps`` (:class:`JPEGColorSteps`), whose ``decode(symbols)``
        returns RGB images.

    See Also
    --------
    jpeg_gray_steps : the gray path.

    Examples
    --------
    >>> import numpy as np
    >>> from skcompress.codecs import jpeg_color_planes
    >>> y, x = np.mgrid[:20, :30]                 # two smooth 20x30 images
    >>> rgb = np.stack([8 * x, 12 * y, 4 * (x + y)], axis=-1).astype(np.uint8)[None].repeat(2, 0)
    >>> planes = jpeg_color_planes(rgb, quality=75)
    >>> [B.shape for B in planes.symbols]      # 4:2:0: Y covers 2x2 MCUs of 16x16
    [(2, 4, 4, 64), (2, 2, 2, 64), (2, 2, 2, 64)]
    >>> planes.steps.quantizers[1].steps_[:3].tolist()   # chroma table, quality 75
    [9.0, 9.0, 9.0]
    >>> back = planes.steps.decode(planes.symbols)
    >>> back.shape, bool(np.abs(back - rgb).mean() < 3)
    ((2, 20, 30, 3), True)
    """
    X = np.asarray(X)
    if X.ndim != 4 or X.shape[-1] != 3:
        raise ValueError(
            f"jpeg_color_planes expects RGB images (n_samples, H, W, 3); got shape {X.shape}."
        )
    color = ColorTransform(offset=_OFFSET, method=method, layout="blocks").fit(X)
    ycc = color.transform(X)
    subsampler = ChromaSubsampler(subsampling, method=method, block_size=8).fit(ycc)
    samples = subsampler.split(subsampler.transform(ycc))
    transforms, quantizers, coefficients, symbols = [], [], [], []
    for plane, table in zip(samples, _TABLES, strict=True):
        dct = BlockDCT(8, order=order, level_shift=_OFFSET, layout=layout).fit(plane)
        G = dct.transform(plane)
        quantizer = PerceptualQuantizer(table, quality=quality, order=order, layout=layout)
        quantizer.fit(G)
        transforms.append(dct)
        quantizers.append(quantizer)
        coefficients.append(G)
        symbols.append(quantizer.transform(G))
    steps = JPEGColorSteps(color, subsampler, tuple(transforms), tuple(quantizers))
    return JPEGColorPlanes(tuple(symbols), tuple(coefficients), tuple(samples), steps)
