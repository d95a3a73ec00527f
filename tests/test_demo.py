"""The command line demo runs end to end on a small subset."""

import io

import pytest

from skcompress.cli.__main__ import main
from skcompress.cli._demo import jpeg_sizes, run_demo
from skcompress.datasets import load_mnist


def test_demo_table_on_a_small_subset():
    out = io.StringIO()
    rows = run_demo(qualities=(10, 90), n_samples=300, cv=2, stream=out)
    text = out.getvalue()
    assert "pixels (8 bit)" in text and "DCT q90, 16 coef/block" in text
    assert "[########################] 3/3 done" in text
    pixels, low, high = rows
    assert pixels["bits"] == 6272
    assert 0 < low["bits"] < high["bits"] < high["bits_all"] < pixels["bits"]
    # real bitstreams of all 64 coefficients, within a third of the estimate either way
    assert 0.67 < high["coded_all"] / high["bits_all"] < 1.5
    assert all(row["accuracy"] > 0.5 for row in rows)  # chance is 0.1


def test_jpeg_scan_is_the_file_without_headers():
    pytest.importorskip("PIL")
    images = load_mnist().images[:20]
    file_bits, scan_bits = jpeg_sizes(images, 50)
    assert 0 < scan_bits < file_bits and file_bits - scan_bits > 8 * 300


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
