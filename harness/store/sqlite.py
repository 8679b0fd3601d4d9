"""Local SQLite stores: a lock for schema creation, write-ahead-log mode, full-disk messages."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

__all__ = ["DISK_FULL_HINT", "disk_full", "file_in_wal_mode", "local_lock", "write_ahead_log"]


def disk_full(text: str) -> bool:
    """Whether an error message says the disk (or quota) holding a store is full."""
    text = text.lower()
    return any(
        mark in text
        for mark in ("disk is full", "no space left", "disk full", "quota exceeded", "enospc")
    )


DISK_FULL_HINT = (
    "The disk holding it is full: free some space and rerun the same command "
    "(finished trials are kept)."
)


@contextlib.contextmanager
def local_lock(url: str):
    """Hold an exclusive lock beside a local sqlite store (no-op for servers).

    MLflow and Optuna create and migrate a fresh database's tables on first use; two processes
    doing it at once (workers started together) break each other's migration. The lock file is
    `<database>.lock`; it is released when the process ends, even by `kill -9`.
    """
    if not url.startswith("sqlite:///"):
        yield
        return
    import fcntl

    path = Path(url[len("sqlite:///") :] + ".lock")
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def write_ahead_log(engine: Any) -> None:
    """Put a SQLite engine's database in write-ahead-log mode, synchronous=NORMAL per connection.

    A trial writes the storage about twenty times (its reports, attributes, state), and each
    commit in SQLite's default rollback-journal mode waits for two fsyncs; in WAL mode a commit
    appends to the log, and readers no longer block the writer (parallel studies and workers
    share the file). NORMAL keeps every committed transaction through a killed process; only a
    power cut can lose the last ones. The mode stays with the file; the listener sets each new
    connection's synchronous level.
    """
    from sqlalchemy import event

    def on_connect(connection: Any, _record: Any) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    event.listen(engine, "connect", on_connect)
    engine.dispose()  # connections opened before the listener get it when reopened


def file_in_wal_mode(path: str) -> None:
    """Switch a SQLite file to write-ahead-log mode (the mode is stored in the file)."""
    import sqlite3

    with contextlib.closing(sqlite3.connect(path, timeout=60)) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
