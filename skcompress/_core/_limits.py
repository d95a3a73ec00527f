"""Upper bounds of the size parameters, for ``_parameter_constraints`` (private).

A structural parameter (a block, a number of stages, a network's width) sets
memory and time before any data is seen: a mistyped ``10**6`` would only
exhaust memory or run for hours, so its constraint refuses it up front, with
scikit-learn's ``InvalidParameterError`` naming the parameter and the range.
Each bound is far above what any codec or published model uses; parameters
that the data already bounds (a codebook no larger than the training set, a
wavelet level no deeper than the signal allows) and durations (``max_iter``,
``max_epochs``) have none.
"""

#: Side of a transform block or patch (BlockDCT, ChromaSubsampler, Patches,
#: BlockDCTNet): HEVC's largest transform is 32, VVC's 64, audio frames 2048;
#: the DCT basis of a 4096 block is 16 M values and the padding of a small
#: image to one block 16 M per sample.
MAX_BLOCK_SIZE = 4096

#: Stages of a residual vector quantizer: EnCodec runs up to 32, SoundStream 80;
#: every stage is a k-means over all the training vectors.
MAX_STAGES = 256

#: Beam of the residual VQ encoder: faiss' experiments go to 64; every vector
#: keeps ``beam_size * codebook_size`` candidate errors per stage.
MAX_BEAM_SIZE = 1024

#: Atoms of a sparse dictionary: 256 for 8x8 patches is usual, 4x overcomplete
#: dictionaries of 16x16 patches have 1024; batch OMP holds the Gram matrix of
#: ``n_components**2`` values (512 MiB at the bound, in float64).
MAX_ATOMS = 8192

#: Channels, filters, latents or hidden units of a network layer: the widest
#: published codec transforms have 320-512 channels and ResNet's widest stage
#: 2048; a convolution's weights grow with the square of its width.
MAX_WIDTH = 4096

#: Hidden units of the dense head of a classifier or regressor (VGG's: 4096).
MAX_HIDDEN_UNITS = 16384

#: Side of a convolution kernel: the largest of published CNNs is 31 (RepLKNet).
MAX_KERNEL_SIZE = 63

#: Dyadic levels (halvings) of a network's transform (Ballé's layers, the wavelet
#: levels of LearnedWaveletCodec and WaveletNet): 16 levels halve a 65536-sample
#: side to one; ``2**level`` is the network's stride.
MAX_LEVELS = 16

#: Residual blocks per stage of a network.
MAX_BLOCKS = 64

#: Upsampling factor of the block grid (BlockDCTNet): the sub-blocks of a VVC
#: block of 64.
MAX_UPSAMPLE = 64

#: torch threads (``n_threads``): far beyond the cores of any machine; every thread
#: costs a stack, and oversubscribed threads only wait on each other.
MAX_THREADS = 1024
