"""The examples of docs/PLUGINS.md work: the package's pyproject.toml, the task, the model and the
search space that sees the task keep the contract, importing only harness.contracts."""

from __future__ import annotations

import re
import tomllib
import types
from pathlib import Path

import pytest

import harness
from harness.contracts import BuildSpec, Model, Task
from harness.contracts.testing import (
    check_declared_size,
    check_fit_predict_shapes,
    check_load_returns_a_dataset,
    check_search_space,
)

GUIDE = (Path(__file__).resolve().parents[2] / "docs" / "PLUGINS.md").read_text()


def _block(language: str, starts: str) -> str:
    (code,) = [
        c for c in re.findall(rf"```{language}\n(.*?)```", GUIDE, re.S) if starts in c.lstrip()[:80]
    ]
    return code


def _module(name: str, code: str) -> types.ModuleType:
    assert not re.search(r"from harness\.(?!contracts)|import harness\b", code), code
    module = types.ModuleType(name)
    exec(compile(code, f"PLUGINS.md:{name}", "exec"), module.__dict__)
    return module


def test_the_package_depends_on_the_distribution_and_declares_both_entry_points():
    project = tomllib.loads(_block("toml", "# pyproject.toml"))
    assert project["build-system"]["build-backend"] == "setuptools.build_meta"
    assert project["project"]["dependencies"] == [harness.DISTRIBUTION]
    points = project["project"]["entry-points"]
    assert points["harness.tasks"] == {"my_penguins": "my_plugins.my_penguins"}
    assert points["harness.models"] == {"my_svm": "my_plugins.my_svm:MODEL"}


def test_the_example_task_keeps_the_contract():
    task = _module("my_penguins", _block("python", '"""One line that `harness list tasks`')).TASK
    assert isinstance(task, Task) and task.name == "my_penguins"
    check_load_returns_a_dataset(task)
    check_declared_size(task)


def test_the_example_model_keeps_the_contract():
    model = _module("my_svm", _block("python", '"""One line that `harness list models`')).MODEL
    assert isinstance(model, Model) and model.name == "my_svm"
    check_search_space(model)
    check_fit_predict_shapes(model, problem_types=("binary",))


@pytest.mark.parametrize("skewed", [False, True])
def test_the_example_search_space_sees_the_task(skewed):
    example = _module("space", _block("python", "from harness.contracts import BuildSpec"))
    model = Model(
        name="space",
        description="The guide's search space.",
        family="classical",
        build=lambda spec, params, *, seed: None,
        search_space=example.search_space,
        defaults=example.DEFAULTS,
    )
    spec = BuildSpec("regression", "tabular", {}, 0, 100, target_skewed=skewed)
    check_search_space(model, spec)
    import optuna

    trial = optuna.create_study().ask()
    model.sample(trial, spec)
    choices = trial.distributions["target_transform"].choices
    assert choices == (("none", "log1p") if skewed else ("none",))
