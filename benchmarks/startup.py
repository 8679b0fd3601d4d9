"""Start-up cost: `harness --help`, `harness list tasks`, and the README's first run, cold.

Each command runs `--repeats` times as a fresh process (the operating system's file cache is
warm after the first); reported are the median, minimum and maximum wall seconds, and which
heavy libraries the command imported (TensorFlow must not be among them). The first run is the
README's `harness run breast_cancer` in an empty folder (a new MLflow store and Optuna storage):
the seconds until its leaderboard is printed, measured once per `--first-runs`.

    python benchmarks/startup.py                       # 5 repeats, one cold first run
    python benchmarks/startup.py --repeats 9 --first-runs 0
    python benchmarks/startup.py --first-run "run breast_cancer --preset fast"
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib import Results, fmt, markdown, median, parse_args

HEAVY = (
    "tensorflow",
    "keras",
    "torch",
    "xgboost",
    "lightgbm",
    "catboost",
    "mlflow",
    "optuna",
    "sklearn",
    "scipy",
    "pandas",
)
# Runs the console script's entry point and reports, at exit, which heavy libraries it loaded.
PROBE = (
    "import atexit, sys\n"
    "atexit.register(lambda: sys.stderr.write('\\nLOADED ' + ','.join("
    f"m for m in {HEAVY!r} if m in sys.modules) + '\\n'))\n"
    "sys.argv = ['harness'] + sys.argv[1:]\n"
    "from harness.cli import main\n"
    "main()\n"
)


def harness_command() -> list[str]:
    """The installed `harness` console script next to this Python, else `python -m harness`."""
    script = Path(sys.executable).with_name("harness")
    return [str(script)] if script.exists() else [sys.executable, "-m", "harness"]


def time_command(args: list[str], repeats: int) -> dict:
    walls = []
    for _ in range(repeats):
        start = time.perf_counter()
        done = subprocess.run(harness_command() + args, capture_output=True, text=True)
        walls.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise SystemExit(f"harness {' '.join(args)} failed: {done.stderr[-2000:]}")
    probe = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, check=False
    )
    loaded = next(
        (line[len("LOADED ") :] for line in probe.stderr.splitlines() if line.startswith("LOADED")),
        "?",
    )
    return {
        "command": "harness " + " ".join(args),
        "repeats": repeats,
        "median_seconds": median(walls),
        "min_seconds": min(walls),
        "max_seconds": max(walls),
        "seconds": walls,
        "heavy_imports": [m for m in loaded.split(",") if m],
    }


def first_run(args: list[str]) -> dict:
    """Seconds from start until the leaderboard is printed, in an empty folder (cold stores)."""
    with tempfile.TemporaryDirectory(prefix="harness-first-run-") as folder:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("MLFLOW_TRACKING_URI", "HARNESS_STORAGE")
        }
        start = time.perf_counter()
        process = subprocess.Popen(
            harness_command() + args,
            cwd=folder,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        board_at = None
        lines = []
        for line in process.stdout:
            lines.append(line)
            if board_at is None and "Leaderboard" in line:
                board_at = time.perf_counter() - start
        process.wait()
        total = time.perf_counter() - start
    return {
        "command": "harness " + " ".join(args),
        "leaderboard_seconds": board_at,
        "exit_seconds": total,
        "returncode": process.returncode,
        "leaderboard": "".join(lines)[-4000:],
    }


def table(payload: dict) -> str:
    rows = [
        [
            f"`{r['command']}`",
            r["repeats"],
            fmt(r["median_seconds"], 2),
            f"{fmt(r['min_seconds'], 2)}-{fmt(r['max_seconds'], 2)}",
            ", ".join(r["heavy_imports"]) or "none",
        ]
        for r in payload["results"]
    ]
    out = markdown(["command", "runs", "median s", "range s", "heavy libraries imported"], rows)
    firsts = payload.get("first_runs") or []
    if firsts:
        out += "\n\n" + markdown(
            ["first run (empty folder, new stores)", "s to leaderboard", "s to exit", "exit code"],
            [
                [
                    f"`{r['command']}`",
                    fmt(r["leaderboard_seconds"], 1),
                    fmt(r["exit_seconds"], 1),
                    r["returncode"],
                ]
                for r in firsts
            ],
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="runs of each quick command")
    parser.add_argument("--first-runs", type=int, default=1, help="cold first runs (0: none)")
    parser.add_argument(
        "--first-run", default="run breast_cancer", help="the first run's harness arguments"
    )
    args = parse_args(
        parser, argv, table, part=None, help="only print the tables of a results file"
    )
    if args is None:
        return 0
    results = Results(
        "startup",
        {"repeats": args.repeats, "first_runs": args.first_runs, "first_run": args.first_run},
    )
    for command in (["--help"], ["list", "tasks"], ["list", "models"]):
        row = time_command(command, args.repeats)
        results.add(row)
        print(
            f"  harness {' '.join(command)}: {row['median_seconds']:.2f} s",
            flush=True,
        )
    firsts = []
    for _ in range(args.first_runs):
        firsts.append(first_run(shlex.split(args.first_run)))
        results.save(first_runs=firsts)
        print(
            f"  first run: {fmt(firsts[-1]['leaderboard_seconds'], 1)} s to the leaderboard",
            flush=True,
        )
    print()
    print(table(results.payload))
    print(f"\nWrote {results.path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
