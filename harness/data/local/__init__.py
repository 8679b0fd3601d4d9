"""The user's own data: a Kaggle-layout folder, a CSV/Parquet file or image folders, as a task."""

from harness.data.local.tabular import (
    LocalTask,
    Options,
    SubmissionFormat,
    load_path,
    looks_like_path,
    read_config,
    read_table,
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
