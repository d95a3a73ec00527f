"""Gain-shape symbols of pyramid vector quantization: modelled gains, uniform codewords."""

import math

import numpy as np

from . import _coder
from ._base import EntropyModel
from ._categorical import CategoricalEntropyModel

_INT64_LIMIT = 1 << 63


class GainShapeModel(EntropyModel):
    """Entropy model of :class:`~skcompress.quantization.PyramidVQ` symbols.

    Each vector's gain symbol is coded under one categorical distribution per
    vector position (:class:`CategoricalEntropyModel`, escapes included), and
    the codeword index of every non-silent vector as a uniform integer in
    ``[0, V)``, ``V`` the codebook size of its band: ``log2 V`` bits, as CELT
    sends its pyramid codewords (``ec_enc_uint``). Indices may be Python ints beyond
    int64 (object arrays), as ``PyramidVQ`` emits them for large codebooks.

    Parameters
    ----------
    codebook_size : int or sequence of int
        ``V(N, K)``, the number of codewords (``PyramidVQ.codebook_size_``).
        A sequence gives one size per band, as a banded ``PyramidVQ`` has
        them: vector ``j`` of a sample has size ``codebook_size[j % B]``.

    Attributes
    ----------
    gain_model_ : CategoricalEntropyModel
        Distributions of the gain symbols, one per vector position.
    n_vectors_ : int
        Vectors per sample.

    Examples
    --------
    >>> import numpy as np
    >>> from skcompress.quantization import PyramidVQ
    >>> from skcompress.entropy import GainShapeModel
    >>> X = np.random.default_rng(0).normal(size=(50, 64))
    >>> pvq = PyramidVQ(vector_size=16, pulses=80).fit(X)
    >>> symbols = pvq.transform(X)
    >>> symbols.dtype, pvq.codebook_size_ > 2**63   # indices beyond int64
    (dtype('O'), True)
    >>> model = GainShapeModel(pvq.codebook_size_).fit(symbols[:40])
    >>> strings = model.compress(symbols[40:])
    >>> bool(np.all(model.decompress(strings) == symbols[40:]))
    True

    A banded ``PyramidVQ`` (a K per band, so a codebook size per band):

    >>> banded = PyramidVQ(bands=[0, 4, 16], pulses=[6, 3]).fit(X[:, :16])
    >>> S = banded.transform(X[:, :16])
    >>> model = GainShapeModel(banded.codebook_size_).fit(S[:40])
    >>> bool(np.all(model.decompress(model.compress(S[40:])) == S[40:]))
    True
    """

    _kind = _coder.KIND_PYRAMID
    _fitted_attribute = "gain_model_"
    _derived = ("_fingerprint",)

    def __init__(self, codebook_size):
        self.codebook_size = codebook_size

    def fit(self, symbols):
        """Learn the gain distributions.

        Parameters
        ----------
        symbols : array-like, shape (n_samples, 2 * n_vectors)
            Gain symbol then codeword index of every vector (int64 or object).

        Returns
        -------
        self : GainShapeModel
        """
        gains, _ = self._split(symbols, "fit")
        self.n_vectors_ = gains.shape[1]
        self.gain_model_ = CategoricalEntropyModel().fit(gains)
        self._derived_changed()
        return self

    def partial_fit(self, symbols):
        """Add one more batch to the gain statistics (the first call is :meth:`fit`).

        Any sequence of calls gives the model that :meth:`fit` gives on all
        the batches at once (see :meth:`CategoricalEntropyModel.partial_fit`).

        Parameters
        ----------
        symbols : array-like, shape (n_samples, 2 * n_vectors)
            Gain symbol then codeword index of every vector (int64 or object).

        Returns
        -------
        self : GainShapeModel
        """
        if not self.__sklearn_is_fitted__():
            return self.fit(symbols)
        gains, _ = self._split(symbols, "partial_fit")
        self.gain_model_.partial_fit(gains)
        self._derived_changed()
        return self

    def _check_header(self, fields):
        if fields[0] != 2 * self.n_vectors_:
            raise ValueError(
                f"GainShapeModel.decompress: the bitstreams hold {fields[0]} symbols each; this "
                f"model codes {2 * self.n_vectors_}."
            )

    def _fingerprint_arrays(self):
        return (
            np.array([self.gain_model_.fingerprint_]),
            np.frombuffer(self._sizes_text().encode(), np.uint8),
        )

    def _sizes(self):
        """The codebook sizes as a list of Python ints, one per band (checked)."""
        size = self.codebook_size
        sizes = list(size) if isinstance(size, (list, tuple, np.ndarray)) else [size]
        for v in sizes:
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(
                    "GainShapeModel: codebook_size must be an int >= 1 or a non-empty sequence "
                    f"of them (one per band); got {size!r}."
                )
        if not sizes:
            raise ValueError("GainShapeModel: codebook_size is an empty sequence.")
        return [int(v) for v in sizes]

    def _sizes_text(self):
        """The sizes as text that numpy's printing cannot change (one size: as before)."""
        sizes = self._sizes()
        return str(sizes[0]) if len(sizes) == 1 else str(sizes)

    def _bands(self):
        """Per band: its vector columns' offset, digit alphabets, digit shifts and size."""
        sizes = self._sizes()
        return [(b, *_coder.index_digits(v), v) for b, v in enumerate(sizes)], len(sizes)

    def _split(self, symbols, name):
        S = np.asarray(symbols)
        if S.ndim != 2 or S.shape[1] % 2 or S.shape[1] == 0 or S.dtype.kind not in "iuO":
            raise ValueError(
                f"GainShapeModel.{name} expects integer symbols of shape (n_samples, "
                f"2 * n_vectors) (gain, index pairs); got shape {S.shape} and dtype {S.dtype}."
            )
        if hasattr(self, "n_vectors_") and S.shape[1] != 2 * self.n_vectors_:
            raise ValueError(
                f"GainShapeModel.{name} expects {2 * self.n_vectors_} symbols per sample "
                f"({self.n_vectors_} vectors); got {S.shape[1]}."
            )
        try:
            gains = S[:, 0::2].astype(np.int64)
        except (TypeError, OverflowError):
            raise ValueError(
                f"GainShapeModel.{name}: gain symbols must be int64 integers."
            ) from None
        index = S[:, 1::2]
        sizes = self._sizes()
        largest = max(sizes)
        if index.dtype == object:
            if not all(isinstance(v, (int, np.integer)) for v in index.ravel().tolist()):
                raise ValueError(f"GainShapeModel.{name}: codeword indices must be integers.")
            if largest < _INT64_LIMIT:
                index = index.astype(np.int64)
        coded = gains > 0
        if index.shape[1] % len(sizes):
            raise ValueError(
                f"GainShapeModel.{name}: {len(sizes)} codebook sizes (one per band) need a "
                f"multiple of {len(sizes)} vectors per sample; got {index.shape[1]}."
            )
        if index.size:
            column_size = np.resize(np.array(sizes, dtype=object), index.shape[1])
            limit = column_size if largest >= _INT64_LIMIT else column_size.astype(np.int64)
            if np.any(index[coded] < 0) or np.any((index >= limit)[coded]):
                bound = f"[0, {sizes[0]})" if len(sizes) == 1 else f"[0, V_b) (V = {sizes})"
                raise ValueError(
                    f"GainShapeModel.{name}: codeword indices must lie in {bound} "
                    "(codebook_size); got one outside."
                )
        if index.size and np.any(index[~coded] != 0):
            raise ValueError(
                f"GainShapeModel.{name}: silent vectors (gain 0) carry codeword index 0."
            )
        return gains, index

    def compress(self, symbols):
        """Code every sample into its own bitstream.

        Parameters
        ----------
        symbols : array-like, shape (n_samples, 2 * n_vectors)

        Returns
        -------
        strings : list of bytes
            One bitstream per sample: header byte, ``2 * n_vectors``,
            payload, CRC-32 (which detects accidents, not forgery: see
            :meth:`decompress`).
        """
        self._check_fitted("compress")
        gains, index = self._split(symbols, "compress")
        segments, escapes = self.gain_model_._token_segments(gains)
        bands, B = self._bands()
        streams, values, alphabets = [], [], []
        for b, sizes, shifts, _ in bands:  # a stream's codewords band by band, in column order
            if not sizes:
                continue
            stream, column = np.nonzero(gains[:, b::B] > 0)
            chosen = index[:, b::B][stream, column]
            digits = [
                np.asarray((chosen >> shift) & ((1 << (size - 1).bit_length()) - 1)).astype(
                    np.int64
                )
                for size, shift in zip(sizes, shifts, strict=True)
            ]
            streams.append(np.repeat(stream, len(sizes)))
            values.append(np.stack(digits, axis=1).ravel() if len(stream) else np.zeros(0, int))
            alphabets.append(np.tile(np.asarray(sizes, dtype=np.int64), len(stream)))
        tail = None
        if streams and sum(len(v) for v in streams):
            stream = np.concatenate(streams)
            order = np.argsort(stream, kind="stable")
            tail = tuple(np.concatenate(a)[order] for a in (streams, values, alphabets))
        payloads = _coder.encode_streams(len(gains), segments, escapes, tail)
        return self._pack([2 * self.n_vectors_], payloads)

    def decompress(self, strings, *, shape=None, max_values=None):
        """Decode bitstreams from :meth:`compress`.

        The header is checked before anything is decoded: every bitstream
        must hold the model's ``2 * n_vectors_`` symbols (and ``shape``,
        ``max_values`` when given, as for
        :meth:`EntropyModel.decompress`), so decoding one costs bounded time
        and memory.

        Parameters
        ----------
        strings : list of bytes
        shape : tuple of int, optional
            ``(2 * n_vectors,)`` expected of every bitstream.
        max_values : int, optional
            Most symbols a bitstream may declare; default ``2**24``. The
            CRC-32 detects accidents, not forgery (:attr:`fingerprint_` is
            public).

        Returns
        -------
        symbols : ndarray, shape (n_samples, 2 * n_vectors)
            int64, or object (Python ints) when a codebook size is at least
            ``2**63``, as ``PyramidVQ.transform`` gives them.
        """
        payloads, _ = self._unpack_all(strings, shape, max_values)
        bands, B = self._bands()
        big = max(v for *_, v in bands) >= _INT64_LIMIT
        kind = object if big else np.int64
        out = np.zeros((len(payloads), 2 * self.n_vectors_), dtype=kind)
        read_gains = self.gain_model_._row_reader(self.n_vectors_)
        for i, payload in enumerate(payloads):
            reader = _coder.Reader(payload)
            gains = read_gains(reader)
            out[i, 0::2] = gains
            for b, sizes, shifts, size in bands:
                coded = b + B * np.flatnonzero(gains[b::B] > 0)
                if not sizes or not len(coded):
                    continue
                digits = reader.uniform(np.tile(np.asarray(sizes, dtype=np.int64), len(coded)))
                digits = digits.reshape(len(coded), len(sizes)).astype(kind)
                values = (digits << np.asarray(shifts, dtype=kind)).sum(axis=1)
                if values.max() >= size:
                    raise ValueError("decompress: a codeword index is out of range (corrupted).")
                out[i, 2 * coded + 1] = values
        return out

    def code_lengths(self, symbols):
        """Ideal bits of every sample: the gains' code lengths plus ``log2 V`` per codeword
        (``V`` of its band).

        Parameters
        ----------
        symbols : array-like, shape (n_samples, 2 * n_vectors)

        Returns
        -------
        bits : ndarray of float64, shape (n_samples,)
        """
        self._check_fitted("code_lengths")
        gains, _ = self._split(symbols, "code_lengths")
        bits = self.gain_model_.code_lengths(gains).sum(axis=1)
        per_vector = np.resize([math.log2(v) for v in self._sizes()], gains.shape[1])
        return bits + ((gains > 0) * per_vector).sum(axis=1)
