"""A local MLflow store left half-created by an interrupted first run: recognised, and rebuilt.

Harness before `sqlite.create_atomically` let MLflow build a new store's schema in place, and a
process killed during those migrations (they take up to a second) left a `mlflow.db` with a
half-applied schema that MLflow then refuses for good: "duplicate column name: step", "table
_alembic_tmp_experiments already exists", "Detected out-of-date database schema". A file
that was being created holds no run. When MLflow cannot open a local store whose file holds
nothing (`holds_nothing`), `harness run` keeps the file as `mlflow.db.broken-<time>`
(`set_aside`) and builds a new store; read commands say what is wrong and touch nothing. A
store that holds runs is never set aside.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from pathlib import Path
from urllib.parse import quote

from harness.store.sqlite import disk_full

__all__ = [
    "BOOKKEEPING",
    "holds_nothing",
    "reason",
    "rebuilt",
    "refused",
    "repairable",
    "set_aside",
]

# Rows MLflow writes itself: the schema's revision and the default workspace (a migration's);
# the Default experiment (id 0) is left out of the count of `experiments` below.
BOOKKEEPING = ("alembic_version", "workspaces")


def holds_nothing(path: Path) -> bool:
    """Whether the SQLite database at `path` holds no row beyond MLflow's own bookkeeping (a
    table an interrupted migration left, `_alembic_tmp_runs`, counts like any other); False
    when it cannot be read."""
    import sqlite3

    try:
        uri = f"file:{quote(str(path))}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=10)) as db:
            tables = [
                name
                for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            ]
            for table in tables:
                if table in BOOKKEEPING or table.startswith("sqlite_"):
                    continue
                where = " WHERE experiment_id != 0" if table == "experiments" else ""
                quoted = table.replace('"', '""')
                (count,) = db.execute(f'SELECT COUNT(*) FROM "{quoted}"{where}').fetchone()
                if count:
                    return False
    except sqlite3.Error:
        return False
    return True


def repairable(path: Path, error: str) -> bool:
    """Whether a local store that MLflow failed to open with `error` can be rebuilt: it holds
    nothing, and the failure is not a full disk or another process's lock (which a rebuild
    would not cure)."""
    text = error.lower()
    if disk_full(text) or "locked" in text or "busy" in text:
        return False
    return path.exists() and holds_nothing(path)


def reason(error: str) -> str:
    """MLflow's error in a few words: its first sentence, without the driver's class name."""
    first = error.strip().splitlines()[0] if error.strip() else "no reason given"
    first = re.sub(r"^\([\w.]+\)\s*", "", first)
    return first.split(". ")[0].rstrip(".")


def set_aside(path: Path) -> Path:
    """Rename the database at `path` (with its `-wal`, `-shm` or `-journal` beside it) to
    `<name>.broken-<time>` and return the new path. The companions go first: a log left beside
    the new database would be replayed into it."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    kept = path.with_name(f"{path.name}.broken-{stamp}")
    number = 1
    while kept.exists():
        number += 1
        kept = path.with_name(f"{path.name}.broken-{stamp}-{number}")
    for suffix in ("-wal", "-shm", "-journal"):
        companion = Path(f"{path}{suffix}")
        if companion.exists():
            os.replace(companion, f"{kept}{suffix}")
    os.replace(path, kept)
    return kept


def rebuilt(url: str, error: str, kept: Path) -> str:
    """The notice of a store rebuilt by `harness run`."""
    return (
        f"The MLflow store {url!r} was left half-created by an interrupted first run (MLflow "
        f"could not open it: {reason(error)}). It held no runs, so it was rebuilt; the broken "
        f"file is kept as {kept.name}."
    )


def refused(url: str, error: str) -> str:
    """The error of a read command on a half-created store."""
    return (
        f"The MLflow store {url!r} was left half-created by an interrupted first run (MLflow "
        f"cannot open it: {reason(error)}) and holds no runs. 'harness run TASK' rebuilds it, "
        "keeping the broken file beside it; or move it aside."
    )
