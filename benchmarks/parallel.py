"""Parallel efficiency: trials per minute of `harness run --workers 1` against `--workers 2`.

The same studies (a task, `--models`, `--trials` each, fresh stores every time) run as a real
`harness run` command with 1 worker and with N workers, alternating, `--repeats` times. By
default each side gets harness's own thread split, so both use every core: 1 worker x all cores
against N workers x (cores / N); `--jobs J` gives every model J threads on both sides instead.
Reported per side: the command's wall seconds and the trials per minute over the tuning span
(first trial's start to last trial's end, read from the Optuna storage, so the start-up and the
refits are left out), medians over the repeats; and their ratio, the speed-up.

    python benchmarks/parallel.py                                      # wa_churn, 4 fast models
    python benchmarks/parallel.py --task ames --trials 10 --repeats 5
    python benchmarks/parallel.py --jobs 1                             # 1 thread per model
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib import Results, fmt, markdown, median, parse_args

DEFAULT_MODELS = ("linear", "naive_bayes", "hist_gradient_boosting", "lightgbm")


def harness_command() -> list[str]:
    script = Path(sys.executable).with_name("harness")
    return [str(script)] if script.exists() else [sys.executable, "-m", "harness"]


def one_run(
    task: str, models: list[str], trials: int, workers: int, jobs: int | None, folds: int | None
) -> dict:
    import optuna

    from harness.tuning import studies as tuning_studies

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="harness-parallel-") as tmp:
        storage = f"journal:///{tmp}/optuna"  # the default store's storage
        args = [
            task,
            "--trials",
            str(trials),
            "--workers",
            str(workers),
            "--tracking-uri",
            f"sqlite:///{tmp}/mlflow.db",
            "--storage",
            storage,
        ]
        for model in models:
            args += ["-m", model]
        if jobs:
            args += ["--jobs", str(jobs)]
        if folds:
            args += ["--folds", str(folds)]
        start = time.perf_counter()
        done = subprocess.run(
            harness_command() + ["run", *args], cwd=tmp, capture_output=True, text=True
        )
        wall = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(f"harness run failed ({done.returncode}): {done.stderr[-3000:]}")
        starts, ends, count = [], [], 0
        for name in (f"{task}.{model}" for model in models):
            study = tuning_studies.load_study(storage, name)
            for trial in study.get_trials(deepcopy=False):
                if trial.datetime_start and trial.datetime_complete:
                    starts.append(trial.datetime_start)
                    ends.append(trial.datetime_complete)
                    count += 1
    span = (max(ends) - min(starts)).total_seconds()
    return {
        "workers": workers,
        "wall_seconds": wall,
        "tuning_seconds": span,
        "trials": count,
        "trials_per_minute": count / span * 60,
    }


def summary(runs: list[dict], workers: list[int]) -> list[dict]:
    out = []
    for w in workers:
        mine = [r for r in runs if r["workers"] == w]
        out.append(
            {
                "workers": w,
                "runs": len(mine),
                "trials": mine[0]["trials"] if mine else None,
                "wall_seconds": median([r["wall_seconds"] for r in mine]),
                "tuning_seconds": median([r["tuning_seconds"] for r in mine]),
                "trials_per_minute": median([r["trials_per_minute"] for r in mine]),
            }
        )
    base = out[0]
    for row in out:
        if row["runs"] and base["runs"]:
            row["speedup_trials_per_minute"] = row["trials_per_minute"] / base["trials_per_minute"]
            row["speedup_wall"] = base["wall_seconds"] / row["wall_seconds"]
    return out


def table(payload: dict) -> str:
    s = payload["settings"]
    rows = [
        [
            r["workers"],
            s.get("jobs") or max(1, s["cores"] // r["workers"]),
            r["runs"],
            r["trials"],
            fmt(r["wall_seconds"], 1),
            fmt(r["tuning_seconds"], 1),
            fmt(r["trials_per_minute"], 1),
            fmt(r.get("speedup_trials_per_minute"), 2),
            fmt(r.get("speedup_wall"), 2),
        ]
        for r in payload["summary"]
    ]
    return markdown(
        [
            "workers",
            "threads per model",
            "runs",
            "trials",
            "command s (median)",
            "tuning span s",
            "trials / min",
            "speed-up (trials / min)",
            "speed-up (command)",
        ],
        rows,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="wa_churn")
    parser.add_argument("--models", nargs="+", default=list(DEFAULT_MODELS))
    parser.add_argument("--trials", type=int, default=8, help="trials per study")
    parser.add_argument("--workers", type=int, default=2, help="the parallel side's workers")
    parser.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="threads per model on both sides (default: harness's split)",
    )
    parser.add_argument("--folds", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=3, help="runs of each side, alternating")
    args = parse_args(parser, argv, table, part=None)
    if args is None:
        return 0
    results = Results(
        "parallel",
        {
            "task": args.task,
            "models": args.models,
            "trials": args.trials,
            "workers": args.workers,
            "jobs": args.jobs,
            "folds": args.folds,
            "repeats": args.repeats,
        },
    )
    sides = [1, args.workers]
    for number in range(args.repeats):
        for w in sides if number % 2 == 0 else sides[::-1]:
            run = one_run(args.task, args.models, args.trials, w, args.jobs, args.folds)
            results.add(run)
            print(
                f"  workers {w}: {run['trials']} trials in {run['tuning_seconds']:.1f} s "
                f"({run['trials_per_minute']:.1f} / min), command {run['wall_seconds']:.1f} s",
                flush=True,
            )
            results.save(summary=summary(results.payload["results"], sides))
    print()
    print(table(results.payload))
    print(f"\nWrote {results.path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
