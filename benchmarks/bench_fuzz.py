"""Fuzzing the decoders: mutated JPEG files and bitstreams, each read under a memory limit.

Every decoder that reads bytes a user may not have written is fed mutations of
valid inputs, each in a worker process under a memory limit (``RLIMIT_AS``, set
after the imports: ``--memory-mib`` above what the imports took) and a timeout
per input (``--timeout``). An outcome is one of:

``decoded``
    The input decodes (for a ``Codec``, to signals of the fitted shape).
``ValueError``, ``TypeError``
    A clear refusal: what a decoder must raise on bytes it cannot read.
``other``
    Any other exception, or a decoded array of the wrong shape: a finding.
``crash``
    The worker died (a signal: SIGSEGV, SIGABRT, a sanitizer report): a finding.
``timeout``, ``memory``
    The input took longer than ``--timeout`` seconds, or raised MemoryError
    (or torch's allocation error) under the limit: a finding.

Targets (``--targets``, comma-separated; all by default):

``jpeg-strict``, ``jpeg-lenient``
    ``skcompress.io.read_jpeg_coefficients(data)``, ``strict=True`` and
    ``strict=False``, on files Pillow wrote: gray and colour (4:2:0, 4:4:4),
    baseline, progressive and optimized, one with restart markers.
``codec-categorical``, ``codec-context``, ``codec-gain-shape``
    ``Codec.decompress`` of ``BlockDCT`` and ``PerceptualQuantizer`` steps
    on MNIST digits with a ``CategoricalEntropyModel`` and a
    ``BlockContextModel(positional=False)``, and of ``PyramidVQ`` on random
    vectors with its ``GainShapeModel``.
``learned-balle``, ``learned-wavelet``, ``learned-soundstream``
    ``decompress`` of ``BalleCodec``, ``LearnedWaveletCodec`` and
    ``SoundStreamCodec`` fitted with their ``get_test_params()`` (skipped
    without torch).
``whole-jpeg2000``, ``whole-hevc``, ``whole-celt``, ``whole-mp3``
    ``JPEG2000Codec.decompress`` of streams of colour photographs at 1 bit
    per pixel (16 x 16 code blocks, so that the block table is long),
    ``HEVCIntraCodec.decompress`` of colour photographs at QP 32, and
    ``CELTCodec.decompress`` and ``MP3Codec.decompress`` of spoken digits
    at 12 kbit/s.

Mutations, drawn in turn: ``truncate``, ``flip`` (1 to 4 bits), ``overwrite``
(1 to 4 bytes, random or 0x00/0xFF/0x7F/0x80), ``insert`` and ``delete`` (1 to
8 bytes), ``append``, ``splice`` (the head of one input and the tail of
another). Bitstreams also get ``reseal-payload`` (a mutated payload, resealed
with the model's public ``fingerprint_``, which is what a forger does: the
CRC-32 catches accidents, not forgery) and ``reseal-header`` (a header field
rewritten to a boundary value: 0, 1, 2**24, 2**32, 2**63, the field times 2...,
resealed), learned codecs ``prefix`` (their own size or stage field rewritten),
the whole codecs ``reseal-crc`` (a mutated body under a recomputed CRC-32) and
``reseal-field`` (one of the header's leading varints rewritten to a boundary
value, the CRC-32 recomputed)
and, for the image codecs, ``reseal-size`` (a signal size from 1 to 2**20 a
side, with the entropy coder's header rewritten to agree and resealed).
JPEG files get ``jpeg-dims`` (the frame's height or width), ``jpeg-length`` (a
segment length), ``jpeg-table`` (a quantization table zeroed or a Huffman
table's counts changed), ``jpeg-components`` (the number of components or
a sampling factor) and ``jpeg-repeat`` (a segment repeated, scans included, up
to a thousand times).

The tables give, per target and per mutation, how many inputs ended in each
outcome, and the findings (the first few of each kind, with their error).
``--save DIR`` writes every finding's input to ``DIR/<target>-<n>-<mutation>-<outcome>.bin``
and keeps the workers' logs there (``worker-<n>.log``: their stderr, a
sanitizer's report included).
``--quick``: 40 inputs per target, a 5 s timeout.

Usage::

    python benchmarks/bench_fuzz.py [--quick] [--json PATH] [--inputs 2000]
        [--targets jpeg-strict,codec-context] [--memory-mib 1024] [--timeout 20]
        [--seed 0] [--save DIR]

The sanitizer build of the C reader
-----------------------------------
AddressSanitizer and UndefinedBehaviorSanitizer see what a crash count cannot
(an out-of-bounds read that happens to land in mapped memory, signed overflow,
a misaligned load). Build ``skcompress.io._jpeg_reader`` with them, in a copy
of the source tree so that nobody else's extension changes (gcc shown; clang
takes the same flags and ships ``libclang_rt.asan-x86_64.so``)::

    cp -r skcompress /tmp/asan/ && cp setup.py pyproject.toml /tmp/asan/ && cd /tmp/asan
    CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined \\
            -fno-omit-frame-pointer -g -O1" \\
    LDFLAGS="-fsanitize=address,undefined" \\
        python setup.py build_ext --inplace --force

Python itself is not built with the sanitizers, so their runtimes are
preloaded; ASan reserves terabytes of address space for its shadow memory, so
the harness's ``RLIMIT_AS`` is turned off (``--memory-mib 0``) and leak
detection too (the interpreter's own allocations would drown the report)::

    cd /path/to/skcompress
    LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)" \\
    ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:allocator_may_return_null=1 \\
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \\
    PYTHONPATH=/tmp/asan \\
        python benchmarks/bench_fuzz.py --targets jpeg-strict,jpeg-lenient \\
            --memory-mib 0 --timeout 60 --inputs 20000 --save /tmp/asan/findings

A sanitizer report aborts the worker: it counts as a ``crash``, and the
report's last lines are the finding's detail (the whole report is in the
worker's log, whose path the detail gives). The harness notes the path of the
reader it imported: check that it is the copy's, and that ``ldd`` on that
file lists ``libasan``. (Run it as a script, as above: ``python -c`` from the
source tree would import the tree's own build first.)
"""

import base64
import io
import json
import os
import pickle
import select
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import _common
import numpy as np

OUTCOMES = ("decoded", "ValueError", "TypeError", "other", "crash", "timeout", "memory")
CLEAN = ("decoded", "ValueError", "TypeError")
JPEG_TARGETS = ("jpeg-strict", "jpeg-lenient")
CODEC_TARGETS = ("codec-categorical", "codec-context", "codec-gain-shape")
LEARNED_TARGETS = ("learned-balle", "learned-wavelet", "learned-soundstream")
WHOLE_TARGETS = ("whole-jpeg2000", "whole-hevc", "whole-celt", "whole-mp3")
TARGETS = JPEG_TARGETS + CODEC_TARGETS + LEARNED_TARGETS + WHOLE_TARGETS
GENERIC = ("truncate", "flip", "overwrite", "insert", "delete", "append", "splice")
SIZES = (1, 2, 3, 15, 17, 255, 1024, 2048, 4096, 8192, 16384, 1 << 20)
BOUNDARY = (0, 1, 2, 3, 7, 8, 63, 64, 65, 255, 256, 4096, 65535, 65536, 1 << 20, (1 << 24) - 1,
            1 << 24, (1 << 24) + 1, (1 << 31) - 1, 1 << 31, 1 << 32, 1 << 40, 1 << 62,
            (1 << 63) - 1, 1 << 63, (1 << 64) - 1)  # fmt: skip


# -- seeds ----------------------------------------------------------------------


def jpeg_seeds(rng):
    """Small JPEG files from Pillow: the layouts the reader meets most."""
    from PIL import Image

    y, x = np.mgrid[0:40, 0:48]
    smooth = (128 + 60 * np.sin(x / 5.0) * np.cos(y / 7.0)).astype(np.uint8)
    noisy = np.clip(smooth + rng.normal(0, 25, smooth.shape), 0, 255).astype(np.uint8)
    colour = np.stack([smooth, noisy, 255 - smooth], axis=-1)
    settings = [
        (smooth, {"quality": 75}),
        (noisy, {"quality": 95, "progressive": True}),
        (colour, {"quality": 50, "subsampling": 2}),
        (colour, {"quality": 90, "subsampling": 0, "progressive": True, "optimize": True}),
        (colour, {"quality": 30, "subsampling": 1, "restart_marker_blocks": 2}),
    ]
    seeds = []
    for image, options in settings:
        buffer = io.BytesIO()
        try:
            Image.fromarray(image).save(buffer, "JPEG", **options)
        except (TypeError, ValueError):  # an older Pillow without restart markers
            options.pop("restart_marker_blocks", None)
            buffer = io.BytesIO()
            Image.fromarray(image).save(buffer, "JPEG", **options)
        seeds.append(buffer.getvalue())
    return seeds


def codec_targets():
    """Fitted codecs of every entropy model, and a few of their bitstreams each."""
    from sklearn.pipeline import make_pipeline

    from skcompress import BlockDCT, PerceptualQuantizer, PyramidVQ
    from skcompress.codecs import Codec
    from skcompress.datasets import load_mnist
    from skcompress.entropy import BlockContextModel

    X = load_mnist().images[:60]
    pipe = make_pipeline(BlockDCT(), PerceptualQuantizer(quality=50)).fit(X)
    vectors = np.random.default_rng(0).standard_normal((40, 32))
    pvq = PyramidVQ(vector_size=8, pulses=12).fit(vectors)
    codecs = {
        "codec-categorical": (Codec(pipe, model="categorical").fit(X), X[:4]),
        "codec-context": (Codec(pipe, model=BlockContextModel(positional=False)).fit(X), X[:4]),
        "codec-gain-shape": (Codec(pvq).fit(vectors), vectors[:4]),
    }
    return {name: (codec, codec.compress(data)) for name, (codec, data) in codecs.items()}


def learned_targets():
    """The learned codecs at their test settings, fitted on small random signals."""
    from skcompress.learned import BalleCodec, LearnedWaveletCodec, SoundStreamCodec

    rng = np.random.default_rng(0)
    images = rng.uniform(0, 255, (8, 16, 16)).astype(np.float32)
    audio = rng.standard_normal((6, 40)).astype(np.float32)
    out = {}
    for name, cls, X in (
        ("learned-balle", BalleCodec, images),
        ("learned-wavelet", LearnedWaveletCodec, images),
        ("learned-soundstream", SoundStreamCodec, audio),
    ):
        params = (getattr(cls, "get_test_params", None) or cls._get_test_params)()[0]
        codec = cls(**params).fit(X)
        out[name] = (codec, codec.compress(X[:3]))
    return out


def whole_targets():
    """Whole codecs that write their own streams (a body and its CRC-32), and a few streams."""
    from skcompress import CELTCodec, HEVCIntraCodec, JPEG2000Codec, MP3Codec
    from skcompress.datasets import load_photographs, load_spoken_digits

    photos = load_photographs(size=64, color=True).images[:4]
    jpeg2000 = JPEG2000Codec(1.0, levels=3, code_block=16).fit(photos)
    hevc = HEVCIntraCodec(32, ctu_size=32).fit(photos)
    speech = load_spoken_digits().data[:30]
    celt = CELTCodec(12.0, full_scale=32768).fit(speech)
    mp3 = MP3Codec(12.0, full_scale=32768).fit(speech)
    return {
        "whole-celt": (celt, celt.compress(speech[:4])),
        "whole-mp3": (mp3, mp3.compress(speech[:4])),
        "whole-jpeg2000": (jpeg2000, jpeg2000.compress(photos)),
        "whole-hevc": (hevc, hevc.compress(photos)),
    }


# -- how the bytes of each target are laid out ---------------------------------------


def _inner(target, codec, data):
    """``(prefix, model)``: the bytes before a target's entropy-coded bitstream, its model."""
    if target.startswith("codec-"):
        return b"", codec.model_
    from skcompress.entropy._coder import read_varint

    if target == "learned-soundstream":
        return data[:1], codec.entropy_models_[data[0] - 1]
    at = 0
    for _ in range(codec.n_spatial_dims_):
        at = read_varint(data, at, "fuzz")[1]
    model = getattr(codec, "context_model_", None)
    if target == "learned-balle" or getattr(codec, "entropy_coder", "") == "factorized":
        model = codec.entropy_model_
    return data[:at], model


def _latent_fields(target, codec, model, size):
    """The entropy coder's header fields of a learned image codec's latents of a signal of
    ``size``: what a forger writes to make a size prefix and a header agree."""
    try:
        grid = codec._grid(tuple(size))
        if model is getattr(codec, "context_model_", None):
            shape = codec._blocks(np.zeros((0, codec.n_latents, *grid), np.int32)).shape[1:]
            return model._header_fields(tuple(shape))
        return [int(np.prod(grid)) * codec.n_latents]
    except (AttributeError, TypeError, ValueError):  # internals changed: a plain prefix
        return None


def _fields(model, body):
    """Header fields and payload of a valid bitstream of ``model``."""
    from skcompress.entropy import _coder

    return _coder.unpack(body, model._kind, model._n_fields, model.fingerprint_, "fuzz")


def _reseal(model, fields, payload):
    from skcompress.entropy import _coder

    return _coder.pack(model._kind, fields, payload, model.fingerprint_)


# -- mutations ------------------------------------------------------------------------


def mutate_bytes(data, rng, family, other):
    """One generic mutation of ``data`` (``other``: another input, for ``splice``)."""
    data = bytearray(data)
    n = len(data)
    if family == "truncate":
        return bytes(data[: int(rng.integers(n))]) if n else b""
    if family == "flip" and n:
        for _ in range(int(rng.integers(1, 5))):
            data[int(rng.integers(n))] ^= 1 << int(rng.integers(8))
        return bytes(data)
    if family == "overwrite" and n:
        for _ in range(int(rng.integers(1, 5))):
            value = int(rng.choice([rng.integers(256), 0x00, 0xFF, 0x7F, 0x80]))
            data[int(rng.integers(n))] = value
        return bytes(data)
    if family == "insert":
        at = int(rng.integers(n + 1))
        extra = rng.integers(256, size=int(rng.integers(1, 9)), dtype=np.uint8).tobytes()
        return bytes(data[:at]) + extra + bytes(data[at:])
    if family == "delete" and n:
        at, k = int(rng.integers(n)), int(rng.integers(1, 9))
        return bytes(data[:at] + data[at + k :])
    if family == "splice":
        return bytes(data[: int(rng.integers(n + 1))]) + other[int(rng.integers(len(other) + 1)) :]
    return bytes(data) + rng.integers(256, size=int(rng.integers(1, 17)), dtype=np.uint8).tobytes()


def _boundary(rng, value):
    choices = [*BOUNDARY, value + 1, max(value - 1, 0), 2 * value, value // 2, value << 8]
    return int(choices[int(rng.integers(len(choices)))])


def mutate_whole(data, rng, family, other, seed=0):
    """A mutation of a whole codec's stream: its body, then its CRC-32 (little-endian)
    started from ``seed`` (a codec's public fingerprint, or 0)."""
    import zlib

    from skcompress.entropy._coder import read_varint, varint

    if family in GENERIC:
        return mutate_bytes(data, rng, family, other)
    body = data[:-4]
    if family == "reseal-field":
        values, at = [], 1  # the format byte, then the header's varints
        try:
            while len(values) < 6:
                value, at = read_varint(body, at, "fuzz")
                values.append(value)
        except ValueError:
            pass
        if values:
            i = int(rng.integers(len(values)))
            values[i] = _boundary(rng, values[i])
            body = body[:1] + b"".join(varint(v) for v in values) + body[at:]
    else:  # reseal-crc: mostly in place, as a forger keeps the lengths the table states
        family = ("flip", "overwrite", "flip", "overwrite", "insert", "delete")[rng.integers(6)]
        body = mutate_bytes(body, rng, family, b"")
    return body + zlib.crc32(body, seed).to_bytes(4, "little")


def mutate_bitstream(target, codec, data, rng, family, other):
    """A mutation of one bitstream of a codec target (resealed where the family says)."""
    from skcompress.entropy._coder import read_varint, varint

    if target in WHOLE_TARGETS:
        seed = getattr(codec, "_fingerprint", 0) & 0xFFFFFFFF
        return mutate_whole(data, rng, family, other, seed)
    if family in GENERIC:
        return mutate_bytes(data, rng, family, other)
    prefix, model = _inner(target, codec, data)
    fields, payload = _fields(model, data[len(prefix) :])
    if family == "reseal-payload":
        payload = mutate_bytes(payload, rng, GENERIC[int(rng.integers(len(GENERIC) - 1))], b"")
    elif family == "reseal-header":
        fields = list(fields)
        i = int(rng.integers(len(fields)))
        fields[i] = _boundary(rng, fields[i])
        if rng.random() < 0.3:
            payload = mutate_bytes(payload, rng, "flip", b"")
    elif family == "reseal-size" and prefix and target != "learned-soundstream":
        size = [int(rng.choice(SIZES)) for _ in range(codec.n_spatial_dims_)]
        fields = _latent_fields(target, codec, model, size) or fields
        prefix = b"".join(varint(v) for v in size)
    elif family == "prefix" and prefix:
        if target == "learned-soundstream":
            prefix = bytes([int(rng.integers(256))])
        else:
            values, at = [], 0
            while at < len(prefix):
                value, at = read_varint(prefix, at, "fuzz")
                values.append(value)
            i = int(rng.integers(len(values)))
            values[i] = _boundary(rng, values[i])
            prefix = b"".join(varint(v) for v in values)
    return prefix + _reseal(model, fields, payload)


def jpeg_segments(data):
    """``[(marker, start, end)]`` of a JPEG file's marker segments (SOS: header and data)."""
    out, at = [], 2
    while at + 4 <= len(data) and data[at] == 0xFF:
        marker = data[at + 1]
        if marker == 0xD9:
            break
        end = at + 2 + int.from_bytes(data[at + 2 : at + 4], "big")
        if marker == 0xDA:  # the entropy-coded data runs to the next marker but RSTn
            while end + 1 < len(data) and not (
                data[end] == 0xFF and data[end + 1] not in (0x00, *range(0xD0, 0xD8))
            ):
                end += 1
        out.append((marker, at, min(end, len(data))))
        at = end
    return out


def mutate_jpeg(data, rng, family, other):
    """A mutation of a JPEG file, generic or aware of its segments."""
    if family in GENERIC:
        return mutate_bytes(data, rng, family, other)
    segments = jpeg_segments(data)
    data = bytearray(data)
    frames = [s for s in segments if s[0] in (0xC0, 0xC1, 0xC2)]
    if family == "jpeg-dims" and frames:
        _, at, _ = frames[0]
        field = at + 5 + 2 * int(rng.integers(2))  # height, then width
        value = int(rng.choice([0, 1, 7, 9, 4096, 16384, 32767, 65535, int(rng.integers(65536))]))
        data[field : field + 2] = value.to_bytes(2, "big")
    elif family == "jpeg-length" and segments:
        _, at, _ = segments[int(rng.integers(len(segments)))]
        value = int(rng.choice([0, 1, 2, 3, 0xFFFF, int(rng.integers(65536))]))
        data[at + 2 : at + 4] = value.to_bytes(2, "big")
    elif family == "jpeg-table":
        tables = [s for s in segments if s[0] in (0xDB, 0xC4)]
        if tables:
            marker, at, end = tables[int(rng.integers(len(tables)))]
            if marker == 0xDB:
                data[at + 5 : end] = bytes(end - at - 5)  # every step 0
            else:
                count = at + 5 + int(rng.integers(16))  # one of the 16 code-length counts
                data[count] = int(rng.choice([0, 1, 255, int(rng.integers(256))]))
    elif family == "jpeg-components" and frames:
        _, at, end = frames[0]
        if rng.random() < 0.5:
            data[at + 9] = int(rng.choice([0, 1, 2, 3, 4, 255]))  # number of components
        else:
            factor = at + 11 + 3 * int(rng.integers(max((end - at - 10) // 3, 1)))
            if factor < end:
                data[factor] = int(rng.choice([0x00, 0x11, 0x22, 0x41, 0x14, 0x44, 0xFF]))
    elif family == "jpeg-repeat" and segments:
        _, at, end = segments[int(rng.integers(len(segments)))]
        times = int(rng.choice([2, 10, 100, 1000]))
        data[end:end] = bytes(data[at:end]) * times
    return bytes(data)


# -- the workers --------------------------------------------------------------------------


def _decoder(target, obj):
    """The call a worker makes on each input, and the shape a clean decode must have."""
    if target in JPEG_TARGETS:
        from skcompress.io import read_jpeg_coefficients

        strict = target == "jpeg-strict"
        return lambda data: read_jpeg_coefficients(data, strict=strict), None
    shape = getattr(obj, "signal_shape_", None) if target.startswith("codec-") else None
    return lambda data: obj.decompress([data]), shape


def _classify(error):
    if isinstance(error, MemoryError) or (
        isinstance(error, RuntimeError) and "alloc" in str(error).lower()
    ):
        return "memory"
    if isinstance(error, ValueError):
        return "ValueError"
    if isinstance(error, TypeError):
        return "TypeError"
    return "other"


def limit_memory(mib):
    """RLIMIT_AS at what the process maps now plus ``mib`` MiB (0: no limit)."""
    import resource

    if not mib:
        return
    size = next(line for line in open("/proc/self/status") if line.startswith("VmSize:"))
    limit = int(size.split()[1]) * 1024 + mib * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def worker(spec_path, memory_mib):
    """Decode the inputs that arrive on stdin (``target base64`` a line); one JSON line each."""
    reply = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # whatever a library prints goes to the log, not into the replies
    with open(spec_path, "rb") as f:
        subjects = pickle.load(f)
    if any(t.startswith("learned-") for t in subjects):
        import torch

        torch.set_num_threads(1)
    decoders = {target: _decoder(target, obj) for target, obj in subjects.items()}
    limit_memory(memory_mib)
    reply.write("ready\n")
    for line in sys.stdin:
        target, _, encoded = line.strip().partition(" ")
        decode, shape = decoders[target]
        data = base64.b64decode(encoded)
        start = time.perf_counter()
        detail = ""
        try:
            out = decode(data)
            outcome = "decoded"
            got = np.shape(out)[1:] if shape is not None else None
            if shape is not None and tuple(got) != tuple(shape):
                outcome, detail = "other", f"decoded to shape {got}, not {shape}"
        except BaseException as error:  # noqa: BLE001 (the outcome is what is measured)
            if isinstance(error, KeyboardInterrupt):
                raise
            outcome = _classify(error)
            detail = f"{type(error).__name__}: {error}"[:400]
        seconds = time.perf_counter() - start
        reply.write(json.dumps({"outcome": outcome, "detail": detail, "seconds": seconds}) + "\n")


class Worker:
    """The worker process that decodes every input, restarted after a crash or a timeout."""

    def __init__(self, spec_path, memory_mib, log_dir):
        self.spec_path, self.memory_mib, self.log_dir = spec_path, memory_mib, log_dir
        self.process, self.starts = None, 0

    def _start(self):
        self.starts += 1
        self.log = Path(self.log_dir) / f"worker-{self.starts}.log"
        command = [sys.executable, __file__, "--worker", self.spec_path, str(self.memory_mib)]
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log
            )
        line = self._readline(300)
        if line != "ready":
            self.stop()
            raise RuntimeError(f"the fuzzing worker did not start: {self._log_tail()}")

    def _readline(self, timeout):
        """A line from the worker, None at a timeout, "" when it died."""
        buffer, fd = b"", self.process.stdout.fileno()
        deadline = time.monotonic() + timeout
        while not buffer.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return None
            chunk = os.read(fd, 65536)
            if not chunk:
                return ""
            buffer += chunk
        return buffer.decode().strip()

    def _log_tail(self, lines=8):
        try:
            text = self.log.read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return " | ".join(text[-lines:])[-600:]

    def run(self, target, data, timeout):
        """``(outcome, detail, seconds)`` of one input of ``target``."""
        if self.process is None:
            self._start()
        start = time.perf_counter()
        try:
            self.process.stdin.write(target.encode() + b" " + base64.b64encode(data) + b"\n")
            self.process.stdin.flush()
            line = self._readline(timeout)
        except BrokenPipeError:
            line = ""
        seconds = time.perf_counter() - start
        if line:
            reply = json.loads(line)
            return reply["outcome"], reply["detail"], reply["seconds"]
        if line is None:
            self.stop()
            return "timeout", f"no answer in {timeout:g} s", seconds
        code = self.process.wait()
        self.process = None
        if code == -signal.SIGKILL:
            return "memory", f"killed (SIGKILL, out of memory?); log {self.log}", seconds
        why = f"signal {signal.Signals(-code).name}" if code < 0 else f"exit status {code}"
        return "crash", f"{why}: {self._log_tail()} (log {self.log})", seconds

    def stop(self):
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


# -- the bounds -------------------------------------------------------------------------

#: Bitstreams at and past the defaults' limits: name -> what it is.
BOUNDS = {
    "categorical-limit": "CategoricalEntropyModel: 2**24 values (the default max_values), "
    "a forged 10-byte stream",
    "categorical-past": "CategoricalEntropyModel: 2**24 + 64 values, forged",
    "context-square": "BlockContextModel: 512 x 512 blocks of 64 (2**24 coefficients), "
    "a forged 13-byte stream",
    "context-stages": "BlockContextModel: a 1-D signal of 16,383 blocks of 64 random "
    "coefficients (16,383 stages, the most the default admits), compressed",
    "context-thin": "BlockContextModel: 262,144 x 1 blocks of 64, forged (issue 18: 126 s, 2 GB)",
    "codec-context-thin": "Codec, BlockContextModel(positional=False): the same header",
    "codec-categorical": "Codec, CategoricalEntropyModel: 2**24 values, forged",
    "gain-shape": "GainShapeModel: 2**24 symbols, forged",
}


def _bound_stream(name):
    """The decoder and the bitstream of one case of :data:`BOUNDS` (built, not timed)."""
    from skcompress.entropy import BlockContextModel, CategoricalEntropyModel, _coder

    rng = np.random.default_rng(0)
    if name.startswith("codec-"):
        targets = codec_targets()
        codec = targets[name if name == "codec-categorical" else "codec-context"][0]
        model = codec.model_
        decode = codec.decompress
    elif name.startswith("categorical"):
        model = CategoricalEntropyModel().fit(rng.integers(-3, 4, size=(100, 64)))
        decode = model.decompress
    elif name == "gain-shape":
        codec = codec_targets()["codec-gain-shape"][0]
        model = codec.model_
        decode = model.decompress
    else:
        model = BlockContextModel(positional=False).fit(rng.integers(-3, 4, size=(20, 4, 4, 64)))
        decode = model.decompress
    fields = {
        "categorical-limit": [1 << 24],
        "categorical-past": [(1 << 24) + 64],
        "context-square": [5, 512, 512, 1, 64],
        "context-thin": [4, 262144, 1, 1, 64],
        "codec-context-thin": [5, 262144, 1, 1, 64],
        "codec-categorical": [1 << 24],
        "gain-shape": [1 << 24],
    }.get(name)
    if fields is None:  # context-stages: a real bitstream of random coefficients
        symbols = rng.integers(-2, 3, size=(1, 16383, 64)) * (rng.random((1, 16383, 64)) < 0.3)
        data = model.compress(symbols)[0]
        del symbols
        try:  # what compress freed goes back to the system, so the decoder's peak shows
            import ctypes

            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):
            pass
        return decode, data
    return decode, _coder.pack(model._kind, fields, b"\0", model.fingerprint_)


def bound(name):
    """Decode one case of :data:`BOUNDS`; print its outcome, seconds and peak memory (JSON)."""
    decode, data = _bound_stream(name)

    def status(key):
        line = next(x for x in open("/proc/self/status") if x.startswith(key))
        return int(line.split()[1]) * 1024

    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # resets VmHWM, the peak resident size, to the current size
    before = status("VmRSS:")
    start = time.perf_counter()
    try:
        decode([data])
        outcome = "decoded"
    except ValueError as error:
        outcome = f"ValueError: {error}"
    seconds = time.perf_counter() - start
    peak = (status("VmHWM:") - before) / 2**20
    print(json.dumps({"bytes": len(data), "outcome": outcome, "seconds": seconds, "peak": peak}))


# -- the campaign -------------------------------------------------------------------


def families(target):
    if target in JPEG_TARGETS:
        return GENERIC + (
            "jpeg-dims",
            "jpeg-length",
            "jpeg-table",
            "jpeg-components",
            "jpeg-repeat",
        )
    if target in WHOLE_TARGETS:
        return GENERIC + ("reseal-crc", "reseal-field", "reseal-crc", "reseal-field")
    extra = ("reseal-payload", "reseal-header", "reseal-payload", "reseal-header")
    if target == "learned-soundstream":
        extra += ("prefix",)
    elif target.startswith("learned-"):
        extra += ("prefix", "reseal-size")
    return GENERIC + extra


def campaign(worker_, target, obj, seeds, args, rng, findings):
    """Fuzz one target; the count of every (mutation, outcome) and the decode times."""
    counts, seconds = Counter(), []
    names = families(target)
    for i in range(args.inputs):
        family = names[i % len(names)]
        seed = seeds[int(rng.integers(len(seeds)))]
        other = seeds[int(rng.integers(len(seeds)))]
        if target in JPEG_TARGETS:
            data = mutate_jpeg(seed, rng, family, other)
        else:
            data = mutate_bitstream(target, obj, seed, rng, family, other)
        outcome, detail, took = worker_.run(target, data, args.timeout)
        counts[family, outcome] += 1
        seconds.append(took)
        if outcome not in CLEAN:
            findings.append((target, family, outcome, detail, data))
    return counts, seconds


def main(argv=None):
    if argv is None and len(sys.argv) > 1 and sys.argv[1] == "--worker":
        return worker(sys.argv[2], int(sys.argv[3]))
    if argv is None and len(sys.argv) > 1 and sys.argv[1] == "--bound":
        return bound(sys.argv[2])
    parser = _common.parser(__doc__)
    parser.add_argument("--inputs", type=int, default=None, help="per target (default 2000)")
    parser.add_argument(
        "--targets", default=",".join((*TARGETS, "bounds")), help="comma-separated"
    )
    parser.add_argument("--memory-mib", type=int, default=1024, help="0: no RLIMIT_AS")
    parser.add_argument("--timeout", type=float, default=None, help="seconds per input")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save", metavar="DIR", help="write the findings' inputs here")
    args = parser.parse_args(argv)
    report = _common.Report(__file__, __doc__, args, argv, peers=("PIL", "torch"))
    args.inputs = args.inputs or (40 if args.quick else 2000)
    args.timeout = args.timeout or (5.0 if args.quick else 20.0)
    targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    unknown = sorted(set(targets) - set(TARGETS) - {"bounds"})
    if unknown:
        parser.error(f"unknown targets {unknown}; choose among {', '.join(TARGETS)}")
    rng = np.random.default_rng(args.seed)

    subjects = {}  # target -> (object the worker decodes with, seed inputs)
    if set(targets) & set(JPEG_TARGETS):
        import skcompress.io._jpeg_reader as reader

        path = Path(reader.__file__).resolve()
        root = Path(__file__).resolve().parents[1]
        where = path.relative_to(root) if path.is_relative_to(root) else path
        report.note(f"JPEG reader: {where}")  # a sanitized build in a copy, or this tree's
        seeds = jpeg_seeds(rng)
        subjects.update({t: (None, seeds) for t in JPEG_TARGETS})
    if set(targets) & set(CODEC_TARGETS):
        subjects.update(codec_targets())
    if set(targets) & set(WHOLE_TARGETS):
        subjects.update(whole_targets())
    if set(targets) & set(LEARNED_TARGETS):
        if report.has("torch"):
            subjects.update(learned_targets())
        else:
            report.note("the learned targets need torch: skipped")

    if "bounds" in targets:
        limits = report.table(
            "The largest bitstreams the defaults admit, and the first ones they refuse",
            [
                ("bitstream", "s"),
                ("bytes", "d"),
                ("outcome", "s"),
                ("s", ".3f"),
                ("peak MiB", ".0f"),
            ],
            notes=[
                "each decoded in a fresh process; peak: resident memory above what the "
                "process held before the call (VmHWM); s: the call, the model's fit and "
                "the bitstream's making left out"
            ],
        )
        for name, what in BOUNDS.items():
            reply = json.loads(
                _common.run_in_subprocess([__file__, "--bound", name]).strip().splitlines()[-1]
            )
            outcome = reply["outcome"].split(":")[0]
            if outcome != "decoded":  # the message, less its class and its advice
                message = reply["outcome"].split(": ", 2)[-1].split("; refused")[0]
                outcome += ": " + message.split(" (shape=)")[0]
            limits.add(what, reply["bytes"], outcome, reply["seconds"], reply["peak"])
        report.show(limits)
    per_target = report.table(
        f"Outcomes per target: {args.inputs} mutated inputs each, {args.memory_mib} MiB "
        f"above the imports, {args.timeout:g} s per input",
        [("target", "s"), ("inputs", "d")]
        + [(o, "d") for o in OUTCOMES]
        + [("median ms", ".2f"), ("max ms", ".1f")],
        notes=[
            "decoded, ValueError and TypeError are clean outcomes; any other is a finding",
            "ms: the decoding of one input, in the worker process (restarted after every "
            "crash or timeout)",
        ],
    )
    per_family = report.table(
        "Outcomes per mutation, all targets together",
        [("mutation", "s"), ("inputs", "d")] + [(o, "d") for o in OUTCOMES],
    )
    findings, by_family = [], Counter()
    targets = [t for t in targets if t in subjects]
    with tempfile.TemporaryDirectory(prefix="skcompress-fuzz-") as scratch:
        log_dir = Path(args.save or scratch)  # the workers' logs stay with the findings
        log_dir.mkdir(parents=True, exist_ok=True)
        spec = Path(scratch) / "subjects.pkl"
        spec.write_bytes(pickle.dumps({t: subjects[t][0] for t in targets}))
        worker_ = Worker(str(spec), args.memory_mib, log_dir)
        try:
            for target in targets:
                obj, seeds = subjects[target]
                counts, seconds = campaign(worker_, target, obj, seeds, args, rng, findings)
                totals = Counter()
                for (family, outcome), k in counts.items():
                    totals[outcome] += k
                    by_family[family, outcome] += k
                per_target.add(
                    target,
                    sum(totals.values()),
                    *[totals[o] for o in OUTCOMES],
                    1e3 * float(np.median(seconds)),
                    1e3 * float(np.max(seconds)),
                )
        finally:
            worker_.stop()
    for family in dict.fromkeys(f for f, _ in by_family):
        row = [by_family[family, o] for o in OUTCOMES]
        per_family.add(family, sum(row), *row)
    tables = [per_target, per_family]
    if findings:
        found = report.table(
            "Findings (the first 3 of each target and outcome)",
            [("target", "s"), ("mutation", "s"), ("outcome", "s"), ("detail", "s")],
        )
        tables.append(found)
        shown = Counter()
        for target, family, outcome, detail, _ in findings:
            shown[target, outcome] += 1
            if shown[target, outcome] <= 3:
                found.add(target, family, outcome, " ".join(detail.split())[:300])
    else:
        report.note(
            "no findings: every input decoded or was refused with a ValueError or TypeError"
        )
    if args.save and findings:
        directory = Path(args.save)
        directory.mkdir(parents=True, exist_ok=True)
        for i, (target, family, outcome, _, data) in enumerate(findings):
            (directory / f"{target}-{i}-{family}-{outcome}.bin").write_bytes(data)
        report.note(f"{len(findings)} findings' inputs written to {directory}")
    for table in tables:
        report.show(table)
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())
