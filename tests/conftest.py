"""Shared fixtures: a temporary store, a CLI runner in a subprocess, third-party plugin sites."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass
class Result:
    code: int
    out: str
    err: str


@dataclass
class Store:
    root: Path

    @property
    def tracking_uri(self) -> str:
        return f"sqlite:///{self.root / 'mlruns' / 'mlflow.db'}"

    @property
    def storage(self) -> str:
        return f"journal:///{self.root / 'mlruns' / 'optuna'}"

    def study(self, name: str):
        """The Optuna study `name` of this store, as harness left it."""
        from harness.tuning import studies

        return studies.load_study(self.storage, name)


def run_cli(*args: str, cwd: Path, env: dict | None = None, timeout: int = 600) -> Result:
    """Run `python -m harness ARGS` for real, in `cwd`, without inherited store settings."""
    environ = {
        k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", "HARNESS_STORAGE")
    }
    environ.update({"HARNESS_DEVICE": "cpu", "COLUMNS": "200", **(env or {})})
    proc = subprocess.run(
        [sys.executable, "-m", "harness", *args],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    """An empty project folder; `harness run` there writes its default store under mlruns/."""
    return Store(tmp_path)


@pytest.fixture
def cli(store: Store):
    """Run the CLI in the temporary project folder."""

    def call(*args: str, env: dict | None = None) -> Result:
        return run_cli(*args, cwd=store.root, env=env)

    return call


PLUGINS = '''
"""Third-party plugins used by the tests."""
from harness.contracts import Dataset, Model, Task


def _ridge(spec, params, *, seed):
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline

    from harness.contracts.preprocessing import make_preprocessor

    return make_pipeline(make_preprocessor(spec.feature_kinds, "onehot"), Ridge())


class _Exploding:
    def fit(self, X, y):
        raise RuntimeError("boom: the solver diverged")

    def predict(self, X):
        raise AssertionError("never fitted")

    predict_proba = predict


def _space(trial):
    return {}


class _Misbehaving:
    """Fits a prior, after doing what $MISBEHAVE says: sleep, hog memory, or crash."""

    def fit(self, X, y):
        import os
        import signal
        import time

        import numpy as np

        mode = os.environ.get("MISBEHAVE", "")
        if mode == "sleep":
            time.sleep(120)
        elif mode == "hog":
            hoard = []
            for _ in range(40):  # up to 4 GB, 100 MB at a time
                hoard.append(np.ones(100 * 2**20, dtype=np.uint8))
                time.sleep(0.05)
        elif mode == "segfault":
            os.kill(os.getpid(), signal.SIGSEGV)
        self.classes_ = np.unique(y)
        self.prior_ = np.bincount(y) / len(y)
        return self

    def predict_proba(self, X):
        import numpy as np

        return np.tile(self.prior_, (len(X), 1))

    def predict(self, X):
        return self.predict_proba(X).argmax(axis=1)


REGRESSION_ONLY = Model(
    name="ridge_only", description="Ridge regression only.", family="classical",
    build=_ridge, search_space=_space, problem_types=("regression",),
)
EXPLODING = Model(
    name="exploding", description="Raises inside fit.", family="classical",
    build=lambda spec, params, *, seed: _Exploding(), search_space=_space,
)
MISBEHAVING = Model(
    name="misbehaving", description="Sleeps, hogs memory or crashes in fit.", family="baseline",
    build=lambda spec, params, *, seed: _Misbehaving(), search_space=_space,
    problem_types=("binary", "multiclass"),
)
MISBEHAVING_LATE = Model(
    name="misbehaving_late", description="Misbehaves like misbehaving; its turn comes last.",
    family="neural", build=lambda spec, params, *, seed: _Misbehaving(), search_space=_space,
    problem_types=("binary", "multiclass"),
)
DUPLICATE = Model(
    name="linear", description="Clashes with the built-in.", family="classical",
    build=_ridge, search_space=_space,
)
TWIN = Model(
    name="ridge_only", description="Another package's ridge_only.", family="classical",
    build=_ridge, search_space=_space, problem_types=("regression",),
)


def _diabetes():
    from sklearn.datasets import load_diabetes

    bunch = load_diabetes(as_frame=True)
    return Dataset(
        X=bunch.data, y=bunch.target, feature_kinds={c: "numeric" for c in bunch.data.columns}
    )


SIZELESS = Task(
    name="sizeless", description="Diabetes progression; declares no rows= or features=.",
    modality="tabular", problem_type="regression", metric="rmse", load=_diabetes,
)
'''


def write_plugin_site(
    folder: Path,
    entries: dict[str, str],
    *,
    tasks: dict[str, str] | None = None,
    distribution: str = "extra-plugins",
) -> Path:
    """Make `folder` an importable site with package `extra_plugins` and a distribution whose
    entry points are `entries` (models) and `tasks`."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "extra_plugins.py").write_text(PLUGINS)
    info = folder / f"{distribution.replace('-', '_')}-0.1.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {distribution}\nVersion: 0.1\nRequires-Dist: ml-harness\n"
    )
    sections = []
    for group, found in (("harness.models", entries), ("harness.tasks", tasks or {})):
        if found:
            lines = "\n".join(f"{name} = {target}" for name, target in found.items())
            sections.append(f"[{group}]\n{lines}\n")
    (info / "entry_points.txt").write_text("\n".join(sections))
    return folder


@pytest.fixture
def plugin_site(tmp_path: Path):
    """Write a third-party plugin distribution; returns env settings that make it importable.

    `plugin_site(models, tasks=..., other=...)`: `models` and `tasks` are the entry points of the
    distribution extra-plugins, `other` the model entry points of a second one, other-plugins.
    """

    def make(
        entries: dict[str, str],
        *,
        tasks: dict[str, str] | None = None,
        other: dict[str, str] | None = None,
    ) -> dict:
        site = write_plugin_site(tmp_path / "site", entries, tasks=tasks)
        if other:
            write_plugin_site(site, other, distribution="other-plugins")
        # in front of an inherited PYTHONPATH (a work tree tested without installing it)
        paths = [str(site), *filter(None, [os.environ.get("PYTHONPATH")])]
        return {"PYTHONPATH": os.pathsep.join(paths)}

    return make


@pytest.fixture
def run_in():
    """Run the CLI in a given folder: `run_in(folder, *args, env=...)`."""

    def call(cwd: Path, *args: str, env: dict | None = None) -> Result:
        return run_cli(*args, cwd=cwd, env=env)

    return call


@pytest.fixture
def installed_plugins(plugin_site):
    """Make a third-party plugin site importable in this process for one test, then forget it."""
    import importlib
    import sys

    from harness import registry

    added = []

    def install(entries: dict[str, str], **more: dict[str, str]) -> None:
        site = plugin_site(entries, **more)["PYTHONPATH"].split(os.pathsep)[0]
        sys.path.insert(0, site)
        added.append(site)
        importlib.invalidate_caches()
        registry.refresh()

    yield install
    for site in added:
        sys.path.remove(site)
    importlib.invalidate_caches()
    registry.refresh()


@pytest.fixture
def harness_main(store, monkeypatch, capsys):
    """Call `harness ARGS` in this process in the project folder: returns (exit code, stderr)."""
    from harness.cli import main

    monkeypatch.chdir(store.root)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("HARNESS_STORAGE", raising=False)

    def call(*args: str) -> tuple[int, str]:
        monkeypatch.setattr(sys, "argv", ["harness", *args])
        with pytest.raises(SystemExit) as exit_info:
            main()
        err = capsys.readouterr().err
        return exit_info.value.code, " ".join(err.split())  # undo rich's line wrapping

    return call


def _children(pid: int) -> list[int]:
    """Process ids whose parent is `pid` (from /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    if int(stat.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except (OSError, ValueError, IndexError):
                continue
    return found


@pytest.fixture
def children():
    """`children(pid)`: the ids of a process's child processes (from /proc)."""
    return _children


@pytest.fixture
def read_only():
    """`read_only(folder)`: make a folder read-only for every process, root's too, until the test
    ends: a read-only bind mount of it on itself (root; skipped where mounting is refused), or
    its write permissions taken away (other users)."""
    import stat

    mounted, chmodded = [], []

    def make(folder: Path) -> None:
        if os.geteuid() != 0:
            for path in [folder, *folder.rglob("*")]:
                mode = path.stat().st_mode
                os.chmod(path, mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
                chmodded.append((path, mode))
            return
        for command in (
            ["mount", "--bind", str(folder), str(folder)],
            ["mount", "-o", "remount,bind,ro", str(folder)],
        ):
            proc = subprocess.run(command, capture_output=True, text=True)
            if proc.returncode != 0:
                if mounted:
                    subprocess.run(["umount", str(folder)], capture_output=True)
                pytest.skip(f"cannot mount a read-only folder here: {proc.stderr.strip()}")
            if not mounted or mounted[-1] != folder:
                mounted.append(folder)

    yield make
    for folder in reversed(mounted):
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)
    for path, mode in reversed(chmodded):
        os.chmod(path, mode)
