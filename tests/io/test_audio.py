"""Audio files in and out (WAV with SciPy, FLAC/OGG with soundfile) and resampling."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.io import wavfile

from skcompress.io import read_audio, resample, write_audio

RATE = 8000
TONE = 0.5 * np.sin(2 * np.pi * 440 * np.arange(RATE) / RATE)


@pytest.mark.parametrize("subtype", ["PCM_16", "FLOAT"])
def test_wav_round_trip_is_exact_to_the_sample_format(tmp_path, subtype):
    stereo = np.stack([TONE, -TONE])
    path = tmp_path / "x.wav"
    write_audio(path, stereo, RATE, subtype=subtype)
    x, rate = read_audio(path, dtype="float64")
    assert rate == RATE and x.shape == (2, RATE)
    tolerance = 0.5 / 32768 if subtype == "PCM_16" else 1e-7
    np.testing.assert_allclose(x, stereo, atol=tolerance)
    # 16-bit PCM reads back bit for bit as int16
    if subtype == "PCM_16":
        pcm = np.rint(stereo * 32768).astype(np.int16)
        np.testing.assert_array_equal(read_audio(path, dtype="int16")[0], pcm)
        np.testing.assert_array_equal(wavfile.read(path)[1].T, pcm)  # SciPy's own reading


def test_int16_signals_are_written_as_they_are_and_mono_averages(tmp_path):
    pcm = (np.arange(2 * 100).reshape(2, 100) * 100 - 10000).astype(np.int16)
    write_audio(tmp_path / "x.wav", pcm, 16000)
    x, rate = read_audio(tmp_path / "x.wav", dtype="int16")
    np.testing.assert_array_equal(x, pcm)
    mono, _ = read_audio(tmp_path / "x.wav", mono=True, dtype="float64")
    np.testing.assert_allclose(mono[0], pcm.mean(axis=0) / 32768)


@pytest.mark.parametrize("bits", [8, 32])
def test_other_wav_sample_formats_read_in_the_unit_range(tmp_path, bits):
    if bits == 8:
        data = np.array([0, 128, 255], dtype=np.uint8)
        expected = [-1.0, 0.0, 127 / 128]
    else:
        data = np.array([-(1 << 31), 0, 1 << 30], dtype=np.int32)
        expected = [-1.0, 0.0, 0.5]
    wavfile.write(tmp_path / "x.wav", RATE, data)
    np.testing.assert_allclose(read_audio(tmp_path / "x.wav", dtype="float64")[0][0], expected)


@pytest.mark.parametrize("extension", [".flac", ".ogg"])
def test_flac_is_lossless_and_ogg_is_close_through_soundfile(tmp_path, extension):
    pytest.importorskip("soundfile")
    path = tmp_path / f"x{extension}"
    write_audio(path, TONE, RATE)
    x, rate = read_audio(path, dtype="float64")
    assert rate == RATE and x.shape[0] == 1
    if extension == ".flac":
        np.testing.assert_allclose(x[0], TONE, atol=0.5 / 32768)
    else:  # Vorbis: lossy, and its decoder may add a few samples
        n = min(x.shape[1], RATE)
        assert np.corrcoef(x[0, 1000 : n - 1000], TONE[1000 : n - 1000])[0, 1] > 0.99


def test_resampling_keeps_a_tone_and_its_length():
    y = resample(TONE[None], RATE, 44100)
    assert y.shape == (1, 44100)
    spectrum = np.abs(np.fft.rfft(y[0]))
    assert np.argmax(spectrum) == 440  # 1 s of signal: bin k is k Hz
    back = resample(y, 44100, RATE)
    assert back.shape == (1, RATE)
    np.testing.assert_allclose(back[0, 200:-200], TONE[200:-200], atol=2e-3)
    assert resample(TONE.astype(np.float32), RATE, 16000).dtype == np.float32
    np.testing.assert_array_equal(resample(TONE, RATE, RATE), TONE)


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 300),
    orig=st.sampled_from([8000, 11025, 16000, 44100, 48000]),
    target=st.sampled_from([8000, 16000, 22050, 48000]),
)
def test_resampled_length_is_the_ceiling_of_the_ratio(n, orig, target):
    x = np.random.default_rng(n).standard_normal((2, n))
    y = resample(x, orig, target)
    assert y.shape == (2, -(-n * target // orig))
    assert np.isfinite(y).all()


def test_bad_input_is_refused_with_what_to_change(tmp_path):
    with pytest.raises(ValueError, match="NaN"):
        write_audio(tmp_path / "x.wav", np.array([0.0, np.nan]), RATE)
    with pytest.raises(ValueError, match="sample_rate"):
        write_audio(tmp_path / "x.wav", TONE, 0)
    with pytest.raises(ValueError, match="at least one frame"):
        write_audio(tmp_path / "x.wav", np.zeros((1, 0)), RATE)
    with pytest.raises(ValueError, match="16-bit PCM"):
        write_audio(tmp_path / "x.wav", np.array([70000]), RATE)
    with pytest.raises(ValueError, match="Unknown audio format"):
        write_audio(tmp_path / "x.txt", TONE, RATE)
    (tmp_path / "bad.wav").write_bytes(b"RIFF\x00\x00")
    with pytest.raises(ValueError, match="Cannot read"):
        read_audio(tmp_path / "bad.wav")
    with pytest.raises(ValueError, match="dtype"):
        read_audio(tmp_path / "bad.wav", dtype="int8")
    with pytest.raises(ValueError, match="target_rate"):
        resample(TONE, RATE, -1)
    with pytest.raises(ValueError, match="finite"):
        resample(np.array([np.inf, 0.0]), RATE, 16000)
    # clipping is documented: floats beyond [-1, 1] are clipped, never wrapped
    write_audio(tmp_path / "loud.wav", np.array([2.0, -2.0]), RATE)
    np.testing.assert_array_equal(
        read_audio(tmp_path / "loud.wav", dtype="int16")[0][0], [32767, -32768]
    )


def test_truncated_and_mutated_wav_files_read_or_are_refused(tmp_path):
    path = tmp_path / "x.wav"
    write_audio(path, np.stack([TONE[:64], TONE[:64]]), RATE)
    data = path.read_bytes()
    rng = np.random.default_rng(0)
    cases = [data[:n] for n in range(len(data))]
    for _ in range(200):
        mutated = bytearray(data)
        mutated[int(rng.integers(60))] = int(rng.integers(256))  # the header's bytes
        cases.append(bytes(mutated))
    for case in cases:
        path.write_bytes(case)
        try:
            x, _ = read_audio(path)
        except ValueError:
            continue
        assert x.ndim == 2 and np.isfinite(x).all()
