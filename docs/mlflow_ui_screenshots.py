"""Take the MLflow UI screenshots of docs/REPORTS.md in headless Chromium.

    python docs/mlflow_ui_screenshots.py            # writes docs/img/mlflow-ui-*.png
    python docs/mlflow_ui_screenshots.py --keep /tmp/ui-store   # keep (or reuse) the store

It runs breast_cancer in a new store (four models, then xgboost again, so one study run is
superseded), starts `harness ui breast_cancer --no-browser` on a free port and opens the address
it prints in Chromium, driven through the DevTools protocol over a pipe (`--remote-debugging-pipe`:
no extra package). The MLflow Assistant panel and the shared-view banner are closed before each
shot; nothing else is touched. Needs `chromium` on PATH (Debian's package).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

IMG = Path(__file__).resolve().parent / "img"
RUNS = (
    ("-m", "dummy", "-m", "linear", "-m", "random_forest", "-m", "xgboost", "--trials", "6"),
    ("-m", "xgboost", "--trials", "10"),  # a second invocation: the first xgboost run is superseded
)
CLOSE = (
    '[data-component-id="mlflow.assistant.chat_panel.close"]',
    '[data-component-id="mlflow.experiment_page.shared_view.dismiss"]',
)


class Chromium:
    """Headless Chromium driven over the DevTools protocol on a pipe (fds 3 and 4)."""

    def __init__(self, width: int, height: int) -> None:
        path = shutil.which("chromium")
        if path is None:
            raise SystemExit("chromium is not on PATH (apt-get install -y chromium).")
        to_child, self._out = os.pipe()
        self._in, from_child = os.pipe()

        def pipes() -> None:  # in the child: its fd 3 reads commands, fd 4 writes answers
            os.dup2(to_child, 3)
            os.dup2(from_child, 4)

        self.proc = subprocess.Popen(
            [path, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             "--remote-debugging-pipe", f"--window-size={width},{height}", "about:blank"],
            pass_fds=(3, 4), preexec_fn=pipes,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        os.close(to_child)
        os.close(from_child)
        self._buffer, self._next = b"", 0
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        attached = self.call("Target.attachToTarget", targetId=target, flatten=True)
        self.session = attached["sessionId"]
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height,
                  deviceScaleFactor=1, mobile=False, page=True)  # fmt: skip

    def call(self, method: str, page: bool = False, **params: object) -> dict:
        self._next += 1
        message: dict = {"id": self._next, "method": method, "params": params}
        if page:
            message["sessionId"] = self.session
        os.write(self._out, json.dumps(message).encode() + b"\0")
        while True:
            while b"\0" not in self._buffer:
                chunk = os.read(self._in, 1 << 16)
                if not chunk:
                    raise RuntimeError("chromium closed the pipe")
                self._buffer += chunk
            raw, self._buffer = self._buffer.split(b"\0", 1)
            answer = json.loads(raw)
            if answer.get("id") == self._next:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer.get("result", {})

    def evaluate(self, expression: str) -> object:
        result = self.call("Runtime.evaluate", page=True, expression=expression,
                           returnByValue=True, awaitPromise=True)  # fmt: skip
        return result.get("result", {}).get("value")

    def open(self, url: str, ready: str, timeout: float = 90.0) -> None:
        """Load `url` and wait until the page's text contains `ready`, then settle."""
        self.call("Page.navigate", page=True, url=url)
        deadline = time.monotonic() + timeout
        while not self.evaluate(f"document.body && document.body.innerText.includes({ready!r})"):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} never showed {ready!r}")
            time.sleep(0.5)
        time.sleep(2.0)  # fonts, column widths

    def close_panels(self) -> None:
        for selector in CLOSE:
            self.evaluate(f"document.querySelector({selector!r})?.click()")
        time.sleep(1.5)

    def shot(self, path: Path) -> None:
        data = self.call("Page.captureScreenshot", page=True, format="png")["data"]
        path.write_bytes(base64.b64decode(data))
        print(f"wrote {path} ({path.stat().st_size // 1024} KB)")

    def quit(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _answers(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _harness(*args: str, cwd: Path) -> None:
    env = {**os.environ, "HARNESS_DEVICE": "cpu"}
    env.pop("MLFLOW_TRACKING_URI", None)
    done = subprocess.run([sys.executable, "-m", "harness", *args], cwd=cwd, env=env)
    if done.returncode != 0:
        raise SystemExit(f"harness {' '.join(args)} exited {done.returncode}")


def _current_run(store: Path, model: str) -> tuple[str, str]:
    """(experiment id, run id) of the model's current study run."""
    from mlflow import MlflowClient

    client = MlflowClient(f"sqlite:///{store / 'mlruns' / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("breast_cancer")
    (run,) = client.search_runs(
        [experiment.experiment_id],
        f"tags.`harness.current` = 'true' and tags.`harness.model` = '{model}'",
    )
    return experiment.experiment_id, run.info.run_id


def take(store: Path, out: Path) -> None:
    if not (store / "mlruns").exists():  # a kept store is reused
        for args in RUNS:
            _harness("run", "breast_cancer", *args, cwd=store)
    port = _free_port()
    ui = subprocess.Popen(
        [sys.executable, "-m", "harness", "ui", "breast_cancer", "--port", str(port),
         "--no-browser"],
        cwd=store, stdout=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    browser = None
    try:
        lines = [ui.stdout.readline(), ui.stdout.readline()]
        url = lines[1].split(": ", 1)[1].strip()
        print("".join(lines), end="")
        deadline = time.monotonic() + 150
        while not _answers(port):
            if time.monotonic() > deadline:
                raise SystemExit("the MLflow UI did not start")
            time.sleep(1)
        browser = Chromium(1640, 500)
        browser.open(url, "matching runs")
        browser.close_panels()
        browser.shot(out / "mlflow-ui-runs.png")
        experiment_id, run_id = _current_run(store, "xgboost")
        base = url.split("/#/")[0]
        run_url = (
            f"{base}/#/experiments/{experiment_id}/runs/{run_id}?workflowType=machine_learning"
        )
        browser = _resized(browser, 1480, 900)
        browser.open(run_url, "Description")
        browser.close_panels()
        browser.shot(out / "mlflow-ui-run.png")
    finally:
        if browser is not None:
            browser.quit()
        os.killpg(ui.pid, signal.SIGTERM)
        ui.wait(timeout=60)


def _resized(browser: Chromium, width: int, height: int) -> Chromium:
    browser.quit()
    return Chromium(width, height)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=IMG, help="Folder of the PNGs.")
    parser.add_argument(
        "--keep", type=Path, help="Make the store in this folder and keep it (or reuse it)."
    )
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        take(args.keep, args.out)
    else:
        with tempfile.TemporaryDirectory(prefix="harness-ui-shots-") as tmp:
            take(Path(tmp), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
