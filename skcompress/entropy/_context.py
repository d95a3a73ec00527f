"""Context modelling of block-transform coefficients: what JPEG's Huffman tables leave behind."""

from numbers import Real

import numpy as np

from . import _coder
from ._base import EntropyModel

# Magnitudes are coded as tokens (JPEG XL's hybrid unsigned integers): 0..15 as
# themselves, then two tokens per power of two (the leading bit and the one
# below it in the token, the rest as raw bits).
_DIRECT = 16
_MAX_TOKEN = 31  # |value| < 4096; beyond, and beyond what fit saw, an escape
_ESCAPE = _MAX_TOKEN + 1
_WIDTH = _MAX_TOKEN + 2  # probability row: tokens, escape
_ESCAPE_FLOOR = 2.0**-14
_PROBABILITY_FLOOR = 2.0**-20
_RAW_CHUNK = 5  # raw bits go through uniform rows of at most 2**5 entries
_DC_GRADIENT_EDGES = np.array([1, 2, 4, 8, 16, 32, 64])
_EOB_EDGES = np.array([1, 2, 3, 4, 6, 8, 11, 15, 20, 28, 40, 60, 90])
_EOB_SIZE_EDGES = np.array([2, 4, 8, 16, 32])
_NEIGHBOUR_CAP = 6
_AUTO_POSITIONS = 64  # positional="auto" conditions on position up to this many blocks
_N_BOUNDARY, _N_GRADIENT = 4, len(_DC_GRADIENT_EDGES) + 1
_N_EOB = len(_EOB_EDGES) + 2  # buckets of the neighbours' sum, and "no neighbour"
_N_SIZE, _N_NEIGHBOUR = len(_EOB_SIZE_EDGES) + 1, _NEIGHBOUR_CAP + 1
_DC_PREDICTIONS = ("auto", "med", "none")
# sub-steps of a wavefront stage, in coding order
_A_TOKENS, _A_GAMMA, _A_ESCAPE, _A_RAW, _B_TOKENS, _B_GAMMA, _B_ESCAPE, _B_SIGNS = range(8)
_N_SIGN = 9  # signs (-, 0, +) of the same frequency in the left and upper blocks
_STAGE_SHIFT = 24
#: What one wavefront stage costs the decoder, in coded values (see ``decompress``):
#: a fixed number of numpy and coder calls, about a thousand values' worth.
_STAGE_VALUES = 1024
_RAW_PIECE = 1 << 18  # raw bits of AC magnitudes are read this many values at a time
_LIMIT = 1 << 61


def _tokens(u):
    """Token, raw bit count and raw bits of magnitudes ``u >= 0`` (int64)."""
    u = np.asarray(u, dtype=np.int64)
    # floor(log2 u) for u >= 1: exact through float64 below 2**53; above, the
    # token is an escape anyway and its raw bits unused
    n = np.frexp(u.astype(np.float64))[1].astype(np.int64) - 1
    small = u < _DIRECT
    bits = np.where(small, 0, n - 1)
    safe = np.maximum(bits, 0)
    msb = (u >> safe) & 1
    token = np.where(small, u, _DIRECT + 2 * (n - 4) + msb)
    extra = np.where(small, 0, u & ((np.int64(1) << safe) - 1))
    return token, bits, extra


def _untoken(token):
    """Base magnitude (raw bits zero) and raw bit count of tokens ``<= _MAX_TOKEN``."""
    token = np.asarray(token, dtype=np.int64)
    small = token < _DIRECT
    n = 4 + (token - _DIRECT) // 2
    msb = (token - _DIRECT) % 2
    safe_n = np.where(small, 1, n)
    base = np.where(small, token, (np.int64(1) << safe_n) | (msb << (safe_n - 1)))
    return base, np.where(small, 0, n - 1)


def _bucket(x, edges):
    return np.searchsorted(edges, x, side="right")


def _grid(symbols, name):
    """``(n, H, W, C, K)`` int64 view of a "blocks" array and its original ndim."""
    S = np.asarray(symbols)
    if S.dtype.kind not in "iu" or S.ndim not in (3, 4, 5) or 0 in S.shape[1:]:
        raise ValueError(
            f"BlockContextModel.{name} expects integer coefficients in the 'blocks' layout: "
            "(n, n_blocks, k) for 1-D signals, (n, h, w, k) for gray images or "
            f"(n, h, w, channels, k); got shape {S.shape} and dtype {S.dtype}."
        )
    if S.size and (S.min() < -_LIMIT or S.max() > _LIMIT):
        raise ValueError(
            f"BlockContextModel.{name}: coefficients must lie in [-2**61, 2**61] (DC residuals "
            f"then fit int64); got values in [{S.min()}, {S.max()}]."
        )
    ndim = S.ndim
    if ndim == 3:
        S = S[:, np.newaxis, :, np.newaxis, :]
    elif ndim == 4:
        S = S[:, :, :, np.newaxis, :]
    return S.astype(np.int64, copy=False), ndim


def _from_grid(S, ndim):
    if ndim == 3:
        return S[:, 0, :, 0, :]
    if ndim == 4:
        return S[:, :, :, 0, :]
    return S


class _Blocks:
    """Blocks of an ``H x W`` grid and where their neighbours lie, for gathering contexts.

    Arrays of per-block state are kept as ``(n, H * W + 1, ...)``: block
    ``(r, c)`` at ``r * W + c`` and, last, a cell of zeros that a missing
    neighbour reads (outside the grid every neighbouring value counts as 0).
    ``left``, ``up``, ``corner`` (upper left) and ``upright`` are the cells
    of the neighbours of every block, ``boundary`` is 0 (first block), 1
    (first row), 2 (first column) or 3 (inside).

    Parameters
    ----------
    H, W : int
        The grid.
    flat : ndarray of int64
        The blocks, as ``r * W + c``, in the order of the arrays gathered.
    """

    def __init__(self, H, W, flat):
        self.flat = flat
        self.empty = H * W
        r, c = np.divmod(flat, W)
        self.left = np.where(c > 0, flat - 1, self.empty)
        self.up = np.where(r > 0, flat - W, self.empty)
        self.corner = np.where((r > 0) & (c > 0), flat - W - 1, self.empty)
        self.upright = np.where((r > 0) & (c < W - 1), flat - W + 1, self.empty)
        self.boundary = (c > 0) * 1 + (r > 0) * 2
        self.stage = 2 * r + c

    def part(self, start, stop):
        """The blocks ``start:stop`` of this list (views, no copy)."""
        out = object.__new__(_Blocks)
        out.empty = self.empty
        for name in ("flat", "left", "up", "corner", "upright", "boundary", "stage"):
            setattr(out, name, getattr(self, name)[start:stop])
        return out


def _with_empty_cell(A):
    """``A`` (n, H, W, ...) as (n, H * W + 1, ...), the last cell 0 (see :class:`_Blocks`)."""
    n, H, W = A.shape[:3]
    out = np.zeros((n, H * W + 1, *A.shape[3:]), dtype=A.dtype)
    out[:, : H * W] = A.reshape(n, H * W, *A.shape[3:])
    return out


class BlockContextModel(EntropyModel):
    """Context-adaptive model of block-transform coefficients, coded for real.

    The model JPEG's Huffman coder approximates with run lengths, made
    explicit and adaptive to the data it was fitted on. Each block (of each
    channel) is coded as:

    * its **DC** coefficient, as the residual of a prediction from the left,
      upper and upper-left blocks (the MED predictor of LOCO-I / JPEG-LS), in
      a context of where the block lies (corner, first row or column,
      interior) and how much the neighbouring DCs vary;
    * its **end of block**: how many AC coefficients there are up to the last
      nonzero one (all later ones are zero and cost nothing), in a context of
      the left and upper blocks' ends of block;
    * each AC coefficient up to the end of block, in a context of its
      frequency, whether it is the last one (then it is nonzero), the size of
      the end of block and the magnitudes of the same frequency in the left,
      upper, upper-left and upper-right blocks.

    Magnitudes are coded as small tokens (0..15 exactly, then two per power of
    two, with the remaining bits raw); AC signs in a context of the signs of
    the same frequency in the left and upper blocks, DC signs raw. Each context's
    token distribution is fitted on training data: counts smoothed towards
    the distribution pooled over its parent (the same frequency, or all DC or
    end-of-block contexts of the channel), Krichevsky-Trofimov smoothed
    itself, so a rare context borrows its parent's statistics. A token beyond
    what ``fit`` saw (or a magnitude from 4096) is escaped and sent as an
    Elias-gamma code, so no coefficient is ever unencodable.

    Blocks are coded in wavefronts (block ``(r, c)`` in stage ``2 r + c``), so
    every context depends only on earlier stages: contexts are computed for a
    whole stage of every sample at once, and each sample's bitstream decodes
    that stage in a few coder calls (``2 (h - 1) + w`` stages for a grid of
    ``h x w`` blocks).

    Parameters
    ----------
    positional : bool or "auto", default="auto"
        Also condition every context on the block's position in the grid:
        for data of one fixed size where position means something (MNIST's
        blank borders); then every coded grid must have the fitted shape.
        "auto": True when every training sample has the same grid of at most
        64 blocks (small images), False otherwise.
    dc_prediction : {"auto", "med", "none"}, default="auto"
        Predict the DC coefficient from its neighbours ("med") or code it as
        it is ("none", best with ``positional`` on small centred images);
        "auto" picks whichever costs less on the training data.
    prior_strength : float > 0, default=4.0
        Weight, in pseudo-observations, of the parent distribution in each
        context's estimate.

    Attributes
    ----------
    n_channels_, n_coefficients_ : int
        ``C`` and ``K`` of the blocks seen at ``fit``.
    grid_shape_ : tuple of int
        Grid ``(h, w)`` of the training data (``(1, n_blocks)`` for 1-D
        signals); coded grids must match it only when ``positional_``.
    positional_ : bool
        Whether contexts include the block position.
    dc_prediction_ : str
        "med" or "none", the prediction in use.
    probabilities_ : ndarray of float32, shape (n_contexts, 33)
        Token distributions (tokens 0..31, escape last) of every context.
    counts_ : ndarray of int64, shape (n_contexts, 33)
        Training counts behind them.

    See Also
    --------
    CategoricalEntropyModel : one distribution per position, no context.

    Notes
    -----
    What the contexts save against one distribution per frequency and
    against libjpeg's Huffman and arithmetic coders, on the same quantized
    coefficients, is measured by ``benchmarks/bench_entropy.py`` (the
    benchmarks page of the documentation).

    Examples
    --------
    >>> import numpy as np
    >>> from skcompress import BlockDCT, PerceptualQuantizer
    >>> from skcompress.datasets import load_mnist
    >>> from skcompress.entropy import BlockContextModel
    >>> X = load_mnist().images[:400]
    >>> G = BlockDCT(layout="blocks").fit_transform(X)
    >>> B = PerceptualQuantizer(quality=50, layout="blocks").fit(G).transform(G)
    >>> B.shape   # 4 x 4 blocks of 64 coefficients per digit
    (400, 4, 4, 64)
    >>> model = BlockContextModel().fit(B[:300])
    >>> strings = model.compress(B[300:])
    >>> np.array_equal(model.decompress(strings), B[300:])
    True
    >>> bits = 8 * np.mean([len(s) for s in strings])
    >>> bool(900 < bits < 1400)   # libjpeg's optimized Huffman scan: about 1,285
    True
    """

    _kind = _coder.KIND_CONTEXT
    _n_fields = 5

    def __init__(self, *, positional="auto", dc_prediction="auto", prior_strength=4.0):
        self.positional = positional
        self.dc_prediction = dc_prediction
        self.prior_strength = prior_strength

    # -- fitting -----------------------------------------------------------

    def fit(self, symbols):
        """Count the tokens of every context in training coefficients.

        Parameters
        ----------
        symbols : array-like of int or list of them
            Quantized coefficients in the "blocks" layout, ``(n, n_blocks,
            k)``, ``(n, h, w, k)`` or ``(n, h, w, channels, k)`` (see
            :class:`~skcompress.BlockDCT`), or a list of such arrays with the
            same ``channels`` and ``k`` (photographs of different sizes).

        Returns
        -------
        self : BlockContextModel
        """
        if not (isinstance(self.positional, (bool, np.bool_)) or self.positional == "auto"):
            raise ValueError(
                "BlockContextModel: positional must be True, False or 'auto'; got "
                f"{self.positional!r}."
            )
        if self.dc_prediction not in _DC_PREDICTIONS:
            raise ValueError(
                f"BlockContextModel: dc_prediction must be one of {_DC_PREDICTIONS}; got "
                f"{self.dc_prediction!r}."
            )
        if not isinstance(self.prior_strength, Real) or not self.prior_strength > 0:
            raise ValueError(
                "BlockContextModel: prior_strength must be a positive number; got "
                f"{self.prior_strength!r}."
            )
        arrays = symbols if isinstance(symbols, (list, tuple)) else [symbols]
        if not arrays:
            raise ValueError("BlockContextModel.fit expects at least one array of coefficients.")
        grids = [_grid(a, "fit")[0] for a in arrays]
        shapes = {g.shape[3:] for g in grids}
        if len(shapes) > 1:
            raise ValueError(
                "BlockContextModel.fit: every array must have the same channels and "
                f"coefficients per block; got (channels, k) in {sorted(shapes)}."
            )
        same_grid = len({g.shape[1:3] for g in grids}) == 1
        if self.positional is True and not same_grid:
            raise ValueError(
                "BlockContextModel.fit: with positional=True every array must have the same "
                f"grid; got {sorted({g.shape[1:3] for g in grids})}."
            )
        if sum(len(g) for g in grids) == 0:
            raise ValueError("BlockContextModel.fit expects at least one sample.")
        self.n_channels_, self.n_coefficients_ = grids[0].shape[3:]
        self.grid_shape_ = tuple(int(s) for s in grids[0].shape[1:3])
        if self.positional == "auto":
            self.positional_ = same_grid and int(np.prod(self.grid_shape_)) <= _AUTO_POSITIONS
        else:
            self.positional_ = bool(self.positional)
        choices = ["med", "none"] if self.dc_prediction == "auto" else [self.dc_prediction]
        best = None
        for choice in choices:
            self.dc_prediction_ = choice
            self._set_counts(sum(self._count(g) for g in grids if len(g)))
            if len(choices) > 1:  # the whole training cost, raw bits and escapes included
                cost = sum(float(self.code_lengths(g).sum()) for g in grids if len(g))
                if best is None or cost < best[0]:
                    best = (cost, choice, self.counts_)
        if len(choices) > 1:
            _, self.dc_prediction_, counts = best
            self._set_counts(counts)
        return self

    def partial_fit(self, symbols):
        """Add the contexts of one more batch to the counts (the first call is :meth:`fit`).

        The first call also makes the data-driven choices (``positional`` and
        ``dc_prediction`` when "auto") on its batch; later batches only add
        their token counts. With both choices explicit, any sequence of calls
        gives exactly the model that :meth:`fit` learns on all the batches at
        once, so the model can learn from a stream of chunks (the blocks of a
        Dask array, one at a time).

        Parameters
        ----------
        symbols : array-like of int or list of them
            Quantized coefficients as for :meth:`fit`, with the channels and
            coefficients per block of the first batch (and its grid, when
            ``positional_``).

        Returns
        -------
        self : BlockContextModel

        Examples
        --------
        >>> import numpy as np
        >>> from skcompress import BlockDCT, PerceptualQuantizer
        >>> from skcompress.datasets import load_mnist
        >>> from skcompress.entropy import BlockContextModel
        >>> G = BlockDCT(layout="blocks").fit_transform(load_mnist().images[:300])
        >>> B = PerceptualQuantizer(quality=50, layout="blocks").fit(G).transform(G)
        >>> streamed = BlockContextModel(positional=True, dc_prediction="med")
        >>> for chunk in np.array_split(B, 3):
        ...     streamed = streamed.partial_fit(chunk)
        >>> whole = BlockContextModel(positional=True, dc_prediction="med").fit(B)
        >>> streamed.compress(B[:5]) == whole.compress(B[:5])
        True
        """
        if not self.__sklearn_is_fitted__():
            return self.fit(symbols)
        arrays = symbols if isinstance(symbols, (list, tuple)) else [symbols]
        grids = [_grid(a, "partial_fit")[0] for a in arrays]
        for g in grids:
            if g.shape[3:] != (self.n_channels_, self.n_coefficients_):
                raise ValueError(
                    "BlockContextModel.partial_fit: every array must have the channels and "
                    f"coefficients per block of the first batch, "
                    f"{(self.n_channels_, self.n_coefficients_)}; got {g.shape[3:]}."
                )
            if self.positional_ and tuple(g.shape[1:3]) != self.grid_shape_:
                raise ValueError(
                    "BlockContextModel.partial_fit: with positional contexts every array "
                    f"must have the grid of the first batch, {self.grid_shape_}; got "
                    f"{tuple(g.shape[1:3])}."
                )
        counts = self.counts_ + sum(self._count(g) for g in grids if len(g))
        self._set_counts(counts)
        return self

    def _set_counts(self, counts):
        self.counts_ = counts
        self.probabilities_ = self._estimate(counts)
        self._derived_changed()

    def _fingerprint_arrays(self):
        return (
            self.probabilities_,
            np.array([self.positional_, self.dc_prediction_ == "med", *self.grid_shape_]),
        )

    def _build_tables(self):
        """The coder's rows (token distributions, then uniform rows of raw bits) and
        the largest token of every context's alphabet."""
        table = np.zeros((len(self.probabilities_) + _RAW_CHUNK, _WIDTH), dtype=np.float32)
        table[: len(self.probabilities_)] = self.probabilities_
        for b in range(1, _RAW_CHUNK + 1):
            table[len(self.probabilities_) + b - 1, : 1 << b] = 1.0
        return table, self._top_tokens(self.counts_)

    def _layout(self):
        """Numbers of contexts and parents of the three kinds, and their offsets."""
        C, K = self.n_channels_, self.n_coefficients_
        P = int(np.prod(self.grid_shape_)) if self.positional_ else 1
        n_dc = P * C * _N_BOUNDARY * _N_GRADIENT
        n_eob = P * C * _N_EOB if K > 1 else 0
        n_ac = P * C * (K - 1) * 2 * _N_SIZE * _N_NEIGHBOUR
        n_sign = P * C * (K - 1) * _N_SIGN
        return n_dc, n_eob, n_ac, n_sign

    def _parents(self):
        """Parent of every context: the channel (DC, end of block), (channel,
        frequency, last) for AC magnitudes, (channel, frequency) for signs."""
        C, K = self.n_channels_, self.n_coefficients_
        n_dc, n_eob, n_ac, n_sign = self._layout()
        dc = np.arange(n_dc) // (_N_BOUNDARY * _N_GRADIENT) % C
        eob = C + np.arange(n_eob) // _N_EOB % C
        ac = 2 * C + np.arange(n_ac) // (_N_SIZE * _N_NEIGHBOUR) % (C * (K - 1) * 2)
        sign = 2 * C + C * (K - 1) * 2 + np.arange(n_sign) // _N_SIGN % (C * (K - 1))
        return np.concatenate([dc, eob, ac, sign])

    def _parent_counts(self, counts):
        parents = self._parents()
        n_parents = int(parents.max()) + 1
        keys = (parents[:, None] * _WIDTH + np.arange(_WIDTH)).ravel()
        parent_counts = np.bincount(keys, weights=counts.ravel(), minlength=n_parents * _WIDTH)
        return parents, parent_counts.reshape(n_parents, _WIDTH)

    def _alphabets(self, parent_counts):
        """Largest token of every parent's alphabet, and whether it has an escape.

        Magnitudes take the tokens up to the largest the parent saw, then an
        escape; signs are always 0 (+) or 1 (-), with no escape.
        """
        seen = parent_counts[:, :_ESCAPE] > 0
        top = np.where(seen.any(axis=1), _ESCAPE - 1 - np.argmax(seen[:, ::-1], axis=1), 0)
        C, K = self.n_channels_, self.n_coefficients_
        sign = np.arange(len(top)) >= 2 * C + C * (K - 1) * 2
        return np.where(sign, 1, top), ~sign

    def _top_tokens(self, counts):
        """Largest token of every context's alphabet: the largest its parent saw."""
        parents, parent_counts = self._parent_counts(counts)
        return self._alphabets(parent_counts)[0][parents]

    def _estimate(self, counts):
        parents, parent_counts = self._parent_counts(counts)
        top, escapes = self._alphabets(parent_counts)
        alphabet = np.arange(_WIDTH) <= top[:, None]
        alphabet[:, _ESCAPE] = escapes
        kt = np.where(alphabet, parent_counts + 0.5, 0.0)
        prior = kt / kt.sum(axis=1, keepdims=True)
        a = float(self.prior_strength)
        mass = np.where(alphabet[parents], counts + a * prior[parents], 0.0)
        p = mass / mass.sum(axis=1, keepdims=True)
        # An escape never seen in training would otherwise cost more than the
        # coder's 24-bit precision allows; a floor of 2**-14 costs < 1e-4 bit.
        p[:, _ESCAPE] = np.where(escapes[parents], np.maximum(p[:, _ESCAPE], _ESCAPE_FLOOR), 0)
        # The coder gives no symbol less than 2**-24: floor the model there
        # (and a little above) so that estimate and bitstream agree.
        p = np.where(alphabet[parents], np.maximum(p, _PROBABILITY_FLOOR), 0.0)
        return (p / p.sum(axis=1, keepdims=True)).astype(np.float32)

    # -- analysis shared by fit and compress -----------------------------------

    def _check_grid(self, S, name):
        C, K = self.n_channels_, self.n_coefficients_
        if S.shape[3:] != (C, K) or (self.positional_ and S.shape[1:3] != self.grid_shape_):
            want = f"(n, {', '.join(map(str, self.grid_shape_))}, {C}, {K})"
            raise ValueError(
                f"BlockContextModel.{name}: the model was fitted on blocks of {C} channel(s) "
                f"x {K} coefficients"
                + (
                    f" on the grid {self.grid_shape_} (positional=True)"
                    if self.positional_
                    else ""
                )
                + f"; got coefficients of shape {S.shape} (expected {want} or any grid when "
                "positional=False)."
            )

    def _symbols(self, S):
        """Every coded symbol of ``S`` (n, H, W, C, K) with its context and place.

        Returns a dict of arrays over the blocks (``dc``, ``eob``) and over the
        coded AC coefficients (``ac``), each with its context id, stage,
        position in the stage, token, raw bits and sign.
        """
        n, H, W, C, K = S.shape
        blocks = _Blocks(H, W, np.arange(H * W))
        rs = blocks.flat // W
        DC = S[..., 0]
        AC = S[..., 1:]
        mag = np.abs(AC)
        eob = _end_of_block(mag)
        out = {"blocks": (rs, blocks.flat % W, blocks.stage)}
        pred, dc_ctx = self._dc_context(_with_empty_cell(DC), blocks)
        resid = DC.reshape(n, H * W, C) - pred
        out["dc"] = (dc_ctx, resid)
        if K > 1:
            out["eob"] = (
                self._eob_context(_with_empty_cell(eob), blocks),
                eob.reshape(n, H * W, C),
            )
            capped = _with_empty_cell(np.minimum(mag, _NEIGHBOUR_CAP).astype(np.int8))
            ac_ctx, last = self._ac_context(capped, eob.reshape(n, H * W, C), blocks)
            out["ac"] = (ac_ctx, AC.reshape(n, H * W, C, K - 1), last)
            out["sign"] = self._sign_context(_with_empty_cell(np.sign(AC).astype(np.int8)), blocks)
        return out

    def _place(self, blocks):
        """``(nb, C)``: the place of every block and channel that contexts condition on."""
        C = self.n_channels_
        if not self.positional_:
            return np.broadcast_to(np.arange(C), (len(blocks.flat), C))
        return blocks.flat[:, None] * C + np.arange(C)  # the grid is grid_shape_

    def _dc_context(self, DC, blocks):
        """Prediction and context of the DC of ``blocks``; DC is (n, H * W + 1, C)."""
        left, up, corner = DC[:, blocks.left], DC[:, blocks.up], DC[:, blocks.corner]
        b = blocks.boundary[None, :, None]
        if self.dc_prediction_ == "med":
            lo, hi = np.minimum(left, up), np.maximum(left, up)
            med = np.where(corner >= hi, lo, np.where(corner <= lo, hi, left + up - corner))
            pred = np.where(b == 3, med, np.where(b == 2, up, np.where(b == 1, left, 0)))
        else:
            pred = np.zeros_like(left)
        gradient = np.abs(left - corner) + np.abs(up - corner)
        g = np.where(b == 3, _bucket(gradient, _DC_GRADIENT_EDGES), 0)
        return pred, (self._place(blocks)[None] * _N_BOUNDARY + b) * _N_GRADIENT + g

    def _eob_context(self, eob, blocks):
        """Context of the end of block of ``blocks``; eob is (n, H * W + 1, C)."""
        n_dc = self._layout()[0]
        left, up = eob[:, blocks.left], eob[:, blocks.up]
        hl = (blocks.boundary % 2 == 1)[None, :, None]
        hu = (blocks.boundary >= 2)[None, :, None]
        total = np.where(hl & hu, left + up, np.where(hl, 2 * left, 2 * up))
        bucket = np.where(hl | hu, _bucket(total, _EOB_EDGES), _N_EOB - 1)
        return n_dc + self._place(blocks)[None] * _N_EOB + bucket

    def _ac_context(self, capped, eob, blocks):
        """Contexts ``(n, nb, C, K - 1)`` of every AC coefficient of ``blocks``.

        ``capped`` is ``min(|AC|, 6)`` over the grid (n, H * W + 1, C, K - 1)
        int8, ``eob`` the end of block of ``blocks`` (n, nb, C).
        """
        K = self.n_coefficients_
        n_dc, n_eob = self._layout()[:2]
        # at most 6 + 6 + (6 + 6) // 2: int8 holds it
        total = capped[:, blocks.left] + capped[:, blocks.up]
        total += (capped[:, blocks.corner] + capped[:, blocks.upright]) // 2
        neighbours = np.minimum(total, _NEIGHBOUR_CAP)
        j = np.arange(1, K)
        last = j == eob[..., None]
        size = _bucket(eob, _EOB_SIZE_EDGES)[..., None]
        place = self._place(blocks)[None, :, :, None]
        ctx = ((place * (K - 1) + j - 1) * 2 + last) * _N_SIZE + size
        return n_dc + n_eob + ctx * _N_NEIGHBOUR + neighbours, last

    def _sign_context(self, signs, blocks):
        """Contexts ``(n, nb, C, K - 1)`` of the AC signs of ``blocks``.

        ``signs`` is ``sign(AC)`` over the grid (n, H * W + 1, C, K - 1) int8.
        """
        K = self.n_coefficients_
        n_dc, n_eob, n_ac, _ = self._layout()
        neighbours = (signs[:, blocks.left] + 1) * 3 + signs[:, blocks.up] + 1
        place = self._place(blocks)[None, :, :, None]
        return n_dc + n_eob + n_ac + (place * (K - 1) + np.arange(K - 1)) * _N_SIGN + neighbours

    def _count(self, S):
        """Token counts ``(n_contexts, 33)`` of training coefficients (n, H, W, C, K)."""
        self._check_grid(S, "fit")
        size = sum(self._layout()) * _WIDTH
        counts = np.zeros(size, dtype=np.int64)
        for ctx, token in self._tokens_by_context(S):
            counts += np.bincount(ctx * _WIDTH + np.minimum(token, _ESCAPE), minlength=size)
        return counts.reshape(-1, _WIDTH)

    def _tokens_by_context(self, S):
        parts = self._symbols(S)
        ctx, resid = parts["dc"]
        yield ctx.ravel(), _tokens(np.abs(resid))[0].ravel()
        if "eob" in parts:
            ctx, eob = parts["eob"]
            yield ctx.ravel(), _tokens(eob)[0].ravel()
            ctx, AC, last = parts["ac"]
            coded = np.arange(1, self.n_coefficients_) <= eob[..., None]
            u = np.abs(AC) - last
            yield ctx[coded], _tokens(u[coded])[0]
            nonzero = AC != 0
            yield parts["sign"][nonzero], (AC[nonzero] < 0).astype(np.int64)

    # -- coding ------------------------------------------------------------

    def compress(self, symbols):
        """Code every sample into its own bitstream.

        Parameters
        ----------
        symbols : array-like of int
            Quantized coefficients in the "blocks" layout (as ``fit``); any
            grid unless ``positional_``.

        Returns
        -------
        strings : list of bytes
            One bitstream per sample: header (format byte, shape), payload,
            CRC-32 (which detects accidents, not forgery: see
            :meth:`decompress`). A sample that :meth:`decompress` would
            refuse by default is refused here.
        """
        self._check_fitted("compress")
        S, ndim = _grid(symbols, "compress")
        self._check_grid(S, "compress")
        n, H, W, C, K = S.shape
        fields = [ndim, H, W, C, K]
        size = self._declared_size(fields)
        if size > _coder.MAX_VALUES:
            raise ValueError(
                f"BlockContextModel.compress: a sample of {self._size_text(fields, size)} is "
                f"more than the {_coder.MAX_VALUES} values per bitstream that decompress "
                "accepts by default; code it in smaller pieces."
            )
        chunk = max(1, (1 << 20) // (H * W * C * K))
        payloads = []
        for start in range(0, n, chunk):  # bounded memory: batches of samples
            payloads += self._encode(S[start : start + chunk])
        return self._pack(fields, payloads)

    def _encode(self, S):
        n, H, W, C, K = S.shape
        parts = self._symbols(S)
        rs, cs, stage = parts["blocks"]
        plan = _coder.StreamPlan(n)
        table, top = self._coding_tables()
        escapes = []
        sample = np.arange(n)[:, None, None]
        slot = rs[:, None] * C + np.arange(C)  # (nb, C): order inside a stage
        group = (8 * stage)[:, None] + np.zeros(C, dtype=np.int64)  # (nb, C)

        def tokens(ctx, u, sub, index, keep=None):
            """Queue the tokens of magnitudes ``u``; returns raw bit counts and bits."""
            token, bits, extra = _tokens(u)
            escaped = token > top[ctx]
            keep = np.ones(ctx.shape, dtype=bool) if keep is None else keep
            where = np.broadcast_to(group.reshape(group.shape + (1,) * (ctx.ndim - 3)), ctx.shape)
            streams = np.broadcast_to(sample.reshape((n,) + (1,) * (ctx.ndim - 1)), ctx.shape)
            key = ((where + sub) << _STAGE_SHIFT) + index
            plan.add(
                streams[keep], key[keep], 0, np.where(escaped, _ESCAPE, token)[keep], ctx[keep]
            )
            escaped &= keep
            if escaped.any():
                escapes.append(
                    (streams[escaped], where[escaped] + sub, index[escaped], u[escaped])
                )
            return np.where(escaped, 0, bits), extra

        def raw(streams, key, bits, extra, index):
            for chunk in range(2):
                width = np.clip(bits - _RAW_CHUNK * chunk, 0, _RAW_CHUNK)
                need = width > 0
                value = (extra >> (_RAW_CHUNK * chunk)) & ((np.int64(1) << width) - 1)
                plan.add(
                    streams[need],
                    (key + index + chunk)[need],
                    0,
                    value[need],
                    self._raw_row(width[need]),
                )

        # A: the DC residual and the end of block of every block
        dc_ctx, resid = parts["dc"]
        dc_u = np.abs(resid)
        shape = dc_ctx.shape
        streams = np.broadcast_to(sample, shape)
        a_raw = (np.broadcast_to(group, shape) + _A_RAW) << _STAGE_SHIFT
        bits, extra = tokens(dc_ctx, dc_u, _A_TOKENS, np.broadcast_to(2 * slot, shape))
        raw(streams, a_raw, bits, extra, np.broadcast_to(8 * slot, shape))
        sign = dc_u > 0
        plan.add(
            streams[sign], (a_raw + 8 * slot + 2)[sign], 0, (resid < 0)[sign], self._raw_row(1)
        )
        if K > 1:
            eob_ctx, eob = parts["eob"]
            bits, extra = tokens(eob_ctx, eob, _A_TOKENS, np.broadcast_to(2 * slot + 1, shape))
            raw(streams, a_raw, bits, extra, np.broadcast_to(8 * slot + 3, shape))
            # B: the AC coefficients up to the end of block
            ac_ctx, AC, last = parts["ac"]
            coded = np.arange(1, K) <= eob[..., None]
            u = np.where(coded, np.abs(AC) - last, 0)
            index = np.broadcast_to(slot[..., None] * (K - 1) + np.arange(K - 1), ac_ctx.shape)
            bits, extra = tokens(np.where(coded, ac_ctx, 0), u, _B_TOKENS, index, keep=coded)
            # finally the raw bits and signs of every coded AC coefficient, stage by stage
            rank = np.empty(H * W, dtype=np.int64)
            rank[np.lexsort((rs, stage))] = np.arange(H * W)
            order = (rank[:, None] * C + np.arange(C))[..., None] * (K - 1) + np.arange(K - 1)
            final = np.int64(8 * (int(stage.max()) + 1)) << _STAGE_SHIFT
            streams = np.broadcast_to(sample[..., None], ac_ctx.shape)
            index = np.broadcast_to(4 * order, ac_ctx.shape)
            raw(streams, final, np.where(coded, bits, 0), extra, index)
            sign = AC != 0
            index = np.broadcast_to(slot[..., None] * (K - 1) + np.arange(K - 1), ac_ctx.shape)
            key = ((group[..., None] + _B_SIGNS) << _STAGE_SHIFT) + index
            plan.add(streams[sign], key[sign], 0, (AC < 0)[sign], parts["sign"][sign])
        if escapes:
            self._queue_escapes(plan, escapes)
        return plan.encode([table])

    def _raw_row(self, width):
        """Row of the uniform distribution over ``2 ** width`` raw values."""
        return len(self.probabilities_) + np.asarray(width, dtype=np.int64) - 1

    def _queue_escapes(self, plan, escapes):
        """Elias-gamma codes of escaped magnitudes: after the tokens of their sub-step."""
        stream, group, index, u = (
            np.concatenate([np.ravel(p) for p in e]) for e in zip(*escapes, strict=True)
        )
        order = np.lexsort((index, group, stream))
        stream, group, u = stream[order], group[order], u[order]
        prefix, value, size, owner = _coder.escape_symbols(u.astype(np.uint64))
        plan.add(
            stream, ((group + 1) << _STAGE_SHIFT) + _rank(stream, group), _coder.GAMMA, prefix, 0
        )
        if len(owner):
            us, ug = stream[owner], group[owner]
            plan.add(us, ((ug + 2) << _STAGE_SHIFT) + _rank(us, ug), _coder.UNIFORM, value, size)

    def decompress(self, strings, *, shape=None, max_values=None):
        """Decode bitstreams from :meth:`compress` back to the exact coefficients.

        The header is checked before anything is allocated or decoded: the
        channels and coefficients per block must be the model's (and the
        grid too when ``positional_``), the shape ``shape`` when given, and
        the declared size at most ``max_values``. Decoding runs in
        ``2 (h - 1) + w`` wavefront stages, each with a fixed cost of its
        own (about what a thousand coefficients cost), so the declared size
        is ``max(coefficients, 1024 * stages)``: a thin grid counts what its
        stages cost. Past the check, time and memory are linear in that
        size.

        Parameters
        ----------
        strings : list of bytes
            Bitstreams written by this model, all of the same shape.
        shape : tuple of int, optional
            The shape of one sample's coefficients expected, as given to
            :meth:`compress` (``(n_blocks, k)``, ``(h, w, k)`` or
            ``(h, w, channels, k)``).
        max_values : int, optional
            Most values (coefficients, and stages as above) one bitstream may
            declare; default ``2**24``. The CRC-32 detects accidents, not
            forgery (:attr:`fingerprint_` is public), so this limit is what
            bounds the cost of a hostile bitstream.

        Returns
        -------
        symbols : ndarray of int64
            In the shape given to ``compress``.

        Raises
        ------
        ValueError
            If a bitstream is truncated, corrupted or written by another model
            (its checksum fails), the bitstreams hold different shapes, or a
            header declares what the model, ``shape`` or ``max_values`` rule
            out.
        """
        payloads, fields = self._unpack_all(strings, shape, max_values)
        if fields is None:
            raise ValueError("decompress expects at least one bitstream.")
        ndim, H, W, C, K = fields
        S = np.empty((len(payloads), H * W, C, K), dtype=np.int64)
        chunk = max(1, (1 << 20) // (H * W * C * K))
        for start in range(0, len(payloads), chunk):
            self._decode(payloads[start : start + chunk], H, W, S[start : start + chunk])
        return _from_grid(S.reshape(len(payloads), H, W, C, K), ndim)

    def _check_header(self, fields):
        ndim, H, W, C, K = fields
        if (
            ndim not in (3, 4, 5)
            or (C, K) != (self.n_channels_, self.n_coefficients_)
            or min(H, W) < 1
            or (self.positional_ and (H, W) != self.grid_shape_)
            or (ndim == 3 and H != 1)
            or (ndim < 5 and C != 1)
        ):
            raise ValueError(
                f"BlockContextModel.decompress: the bitstreams hold coefficients of shape "
                f"(ndim={ndim}, {H}, {W}, {C}, {K}), which this model (channels="
                f"{self.n_channels_}, k={self.n_coefficients_}"
                + (f", grid {self.grid_shape_}" if self.positional_ else "")
                + ") cannot have written."
            )

    def _declared_shape(self, fields):
        ndim, H, W, C, K = fields
        return {3: (W, K), 4: (H, W, K)}.get(ndim, (H, W, C, K))

    def _declared_size(self, fields):
        _, H, W, C, K = fields
        return max(H * W * C * K, _STAGE_VALUES * _n_stages(H, W))

    def _size_text(self, fields, size):
        _, H, W, C, K = fields
        return (
            f"{H * W * C * K} coefficients in {_n_stages(H, W)} wavefront stages, counted as "
            f"{size} values"
        )

    def _decode(self, payloads, H, W, S):
        """Decode ``payloads`` (grids of ``H x W`` blocks) into ``S`` (n, H * W, C, K)."""
        n, C, K = len(payloads), self.n_channels_, self.n_coefficients_
        readers = [_coder.Reader(p) for p in payloads]
        rs, cs = np.divmod(np.arange(H * W), W)
        order = np.lexsort((rs, 2 * rs + cs))  # the coding order: stage, then row
        blocks = _Blocks(H, W, order)
        cut = (np.flatnonzero(np.diff(blocks.stage)) + 1).tolist()
        # state of every block as its neighbours read it, plus the empty cell
        DC = np.zeros((n, H * W + 1, C), dtype=np.int64)
        EOB = np.zeros((n, H * W + 1, C), dtype=np.int64)
        capped = np.zeros((n, H * W + 1, C, max(K - 1, 0)), dtype=np.int8)
        SIGN = np.zeros(capped.shape, dtype=np.int8)
        BITS = np.zeros((n, H * W, C, max(K - 1, 0)), dtype=np.int8)  # raw bits, coding order
        for a, b in zip([0, *cut], [*cut, H * W], strict=True):
            part = blocks.part(a, b)
            flat = part.flat
            pred, dc_ctx = self._dc_context(DC, part)
            ctx = [dc_ctx] + ([self._eob_context(EOB, part)] if K > 1 else [])
            ctx = np.stack(ctx, axis=-1)  # (n, nb, C, 1 or 2)
            u, bits = self._read_tokens(readers, ctx.reshape(n, -1))
            u, bits = u.reshape(ctx.shape), bits.reshape(ctx.shape)
            # raw bits: DC chunks, DC sign, EOB chunks per (block, channel)
            width = np.zeros(ctx.shape[:3] + (5,), dtype=np.int64)
            width[..., 0] = np.minimum(bits[..., 0], _RAW_CHUNK)
            width[..., 1] = np.maximum(bits[..., 0] - _RAW_CHUNK, 0)
            width[..., 2] = u[..., 0] > 0
            if K > 1:
                width[..., 3] = np.minimum(bits[..., 1], _RAW_CHUNK)
                width[..., 4] = np.maximum(bits[..., 1] - _RAW_CHUNK, 0)
            value = self._read_raw(readers, width.reshape(n, -1)).reshape(width.shape)
            dc_u = u[..., 0] + value[..., 0] + (value[..., 1] << _RAW_CHUNK)
            DC[:, flat] = pred + np.where(value[..., 2] == 1, -dc_u, dc_u)
            if K == 1:
                continue
            eob = u[..., 1] + value[..., 3] + (value[..., 4] << _RAW_CHUNK)
            if np.any(eob > K - 1):
                raise ValueError(
                    "decompress: an end of block lies beyond the block (corrupted data)."
                )
            EOB[:, flat] = eob
            coded = np.arange(1, K) <= eob[..., None]
            if not coded.any():  # no AC coefficient in this stage: nothing more to read
                S[:, flat, :, 1:] = 0
                continue
            ac_ctx, last = self._ac_context(capped, eob, part)
            u, bits = self._read_tokens(readers, ac_ctx[coded], coded.reshape(n, -1).sum(axis=1))
            mag = np.zeros(coded.shape, dtype=np.int64)
            mag[coded] = u
            mag += last
            S[:, flat, :, 1:] = mag
            BITS[:, a:b][coded] = bits
            capped[:, flat] = np.minimum(mag, _NEIGHBOUR_CAP)
            nonzero = mag > 0
            negative = self._read_signs(readers, self._sign_context(SIGN, part), nonzero)
            SIGN[:, flat] = np.where(negative, -1, 1) * nonzero
        S[..., 0] = DC[:, : H * W]
        if K > 1:
            self._read_ac_raw(readers, BITS, order, S)
            S[..., 1:] *= SIGN[:, : H * W]

    def _read_ac_raw(self, readers, BITS, order, S):
        """Add the raw bits of every AC magnitude to ``S``, stream by stream, stage by stage.

        ``BITS`` (n, H * W, C, K - 1) holds how many raw bits each magnitude
        has, its blocks in coding order (``order``). They are read a piece
        at a time, so memory stays bounded whatever the grid.
        """
        n = len(readers)
        per = BITS[0].size
        C, L = BITS.shape[2:]
        flat = BITS.reshape(-1)
        for p0 in range(0, flat.size, _RAW_PIECE):
            piece = flat[p0 : p0 + _RAW_PIECE]
            at = np.flatnonzero(piece)
            if not at.size:
                continue
            bits = piece[at].astype(np.int64)
            at += p0
            sample = at // per
            # each magnitude: up to 5 bits, then the rest (at most 5 more: tokens < 32)
            width = np.stack([np.minimum(bits, _RAW_CHUNK), bits - _RAW_CHUNK], axis=1)
            present = width > 0
            value = np.zeros(width.shape, dtype=np.int64)
            counts = np.bincount(np.repeat(sample, 2)[present.ravel()], minlength=n)
            value[present] = self._read_rows(readers, self._raw_row(width[present]), counts)
            block, rest = np.divmod(at % per, C * L)
            channel, frequency = np.divmod(rest, L)
            S[sample, order[block], channel, 1 + frequency] += value[:, 0] + (
                value[:, 1] << _RAW_CHUNK
            )

    def _read_signs(self, readers, ctx, needed):
        """Decode the signs (True: negative) where ``needed``, under contexts ``ctx``."""
        counts = needed.reshape(len(readers), -1).sum(axis=1)
        decoded = self._read_rows(readers, ctx[needed], counts)
        if np.any(decoded > 1):
            raise ValueError("decompress: a sign symbol is out of range (corrupted data).")
        negative = np.zeros(needed.shape, dtype=bool)
        negative[needed] = decoded == 1
        return negative

    def _read_tokens(self, readers, ctx, counts=None):
        """Decode one token per context (``ctx`` (n, L), or flat with ``counts`` per
        sample), then the escapes among them; returns magnitudes and raw bit counts."""
        flat = ctx.reshape(-1)
        if counts is None:
            counts = np.full(len(readers), ctx.shape[1] if ctx.ndim > 1 else 0)
        token = self._read_rows(readers, flat, counts)
        top = self._coding_tables()[1]
        escaped = token == _ESCAPE
        if np.any(token[~escaped] > top[flat[~escaped]]):
            raise ValueError("decompress: a token lies outside its alphabet (corrupted data).")
        base, bits = _untoken(np.where(escaped, 0, token))
        if escaped.any():
            at = np.flatnonzero(escaped)
            owner = np.searchsorted(np.cumsum(counts), at, side="right")
            for i in np.unique(owner).tolist():
                where = at[owner == i]
                magnitude, _ = _coder.read_escapes(readers[i], len(where), signed=False)
                if np.any(magnitude > np.uint64(2**62)):
                    raise ValueError(
                        "decompress: an escaped magnitude is out of range (corrupted data)."
                    )
                base[where] = magnitude.astype(np.int64)
        return base, bits

    def _read_raw(self, readers, width):
        """Decode raw values of ``width`` bits (0: absent), ``width`` (n, L)."""
        value = np.zeros(width.shape, dtype=np.int64)
        present = width > 0
        counts = present.sum(axis=1)
        value[present] = self._read_rows(readers, self._raw_row(width[present]), counts)
        return value

    def _read_rows(self, readers, row, counts):
        """Decode one symbol per entry of ``row`` (rows of the coder's table): the
        first ``counts[0]`` from ``readers[0]``, the next ``counts[1]`` from
        ``readers[1]``..."""
        return _coder.decode_rows(readers, self._coding_tables()[0], row, counts)

    def code_lengths(self, symbols):
        """Ideal code length in bits of every sample under this model.

        What a perfect arithmetic coder with these probabilities would spend:
        ``-log2 p`` of every token, the raw bits and signs, and for escaped
        magnitudes their Elias-gamma code. :meth:`compress` comes within a
        few bits per sample of it, plus the header.

        Parameters
        ----------
        symbols : array-like of int
            Coefficients in the "blocks" layout.

        Returns
        -------
        bits : ndarray of float64, shape (n_samples,)
        """
        self._check_fitted("code_lengths")
        S, _ = _grid(symbols, "code_lengths")
        self._check_grid(S, "code_lengths")
        n = len(S)
        top = self._coding_tables()[1]
        total = np.zeros(n)
        log_p = -np.log2(np.maximum(self.probabilities_.astype(np.float64), 1e-30))
        for ctx, u, sign, keep in self._magnitudes(S):
            token, bits, _ = _tokens(u)
            escaped = token > top[ctx]
            prefix, _ = _coder.gamma_parts(np.where(escaped, u, 0).astype(np.uint64))
            cost = np.where(
                escaped,
                log_p[ctx, _ESCAPE] + 2 * prefix + 1,
                log_p[ctx, np.minimum(token, _ESCAPE)] + bits,
            )
            total += np.where(keep, cost + sign, 0.0).reshape(n, -1).sum(axis=1)
        return total

    def _magnitudes(self, S):
        """(context, magnitude, sign bits, coded) of every symbol, arrays of one shape."""
        parts = self._symbols(S)
        ctx, resid = parts["dc"]
        yield ctx, np.abs(resid), resid != 0, np.ones(ctx.shape, dtype=bool)
        if "eob" in parts:
            ctx, eob = parts["eob"]
            yield ctx, eob, np.zeros(ctx.shape), np.ones(ctx.shape, dtype=bool)
            ctx, AC, last = parts["ac"]
            coded = np.arange(1, self.n_coefficients_) <= eob[..., None]
            u = np.where(coded, np.abs(AC) - last, 0)
            log_p = -np.log2(np.maximum(self.probabilities_.astype(np.float64), 1e-30))
            sign_bits = log_p[parts["sign"], (AC < 0) * 1] * (AC != 0)
            yield np.where(coded, ctx, 0), u, sign_bits, coded

    def _header_fields(self, shape, name="header_bits"):
        """``[ndim, h, w, channels, k]`` of one sample's coefficients of ``shape``."""
        grids = {2: (1, *shape[:1], 1), 3: (*shape[:2], 1), 4: shape[:3]}
        if len(shape) not in grids or min(shape, default=0) < 1:
            raise ValueError(
                f"BlockContextModel.{name} expects the shape of one sample's coefficients "
                "in the 'blocks' layout: (n_blocks, k), (h, w, k) or (h, w, channels, k); got "
                f"{shape}."
            )
        return [len(shape) + 1, *grids[len(shape)], shape[-1]]


def _n_stages(H, W):
    """Wavefront stages of a grid of ``H x W`` blocks: block ``(r, c)`` is in stage ``2 r + c``."""
    return 2 * (H - 1) + W


def _rank(stream, group):
    """Position of every entry within its run of equal ``(stream, group)`` (sorted)."""
    if not len(stream):
        return np.zeros(0, dtype=np.int64)
    first = np.r_[True, (np.diff(stream) != 0) | (np.diff(group) != 0)]
    start = np.flatnonzero(first)
    return np.arange(len(stream)) - start[np.cumsum(first) - 1]


def _end_of_block(mag):
    """Number of AC coefficients up to the last nonzero one; mag is (..., K - 1)."""
    if mag.shape[-1] == 0:
        return np.zeros(mag.shape[:-1], dtype=np.int64)
    nonzero = mag != 0
    last = mag.shape[-1] - np.argmax(nonzero[..., ::-1], axis=-1)
    return np.where(nonzero.any(axis=-1), last, 0).astype(np.int64)
