"""CELT's tables and per-frame algorithms (libopus ``celt/``), for :class:`CELTCodec`.

Facts taken from libopus (the tables are CELT's; the code is ours):

- ``modes.c``: ``eband5ms``, the band edges of a 2.5 ms frame at 48 kHz in
  units of 200 Hz (a band of ``w`` units spans ``w << LM`` MDCT bins of a
  frame of ``2.5 * 2**LM`` ms), and ``band_allocation``, 11 rows of bits per
  bin (1/32 bit) per band;
- ``quant_bands.c``: the mean band energies ``eMeans`` (log2 units) and the
  coarse-energy prediction coefficients ``pred_coef`` (alpha, inter-frame)
  and ``beta_coef`` / ``beta_intra`` (the running prediction across bands);
- ``rate.c``: the split of a band's bits into fine-energy bits and shape
  bits (``compute_allocation``'s ``offset`` rule, ``FINE_OFFSET = 21``,
  ``MAX_FINE_BITS = 8``), bits counted in eighths (``BITRES = 3``);
- ``vq.c``: ``exp_rotation``, the spreading rotation with ``SPREAD_FACTOR``
  15, 10, 5 for the light, normal and aggressive levels.
"""

import math
from functools import lru_cache

import numpy as np

from ..quantization._pyramid_vq import pvq_size

EBAND_5MS = np.array(
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28, 34, 40, 48, 60, 78, 100]
)
# 1/32 bit per bin; columns: the 21 bands of EBAND_5MS
BAND_ALLOCATION = np.array(
    [
        [0] * 21,
        [90, 80, 75, 69, 63, 56, 49, 40, 34, 29, 20, 18, 10, 0, 0, 0, 0, 0, 0, 0, 0],
        [110, 100, 90, 84, 78, 71, 65, 58, 51, 45, 39, 32, 26, 20, 12, 0, 0, 0, 0, 0, 0],
        [118, 110, 103, 93, 86, 80, 75, 70, 65, 59, 53, 47, 40, 31, 23, 15, 4, 0, 0, 0, 0],
        [126, 119, 112, 104, 95, 89, 83, 78, 72, 66, 60, 54, 47, 39, 32, 25, 17, 12, 1, 0, 0],
        [134, 127, 120, 114, 103, 97, 91, 85, 78, 72, 66, 60, 54, 47, 41, 35, 29, 23, 16, 10, 1],
        [144, 137, 130, 124, 113, 107, 101, 95, 88, 82, 76, 70, 64, 57, 51, 45, 39, 33, 26, 15, 1],
        [
            152,
            145,
            138,
            132,
            123,
            117,
            111,
            105,
            98,
            92,
            86,
            80,
            74,
            67,
            61,
            55,
            49,
            43,
            36,
            20,
            1,
        ],
        [
            162,
            155,
            148,
            142,
            133,
            127,
            121,
            115,
            108,
            102,
            96,
            90,
            84,
            77,
            71,
            65,
            59,
            53,
            46,
            30,
            1,
        ],
        [
            172,
            165,
            158,
            152,
            143,
            137,
            131,
            125,
            118,
            112,
            106,
            100,
            94,
            87,
            81,
            75,
            69,
            63,
            56,
            45,
            20,
        ],
        [
            200,
            200,
            200,
            200,
            200,
            200,
            200,
            200,
            198,
            193,
            188,
            183,
            178,
            173,
            168,
            163,
            158,
            153,
            148,
            129,
            104,
        ],
    ]
)
E_MEANS = np.array(
    [6.4375, 6.25, 5.75, 5.3125, 5.0625, 4.8125, 4.5, 4.375, 4.875, 4.6875, 4.5625]
    + [4.4375, 4.875, 4.625, 4.3125, 4.5, 4.375, 4.625, 4.75, 4.4375, 3.75]
)
PRED_COEF = np.array([29440, 26112, 21248, 16384]) / 32768.0  # alpha per LM
BETA_COEF = np.array([30147, 22282, 12124, 6554]) / 32768.0  # beta per LM
BETA_INTRA = 4915 / 32768.0
SPREAD_FACTOR = {"light": 15, "normal": 10, "aggressive": 5}
FINE_OFFSET = 21
MAX_FINE_BITS = 8
# celt/rate.h caps a codebook at 128 pulses and splits bands that could use more;
# without splitting, one larger codebook per band takes those bits instead
MAX_PULSES = 1024
ENERGY_FLOOR = -28.0  # log2 units; CELT's floor of the band energies
PREDICTION_FLOOR = -9.0  # the previous energy is floored here before it predicts


def band_layout(sample_rate, frame_ms):
    """CELT's band edges in MDCT bins for ``M = sample_rate * frame_ms / 1000`` bins.

    A bin is ``500 / frame_ms`` Hz at every sampling rate, so a 200 Hz unit
    of ``eband5ms`` is ``2**LM`` bins for a frame of ``2.5 * 2**LM`` ms: the
    edges are ``eband5ms << LM``, cut at the Nyquist frequency (8 kHz keeps
    the 13 bands below 4 kHz, Opus's narrowband; 16 kHz 17, 48 kHz all 21).

    Returns
    -------
    edges : ndarray of int64
    lm : int
    """
    lm = int(round(math.log2(frame_ms / 2.5)))
    M = int(round(sample_rate * frame_ms / 1000))
    edges = EBAND_5MS << lm
    return edges[edges <= M].astype(np.int64), lm


def allocation_rows(widths):
    """The static table in eighths of a bit per band: ``(11, B)`` int64."""
    B = len(widths)
    return (BAND_ALLOCATION[:, :B] * widths[None, :]) // 4


@lru_cache(maxsize=256)
def pulse_costs(n):
    """``ceil(8 log2 V(n, K))`` for ``K = 0 .. MAX_PULSES``: int64, non-decreasing.

    For ``n = 1`` every ``K >= 1`` costs one sign bit; only ``K <= 1`` is used.
    """
    costs = [0] + [math.ceil(8 * math.log2(pvq_size(n, k))) for k in range(1, MAX_PULSES + 1)]
    out = np.maximum.accumulate(np.asarray(costs, dtype=np.int64))
    out.flags.writeable = False
    return out


def allocate(budget, widths, lm):
    """Fine-energy bits and pulses of every band from a budget in eighths of a bit.

    CELT's static allocation, interpolated: the two rows of the table whose
    totals bracket the budget are mixed in 1/64 steps (the largest mix that
    fits), a budget over the top row adds the same bits to every bin. Each
    band's bits are split into fine-energy bits (``rate.c``'s rule) and
    shape bits, turned into the most pulses ``K <= 128`` whose codebook fits
    them plus what the bands before it left over (CELT's ``balance``).

    Parameters
    ----------
    budget : ndarray of int64, shape (n,)
        Eighths of a bit for the shapes and fine energies of a frame.
    widths : ndarray of int64, shape (B,)
        Bins per band.
    lm : int
        log2 of the frame size in 2.5 ms units.

    Returns
    -------
    fine : ndarray of int64, shape (n, B)
        Fine-energy bits per band (0 to 8).
    pulses : ndarray of int64, shape (n, B)
    used : ndarray of int64, shape (n,)
        Eighths of a bit the frame spends: ``8 * fine`` plus the codebooks.
    """
    budget = np.maximum(np.asarray(budget, dtype=np.int64), 0)
    rows = allocation_rows(widths)
    totals = rows.sum(axis=1)
    top = len(rows) - 1
    lo = np.clip(np.searchsorted(totals, budget, side="right") - 1, 0, top - 1)
    span = totals[lo + 1] - totals[lo]
    mix = np.clip((64 * (budget - totals[lo])) // np.maximum(span, 1), 0, 64)
    bits = rows[lo] + ((rows[lo + 1] - rows[lo]) * mix[:, None]) // 64
    over = np.maximum(budget - totals[top], 0)
    per_bin = over // widths.sum()
    bits = np.where((budget > totals[top])[:, None], rows[top] + per_bin[:, None] * widths, bits)
    n, B = bits.shape
    fine = np.zeros((n, B), dtype=np.int64)
    pulses = np.zeros((n, B), dtype=np.int64)
    balance = np.zeros(n, dtype=np.int64)
    for b in range(B):
        N = int(widths[b])
        band = bits[:, b]
        if N == 1:
            # one sign bit for the shape, the rest refines the energy
            shape_bits = np.where(band >= 8, 8, 0)
            eb = np.minimum((band - shape_bits) >> 3, MAX_FINE_BITS)
        else:
            nclogn = N * int(round(8 * math.log2(N)))
            offset = np.full(n, (nclogn >> 1) - N * FINE_OFFSET, dtype=np.int64)
            if N == 2:
                offset += (N << 3) >> 2
            offset += np.where(
                band + offset < N * 16,
                nclogn >> 2,
                np.where(band + offset < N * 24, nclogn >> 3, 0),
            )
            eb = (np.maximum(band + offset + (N << 2), 0) // N) >> 3
            eb = np.minimum(np.minimum(eb, band >> 3), MAX_FINE_BITS)
            shape_bits = band - 8 * eb
        costs = pulse_costs(N)
        if N == 1:
            costs = costs[:2]
        available = shape_bits + balance
        k = np.searchsorted(costs, available, side="right") - 1
        k = np.clip(k, 0, len(costs) - 1)
        fine[:, b], pulses[:, b] = eb, k
        balance = available - costs[k]
    used = 8 * fine.sum(axis=1) + np.stack(
        [pulse_costs(int(widths[b]))[pulses[:, b]] for b in range(B)], axis=1
    ).sum(axis=1)
    return fine, pulses, used


def spread(X, pulses, level, inverse=False):
    """CELT's spreading rotation ``exp_rotation`` of unit shapes, in place.

    Rows whose ``2 K >= N`` (or ``K = 0``) are left alone, as CELT does;
    ``inverse`` applies the exact inverse (the same plane rotations,
    transposed, in reverse order).

    Parameters
    ----------
    X : ndarray of float64, shape (m, N)
    pulses : ndarray of int, shape (m,)
    level : {"light", "normal", "aggressive"}
    inverse : bool
    """
    k = np.asarray(pulses, dtype=np.float64)
    N = X.shape[1]
    active = (2 * k < N) & (k > 0)
    if not active.any() or N < 2:
        return X
    if not active.all():
        X[active] = spread(X[active], k[active], level, inverse)
        return X
    gain = N / (N + SPREAD_FACTOR[level] * k)
    theta = 0.5 * gain * gain
    c, s = np.cos(0.5 * np.pi * theta), np.sin(0.5 * np.pi * theta)
    stride2 = 0
    if N >= 8:
        stride2 = 1
        while stride2 * stride2 + stride2 < N:
            stride2 += 1
    # exp_rotation(dir=1): exp_rotation1(X, N, 1, c, -s), then (stride2, s, -c)
    passes = [(1, c, -s)] + ([(stride2, s, -c)] if stride2 else [])
    plan = []
    for stride, cc, ss in passes:
        for i in range(N - stride):
            plan.append((i, stride, cc, ss))
        for i in range(N - 2 * stride - 1, -1, -1):
            plan.append((i, stride, cc, ss))
    if inverse:
        plan = [(i, stride, cc, -ss) for i, stride, cc, ss in reversed(plan)]
    for i, stride, cc, ss in plan:
        x1, x2 = X[:, i].copy(), X[:, i + stride].copy()
        X[:, i + stride] = cc * x2 + ss * x1
        X[:, i] = cc * x1 - ss * x2
    return X


def laplace_table(p0, decay, radius):
    """Probabilities of ``q in [-radius, radius]``: ``P(0) = p0``, geometric tails.

    CELT's ``ec_laplace`` model: a zero probability and a decay per step,
    the same on both sides; truncated at ``radius`` and renormalized, with
    a floor so that every value stays codable.
    """
    q = np.abs(np.arange(-radius, radius + 1))
    p = np.where(q == 0, p0, 0.5 * (1 - p0) * (1 - decay) * decay ** np.maximum(q - 1, 0))
    p = np.maximum(p, 1e-5)
    return (p / p.sum()).astype(np.float32)


def code_costs(table):
    """``ceil(-8 log2 p)``: eighths of a bit of every symbol of a float32 table."""
    return np.ceil(-8 * np.log2(table.astype(np.float64))).astype(np.int64)


def fold_noise(frame, band_start, width):
    """Deterministic pseudo-random values in [-0.5, 0.5), ``(len(frame), width)``.

    A hash of the frame index and the bin, so that a band filled with noise
    decodes the same however the signals are batched.
    """
    bins = np.arange(band_start, band_start + width, dtype=np.uint64)
    h = (np.asarray(frame, dtype=np.uint64)[:, None] * np.uint64(40503) + bins) * np.uint64(
        2654435761
    )
    h = (h ^ (h >> np.uint64(13))) & np.uint64(0xFFFF)
    return h.astype(np.float64) / 65536.0 - 0.5
