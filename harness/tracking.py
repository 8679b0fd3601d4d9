"""Where results are stored, and what each MLflow run records.

Default store: `sqlite:///<cwd>/mlruns/mlflow.db` for MLflow with artifacts in `mlruns/artifacts/`,
and `journal:///<cwd>/mlruns/optuna` for the Optuna studies, a journal file per study
(`harness.journal`); a store that already has `mlruns/optuna.db` (made before the journal) keeps
its SQLite studies. `--tracking-uri` (or `MLFLOW_TRACKING_URI`) and `--storage` (or
`HARNESS_STORAGE`) point elsewhere: another sqlite file or journal folder, an MLflow tracking
server, a PostgreSQL database. URLs can carry passwords: they are masked in every
message and never logged.

Runs: one MLflow experiment per task (named after it). Each `harness run` of a (task, model) study
makes one parent run (run name = model) with the best configuration, CV and holdout scores, timings
and tags; each trial it ran is a nested child run with its per-fold scores. MLflow params cannot be
changed once logged, so a resumed study gets a new parent run for its new trials, and leaderboards
read the newest parent run of each model.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from harness import journal, mlflow_rows
from harness.errors import StoreError, UsageError

TRACKING_SCHEMES = ("sqlite", "postgresql", "mysql", "mssql", "http", "https", "databricks")
STORAGE_SCHEMES = ("sqlite", "postgresql", "mysql", "journal")
TAG = "harness."
PARENT_TAG = "mlflow.parentRunId"


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


def _sqlite_path(url: str, what: str) -> Path:
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
        db = _sqlite_path(tracking_uri, "tracking URI")
        tracking_uri = f"sqlite:///{db}"
        local_folder = db.parent
        artifact_root = str(db.parent / "artifacts")
    if storage is None:
        # Stores made before the journal keep their SQLite studies, and resume them.
        legacy = local_folder / "optuna.db"
        storage = f"sqlite:///{legacy}" if legacy.exists() else journal.url(local_folder / "optuna")
    _check_url(storage, STORAGE_SCHEMES, "Optuna storage", "--storage")
    if storage.startswith("sqlite"):
        db = _sqlite_path(storage, "Optuna storage")
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


def make_folders(stores: Stores) -> None:
    """Check that remote stores answer, and create (and check) the folders of local ones.

    Raises:
        StoreError: A server that does not answer, or a folder that cannot be created or written.
    """
    check_reachable(stores.tracking_uri, "tracking URI", "--tracking-uri")
    check_reachable(stores.storage_url, "Optuna storage", "--storage")
    made: list[Path] = []  # the folders this call creates, taken back if a later one fails
    try:
        for url, what, flag in (
            (stores.tracking_uri, "MLflow store", "--tracking-uri"),
            (stores.storage_url, "Optuna storage", "--storage"),
        ):
            if url.startswith("sqlite"):
                folder = _sqlite_path(url, what).parent
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


def local_store_missing(stores: Stores) -> bool:
    """Whether the MLflow store is a local sqlite file that does not exist yet."""
    uri = stores.tracking_uri
    return uri.startswith("sqlite:///") and not Path(uri[len("sqlite:///") :]).exists()


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


def _file_in_wal_mode(path: str) -> None:
    """Switch a SQLite file to write-ahead-log mode (the mode is stored in the file)."""
    import sqlite3

    with contextlib.closing(sqlite3.connect(path, timeout=60)) as connection:
        connection.execute("PRAGMA journal_mode=WAL")


def quiet_libraries() -> None:
    """Silence MLflow's and Alembic's informational logging (schema migrations, run links)."""
    for name in ("mlflow", "alembic", "alembic.runtime.migration"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # It logs each database error with a traceback before raising it; harness reports the error.
    logging.getLogger("mlflow.store.db.utils").setLevel(logging.CRITICAL)
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")


def _now_ms() -> int:
    return int(time.time() * 1000)


def _param_value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return text[:6000]


def _metric_rows(
    metrics: Mapping[str, float | None] | None, series: Mapping[str, list[float]] | None
) -> list[tuple[str, float, int]]:
    """(key, value, step) rows: each metric at step 0 (None left out), each series value at its
    index (one per fold)."""
    rows = [(key, float(v), 0) for key, v in (metrics or {}).items() if v is not None]
    for key, values in (series or {}).items():
        rows += [(key, float(v), step) for step, v in enumerate(values)]
    return rows


def _store_call(method):
    """Turn a failure of the MLflow store inside a Tracker method into a `StoreError`."""
    import functools

    @functools.wraps(method)
    def call(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except StoreError:
            raise
        except Exception as exc:
            first = mask(str(exc)).strip().splitlines()[0] if str(exc).strip() else repr(exc)
            hint = f" {DISK_FULL_HINT}" if disk_full(str(exc)) else ""
            raise StoreError(
                f"The MLflow store {mask(self.stores.tracking_uri)!r} failed: {first}.{hint}"
            ) from None

    return call


class Tracker:
    """Writes harness runs to one MLflow store through `MlflowClient` (no global MLflow state).

    Every method turns a failure of the store into a `StoreError`, which stops the run.
    """

    def __init__(self, stores: Stores) -> None:
        os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
        from mlflow.tracking import MlflowClient

        quiet_libraries()  # after the import: MLflow sets its logger's level when imported

        self.stores = stores
        try:
            # MLflow creates or migrates a sqlite store's tables when the client opens it; two
            # processes doing it at once break each other's migration.
            with local_lock(stores.tracking_uri):
                self.client = MlflowClient(tracking_uri=stores.tracking_uri)
                if stores.tracking_uri.startswith("sqlite:///"):
                    self.client.search_experiments(max_results=1)
                    # MLflow's own connections then log in WAL mode too (see write_ahead_log)
                    _file_in_wal_mode(stores.tracking_uri[len("sqlite:///") :])
        except Exception as exc:
            first = mask(str(exc)).strip().splitlines()[0] if str(exc).strip() else repr(exc)
            hint = f" {DISK_FULL_HINT}" if disk_full(str(exc)) else ""
            raise StoreError(
                f"Cannot open the MLflow store {mask(stores.tracking_uri)!r}: {first}.{hint}"
            ) from None
        self._experiments: dict[str, str] = {}
        self._artifact_locations: dict[str, str] = {}
        self._rows = mlflow_rows.writer(self.client)  # None: a tracking server

    def experiment_id(self, task: str, *, create: bool = True) -> str | None:
        """The id of the task's experiment, created (with a local artifact folder) if needed."""
        if task in self._experiments:
            return self._experiments[task]
        try:
            experiment = self.client.get_experiment_by_name(task)
            if experiment is None:
                if not create:
                    return None
                location = None
                if self.stores.artifact_root:
                    location = Path(self.stores.artifact_root, task).as_uri()
                try:
                    experiment_id = self.client.create_experiment(task, artifact_location=location)
                except Exception:
                    # Another process (a `harness worker` started at the same moment) may have
                    # created it between the lookup and the creation: use theirs.
                    experiment = self.client.get_experiment_by_name(task)
                    if experiment is None:
                        raise
                    experiment_id = experiment.experiment_id
            elif experiment.lifecycle_stage == "deleted":
                raise StoreError(
                    f"The MLflow experiment {task!r} was deleted (it is in the trash). Restore "
                    f"it with 'mlflow experiments restore --experiment-id "
                    f"{experiment.experiment_id}', or remove it for good with 'mlflow gc'."
                )
            else:
                experiment_id = experiment.experiment_id
        except StoreError:
            raise
        except Exception as exc:
            raise StoreError(
                f"Cannot use the MLflow store {mask(self.stores.tracking_uri)!r}: "
                f"{mask(str(exc)).splitlines()[0]}"
            ) from None
        self._experiments[task] = experiment_id
        return experiment_id

    @_store_call
    def start_run(
        self,
        task: str,
        run_name: str,
        tags: Mapping[str, Any],
        *,
        parent: str | None = None,
        start_time: int | None = None,
    ) -> str:
        """Create a run in the task's experiment and return its id."""
        tags = {k: str(v) for k, v in tags.items()}
        if parent:
            tags[PARENT_TAG] = parent
        run = self.client.create_run(
            self.experiment_id(task),
            start_time=start_time or _now_ms(),
            tags=tags,
            run_name=run_name,
        )
        return run.info.run_id

    @_store_call
    def log(
        self,
        run_id: str,
        *,
        metrics: Mapping[str, float] | None = None,
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, Any] | None = None,
        series: Mapping[str, list[float]] | None = None,
    ) -> None:
        """Log metrics, params, tags and per-step series (e.g. one value per fold) in one batch."""
        from mlflow.entities import Metric, Param, RunTag

        now = _now_ms()
        batch_metrics = [
            Metric(key, v, now, step) for key, v, step in _metric_rows(metrics, series)
        ]
        batch_params = [Param(key, _param_value(v)) for key, v in (params or {}).items()]
        batch_tags = [RunTag(key, str(v)[:5000]) for key, v in (tags or {}).items()]
        # MLflow caps a batch at 1000 metrics and 100 params; chunk to stay inside.
        for start in range(0, max(len(batch_metrics), len(batch_params), len(batch_tags), 1), 100):
            self.client.log_batch(
                run_id,
                metrics=batch_metrics[start : start + 100],
                params=batch_params[start : start + 100],
                tags=batch_tags[start : start + 100],
            )

    @_store_call
    def record_run(
        self,
        task: str,
        run_name: str,
        tags: Mapping[str, Any],
        *,
        parent: str | None = None,
        metrics: Mapping[str, float] | None = None,
        params: Mapping[str, Any] | None = None,
        series: Mapping[str, list[float]] | None = None,
        status: str = "FINISHED",
        start_time: int | None = None,
        end_time: int | None = None,
    ) -> str:
        """A finished run with its tags, params, metrics and series, written at once (a trial's).

        On MLflow's SQL store, one transaction (`harness.mlflow_rows`: about a sixth of the time
        of the public calls, and never half-written); on a tracking server, the public calls.
        """
        tags = {k: str(v)[:5000] for k, v in tags.items()}
        if self._rows is None:
            run_id = self.start_run(task, run_name, tags, parent=parent, start_time=start_time)
            try:
                self.log(run_id, metrics=metrics, params=params, series=series)
            finally:
                self.end_run(run_id, status, end_time)
            return run_id
        if parent:
            tags[PARENT_TAG] = parent
        experiment_id = self.experiment_id(task)
        if experiment_id not in self._artifact_locations:
            location = self.client.get_experiment(experiment_id).artifact_location
            self._artifact_locations[experiment_id] = location
        now = _now_ms()
        return self._rows.write(
            experiment_id,
            self._artifact_locations[experiment_id],
            run_name,
            tags=tags,
            params={key: _param_value(v) for key, v in (params or {}).items()},
            metrics=_metric_rows(metrics, series),
            status=status,
            start_time=start_time or now,
            end_time=end_time or now,
            timestamp=now,
        )

    @_store_call
    def log_artifact(self, run_id: str, path: Path, folder: str | None = None) -> None:
        """Upload one local file as an artifact of the run."""
        self.client.log_artifact(run_id, str(path), artifact_path=folder)

    @_store_call
    def end_run(self, run_id: str, status: str = "FINISHED", end_time: int | None = None) -> None:
        """Mark the run ended: FINISHED, FAILED or KILLED."""
        self.client.set_terminated(run_id, status=status, end_time=end_time or _now_ms())

    @_store_call
    def close_orphans(self, task: str) -> int:
        """End the runs that a killed harness process on this machine left RUNNING.

        A `kill -9` (or a power cut) leaves no chance to end runs. Study runs of a dead process
        are ended as KILLED with status failed; its trial runs left RUNNING (only on a tracking
        server, where `record_run` takes three calls) are deleted, since the trial may be logged
        only in part, and the study's next run logs the finished trial again from the Optuna
        storage. Runs of live processes and of other machines are left alone.

        Returns:
            How many runs were closed or deleted.
        """
        host = socket.gethostname()
        orphans = [
            run
            for run in self.search(task, "attributes.status = 'RUNNING'")
            if _orphaned(run, host)
        ]
        for run in orphans:
            run_id = run.info.run_id
            if run.data.tags.get(f"{TAG}kind") == "trial":
                self.client.delete_run(run_id)
                continue
            pid = run.data.tags.get(f"{TAG}pid")
            self.client.set_tag(run_id, f"{TAG}status", "failed")
            self.client.set_tag(
                run_id, f"{TAG}error", f"the harness process (pid {pid}) was killed mid-study"
            )
            self.client.set_terminated(run_id, status="KILLED")
        return len(orphans)

    @_store_call
    def search(self, task: str, filter_string: str = "") -> list[Any]:
        """All runs of the task's experiment matching an MLflow filter, newest first."""
        experiment_id = self.experiment_id(task, create=False)
        if experiment_id is None:
            return []
        runs, token = [], None
        while True:
            page = self.client.search_runs(
                [experiment_id],
                filter_string=filter_string,
                max_results=1000,
                order_by=["attributes.start_time DESC"],
                page_token=token,
            )
            runs.extend(page)
            token = page.token
            if not token:
                return runs


def process_alive(pid: int) -> bool:
    """Whether `pid` is a live harness process on this machine (a reused pid running something
    else does not count)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            return b"harness" in cmdline.read()
    except OSError:
        return True  # no /proc (macOS): trust the signal check


def _orphaned(run: Any, host: str) -> bool:
    tags = run.data.tags
    pid = tags.get(f"{TAG}pid", "")
    return tags.get(f"{TAG}host") == host and pid.isdigit() and not process_alive(int(pid))
