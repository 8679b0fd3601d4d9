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

from harness.contracts.testing.models import (
    MODEL_CHECKS,
    PROTOCOL_CHECKS,
    check_build_returns_fresh_estimators,
    check_clone,
    check_estimator_protocol,
    check_fit_predict_shapes,
    check_model,
    check_no_predict_before_fit,
    check_pickle_round_trip,
    check_same_seed_same_predictions,
    check_search_space,
)
from harness.contracts.testing.parametrize import parametrize_with_checks
from harness.contracts.testing.probes import MODALITY_PROBES, PROBE_TASKS, probe_data
from harness.contracts.testing.tasks import (
    TASK_CHECKS,
    check_declared_size,
    check_deterministic_folds,
    check_holdout_and_folds,
    check_load_returns_a_dataset,
    check_task,
    check_time_ordered_holdout,
)

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
