"""Reusable contract checks for task and model plugins, ours and third parties'.

A plugin author calls them from a test:

    from harness.testing import check_model, check_task
    from my_package.my_model import MODEL

    def test_my_model_keeps_the_contract():
        check_model(MODEL)

Each check raises `AssertionError` with a message saying which promise was broken.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from harness.contracts.model import BuildSpec, Model
from harness.contracts.task import Dataset, Task
from harness.protocol.cv import fit_fold, spec_for
from harness.protocol.splits import Prepared, prepare

__all__ = [
    "MODALITY_PROBES",
    "PROBE_TASKS",
    "check_estimator_protocol",
    "check_model",
    "check_search_space",
    "check_task",
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


def check_task(task: Task, *, seed: int = 0) -> Prepared:
    """Load the task twice and check what it returns keeps the contract; return its split.

    Checks: a `Dataset` comes back; the class count fits the problem type; the declared `rows` and
    `features` (when given) match the data; a time-ordered task's holdout is its latest rows;
    loading twice gives the same folds; holdout ids are unique; a fold's two sides are disjoint.
    """
    data = task.load()
    assert isinstance(data, Dataset), f"{task.name}: load() returned {type(data).__name__}"
    n_classes = data.y.nunique()
    if task.problem_type == "binary":
        assert n_classes == 2, f"{task.name}: binary task with {n_classes} classes"
    elif task.problem_type == "multiclass":
        assert n_classes >= 3, f"{task.name}: multiclass task with {n_classes} classes"
    else:
        assert np.issubdtype(data.y.dtype, np.number), f"{task.name}: non-numeric target"
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
    prepared = prepare(task, data, folds=task.folds, seed=seed)
    if data.times is not None and data.holdout_X is None and data.ids is None:
        times = data.times.reset_index(drop=True)  # holdout ids are row numbers here
        is_hold = np.isin(np.arange(len(times)), prepared.holdout_ids)
        assert times[~is_hold].max() <= times[is_hold].min(), (
            f"{task.name}: time-ordered task whose holdout is not the latest rows"
        )
    again = prepare(task, task.load(), folds=task.folds, seed=seed)
    assert prepared.folds_fingerprint == again.folds_fingerprint, (
        f"{task.name}: loading twice gave different folds; load() must be deterministic"
    )
    hold = set(map(int, prepared.holdout_ids))
    assert len(hold) == len(prepared.holdout_y), f"{task.name}: duplicate holdout ids"
    for train, valid in prepared.folds:
        assert not np.intersect1d(train, valid).size, f"{task.name}: a fold's rows overlap"
    return prepared


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


def _fit_predict(model: Model, params: dict, spec: BuildSpec, data: Prepared, seed: int) -> Any:
    prediction, _, _ = fit_fold(model, params, data, spec, seed, 0)
    return prediction, data.folds[0][1]


def check_model(
    model: Model,
    *,
    problem_types: tuple[str, ...] | None = None,
    atol: float = 0.0,
    overrides: dict | None = None,
    modalities: tuple[str, ...] | None = None,
) -> None:
    """The whole model contract on real data for each supported problem type and modality.

    Image models are probed on digits (multiclass) and lfw_faces (binary), text models on
    fine_foods (binary); combinations without a built-in task (image or text regression) are
    skipped.

    Args:
        model: The model plugin.
        problem_types: Restrict to these problem types (default: all the model supports).
        atol: Tolerance for "same seed, same predictions" (0 for deterministic learners).
        overrides: Hyperparameters replacing some defaults for the fits, to keep the check cheap
            (e.g. `{"max_rounds": 100}` for an early-stopped booster). The search-space checks
            always use the real defaults.
        modalities: Restrict to these modalities (default: all the model supports).
    """
    check_search_space(model)
    params = {**model.defaults, **(overrides or {})}
    cases = [
        (modality, problem_type)
        for modality in modalities or model.modalities
        for problem_type in problem_types or model.problem_types
        if MODALITY_PROBES[modality].get(problem_type)
    ]
    for modality, problem_type in cases:
        data = probe_data(problem_type, modality=modality)
        spec = spec_for(problem_type, modality, data)
        first = model.build(spec, dict(params), seed=0)
        second = model.build(spec, dict(params), seed=0)
        assert first is not second, f"{model.name}: build must return a fresh estimator"
        for method in ("fit", "predict") + (("predict_proba",) if data.n_classes else ()):
            assert callable(getattr(first, method, None)), f"{model.name}: no {method}()"
        prediction, valid = _fit_predict(model, dict(params), spec, data, seed=0)
        expected = (len(valid), data.n_classes) if data.n_classes else (len(valid),)
        assert prediction.shape == expected, (
            f"{model.name} on {modality} {problem_type}: predictions of shape {prediction.shape}, "
            f"expected {expected}"
        )
        assert np.isfinite(prediction).all(), f"{model.name}: non-finite predictions"
        if data.n_classes:
            assert np.allclose(prediction.sum(axis=1), 1.0), f"{model.name}: rows of "
            "probabilities must sum to 1"
        again, _ = _fit_predict(model, dict(params), spec, data, seed=0)
        assert np.allclose(prediction, again, atol=atol, rtol=0), (
            f"{model.name} on {problem_type}: the same seed gave different predictions "
            f"(largest difference {np.abs(prediction - again).max():.3g})"
        )


def check_estimator_protocol(
    model: Model,
    *,
    problem_type: str = "binary",
    overrides: dict | None = None,
    modality: str = "tabular",
) -> None:
    """scikit-learn's estimator protocol, where it applies to what `build` returns.

    The unfitted estimator clones (`sklearn.base.clone`, for estimators with `get_params`), refuses
    to predict before `fit`, and a fitted one survives pickling with identical predictions
    (study artifacts and worker processes rely on that).
    """
    import pickle

    from sklearn.base import clone

    data = probe_data(problem_type, modality=modality)
    spec = spec_for(problem_type, modality, data)
    params = {**model.defaults, **(overrides or {})}
    estimator = model.build(spec, dict(params), seed=0)
    train, valid = data.folds[0]
    if hasattr(estimator, "get_params"):
        twin = clone(estimator)
        assert twin is not estimator and type(twin) is type(estimator), (
            f"{model.name}: sklearn.base.clone did not return a new estimator of the same type"
        )
    try:
        estimator.predict(data.X.iloc[valid])
    except Exception:
        pass
    else:
        raise AssertionError(f"{model.name}: predict() before fit() must raise")
    estimator.fit(data.X.iloc[train], data.y[train])
    method = "predict_proba" if data.n_classes else "predict"
    before = np.asarray(getattr(estimator, method)(data.X.iloc[valid]))
    after = np.asarray(getattr(pickle.loads(pickle.dumps(estimator)), method)(data.X.iloc[valid]))
    assert np.array_equal(before, after), f"{model.name}: predictions changed after pickling"
