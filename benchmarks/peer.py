"""Quality at an equal wall-clock budget: harness's best model against FLAML on the same holdout.

For each task: the task's own split (`harness.splits.prepare`, the same seed, so the exact rows
`harness run` uses) is exported as Parquet: the training part with its target, and the holdout's
features. Then, one after the other, with the same budget B seconds:

- **harness**: `harness run TASK --budget B --preset PRESET` in an empty folder (new stores). Its
  pick is the leaderboard's first row (best CV score, as a user would choose); its refitted
  holdout predictions are read from that study's MLflow artifacts.
- **FLAML**: a small driver runs `flaml.AutoML().fit(X, y, time_budget=B, metric=...)` on the
  training part in its own virtual environment (`benchmarks/.venvs/flaml`, created on first use
  with `python3 -m venv` and `pip install "flaml[automl]" pyarrow`: FLAML's automl extra pins
  XGBoost below 3, so it is not installed next to harness, as the AutoML Benchmark isolates each
  framework), and predicts the holdout.

Both predictions are scored with harness's metric on the same holdout rows. Tie rule: a paired
bootstrap of the holdout rows (2,000 resamples, seeded) gives a 95% interval for the score
difference; if it contains 0 the task is a tie, else a win or a loss for harness.

    python benchmarks/peer.py                                          # 4 small tasks, B = 60 s
    python benchmarks/peer.py --tasks wa_churn ames --budget 300 --preset medium
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from benchlib import Results, fmt, markdown, parse_args

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venvs" / "flaml"
DEFAULT_TASKS = ("breast_cancer", "penguins", "wa_churn", "ames")
RESAMPLES = 2000

DRIVER = r"""
import json, sys, time
import numpy as np, pandas as pd
from flaml import AutoML

folder = sys.argv[1]
meta = json.load(open(f"{folder}/meta.json"))
train = pd.read_parquet(f"{folder}/train.parquet")
holdout = pd.read_parquet(f"{folder}/holdout.parquet")
y = train.pop("__target__").to_numpy()
for frame in (train, holdout):
    for column in frame.columns:
        if frame[column].dtype == object or str(frame[column].dtype) == "string":
            frame[column] = frame[column].astype("category")
automl = AutoML()
start = time.perf_counter()
automl.fit(train, y, task=meta["task"], metric=meta["metric"], time_budget=meta["budget"],
           seed=meta["seed"], n_jobs=-1, verbose=0)
fit_seconds = time.perf_counter() - start
if meta["task"] == "classification":
    proba = np.asarray(automl.predict_proba(holdout), dtype=float)
    full = np.zeros((len(holdout), meta["n_classes"]))
    full[:, np.asarray(automl.classes_, dtype=int)] = proba
    prediction = full
else:
    prediction = np.asarray(automl.predict(holdout), dtype=float)
np.save(f"{folder}/flaml_prediction.npy", prediction)
json.dump({"fit_seconds": fit_seconds, "best_estimator": automl.best_estimator,
           "best_config": automl.best_config, "best_loss": automl.best_loss},
          open(f"{folder}/flaml_info.json", "w"), default=str)
"""

# harness metric -> FLAML metric (FLAML optimizes it on its own internal validation).
FLAML_METRICS = {
    ("roc_auc", "binary"): "roc_auc",
    ("roc_auc", "multiclass"): "roc_auc_ovr",
    ("log_loss", "binary"): "log_loss",
    ("log_loss", "multiclass"): "log_loss",
    ("accuracy", "binary"): "accuracy",
    ("accuracy", "multiclass"): "accuracy",
    ("rmse", "regression"): "rmse",
    ("mae", "regression"): "mae",
    ("r2", "regression"): "r2",
}


def ensure_venv() -> Path:
    """FLAML's own virtual environment, created on first use; its Python."""
    python = VENV / "bin" / "python"
    check = [str(python), "-c", "import flaml.automl, pyarrow, lightgbm, xgboost"]
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return python
    print(f"Creating {VENV} with flaml[automl] (a few minutes, once)...", flush=True)
    VENV.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["python3", "-m", "venv", str(VENV)], check=True)
    subprocess.run(
        [str(VENV / "bin" / "pip"), "install", "-q", "flaml[automl]", "pyarrow"], check=True
    )
    subprocess.run(check, check=True)
    return python


def harness_command() -> list[str]:
    script = Path(sys.executable).with_name("harness")
    return [str(script)] if script.exists() else [sys.executable, "-m", "harness"]


def export(task, data, folder: Path, budget: float, seed: int) -> None:
    train = data.X.copy()
    train["__target__"] = data.y
    train.to_parquet(folder / "train.parquet")
    data.holdout_X.to_parquet(folder / "holdout.parquet")
    kind = "regression" if task.problem_type == "regression" else "classification"
    metric = FLAML_METRICS.get((task.metric, task.problem_type), "auto")
    (folder / "meta.json").write_text(
        json.dumps(
            {
                "task": kind,
                "metric": metric,
                "budget": budget,
                "seed": seed,
                "n_classes": data.n_classes,
            }
        )
    )


def run_flaml(python: Path, folder: Path) -> dict:
    start = time.perf_counter()
    done = subprocess.run(
        [str(python), str(folder / "driver.py"), str(folder)], capture_output=True, text=True
    )
    wall = time.perf_counter() - start
    if done.returncode != 0:
        return {"error": done.stderr[-2000:], "wall_seconds": wall}
    info = json.loads((folder / "flaml_info.json").read_text())
    return {**info, "wall_seconds": wall, "prediction": np.load(folder / "flaml_prediction.npy")}


def run_harness(task, data, folder: Path, budget: float, preset: str, seed: int) -> dict:
    from harness.results.leaderboard import task_rows
    from harness.store.tracker import Tracker
    from harness.store.urls import resolve_stores

    tracking, storage = f"sqlite:///{folder}/mlflow.db", f"journal:///{folder}/optuna"
    env = {
        k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", "HARNESS_STORAGE")
    }
    command = [
        "run",
        task.name,
        "--budget",
        f"{budget:g}",
        "--preset",
        preset,
        "--seed",
        str(seed),
        "--tracking-uri",
        tracking,
        "--storage",
        storage,
    ]
    start = time.perf_counter()
    done = subprocess.run(
        harness_command() + command, cwd=folder, env=env, capture_output=True, text=True
    )
    wall = time.perf_counter() - start
    out = {"wall_seconds": wall, "returncode": done.returncode, "stderr_tail": done.stderr[-1500:]}
    tracker = Tracker(resolve_stores(tracking, storage, create=False))
    rows = [r for r in task_rows(tracker, task.name) if r.rank is not None]
    if not rows:
        return {**out, "error": "no model finished"}
    leader = min(rows, key=lambda r: r.rank)
    path = tracker.client.download_artifacts(leader.run_id, "holdout_predictions.csv", str(folder))
    import pandas as pd

    frame = pd.read_csv(path)
    if data.n_classes:
        prediction = frame[[f"proba_{label}" for label in data.classes]].to_numpy(dtype=float)
    else:
        prediction = frame[f"predicted_{task.target}"].to_numpy(dtype=float)
    return {
        **out,
        "model": leader.model,
        "cv": leader.cv_mean,
        "leaderboard_holdout": leader.holdout,
        "models_ok": len(rows),
        "trials": sum(r.trials or 0 for r in rows),
        "prediction": prediction,
        "leaderboard": [
            {
                "model": r.model,
                "rank": r.rank,
                "cv": r.cv_mean,
                "holdout": r.holdout,
                "trials": r.trials,
                "ensemble": bool(r.members),
            }
            for r in sorted(rows, key=lambda r: r.rank)
        ],
    }


def paired_bootstrap(metric, y, ours, theirs, seed: int) -> tuple[float, float, float]:
    """Score difference (positive: ours better) and its 95% bootstrap interval."""
    sign = 1.0 if metric.direction == "maximize" else -1.0
    diff = sign * (metric.score(y, ours) - metric.score(y, theirs))
    rng = np.random.default_rng(seed)
    diffs = []
    for _ in range(RESAMPLES):
        rows = rng.integers(0, len(y), len(y))
        try:
            diffs.append(
                sign * (metric.score(y[rows], ours[rows]) - metric.score(y[rows], theirs[rows]))
            )
        except ValueError:  # a resample with one class: no ROC AUC
            continue
    low, high = np.percentile(diffs, [2.5, 97.5])
    return diff, float(low), float(high)


def bench_task(name: str, python: Path, budget: float, preset: str, seed: int) -> dict:
    from harness import registry
    from harness.contracts.metrics import get_metric
    from harness.protocol.splits import prepare

    task = registry.get_task(name)
    data = prepare(task, task.load(), folds=task.folds, seed=seed)
    metric = get_metric(task.metric)
    row: dict = {
        "task": name,
        "metric": task.metric,
        "direction": metric.direction,
        "training_rows": len(data.y),
        "holdout_rows": len(data.holdout_y),
    }
    with tempfile.TemporaryDirectory(prefix="harness-peer-") as tmp:
        folder = Path(tmp)
        export(task, data, folder, budget, seed)
        (folder / "driver.py").write_text(DRIVER)
        ours = run_harness(task, data, folder, budget, preset, seed)
        theirs = run_flaml(python, folder)
    for side, result in (("harness", ours), ("flaml", theirs)):
        prediction = result.pop("prediction", None)
        if prediction is not None:
            result["holdout"] = metric.score(data.holdout_y, prediction)
        row[side] = result
        row[f"{side}_prediction"] = prediction
    p_ours, p_theirs = row.pop("harness_prediction"), row.pop("flaml_prediction")
    if p_ours is None or p_theirs is None:
        row["outcome"] = "loss" if p_ours is None else "win"
        return row
    diff, low, high = paired_bootstrap(metric, np.asarray(data.holdout_y), p_ours, p_theirs, seed)
    row.update(difference=diff, interval=[low, high])
    row["outcome"] = "tie" if low <= 0 <= high else ("win" if diff > 0 else "loss")
    return row


def ensemble_versus_single(row: dict) -> dict | None:
    """The ensemble's holdout score against the single model CV ranks first, on one task."""
    board = row["harness"].get("leaderboard") or []
    ensemble = next((r for r in board if r["ensemble"]), None)
    single = next((r for r in board if not r["ensemble"]), None)
    if ensemble is None or single is None:
        return None
    sign = 1.0 if row["direction"] == "maximize" else -1.0
    difference = sign * (ensemble["holdout"] - single["holdout"])
    return {"ensemble": ensemble, "single": single, "difference": difference}


def ensemble_table(results: list[dict]) -> str:
    """Ensemble against the best single model (by CV) on the holdout, per task."""
    rows, compared, as_good = [], 0, 0
    for r in results:
        pair = ensemble_versus_single(r)
        if pair is None:
            continue
        compared += 1
        as_good += pair["difference"] >= 0
        rows.append(
            [
                r["task"],
                pair["single"]["model"],
                fmt(pair["single"]["holdout"], 4),
                pair["ensemble"]["model"],
                fmt(pair["ensemble"]["holdout"], 4),
                fmt(pair["difference"], 4),
            ]
        )
    if not rows:
        return "(no leaderboard with an ensemble in these results)"
    head = ["task", "best single (CV)", "its holdout", "ensemble", "ensemble holdout"]
    return (
        markdown([*head, "difference (+: ensemble)"], rows)
        + f"\n\nEnsemble at least as good as the best single model: {as_good} of {compared}"
    )


def table(results: list[dict]) -> str:
    rows = []
    for r in results:
        h, f = r["harness"], r["flaml"]
        interval = r.get("interval")
        rows.append(
            [
                r["task"],
                r["metric"],
                r["training_rows"],
                r["holdout_rows"],
                f"{h.get('model', '-')} ({h.get('models_ok', 0)} models, "
                f"{h.get('trials', 0)} trials)",
                fmt(h.get("holdout"), 4),
                fmt(h.get("wall_seconds"), 0),
                f.get("best_estimator", "error"),
                fmt(f.get("holdout"), 4),
                fmt(f.get("wall_seconds"), 0),
                fmt(r.get("difference"), 4),
                f"[{fmt(interval[0], 4)}, {fmt(interval[1], 4)}]" if interval else "-",
                r["outcome"],
            ]
        )
    counts = {k: sum(r["outcome"] == k for r in results) for k in ("win", "tie", "loss")}
    return (
        markdown(
            [
                "task",
                "metric",
                "train rows",
                "holdout rows",
                "harness pick",
                "harness holdout",
                "harness s",
                "FLAML pick",
                "FLAML holdout",
                "FLAML s",
                "difference (+: harness)",
                "95% bootstrap interval",
                "outcome",
            ],
            rows,
        )
        + f"\n\nHarness wins / ties / losses: {counts['win']} / {counts['tie']} / {counts['loss']}"
        + "\n\n"
        + ensemble_table(results)
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=list(DEFAULT_TASKS))
    parser.add_argument("--budget", type=float, default=60.0, help="seconds for each side")
    parser.add_argument("--preset", default="best", help="harness's preset (fast, medium, best)")
    parser.add_argument("--seed", type=int, default=0)
    args = parse_args(parser, argv, table)
    if args is None:
        return 0
    python = ensure_venv()
    flaml_version = subprocess.run(
        [str(python), "-c", "import flaml; print(flaml.__version__)"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    results = Results(
        "peer",
        {
            "tasks": args.tasks,
            "budget": args.budget,
            "preset": args.preset,
            "seed": args.seed,
            "flaml": flaml_version,
            "resamples": RESAMPLES,
        },
    )
    for name in args.tasks:
        row = bench_task(name, python, args.budget, args.preset, args.seed)
        results.add(row)
        print(
            f"  {name}: harness {fmt(row['harness'].get('holdout'), 4)} "
            f"({row['harness'].get('model')}), FLAML {fmt(row['flaml'].get('holdout'), 4)} "
            f"({row['flaml'].get('best_estimator')}): {row['outcome']}",
            flush=True,
        )
    print()
    print(table(results.payload["results"]))
    print(f"\nWrote {results.path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
