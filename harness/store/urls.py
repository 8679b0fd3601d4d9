"""Where results are stored: the MLflow store and the Optuna storage, resolved and checked."""

from __future__ import annotations

import contextlib
import os
import re
import socket
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from harness.errors import StoreError, UsageError
from harness.store import journal
from harness.store.sqlite import damage

__all__ = [
    "STORAGE_SCHEMES",
    "TRACKING_SCHEMES",
    "Stores",
    "check_database",
    "check_reachable",
    "local_store_missing",
    "make_folders",
    "mask",
    "opening",
    "resolve_stores",
    "sqlite_path",
]

TRACKING_SCHEMES = ("sqlite", "postgresql", "mysql", "mssql", "http", "https", "databricks")
STORAGE_SCHEMES = ("sqlite", "postgresql", "mysql", "journal")


def mask(url: str) -> str:
    """The URL with any password replaced by ***: `postgresql://user:***@host/db`."""
    return re.sub(r"(//[^/:@]+):[^@/]*@", r"\1:***@", url)


@dataclass(frozen=True)
class Stores:
    """Resolved locations of the MLflow store and the Optuna storage.

    Attributes:
        tracking_uri: MLflow tracking URI.
        storage_url: Optuna storage URL.
        artifact_root: Folder for artifacts of new experiments, for local sqlite stores (else None:
            the tracking server decides).
    """

    tracking_uri: str
    storage_url: str
    artifact_root: str | None


def sqlite_path(url: str, what: str) -> Path:
    if not url.startswith("sqlite:///"):
        raise UsageError(
            f"Malformed {what} {mask(url)!r}: a sqlite URL is sqlite:///relative/path.db or "
            "sqlite:////absolute/path.db."
        )
    path = url[len("sqlite:///") :]
    if not path or path == ":memory:" or path.endswith("/"):
        raise UsageError(f"Malformed {what} {url!r}: it must name a database file.")
    return Path(path).resolve()


def _check_url(url: str, schemes: tuple[str, ...], what: str, flag: str) -> None:
    if url == "databricks" and "databricks" in schemes:  # MLflow's own short form
        return
    scheme = urlsplit(url).scheme.split("+", 1)[0]
    if scheme == "file" or (not scheme and url):
        raise UsageError(
            f"The {what} {mask(url)!r} is a plain folder; MLflow 3 needs a database store. "
            f"Use {flag} sqlite:///path/to/mlflow.db (or a server URL)."
            if what == "tracking URI"
            else f"The {what} {mask(url)!r} is not a storage URL. Use {flag} journal:///folder, "
            "sqlite:///path.db or postgresql://user@host/db."
        )
    if scheme not in schemes:
        raise UsageError(
            f"Malformed {what} {mask(url)!r}: scheme {scheme!r} is not one of "
            f"{', '.join(schemes)}. Example: {flag} sqlite:///mlruns/mlflow.db"
        )
    if scheme in ("http", "https", "postgresql", "mysql", "mssql") and not urlsplit(url).hostname:
        raise UsageError(f"Malformed {what} {mask(url)!r}: it names no host.")


def _writable_folder(folder: Path, what: str, flag: str) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(
            f"Cannot create the folder {str(folder)!r} for the {what}: {exc.strerror or exc}. "
            f"Pass a writable location with {flag}."
        ) from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise StoreError(
            f"The folder {str(folder)!r} for the {what} is not writable. "
            f"Pass a writable location with {flag}."
        )


def resolve_stores(
    tracking_uri: str | None = None,
    storage: str | None = None,
    root: Path | None = None,
    *,
    create: bool = True,
) -> Stores:
    """Resolve and check the stores from flags, environment, and the default under `root/mlruns`.

    Both URLs are checked before any folder is made, so a refused command writes nothing.

    Args:
        tracking_uri: `--tracking-uri`; falls back to `MLFLOW_TRACKING_URI`, then the default.
        storage: `--storage`; falls back to `HARNESS_STORAGE`, then a sqlite file beside the
            MLflow database (or under `root/mlruns` when MLflow is remote).
        root: Folder holding `mlruns/` (default: the current directory).
        create: Make the folders of local sqlite stores (False for read-only commands).

    Raises:
        UsageError: A malformed URL.
        StoreError: A local store that cannot be created or written.
    """
    root = Path(root or Path.cwd()).resolve()
    tracking_uri = tracking_uri or os.environ.get("MLFLOW_TRACKING_URI") or None
    storage = storage or os.environ.get("HARNESS_STORAGE") or None
    if tracking_uri is None:
        tracking_uri = f"sqlite:///{root / 'mlruns' / 'mlflow.db'}"
    _check_url(tracking_uri, TRACKING_SCHEMES, "tracking URI", "--tracking-uri")
    artifact_root = None
    local_folder = root / "mlruns"
    if tracking_uri.startswith("sqlite"):
        db = sqlite_path(tracking_uri, "tracking URI")
        tracking_uri = f"sqlite:///{db}"
        local_folder = db.parent
        artifact_root = str(db.parent / "artifacts")
    if storage is None:
        # Stores made before the journal keep their SQLite studies, and resume them.
        legacy = local_folder / "optuna.db"
        storage = f"sqlite:///{legacy}" if legacy.exists() else journal.url(local_folder / "optuna")
    _check_url(storage, STORAGE_SCHEMES, "Optuna storage", "--storage")
    if storage.startswith("sqlite"):
        db = sqlite_path(storage, "Optuna storage")
        storage = f"sqlite:///{db}"
    elif journal.is_journal(storage):
        storage = journal.url(journal.folder(storage))
    stores = Stores(tracking_uri=tracking_uri, storage_url=storage, artifact_root=artifact_root)
    if create:
        make_folders(stores)
    return stores


def check_reachable(url: str, what: str, flag: str, timeout: float = 5.0) -> None:
    """Check that the server of a remote store URL accepts connections (local stores pass).

    Only the TCP connection is tried, so a server that is down fails in seconds, not after the
    retries of MLflow's HTTP client; the store itself reports wrong credentials or databases.

    Raises:
        StoreError: The server does not answer.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.split("+", 1)[0]
    ports = {"http": 80, "https": 443, "postgresql": 5432, "mysql": 3306, "mssql": 1433}
    if scheme not in ports or not parts.hostname:
        return
    try:
        port = parts.port or ports[scheme]
    except ValueError:
        raise UsageError(f"Malformed {what} {mask(url)!r}: the port is not a number.") from None
    try:
        socket.create_connection((parts.hostname, port), timeout=timeout).close()
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise StoreError(
            f"The server of the {what} {mask(url)!r} is not reachable at "
            f"{parts.hostname}:{port} ({reason}). Start it, or pass a working {flag}."
        ) from None


def check_database(url: str, what: str, flag: str) -> None:
    """Refuse a local SQLite store whose file is not SQLite or is truncated, from its header
    alone (`sqlite.damage`): nothing is opened or created. Other URLs pass.

    Raises:
        StoreError: The file cannot be the store's database.
    """
    reason = damage(sqlite_path(url, what)) if url.startswith("sqlite") else None
    if reason:
        raise StoreError(
            f"Cannot open the {what} {mask(url)!r}: {reason}. Restore it from a backup or move "
            f"it away to start a new one, or pass another {flag}."
        )


def make_folders(stores: Stores) -> None:
    """Check that remote stores answer, and create (and check) the folders of local ones.

    Raises:
        StoreError: A server that does not answer, a local database file that is not SQLite or
            is truncated, or a folder that cannot be created or written.
    """
    check_reachable(stores.tracking_uri, "tracking URI", "--tracking-uri")
    check_reachable(stores.storage_url, "Optuna storage", "--storage")
    # before any folder or lock file is made: a refused command leaves nothing behind
    check_database(stores.tracking_uri, "MLflow store", "--tracking-uri")
    check_database(stores.storage_url, "Optuna storage", "--storage")
    made: list[Path] = []  # the folders this call creates, taken back if a later one fails
    try:
        for url, what, flag in (
            (stores.tracking_uri, "MLflow store", "--tracking-uri"),
            (stores.storage_url, "Optuna storage", "--storage"),
        ):
            if url.startswith("sqlite"):
                folder = sqlite_path(url, what).parent
            elif journal.is_journal(url):
                folder = journal.folder(url)
            else:
                continue
            made += [p for p in (folder, *folder.parents) if not p.exists()]
            _writable_folder(folder, what, flag)
    except StoreError:
        for folder in sorted(made, key=lambda p: len(p.parts), reverse=True):
            with contextlib.suppress(OSError):
                folder.rmdir()  # only if still empty
        raise


def _local_paths(stores: Stores) -> list[Path]:
    """What opening the local stores may create: their folders (and the folders above them)
    and the lock files beside their databases."""
    paths: list[Path] = []
    for url, what in (
        (stores.tracking_uri, "MLflow store"),
        (stores.storage_url, "Optuna storage"),
    ):
        if url.startswith("sqlite"):
            db = sqlite_path(url, what)
            paths += [db.with_name(f"{db.name}.lock"), db.parent, *db.parent.parents]
        elif journal.is_journal(url):
            folder = journal.folder(url)
            paths += [folder, *folder.parents]
    return list(dict.fromkeys(paths))


@contextlib.contextmanager
def opening(stores: Stores):
    """Make the stores' folders (`make_folders`) for a block that opens the stores; when the
    block fails with a `StoreError` (a database that cannot be opened), take back what this
    made: the new lock files, and the new folders while they are empty. A refused command
    leaves nothing behind.
    """
    candidates = _local_paths(stores)
    before = {path for path in candidates if path.exists()}
    make_folders(stores)
    try:
        yield
    except StoreError:
        made = [path for path in candidates if path not in before and path.exists()]
        for path in sorted(made, key=lambda p: len(p.parts), reverse=True):
            with contextlib.suppress(OSError):
                if path.is_dir():
                    path.rmdir()  # only if still empty
                elif path.name.endswith(".lock"):
                    path.unlink()
        raise


def local_store_missing(stores: Stores) -> bool:
    """Whether the MLflow store is a local sqlite file that does not exist yet."""
    uri = stores.tracking_uri
    return uri.startswith("sqlite:///") and not Path(uri[len("sqlite:///") :]).exists()
