"""Run the Odoo benchmarks several times and print the spread of each ratio.

    python3 bench/run_all.py [--runs 3] [bench_ingest bench_scoring ...]

Each benchmark prints its ratios to Odoo's own primitive (``... : 1.23x``); this
runs each one ``--runs`` times in a row, on the same machine, and prints a markdown
table of every ratio line with its minimum, median and maximum, so that a figure in
the README is a range and not one lucky run. Extra arguments after ``--`` go to
every benchmark (e.g. ``-- --interactions 100000 --partners 20000``).
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT = ("bench_ingest", "bench_scoring", "bench_coupons", "bench_partner_form")
#: a line that states a ratio or a time: "<what>: 1.23x ..." or "<what>: 2.34 s ..."
FIGURE = re.compile(r"^\s*(?P<what>[^:]+):\s*(?P<value>\d+(?:\.\d+)?)\s*(?P<unit>x|s)\b")


def run(name: str, extra: list[str]) -> dict[str, tuple[float, str]]:
    completed = subprocess.run(
        [sys.executable, str(HERE / f"{name}.py"), *extra],
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode:
        sys.stderr.write(completed.stdout[-2000:] + completed.stderr[-4000:])
        raise SystemExit(f"{name} failed with exit code {completed.returncode}")
    figures = {}
    for line in completed.stdout.splitlines():
        match = FIGURE.match(line)
        if match and not line.startswith("["):
            figures[match["what"].strip()] = (float(match["value"]), match["unit"])
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("benches", nargs="*", default=list(DEFAULT))
    argv = sys.argv[1:]
    cut = argv.index("--") if "--" in argv else len(argv)
    args, extra = parser.parse_args(argv[:cut]), argv[cut + 1 :]
    print("| benchmark | figure | runs | min | median | max |")
    print("|---|---|---:|---:|---:|---:|")
    for name in args.benches:
        runs = [run(name, extra) for _ in range(args.runs)]
        for what in runs[0]:
            values = [r[what][0] for r in runs if what in r]
            unit = runs[0][what][1]
            cells = [f"{v:g}{unit}" for v in (min(values), statistics.median(values), max(values))]
            print(f"| {name} | {what} | {len(values)} | " + " | ".join(cells) + " |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
