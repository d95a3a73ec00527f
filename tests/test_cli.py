"""The command line checks its arguments before any work: one-line errors, exit status 2;
``--version``, ``--n-jobs``; files that Pillow cannot read are skipped and named."""

import sys

import numpy as np
import pytest

import skcompress
from skcompress.cli import _demo, _sweep
from skcompress.cli.__main__ import main


def _fail_if_called(*args, **kwargs):
    raise AssertionError("the sweep started before the arguments were checked")


def _refused(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert err.count("\n") == 1 and "Traceback" not in err, err  # one line
    return err


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out == f"skcompress {skcompress.__version__}\n"


@pytest.mark.parametrize(
    ("plot", "message"),
    [
        ("curve.xyz", "--plot must end in a format matplotlib writes ("),
        ("curve", "got 'curve'"),
        ("no/such/folder/curve.png", "the folder 'no/such/folder' does not exist"),
    ],
)
def test_plot_path_is_checked_before_the_sweep(plot, message, monkeypatch, capsys):
    pytest.importorskip("matplotlib")
    monkeypatch.setattr(_sweep, "load_sweep_data", _fail_if_called)
    err = _refused(["sweep", "--plot", plot], capsys)
    assert err.startswith("skcompress sweep: error: ") and message in err


def test_plot_without_matplotlib_names_the_extra(monkeypatch, capsys):
    for name in ("matplotlib", "matplotlib.backend_bases", "matplotlib.figure"):
        monkeypatch.setitem(sys.modules, name, None)  # importing them now fails
    monkeypatch.setattr(_sweep, "load_sweep_data", _fail_if_called)
    err = _refused(["sweep", "--plot", "curve.png"], capsys)
    assert (
        'skcompress sweep: error: --plot needs matplotlib: pip install "skcompress[plot]"' in err
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["sweep", "--csv", "no/such/folder/t.csv"], "--csv 'no/such/folder/t.csv': the folder"),
        (["sweep", "--n-jobs", "0"], "--n-jobs must be a positive number of workers"),
        (["demo", "--n-jobs", "0"], "--n-jobs must be a positive number of workers"),
        (["sweep", "--values", "nan"], "--values must be finite numbers; got [nan]"),
        (["sweep", "--codec", "wavelet", "--values", "inf"], "--values must be finite numbers"),
        (["sweep", "--size", "100000"], "--size must lie in 8..4096; got 100000"),
        (["sweep", "--data", "no/such/folder"], "which is not a folder"),
        (["sweep", "--cv", "1"], "--cv must be at least 2; got 1"),
        (["sweep", "--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_bad_arguments_are_one_line_before_any_work(argv, message, monkeypatch, capsys):
    monkeypatch.setattr(_sweep, "run_sweep", _fail_if_called)
    monkeypatch.setattr(_demo, "run_demo", _fail_if_called)
    assert message in _refused(argv, capsys)


def test_n_jobs_reaches_the_cross_validation(monkeypatch, capsys):
    seen = {}

    def run_sweep(X, y, **kwargs):
        seen["sweep"] = kwargs["n_jobs"]
        return [dict(setting="q 50", value=50, bits_per_sample=1.0, accuracy=1.0)]

    def run_demo(qualities, **kwargs):
        seen["demo"] = kwargs["n_jobs"]

    monkeypatch.setattr(_sweep, "run_sweep", run_sweep)
    monkeypatch.setattr(_demo, "run_demo", run_demo)
    assert main(["sweep", "--n-samples", "20", "--n-jobs", "2"]) == 0
    assert main(["demo", "--n-jobs", "-1"]) == 0
    assert seen == {"sweep": 2, "demo": -1}


def test_run_sweep_in_parallel_gives_the_same_table():
    X, y, _ = _sweep.load_sweep_data("mnist", n_samples=60)
    kwargs = dict(codec="jpeg", values=[50], cv=2, baseline=False, progress=None, stream=None)
    (serial,) = _sweep.run_sweep(X, y, **kwargs)
    (parallel,) = _sweep.run_sweep(X, y, n_jobs=2, **kwargs)
    assert parallel == pytest.approx(serial)


def _folder_with_bad_files(root):
    from PIL import Image

    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(4):
        Image.fromarray(rng.integers(0, 256, (24, 24), dtype=np.uint8)).save(root / f"{i}.png")
    (root / "notes.jpg").write_text("not an image")
    Image.fromarray(rng.integers(0, 256, (24, 24), dtype=np.uint8)).save(root / "cut.jpg")
    data = (root / "cut.jpg").read_bytes()
    (root / "cut.jpg").write_bytes(data[: len(data) // 2])  # a truncated JPEG


def test_unreadable_files_are_skipped_and_named(tmp_path, capsys):
    pytest.importorskip("PIL")
    _folder_with_bad_files(tmp_path)
    assert main(["sweep", "--data", str(tmp_path), "--values", "50", "--quiet"]) == 0
    captured = capsys.readouterr()
    (warning,) = captured.err.splitlines()
    assert warning.startswith("skcompress sweep: warning: skipped 2 of 6 files in ")
    assert "notes.jpg (cannot identify image file" in warning and "cut.jpg (" in warning
    assert "4 samples" in captured.out


def test_load_sweep_data_warns_or_raises_on_unreadable_files(tmp_path):
    pytest.importorskip("PIL")
    _folder_with_bad_files(tmp_path)
    with pytest.warns(UserWarning, match="skipped 2 of 6 files"):
        X, _, _ = _sweep.load_sweep_data(tmp_path)
    assert X.shape == (4, 24, 24)
    with pytest.raises(ValueError, match="Pillow cannot read .*cut.jpg"):
        _sweep.load_sweep_data(tmp_path, unreadable="raise")


def test_a_folder_without_a_readable_image_is_an_error(tmp_path, capsys):
    pytest.importorskip("PIL")
    (tmp_path / "a.jpg").write_text("not an image")
    err = _refused(["sweep", "--data", str(tmp_path)], capsys)
    assert "Pillow can read no image in" in err and "a.jpg (cannot identify image file" in err
