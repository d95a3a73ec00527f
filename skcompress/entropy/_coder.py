"""Range coding plumbing shared by every entropy model: streams, escapes, bitstreams.

Why a range coder
-----------------
Symbols are coded with ``constriction``'s range coder
(:class:`constriction.stream.queue.RangeEncoder`), not its ANS coder
(:class:`constriction.stream.stack.AnsCoder`). Both reach the ideal code
length to a small fraction of a bit per symbol and run at similar speed here,
but two properties decide for the range coder:

* it is a queue: symbols are decoded in the order they were encoded, so a
  context model that conditions on already decoded symbols encodes in the same
  order it decodes (an ANS stack would need every stream encoded backwards);
* its termination costs less. One bitstream per sample means one termination
  per sample; measured on random streams, ANS spends about 35 bits more than
  the information content and the range coder about 17, both rounding up to
  32-bit words. Reading the range coder's final interval (``pos()``) and
  writing the shortest byte string inside it cuts this to about 4 bits.

Vectorization
-------------
Contexts, tokens, probability rows and escapes are computed for the whole
batch with numpy. What remains a Python loop is the coder calls: one
bitstream per sample means one constriction coder per sample, each given its
sample's symbols in as few calls as the model allows (one or a few per
sample to encode; one or a few per sample and wavefront stage to decode).

Bitstream layout
----------------
``[version << 4 | kind] [varint fields ...] [payload] [CRC-32, 4 bytes]``.
The fields give the shape of what the stream holds; the CRC-32 covers the
model's fingerprint and every byte before it, so a truncated or corrupted
stream, or one written by another model, is refused with a ValueError before
anything is decoded. The CRC-32 detects accidents, not forgery (a fitted
model's fingerprint is public): what bounds the cost of a forged stream is
the check of its fields against the expected shape and ``max_values``
(:data:`MAX_VALUES` by default), made before anything is allocated, and
decoders whose memory is linear in the declared size (probability rows are
built :data:`_ROWS` at a time).
"""

import zlib

import constriction
import numpy as np

VERSION = 1
#: Kinds of bitstream (low 4 bits of the first byte).
KIND_CATEGORICAL, KIND_CONTEXT, KIND_PYRAMID = 1, 2, 3
#: The whole codecs that use this container for their own payloads.
KIND_HEVC, KIND_CELT, KIND_MP3 = 9, 12, 13
#: Most values one bitstream may declare by default: bounds the work a header can ask for.
MAX_VALUES = 1 << 24  # a 4096 x 4096 gray image
#: Probability rows built at once: bounds the memory of coding a long stream.
_ROWS = 1 << 16

_CATEGORICAL = constriction.stream.model.Categorical(perfect=False)
_UNIFORM = constriction.stream.model.Uniform()
# Elias-gamma prefix: n = floor(log2 m) costs n + 1 bits, as the estimate counts.
_GAMMA_PREFIX = constriction.stream.model.Categorical(
    np.ldexp(1.0, -np.arange(1, 65)).astype(np.float32), perfect=False
)
#: Families of symbols in a stream: categorical tables are 0, 1, ...; these follow.
GAMMA, UNIFORM = -1, -2
_CHUNK = 16  # raw bits go through Uniform(2**16) at most


def uniform_chunks(bits):
    """Chunk sizes, in bits, that carry ``bits`` raw bits: ``_CHUNK`` at most each.

    Parameters
    ----------
    bits : ndarray of int
        Raw bits of every value.

    Returns
    -------
    owner : ndarray of intp
        For every chunk, the value it belongs to (chunks of a value are
        consecutive, least significant first).
    shift, width : ndarray of int64
        Bit offset and width of every chunk.
    """
    bits = np.asarray(bits, dtype=np.int64)
    count = -(-bits // _CHUNK)
    owner = np.repeat(np.arange(len(bits)), count)
    first = np.cumsum(count) - count
    index = np.arange(len(owner)) - np.repeat(first, count)
    shift = index * _CHUNK
    width = np.minimum(bits[owner] - shift, _CHUNK)
    return owner, shift, width


def gamma_parts(magnitude):
    """Elias-gamma pieces of ``magnitude + 1``: prefix ``n`` and ``n`` mantissa bits.

    Parameters
    ----------
    magnitude : ndarray of uint64
        Values ``>= 0`` (at most ``2**64 - 2``).

    Returns
    -------
    prefix : ndarray of int32
        ``n = floor(log2(magnitude + 1))``.
    mantissa : ndarray of uint64
        ``magnitude + 1 - 2**n``.
    """
    m = np.asarray(magnitude, dtype=np.uint64) + np.uint64(1)
    prefix = np.zeros(m.shape, dtype=np.int32)
    rest = m.copy()
    for step in (32, 16, 8, 4, 2, 1):  # bit length by halving, exact on uint64
        big = rest >= (np.uint64(1) << np.uint64(step))
        prefix[big] += step
        rest[big] >>= np.uint64(step)
    mantissa = m - (np.uint64(1) << prefix.astype(np.uint64))
    return prefix, mantissa


def gamma_value(prefix, mantissa):
    """Inverse of :func:`gamma_parts`: the magnitude (uint64)."""
    return (np.uint64(1) << np.asarray(prefix, dtype=np.uint64)) + mantissa - np.uint64(1)


class StreamPlan:
    """Symbols of many bitstreams in coding order, written with as few coder calls as possible.

    Every symbol has a stream (sample), a family (a categorical table index
    ``>= 0``, :data:`GAMMA` or :data:`UNIFORM`), a value and a parameter (a row
    of its table, or the size of its uniform alphabet). ``add`` takes them in
    any order with a sort key; ``encode`` sorts by ``(stream, key)`` and codes
    each run of one family with a single constriction call.
    """

    def __init__(self, n_streams):
        self.n_streams = n_streams
        self._parts = []

    def add(self, stream, key, family, value, param):
        """Queue symbols; ``key`` (int64) orders them within their stream.

        The five arguments broadcast together; ``value`` is the symbol.
        """
        arrays = np.broadcast_arrays(stream, key, family, value, param)
        if arrays[0].size:
            self._parts.append(tuple(np.asarray(a, dtype=np.int64).ravel() for a in arrays))

    def encode(self, tables):
        """One payload (bytes) per stream; ``tables[f]`` holds the rows of family ``f``."""
        payloads = [b""] * self.n_streams
        if not self._parts:
            return payloads
        stream, key, family, value, param = (
            np.concatenate(p) for p in zip(*self._parts, strict=True)
        )
        if self.n_streams < (1 << 23) and key.max() < (1 << 40):
            # one stable radix sort on (stream, key) packed into an int64
            order = np.argsort(stream << 40 | key, kind="stable")
        else:
            order = np.lexsort((key, stream))
        stream, family = stream[order], family[order]
        value, param = value[order].astype(np.int32), param[order]
        cut = np.flatnonzero((np.diff(stream) != 0) | (np.diff(family) != 0)) + 1
        starts = np.concatenate([[0], cut]).tolist()
        stops = np.concatenate([cut, [len(stream)]]).tolist()
        encoder, current = None, -1
        for start, stop in zip(starts, stops, strict=True):
            s = int(stream[start])
            if s != current:
                if encoder is not None:
                    payloads[current] = seal(encoder)
                encoder, current = constriction.stream.queue.RangeEncoder(), s
            encode_run(encoder, int(family[start]), value[start:stop], param[start:stop], tables)
        payloads[current] = seal(encoder)
        return payloads


def escape_symbols(magnitude, negative=None):
    """Symbols of the Elias-gamma code of ``magnitude + 1`` (and a sign bit each).

    Parameters
    ----------
    magnitude : ndarray of uint64, shape (E,)
    negative : ndarray of bool, shape (E,), or None
        Signs to append, one uniform bit after each value's mantissa.

    Returns
    -------
    prefix : ndarray of int32, shape (E,)
        Gamma prefixes, coded first (family :data:`GAMMA`).
    value, size : ndarray of int64, shape (U,)
        Then the uniform symbols (family :data:`UNIFORM`): each value's
        mantissa chunks, least significant first, then its sign.
    owner : ndarray of intp, shape (U,)
        The escaped value each uniform symbol belongs to.
    """
    prefix, mantissa = gamma_parts(magnitude)
    owner, shift, width = uniform_chunks(prefix)
    mask = (np.uint64(1) << width.astype(np.uint64)) - np.uint64(1)
    chunk = ((mantissa[owner] >> shift.astype(np.uint64)) & mask).astype(np.int64)
    size = np.int64(1) << width
    if negative is not None:
        owner = np.concatenate([owner, np.arange(len(prefix))])
        chunk = np.concatenate([chunk, np.asarray(negative, dtype=np.int64)])
        size = np.concatenate([size, np.full(len(prefix), 2, dtype=np.int64)])
        order = np.argsort(owner, kind="stable")  # chunks of a value, then its sign
        owner, chunk, size = owner[order], chunk[order], size[order]
    return prefix, chunk, size, owner


def read_escapes(reader, count, signed):
    """Decode ``count`` values written as :func:`escape_symbols` wrote them.

    Returns
    -------
    magnitude : ndarray of uint64
    negative : ndarray of bool or None
    """
    prefix = reader.gamma(count)
    owner, shift, width = uniform_chunks(prefix)
    size = np.int64(1) << width
    is_sign = np.zeros(len(owner), dtype=bool)
    if signed:
        owner = np.concatenate([owner, np.arange(count)])
        size = np.concatenate([size, np.full(count, 2, dtype=np.int64)])
        is_sign = np.concatenate([is_sign, np.ones(count, dtype=bool)])
        shift = np.concatenate([shift, np.zeros(count, dtype=np.int64)])
        order = np.argsort(owner, kind="stable")
        owner, size, is_sign, shift = owner[order], size[order], is_sign[order], shift[order]
    decoded = reader.uniform(size).astype(np.uint64)
    mantissa = np.zeros(count, dtype=np.uint64)
    chunk = ~is_sign
    np.add.at(mantissa, owner[chunk], decoded[chunk] << shift[chunk].astype(np.uint64))
    negative = None
    if signed:
        negative = np.zeros(count, dtype=bool)
        negative[owner[is_sign]] = decoded[is_sign].astype(bool)
    return gamma_value(prefix, mantissa), negative


def periodic_pieces(rows, count):
    """Pieces ``(start, stop, rows)`` of ``count`` symbols whose rows repeat ``rows``.

    Symbol ``i`` is coded under ``rows[i % len(rows)]`` (``count`` a multiple
    of ``len(rows)``); each piece holds whole periods and about :data:`_ROWS`
    rows at most (one period if longer), so a long stream never builds a row
    per symbol at once. The pieces share one tiled array.
    """
    p = len(rows)
    if count == 0 or p == 0:
        return []
    per = max(1, _ROWS // p) * p
    tiled = np.tile(rows, (min(per, count) // p, 1)) if count > p else rows
    return [
        (a, min(a + per, count), tiled[: min(a + per, count) - a]) for a in range(0, count, per)
    ]


def encode_streams(n_streams, segments, escapes=None, tail=None):
    """Code streams whose categorical symbols share rows: the fast path of fixed layouts.

    Parameters
    ----------
    n_streams : int
    segments : list of (values, rows)
        ``values`` is an int32 array ``(n_streams, k)``, coded row by row under
        ``rows`` ``(p, width)`` float32, the same for every stream and
        repeated every ``p`` values (``k`` a multiple of ``p``).
    escapes : tuple or None
        ``(stream, prefix, value, size, owner)`` from :func:`escape_symbols`
        with each escaped value's stream, sorted by stream; coded after the
        segments.
    tail : tuple or None
        ``(stream, value, size)``, uniform symbols sorted by stream, coded last.

    Returns
    -------
    payloads : list of bytes
    """
    if escapes is not None:
        stream, prefix, value, size, owner = escapes
        at = np.searchsorted(stream, np.arange(n_streams + 1)).tolist()
        uat = np.searchsorted(stream[owner], np.arange(n_streams + 1)).tolist()
        prefix = prefix.astype(np.int32)
        value, size = value.astype(np.int32), size.astype(np.int32)
    if tail is not None:
        tstream, tvalue, tsize = tail
        tat = np.searchsorted(tstream, np.arange(n_streams + 1)).tolist()
        tvalue, tsize = tvalue.astype(np.int32), tsize.astype(np.int32)
    segments = [
        (np.ascontiguousarray(v, dtype=np.int32), periodic_pieces(r, v.shape[1]))
        for v, r in segments
        if len(r)
    ]
    payloads = []
    for i in range(n_streams):
        encoder = constriction.stream.queue.RangeEncoder()
        for values, pieces in segments:
            for a, b, rows in pieces:
                encoder.encode(values[i, a:b], _CATEGORICAL, rows)
        if escapes is not None and at[i] < at[i + 1]:
            encoder.encode(prefix[at[i] : at[i + 1]], _GAMMA_PREFIX)
            encoder.encode(value[uat[i] : uat[i + 1]], _UNIFORM, size[uat[i] : uat[i + 1]])
        if tail is not None and tat[i] < tat[i + 1]:
            encoder.encode(tvalue[tat[i] : tat[i + 1]], _UNIFORM, tsize[tat[i] : tat[i + 1]])
        payloads.append(seal(encoder))
    return payloads


def encode_run(encoder, family, value, param, tables):
    """Code one run of symbols of one family."""
    if family >= 0:
        for a in range(0, len(value), _ROWS):
            encoder.encode(
                value[a : a + _ROWS], _CATEGORICAL, tables[family][param[a : a + _ROWS]]
            )
    elif family == GAMMA:
        encoder.encode(value, _GAMMA_PREFIX)
    else:
        encoder.encode(value, _UNIFORM, param.astype(np.int32))


class Reader:
    """Decoding side of one payload, with the same three families as :class:`StreamPlan`."""

    def __init__(self, payload):
        padded = payload + b"\0" * (-len(payload) % 4)
        words = np.frombuffer(padded, dtype=">u4").astype(np.uint32)
        self._decoder = constriction.stream.queue.RangeDecoder(words)

    def categorical(self, rows):
        """Decode ``len(rows)`` symbols, symbol ``i`` under probabilities ``rows[i]``."""
        if len(rows) == 0:
            return np.zeros(0, dtype=np.int64)
        return self._call(_CATEGORICAL, rows)

    def gamma(self, count):
        """Decode ``count`` Elias-gamma prefixes."""
        if count == 0:
            return np.zeros(0, dtype=np.int64)
        return self._call(_GAMMA_PREFIX, int(count))

    def uniform(self, sizes):
        """Decode one symbol per entry of ``sizes``, uniform over ``[0, size)``."""
        if len(sizes) == 0:
            return np.zeros(0, dtype=np.int64)
        return self._call(_UNIFORM, np.asarray(sizes, dtype=np.int32))

    def _call(self, model, arg):
        try:
            return self._decoder.decode(model, arg).astype(np.int64)
        except Exception as error:  # constriction asserts on data no model can yield
            raise ValueError(f"bitstream payload does not decode: {error}") from None


def decode_rows(readers, table, index, counts):
    """Decode symbols of several streams, symbol ``j`` under the row ``table[index[j]]``.

    The first ``counts[0]`` symbols come from ``readers[0]``, the next
    ``counts[1]`` from ``readers[1]``... The rows are gathered
    :data:`_ROWS` at a time, so memory stays bounded however many symbols
    are decoded.
    """
    bounds = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    out = np.empty(len(index), dtype=np.int64)
    for start in range(0, len(index), _ROWS):
        stop = min(start + _ROWS, len(index))
        rows = table[index[start:stop]]
        first = int(np.searchsorted(bounds, start, side="right")) - 1
        last = int(np.searchsorted(bounds, stop, side="left"))
        cuts = np.clip(bounds[first : last + 1], start, stop).tolist()
        for i, a, b in zip(range(first, last), cuts[:-1], cuts[1:], strict=True):
            if b > a:
                out[a:b] = readers[i].categorical(rows[a - start : b - start])
    return out


def seal(encoder):
    """The encoder's words, ended by the shortest byte string inside its final interval.

    constriction's own termination writes a whole 32-bit word; any point of
    the final interval ``[lower, lower + range)`` decodes the same symbols, and
    the decoder reads missing trailing bytes as zeros, so the point with the
    most trailing zero bits is written and those zeros dropped. This reads the
    coder's state through ``pos()``; should a constriction release change what
    it means, :func:`_short_seal_works` notices once and whole words are
    written instead (still decodable, a little longer).
    """
    if not _short_seal_works():
        return encoder.get_compressed().astype(">u4").tobytes()
    return _short_seal(encoder)


def _short_seal(encoder):
    position, (lower, extent) = encoder.pos()
    words = encoder.get_compressed()[:position]
    high = min(lower + extent - 1, (1 << 64) - 1)
    # Above the highest bit where they differ, lower and high agree; clearing
    # the bits below it (or it too, when lower allows) stays in the interval.
    shift = (high ^ lower).bit_length()
    if (high >> shift) << shift < lower:
        shift -= 1
    point = (high >> shift) << shift if shift > 0 else high
    tail = point.to_bytes(8, "big")
    return (words.astype(">u4").tobytes() + tail).rstrip(b"\0")


_SEAL_CHECK = []


def _short_seal_works():
    """Whether short seals decode exactly with this constriction (checked once)."""
    if not _SEAL_CHECK:
        rng = np.random.default_rng(12345)
        ok = True
        for n in (0, 1, 7, 100, 1000):
            rows = rng.dirichlet(np.full(9, 0.3), size=n).astype(np.float32) + 1e-4
            symbols = np.array([rng.choice(9, p=r / r.sum()) for r in rows], dtype=np.int32)
            encoder = constriction.stream.queue.RangeEncoder()
            if n:
                encoder.encode(symbols, _CATEGORICAL, rows)
            try:
                ok &= bool(np.array_equal(Reader(_short_seal(encoder)).categorical(rows), symbols))
            except ValueError:
                ok = False
        _SEAL_CHECK.append(ok)
    return _SEAL_CHECK[0]


# -- bitstream container ---------------------------------------------------


def varint(value):
    """``value`` (an int >= 0) as a LEB128 varint: 7 bits a byte, low bits first."""
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def pack(kind, fields, payload, fingerprint):
    """A bitstream: header byte, varint ``fields``, ``payload``, CRC-32 trailer."""
    body = bytes([VERSION << 4 | kind]) + b"".join(varint(int(f)) for f in fields) + payload
    crc = zlib.crc32(body, fingerprint & 0xFFFFFFFF)
    return body + crc.to_bytes(4, "little")


def unpack(data, kind, n_fields, fingerprint, name):
    """Check a bitstream from :func:`pack` and return ``(fields, payload)``.

    Raises
    ------
    TypeError
        If ``data`` is not bytes.
    ValueError
        If the stream is too short, fails its checksum (corrupted, truncated,
        or written by another model) or is of another kind.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"{name} expects bitstreams as bytes; got {type(data).__name__}.")
    data = bytes(data)
    if len(data) < 6:
        raise ValueError(
            f"{name}: a bitstream has at least 6 bytes (header and checksum); got {len(data)}."
        )
    body, crc = data[:-4], int.from_bytes(data[-4:], "little")
    if zlib.crc32(body, fingerprint & 0xFFFFFFFF) != crc:
        raise ValueError(
            f"{name}: checksum mismatch in a bitstream of {len(data)} bytes: it is corrupted "
            "or truncated, or was written by a different model than this one."
        )
    if body[0] != (VERSION << 4 | kind):
        raise ValueError(
            f"{name}: bitstream header byte {body[0]:#04x}, expected {VERSION << 4 | kind:#04x} "
            f"(format version {VERSION}, kind {kind})."
        )
    fields, at = [], 1
    for _ in range(n_fields):
        value, at = read_varint(body, at, name)
        fields.append(value)
    return fields, body[at:]


def read_varint(data, at, name):
    """The :func:`varint` at ``data[at]``, and the position after it.

    At most 64 bits: a longer or cut-short varint is a ValueError naming ``name``.
    """
    value, shift = 0, 0
    while True:
        if at >= len(data) or shift > 63:
            raise ValueError(f"{name}: bitstream header is cut short.")
        byte = data[at]
        value |= (byte & 0x7F) << shift
        at, shift = at + 1, shift + 7
        if not byte & 0x80:
            return value, at


def header_bits(kind, fields):
    """Bits that :func:`pack` spends besides the payload."""
    return 8 * (1 + sum(len(varint(int(f))) for f in fields) + 4)


def fingerprint(*arrays):
    """CRC-32 of the arrays' bytes: ties bitstreams to the model that wrote them."""
    crc = 0
    for a in arrays:
        a = np.ascontiguousarray(a)
        crc = zlib.crc32(str((a.dtype.str, a.shape)).encode() + a.tobytes(), crc)
    return crc


def index_digits(size):
    """Uniform alphabets that carry an index in ``[0, size)``, most significant first.

    An index below ``2**16`` is one uniform symbol; a larger one is its top
    16 bits, uniform over ``((size - 1) >> s) + 1`` values, then ``s`` raw
    bits in chunks of 16, as CELT's ``ec_enc_uint`` splits it. The cost is
    ``log2(size)`` bits to within ``2**-15`` relative.

    Parameters
    ----------
    size : int
        Number of possible indices (a Python int, however large).

    Returns
    -------
    sizes : list of int
        Alphabet of every digit (empty for ``size <= 1``).
    shifts : list of int
        Bit offset of every digit in the index.
    """
    if size <= 1:
        return [], []
    bits = (size - 1).bit_length()
    if bits <= _CHUNK:
        return [size], [0]
    s = bits - _CHUNK
    sizes, shifts = [((size - 1) >> s) + 1], [s]
    while s > 0:
        width = min(s, _CHUNK)
        s -= width
        sizes.append(1 << width)
        shifts.append(s)
    return sizes, shifts
