"""`harness explore` pages render in chromium; `harness ui` serves the store locally and stops."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

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


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_ui_serves_the_store_on_localhost_and_stops(board_store):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    server = subprocess.Popen(
        [sys.executable, "-m", "harness", "ui", "--port", str(port)],
        cwd=board_store.root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        first = server.stdout.readline()
        assert f"at http://127.0.0.1:{port}" in first and "mlflow.db" in first
        deadline, status = time.monotonic() + 150, None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/ajax-api/2.0/mlflow/experiments/search?max_results=50",
                    timeout=5,
                ) as response:
                    status, body = response.status, response.read().decode()
                    break
            except OSError:
                time.sleep(1)
        assert status == 200, "the UI did not answer in time"
        assert '"penguins"' in body and '"ames"' in body
    finally:
        server.send_signal(signal.SIGTERM)  # harness stops the server's process group itself
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0, "the server outlived harness ui"
