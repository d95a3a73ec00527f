"""Sparse dictionary learning and sparse coding: K-SVD, batch OMP, patches.

A learned overcomplete dictionary and the sparse codes of signals over it
are a transform and a quantizer in one (Rubinstein, Bruckstein and Elad
2010). :class:`KSVD` learns the dictionary, :class:`OMPCoder` codes over any
dictionary (learned here or by scikit-learn, or the overcomplete DCT) with
:func:`batch_omp`, and :class:`Patches` cuts images into the patch vectors
they work on and averages them back. With ``quantization_step`` the codes
are integer levels with a rate in bits.
"""

from ._coding import OMPCoder
from ._dictionary import compare_with_dct, overcomplete_dct
from ._ksvd import KSVD
from ._omp import batch_omp
from ._patches import Patches, extract_patches, reconstruct_from_patches

__all__ = [
    "KSVD",
    "OMPCoder",
    "Patches",
    "batch_omp",
    "compare_with_dct",
    "extract_patches",
    "overcomplete_dct",
    "reconstruct_from_patches",
]
