"""What the benchmark scripts share: settings, the results file, number formatting.

Not a benchmark itself. Each script writes `benchmarks/results/<name>-<UTC time>.json`
(git-ignored) with its settings, the machine and its results, and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict[str, Any]:
    """The machine a benchmark ran on, with its load when it started (a shared machine shows)."""
    from harness import devices

    try:
        load = os.getloadavg()
    except OSError:
        load = None
    return {
        "machine": f"{platform.machine()}, {devices.cpu_count()} cores, {platform.platform()}",
        "cores": devices.cpu_count(),
        "device": devices.device(),
        "memory_mb": devices.memory_mb(),
        "load_average": load,
        "python": platform.python_version(),
    }


class Results:
    """A results file written after every measurement, so an interrupted run keeps its data."""

    def __init__(self, name: str, settings: dict[str, Any]) -> None:
        RESULTS.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        self.path = RESULTS / f"{name}-{stamp}.json"
        self.payload: dict[str, Any] = {
            "settings": {
                **settings,
                **machine(),
                "started": datetime.now(UTC).isoformat(timespec="seconds"),
            },
            "results": [],
        }

    def add(self, row: dict[str, Any]) -> None:
        self.payload["results"].append(row)
        self.save()

    def save(self, **extra: Any) -> None:
        self.payload.update(extra)
        self.path.write_text(json.dumps(self.payload, indent=2, default=str))


def median(values: Sequence[float]) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def markdown(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def load(path: Path) -> dict[str, Any]:
    return json.loads(Path(path).read_text())


def parse_args(
    parser: argparse.ArgumentParser,
    argv: list[str] | None,
    table: Callable[[Any], str],
    *,
    part: str | None = "results",
    help: str = "only print the table of a results file",  # noqa: A002 (argparse's word)
) -> argparse.Namespace | None:
    """Parse a script's arguments with `--show FILE` added; with it, print `table` of the file's
    `part` (the whole payload when None) and return None: the script has nothing left to do."""
    parser.add_argument("--show", type=Path, help=help)
    args = parser.parse_args(argv)
    if args.show:
        payload = load(args.show)
        print(table(payload[part] if part else payload))
        return None
    return args
