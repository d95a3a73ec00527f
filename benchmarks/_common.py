"""What every benchmark of this folder shares: timing, data, peers, environment, tables, options.

Each ``bench_*.py`` is a script with the same command line::

    python benchmarks/bench_<name>.py [--quick] [--json PATH] [its own options]

``--quick`` runs small sizes in seconds (a check that the code paths and the
peers work, not figures to quote); ``--json PATH`` also writes the tables to
PATH. A script measures its peers in the same process and run as ours (the
routines take turns within every repeat, so load from other users of a shared
machine hits them alike) and says which peers it could not find.

The JSON of one run::

    {"benchmark": "bench_blockdct", "title": "...", "command": "python benchmarks/...",
     "quick": true, "environment": {...}, "peers": {"scipy": "1.14.1", "faiss": null},
     "notes": ["faiss: not installed (pip install faiss-cpu), its rows are skipped", ...],
     "seconds": 12.3,
     "tables": [{"title": "...", "columns": ["input", "ms", ...],
                 "formats": ["s", ".1f", ...], "rows": [["mnist", 1.25, ...], ...],
                 "notes": ["..."]}, ...]}

``benchmarks/run.py`` runs the scripts and ``benchmarks/render.py`` turns their
JSON into ``docs/benchmarks.rst``.
"""

import argparse
import datetime
import importlib
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

# -- timing -------------------------------------------------------------------


def median_times(routines, repeats, *, warmup=1):
    """Median seconds of each routine, the routines taking turns within every repeat.

    Parameters
    ----------
    routines : dict of str to callable
        Zero-argument functions: ours and the peers, on inputs prepared
        beforehand.
    repeats : int
        Timed calls of each routine.
    warmup : int, default=1
        Untimed calls of each routine first (page faults, plan caches,
        thread pools).

    Returns
    -------
    seconds : dict of str to float
    """
    for _ in range(warmup):
        for fn in routines.values():
            fn()
    times = {name: [] for name in routines}
    for _ in range(repeats):
        for name, fn in routines.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: float(np.median(t)) for name, t in times.items()}


def timed(fn, *args, **kwargs):
    """``(fn(*args, **kwargs), seconds)``: one call, for what is too slow to repeat (a fit)."""
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


@contextmanager
def limit_threads(n_threads):
    """BLAS, OpenMP and (when imported) torch on ``n_threads`` threads; None leaves them."""
    if n_threads is None:
        yield
        return
    from threadpoolctl import threadpool_limits

    torch = sys.modules.get("torch")
    before = torch.get_num_threads() if torch is not None else None
    if torch is not None:
        torch.set_num_threads(n_threads)
    with threadpool_limits(n_threads):
        yield
    if torch is not None:
        torch.set_num_threads(before)


# -- data ---------------------------------------------------------------------

#: The six colour photographs of the JPEG benchmarks: scikit-image's and scikit-learn's.
COLOUR_PHOTOGRAPHS = ("astronaut", "coffee", "chelsea", "rocket", "china", "flower")
#: The six photographs of the gray JPEG benchmarks (converted with :func:`photographs`).
GRAY_PHOTOGRAPHS = ("china", "flower", "camera", "astronaut", "coffee", "chelsea")


def photographs(names=COLOUR_PHOTOGRAPHS, *, gray=False):
    """Full-size photographs by name: ``skimage.data``'s, and scikit-learn's china and flower.

    Parameters
    ----------
    names : sequence of str
        ``"china"``, ``"flower"`` (:func:`sklearn.datasets.load_sample_images`)
        or the name of a ``skimage.data`` image (``"camera"``, ``"coffee"``...).
    gray : bool, default=False
        Convert colour images to gray with Pillow (``Image.convert("L")``,
        libjpeg's integer luma); gray images stay as they are.

    Returns
    -------
    images : dict of str to ndarray of uint8
        ``(H, W, 3)`` or ``(H, W)``, in the order of ``names``.
    """
    sample = {}
    if {"china", "flower"} & set(names):
        from sklearn.datasets import load_sample_images

        sample = dict(zip(("china", "flower"), load_sample_images().images, strict=True))
    images = {}
    for name in names:
        if name in sample:
            image = sample[name]
        else:
            import skimage.data

            image = getattr(skimage.data, name)()
        if gray and image.ndim == 3:
            from PIL import Image

            image = np.asarray(Image.fromarray(image).convert("L"))
        images[name] = image
    return images


def voice_split(settings, seed, fraction=5):
    """Held-out voices of the spoken digits: ``1 / fraction`` of the (accent, variant) pairs.

    Every clip of a held-out voice (all its speeds and pitches) is a test
    clip, so the test voices were never heard in training.

    Returns
    -------
    train, test : ndarray of bool
    held_out : list of str
    """
    voices = np.array([s.split("|")[0] for s in settings])
    names = np.unique(voices)
    rng = np.random.default_rng(seed)
    held = sorted(rng.choice(names, size=max(1, len(names) // fraction), replace=False))
    test = np.isin(voices, held)
    return ~test, test, held


# -- JPEG files ---------------------------------------------------------------


def jpeg_scan_bits(data):
    """Bits of the entropy-coded segment of a one-scan JPEG file: after SOS's header, before EOI.

    Byte stuffing included; the file's headers, tables and markers left out.
    """
    at = 2
    while at < len(data):
        if data[at] != 0xFF:
            raise ValueError("not a JPEG marker segment")
        marker, length = data[at + 1], int.from_bytes(data[at + 2 : at + 4], "big")
        if marker == 0xDA:
            start = at + 2 + length
            return 8 * (data.rindex(b"\xff\xd9") - start)
        at += 2 + length
    raise ValueError("no SOS marker")


def pillow_jpeg_coefficients(X, quality, directory):
    """Pillow's gray JPEG files of ``X`` and the coefficients jpeglib reads back from them.

    Parameters
    ----------
    X : ndarray of uint8, shape (n, H, W)
    quality : int
    directory : path
        Where the files ``0.jpg``, ``1.jpg``... are written (and left).

    Returns
    -------
    coefficients : ndarray of int64, shape (n, h, w, 8, 8)
        Quantized, natural order.
    tables : ndarray, shape (n, 8, 8)
        The luminance table of each file.
    """
    import jpeglib
    from PIL import Image

    coefficients, tables = [], []
    for i, image in enumerate(X):
        path = Path(directory) / f"{i}.jpg"
        Image.fromarray(image, mode="L").save(path, quality=quality)
        jpeg = jpeglib.read_dct(str(path))
        coefficients.append(jpeg.Y.astype(np.int64))
        tables.append(jpeg.qt[jpeg.quant_tbl_no[0]])
    return np.stack(coefficients), np.stack(tables)


# -- peers and environment ----------------------------------------------------

#: Python peers: import name -> (distribution, how to install it)
PYTHON_PEERS = {
    "PIL": ("Pillow", "pip install Pillow"),
    "jpeglib": ("jpeglib", "pip install jpeglib"),
    "faiss": ("faiss-cpu", "pip install faiss-cpu"),
    "spams": ("spams-bin", "pip install spams-bin"),
    "ksvd": ("ksvd", "pip install ksvd"),
    "vector_quantize_pytorch": ("vector-quantize-pytorch", "pip install vector-quantize-pytorch"),
    "torch": ("torch", 'pip install "skcompress[torch]"'),
    "distributed": ("distributed", 'pip install "skcompress[dask]"'),
    "pywt": ("PyWavelets", "pip install PyWavelets"),
    "scipy": ("scipy", "pip install scipy"),
    "sklearn": ("scikit-learn", "pip install scikit-learn"),
    "skimage": ("scikit-image", "pip install scikit-image"),
    "constriction": ("constriction", "pip install constriction"),
}
#: Command-line peers: program -> how to install it (Debian)
PROGRAMS = {
    "cjpeg": "apt-get install libjpeg-turbo-progs",
    "jpegtran": "apt-get install libjpeg-turbo-progs",
    "opj_compress": "apt-get install libopenjp2-tools",
    "opusenc": "apt-get install opus-tools",
    "opusdec": "apt-get install opus-tools",
    "ffmpeg": "apt-get install ffmpeg",
    "x265": "apt-get install x265",
    "lame": "apt-get install lame",
}


def peer_version(name):
    """Version of a peer (a Python module of :data:`PYTHON_PEERS` or a program), None if absent."""
    if name in PROGRAMS or name not in PYTHON_PEERS and shutil.which(name):
        path = shutil.which(name)
        return None if path is None else f"on PATH ({path})"
    distribution = PYTHON_PEERS.get(name, (name, ""))[0]
    try:
        importlib.import_module(name)
    except Exception:  # noqa: BLE001 (a broken install is as absent as a missing one)
        return None
    try:
        return version(distribution)
    except PackageNotFoundError:
        return "installed"


def how_to_install(name):
    if name in PROGRAMS:
        return PROGRAMS[name]
    return PYTHON_PEERS.get(name, (name, f"pip install {name}"))[1]


def environment():
    """Where the figures were measured: machine, Python, libraries and their threads."""
    from threadpoolctl import threadpool_info

    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:
        cpus = os.cpu_count()
    libraries = {}
    for name in ("numpy", "scipy", "scikit-learn", "skcompress", "torch", "Pillow"):
        try:
            libraries[name] = version(name)
        except PackageNotFoundError:
            pass
    pools = [
        f"{pool['internal_api']} {pool.get('version') or ''} ({pool['num_threads']} threads)"
        for pool in threadpool_info()
    ]
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d"),
        "machine": platform.machine(),
        "processor": _processor(),
        "cpus": cpus,
        "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "libraries": libraries,
        "thread_pools": sorted(set(pools)),
    }


def _processor():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


# -- tables -------------------------------------------------------------------


def _plain(value):
    """A JSON value: numpy scalars as Python ones, floats to 6 significant digits.

    Non-finite floats become the strings "nan", "inf" and "-inf".
    """
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return float(f"{value:.6g}") if math.isfinite(value) else str(value)
    return value


def dumps(value, indent=0):
    """JSON with one line per row: nested containers indented, flat lists inline."""
    pad = " " * indent
    if isinstance(value, dict) and value:
        items = [f"{pad} {json.dumps(k)}: {dumps(v, indent + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
        items = [f"{pad} {dumps(v, indent + 1)}" for v in value]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    return json.dumps(value, allow_nan=False)


def format_cell(value, fmt):
    """The text of one cell: ``fmt`` for numbers, strings as they are, None as ``-``."""
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    if fmt in ("", "s"):
        return str(value)
    return format(value, fmt)


class Table:
    """A titled table: columns with a format each, rows of raw values, notes.

    Columns are ``(name, format)`` pairs: ``"s"`` for text (left-aligned),
    a format spec such as ``".1f"`` or ``",.0f"`` for numbers (right-aligned).
    Rows hold the unformatted values (None for "not measured"), which is
    what the JSON keeps.
    """

    def __init__(self, title, columns, *, notes=(), live=False):
        self.title = title
        self.columns = [name for name, _ in columns]
        self.formats = [fmt for _, fmt in columns]
        self.rows = []
        self.notes = list(notes)
        self.live = live
        self._widths = None

    def add(self, *values):
        if len(values) != len(self.columns):
            raise ValueError(
                f"table {self.title!r} has {len(self.columns)} columns; got a row of {len(values)}"
            )
        self.rows.append([_plain(v) for v in values])
        if self.live:
            if self._widths is None:
                self._widths = [max(len(c), 10) for c in self.columns]
                self._widths[0] = max(len(self.columns[0]), 40)
                print(f"\n{self.title}")
                print(self._line(self.columns))
            print(self._line(self._cells(self.rows[-1])), flush=True)

    def note(self, text):
        self.notes.append(text)

    def _cells(self, row):
        return [format_cell(v, f) for v, f in zip(row, self.formats, strict=True)]

    def _line(self, cells, widths=None):
        widths = widths or self._widths
        parts = []
        for i, (cell, width) in enumerate(zip(cells, widths, strict=True)):
            left = i == 0 or self.formats[i] == "s"
            parts.append(f"{cell:<{width}}" if left else f"{cell:>{width}}")
        return "  ".join(parts).rstrip()

    def text(self):
        """The table as aligned text (title, header, rows, notes)."""
        body = [self._cells(row) for row in self.rows]
        widths = [max([len(c)] + [len(r[i]) for r in body]) for i, c in enumerate(self.columns)]
        lines = [self.title, self._line(self.columns, widths)]
        lines.append("-" * len(lines[-1]))
        lines += [self._line(cells, widths) for cells in body]
        lines += [f"  {note}" for note in self.notes]
        return "\n".join(lines)

    def as_dict(self):
        return {
            "title": self.title,
            "columns": self.columns,
            "formats": self.formats,
            "rows": self.rows,
            "notes": self.notes,
        }


# -- the command line and the report --------------------------------------------


def parser(doc, *, threads=None):
    """The common command line: ``--quick`` and ``--json PATH`` (and ``--threads``).

    Parameters
    ----------
    doc : str
        The script's docstring: its first paragraph is the description, the
        rest the epilog of ``--help``.
    threads : int or None
        Default of ``--threads`` (None: as many as the libraries take).
    """
    description, _, epilog = doc.partition("\n\n")
    p = argparse.ArgumentParser(
        description=description,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="small sizes, seconds: checks the code paths and peers, not figures to quote",
    )
    p.add_argument("--json", metavar="PATH", help="also write the tables to PATH as JSON")
    p.add_argument(
        "--threads",
        type=int,
        default=threads,
        help=f"threads for BLAS, OpenMP and torch (default: {threads or 'theirs'})",
    )
    return p


class Report:
    """One benchmark run: its header, tables and notes, printed and (``--json``) written.

    Parameters
    ----------
    script : str
        ``__file__`` of the benchmark.
    doc : str
        Its docstring (the first line is the title).
    args : argparse.Namespace
        Parsed by :func:`parser`'s parser.
    argv : list of str or None
        The arguments given (None: ``sys.argv[1:]``), for the command that
        reproduces the run.
    peers : sequence of str
        Peers to look for (:data:`PYTHON_PEERS`, :data:`PROGRAMS`).
    """

    def __init__(self, script, doc, args, argv=None, *, peers=()):
        self.name = Path(script).stem
        self.title = doc.strip().splitlines()[0].rstrip(".")
        self.args = args
        argv = list(sys.argv[1:] if argv is None else argv)
        self.command = " ".join(["python", f"benchmarks/{self.name}.py", *_without_json(argv)])
        self.tables = []
        self.notes = []
        self.peers = {name: peer_version(name) for name in peers}
        self.environment = environment()
        self.environment["threads"] = args.threads
        self._start = time.perf_counter()
        env = self.environment
        print(f"{self.title}\n{self.command}")
        print(
            f"{env['processor']}, {env['cpus']} CPUs, Python {env['python']}, "
            + ", ".join(f"{k} {v}" for k, v in env["libraries"].items())
            + f"; threads: {args.threads or 'default'}"
        )
        found = [f"{name} {v}" for name, v in self.peers.items() if v]
        if found:
            print("peers: " + ", ".join(found))
        for name, v in self.peers.items():
            if v is None:
                self.note(f"{name}: not available ({how_to_install(name)}); its rows are skipped")
        if args.quick:
            print("--quick: small sizes; the figures check the code paths, not real ones")

    def has(self, name):
        """Whether a peer named at construction was found."""
        return self.peers.get(name) is not None

    def note(self, text):
        """A remark on the whole run, printed now and kept in the JSON."""
        self.notes.append(text)
        print(f"note: {text}")

    def table(self, title, columns, *, notes=(), live=False):
        """A new :class:`Table` of this run; printed by :meth:`show` (``live``: row by row)."""
        table = Table(title, columns, notes=notes, live=live)
        self.tables.append(table)
        return table

    def show(self, table):
        """Print a finished table (a live one prints only its notes)."""
        if table.live:
            for note in table.notes:
                print(f"  {note}")
            print()
        else:
            print("\n" + table.text() + "\n", flush=True)

    def as_dict(self):
        return {
            "benchmark": self.name,
            "title": self.title,
            "command": self.command,
            "quick": bool(self.args.quick),
            "environment": self.environment,
            "peers": self.peers,
            "notes": self.notes,
            "seconds": round(time.perf_counter() - self._start, 1),
            "tables": [t.as_dict() for t in self.tables],
        }

    def finish(self):
        """Write the JSON (``--json``); returns the exit status 0."""
        result = self.as_dict()
        print(f"[{self.name}: {result['seconds']:.0f} s]")
        if self.args.json:
            path = Path(self.args.json)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(dumps(result) + "\n")
            print(f"tables written to {path}")
        return 0


def _without_json(argv):
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--json":
            skip = True
        elif not arg.startswith("--json="):
            out.append(arg)
    return out


def run_in_subprocess(args, timeout=None):
    """``python benchmarks/<args>`` in a fresh process; its stdout (raises on failure)."""
    done = subprocess.run(
        [sys.executable, *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )
    if done.returncode:
        raise RuntimeError(f"{' '.join(map(str, args))} failed:\n{done.stderr[-2000:]}")
    return done.stdout


def scratch_directory():
    """A temporary directory (context manager), removed afterwards."""
    return tempfile.TemporaryDirectory(prefix="skcompress-bench-")
