"""Symbol statistics without a coder: counts per position and ideal code lengths.

The quantizers and sparse coders estimate their rate with
:class:`CategoricalStatistics`; :class:`skcompress.entropy.CategoricalEntropyModel`
adds real range coding under the same probabilities.
"""

import numpy as np

from ._fitted import FittedMixin

# Symbols farther than this from zero are escaped rather than given a bin:
# quantized coefficients cluster at zero, and the table stays small.
MAX_MAGNITUDE = 2048


class CategoricalStatistics(FittedMixin):
    """Counts of symbols per position and their ideal code lengths, without a coder.

    The estimate of :class:`skcompress.entropy.CategoricalEntropyModel` (its
    docstring gives the probabilities and the escape), which adds range
    coding under the same counts; the quantizers' ``entropy_model_``.
    """

    _fitted_attribute = "counts_"

    def fit(self, symbols):
        """Count the symbols of each column.

        Parameters
        ----------
        symbols : array-like of int, shape (n_observations, n_positions)

        Returns
        -------
        self : object
        """
        S = _check_symbols(symbols, f"{type(self).__name__}.fit")
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
        self : object

        Examples
        --------
        >>> import numpy as np
        >>> S = np.random.default_rng(0).integers(-3, 4, size=(100, 5))
        >>> model = CategoricalStatistics()
        >>> for chunk in np.array_split(S, 4):
        ...     model = model.partial_fit(chunk)
        >>> whole = CategoricalStatistics().fit(S)
        >>> bool(np.array_equal(model.code_lengths(S), whole.code_lengths(S)))
        True
        """
        if not hasattr(self, "counts_"):
            return self.fit(symbols)
        S = _check_symbols(symbols, f"{type(self).__name__}.partial_fit")
        if S.shape[1] != len(self.low_):
            raise ValueError(
                f"{type(self).__name__}.partial_fit expects symbols of shape (n, "
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
        self._derived_changed()

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

    def _derived_changed(self):
        """Hook for subclasses whose cached tables follow the counts."""


def _check_symbols(symbols, name):
    S = np.asarray(symbols)
    if S.ndim != 2 or not np.issubdtype(S.dtype, np.integer) or S.size == 0:
        raise ValueError(
            f"{name} expects a non-empty 2-D integer array "
            f"(observations x positions); got shape {S.shape} and dtype {S.dtype}."
        )
    return S


def _clipped_range(S):
    """Smallest and largest symbol of each column, within the escape limit."""
    lo = np.clip(S.min(axis=0), -MAX_MAGNITUDE, MAX_MAGNITUDE).astype(np.int64)
    hi = np.clip(S.max(axis=0), -MAX_MAGNITUDE, MAX_MAGNITUDE).astype(np.int64)
    return lo, hi


def _count(S, lo, hi):
    """Counts ``(n_positions, max(hi - lo) + 1)`` of the symbols within ``[lo, hi]``."""
    width = int((hi - lo).max()) + 1
    offset = S - lo
    inside = (offset >= 0) & (offset <= hi - lo)
    keys = (np.arange(S.shape[1]) * width + offset)[inside]
    return np.bincount(keys, minlength=S.shape[1] * width).reshape(S.shape[1], width)
