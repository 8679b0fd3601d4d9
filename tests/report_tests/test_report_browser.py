"""`harness report` writes a self-contained page that a real headless chromium renders with every
image decoded and no console errors; its Markdown twin's images exist; plots land in MLflow."""

from __future__ import annotations

import re

from mlflow.tracking import MlflowClient

from tests.report_tests.conftest import TASKS


def test_the_checker_catches_broken_images_and_script_errors(render, tmp_path):
    page = tmp_path / "broken.html"
    page.write_text(
        "<!DOCTYPE html><html><head><title>x</title></head><body>"
        '<img alt="truncated" src="data:image/png;base64,AAAA"><img alt="absent" src="nope.png">'
        "<script>notAFunction()</script><script>console.error('boom')</script></body></html>"
    )
    rendered = render(page)
    assert rendered.images == 2 and sorted(rendered.broken) == ["absent", "truncated"]
    assert any("notAFunction" in e for e in rendered.errors)
    assert "boom" in rendered.errors


def test_the_report_renders_in_chromium_with_every_image_and_no_console_error(
    board_cli, board_store, render
):
    result = board_cli("report", "--out", "rep")
    assert result.code == 0, result.err
    out = board_store.root / "rep"
    page = out / "report.html"
    assert f"Report: {page}" in result.out
    text = page.read_text()
    for task in TASKS:
        assert f"Task: {task}" in text
    assert "Across tasks" in text and "Friedman test and critical difference not shown" in text
    assert not re.search(r'<img[^>]+src="(?!data:image/png;base64,)', text), "self-contained"
    for needed in (
        "Confusion matrix",
        "ROC curves",
        "Residuals against predictions",
        "Best CV score so far",
        "Score of each model on each fold",
    ):
        assert needed in text, needed

    rendered = render(page)
    # the leader's permutation importance: drawn, or a note when it would take over 30 s here
    drawn = len(list((out / "img").glob("*_importance.png")))
    assert (
        drawn + len(re.findall(r"Feature importance of \w+: not drawn, it would take", text)) == 3
    )
    assert drawn >= 2  # breast_cancer's and penguins' 30 and 7 columns take seconds
    # per task: bars, strips, CV vs holdout, anytime, 2 best models' plots (no CD diagram: three
    # tasks are too few for the Friedman test), and the importance drawn
    assert rendered.images == 3 * 4 + 2 * 2 + 2 * 2 + 2 * 1 + drawn
    assert rendered.broken == [] and rendered.errors == [] and rendered.console == []

    twin = (out / "report.md").read_text()
    links = re.findall(r"!\[[^\]]*\]\((img/[^)]+\.png)\)", twin)
    assert len(links) == rendered.images
    for link in links:
        assert (out / link).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", link
    assert "| rank | model |" in twin and "## Across tasks" in twin


def test_report_plots_are_logged_to_the_runs_they_describe(board_cli, board_store):
    assert board_cli("report", "penguins", "ames", "--out", "rep2", "--log").code == 0
    client = MlflowClient(tracking_uri=board_store.tracking_uri)
    experiment = client.get_experiment_by_name("penguins")
    board = client.search_runs(
        [experiment.experiment_id], "tags.`harness.kind` = 'leaderboard'", max_results=5
    )
    assert len(board) == 1
    plots = {a.path for a in client.list_artifacts(board[0].info.run_id, "plots")}
    for name in ("cv_bars", "fold_strips", "cv_vs_holdout", "anytime"):
        assert f"plots/{name}.png" in plots, name
    assert "plots/critical_difference.png" not in plots  # two tasks: too few for the test
    leader = board[0].data.tags["harness.leader"]
    study = client.search_runs(
        [experiment.experiment_id],
        f"tags.`harness.kind` = 'study' and tags.`harness.model` = '{leader}'",
        max_results=1,
    )[0]
    model_plots = {a.path for a in client.list_artifacts(study.info.run_id, "plots")}
    assert {f"plots/{leader}_confusion.png", f"plots/{leader}_roc.png"} <= model_plots
