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
            One bitstream per row: header byte, ``n_values``, payload, CRC-32
            (which detects accidents, not forgery: see :meth:`decompress`).
        """
        S = self._check_rows(symbols, "compress")
        segments, escapes = self._token_segments(S)
        return self._pack([S.shape[1]], _coder.encode_streams(len(S), segments, escapes))

    def decompress(self, strings, *, shape=None, max_values=None):
        """Decode bitstreams from :meth:`compress` back to the exact symbols.

        The header of every bitstream is checked before anything is decoded:
        its number of values must be a multiple of the model's positions, be
        ``shape`` when given and not exceed ``max_values``. Past that check,
        decoding costs time and memory linear in the declared values.

        Parameters
        ----------
        strings : list of bytes
            Bitstreams written by this model (all with the same number of
            values).
        shape : tuple of int, optional
            ``(n_values,)`` expected of every bitstream (what a caller that
            knows it, a :class:`~skcompress.codecs.Codec`, passes).
        max_values : int, optional
            Most values a bitstream may declare; default ``2**24``. The
            CRC-32 detects accidents, not forgery: the model's
            :attr:`fingerprint_` is public, so this limit is what bounds the
            cost of a hostile bitstream.

        Returns
        -------
        symbols : ndarray of int64, shape (n_streams, n_values)

        Raises
        ------
        ValueError
            If a bitstream is truncated, corrupted or was written by another
            model (its checksum fails), the streams differ in length, or a
            header declares what ``shape``, ``max_values`` or the model rule
            out.

        Examples
        --------
        >>> import numpy as np
        >>> from skcompress.entropy import CategoricalEntropyModel
        >>> model = CategoricalEntropyModel().fit(np.array([[0, 1], [1, 1]]))
        >>> strings = model.compress(np.zeros((1, 2000), dtype=int))
        >>> model.decompress(strings, shape=(2000,)).shape
        (1, 2000)
        >>> try:
        ...     model.decompress(strings, max_values=1000)
        ... except ValueError as error:
        ...     print(str(error)[:79])
        CategoricalEntropyModel.decompress: a bitstream declares symbols of shape (2000
        """
        payloads, fields = self._unpack_all(strings, shape, max_values)
        m = fields[0] if fields else len(self.low_)
        read = self._row_reader(m)
        out = np.empty((len(payloads), m), dtype=np.int64)
        for i, payload in enumerate(payloads):
            read(_coder.Reader(payload), out[i])
        return out

    def _fingerprint_arrays(self):
        return self.low_, self.alphabet_size_, self.counts_

    def _check_header(self, fields):
        if fields[0] % len(self.low_):
            raise ValueError(
                f"CategoricalEntropyModel.decompress: a bitstream declares {fields[0]} values, "
                f"not a multiple of the {len(self.low_)} positions of this model."
            )

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
        n, P = len(S), len(self.low_)
        q = S.shape[1] // P
        offset = S.reshape(n, q, P) - self.low_
        inside = (offset >= 0) & (offset < self.alphabet_size_)
        token = np.where(inside, offset, self.alphabet_size_)
        inside = inside.reshape(S.shape)
        segments = [
            (token[:, :, columns].reshape(n, q * len(columns)), rows)
            for columns, rows in self._segments()
        ]
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
        then its escaped values. It returns them as int64 (in ``out``, a
        row of ``m`` values, when given) and raises a ValueError on what no
        stream of this model holds. Its memory is that of the values and a
        bounded number of probability rows.
        """
        P = len(self.low_)
        q = m // P
        # each class's rows, tiled once for all the streams, and where the values of its
        # first piece go in the stream (a later piece's go whole observations further)
        segments = []
        for columns, rows in self._segments():
            pieces = _coder.periodic_pieces(rows, q * len(columns))
            span = len(pieces[0][2]) // len(columns) if pieces else 0
            segments.append(
                (len(columns), (np.arange(span)[:, None] * P + columns).ravel(), pieces)
            )
        limit = np.uint64(1) << np.uint64(63)
        size, low = self.alphabet_size_, self.low_

        def read(reader, out=None):
            values = np.empty(m, dtype=np.int64) if out is None else out
            token = values.reshape(q, P)
            for width, where, pieces in segments:
                for a, b, rows in pieces:
                    at = where[: b - a] if a == 0 else where[: b - a] + a // width * P
                    values[at] = reader.categorical(rows)
            if np.any(token > size):
                raise ValueError(
                    "decompress: a symbol lies outside its alphabet (corrupted data)."
                )
            escaped = np.flatnonzero(token == size)
            token += low
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

    def _segments(self):
        """``[(columns, rows)]``: the positions of one observation, class by class.

        ``rows[j]`` is the probability row of position ``columns[j]``; a
        stream of ``k`` observations codes each class's values observation
        by observation, its rows repeating every ``len(columns)`` values.
        """
        tables, klass, rank = self._coding_tables()
        out = []
        for c, table in enumerate(tables):
            columns = np.flatnonzero(klass == c)
            out.append((columns, table[rank[columns]]))
        return out
