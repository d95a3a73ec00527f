"""Audio files in and out, and resampling to a codec's rate.

WAV is read and written with SciPy (no extra dependency); FLAC, OGG/Vorbis and
MP3 go through soundfile (libsndfile) when it is installed
(``pip install soundfile``). Signals are laid out as the library's batches and
torchaudio's tensors are: ``(channels, frames)``, one row a channel.
"""

import os
from fractions import Fraction

import numpy as np

_SCIPY_FORMATS = (".wav",)
_SOUNDFILE_FORMATS = (".flac", ".ogg", ".oga", ".mp3", ".aiff", ".aif")
_DTYPES = ("float32", "float64", "int16")
#: Most frames a file may declare: 2**31 (over 12 hours at 48 kHz).
_MAX_FRAMES = 1 << 31


def _extension(path):
    extension = os.path.splitext(os.fspath(path))[1].lower()
    if extension not in _SCIPY_FORMATS + _SOUNDFILE_FORMATS:
        raise ValueError(
            f"Unknown audio format {extension!r} of {os.fspath(path)!r}: use one of "
            f"{', '.join(_SCIPY_FORMATS + _SOUNDFILE_FORMATS)}."
        )
    return extension


def _soundfile(path):
    try:
        import soundfile
    except ImportError as error:
        raise ImportError(
            f"Reading or writing {os.fspath(path)!r} needs soundfile (libsndfile): "
            "pip install soundfile. WAV files need nothing more."
        ) from error
    return soundfile


def _check_rate(rate, name):
    if isinstance(rate, bool) or not isinstance(rate, (int, np.integer)) or rate < 1:
        raise ValueError(f"{name} must be a positive int (Hz); got {rate!r}.")
    return int(rate)


def _check_dtype(dtype):
    name = np.dtype(dtype).name if dtype is not None else None
    if name not in _DTYPES:
        raise ValueError(f"dtype must be one of {_DTYPES}; got {dtype!r}.")
    return name


def read_audio(path, *, sample_rate=None, mono=False, dtype="float32"):
    """Read an audio file as ``(channels, frames)``, resampled if asked.

    Parameters
    ----------
    path : str or path-like
        A ``.wav`` file (read with SciPy: 8-, 16-, 24- and 32-bit PCM and
        float), or ``.flac``, ``.ogg``, ``.mp3``, ``.aiff`` (soundfile).
    sample_rate : int or None, default=None
        Resample to this rate (:func:`resample`); None keeps the file's.
    mono : bool, default=False
        Average the channels into one.
    dtype : {"float32", "float64", "int16"}, default="float32"
        Floats in ``[-1, 1)`` (16-bit PCM divided by 32,768), or 16-bit
        PCM, as the spoken digits of :func:`~skcompress.datasets.load_spoken_digits`
        are stored (other sample formats rounded to it, clipped).

    Returns
    -------
    signal : ndarray of shape (channels, frames)
    sample_rate : int
        The rate of ``signal``.

    Raises
    ------
    ValueError
        A file that cannot be read as audio, an unknown extension, a bad
        ``sample_rate`` or ``dtype``.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from skcompress.io import read_audio, write_audio
    >>> tone = np.sin(2 * np.pi * 440 * np.arange(8000) / 8000).astype(np.float32)
    >>> path = os.path.join(tempfile.mkdtemp(), "tone.wav")
    >>> write_audio(path, 0.5 * tone, 8000)
    >>> x, rate = read_audio(path)
    >>> x.shape, x.dtype, rate
    ((1, 8000), dtype('float32'), 8000)
    >>> bool(np.abs(x[0] - 0.5 * tone).max() <= 0.5 / 32768)  # 16-bit PCM
    True
    >>> read_audio(path, sample_rate=16000)[0].shape
    (1, 16000)
    """
    dtype = _check_dtype(dtype)
    target = None if sample_rate is None else _check_rate(sample_rate, "sample_rate")
    extension = _extension(path)
    soundfile = None if extension in _SCIPY_FORMATS else _soundfile(path)
    try:
        if soundfile is None:
            from scipy.io import wavfile

            rate, data = wavfile.read(os.fspath(path), mmap=True)
            data = _to_float(np.asarray(data))
        else:
            info = soundfile.info(os.fspath(path))
            if info.frames > _MAX_FRAMES:
                raise ValueError(f"it declares {info.frames} frames, over {_MAX_FRAMES}")
            data, rate = soundfile.read(os.fspath(path), dtype="float64", always_2d=True)
    except Exception as error:  # the parsers' many ways of failing on a broken file
        raise ValueError(f"Cannot read {os.fspath(path)!r} as audio: {error}") from error
    signal = data.reshape(len(data), -1).T  # (channels, frames)
    if mono:
        signal = signal.mean(axis=0, keepdims=True)
    if target is not None and target != rate:
        signal = resample(signal, int(rate), target)
        rate = target
    if dtype == "int16":
        signal = np.clip(np.rint(signal * 32768.0), -32768, 32767).astype(np.int16)
    else:
        signal = signal.astype(dtype)
    return np.ascontiguousarray(signal), int(rate)


def _to_float(data):
    """A WAV file's samples as float64 in ``[-1, 1)``, whatever their format."""
    if data.dtype.kind == "f":
        return data.astype(np.float64)
    if data.dtype == np.uint8:  # 8-bit WAV is unsigned, centred on 128
        return (data.astype(np.float64) - 128.0) / 128.0
    bits = 8 * data.dtype.itemsize  # 24-bit files come as int32, left-justified
    return data.astype(np.float64) / float(1 << (bits - 1))


def write_audio(path, signal, sample_rate, *, subtype="PCM_16"):
    """Write ``(channels, frames)`` (or ``(frames,)``) samples to an audio file.

    Parameters
    ----------
    path : str or path-like
        ``.wav`` (SciPy), or ``.flac``, ``.ogg``, ``.mp3``, ``.aiff``
        (soundfile, which picks its own subtype for lossy formats).
    signal : array-like of shape (channels, frames) or (frames,)
        Floats in ``[-1, 1]`` (clipped there), or int16 PCM.
    sample_rate : int
        Samples per second.
    subtype : {"PCM_16", "FLOAT"}, default="PCM_16"
        WAV's sample format: 16-bit PCM (floats rounded, as a codec's
        decoder delivers), or 32-bit float.

    Raises
    ------
    ValueError
        NaN or infinite samples, a signal of more than 2 dimensions or no
        frames, a bad ``sample_rate`` or ``subtype``.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from skcompress.io import write_audio
    >>> stereo = np.zeros((2, 4000), dtype=np.float32)   # 0.25 s at 16 kHz
    >>> path = os.path.join(tempfile.mkdtemp(), "silence.wav")
    >>> write_audio(path, stereo, 16000)
    >>> os.path.getsize(path)                           # 44-byte header, 2 x 2 bytes a frame
    16044
    """
    rate = _check_rate(sample_rate, "sample_rate")
    if subtype not in ("PCM_16", "FLOAT"):
        raise ValueError(f"subtype must be 'PCM_16' or 'FLOAT'; got {subtype!r}.")
    extension = _extension(path)
    x = np.asarray(signal)
    if x.ndim == 1:
        x = x[None]
    if x.ndim != 2 or x.shape[1] == 0 or x.dtype.kind not in "fiu":
        raise ValueError(
            "signal must be numbers of shape (channels, frames) or (frames,), with at least "
            f"one frame; got an array of shape {x.shape} and dtype {x.dtype}."
        )
    if x.dtype.kind == "f":
        if not np.isfinite(x).all():
            raise ValueError("signal holds NaN or infinite samples: an audio file cannot.")
        x = np.clip(x, -1.0, 1.0)
        if subtype == "PCM_16":
            x = np.clip(np.rint(x * 32768.0), -32768, 32767).astype(np.int16)
        else:
            x = x.astype(np.float32)
    elif x.dtype != np.int16:
        if x.min() < -32768 or x.max() > 32767:
            raise ValueError("integer samples must be 16-bit PCM, from -32768 to 32767.")
        x = x.astype(np.int16)
    frames = np.ascontiguousarray(x.T)  # (frames, channels)
    if frames.shape[1] == 1:
        frames = frames[:, 0]
    if extension in _SCIPY_FORMATS:
        from scipy.io import wavfile

        wavfile.write(os.fspath(path), rate, frames)
    else:
        _soundfile(path).write(os.fspath(path), frames, rate)


def resample(X, orig_rate, target_rate, *, axis=-1):
    """Polyphase resampling of signals from one rate to another (the ratio reduced).

    Up by ``L``, low-pass, down by ``M``, where ``L / M`` is
    ``target_rate / orig_rate`` in lowest terms
    (:func:`scipy.signal.resample_poly`, Kaiser window, beta 5): what a codec
    at a fixed rate (MP3's 32, 44.1 and 48 kHz, CELT's 48 kHz) needs from
    speech at 8 kHz, and back.

    Parameters
    ----------
    X : array-like
        Signals, time along ``axis``; a batch ``(n, frames)`` by default.
    orig_rate, target_rate : int
        Rates in Hz.
    axis : int, default=-1
        The time axis.

    Returns
    -------
    Y : ndarray
        ``ceil(frames * target_rate / orig_rate)`` samples along ``axis``;
        float32 for float32 input, float64 otherwise.

    Examples
    --------
    >>> import numpy as np
    >>> from skcompress.io import resample
    >>> x = np.sin(2 * np.pi * 300 * np.arange(8000) / 8000)[None]
    >>> y = resample(x, 8000, 48000)
    >>> y.shape
    (1, 48000)
    >>> back = resample(y, 48000, 8000)
    >>> bool(np.abs(back - x)[:, 100:-100].max() < 1e-2)
    True
    """
    orig = _check_rate(orig_rate, "orig_rate")
    target = _check_rate(target_rate, "target_rate")
    X = np.asarray(X)
    if X.ndim == 0 or X.shape[axis] == 0:
        raise ValueError(f"resample needs signals with at least one sample; got shape {X.shape}.")
    if X.dtype.kind not in "fiu" or not np.isfinite(X).all():
        raise ValueError("resample needs finite real samples; X holds NaN, infinity or others.")
    dtype = np.float32 if X.dtype == np.float32 else np.float64
    if orig == target:
        return X.astype(dtype)
    ratio = Fraction(target, orig)
    from scipy.signal import resample_poly

    Y = resample_poly(X.astype(np.float64), ratio.numerator, ratio.denominator, axis=axis)
    return Y.astype(dtype)
