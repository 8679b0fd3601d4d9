"""Quality at an equal wall-clock budget: harness's best model against a peer (FLAML, AutoGluon).

For each task: the task's own split (`harness.splits.prepare`, the same seed, so the exact rows
`harness run` uses) is exported as Parquet: the training part with its target, and the holdout's
features. Then, one after the other, with the same budget B seconds:

- **harness**: `harness run TASK --budget B --preset PRESET` in an empty folder (new stores), with
  the `harness` package this script imported (its folder leads the child's PYTHONPATH, so a git
  worktree measures its own code). Its pick is the leaderboard's first row (best CV score, as a
  user would choose); its refitted holdout predictions are read from that study's MLflow
  artifacts.
- **each peer** (`--peer`, FLAML by default), in its own virtual environment
  (`benchmarks/.venvs/<peer>`, created on first use with `python3 -m venv` and pip; never next to
  harness, as the AutoML Benchmark isolates each framework), by a small driver on the training
  part, which then predicts the holdout:
  - **flaml**: `flaml.AutoML().fit(X, y, time_budget=B, metric=...)` (`pip install
    "flaml[automl]" pyarrow`: FLAML's automl extra pins XGBoost below 3);
  - **autogluon**: `TabularPredictor(label, eval_metric, problem_type).fit(train, time_limit=B,
    presets=P)` with P = `--peer-preset` (`medium_quality` by default; `pip install
    "autogluon.tabular[lightgbm,catboost,xgboost]==1.6.3" pyarrow`, about two minutes; without
    torch its two neural models skip themselves).

Each prediction is scored with harness's metric on the same holdout rows. Tie rule: a paired
bootstrap of the holdout rows (2,000 resamples, seeded, the same resamples for every peer) gives
a 95% interval for the score difference; if it contains 0 the task is a tie, else a win or a loss
for harness. One table per peer.

    python benchmarks/peer.py                                          # 4 small tasks, B = 60 s
    python benchmarks/peer.py --tasks wa_churn ames --budget 300 --preset medium
    python benchmarks/peer.py --peer autogluon --tasks breast_cancer ames
    python benchmarks/peer.py --peer flaml autogluon --peer-preset best_quality
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from benchlib import Results, fmt, markdown, parse_args

HERE = Path(__file__).resolve().parent
VENVS = HERE / ".venvs"
DEFAULT_TASKS = ("breast_cancer", "penguins", "wa_churn", "ames")
RESAMPLES = 2000
TARGET = "__target__"


def align_probabilities(proba, classes, n_classes):
    """A peer's probability columns, one per class of `classes` (harness's integer class codes,
    in the peer's order), placed in harness's column order; a class the peer never saw gets 0."""
    proba = np.asarray(proba, dtype=float)
    full = np.zeros((proba.shape[0], n_classes))
    full[:, np.asarray(classes, dtype=int)] = proba
    return full


# What every driver starts with: reading the exported split, and `align_probabilities` itself.
PRELUDE = (
    "import json, sys, time\n"
    "import numpy as np, pandas as pd\n\n"
    + inspect.getsource(align_probabilities)
    + r"""
folder = sys.argv[1]
meta = json.load(open(f"{folder}/meta.json"))
train = pd.read_parquet(f"{folder}/train.parquet")
holdout = pd.read_parquet(f"{folder}/holdout.parquet")
"""
)

FLAML_DRIVER = (
    PRELUDE
    + r"""
from flaml import AutoML

y = train.pop("__target__").to_numpy()
for frame in (train, holdout):
    for column in frame.columns:
        if frame[column].dtype == object or str(frame[column].dtype) == "string":
            frame[column] = frame[column].astype("category")
automl = AutoML()
start = time.perf_counter()
automl.fit(train, y, task=meta["task"], metric=meta["flaml_metric"], time_budget=meta["budget"],
           seed=meta["seed"], n_jobs=-1, verbose=0)
fit_seconds = time.perf_counter() - start
if meta["task"] == "classification":
    prediction = align_probabilities(automl.predict_proba(holdout), automl.classes_,
                                     meta["n_classes"])
else:
    prediction = np.asarray(automl.predict(holdout), dtype=float)
np.save(f"{folder}/flaml_prediction.npy", prediction)
json.dump({"fit_seconds": fit_seconds, "pick": automl.best_estimator,
           "best_estimator": automl.best_estimator, "best_config": automl.best_config,
           "best_loss": automl.best_loss, "metric": meta["flaml_metric"]},
          open(f"{folder}/flaml_info.json", "w"), default=str)
"""
)

AUTOGLUON_DRIVER = (
    PRELUDE
    + r"""
from autogluon.tabular import TabularPredictor

# AutoGluon seeds its models and its validation split itself (seed 0); fit() takes no seed.
predictor = TabularPredictor(label="__target__", eval_metric=meta["autogluon_metric"],
                             problem_type=meta["problem_type"],
                             path=f"{folder}/autogluon_models", verbosity=0)
start = time.perf_counter()
predictor.fit(train, time_limit=meta["budget"], presets=meta["autogluon_preset"])
fit_seconds = time.perf_counter() - start
if meta["task"] == "classification":
    proba = predictor.predict_proba(holdout)  # a DataFrame, one column per class it saw
    prediction = align_probabilities(proba.to_numpy(), proba.columns, meta["n_classes"])
else:
    prediction = np.asarray(predictor.predict(holdout), dtype=float)
np.save(f"{folder}/autogluon_prediction.npy", prediction)
board = predictor.leaderboard(silent=True)
json.dump({"fit_seconds": fit_seconds, "pick": predictor.model_best, "models": len(board),
           "leaderboard": board[["model", "score_val", "fit_time", "pred_time_val"]]
           .to_dict("records"),
           "metric": meta["autogluon_metric"], "preset": meta["autogluon_preset"]},
          open(f"{folder}/autogluon_info.json", "w"), default=str)
"""
)

# harness metric -> FLAML metric (FLAML optimizes it on its own internal validation); others
# get FLAML's "auto".
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

# harness metric -> AutoGluon 1.6's eval_metric (`autogluon.core.metrics.METRICS`), which it
# uses for early stopping, model selection and the ensemble's weights. AutoGluon has no Brier
# score: log loss, the other proper scoring rule of probabilities, stands in for it.
AUTOGLUON_METRICS = {
    "roc_auc": "roc_auc",
    "log_loss": "log_loss",
    "brier": "log_loss",
    "accuracy": "accuracy",
    "balanced_accuracy": "balanced_accuracy",
    "f1_macro": "f1_macro",
    "rmse": "root_mean_squared_error",
    "mae": "mean_absolute_error",
    "r2": "r2",
}
AUTOGLUON_PRESETS = ("medium_quality", "good_quality", "high_quality", "best_quality")


def flaml_metric(metric: str, problem_type: str) -> str:
    return FLAML_METRICS.get((metric, problem_type), "auto")


def autogluon_metric(metric: str) -> str:
    """AutoGluon's name for a harness metric (the same for every problem type it fits)."""
    return AUTOGLUON_METRICS[metric]


@dataclass(frozen=True)
class Peer:
    """An AutoML framework run by a driver script in its own virtual environment."""

    name: str  # the command line's, the results JSON's and the files' name
    label: str  # the tables'
    packages: tuple[str, ...]  # what pip installs into the new environment
    check: str  # Python that fails unless the environment is complete
    version: str  # Python printing the installed version
    driver: str
    install: str  # how long the first install takes, for the message

    @property
    def venv(self) -> Path:
        return VENVS / self.name

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"


PEERS = {
    "flaml": Peer(
        "flaml",
        "FLAML",
        ("flaml[automl]", "pyarrow"),
        "import flaml.automl, pyarrow, lightgbm, xgboost",
        "import flaml; print(flaml.__version__)",
        FLAML_DRIVER,
        "a few minutes",
    ),
    "autogluon": Peer(
        "autogluon",
        "AutoGluon",
        ("autogluon.tabular[lightgbm,catboost,xgboost]==1.6.3", "pyarrow"),
        "import autogluon.tabular, pyarrow, lightgbm, catboost, xgboost",
        "import autogluon.tabular; print(autogluon.tabular.__version__)",
        AUTOGLUON_DRIVER,
        "about two minutes",
    ),
}


def ensure_venv(peer: Peer) -> Path:
    """The peer's own virtual environment, created on first use; its Python."""
    check = [str(peer.python), "-c", peer.check]
    if peer.python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return peer.python
    print(f"Creating {peer.venv} with {' '.join(peer.packages)} ({peer.install}, once)...")
    peer.venv.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["python3", "-m", "venv", str(peer.venv)], check=True)
    subprocess.run([str(peer.venv / "bin" / "pip"), "install", "-q", *peer.packages], check=True)
    subprocess.run(check, check=True)
    return peer.python


def harness_command() -> tuple[list[str], dict[str, str]]:
    """The `harness` command and its environment: this Python with the folder of the `harness`
    package imported here leading PYTHONPATH, so the run measures this checkout's code (a git
    worktree's, not that of the checkout the virtual environment was installed from)."""
    import harness

    root = str(Path(harness.__file__).resolve().parents[1])
    env = {
        k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", "HARNESS_STORAGE")
    }
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return [sys.executable, "-m", "harness"], env


def export(task, data, folder: Path, budget: float, seed: int, autogluon_preset: str) -> None:
    train = data.X.copy()
    train[TARGET] = data.y
    train.to_parquet(folder / "train.parquet")
    data.holdout_X.to_parquet(folder / "holdout.parquet")
    kind = "regression" if task.problem_type == "regression" else "classification"
    (folder / "meta.json").write_text(
        json.dumps(
            {
                "task": kind,
                "problem_type": task.problem_type,
                "flaml_metric": flaml_metric(task.metric, task.problem_type),
                "autogluon_metric": autogluon_metric(task.metric),
                "autogluon_preset": autogluon_preset,
                "budget": budget,
                "seed": seed,
                "n_classes": data.n_classes,
            }
        )
    )


def run_peer(peer: Peer, folder: Path) -> dict:
    driver = folder / f"{peer.name}_driver.py"
    driver.write_text(peer.driver)
    start = time.perf_counter()
    done = subprocess.run(
        [str(peer.python), str(driver), str(folder)], capture_output=True, text=True
    )
    wall = time.perf_counter() - start
    if done.returncode != 0:
        return {"error": done.stderr[-2000:], "wall_seconds": wall}
    info = json.loads((folder / f"{peer.name}_info.json").read_text())
    prediction = np.load(folder / f"{peer.name}_prediction.npy")
    return {**info, "wall_seconds": wall, "prediction": prediction}


def run_harness(task, data, folder: Path, budget: float, preset: str, seed: int) -> dict:
    from harness.results.leaderboard import task_rows
    from harness.store.tracker import Tracker
    from harness.store.urls import resolve_stores

    tracking, storage = f"sqlite:///{folder}/mlflow.db", f"journal:///{folder}/optuna"
    program, env = harness_command()
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
    done = subprocess.run(program + command, cwd=folder, env=env, capture_output=True, text=True)
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


def compare(metric, y, ours, theirs, seed: int) -> dict:
    """The score difference (+: harness), its bootstrap interval, and the outcome for harness."""
    if ours is None or theirs is None:
        return {"outcome": "loss" if ours is None else "win"}
    diff, low, high = paired_bootstrap(metric, y, ours, theirs, seed)
    outcome = "tie" if low <= 0 <= high else ("win" if diff > 0 else "loss")
    return {"difference": diff, "interval": [low, high], "outcome": outcome}


def bench_task(
    name: str, peers: list[Peer], budget: float, preset: str, seed: int, autogluon_preset: str
) -> dict:
    """One task: harness once, then each peer, each scored on the holdout and compared with
    harness's prediction (`row[peer.name]`)."""
    from harness import registry
    from harness.contracts.metrics import get_metric
    from harness.protocol.splits import prepare

    task = registry.get_task(name)
    data = prepare(task, task.load(), folds=task.folds, seed=seed)
    metric = get_metric(task.metric)
    y = np.asarray(data.holdout_y)
    row: dict = {
        "task": name,
        "metric": task.metric,
        "direction": metric.direction,
        "training_rows": len(data.y),
        "holdout_rows": len(data.holdout_y),
    }
    predictions = {}
    with tempfile.TemporaryDirectory(prefix="harness-peer-") as tmp:
        folder = Path(tmp)
        export(task, data, folder, budget, seed, autogluon_preset)
        row["harness"] = run_harness(task, data, folder, budget, preset, seed)
        for peer in peers:
            row[peer.name] = run_peer(peer, folder)
    for side in ("harness", *(peer.name for peer in peers)):
        prediction = predictions[side] = row[side].pop("prediction", None)
        if prediction is not None:
            row[side]["holdout"] = metric.score(y, prediction)
    for peer in peers:
        row[peer.name].update(
            compare(metric, y, predictions["harness"], predictions[peer.name], seed)
        )
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


def peer_result(row: dict, name: str) -> dict:
    """A peer's result in a row, with its comparison; a results file from before `--peer` kept
    FLAML's difference, interval and outcome in the row itself."""
    old = {k: row[k] for k in ("difference", "interval", "outcome") if k in row}
    return {**old, **row[name]}


def pick(result: dict) -> str:
    """The peer's chosen model, with the number of models it trained when it says."""
    chosen = result.get("pick") or result.get("best_estimator") or "error"
    return f"{chosen} ({result['models']} models)" if "models" in result else chosen


def peer_table(results: list[dict], peer: Peer) -> str:
    rows, outcomes = [], []
    for r in results:
        if peer.name not in r:
            continue
        h, f = r["harness"], peer_result(r, peer.name)
        interval = f.get("interval")
        outcomes.append(f["outcome"])
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
                pick(f),
                fmt(f.get("holdout"), 4),
                fmt(f.get("wall_seconds"), 0),
                fmt(f.get("difference"), 4),
                f"[{fmt(interval[0], 4)}, {fmt(interval[1], 4)}]" if interval else "-",
                f["outcome"],
            ]
        )
    counts = {k: outcomes.count(k) for k in ("win", "tie", "loss")}
    head = ["task", "metric", "train rows", "holdout rows", "harness pick", "harness holdout"]
    head += ["harness s", f"{peer.label} pick", f"{peer.label} holdout", f"{peer.label} s"]
    head += ["difference (+: harness)", "95% bootstrap interval", "outcome"]
    return (
        markdown(head, rows)
        + f"\n\nHarness wins / ties / losses against {peer.label}: "
        + f"{counts['win']} / {counts['tie']} / {counts['loss']}"
    )


def table(results: list[dict]) -> str:
    """One table per peer in the results (FLAML's first), then the ensemble's table."""
    peers = [peer for name, peer in PEERS.items() if any(name in r for r in results)]
    return "\n\n".join([*(peer_table(results, peer) for peer in peers), ensemble_table(results)])


def chosen_peers(values: list[str] | None) -> list[Peer]:
    """The peers `--peer` names, in the order first given, each once; FLAML when none."""
    names = dict.fromkeys(values or ["flaml"])
    return [PEERS[name] for name in names]


def arguments(argv: list[str] | None) -> argparse.Namespace | None:
    """The parsed command line with `peers` (a list of `Peer`); None after `--show`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=list(DEFAULT_TASKS))
    parser.add_argument("--budget", type=float, default=60.0, help="seconds for each side")
    parser.add_argument("--preset", default="best", help="harness's preset (fast, medium, best)")
    parser.add_argument(
        "--peer",
        action="extend",
        nargs="+",
        choices=list(PEERS),
        help="the peer(s) to run against, one after the other on each task: flaml (the "
        "default), autogluon, or both (`--peer flaml autogluon`, or `--peer` twice)",
    )
    parser.add_argument(
        "--peer-preset",
        default="medium_quality",
        choices=AUTOGLUON_PRESETS,
        help="AutoGluon's presets (default medium_quality); FLAML has none",
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parse_args(parser, argv, table)
    if args is not None:
        args.peers = chosen_peers(args.peer)
    return args


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    if args is None:
        return 0
    versions = {}
    for peer in args.peers:
        python = ensure_venv(peer)
        versions[peer.name] = subprocess.run(
            [str(python), "-c", peer.version], capture_output=True, text=True
        ).stdout.strip()
    import harness

    results = Results(
        "peer",
        {
            "tasks": args.tasks,
            "budget": args.budget,
            "preset": args.preset,
            "seed": args.seed,
            "peers": [peer.name for peer in args.peers],
            **versions,
            "autogluon_preset": args.peer_preset if "autogluon" in versions else None,
            "harness_code": str(Path(harness.__file__).resolve().parent),
            "resamples": RESAMPLES,
        },
    )
    for name in args.tasks:
        row = bench_task(name, args.peers, args.budget, args.preset, args.seed, args.peer_preset)
        results.add(row)
        sides = [
            f"{peer.label} {fmt(row[peer.name].get('holdout'), 4)} ({pick(row[peer.name])}): "
            f"{row[peer.name]['outcome']}"
            for peer in args.peers
        ]
        print(
            f"  {name}: harness {fmt(row['harness'].get('holdout'), 4)} "
            f"({row['harness'].get('model')}); " + "; ".join(sides),
            flush=True,
        )
    print()
    print(table(results.payload["results"]))
    print(f"\nWrote {results.path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
