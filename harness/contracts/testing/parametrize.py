"""One pytest test per (plugin, check), as scikit-learn's parametrize_with_checks does."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from harness.contracts.model import Model
from harness.contracts.task import Task
from harness.contracts.testing.models import (
    MODEL_CHECKS,
    PROTOCOL_CHECKS,
)
from harness.contracts.testing.probes import MODEL_OPTIONS, TASK_OPTIONS, bind
from harness.contracts.testing.tasks import TASK_CHECKS

__all__ = ["parametrize_with_checks"]

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
                    bind(check, given),
                    id=f"{plugin.name}-{check.__name__}",
                    marks=marks + more,
                )
            )
    return pytest.mark.parametrize(("plugin", "check"), params)
