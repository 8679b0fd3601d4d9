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


def _config_text(path: Path, notes: list[str] | None) -> str:
    """The text of a settings file, decoded as CSV files are: UTF-8 (a byte-order mark is
    fine), else Windows-1252 with a notice in `notes`.

    Raises:
        UsageError: The file holds NUL bytes (UTF-16 or UTF-32 text, or not text at all), or
            bytes that neither encoding decodes.
    """
    data = path.read_bytes()
    if b"\x00" in data:
        bom = data[:4]
        what = (
            "UTF-16 or UTF-32 text (it starts with a byte-order mark)"
            if bom.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff"))
            else "binary or UTF-16 text"
        )
        raise UsageError(
            f"Cannot read '{path}': it contains NUL bytes, so it is {what}, not UTF-8. "
            "Re-save it as UTF-8."
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        error = exc
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        raise UsageError(
            f"Cannot decode '{path}' as utf-8-sig or cp1252: {error}. Re-save it as UTF-8."
        ) from None
    if notes is not None:
        notes.append(f"'{path.name}' is not UTF-8; read it as Windows-1252")
    return text


def read_config(path: Path, notes: list[str] | None = None) -> dict[str, Any]:
    """Read and check a task.toml or task.yaml file.

    The file is decoded as CSV files are: UTF-8, else Windows-1252 with a notice appended to
    `notes`.

    Raises:
        UsageError: Undecodable or malformed file, unknown keys, or values of the wrong type.
    """
    text = _config_text(path, notes)
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


def config_beside(path: Path, notes: list[str] | None = None) -> tuple[dict[str, Any], Path | None]:
    """The settings beside `path` and the file they come from ({} and None: no file).

    Beside a single file, `<stem>.toml` and `<stem>.yaml` come before `task.toml`, `task.yaml` and
    `task.yml`. A file read as Windows-1252 adds a notice to `notes`.
    """
    folder = path if path.is_dir() else path.parent
    names = CONFIG_NAMES if path.is_dir() else (f"{path.stem}.toml", f"{path.stem}.yaml")
    names = (*names, *CONFIG_NAMES)
    for name in names:
        candidate = folder / name
        if candidate.is_file():
            return read_config(candidate, notes), candidate
    return {}, None
