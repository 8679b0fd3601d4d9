"""A harness trial's Optuna storage work on each storage harness opens: SQLite and the journal.

The per-trial overhead (`overhead.py`) is mostly storage work. This script replays, with no
model and no MLflow, the storage operations one completed trial of `harness run` makes on a
numbered slot (5 folds), and times them per trial, alternating the storages:

- `study.enqueue_trial` of the slot, then `study.ask` (pops it) and its 2 fixed parameters;
- the host and pid attributes and the slot check's read of every trial (`slots.claim_slot`);
- the pruner's read of the completed trials (`pruning.FoldMedianPruner`), 4 fold reports;
- the slot check at the end, the results attribute (`attrs.RESULT_ATTR`), `study.tell`;
- the read of every trial after it (`tuning_studies.done_trials`).

Storages (`--storages`):
    sqlite      what harness opens (`studies.open_storage`: Optuna's RDB storage, SQLite in WAL
                mode, synchronous=NORMAL, heartbeats on);
    journal     what harness opens for the default store (`studies.open_storage` of a journal
                folder: Optuna's `JournalStorage` on a `JournalFileBackend`, an append-only
                file per study, under harness's flock lock, `harness.journal`);
    memory      Optuna's in-memory storage (no persistence: the floor).

A second table times a completed trial's results written as separate user attributes (one per
metric's fold scores, fit and predict seconds: how harness wrote them before) against one
attribute (how it writes them now), on the sqlite storage. A third times the other store a trial
writes: its MLflow child run with a study's tags, a binary task's metrics and fold series and 2
parameters, through MLflow's public calls (`Tracker.start_run`, `log`, `end_run`, each timed
apart) and as harness writes it, in one transaction (`Tracker.record_run`).

    python benchmarks/storage.py                        # 100 trials per storage
    python benchmarks/storage.py --trials 300 --storages sqlite journal
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from typing import Any

from benchlib import Results, fmt, markdown, median, parse_args

METRICS = ("roc_auc", "accuracy", "log_loss", "f1", "brier")  # a binary task's five
FOLDS = 5


def _results() -> dict[str, Any]:
    scores = [0.9] * FOLDS
    results: dict[str, Any] = {f"fold_{m}": scores for m in METRICS}
    results.update(fit_seconds=scores, predict_seconds=scores)
    return results


def _storage(kind: str, folder: str) -> Any:
    import optuna

    from harness.tuning import studies as tuning_studies

    if kind == "sqlite":
        return tuning_studies.open_storage(f"sqlite:///{folder}/optuna.db")
    if kind == "journal":
        return tuning_studies.open_storage(f"journal:///{folder}/optuna", "bench")
    return optuna.storages.InMemoryStorage()


def one_trial(study: Any, slot: int, results: dict[str, Any]) -> None:
    """The storage operations of one completed trial of a slotted harness study."""
    from optuna.trial import TrialState

    from harness.tuning import attrs

    study.enqueue_trial({"C": 1.0, "l1_ratio": 0.5}, user_attrs={attrs.SLOT_ATTR: slot})
    trial = study.ask()
    trial.suggest_float("C", 1e-3, 10.0, log=True)
    trial.suggest_float("l1_ratio", 0.0, 1.0)
    trial.set_user_attr(attrs.HOST_ATTR, "host")
    trial.set_user_attr(attrs.PID_ATTR, 1)
    study.get_trials(deepcopy=False)  # the slot check at the start
    study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))  # the pruner's read
    for step in range(FOLDS - 1):  # the last fold is not reported
        trial.report(0.9, step)
    study.get_trials(deepcopy=False)  # the slot check at the end
    trial.set_user_attr(attrs.RESULT_ATTR, results)
    study.tell(trial, 0.9)
    study.get_trials(deepcopy=False)  # done_trials after the trial


def bench(storages: list[str], trials: int) -> list[dict[str, Any]]:
    """Seconds per trial of each storage, alternating their order trial by trial."""
    import optuna

    results = _results()
    with tempfile.TemporaryDirectory(prefix="harness-storage-") as folder:
        studies = {
            kind: optuna.create_study(storage=_storage(kind, folder), study_name="bench")
            for kind in storages
        }
        spent: dict[str, list[float]] = {kind: [] for kind in storages}
        for number in range(trials):
            order = storages if number % 2 == 0 else storages[::-1]
            for kind in order:
                start = time.perf_counter()
                one_trial(studies[kind], number, results)
                spent[kind].append(time.perf_counter() - start)
    rows = []
    for kind in storages:
        values = spent[kind][10:] or spent[kind]  # the first ten warm the connections up
        rows.append(
            {
                "case": "trial",
                "storage": kind,
                "trials": trials,
                "seconds_per_trial": median(values),
                "first_10": median(spent[kind][:10]),
                "last_10": median(spent[kind][-10:]),
            }
        )
    return rows


def bench_results_attribute(trials: int) -> list[dict[str, Any]]:
    """A trial's results as separate user attributes against one, on the sqlite storage."""
    import optuna

    from harness.tuning import attrs

    results = _results()
    with tempfile.TemporaryDirectory(prefix="harness-storage-") as folder:
        study = optuna.create_study(storage=_storage("sqlite", folder), study_name="bench")
        spent: dict[str, list[float]] = {"separate": [], "one": []}
        for number in range(trials):
            for layout in ("separate", "one") if number % 2 else ("one", "separate"):
                trial = study.ask()
                start = time.perf_counter()
                if layout == "separate":
                    for key, value in results.items():
                        trial.set_user_attr(key, value)
                else:
                    trial.set_user_attr(attrs.RESULT_ATTR, results)
                spent[layout].append(time.perf_counter() - start)
                study.tell(trial, 0.9)
    return [
        {
            "case": "results attribute",
            "storage": "sqlite",
            "layout": layout,
            "writes": len(results) if layout == "separate" else 1,
            "trials": trials,
            "seconds_per_trial": median(spent[layout][10:] or spent[layout]),
        }
        for layout in ("separate", "one")
    ]


def bench_mlflow(trials: int) -> list[dict[str, Any]]:
    """A trial's MLflow child run on a local sqlite store: the public calls (create, log, end,
    timed apart) against harness's one transaction (`Tracker.record_run`), alternating."""
    from harness.store.tracker import Tracker
    from harness.store.urls import make_folders, resolve_stores

    results = _results()
    series = {k: v for k, v in results.items() if k.startswith("fold_")}
    summary = {f"cv_{m}_{s}": 0.9 for m in METRICS for s in ("mean", "std")}
    summary.update(fit_seconds=0.5, predict_seconds=0.05)
    tags = {f"harness.tag{i}": "value" for i in range(12)}  # a study's tags, on each trial
    params = {"C": 1.0, "l1": 0.5}
    spent: dict[str, list[float]] = {"create": [], "log": [], "end": [], "one transaction": []}
    with tempfile.TemporaryDirectory(prefix="harness-storage-") as folder:
        stores = resolve_stores(f"sqlite:///{folder}/mlflow.db", f"journal:///{folder}/optuna")
        make_folders(stores)
        tracker = Tracker(stores)
        parent = tracker.start_run("bench", "study", tags)
        for number in range(trials):
            start = time.perf_counter()
            child = tracker.start_run("bench", f"trial-{number}", tags, parent=parent)
            logged = time.perf_counter()
            tracker.log(child, metrics=summary, series=series, params=params)
            ended = time.perf_counter()
            tracker.end_run(child)
            spent["create"].append(logged - start)
            spent["log"].append(ended - logged)
            spent["end"].append(time.perf_counter() - ended)
            start = time.perf_counter()
            tracker.record_run(
                "bench",
                f"trial-{number}",
                tags,
                parent=parent,
                metrics=summary,
                series=series,
                params=params,
            )
            spent["one transaction"].append(time.perf_counter() - start)
    public = [sum(parts) for parts in zip(spent["create"], spent["log"], spent["end"], strict=True)]
    spent = {**spent, "the three public calls": public}
    return [
        {"case": "mlflow", "call": call, "trials": trials, "seconds_per_trial": median(v[10:] or v)}
        for call, v in spent.items()
    ]


def table(rows: list[dict[str, Any]]) -> str:
    trial = [r for r in rows if r["case"] == "trial"]
    base = next((r for r in trial if r["storage"] == "sqlite"), None)
    first = markdown(
        ["storage", "trials", "ms / trial (median)", "first 10", "last 10", "vs sqlite"],
        [
            [
                r["storage"],
                r["trials"],
                fmt(r["seconds_per_trial"] * 1000, 1),
                fmt(r["first_10"] * 1000, 1),
                fmt(r["last_10"] * 1000, 1),
                fmt(r["seconds_per_trial"] / base["seconds_per_trial"], 2) if base else "-",
            ]
            for r in trial
        ],
    )
    parts = [first]
    layouts = [r for r in rows if r["case"] == "results attribute"]
    if layouts:
        parts.append(
            markdown(
                ["a trial's results", "writes", "ms / trial (median)"],
                [
                    [r["layout"], r["writes"], fmt(r["seconds_per_trial"] * 1000, 1)]
                    for r in layouts
                ],
            )
        )
    mlflow = [r for r in rows if r["case"] == "mlflow"]
    if mlflow:
        parts.append(
            markdown(
                ["MLflow (sqlite), a trial's", "ms / trial (median)"],
                [[r["call"], fmt(r["seconds_per_trial"] * 1000, 1)] for r in mlflow],
            )
        )
    return "\n\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=100, help="trials per storage")
    parser.add_argument(
        "--storages",
        nargs="+",
        choices=("sqlite", "journal", "memory"),
        default=["sqlite", "journal", "memory"],
    )
    args = parse_args(parser, argv, table)
    if args is None:
        return 0
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.simplefilter("ignore")  # heartbeats outside `optimize`, experimental arguments
    results = Results("storage", {"trials": args.trials, "storages": args.storages})
    rows = bench(args.storages, args.trials) + bench_results_attribute(args.trials)
    for row in rows + bench_mlflow(args.trials):
        results.add(row)
    print(table(results.payload["results"]))
    print(f"\nWrote {results.path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
