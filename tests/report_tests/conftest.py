"""Fixtures for leaderboards, reports, explore pages and the UI: one small store of three tasks
built once per session, a real headless chromium, and a page checker."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import Store, run_cli

TASKS = ("breast_cancer", "penguins", "ames")
# --no-ensemble: these tests count and name the rows (tests/ensemble_tests cover the ensemble row)
MODELS = ("--model", "dummy", "--model", "linear", "--model", "random_forest", "--no-ensemble")


@pytest.fixture(scope="session")
def board_store(tmp_path_factory) -> Store:
    """A store holding dummy, linear and random_forest (2 trials each) on three tasks."""
    store = Store(tmp_path_factory.mktemp("board"))
    for task in TASKS:
        result = run_cli("run", task, *MODELS, "--trials", "2", cwd=store.root)
        assert result.code == 0, result.err
    return store


@pytest.fixture
def board_cli(board_store):
    """Run the CLI in the shared three-task store's folder."""

    def call(*args: str, env: dict | None = None):
        return run_cli(*args, cwd=board_store.root, env=env)

    return call


def _install_chromium() -> None:
    for command in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "chromium"]):
        done = subprocess.run(command, capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            pytest.fail(
                f"Cannot install Debian's chromium for the browser tests ({' '.join(command)} "
                f"exited {done.returncode}): {done.stderr[-2000:]}"
            )


@pytest.fixture(scope="session")
def chromium() -> str:
    """The path of Debian's chromium, installed with apt-get when missing (fails if it cannot)."""
    path = shutil.which("chromium")
    if path is None:
        _install_chromium()
        path = shutil.which("chromium")
    if path is None:
        pytest.fail("chromium is not on PATH after 'apt-get install -y chromium'.")
    return path


# Injected at the start of <head>: records script errors, console.error calls and resources that
# fail to load, then after the load event marks how many images decoded on the root element.
PROBE = """<script>
window.__errors = [];
window.addEventListener('error', e => {
  const t = e.target;
  window.__errors.push(t && t !== window && t.tagName
    ? 'failed to load ' + t.tagName + ' ' + String(t.src || t.href || '').slice(0, 80)
    : String(e.message));
}, true);
const __consoleError = console.error;
console.error = (...a) => { window.__errors.push(a.map(String).join(' ')); __consoleError(...a); };
window.addEventListener('load', () => {
  const images = Array.from(document.images);
  const broken = images.filter(i => !(i.complete && i.naturalWidth > 0));
  const root = document.documentElement;
  root.setAttribute('data-probe-images', String(images.length));
  const names = broken.map(i => i.alt || i.src.slice(0, 80));
  root.setAttribute('data-probe-broken', JSON.stringify(names));
  root.setAttribute('data-probe-errors', JSON.stringify(window.__errors));
});
</script>"""


@dataclass
class Rendered:
    images: int
    broken: list[str]
    errors: list[str]
    console: list[str]


def render_page(chromium: str, page: Path, tmp: Path) -> Rendered:
    """Load a copy of `page` (with the probe) in headless chromium; report images and errors."""
    text = page.read_text(encoding="utf-8")
    assert "<head>" in text
    probed = tmp / f"probed-{page.name}"
    probed.write_text(text.replace("<head>", "<head>" + PROBE, 1), encoding="utf-8")
    done = subprocess.run(
        [
            chromium,
            "--headless",
            "--disable-gpu",
            "--no-sandbox",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=15000",
            "--dump-dom",
            probed.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    root = re.search(r"<html[^>]*>", done.stdout)
    assert root, done.stdout[:500]
    attrs = dict(re.findall(r'(data-probe-[a-z]+)="([^"]*)"', root.group(0)))
    assert "data-probe-images" in attrs, f"the load event never fired: {root.group(0)}"

    def unescape(value: str) -> str:
        import html

        return html.unescape(value)

    console = [
        line for line in done.stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line
    ]
    return Rendered(
        images=int(attrs["data-probe-images"]),
        broken=json.loads(unescape(attrs["data-probe-broken"])),
        errors=json.loads(unescape(attrs["data-probe-errors"])),
        console=console,
    )


@pytest.fixture
def render(chromium, tmp_path):
    """`render(path) -> Rendered`: load a page in headless chromium."""

    def call(page: Path) -> Rendered:
        return render_page(chromium, page, tmp_path)

    return call
