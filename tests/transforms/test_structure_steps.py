"""Seven steps read and emit structure: MDCT, wavelets, PVQ, RVQ, KSVD, OMP, Patches.

Each step's output says what one sample is; the step after it reads that in
any layout (and computes what it computes on the plainly laid out data), or
refuses with a ValueError that names what to change. ``inverse_transform``
goes back through the chain.
"""

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline

from skcompress import (
    MDCT,
    BlockDCT,
    ChromaSubsampler,
    ColorTransform,
    PerceptualQuantizer,
    WaveletTransform,
)
from skcompress._core._structure import structure_of
from skcompress.quantization import PyramidVQ, ResidualVQ
from skcompress.sparse import KSVD, OMPCoder, Patches, overcomplete_dct

RNG = np.random.default_rng(0)
AUDIO = RNG.standard_normal((6, 600))
GRAY = RNG.integers(0, 256, size=(12, 24, 24), dtype=np.uint8)
COLOUR = RNG.integers(0, 256, size=(3, 20, 26, 3), dtype=np.uint8)
LAYOUTS = ["flat", "blocks", "channels_first"]


def _rvq():
    return ResidualVQ(2, 8, n_refine=0, random_state=0)


def _assert_carries(out, kind):
    structure = structure_of(out)
    assert structure is not None and structure.kind == kind
    assert tuple(structure.sample_shape) == out.shape[1:]
    return structure


# -- every step's output carries its structure -------------------------------------


@pytest.mark.parametrize("layout", LAYOUTS)
def test_mdct_emits_frames(layout):
    mdct = MDCT(128, layout=layout).fit(AUDIO)
    structure = _assert_carries(mdct.transform(AUDIO), "mdct")
    assert (structure.grid, structure.k) == ((mdct.n_frames_,), mdct.n_bins_)


@pytest.mark.parametrize("X", [AUDIO, GRAY, COLOUR], ids=["1-D", "gray", "colour"])
def test_wavelet_emits_one_vector_of_subbands(X):
    wt = WaveletTransform("haar").fit(X)
    structure = _assert_carries(wt.transform(X), "subbands")
    assert structure.grid == () and structure.depth == 1
    assert structure.image_shape == X.shape[1 : 2 if X.ndim == 2 else 3]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_patches_emit_patches(layout):
    patches = Patches(8, step=4, layout=layout).fit(COLOUR)
    structure = _assert_carries(patches.transform(COLOUR), "patches")
    assert (structure.grid, structure.k, structure.block_size) == ((4, 6), 192, 8)


@pytest.mark.parametrize(
    "coder",
    [
        PyramidVQ(vector_size=16, pulses=4),
        ResidualVQ(2, 4, n_refine=0, layout="channels_first", random_state=0),
        OMPCoder(n_nonzero_coefs=2, quantization_step=1.0, layout="blocks"),
        KSVD(16, n_nonzero_coefs=2, max_iter=1, random_state=0),
    ],
    ids=lambda coder: type(coder).__name__,
)
def test_coders_emit_codes(coder):
    G = BlockDCT(n_coefficients=16).fit_transform(GRAY)
    codes = coder.fit(G).transform(G)
    structure = _assert_carries(codes, "codes")
    assert structure.grid == (3, 3)  # one vector per block
    assert structure.quantized == (np.asarray(codes).dtype.kind in "iu")


# -- MDCT: 1-D signals only -----------------------------------------------------------


@pytest.mark.parametrize(
    "before",
    [ColorTransform(), BlockDCT(), MDCT(64)],
    ids=lambda step: type(step).__name__,
)
def test_mdct_refuses_other_steps_output(before):
    X = COLOUR if isinstance(before, ColorTransform) else AUDIO
    out = before.fit_transform(X)
    with pytest.raises(ValueError, match="MDCT takes 1-D signals"):
        MDCT(4).fit(out)
    mdct = MDCT(4).fit(np.asarray(out))
    with pytest.raises(ValueError, match="MDCT takes 1-D signals"):
        mdct.transform(out)


def test_mdct_then_default_quantizer_raises_and_a_vector_of_steps_works():
    with pytest.raises(ValueError, match="table="):
        make_pipeline(MDCT(), PerceptualQuantizer()).fit(AUDIO)
    pipe = make_pipeline(MDCT(128), PerceptualQuantizer(table=np.full(64, 0.01))).fit(AUDIO)
    back = pipe.inverse_transform(pipe.transform(AUDIO))
    np.testing.assert_allclose(back, AUDIO, atol=0.02)


# -- PyramidVQ codes bands of one frame or block ------------------------------------------


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("vector_size", [None, 16, 20])
def test_pyramid_vq_codes_each_mdct_frame(layout, vector_size):
    frames = np.asarray(MDCT(128, layout="blocks").fit_transform(AUDIO))  # (n, F, M)
    expected = PyramidVQ(vector_size, pulses=6).fit(frames).transform(frames)
    pipe = make_pipeline(MDCT(128, layout=layout), PyramidVQ(vector_size, pulses=6))
    symbols = pipe.fit_transform(AUDIO)
    np.testing.assert_array_equal(symbols, expected)
    # bands never straddle two frames, whatever the layout
    assert pipe[-1].n_vectors_ == frames.shape[1] * -(-64 // (vector_size or 64))
    decoded = PyramidVQ(vector_size, pulses=6).fit(frames).inverse_transform(expected)
    expected_back = MDCT(128, layout="blocks").fit(AUDIO).inverse_transform(decoded)
    np.testing.assert_allclose(pipe.inverse_transform(symbols), expected_back, atol=1e-12)


def test_pyramid_vq_codes_each_dct_block_of_each_plane():
    G = make_pipeline(ColorTransform(), BlockDCT(n_coefficients=10)).fit_transform(COLOUR)
    cells = G.structure.blocks(G)  # (n, 3, 4, 3 planes, 10)
    pvq = PyramidVQ(pulses=5).fit(G)
    assert pvq.vector_size_ == 10 and pvq.n_vectors_ == 3 * 4 * 3
    expected = PyramidVQ(pulses=5).fit(cells).transform(cells)
    np.testing.assert_array_equal(pvq.transform(G), expected)
    assert structure_of(pvq.inverse_transform(pvq.transform(G))) == G.structure


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ([ColorTransform()], "Put MDCT"),
        ([WaveletTransform("haar")], "Put MDCT"),
        ([Patches(4)], "Put MDCT"),
        ([BlockDCT(), PerceptualQuantizer()], "without another quantizer"),
        ([BlockDCT(), ResidualVQ(2, 4, random_state=0)], "without another quantizer"),
    ],
)
def test_pyramid_vq_refusals(steps, message):
    X = make_pipeline(*steps).fit_transform(COLOUR)
    with pytest.raises(ValueError, match=message):
        PyramidVQ().fit(X)


# -- WaveletTransform reads images ---------------------------------------------------------


@pytest.mark.parametrize("layout", LAYOUTS)
def test_wavelet_after_colour_transform_reads_the_images(layout):
    ycc = np.asarray(ColorTransform(layout="blocks").fit_transform(COLOUR))
    expected = WaveletTransform().fit(ycc).transform(ycc)
    pipe = make_pipeline(ColorTransform(layout=layout), WaveletTransform())
    Xt = pipe.fit_transform(COLOUR)
    np.testing.assert_array_equal(Xt, expected)
    assert Xt.structure.channels == ("Y", "Cb", "Cr")
    np.testing.assert_allclose(pipe.inverse_transform(Xt), COLOUR, atol=1e-6)


def test_wavelet_after_444_chroma():
    pipe = make_pipeline(ColorTransform(), ChromaSubsampler("4:4:4"), WaveletTransform())
    Xt = pipe.fit_transform(COLOUR)
    assert pipe[-1].signal_shape_ == (20, 26, 3)
    np.testing.assert_allclose(pipe.inverse_transform(Xt), COLOUR, atol=1e-6)


def test_jpeg2000_chain_quantizes_with_the_step_map():
    wt = WaveletTransform().fit(GRAY)
    with pytest.raises(ValueError, match="table="):  # JPEG's block tables: not for subbands
        make_pipeline(WaveletTransform(), PerceptualQuantizer()).fit(GRAY)
    pipe = make_pipeline(
        WaveletTransform(), PerceptualQuantizer(table=wt.step_map(2.0), deadzone=0.375)
    ).fit(GRAY)
    back = pipe.inverse_transform(pipe.transform(GRAY))
    assert np.sqrt(np.mean((back - GRAY) ** 2)) < 2


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ([ColorTransform(), ChromaSubsampler()], r"ChromaSubsampler\('4:4:4'\)"),
        ([BlockDCT()], "after ColorTransform"),
        ([WaveletTransform()], "after ColorTransform"),
        ([Patches(4)], "after ColorTransform"),
    ],
)
def test_wavelet_refusals(steps, message):
    X = make_pipeline(*steps).fit_transform(COLOUR)
    with pytest.raises(ValueError, match=message):
        WaveletTransform("haar").fit(X)


@pytest.mark.parametrize("step", [WaveletTransform, Patches])
def test_channels_first_images_refused_unless_confirmed(step):
    X = np.moveaxis(COLOUR, -1, 1).astype(float)  # torch's (n, C, H, W)
    with pytest.raises(ValueError, match="channels-first"):
        step().fit(X)
    params = {"wavelet": "haar"} if step is WaveletTransform else {}
    assert step(signal_shape=X.shape[1:], **params).fit(X).signal_shape_ == X.shape[1:]


# -- Patches read images, and the coders read one patch per vector ---------------------------


@pytest.mark.parametrize("layout", LAYOUTS)
def test_patches_after_colour_transform(layout):
    ycc = np.asarray(ColorTransform(layout="blocks").fit_transform(COLOUR))
    expected = Patches(8, step=4).fit(ycc).transform(ycc)
    pipe = make_pipeline(ColorTransform(layout=layout), Patches(8, step=4))
    np.testing.assert_array_equal(pipe.fit_transform(COLOUR), expected)
    np.testing.assert_allclose(pipe.inverse_transform(pipe.transform(COLOUR)), COLOUR, atol=1e-9)


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ([ColorTransform(), ChromaSubsampler()], r"ChromaSubsampler\('4:4:4'\)"),
        ([BlockDCT()], "put Patches first"),
        ([Patches(4)], "put Patches first"),
    ],
)
def test_patches_refusals(steps, message):
    X = make_pipeline(*steps).fit_transform(COLOUR)
    with pytest.raises(ValueError, match=message):
        Patches().fit(X)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_omp_after_patches_codes_each_patch_over_2d_cosines(layout):
    plain = np.asarray(Patches(8, layout="blocks").fit_transform(GRAY))  # (n, 3, 3, 64)
    expected = OMPCoder(atom_shape=(8, 8), n_nonzero_coefs=3).fit(plain).transform(plain)
    pipe = make_pipeline(Patches(8, layout=layout), OMPCoder(n_nonzero_coefs=3))
    np.testing.assert_allclose(pipe.fit_transform(GRAY), expected.reshape(len(GRAY), -1))
    np.testing.assert_allclose(pipe[-1].components_, overcomplete_dct(64, (8, 8)))
    back = pipe.inverse_transform(pipe.transform(GRAY))
    assert back.shape == GRAY.shape
    # the orthonormal DCT with every coefficient kept gives the images back
    full = make_pipeline(Patches(8, layout=layout), OMPCoder(n_nonzero_coefs=64)).fit(GRAY)
    np.testing.assert_allclose(full.inverse_transform(full.transform(GRAY)), GRAY, atol=1e-8)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_three_steps_and_back(layout):
    # colour patches, coded over the complete DCT with every atom: lossless
    pipe = make_pipeline(
        ColorTransform(layout=layout), Patches(4, layout=layout), OMPCoder(n_nonzero_coefs=48)
    ).fit(COLOUR)
    assert pipe[-1].vector_size_ == 48 and pipe[-1].n_vectors_ == 5 * 7
    np.testing.assert_allclose(pipe.inverse_transform(pipe.transform(COLOUR)), COLOUR, atol=1e-8)
    # each plane's blocks are vectors of their own
    rvq = make_pipeline(ColorTransform(), BlockDCT(n_coefficients=6), _rvq()).fit(COLOUR)
    assert rvq[-1].vector_size_ == 6 and rvq[-1].output_structure_.grid == (3, 4, 3)
    assert rvq.inverse_transform(rvq.transform(COLOUR)).shape == COLOUR.shape


def test_ksvd_after_patches_learns_patch_atoms_and_goes_back():
    pipe = make_pipeline(
        Patches(4), KSVD(n_nonzero_coefs=2, max_iter=2, init="dct", random_state=0)
    ).fit(GRAY)
    assert pipe[-1].components_.shape == (16, 16) and pipe[-1].n_vectors_ == 36
    codes = pipe.transform(GRAY)
    assert codes.structure.grid == (6, 6)
    assert pipe.inverse_transform(codes).shape == GRAY.shape


@pytest.mark.parametrize("coder", [ResidualVQ, KSVD, OMPCoder])
def test_coders_refuse_codes(coder):
    codes = make_pipeline(BlockDCT(), PyramidVQ(pulses=2)).fit_transform(GRAY)
    with pytest.raises(ValueError, match="right after"):
        coder().fit(codes)


@pytest.mark.parametrize("coder", [ResidualVQ, OMPCoder])
def test_vector_size_must_divide_a_cell(coder):
    G = BlockDCT(n_coefficients=8).fit_transform(GRAY)
    with pytest.raises(ValueError, match="vector_size=16 must divide the 8 values"):
        coder(vector_size=16).fit(G)


# -- ResidualVQ reads cells, and images as images --------------------------------------------


@pytest.mark.parametrize("layout", LAYOUTS)
def test_residual_vq_codes_each_dct_block(layout):
    plain = np.asarray(BlockDCT(n_coefficients=8, layout="blocks").fit_transform(GRAY))
    expected = _rvq().fit(plain).transform(plain)
    pipe = make_pipeline(BlockDCT(n_coefficients=8, layout=layout), _rvq())
    codes = pipe.fit_transform(GRAY)
    np.testing.assert_array_equal(codes, expected.reshape(len(GRAY), -1))
    assert pipe[-1].vector_size_ == 8
    back = pipe.inverse_transform(codes)
    assert back.shape == GRAY.shape and type(back) is np.ndarray


def test_residual_vq_codes_each_mdct_frame_and_refuses_symbols():
    frames = np.asarray(MDCT(64, layout="blocks").fit_transform(AUDIO))
    expected = _rvq().fit(frames).transform(frames)
    pipe = make_pipeline(MDCT(64), _rvq())
    np.testing.assert_array_equal(pipe.fit_transform(AUDIO), expected.reshape(len(AUDIO), -1))
    assert pipe.inverse_transform(pipe.transform(AUDIO)).shape == AUDIO.shape
    symbols = make_pipeline(MDCT(64), PerceptualQuantizer(table=0.1)).fit_transform(AUDIO)
    with pytest.raises(ValueError, match="without another quantizer"):
        _rvq().fit(symbols)


def test_residual_vq_reads_images_as_images():
    ycc = np.asarray(ColorTransform(layout="blocks").fit_transform(COLOUR))
    expected = _rvq().fit(ycc).transform(ycc)  # one vector per pixel: its colour
    pipe = make_pipeline(ColorTransform(), _rvq())
    np.testing.assert_array_equal(pipe.fit_transform(COLOUR), expected.reshape(len(COLOUR), -1))
    back = pipe.inverse_transform(pipe.transform(COLOUR))
    assert back.shape == COLOUR.shape


def test_plain_arrays_are_read_as_the_training_data():
    G = BlockDCT(n_coefficients=8, layout="channels_first").fit_transform(GRAY)
    rvq = _rvq().fit(G)
    np.testing.assert_array_equal(rvq.transform(np.asarray(G)), rvq.transform(G))
    with pytest.raises(ValueError, match="fitted on"):
        rvq.transform(BlockDCT(n_coefficients=8).fit_transform(GRAY))


def test_tensors_are_read_as_the_training_data():
    torch = pytest.importorskip("torch")
    G = BlockDCT(n_coefficients=8).fit_transform(GRAY)
    rvq, pvq = _rvq().fit(G), PyramidVQ(pulses=3).fit(G)
    for step in (rvq, pvq):
        out = step.transform(torch.from_numpy(np.asarray(G)))
        np.testing.assert_array_equal(out.numpy(), step.transform(G))
    Z = ColorTransform().fit_transform(COLOUR)
    wt = WaveletTransform("haar").fit(Z)
    out = wt.transform(torch.from_numpy(np.asarray(Z)))
    np.testing.assert_allclose(out.numpy(), wt.transform(Z), atol=1e-9)


# -- every default chain of two of these steps computes or raises --------------------------------

_FIRST = {
    "MDCT": (MDCT, AUDIO),
    "WaveletTransform": (WaveletTransform, GRAY),
    "Patches": (Patches, GRAY),
    "BlockDCT": (BlockDCT, GRAY),
    "ColorTransform": (ColorTransform, COLOUR),
    "ChromaSubsampler": (ChromaSubsampler, COLOUR),
}
_SECOND = [MDCT, WaveletTransform, Patches, PyramidVQ, ResidualVQ, KSVD, OMPCoder]
# What each coder takes as one vector after each step (None: the step refuses).
_VECTOR = {
    "MDCT": [None, None, None, 128, 128, 128, 128],  # a frame
    "WaveletTransform": [None, None, None, None, 1024, 1024, 1024],  # all subbands
    "Patches": [None, None, None, None, 64, 64, 64],  # a patch
    "BlockDCT": [None, None, None, 64, 64, 64, 64],  # a block
    "ColorTransform": [None, "image", "image", None, 3, 3, 3],  # a pixel's colour
    "ChromaSubsampler": [None, None, None, None, 6, 6, 6],  # a site: 4 Y, Cb, Cr
}


@pytest.mark.parametrize("first", list(_FIRST))
@pytest.mark.parametrize("second", _SECOND, ids=lambda step: step.__name__)
def test_default_chains_compute_or_raise(first, second):
    step, X = _FIRST[first]
    if first == "ChromaSubsampler":
        X = ColorTransform().fit_transform(X)
    out = step().fit_transform(X)
    kwargs = {"random_state": 0} if second in (ResidualVQ, KSVD) else {}
    if second is ResidualVQ:
        kwargs |= {"codebook_size": 4, "n_refine": 0}
    if second is KSVD:
        kwargs |= {"max_iter": 1}
    expected = _VECTOR[first][_SECOND.index(second)]
    if expected is None:
        with pytest.raises(ValueError, match=f"^{second.__name__} takes .*; its input is"):
            second(**kwargs).fit(out)
        return
    fitted = second(**kwargs).fit(out)
    if expected != "image":
        assert fitted.vector_size_ == expected
    back = fitted.inverse_transform(fitted.transform(out))
    assert structure_of(back) == structure_of(out)
    assert np.asarray(back).shape == out.shape
