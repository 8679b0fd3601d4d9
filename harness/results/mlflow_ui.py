"""Where `harness ui` sends a user in the MLflow UI: a task's runs, as its board shows them.

MLflow 3.17's UI opens an experiment on the GenAI overview (traces, token usage) unless its
*Model training* switch is on: the switch is the URL's `workflowType=machine_learning` (else the
browser's saved choice, GenAI by default); the experiment tag `mlflow.experimentKind` no longer
decides it (harness still sets it, for older 3.x releases). The runs page takes the rest of its
state from the URL too: either the search itself (`searchFilter`, `orderByKey`, `orderByAsc`),
or the key of a *shared view*, an experiment tag `mlflow.sharedViewState.<key>` holding the
search and the table's columns as JSON (what the UI's own Share button writes).

A task's address opens the classic runs table on the board's runs (`schema.CURRENT_FILTER`: each
model's current study run, the ensemble and the leaderboard run; no trial, no superseded run),
sorted by the CV score, best first, with the columns a comparison needs (dataset, CV mean and
standard deviation, holdout, trials, status, the description): `harness ui` writes that view as
the experiment's shared view `harness`. A store in a read-only folder cannot take the tag: its
address carries the search alone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from harness.errors import HarnessError, UnknownNameError
from harness.results.leaderboard import no_runs, tasks_with_runs
from harness.store import schema
from harness.store.tracker import Tracker

__all__ = [
    "VIEW_KEY",
    "WORKFLOW",
    "Page",
    "base_url",
    "board_view",
    "experiment_url",
    "experiments",
    "list_url",
    "pages",
]

WORKFLOW = {"workflowType": "machine_learning"}  # the UI's Model training switch, not GenAI
VIEW_KEY = "harness"  # the experiment's shared view that `harness ui` writes


@dataclass(frozen=True)
class Page:
    """A page of the MLflow UI to open: what it shows and its address."""

    title: str
    url: str


def base_url(host: str, port: int) -> str:
    """The UI's address for a browser on this machine (a server on every interface is
    reached at 127.0.0.1)."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"  # an IPv6 address
    return f"http://{shown}:{port}"


def list_url(base: str) -> str:
    """The list of experiments (one per task), in the UI's Model training mode."""
    return f"{base}/#/experiments?{urlencode(WORKFLOW, quote_via=quote)}"


def _order(metric: str | None, maximize: bool) -> dict:
    if not metric:
        return {}
    return {"orderByKey": f"metrics.`{schema.cv_mean(metric)}`", "orderByAsc": not maximize}


def board_view(metric: str | None, maximize: bool = True) -> dict:
    """The shared view of a task's board: its search, order and columns (the UI's names)."""
    scores = (
        [schema.cv_mean(metric), schema.cv_std(metric), schema.holdout(metric)] if metric else []
    )
    widths = {  # pixels: the training input (the holdout's follows), a score, the description
        "attributes.`Dataset`": 330,
        **{f"metrics.`{name}`": 125 for name in scores},
        "metrics.`trials_done`": 95,
        f"tags.`{schema.STATUS}`": 110,
        "attributes.`Description`": 640,
    }
    return {
        "searchFilter": schema.CURRENT_FILTER,
        **_order(metric, maximize),
        "selectedColumns": list(widths),
        "columnOrder": list(widths),
        "columnWidths": widths,
    }


def experiment_url(
    base: str,
    experiment_id: str,
    metric: str | None = None,
    maximize: bool = True,
    *,
    view: str | None = None,
) -> str:
    """A task's experiment in the classic runs table: its shared view `view`, or without one
    the board's search (`schema.CURRENT_FILTER`) sorted by the CV mean of `metric`, best first.
    (The UI ignores a shared view when the address also carries a search.)"""
    if view:
        query = {**WORKFLOW, "viewStateShareKey": view}
    else:
        order = {k: str(v).lower() for k, v in _order(metric, maximize).items()}
        query = {**WORKFLOW, "searchFilter": schema.CURRENT_FILTER, **order}
    return f"{base}/#/experiments/{experiment_id}/runs?{urlencode(query, quote_via=quote)}"


def _metric(tracker: Tracker, experiment_id: str) -> tuple[str | None, bool]:
    """The task's primary metric and whether higher is better, from one of its study runs."""
    runs = tracker.client.search_runs(
        [experiment_id], schema.of_kind(schema.KIND_STUDY), max_results=1
    )
    if not runs:
        return None, True
    tags = runs[0].data.tags
    return tags.get(schema.METRIC), tags.get(schema.DIRECTION, "maximize") == "maximize"


def _unknown(tracker: Tracker, task: str) -> HarnessError:
    """The error for a task without an experiment: never run here, or not a task at all."""
    from harness import registry

    known = set(registry.tasks())
    if task in known:
        return no_runs(task, tracker.stores)
    stored = set(tasks_with_runs(tracker))
    return UnknownNameError(
        "task",
        task,
        known | stored,
        hint="'harness ui' without a task lists every experiment; 'harness list tasks' names "
        "the built-in tasks.",
    )


def experiments(tracker: Tracker, task: str | None) -> list[tuple[str, str]]:
    """(name, experiment id) of the task, or of every task with study runs; reads only.

    Raises:
        HarnessError: A task that has no experiment in the store (with the closest name when
            it is not a known task either), or whose experiment was deleted.
    """
    found = []
    for name in [task] if task else tasks_with_runs(tracker):
        experiment_id = tracker.experiment_id(name, create=False)  # a deleted one: StoreError
        if experiment_id is None:
            raise _unknown(tracker, name)
        found.append((name, experiment_id))
    return found


def pages(tracker: Tracker, found: list[tuple[str, str]], base: str, listed: bool) -> list[Page]:
    """The pages `harness ui` prints: the list of experiments (when `listed`), then each
    task's runs. Each experiment gets its shared view `harness` (`board_view`), and one an
    older harness wrote gets its current markers first (once); not in a read-only store, which
    refuses writes."""
    shown = [Page("experiments", list_url(base))] if listed else []
    for name, experiment_id in found:
        metric, maximize = _metric(tracker, experiment_id)
        view = None
        if not tracker.read_only:
            tracker.experiment_id(name)  # a writer's lookup: marks an older experiment's runs
            tracker.set_experiment_tag(
                experiment_id,
                schema.SHARED_VIEW + VIEW_KEY,
                json.dumps(board_view(metric, maximize)),
            )
            view = VIEW_KEY
        shown.append(Page(name, experiment_url(base, experiment_id, metric, maximize, view=view)))
    return shown
