"""One error tree for everything a user can get wrong.

The CLI prints a `HarnessError` as `Error: <message>` and exits with its `exit_code`: 1 for a
problem with data, plugins or stores, 2 for bad usage (a flag value out of range, an unknown
option value).
"""

from __future__ import annotations

import difflib
import traceback
from collections.abc import Iterable
from typing import Any

__all__ = [
    "DataError",
    "HarnessError",
    "NoModelError",
    "NotSupportedError",
    "PluginError",
    "StoreError",
    "UnknownNameError",
    "UsageError",
    "error_text",
    "plain",
]


class HarnessError(Exception):
    """A problem the user can fix; the message says what was wrong and what to do."""

    exit_code = 1


class UsageError(HarnessError):
    """A command-line value that cannot work (`--folds 1`, `--trials 0`)."""

    exit_code = 2


class PluginError(HarnessError):
    """A task or model plugin that is malformed, duplicated or unknown."""


class UnknownNameError(PluginError):
    """A task, model or metric name that is not registered."""

    def __init__(self, kind: str, name: str, known: Iterable[str], hint: str = "") -> None:
        self.kind, self.name = kind, name
        known = sorted(known)
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        message = f"Unknown {kind} {name!r}."
        if close:
            message += f" Did you mean {close[0]!r}?"
        message += f" {hint}" if hint else f" Known {kind}s: {', '.join(known)}."
        super().__init__(message)


class DataError(HarnessError):
    """Data that cannot be used as the task says (missing column, wrong target type)."""


class StoreError(HarnessError):
    """A tracking or study store that cannot be reached, created or written."""


class NoModelError(HarnessError):
    """A study or ensemble run without a logged model (logged before models were, with
    `--no-log-models`, or deleted from the store): nothing can predict new rows for it."""


class NotSupportedError(HarnessError):
    """A model asked for by name that cannot handle the task's problem type or modality."""


def error_text(exc: BaseException) -> str:
    last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    where = f" (at {last[0].filename.rsplit('/', 1)[-1]}:{last[0].lineno})" if last else ""
    return f"{type(exc).__name__}: {exc}{where}"[:2000]


def plain(value: Any) -> Any:
    """`value` as a message shows it: NumPy scalars (also in lists and tuples) as Python's own,
    so that `{plain(x)!r}` reads `12` or `'a'`, never `np.int64(12)` or `np.str_('a')`."""
    if isinstance(value, list | tuple):
        return type(value)(plain(v) for v in value)
    if type(value).__module__ == "numpy" and getattr(value, "shape", None) == ():
        return value.item()
    return value
