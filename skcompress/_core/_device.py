"""Device handling: which torch device a step computes on, checked once for every caller.

torch is imported only inside these functions, and only once a step or a
network names a device: the numpy paths never load it.
"""


def checked_device(device, owner=""):
    """``device`` as a ``torch.device`` that this torch can use, or a ValueError.

    ``owner`` prefixes the messages (an estimator's name and a colon).
    """
    torch = import_torch(owner, device)
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"{owner}device must be 'auto' or a torch device name such as 'cpu' or 'cuda:0'; "
            f"got {device!r}."
        ) from exc
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"{owner}device={str(device)!r} asks for CUDA, which this torch build cannot see."
        )
    return resolved


def import_torch(owner="", device=None):
    """``torch``, or an ImportError that names the ``[torch]`` extra."""
    try:
        import torch
    except ImportError as exc:
        what = f"device={device!r} computes" if device is not None else "this computes"
        raise ImportError(
            f"{owner}{what} with PyTorch, which is not installed: pip install "
            '"skcompress[torch]" (device=None computes with numpy).'
        ) from exc
    return torch


def torch_device(estimator):
    """The ``torch.device`` that ``estimator.device`` names, or None for numpy.

    None (the default of every step) keeps numpy arrays on the numpy path;
    ``"auto"`` is CUDA when torch sees a GPU and numpy otherwise (also when
    torch is not installed); any other value is a torch device (``"cuda"``,
    ``"cuda:1"``, ``"cpu"``, a ``torch.device``), which must exist.
    """
    device = getattr(estimator, "device", None)
    if device is None:
        return None
    owner = f"{type(estimator).__name__}: "
    if isinstance(device, str) and device == "auto":
        try:
            import torch
        except ImportError:
            return None
        return torch.device("cuda") if torch.cuda.is_available() else None
    return checked_device(device, owner)
