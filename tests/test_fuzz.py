"""A short fuzzing campaign: every decoder refuses mutated input cleanly, in bounded time.

Runs ``benchmarks/bench_fuzz.py`` on a few inputs per target: mutated JPEG files
for the reader, mutated and resealed bitstreams for every codec's decoder, each
input decoded in a worker process under a memory limit and a timeout. Every
outcome must be a clean decode, a ValueError or a TypeError: another exception,
a crash, a timeout or a memory blow-up fails the test with the harness's
findings. The harness's docstring says how to run longer campaigns and the
sanitizer build of the C reader.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FINDINGS = ("other", "crash", "timeout", "memory")

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the harness uses RLIMIT_AS and /proc"
)


def _campaign(tmp_path, targets, inputs):
    path = tmp_path / "fuzz.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_fuzz.py"), "--quick"]
        + ["--targets", ",".join(targets), "--inputs", str(inputs), "--timeout", "30"]
        + ["--json", str(path)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    tables = {t["title"].split(":")[0]: t for t in json.loads(path.read_text())["tables"]}
    per_target = tables["Outcomes per target"]
    findings = tables.get("Findings (the first 3 of each target and outcome)", {"rows": []})
    columns = per_target["columns"]
    rows = {row[0]: dict(zip(columns, row, strict=True)) for row in per_target["rows"]}
    assert sorted(rows) == sorted(targets)
    for target, row in rows.items():
        assert row["inputs"] == inputs, target
        assert all(row[o] == 0 for o in FINDINGS), (row, findings["rows"])
        assert row["decoded"] + row["ValueError"] + row["TypeError"] == inputs
    return rows


def test_the_reader_and_the_codecs_refuse_mutated_input_cleanly(tmp_path):
    pytest.importorskip("PIL")
    pytest.importorskip("skcompress.io._jpeg_reader")
    targets = ["jpeg-strict", "jpeg-lenient", "codec-categorical", "codec-context"]
    rows = _campaign(tmp_path, targets + ["codec-gain-shape"], 45)
    # the resealed bitstreams reach the decoders behind the checksum
    assert all(rows[t]["decoded"] > 0 for t in targets)


def test_the_whole_codecs_refuse_mutated_streams_cleanly(tmp_path):
    rows = _campaign(tmp_path, ["whole-jpeg2000", "whole-hevc", "whole-celt", "whole-mp3"], 44)
    # resealed streams reach the image decoders behind the CRC-32 (CELT's range-coded
    # payload almost never survives a mutation: its symbols' bounds refuse it)
    assert rows["whole-jpeg2000"]["decoded"] > 0 and rows["whole-hevc"]["decoded"] > 0


def test_the_learned_codecs_refuse_mutated_input_cleanly(tmp_path):
    pytest.importorskip("torch")
    _campaign(tmp_path, ["learned-balle", "learned-wavelet", "learned-soundstream"], 24)
