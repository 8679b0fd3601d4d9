"""A real PostgreSQL server and a real MLflow tracking server on 127.0.0.1, once per session.

PostgreSQL comes from Debian's `postgresql` package: found under /usr/lib/postgresql/*/bin, or
installed with `apt-get install -y postgresql` when running as root (as CI does on a fresh
machine). A throwaway cluster is made with `initdb` in a temporary folder (as the `postgres`
user when running as root; PostgreSQL refuses to run as root) and started on a free port. The
MLflow server (`mlflow server`, PostgreSQL backend, artifacts served from a temporary folder)
runs on another free port. Both are stopped at the end of the session. Without PostgreSQL and
no way to install it, the tests that need it are skipped with the reason.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass(frozen=True)
class Servers:
    """URLs of the shared stores: the Optuna storage and the MLflow tracking server."""

    storage: str
    tracking_uri: str
    root: Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _find_or_install_postgres() -> Path:
    """The folder of PostgreSQL's server binaries, installing Debian's package if needed."""
    binaries = _pg_bin()
    if binaries:
        return binaries
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.skip("PostgreSQL is not installed and cannot be (not root, or no apt-get)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "postgresql"]):
        proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
        if proc.returncode != 0:
            pytest.skip(f"apt-get could not install postgresql: {proc.stderr.strip()[-300:]}")
    binaries = _pg_bin()
    if binaries is None:
        pytest.skip("apt-get installed postgresql, but no initdb under /usr/lib/postgresql")
    return binaries


def _as_postgres(command: list[str]) -> list[str]:
    """Run as the `postgres` user when root (PostgreSQL refuses root)."""
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


def _run(command: list[str]) -> None:
    proc = subprocess.run(command, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {proc.stdout}{proc.stderr}")


def _wait_http(url: str, proc: subprocess.Popen, log: Path, seconds: float = 120) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"mlflow server exited: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"mlflow server did not answer in {seconds} s: {log.read_text()[-2000:]}")


@pytest.fixture(scope="session")
def servers():
    """Start PostgreSQL (databases `optuna` and `mlflow`) and an MLflow server; yield their URLs."""
    pytest.importorskip("psycopg", reason="the test extra installs psycopg[binary]")
    with start_servers(_find_or_install_postgres()) as started:
        yield started


@contextlib.contextmanager
def start_servers(binaries: Path):
    """Start the servers with PostgreSQL's binaries in `binaries`; stop them on exit."""
    # Not under pytest's tmp folder: it is private to root, and the server runs as `postgres`.
    root = Path(tempfile.mkdtemp(prefix="harness-scaleout-"))
    os.chmod(root, 0o755)
    data = root / "pgdata"
    data.mkdir()
    if os.geteuid() == 0:
        shutil.chown(data, "postgres")
    pg_port, ml_port = _free_port(), _free_port()
    _run(_as_postgres([str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust"]))
    options = f"-h 127.0.0.1 -p {pg_port} -k {data} -c fsync=off -c max_connections=200"
    pg_log = data / "server.log"
    _run(
        _as_postgres(
            [str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(pg_log)]
            + ["-w", "start"]
        )
    )
    mlflow_proc = None
    try:
        for name in ("optuna", "mlflow"):
            _run(
                [str(binaries / "createdb"), "-h", "127.0.0.1", "-p", str(pg_port)]
                + ["-U", "postgres", name]
            )
        base = f"postgresql://postgres@127.0.0.1:{pg_port}"
        ml_log = root / "mlflow.log"
        mlflow = Path(sys.executable).with_name("mlflow")
        with open(ml_log, "w") as log:
            mlflow_proc = subprocess.Popen(
                [str(mlflow), "server", "--backend-store-uri", f"{base}/mlflow"]
                + ["--artifacts-destination", str(root / "artifacts")]
                + ["--host", "127.0.0.1", "--port", str(ml_port), "--workers", "1"],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        _wait_http(f"http://127.0.0.1:{ml_port}/health", mlflow_proc, ml_log)
        yield Servers(f"{base}/optuna", f"http://127.0.0.1:{ml_port}", root)
    finally:
        try:
            if mlflow_proc is not None:
                with contextlib.suppress(ProcessLookupError):  # a throwaway server: no grace
                    os.killpg(mlflow_proc.pid, 9)
                mlflow_proc.wait(timeout=20)
        finally:
            subprocess.run(
                _as_postgres(
                    [str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]
                ),
                capture_output=True,
                timeout=60,
            )
            shutil.rmtree(root, ignore_errors=True)
