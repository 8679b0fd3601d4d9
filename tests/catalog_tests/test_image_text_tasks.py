"""The image and text tasks: one uint8 image column or one text column of real data, each with
its augmentation policy, protocol and card; image cells fingerprinted and health-checked."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from harness import registry
from harness.data.health import check_prepared
from harness.protocol.splits import fingerprint_frame, prepare

IMAGE_TASKS = {"digits": (8, 8, 1), "mnist_5k": (28, 28, 1), "lfw_faces": (25, 25, 1)}


@pytest.mark.parametrize(("name", "shape"), sorted(IMAGE_TASKS.items()))
def test_an_image_task_holds_one_uint8_image_column_of_one_shape(name, shape):
    task = registry.get_task(name)
    data = task.load()
    assert task.modality == "image"
    assert list(data.X.columns) == ["image"] and dict(data.feature_kinds) == {"image": "image"}
    cells = data.X["image"].to_numpy()
    assert {cell.shape for cell in cells} == {shape}
    assert {cell.dtype for cell in cells} == {np.dtype(np.uint8)}
    assert max(int(cell.max()) for cell in cells) == 255, "pixels span 0-255"


def test_digits_pixels_are_the_scikit_learn_counts_scaled_to_255():
    from sklearn.datasets import load_digits

    data = registry.get_task("digits").load()
    original = load_digits().images
    pixels = np.stack(data.X["image"].to_numpy())[:, :, :, 0]
    np.testing.assert_array_equal(pixels, np.rint(original * 255 / 16).astype(np.uint8))
    assert data.y.iloc[:3].tolist() == ["0", "1", "2"]


def test_each_image_task_declares_its_augmentation_and_digits_never_flips():
    digits = registry.get_task("digits").augmentation
    assert not digits.flip and 0 < digits.shift <= 0.15 and 0 < digits.rotation <= 15
    assert not registry.get_task("mnist_5k").augmentation.flip
    assert registry.get_task("lfw_faces").augmentation.flip  # faces are roughly symmetric
    for name in ("fine_foods", "trump_tweets"):
        assert not registry.get_task(name).augmentation.any


def test_fine_foods_scores_the_given_testing_part_and_carries_the_published_reference():
    task = registry.get_task("fine_foods")
    data = task.load()
    assert task.modality == "text" and dict(data.feature_kinds) == {"review": "text"}
    assert (len(data.X), len(data.holdout_X)) == (4000, 1000)
    assert set(data.y) == {"great", "other"} and task.positive_class == "great"
    (reference,) = task.references
    assert (reference.metric, reference.value) == ("roc_auc", 0.799)
    assert "Tuning text models" in reference.source
    prepared = prepare(task, data, folds=5, seed=0)
    assert len(prepared.holdout_y) == 1000


def test_trump_tweets_holds_out_the_latest_tweets_and_keeps_only_the_words():
    task = registry.get_task("trump_tweets")
    data = task.load()
    assert list(data.X.columns) == ["text"] and data.times is not None
    assert not data.X["text"].str.contains("http").any(), "links would give the answer"
    assert set(data.y) == {"Android", "iPhone"}
    prepared = prepare(task, data, folds=5, seed=0)
    assert prepared.scheme == "time"
    times = data.times.reset_index(drop=True)
    held = times.index.isin(prepared.holdout_ids)
    assert times[~held].max() <= times[held].min()
    assert "retweet" in task.notes and "links" in task.notes


def test_list_tasks_shows_the_modality_of_every_task(cli):
    tasks = {t["name"]: t for t in json.loads(cli("list", "tasks", "--json").out)}
    assert all(t["modality"] in ("tabular", "image", "text") for t in tasks.values())
    assert {n for n, t in tasks.items() if t["modality"] == "image"} >= set(IMAGE_TASKS)
    assert {n for n, t in tasks.items() if t["modality"] == "text"} >= {
        "fine_foods",
        "trump_tweets",
    }
    assert "modality" in cli("list", "tasks").out


def test_show_prints_the_image_shape_and_augmentation_of_an_image_task(cli):
    result = cli("show", "digits")
    assert result.code == 0, result.err
    for text in (
        "Modality:      image",
        "image (1):   image",
        "Images:        1,797 images, 8x8, 1 channel (grayscale)",
        "Augmentation:  no flips, shifts up to 12.5%, rotations up to 10 degrees",
        "Holdout:       a seeded stratified 20% of rows: 360 rows",
    ):
        assert text in result.out, text


def _images(values: list[int]) -> pd.DataFrame:
    from harness.data.images import image_frame

    return image_frame([np.full((4, 4), v, dtype=np.uint8) for v in values])


def test_the_data_fingerprint_counts_image_pixels():
    y = pd.Series(["a", "b", "a"])
    same = fingerprint_frame(_images([1, 2, 3]), y)
    assert same == fingerprint_frame(_images([1, 2, 3]), y)
    changed = _images([1, 2, 3])
    changed.iloc[1, 0] = changed.iloc[1, 0].copy()
    changed.iloc[1, 0][0, 0, 0] = 9  # one pixel
    assert fingerprint_frame(changed, y) != same


def test_health_checks_find_an_image_in_both_the_training_part_and_the_holdout():
    task = registry.get_task("digits")
    prepared = prepare(task, task.load(), folds=5, seed=0)
    assert check_prepared(task, prepared) == []  # the real set: no duplicates, no constants
    from dataclasses import replace

    # Three holdout images copied into the training part: a leak the check must name.
    leaked = pd.concat([prepared.holdout_X.iloc[:3], prepared.X], ignore_index=True)
    labels = np.concatenate([prepared.holdout_y[:3], prepared.y])
    copied = replace(prepared, X=leaked, y=labels)
    findings = check_prepared(task, copied)
    duplicates = [f for f in findings if f.check == "duplicates"]
    assert duplicates and duplicates[0].message.startswith("3 of 360 holdout rows")
