"""JPEG files written marker by marker, for the reader's hostile and unusual cases.

Pillow writes only what libjpeg's defaults allow (luma with the largest sampling
factors, libjpeg's scan scripts); these helpers write the rest: any sampling
factors, any scan script, headers without data, redefined tables. The entropy
coding is the simplest valid one: Huffman tables of our own, DC values of our
choice and zero AC coefficients (every block ends at once), so the expected
coefficients are known exactly.
"""

import io

import numpy as np

ZIGZAG = np.array(
    [0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27,
     20, 13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
     58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63]
)  # fmt: skip

# code lengths by symbol: DC size categories (0 is one bit: flat files cost one bit a block)
DC_LENGTHS = {0: 1, **dict.fromkeys(range(1, 12), 5)}
# AC: end of block only (sequential) or EOB runs EOB0..EOB14 (progressive)
EOB_LENGTHS = {0x00: 1}
EOBRUN_LENGTHS = {r << 4: 4 for r in range(15)}


def segment(code, payload=b""):
    """A marker segment: 0xFF, the code, the length and the payload."""
    return bytes([0xFF, code]) + (len(payload) + 2).to_bytes(2, "big") + payload


def dqt(table_id, steps):
    """A DQT segment of one 8-bit table; ``steps`` in natural (row-major) order."""
    steps = np.asarray(steps, dtype=np.uint8).ravel()[ZIGZAG]
    return segment(0xDB, bytes([table_id]) + steps.tobytes())


def sof(height, width, components, code=0xC0):
    """A frame header; ``components`` are ``(id, h, v, table)``."""
    payload = bytes([8]) + height.to_bytes(2, "big") + width.to_bytes(2, "big")
    payload += bytes([len(components)])
    for cid, h, v, table in components:
        payload += bytes([cid, h << 4 | v, table])
    return segment(code, payload)


def dht(table_class, table_id, lengths):
    """A DHT segment of one table given as ``{symbol: code length}``."""
    counts = [0] * 16
    for length in lengths.values():
        counts[length - 1] += 1
    symbols = sorted(lengths, key=lambda s: (lengths[s], s))
    return segment(0xC4, bytes([table_class << 4 | table_id] + counts + symbols))


def sos(components, ss=0, se=63, ah=0, al=0):
    """A scan header; ``components`` are ``(id, dc_table, ac_table)``."""
    payload = bytes([len(components)])
    for cid, td, ta in components:
        payload += bytes([cid, td << 4 | ta])
    return segment(0xDA, payload + bytes([ss, se, ah << 4 | al]))


def codes(lengths):
    """Canonical Huffman codes ``{symbol: (code, length)}`` of a DHT's lengths."""
    table, code, previous = {}, 0, None
    for symbol in sorted(lengths, key=lambda s: (lengths[s], s)):
        if previous is not None:
            code = (code + 1) << (lengths[symbol] - previous)
        else:
            code <<= lengths[symbol] - 1
        table[symbol], previous = (code, lengths[symbol]), lengths[symbol]
    return table


class Bits:
    """Entropy-coded bytes: bits appended, 0xFF stuffed, the last byte padded with ones."""

    def __init__(self):
        self.value, self.count, self.out = 0, 0, bytearray()

    def put(self, value, n):
        for i in range(n - 1, -1, -1):
            self.value = self.value << 1 | (value >> i) & 1
            self.count += 1
            if self.count == 8:
                self._byte()

    def _byte(self):
        self.out.append(self.value)
        if self.value == 0xFF:
            self.out.append(0)
        self.value, self.count = 0, 0

    def bytes(self):
        if self.count:
            self.value = self.value << (8 - self.count) | (1 << (8 - self.count)) - 1
            self.count = 8
            self._byte()
        return bytes(self.out)


def block_grid(height, width, h, v, h_max, v_max):
    """libjpeg's block grid of a component: ``ceil(size * factor / (8 * max factor))``."""
    return -(-height * v // (8 * v_max)), -(-width * h // (8 * h_max))


def sequential(height, width, sampling, *, ids=None, steps=1, seed=0):
    """A baseline file of one non-interleaved scan a component, and its DC planes.

    ``sampling`` is ``[(h, v), ...]`` a component (component 1 first), ``ids``
    the components' identifiers (1, 2, 3... by default). Every block has its
    own DC value (zero AC), so a block put in the wrong place shows. Returns
    ``(data, planes)``, planes ``(rows, cols)`` of DC values.
    """
    ids = list(ids or range(1, len(sampling) + 1))
    rng = np.random.default_rng(seed)
    h_max, v_max = max(h for h, _ in sampling), max(v for _, v in sampling)
    dc, eob = codes(DC_LENGTHS), codes(EOB_LENGTHS)
    data = b"\xff\xd8" + dqt(0, np.full(64, steps))
    data += sof(height, width, [(i, h, v, 0) for i, (h, v) in zip(ids, sampling, strict=True)])
    data += dht(0, 0, DC_LENGTHS) + dht(1, 0, EOB_LENGTHS)
    planes = []
    for i, (h, v) in enumerate(sampling):
        plane = rng.integers(-200, 200, block_grid(height, width, h, v, h_max, v_max))
        bits, previous = Bits(), 0
        for value in plane.ravel().tolist():
            diff, previous = value - previous, value
            size = abs(diff).bit_length()
            bits.put(*dc[size])
            bits.put(diff if diff >= 0 else diff + (1 << size) - 1, size)
            bits.put(*eob[0x00])
        data += sos([(ids[i], 0, 0)]) + bits.bytes()
        planes.append(plane)
    return data + b"\xff\xd9", planes


def progressive_zero(height, width, scans, *, empty=()):
    """A progressive gray file of zero coefficients, with the scans given.

    ``scans`` are ``(ss, se, ah, al)``; scans whose index is in ``empty`` carry
    no entropy-coded data at all. DC scans cost one bit a block, AC scans a few
    bytes (EOB runs of up to 32767 blocks).
    """
    rows, cols = block_grid(height, width, 1, 1, 1, 1)
    blocks = rows * cols
    dc, runs = codes(DC_LENGTHS), codes(EOBRUN_LENGTHS)
    data = b"\xff\xd8" + dqt(0, np.full(64, 16)) + sof(height, width, [(1, 1, 1, 0)], code=0xC2)
    data += dht(0, 0, DC_LENGTHS) + dht(1, 0, EOBRUN_LENGTHS)
    for index, (ss, se, ah, al) in enumerate(scans):
        data += sos([(1, 0, 0)], ss, se, ah, al)
        if index in empty:
            continue
        bits = Bits()
        if ss == 0:
            for _ in range(blocks):  # DC first: size 0; DC refinement: a zero bit
                bits.put(*dc[0]) if ah == 0 else bits.put(0, 1)
        else:
            left = blocks
            while left:
                run = min(left, 32767)
                r = run.bit_length() - 1
                bits.put(*runs[r << 4])
                bits.put(run - (1 << r), r)
                left -= run
        data += bits.bytes()
    return data + b"\xff\xd9"


def header_only(height, width, sampling, *, arithmetic=False):
    """Tables, frame and scan header of a colour or gray file, and no data at all."""
    sampling = list(sampling)
    data = b"\xff\xd8" + dqt(0, np.full(64, 16))
    components = [(i + 1, h, v, 0) for i, (h, v) in enumerate(sampling)]
    data += sof(height, width, components, code=0xC9 if arithmetic else 0xC0)
    if not arithmetic:
        data += dht(0, 0, DC_LENGTHS) + dht(1, 0, EOB_LENGTHS)
    data += sos([(i + 1, 0, 0) for i in range(len(sampling))])
    return data + b"\xff\xd9"


def markers(data):
    """``[(code, start, end), ...]`` of a file's markers, entropy-coded data skipped.

    ``start`` is the offset of the marker's 0xFF, ``end`` the offset after its
    segment (after the scan's entropy-coded data for SOS).
    """
    found, i = [], 2
    while i < len(data) - 1:
        code = data[i + 1]
        if code in (0xD8, 0xD9):
            found.append((code, i, i + 2))
            i += 2
            continue
        end = i + 2 + int.from_bytes(data[i + 2 : i + 4], "big")
        if code == 0xDA:
            while end < len(data) - 1 and not (
                data[end] == 0xFF and data[end + 1] not in (0x00, *range(0xD0, 0xD8))
            ):
                end += 1
        found.append((code, i, end))
        i = end
    return found


def pillow_jpeg(image, **options):
    """``image`` as the bytes of a JPEG file that Pillow writes with ``options``."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "JPEG", **options)
    return buffer.getvalue()


def pillow_pixels(data):
    """The pixels Pillow decodes from the bytes of a JPEG file."""
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(data)))
