"""Local SQLite stores: a lock for schema creation, write-ahead-log mode, full-disk messages,
and read-only folders."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = [
    "DISK_FULL_HINT",
    "create_atomically",
    "damage",
    "disk_full",
    "file_in_wal_mode",
    "local_lock",
    "opened",
    "private_copy",
    "query_only",
    "writable",
    "write_ahead_log",
]

_MAGIC = b"SQLite format 3\x00"


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


# Databases this process has opened through SQLite. Their header is not read again: SQLite's
# locks are POSIX locks, which the process loses on *every* descriptor of the file when it
# closes *any* one, so reading the file beside an open connection breaks that connection
# ("disk I/O error"). A file SQLite has opened is a database anyway.
_OPENED: set[str] = set()


def opened(path: Path | str) -> None:
    """Note that this process opened the database at `path` through SQLite (see `damage`)."""
    _OPENED.add(str(Path(path).resolve()))


def damage(path: Path) -> str | None:
    """Why the file at `path` cannot be a usable SQLite database, read from its 100-byte header
    without opening it (so nothing is created beside it); None when it may be one, or is absent
    or empty (SQLite makes a new database there).

    Found: a file that is not SQLite (another format, garbage), a damaged header, and a file
    shorter than the pages its header declares (truncated). A database whose write-ahead log
    holds pages is not judged by its length: a checkpoint cut short leaves it shorter, and the
    log repairs it. A database this process has opened (`opened`) is not read again.
    """
    if str(Path(path).resolve()) in _OPENED:
        return None
    try:
        size = path.stat().st_size
        if size == 0:
            return None
        with open(path, "rb") as handle:
            header = handle.read(100)
    except OSError:
        return None  # absent or unreadable: opening it says why
    if len(header) < 100 or not header.startswith(_MAGIC):
        return "file is not a database (it does not start with SQLite's header)"
    page = int.from_bytes(header[16:18], "big")
    page = 65536 if page == 1 else page
    if page < 512 or page > 65536 or page & (page - 1):
        return "file is not a database (its SQLite header is damaged)"
    pages = int.from_bytes(header[28:32], "big")
    declared_valid = header[24:28] == header[92:96]  # SQLite's rule for the declared size
    wal = Path(f"{path}-wal")
    log_holds_pages = wal.exists() and wal.stat().st_size > 0
    if declared_valid and pages and size < pages * page and not log_holds_pages:
        return (
            f"the database file is truncated ({size:,} bytes of the {pages * page:,} its "
            "header declares)"
        )
    return None


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


CREATING = ".creating-"  # `.<database>.creating-<pid>`: a schema being built beside it


def create_atomically(path: Path, build: Callable[[str], None]) -> bool:
    """Create a new SQLite database at `path` so that an interrupt at any instant leaves either
    no database or a complete one; call it under `local_lock`. Returns whether it created one.

    `build(url)` creates the schema in a temporary file beside `path` and closes its
    connections (MLflow's migrations take up to a second, and a process killed halfway leaves
    tables that no later run can migrate); only the finished file is renamed into place, which
    is atomic on one file system.
    Temporary files of builds that were killed are removed first. An existing non-empty
    database is left alone.
    """
    import os

    for stale in path.parent.glob(f".{path.name}{CREATING}*"):
        with contextlib.suppress(OSError):
            stale.unlink()
    if path.exists() and path.stat().st_size > 0:
        return False
    building = path.with_name(f".{path.name}{CREATING}{os.getpid()}")
    try:
        build(f"sqlite:///{building}")  # it closes its connections: no journal is left open
        os.replace(building, path)
    finally:
        for leftover in (building, Path(f"{building}-journal")):
            with contextlib.suppress(OSError):
                leftover.unlink()
    return True


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


def writable(path: Path) -> bool:
    """Whether a process can write the SQLite database at `path` as SQLite needs: the file, its
    folder (for the write-ahead log and its index) and the lock file beside it. False on a
    read-only folder or file system (a mounted backup, a copy without write permission)."""
    import os

    lock = Path(f"{path}.lock")
    return (
        os.access(path.parent, os.W_OK | os.X_OK)
        and (not path.exists() or os.access(path, os.W_OK))
        and (not lock.exists() or os.access(lock, os.W_OK))
    )


def private_copy(path: Path, folder: Path) -> Path:
    """Copy the database at `path`, with its write-ahead log, into `folder` and return the copy.

    A database in write-ahead-log mode cannot be opened where its folder is read-only (SQLite
    makes an index file beside it, even to read); its copy can, and SQLite replays the log into
    it, so commits still in the log are read too.
    """
    import shutil

    copy = folder / path.name
    shutil.copyfile(path, copy)
    wal = Path(f"{path}-wal")
    if wal.exists():
        shutil.copyfile(wal, Path(f"{copy}-wal"))
    return copy


def query_only(engine: Any) -> None:
    """Make every connection of a SQLite engine refuse writes ("attempt to write a readonly
    database"): a private copy of a read-only store must not take writes that would be lost."""
    from sqlalchemy import event

    def on_connect(connection: Any, _record: Any) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA query_only=ON")
        cursor.close()

    event.listen(engine, "connect", on_connect)
    engine.dispose()
