"""A local store moved or copied to another folder: its artifact paths, found and re-rooted.

MLflow records where artifacts live as absolute locations: each experiment's
`artifact_location` (harness makes it `<store>/artifacts/<task>`) and each run's `artifact_uri`
below it. A store folder moved (`mv project project2`) or copied to another machine keeps
pointing at the old folder: MLflow would write new artifacts there (recreating it) and read
none from the new place. When a local store is opened, `find_moves` compares each
experiment's location with the store's own `artifacts/` folder, and the tracker rewrites the
moved ones, and their runs' URIs, in one transaction (`harness.store.rows.reroot`).

A location is taken as moved when it has harness's layout (`<folder>/artifacts/<name>`) in a
folder other than the store's, and the artifacts came along: `<store>/artifacts/<name>` exists,
or nothing is left at the old location. A database copied without its artifacts keeps
pointing at them; the same folder reached by another path (a symbolic link) is no move.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

__all__ = ["ARTIFACTS", "Move", "find_moves", "local_path", "message"]

ARTIFACTS = "artifacts"  # the folder of a local store holding its experiments' artifacts


@dataclass(frozen=True)
class Move:
    """One experiment whose artifact location is in another store folder.

    Attributes:
        experiment_id: The MLflow experiment.
        old: Its artifact location as stored (a `file:` URI or a path).
        new: The same location under this store's `artifacts/` folder, in the same form.
        old_store: The store folder `old` lies in (where the store was).
    """

    experiment_id: str
    old: str
    new: str
    old_store: Path


def local_path(location: str) -> Path | None:
    """The local folder of an artifact location (a `file:` URI or an absolute path); None for
    a remote one (`s3://`, `mlflow-artifacts:`)."""
    parts = urlsplit(location)
    if parts.scheme == "file" and parts.netloc in ("", "localhost"):
        return Path(unquote(parts.path))
    if not parts.scheme and location.startswith("/"):
        return Path(location)
    return None


def _same_folder(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def find_moves(experiments: Iterable[tuple[str, str]], artifact_root: Path) -> list[Move]:
    """The experiments, given as (id, artifact location), whose artifacts moved into
    `artifact_root` (the store's `artifacts/` folder) from another store folder."""
    moves = []
    for experiment_id, location in experiments:
        old = local_path(location or "")
        if old is None or old.parent.name != artifact_root.name:
            continue
        new = artifact_root / old.name
        if old == new or _same_folder(old, new):
            continue
        if old.exists() and not new.exists():
            continue  # the database came without the artifacts: they are still there
        moves.append(
            Move(
                experiment_id=str(experiment_id),
                old=location,
                new=new.as_uri() if location.startswith("file:") else str(new),
                old_store=old.parent.parent,
            )
        )
    return moves


def message(moves: list[Move], store: Path, *, temporary: bool = False) -> str:
    """The one line that tells the user the store at `store` was moved and re-rooted."""
    olds = ", ".join(dict.fromkeys(str(move.old_store) for move in moves))
    if temporary:
        return (
            f"The MLflow store {store} was moved or copied from {olds}; its folder is "
            "read-only, so its artifact paths were re-rooted for this command only."
        )
    return (
        f"The MLflow store {store} was moved or copied from {olds}: its artifact paths were "
        f"re-rooted to {store / ARTIFACTS}."
    )
