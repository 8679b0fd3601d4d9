"""The user's own data: a Kaggle-layout folder, a CSV/Parquet file or image folders, as a task."""

from harness.data.local.settings import Options, read_config
from harness.data.local.tables import read_table
from harness.data.local.tabular import (
    LocalTask,
    SubmissionFormat,
    load_path,
    looks_like_path,
    task_name,
)

__all__ = [
    "LocalTask",
    "Options",
    "SubmissionFormat",
    "load_path",
    "looks_like_path",
    "read_config",
    "read_table",
    "task_name",
]
