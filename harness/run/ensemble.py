"""The run's ensemble: greedy selection over the studies' out-of-fold predictions, recorded."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd

from harness.contracts.metrics import get_metric
from harness.contracts.task import Task
from harness.errors import StoreError
from harness.protocol.splits import Prepared
from harness.run.config import RunConfig, StudyResult
from harness.run.refit import holdout_frame, load_array
from harness.run.study import Extras, base_tags
from harness.store.schema import TAG
from harness.store.tracker import Tracker

# ----------------------------------------------------------------------------- the ensemble


def run_ensemble(
    task: Task,
    data: Prepared,
    config: RunConfig,
    tracker: Tracker,
    extras: Extras,
    results: list[StudyResult],
) -> StudyResult:
    """Blend this run's ok studies (greedy selection on OOF predictions) and record the blend.

    The weights see only the training part's OOF predictions and target; the holdout is scored
    once with them. Recorded as a run of kind "ensemble" for the model "ensemble" (family
    "ensemble") with its members and weights, shaped like a study run, so leaderboards rank it
    and `harness submit --model ensemble` picks it.
    Fewer than two ok studies with OOF predictions: skipped, with the reason, and no run.
    """
    from harness import errors
    from harness.protocol import ensemble

    members, notes = ensemble_inputs(tracker, results, extras.test_X is not None)
    if len(members) < 2:
        reason = f"fewer than 2 studies ended ok with out-of-fold predictions ({len(members)})" + (
            f"; {'; '.join(notes)}" if notes else ""
        )
        return StudyResult(ensemble.MODEL, "skipped", reason)
    kind = SimpleNamespace(name=ensemble.MODEL, family=ensemble.FAMILY, hardware=())
    tags = base_tags(task, kind, data, config, "cpu")  # type: ignore[arg-type]
    tags[f"{TAG}kind"] = ensemble.KIND  # not an Optuna study: study counters skip it
    tags[f"{TAG}health_warnings"] = len(extras.findings)
    if extras.source:
        tags[f"{TAG}source"] = extras.source
    run_id = tracker.start_run(task.name, ensemble.MODEL, {**tags, f"{TAG}status": "running"})
    end_status, status, error = "KILLED", "failed", "interrupted"
    try:
        result = score_ensemble(task, data, tracker, extras, members, notes, run_id)
        end_status, error = "FINISHED", None
        return result
    except StoreError as exc:
        end_status, error = "FAILED", f"store failure: {exc}"
        raise
    except Exception as exc:
        end_status, error = "FAILED", errors.error_text(exc)
        return StudyResult(ensemble.MODEL, "failed", error, run_id=run_id)
    finally:
        if error:
            tracker.log(run_id, tags={f"{TAG}status": status, f"{TAG}error": error})
        tracker.end_run(run_id, end_status)


def ensemble_inputs(
    tracker: Tracker, results: list[StudyResult], with_test: bool
) -> tuple[dict[str, dict[str, np.ndarray]], list[str]]:
    """Model -> its stored OOF, holdout (and test) predictions, for the ok studies of the run."""
    members: dict[str, dict[str, np.ndarray]] = {}
    notes = []
    for result in results:
        if result.status != "ok" or not result.run_id:
            continue
        parts = ["oof", "holdout", *(["test"] if with_test else [])]
        arrays = {p: load_array(tracker, result.run_id, f"{p}_predictions.npy") for p in parts}
        lacking = [p for p, a in arrays.items() if a is None]
        if lacking:
            notes.append(f"{result.model} stored no {' / '.join(lacking)} predictions")
            continue
        members[result.model] = arrays  # type: ignore[assignment]
    return members, notes


def score_ensemble(
    task: Task,
    data: Prepared,
    tracker: Tracker,
    extras: Extras,
    members: dict[str, dict[str, np.ndarray]],
    notes: list[str],
    run_id: str,
) -> StudyResult:
    from harness.protocol import ensemble

    start = time.perf_counter()
    oof = {name: parts["oof"] for name, parts in members.items()}
    selection = ensemble.select(oof, data.y, task.metric)
    fit_s = time.perf_counter() - start
    weights = selection.weights
    blended_oof = ensemble.blend(oof, weights)
    series = {
        f"fold_{name}": values
        for name, values in ensemble.fold_scores(
            blended_oof, data.y, data.folds, task.metrics
        ).items()
    }
    start = time.perf_counter()
    holdout_prediction = ensemble.blend({m: p["holdout"] for m, p in members.items()}, weights)
    submission, arrays = None, {"oof_predictions.npy": blended_oof}
    if extras.test_X is not None:
        test_prediction = ensemble.blend({m: p["test"] for m, p in members.items()}, weights)
        submission = extras.submission_frame(test_prediction, data, task)
        arrays["test_predictions.npy"] = test_prediction
    predict_s = time.perf_counter() - start
    arrays["holdout_predictions.npy"] = holdout_prediction
    holdout = {
        f"holdout_{name}": get_metric(name).score(data.holdout_y, holdout_prediction)
        for name in task.metrics
    }
    metrics: dict[str, float] = {}
    for key, values in series.items():
        metrics[f"cv_{key[len('fold_') :]}_mean"] = float(np.mean(values))
        metrics[f"cv_{key[len('fold_') :]}_std"] = float(np.std(values))
    metrics.update(holdout)
    metrics[f"oof_{task.metric}"] = selection.score
    metrics["fit_seconds"] = fit_s
    metrics["predict_seconds"] = predict_s
    metrics["members"] = len(weights)
    tracker.log(
        run_id,
        metrics=metrics,
        series=series,
        params={f"weight.{name}": round(w, 6) for name, w in weights.items()},
        tags={
            f"{TAG}status": "ok",
            f"{TAG}ensemble_members": json.dumps(weights),
            f"{TAG}ensemble_candidates": ",".join(members),
            **({f"{TAG}ensemble_notes": "; ".join(notes)} if notes else {}),
        },
    )
    folds = pd.DataFrame(series)
    folds.insert(0, "fold", range(len(folds)))
    with tempfile.TemporaryDirectory() as tmp:
        frames = {
            "fold_scores.csv": folds,
            "holdout_predictions.csv": holdout_frame(data, holdout_prediction, task.target),
        }
        if submission is not None:
            frames["submission.csv"] = submission
        for name, frame in frames.items():
            frame.to_csv(Path(tmp, name), index=False)
            tracker.log_artifact(run_id, Path(tmp, name))
        Path(tmp, "ensemble.json").write_text(json.dumps(selection.as_dict(), indent=2))
        tracker.log_artifact(run_id, Path(tmp, "ensemble.json"))
        for name, array in arrays.items():
            np.save(Path(tmp, name), np.asarray(array, dtype=np.float64))
            tracker.log_artifact(run_id, Path(tmp, name))
    primary = task.metric
    return StudyResult(
        ensemble.MODEL,
        "ok",
        cv_mean=metrics[f"cv_{primary}_mean"],
        cv_std=metrics[f"cv_{primary}_std"],
        holdout=holdout[f"holdout_{primary}"],
        best_params={name: round(w, 6) for name, w in weights.items()},
        run_id=run_id,
        submission=submission,
    )
