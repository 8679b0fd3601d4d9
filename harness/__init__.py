"""harness: a Kaggle-style applied benchmark harness.

Real tasks, one fair protocol (a private holdout plus fixed folds), classical and neural
learners tuned with Optuna under a budget, every trial recorded in MLflow, and leaderboards
read back from it.
"""

from __future__ import annotations

__version__ = "0.1.0"
