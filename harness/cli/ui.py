"""`harness ui [TASK]`: the MLflow UI on the current store, opened on the task's runs table.

The server is bound to 127.0.0.1 unless asked otherwise. The addresses printed (and opened in
a browser when there is one) are `harness.results.mlflow_ui`'s: the classic runs table of the
task's experiment, filtered to the runs its leaderboard shows, never the GenAI overview.
"""

from __future__ import annotations

import typer

from harness.cli.app import app

__all__ = ["ui"]

# Seconds to wait for the server before giving up on opening a browser (it still serves).
BROWSER_WAIT = 120.0


def _port_free(host: str, port: int) -> bool:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _graphical_browser():
    """The web browser to open, or None when opening one could hang or go nowhere: output
    that is not a terminal (a pipe, CI logs), a CI job, or on Linux no display (an SSH
    session); and never a text browser, which would take over this terminal."""
    import os
    import sys
    import webbrowser

    if os.environ.get("CI") or not (sys.stdout.isatty() and sys.stdin.isatty()):
        return None
    if sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd")) and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        return None
    try:
        browser = webbrowser.get()
    except webbrowser.Error:
        return None
    terminal = ("www-browser", "links", "elinks", "lynx", "w3m")
    if getattr(browser, "name", "") in terminal:
        return None
    return browser


def _open_when_ready(browser, host: str, port: int, url: str, server) -> None:
    """Open `url` once the server accepts connections (in a daemon thread: never blocks)."""
    import socket
    import threading
    import time

    target = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host

    def wait_and_open() -> None:
        deadline = time.monotonic() + BROWSER_WAIT
        while time.monotonic() < deadline and server.poll() is None:
            with socket.socket() as probe:
                probe.settimeout(1.0)
                if probe.connect_ex((target, port)) == 0:
                    try:
                        browser.open(url, new=2)
                    except Exception:  # the address is printed: nothing is lost
                        pass
                    return
            time.sleep(0.5)

    threading.Thread(target=wait_and_open, daemon=True).start()


@app.command("ui")
def ui(
    task: str = typer.Argument(
        None, help="Open this task's runs table (default: the list of experiments)."
    ),
    port: int = typer.Option(5000, "--port", "-p", help="Port to serve on."),
    host: str = typer.Option(
        "127.0.0.1", "--host", help="Interface to bind (default: this machine only)."
    ),
    browser: bool = typer.Option(
        True,
        "--browser/--no-browser",
        help="Open the address in a web browser (never without a display, in CI, or when the "
        "output is not a terminal).",
    ),
    tracking_uri: str = typer.Option(
        None, "--tracking-uri", help="MLflow store (default: MLFLOW_TRACKING_URI, else ./mlruns)."
    ),
) -> None:
    """Start the MLflow UI on the store, print the task's runs table (the current study run of
    each model and the ensemble, in the Model training view) and open it; Ctrl-C stops it."""
    import os
    import signal
    import subprocess
    import sys

    from harness.cli.app import tell
    from harness.errors import HarnessError, UsageError
    from harness.results.mlflow_ui import base_url, experiments, pages
    from harness.store.tracker import Tracker
    from harness.store.urls import local_store_missing, mask, resolve_stores

    if not 0 < port < 65536:
        raise UsageError(f"--port must be between 1 and 65535; got {port}.")
    stores = resolve_stores(tracking_uri, create=False)
    if local_store_missing(stores):
        raise HarnessError(
            f"No MLflow store at {mask(stores.tracking_uri)!r}. Run 'harness run TASK' first, "
            "or pass --tracking-uri."
        )
    # MLflow's UI reads artifacts where the store says: a moved local store is re-rooted first
    tracker = Tracker(stores, repair=False)
    tell(tracker.notices)
    found = experiments(tracker, task)
    if not _port_free(host, port):
        raise HarnessError(f"Port {port} on {host} is in use; pass another with --port.")
    shown = pages(tracker, found, base_url(host, port), listed=not task)
    command = [
        sys.executable, "-m", "mlflow", "ui",
        "--backend-store-uri", stores.tracking_uri,
        "--host", host,
        "--port", str(port),
        "--workers", "1",
    ]  # fmt: skip
    if stores.artifact_root:
        command += ["--default-artifact-root", stores.artifact_root]
    typer.echo(f"MLflow UI for {mask(stores.tracking_uri)} at http://{host}:{port} (Ctrl-C stops)")
    for page in shown:
        typer.echo(f"{page.title}: {page.url}")
    # MLflow's job runner (GenAI scoring and trace archival: seven processes) is not needed here
    env = {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", **os.environ}
    # Its own process group, so stopping harness stops the server and all its workers.
    server = subprocess.Popen(command, start_new_session=True, env=env)
    opener = _graphical_browser() if browser and shown else None
    if opener is not None:
        _open_when_ready(opener, host, port, shown[0].url, server)

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        code = server.wait()
    except KeyboardInterrupt:
        code = 0
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
    raise typer.Exit(code)
