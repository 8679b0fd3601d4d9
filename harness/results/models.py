"""Logged models: what predicts new rows after a run, as an MLflow model, and its loader.

At the end of an ok study its final model (the best trial's bag of fold models, or its refit:
what scored the holdout) is logged as an MLflow 3 **logged model** of the study run, and the
ensemble logs the blend of its members' models with its weights. Each is one MLflow `pyfunc`
model whose input is the task's **raw feature columns** (the preprocessing is inside every
estimator) and whose output is the task's format: `predicted_<target>` and `proba_<label>` per
class, or `predicted_<target>` (a value). It is a pyfunc wrapper (`HarnessModel`) rather than a
library flavour because none fits: a bag is K estimators averaged, the estimators are harness's
own (preprocessing and a learner, e.g. `BoostedTrees` around XGBoost), and a bare scikit-learn
flavour would answer class codes, not labels.

The model folder (`schema.MODEL_FILES` among the MLflow model's artifacts) holds the fitted
estimators saved by the study's worker with joblib (`harness.execution.jobs.save_models`),
`members.json` (files, library versions) and `harness_model.json`, the **card**: the task, the
target, the classes, the kind (bag, refit or blend), the blend's weights, and every feature
column with its kind and the dtype and levels it had in training, which `conform` restores on
new rows (a CSV reads columns back as other types than the training frame had). A blend's
folder holds one such folder per member, so it loads without its members' runs.

`load_model(tracker, run)` loads the model a study or ensemble run names in its
`harness.logged_model` tag (`schema.LOGGED_MODEL`); `LoadedModel.predict_raw` gives what the
study scored on the holdout (probabilities over class codes, or values), `predict` the task's
format. `mlflow.pyfunc.load_model("models:/<id>")` and `mlflow models predict` give the same
numbers, since they run the same `HarnessModel`.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from harness.errors import DataError, NoModelError, plain
from harness.store import schema
from harness.store.tracker import Tracker

try:  # MLflow is a dependency; the class must be a PythonModel for `mlflow.pyfunc`
    from mlflow.pyfunc import PythonModel
except ImportError:  # pragma: no cover
    PythonModel = object  # type: ignore[assignment,misc]

__all__ = [
    "CARD_FILE",
    "Conformed",
    "HarnessModel",
    "LoadedModel",
    "Predictions",
    "Predictor",
    "blend_card",
    "describe_features",
    "folder_mb",
    "load_folder",
    "load_model",
    "log_model",
    "model_card",
    "pick_run",
    "predict_table",
    "save_blend_folder",
]

CARD_FILE = "harness_model.json"  # the model folder's card (see the module's docstring)
CARD_FORMAT = 1
MAX_LEVELS = 100_000  # levels of a categorical column kept on the card (the rest count unseen)
EXAMPLE_ROWS = 3  # training rows logged as the model's input example
# The model's code, logged as MLflow's "models from code": loading it imports harness rather
# than unpickling an object (which MLflow warns about, and which ties it to cloudpickle).
MODEL_CODE = """\
# The harness pyfunc model: its estimators and card are in the model's artifacts.
from mlflow.models import set_model

from harness.results.models import HarnessModel

set_model(HarnessModel())
"""


# ----------------------------------------------------------------------------- the card


def _value_kind(values: pd.Series) -> str:
    """What the non-missing values of a column are: str, int, float, bool or mixed."""
    kinds = set()
    for value in values.dropna().unique()[:1000]:
        if isinstance(value, bool | np.bool_):
            kinds.add("bool")
        elif isinstance(value, int | np.integer):
            kinds.add("int")
        elif isinstance(value, float | np.floating):
            kinds.add("float")
        elif isinstance(value, str):
            kinds.add("str")
        else:
            kinds.add("mixed")
    if kinds == {"int", "float"}:
        return "float"
    return kinds.pop() if len(kinds) == 1 else ("str" if not kinds else "mixed")


def _json_value(value: Any) -> Any:
    value = plain(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)


def describe_features(X: pd.DataFrame, feature_kinds: Mapping[str, str]) -> list[dict]:
    """The card's columns: name, kind, the training dtype, what the values are, and for a
    categorical its levels in the training rows (and a `category` dtype's own categories)."""
    columns = []
    for name in X.columns:
        values = X[name]
        column: dict[str, Any] = {
            "name": str(name),
            "kind": feature_kinds.get(name, "numeric"),
            "dtype": str(values.dtype),
            "values": _value_kind(values),
        }
        if isinstance(values.dtype, pd.CategoricalDtype):
            column["categories"] = [_json_value(v) for v in values.cat.categories]
            column["ordered"] = bool(values.cat.ordered)
        if column["kind"] == "categorical":
            levels = values.dropna().astype(str).value_counts().index[:MAX_LEVELS]
            column["levels"] = sorted(str(v) for v in levels)
        columns.append(column)
    return columns


def model_card(
    *,
    task: Any,
    data: Any,
    model: str,
    kind: str,
    id_column: str | None = None,
) -> dict:
    """The card of a study's final model: `task` a `Task`, `data` its `Prepared` split, `kind`
    bag or refit."""
    return {
        "format": CARD_FORMAT,
        "task": task.name,
        "target": task.target,
        "problem_type": task.problem_type,
        "modality": task.modality,
        "metric": task.metric,
        "model": model,
        "kind": kind,
        "classes": [_json_value(c) for c in data.classes],
        "id_column": id_column,
        "columns": describe_features(data.X, data.feature_kinds),
    }


def blend_card(card: dict, weights: Mapping[str, float]) -> dict:
    """The card of an ensemble's blend of members with `weights`, from a member's `card`."""
    return {**card, "model": "ensemble", "kind": "blend", "weights": dict(weights)}


# ----------------------------------------------------------------------------- new rows


@dataclass(frozen=True)
class Conformed:
    """New rows made ready for the model, and what was done to them.

    Attributes:
        frame: The feature columns in training order, with their training dtypes.
        ignored: Columns of the input that are not features and were left out (strict mode:
            the task's target and id columns only).
        unseen: Categorical column -> how many of its values no training row had; the models
            treat them as they treat a level unseen in a fold (as missing or as an unknown
            level, by their preprocessing; a `category` column's unseen values become missing).
    """

    frame: pd.DataFrame
    ignored: tuple[str, ...] = ()
    unseen: dict[str, int] = field(default_factory=dict)

    def notes(self) -> list[str]:
        """One line per thing the user should know about the rows they gave."""
        lines = []
        if self.ignored:
            lines.append(f"ignored the columns {', '.join(self.ignored)} (not features)")
        for column, count in self.unseen.items():
            lines.append(
                f"{count} value(s) of {column!r} are categories no training row had; the model "
                "treats them as an unknown level (as missing, for most models)"
            )
        return lines


def _bad_type(column: str, what: str, raw: pd.Series, bad: pd.Series) -> DataError:
    first = int(np.flatnonzero(bad.to_numpy())[0])
    return DataError(
        f"Column {column!r} must hold {what}; row {first + 1} has {plain(raw.iloc[first])!r} "
        f"({int(bad.sum())} such value(s))."
    )


def _numeric(column: dict, raw: pd.Series) -> pd.Series:
    dtype = column["dtype"]
    if dtype == "bool":
        text = raw.astype(object).map(lambda v: str(v).strip().lower() if pd.notna(v) else v)
        mapped = text.map({"true": True, "false": False, "1": True, "0": False})
        bad = raw.notna() & mapped.isna()
        if bad.any():
            raise _bad_type(column["name"], "true or false", raw, bad)
        return mapped.astype(bool) if mapped.notna().all() else mapped.astype(object)
    values = raw
    if raw.dtype == bool:
        values = raw.astype(np.int64)
    numbers = pd.to_numeric(values, errors="coerce")
    bad = raw.notna() & numbers.isna()
    if bad.any():
        raise _bad_type(column["name"], "numbers", raw, bad)
    if dtype.startswith(("int", "uint", "Int", "UInt")) and numbers.notna().all():
        as_int = numbers.astype(np.float64)
        if np.all(np.mod(as_int, 1) == 0):
            return numbers.astype(dtype)
    try:
        return numbers.astype(dtype if dtype.startswith("float") else np.float64)
    except (TypeError, ValueError):
        return numbers.astype(np.float64)


def _as_kind(values: pd.Series, kind: str) -> tuple[pd.Series, pd.Series]:
    """(values converted to the training values' kind, where a value could not be)."""
    present = values.notna()
    if kind == "str":
        return values.astype(object).where(~present, values.astype(str)), present & False
    if kind in ("int", "float"):
        numbers = pd.to_numeric(values, errors="coerce")
        bad = present & numbers.isna()
        if kind == "int" and not bad.any():
            whole = numbers.dropna()
            if np.all(np.mod(whole.astype(np.float64), 1) == 0):
                out = pd.Series(
                    [int(v) if pd.notna(v) else None for v in numbers],
                    index=values.index,
                    dtype=object,
                )
                return out, bad
        return numbers.astype(object).where(present, None), bad
    if kind == "bool":
        text = values.astype(object).map(lambda v: str(v).strip().lower() if pd.notna(v) else v)
        mapped = text.map({"true": True, "false": False})
        return mapped.astype(object), present & mapped.isna()
    return values.astype(object), present & False


def _categorical(column: dict, raw: pd.Series) -> tuple[pd.Series, int]:
    kind = column["values"]
    values, bad = _as_kind(raw, kind)
    if bad.any():
        what = {"int": "whole numbers", "float": "numbers", "bool": "true or false"}[kind]
        raise _bad_type(column["name"], f"{what} (its categories are)", raw, bad)
    present = values.notna()
    levels = set(column.get("levels", ()))
    unseen = int((present & ~values.astype(str).isin(levels)).sum()) if levels else 0
    if "categories" in column:
        dtype = pd.CategoricalDtype(column["categories"], ordered=column.get("ordered", False))
        return pd.Series(pd.Categorical(values, dtype=dtype), index=raw.index), unseen
    return _with_dtype(values, column["dtype"]), unseen


def _with_dtype(values: pd.Series, dtype: str) -> pd.Series:
    """`values` in the training column's dtype when it takes them (object otherwise)."""
    try:
        return values.astype(dtype)
    except (TypeError, ValueError):
        return values.astype(object)


def conform(card: dict, X: Any, *, strict: bool = False) -> Conformed:
    """New rows as the model's estimators saw the training rows: the feature columns in
    order, each in its training dtype.

    Args:
        card: The model's card.
        X: The rows (a DataFrame, or anything `pd.DataFrame` takes).
        strict: Refuse columns that are not features, except the task's target and id
            columns (`harness predict`); otherwise they are left out silently (MLflow's
            loader, which warns of them itself).

    Raises:
        DataError: No rows, missing feature columns, other columns (strict), values of the
            wrong type (the column and the first such value are named).
    """
    frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(X)
    names = [c["name"] for c in card["columns"]]
    if len(frame) == 0:
        raise DataError("The input has no rows: nothing to predict.")
    given = [str(c) for c in frame.columns]
    missing = [n for n in names if n not in given]
    if missing:
        shown = ", ".join(map(repr, missing[:10])) + (" ..." if len(missing) > 10 else "")
        raise DataError(
            f"The input lacks {len(missing)} feature column(s) the model was trained on: "
            f"{shown}. Give every feature column of the task (the target and id columns "
            "may be left out)."
        )
    frame = frame.set_axis(given, axis=1)
    others = [c for c in given if c not in names]
    allowed = {card.get("target"), card.get("id_column"), "id"}
    refused = [c for c in others if c not in allowed]
    if strict and refused:
        raise DataError(
            f"The input has {len(refused)} column(s) the model was not trained on: "
            f"{', '.join(map(repr, refused[:10]))}. Give the task's feature columns (the target "
            "and id columns are accepted and ignored); drop the others."
        )
    parts, unseen = {}, {}
    for column in card["columns"]:
        name, raw = column["name"], frame[column["name"]].reset_index(drop=True)
        if column["kind"] == "numeric":
            parts[name] = _numeric(column, raw)
        elif column["kind"] == "categorical":
            parts[name], count = _categorical(column, raw)
            if count:
                unseen[name] = count
        elif column["kind"] == "text":
            text = raw.astype(object).where(raw.isna(), raw.astype(str))
            parts[name] = _with_dtype(text, column["dtype"])
        else:  # image: arrays as they are
            parts[name] = raw
    return Conformed(pd.DataFrame(parts), tuple(others), unseen)


# ----------------------------------------------------------------------------- predictors


class Predictor:
    """A model folder loaded: a bag or refit (its estimators) or a blend (its members)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.card: dict = json.loads((self.folder / CARD_FILE).read_text())
        if self.card.get("format", 0) > CARD_FORMAT:
            raise DataError(
                f"The model in '{folder}' was saved by a newer harness (card format "
                f"{self.card['format']}); upgrade harness to load it."
            )
        self.members: dict[str, Predictor] = {}
        self.estimators: list = []
        if self.card["kind"] == "blend":
            self.members = {name: Predictor(self.folder / name) for name in self.card["weights"]}
        else:
            import joblib

            from harness.execution.jobs import MEMBERS_FILE

            saved = json.loads((self.folder / MEMBERS_FILE).read_text())
            self.estimators = [joblib.load(self.folder / name) for name in saved["files"]]

    @property
    def features(self) -> tuple[str, ...]:
        return tuple(c["name"] for c in self.card["columns"])

    @property
    def classes(self) -> tuple | None:
        return tuple(self.card["classes"]) or None

    def conform(self, X: Any, *, strict: bool = False) -> Conformed:
        return conform(self.card, X, strict=strict)

    def raw(self, X: pd.DataFrame) -> np.ndarray:
        """Predictions of conformed rows: what the study (or ensemble) scored on the holdout."""
        if self.members:
            from harness.protocol.ensemble import blend

            parts = {name: member.raw(X) for name, member in self.members.items()}
            return blend(parts, self.card["weights"])
        from harness.devices import cpu_count
        from harness.protocol.cv import bag_predict

        prediction, _ = bag_predict(self.estimators, X, len(self.card["classes"]), cpu_count())
        return prediction

    def predict_raw(self, X: Any) -> np.ndarray:
        return self.raw(self.conform(X).frame)

    def frame(self, raw: np.ndarray) -> pd.DataFrame:
        """Predictions in the task's format: `predicted_<target>`, then `proba_<label>` per
        class (classification), or `predicted_<target>` alone (regression)."""
        target, classes = self.card["target"], self.card["classes"]
        out = pd.DataFrame(index=range(len(raw)))
        if classes:
            labels = np.asarray(classes, dtype=object)[raw.argmax(axis=1)]
            out[f"predicted_{target}"] = pd.Series(labels).infer_objects().to_numpy()
            for code, label in enumerate(classes):
                out[f"proba_{label}"] = raw[:, code]
        else:
            out[f"predicted_{target}"] = np.asarray(raw, dtype=np.float64)
        return out

    def predict(self, X: Any) -> pd.DataFrame:
        return self.frame(self.predict_raw(X))


def load_folder(folder: Path) -> Predictor:
    """The predictor of a model folder (`schema.MODEL_FILES` inside an MLflow model)."""
    return Predictor(Path(folder))


class HarnessModel(PythonModel):
    """The MLflow pyfunc model of a study's final model or an ensemble's blend: raw feature
    columns in, the task's format out (see the module's docstring)."""

    predictor: Predictor | None = None
    # Inputs are checked by the signature and converted by `conform`; MLflow's type-hint
    # validation (and its warning that predict has no type hints) is not wanted.
    _skip_type_hint_validation = True

    def load_context(self, context) -> None:  # noqa: ANN001 (MLflow's PythonModelContext)
        self.predictor = load_folder(Path(context.artifacts[schema.MODEL_FILES]))

    def predict(self, context, model_input, params=None):  # noqa: ANN001 (MLflow's signature)
        """The rows' predictions in the task's format (other columns are left out)."""
        assert self.predictor is not None, "load the model with mlflow.pyfunc.load_model"
        return self.predictor.predict(model_input)


# ----------------------------------------------------------------------------- logging


def _signature(card: dict) -> Any:
    from mlflow.models import ModelSignature
    from mlflow.types.schema import AnyType, ColSpec, Schema

    inputs = []
    for column in card["columns"]:
        if column["kind"] == "numeric":
            # MLflow refuses to cast int64 to double ("not safe"), so integer columns are long
            kind: Any = {"bool": "boolean", "int": "long"}.get(
                "int" if column["dtype"].startswith(("int", "uint")) else column["dtype"], "double"
            )
        elif column["kind"] in ("categorical", "text") and column["values"] == "str":
            kind = "string"
        else:  # levels that are numbers, mixed values, images: converted by `conform`
            kind = AnyType()
        inputs.append(ColSpec(kind, column["name"]))
    target, classes = card["target"], card["classes"]
    outputs = []
    if classes:
        label = _value_kind(pd.Series(classes, dtype=object))
        label_type = {"str": "string", "int": "long", "bool": "boolean", "float": "double"}
        outputs.append(ColSpec(label_type.get(label, AnyType()), f"predicted_{target}"))
        outputs += [ColSpec("double", f"proba_{label}") for label in classes]
    else:
        outputs.append(ColSpec("double", f"predicted_{target}"))
    return ModelSignature(inputs=Schema(inputs), outputs=Schema(outputs))


def _requirements(libraries: Mapping[str, str]) -> list[str]:
    """Pinned pip requirements: MLflow, the scientific stack, the model's own libraries.

    Given explicitly: MLflow would otherwise infer them by loading the model in a subprocess,
    seconds per model. harness itself must be installed where the model is loaded (its
    estimators are harness classes).
    """
    from importlib.metadata import PackageNotFoundError, version

    names = {"mlflow": "mlflow", "scikit-learn": "scikit-learn", "pandas": "pandas"}
    names.update({"numpy": "numpy", "joblib": "joblib", "cloudpickle": "cloudpickle"})
    pins = []
    for package in [*names.values(), *libraries]:
        try:
            pins.append(f"{package}=={version(package)}")
        except PackageNotFoundError:
            continue
    return sorted(set(pins))


def _example(card: dict, X: pd.DataFrame) -> pd.DataFrame | None:
    """A few training rows as the input example (none for images: arrays of pixels)."""
    if any(c["kind"] == "image" for c in card["columns"]):
        return None
    rows = X.head(EXAMPLE_ROWS).reset_index(drop=True)
    return rows.astype({c: object for c in rows.columns if rows[c].dtype.kind not in "biuf"})


def folder_mb(folder: Path) -> float:
    """The size of the files under `folder`, in MB."""
    total = sum(f.stat().st_size for f in Path(folder).rglob("*") if f.is_file())
    return total / 1e6


def log_model(
    tracker: Tracker,
    run_id: str,
    folder: Path,
    card: dict,
    *,
    example: pd.DataFrame | None,
    params: Mapping[str, Any] | None = None,
) -> tuple[str, float]:
    """Log the model folder `folder` (estimators saved by the worker, or a blend's members)
    with its `card` as the MLflow logged model of the run `run_id`; tag the run with its id.

    Returns:
        The logged model's id and its size in MB.
    """
    import mlflow.pyfunc

    from harness.execution.jobs import MEMBERS_FILE

    folder = Path(folder)
    (folder / CARD_FILE).write_text(json.dumps(card, indent=1))
    libraries: dict[str, str] = {}
    for members in folder.rglob(MEMBERS_FILE):
        libraries.update(json.loads(members.read_text()).get("libraries", {}))
    size = {"mb": 0.0}

    def save(path: Path, mlflow_model: Any) -> None:
        mlflow_model.metadata = {
            "harness_task": card["task"],
            "harness_model": card["model"],
            "harness_final": card["kind"],
        }
        code = Path(folder.parent, "harness_model.py")
        code.write_text(MODEL_CODE)
        mlflow.pyfunc.save_model(
            str(path),
            python_model=str(code),
            artifacts={schema.MODEL_FILES: str(folder)},
            signature=_signature(card),
            input_example=_example(card, example) if example is not None else None,
            pip_requirements=_requirements(libraries),
            mlflow_model=mlflow_model,
        )
        size["mb"] = folder_mb(path)

    model_id = tracker.log_model(
        card["task"],
        run_id,
        card["model"],
        save,
        params=params,
        tags={schema.TASK: card["task"], schema.MODEL: card["model"], schema.FINAL: card["kind"]},
    )
    tracker.log(run_id, tags={schema.LOGGED_MODEL: model_id})
    return model_id, size["mb"]


def save_blend_folder(
    tracker: Tracker, members: Mapping[str, str], folder: Path
) -> dict[str, dict]:
    """Copy each member's model folder (member name -> its logged model id) into `folder`,
    one subfolder per member, so the blend loads without its members' runs; return the
    members' cards."""
    import mlflow.artifacts

    cards = {}
    for name, model_id in members.items():
        location = tracker.model_location(model_id)
        if location is None:
            raise NoModelError(f"the member {name!r} has no logged model (deleted from the store)")
        target = Path(folder, name)
        target.mkdir(parents=True, exist_ok=True)
        mlflow.artifacts.download_artifacts(
            artifact_uri=f"{location.rstrip('/')}/artifacts/{schema.MODEL_FILES}",
            dst_path=str(target),
        )
        inner = target / schema.MODEL_FILES
        for item in inner.iterdir():
            os.replace(item, target / item.name)
        inner.rmdir()
        cards[name] = json.loads((target / CARD_FILE).read_text())
    return cards


# ----------------------------------------------------------------------------- loading


@dataclass(frozen=True)
class LoadedModel:
    """A study's or ensemble's logged model, loaded.

    Attributes:
        model_id: The MLflow logged model's id (`models:/<model_id>`).
        run_id: The run it was loaded for.
        model: The harness model's name ("ensemble" for a blend).
        kind: bag, refit or blend.
        predictor: The loaded folder (its card, estimators or members).
    """

    model_id: str
    run_id: str
    model: str
    kind: str
    predictor: Predictor

    @property
    def features(self) -> tuple[str, ...]:
        """The raw feature columns the model takes, in order."""
        return self.predictor.features

    @property
    def classes(self) -> tuple | None:
        """The class labels in code order (None for regression)."""
        return self.predictor.classes

    @property
    def card(self) -> dict:
        return self.predictor.card

    def conform(self, X: Any, *, strict: bool = False) -> Conformed:
        """`X` made ready for the model, with notes (see `Conformed`; raises `DataError`)."""
        return self.predictor.conform(X, strict=strict)

    def predict_raw(self, X: pd.DataFrame) -> np.ndarray:
        """Probabilities over class codes (n x k) or values: what the study scored on the
        holdout."""
        return self.predictor.predict_raw(X)

    def predict(self, X: pd.DataFrame) -> pd.DataFrame:
        """Predictions in the task's format (`Predictor.frame`)."""
        return self.predictor.predict(X)


def _no_model(run: Any, why: str) -> NoModelError:
    tags = run.data.tags
    task, model = tags.get(schema.TASK, "TASK"), tags.get(schema.MODEL, "MODEL")
    ensemble = tags.get(schema.KIND) == schema.KIND_ENSEMBLE
    rerun = f"harness run {task}" + ("" if ensemble else f" --model {model}")
    how = "once that is fixed" if schema.MODEL_ERROR in tags else "(without --no-log-models)"
    return NoModelError(
        f"The {'ensemble' if ensemble else 'study'} run {run.info.run_id} of {model!r} on task "
        f"{task!r} has no logged model: {why}. Rerun '{rerun}' {how} to log one."
    )


def load_model(tracker: Tracker, run: Any) -> LoadedModel:
    """The logged model of a study or ensemble run (an MLflow `Run`, as `Tracker.search`
    returns them).

    Raises:
        NoModelError: The run logged no model (an older harness, `--no-log-models`, a study
            that did not end ok), or its model is gone from the store.
    """
    import mlflow.pyfunc

    model_id = run.data.tags.get(schema.LOGGED_MODEL)
    if not model_id:
        why = run.data.tags.get(schema.MODEL_ERROR)
        raise _no_model(run, f"logging it failed ({why})" if why else "none was logged")
    location = tracker.model_location(model_id)
    if location is None:
        raise _no_model(run, f"its logged model {model_id} is not in the store (deleted)")
    pyfunc = mlflow.pyfunc.load_model(location)
    python_model = pyfunc.unwrap_python_model()
    predictor = python_model.predictor
    return LoadedModel(
        model_id=model_id,
        run_id=run.info.run_id,
        model=predictor.card["model"],
        kind=predictor.card["kind"],
        predictor=predictor,
    )


# ----------------------------------------------------------------------------- harness predict


def pick_run(tracker: Tracker, task: str, model: str | None = None) -> Any:
    """The run whose model `harness predict` uses: the board's leader (which may be the
    ensemble), or the newest run of `model` on `task`.

    Raises:
        HarnessError: No ranked run, an unknown model name, or a model whose newest study
            did not end ok.
    """
    from harness.results.leaderboard import chosen_row

    row = chosen_row(tracker, task, model, "predict with")
    return tracker.client.get_run(row.run_id)


@dataclass(frozen=True)
class Predictions:
    """What `predict_table` made: the rows to write and what the user should hear."""

    frame: pd.DataFrame
    loaded: LoadedModel
    notes: tuple[str, ...]


def predict_table(loaded: LoadedModel, table: pd.DataFrame) -> Predictions:
    """New rows' predictions in the task's format, the id column first when the input has
    the task's id column (or a column `id`); checked strictly (`conform`)."""
    conformed = loaded.conform(table, strict=True)
    frame = loaded.predictor.frame(loaded.predictor.raw(conformed.frame))
    id_column = loaded.card.get("id_column")
    for name in (id_column, "id"):
        if name and name in table.columns and name not in loaded.features:
            frame.insert(0, name, table[name].to_numpy())
            break
    return Predictions(frame, loaded, tuple(conformed.notes()))
