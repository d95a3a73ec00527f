"""BalleCodec and LearnedWaveletCodec: training learns, contracts, bitstreams, weights, errors."""

import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.exceptions import NotFittedError

from skcompress.learned import BalleCodec, LearnedWaveletCodec
from tests.learned.conftest import QUICK

TINY_BALLE = {"n_filters": 8, "n_latents": 4, "n_layers": 2, "kernel_size": 3, **QUICK}
TINY_WAVELET = {"wavelet": "haar", "level": 2, "n_latents": 6, "n_filters": 8, "n_blocks": 1}
TINY_WAVELET.update(QUICK)
CODECS = [(BalleCodec, TINY_BALLE), (LearnedWaveletCodec, TINY_WAVELET)]
IDS = ["balle", "wavelet"]


@pytest.fixture(scope="module")
def fitted():
    """One tiny model of each codec, trained briefly on the colour images."""
    from tests.learned.conftest import rgb as make

    X = make.__wrapped__()
    return {
        cls: cls(lmbda=0.01, max_epochs=6, batch_size=4, lr=5e-3, **params).fit(X)
        for cls, params in CODECS
    }


@pytest.mark.parametrize(("cls", "params"), CODECS, ids=IDS)
def test_loss_falls_and_rate_falls_as_lambda_falls(cls, params, rgb):
    bits = []
    for lmbda in (1.0, 0.01, 0.0001):
        codec = cls(lmbda=lmbda, max_epochs=12, batch_size=2, lr=3e-3, **params).fit(rgb)
        loss = np.array(codec.net_.history[:, "train_loss"])
        assert loss[-3:].mean() < (0.7 if lmbda == 1.0 else 1.0) * loss[:2].mean()
        assert len(codec.net_.history[:, "rate"]) == codec.n_iter_ == 12
        assert codec.history is codec.net_.history
        bits.append(codec.bits_per_sample(rgb))
    assert bits[0] > bits[1] > bits[2]
    assert cls(**params).history is None


@pytest.mark.parametrize(("cls", "params"), CODECS, ids=IDS)
def test_shape_and_dtype_contracts(cls, params, fitted, rgb):
    codec = fitted[cls]
    stride = codec._stride()
    grid = 16 // stride
    latents = codec.transform(rgb)
    assert latents.dtype == np.int32 and latents.shape == (
        8,
        grid * grid * 4 * 0 + grid**2 * codec.n_latents,
    )
    decoded = codec.inverse_transform(latents)
    assert decoded.dtype == np.float32 and decoded.shape == rgb.shape
    assert decoded.min() >= 0 and decoded.max() <= 255
    blocks = codec.set_params(layout="blocks").transform(rgb)
    first = codec.set_params(layout="channels_first").transform(rgb)
    codec.set_params(layout="flat")
    assert blocks.shape == (8, grid, grid, codec.n_latents)
    assert first.shape == (8, codec.n_latents, grid, grid)
    np.testing.assert_array_equal(blocks.reshape(8, -1), latents)
    np.testing.assert_array_equal(np.moveaxis(first, 1, -1), blocks)
    assert len(codec.get_feature_names_out()) == latents.shape[1]
    # float64 in is accepted, latents stay int32
    assert codec.transform(rgb.astype(np.float64)).dtype == np.int32


@pytest.mark.parametrize(("cls", "params"), CODECS, ids=IDS)
def test_odd_sizes_are_padded_and_cropped(cls, params, fitted, rgb):
    codec = fitted[cls]
    odd = rgb[:2, :13, :11]
    stride = codec._stride()
    grid = (-(-13 // stride), -(-11 // stride))
    latents = codec.set_params(layout="blocks").transform(odd)
    codec.set_params(layout="flat")
    assert latents.shape == (2, *grid, codec.n_latents)
    # the fitted size does not match this grid: the padded size, or the size asked for
    assert codec.inverse_transform(latents.reshape(2, -1), size=(13, 11)).shape == odd.shape
    with pytest.raises(ValueError, match="size=..."):
        codec.inverse_transform(latents.reshape(2, -1))
    # bitstreams carry the size
    assert codec.decompress(codec.compress(odd)).shape == odd.shape
    wide = np.concatenate([rgb[:1], rgb[:1]], axis=2)  # 16 x 32, another size than fit's
    assert codec.inverse_transform(codec.transform(wide), size=(16, 32)).shape == (1, 16, 32, 3)


@pytest.mark.parametrize(("cls", "params"), CODECS, ids=IDS)
def test_bitstreams_decode_to_the_inverse_and_rate_matches_estimate(cls, params, fitted, rgb):
    codec = fitted[cls]
    strings = codec.compress(rgb)
    assert len(strings) == 8 and all(isinstance(s, bytes) for s in strings)
    np.testing.assert_array_equal(
        codec.decompress(strings), codec.inverse_transform(codec.transform(rgb))
    )
    rate = codec.rate(rgb)
    assert rate["bits_per_sample"] == np.mean([8 * len(s) for s in strings])
    payload, estimate = rate["payload_bits_per_sample"], rate["estimated_bits_per_sample"]
    assert abs(payload - estimate) <= 0.05 * estimate + 16
    assert rate["bits_per_value"] == pytest.approx(rate["bits_per_sample"] / 256)
    with pytest.raises(ValueError, match="different sizes"):
        codec.decompress([strings[0], codec.compress(rgb[:1, :12, :12])[0]])
    with pytest.raises(ValueError):
        codec.decompress([strings[0][:-3]])


@pytest.mark.parametrize("safetensors", [False, True])
@pytest.mark.parametrize(("cls", "params"), CODECS, ids=IDS)
def test_save_and_load_params(cls, params, fitted, rgb, tmp_path, safetensors):
    if safetensors:
        pytest.importorskip("safetensors")
    codec = fitted[cls]
    path = tmp_path / ("w.safetensors" if safetensors else "w.pt")
    codec.save_params(path, use_safetensors=safetensors)
    fresh = cls(**codec.get_params())
    with pytest.raises(ValueError, match="initialize"):
        fresh.load_params(path, use_safetensors=safetensors)
    fresh.initialize(rgb).load_params(path, use_safetensors=safetensors)
    np.testing.assert_array_equal(fresh.transform(rgb), codec.transform(rgb))
    np.testing.assert_array_equal(fresh.compress(rgb)[0], codec.compress(rgb)[0])
    loaded = pickle.loads(pickle.dumps(codec))
    np.testing.assert_array_equal(
        loaded.decompress(codec.compress(rgb)), codec.decompress(codec.compress(rgb))
    )


@pytest.mark.parametrize(("cls", "params"), CODECS, ids=IDS)
def test_inverse_after_two_steps_and_continued_training(cls, params, gray):
    codec = cls(max_epochs=1, batch_size=4, **params).fit(gray)  # 2 steps
    assert codec.inverse_transform(codec.transform(gray)).shape == gray.shape
    codec.partial_fit(gray)
    assert codec.n_iter_ == 2
    codec.set_params(warm_start=True, max_epochs=2, lmbda=0.1).fit(gray)
    assert codec.n_iter_ == 2  # a new net, the same weights
    again = cls(max_epochs=1, batch_size=4, **params).fit(gray)
    np.testing.assert_array_equal(
        again.transform(gray), cls(max_epochs=1, batch_size=4, **params).fit(gray).transform(gray)
    )


@pytest.mark.parametrize(("cls", "params"), CODECS, ids=IDS)
def test_training_on_random_patches(cls, params, rgb):
    codec = cls(patch_size=8, max_epochs=1, batch_size=4, **params).fit(rgb)
    assert codec.transform(rgb).shape[0] == 8


def test_1d_signals_and_flattened_images(gray):
    codec = BalleCodec(max_epochs=1, data_range=None, **TINY_BALLE).fit(
        gray.reshape(8, -1)[:, :64]
    )
    assert codec.transform(gray.reshape(8, -1)[:, :64]).shape == (8, 16 * 4)
    flat = BalleCodec(max_epochs=1, signal_shape=(16, 16), **TINY_BALLE).fit(gray.reshape(8, -1))
    assert flat.inverse_transform(flat.transform(gray.reshape(8, -1))).shape == (8, 16, 16)


@pytest.mark.parametrize(("cls", "params"), CODECS, ids=IDS)
def test_bad_input_gets_clear_errors(cls, params, fitted, rgb, gray):
    codec = fitted[cls]
    with pytest.raises(ValueError, match="at least 4 samples along every spatial axis"):
        codec.transform(rgb[:, :3, :8])
    with pytest.raises(ValueError, match="3 channels; got X with 4 channels"):
        codec.transform(np.concatenate([rgb, rgb[..., :1]], axis=-1))
    with pytest.raises(ValueError, match="images with 3 channels"):
        codec.transform(gray)
    with pytest.raises(ValueError, match="shape"):
        codec.inverse_transform(np.zeros((2, 7), dtype=np.int32))
    with pytest.raises(ValueError, match="integer latents"):
        codec.inverse_transform(codec.transform(rgb) + 0.5)
    with pytest.raises(ValueError, match="patch_size"):
        cls(patch_size=6, max_epochs=1, **params).fit(rgb)
    with pytest.raises(ValueError, match="at least"):
        cls(max_epochs=1, **params).fit(rgb[:, :2, :2])


@pytest.mark.parametrize("decomposition", ["dyadic", "packet"])
def test_wavelet_channels_invert_and_long_filters_need_room(rgb, gray, decomposition):
    params = {**TINY_WAVELET, "decomposition": decomposition}
    codec = LearnedWaveletCodec(max_epochs=1, **params).fit(rgb)
    P = codec._channels_first(rgb)
    Q = codec._packets(P)
    assert Q.shape == (8, 3 * 16, 4, 4)
    np.testing.assert_allclose(codec._unpackets(Q), P, atol=1e-3)
    signals = gray.reshape(8, -1)[:, :48]
    one_d = LearnedWaveletCodec(max_epochs=1, data_range=None, **params).fit(signals)
    P = one_d._channels_first(signals)
    assert one_d._packets(P).shape == (8, 4, 12)
    np.testing.assert_allclose(one_d._unpackets(one_d._packets(P)), P, atol=1e-3)
    params = {**TINY_WAVELET, "wavelet": "cdf97", "level": 2}
    with pytest.raises(ValueError, match="36 samples.*10 taps"):
        LearnedWaveletCodec(max_epochs=1, **params).fit(rgb)


@settings(max_examples=25, deadline=None)
@given(
    level=st.integers(1, 3),
    wavelet=st.sampled_from(["haar", "cdf53", "db2"]),
    cells=st.tuples(st.integers(3, 5), st.integers(3, 6)),
    channels=st.sampled_from([1, 3]),
    one_d=st.booleans(),
)
def test_dyadic_layout_inverts_for_any_level_wavelet_and_size(
    level, wavelet, cells, channels, one_d
):
    stride = 2**level
    shape = (cells[0] * stride,) if one_d else (cells[0] * stride, cells[1] * stride)
    shape += (channels,) if channels > 1 and not one_d else ()
    X = np.random.default_rng(level).normal(size=(2, *shape)).astype(np.float32)
    codec = LearnedWaveletCodec(wavelet=wavelet, level=level, n_latents=2, data_range=None)
    try:
        codec._signals(X, reset=True)
    except ValueError as exc:  # too short for this wavelet at this level
        assert "at least" in str(exc)
        return
    P = codec._channels_first(X)
    Q = codec._packets(P)
    per = (2 if one_d else 4) ** level
    assert Q.shape == (2, codec.n_channels_ * per, *(s // stride for s in P.shape[2:]))
    np.testing.assert_allclose(codec._unpackets(Q), P, atol=1e-4)


def test_dyadic_channels_are_the_subbands_polyphase_components(gray):
    from skcompress import WaveletTransform

    codec = LearnedWaveletCodec(max_epochs=1, **TINY_WAVELET).fit(gray)  # haar, level 2
    wt = WaveletTransform("haar", level=2, mode="periodization").fit(gray)
    flat = wt.transform(gray)
    sizes = np.cumsum([0] + [int(np.prod(s)) for s in wt.subband_shapes_])
    spans = zip(sizes[:-1], sizes[1:], wt.subband_shapes_, strict=True)
    bands = [flat[:, a:b].reshape(8, *s) for a, b, s in spans]
    Q = codec._packets(codec._channels_first(gray))  # (8, 16, 4, 4)
    assert wt.subbands_[:4] == ("L2_LL", "L2_HL", "L2_LH", "L2_HH")
    for c in range(4):  # the coarsest level: one channel per subband
        np.testing.assert_allclose(Q[:, c], bands[c], atol=1e-4)
    for b in range(3):  # level 1: 2 x 2 polyphase components of each subband
        for i in range(2):
            for j in range(2):
                np.testing.assert_allclose(
                    Q[:, 4 + 4 * b + 2 * i + j], bands[4 + b][:, i::2, j::2], atol=1e-4
                )


def test_color_init_decorrelates_colours_without_mixing_coefficients(rgb, gray):
    params = {**TINY_WAVELET, "n_latents": 20}
    codec = LearnedWaveletCodec(max_epochs=1, **params).fit(rgb)
    Z = codec._training_input(codec._signals(rgb, reset=False), reset=False)
    V = np.moveaxis(Z, 1, -1).reshape(-1, Z.shape[1]).astype(np.float64) * codec.packet_scale_
    basis = codec._color_basis(V)  # (3 * 16, 20)
    np.testing.assert_allclose(basis.T @ basis, np.eye(20), atol=1e-9)
    touched = np.abs(basis.reshape(3, 16, 20)).sum(axis=0) > 0  # coefficients per latent
    assert (touched.sum(axis=0) == 1).all()
    variance = ((V @ basis) ** 2).mean(axis=0)
    assert (np.diff(variance) <= 1e-9 * variance[0]).all()  # largest first
    # each coefficient's kept colour components are uncorrelated
    latents = V @ basis
    for k in np.flatnonzero(touched.sum(axis=1) > 1):
        columns = np.flatnonzero(touched[k])
        cov = latents[:, columns].T @ latents[:, columns] / len(latents)
        np.testing.assert_allclose(cov, np.diag(np.diag(cov)), atol=1e-6 * cov.max())
    # gray: the latents are the largest-variance coefficients themselves
    gray_codec = LearnedWaveletCodec(max_epochs=1, **{**TINY_WAVELET, "n_latents": 5}).fit(gray)
    Z = gray_codec._training_input(gray_codec._signals(gray, reset=False), reset=False)
    V = np.moveaxis(Z, 1, -1).reshape(-1, 16).astype(np.float64) * gray_codec.packet_scale_
    largest = np.argsort(-(V**2).mean(axis=0), kind="stable")[:5]
    np.testing.assert_array_equal(np.abs(gray_codec._color_basis(V)), np.eye(16)[:, largest])
    with pytest.raises(ValueError, match="decomposition"):
        LearnedWaveletCodec(decomposition="full", **TINY_WAVELET).fit(gray)


def test_progress_table_and_bar_are_shown(gray, capsys):
    BalleCodec(max_epochs=1, batch_size=4, verbose=2, **TINY_BALLE).fit(gray)
    captured = capsys.readouterr()
    assert "train_loss" in captured.out and "rate" in captured.out
    assert "distortion" in captured.out


def test_context_and_factorized_coders_code_the_same_latents(fitted, rgb, gray):
    codec = fitted[LearnedWaveletCodec]
    assert codec.entropy_coder == "context"
    assert sorted(codec.latent_order_) == list(range(codec.n_latents))
    expected = codec.inverse_transform(codec.transform(rgb))
    context = codec.compress(rgb)
    np.testing.assert_array_equal(codec.decompress(context), expected)
    context_rate = codec.rate(rgb)
    codec.set_params(entropy_coder="factorized")  # no refit: both coders are ready
    try:
        factorized = codec.compress(rgb)
        np.testing.assert_array_equal(codec.decompress(factorized), expected)
        factorized_rate = codec.rate(rgb)
        with pytest.raises(ValueError):  # each coder refuses the other's bitstreams
            codec.decompress(context)
    finally:
        codec.set_params(entropy_coder="context")
    # the factorized rate's estimate is the learned densities'; the context one its own
    assert factorized_rate["estimated_bits_per_sample"] == pytest.approx(
        codec.bits_per_sample(rgb)
    )
    key = "estimated_bits_per_sample"
    assert context_rate[key] != factorized_rate[key]
    # 1-D signals, and one group or more groups than channels
    signals = gray.reshape(8, -1)[:, :64]
    for groups in (1, 2, 4, 9):
        one_d = LearnedWaveletCodec(
            max_epochs=1, data_range=None, context_groups=groups, **TINY_WAVELET
        ).fit(signals)
        np.testing.assert_array_equal(
            one_d.decompress(one_d.compress(signals)),
            one_d.inverse_transform(one_d.transform(signals)),
        )
    with pytest.raises(ValueError, match="entropy_coder"):
        LearnedWaveletCodec(entropy_coder="huffman", **TINY_WAVELET).fit(rgb)


def test_chunks_on_joblib_threads_run_without_gradients():
    # under a parallel_config the chunks run on joblib's threads, where the
    # caller's torch.no_grad() does not hold
    from joblib import parallel_config

    X = np.random.default_rng(0).uniform(0, 1, (20, 16, 16)).astype(np.float32)
    codec = BalleCodec(**{**BalleCodec.get_test_params()[0], "batch_size": 4}).fit(X)
    symbols = codec.transform(X)
    back = codec.inverse_transform(symbols)
    with parallel_config(n_jobs=2):
        np.testing.assert_array_equal(codec.transform(X), symbols)
        np.testing.assert_array_equal(codec.inverse_transform(symbols), back)


# -- hostile settings and input (issue 18) ------------------------------------------


@pytest.mark.parametrize(("cls", "params"), CODECS, ids=IDS)
def test_values_beyond_float32_are_refused_and_leave_the_codec_unfitted(cls, params, gray):
    codec = cls(max_epochs=1, **params)
    # was "repeats may not contain negative values" from the coding tables
    with pytest.raises(ValueError, match=r"computes in float32.*values up to .*e\+302"):
        codec.fit(gray.astype(np.float64) * 1e300)
    with pytest.raises(NotFittedError):
        codec.transform(gray)


def test_absurd_depths_are_refused_up_front():
    # level=10**6 was Python's "Exceeds the limit (4300 digits) for integer string conversion"
    with pytest.raises(ValueError, match=r"'level' parameter of LearnedWaveletCodec .* \[1, 16\]"):
        LearnedWaveletCodec(level=10**6).fit(np.zeros((2, 16, 16)))
    with pytest.raises(ValueError, match=r"'n_layers' parameter of BalleCodec .* \[1, 16\]"):
        BalleCodec(n_layers=10**6).fit(np.zeros((2, 16, 16)))


def test_diverging_training_names_lr(gray):
    codec = BalleCodec(lr=1e9, max_grad_norm=None, max_epochs=3, **TINY_BALLE)
    with pytest.raises(ValueError, match=r"training diverged.*lr=1000000000"):
        codec.fit(gray)
    with pytest.raises(NotFittedError):
        codec.transform(gray)


@pytest.mark.parametrize(("cls", "params"), CODECS, ids=IDS)
def test_a_forged_size_is_refused_before_decoding(cls, params, fitted, rgb):
    import time

    from skcompress.entropy._coder import read_varint, varint

    codec = fitted[cls]
    (string,) = codec.compress(rgb[:1])
    at = 0
    for _ in range(2):
        _, at = read_varint(string, at, "test")
    payload = string[at:]
    start = time.perf_counter()
    with pytest.raises(ValueError, match="max_values"):
        codec.decompress([varint(8192) + varint(8192) + payload])
    # a size within the budget whose latents the payload does not hold
    with pytest.raises(ValueError, match="shape"):
        codec.decompress([varint(64) + varint(64) + payload])
    assert time.perf_counter() - start < 1.0
    assert codec.decompress([string]).shape == (1, *rgb.shape[1:])
