"""The public plugin API: everything a task or model plugin is made of, in one package.

Plugin authors import only from here (see docs/PLUGINS.md):

    from harness.contracts import BuildSpec, Dataset, Model, Task      # the contracts
    from harness.contracts.datasets import frame_dataset, r_dataset    # building a Dataset
    from harness.contracts.preprocessing import make_preprocessor      # leakage-safe columns
    from harness.contracts.reporting import epoch_reporter             # networks: per-epoch pruning
    from harness.contracts.testing import parametrize_with_checks      # contract checks in tests

This module imports nothing heavy (no NumPy, pandas or scikit-learn), so plugins stay cheap to
discover; the helper modules import what they need.
"""

from __future__ import annotations

from harness.contracts.metrics import DEFAULT_METRICS, METRICS, Metric, get_metric
from harness.contracts.model import FAMILIES, HARDWARE, BuildSpec, Model, thread_limits
from harness.contracts.task import (
    CLASSIFICATION,
    FEATURE_KINDS,
    MODALITIES,
    NO_AUGMENTATION,
    PROBLEM_TYPES,
    Augmentation,
    Dataset,
    Reference,
    Task,
)
from harness.errors import DataError, HarnessError, PluginError, UsageError

__all__ = [
    "CLASSIFICATION",
    "DEFAULT_METRICS",
    "FAMILIES",
    "FEATURE_KINDS",
    "HARDWARE",
    "METRICS",
    "MODALITIES",
    "NO_AUGMENTATION",
    "PROBLEM_TYPES",
    "Augmentation",
    "BuildSpec",
    "DataError",
    "Dataset",
    "HarnessError",
    "Metric",
    "Model",
    "PluginError",
    "Reference",
    "Task",
    "UsageError",
    "get_metric",
    "thread_limits",
]
