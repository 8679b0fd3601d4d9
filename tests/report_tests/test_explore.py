"""`harness explore` pages render in chromium (`harness ui` in Chromium: test_mlflow_ui.py)."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(("task", "images"), [("penguins", 4), ("ames", 6)])
def test_explore_shows_the_training_part_and_renders_in_chromium(cli, store, render, task, images):
    result = cli("explore", task, "--out", "exp")
    assert result.code == 0, result.err
    page = store.root / "exp" / "explore.html"
    text = page.read_text()
    assert f"harness explore: {task}" in text and "holdout rows (not shown)" in text
    assert "Features against the target" in text and "Spearman" in text
    assert not (store.root / "mlruns").exists(), "explore needs no store"
    rendered = render(page)
    assert rendered.images == images
    assert rendered.broken == [] and rendered.errors == [] and rendered.console == []
    assert (store.root / "exp" / "explore.md").read_text().count("](img/") == images
