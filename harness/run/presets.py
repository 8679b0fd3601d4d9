"""Presets: one word for which models, how many folds, what budget and whether to ensemble.

`harness run TASK --preset fast|medium|best`. Flags given with a preset override its choices
(`--preset best --budget 5m`, `--preset fast -m xgboost`). docs/PRESETS.md has the table.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.errors import UsageError

__all__ = ["PRESETS", "Preset", "get_preset", "preset_models"]


@dataclass(frozen=True)
class Preset:
    """A named set of run choices.

    Attributes:
        name: What the user types after --preset.
        description: One line for --help and the docs.
        models: Model names to run, those that can handle the task (None: by family).
        families: Model families to run when `models` is None.
        folds: CV folds.
        budget: Wall-clock seconds for the whole run.
        ensemble: Whether to build the out-of-fold ensemble of the studies.
    """

    name: str
    description: str
    models: tuple[str, ...] | None
    families: tuple[str, ...]
    folds: int
    budget: float
    ensemble: bool


PRESETS = {
    preset.name: preset
    for preset in (
        Preset(
            "fast",
            "a first look in about a minute: fast learners, 3 folds, no ensemble",
            models=(
                "linear",
                "naive_bayes",
                "hist_gradient_boosting",
                "lightgbm",
                "nbsvm",
                "hog_svm",
            ),
            families=(),
            folds=3,
            budget=60.0,
            ensemble=False,
        ),
        Preset(
            "medium",
            "every classical learner and the baseline, 5 folds, 5 minutes, ensemble",
            models=None,
            families=("baseline", "classical"),
            folds=5,
            budget=300.0,
            ensemble=True,
        ),
        Preset(
            "best",
            "every learner, neural ones included, 5 folds, 30 minutes, ensemble",
            models=None,
            families=("baseline", "classical", "neural"),
            folds=5,
            budget=1800.0,
            ensemble=True,
        ),
    )
}


def get_preset(name: str) -> Preset:
    """The preset called `name`.

    Raises:
        UsageError: No preset has that name.
    """
    try:
        return PRESETS[name]
    except KeyError:
        raise UsageError(
            f"Unknown preset {name!r}; use one of {', '.join(PRESETS)}. See docs/PRESETS.md."
        ) from None


def preset_models(preset: Preset, task: object) -> tuple[str, ...]:
    """The registered models of `preset` that can handle `task`, in registry order."""
    from harness import registry

    chosen = []
    for name, model in registry.models().items():
        wanted = (
            name in preset.models
            if preset.models is not None
            else (model.family in preset.families)
        )
        if wanted and model.unsupported_reason(task.modality, task.problem_type) is None:
            chosen.append(name)
    if not chosen:
        raise UsageError(
            f"Preset {preset.name!r} has no model for {task.modality} {task.problem_type} task "
            f"{task.name!r}; name models with -m."
        )
    return tuple(chosen)
