"""Every registered plugin passes the reusable contract checks of harness.contracts.testing on real
data, one test per check (`parametrize_with_checks`), so one broken promise hides no other."""

from __future__ import annotations

import pytest

from harness import registry
from harness.contracts.testing import check_model, parametrize_with_checks


@parametrize_with_checks(registry.tasks().values())
def test_task_keeps_the_contract(plugin, check):
    check(plugin)


# Keras on CPU is repeatable with a fixed seed up to float rounding across thread schedules.
TOLERANCE = {"keras_mlp": 1e-4, "keras_resnet": 1e-4}
# Early-stopped boosters may grow up to 2,000 trees by default; 100 keep the check fast.
CHEAP = {
    name: {"max_rounds": 100}
    for name in ("xgboost", "lightgbm", "catboost", "hist_gradient_boosting")
}
# Tabular networks: a few epochs show the contract; tests/model_tests/test_keras_*.py train more.
CHEAP.update({name: {"max_epochs": 4} for name in ("keras_mlp", "keras_resnet")})


# The image and text networks train for minutes on 2 cores; tests/model_tests/test_keras_*.py
# train each of them in the default run, and their contract checks run with `pytest -m slow`.
SLOW = {"keras_cnn", "keras_transfer", "keras_text", "keras_transformer"}
# The ResNet subclasses the MLP (its heads and its fit are the MLP's): the MLP checks both kinds
# of head in the default run, the ResNet its own body on one, and on regression under `slow`.
NETWORK_PROBLEMS = {"keras_mlp": ("binary", "regression"), "keras_resnet": ("binary",)}


@parametrize_with_checks(
    [
        pytest.param(model, marks=pytest.mark.slow) if name in SLOW else model
        for name, model in registry.models().items()
    ],
    options={
        name: {
            "problem_types": NETWORK_PROBLEMS.get(name),
            "atol": TOLERANCE.get(name, 1e-12),
            "overrides": CHEAP.get(name),
        }
        for name in registry.models()
    },
)
def test_model_keeps_the_contract(plugin, check):
    check(plugin)


@pytest.mark.slow
def test_the_resnet_keeps_the_contract_on_regression():
    name = "keras_resnet"
    check_model(
        registry.get_model(name),
        problem_types=("regression",),
        atol=TOLERANCE[name],
        overrides=CHEAP[name],
    )
