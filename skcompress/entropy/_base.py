"""The base class of every entropy model: one interface, and the plumbing they share."""

import math
from abc import ABC, abstractmethod
from numbers import Integral

from sklearn.utils.validation import check_is_fitted

from .._core._fitted import FittedMixin
from . import _coder


class EntropyModel(FittedMixin, ABC):
    """Base class of the entropy models: code lengths, and real bitstreams.

    An entropy model learns the statistics of quantized symbols (:meth:`fit`,
    or :meth:`partial_fit` batch by batch), says what each sample would cost
    an ideal coder (:meth:`code_lengths`), and writes one self-describing
    bitstream per sample (:meth:`compress`: format byte, shape, payload and a
    CRC-32 tied to the model by :attr:`fingerprint_`), which
    :meth:`decompress` reads back exactly. :meth:`header_bits` gives what a
    bitstream spends outside its payload, from the shape of the symbols it
    holds.

    The CRC-32 detects accidents (truncation, flipped bits, a bitstream
    handed to the wrong model), not forgery: :attr:`fingerprint_` is public,
    so anyone who has the model can write a header that passes it. What
    bounds the time and memory a hostile bitstream costs is
    :meth:`decompress`'s check of the declared shape against ``shape`` and
    ``max_values``, made from the header before anything is allocated or
    decoded; past it, decoding costs time and memory linear in the declared
    size. Before :meth:`fit`, every method that needs the fitted tables
    raises :class:`~sklearn.exceptions.NotFittedError` (a ``ValueError``),
    and :func:`~sklearn.utils.validation.check_is_fitted` works on every
    model.

    The models are not scikit-learn estimators: they fit integer symbols, not
    ``(X, y)``, and have no ``transform`` or ``predict``. A
    :class:`~skcompress.codecs.Codec` puts one behind transform and quantizer
    steps.

    Attributes
    ----------
    fingerprint_ : int
        CRC-32 of the fitted tables, mixed into every bitstream's checksum,
        so that a bitstream decodes only with the model that wrote it.

    See Also
    --------
    CategoricalEntropyModel : one distribution per symbol position.
    BlockContextModel : context modelling of block-transform coefficients.
    GainShapeModel : pyramid VQ gains and codewords.

    Notes
    -----
    A subclass implements the five public methods above, names its bitstream
    kind (``_kind``) and the number of its header fields (``_n_fields``),
    what fit sets (``_fitted_attribute``), the arrays its fingerprint hashes
    (``_fingerprint_arrays``) and, for shapes of more than one dimension, its
    header fields (``_header_fields``). Tables derived from the fitted state
    (``_derived``, built by ``_build_tables``) are rebuilt on first use, after
    a refit and after unpickling, rather than stored.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.exceptions import NotFittedError
    >>> from sklearn.utils.validation import check_is_fitted
    >>> from skcompress.entropy import CategoricalEntropyModel, EntropyModel
    >>> model = CategoricalEntropyModel()
    >>> isinstance(model, EntropyModel)
    True
    >>> try:
    ...     model.compress(np.zeros((1, 2), dtype=int))
    ... except NotFittedError as error:
    ...     print(error)
    CategoricalEntropyModel.compress: the model is not fitted yet; call fit first.
    >>> model = model.fit(np.array([[0, 1], [0, 2], [1, 1]]))
    >>> check_is_fitted(model)
    >>> strings = model.compress(np.array([[0, 1, 0, 2]]))
    >>> model.header_bits((4,))   # format byte, the varint 4 and the CRC-32
    48
    >>> np.array_equal(model.decompress(strings), [[0, 1, 0, 2]])
    True
    """

    #: Bitstream kind (``_coder.KIND_*``) and number of varint fields in its header.
    _kind = None
    _n_fields = 1
    #: The attribute that fit sets: the model is fitted once it exists.
    _fitted_attribute = "counts_"
    #: Attributes derived from the fitted state: cleared on refit, not pickled.
    _derived = ("_fingerprint", "_tables")

    @abstractmethod
    def fit(self, symbols):
        """Learn the statistics of training symbols.

        Parameters
        ----------
        symbols : array-like of int
            In the layout the model codes.

        Returns
        -------
        self : EntropyModel
        """

    @abstractmethod
    def partial_fit(self, symbols):
        """Add one more batch to the statistics; the first call is :meth:`fit`.

        Parameters
        ----------
        symbols : array-like of int
            As for :meth:`fit`.

        Returns
        -------
        self : EntropyModel
        """

    @abstractmethod
    def code_lengths(self, symbols):
        """Ideal code lengths in bits under the fitted model.

        Parameters
        ----------
        symbols : array-like of int

        Returns
        -------
        bits : ndarray of float64
        """

    @abstractmethod
    def compress(self, symbols):
        """Code every sample (row) of ``symbols`` into its own bitstream.

        Parameters
        ----------
        symbols : array-like of int
            One sample per bitstream along the first axis.

        Returns
        -------
        strings : list of bytes
            Each sealed with a CRC-32 keyed by :attr:`fingerprint_`, which
            detects accidents, not forgery (the fingerprint is public). A
            sample that :meth:`decompress` would refuse by default (more than
            ``2**24`` values) is refused here.
        """

    @abstractmethod
    def decompress(self, strings, *, shape=None, max_values=None):
        """Decode bitstreams from :meth:`compress` back to the exact symbols.

        A bitstream that is truncated, corrupted or was written by another
        model fails its checksum and raises a ValueError before anything is
        decoded; so do bitstreams of different shapes passed together, and
        a header that declares a shape other than ``shape`` or more than
        ``max_values`` values.

        Parameters
        ----------
        strings : list of bytes
        shape : tuple of int, optional
            The shape of one bitstream's symbols the caller expects
            (``symbols.shape[1:]`` of what :meth:`compress` was given, as
            for :meth:`header_bits`). A bitstream that declares another is
            refused from its header. :class:`~skcompress.codecs.Codec`
            passes the shape it was fitted on.
        max_values : int, optional
            Most values one bitstream may declare (default
            ``2**24``, a 4096 x 4096 gray image), checked from the header
            before anything is allocated or decoded. The checksum does not
            stop a forged header (see the class notes): this limit bounds
            what a hostile bitstream costs. Raise it to decode larger
            bitstreams from a source you trust.

        Returns
        -------
        symbols : ndarray
        """

    def header_bits(self, symbol_shape):
        """Bits a bitstream spends outside its payload.

        Parameters
        ----------
        symbol_shape : tuple of int, or int
            Shape of the symbols of one bitstream: ``symbols.shape[1:]`` of
            what :meth:`compress` is given. An int ``n`` stands for ``(n,)``.

        Returns
        -------
        bits : int
            The format byte, the varint fields of the shape and the 4-byte
            CRC-32.
        """
        shape = _as_shape(symbol_shape, f"{type(self).__name__}.header_bits")
        return _coder.header_bits(self._kind, self._header_fields(shape))

    def _header_fields(self, shape, name="header_bits"):
        """Header fields of a bitstream of symbols of ``shape``: one value count."""
        if len(shape) != 1 or shape[0] < 0:
            raise ValueError(
                f"{type(self).__name__}.{name} expects the shape of one bitstream's "
                f"symbols, (n_values,); got {shape}."
            )
        return [shape[0]]

    def _declared_shape(self, fields):
        """The shape of one bitstream's symbols that header ``fields`` declare."""
        return tuple(fields)

    def _declared_size(self, fields):
        """What decoding a bitstream with header ``fields`` costs, in values.

        Compared with ``max_values``; a model whose decoder costs more than
        its values (:class:`BlockContextModel`'s wavefront) counts that too.
        """
        return math.prod(self._declared_shape(fields))

    def _max_values(self, max_values):
        """The limit that ``max_values`` (None: :data:`_coder.MAX_VALUES`) sets, checked."""
        if max_values is None:
            return _coder.MAX_VALUES
        if (
            isinstance(max_values, Integral)
            and not isinstance(max_values, bool)
            and max_values > 0
        ):
            return int(max_values)
        raise ValueError(
            f"{type(self).__name__}.decompress: max_values must be an int >= 1 or None; got "
            f"{max_values!r}."
        )

    def _check_declared(self, fields, shape, limit):
        """Refuse header ``fields`` that ``shape`` or the limit ``limit`` rule out."""
        name = type(self).__name__
        self._check_header(fields)
        declared = self._declared_shape(fields)
        if shape is not None:
            shape = _as_shape(shape, f"{name}.decompress")
            if list(fields) != list(self._header_fields(shape, "decompress")):
                raise ValueError(
                    f"{name}.decompress: the bitstreams declare symbols of shape {declared}; "
                    f"expected {shape} (shape=). They are corrupted, or were written for "
                    "other signals."
                )
        size = self._declared_size(fields)
        if size > limit:
            raise ValueError(
                f"{name}.decompress: a bitstream declares symbols of shape {declared} "
                f"({self._size_text(fields, size)}), more than max_values={limit}; refused "
                "before decoding. Pass a larger max_values to decode a bitstream from a "
                "source you trust."
            )

    def _size_text(self, fields, size):
        return f"{size} values"

    def _check_header(self, fields):
        """Raise a ValueError on header ``fields`` this model cannot have written."""

    @abstractmethod
    def _fingerprint_arrays(self):
        """The arrays of the fitted state that :attr:`fingerprint_` hashes."""

    @property
    def fingerprint_(self):
        """CRC-32 of the fitted tables, mixed into every bitstream's checksum."""
        if getattr(self, "_fingerprint", None) is None:
            self._check_fitted("fingerprint_")
            self._fingerprint = _coder.fingerprint(*self._fingerprint_arrays())
        return self._fingerprint

    def _coding_tables(self):
        """The coder's tables, built from the fitted state on first use."""
        if getattr(self, "_tables", None) is None:
            self._tables = self._build_tables()
        return self._tables

    def _build_tables(self):
        return None

    def _derived_changed(self):
        """Forget what was derived from the fitted state (it changed)."""
        for name in self._derived:
            setattr(self, name, None)

    def _pack(self, fields, payloads):
        """Bitstreams of ``payloads``, each with the header ``fields`` and a checksum."""
        return [_coder.pack(self._kind, fields, p, self.fingerprint_) for p in payloads]

    def _unpack_all(self, strings, shape=None, max_values=None):
        """Check bitstreams of this model; their payloads and their common header fields.

        The header fields are checked against ``shape`` and ``max_values``
        (:meth:`decompress`) before anything is decoded.

        Returns
        -------
        payloads : list of bytes
        fields : tuple of int or None
            The header fields all the bitstreams share; None for no bitstream.
        """
        self._check_fitted("decompress")
        limit = self._max_values(max_values)
        if isinstance(strings, (bytes, bytearray, memoryview)):
            raise TypeError(
                "decompress expects a list of bitstreams (one per sample); got a single bytes "
                "object. Wrap it in a list."
            )
        payloads, headers = [], set()
        for s in strings:
            fields, payload = _coder.unpack(
                s, self._kind, self._n_fields, self.fingerprint_, "decompress"
            )
            payloads.append(payload)
            headers.add(tuple(fields))
        if len(headers) > 1:
            raise ValueError(
                "decompress: the bitstreams hold symbols of different shapes (header fields "
                f"{sorted(headers)}); decompress them separately."
            )
        fields = headers.pop() if headers else None
        if fields is not None:
            self._check_declared(fields, shape, limit)
        return payloads, fields

    def _check_fitted(self, name):
        check_is_fitted(self, msg=f"%(name)s.{name}: the model is not fitted yet; call fit first.")

    def __getstate__(self):
        state = self.__dict__.copy()
        for name in self._derived:
            state[name] = None
        return state


def _as_shape(shape, name):
    """``shape`` (a tuple of ints, or an int ``n`` for ``(n,)``) as a tuple of Python ints."""
    if isinstance(shape, Integral):
        return (int(shape),)
    try:
        items = tuple(shape)
    except TypeError:
        items = None
    if items is None or not all(isinstance(s, Integral) for s in items):
        raise TypeError(f"{name}: a shape is a tuple of ints; got {shape!r}.")
    return tuple(int(s) for s in items)
