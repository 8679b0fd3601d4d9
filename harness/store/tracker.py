"""The MLflow `Tracker`: runs, metrics, params, tags and artifacts of one store."""

from __future__ import annotations

import json
import logging
import os
import socket
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.errors import StoreError
from harness.store import current, relocate, schema
from harness.store import repair as store_repair
from harness.store import rows as mlflow_rows
from harness.store.orphans import orphaned
from harness.store.schema import PARENT_TAG
from harness.store.sqlite import (
    DISK_FULL_HINT,
    create_atomically,
    disk_full,
    file_in_wal_mode,
    local_lock,
    opened,
    private_copy,
    query_only,
    writable,
)
from harness.store.urls import Stores, check_database, mask

__all__ = ["Tracker", "quiet_libraries"]


def quiet_libraries() -> None:
    """Silence MLflow's and Alembic's informational logging (schema migrations, run links)."""
    for name in ("mlflow", "alembic", "alembic.runtime.migration"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # It logs each database error with a traceback before raising it; harness reports the error.
    logging.getLogger("mlflow.store.db.utils").setLevel(logging.CRITICAL)
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")


# A new experiment holds model training (not GenAI traces), and has no run to mark current.
_NEW_EXPERIMENT_TAGS = {
    schema.EXPERIMENT_KIND: schema.EXPERIMENT_KIND_ML,
    schema.CURRENT_MARKED: "true",
}


_INPUT_ATTEMPTS = 4  # tries to log dataset inputs that another study inserts at the same moment


def _duplicate_key(message: str) -> bool:
    """Whether a store error is a unique key broken by a concurrent insert (SQLite, PostgreSQL,
    MySQL)."""
    lowered = message.lower()
    return any(
        text in lowered for text in ("unique constraint", "duplicate key", "duplicate entry")
    )


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
            if self.read_only and "readonly" in str(exc).lower():
                raise StoreError(
                    f"The MLflow store {mask(self.stores.tracking_uri)!r} is in a read-only "
                    "folder: it can be read, not written. Copy it to a writable folder to "
                    "write to it."
                ) from None
            first = mask(str(exc)).strip().splitlines()[0] if str(exc).strip() else repr(exc)
            hint = f" {DISK_FULL_HINT}" if disk_full(str(exc)) else ""
            raise StoreError(
                f"The MLflow store {mask(self.stores.tracking_uri)!r} failed: {first}.{hint}"
            ) from None

    return call


def _opened_client(url: str) -> Any:
    """An `MlflowClient` of the store at `url`, opened: MLflow builds or migrates a local
    store's schema on its first query."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=url)
    client.search_experiments(max_results=1)
    return client


def _build_schema(url: str) -> None:
    """Create MLflow's tables in the SQLite database at `url`, then close its connections."""
    _opened_client(url)._tracking_client.store.engine.dispose()


class Tracker:
    """Writes harness runs to one MLflow store through `MlflowClient` (no global MLflow state).

    Every method turns a failure of the store into a `StoreError`, which stops the run. On
    MLflow's SQL store a trial run is written in one transaction (`harness.store.rows`);
    `direct_rows=False` writes it through MLflow's public calls, as on a tracking server.
    """

    def __init__(self, stores: Stores, *, direct_rows: bool = True, repair: bool = True) -> None:
        """Open the store. A local store is also checked: one moved or copied from another
        folder has its artifact paths re-rooted (`harness.store.relocate`), one left
        half-created by an interrupted first run is rebuilt when `repair` (`harness run`) or
        refused with what to do (read commands), and one in a read-only folder is read from a
        private copy. What the user should hear of it is in `notices`.

        Raises:
            StoreError: The store cannot be opened or used.
        """
        os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
        from mlflow.tracking import MlflowClient

        quiet_libraries()  # after the import: MLflow sets its logger's level when imported

        self.stores = stores
        self.notices: list[str] = []  # one line each: a store re-rooted or rebuilt
        self._copy: tempfile.TemporaryDirectory | None = None  # a read-only store's copy
        # a file that cannot be the database is refused before its lock file is made beside it
        check_database(stores.tracking_uri, "MLflow store", "--tracking-uri")
        local = stores.tracking_uri.startswith("sqlite:///")
        path = Path(stores.tracking_uri[len("sqlite:///") :]) if local else None
        try:
            if path is None:
                self.client = MlflowClient(tracking_uri=stores.tracking_uri)
            elif path.exists() and not writable(path):
                self.client = self._open_copy(path)
            else:
                # MLflow creates or migrates a sqlite store's tables when the client opens it;
                # two processes doing it at once break each other's migration.
                with local_lock(stores.tracking_uri):
                    create_atomically(path, _build_schema)
                    self.client = self._open_local(path, repair)
                    self._reroot(self.client, path.parent)
                    # MLflow's own connections then log in WAL mode too (see write_ahead_log)
                    file_in_wal_mode(str(path))
                    opened(path)
        except StoreError:
            raise
        except Exception as exc:
            first = mask(str(exc)).strip().splitlines()[0] if str(exc).strip() else repr(exc)
            hint = f" {DISK_FULL_HINT}" if disk_full(str(exc)) else ""
            raise StoreError(
                f"Cannot open the MLflow store {mask(stores.tracking_uri)!r}: {first}.{hint}"
            ) from None
        self._experiments: dict[str, str] = {}
        self._checked: set[str] = set()  # experiments checked for marking (`experiment_id`)
        self._artifact_locations: dict[str, str] = {}
        # None: a tracking server, or asked for the public calls
        self._rows = mlflow_rows.writer(self.client) if direct_rows else None

    def _open_local(self, path: Path, repair: bool) -> Any:
        """A client of the local store at `path`; a store left half-created is rebuilt (when
        `repair`) or refused with what to do."""
        url = self.stores.tracking_uri
        try:
            return _opened_client(url)
        except Exception as exc:
            if not store_repair.repairable(path, str(exc)):
                raise
            if not repair:
                raise StoreError(store_repair.refused(mask(url), str(exc))) from None
            mlflow_rows.forget_engine(url)  # its connections are open on the broken file
            kept = store_repair.set_aside(path)
            create_atomically(path, _build_schema)
            self.notices.append(store_repair.rebuilt(mask(url), str(exc), kept))
            return _opened_client(url)

    def _open_copy(self, path: Path) -> Any:
        """A client of a private copy of the read-only store at `path` that refuses writes
        (`sqlite.query_only`); a half-created one is refused with what to do."""
        self._copy = tempfile.TemporaryDirectory(prefix="harness-read-only-store-")
        copy = private_copy(path, Path(self._copy.name))
        try:
            client = _opened_client(f"sqlite:///{copy}")
        except Exception as exc:
            if store_repair.repairable(copy, str(exc)):
                raise StoreError(
                    store_repair.refused(mask(self.stores.tracking_uri), str(exc))
                ) from None
            raise
        self._reroot(client, path.parent, temporary=True)
        query_only(client._tracking_client.store.engine)
        opened(copy)
        return client

    def _reroot(self, client: Any, store: Path, *, temporary: bool = False) -> None:
        """Point the artifact locations of a store moved or copied into the folder `store` at
        its own `artifacts/` folder (`harness.store.relocate`), and say so in `notices`."""
        from mlflow.entities import ViewType

        found, token = [], None
        while True:
            page = client.search_experiments(
                view_type=ViewType.ALL, max_results=1000, page_token=token
            )
            found += [(e.experiment_id, e.artifact_location) for e in page]
            token = page.token
            if not token:
                break
        root = Path(self.stores.artifact_root or store / relocate.ARTIFACTS)
        moves = relocate.find_moves(found, root)
        if moves:
            mlflow_rows.reroot(client, [(m.experiment_id, m.old, m.new) for m in moves])
            self.notices.append(relocate.message(moves, store, temporary=temporary))

    @property
    def read_only(self) -> bool:
        """Whether the store is a local one in a read-only folder, read from a private copy
        that refuses writes."""
        return self._copy is not None

    @property
    def direct_rows(self) -> bool:
        """Whether trial runs are written in one transaction (MLflow's SQL store)."""
        return self._rows is not None

    def experiment_id(self, task: str, *, create: bool = True) -> str | None:
        """The id of the task's experiment, created (with a local artifact folder) if needed.

        Writers (`create`) also bring an experiment an older harness wrote up to date, once:
        its runs get the current marker and it gets its kind (`harness.store.current`).
        """
        experiment_id = self._experiments.get(task)
        if experiment_id is not None and (not create or task in self._checked):
            return experiment_id
        experiment = None
        try:
            if experiment_id is None:
                experiment = self.client.get_experiment_by_name(task)
            else:
                experiment = self.client.get_experiment(experiment_id)
            if experiment is None:
                if not create:
                    return None
                experiment_id, experiment = self._create_experiment(task)
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
        if create:
            self._checked.add(task)
            if experiment is not None:
                self._mark_experiment(task, experiment)
        return experiment_id

    def _create_experiment(self, task: str) -> tuple[str, Any]:
        """Create the task's experiment: (its id, None), or (id, experiment) when another
        process (a `harness worker` started at the same moment) created it between the lookup
        and the creation."""
        location = None
        if self.stores.artifact_root:
            location = Path(self.stores.artifact_root, task).as_uri()
        try:
            created = self.client.create_experiment(
                task, artifact_location=location, tags=_NEW_EXPERIMENT_TAGS
            )
            return created, None
        except Exception:
            experiment = self.client.get_experiment_by_name(task)
            if experiment is None:
                raise
            return experiment.experiment_id, experiment

    @_store_call
    def _mark_experiment(self, task: str, experiment: Any) -> None:
        current.mark_experiment(self, task, experiment)

    @_store_call
    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        """Set a tag of an experiment."""
        self.client.set_experiment_tag(experiment_id, key, value)

    @_store_call
    def get_run(self, run_id: str) -> Any:
        """The MLflow run (its info, tags, params, latest metrics and inputs)."""
        return self.client.get_run(run_id)

    @_store_call
    def log_inputs(self, run_id: str, inputs: list[Any]) -> None:
        """Link dataset inputs (`harness.store.datasets.data_inputs`) to a running run.

        MLflow looks a dataset up, then inserts it when it is new: two studies starting at once
        (threads, processes) both insert it and one breaks the unique key. That one is tried
        again, and then finds the other's entry.
        """
        if not inputs:
            return
        for attempt in range(_INPUT_ATTEMPTS):
            try:
                self.client.log_inputs(run_id, datasets=list(inputs))
                return
            except Exception as exc:
                if attempt + 1 == _INPUT_ATTEMPTS or not _duplicate_key(str(exc)):
                    raise
                time.sleep(0.05 * (attempt + 1))

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

        On MLflow's SQL store, one transaction (`harness.store.rows`: about a sixth of the time
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

    def log_model(
        self,
        task: str,
        run_id: str,
        name: str,
        save: Any,
        *,
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, Any] | None = None,
    ) -> str:
        """Log an MLflow model as a logged model of the run `run_id` (MLflow 3) and return its id.

        `save(folder, mlflow_model)` writes the model into `folder` (e.g. with
        `mlflow.pyfunc.save_model(folder, mlflow_model=mlflow_model, ...)`): `mlflow_model` is
        the `mlflow.models.Model` that carries the logged model's id into its MLmodel file. The
        files are uploaded to the logged model, which becomes an output of the run and READY.
        This is MLflow's `log_model` without its fluent active run (studies run in threads) and
        without the checks that load the model again. A failure of the store is a `StoreError`;
        one of `save` is raised as it is (the logged model is then marked FAILED).
        """
        from mlflow.models import Model

        model = self._create_model(task, run_id, name, params or {}, tags or {})
        try:
            with tempfile.TemporaryDirectory() as tmp:
                folder = Path(tmp, "model")
                mlflow_model = Model(
                    artifact_path=model.artifact_location,
                    model_uuid=model.model_id,
                    run_id=run_id,
                    model_id=model.model_id,
                )
                save(folder, mlflow_model)
                self._upload_model(model.model_id, folder)
        except BaseException:
            self._finalize_model(model.model_id, ready=False)
            raise
        self.link_model(run_id, model.model_id)
        self._finalize_model(model.model_id, ready=True)
        return model.model_id

    @_store_call
    def _create_model(
        self, task: str, run_id: str, name: str, params: Mapping[str, Any], tags: Mapping
    ) -> Any:
        return self.client.create_logged_model(
            self.experiment_id(task),
            name=name,
            source_run_id=run_id,
            params={key: _param_value(v) for key, v in params.items()},
            tags={key: str(v) for key, v in tags.items()},
        )

    @_store_call
    def _upload_model(self, model_id: str, folder: Path) -> None:
        self.client.log_model_artifacts(model_id, str(folder))

    @_store_call
    def _finalize_model(self, model_id: str, *, ready: bool) -> None:
        from mlflow.entities import LoggedModelStatus

        status = LoggedModelStatus.READY if ready else LoggedModelStatus.FAILED
        self.client.finalize_logged_model(model_id, status)

    @_store_call
    def link_model(self, run_id: str, model_id: str) -> None:
        """Make an existing logged model an output of the run `run_id` as well."""
        from mlflow.entities import LoggedModelOutput

        self.client.log_outputs(run_id, [LoggedModelOutput(model_id, step=0)])

    @_store_call
    def model_location(self, model_id: str) -> str | None:
        """The artifact location of the logged model `model_id`, or None when the store has no
        such model (deleted, or never logged)."""
        from mlflow.exceptions import MlflowException

        try:
            return self.client.get_logged_model(model_id).artifact_location
        except MlflowException as exc:
            if getattr(exc, "error_code", "") == "RESOURCE_DOES_NOT_EXIST":
                return None
            raise

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
            run for run in self.search(task, "attributes.status = 'RUNNING'") if orphaned(run, host)
        ]
        for run in orphans:
            run_id = run.info.run_id
            if run.data.tags.get(schema.KIND) == schema.KIND_TRIAL:
                self.client.delete_run(run_id)
                continue
            pid = run.data.tags.get(schema.PID)
            self.client.set_tag(run_id, schema.STATUS, "failed")
            self.client.set_tag(
                run_id, schema.ERROR, f"the harness process (pid {pid}) was killed mid-study"
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
