"""What an iterative learner may read and report while it fits: its deadline, per-epoch scores.

`fit_deadline()` returns the `time.monotonic()` instant by which the fit running here should stop
(None: no deadline). Under `--budget`, and a margin before `--trial-timeout`, a study's worker gives
each job one, and cross-validation shares it among the folds. A learner that grows trees or epochs
should stop adding them once it passes (always keeping at least one), keep the best iteration so
far on its own early-stopping split, and set `fit_info_[CUT_SHORT] = 1.0` (0.0 when it finished
on its own): the trial then completes with the model it has, and the run records it as cut
short. A learner that ignores the deadline is killed at the hard limit, as before.

Inside a cross-validation, `epoch_reporter()` returns a reporter whose `epoch(e, y_true,
prediction)` scores the fit's own validation rows with the study's metric and lets the pruner stop
a hopeless trial (it raises inside the fit); elsewhere (a refit, a direct fit) it returns None.
The Keras models use both, the boosters the deadline; see docs/DESIGN.md, "Per-epoch pruning" and
"Isolation and hard limits", and docs/PLUGINS.md.
"""

from __future__ import annotations

from harness.execution.jobs import EpochReporter, epoch_reporter
from harness.protocol.deadline import CUT_SHORT, fit_deadline

__all__ = ["CUT_SHORT", "EpochReporter", "epoch_reporter", "fit_deadline"]
