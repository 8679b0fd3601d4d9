"""What crosses the pipe between a study process and its worker, as types instead of tuples.

Study process -> worker: a `Job`, then an `Answer` to each `Progress` the job sends.
Worker -> study process: `Progress` (what the job sent: `FoldDone`, `EpochDone`), then one of
`Done` (the job's return value), `Stopped` (the job ended at an answer to stop) or `Failed`.
Every message is a small frozen dataclass, pickled by the pipe.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Answer",
    "Done",
    "EpochDone",
    "Failed",
    "FoldDone",
    "Job",
    "Progress",
    "Stopped",
]


@dataclass(frozen=True)
class Job:
    """Run `function(context, send, *args)` in the worker (`function` importable by name), with
    `deadline` (a `time.monotonic()` instant, or None) as the fit deadline of the models it fits
    (`harness.protocol.deadline`)."""

    function: Callable[..., Any]
    args: tuple
    deadline: float | None = None


class Answer(enum.Enum):
    """The study process's answer to each `Progress`: go on, or stop the job there."""

    GO = "go"
    STOP = "stop"


@dataclass(frozen=True)
class Progress:
    """What a running job sent (a `FoldDone` or an `EpochDone`); the worker waits for an
    `Answer`."""

    payload: Any


@dataclass(frozen=True)
class Done:
    """The job returned `value`."""

    value: Any


@dataclass(frozen=True)
class Stopped:
    """The job ended because the study process answered `Answer.STOP`."""


@dataclass(frozen=True)
class Failed:
    """The job raised: `status` is "failed" (or "oom" for a MemoryError), `text` the error."""

    status: str
    text: str


@dataclass(frozen=True)
class FoldDone:
    """A cross-validation finished fold `fold` (from 0); `running_mean` of the primary metric."""

    fold: int
    running_mean: float


@dataclass(frozen=True)
class EpochDone:
    """A network finished epoch `epoch` (from 0) of fold `fold`, scoring `value` on its own
    validation rows with the study's primary metric."""

    fold: int
    epoch: int
    value: float
