"""The small real tasks checks run on, the fits and loads they share, every failure reported."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from harness.contracts.model import Model, thread_limits
from harness.contracts.task import Dataset, Task
from harness.errors import error_text
from harness.protocol.cv import predict, spec_for
from harness.protocol.splits import Prepared, prepare

__all__ = [
    "MODALITY_PROBES",
    "MODEL_OPTIONS",
    "PROBE_TASKS",
    "TASK_OPTIONS",
    "bind",
    "cases",
    "each_case",
    "failure_text",
    "fit_case",
    "load_task",
    "params_of",
    "probe",
    "probe_data",
    "report_failures",
    "run_checks",
]

# Small real tasks, one per problem type, on which models are exercised.
PROBE_TASKS = {"binary": "breast_cancer", "multiclass": "penguins", "regression": "ames"}
# The same for image and text models (no regression task of these modalities is built in).
MODALITY_PROBES = {
    "tabular": PROBE_TASKS,
    "image": {"binary": "lfw_faces", "multiclass": "digits"},
    "text": {"binary": "fine_foods", "multiclass": None},
}


# --- probes and caches ------------------------------------------------------------------------


def probe_data(
    problem_type: str, *, rows: int = 240, seed: int = 0, modality: str = "tabular"
) -> Prepared:
    """A real task of the problem type and modality, cut to `rows` training rows, 2 folds."""
    from harness import registry

    name = MODALITY_PROBES[modality].get(problem_type)
    if name is None:
        raise ValueError(f"no built-in {modality} task is {problem_type}")
    task = registry.get_task(name)
    prepared = prepare(task, task.load(), folds=2, seed=seed)
    keep = np.sort(np.random.default_rng(seed).permutation(len(prepared.y))[:rows])
    X, y = prepared.X.iloc[keep].reset_index(drop=True), prepared.y[keep]
    from sklearn.model_selection import KFold, StratifiedKFold

    splitter = (StratifiedKFold if prepared.n_classes else KFold)(2, shuffle=True, random_state=0)
    folds = tuple(splitter.split(np.zeros(len(y)), y))
    return replace(prepared, X=X, y=y, folds=folds)


@functools.lru_cache(maxsize=8)
def probe(problem_type: str, modality: str) -> Prepared:
    """`probe_data` for the checks, loaded once per process (the checks only read it)."""
    return probe_data(problem_type, modality=modality)


# The last plugin's expensive results, so that checks run one after another (as
# `parametrize_with_checks` orders them) load a task or fit a case once. Each entry keeps the
# plugin itself, so an id is never reused while its entry lives.
FITS: dict[tuple, tuple[Model, Any, np.ndarray]] = {}
LOADS: dict[tuple, tuple[Task, Dataset, Prepared]] = {}


def params_of(model: Model, overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    return {**model.defaults, **(overrides or {})}


def fit_case(
    model: Model, params: dict, modality: str, problem_type: str, *, fresh: bool = False
) -> tuple[Any, np.ndarray]:
    """The estimator built from `params`, fitted on the first fold's training rows of the case's
    probe, and its predictions of the fold's validation rows (as the runner makes them)."""
    key = (id(model), repr(sorted(params.items())), modality, problem_type)
    if not fresh and key in FITS:
        return FITS[key][1:]
    data = probe(problem_type, modality)
    spec = spec_for(problem_type, modality, data)
    train, valid = data.folds[0]
    estimator = model.build(replace(spec, n_rows=len(train)), dict(params), seed=0)
    with thread_limits(spec.n_jobs):
        estimator.fit(data.X.iloc[train], data.y[train])
        prediction = predict(estimator, data.X.iloc[valid], data.n_classes)
    if not fresh:
        if any(k[0] != id(model) for k in FITS):
            FITS.clear()  # another model's fits: keep only this one's
        FITS[key] = (model, estimator, prediction)
    return estimator, prediction


def load_task(task: Task, seed: int) -> tuple[Dataset, Prepared]:
    """The task's data and its protocol split (loaded once for consecutive checks of a task)."""
    key = (id(task), seed)
    if key not in LOADS:
        LOADS.clear()
        data = task.load()
        assert isinstance(data, Dataset), (
            f"{task.name}: load() returned {type(data).__name__}, not a Dataset"
        )
        LOADS[key] = (task, data, prepare(task, data, folds=task.folds, seed=seed))
    return LOADS[key][1:]


# --- running several checks or cases, reporting every failure -------------------------------


def failure_text(error: BaseException) -> str:
    return str(error) if isinstance(error, AssertionError) else error_text(error)


def report_failures(title: str, failures: list[tuple[str, BaseException]]) -> None:
    """Raise one AssertionError listing every failure (chained to the first one)."""
    if not failures:
        return
    lines = [
        f"  {label}: " + failure_text(error).replace("\n", "\n    ") for label, error in failures
    ]
    raise AssertionError("\n".join([f"{title}:", *lines])) from failures[0][1]


def cases(
    model: Model,
    problem_types: Iterable[str] | None,
    modalities: Iterable[str] | None,
) -> list[tuple[str, str]]:
    """(modality, problem type) pairs to check: those asked for (default: all the model
    supports) that a built-in task can probe."""
    modalities = tuple(modalities or model.modalities)
    problem_types = tuple(problem_types or model.problem_types)
    for modality in modalities:
        for problem_type in problem_types:
            reason = model.unsupported_reason(modality, problem_type)
            if reason:
                raise ValueError(f"cannot check {modality} {problem_type}: {reason}")
    return [
        (modality, problem_type)
        for modality in modalities
        for problem_type in problem_types
        if MODALITY_PROBES[modality].get(problem_type)
    ]


def each_case(
    model: Model,
    problem_types: Iterable[str] | None,
    modalities: Iterable[str] | None,
    check: Callable[[str, str], None],
    promise: str,
) -> None:
    """Run `check(modality, problem_type)` for every case; report the failing cases together."""
    failures: list[tuple[str, BaseException]] = []
    for modality, problem_type in cases(model, problem_types, modalities):
        try:
            check(modality, problem_type)
        except Exception as error:  # reported with the other cases
            failures.append((f"on {modality} {problem_type}", error))
    report_failures(f"{model.name} breaks {promise!r}", failures)


MODEL_OPTIONS = ("problem_types", "modalities", "overrides", "atol")
TASK_OPTIONS = ("seed",)


def bind(check: Callable[..., None], options: Mapping[str, Any]) -> Callable[..., None]:
    """`check` with the options it takes (a check takes only those it needs)."""
    taken = inspect.signature(check).parameters
    given = {name: value for name, value in options.items() if name in taken}
    return functools.partial(check, **given) if given else check


def run_checks(
    name: str, checks: Iterable[Callable[..., None]], plugin: Any, options: Mapping[str, Any]
) -> None:
    failures: list[tuple[str, BaseException]] = []
    checks = list(checks)
    for check in checks:
        try:
            bind(check, options)(plugin)
        except Exception as error:  # reported with the other checks
            failures.append((check.__name__, error))
    report_failures(f"{name}: {len(failures)} of {len(checks)} contract checks failed", failures)
