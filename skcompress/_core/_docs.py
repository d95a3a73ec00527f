"""Docstring pieces shared by several estimators, filled in at class creation."""

import re
import textwrap


def fill_doc(doc, parts):
    """``doc`` with each placeholder line (e.g. ``{training}``) replaced by its piece.

    A piece is dedented, stripped of its final newline and indented as the
    docstring's own ``Parameters`` heading, whatever the indentation of the
    placeholder, so numpydoc reads the sections whole.
    """
    heading = re.search(r"^( *)Parameters$", doc, flags=re.MULTILINE)
    indent = heading.group(1) if heading else "    "
    for key, value in parts.items():
        piece = textwrap.indent(textwrap.dedent(value).rstrip("\n"), indent)
        doc = re.sub(
            r"^ *" + re.escape(key), lambda _, piece=piece: piece, doc, flags=re.MULTILINE
        )
    return doc


CHUNK_PARAMETERS = """\
batch_size : int or None, default=None
    Samples per chunk when ``transform`` or ``inverse_transform`` gets a
    numpy array of more: each chunk goes into its rows of one output array,
    so temporaries stay those of a chunk. None: small inputs whole, larger
    ones in 8 or more chunks within scikit-learn's ``working_memory``. See
    the "Scaling up" guide.
n_jobs : int or None, default=None
    Threads sharing the chunks of ``transform`` and ``inverse_transform``,
    each with one BLAS thread (joblib's convention: None is 1 unless a
    :func:`joblib.parallel_config` says otherwise, -1 all CPUs).
"""

DEVICE_PARAMETER = """\
device : str, torch.device or None, default=None
    None: numpy (tensors on their own device). A torch device ("cuda",
    "cpu"): its torch kernel there, numpy sent over and back in chunks of
    ``batch_size``. "auto": CUDA when present, else numpy. Outputs keep the
    input's type; see the "Scaling up" guide.
"""


DTYPE_PARAMETER = """\
dtype : numpy dtype or None, default=None
    Type of what :meth:`transform` returns: None keeps the step's own
    (float64, float32 for float32 input; int32 symbols); ``np.float32``
    is what a torch network (a skorch net) after the step takes.
"""


def chunk_parameters(device=True):
    """Class decorator: the docstring's ``{chunk_parameters}`` line becomes the
    ``batch_size``, ``n_jobs`` and ``dtype`` entries (and ``device``'s, for
    steps with a torch kernel)."""

    def decorate(cls):
        piece = CHUNK_PARAMETERS + (DEVICE_PARAMETER if device else "") + DTYPE_PARAMETER
        cls.__doc__ = fill_doc(cls.__doc__, {"{chunk_parameters}": piece})
        return cls

    return decorate
