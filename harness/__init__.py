"""harness: a Kaggle-style applied benchmark harness.

Real tasks, one fair protocol (a private holdout plus fixed folds), classical and neural
learners tuned with Optuna under a budget, every trial recorded in MLflow, and leaderboards
read back from it.
"""

from __future__ import annotations

import os

__version__ = "0.1.0"
# The distribution's name (pyproject's `name`, a plugin's `dependencies`), chosen free on PyPI:
# the command and the import are `harness`, but `harness` on PyPI is an unrelated project.
DISTRIBUTION = "ml-harness"

# MLflow 3 sends usage telemetry to its makers unless told not to. A harness run on the user's
# data should not phone home (this also covers `harness ui`'s MLflow server, which inherits the
# environment); MLFLOW_DISABLE_TELEMETRY=false turns it back on.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
