"""``python -m skcompress``: the command line of :mod:`skcompress.cli`."""

from .cli.__main__ import main

if __name__ == "__main__":
    raise SystemExit(main())
