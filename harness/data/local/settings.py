"""The settings of the user's data: command-line `Options`, and the `task.toml` beside the data.

The file may also be `task.yaml` (or `<stem>.toml` beside a single file). Command-line flags win
over the file (see `harness.data.local.builder.Builder`). Every key the file
may hold is in `CONFIG_KEYS`; an unknown key, or a value of the wrong type, is a usage error.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import UsageError

__all__ = [
    "CONFIG_KEYS",
    "CONFIG_NAMES",
    "LIST_KEYS",
    "TEXT_KEYS",
    "Options",
    "config_beside",
    "read_config",
]

CONFIG_NAMES = ("task.toml", "task.yaml", "task.yml")
LIST_KEYS = ("drop", "categorical", "text", "numeric")
TEXT_KEYS = (
    "name",
    "target",
    "id",
    "problem_type",
    "metric",
    "group",
    "time",
    "train",
    "test",
    "sample_submission",
    "data",
    "encoding",
    "sep",
    "images",
)
CONFIG_KEYS = (
    *TEXT_KEYS,
    *LIST_KEYS,
    "positive_class",
    "folds",
    "holdout",
    "extra_metrics",
    "image_size",
    "channels",
)


@dataclass(frozen=True)
class Options:
    """Settings from the command line (None: not given); they win over task.toml.

    Attributes:
        target: Target column.
        id: Id column (row identifiers, kept out of the features).
        metric: Primary metric.
        problem_type: binary, multiclass or regression.
        positive_class: The positive label of a binary task.
        group: Group column (grouped holdout and folds).
        time: Time column (latest rows as holdout, forward-chaining folds).
        drop: Columns that must not be features.
        name: Task name (MLflow experiment).
    """

    target: str | None = None
    id: str | None = None
    metric: str | None = None
    problem_type: str | None = None
    positive_class: str | None = None
    group: str | None = None
    time: str | None = None
    drop: tuple[str, ...] = ()
    name: str | None = None


def read_config(path: Path) -> dict[str, Any]:
    """Read and check a task.toml or task.yaml file.

    Raises:
        UsageError: Malformed file, unknown keys, or values of the wrong type.
    """
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix == ".toml":
            import tomllib

            config = tomllib.loads(text)
        else:
            import yaml

            config = yaml.safe_load(text) or {}
    except Exception as exc:
        raise UsageError(f"Cannot parse '{path}': {str(exc).splitlines()[0]}") from None
    if not isinstance(config, dict):
        raise UsageError(f"'{path}' must hold key = value settings, not {type(config).__name__}.")
    for key, value in config.items():
        if key not in CONFIG_KEYS:
            close = difflib.get_close_matches(key, CONFIG_KEYS, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise UsageError(
                f"'{path}': unknown key {key!r}.{hint} Known keys: {', '.join(CONFIG_KEYS)}."
            )
        if key in TEXT_KEYS and not isinstance(value, str):
            raise UsageError(f"'{path}': {key} must be a string, got {value!r}.")
        if key in (*LIST_KEYS, "extra_metrics"):
            if isinstance(value, str):
                config[key] = value = [value]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise UsageError(f"'{path}': {key} must be a list of column names, got {value!r}.")
        if key == "folds" and (not isinstance(value, int) or isinstance(value, bool)):
            raise UsageError(f"'{path}': folds must be an integer, got {value!r}.")
        if key == "holdout" and not (isinstance(value, float) and 0 < value < 1):
            raise UsageError(f"'{path}': holdout must be a share in (0, 1), got {value!r}.")
        if key == "image_size" and not (
            isinstance(value, list)
            and len(value) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value)
        ):
            raise UsageError(
                f"'{path}': image_size must be [height, width] in pixels, got {value!r}."
            )
        if key == "channels" and value not in (1, 3):
            raise UsageError(f"'{path}': channels must be 1 (grayscale) or 3 (RGB), got {value!r}.")
    return config


def config_beside(path: Path) -> tuple[dict[str, Any], Path | None]:
    """The settings beside `path` and the file they come from ({} and None: no file).

    Beside a single file, `<stem>.toml` and `<stem>.yaml` come before `task.toml`, `task.yaml` and
    `task.yml`.
    """
    folder = path if path.is_dir() else path.parent
    names = CONFIG_NAMES if path.is_dir() else (f"{path.stem}.toml", f"{path.stem}.yaml")
    names = (*names, *CONFIG_NAMES)
    for name in names:
        candidate = folder / name
        if candidate.is_file():
            return read_config(candidate), candidate
    return {}, None
