"""A study's worker process: model code runs there under hard limits, so a bad trial costs one.

Each study forks one worker before its first trial. The worker inherits the study's context (the
prepared data, the model, the build spec) through the fork, so nothing large is sent to it; the
study process sends it jobs (a configuration to cross-validate, a configuration to refit) and gets
back small results. Heavy libraries (XGBoost, TensorFlow) are imported in the worker only, once,
and stay loaded for the study's later trials.

The study process watches every job:

- **time**: a job running longer than `Limits.seconds` (or past the `until` it was given) is
  killed; the trial's status is `timeout`. A margin before that kill the job's fit deadline
  passes (`harness.protocol.deadline`): iterative learners stop there and keep what they learned,
  so the kill is the last resort of those that cannot stop.
- **memory**: the worker's resident memory is read from `/proc` every 50 ms; above
  `Limits.memory_mb` it is killed and the trial's status is `oom` (a `MemoryError` raised inside the
  worker counts the same).
- **crashes**: a worker that dies (a segfault in native code, `os._exit`) fails the trial with the
  signal or exit code; the study goes on.

A killed or dead worker is replaced by a fresh fork for the next job. Jobs can stream messages back
(one per fold) and the study process may answer "stop" (Optuna pruning), which ends the job at the
next message without killing the worker.

Forking needs a POSIX system (Linux, macOS). The study process must not have started TensorFlow:
harness imports it only inside model code, which runs here.
"""

from __future__ import annotations

import gc
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from harness.execution.messages import Answer, Done, Failed, Job, Progress, Stopped
from harness.protocol import deadline as fit_deadlines

__all__ = ["POLL_SECONDS", "JobFailed", "Limits", "Worker", "rss_mb"]

POLL_SECONDS = 0.05
# Studies run in threads with `--workers N`: one fork at a time, so gc.freeze/unfreeze pair up.
_FORK_LOCK = threading.Lock()


@dataclass(frozen=True)
class Limits:
    """Hard limits for each job of a worker.

    Attributes:
        seconds: Wall-clock seconds a job may run (None: no limit).
        memory_mb: Resident memory the worker may use, in MiB (None: no limit).
    """

    seconds: float | None = None
    memory_mb: float | None = None


class JobFailed(Exception):
    """A job that did not finish: killed at a limit, crashed, or raised inside the worker.

    Attributes:
        status: "timeout", "oom" or "failed" (the status vocabulary of trials and studies).
    """

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status


class _Stopped(Exception):
    """Raised inside the worker when the study process answers a message with "stop"."""


def rss_mb(pid: int) -> float | None:
    """Resident memory of a process in MiB, from /proc (None when it cannot be read)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies (a `kill -9` of harness)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _serve(conn: Any, context: Any) -> None:
    """The worker's loop: run jobs until the pipe closes. Never returns normally."""
    from harness.errors import error_text

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the study process's to handle
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _die_with_parent()

    def send(message: Any) -> None:
        conn.send(Progress(message))
        if conn.recv() is Answer.STOP:
            raise _Stopped

    while True:
        try:
            job: Job = conn.recv()
        except (EOFError, OSError):
            break
        try:
            with fit_deadlines.fitting_until(job.deadline):
                reply: Done | Stopped | Failed = Done(job.function(context, send, *job.args))
        except _Stopped:
            reply = Stopped()
        except MemoryError as exc:
            reply = Failed("oom", f"the worker ran out of memory: {error_text(exc)}")
        except Exception as exc:
            reply = Failed("failed", error_text(exc))
        try:
            conn.send(reply)
        except Exception as exc:  # an unpicklable result
            conn.send(Failed("failed", f"cannot return the job's result: {error_text(exc)}"))


def _signal_name(code: int) -> str:
    try:
        return signal.Signals(-code).name
    except ValueError:
        return f"signal {-code}"


class Worker:
    """A forked process that runs jobs `function(context, send, *args)` under `limits`.

    Use as a context manager (or call `close`): the process is killed on exit.
    """

    def __init__(self, context: Any, limits: Limits | None = None) -> None:
        self.context = context
        self.limits = limits or Limits()
        self._process: Any = None
        self._conn: Any = None

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def pid(self) -> int | None:
        """The worker's process id (None before the first job or after a kill)."""
        return self._process.pid if self._process is not None else None

    def _start(self) -> None:
        import multiprocessing

        ctx = multiprocessing.get_context("fork")
        parent, child = ctx.Pipe(duplex=True)
        # Objects alive now stay out of the child's garbage collector: collecting them there
        # could close connections (MLflow, Optuna) that the study process still uses.
        with _FORK_LOCK:
            gc.freeze()
            try:
                # Not a daemon: joblib (scikit-learn's n_jobs) refuses to parallelize in daemons.
                # `close` (called in a `finally` by every user) and PR_SET_PDEATHSIG end it.
                process = ctx.Process(target=_worker_main, args=(child, parent, self.context))
                process.start()
            finally:
                gc.unfreeze()
        child.close()
        self._process, self._conn = process, parent

    def kill(self) -> None:
        """Kill the worker process now, from any thread; the job waiting on it fails as died."""
        process = self._process
        if process is not None and process.pid is not None:
            try:
                os.kill(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def close(self) -> None:
        """Kill the worker (if any) and release its pipe."""
        if self._process is not None:
            if self._process.is_alive():
                self._process.kill()
            self._process.join(timeout=10)
            self._conn.close()
        self._process, self._conn = None, None

    def call(
        self,
        function: Callable[..., Any],
        *args: Any,
        on_message: Callable[[Any], bool] | None = None,
        until: float | None = None,
        fit_by: float | None = None,
    ) -> Any:
        """Run `function(context, send, *args)` in the worker and return its result.

        `function` must be importable by name (a module-level function). Inside it, `send(msg)`
        passes `msg` to `on_message` here; when `on_message` raises, the job is stopped and the
        exception re-raised here, leaving the worker alive for the next job. `until` (a
        `time.monotonic()` instant: the end of a whole-run budget) kills a job still running then,
        like the per-job limit. The job's fit deadline comes a margin before the earlier of the
        two kills (`harness.protocol.deadline.soft_deadline`), and not after `fit_by` (an
        instant: a deadline without a kill).

        Raises:
            JobFailed: The job raised in the worker (status "failed", or "oom" for a
                MemoryError), ran over a limit ("timeout", "oom"; the worker is killed), or the
                worker died ("failed").
        """
        if self._process is None or not self._process.is_alive():
            self.close()
            self._start()
        conn, process = self._conn, self._process
        in_sync = False  # True once the worker has answered this job and waits for the next
        try:
            result = self._wait(conn, process, function, args, on_message, until, fit_by)
            in_sync = True
            return result
        except JobFailed as exc:
            in_sync = exc.status == "failed" and self._process is not None
            raise
        except BaseException as exc:
            in_sync = getattr(exc, "_harness_in_sync", False)
            raise
        finally:
            if not in_sync:  # interrupted mid-job: the pipe is out of step, start afresh
                self.close()

    def _wait(
        self,
        conn: Any,
        process: Any,
        function: Callable[..., Any],
        args: tuple,
        on_message: Callable[[Any], bool] | None,
        until: float | None = None,
        fit_by: float | None = None,
    ) -> Any:
        started = time.monotonic()
        deadline = started + self.limits.seconds if self.limits.seconds else None
        kills = [t for t in (deadline, until) if t is not None]
        soft = fit_deadlines.soft_deadline(min(kills), started) if kills else None
        fits = [t for t in (soft, fit_by) if t is not None]
        conn.send(Job(function, args, min(fits) if fits else None))
        pending: BaseException | None = None
        while True:
            kind: Any = None
            if conn.poll(POLL_SECONDS):
                try:
                    message = conn.recv()
                except (EOFError, OSError):
                    message, kind = None, "died"
                if isinstance(message, Progress):
                    try:
                        keep_going = True if on_message is None else on_message(message.payload)
                    except Exception as exc:  # e.g. optuna.TrialPruned
                        pending, keep_going = exc, False
                    conn.send(Answer.GO if keep_going is not False else Answer.STOP)
                    continue
                if isinstance(message, Done):
                    return message.value
                if isinstance(message, Stopped):
                    if pending is None:
                        pending = JobFailed("failed", "the job was stopped")
                    pending._harness_in_sync = True  # the worker is ready for the next job
                    raise pending
                if isinstance(message, Failed):
                    raise JobFailed(message.status, message.text)
            elif not process.is_alive():
                kind = "died"
            else:
                kind = self._over_limit(process.pid, started, deadline, until)
            if kind == "died":
                process.join(timeout=5)
                code = process.exitcode
                self.close()
                how = _signal_name(code) if code and code < 0 else f"exit code {code}"
                raise JobFailed("failed", f"the worker process died ({how})")
            if kind is not None:
                status, text = kind
                self.close()
                raise JobFailed(status, text)

    def _over_limit(
        self, pid: int, started: float, deadline: float | None, until: float | None = None
    ) -> Any:
        now = time.monotonic()
        if until is not None and now >= until and (deadline is None or until < deadline):
            return "timeout", (
                f"killed after {now - started:.1f} s: the end of its share of the run's budget"
            )
        if deadline is not None and now >= deadline:
            return "timeout", (
                f"killed after {now - started:.1f} s: over the limit of "
                f"{self.limits.seconds:g} s per trial"
            )
        if self.limits.memory_mb:
            used = rss_mb(pid)
            if used is not None and used > self.limits.memory_mb:
                return "oom", (
                    f"killed at {used:.0f} MiB of memory: over the limit of "
                    f"{self.limits.memory_mb:.0f} MiB per worker"
                )
        return None


def _worker_main(conn: Any, parent_end: Any, context: Any) -> None:
    """Entry of the forked process: serve jobs, then leave without running the parent's exit
    handlers (they belong to the study process: its MLflow and Optuna connections)."""
    code = 0
    try:
        parent_end.close()
        _serve(conn, context)
    except BaseException:
        code = 1
    finally:
        os._exit(code)
