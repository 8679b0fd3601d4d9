"""What a run is asked to do, what it returns, and the hooks that report its progress."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from harness import devices
from harness.data.health import Finding
from harness.errors import UsageError

DEFAULT_TRIALS = 5
DEFAULT_STUDY_TIMEOUT = 20.0
BUDGET_MAX_TRIALS = 100_000  # with --budget and no --trials, time is the only limit
STATUSES = ("ok", "failed", "timeout", "oom", "pruned", "skipped")


@dataclass(frozen=True)
class RunConfig:
    """What `harness run` was asked to do.

    Attributes:
        task: Task name.
        models: Model names; empty means every registered model that supports the task.
        trials: Trials each study should have in total (resume adds only the missing ones).
        timeout: Seconds after which a study starts no new trial (None: no limit).
        folds: CV folds (None: the task's default).
        repeats: Repetitions of the K-fold (repeated CV); not for time-ordered tasks.
        seed: Seed for the splits, the sampler and the models.
        fresh: Delete existing studies of these models before tuning.
        n_jobs: Threads per model (None: all cores).
        trial_timeout: Hard wall-clock limit per trial (and for the refit), in seconds; a trial
            over it is killed and recorded as timeout (None: no limit).
        memory_limit: Hard limit on a study worker's resident memory, in MiB; a trial over it is
            killed and recorded as oom (None: no limit).
        workers: Studies run at once (each in its own worker process); threads per model default
            to the cores divided among them.
        budget: Wall-clock seconds for the whole run, shared among the studies by
            `harness.schedule` (None: each study runs its `trials` within `timeout`).
        ensemble: After the studies, blend the ok ones by greedy selection on their out-of-fold
            predictions (`harness.ensemble`) and record the blend as the model "ensemble".
    """

    task: str
    models: tuple[str, ...] = ()
    trials: int = DEFAULT_TRIALS
    timeout: float | None = None
    folds: int | None = None
    repeats: int = 1
    seed: int = 0
    fresh: bool = False
    n_jobs: int | None = None
    trial_timeout: float | None = None
    memory_limit: float | None = None
    workers: int = 1
    budget: float | None = None
    ensemble: bool = True

    def __post_init__(self) -> None:
        if self.trials < 1:
            raise UsageError(f"--trials must be at least 1, got {self.trials}.")
        if self.timeout is not None and self.timeout <= 0:
            raise UsageError(f"--timeout must be a positive number of seconds, got {self.timeout}.")
        if self.folds is not None and self.folds < 2:
            raise UsageError(f"--folds must be at least 2, got {self.folds}.")
        if self.repeats < 1:
            raise UsageError(f"--repeats must be at least 1, got {self.repeats}.")
        if self.n_jobs is not None and self.n_jobs < 1:
            raise UsageError(f"--jobs must be at least 1, got {self.n_jobs}.")
        if self.trial_timeout is not None and self.trial_timeout <= 0:
            raise UsageError(
                f"--trial-timeout must be a positive number of seconds, got {self.trial_timeout}."
            )
        if self.workers < 1:
            raise UsageError(f"--workers must be at least 1, got {self.workers}.")
        cores = devices.cpu_count()
        if self.workers > cores:
            raise UsageError(
                f"--workers {self.workers} is more than the {cores} cores here; studies in "
                f"parallel would oversubscribe them. Use --workers {cores} or fewer."
            )
        if self.workers > 1 and self.n_jobs is not None and self.n_jobs * self.workers > cores:
            raise UsageError(
                f"--workers {self.workers} x --jobs {self.n_jobs} = "
                f"{self.n_jobs * self.workers} threads on {cores} cores; lower one of them "
                "(without --jobs, the cores are divided among the workers)."
            )
        if self.budget is not None and self.budget <= 0:
            raise UsageError(f"--budget must be more than 0 seconds, got {self.budget}.")
        if self.memory_limit is not None and self.memory_limit < 64:
            raise UsageError(
                f"--memory-limit must be at least 64 MiB, got {self.memory_limit:g} MiB."
            )


@dataclass(frozen=True)
class StudyResult:
    """The outcome of one (task, model) study in this run.

    Attributes:
        model: Model name.
        status: ok, failed or skipped.
        reason: Why it failed or was skipped ("" when ok).
        cv_mean: Mean CV score of the best trial (primary metric).
        cv_std: Standard deviation of that score over folds.
        holdout: Holdout score of the refitted best configuration (primary metric).
        trials_done: Trials the study has finished in total.
        trials_run: Trials this run added.
        best_params: The best configuration.
        tuning_seconds: Wall-clock seconds this run spent tuning the study.
        run_id: The MLflow parent run.
        submission: Predictions of the refitted best model on the unlabeled test part, in the
            submission's format (None without a test part).
    """

    model: str
    status: str
    reason: str = ""
    cv_mean: float | None = None
    cv_std: float | None = None
    holdout: float | None = None
    trials_done: int = 0
    trials_run: int = 0
    best_params: dict = field(default_factory=dict)
    run_id: str | None = None
    submission: pd.DataFrame | None = field(default=None, compare=False, repr=False)
    tuning_seconds: float = field(default=0.0, compare=False)


class Reporter:
    """Progress hooks; the CLI draws them with rich, tests and libraries ignore them."""

    def study_started(self, model: str, trials_done: int, trials_target: int) -> None:
        """A study starts with `trials_done` of `trials_target` trials already finished."""

    def trial_finished(self, model: str, number: int, state: str, best: float | None) -> None:
        """A trial ended in `state`; `best` is the study's best CV score so far."""

    def study_finished(self, result: StudyResult) -> None:
        """A study ended (or was skipped)."""

    def health(self, findings: Sequence[Finding]) -> None:
        """The health warnings of the task's data, once, before the first study."""
