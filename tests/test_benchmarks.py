"""The benchmark suite: one cheap benchmark end to end, its JSON, the page rendered from it.

No time is asserted: the benchmarks measure, the suite checks that they run,
keep the common command line and write what ``render.py`` reads. The page
``docs/benchmarks.rst`` must be the rendering of the results committed beside
the scripts, so that a figure cannot change in one place only.
"""

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "benchmarks"


@pytest.fixture(scope="module")
def suite():
    """``benchmarks/`` importable as its scripts import each other (by bare name)."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import _common
        import render
        import run

        yield _common, render, run
    finally:
        sys.path.remove(str(BENCHMARKS))


def _script(name, *args, timeout=120):
    """Run ``benchmarks/<name>.py`` with ``args``; its stdout (the test fails on an error)."""
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / f"{name}.py"), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def wavelet_result(tmp_path_factory):
    """``bench_wavelet.py --quick`` in a subprocess: its JSON and its printed tables."""
    path = tmp_path_factory.mktemp("results") / "bench_wavelet.json"
    stdout = _script("bench_wavelet", "--quick", "--repeats", 1, "--json", path)
    return json.loads(path.read_text()), stdout, path


def test_a_quick_benchmark_writes_its_tables_as_json(wavelet_result):
    result, stdout, _ = wavelet_result
    assert result["benchmark"] == "bench_wavelet" and result["quick"] is True
    assert result["command"] == "python benchmarks/bench_wavelet.py --quick --repeats 1"
    assert result["title"].startswith("Speed of WaveletTransform")
    assert {"cpus", "python", "libraries", "thread_pools", "date"} <= set(result["environment"])
    assert result["peers"]["pywt"] is not None and result["seconds"] >= 0
    (table,) = result["tables"]
    assert set(table) == {"title", "columns", "formats", "rows", "notes"}
    assert table["columns"][:4] == ["input", "level", "direction", "routine"]
    assert len(table["formats"]) == len(table["columns"])
    # two inputs: forward has 4 routines, inverse 3
    assert len(table["rows"]) == 14
    assert all(len(row) == len(table["columns"]) for row in table["rows"])
    batched = [row for row in table["rows"] if row[3] == "batched"]
    assert all(row[-1] == 1.0 for row in batched)  # the ratio's reference
    assert table["title"] in stdout and "ours" in stdout


def test_render_writes_a_section_per_benchmark(wavelet_result, tmp_path):
    _, _, path = wavelet_result
    page = tmp_path / "benchmarks.rst"
    _script("render", "--results", path.parent, "--output", page, timeout=60)
    text = page.read_text()
    assert text.startswith(".. This page is written by benchmarks/render.py")
    assert "bench\\_wavelet: Speed of WaveletTransform" in text
    assert "``python benchmarks/bench_wavelet.py --quick --repeats 1`` (this run" in text
    assert "come from ``--quick`` runs" in text
    assert text.count(".. csv-table::") == 1
    docutils_core = pytest.importorskip("docutils.core")
    # no warning from docutils either (the Sphinx build runs with -W)
    docutils_core.publish_doctree(text, settings_overrides={"report_level": 2, "halt_level": 2})


def test_every_benchmark_keeps_the_common_command_line(suite):
    _common, _, run = suite
    names = run.discover()
    assert len(names) == len(set(names)) >= 15
    assert set(run.BENCHMARKS) == set(names)
    for name in names:
        source = (BENCHMARKS / f"{name}.py").read_text()
        for call in (r"_common\.parser\(__doc__", r"_common\.Report\(\s*__file__", r"finish\(\)"):
            assert re.search(call, source), f"{name}.py does not call {call}"
        assert "--quick" in source.split('"""')[1], f"{name}.py: its docstring omits --quick"
    # the benchmarks share the helpers instead of importing each other
    for path in BENCHMARKS.glob("*.py"):
        for other in names:
            assert f"from {other} import" not in path.read_text(), (path.name, other)


def test_docs_page_is_the_rendering_of_the_committed_results(suite):
    _, render, _ = suite
    results = render.load(BENCHMARKS / "results")
    assert {r["benchmark"] for r in results} == set(suite[2].discover())
    page = (ROOT / "docs" / "benchmarks.rst").read_text()
    assert page == render.render(results), (
        "docs/benchmarks.rst is stale: run python benchmarks/render.py"
    )


def test_median_times_take_turns_and_warm_up(suite):
    _common = suite[0]
    calls = []
    seconds = _common.median_times(
        {"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, 3, warmup=1
    )
    assert calls == ["a", "b"] * 4
    assert set(seconds) == {"a", "b"} and all(t >= 0 for t in seconds.values())


def test_tables_format_and_serialize(suite, capsys):
    _common = suite[0]
    table = _common.Table("t", [("name", "s"), ("ms", ".1f"), ("share", ".0%")], notes=["n"])
    table.add("ours", np.float32(1.25), None)
    table.add("peer", float("nan"), 0.5)
    text = table.text().splitlines()
    assert text[0] == "t" and text[1].split() == ["name", "ms", "share"]
    assert text[3].split() == ["ours", "1.2", "-"] and text[4].split() == ["peer", "nan", "50%"]
    assert text[-1] == "  n"
    data = json.loads(_common.dumps(table.as_dict()))
    assert data["rows"] == [["ours", 1.25, None], ["peer", "nan", 0.5]]
    with pytest.raises(ValueError, match="3 columns; got a row of 2"):
        table.add("short", 1.0)


def test_peers_and_jpeg_scans(suite):
    _common = suite[0]
    assert _common.peer_version("no_such_module_for_skcompress") is None
    assert _common.peer_version("numpy")
    assert _common.how_to_install("opusenc") == "apt-get install opus-tools"
    Image = pytest.importorskip("PIL.Image")
    import io

    buffer = io.BytesIO()
    Image.fromarray(np.zeros((16, 16), dtype=np.uint8)).save(buffer, format="JPEG")
    data = buffer.getvalue()
    assert 0 < _common.jpeg_scan_bits(data) < 8 * len(data) - 8 * 300  # tables left out
    with pytest.raises(ValueError, match="no SOS marker"):
        _common.jpeg_scan_bits(b"\xff\xd8")
