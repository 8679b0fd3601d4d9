"""The README's first command, with its default budget and every default model (slow)."""

from __future__ import annotations

import json

import pytest


@pytest.mark.slow
def test_the_readme_run_command_ranks_every_default_model(cli):
    result = cli("run", "breast_cancer")
    assert result.code == 0, result.err
    every = json.loads(cli("leaderboard", "breast_cancer", "--format", "json").out)
    # The image and text models are listed as skipped, with why, after the ranked rows.
    skipped = {r["model"] for r in every if r["status"] == "skipped"}
    assert skipped == {
        "hog_svm",
        "nbsvm",
        "keras_cnn",
        "keras_transfer",
        "keras_text",
        "keras_transformer",
    }
    assert all(
        "does not support tabular data" in r["reason"] for r in every if r["model"] in skipped
    )
    rows = [r for r in every if r["model"] not in skipped]
    assert {r["model"] for r in rows} == {
        "dummy",
        "linear",
        "elastic_net",
        "knn",
        "svm",
        "naive_bayes",
        "random_forest",
        "extra_trees",
        "hist_gradient_boosting",
        "xgboost",
        "lightgbm",
        "catboost",
        "keras_mlp",
        "ensemble",
        "keras_resnet",
    }
    assert all(r["status"] == "ok" for r in rows)
    assert all(r["trials"] >= 1 for r in rows if r["model"] != "ensemble")
    assert rows[-1]["model"] == "dummy"
    assert all(r["holdout"] > 0.95 for r in rows if r["model"] != "dummy")
