"""The task contract: a real dataset, its target, problem type, metric and split protocol.

A task plugin is a module under `tasks/` (or another distribution's `harness.tasks` entry point)
that defines `TASK = Task(...)`. Nothing heavy is imported when a `Task` is built: `load` imports
pandas and the data package only when it is called.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from harness.errors import DataError, PluginError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "CLASSIFICATION",
    "FEATURE_KINDS",
    "MODALITIES",
    "NO_AUGMENTATION",
    "PROBLEM_TYPES",
    "Augmentation",
    "Dataset",
    "Reference",
    "Task",
]

MODALITIES = ("tabular", "image", "text")
PROBLEM_TYPES = ("binary", "multiclass", "regression")
FEATURE_KINDS = ("numeric", "categorical", "text", "image")
CLASSIFICATION = ("binary", "multiclass")


@dataclass(frozen=True)
class Reference:
    """A published score for a task, with the protocol that produced it.

    Attributes:
        metric: Metric name as in the metric registry (e.g. "roc_auc").
        value: The published value.
        model: The model family that reached it (e.g. "random forest").
        protocol: How it was measured (split, folds, preprocessing).
        source: Where it was published.
    """

    metric: str
    value: float
    model: str
    protocol: str
    source: str


@dataclass(frozen=True)
class Augmentation:
    """Which label-preserving image transforms a task allows (networks draw them while training).

    Attributes:
        flip: Mirror left-right (never for digits or text-like images).
        shift: Largest translation, as a share of the image's height and width.
        rotation: Largest rotation, in degrees either way.
        zoom: Largest zoom in or out, as a share of the image's size.
    """

    flip: bool = False
    shift: float = 0.0
    rotation: float = 0.0
    zoom: float = 0.0

    def __post_init__(self) -> None:
        for name in ("shift", "zoom"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise PluginError(f"Augmentation: {name} must be in [0, 1), got {value}.")
        if not 0.0 <= self.rotation <= 180.0:
            raise PluginError(f"Augmentation: rotation must be 0-180 degrees, got {self.rotation}.")

    @property
    def any(self) -> bool:
        """Whether any transform is allowed."""
        return self.flip or bool(self.shift or self.rotation or self.zoom)


NO_AUGMENTATION = Augmentation()


def _refuse_infinite(y: pd.Series, what: str) -> None:
    """Refuse a numeric target with infinite values, as one with missing values: no model can
    learn or be scored on them, and imputing a target would invent labels."""
    import numpy as np
    from pandas.api.types import is_float_dtype

    if is_float_dtype(y.dtype):
        count = int(np.isinf(y.to_numpy(dtype=np.float64, na_value=np.nan)).sum())
        if count:
            raise DataError(
                f"Dataset: {what} has {count} infinite values (inf or -inf); drop those rows "
                "in the loader."
            )


@dataclass(frozen=True)
class Dataset:
    """What a task's `load()` returns: the labeled rows and, when the source has them, its parts.

    Attributes:
        X: Features of the labeled rows (the holdout is split from these
            unless `holdout_X` is given).
        y: Target of the labeled rows, aligned with `X`.
        feature_kinds: Kind of every column of `X`: numeric, categorical, text or image.
        holdout_X: An official test part with labels, used as the holdout instead of a split.
        holdout_y: Labels of `holdout_X`.
        test_X: An unlabeled Kaggle-style test part (for submissions only).
        ids: Row identifiers of `X` for submissions and prediction files (default: the row number).
        groups: Group label of every row of `X` (e.g. a patient or a store). Rows of one group are
            never split between the holdout and training, nor between a fold's two sides.
        times: Time stamp (or any order key) of every row of `X`. When given, the holdout is the
            latest rows and the folds are forward-chaining (train on the past, score the future),
            and models are told not to shuffle.
    """

    X: pd.DataFrame
    y: pd.Series
    feature_kinds: Mapping[str, str]
    holdout_X: pd.DataFrame | None = None
    holdout_y: pd.Series | None = None
    test_X: pd.DataFrame | None = None
    ids: pd.Series | None = None
    groups: pd.Series | None = None
    times: pd.Series | None = None

    def __post_init__(self) -> None:
        if len(self.X) != len(self.y):
            raise DataError(f"Dataset: X has {len(self.X)} rows but y has {len(self.y)}.")
        if len(self.X) == 0:
            raise DataError("Dataset: no labeled rows.")
        columns = list(self.X.columns)
        missing = [c for c in columns if c not in self.feature_kinds]
        extra = [c for c in self.feature_kinds if c not in columns]
        if missing or extra:
            raise DataError(
                f"Dataset: feature_kinds must name every column of X exactly; "
                f"without a kind: {missing}, not in X: {extra}."
            )
        bad = {c: k for c, k in self.feature_kinds.items() if k not in FEATURE_KINDS}
        if bad:
            raise DataError(f"Dataset: unknown feature kinds {bad}; use one of {FEATURE_KINDS}.")
        if self.y.isna().any():
            raise DataError(
                f"Dataset: the target has {int(self.y.isna().sum())} missing values; "
                "drop those rows in the loader."
            )
        _refuse_infinite(self.y, "the target")
        if (self.holdout_X is None) != (self.holdout_y is None):
            raise DataError("Dataset: give both holdout_X and holdout_y, or neither.")
        if self.holdout_X is not None and list(self.holdout_X.columns) != columns:
            raise DataError("Dataset: holdout_X must have the same columns as X, in order.")
        if self.holdout_y is not None:
            if len(self.holdout_y) != len(self.holdout_X):
                raise DataError(
                    f"Dataset: holdout_X has {len(self.holdout_X)} rows but holdout_y has "
                    f"{len(self.holdout_y)}."
                )
            if self.holdout_y.isna().any():
                raise DataError(
                    f"Dataset: the holdout target has {int(self.holdout_y.isna().sum())} missing "
                    "values; drop those rows in the loader."
                )
            _refuse_infinite(self.holdout_y, "the holdout target")
        for name in ("ids", "groups", "times"):
            values = getattr(self, name)
            if values is None:
                continue
            if len(values) != len(self.X):
                raise DataError(f"Dataset: {name} has {len(values)} rows but X has {len(self.X)}.")
            if name != "ids" and values.isna().any():
                raise DataError(
                    f"Dataset: {name} has {int(values.isna().sum())} missing values; every row "
                    f"needs one."
                )
        if self.groups is not None and self.times is not None:
            raise DataError("Dataset: give groups or times, not both.")


@dataclass(frozen=True)
class Task:
    """A benchmark task (see docs/PLUGINS.md).

    Attributes:
        name: Registry name; must equal the plugin module's stem.
        description: One line shown by `harness list tasks`.
        modality: tabular, image or text.
        problem_type: binary, multiclass or regression.
        metric: Primary metric name (ranks models, drives tuning).
        load: Zero-argument function returning a `Dataset` (heavy imports inside).
        extra_metrics: Further metrics computed and logged for every fold and the holdout.
        holdout: Share of labeled rows kept as the private holdout (ignored when the dataset has an
            official test part).
        folds: Default number of CV folds of the training part.
        positive_class: For binary tasks, the label scored as positive (ROC AUC, Brier).
        target: Name of the target column, for cards and prediction files.
        source: Where the data comes from (package and dataset name).
        citation: Who to cite.
        licence: The data's licence, when known.
        references: Published scores with their protocol.
        rows: Labeled rows the loader returns (training pool plus any official test part),
            declared so that `harness list tasks` needs no data; the contract checks compare it
            with the data.
        features: Feature columns the loader returns, declared and checked like `rows`.
        notes: Card notes: how the target was built, which columns were dropped and why.
        augmentation: The image transforms networks may apply while training (image tasks;
            default none).
    """

    name: str
    description: str
    modality: str
    problem_type: str
    metric: str
    load: Callable[[], Dataset]
    extra_metrics: tuple[str, ...] = ()
    holdout: float = 0.2
    folds: int = 5
    positive_class: Any = None
    target: str = "target"
    source: str = ""
    citation: str = ""
    licence: str = ""
    references: tuple[Reference, ...] = field(default_factory=tuple)
    rows: int | None = None
    features: int | None = None
    notes: str = ""
    augmentation: Augmentation = NO_AUGMENTATION

    def __post_init__(self) -> None:
        where = f"Task {self.name!r}"
        if not self.name or not self.name.isidentifier() or self.name != self.name.lower():
            raise PluginError(f"{where}: name must be a lower-case identifier (the module stem).")
        if not self.description.strip():
            raise PluginError(f"{where}: description must not be empty.")
        if self.modality not in MODALITIES:
            raise PluginError(f"{where}: modality {self.modality!r} is not one of {MODALITIES}.")
        if self.problem_type not in PROBLEM_TYPES:
            raise PluginError(
                f"{where}: problem_type {self.problem_type!r} is not one of {PROBLEM_TYPES}."
            )
        if not callable(self.load):
            raise PluginError(f"{where}: load must be a function returning a Dataset.")
        if not 0.0 < self.holdout < 1.0:
            raise PluginError(f"{where}: holdout share must be in (0, 1), got {self.holdout}.")
        if self.folds < 2:
            raise PluginError(f"{where}: folds must be at least 2, got {self.folds}.")
        if self.problem_type == "binary" and self.positive_class is None:
            raise PluginError(f"{where}: a binary task must name its positive_class.")
        for size in ("rows", "features"):
            value = getattr(self, size)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise PluginError(
                    f"{where}: {size} must be a positive whole number or None, got {value!r}."
                )
        if not isinstance(self.references, tuple) or not all(
            isinstance(r, Reference) for r in self.references
        ):
            raise PluginError(f"{where}: references must be a tuple of Reference(...).")
        if not isinstance(self.augmentation, Augmentation):
            raise PluginError(f"{where}: augmentation must be an Augmentation(...).")
        if self.augmentation.any and self.modality != "image":
            raise PluginError(f"{where}: only image tasks can allow augmentation.")
        if not isinstance(self.extra_metrics, tuple):
            raise PluginError(f"{where}: extra_metrics must be a tuple of metric names.")
        # Metric names are checked against the registry lazily (harness.metrics imports sklearn).
        from harness.contracts.metrics import check_metric_fits

        for metric in (self.metric, *self.extra_metrics):
            check_metric_fits(metric, self.problem_type, where=where)
        for reference in self.references:
            check_metric_fits(reference.metric, self.problem_type, where=f"{where} reference")
        if self.metric in self.extra_metrics:
            raise PluginError(f"{where}: the primary metric {self.metric!r} is also an extra.")

    @property
    def is_classification(self) -> bool:
        """Whether the target is a class label."""
        return self.problem_type in CLASSIFICATION

    @property
    def metrics(self) -> tuple[str, ...]:
        """The primary metric followed by the extras."""
        return (self.metric, *self.extra_metrics)
