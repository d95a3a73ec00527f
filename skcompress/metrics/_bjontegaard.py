"""Bjontegaard deltas: the average gap between two rate-distortion curves."""

import numpy as np
from scipy.interpolate import PchipInterpolator

# Fewest points each fit takes: a cubic polynomial needs four, PCHIP two (a line).
_MIN_POINTS = {"pchip": 2, "cubic": 4}


def _check_method(method, caller):
    if not isinstance(method, str) or method not in _MIN_POINTS:
        raise ValueError(f"{caller}: method must be 'pchip' or 'cubic'; got {method!r}.")


def _curve(rate, quality, which, method, caller):
    """``log10(rate)`` and quality of one curve as float64, sorted by rate, checked."""
    rate_name, quality_name = f"rate_{which}", f"quality_{which}"
    rate = np.asarray(rate, dtype=np.float64)
    quality = np.asarray(quality, dtype=np.float64)
    for name, values in ((rate_name, rate), (quality_name, quality)):
        if values.ndim != 1:
            raise ValueError(f"{caller}: {name} must be 1-D; got shape {values.shape}.")
        if not np.all(np.isfinite(values)):
            raise ValueError(f"{caller}: {name} must be finite; got {values.tolist()}.")
    if len(rate) != len(quality):
        raise ValueError(
            f"{caller}: {rate_name} and {quality_name} must have the same length; got "
            f"{len(rate)} and {len(quality)}."
        )
    if len(rate) < _MIN_POINTS[method]:
        raise ValueError(
            f"{caller}: method={method!r} needs at least {_MIN_POINTS[method]} points per curve; "
            f"{rate_name} has {len(rate)}."
        )
    if np.any(rate <= 0):
        raise ValueError(f"{caller}: {rate_name} must be positive; got {rate.tolist()}.")
    order = np.argsort(rate, kind="stable")
    rate, quality = rate[order], quality[order]
    if np.any(np.diff(rate) == 0):
        raise ValueError(
            f"{caller}: {rate_name} has duplicate rates {rate.tolist()}; keep one point per rate "
            "(average their qualities, or keep the better one)."
        )
    return np.log10(rate), quality


def _mean_gap(x_anchor, y_anchor, x_test, y_test, method, axis, caller):
    """Mean of ``f_test - f_anchor`` over the overlap of the two ``x`` ranges."""
    low = max(x_anchor[0], x_test[0])
    high = min(x_anchor[-1], x_test[-1])
    if not high > low:
        shown = (lambda v: 10.0**v) if axis == "rate" else (lambda v: v)  # rates, not logs
        raise ValueError(
            f"{caller}: the two curves do not overlap in {axis}: the anchor spans "
            f"[{shown(x_anchor[0]):.6g}, {shown(x_anchor[-1]):.6g}], the test "
            f"[{shown(x_test[0]):.6g}, {shown(x_test[-1]):.6g}]; measure the codecs over a "
            "common range."
        )
    gap = _area(x_test, y_test, method, low, high) - _area(x_anchor, y_anchor, method, low, high)
    return float(gap / (high - low))


def _area(x, y, method, low, high):
    """Integral over [low, high] of the curve fitted through the points (x, y)."""
    if method == "pchip":
        return PchipInterpolator(x, y).integrate(low, high)
    # VCEG-M33: a cubic polynomial, least squares (exact through four points)
    integral = np.polynomial.Polynomial.fit(x, y, 3).integ()
    return integral(high) - integral(low)


def bd_rate(rate_anchor, quality_anchor, rate_test, quality_test, *, method="pchip"):
    """Bjontegaard delta rate: the average bit-rate change of the test at equal quality.

    Each curve's ``log10(rate)`` is interpolated as a function of quality;
    the mean gap between the two over the quality range both curves cover
    is turned into a percentage, ``(10**gap - 1) * 100`` (Bjontegaard,
    VCEG-M33, 2001).

    Parameters
    ----------
    rate_anchor, quality_anchor : array-like of shape (n_points,)
        Rates (any positive unit: bits per pixel, kbit/s) and qualities (PSNR
        in dB, SSIM, ...) of the reference codec, in any order.
    rate_test, quality_test : array-like of shape (n_test_points,)
        The same for the codec under test (the number of points may differ).
    method : {"pchip", "cubic"}, default="pchip"
        "pchip": piecewise cubic Hermite interpolation through the points
        (Fritsch-Carlson slopes, as in the JCT-VC/JVET common test
        conditions' spreadsheet and the ``bjontegaard`` package); two points
        or more. "cubic": VCEG-M33's cubic polynomial, least squares over
        four points or more (exact through four).

    Returns
    -------
    bd_rate : float
        Percent; negative when the test needs fewer bits for the same
        quality (-10.0: 10 % fewer bits).

    Raises
    ------
    ValueError
        If a curve has too few points, a rate that is not positive, a value
        that is not finite, two points at one rate, a quality that does not
        rise strictly with rate; or if the curves share no range of quality.

    See Also
    --------
    bd_psnr : The average quality gap at equal rate.

    Examples
    --------
    >>> rate = [0.25, 0.5, 1.0, 2.0]
    >>> psnr = [30.0, 33.0, 36.0, 39.0]
    >>> round(bd_rate(rate, psnr, [0.2, 0.4, 0.8, 1.6], psnr), 6)  # 20 % fewer bits
    -20.0
    """
    caller = "bd_rate"
    _check_method(method, caller)
    x_anchor, q_anchor = _curve(rate_anchor, quality_anchor, "anchor", method, caller)
    x_test, q_test = _curve(rate_test, quality_test, "test", method, caller)
    for q, name in ((q_anchor, "quality_anchor"), (q_test, "quality_test")):
        if np.any(np.diff(q) <= 0):
            raise ValueError(
                f"{caller}: {name} must rise strictly with rate (the rate at a quality must be "
                f"unique); got {q.tolist()} sorted by rate."
            )
    gap = _mean_gap(q_anchor, x_anchor, q_test, x_test, method, "quality", caller)
    return float((10.0**gap - 1.0) * 100.0)


def bd_psnr(rate_anchor, quality_anchor, rate_test, quality_test, *, method="pchip"):
    """Bjontegaard delta quality: the average quality gain of the test at equal rate.

    Each curve's quality is interpolated as a function of ``log10(rate)``;
    the result is the mean gap between the two over the range of rates both
    curves cover (Bjontegaard, VCEG-M33, 2001). Named for PSNR, but any
    quality works, in its own unit.

    Parameters
    ----------
    rate_anchor, quality_anchor : array-like of shape (n_points,)
        Rates (positive, any unit) and qualities of the reference codec, in
        any order.
    rate_test, quality_test : array-like of shape (n_test_points,)
        The same for the codec under test.
    method : {"pchip", "cubic"}, default="pchip"
        As for :func:`bd_rate`.

    Returns
    -------
    bd_psnr : float
        In the unit of the quality (dB for PSNR); positive when the test is
        better.

    Raises
    ------
    ValueError
        If a curve has too few points, a rate that is not positive, a value
        that is not finite or two points at one rate; or if the curves share
        no range of rates.

    See Also
    --------
    bd_rate : The average rate change at equal quality.

    Examples
    --------
    >>> rate = [0.25, 0.5, 1.0, 2.0]
    >>> round(bd_psnr(rate, [30, 33, 36, 39], rate, [30.5, 33.5, 36.5, 39.5]), 6)
    0.5
    """
    caller = "bd_psnr"
    _check_method(method, caller)
    x_anchor, q_anchor = _curve(rate_anchor, quality_anchor, "anchor", method, caller)
    x_test, q_test = _curve(rate_test, quality_test, "test", method, caller)
    return _mean_gap(x_anchor, q_anchor, x_test, q_test, method, "rate", caller)
