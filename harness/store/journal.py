"""The local Optuna storage: one append-only journal file per study, in a folder.

A `journal:///<folder>` storage keeps study `<task>.<model>` in `<folder>/<task>.<model>.journal`,
Optuna's `JournalStorage` on a `JournalFileBackend`: each storage operation is one JSON line
appended under a lock, and each process replays the lines it has not read yet. It does a
trial's storage work in about a tenth of the time of Optuna's SQLite RDB storage
(docs/BENCHMARKS.md, "Overhead"), and a file per study keeps what a process replays to the
study it opens, however many runs the store has seen.

What it guarantees, on one machine (docs/RELIABILITY.md):
- The lock is `fcntl.flock` on `<file>.lock`, taken on a fresh file handle at each write, so the
  kernel releases it when the holder dies, even by `kill -9`: nothing waits for a stale lock
  (Optuna's default symlink lock would be left behind for its 30 s grace period).
- A writer killed (or out of disk space) halfway through a line leaves a torn last line. Readers
  skip it; the next writer, holding the lock, cuts it off before appending, so the lines after it
  stay readable.
- Trials of dead processes are failed by pid (`tuning.slots.reap_dead_trials`); a journal has no
  heartbeats, so it is for one machine: workers on several machines share PostgreSQL.
"""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path
from typing import Any

from harness.errors import UsageError

__all__ = [
    "SCHEME",
    "SUFFIX",
    "FlockLock",
    "cut_torn_line",
    "folder",
    "is_journal",
    "open_storage",
    "study_file",
    "url",
]

SCHEME = "journal:///"
SUFFIX = ".journal"
_CHUNK = 65536


def is_journal(url: str) -> bool:
    return url.startswith("journal:")


def folder(url: str) -> Path:
    """The folder of a `journal:///<folder>` URL (relative paths from the current directory).

    Raises:
        UsageError: A URL that names no folder, a host, or a journal file.
    """
    if not url.startswith(SCHEME) or not url[len(SCHEME) :] or url.endswith(SUFFIX):
        raise UsageError(
            f"Malformed Optuna storage {url!r}: a journal storage is a folder, "
            "journal:///relative/folder or journal:////absolute/folder."
        )
    return Path(url[len(SCHEME) :]).resolve()


def url(path: Path) -> str:
    """The `journal:///` URL of a folder (absolute paths give `journal:////...`)."""
    return f"{SCHEME}{path}"


def study_file(url: str, name: str) -> Path:
    """The journal file of study `name` in the storage `url`."""
    if not name or "/" in name or name.startswith("."):
        raise ValueError(f"a study name that is not a file name: {name!r}")
    return folder(url) / f"{name}{SUFFIX}"


def cut_torn_line(path: str) -> None:
    """Truncate `path` after its last newline, if a killed writer left a partial line after it."""
    with open(path, "rb+") as handle:
        end = handle.seek(0, os.SEEK_END)
        if end == 0:
            return
        handle.seek(end - 1)
        if handle.read(1) == b"\n":
            return
        position = end
        while position > 0:
            start = max(0, position - _CHUNK)
            handle.seek(start)
            newline = handle.read(position - start).rfind(b"\n")
            if newline >= 0:
                handle.truncate(start + newline + 1)
                return
            position = start
        handle.truncate(0)


class FlockLock:
    """Exclusive `flock` on `<journal>.lock`, released by the kernel if the holder dies; while it
    is held, the journal ends on a whole line. (Optuna's backend only calls `acquire` and
    `release`: its lock base class is not public.)"""

    def __init__(self, journal: str) -> None:
        self._journal = journal
        self._path = journal + ".lock"
        self._held = threading.local()

    def acquire(self) -> bool:
        handle = open(self._path, "a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)
            cut_torn_line(self._journal)
        except BaseException:
            handle.close()
            raise
        self._held.handle = handle
        return True

    def release(self) -> None:
        handle = self._held.handle
        self._held.handle = None
        try:
            fcntl.flock(handle, fcntl.LOCK_UN)
        finally:
            handle.close()


def open_storage(url: str, name: str) -> Any:
    """Optuna's journal storage of study `name` in the folder of `url` (created if missing)."""
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    path = study_file(url, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    return JournalStorage(JournalFileBackend(str(path), lock_obj=FlockLock(str(path))))
