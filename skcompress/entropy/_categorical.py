"""Static categorical entropy model: ideal code lengths, and real range coding under it."""

import numpy as np

from .._core._statistics import CategoricalStatistics
from . import _coder
from ._base import EntropyModel


class CategoricalEntropyModel(CategoricalStatistics, EntropyModel):
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

    _kind = _coder.KIND_CATEGORICAL
    # CategoricalStatistics comes first for fit and code lengths; its hook for
    # derived tables is a no-op, the base's clears them.
    _derived_changed = EntropyModel._derived_changed

    @classmethod
    def from_statistics(cls, statistics):
        """A model that codes with the counts of fitted symbol statistics.

        Parameters
        ----------
        statistics : CategoricalStatistics
            E.g. the ``entropy_model_`` of a fitted quantizer, whose rate
            estimate this model's bitstreams then realize.

        Returns
        -------
        model : CategoricalEntropyModel
        """
        model = cls()
        model.__dict__.update(
            {k: v.copy() if hasattr(v, "copy") else v for k, v in vars(statistics).items()}
        )
        model._derived_changed()
        return model

    def code_lengths(self, symbols):  # the docstring of CategoricalStatistics's
        self._check_fitted("code_lengths")
        return super().code_lengths(symbols)

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
        segments, escapes = self._token_segments(S)
        return self._pack([S.shape[1]], _coder.encode_streams(len(S), segments, escapes))

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
        payloads, fields = self._unpack_all(strings)
        m = fields[0] if fields else len(self.low_)
        if m % len(self.low_) or m > _coder.MAX_VALUES:
            raise ValueError(
                f"decompress: a bitstream declares {m} values, not a multiple of the "
                f"{len(self.low_)} positions of this model."
            )
        read = self._row_reader(m)
        out = np.empty((len(payloads), m), dtype=np.int64)
        for i, payload in enumerate(payloads):
            out[i] = read(_coder.Reader(payload))
        return out

    def _fingerprint_arrays(self):
        return self.low_, self.alphabet_size_, self.counts_

    def _check_rows(self, symbols, name):
        self._check_fitted(name)
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

    def _token_segments(self, S):
        """What :func:`~skcompress.entropy._coder.encode_streams` codes for rows ``S``.

        Parameters
        ----------
        S : ndarray of int64, shape (n_streams, m)
            Value ``i`` of a row has the distribution of position ``i % P``.

        Returns
        -------
        segments : list of (tokens, rows)
            The in-range tokens (or the escape token) class by class.
        escapes : tuple or None
            The Elias-gamma codes and signs of the escaped values, by stream.
        """
        position = np.arange(S.shape[1]) % len(self.low_)
        offset = S - self.low_[position]
        inside = (offset >= 0) & (offset < self.alphabet_size_[position])
        token = np.where(inside, offset, self.alphabet_size_[position])
        segments = [(token[:, g], rows) for g, rows in self._segments(S.shape[1])]
        escapes = None
        if not inside.all():
            stream, column = np.nonzero(~inside)
            values = S[stream, column]
            negative = values < 0
            magnitude = np.where(
                negative, ~values.astype(np.uint64) + np.uint64(1), values.astype(np.uint64)
            )
            escapes = (stream, *_coder.escape_symbols(magnitude, negative))
        return segments, escapes

    def _row_reader(self, m):
        """A function that reads the ``m`` values of one stream from a ``Reader``.

        The inverse of :meth:`_token_segments` for one stream: its tokens,
        then its escaped values. It returns them as int64 and raises a
        ValueError on what no stream of this model holds.
        """
        segments = self._segments(m)
        position = np.arange(m) % len(self.low_)
        low, width = self.low_[position], self.alphabet_size_[position]
        limit = np.uint64(1) << np.uint64(63)

        def read(reader):
            token = np.empty(m, dtype=np.int64)
            for g, rows in segments:
                token[g] = reader.categorical(rows)
            if np.any(token > width):
                raise ValueError(
                    "decompress: a symbol lies outside its alphabet (corrupted data)."
                )
            values = low + token
            escaped = np.flatnonzero(token == width)
            if escaped.size:
                magnitude, negative = _coder.read_escapes(reader, escaped.size, signed=True)
                if np.any(magnitude > limit) or np.any((magnitude == limit) & ~negative):
                    raise ValueError(
                        "decompress: an escaped value overflows int64 (corrupted data)."
                    )
                signed = magnitude.astype(np.int64)  # 2**63 wraps to the int64 minimum
                values[escaped] = np.where(negative, -signed, signed)
            return values

        return read

    def _build_tables(self):
        """Probability rows grouped by alphabet size (powers of two, escape included).

        Rows of one group have the same width, so every group is one family
        of a :class:`~skcompress.entropy._coder.StreamPlan` and a symbol's
        row costs its own alphabet, not the widest.
        """
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
        return tables, klass, rank

    def _segments(self, m):
        """``[(columns, rows)]``: the values of a stream of ``m`` values, class by class."""
        tables, klass, rank = self._coding_tables()
        position = np.arange(m) % len(self.low_)
        out = []
        for c, table in enumerate(tables):
            columns = np.flatnonzero(klass[position] == c)
            out.append((columns, table[rank[position[columns]]]))
        return out
