"""Model code runs in a forked worker: limits kill it, crashes are contained, results come back."""

from __future__ import annotations

import os
import signal
import time

import numpy as np
import pytest

from harness.execution.worker import JobFailed, Limits, Worker


def _add(context, send, a, b):
    return context + a + b


def _count_folds(context, send, folds):
    for fold in range(folds):
        send(fold)
    return "all folds"


def _sleep(context, send, seconds):
    time.sleep(seconds)
    return "woke"


def _hog(context, send):
    hoard = [np.ones(50 * 2**20, dtype=np.uint8) for _ in range(2)]  # 100 MiB at once
    while True:
        hoard.append(np.ones(50 * 2**20, dtype=np.uint8))
        time.sleep(0.02)


def _crash(context, send):
    import faulthandler

    faulthandler.disable()  # pytest's traceback dump of the dying worker is noise here
    os.kill(os.getpid(), signal.SIGSEGV)


def _raise(context, send):
    raise ValueError("the solver diverged")


def _pid(context, send):
    return os.getpid()


def test_a_job_runs_in_another_process_with_the_inherited_context():
    with Worker(context=10) as worker:
        assert worker.call(_add, 1, 2) == 13
        assert worker.call(_pid) != os.getpid()
        first = worker.pid
        assert worker.call(_add, 0, 0) == 10 and worker.pid == first  # one worker per study


def test_messages_reach_the_study_process_which_can_stop_the_job_and_keep_the_worker():
    seen = []
    with Worker(context=0) as worker:
        assert worker.call(_count_folds, 3, on_message=seen.append) == "all folds"
        assert seen == [0, 1, 2]
        seen.clear()

        class Prune(Exception):
            pass

        def prune_after_one(fold):
            seen.append(fold)
            if fold == 1:
                raise Prune("pruned after fold 2")
            return True

        pid = worker.pid
        with pytest.raises(Prune, match="pruned after fold 2"):
            worker.call(_count_folds, 5, on_message=prune_after_one)
        assert seen == [0, 1]
        assert worker.pid == pid  # stopping is not killing
        assert worker.call(_add, 1, 1) == 2


def test_a_job_over_the_time_limit_is_killed_as_timeout_and_the_next_job_gets_a_new_worker():
    with Worker(context=0, limits=Limits(seconds=2)) as worker:
        first = worker.call(_pid)
        started = time.monotonic()
        with pytest.raises(JobFailed, match=r"killed after 2.\d s: over the limit of 2 s") as e:
            worker.call(_sleep, 30)
        assert e.value.status == "timeout"
        assert time.monotonic() - started < 10
        assert worker.call(_pid) != first


def test_a_job_over_the_memory_limit_is_killed_as_oom():
    with Worker(context=0, limits=Limits(memory_mb=400)) as worker:
        with pytest.raises(JobFailed, match="over the limit of 400 MiB per worker") as e:
            worker.call(_hog)
        assert e.value.status == "oom"
        assert worker.call(_add, 1, 1) == 2


def test_a_crash_in_native_code_fails_the_job_not_the_study_process():
    with Worker(context=0) as worker:
        with pytest.raises(JobFailed, match=r"the worker process died \(SIGSEGV\)") as e:
            worker.call(_crash)
        assert e.value.status == "failed"
        assert worker.call(_add, 2, 2) == 4


def test_an_exception_in_the_job_comes_back_with_its_text_and_the_worker_survives():
    with Worker(context=0) as worker:
        pid = worker.call(_pid)
        with pytest.raises(JobFailed, match="ValueError: the solver diverged") as e:
            worker.call(_raise)
        assert e.value.status == "failed"
        assert worker.call(_pid) == pid


def test_closing_kills_the_worker():
    worker = Worker(context=0)
    pid = worker.call(_pid)
    worker.close()
    time.sleep(0.1)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
