"""Image folders in the layouts Kaggle uses, turned into an image task.

Two layouts (see docs/OWN_DATA.md):

- class folders: `train/<class>/*.png` (any format Pillow reads); an optional `test/` folder of
  unlabeled images gives the submission part, its ids the file names without suffix;
- a label table: `train.csv` with an id column and a label column, and a folder of images named
  after the ids (`<id>.png`, or the id itself when it carries the suffix): `train/`, `images/`,
  `train_images/`, or the folder named by `images = "..."` in task.toml. `test.csv` (ids) or
  `sample_submission.csv` with a `test/` or `test_images/` folder gives the submission part.

Images are decoded with Pillow to one shape (`harness.data.images.read_images`: the most common
size and channel count unless `image_size = [height, width]` / `channels` are set in task.toml)
and cached on disk. Corrupt files are skipped with a health warning and their count; files of a
format Pillow does not know are skipped with a notice; empty class folders are ignored with a
notice. Nothing here touches a store.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.contracts.task import Dataset
from harness.data.health import Finding
from harness.data.local.builder import (
    Builder,
    LocalTask,
    SubmissionFormat,
    local_task,
    probability_sample,
)
from harness.data.local.settings import Options
from harness.data.local.target import check_target, positive_class_of, problem_type_of, unique_ids
from harness.errors import DataError, UsageError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["IMAGE_FOLDERS", "SHOWN", "TEST_FOLDERS", "check_options", "detect", "load_image_folder"]

IMAGE_FOLDERS = ("train", "images", "train_images")
TEST_FOLDERS = ("test", "test_images")
SHOWN = 5


def _image_files(folder: Path) -> tuple[list[Path], list[Path]]:
    """(image files, other files) directly in `folder`, sorted by name; hidden files ignored."""
    from harness.data.images import image_suffixes

    known = image_suffixes()
    images, others = [], []
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or not path.is_file():
            continue
        (images if path.suffix.lower() in known else others).append(path)
    return images, others


def _class_root(path: Path) -> Path | None:
    train = path / "train"
    if not train.is_dir() or (path / "train.csv").is_file():
        return None
    if any(child.is_dir() for child in train.iterdir()):
        return train
    return None


def _labelled_folder(path: Path, settings: dict[str, Any]) -> Path | None:
    if "images" in settings:
        folder = path / settings["images"]
        if not folder.is_dir():
            raise DataError(
                f"task.toml names images = {settings['images']!r}, but '{folder}' is not a folder."
            )
        return folder
    if not (path / "train.csv").is_file():
        return None
    for name in IMAGE_FOLDERS:
        folder = path / name
        if folder.is_dir() and _image_files(folder)[0]:
            return folder
    return None


def detect(path: Path, settings: dict[str, Any]) -> str | None:
    """The layout of a folder given to `harness run`: "classes", "table", or None (not images)."""
    if not path.is_dir():
        return None
    if _class_root(path) is not None:
        return "classes"
    if _labelled_folder(path, settings) is not None:
        return "table"
    return None


def _shape_settings(b: Builder) -> tuple[tuple[int, int] | None, int | None]:
    size = b.get("image_size")
    channels = b.get("channels")
    return (tuple(size) if size else None), channels


def _skipped_formats(b: Builder, others: list[Path]) -> None:
    if not others:
        return
    suffixes = sorted({p.suffix.lower() or "(no suffix)" for p in others})
    b.notes.append(
        f"skipped {len(others)} files that are not images Pillow reads (suffixes "
        f"{', '.join(suffixes)}), such as '{others[0].name}'"
    )


def _decode(b: Builder, paths: list[Path], where: str) -> Any:
    from harness.data.images import read_images

    size, channels = _shape_settings(b)
    decoded = read_images(paths, size=size, channels=channels)
    height, width, depth = decoded.shape
    b.notes.append(
        f"{len(decoded.kept):,} images in {where}, decoded to {height}x{width}x{depth} "
        + ("(from the cache)" if decoded.cached else "(cached for the next run)")
    )
    if decoded.resized:
        b.notes.append(f"{decoded.resized} images of another size resized to {height}x{width}")
    if decoded.converted:
        target = "grayscale" if depth == 1 else "RGB"
        b.notes.append(f"{decoded.converted} images converted to {target} (colour mode differed)")
    if decoded.corrupt:
        names = ", ".join(f"'{name}'" for name, _ in decoded.corrupt[:SHOWN])
        b.findings.append(
            Finding(
                "corrupt_images",
                f"{len(decoded.corrupt)} of {len(paths)} image files in {where} could not be "
                f"decoded and were skipped: {names}"
                + (", ..." if len(decoded.corrupt) > SHOWN else "")
                + f" ({decoded.corrupt[0][1]}).",
            )
        )
    return decoded


def _class_files(b: Builder, root: Path) -> tuple[list[Path], list[str]]:
    paths, labels, others = [], [], []
    empty = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        images, rest = _image_files(folder)
        others += rest
        if not images:
            empty.append(folder.name)
            continue
        paths += images
        labels += [folder.name] * len(images)
    _skipped_formats(b, others)
    if empty:
        b.findings.append(
            Finding(
                "empty_class",
                f"class folders with no images were ignored: {', '.join(map(repr, empty))}.",
            )
        )
    if len(set(labels)) < 2:
        raise DataError(
            f"'{root}' needs at least two class folders with images; found "
            f"{sorted(set(labels)) or 'none'}"
            + (f" (empty: {empty})" if empty else "")
            + ". Put each class's images in train/<class>/."
        )
    return paths, labels


def _test_folder(path: Path) -> Path | None:
    for name in TEST_FOLDERS:
        folder = path / name
        if folder.is_dir() and _image_files(folder)[0]:
            return folder
    return None


def _lookup(folder: Path) -> dict[str, Path]:
    files, _ = _image_files(folder)
    table = {p.stem: p for p in files}
    table.update({p.name: p for p in files})
    return table


def _table_columns(b: Builder, train: pd.DataFrame, folder: Path, file: Path) -> tuple[str, str]:
    """(id column, target column) of a label table: the id is the first column of unique values
    of which at least half of the first 20 name an image file, unless --id names it."""
    names = _lookup(folder)
    id_column = b.get("id")
    if id_column is None:
        for column in train.columns:
            if not train[column].is_unique:
                continue
            values = train[column].astype(str).head(20)
            if values.isin(list(names)).mean() >= 0.5:
                id_column = str(column)
                break
    if id_column is None:
        raise DataError(
            f"No column of '{file}' names the files in '{folder}' (such as "
            f"{sorted(names)[:3]}); name the id column with --id COLUMN."
        )
    b.column(train, id_column, "id", file)
    target = b.get("target")
    if target is None:
        others = [str(c) for c in train.columns if str(c) != id_column]
        if len(others) != 1:
            raise UsageError(
                f"'{file}' has {len(others)} columns besides the id {id_column!r}: {others[:8]}; "
                "name the label with --target COLUMN."
            )
        target = others[0]
    b.column(train, target, "target", file)
    return id_column, target


@dataclass(frozen=True)
class _Labelled:
    """The training images of a layout, before decoding.

    Attributes:
        paths: The image files.
        labels: Their labels, in the same order.
        row_ids: Their ids, in the same order.
        target: The target's name.
        id_column: The id column's name.
        where: The folder they come from, quoted for notes and warnings.
    """

    paths: list[Path]
    labels: list[Any]
    row_ids: list[Any]
    target: str
    id_column: str
    where: str


def load_image_folder(path: Path, layout: str, b: Builder, name: str) -> LocalTask:
    """Build an image task from a folder (`layout` from `detect`).

    Raises:
        DataError: No readable image, fewer than two classes, ids without an image file, a
            label table without an id column that names the files.
        UsageError: An ambiguous label column, or settings that do not fit.
    """
    import pandas as pd

    from harness.data.images import image_frame

    from_files = _from_class_folders if layout == "classes" else _from_label_table
    labelled = from_files(b, path)
    decoded = _decode(b, labelled.paths, labelled.where)
    kept = decoded.kept
    y, problem, positive = _labels(b, path, layout, [labelled.labels[i] for i in kept], labelled)
    ids_series = pd.Series([labelled.row_ids[i] for i in kept], name=labelled.id_column)
    test_X = submission = None
    test_folder = _test_folder(path)
    if test_folder is not None:
        test_X, submission = _test_part(b, path, test_folder, decoded, labelled, problem)
    dataset = Dataset(
        X=image_frame(decoded.images),
        y=y,
        feature_kinds={"image": "image"},
        test_X=test_X,
        ids=ids_series,
    )
    return local_task(
        b,
        path,
        dataset,
        submission,
        name=name,
        description=f"Your images from {path}",
        modality="image",
        problem_type=problem,
        positive_class=positive,
        target=labelled.target,
    )


def _from_class_folders(b: Builder, path: Path) -> _Labelled:
    """The images of `train/<class>/`, labelled by their folder, their ids their relative paths."""
    root = _class_root(path)
    paths, labels = _class_files(b, root)
    target = str(b.get("target") or "label")
    row_ids = [str(p.relative_to(root)) for p in paths]
    b.notes.append(f"image classes from the folders of '{root}': {len(set(labels))} classes")
    return _Labelled(paths, labels, row_ids, target, "id", f"'{root}'")


def _from_label_table(b: Builder, path: Path) -> _Labelled:
    """The images that `train.csv` labels; rows without an image file are dropped (a warning)."""
    folder = _labelled_folder(path, b.settings)
    table_path = path / "train.csv"
    table = b.read(table_path)
    id_column, target = _table_columns(b, table, folder, table_path)
    table = table[table[target].notna()].reset_index(drop=True)
    unique_ids(table, id_column, table_path)
    names = _lookup(folder)
    ids = table[id_column].astype(str)
    missing = ids[~ids.isin(list(names))]
    if len(missing) == len(ids):
        raise DataError(f"No id of '{table_path}' has an image file in '{folder}'.")
    if len(missing):
        b.findings.append(
            Finding(
                "missing_images",
                f"{len(missing)} rows of '{table_path.name}' have no image file in "
                f"'{folder.name}' and were dropped, such as {missing.iloc[0]!r}.",
            )
        )
        table = table[ids.isin(list(names))].reset_index(drop=True)
        ids = table[id_column].astype(str)
    paths = [names[i] for i in ids]
    labels = table[target].tolist()
    row_ids = table[id_column].tolist()
    b.notes.append(f"labels {target!r} and ids {id_column!r} from '{table_path.name}'")
    return _Labelled(paths, labels, row_ids, target, id_column, f"'{folder}'")


def _labels(
    b: Builder, path: Path, layout: str, labels: list[Any], labelled: _Labelled
) -> tuple[pd.Series, str, Any]:
    """(the target of the decoded images, the problem type, the positive class)."""
    import pandas as pd

    y = pd.Series(labels, name=labelled.target)
    if y.dtype == object:
        y = y.infer_objects()
    if layout == "classes" and b.get("problem_type") is None:
        # Folder names are class labels even when they look like numbers ("0".."9").
        b.settings["problem_type"] = "binary" if y.nunique() == 2 else "multiclass"
        problem = problem_type_of(b, y)
        b.notes[-1] = f"problem type {problem}: one class per folder"
    else:
        problem = problem_type_of(b, y)
    check_target(b, y, problem, path)
    positive = positive_class_of(b, y) if problem == "binary" else None
    if problem == "regression":
        y = y.astype(float)
    return y, problem, positive


def _test_part(
    b: Builder, path: Path, test_folder: Path, decoded: Any, labelled: _Labelled, problem: str
) -> tuple[pd.DataFrame, SubmissionFormat]:
    """(the test images, decoded to the training images' shape, the submission format): in the
    order of `sample_submission.csv` when there is one, else of the file names."""
    import pandas as pd

    from harness.data.images import image_frame, read_images

    files, others = _image_files(test_folder)
    _skipped_formats(b, others)
    sample_path = path / "sample_submission.csv"
    order_ids = [p.stem for p in files]
    lookup = {p.stem: p for p in files} | {p.name: p for p in files}
    columns: tuple[str, ...] = (labelled.target,)
    probabilities = False
    submission_id = labelled.id_column
    if sample_path.is_file():
        sample = b.read(sample_path)
        if sample.shape[1] < 2:
            raise DataError(
                f"'{sample_path}' has {sample.shape[1]} column; a sample submission has the "
                "id column first and then the target column."
            )
        order_ids = sample.iloc[:, 0].astype(str).tolist()
        absent = [i for i in order_ids if i not in lookup]
        if absent:
            raise DataError(
                f"{len(absent)} ids of '{sample_path.name}' have no image in "
                f"'{test_folder}', such as {absent[0]!r}."
            )
        columns = tuple(str(c) for c in sample.columns[1:2])
        submission_id = str(sample.columns[0])
        probabilities = probability_sample(sample, columns) and problem == "binary"
        shown = sample.iloc[:, 0]
    else:
        shown = pd.Series(order_ids)
    size, channels = decoded.shape[:2], decoded.shape[2]
    test_decoded = read_images([lookup[i] for i in order_ids], size=size, channels=channels)
    if test_decoded.corrupt:
        raise DataError(
            f"{len(test_decoded.corrupt)} test images in '{test_folder}' could not be "
            f"decoded, such as '{test_decoded.corrupt[0][0]}'; every test image needs a "
            "prediction, so fix or remove them."
        )
    test_X = image_frame(test_decoded.images)
    submission = SubmissionFormat(
        id_column=submission_id,
        ids=shown.reset_index(drop=True),
        columns=columns,
        probabilities=probabilities,
    )
    b.notes.append(f"{len(test_X):,} test images in '{test_folder}' for the submission")
    return test_X, submission


def check_options(options: Options) -> None:
    """Refuse command-line settings that mean nothing for images (group and time columns)."""
    for flag, value in (("--group", options.group), ("--time", options.time)):
        if value:
            raise UsageError(f"{flag} does not apply to an image folder: its rows are images.")
