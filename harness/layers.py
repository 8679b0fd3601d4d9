"""The layers of harness, top to bottom: a module may import its own layer and those below it.

`tests/unit_tests/test_layering.py` checks every import (module- or function-level) against this
table and fails on an import cycle or an upward import; docs/DESIGN.md draws the same picture.
A module belongs to the first entry its name starts with.
"""

from __future__ import annotations

__all__ = ["LAYERS", "PLUGIN_API", "layer_of"]

LAYERS: tuple[tuple[str, ...], ...] = (
    ("harness.cli", "harness.__main__"),  # parse, call, render
    # deprecated aliases of the plugin API's 0.1 modules (plugins written for it keep working)
    ("harness.task", "harness.model", "harness.testing", "harness.preprocess"),
    ("harness.run",),  # the flow: config, studies, refit, drivers, ensemble, schedule
    ("harness.results",),  # leaderboards, statistics, tables, report, plots, submissions
    ("harness.tuning",),  # Optuna: studies, slots, the objective, pruning
    ("harness.store",),  # MLflow and Optuna stores: URLs, SQLite, the tracker, orphans
    (  # the plugin API's helpers and checks, gathered from the layers below
        "harness.contracts.testing",
        "harness.contracts.datasets",
        "harness.contracts.preprocessing",
        "harness.contracts.reporting",
    ),
    ("harness.execution",),  # the study's worker process and its jobs
    ("harness.registry",),  # plugin discovery
    ("harness.protocol",),  # splits, CV, preprocessing, ensemble selection: no Optuna, no MLflow
    ("harness.data",),  # datasets from packages and from the user's files, inference, health
    ("harness.contracts",),  # Task, Model, BuildSpec, metrics: what plugins are made of
    ("harness.layers", "harness.errors", "harness.devices", "harness"),  # leaves
)

PLUGIN_API = "harness.contracts"  # the only package built-in plugins import from


def layer_of(module: str) -> int | None:
    """The index in `LAYERS` (0 = top) of a harness module, or None for a plugin module."""
    for number, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if module == prefix or (prefix != "harness" and module.startswith(prefix + ".")):
                return number
    return None
