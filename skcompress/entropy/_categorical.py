"""Static categorical entropy model: ideal code lengths, and real range coding under it."""

import numpy as np

from . import _coder

# Symbols farther than this from zero are escaped rather than given a bin:
# quantized coefficients cluster at zero, and the table stays small.
_MAX_MAGNITUDE = 2048


class CategoricalEntropyModel:
    """One categorical distribution per symbol position, with an escape.

    ``fit`` counts the symbols seen at each position (column). The code length
    of a symbol is ``-log2 p`` under the Krichevsky-Trofimov estimate
    ``p(s) = (count(s) + 1/2) / (N + (A + 1) / 2)`` over the A symbols between
    the smallest and largest seen at that position plus one escape symbol. A
    symbol outside that range costs the escape plus an Elias-gamma code of its
    magnitude and a sign bit, so no symbol is ever unencodable.

    :meth:`code_lengths` is an *estimate*: the ideal code length under this
    static model, without the cost of transmitting the model itself.
    :meth:`compress` writes the symbols for real, with a range coder under
    the same probabilities (escapes included, their Elias-gamma code as the
    estimate counts it), one self-describing bitstream per row, and
    :meth:`decompress` reads them back exactly. The payload comes within a
    few bits per stream of the estimate; the header (format byte, length and
    a CRC-32, see :meth:`header_bits`) is extra.

    Examples
    --------
    >>> import numpy as np
    >>> symbols = np.array([[0, 1], [0, -1], [0, 1], [1, 1]])
    >>> model = CategoricalEntropyModel().fit(symbols)
    >>> bits = model.code_lengths(symbols)
    >>> bits.shape
    (4, 2)
    >>> bool(bits[0, 0] < bits[3, 0])   # 0 is more frequent than 1 in column 0
    True

    Real coding, one bitstream per row; a row may hold several observations
    (here 2 x 2 values, position = column % 2), and 99 is escaped:

    >>> rows = np.array([[0, 1, 0, -1], [1, 1, 0, 99]])
    >>> strings = model.compress(rows)
    >>> [len(s) for s in strings]
    [7, 9]
    >>> np.array_equal(model.decompress(strings), rows)
    True
    """

    def fit(self, symbols):
        """Count the symbols of each column.

        Parameters
        ----------
        symbols : array-like of int, shape (n_observations, n_positions)

        Returns
        -------
        self : CategoricalEntropyModel
        """
        S = _check_symbols(symbols, "fit")
        lo, hi = _clipped_range(S)
        self._set_counts(lo, hi, _count(S, lo, hi), len(S))
        return self

    def partial_fit(self, symbols):
        """Add the symbols of one more batch to the counts.

        After any sequence of calls the model is the one that :meth:`fit`
        gives on all the batches at once (same ranges, counts and code
        lengths), so it can learn from a stream of chunks, e.g. the blocks of
        a Dask array one at a time. The first call is :meth:`fit`.

        Parameters
        ----------
        symbols : array-like of int, shape (n_observations, n_positions)

        Returns
        -------
        self : CategoricalEntropyModel

        Examples
        --------
        >>> import numpy as np
        >>> S = np.random.default_rng(0).integers(-3, 4, size=(100, 5))
        >>> model = CategoricalEntropyModel()
        >>> for chunk in np.array_split(S, 4):
        ...     model = model.partial_fit(chunk)
        >>> whole = CategoricalEntropyModel().fit(S)
        >>> bool(np.array_equal(model.code_lengths(S), whole.code_lengths(S)))
        True
        """
        if not hasattr(self, "counts_"):
            return self.fit(symbols)
        S = _check_symbols(symbols, "partial_fit")
        if S.shape[1] != len(self.low_):
            raise ValueError(
                f"CategoricalEntropyModel.partial_fit expects symbols of shape (n, "
                f"{len(self.low_)}) (the positions seen so far); got {S.shape}."
            )
        new_lo, new_hi = _clipped_range(S)
        old_hi = self.low_ + self.alphabet_size_ - 1
        lo, hi = np.minimum(self.low_, new_lo), np.maximum(old_hi, new_hi)
        counts = _count(S, lo, hi)
        # the old counts, each position's shifted by how far its low end moved
        rows, columns = np.nonzero(self.counts_)
        counts[rows, columns + (self.low_ - lo)[rows]] += self.counts_[rows, columns]
        self._set_counts(lo, hi, counts, self.n_observations_ + len(S))
        return self

    def _set_counts(self, lo, hi, counts, n_observations):
        """Fitted state from the counts of ``n_observations`` rows in ranges ``[lo, hi]``."""
        width = counts.shape[1]
        alphabet = (hi - lo + 1).astype(np.float64)
        total = n_observations + (alphabet + 1) / 2
        in_range = np.arange(width) < alphabet[:, None]
        self.low_ = lo
        self.alphabet_size_ = alphabet.astype(np.int64)
        self.counts_ = counts
        self.n_observations_ = int(n_observations)
        self.bits_ = np.where(in_range, -np.log2((counts + 0.5) / total[:, None]), np.inf)
        self.escape_bits_ = -np.log2(0.5 / total)
        self._tables = self._fingerprint = None

    def code_lengths(self, symbols):
        """Ideal code length in bits of every symbol.

        Parameters
        ----------
        symbols : array-like of int, shape (n_observations, n_positions)

        Returns
        -------
        bits : ndarray of float64, same shape
        """
        S = np.asarray(symbols)
        if S.ndim != 2 or S.shape[1] != len(self.low_):
            raise ValueError(
                f"code_lengths expects symbols of shape (n, {len(self.low_)}); got {S.shape}."
            )
        offset = S - self.low_
        inside = (offset >= 0) & (offset < self.alphabet_size_)
        columns = np.broadcast_to(np.arange(S.shape[1]), S.shape)
        bits = np.empty(S.shape)
        bits[inside] = self.bits_[columns[inside], offset[inside]]
        outside = ~inside
        if outside.any():
            magnitude = np.abs(S[outside].astype(np.float64)) + 1
            gamma = 2 * np.floor(np.log2(magnitude)) + 1
            bits[outside] = np.broadcast_to(self.escape_bits_, S.shape)[outside] + gamma + 1
        return bits

    # -- real coding -------------------------------------------------------

    def compress(self, symbols):
        """Range-code every row of ``symbols`` into its own bitstream.

        Parameters
        ----------
        symbols : array-like of int, shape (n_streams, n_values)
            One row per bitstream. ``n_values`` is a multiple of the number
            of positions ``P`` seen at ``fit``: value ``i`` of a row is coded
            with the distribution of position ``i % P`` (a row holds
            ``n_values / P`` observations one after the other).

        Returns
        -------
        strings : list of bytes
            One bitstream per row: header byte, ``n_values``, payload, CRC-32.
        """
        S = self._check_rows(symbols, "compress")
        n, m = S.shape
        position = np.arange(m) % len(self.low_)
        offset = S - self.low_[position]
        inside = (offset >= 0) & (offset < self.alphabet_size_[position])
        token = np.where(inside, offset, self.alphabet_size_[position])
        segments = [(token[:, g], rows) for g, rows in self._segments(m)]
        escapes = None
        if not inside.all():
            stream, column = np.nonzero(~inside)
            values = S[stream, column]
            negative = values < 0
            magnitude = np.where(
                negative, ~values.astype(np.uint64) + np.uint64(1), values.astype(np.uint64)
            )
            escapes = (stream, *_coder.escape_symbols(magnitude, negative))
        return [
            _coder.pack(_coder.KIND_CATEGORICAL, [m], payload, self.fingerprint_)
            for payload in _coder.encode_streams(n, segments, escapes)
        ]

    def decompress(self, strings):
        """Decode bitstreams from :meth:`compress` back to the exact symbols.

        Parameters
        ----------
        strings : list of bytes
            Bitstreams written by this model (all with the same number of
            values).

        Returns
        -------
        symbols : ndarray of int64, shape (n_streams, n_values)

        Raises
        ------
        ValueError
            If a bitstream is truncated, corrupted or was written by another
            model (its checksum fails), or the streams differ in length.
        """
        payloads, m = self._unpack_all(strings)
        segments = self._segments(m)
        position = np.arange(m) % len(self.low_)
        low, width = self.low_[position], self.alphabet_size_[position]
        out = np.empty((len(payloads), m), dtype=np.int64)
        limit = np.uint64(1) << np.uint64(63)
        for i, payload in enumerate(payloads):
            reader = _coder.Reader(payload)
            token = np.empty(m, dtype=np.int64)
            for g, rows in segments:
                token[g] = reader.categorical(rows)
            if np.any(token > width):
                raise ValueError(
                    "decompress: a symbol lies outside its alphabet (corrupted data)."
                )
            out[i] = low + token
            escaped = np.flatnonzero(token == width)
            if escaped.size:
                magnitude, negative = _coder.read_escapes(reader, escaped.size, signed=True)
                if np.any(magnitude > limit) or np.any((magnitude == limit) & ~negative):
                    raise ValueError(
                        "decompress: an escaped value overflows int64 (corrupted data)."
                    )
                signed = magnitude.astype(np.int64)  # 2**63 wraps to the int64 minimum
                out[i, escaped] = np.where(negative, -signed, signed)
        return out

    def header_bits(self, n_values):
        """Bits a bitstream of ``n_values`` values spends outside its payload.

        Parameters
        ----------
        n_values : int
            Values per bitstream.

        Returns
        -------
        bits : int
            Header byte, the varint ``n_values`` and the 4-byte CRC-32.
        """
        return _coder.header_bits(_coder.KIND_CATEGORICAL, [n_values])

    @property
    def fingerprint_(self):
        """CRC-32 of the fitted tables, mixed into every bitstream's checksum."""
        if getattr(self, "_fingerprint", None) is None:
            self._fingerprint = _coder.fingerprint(self.low_, self.alphabet_size_, self.counts_)
        return self._fingerprint

    def _check_rows(self, symbols, name):
        if not hasattr(self, "low_"):
            raise ValueError(f"CategoricalEntropyModel.{name}: call fit first.")
        S = np.asarray(symbols)
        P = len(self.low_)
        if S.ndim != 2 or S.dtype.kind not in "iu" or S.shape[1] % P:
            raise ValueError(
                f"CategoricalEntropyModel.{name} expects a 2-D integer array of shape "
                f"(n_streams, k * {P}) (one row per bitstream, {P} positions); got shape "
                f"{S.shape} and dtype {S.dtype}."
            )
        if S.dtype == np.uint64 and S.size and S.max() > np.iinfo(np.int64).max:
            raise ValueError(
                f"CategoricalEntropyModel.{name}: symbols must fit in int64; got {S.max()}."
            )
        if S.shape[1] > _coder.MAX_VALUES:
            raise ValueError(
                f"CategoricalEntropyModel.{name}: at most {_coder.MAX_VALUES} values per "
                f"bitstream; got {S.shape[1]}."
            )
        return S.astype(np.int64, copy=False)

    def _unpack_all(self, strings):
        if not hasattr(self, "low_"):
            raise ValueError("CategoricalEntropyModel.decompress: call fit first.")
        payloads, lengths = [], set()
        for s in strings:
            (m,), payload = _coder.unpack(
                s, _coder.KIND_CATEGORICAL, 1, self.fingerprint_, "decompress"
            )
            payloads.append(payload)
            lengths.add(m)
        if len(lengths) > 1:
            raise ValueError(
                f"decompress: the bitstreams hold different numbers of values {sorted(lengths)}; "
                "decompress them separately."
            )
        m = lengths.pop() if lengths else len(self.low_)
        if m % len(self.low_) or m > _coder.MAX_VALUES:
            raise ValueError(
                f"decompress: a bitstream declares {m} values, not a multiple of the "
                f"{len(self.low_)} positions of this model."
            )
        return payloads, m

    def _coding_tables(self):
        """Probability rows grouped by alphabet size (powers of two, escape included).

        Rows of one group have the same width, so every group is one family
        of a :class:`~skcompress.entropy._coder.StreamPlan` and a symbol's
        row costs its own alphabet, not the widest.
        """
        if getattr(self, "_tables", None) is None:
            width = self.alphabet_size_ + 1
            klass_of = np.ceil(np.log2(np.maximum(width, 2))).astype(np.int64)
            classes = np.unique(klass_of)
            klass = np.searchsorted(classes, klass_of)
            rank = np.zeros(len(width), dtype=np.int64)
            tables = []
            probs = np.exp2(-self.bits_)  # inf -> 0 beyond each alphabet
            for c, k in enumerate(classes):
                members = np.flatnonzero(klass == c)
                rank[members] = np.arange(len(members))
                table = np.zeros((len(members), 1 << int(k)), dtype=np.float32)
                span = min(table.shape[1], probs.shape[1])
                table[:, :span] = probs[members, :span]
                table[np.arange(len(members)), width[members] - 1] = np.exp2(
                    -self.escape_bits_[members]
                )
                tables.append(table)
            self._tables = (tables, klass, rank)
        return self._tables

    def _segments(self, m):
        """``[(columns, rows)]``: the values of a stream of ``m`` values, class by class."""
        tables, klass, rank = self._coding_tables()
        position = np.arange(m) % len(self.low_)
        out = []
        for c, table in enumerate(tables):
            columns = np.flatnonzero(klass[position] == c)
            out.append((columns, table[rank[position[columns]]]))
        return out

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_tables"] = None  # derived; rebuilt on first use
        return state


def _check_symbols(symbols, name):
    S = np.asarray(symbols)
    if S.ndim != 2 or not np.issubdtype(S.dtype, np.integer) or S.size == 0:
        raise ValueError(
            f"CategoricalEntropyModel.{name} expects a non-empty 2-D integer array "
            f"(observations x positions); got shape {S.shape} and dtype {S.dtype}."
        )
    return S


def _clipped_range(S):
    """Smallest and largest symbol of each column, within the escape limit."""
    lo = np.clip(S.min(axis=0), -_MAX_MAGNITUDE, _MAX_MAGNITUDE).astype(np.int64)
    hi = np.clip(S.max(axis=0), -_MAX_MAGNITUDE, _MAX_MAGNITUDE).astype(np.int64)
    return lo, hi


def _count(S, lo, hi):
    """Counts ``(n_positions, max(hi - lo) + 1)`` of the symbols within ``[lo, hi]``."""
    width = int((hi - lo).max()) + 1
    offset = S - lo
    inside = (offset >= 0) & (offset <= hi - lo)
    keys = (np.arange(S.shape[1]) * width + offset)[inside]
    return np.bincount(keys, minlength=S.shape[1] * width).reshape(S.shape[1], width)
