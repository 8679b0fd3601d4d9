"""A finished MLflow run written in one database transaction (trial runs on a SQL store).

MLflow's public client records a finished run in three calls: create it with its tags, log a
batch of metrics and params, set it terminated. On MLflow's SQLAlchemy store these are about ten
transactions and forty ORM queries, 31 ms a trial on a quiet 2-core machine: the largest part of
harness's per-trial overhead (docs/BENCHMARKS.md). `RowWriter` inserts the same rows into the
same five tables (`runs`, `tags`, `params`, `metrics`, `latest_metrics`) in one transaction,
with MLflow's own validation of keys and values, in about a sixth of the time. A side effect:
a trial run is all there or not there at all; a killed process cannot leave half of one.

The tables are MLflow's, through its table models (`mlflow.store.tracking.dbmodels.models`),
which are not a public API. They have kept these columns since MLflow 1.x, and
`tests/unit_tests/test_mlflow_rows.py` writes a run both ways and compares everything MLflow
reads back, so an MLflow release that changes them fails the tests, not a user's run.
`writer(client)` returns None for a store it does not know (an MLflow tracking server), and the
caller then uses the public calls.

Two more uses of MLflow's internals live here, for local stores: `reroot` rewrites the artifact
locations of a moved store in the same tables (`harness.store.relocate`), and `forget_engine`
drops the engine MLflow keeps per database URL, so that a database rebuilt under the same name
is not read through connections opened on the old file (`harness.store.repair`).
"""

from __future__ import annotations

import functools
import inspect
import math
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["RUN_NAME_TAG", "USER_TAG", "RowWriter", "forget_engine", "reroot", "writer"]

RUN_NAME_TAG = "mlflow.runName"
USER_TAG = "mlflow.user"


def writer(client: Any) -> RowWriter | None:
    """A `RowWriter` for the client's store, or None when the store is not MLflow's SQL store."""
    try:
        from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

        store = client._tracking_client.store
    except (ImportError, AttributeError):
        return None
    if type(store) is not SqlAlchemyStore:
        return None
    return RowWriter(store)


def _sanitized(value: float) -> tuple[bool, float]:
    """(is_nan, value) as MLflow stores a metric: NaN as 0 with a flag, infinities as +-max."""
    if math.isnan(value):
        return True, 0.0
    if math.isinf(value):
        return False, math.copysign(1.7976931348623157e308, value)
    return False, value


class RowWriter:
    """Inserts finished runs into one MLflow SQLAlchemy store."""

    def __init__(self, store: Any) -> None:
        from mlflow.store.tracking.dbmodels import models

        self.session = _session(store)
        self.tables = {
            name: getattr(models, model).__table__
            for name, model in (
                ("runs", "SqlRun"),
                ("tags", "SqlTag"),
                ("params", "SqlParam"),
                ("metrics", "SqlMetric"),
                ("latest_metrics", "SqlLatestMetric"),
            )
        }

    def write(
        self,
        experiment_id: str,
        artifact_location: str,
        run_name: str,
        *,
        tags: Mapping[str, str],
        params: Mapping[str, str],
        metrics: Iterable[tuple[str, float, int]],
        status: str,
        start_time: int,
        end_time: int,
        timestamp: int,
    ) -> str:
        """Insert one finished run and return its id.

        Args:
            tags, params: string values, as MLflow stores them.
            metrics: (key, value, step) rows, all logged at `timestamp` (milliseconds).
            status: FINISHED, FAILED or KILLED.
        """
        import sqlalchemy as sa
        from mlflow.entities import Metric, Param, RunTag
        from mlflow.utils.uri import append_to_uri_path
        from mlflow.utils.validation import _validate_batch_log_data

        metrics = list(dict.fromkeys(metrics))  # MLflow drops exact repeats too
        _, checked_params, checked_tags = _validate_batch_log_data(
            [Metric(key, value, timestamp, step) for key, value, step in metrics],
            [Param(key, value) for key, value in params.items()],
            [RunTag(key, value) for key, value in {RUN_NAME_TAG: run_name, **tags}.items()],
        )
        run_id = uuid.uuid4().hex
        rows, latest = [], {}
        for key, value, step in metrics:
            is_nan, stored = _sanitized(float(value))
            rows.append(
                {
                    "key": key,
                    "value": stored,
                    "timestamp": timestamp,
                    "step": step,
                    "is_nan": is_nan,
                }
            )
            # MLflow's latest value of a key: the highest (step, timestamp, value)
            if key not in latest or (step, stored) > (latest[key]["step"], latest[key]["value"]):
                latest[key] = rows[-1]
        run = {
            "run_uuid": run_id,
            "name": run_name,
            "source_type": "UNKNOWN",
            "source_name": "",
            "entry_point_name": "",
            "user_id": tags.get(USER_TAG, "unknown"),
            "status": status,
            "start_time": start_time,
            "end_time": end_time,
            "deleted_time": None,
            "source_version": "",
            "lifecycle_stage": "active",
            "artifact_uri": append_to_uri_path(artifact_location, run_id, "artifacts"),
            "experiment_id": int(experiment_id),
        }
        inserts = [
            ("runs", [run]),
            ("tags", [{"key": t.key, "value": t.value} for t in checked_tags]),
            ("params", [{"key": p.key, "value": p.value} for p in checked_params]),
            ("metrics", rows),
            ("latest_metrics", list(latest.values())),
        ]
        with self.session() as session:
            for table, values in inserts:
                if values:
                    values = [{**value, "run_uuid": run_id} for value in values]
                    session.execute(sa.insert(self.tables[table]), values)
        return run_id


def _session(store: Any) -> Any:
    session = store.ManagedSessionMaker  # newer MLflow wants writes flagged
    if "read_only" in inspect.signature(session).parameters:
        session = functools.partial(session, read_only=False)
    return session


def reroot(client: Any, moves: Iterable[tuple[str, str, str]]) -> None:
    """Point experiments at new artifact locations, in one transaction: for each
    (experiment id, old location, new location), the experiment's `artifact_location` and the
    artifact URIs of its runs and logged models that lie under the old location. The artifact
    repositories MLflow cached for runs in this process are dropped."""
    import sqlalchemy as sa
    from mlflow.store.tracking.dbmodels import models

    store = client._tracking_client.store
    experiments = models.SqlExperiment.__table__
    below = [  # (table, its column of artifact URIs)
        (models.SqlRun.__table__, "artifact_uri"),
        (models.SqlLoggedModel.__table__, "artifact_location"),
    ]
    with _session(store)() as session:
        for experiment_id, old, new in moves:
            session.execute(
                sa.update(experiments)
                .where(experiments.c.experiment_id == int(experiment_id))
                .where(experiments.c.artifact_location == old)
                .values(artifact_location=new)
            )
            old_prefix, new_prefix = old.rstrip("/") + "/", new.rstrip("/") + "/"
            for table, name in below:
                column = table.c[name]
                start = sa.func.substr(column, 1, len(old_prefix))
                rest = sa.func.substr(column, len(old_prefix) + 1, type_=sa.String)
                session.execute(
                    sa.update(table)
                    .where(table.c.experiment_id == int(experiment_id))
                    .where(start == old_prefix)
                    .values({name: sa.literal(new_prefix, sa.String) + rest})
                )
    # MLflow keeps the artifact repository of each run this process used, at its old location
    try:
        from mlflow.tracking._tracking_service import utils

        utils._artifact_repos_cache.clear()
    except (ImportError, AttributeError):
        pass


def forget_engine(url: str) -> None:
    """Close and drop the engine MLflow keeps for `url` (its connections stay open on the
    file they opened, even once another file takes its name)."""
    try:
        from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

        engine = SqlAlchemyStore._engine_map.pop(url, None)
    except (ImportError, AttributeError):
        return
    if engine is not None:
        engine.dispose()
