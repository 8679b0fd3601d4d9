"""The user's own data: a Kaggle-layout folder, a CSV/Parquet file or image folders, as a task.

`load_path` finds the layout of a path given to `harness run` and builds its `LocalTask` with one
of the layouts' loaders: `image_folders` (class folders, or a label table beside a folder of
images) or `tabular` (a Kaggle-layout folder of tables, with `kaggle` for its files and test
part, or one table file). The modules they share: `settings` (command-line `Options` and
task.toml), `tables` (reading CSV and Parquet files), `builder` (the `Builder`, `LocalTask`,
`SubmissionFormat`) and `target` (problem type, classes, ids). See docs/OWN_DATA.md.

Everything here runs before any store is touched, so a refused command writes nothing.
"""

from __future__ import annotations

from pathlib import Path

from harness.data.local import image_folders, tabular
from harness.data.local.builder import (
    Builder,
    LocalTask,
    SubmissionFormat,
    chosen_name,
    looks_like_path,
    task_name,
)
from harness.data.local.settings import Options, read_config
from harness.data.local.tables import read_table
from harness.errors import DataError

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


def load_path(argument: str, options: Options, *, known_tasks: set[str] = frozenset()) -> LocalTask:
    """Build a task from a Kaggle-layout folder, a single CSV/Parquet file or an image folder.

    Args:
        argument: The path given to `harness run`.
        options: Command-line settings (they win over task.toml).
        known_tasks: Names of registered tasks, which a path task may not take.

    Raises:
        DataError: Missing or unreadable files, a missing or unusable target, duplicate ids,
            test columns that differ from train's.
        UsageError: Bad settings: unknown keys or metrics, a metric that does not fit, a name
            that collides with a registered task.
    """
    path = Path(argument).expanduser()
    if not path.exists():
        raise DataError(
            f"No such file or folder: '{argument}'. Give a Kaggle-layout folder (train.csv, "
            "test.csv, sample_submission.csv) or a CSV/Parquet file, or a task name from "
            "'harness list tasks'."
        )
    b = Builder(path, options)
    name = chosen_name(b, set(known_tasks))
    layout = image_folders.detect(path, b.settings)
    if layout is not None:
        image_folders.check_options(options)
        return image_folders.load_image_folder(path, layout, b, name)
    return tabular.load_tables(argument, path, b, name)
