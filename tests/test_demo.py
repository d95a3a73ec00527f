"""The command line demo runs end to end on a small subset, its bits from JPEGCodec's bytes."""

import io

import numpy as np
import pytest
from sklearn.model_selection import StratifiedKFold

from skcompress import JPEGCodec
from skcompress.cli.__main__ import main
from skcompress.cli._demo import jpeg_sizes, run_demo
from skcompress.datasets import load_mnist
from skcompress.entropy import BlockContextModel


def test_demo_table_on_a_small_subset():
    out = io.StringIO()
    rows = run_demo(qualities=(10, 90), n_samples=300, cv=2, stream=out)
    text = out.getvalue()
    assert "pixels (8 bit)" in text and "JPEG q90, 16 coef/block" in text
    assert "[########################] 3/3 done" in text
    pixels, low, high = rows
    assert pixels["bits"] == 6272
    assert 0 < low["bits"] < high["bits"] < high["bits_all"] < pixels["bits"]
    # our context-coded stream of all 64 coefficients beats libjpeg's file, and its scan
    assert high["bits_all"] < high["jpeg_scan_bits"] < high["jpeg_file_bits"]
    assert all(row["accuracy"] > 0.5 for row in rows)  # chance is 0.1
    # the bits are the bytes that the codec fitted on the training folds writes
    X, y = load_mnist(return_X_y=True)
    X, y = X[:300], y[:300]
    bits = []
    for train, test in StratifiedKFold(2, shuffle=True, random_state=0).split(X, y):
        model = BlockContextModel(dc_prediction="med")
        codec = JPEGCodec(10, n_coefficients=16, entropy=model).fit(X[train])
        bits.append(np.mean([8 * len(s) for s in codec.compress(X[test])]))
    assert low["bits"] == pytest.approx(np.mean(bits))


def test_jpeg_scan_is_the_file_without_headers():
    images = load_mnist().images[:20]
    file_bits, scan_bits = jpeg_sizes(images, 50)
    assert file_bits == JPEGCodec(50).fit(images).rate(images)["bits_per_sample"]
    # quantization and Huffman tables, frame and scan headers: at least 150 bytes
    assert 0 < scan_bits < file_bits and file_bits - scan_bits > 8 * 150


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["demo", "--qualities", "0"], "--qualities must lie in 1..100; got [0]"),
        (["demo", "--n-samples", "9000"], "--n-samples must lie in 6..5000; got 9000"),
        ([], "the following arguments are required: command"),
    ],
)
def test_cli_refuses_bad_arguments(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
