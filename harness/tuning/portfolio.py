"""Portfolios: configurations known to work across the catalog, tried right after the defaults.

A portfolio is a small JSON file: for each model, an ordered list of configurations chosen
offline (`benchmarks/portfolio.py`) so that, together with the model's defaults, they score well
across the catalog's tasks: greedy selection on normalized fold scores, as TabRepo chose
AutoGluon's "zeroshot" portfolios. A study enqueues them as trials 1..n, after the defaults
(trial 0), and the sampler continues from there; at a short budget a study then tries
configurations that won elsewhere instead of random ones (TPE samples at random for its first 10
trials).

The portfolio shipped in the package (`portfolio.json` beside this module) is built on every
task of the catalog; `--portfolio FILE` uses another (one built without the task at hand, for an
honest benchmark, or one built from a team's own stores), `--no-portfolio` none.

A configuration is checked against the model's search space for the study's task before it is
queued (`adapt`): a parameter the task's space does not have is dropped (the log transform of a
target that is not skewed), one the configuration lacks takes the model's default, a number
outside the range is clipped to it, and a choice the space does not offer skips the configuration
with the reason.
"""

from __future__ import annotations

import contextlib
import json
import math
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.contracts.model import BuildSpec, Model
from harness.errors import UsageError

__all__ = [
    "FORMAT",
    "SHIPPED",
    "Portfolio",
    "Queued",
    "adapt",
    "for_study",
    "load_portfolio",
]

FORMAT = "harness-portfolio/1"
SHIPPED = Path(__file__).with_name("portfolio.json")


@dataclass(frozen=True)
class Portfolio:
    """Configurations per model, best first, and where they came from.

    Attributes:
        models: Model name -> configurations (parameter dicts) to try after the defaults.
        source: The file it was read from ("" for none).
        about: What the file says of itself (the command that built it, the catalog, the tasks).
    """

    models: Mapping[str, tuple[dict[str, Any], ...]] = field(default_factory=dict)
    source: str = ""
    about: Mapping[str, Any] = field(default_factory=dict)

    def configurations(self, model: str) -> tuple[dict[str, Any], ...]:
        return tuple(dict(c) for c in self.models.get(model, ()))


@dataclass(frozen=True)
class Queued:
    """The configurations a study queues after its defaults, and what was changed or skipped."""

    configurations: tuple[dict[str, Any], ...] = ()
    notes: tuple[str, ...] = ()
    source: str = ""


def load_portfolio(path: str | Path | None = None) -> Portfolio:
    """The portfolio in `path` (default: the one shipped in the package; none when it is absent).

    Raises:
        UsageError: A file that is missing, not JSON, or not a portfolio.
    """
    shipped = path is None
    path = Path(SHIPPED if shipped else path).expanduser()
    if shipped and not path.exists():
        return Portfolio()
    try:
        stored = json.loads(path.read_text())
    except FileNotFoundError:
        raise UsageError(f"--portfolio {str(path)!r}: no such file.") from None
    except (OSError, ValueError) as exc:
        raise UsageError(f"--portfolio {str(path)!r} is not a JSON file: {exc}.") from None
    if not isinstance(stored, dict) or stored.get("format") != FORMAT:
        raise UsageError(
            f"--portfolio {str(path)!r} is not a harness portfolio (its \"format\" must be "
            f"{FORMAT!r}); build one with 'python benchmarks/portfolio.py choose'."
        )
    models = stored.get("models")
    if not isinstance(models, dict) or not all(
        isinstance(configs, list) and all(isinstance(c, dict) for c in configs)
        for configs in models.values()
    ):
        raise UsageError(
            f"--portfolio {str(path)!r}: \"models\" must map model names to lists of "
            "configurations (objects of parameters)."
        )
    about = {k: v for k, v in stored.items() if k not in ("format", "models")}
    return Portfolio(
        {name: tuple(configs) for name, configs in models.items()}, str(path), about
    )


def adapt(model: Model, spec: BuildSpec, params: Mapping[str, Any]) -> tuple[dict | None, str]:
    """`params` made valid for `model`'s search space on the task of `spec`, or None.

    The space is drawn once with the configuration's values fixed, which reveals every
    parameter it asks for (conditional ones included) and its range. Returns the configuration
    to queue (None: skipped) and what was changed, or why it was skipped ("" when it fits as is).
    """
    import optuna

    fixed = dict(params)
    changes: list[str] = []
    defaulted: list[str] = []
    for _ in range(8):  # a fixed choice may reveal conditional parameters: draw until stable
        try:
            asked = _draw(model, spec, fixed)
        except ValueError as exc:  # Optuna refuses a choice not offered, or not a number
            refused = _refused(model, spec, fixed)
            if refused is None:
                return None, str(exc)
            name, distribution = refused
            value = fixed[name]
            if not isinstance(distribution, optuna.distributions.CategoricalDistribution):
                return None, f"{name}={value!r} is not a number"
            choices = distribution.choices
            if model.defaults.get(name, object()) not in choices:
                return None, (
                    f"{name}={value!r} is not a choice of the search space here "
                    f"({', '.join(map(repr, choices))})"
                )
            fixed[name] = model.defaults[name]
            changes.append(f"{name} {value!r} not offered here: the default {fixed[name]!r}")
            continue
        dropped = sorted(set(fixed) - set(asked))
        for name in dropped:
            del fixed[name]
        for name, distribution in asked.items():
            if name not in fixed:
                if name not in model.defaults:
                    return None, f"it has no value for {name!r}, which the search space asks for"
                fixed[name] = model.defaults[name]
                defaulted.append(name)
                continue
            value = fixed[name]
            if isinstance(distribution, optuna.distributions.CategoricalDistribution):
                continue  # Optuna refused it above if it was not a choice
            low, high = distribution.low, distribution.high
            if not isinstance(value, int | float) or isinstance(value, bool):
                return None, f"{name}={value!r} is not a number"
            if isinstance(value, float) and not math.isfinite(value):
                return None, f"{name}={value!r} is not finite"
            if not low <= value <= high:
                clipped = min(max(value, low), high)
                if isinstance(distribution, optuna.distributions.IntDistribution):
                    clipped = int(clipped)
                fixed[name] = clipped
                changes.append(f"{name} {value!r} clipped to {clipped!r}")
        if dropped:
            changes.append(f"{', '.join(dropped)} not used here")
        if set(asked) == set(fixed):
            break
    if defaulted:
        changes.append(f"{', '.join(defaulted)} from the defaults")
    return fixed, "; ".join(changes)


def _refused(model: Model, spec: BuildSpec, fixed: Mapping[str, Any]) -> tuple[str, Any] | None:
    """The fixed parameter Optuna refuses (a choice the space does not offer, or a value that is
    no number), with its distribution: the space drawn with the other values fixed shows it."""
    import optuna

    for name in fixed:
        others = {k: v for k, v in fixed.items() if k != name}
        try:
            distribution = _draw(model, spec, others).get(name)
        except ValueError:
            continue
        if distribution is None:
            continue
        if isinstance(distribution, optuna.distributions.CategoricalDistribution):
            if fixed[name] not in distribution.choices:
                return name, distribution
            continue
        try:
            distribution.to_internal_repr(fixed[name])
        except (TypeError, ValueError):
            return name, distribution
    return None


def _draw(model: Model, spec: BuildSpec, fixed: Mapping[str, Any]) -> dict[str, Any]:
    """The distributions `model`'s search space asks for when `fixed` values are drawn."""
    import optuna

    with _quiet_optuna():
        study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
        study.enqueue_trial(dict(fixed), skip_if_exists=False)
        trial = study.ask()
        model.sample(trial, spec)
    return dict(trial.distributions)


@contextlib.contextmanager
def _quiet_optuna() -> Iterator[None]:
    """Silence Optuna while a configuration is checked (a fixed value out of its range warns:
    `adapt` clips it itself)."""
    import optuna

    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        optuna.logging.set_verbosity(level)


def for_study(model: Model, spec: BuildSpec, portfolio: Portfolio | None) -> Queued:
    """The portfolio's configurations of `model`, adapted to the study's task: what the study
    queues as trials 1..n, with a note for each configuration changed or skipped."""
    if portfolio is None:
        return Queued()
    queued: list[dict[str, Any]] = []
    notes: list[str] = []
    for number, params in enumerate(portfolio.configurations(model.name), start=1):
        adapted, note = adapt(model, spec, params)
        if adapted is None:
            notes.append(f"configuration {number} skipped: {note}")
        else:
            if note:
                notes.append(f"configuration {number}: {note}")
            if adapted != model.defaults and adapted not in queued:
                queued.append(adapted)
    return Queued(tuple(queued), tuple(notes), portfolio.source)

