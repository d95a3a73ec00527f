"""JPEG2000Codec: lossless and lossy round trips, rate control, refusals, OpenJPEG."""

import shutil
import subprocess
import zlib

import numpy as np
import pytest

from skcompress.codecs._ebcot import decode_blocks, encode_blocks
from skcompress.codecs._jpeg2000_codec import JPEG2000Codec, _dwt, _idwt, _transform
from skcompress.datasets import load_photographs

pywt = pytest.importorskip("pywt")


@pytest.fixture(scope="module")
def gray():
    return load_photographs(size=96, include_skimage=False).images


@pytest.fixture(scope="module")
def colour():
    return load_photographs(size=64, color=True, include_skimage=False).images


def _psnr(a, b):
    mse = np.mean((np.asarray(a, float) - np.asarray(b, float)) ** 2)
    return 10 * np.log10(255**2 / mse)


def _reseal(stream, body):
    return body + zlib.crc32(body).to_bytes(4, "little")


# -- the transform -------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(37, 51), (2, 3), (64, 33)])
@pytest.mark.parametrize("reversible", [True, False])
def test_wavelet_round_trip(shape, reversible):
    rng = np.random.default_rng(0)
    x = rng.integers(-128, 128, (2, *shape))
    levels = int(np.ceil(np.log2(min(shape))))
    x = x.astype(np.int32) if reversible else x.astype(np.float64)
    forward = _dwt(x, levels, reversible)
    back = _idwt(forward, levels, reversible)
    compiled = _transform(x, levels, reversible, inverse=False)
    if reversible:
        assert back.dtype == np.int32 and np.array_equal(back, x)
        assert np.array_equal(compiled, forward)
        assert np.array_equal(_transform(compiled, levels, True, inverse=True), x)
    else:
        np.testing.assert_allclose(back, x, atol=1e-9)
        np.testing.assert_allclose(compiled, forward, atol=1e-9)
        np.testing.assert_allclose(_transform(compiled, levels, False, inverse=True), x, atol=1e-9)


def test_first_level_is_pywavelets_bior44_reflect():
    # JPEG 2000's 9/7 = PyWavelets' bior4.4, whole-sample symmetric ("reflect"), up to
    # the scaling of each band (LL x2, HL and LH x-1, HH x1/2) and its 2 framing samples
    x = np.random.default_rng(1).normal(size=(1, 20, 26))
    ours = _dwt(x, 1, False)[0]
    cA, (cH, cV, cD) = pywt.dwt2(x[0], "bior4.4", mode="reflect")
    for band, ref, scale in [
        (ours[:10, :13], cA, 2),
        (ours[:10, 13:], cV, -1),
        (ours[10:, :13], cH, -1),
        (ours[10:, 13:], cD, 0.5),
    ]:
        np.testing.assert_allclose(band * scale, ref[2 : 2 + band.shape[0], 2 : 2 + band.shape[1]])


def test_block_coder_truncation_removes_the_reported_distortion():
    rng = np.random.default_rng(2)
    values = rng.laplace(0, 6, (1, 40, 40))
    blocks = np.array([[0, 0, 0, 32, 32, 3], [0, 32, 0, 8, 40, 1], [0, 0, 32, 32, 8, 2]])
    data, offsets, nplanes, rates, dists = encode_blocks(values, blocks, np.ones(3))
    full = decode_blocks(data, values.shape, blocks, nplanes, 3 * nplanes - 2, offsets, False)
    q = np.floor(np.abs(values))
    assert np.array_equal(full, np.where(q > 0, np.sign(values) * (2 * q + 1), 0))
    for k in (1, 4, 8):
        passes = np.minimum(k, 3 * nplanes - 2)
        lengths = rates[np.arange(3), passes - 1]
        kept = b"".join(data[o : o + n] for o, n in zip(offsets[:-1], lengths, strict=True))
        cut = np.concatenate([[0], np.cumsum(lengths)])
        out = decode_blocks(kept, values.shape, blocks, nplanes, passes, cut, False)
        removed = (values**2).sum() - ((values - out / 2) ** 2).sum()
        assert removed == pytest.approx(dists[np.arange(3), passes - 1].sum(), rel=1e-9)


# -- the codec -------------------------------------------------------------------------


@pytest.mark.parametrize("size", [(37, 51), (5, 7)])
def test_lossless_is_exact_gray_and_colour(size):
    rng = np.random.default_rng(3)
    for shape in [(3, *size), (2, *size, 3)]:
        X = rng.integers(0, 256, shape).astype(np.uint8)
        codec = JPEG2000Codec(wavelet="cdf53", levels=2).fit(X)
        symbols = codec.transform(X)
        assert symbols.dtype == np.int32 and symbols.shape == (len(X), X[0].size)
        assert np.array_equal(codec.inverse_transform(symbols), X)
        streams = codec.compress(X)
        assert np.array_equal(codec.decompress(streams), X)
        assert np.array_equal(codec.decompress_symbols(streams), symbols)


def test_lossless_photographs_and_symbols_are_the_integer_coefficients(gray, colour):
    for X in (gray, colour):
        codec = JPEG2000Codec(wavelet="cdf53").fit(X)
        streams = codec.compress(X)
        assert np.array_equal(codec.decompress(streams), X)
        assert codec.rate(X)["bits_per_pixel"] < 8 * (1 if X.ndim == 3 else 3)
        symbols = codec.transform(X)
        assert symbols.structure.kind == "subbands" and symbols.structure.quantized
        assert len(codec.get_feature_names_out()) == symbols.shape[1]
    # the symbols are the reversible 5/3 coefficients of the level-shifted RCT planes (numpy)
    x = colour.astype(np.int32) - 128
    R, G, B = x[..., 0], x[..., 1], x[..., 2]
    planes = np.stack([(R + 2 * G + B) >> 2, B - G, R - G], axis=1).reshape(-1, 64, 64)
    reference = _dwt(planes, codec.levels, True).reshape(len(colour), -1)[:, codec._gather_]
    assert np.array_equal(symbols, reference)


def test_bitstreams_hold_the_transform_symbols(gray, colour):
    for X in (gray, colour):
        for codec in (JPEG2000Codec(bits_per_pixel=0.5), JPEG2000Codec(base_step=6.0, levels=3)):
            codec.fit(X)
            symbols = codec.transform(X)
            streams = codec.compress(X)
            assert np.array_equal(codec.decompress_symbols(streams), symbols)
            images = codec.decompress(streams)
            assert np.array_equal(images, codec.inverse_transform(symbols))
            assert images.shape == X.shape and images.dtype == np.float64
            # one image at a time codes as in a batch
            assert streams[1] == codec.compress(X[1:2])[0]


def test_untruncated_symbols_are_deadzone_indices(gray):
    codec = JPEG2000Codec(base_step=4.0, levels=3).fit(gray)
    symbols = codec.transform(gray[:1])[0]
    # no truncation: every nonzero symbol is odd, 2 q + 1, and the reconstruction is within
    # one step of the exact coefficient
    assert (symbols[symbols != 0] % 2 == 1).all()
    steps = np.concatenate(
        [
            np.full(r * c, s)
            for (r, c), s in zip(codec.subband_shapes_, codec.subband_steps_, strict=True)
        ]
    )
    from skcompress.codecs._jpeg2000_codec import _dwt as dwt

    exact = dwt(gray[:1].astype(float) - 128, 3, False).reshape(-1)[codec._gather_]
    assert np.all(np.abs(symbols * steps / 2 - exact) <= steps)


def test_rate_control_meets_the_target(gray, colour):
    for X in (gray, colour):
        psnrs = []
        for bpp in (0.25, 0.5, 1.0):
            codec = JPEG2000Codec(bits_per_pixel=bpp).fit(X)
            streams = codec.compress(X)
            rates = [8 * len(s) / X[0].shape[0] / X[0].shape[1] for s in streams]
            assert max(rates) <= bpp and min(rates) >= 0.95 * bpp
            psnrs.append(
                np.mean([_psnr(a, b) for a, b in zip(X, codec.decompress(streams), strict=True)])
            )
        assert psnrs[0] < psnrs[1] < psnrs[2]
        assert psnrs[0] > 15


def test_settings_and_input_are_checked(gray):
    with pytest.raises(ValueError, match="levels=7 is too many"):
        JPEG2000Codec(levels=7).fit(gray[:, :40, :40])
    with pytest.raises(ValueError, match="bits_per_pixel"):
        JPEG2000Codec(bits_per_pixel=0).fit(gray)
    with pytest.raises(ValueError, match="bits_per_pixel"):
        JPEG2000Codec(bits_per_pixel=-1.0).fit(gray)
    with pytest.raises(ValueError, match="bits_per_pixel and base_step must be None"):
        JPEG2000Codec(bits_per_pixel=1.0, wavelet="cdf53").fit(gray)
    with pytest.raises(ValueError, match="code_block"):
        JPEG2000Codec(code_block=48).fit(gray)
    with pytest.raises(ValueError, match="values from 0 to 255"):
        JPEG2000Codec().fit(gray.astype(np.float64) * 2)
    with pytest.raises(ValueError, match="Negative values"):
        JPEG2000Codec().fit(gray.astype(np.float64) - 1)
    with pytest.raises(ValueError, match="wavelet='cdf53' codes integers"):
        JPEG2000Codec(wavelet="cdf53").fit(gray.astype(np.float64) + 0.5)
    with pytest.raises(ValueError, match="uint16|values from 0 to 255"):
        JPEG2000Codec().fit(gray.astype(np.uint16) * 4)
    with pytest.raises(ValueError, match="channels"):
        JPEG2000Codec().fit(np.zeros((1, 16, 16, 4), np.uint8))
    # rows are images one pixel high: only their horizontal axis is transformed
    rows = gray[:, 0, :]
    lossless = JPEG2000Codec(wavelet="cdf53").fit(rows)
    assert np.array_equal(lossless.decompress(lossless.compress(rows)), rows)
    with pytest.raises(ValueError, match="levels=8 is too many"):
        JPEG2000Codec(levels=8).fit(rows)
    codec = JPEG2000Codec(levels=3).fit(gray)
    with pytest.raises(ValueError):
        codec.transform(gray[:, :64, :64])
    with pytest.raises(ValueError, match="expects symbols of shape"):
        codec.inverse_transform(np.zeros((1, 10), np.int32))
    # flattened rows with signal_shape, and an image smaller than one code block
    flat = JPEG2000Codec(levels=2, signal_shape=(6, 5)).fit(gray[:, :6, :5].reshape(len(gray), -1))
    assert flat.n_code_blocks_ == 7


def test_decoder_refuses_bad_streams(gray):
    codec = JPEG2000Codec(bits_per_pixel=0.5, levels=3).fit(gray)
    stream = codec.compress(gray[:1])[0]
    with pytest.raises(TypeError, match="list"):
        codec.decompress(stream)
    with pytest.raises(ValueError, match="checksum"):
        codec.decompress([stream[:-10]])
    with pytest.raises(ValueError, match="checksum"):
        codec.decompress([stream[:3]])
    flipped = bytearray(stream)
    flipped[40] ^= 0x10
    with pytest.raises(ValueError, match="checksum"):
        codec.decompress([bytes(flipped)])
    other = JPEG2000Codec(bits_per_pixel=0.5, levels=2).fit(gray)
    with pytest.raises(ValueError, match="other settings"):
        other.decompress([stream])
    body = stream[:-4]
    head = len(codec._header())
    with pytest.raises(ValueError, match="declares"):  # codewords cut short, resealed
        codec.decompress([_reseal(stream, body[:-5])])
    with pytest.raises(ValueError, match="cut short"):  # the table itself cut short
        codec.decompress([_reseal(stream, body[: head + 3])])
    forged = bytearray(body)
    forged[head] = 200  # more passes than any block can have
    with pytest.raises(ValueError, match="passes"):
        codec.decompress([_reseal(stream, bytes(forged))])
    # forged payloads behind a valid checksum decode to something, or are refused
    rng = np.random.default_rng(4)
    for _ in range(60):
        mutated = bytearray(body)
        at = int(rng.integers(head, len(body)))
        mutated[at] = int(rng.integers(0, 256))
        try:
            out = codec.decompress([_reseal(stream, bytes(mutated))])
        except ValueError:
            continue
        assert out.shape == (1, *gray.shape[1:])


def test_structure_and_names(colour):
    codec = JPEG2000Codec(bits_per_pixel=1.0, levels=2).fit(colour)
    symbols = codec.transform(colour)
    s = symbols.structure
    assert (s.kind, s.producer, s.channels, s.image_shape) == (
        "subbands",
        "JPEG2000Codec",
        ("Y", "Cb", "Cr"),
        (64, 64),
    )
    names = codec.get_feature_names_out()
    assert names[0] == "Y_L2_LL_r0_c0" and names[-1] == "Cr_L1_HH_r31_c31"
    assert codec.subbands_ == ("L2_LL", "L2_HL", "L2_LH", "L2_HH", "L1_HL", "L1_LH", "L1_HH")
    # equal squared error per subband from one base step: steps inversely as the norms
    np.testing.assert_allclose(codec.subband_steps_ * codec.subband_norms_, codec.base_step_)


# -- against OpenJPEG ----------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("opj_compress") is None, reason="OpenJPEG is not installed")
def test_against_openjpeg(tmp_path):
    from PIL import Image

    X = load_photographs(size=128, include_skimage=False).images
    lossless = JPEG2000Codec(wavelet="cdf53").fit(X)
    ours = [len(s) for s in lossless.compress(X)]
    gaps = []
    for i, x in enumerate(X):
        src, out, dec = tmp_path / f"{i}.pgm", tmp_path / f"{i}.j2k", tmp_path / f"{i}d.pgm"
        Image.fromarray(x).save(src)
        subprocess.run(["opj_compress", "-i", src, "-o", out], check=True, capture_output=True)
        assert ours[i] <= 1.01 * out.stat().st_size  # the same coder; a smaller header
        subprocess.run(
            ["opj_compress", "-i", src, "-o", out, "-r", "16", "-I"],
            check=True,
            capture_output=True,
        )
        subprocess.run(["opj_decompress", "-i", out, "-o", dec], check=True, capture_output=True)
        bpp = 8 * out.stat().st_size / x.size
        codec = JPEG2000Codec(bits_per_pixel=bpp).fit(x[None])
        gaps.append(
            _psnr(x, codec.decompress(codec.compress(x[None]))[0]) - _psnr(x, Image.open(dec))
        )
    assert np.mean(gaps) > -0.3
