"""Torch tensors in, tensors out: the same numbers as the numpy path (CPU tensors here).

Tolerances, for samples in [0, 255]: float64 tensors within 1e-9 of numpy
(both compute in double precision, in another order), float32 within 5e-4
(float32 rounding of coefficients up to about 2,000); ResidualVQ codes and
PyramidVQ symbols identical, ties broken alike, and PyramidVQ's decoded
vectors identical too. The same holds for numpy arrays given to a step whose
``device`` is set.
"""

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from skcompress import (
    MDCT,
    BlockDCT,
    ChromaSubsampler,
    ColorTransform,
    PerceptualQuantizer,
    PyramidVQ,
    ResidualVQ,
    WaveletTransform,
)
from skcompress._core import _array_api
from skcompress._core._chunks import chunked, torch_kernel
from skcompress._core._contract import LAYOUTS, from_layout, to_layout
from skcompress.datasets import load_mnist
from skcompress.utils import transform_in_chunks

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)
DIGITS = load_mnist().images[:40]
PHOTOS = RNG.integers(0, 256, (4, 20, 30, 3), dtype=np.uint8)
AUDIO = RNG.uniform(-255, 255, (5, 300))
VECTORS = RNG.standard_normal((300, 16))

CASES = [
    (BlockDCT(), DIGITS),
    (BlockDCT(4, n_coefficients=5, layout="channels_first"), PHOTOS),
    (BlockDCT(4, kind="dst7", order="natural", layout="blocks"), DIGITS),
    (BlockDCT(8), AUDIO),
    (WaveletTransform(), DIGITS),
    (WaveletTransform("cdf53", mode="symmetric"), PHOTOS),
    (WaveletTransform("haar", mode="periodization"), PHOTOS[:, :19]),
    (WaveletTransform("db2", mode="zero", level=2), AUDIO),
    (WaveletTransform("sym4", mode="periodic"), DIGITS),
    (MDCT(64), AUDIO),
    (MDCT(30, window="kbd", layout="channels_first"), AUDIO),
    (ColorTransform(), PHOTOS),
    (ColorTransform(layout="channels_first", offset=0.5), PHOTOS),
    (ColorTransform(method="libjpeg"), PHOTOS),  # no kernel: numpy, back as a tensor
    (ResidualVQ(3, 16, vector_size=8, random_state=0), VECTORS),
    (ResidualVQ(2, 8, beam_size=1, layout="blocks", random_state=0), VECTORS),
    (PerceptualQuantizer(table=3.0), DIGITS),
    (PerceptualQuantizer(table=[2.0, 5.0, 7.0], deadzone=0.375), AUDIO),
    (PyramidVQ(vector_size=8, pulses=6), VECTORS),  # pre-search (K > N / 2)
    (PyramidVQ(vector_size=5, pulses=2, gain_step=6.0), AUDIO),  # padded last axis
    (PyramidVQ(bits_per_vector=48), VECTORS),
]
QUANTIZERS = (PerceptualQuantizer, ResidualVQ, PyramidVQ)
IDS = [f"{type(step).__name__}-{i}" for i, (step, _) in enumerate(CASES)]
# the settings with a torch kernel (libjpeg's fixed point has none)
KERNEL_CASES = [case for case in CASES if getattr(case[0], "method", "float") == "float"]
KERNEL_IDS = [f"{type(step).__name__}-{i}" for i, (step, _) in enumerate(KERNEL_CASES)]


def _close(actual, expected, dtype):
    actual = actual.cpu().numpy()
    assert actual.shape == expected.shape
    if np.issubdtype(expected.dtype, np.integer) or dtype == np.float64:
        atol = 0 if np.issubdtype(expected.dtype, np.integer) else 1e-9
    else:
        atol = 5e-4
    np.testing.assert_allclose(actual, expected, rtol=0, atol=atol)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("step", "X"), CASES, ids=IDS)
def test_cpu_tensors_give_the_numpy_numbers(step, X, dtype):
    X = X.astype(dtype)
    step.fit(X)
    expected = step.transform(X)
    Xt = step.transform(torch.from_numpy(X))
    assert isinstance(Xt, torch.Tensor)
    if not isinstance(step, QUANTIZERS):
        assert Xt.dtype == torch.from_numpy(np.zeros(1, dtype)).dtype
    _close(Xt, expected, dtype)
    back = step.inverse_transform(Xt)
    assert isinstance(back, torch.Tensor)
    _close(back, step.inverse_transform(expected), dtype)


@pytest.mark.parametrize(("step", "X"), CASES, ids=IDS)
def test_numpy_through_the_device_gives_the_numpy_numbers(step, X):
    X = X.astype(np.float32)
    expected = step.set_params(device=None).fit(X).transform(X)
    step.set_params(device="cpu", batch_size=3)  # several chunks sent over and back
    Xt = step.transform(X)
    # numpy, carrying the step's structure as the numpy path's output does
    assert type(Xt) is type(expected) and Xt.dtype == expected.dtype
    _close(torch.from_numpy(np.asarray(Xt)), expected, np.float32)
    back = step.inverse_transform(Xt)
    assert type(back) is np.ndarray
    _close(
        torch.from_numpy(back),
        step.set_params(device=None).inverse_transform(expected),
        np.float32,
    )


def test_a_device_takes_tensors_there_and_back_and_maps_dask_blocks():
    da = pytest.importorskip("dask.array")
    dct = BlockDCT(device="cpu").fit(DIGITS)
    expected = BlockDCT().fit(DIGITS).transform(DIGITS)
    out = dct.transform(torch.from_numpy(DIGITS.astype(np.float64)))
    assert isinstance(out, torch.Tensor) and out.device.type == "cpu"
    _close(out, expected, np.float64)
    lazy = dct.transform(da.from_array(DIGITS, chunks=(7, 28, 28)))
    assert isinstance(lazy, da.Array) and lazy.chunks[0] == (7, 7, 7, 7, 7, 5)
    _close(torch.from_numpy(lazy.compute()), expected, np.float64)


def test_device_auto_without_a_gpu_is_numpy_and_settings_without_a_kernel_stay_numpy():
    if torch.cuda.is_available():
        pytest.skip("a GPU is present: 'auto' means CUDA")
    for step in (BlockDCT(device="auto"), BlockDCT(integer=True, device="cpu")):
        reference = BlockDCT(integer=step.integer).fit(DIGITS).transform(DIGITS)
        np.testing.assert_array_equal(step.fit(DIGITS).transform(DIGITS), reference)
    libjpeg = ColorTransform(method="libjpeg", device="cpu").fit(PHOTOS)
    np.testing.assert_array_equal(
        libjpeg.transform(PHOTOS), ColorTransform(method="libjpeg").fit(PHOTOS).transform(PHOTOS)
    )


def test_bad_devices_are_refused_by_name():
    with pytest.raises(ValueError, match="BlockDCT: device must be 'auto' or a torch device"):
        BlockDCT(device="gpu9").fit(DIGITS).transform(DIGITS)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="WaveletTransform: device='cuda' asks for CUDA"):
            WaveletTransform(device="cuda").fit(DIGITS).transform(DIGITS)


def test_integer_tensors_are_computed_in_float64():
    dct = BlockDCT().fit(DIGITS)
    out = dct.transform(torch.from_numpy(DIGITS))
    assert out.dtype == torch.float64
    _close(out, dct.transform(DIGITS), np.float64)


def test_tensor_errors_are_the_numpy_errors():
    dct = BlockDCT().fit(DIGITS)
    with pytest.raises(ValueError, match="fitted on signals of shape"):
        dct.transform(torch.zeros(2, 16, 16))
    with pytest.raises(ValueError, match="NaN"):
        dct.transform(torch.full((2, 28, 28), float("nan")))
    quantizer = PerceptualQuantizer(table=1e-3).fit(AUDIO)
    with pytest.raises(ValueError, match="beyond int32 symbols"):
        quantizer.transform(torch.from_numpy(AUDIO * 1e7))


def test_steps_without_a_kernel_return_tensors_or_say_why_not():
    X = VECTORS.astype(np.float32)
    chroma = ChromaSubsampler().fit(PHOTOS)  # no kernel: numpy, back as a tensor
    out = chroma.transform(torch.from_numpy(PHOTOS))
    np.testing.assert_array_equal(out.numpy(), chroma.transform(PHOTOS))
    large = PyramidVQ(vector_size=16, pulses=80).fit(X)  # indices beyond int64
    with pytest.raises(TypeError, match="beyond int64"):
        large.transform(torch.from_numpy(X))


def test_transform_in_chunks_on_a_device():
    dct = BlockDCT().fit(DIGITS)
    out = transform_in_chunks(dct, DIGITS, batch_size=16, device="cpu")
    assert isinstance(out, np.ndarray)
    np.testing.assert_allclose(out, dct.transform(DIGITS), atol=1e-9)


def test_gpu_check_without_a_gpu_says_so():
    if torch.cuda.is_available():
        pytest.skip("a GPU is present: benchmarks/gpu_check.py times it instead")
    done = subprocess.run(
        [sys.executable, str(Path(__file__).parents[1] / "benchmarks" / "gpu_check.py")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "no CUDA GPU" in done.stdout


def test_a_jpeg_pipeline_on_tensors_gives_the_same_symbols():
    from sklearn.pipeline import make_pipeline

    # the coefficients exact in theory (DC, frequencies 0 and 4) are exact in both
    # paths, so quantization rounds them alike, ties included
    jpeg = make_pipeline(BlockDCT(), PerceptualQuantizer(quality=50)).fit(DIGITS)
    symbols = jpeg.transform(torch.from_numpy(DIGITS.astype(np.float64)))
    assert symbols.dtype == torch.int32
    np.testing.assert_array_equal(symbols.numpy(), jpeg.transform(DIGITS))


def test_no_registry_of_kernels_by_class_name():
    assert importlib.util.find_spec("skcompress._torch") is None


@pytest.mark.parametrize(("step", "X"), KERNEL_CASES, ids=KERNEL_IDS)
def test_a_subclass_keeps_the_torch_kernel_and_tensors_never_reach_numpy(step, X, monkeypatch):
    subclass = type(f"My{type(step).__name__}", (type(step),), {})
    mine = subclass(**step.get_params()).fit(X)
    assert torch_kernel(mine, "transform") is not None
    assert torch_kernel(mine, "inverse_transform") is not None
    expected = mine.transform(X)
    expected_back = mine.inverse_transform(expected)

    def refuse(*args, **kwargs):
        raise AssertionError("a tensor went through numpy")

    tensor = torch.from_numpy(X.astype(np.float64))
    monkeypatch.setattr(torch.Tensor, "numpy", refuse)
    monkeypatch.setattr(torch.Tensor, "__array__", refuse)
    out = mine.transform(tensor)
    back = mine.inverse_transform(out)
    monkeypatch.undo()
    _close(out, expected, np.float64)
    _close(back, expected_back, np.float64)


@pytest.mark.parametrize("decorate", [False, True], ids=["plain", "chunked"])
@pytest.mark.parametrize(("step", "X"), KERNEL_CASES, ids=KERNEL_IDS)
def test_a_subclass_that_overrides_transform_computes_its_override(step, X, decorate):
    """Tensors and device= run the override (its super() call reaches the kernel)."""

    def transform(self, X):
        return 2 * super(type(self), self).transform(X)

    def inverse_transform(self, X):
        return super(type(self), self).inverse_transform(X) + 1

    methods = {"transform": transform, "inverse_transform": inverse_transform}
    if decorate:
        methods = {name: chunked(function) for name, function in methods.items()}
    subclass = type(f"Doubled{type(step).__name__}", (type(step),), methods)
    mine = subclass(**step.get_params()).fit(X)
    expected = mine.transform(X)
    np.testing.assert_array_equal(expected, 2 * step.fit(X).transform(X))
    out = mine.transform(torch.from_numpy(X.astype(np.float64)))
    _close(out, expected, np.float64)
    on_device = subclass(**{**step.get_params(), "device": "cpu"}).fit(X)
    _close(torch.from_numpy(on_device.transform(X)), expected, np.float64)
    symbols = step.transform(X)
    back = mine.inverse_transform(torch.from_numpy(np.asarray(symbols)))
    _close(back, mine.inverse_transform(symbols), np.float64)


def test_settings_without_a_kernel_say_so():
    for step, X in [
        (BlockDCT(integer=True), DIGITS),
        (ColorTransform(method="libjpeg"), PHOTOS),
        (ColorTransform(space="rct"), PHOTOS),
        (WaveletTransform("db2", mode="smooth"), DIGITS),
        (PyramidVQ(vector_size=16, pulses=80), VECTORS),
    ]:
        step.fit(X)
        assert torch_kernel(step, "transform") is None
        assert torch_kernel(step, "inverse_transform") is None
    assert torch_kernel(ChromaSubsampler().fit(PHOTOS), "transform") is None


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("shape", [(3, 4, 1, 5), (2, 3, 4, 3, 2)])
def test_layouts_lay_out_tensors_as_arrays(layout, shape):
    blocks = RNG.standard_normal(shape)
    grid, channels, k = shape[1:-2], shape[-2], shape[-1]
    expected = to_layout(blocks, layout)
    out = to_layout(torch.from_numpy(blocks), layout)
    assert isinstance(out, torch.Tensor) and out.is_contiguous()
    np.testing.assert_array_equal(out.numpy(), expected)
    back = from_layout(out, grid, channels, k, layout)
    assert isinstance(back, torch.Tensor)
    np.testing.assert_array_equal(back.numpy(), blocks)
    with pytest.raises(ValueError, match=r"got an array of shape \(3, 7\)"):
        from_layout(torch.zeros(3, 7), grid, channels, k, layout)


def test_array_namespace_helpers_agree_on_numpy_and_torch():
    X = RNG.standard_normal((2, 3, 4))
    T = torch.from_numpy(X)
    assert _array_api.get_namespace(X) is np and _array_api.get_namespace(X, T) is torch
    for mode in ("edge", "constant"):
        widths = [(0, 0), (1, 2), (0, 3)]
        np.testing.assert_array_equal(
            _array_api.pad(T, widths, mode=mode).numpy(), _array_api.pad(X, widths, mode=mode)
        )
    assert _array_api.pad(T, [(0, 0)] * 3) is T
    assert _array_api.astype(T, np.float32).dtype == torch.float32
    # torch's wide unsigned integers support few operations: int64 instead
    assert _array_api.astype(T, np.uint16).dtype == torch.int64
    assert _array_api.asarray([1.5, 2.5], like=T.float(), dtype="like").dtype == torch.float32
    assert _array_api.asarray(np.arange(3), like=T).dtype == torch.int64
    assert _array_api.float_dtype(T.int()) == np.float64
    assert _array_api.float_dtype(T.float()) == np.float32
    assert _array_api.is_integer(T.int()) and not _array_api.is_integer(T > 0)
    assert _array_api.as_index(torch.tensor([1, 0], dtype=torch.uint8)).dtype == torch.int64
    order = _array_api.stable_argsort(torch.tensor([2, 1, 2, 1]))
    np.testing.assert_array_equal(order.numpy(), np.argsort([2, 1, 2, 1], kind="stable"))


def test_pyramid_vq_reads_narrow_integer_tensors_of_a_large_codebook():
    # a codebook beyond int32: comparing int32 tensors with its size must not wrap
    X = np.random.default_rng(0).standard_normal((4, 16)) * 100
    pvq = PyramidVQ().fit(X)
    assert pvq.codebook_size_ > np.iinfo(np.int32).max
    S = pvq.transform(X)
    S[:, 1::2] %= np.iinfo(np.int32).max  # valid indices that fit int32
    expected = pvq.inverse_transform(S)
    back = pvq.inverse_transform(torch.from_numpy(S.astype(np.int32)))
    np.testing.assert_allclose(back.numpy(), expected)
