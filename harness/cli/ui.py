"""`harness ui`: the MLflow UI on the current store, bound to 127.0.0.1 unless asked otherwise."""

from __future__ import annotations

import typer

from harness.cli.app import app

__all__ = ["ui"]


def _port_free(host: str, port: int) -> bool:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


@app.command("ui")
def ui(
    port: int = typer.Option(5000, "--port", "-p", help="Port to serve on."),
    host: str = typer.Option(
        "127.0.0.1", "--host", help="Interface to bind (default: this machine only)."
    ),
    tracking_uri: str = typer.Option(
        None, "--tracking-uri", help="MLflow store (default: MLFLOW_TRACKING_URI, else ./mlruns)."
    ),
) -> None:
    """Start the MLflow UI on the store and print its address; Ctrl-C stops it."""
    import os
    import signal
    import subprocess
    import sys

    from harness.errors import HarnessError, UsageError
    from harness.store.urls import local_store_missing, mask, resolve_stores

    if not 0 < port < 65536:
        raise UsageError(f"--port must be between 1 and 65535; got {port}.")
    stores = resolve_stores(tracking_uri, create=False)
    if local_store_missing(stores):
        raise HarnessError(
            f"No MLflow store at {mask(stores.tracking_uri)!r}. Run 'harness run TASK' first, "
            "or pass --tracking-uri."
        )
    if stores.tracking_uri.startswith("sqlite:///"):
        # MLflow's UI reads artifacts where the store says: re-root a moved one first
        from harness.cli.app import tell
        from harness.store.tracker import Tracker

        tell(Tracker(stores, repair=False).notices)
    if not _port_free(host, port):
        raise HarnessError(f"Port {port} on {host} is in use; pass another with --port.")
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
    # Its own process group, so stopping harness stops the server and all its workers.
    server = subprocess.Popen(command, start_new_session=True)

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
