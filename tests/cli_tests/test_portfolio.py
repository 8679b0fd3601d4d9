"""Portfolios: configurations tried right after the defaults (`harness.tuning.portfolio`).

Real runs of `harness run` with a portfolio file, the shipped portfolio checked against every
model's search space, and every bad portfolio refused with its message and exit code.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness import registry
from harness.errors import UsageError
from harness.protocol.cv import spec_for
from harness.protocol.splits import prepare
from harness.tuning.portfolio import FORMAT, SHIPPED, adapt, for_study, load_portfolio

XGB_A = {
    "learning_rate": 0.2,
    "max_depth": 3,
    "min_child_weight": 0.5,
    "subsample": 0.9,
    "colsample_bytree": 0.7,
    "reg_alpha": 1e-3,
    "reg_lambda": 2.0,
    "gamma": 1e-4,
    "max_rounds": 2000,
}
# Out of range and incomplete: max_depth is clipped to 10, the missing values are the defaults.
XGB_B = {"learning_rate": 0.1, "max_depth": 40}


def _spec(task_name: str):
    task = registry.get_task(task_name)
    data = prepare(task, task.load(), folds=3, seed=0)
    return spec_for(task.problem_type, task.modality, data)


def _write(path: Path, models: dict) -> Path:
    path.write_text(json.dumps({"format": FORMAT, "models": models}))
    return path


def test_a_study_tries_the_portfolio_right_after_the_defaults(cli, store, tmp_path):
    from mlflow import MlflowClient

    portfolio = _write(tmp_path / "p.json", {"xgboost": [XGB_A, XGB_B]})
    result = cli("run", "penguins", "--model", "xgboost", "--trials", "4", "--no-ensemble",
                 "--portfolio", str(portfolio))  # fmt: skip
    assert result.code == 0, result.err

    trials = store.study("penguins.xgboost").trials
    assert trials[0].user_attrs["harness.default"] is True
    assert trials[1].params == XGB_A
    assert trials[1].user_attrs["harness.portfolio"] == 1
    model = registry.get_model("xgboost")
    assert trials[2].params == {**model.defaults, "learning_rate": 0.1, "max_depth": 10}
    assert trials[2].user_attrs["harness.portfolio"] == 2
    assert "harness.portfolio" not in trials[3].user_attrs  # the sampler goes on from there

    client = MlflowClient(store.tracking_uri)
    runs = client.search_runs([client.get_experiment_by_name("penguins").experiment_id])
    by_trial = {r.data.tags.get("harness.trial"): r for r in runs}
    assert by_trial["1"].data.tags["harness.portfolio_config"] == "1"
    assert "harness.portfolio_config" not in by_trial["3"].data.tags
    study = next(r for r in runs if r.data.tags["harness.kind"] == "study")
    note = study.data.tags["harness.portfolio"]
    assert note.startswith(f"2 configurations from {portfolio}")
    assert "configuration 2: max_depth 40 clipped to 10" in note


def test_no_portfolio_leaves_the_sampler_alone(cli, store, tmp_path):
    portfolio = _write(tmp_path / "p.json", {"xgboost": [XGB_A]})
    result = cli("run", "penguins", "--model", "xgboost", "--trials", "2", "--no-ensemble",
                 "--no-portfolio")  # fmt: skip
    assert result.code == 0, result.err
    trials = store.study("penguins.xgboost").trials
    assert trials[1].params != XGB_A and "harness.portfolio" not in trials[1].user_attrs
    both = cli("run", "penguins", "--model", "xgboost", "--portfolio", str(portfolio),
               "--no-portfolio")  # fmt: skip
    assert both.code == 2
    assert "--portfolio and --no-portfolio exclude each other" in both.err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("{not json", "is not a JSON file"),
        ('{"models": {}}', "is not a harness portfolio (its \"format\" must be"),
        (json.dumps({"format": FORMAT, "models": {"xgboost": {"a": 1}}}),
         "\"models\" must map model names to lists of configurations"),
    ],
)  # fmt: skip
def test_a_bad_portfolio_file_is_refused_before_any_work(cli, store, tmp_path, content, message):
    path = tmp_path / "bad.json"
    if content is not None:
        path.write_text(content)
    result = cli("run", "penguins", "--model", "dummy", "--portfolio", str(path))
    assert result.code == 2, result.err
    assert message in result.err
    assert not (store.root / "mlruns").exists()


def test_adapt_drops_fills_clips_and_replaces_what_the_task_does_not_offer():
    xgboost, knn = registry.get_model("xgboost"), registry.get_model("knn")
    spec = _spec("diabetes")  # regression, target not skewed: no log transform offered
    adapted, note = adapt(xgboost, spec, {**XGB_A, "unknown": 3})
    assert adapted == XGB_A and note == "unknown not used here"
    adapted, note = adapt(knn, spec, {**knn.defaults, "target_transform": "log1p"})
    assert adapted["target_transform"] == "none"
    assert note == "target_transform 'log1p' not offered here: the default 'none'"
    adapted, note = adapt(knn, spec, {**knn.defaults, "n_neighbors": 100})
    assert adapted["n_neighbors"] == 30 and note == "n_neighbors 100 clipped to 30"
    assert adapt(xgboost, spec, {**XGB_A, "max_depth": "deep"}) == (
        None,
        "max_depth='deep' is not a number",
    )


def test_for_study_notes_what_it_changed_and_queues_no_copy_of_the_defaults():
    from harness.tuning.portfolio import Portfolio

    xgboost = registry.get_model("xgboost")
    portfolio = Portfolio({"xgboost": (dict(xgboost.defaults), XGB_A, XGB_A, XGB_B)}, "p.json")
    queued = for_study(xgboost, _spec("penguins"), portfolio)
    assert queued.configurations[0] == XGB_A and len(queued.configurations) == 2
    assert queued.notes == ("configuration 4: max_depth 40 clipped to 10; min_child_weight, "
                            "subsample, colsample_bytree, reg_alpha, reg_lambda, gamma, "
                            "max_rounds from the defaults",)  # fmt: skip


def test_load_portfolio_refuses_what_is_not_one(tmp_path):
    with pytest.raises(UsageError, match="no such file"):
        load_portfolio(tmp_path / "missing.json")


@pytest.mark.skipif(not SHIPPED.exists(), reason="no portfolio shipped yet")
def test_every_shipped_configuration_is_valid_for_its_model_on_every_kind_of_task():
    """The shipped file is small, readable, and each configuration fits its model's search space
    as drawn (a skewed regression: the widest space), and adapts to a classification task."""
    assert SHIPPED.stat().st_size < 64_000
    portfolio = load_portfolio()
    assert portfolio.models, "the shipped portfolio is empty"
    widest = _spec("diamonds")  # a skewed regression target: the log transform is offered
    assert widest.target_skewed
    classification = _spec("penguins")
    for name, configurations in portfolio.models.items():
        model = registry.get_model(name)
        assert 1 <= len(configurations) <= 8, name
        for number, params in enumerate(configurations, start=1):
            adapted, note = adapt(model, widest, params)
            assert adapted == params and note == "", (name, number, note)
            assert adapt(model, classification, params)[0] is not None, (name, number)
