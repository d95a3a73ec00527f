"""Static categorical entropy models: the ideal code length of integer symbols."""

import numpy as np

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

    This is an *estimate*: the ideal code length that an arithmetic coder
    with this static model approaches (within a few bits per stream), without
    the cost of transmitting the model itself.

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
        S = np.asarray(symbols)
        if S.ndim != 2 or not np.issubdtype(S.dtype, np.integer) or S.size == 0:
            raise ValueError(
                "CategoricalEntropyModel.fit expects a non-empty 2-D integer array "
                f"(observations x positions); got shape {S.shape} and dtype {S.dtype}."
            )
        lo = np.clip(S.min(axis=0), -_MAX_MAGNITUDE, _MAX_MAGNITUDE).astype(np.int64)
        hi = np.clip(S.max(axis=0), -_MAX_MAGNITUDE, _MAX_MAGNITUDE).astype(np.int64)
        width = int((hi - lo).max()) + 1
        offset = S - lo
        inside = (offset >= 0) & (offset <= hi - lo)
        keys = (np.arange(S.shape[1]) * width + offset)[inside]
        counts = np.bincount(keys, minlength=S.shape[1] * width).reshape(S.shape[1], width)
        alphabet = (hi - lo + 1).astype(np.float64)
        total = len(S) + (alphabet + 1) / 2
        in_range = np.arange(width) < alphabet[:, None]
        self.low_ = lo
        self.alphabet_size_ = alphabet.astype(np.int64)
        self.counts_ = counts
        self.bits_ = np.where(in_range, -np.log2((counts + 0.5) / total[:, None]), np.inf)
        self.escape_bits_ = -np.log2(0.5 / total)
        return self

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
            magnitude = np.abs(S[outside]).astype(np.float64) + 1
            gamma = 2 * np.floor(np.log2(magnitude)) + 1
            bits[outside] = np.broadcast_to(self.escape_bits_, S.shape)[outside] + gamma + 1
        return bits
