"""Contract checks of a model plugin: its search space, builds, fits, predictions and protocol."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from harness.contracts.model import BuildSpec, Model
from harness.contracts.testing.probes import (
    cases,
    each_case,
    fit_case,
    params_of,
    probe,
    run_checks,
)
from harness.protocol.cv import spec_for

__all__ = [
    "MODEL_CHECKS",
    "PROTOCOL_CHECKS",
    "check_build_returns_fresh_estimators",
    "check_clone",
    "check_estimator_protocol",
    "check_fit_predict_shapes",
    "check_model",
    "check_no_predict_before_fit",
    "check_pickle_round_trip",
    "check_same_seed_same_predictions",
    "check_search_space",
]

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
    params = params_of(model, overrides)

    def one(modality: str, problem_type: str) -> None:
        spec = spec_for(problem_type, modality, probe(problem_type, modality))
        first = model.build(spec, dict(params), seed=0)
        second = model.build(spec, dict(params), seed=0)
        assert first is not second, "build must return a fresh estimator at every call"
        methods = ("fit", "predict") + (("predict_proba",) if spec.is_classification else ())
        missing = [m for m in methods if not callable(getattr(first, m, None))]
        assert not missing, f"the estimator has no {', '.join(f'{m}()' for m in missing)}"

    each_case(model, problem_types, modalities, one, "fresh estimators from build")


def check_fit_predict_shapes(
    model: Model,
    *,
    problem_types: tuple[str, ...] | None = None,
    modalities: tuple[str, ...] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> None:
    """Fitted on real rows, the estimator predicts one finite value per row (regression) or one
    row of class probabilities summing to 1 per row (classification)."""
    params = params_of(model, overrides)

    def one(modality: str, problem_type: str) -> None:
        data = probe(problem_type, modality)
        _, prediction = fit_case(model, params, modality, problem_type)
        rows = len(data.folds[0][1])
        expected = (rows, data.n_classes) if data.n_classes else (rows,)
        assert prediction.shape == expected, (
            f"predictions of shape {prediction.shape}, expected {expected}"
        )
        assert np.isfinite(prediction).all(), "non-finite predictions"
        if data.n_classes:
            assert np.allclose(prediction.sum(axis=1), 1.0), "rows of probabilities must sum to 1"

    each_case(model, problem_types, modalities, one, "predictions of the right shape")


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
    params = params_of(model, overrides)

    def one(modality: str, problem_type: str) -> None:
        data = probe(problem_type, modality)
        _, first = fit_case(model, params, modality, problem_type)
        _, again = fit_case(model, params, modality, problem_type, fresh=True)
        assert first.shape == again.shape, (
            f"the same seed gave predictions of shapes {first.shape} and {again.shape}"
        )
        tolerance = atol * (1.0 if data.n_classes else float(np.std(data.y)) or 1.0)
        assert np.allclose(first, again, atol=tolerance, rtol=0), (
            "the same seed gave different predictions (largest difference "
            f"{np.abs(first - again).max():.3g}, tolerance {tolerance:.3g})"
        )

    each_case(model, problem_types, modalities, one, "same seed, same predictions")


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

    params = params_of(model, overrides)

    def one(modality: str, problem_type: str) -> None:
        spec = spec_for(problem_type, modality, probe(problem_type, modality))
        estimator = model.build(spec, dict(params), seed=0)
        if hasattr(estimator, "get_params"):
            twin = clone(estimator)
            assert twin is not estimator and type(twin) is type(estimator), (
                "sklearn.base.clone did not return a new estimator of the same type"
            )

    each_case(model, problem_types, modalities, one, "clones")


def check_no_predict_before_fit(
    model: Model,
    *,
    problem_types: tuple[str, ...] | None = None,
    modalities: tuple[str, ...] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> None:
    """An unfitted estimator refuses to predict (it raises, instead of making something up)."""
    params = params_of(model, overrides)

    def one(modality: str, problem_type: str) -> None:
        data = probe(problem_type, modality)
        estimator = model.build(spec_for(problem_type, modality, data), dict(params), seed=0)
        method = "predict_proba" if data.n_classes else "predict"
        try:
            getattr(estimator, method)(data.X.iloc[data.folds[0][1]])
        except Exception:  # any error will do
            return
        raise AssertionError(f"{method}() before fit() must raise")

    each_case(model, problem_types, modalities, one, "no predictions before fit")


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

    params = params_of(model, overrides)

    def one(modality: str, problem_type: str) -> None:
        data = probe(problem_type, modality)
        estimator, _ = fit_case(model, params, modality, problem_type)
        method = "predict_proba" if data.n_classes else "predict"
        rows = data.X.iloc[data.folds[0][1]]
        before = np.asarray(getattr(estimator, method)(rows))
        after = np.asarray(getattr(pickle.loads(pickle.dumps(estimator)), method)(rows))
        assert np.array_equal(before, after), "predictions changed after pickling"

    each_case(model, problem_types, modalities, one, "pickles")


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
    cases(model, problem_types, modalities)  # a case the model does not support: ValueError
    options = dict(problem_types=problem_types, atol=atol, overrides=overrides)
    run_checks(model.name, MODEL_CHECKS, model, {**options, "modalities": modalities})


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
    cases(model, options["problem_types"], options["modalities"])  # unsupported: ValueError
    run_checks(model.name, PROTOCOL_CHECKS, model, options)
