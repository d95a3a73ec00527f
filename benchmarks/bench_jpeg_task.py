"""Learning from JPEG files: the two-stream DCT network against a pixel ResNet, end to end.

The task: which of the 7 photographs of ``load_photographs(size=512,
color=True)`` a crop comes from. Crops of 64x64 pixels (``--crop 128``: the
other size) at random places (seed 0), ``--train`` per class from the left
60% of each photograph and ``--test`` per class from the right 40% (train
and test regions are disjoint), written by Pillow as quality-75 4:2:0 JPEG
files into an ImageFolder tree (one folder a photograph) in a temporary
folder; writing them is not timed. Full run: 300 train and 100 test crops
per class, 10 epochs; ``--quick``: 12 and 6, 2 epochs, narrower networks.

Networks, trained from the files (no array in memory), the same epochs,
batch size, optimizer (Adam, ``--lr``, cosine schedule, L2 weight decay
``--weight-decay``), seed, and
``DataLoader(num_workers=--workers)`` for training and prediction:

``DCT``
    ``JPEGNetClassifier(channels="xu24", widths=W, depth=D,
    kernel_size=--dct-kernel, batch_norm=True)`` fitted on ``skcompress.io.JPEGDataset(folder)``
    (layout "channels_first", JPEG's MCU grid, the net's own input): the
    quantized coefficients as the files store them, read by libjpeg's
    entropy decoder, no inverse DCT. Luma at 1/8, chroma at 1/16, 2 D
    residual blocks. Its convolutions are 1x1 by default: a block is
    already an 8x8 patch, so a 1x1 convolution over blocks mixes each
    block's channels where it stands (as a stride-8 8x8 convolution of the
    pixels would); 3x3 ones over blocks overfit the 2,100 training crops
    (held-out accuracy 0.82 against 0.89 at seed 0).
``pixels``
    ``PixelNetClassifier(residual=True, widths=W, depth=D, batch_norm=True,
    stem_stride=4)``: a ResNet of the same 2 D residual blocks and widths
    behind ResNet's stride-4 stem, fitted on a pixel data set: Pillow's
    decode (``Image.open(path).convert("RGB")``), float32 CHW in [0, 1].

Augmentation (``aug`` rows): a random left-right flip and a random crop to
``crop - 16`` pixels at a whole-MCU place (16-pixel steps), the same for
both: ``JPEGDataset(random_crop=..., random_flip=True)`` on the
coefficients (exact, no decoding), numpy slicing and mirroring on the
pixels. The test items are then the centre crop of that size (also on the
MCU grid, as ``JPEGDataset(size=...)`` takes it).

Columns: accuracy on the test crops; fit wall time (from the files: the
estimator's pass over the data set for its input statistics, then every
epoch, workers' start-up included); prediction time of the test crops;
trainable parameters and multiply-accumulates per image; bits per image
(mean file size x 8, headers included, and the entropy-coded scan alone),
the same files for both networks; ratios pixels / DCT of the fit time and
DCT - pixels of the accuracy. torch runs ``--threads`` intra-op threads in
the main process (default 1: with 2 loader workers, 2 cores are busy);
each ``DataLoader`` worker runs 1 (torch's setting in workers).

``--device cuda`` runs the same on a GPU (the loader workers on the CPU).

Usage::

    python benchmarks/bench_jpeg_task.py [--quick] [--json PATH] [--crop 64]
        [--train 300] [--test 100] [--epochs 10] [--widths 32,64] [--depth 2]
        [--workers 2] [--batch-size 64] [--lr 0.003] [--weight-decay 0.05] [--dct-kernel 1]
        [--device cpu] [--threads 1]
        [--channels xu24|all] [--seed 0] [--no-aug]
"""

import os

import _common
import numpy as np
from PIL import Image

from skcompress.datasets import load_photographs
from skcompress.io import JPEGDataset

try:  # the networks' fit takes a torch Dataset (the script says so without torch)
    from torch.utils.data import Dataset as _TorchDataset
except ImportError:
    _TorchDataset = object

QUALITY = 75
MCU = 16
TRAIN_SHARE = 0.6


def write_crops(folder, n_train, n_test, crop, seed):
    """Crops of each photograph: train from its left 60%, test from its right 40%.

    Returns the train and test folders (ImageFolder trees, one folder a
    photograph) and the bits per file: headers included and the scan alone.
    """
    bunch = load_photographs(size=512, color=True)
    rng = np.random.default_rng(seed)
    width = bunch.images.shape[2]
    split = int(TRAIN_SHARE * width)
    regions = {"train": (0, split, n_train), "test": (split, width, n_test)}
    folders, bits = {}, {"file": [], "scan": []}
    for part, (start, stop, n) in regions.items():
        if stop - start < crop:
            raise ValueError(f"--crop {crop} does not fit the {part} region ({stop - start} px)")
        folders[part] = os.path.join(folder, part)
        for name, photo in zip(bunch.names, bunch.images, strict=True):
            directory = os.path.join(folders[part], str(name))
            os.makedirs(directory)
            tops = rng.integers(0, photo.shape[0] - crop + 1, n)
            lefts = rng.integers(start, stop - crop + 1, n)
            for i, (top, left) in enumerate(zip(tops, lefts, strict=True)):
                path = os.path.join(directory, f"{i:05d}.jpg")
                patch = np.ascontiguousarray(photo[top : top + crop, left : left + crop])
                Image.fromarray(patch).save(path, "JPEG", quality=QUALITY, subsampling=2)
                if part == "train":
                    with open(path, "rb") as f:
                        data = f.read()
                    bits["file"].append(8 * len(data))
                    bits["scan"].append(_common.jpeg_scan_bits(data))
    return folders, {k: float(np.mean(v)) for k, v in bits.items()}


class PixelDataset(_TorchDataset):
    """Pillow's decode to float32 CHW in [0, 1]; optional MCU-aligned random crop and flip.

    ``crop``: the crop's side (None: the whole image); ``centre``: the MCU-aligned
    centre crop instead of a random one (the test items). One generator per process,
    seeded from ``seed`` and the worker's seed, as JPEGDataset seeds its own.
    """

    def __init__(self, paths, targets, *, crop=None, flip=False, centre=False, seed=0):
        self.paths, self.targets = list(paths), np.asarray(targets, dtype=np.int64)
        self.crop, self.flip, self.centre, self.seed = crop, flip, centre, seed
        self._rng, self._pid = None, None

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        if self._pid != os.getpid():
            from torch.utils.data import get_worker_info

            info = get_worker_info()
            self._rng = np.random.default_rng([self.seed, info.seed if info else 0])
            self._pid = os.getpid()
        with open(self.paths[i], "rb") as f:
            pixels = np.asarray(Image.open(f).convert("RGB"))
        if self.crop is not None:
            places = [(side - self.crop) // MCU + 1 for side in pixels.shape[:2]]
            if self.centre:
                top, left = ((p - 1) // 2 for p in places)
            else:
                top, left = self._rng.integers(0, places)
            top, left = MCU * int(top), MCU * int(left)
            pixels = pixels[top : top + self.crop, left : left + self.crop]
        if self.flip and self._rng.random() < 0.5:
            pixels = pixels[:, ::-1]
        chw = np.transpose(pixels, (2, 0, 1)).astype(np.float32) / np.float32(255)
        return chw, int(self.targets[i])


def datasets(folders, crop, augment, seed):
    """The DCT and pixel data sets of the train and test folders."""
    train = JPEGDataset(folders["train"])
    test = JPEGDataset(folders["test"])
    paths = {"train": train.files, "test": test.files}
    targets = {"train": train.targets, "test": test.targets}
    if not augment:
        return {
            "DCT": (train, test),
            "pixels": tuple(PixelDataset(paths[p], targets[p]) for p in ("train", "test")),
        }
    small = crop - MCU
    dct_train = JPEGDataset(
        folders["train"], random_crop=(small, small), random_flip=True, random_state=seed
    )
    dct_test = JPEGDataset(folders["test"], size=(small, small))
    pixel_train = PixelDataset(paths["train"], targets["train"], crop=small, flip=True, seed=seed)
    pixel_test = PixelDataset(paths["test"], targets["test"], crop=small, centre=True)
    return {"DCT": (dct_train, dct_test), "pixels": (pixel_train, pixel_test)}


def networks(args, widths):
    from skcompress.nets import JPEGNetClassifier, PixelNetClassifier

    channels = None if args.channels == "all" else args.channels

    common = dict(
        widths=widths,
        depth=args.depth,
        batch_norm=True,
        max_epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        weight_decay=args.weight_decay,
        lr_schedule="cosine",
        optimizer="adam",
        random_state=args.seed,
        device=args.device,
        n_threads=args.threads,
        iterator_train__num_workers=args.workers,
        iterator_valid__num_workers=args.workers,
    )
    if args.workers:
        common["iterator_train__persistent_workers"] = True
    if args.device.startswith("cuda"):
        common["iterator_train__pin_memory"] = True
    return {
        "DCT": lambda: JPEGNetClassifier(channels=channels, kernel_size=args.dct_kernel, **common),
        "pixels": lambda: PixelNetClassifier(
            residual=True, stem_stride=4, layout="channels_first", **common
        ),
    }


def _synchronize(device):
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


def run_task(args, folders, augment):
    """Fit and score both networks; ``{name: dict of figures}``."""
    from torch.utils.data import Subset

    widths = tuple(int(w) for w in args.widths.split(","))
    data = datasets(folders, args.crop, augment, args.seed)
    make = networks(args, widths)
    figures = {}
    for name in ("DCT", "pixels"):
        train, test = data[name]
        # untimed: first imports, kernels and worker start-up of this network on this input
        few = np.linspace(0, len(train) - 1, min(len(train), 2 * args.batch_size)).astype(int)
        make[name]().set_params(max_epochs=1).fit(Subset(train, few.tolist()))
        net = make[name]()
        _synchronize(args.device)
        _, fit_seconds = _common.timed(net.fit, train)
        _synchronize(args.device)
        predicted, predict_seconds = _common.timed(net.predict, test)
        figures[name] = {
            "accuracy": float(np.mean(np.asarray(predicted) == test.targets)),
            "fit": fit_seconds,
            "predict": predict_seconds,
            "parameters": net.n_parameters_,
            "macs": net.macs_,
            "input": "x".join(map(str, net.input_shape_)),
        }
    return figures


def main(argv=None):
    parser = _common.parser(__doc__, threads=1)
    parser.add_argument("--crop", type=int, default=64, choices=(64, 128))
    parser.add_argument("--train", type=int, default=None, help="train crops per class")
    parser.add_argument("--test", type=int, default=None, help="test crops per class")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--widths", default=None, help="channels per stage (default 32,64)")
    parser.add_argument("--depth", type=int, default=2, help="residual blocks per stage")
    parser.add_argument("--workers", type=int, default=2, help="DataLoader workers")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--weight-decay", type=float, default=0.05)
    parser.add_argument(
        "--dct-kernel", type=int, default=1, help="the DCT network's kernel size, in blocks"
    )
    parser.add_argument("--device", default="cpu", help='torch device ("cpu", "cuda")')
    parser.add_argument(
        "--channels",
        default="xu24",
        choices=("xu24", "all"),
        help="what the DCT network reads: Xu et al.'s 24 channels, or all 64 of every block",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-aug", action="store_true", help="leave out the augmented rows")
    args = parser.parse_args(argv)
    args.train = args.train or (12 if args.quick else 300)
    args.test = args.test or (6 if args.quick else 100)
    args.epochs = args.epochs or (2 if args.quick else 10)
    args.widths = args.widths or ("8,16" if args.quick else "32,64")
    report = _common.Report(__file__, __doc__, args, argv, peers=["PIL", "torch"])
    if not report.has("torch"):
        report.note("torch is needed for the networks: nothing measured")
        return report.finish()
    import torch

    if args.device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise SystemExit("--device cuda: torch sees no CUDA GPU")
        report.environment["gpu"] = torch.cuda.get_device_name(torch.device(args.device))
    table = report.table(
        f"Which of 7 photographs a {args.crop}x{args.crop} crop is from: {7 * args.train} "
        f"train, {7 * args.test} test files (q{QUALITY} 4:2:0); {args.epochs} epochs, "
        f"widths {args.widths}, depth {args.depth}, DCT kernel {args.dct_kernel}, "
        f"weight decay {args.weight_decay}, "
        f"{args.workers} workers, {args.device}",
        [
            ("network", "s"),
            ("aug", "s"),
            ("item", "s"),
            ("accuracy", ".3f"),
            ("fit s", ".1f"),
            ("predict s", ".2f"),
            ("parameters", ",d"),
            ("MACs/image", ",d"),
            ("bits/image", ",.0f"),
            ("scan bits/image", ",.0f"),
            ("pixels/DCT fit", ".2f"),
            ("DCT-pixels accuracy", "+.3f"),
        ],
        notes=[
            "fit s: wall time of fit from the files (the input-statistics pass and every "
            "epoch, loader workers included); bits/image: the train files' mean size x 8 "
            "(scan: the entropy-coded segment alone), the same files for both networks",
            f"torch threads: {args.threads} in the main process, 1 per loader worker",
        ],
    )
    with _common.limit_threads(args.threads), _common.scratch_directory() as folder:
        folders, bits = write_crops(folder, args.train, args.test, args.crop, args.seed)
        for augment in (False,) if args.no_aug else (False, True):
            figures = run_task(args, folders, augment)
            dct, pixels = figures["DCT"], figures["pixels"]
            for name, f in figures.items():
                ratio = pixels["fit"] / dct["fit"] if name == "DCT" else None
                gap = dct["accuracy"] - pixels["accuracy"] if name == "DCT" else None
                table.add(
                    name,
                    "flip+crop" if augment else "none",
                    f["input"],
                    f["accuracy"],
                    f["fit"],
                    f["predict"],
                    f["parameters"],
                    f["macs"],
                    bits["file"],
                    bits["scan"],
                    ratio,
                    gap,
                )
    report.show(table)
    return report.finish()


if __name__ == "__main__":
    main()
