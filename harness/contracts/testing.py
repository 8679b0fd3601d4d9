"""Reusable contract checks for task and model plugins, ours and third parties'.

Every promise a plugin makes is one public check, `check_*(plugin, **options)`, which raises
`AssertionError` saying which promise was broken. In a test module, `parametrize_with_checks`
makes each check of each plugin its own test (like scikit-learn's helper of that name), so one
failing check does not hide the others:

    from harness.contracts.testing import parametrize_with_checks
    from my_package.my_model import MODEL
    from my_package.my_task import TASK

    @parametrize_with_checks([MODEL, TASK])
    def test_my_plugins(plugin, check):
        check(plugin)

`check_model`, `check_estimator_protocol` and `check_task` run groups of the checks in one call
and report every failed one in one `AssertionError`.

Model checks fit the defaults on small slices of real built-in tasks, one per problem type and
modality the model supports (`MODALITY_PROBES`); their options are `problem_types=` and
`modalities=` (narrow the cases), `overrides=` (hyperparameters replacing some defaults to keep
the fits cheap) and `atol=` (the tolerance of "same seed, same predictions"). Task checks load
the task's data; their option is `seed=` (of the split).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from harness.contracts.model import BuildSpec, Model, thread_limits
from harness.contracts.task import Dataset, Task
from harness.errors import error_text
from harness.protocol.cv import predict, spec_for
from harness.protocol.splits import Prepared, prepare

__all__ = [
    "MODALITY_PROBES",
    "MODEL_CHECKS",
    "PROBE_TASKS",
    "PROTOCOL_CHECKS",
    "TASK_CHECKS",
    "check_build_returns_fresh_estimators",
    "check_clone",
    "check_declared_size",
    "check_deterministic_folds",
    "check_estimator_protocol",
    "check_fit_predict_shapes",
    "check_holdout_and_folds",
    "check_load_returns_a_dataset",
    "check_model",
    "check_no_predict_before_fit",
    "check_pickle_round_trip",
    "check_same_seed_same_predictions",
    "check_search_space",
    "check_task",
    "check_time_ordered_holdout",
    "parametrize_with_checks",
    "probe_data",
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
def _probe(problem_type: str, modality: str) -> Prepared:
    """`probe_data` for the checks, loaded once per process (the checks only read it)."""
    return probe_data(problem_type, modality=modality)


# The last plugin's expensive results, so that checks run one after another (as
# `parametrize_with_checks` orders them) load a task or fit a case once. Each entry keeps the
# plugin itself, so an id is never reused while its entry lives.
_FITS: dict[tuple, tuple[Model, Any, np.ndarray]] = {}
_LOADS: dict[tuple, tuple[Task, Dataset, Prepared]] = {}


def _params(model: Model, overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    return {**model.defaults, **(overrides or {})}


def _fit(
    model: Model, params: dict, modality: str, problem_type: str, *, fresh: bool = False
) -> tuple[Any, np.ndarray]:
    """The estimator built from `params`, fitted on the first fold's training rows of the case's
    probe, and its predictions of the fold's validation rows (as the runner makes them)."""
    key = (id(model), repr(sorted(params.items())), modality, problem_type)
    if not fresh and key in _FITS:
        return _FITS[key][1:]
    data = _probe(problem_type, modality)
    spec = spec_for(problem_type, modality, data)
    train, valid = data.folds[0]
    estimator = model.build(replace(spec, n_rows=len(train)), dict(params), seed=0)
    with thread_limits(spec.n_jobs):
        estimator.fit(data.X.iloc[train], data.y[train])
        prediction = predict(estimator, data.X.iloc[valid], data.n_classes)
    if not fresh:
        if any(k[0] != id(model) for k in _FITS):
            _FITS.clear()  # another model's fits: keep only this one's
        _FITS[key] = (model, estimator, prediction)
    return estimator, prediction


def _load(task: Task, seed: int) -> tuple[Dataset, Prepared]:
    """The task's data and its protocol split (loaded once for consecutive checks of a task)."""
    key = (id(task), seed)
    if key not in _LOADS:
        _LOADS.clear()
        data = task.load()
        assert isinstance(data, Dataset), (
            f"{task.name}: load() returned {type(data).__name__}, not a Dataset"
        )
        _LOADS[key] = (task, data, prepare(task, data, folds=task.folds, seed=seed))
    return _LOADS[key][1:]


# --- running several checks or cases, reporting every failure -------------------------------


def _failure(error: BaseException) -> str:
    return str(error) if isinstance(error, AssertionError) else error_text(error)


def _report(title: str, failures: list[tuple[str, BaseException]]) -> None:
    """Raise one AssertionError listing every failure (chained to the first one)."""
    if not failures:
        return
    lines = [f"  {label}: " + _failure(error).replace("\n", "\n    ") for label, error in failures]
    raise AssertionError("\n".join([f"{title}:", *lines])) from failures[0][1]


def _cases(
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


def _each_case(
    model: Model,
    problem_types: Iterable[str] | None,
    modalities: Iterable[str] | None,
    check: Callable[[str, str], None],
    promise: str,
) -> None:
    """Run `check(modality, problem_type)` for every case; report the failing cases together."""
    failures: list[tuple[str, BaseException]] = []
    for modality, problem_type in _cases(model, problem_types, modalities):
        try:
            check(modality, problem_type)
        except Exception as error:  # reported with the other cases
            failures.append((f"on {modality} {problem_type}", error))
    _report(f"{model.name} breaks {promise!r}", failures)


# --- model checks ---------------------------------------------------------------------------


def check_search_space(model: Model, spec: BuildSpec | None = None) -> None:
    """Defaults lie in the search space, and a fixed trial reproduces them exactly (for the
    given `spec`, else for a spec of the model's first problem type and modality)."""
    import optuna

    if spec is None:
        problem = model.problem_types[0]
        spec = BuildSpec(
            problem_type=problem,
            modality=model.modalities[0],
            feature_kinds={},
            n_classes={"binary": 2, "multiclass": 3}.get(problem, 0),
            n_rows=100,
        )
    params = model.sample(optuna.trial.FixedTrial(dict(model.defaults)), spec)
    assert params == dict(model.defaults), (
        f"{model.name}: search_space(FixedTrial(defaults)) gave {params}, not the defaults "
        f"{dict(model.defaults)}; every default must be a parameter of the space"
    )
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(3):
        trial = study.ask()
        sampled = model.sample(trial, spec)
        assert set(sampled) == set(model.defaults), (
            f"{model.name}: sampled keys {sorted(sampled)} differ from the defaults' keys"
        )
        study.tell(trial, 0.0)


def check_build_returns_fresh_estimators(
    model: Model,
    *,
    problem_types: tuple[str, ...] | None = None,
    modalities: tuple[str, ...] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> None:
    """`build` returns a new estimator at every call, with `fit`, `predict` and, for
    classification, `predict_proba`."""
    params = _params(model, overrides)

    def one(modality: str, problem_type: str) -> None:
        spec = spec_for(problem_type, modality, _probe(problem_type, modality))
        first = model.build(spec, dict(params), seed=0)
        second = model.build(spec, dict(params), seed=0)
        assert first is not second, "build must return a fresh estimator at every call"
        methods = ("fit", "predict") + (("predict_proba",) if spec.is_classification else ())
        missing = [m for m in methods if not callable(getattr(first, m, None))]
        assert not missing, f"the estimator has no {', '.join(f'{m}()' for m in missing)}"

    _each_case(model, problem_types, modalities, one, "fresh estimators from build")


def check_fit_predict_shapes(
    model: Model,
    *,
    problem_types: tuple[str, ...] | None = None,
    modalities: tuple[str, ...] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> None:
    """Fitted on real rows, the estimator predicts one finite value per row (regression) or one
    row of class probabilities summing to 1 per row (classification)."""
    params = _params(model, overrides)

    def one(modality: str, problem_type: str) -> None:
        data = _probe(problem_type, modality)
        _, prediction = _fit(model, params, modality, problem_type)
        rows = len(data.folds[0][1])
        expected = (rows, data.n_classes) if data.n_classes else (rows,)
        assert prediction.shape == expected, (
            f"predictions of shape {prediction.shape}, expected {expected}"
        )
        assert np.isfinite(prediction).all(), "non-finite predictions"
        if data.n_classes:
            assert np.allclose(prediction.sum(axis=1), 1.0), "rows of probabilities must sum to 1"

    _each_case(model, problem_types, modalities, one, "predictions of the right shape")


def check_same_seed_same_predictions(
    model: Model,
    *,
    problem_types: tuple[str, ...] | None = None,
    modalities: tuple[str, ...] | None = None,
    overrides: Mapping[str, Any] | None = None,
    atol: float = 0.0,
) -> None:
    """Two fits with the same seed on the same rows predict the same, within `atol`: in
    probability for classification, in standard deviations of the target for regression."""
    params = _params(model, overrides)

    def one(modality: str, problem_type: str) -> None:
        data = _probe(problem_type, modality)
        _, first = _fit(model, params, modality, problem_type)
        _, again = _fit(model, params, modality, problem_type, fresh=True)
        assert first.shape == again.shape, (
            f"the same seed gave predictions of shapes {first.shape} and {again.shape}"
        )
        tolerance = atol * (1.0 if data.n_classes else float(np.std(data.y)) or 1.0)
        assert np.allclose(first, again, atol=tolerance, rtol=0), (
            "the same seed gave different predictions (largest difference "
            f"{np.abs(first - again).max():.3g}, tolerance {tolerance:.3g})"
        )

    _each_case(model, problem_types, modalities, one, "same seed, same predictions")


def check_clone(
    model: Model,
    *,
    problem_types: tuple[str, ...] | None = None,
    modalities: tuple[str, ...] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> None:
    """An unfitted estimator with `get_params` clones (`sklearn.base.clone`) into a new one of
    the same type."""
    from sklearn.base import clone

    params = _params(model, overrides)

    def one(modality: str, problem_type: str) -> None:
        spec = spec_for(problem_type, modality, _probe(problem_type, modality))
        estimator = model.build(spec, dict(params), seed=0)
        if hasattr(estimator, "get_params"):
            twin = clone(estimator)
            assert twin is not estimator and type(twin) is type(estimator), (
                "sklearn.base.clone did not return a new estimator of the same type"
            )

    _each_case(model, problem_types, modalities, one, "clones")


def check_no_predict_before_fit(
    model: Model,
    *,
    problem_types: tuple[str, ...] | None = None,
    modalities: tuple[str, ...] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> None:
    """An unfitted estimator refuses to predict (it raises, instead of making something up)."""
    params = _params(model, overrides)

    def one(modality: str, problem_type: str) -> None:
        data = _probe(problem_type, modality)
        estimator = model.build(spec_for(problem_type, modality, data), dict(params), seed=0)
        method = "predict_proba" if data.n_classes else "predict"
        try:
            getattr(estimator, method)(data.X.iloc[data.folds[0][1]])
        except Exception:  # any error will do
            return
        raise AssertionError(f"{method}() before fit() must raise")

    _each_case(model, problem_types, modalities, one, "no predictions before fit")


def check_pickle_round_trip(
    model: Model,
    *,
    problem_types: tuple[str, ...] | None = None,
    modalities: tuple[str, ...] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> None:
    """A fitted estimator survives pickling with identical predictions (study artifacts and
    worker processes rely on it)."""
    import pickle

    params = _params(model, overrides)

    def one(modality: str, problem_type: str) -> None:
        data = _probe(problem_type, modality)
        estimator, _ = _fit(model, params, modality, problem_type)
        method = "predict_proba" if data.n_classes else "predict"
        rows = data.X.iloc[data.folds[0][1]]
        before = np.asarray(getattr(estimator, method)(rows))
        after = np.asarray(getattr(pickle.loads(pickle.dumps(estimator)), method)(rows))
        assert np.array_equal(before, after), "predictions changed after pickling"

    _each_case(model, problem_types, modalities, one, "pickles")


# --- task checks ----------------------------------------------------------------------------


def check_load_returns_a_dataset(task: Task, *, seed: int = 0) -> None:
    """`load()` returns a `Dataset` whose target fits the problem type (two classes for binary,
    three or more for multiclass, numbers for regression)."""
    data, _ = _load(task, seed)
    n_classes = data.y.nunique()
    if task.problem_type == "binary":
        assert n_classes == 2, f"{task.name}: binary task with {n_classes} classes"
    elif task.problem_type == "multiclass":
        assert n_classes >= 3, f"{task.name}: multiclass task with {n_classes} classes"
    else:
        assert np.issubdtype(data.y.dtype, np.number), f"{task.name}: non-numeric target"


def check_declared_size(task: Task, *, seed: int = 0) -> None:
    """The `rows` and `features` the task declares (when it does) match its data."""
    if task.rows is None and task.features is None:
        return
    data, _ = _load(task, seed)
    rows = len(data.X) + (0 if data.holdout_X is None else len(data.holdout_X))
    if task.rows is not None:
        assert rows == task.rows, (
            f"{task.name}: declares rows={task.rows} but load() returned {rows} labeled rows; "
            "update the declaration (harness list tasks shows it)"
        )
    if task.features is not None:
        assert data.X.shape[1] == task.features, (
            f"{task.name}: declares features={task.features} but load() returned "
            f"{data.X.shape[1]} feature columns; update the declaration"
        )


def check_time_ordered_holdout(task: Task, *, seed: int = 0) -> None:
    """A time-ordered task (its Dataset has `times`) holds out its latest rows."""
    data, prepared = _load(task, seed)
    if data.times is not None and data.holdout_X is None and data.ids is None:
        times = data.times.reset_index(drop=True)  # holdout ids are row numbers here
        is_hold = np.isin(np.arange(len(times)), prepared.holdout_ids)
        assert times[~is_hold].max() <= times[is_hold].min(), (
            f"{task.name}: time-ordered task whose holdout is not the latest rows"
        )


def check_deterministic_folds(task: Task, *, seed: int = 0) -> None:
    """Loading the task twice gives the same holdout and folds (`load()` is deterministic)."""
    _, prepared = _load(task, seed)
    again = prepare(task, task.load(), folds=task.folds, seed=seed)
    assert prepared.folds_fingerprint == again.folds_fingerprint, (
        f"{task.name}: loading twice gave different folds; load() must be deterministic"
    )


def check_holdout_and_folds(task: Task, *, seed: int = 0) -> None:
    """The holdout and the training part are non-empty, holdout ids are unique, and the two
    sides of every fold are disjoint."""
    _, prepared = _load(task, seed)
    assert len(prepared.y) > 0 and len(prepared.holdout_y) > 0, (
        f"{task.name}: {len(prepared.y)} training and {len(prepared.holdout_y)} holdout rows"
    )
    hold = set(map(int, prepared.holdout_ids))
    assert len(hold) == len(prepared.holdout_y), f"{task.name}: duplicate holdout ids"
    for train, valid in prepared.folds:
        assert not np.intersect1d(train, valid).size, f"{task.name}: a fold's rows overlap"


# --- groups of checks -----------------------------------------------------------------------

# What `check_model` runs, in order.
MODEL_CHECKS: tuple[Callable[..., None], ...] = (
    check_search_space,
    check_build_returns_fresh_estimators,
    check_fit_predict_shapes,
    check_same_seed_same_predictions,
)
# What `check_estimator_protocol` runs, in order.
PROTOCOL_CHECKS: tuple[Callable[..., None], ...] = (
    check_clone,
    check_no_predict_before_fit,
    check_pickle_round_trip,
)
# What `check_task` runs, in order.
TASK_CHECKS: tuple[Callable[..., None], ...] = (
    check_load_returns_a_dataset,
    check_declared_size,
    check_time_ordered_holdout,
    check_deterministic_folds,
    check_holdout_and_folds,
)
MODEL_OPTIONS = ("problem_types", "modalities", "overrides", "atol")
TASK_OPTIONS = ("seed",)


def _bind(check: Callable[..., None], options: Mapping[str, Any]) -> Callable[..., None]:
    """`check` with the options it takes (a check takes only those it needs)."""
    taken = inspect.signature(check).parameters
    given = {name: value for name, value in options.items() if name in taken}
    return functools.partial(check, **given) if given else check


def _run_checks(
    name: str, checks: Iterable[Callable[..., None]], plugin: Any, options: Mapping[str, Any]
) -> None:
    failures: list[tuple[str, BaseException]] = []
    checks = list(checks)
    for check in checks:
        try:
            _bind(check, options)(plugin)
        except Exception as error:  # reported with the other checks
            failures.append((check.__name__, error))
    _report(f"{name}: {len(failures)} of {len(checks)} contract checks failed", failures)


def check_model(
    model: Model,
    *,
    problem_types: tuple[str, ...] | None = None,
    atol: float = 0.0,
    overrides: Mapping[str, Any] | None = None,
    modalities: tuple[str, ...] | None = None,
) -> None:
    """The whole model contract on real data for each supported problem type and modality.

    Runs `MODEL_CHECKS` (search space round trip, fresh builds, prediction shapes, same seed same
    predictions) and raises one AssertionError listing every check that failed. Image models are
    probed on digits (multiclass) and lfw_faces (binary), text models on fine_foods (binary);
    combinations without a built-in task (image or text regression) are skipped.

    Args:
        model: The model plugin.
        problem_types: Restrict to these problem types (default: all the model supports).
        atol: Tolerance for "same seed, same predictions" (0 for deterministic learners): in
            probability for classification, in standard deviations of the target for
            regression.
        overrides: Hyperparameters replacing some defaults for the fits, to keep the check cheap
            (e.g. `{"max_rounds": 100}` for an early-stopped booster). The search-space checks
            always use the real defaults.
        modalities: Restrict to these modalities (default: all the model supports).

    Raises:
        AssertionError: Listing every check that failed, chained to the first failure.
        ValueError: A problem type or modality asked for that the model does not support.
    """
    _cases(model, problem_types, modalities)  # a case the model does not support: ValueError
    options = dict(problem_types=problem_types, atol=atol, overrides=overrides)
    _run_checks(model.name, MODEL_CHECKS, model, {**options, "modalities": modalities})


def check_estimator_protocol(
    model: Model,
    *,
    problem_type: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    modality: str | None = None,
) -> None:
    """scikit-learn's estimator protocol, where it applies to what `build` returns.

    Runs `PROTOCOL_CHECKS`: the unfitted estimator clones (`sklearn.base.clone`, for estimators
    with `get_params`), refuses to predict before `fit`, and a fitted one survives pickling with
    identical predictions. By default on every problem type and modality the model supports;
    `problem_type=` and `modality=` narrow it to one.
    """
    options = {
        "problem_types": None if problem_type is None else (problem_type,),
        "modalities": None if modality is None else (modality,),
        "overrides": overrides,
    }
    _cases(model, options["problem_types"], options["modalities"])  # unsupported: ValueError
    _run_checks(model.name, PROTOCOL_CHECKS, model, options)


def check_task(task: Task, *, seed: int = 0) -> Prepared:
    """Load the task twice and check what it returns keeps the contract; return its split.

    Runs `TASK_CHECKS`: a `Dataset` comes back; the class count fits the problem type; the
    declared `rows` and `features` (when given) match the data; a time-ordered task's holdout is
    its latest rows; loading twice gives the same folds; holdout ids are unique; a fold's two
    sides are disjoint. Raises one AssertionError listing every check that failed.
    """
    _run_checks(task.name, TASK_CHECKS, task, {"seed": seed})
    return _load(task, seed)[1]


# --- pytest ---------------------------------------------------------------------------------


def parametrize_with_checks(
    plugins: Iterable[Any],
    *,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    expected_failed_checks: Mapping[str, Mapping[str, str]] | None = None,
) -> Any:
    """A `pytest.mark.parametrize` decorator over every (plugin, check) pair, one test each.

    The test takes the arguments `plugin` and `check` and calls `check(plugin)`. Models get
    `MODEL_CHECKS` and `PROTOCOL_CHECKS`, tasks `TASK_CHECKS`; test ids read `<name>-<check>`
    (e.g. `my_model-check_search_space`).

    Args:
        plugins: Models and tasks; a `pytest.param(plugin, marks=...)` carries its marks (e.g.
            `pytest.mark.slow`) to every test of that plugin.
        options: Plugin name -> options of its checks: for a model `problem_types`,
            `modalities`, `overrides`, `atol` (see `check_model`); for a task `seed`.
        expected_failed_checks: Plugin name -> {check name: why}; those tests are marked
            `xfail(strict=True)` with the reason: they pass while the check fails, and fail
            once it passes (so the list stays true).
    """
    import pytest

    options = options or {}
    expected = expected_failed_checks or {}
    params = []
    for entry in plugins:
        marks: tuple = ()
        if isinstance(entry, tuple) and hasattr(entry, "marks"):  # a pytest.param(plugin, ...)
            (plugin,), marks = entry.values, tuple(entry.marks)
        else:
            plugin = entry
        if isinstance(plugin, Model):
            checks, allowed = MODEL_CHECKS + PROTOCOL_CHECKS, MODEL_OPTIONS
        elif isinstance(plugin, Task):
            checks, allowed = TASK_CHECKS, TASK_OPTIONS
        else:
            raise TypeError(f"not a Model or Task plugin: {plugin!r}")
        given = dict(options.get(plugin.name, {}))
        unknown = sorted(set(given) - set(allowed))
        if unknown:
            raise TypeError(
                f"{plugin.name}: unknown check options {unknown}; a {type(plugin).__name__} "
                f"takes {list(allowed)}"
            )
        failing = dict(expected.get(plugin.name, {}))
        unknown = sorted(set(failing) - {check.__name__ for check in checks})
        if unknown:
            raise TypeError(f"{plugin.name}: expected_failed_checks names no check: {unknown}")
        for check in checks:
            why = failing.get(check.__name__)
            more = (pytest.mark.xfail(reason=why, strict=True),) if why else ()
            params.append(
                pytest.param(
                    plugin,
                    _bind(check, given),
                    id=f"{plugin.name}-{check.__name__}",
                    marks=marks + more,
                )
            )
    return pytest.mark.parametrize(("plugin", "check"), params)
