"""``skcompress sweep``: tables, CSV and figures on small data; folders of images; errors."""

import csv

import numpy as np
import pytest

from skcompress.cli.__main__ import main
from skcompress.cli._sweep import load_sweep_data, run_sweep


def test_rate_accuracy_sweep_on_mnist_writes_table_csv_and_plot(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    table, figure = tmp_path / "sweep.csv", tmp_path / "sweep.png"
    argv = ["sweep", "--n-samples", "120", "--cv", "2", "--values", "10", "90"]
    assert main([*argv, "--csv", str(table), "--plot", str(figure)]) == 0
    captured = capsys.readouterr()
    assert "rate-accuracy of the jpeg codec on MNIST (embedded), 120 samples" in captured.out
    assert "raw samples" in captured.out and "IJG quality 90" in captured.out
    assert "[########################] 3/3 done" in captured.err  # the progress bar
    rows = list(csv.DictReader(table.open()))
    assert [row["setting"] for row in rows] == ["raw samples", "IJG quality 10", "IJG quality 90"]
    bits = [float(row["bits_per_sample"]) for row in rows]
    assert bits[0] == 6272 and 0 < bits[1] < bits[2] < bits[0]
    assert all(float(row["accuracy"]) > 0.3 for row in rows)  # chance is 0.1
    assert figure.stat().st_size > 1000 and figure.read_bytes()[:4] == b"\x89PNG"


def test_jpeg_sweeps_run_through_jpeg_codec():
    from sklearn.model_selection import StratifiedKFold

    from skcompress import JPEGCodec

    X, y, _ = load_sweep_data("mnist", n_samples=60)
    kwargs = dict(codec="jpeg", values=[50], cv=2, progress=None, stream=None)
    (row,) = run_sweep(X, y, baseline=False, **kwargs)
    # held-out digits coded by JPEGCodec (16 coefficients, context model) fitted on the rest
    bits = []
    for train, test in StratifiedKFold(2, shuffle=True, random_state=0).split(X, y):
        codec = JPEGCodec(50, n_coefficients=16, entropy="context").fit(X[train])
        bits.append(codec.rate(X[test])["bits_per_sample"])
    assert row["bits_per_sample"] == pytest.approx(np.mean(bits))
    assert row["bits_per_value"] == pytest.approx(np.mean(bits) / 784)
    # rate-distortion: all 64 coefficients, each half coded by a codec fitted on the other
    coarse, fine = run_sweep(X, kind="distortion", **{**kwargs, "values": [10, 90]})
    halves = X[0::2], X[1::2]
    bits, mse = [], []
    for coded, other in (halves, halves[::-1]):
        codec = JPEGCodec(10, entropy="context").fit(other)
        strings = codec.compress(coded)
        bits.append(np.mean([8 * len(s) for s in strings]))
        mse.append(np.mean((codec.decompress(strings) - coded) ** 2))
    assert coarse["bits_per_sample"] == pytest.approx(np.mean(bits))
    assert coarse["mse"] == pytest.approx(np.mean(mse))
    assert coarse["bits_per_value"] < fine["bits_per_value"]
    assert coarse["psnr"] < fine["psnr"] and coarse["mse"] > fine["mse"]


def test_jpeg2000_sweeps_hit_their_target_rates_through_the_codecs_own_bitstreams():
    from skcompress import JPEG2000Codec

    X, y, _ = load_sweep_data("mnist", n_samples=40)
    kwargs = dict(codec="jpeg2000", progress=None, stream=None)
    coarse, fine = run_sweep(X, kind="distortion", values=[1.0, 3.0], **kwargs)
    halves = X[0::2], X[1::2]
    bits = [
        np.mean([8 * len(s) for s in JPEG2000Codec(1.0).fit(other).compress(coded)])
        for coded, other in (halves, halves[::-1])
    ]
    assert coarse["bits_per_sample"] == pytest.approx(np.mean(bits))
    assert coarse["bits_per_value"] <= 1.0 < fine["bits_per_value"] <= 3.0
    assert coarse["psnr"] < fine["psnr"]
    (row,) = run_sweep(X, y, values=[2.0], cv=2, baseline=False, **kwargs)
    assert row["bits_per_value"] <= 2.0 and row["accuracy"] > 0.1


def test_hevc_sweeps_qps_through_the_codecs_own_bitstreams(capsys):
    from skcompress import HEVCIntraCodec

    X = load_sweep_data("mnist", n_samples=30)[0]
    coarse, fine = run_sweep(
        X, codec="hevc", kind="distortion", values=[42, 27], progress=None, stream=None
    )
    halves = X[0::2], X[1::2]
    bits = [
        np.mean([8 * len(s) for s in HEVCIntraCodec(42).fit(other).compress(coded)])
        for coded, other in (halves, halves[::-1])
    ]
    assert coarse["bits_per_sample"] == pytest.approx(np.mean(bits))
    assert coarse["bits_per_value"] < fine["bits_per_value"] and coarse["psnr"] < fine["psnr"]
    with pytest.raises(SystemExit):
        main(["sweep", "--codec", "hevc", "--values", "52"])
    assert "QPs in 0..51" in capsys.readouterr().err


def test_rate_distortion_sweep_orders_rate_and_quality():
    X = load_sweep_data("mnist", n_samples=40)[0]
    rows = run_sweep(X, codec="wavelet", values=[32.0, 4.0], progress=None, stream=None)
    coarse, fine = rows
    assert coarse["bits_per_value"] < fine["bits_per_value"]
    assert coarse["psnr"] < fine["psnr"] and coarse["snr"] < fine["snr"]


def test_audio_sweep_reports_snr(capsys):
    argv = ["sweep", "--data", "spoken-digits", "--n-samples", "6", "--kind", "distortion"]
    assert main([*argv, "--quiet", "--values", "1024", "64"]) == 0
    out = capsys.readouterr().out
    assert "rate-distortion of the mdct codec on spoken digits" in out
    lines = [line for line in out.splitlines() if line.startswith("uniform step")]
    snr = [float(line.split()[-2]) for line in lines]
    assert len(snr) == 2 and snr[0] < snr[1]


def _write_images(folder, n, size, seed):
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        image = rng.integers(0, 256, (size, size + 3), dtype=np.uint8)
        Image.fromarray(image).save(folder / f"{i}.png")


def test_folder_with_class_subfolders_is_labelled(tmp_path):
    pytest.importorskip("PIL")
    _write_images(tmp_path / "cats", 3, 20, 0)
    _write_images(tmp_path / "dogs", 2, 20, 1)
    X, y, description = load_sweep_data(tmp_path, size=16)
    assert X.shape == (5, 16, 16) and X.dtype == np.uint8
    assert y.tolist() == [0, 0, 0, 1, 1] and str(tmp_path) in description


def test_folder_of_unlabelled_images_sweeps_distortion(tmp_path, capsys):
    pytest.importorskip("PIL")
    _write_images(tmp_path, 4, 24, 2)
    assert main(["sweep", "--data", str(tmp_path), "--values", "50", "--quiet"]) == 0
    assert "rate-distortion of the jpeg codec on images in" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--values", "0"], "--values for jpeg must be qualities in 1..100; got [0.0]"),
        (["--codec", "wavelet", "--values", "-1"], "--values for wavelet must be > 0"),
        (["--data", "no/such/folder"], "which is not a folder"),
        (["--data", "photographs", "--kind", "accuracy"], "needs labels; these data have none"),
        (["--codec", "mdct"], "codec 'mdct' takes 1-D signals (n, length)"),
        (["--n-samples", "1"], "--n-samples must be at least 2; got 1"),
    ],
)
def test_sweep_refuses_bad_arguments(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["sweep", "--quiet", *argv])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_folder_of_mixed_sizes_asks_for_size(tmp_path):
    pytest.importorskip("PIL")
    _write_images(tmp_path / "a", 1, 16, 0)
    _write_images(tmp_path / "b", 1, 20, 0)
    with pytest.raises(ValueError, match="pass --size"):
        load_sweep_data(tmp_path)


@pytest.mark.parametrize("codec", ["mp3", "celt"])
def test_audio_codec_sweeps_bitrates_through_the_codecs_own_bitstreams(codec, capsys):
    from skcompress import CELTCodec, MP3Codec

    make = MP3Codec if codec == "mp3" else CELTCodec
    X = load_sweep_data("spoken-digits", n_samples=8)[0]
    coarse, fine = run_sweep(
        X, codec=codec, kind="distortion", values=[4.0, 16.0], progress=None, stream=None
    )
    halves = X[0::2], X[1::2]
    bits, mse = [], []
    for coded, other in (halves, halves[::-1]):
        model = make(4.0, sample_rate=8000, full_scale=32768).fit(other)
        strings = model.compress(coded)
        bits.append(np.mean([8 * len(s) for s in strings]))
        mse.append(np.mean((model.decompress(strings) - coded) ** 2))
    assert coarse["bits_per_sample"] == pytest.approx(np.mean(bits))
    assert coarse["mse"] == pytest.approx(np.mean(mse))
    assert coarse["bits_per_value"] == pytest.approx(np.mean(bits) / 8000)
    # 1 s clips: bits per clip are bits per second; neither codec spends more than its target
    # (+ its header) over the frames it codes: MP3Codec's 15 granules of 576 cover 1.08 s
    seconds = 15 * 576 / 8000 if codec == "mp3" else 1.05
    for row, kbps in ((coarse, 4.0), (fine, 16.0)):
        assert 0.5 * kbps * 1000 < row["bits_per_sample"] <= kbps * 1000 * seconds + 96
    assert coarse["snr"] < fine["snr"]
    with pytest.raises(SystemExit):
        main(["sweep", "--data", "spoken-digits", "--codec", codec, "--values", "0"])
    assert f"--values for {codec} must be > 0" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["sweep", "--codec", codec, "--values", "8"])
    assert f"codec {codec!r} takes 1-D signals (n, length)" in capsys.readouterr().err


def test_celt_rate_accuracy_sweep_codes_held_out_clips_with_codecs_fitted_on_the_rest():
    from sklearn.model_selection import StratifiedKFold

    from skcompress import CELTCodec

    X, y, _ = load_sweep_data("spoken-digits", n_samples=12)
    kwargs = dict(codec="celt", values=[8.0], cv=2, progress=None, stream=None)
    (row,) = run_sweep(X, y, baseline=False, **kwargs)
    assert row["setting"] == "target kbit/s 8.0"
    bits = []
    for train, test in StratifiedKFold(2, shuffle=True, random_state=0).split(X, y):
        codec = CELTCodec(8.0, sample_rate=8000, full_scale=32768).fit(X[train])
        bits.append(np.mean([8 * len(s) for s in codec.compress(X[test])]))
    assert row["bits_per_sample"] == pytest.approx(np.mean(bits))
    assert row["bits_per_value"] == pytest.approx(np.mean(bits) / 8000)
