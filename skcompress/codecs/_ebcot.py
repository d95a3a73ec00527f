"""JPEG 2000's tier-1 coding around the compiled EBCOT kernel: truncation and block tables.

The kernel (``_ebcot_kernel.c``) codes every code block's bit-planes with the MQ
coder and reports, per coding pass, the bytes of the block's codeword that decode
the passes so far and the weighted squared error they remove. Here, for a batch
of images at once:

* :func:`truncation` picks how many passes of each block to keep so that an
  image meets a byte budget: post-compression rate-distortion optimisation
  (PCRD, Taubman's EBCOT): every block keeps the passes that maximise
  ``D - lambda R``, the points of its convex hull, and ``lambda`` is bisected per
  image (in log scale) to the smallest slope whose bytes fit the budget; the
  bytes left then go, a few rounds, to the steepest further passes that still
  fit (so that an image lands within a fraction of a percent of its budget);
  a block's bytes count its entry in the block table;
* :func:`pack_table` / :func:`read_table` write and read the table of blocks
  that precedes the codewords in a bitstream: per block its number of passes
  (one byte), then for every block with passes its bit-planes (one byte) and
  the length of its codeword (a LEB128 varint), parsed without a loop over
  blocks.
"""

import numpy as np

from ._ebcot_kernel import MAX_PASSES, MAX_PLANES
from ._ebcot_kernel import decode as _decode
from ._ebcot_kernel import encode as _encode

_MAX_LENGTH_BYTES = 4  # a block's codeword is shorter than 2**28 bytes


def encode_blocks(values, blocks, weights):
    """Code every block of ``values`` with all its passes.

    Parameters
    ----------
    values : ndarray of float64, shape (P, H, W)
        Planes of subbands (Mallat layout), each coefficient in units of its
        quantization step.
    blocks : ndarray of int32, shape (nb, 6)
        Plane, row, column, height, width and orientation of every block.
    weights : ndarray of float64, shape (nb,)
        Squared error of one step squared, per block.

    Returns
    -------
    data : bytes
        The codewords, one after another.
    offsets : ndarray of int64, shape (nb + 1,)
    nplanes : ndarray of int32, shape (nb,)
    rates : ndarray of int32, shape (nb, MAX_PASSES)
        Bytes of a block's codeword that decode its first ``k + 1`` passes.
    dists : ndarray of float64, shape (nb, MAX_PASSES)
        Weighted squared error removed by the first ``k + 1`` passes.
    """
    values = np.ascontiguousarray(values, dtype=np.float64)
    P, H, W = values.shape
    nb = len(blocks)
    nplanes = np.zeros(nb, dtype=np.int32)
    rates = np.zeros((nb, MAX_PASSES), dtype=np.int32)
    dists = np.zeros((nb, MAX_PASSES), dtype=np.float64)
    offsets = np.zeros(nb + 1, dtype=np.int64)
    data = _encode(
        values,
        P,
        H,
        W,
        np.ascontiguousarray(blocks, dtype=np.int32),
        np.ascontiguousarray(weights, dtype=np.float64),
        nplanes,
        rates,
        dists,
        offsets,
    )
    return data, offsets, nplanes, rates, dists


def decode_blocks(data, shape, blocks, nplanes, npasses, offsets, reversible):
    """The decoder's coefficients: half steps (irreversible) or integers (reversible).

    Returns
    -------
    out : ndarray of int32, shape ``shape`` (P, H, W)
    """
    out = np.zeros(shape, dtype=np.int32)
    _decode(
        bytes(data),
        *shape,
        np.ascontiguousarray(blocks, dtype=np.int32),
        np.ascontiguousarray(nplanes, dtype=np.int32),
        np.ascontiguousarray(npasses, dtype=np.int32),
        np.ascontiguousarray(offsets, dtype=np.int64),
        out,
        int(reversible),
    )
    return out


def all_passes(nplanes):
    """Passes of blocks of ``nplanes`` bit-planes: a cleanup, then three per lower plane."""
    return np.where(nplanes > 0, 3 * nplanes - 2, 0).astype(np.int32)


def varint_bytes(values):
    """Bytes of the LEB128 varint of every value (``values >= 0``)."""
    values = np.asarray(values, dtype=np.int64)
    n = np.ones(values.shape, dtype=np.int64)
    for k in range(1, 9):
        n += values >= (1 << (7 * k))
    return n


def truncation(rates, dists, nplanes, budget):
    """Passes to keep per block so that every image fits its budget (PCRD).

    Parameters
    ----------
    rates, dists : ndarray, shape (n, B, MAX_PASSES)
        Per image and block, as :func:`encode_blocks` returns them.
    nplanes : ndarray of int, shape (n, B)
    budget : ndarray of float, shape (n,)
        Bytes of every image for its block table and codewords.

    Returns
    -------
    npasses : ndarray of int32, shape (n, B)
    """
    n, B, K = rates.shape
    passes = all_passes(nplanes)
    # candidate k keeps k passes: its bytes count the block's entry in the table
    R = np.concatenate(
        [np.ones((n, B, 1)), rates + 2.0 + varint_bytes(rates)], axis=2
    )  # fmt: skip
    D = np.concatenate([np.zeros((n, B, 1)), dists], axis=2)
    allowed = np.arange(K + 1)[None, None, :] <= passes[..., None]
    R = np.where(allowed, R, np.inf)

    def choose(log_slope):
        objective = D - np.exp(log_slope)[:, None, None] * R
        objective = np.where(allowed, objective, -np.inf)
        k = objective.argmax(axis=2)
        used = np.take_along_axis(R, k[..., None], axis=2)[..., 0].sum(axis=1)
        return k, used

    full = np.take_along_axis(R, passes[..., None].astype(np.intp), axis=2)[..., 0].sum(axis=1)
    lo = np.full(n, -60.0)  # log slopes: lo keeps too many bytes (or all), hi few enough
    hi = np.full(n, 60.0)
    for _ in range(60):
        mid = (lo + hi) / 2
        _, used = choose(mid)
        fits = used <= budget
        hi = np.where(fits, mid, hi)
        lo = np.where(fits, lo, mid)
    k, used = choose(hi)
    # the bytes the slope leaves: give them to the passes of the blocks that still fit,
    # steepest slope first, as long as the prefix fits (a few rounds)
    candidates = np.arange(K + 1)[None, None, :]
    for _ in range(4):
        left = budget - used
        Rk = np.take_along_axis(R, k[..., None], axis=2)
        Dk = np.take_along_axis(D, k[..., None], axis=2)
        fits = (candidates > k[..., None]) & allowed & (R - Rk <= left[:, None, None])
        with np.errstate(divide="ignore", invalid="ignore"):
            gain = np.where(fits, (D - Dk) / np.maximum(R - Rk, 1e-9), -np.inf)
        step = gain.argmax(axis=2)
        slope = np.take_along_axis(gain, step[..., None], axis=2)[..., 0]
        cost = np.take_along_axis(R, step[..., None], axis=2)[..., 0] - Rk[..., 0]
        order = np.argsort(-slope, axis=1)
        cost_sorted = np.take_along_axis(np.where(np.isfinite(slope), cost, np.inf), order, 1)
        take_sorted = np.cumsum(cost_sorted, axis=1) <= left[:, None]
        take = np.zeros_like(take_sorted)
        np.put_along_axis(take, order, take_sorted, axis=1)
        if not take.any():
            break
        k = np.where(take, step, k)
        used = used + np.where(take, cost, 0).sum(axis=1)
    k = np.where((full <= budget)[:, None], passes, k)
    return k.astype(np.int32)


def truncated_lengths(rates, npasses):
    """Bytes of every block's codeword that its kept passes need (0 for none)."""
    at = np.clip(npasses.astype(np.intp) - 1, 0, MAX_PASSES - 1)
    lengths = np.take_along_axis(rates, at[..., None], axis=-1)[..., 0]
    return np.where(npasses > 0, lengths, 0).astype(np.int64)


def pack_table(npasses, nplanes, lengths):
    """The table of one image's blocks: passes, then bit-planes and lengths of the coded ones."""
    coded = npasses > 0
    lengths = lengths[coded].astype(np.int64)
    nbytes = varint_bytes(lengths)
    total = int(nbytes.sum())
    out = np.zeros(total, dtype=np.uint8)
    ends = np.cumsum(nbytes)
    starts = ends - nbytes
    # byte j of a varint: 7 bits of the value, the high bit set except on the last byte
    owner = np.repeat(np.arange(len(lengths)), nbytes)
    j = np.arange(total) - starts[owner]
    digits = (lengths[owner] >> (7 * j)) & 0x7F
    more = j < nbytes[owner] - 1
    out[:] = digits | (more << 7)
    return (
        npasses.astype(np.uint8).tobytes()
        + nplanes[coded].astype(np.uint8).tobytes()
        + out.tobytes()
    )


def read_table(body, at, n_blocks, name):
    """Parse a table from :func:`pack_table` at ``body[at]``.

    Returns
    -------
    npasses, nplanes : ndarray of int32, shape (n_blocks,)
    lengths : ndarray of int64, shape (n_blocks,)
    at : int
        Where the codewords start.

    Raises
    ------
    ValueError
        If the table is cut short or declares passes or planes a block cannot have.
    """
    buf = np.frombuffer(body, dtype=np.uint8)
    if at + n_blocks > len(buf):
        raise ValueError(f"{name}: the table of code blocks is cut short.")
    npasses = buf[at : at + n_blocks].astype(np.int32)
    at += n_blocks
    coded = np.flatnonzero(npasses)
    m = len(coded)
    if at + m > len(buf):
        raise ValueError(f"{name}: the table of code blocks is cut short.")
    nplanes = np.zeros(n_blocks, dtype=np.int32)
    nplanes[coded] = buf[at : at + m]
    at += m
    if (nplanes > MAX_PLANES).any() or (npasses > all_passes(nplanes)).any():
        raise ValueError(
            f"{name}: a code block declares more passes than its bit-planes allow, or more "
            f"than {MAX_PLANES} bit-planes."
        )
    lengths = np.zeros(n_blocks, dtype=np.int64)
    if m:
        window = buf[at : at + _MAX_LENGTH_BYTES * m]
        ends = np.flatnonzero(window < 0x80)
        if len(ends) < m:
            raise ValueError(f"{name}: the table of code blocks is cut short.")
        ends = ends[:m]
        starts = np.concatenate([[0], ends[:-1] + 1])
        nbytes = ends - starts + 1
        if (nbytes > _MAX_LENGTH_BYTES).any():
            raise ValueError(f"{name}: a code block's length takes more than 4 bytes.")
        owner = np.repeat(np.arange(m), nbytes)
        j = np.arange(ends[-1] + 1) - starts[owner]
        digits = (window[: ends[-1] + 1].astype(np.int64) & 0x7F) << (7 * j)
        lengths[coded] = np.bincount(owner, weights=digits, minlength=m).astype(np.int64)
        at += int(ends[-1]) + 1
    return npasses, nplanes, lengths, at
