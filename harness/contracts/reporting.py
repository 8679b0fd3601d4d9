"""What an iterative learner may report while it fits: per-epoch validation scores.

Inside a cross-validation, `epoch_reporter()` returns a reporter whose `epoch(e, y_true,
prediction)` scores the fit's own validation rows with the study's metric and lets the pruner stop
a hopeless trial (it raises inside the fit); elsewhere (a refit, a direct fit) it returns None.
The Keras models use it; see docs/DESIGN.md, "Per-epoch pruning".
"""

from __future__ import annotations

from harness.execution.jobs import EpochReporter, epoch_reporter

__all__ = ["EpochReporter", "epoch_reporter"]
