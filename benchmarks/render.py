"""Render the benchmarks' JSON results into the documentation page ``docs/benchmarks.rst``.

Reads every ``*.json`` that a benchmark wrote with ``--json`` (by default
``benchmarks/results/``, where ``run.py`` puts them) and writes one section per
benchmark, in the suite's order: the command that reproduces it, where and how
long it ran, the peers it measured and those it could not find, and its tables
(reStructuredText CSV tables) with their notes. The page says whether the
figures come from ``--quick`` runs.

Usage::

    python benchmarks/render.py [--results benchmarks/results] [--output docs/benchmarks.rst]
"""

import argparse
import json
import re
import sys
from pathlib import Path

from _common import format_cell
from run import BENCHMARKS

HERE = Path(__file__).resolve().parent
# What would start a list or a field list at the beginning of a cell or paragraph
_BLOCK_START = re.compile(r"^([-+*:]|\(?[0-9A-Za-z#]+[.)](\s|$))")

INTRO = """\
.. This page is written by benchmarks/render.py from the JSON files of
   benchmarks/results/: edit those scripts, not this file.

Benchmarks
==========

Every figure that skcompress quotes comes from one of the scripts of
``benchmarks/``, each measuring ours and its peers (libjpeg-turbo through
Pillow, OpenJPEG, PyWavelets, scipy, scikit-learn, faiss, SPAMS, Opus...) in
the same process and the same run, the routines taking turns so that a busy
machine slows them alike. A peer that is not installed is left out, and the
section says so. Each script takes ``--quick`` (small sizes, seconds) and
``--json PATH`` (the tables as JSON); ``benchmarks/run.py`` runs them all and
``benchmarks/render.py`` writes this page from their JSON::

   python benchmarks/run.py                 # every benchmark in --quick mode, then this page
   python benchmarks/run.py --full --only bench_blockdct,bench_mdct   # real sizes
   python benchmarks/bench_entropy.py --help   # what one benchmark measures, its options
"""


def escape(text, start=True):
    """Inline reStructuredText for plain text: markup characters escaped.

    ``start``: the text may begin a paragraph or a cell, so a list marker
    there is escaped too.
    """
    text = str(text).replace("\\", "\\\\")
    for char in "*`|_":
        text = text.replace(char, "\\" + char)
    if start and _BLOCK_START.match(text):
        text = "\\" + text
    return text or "\\ "


def heading(text, char):
    return f"{text}\n{char * len(text)}\n"


def render_table(table):
    def row(cells):
        return ", ".join('"' + escape(cell).replace('"', '""') + '"' for cell in cells)

    lines = [
        f".. csv-table:: {escape(table['title'])}",
        f"   :header: {row(table['columns'])}",
        "",
    ]
    for values in table["rows"]:
        cells = [format_cell(v, f) for v, f in zip(values, table["formats"], strict=True)]
        lines.append(f"   {row(cells)}")
    lines.append("")
    lines += [escape(note) + "\n" for note in table["notes"]]
    return "\n".join(lines)


def machine(environment):
    """Where a benchmark ran, in words (without the date and threads)."""
    env = environment
    return (
        f"{env['processor']}, {env['cpus']} CPUs, {env['system']}, Python {env['python']}, "
        + ", ".join(f"{k} {v}" for k, v in env["libraries"].items())
    )


def render_result(result, shared_machine):
    full = result["command"].replace(" --quick", "")
    env = result["environment"]
    where = "" if shared_machine else f" on {machine(env)}"
    found = [f"{name} {version}" for name, version in result["peers"].items() if version]
    parts = [
        heading(escape(f"{result['benchmark']}: {result['title']}"), "-"),
        f"``{result['command']}``"
        + (f" (this run; the real sizes: ``{full}``)" if result["quick"] else "")
        + escape(
            f": {result['seconds']:.0f} s{where}, {env['date']}, threads: "
            f"{env.get('threads') or 'default'}.",
            start=False,
        )
        + "\n",
    ]
    if found:
        parts.append(f"Peers found: {escape(', '.join(found))}.\n")
    parts += [escape(note) + "\n" for note in result["notes"]]
    parts += [render_table(table) for table in result["tables"]]
    if not result["tables"]:
        parts.append("No table: see the notes above.\n")
    return "\n".join(parts)


def render(results):
    """The page, from the benchmarks' results (dicts as the scripts write them)."""
    order = {name: i for i, name in enumerate(BENCHMARKS)}
    results = sorted(
        results, key=lambda r: (order.get(r["benchmark"], len(order)), r["benchmark"])
    )
    quick = [r["benchmark"] for r in results if r["quick"]]
    sections = [INTRO]
    if quick:
        which = (
            "All the tables below"
            if len(quick) == len(results)
            else "The tables of " + (", ".join(quick))
        )
        sections.append(
            ".. note::\n\n"
            f"   {which} come from ``--quick`` runs: small sizes, a few repeats and, for the\n"
            "   learned codecs and networks, a few training steps. They show that every\n"
            "   path and peer works and how the tables read, not the figures to quote.\n"
            "   The figures quoted in the README and the user guide come from full runs:\n"
            "   the command without ``--quick`` reproduces each.\n"
        )
    machines = {machine(r["environment"]) for r in results}
    shared = len(machines) == 1
    if shared:
        sections.append(f"Measured on {escape(machines.pop())}.\n")
    sections.append(".. contents:: On this page\n   :local:\n   :depth: 1\n")
    sections += [render_result(r, shared) for r in results]
    return "\n".join(sections).rstrip() + "\n"


def load(directory):
    results = []
    for path in sorted(Path(directory).glob("*.json")):
        data = json.loads(path.read_text())
        if isinstance(data, dict) and "benchmark" in data and "tables" in data:
            results.append(data)
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, default=HERE / "results")
    parser.add_argument("--output", type=Path, default=HERE.parent / "docs" / "benchmarks.rst")
    args = parser.parse_args(argv)
    results = load(args.results)
    if not results:
        parser.error(f"no benchmark results (*.json) in {args.results}")
    args.output.write_text(render(results))
    print(f"{args.output}: {len(results)} benchmarks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
