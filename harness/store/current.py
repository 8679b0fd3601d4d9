"""The current marker: the runs a task's board shows, as a tag the MLflow UI can filter on.

Each invocation of `harness run` makes a new study run per model (docs/DESIGN.md, "Why a study
run per invocation"), and the leaderboard shows the newest of each model. `harness.current` says
the same in MLflow: `true` on the newest study run of each (task, model), on the newest ensemble
run and on the leaderboard run, `false` on the runs they superseded (a rerun, a resume, another
invocation). The filter `schema.CURRENT_FILTER` then lists one row per model, as the board does;
trial runs and `harness worker` runs never carry the tag, so it hides them too. Leaderboards
keep their own rule (the newest study run by start time), which this marker follows.

Several processes may start runs of one model at once (two `harness run`s on a shared store).
Each writer creates its run `true` (`harness.run.study.open_run`), then settles the model
(`settle`): it reads the model's runs marked `true` and sets `false` on all but the newest
(start time, then run id). A run that is not the newest of what one writer reads is not the
newest of all, so the newest is never unmarked; and of two racing writers, the one that reads
last sees both runs marked. Once every writer has settled, exactly one run of the model is
`true`.

An experiment written before the marker existed is marked once, on the next write to it
(`mark_experiment`, from `Tracker.experiment_id` and `harness ui`): the newest study run of each
model, the newest ensemble run and the leaderboard run get `true`, the others `false`, and the
experiment gets the tags `harness.current_marked` and `mlflow.experimentKind`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from harness.store import schema

if TYPE_CHECKING:
    from harness.store.tracker import Tracker

__all__ = ["KINDS", "mark_experiment", "settle"]

# The kinds of run that carry the marker: one current run per model of each kind
KINDS = (schema.KIND_STUDY, schema.KIND_ENSEMBLE, schema.KIND_LEADERBOARD)


def _newest(run: Any) -> tuple[int, str]:
    return (run.info.start_time or 0, run.info.run_id)


def _model_filter(kind: str, model: str | None) -> str:
    clause = schema.of_kind(kind)
    if model is not None:  # a leaderboard run has no model: one per task
        clause += f" and tags.`{schema.MODEL}` = '{model}'"
    return clause


def _model_of(run: Any) -> str | None:
    tags = run.data.tags
    return None if tags.get(schema.KIND) == schema.KIND_LEADERBOARD else tags.get(schema.MODEL)


def settle(tracker: Tracker, task: str, kind: str, model: str | None) -> None:
    """Unmark every run of the model (of this kind) marked current but its newest."""
    marked = tracker.search(task, f"{_model_filter(kind, model)} and {schema.CURRENT_FILTER}")
    if len(marked) < 2:
        return
    newest = max(marked, key=_newest)
    for run in marked:
        if run is not newest:
            tracker.log(run.info.run_id, tags={schema.CURRENT: "false"})


def mark_experiment(tracker: Tracker, task: str, experiment: Any) -> None:
    """Mark the runs of an experiment written before the marker (once; see the module's doc).

    Args:
        tracker: The store, writable.
        task: The experiment's name.
        experiment: The MLflow experiment (its tags say whether it is already marked).
    """
    tags = experiment.tags or {}
    if tags.get(schema.CURRENT_MARKED) == "true":
        return
    experiment_id = experiment.experiment_id
    for kind in KINDS:
        newest: dict[str | None, Any] = {}
        runs = tracker.search(task, schema.of_kind(kind))
        for run in runs:
            model = _model_of(run)
            if model not in newest or _newest(run) > _newest(newest[model]):
                newest[model] = run
        for run in runs:
            wanted = "true" if newest[_model_of(run)] is run else "false"
            if run.data.tags.get(schema.CURRENT) != wanted:
                tracker.log(run.info.run_id, tags={schema.CURRENT: wanted})
        for model in newest:  # a run another process marked meanwhile
            settle(tracker, task, kind, model)
    if schema.EXPERIMENT_KIND not in tags:
        tracker.set_experiment_tag(experiment_id, schema.EXPERIMENT_KIND, schema.EXPERIMENT_KIND_ML)
    tracker.set_experiment_tag(experiment_id, schema.CURRENT_MARKED, "true")
