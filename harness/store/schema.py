"""The names harness gives MLflow tags, metrics and artifacts, in one place."""

from __future__ import annotations

TAG = "harness."
PARENT_TAG = "mlflow.parentRunId"
