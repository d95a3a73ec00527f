"""JPEGDataset: items against JPEGCodec and the reader, the file policies, torch and skorch."""

import io
import os
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest
from PIL import Image
from skimage import data as skimage_data

from skcompress import JPEGCodec
from skcompress.io import (
    JPEGDataset,
    adjust_contrast,
    crop_blocks,
    flip_horizontal,
    read_jpeg_coefficients,
)
from tests.io import _craft

torch = pytest.importorskip("torch")
from torch.utils.data import DataLoader  # noqa: E402

PHOTO = skimage_data.astronaut()  # 512 x 512 RGB


def _crop(size, at=(100, 120)):
    return np.ascontiguousarray(PHOTO[at[0] : at[0] + size[0], at[1] : at[1] + size[1]])


def _save(path, image, **options):
    options.setdefault("quality", 75)
    Image.fromarray(image).save(path, "JPEG", **options)
    return os.fspath(path)


def _jpeg_bytes(image, **options):
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "JPEG", **options)
    return buffer.getvalue()


# -- items: JPEGCodec's layouts of the file's coefficients --------------------------------------


@pytest.mark.parametrize("layout", ["channels_first", "blocks"])
@pytest.mark.parametrize(("subsampling", "shape"), [("4:2:0", (37, 45)), ("4:2:2", (24, 40)),
                                                    ("4:4:4", (21, 30))])  # fmt: skip
def test_items_are_jpegcodecs_layout_of_pillows_file(tmp_path, layout, subsampling, shape):
    # JPEGCodec(dct="islow") computes what libjpeg writes, bit for bit; sizes that do not
    # fill their last MCU check the dummy blocks
    images = np.stack([_crop(shape), _crop(shape, at=(300, 50))])
    sub = {"4:4:4": 0, "4:2:2": 1, "4:2:0": 2}[subsampling]
    paths = [_save(tmp_path / f"{i}.jpg", im, subsampling=sub) for i, im in enumerate(images)]
    codec = JPEGCodec(75, subsampling=subsampling, dct="islow", n_coefficients=10, layout=layout)
    expected = codec.fit(images).transform(images)
    dataset = JPEGDataset(paths, n_coefficients=10, layout=layout, dtype=np.int32)
    got = np.stack([dataset[i][0] for i in range(2)])
    np.testing.assert_array_equal(got, np.asarray(expected))
    assert got.shape[1:] == dataset.item_shape
    assert [dataset[i][1] for i in range(2)] == [-1, -1]


def test_luma_items_and_two_streams_are_the_files_grids(tmp_path):
    image = _crop((48, 64))
    path = _save(tmp_path / "a.jpg", image)
    jpeg = read_jpeg_coefficients(path)
    Y, Cb, Cr = jpeg.coefficients
    X, _ = JPEGDataset([path], components="luma", dtype=np.int32)[0]
    np.testing.assert_array_equal(X, Y.transpose(2, 0, 1))
    blocks, _ = JPEGDataset([path], components="luma", layout="blocks", dtype=np.int16)[0]
    assert blocks.dtype == np.int16
    np.testing.assert_array_equal(blocks, Y)
    streams, _ = JPEGDataset([path], layout="two_stream", n_coefficients=5)[0]
    np.testing.assert_array_equal(streams["luma"], Y[..., :5].transpose(2, 0, 1))
    np.testing.assert_array_equal(
        streams["chroma"], np.concatenate([Cb[..., :5], Cr[..., :5]], -1).transpose(2, 0, 1)
    )
    assert streams["luma"].dtype == np.float32


@pytest.mark.parametrize("layout", ["channels_first", "blocks", "two_stream"])
def test_tables_dequantize_the_items_as_laid_out(tmp_path, layout):
    path = _save(tmp_path / "a.jpg", _crop((32, 48)), quality=60)
    plain, _ = JPEGDataset([path], layout=layout, tables=True, n_coefficients=12)[0]
    dequantized, _ = JPEGDataset([path], layout=layout, dequantize=True, n_coefficients=12)[0]
    if layout == "two_stream":
        for stream in ("luma", "chroma"):
            steps = plain[f"{stream}_tables"][:, None, None]
            np.testing.assert_array_equal(plain[stream] * steps, dequantized[stream])
        return
    steps = plain["tables"]
    steps = steps[:, None, None] if layout == "channels_first" else steps
    np.testing.assert_array_equal(plain["coefficients"] * steps, dequantized)
    natural = read_jpeg_coefficients(path).quantization_tables.reshape(3, 64)
    assert plain["tables"].ravel()[0] == natural[0, 0]


def test_gray_files_are_promoted_exactly_and_colour_reduced_to_luma(tmp_path):
    gray = np.asarray(Image.fromarray(_crop((32, 48))).convert("L"))
    as_gray = _save(tmp_path / "gray.jpg", gray)
    as_rgb = _save(tmp_path / "rgb.jpg", np.repeat(gray[..., None], 3, axis=2))
    dataset = JPEGDataset([as_rgb, as_gray], dtype=np.int32)
    (colour, _), (promoted, _) = dataset[0], dataset[1]
    np.testing.assert_array_equal(promoted, colour)  # a gray image's colour JPEG: zero chroma
    assert not promoted[4 * 64 :].any()
    # the gray file after colour ones (JPEGCoefficients refuses it): luma of both
    luma = JPEGDataset([as_rgb, as_gray], components="luma", dtype=np.int32)
    np.testing.assert_array_equal(luma[0][0], luma[1][0])
    assert luma.converted == [] and luma.skipped == []
    table, _ = JPEGDataset([as_gray], tables=True)[0]
    assert (table["tables"][4 * 64 :] == 1).all()  # promoted chroma: steps of 1


# -- sizes -----------------------------------------------------------------------------------


def test_size_crops_at_the_centre_and_pads_with_zero_blocks(tmp_path):
    big = _save(tmp_path / "big.jpg", _crop((96, 128)))  # 6 x 8 MCUs
    small = _save(tmp_path / "small.jpg", _crop((32, 32)))  # 2 x 2 MCUs
    whole = JPEGDataset([big], layout="blocks")[0][0]
    one = JPEGDataset([small], layout="blocks")[0][0]
    dataset = JPEGDataset([big, small], layout="blocks", size=(64, 64))
    np.testing.assert_array_equal(dataset[0][0], whole[1:5, 2:6])
    padded = dataset[1][0]
    np.testing.assert_array_equal(padded[1:3, 1:3], one)
    padded[1:3, 1:3] = 0
    assert not padded.any()
    assert dataset.item_shape == (4, 4, 6, 64)
    with pytest.raises(ValueError, match=r"size must be .* 16 x 16 pixels here; got \(60, 64\)"):
        JPEGDataset([big], size=(60, 64))
    assert JPEGDataset([big], components="luma", size=(56, 64)).item_shape == (64, 7, 8)


def test_a_file_of_another_size_is_skipped_and_said_so(tmp_path):
    paths = [
        _save(tmp_path / "a.jpg", _crop((32, 32))),
        _save(tmp_path / "b.jpg", _crop((48, 32))),
    ]
    dataset = JPEGDataset(paths)
    assert len(dataset) == 1
    assert "b.jpg: 48 x 32 pixels, not the 32 x 32" in dataset.skipped[0][1]
    assert "set size=(height, width)" in dataset.skipped[0][1]
    with pytest.raises(ValueError, match="b.jpg: 48 x 32 pixels"):
        JPEGDataset(paths, errors="raise")


# -- augmentation -------------------------------------------------------------------------


def test_random_crop_and_flip_are_the_exact_operations(tmp_path):
    path = _save(tmp_path / "a.jpg", _crop((64, 96)))
    plain = JPEGDataset([path], layout="blocks", dtype=np.int32)
    whole = plain._read_file(0)
    flipped = plain._layout(flip_horizontal(whole))
    unflipped = plain[0][0]
    dataset = JPEGDataset([path], layout="blocks", dtype=np.int32, random_flip=True,
                          random_crop=(32, 48), random_state=0)  # fmt: skip
    crops = {(t, left, f): plain._layout(crop_blocks(j, t, left, 2, 3))
             for f, j in ((0, whole), (1, flip_horizontal(whole)))
             for t in range(3) for left in range(4)}  # fmt: skip
    seen = set()
    for _ in range(40):
        item = dataset[0][0]
        match = [key for key, crop in crops.items() if np.array_equal(item, crop)]
        assert match
        seen.add(match[0][2])
    assert seen == {0, 1}
    assert not np.array_equal(flipped, unflipped)
    again = JPEGDataset([path], layout="blocks", dtype=np.int32, random_flip=True,
                        random_crop=(32, 48), random_state=0)  # fmt: skip
    first = [again[0][0] for _ in range(5)]
    replay = JPEGDataset([path], layout="blocks", dtype=np.int32, random_flip=True,
                         random_crop=(32, 48), random_state=0)  # fmt: skip
    for a in first:
        np.testing.assert_array_equal(a, replay[0][0])
    with pytest.raises(ValueError, match="random_crop=.* is larger than the items"):
        JPEGDataset([path], random_crop=(80, 96))


def test_transform_takes_and_gives_a_files_coefficients(tmp_path):
    path = _save(tmp_path / "a.jpg", _crop((32, 32)))
    seen = []

    def halve(jpeg, rng):
        seen.append((sorted(jpeg), isinstance(rng, np.random.Generator)))
        return adjust_contrast(jpeg, 0.5)

    X = JPEGDataset([path], transform=halve, dtype=np.int32)[0][0]
    plain = JPEGDataset([path], dtype=np.int32)
    np.testing.assert_array_equal(X, plain._layout(adjust_contrast(plain._read_file(0), 0.5)))
    assert np.abs(X).sum() < np.abs(plain[0][0]).sum()
    keys, generator = seen[0]
    assert {"coefficients", "quantization_tables", "sampling_factors", "shape"} <= set(keys)
    assert generator
    with pytest.raises(TypeError, match="transform must be a callable"):
        JPEGDataset([path], transform="flip")


# -- bad input: the policies ---------------------------------------------------------------


def _hostile_folder(root):
    """A class folder ``root/a`` of good files and every kind of bad one; their bytes by name."""
    good = _jpeg_bytes(_crop((32, 32)), quality=75)
    files = {
        "good0.jpg": good,
        "good1.jpg": _jpeg_bytes(_crop((32, 32), at=(10, 10)), quality=75),
        "garbage.jpg": b"not an image at all",
        "truncated.jpg": good[:-10],  # the header whole, the entropy data cut
        "huge.jpg": _craft.header_only(16384, 16384, [(1, 1)] * 3),
        # its frame header says 12-bit samples (SOF1, precision 12)
        "twelve_bit.jpg": good.replace(b"\xff\xc0\x00\x11\x08", b"\xff\xc1\x00\x11\x0c", 1),
    }  # fmt: skip
    cmyk = io.BytesIO()
    Image.fromarray(_crop((32, 32))).convert("CMYK").save(cmyk, "JPEG", quality=80)
    files["cmyk.jpg"] = cmyk.getvalue()
    for name, image in {
        "rgb.png": Image.fromarray(_crop((32, 32))),
        "deep.png": Image.fromarray(_crop((32, 32))[..., 0].astype(np.uint16) * 257),
    }.items():
        buffer = io.BytesIO()
        image.save(buffer, "PNG")
        files[name] = buffer.getvalue()
    (root / "a").mkdir()
    (root / "a" / "notes.txt").write_text("not an image: ignored")
    for name, data in files.items():
        (root / "a" / name).write_bytes(data)
    return files


def test_bad_files_are_skipped_and_reported_never_a_traceback(tmp_path):
    files = _hostile_folder(tmp_path)
    assert Image.open(io.BytesIO(files["deep.png"])).mode.startswith("I")
    dataset = JPEGDataset(tmp_path)
    reasons = dict(dataset.skipped)
    names = {os.path.basename(p) for p in reasons}
    # the header check finds all but the truncated entropy data
    assert names == {"garbage.jpg", "huge.jpg", "twelve_bit.jpg"}
    assert "max_coefficients" in reasons[str(tmp_path / "a" / "huge.jpg")]
    assert {os.path.basename(p) for p, _ in dataset.converted} == {
        "cmyk.jpg",
        "rgb.png",
        "deep.png",
    }
    assert "a CMYK JPEG" in dict(dataset.converted)[str(tmp_path / "a" / "cmyk.jpg")]
    assert len(dataset) == 6
    # an epoch on two workers: the truncated file is found there, skipped and reported
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        batches = list(DataLoader(dataset, batch_size=3, num_workers=2))
    assert sum(len(y) for _, y in batches) == 6
    reasons = dict(dataset.skipped)
    assert "Premature end" in reasons[str(tmp_path / "a" / "truncated.jpg")]
    with pytest.warns(RuntimeWarning, match="truncated.jpg"):
        X, _ = dataset[[os.path.basename(f) for f in dataset.files].index("truncated.jpg")]
    assert X.shape == dataset.item_shape  # the next readable file's item


def test_converted_files_are_what_pillow_encodes(tmp_path):
    files = _hostile_folder(tmp_path)
    dataset = JPEGDataset(tmp_path, dtype=np.int32)
    item = {os.path.basename(f): i for i, f in enumerate(dataset.files)}
    rgb = _jpeg_bytes(_crop((32, 32)), quality=75)
    np.testing.assert_array_equal(dataset[item["rgb.png"]][0], _item(tmp_path, rgb))
    deep = _jpeg_bytes(_crop((32, 32))[..., 0], quality=75)  # 16-bit samples scaled to 8
    np.testing.assert_array_equal(dataset[item["deep.png"]][0], _item(tmp_path, deep))
    source = Image.open(io.BytesIO(files["cmyk.jpg"]))
    assert list(source.quantization) == [0]  # Pillow's CMYK: one table, kept for all three
    tables = [source.quantization[0]] * 2
    cmyk = _jpeg_bytes(np.asarray(source.convert("RGB")), qtables=tables)
    np.testing.assert_array_equal(dataset[item["cmyk.jpg"]][0], _item(tmp_path, cmyk))
    # colour files for a luma data set are converted to gray; an other subsampling too
    luma = JPEGDataset(tmp_path, components="luma", quality=90, dtype=np.int32)
    gray = _jpeg_bytes(np.asarray(Image.fromarray(_crop((32, 32))).convert("L")), quality=90)
    np.testing.assert_array_equal(
        luma[item["rgb.png"]][0], _item(tmp_path, gray, components="luma")
    )
    wide = _save(tmp_path / "wide.jpg", _crop((32, 32)), subsampling=0)
    mixed = JPEGDataset([str(tmp_path / "a" / "good0.jpg"), wide], dtype=np.int32)
    assert "chroma subsampling 4:4:4, not the 4:2:0" in mixed.converted[0][1]
    assert mixed[1][0].shape == mixed.item_shape


def _item(folder, data, **options):
    path = folder / "expected.jpg"
    path.write_bytes(data)
    return JPEGDataset([path], dtype=np.int32, **options)[0][0]


def test_policies_skip_or_raise_as_asked(tmp_path):
    _hostile_folder(tmp_path)
    skip = JPEGDataset(tmp_path, unsupported="skip")
    assert len(skip) == 3 and len(skip.skipped) == 6 and skip.converted == []
    with pytest.raises(ValueError, match=r"cmyk.jpg: a CMYK JPEG; set unsupported="):
        JPEGDataset(tmp_path, unsupported="raise")
    with pytest.raises(ValueError, match="garbage.jpg: not a readable JPEG"):
        JPEGDataset(tmp_path, errors="raise")
    # without the check, everything is found at the items
    lazy = JPEGDataset(tmp_path, check=False, unsupported="skip")
    assert len(lazy) == 9
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        labels = [lazy[i][1] for i in range(len(lazy))]
    assert labels == [0] * 9
    assert len(lazy.skipped) == 7
    strict = JPEGDataset(tmp_path, check=False, errors="raise", unsupported="convert")
    with pytest.raises(ValueError, match="garbage.jpg"):
        [strict[i] for i in range(len(strict))]
    raising = JPEGDataset(tmp_path, check=False, unsupported="raise")
    with pytest.raises(ValueError, match="cmyk.jpg: a CMYK JPEG"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        [raising[i] for i in range(len(raising))]


def test_bad_parameters_are_named(tmp_path):
    path = _save(tmp_path / "a.jpg", _crop((16, 16)))
    cases = {
        "components must be one of": {"components": "rgb"},
        "layout must be one of": {"layout": "flat"},
        "layout='two_stream' holds a luma and a chroma": {
            "layout": "two_stream",
            "components": "luma",
        },
        "dtype must be float32 or float64 with dequantize": {"dtype": np.int16, "dequantize": 1},
        "errors must be one of": {"errors": "ignore"},
        "unsupported must be one of": {"unsupported": "drop"},
        "quality must be an int": {"quality": 0},
        "subsampling must be one of": {"subsampling": "4:1:1"},
        "random_state must be an int or None": {"random_state": 0.5},
        "n_coefficients must be": {"n_coefficients": 65},
    }
    for message, params in cases.items():
        with pytest.raises(ValueError, match=message):
            JPEGDataset([path], **params)
    with pytest.raises(ValueError, match="labels must have one entry per file"):
        JPEGDataset([path], labels=[0, 1])
    with pytest.raises(ValueError, match="not a folder"):
        JPEGDataset(path)
    with pytest.raises(IndexError):
        JPEGDataset([path])[1]


# -- labels, torch, skorch, scikit-learn -----------------------------------------------------


def test_labels_from_folders_or_given(tmp_path):
    for name in ("zebra", "ant"):
        (tmp_path / name / "deeper").mkdir(parents=True)
        _save(tmp_path / name / "deeper" / "x.jpg", _crop((16, 16)))
        _save(tmp_path / name / "y.jpg", _crop((16, 16)))
    dataset = JPEGDataset(tmp_path)
    assert dataset.classes == ["ant", "zebra"]
    assert dataset.targets.tolist() == [0, 0, 1, 1]
    assert dataset.files[1].endswith(os.path.join("ant", "deeper", "x.jpg"))  # as torchvision
    named = JPEGDataset(dataset.files, labels=["b", "a", "b", "a"])
    assert named.classes == ["a", "b"] and named.targets.tolist() == [1, 0, 1, 0]
    assert JPEGDataset(dataset.files, labels=[7, 3, 7, 3]).targets.tolist() == [7, 3, 7, 3]


def test_torch_loader_workers_and_pickling(tmp_path):
    paths = [_save(tmp_path / f"{i}.jpg", _crop((32, 48), at=(10 * i, 0))) for i in range(6)]
    dataset = JPEGDataset(paths, labels=[0, 1, 0, 1, 0, 1], layout="two_stream", tables=True)
    assert isinstance(dataset, torch.utils.data.Dataset) and isinstance(dataset, JPEGDataset)
    clone = pickle.loads(pickle.dumps(dataset))
    np.testing.assert_array_equal(clone[3][0]["chroma"], dataset[3][0]["chroma"])
    serial = list(DataLoader(dataset, batch_size=4))
    parallel = list(DataLoader(dataset, batch_size=4, num_workers=2))
    for (a, ya), (b, yb) in zip(serial, parallel, strict=True):
        assert set(a) == {"luma", "chroma", "luma_tables", "chroma_tables"}
        assert a["luma"].dtype == torch.float32 and tuple(a["luma"].shape[1:]) == (64, 4, 6)
        for key in a:
            assert torch.equal(a[key], b[key])
        assert torch.equal(ya, yb)
    # a spawned worker unpickles the torch class by its module's name
    spawned = DataLoader(dataset, batch_size=6, num_workers=1, multiprocessing_context="spawn")
    (X, y), *_ = list(spawned)
    assert torch.equal(X["chroma"][4], serial[1][0]["chroma"][0]) and y.tolist() == [0, 1] * 3


def test_skorch_fit_takes_the_data_set(tmp_path):
    skorch = pytest.importorskip("skorch")
    paths = [_save(tmp_path / f"{i}.jpg", _crop((32, 32), at=(0, 20 * i))) for i in range(8)]
    dataset = JPEGDataset(paths, labels=[0, 1] * 4, n_coefficients=4)
    module = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(24 * 4, 2))
    net = skorch.NeuralNetClassifier(
        module, max_epochs=2, batch_size=4, train_split=None, verbose=0,
        iterator_train__num_workers=0,
    )  # fmt: skip
    net.fit(dataset, y=None)
    assert net.predict_proba(dataset).shape == (8, 2)


def test_partial_fit_loop_of_the_docstring(tmp_path):
    from sklearn.linear_model import SGDClassifier

    paths = [_save(tmp_path / f"{i}.jpg", _crop((16, 16), at=(0, 30 * i))) for i in range(12)]
    dataset = JPEGDataset(paths, labels=[0, 1, 2] * 4, n_coefficients=3)
    model = SGDClassifier(random_state=0)
    classes = np.unique(dataset.targets)
    for _ in range(2):
        for X, y in DataLoader(dataset, batch_size=5, shuffle=True):
            model.partial_fit(X.numpy().reshape(len(X), -1), y.numpy(), classes=classes)
    assert model.coef_.shape == (3, 18)


def test_without_torch_items_are_numpy(tmp_path):
    from tests.test_layers import NO_TORCH

    path = _save(tmp_path / "a.jpg", _crop((16, 16)))
    code = NO_TORCH + (
        "from skcompress.io import JPEGDataset\n"
        f"dataset = JPEGDataset([{path!r}], labels=[3])\n"
        "X, y = dataset[0]\n"
        "assert type(dataset) is JPEGDataset and X.shape == (384, 1, 1) and y == 3\n"
        "assert 'torch' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
