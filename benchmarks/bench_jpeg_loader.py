"""Loading a folder of JPEG files for a network: coefficients against pixels, items per second.

Files: 5,000 colour 224x224 crops of the six colour photographs (places
drawn with seed 0), written by Pillow at quality 75, 4:2:0, into an
ImageFolder tree (one class a photograph) in a temporary folder; writing
them is not timed. ``--quick``: 300 files.

Loaders, each a ``torch.utils.data.DataLoader(batch_size=64, shuffle=True,
num_workers=2)`` over one data set (workers forked, one torch thread each):

``JPEGDataset``
    ``skcompress.io.JPEGDataset(folder)``: each file's quantized
    coefficients, float32, ``(384, 14, 14)`` (JPEGCodec's "channels_first"
    MCU layout), its label.
``JPEGDataset crop+flip``
    The same with ``random_crop=(208, 208)`` (13 x 13 MCUs: the whole-MCU
    size nearest the pixel loader's 200) and ``random_flip=True``: exact
    block-aligned crops and mirrors of the coefficients, ``(384, 13, 13)``.
``JPEGDataset int16``
    The same as the first, int16 (the dtype of libjpeg and torchjpeg).
``pixels crop+flip``
    The usual pixel loader: Pillow's decode (``Image.open(path)
    .convert("RGB")``), a random 200x200 crop and a random left-right flip
    on the PIL image, then torchvision's ``ToTensor`` (float32 CHW in
    [0, 1]), written out with torch as torchvision writes it.
``torchjpeg``
    ``torchjpeg.codec.read_coefficients(path)``: the Y and CbCr
    coefficients as int16 tensors ``(1, 28, 28, 8, 8)`` and ``(2, 14, 14, 8,
    8)``, as torchjpeg gives them.
``no work ...``
    Zeros of the shape of our items and of the pixel loader's, made in no
    time: what the loader itself costs (collating batches in the workers'
    shared memory and passing them to the main process), the ceiling of
    every loader of items that large.

Columns: items per second over an epoch (median of ``--repeats`` epochs after
one untimed, worker start-up included; the loaders take turns within every
round) and its ratio to the pixel loader's; the CPU time of the main process
and its workers over the epoch's wall time (100% is one core busy); items per
CPU second (main process and workers) and its ratio to the pixel loader's;
items per second in one process (``num_workers=0``).

Usage::

    python benchmarks/bench_jpeg_loader.py [--quick] [--json PATH] [--files 5000]
        [--repeats 3] [--workers 2]
"""

import os
import resource
import time

import _common
import numpy as np
from PIL import Image

from skcompress.io import JPEGDataset

SIZE = 224
CROP = 200


def _write_folder(folder, n_files):
    photos = _common.photographs()
    rng = np.random.default_rng(0)
    names = list(photos)
    for name in names:
        os.makedirs(os.path.join(folder, name), exist_ok=True)
    for i in range(n_files):
        name = names[i % len(names)]
        photo = photos[name]
        top = rng.integers(0, photo.shape[0] - SIZE + 1)
        left = rng.integers(0, photo.shape[1] - SIZE + 1)
        crop = np.ascontiguousarray(photo[top : top + SIZE, left : left + SIZE])
        path = os.path.join(folder, name, f"{i:05d}.jpg")
        Image.fromarray(crop).save(path, "JPEG", quality=75, subsampling=2)
    return names


class PixelDataset:
    """Pillow decode, random crop and flip, ToTensor: torchvision's ImageFolder pipeline."""

    def __init__(self, paths, targets, seed=0):
        self.paths, self.targets, self.seed = paths, targets, seed
        self._rng, self._pid = None, None

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        import torch

        if self._pid != os.getpid():  # one generator per worker
            info = torch.utils.data.get_worker_info()
            self._rng = np.random.default_rng([self.seed, info.seed if info else 0])
            self._pid = os.getpid()
        with open(self.paths[i], "rb") as f:
            image = Image.open(f).convert("RGB")
        top, left = self._rng.integers(0, SIZE - CROP + 1, size=2)
        image = image.crop((int(left), int(top), int(left) + CROP, int(top) + CROP))
        if self._rng.random() < 0.5:
            image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        pixels = torch.from_numpy(np.array(image, copy=True)).permute(2, 0, 1).contiguous()
        return pixels.to(torch.float32).div(255), self.targets[i]


class ZerosDataset:
    """Items of zeros: the loader's own cost for items of ``shape``."""

    def __init__(self, shape, targets):
        self.shape, self.targets = shape, targets

    def __len__(self):
        return len(self.targets)

    def __getitem__(self, i):
        return np.zeros(self.shape, dtype=np.float32), self.targets[i]


class TorchJPEGDataset:
    """torchjpeg's coefficient reader, item by item."""

    def __init__(self, paths, targets):
        self.paths, self.targets = paths, targets

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        from torchjpeg.codec import read_coefficients

        _, _, luma, chroma = read_coefficients(self.paths[i])
        return luma, chroma, self.targets[i]


def _epoch(dataset, workers, seed):
    """Seconds and CPU seconds (this process and its workers) of one shuffled epoch."""
    import torch
    from torch.utils.data import DataLoader

    loader = DataLoader(
        dataset,
        batch_size=64,
        shuffle=True,
        num_workers=workers,
        generator=torch.Generator().manual_seed(seed),
    )
    before = _cpu_seconds()
    start = time.perf_counter()
    n = 0
    for batch in loader:
        n += len(batch[-1])
    seconds = time.perf_counter() - start
    del loader  # its workers are joined, so their CPU time is counted
    if n != len(dataset):
        raise RuntimeError(f"an epoch gave {n} items of {len(dataset)}")
    return seconds, _cpu_seconds() - before


def _cpu_seconds():
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main(argv=None):
    parser = _common.parser(__doc__, threads=1)
    parser.add_argument("--files", type=int, default=None, help="files (default 5000)")
    parser.add_argument("--repeats", type=int, default=None, help="timed epochs (default 3)")
    parser.add_argument("--workers", type=int, default=2, help="DataLoader workers")
    args = parser.parse_args(argv)
    report = _common.Report(__file__, __doc__, args, argv, peers=["PIL", "torch", "torchjpeg"])
    if not report.has("torch"):
        report.note("torch is needed for DataLoader: nothing measured")
        return report.finish()
    n_files = args.files or (300 if args.quick else 5000)
    repeats = args.repeats or (2 if args.quick else 3)
    table = report.table(
        f"{n_files} files of 224x224 colour, quality 75, 4:2:0; DataLoader(batch_size=64, "
        f"num_workers={args.workers}); median of {repeats} epochs",
        [
            ("loader", "s"),
            ("item", "s"),
            ("items/s", ",.0f"),
            ("/ pixels", ".2f"),
            ("CPU %", ".0f"),
            ("items/CPU s", ",.0f"),
            ("/ pixels, CPU", ".2f"),
            ("items/s, 1 process", ",.0f"),
        ],
    )
    with _common.limit_threads(args.threads), _common.scratch_directory() as folder:
        _write_folder(folder, n_files)
        ours = JPEGDataset(folder)
        paths, targets = ours.files, ours.targets.tolist()
        datasets = {
            "JPEGDataset": ours,
            "JPEGDataset crop+flip": JPEGDataset(
                folder, random_crop=(208, 208), random_flip=True, random_state=0
            ),
            "JPEGDataset int16": JPEGDataset(folder, dtype=np.int16),
            "pixels crop+flip": PixelDataset(paths, targets),
        }
        if report.has("torchjpeg"):
            datasets["torchjpeg"] = TorchJPEGDataset(paths, targets)
        datasets["no work, ours' size"] = ZerosDataset(ours.item_shape, targets)
        datasets["no work, pixels' size"] = ZerosDataset((3, CROP, CROP), targets)
        items = {name: _describe(dataset[0]) for name, dataset in datasets.items()}
        for dataset in datasets.values():  # untimed: caches, first imports
            _epoch(dataset, args.workers, seed=0)
        runs = {name: [] for name in datasets}
        single = {name: [] for name in datasets}
        for r in range(repeats):  # the loaders take turns within every round
            for name, dataset in datasets.items():
                runs[name].append(_epoch(dataset, args.workers, seed=r + 1))
                single[name].append(_epoch(dataset, 0, seed=r + 1)[0])
        rates = {n: len(datasets[n]) / float(np.median([s for s, _ in runs[n]])) for n in runs}
        cpu = {n: 100 * float(np.median([c / s for s, c in runs[n]])) for n in runs}
        per_cpu = {n: len(datasets[n]) / float(np.median([c for _, c in runs[n]])) for n in runs}
        single = {n: len(datasets[n]) / float(np.median(single[n])) for n in single}
        for name in datasets:
            table.add(
                name,
                items[name],
                rates[name],
                rates[name] / rates["pixels crop+flip"],
                cpu[name],
                per_cpu[name],
                per_cpu[name] / per_cpu["pixels crop+flip"],
                single[name],
            )
    table.note(
        "items/s: an epoch's items over its wall time (worker start-up included); CPU %: "
        "CPU seconds of the main process and the workers over the wall time; items/CPU s: "
        "the items over those CPU seconds (less sensitive than items/s to other loads on a "
        "shared machine)"
    )
    report.show(table)
    return report.finish()


def _describe(item):
    """The shapes and dtype of an item's arrays, e.g. ``float32 (384, 14, 14)``."""
    arrays = [a for a in item if hasattr(a, "shape")]
    return " + ".join(f"{str(a.dtype).replace('torch.', '')} {tuple(a.shape)}" for a in arrays)


if __name__ == "__main__":
    main()
