"""The model contract: a learner family with a build function, defaults and a search space.

A model plugin is a module under `models/` (or another distribution's `harness.models` entry point)
that defines `MODEL = Model(...)`. `build` returns a fresh, unfitted scikit-learn-style estimator
(preprocessing included) for each fold; the runner never clones fitted objects. Heavy imports
(XGBoost, TensorFlow) belong inside `build` or the estimator, never at module level.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.contracts.task import (
    CLASSIFICATION,
    MODALITIES,
    NO_AUGMENTATION,
    PROBLEM_TYPES,
    Augmentation,
)
from harness.errors import PluginError

__all__ = ["FAMILIES", "HARDWARE", "BuildSpec", "Model", "thread_limits"]

FAMILIES = ("baseline", "classical", "neural")
HARDWARE = ("cpu", "gpu")


@dataclass(frozen=True)
class BuildSpec:
    """What a model's `build` needs to know about the task and the machine.

    Attributes:
        problem_type: binary, multiclass or regression.
        modality: tabular, image or text.
        feature_kinds: Column name -> kind (numeric, categorical, text, image).
        n_classes: Number of classes (0 for regression).
        n_rows: Rows the estimator will be fitted on (for size-dependent choices).
        n_jobs: Threads the estimator may use.
        device: "cpu" or "cuda".
        shuffle: Whether rows may be shuffled during training (False for time-ordered tasks).
        augmentation: The image transforms the task allows while training.
        target_skewed: Whether a regression target is positive and right-skewed on the training
            part (a search space may then offer a log transform of it; see
            `harness.contracts.preprocessing.target_transform_space`).
    """

    problem_type: str
    modality: str
    feature_kinds: Mapping[str, str]
    n_classes: int
    n_rows: int
    n_jobs: int = 1
    device: str = "cpu"
    shuffle: bool = True
    augmentation: Augmentation = NO_AUGMENTATION
    target_skewed: bool = False

    @property
    def is_classification(self) -> bool:
        """Whether the target is a class label."""
        return self.problem_type in CLASSIFICATION


@dataclass(frozen=True)
class Model:
    """A learner family (see docs/PLUGINS.md).

    Attributes:
        name: Registry name; must equal the plugin module's stem.
        description: One line shown by `harness list models`.
        family: baseline, classical or neural.
        build: `build(spec, params, *, seed) -> estimator` with fit / predict / predict_proba.
        search_space: `search_space(trial) -> params`, using `trial.suggest_*`; or
            `search_space(trial, spec)` to shape the space to the task's `BuildSpec` (called
            through `Model.sample`).
        defaults: The expert configuration; always trial 0. Must lie in the search space.
        modalities: Modalities it can learn from.
        problem_types: Problem types it supports.
        hardware: Devices it can use ("cpu", and "gpu" when it has a GPU path).
    """

    name: str
    description: str
    family: str
    build: Callable[..., Any]
    search_space: Callable[[Any], dict[str, Any]]
    defaults: Mapping[str, Any] = field(default_factory=dict)
    modalities: tuple[str, ...] = ("tabular",)
    problem_types: tuple[str, ...] = PROBLEM_TYPES
    hardware: tuple[str, ...] = ("cpu",)

    def __post_init__(self) -> None:
        where = f"Model {self.name!r}"
        if not self.name or not self.name.isidentifier() or self.name != self.name.lower():
            raise PluginError(f"{where}: name must be a lower-case identifier (the module stem).")
        if not self.description.strip():
            raise PluginError(f"{where}: description must not be empty.")
        if self.family not in FAMILIES:
            raise PluginError(f"{where}: family {self.family!r} is not one of {FAMILIES}.")
        if not callable(self.build) or not callable(self.search_space):
            raise PluginError(f"{where}: build and search_space must be functions.")
        for value, allowed, what in (
            (self.modalities, MODALITIES, "modalities"),
            (self.problem_types, PROBLEM_TYPES, "problem_types"),
            (self.hardware, HARDWARE, "hardware"),
        ):
            unknown = [v for v in value if v not in allowed]
            if not value or unknown:
                raise PluginError(
                    f"{where}: {what} must be a non-empty tuple from {allowed}; got {value!r}."
                )
        if not isinstance(self.defaults, Mapping):
            raise PluginError(f"{where}: defaults must be a dict of hyperparameters.")

    def sample(self, trial: Any, spec: BuildSpec | None = None) -> dict[str, Any]:
        """The configuration `search_space` draws from `trial`, given `spec` when it takes one."""
        if _takes_spec(self.search_space):
            return self.search_space(trial, spec)
        return self.search_space(trial)

    def unsupported_reason(self, modality: str, problem_type: str) -> str | None:
        """Why this model cannot handle a task, or None when it can."""
        if modality not in self.modalities:
            return (
                f"model {self.name!r} does not support {modality} data "
                f"(supports {', '.join(self.modalities)})"
            )
        if problem_type not in self.problem_types:
            return (
                f"model {self.name!r} does not support {problem_type} tasks "
                f"(supports {', '.join(self.problem_types)})"
            )
        return None


def _takes_spec(function: Callable[..., Any]) -> bool:
    """Whether a search space accepts a second positional argument (the BuildSpec)."""
    import inspect

    try:
        parameters = list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):
        return False
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    if any(p.kind == inspect.Parameter.VAR_POSITIONAL for p in parameters):
        return True
    return sum(p.kind in positional for p in parameters) >= 2


_CONTROLLER: tuple[tuple[int, int], Any] | None = None  # ((pid, modules imported), inspection)


def thread_limits(n_jobs: int, user_api: str | None = None) -> Any:
    """A context manager capping the loaded BLAS and OpenMP pools at `n_jobs` (threadpoolctl).

    `threadpoolctl.threadpool_limits` inspects every loaded native library on each call, 3-4 ms,
    which every fold of every trial paid twice (the fit and a booster's own cap). The inspection
    (a `ThreadpoolController`) is kept and reused while this process has imported no module
    since, because a native library arrives with an import; after a fork it is made again.
    """
    import os
    import sys

    from threadpoolctl import ThreadpoolController

    global _CONTROLLER
    key = (os.getpid(), len(sys.modules))
    if _CONTROLLER is None or _CONTROLLER[0] != key:
        _CONTROLLER = (key, ThreadpoolController())
    return _CONTROLLER[1].limit(limits=n_jobs, user_api=user_api)
