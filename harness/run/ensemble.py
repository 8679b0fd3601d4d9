"""The run's ensemble: greedy selection over the studies' out-of-fold predictions, recorded.

Its CV is cross-fitted (`protocol.ensemble.cross_fitted_scores`): each fold is scored with
weights chosen on the other folds' rows, per repeat, so the ensemble is ranked and tested on
scores its weights never saw, like any single model. The weights used for the holdout and the
submission are chosen on all the out-of-fold rows. Baselines (and any model whose out-of-fold
predictions are constant) are never members. The blend is logged as the run's MLflow model
(`harness.results.models`): its members' model folders and its weights, in one model.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd

from harness import errors, registry
from harness.contracts.metrics import get_metric
from harness.contracts.task import Task
from harness.errors import HarnessError, StoreError
from harness.protocol import ensemble
from harness.protocol.splits import Prepared
from harness.results import models as logged_models
from harness.run.config import RunConfig, StudyResult
from harness.run.refit import holdout_frame, load_array
from harness.run.study import Extras, base_tags, describe, open_run
from harness.run.trials import cv_summary
from harness.store import schema
from harness.store.tracker import Tracker

__all__ = ["ensemble_inputs", "log_blend", "run_ensemble", "score_ensemble"]

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
    members, notes = ensemble_inputs(tracker, results, extras.test_X is not None, data.n_classes)
    runs = {r.model: r.run_id for r in results if r.model in members}
    if len(members) < 2:
        reason = f"fewer than 2 studies ended ok with out-of-fold predictions ({len(members)})" + (
            f"; {'; '.join(notes)}" if notes else ""
        )
        return StudyResult(ensemble.MODEL, "skipped", reason)
    kind = SimpleNamespace(name=ensemble.MODEL, family=ensemble.FAMILY, hardware=())
    tags = base_tags(task, kind, data, config, "cpu")  # type: ignore[arg-type]
    tags[schema.KIND] = schema.KIND_ENSEMBLE  # not an Optuna study: study counters skip it
    tags[schema.HEALTH_WARNINGS] = len(extras.findings)
    if extras.source:
        tags[schema.SOURCE] = extras.source
    if extras.source_options:
        tags[schema.SOURCE_OPTIONS] = extras.source_options
    tags[schema.STATUS] = "running"
    run_id = open_run(tracker, task.name, ensemble.MODEL, tags, extras, current=True)
    end_status, status, error = "KILLED", "failed", "interrupted"
    try:
        result = score_ensemble(task, data, tracker, extras, members, notes, run_id, runs)
        if config.log_models:
            log_blend(data, tracker, run_id, runs)
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
            tracker.log(run_id, tags={schema.STATUS: status, schema.ERROR: error})
        describe(tracker, run_id, extras)
        tracker.end_run(run_id, end_status)


def log_blend(data: Prepared, tracker: Tracker, run_id: str, member_runs: dict[str, str]) -> None:
    """Log the blend as the ensemble run's MLflow model: each member's logged model folder
    copied in (so it loads without the members' runs) and the weights the run recorded (their
    JSON keeps every digit the holdout was blended with). A member without a logged model
    leaves the ensemble without one (the tag `harness.model_error` says why)."""
    start = time.perf_counter()
    try:
        weights = json.loads(tracker.client.get_run(run_id).data.tags[schema.ENSEMBLE_MEMBERS])
        members = {}
        for name in weights:
            tags = tracker.client.get_run(member_runs[name]).data.tags
            if not tags.get(schema.LOGGED_MODEL):
                raise HarnessError(f"the member {name!r} logged no model")
            members[name] = tags[schema.LOGGED_MODEL]
        with tempfile.TemporaryDirectory(prefix="harness-model-") as tmp:
            folder = Path(tmp, schema.MODEL_FILES)
            cards = logged_models.save_blend_folder(tracker, members, folder)
            card = logged_models.blend_card(next(iter(cards.values())), weights)
            _, size = logged_models.log_model(
                tracker, run_id, folder, card, example=data.X, params=None
            )
    except StoreError:
        raise
    except Exception as exc:
        tracker.log(run_id, tags={schema.MODEL_ERROR: errors.error_text(exc)})
        return
    seconds = time.perf_counter() - start
    tracker.log(run_id, metrics={schema.MODEL_LOG_SECONDS: seconds, schema.MODEL_MB: size})


def ensemble_inputs(
    tracker: Tracker, results: list[StudyResult], with_test: bool, n_classes: int = 0
) -> tuple[dict[str, dict[str, np.ndarray]], list[str]]:
    """Model -> its stored OOF, holdout (and test) predictions, for the ok studies of the run
    that can be members: not a baseline, and not constant out of fold (a constant changes no
    ranking, so a rank metric would let it in for free and ruin the blend's probabilities)."""
    members: dict[str, dict[str, np.ndarray]] = {}
    notes = []
    for result in results:
        if result.status != "ok" or not result.run_id:
            continue
        if _family(result.model) == "baseline":
            notes.append(f"{result.model} left out: a baseline")
            continue
        parts = ["oof", "holdout", *(["test"] if with_test else [])]
        arrays = {p: load_array(tracker, result.run_id, schema.array(p)) for p in parts}
        lacking = [p for p, a in arrays.items() if a is None]
        if lacking:
            notes.append(f"{result.model} stored no {' / '.join(lacking)} predictions")
            continue
        if _constant(arrays["oof"], n_classes):
            notes.append(f"{result.model} left out: its out-of-fold predictions are constant")
            continue
        members[result.model] = arrays  # type: ignore[assignment]
    return members, notes


def _family(model: str) -> str | None:
    """The registered model's family (None for a model no longer registered)."""
    try:
        return registry.get_model(model).family
    except HarnessError:
        return None


def _constant(oof: np.ndarray, n_classes: int) -> bool:
    """Whether every row gets the same prediction (per class), ignoring rows without one."""
    values = np.asarray(oof, dtype=float)
    values = values.reshape(-1, n_classes) if n_classes else values.reshape(-1, 1)
    values = values[np.isfinite(values).all(axis=1)]
    return len(values) == 0 or bool(np.all(values.max(axis=0) - values.min(axis=0) <= 1e-12))


def score_ensemble(
    task: Task,
    data: Prepared,
    tracker: Tracker,
    extras: Extras,
    members: dict[str, dict[str, np.ndarray]],
    notes: list[str],
    run_id: str,
    member_runs: dict[str, str] | None = None,
) -> StudyResult:
    start = time.perf_counter()
    by_repeat = {
        name: ensemble.by_repeat(parts["oof"], len(data.y), data.n_classes)
        for name, parts in members.items()
    }
    oof = {name: ensemble.mean_over_repeats(sets) for name, sets in by_repeat.items()}
    select_on = ensemble.selection_metric(task.metric, data.n_classes)
    selection = ensemble.select(oof, data.y, select_on)
    fit_s = time.perf_counter() - start
    weights = selection.weights
    blended_oof = ensemble.blend(oof, weights)
    scores = ensemble.cross_fitted_scores(
        by_repeat, data.y, data.folds, task.metrics, repeats=data.repeats, select_on=select_on
    )
    series = {schema.fold(name): values for name, values in scores.items()}
    start = time.perf_counter()
    holdout_prediction = ensemble.blend({m: p["holdout"] for m, p in members.items()}, weights)
    submission, arrays = None, {schema.OOF_ARRAY: blended_oof}
    if extras.test_X is not None:
        test_prediction = ensemble.blend({m: p["test"] for m, p in members.items()}, weights)
        submission = extras.submission_frame(test_prediction, data, task)
        arrays[schema.TEST_ARRAY] = test_prediction
    predict_s = time.perf_counter() - start
    arrays[schema.HOLDOUT_ARRAY] = holdout_prediction
    holdout = {
        schema.holdout(name): get_metric(name).score(data.holdout_y, holdout_prediction)
        for name in task.metrics
    }
    metrics = cv_summary(scores)
    metrics.update(holdout)
    # in-sample: the score the weights were chosen on (on the metric selected on)
    metrics[schema.oof(select_on)] = selection.score
    metrics["fit_seconds"] = fit_s
    metrics["predict_seconds"] = predict_s
    metrics["members"] = len(weights)
    tracker.log(
        run_id,
        metrics=metrics,
        series=series,
        params={f"weight.{name}": round(w, 6) for name, w in weights.items()},
        tags={
            schema.STATUS: "ok",
            schema.ENSEMBLE_MEMBERS: json.dumps(weights),
            schema.ENSEMBLE_CANDIDATES: ",".join(members),
            schema.ENSEMBLE_RUNS: json.dumps({m: (member_runs or {}).get(m) for m in weights}),
            **({schema.ENSEMBLE_NOTES: "; ".join(notes)} if notes else {}),
        },
    )
    folds = pd.DataFrame(series)
    folds.insert(0, "fold", range(len(folds)))
    with tempfile.TemporaryDirectory() as tmp:
        frames = {
            schema.FOLD_SCORES: folds,
            schema.HOLDOUT_PREDICTIONS: holdout_frame(data, holdout_prediction, task.target),
        }
        if submission is not None:
            frames["submission.csv"] = submission
        for name, frame in frames.items():
            frame.to_csv(Path(tmp, name), index=False)
            tracker.log_artifact(run_id, Path(tmp, name))
        Path(tmp, schema.ENSEMBLE_SELECTION).write_text(json.dumps(selection.as_dict(), indent=2))
        tracker.log_artifact(run_id, Path(tmp, schema.ENSEMBLE_SELECTION))
        for name, array in arrays.items():
            np.save(Path(tmp, name), np.asarray(array, dtype=np.float64))
            tracker.log_artifact(run_id, Path(tmp, name))
    primary = task.metric
    return StudyResult(
        ensemble.MODEL,
        "ok",
        cv_mean=metrics[schema.cv_mean(primary)],
        cv_std=metrics[schema.cv_std(primary)],
        holdout=holdout[schema.holdout(primary)],
        best_params={name: round(w, 6) for name, w in weights.items()},
        run_id=run_id,
        submission=submission,
    )
