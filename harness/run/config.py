"""What a run is asked to do, what it returns, and the hooks that report its progress.

The run's policy lives here, not in the command line: `RunConfig(task="ames")` behaves as
`harness run ames`. Fields left at None get the defaults a command gets (5 trials within 20
seconds per study; with a budget, time as the only limit; a memory limit of 90% of the RAM shared
among the workers; a preset's folds, budget and ensembling). A resolved config keeps the values
it chose, so `dataclasses.replace` on it changes only what it is given.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from harness import devices
from harness.data.health import Finding
from harness.errors import UsageError
from harness.protocol.splits import check_seed
from harness.store.schema import (
    FINALS,
    STATUSES,  # re-exported: what a StudyResult can say
)

__all__ = [
    "BUDGET_MAX_TRIALS",
    "DEFAULT_STUDY_TIMEOUT",
    "DEFAULT_TRIALS",
    "MAX_REPEATS",
    "MAX_TRIALS",
    "MEMORY_SHARE",
    "SHIPPED_PORTFOLIO",
    "STATUSES",
    "Reporter",
    "RunConfig",
    "StudyResult",
]

DEFAULT_TRIALS = 5
DEFAULT_STUDY_TIMEOUT = 20.0  # per study, when neither trials nor a timeout is given
MEMORY_SHARE = 0.9  # of the RAM, divided among the workers: the default memory limit
BUDGET_MAX_TRIALS = 100_000  # with --budget and no --trials, time is the only limit
# Every slot of --trials is queued when a study starts, and every repeat's folds are made
# before the first trial: larger values would hang the start (and could not finish anyway).
MAX_TRIALS = BUDGET_MAX_TRIALS
MAX_REPEATS = 100
SHIPPED_PORTFOLIO = "shipped"  # RunConfig.portfolio: the package's portfolio


@dataclass(frozen=True)
class RunConfig:
    """What `harness run` was asked to do.

    Attributes:
        task: Task name.
        models: Model names; empty means every registered model that supports the task (or
            the preset's models).
        trials: Trials each study should have in total (resume adds only the missing ones).
            None: 5, or no limit but time with a budget.
        timeout: Seconds after which a study starts no new trial. None: 20 when `trials` is
            None too and there is no budget, else no limit.
        folds: CV folds (None: the preset's, else the task's default).
        repeats: Repetitions of the K-fold (repeated CV); not for time-ordered tasks.
        seed: Seed for the splits, the sampler and the models.
        fresh: Delete existing studies of these models before tuning.
        n_jobs: Threads per model (None: the cores divided among the workers).
        trial_timeout: Hard wall-clock limit per trial (and for the refit), in seconds; a trial
            over it is killed and recorded as timeout (None: no limit).
        memory_limit: Hard limit on a study worker's resident memory, in MiB; a trial over it is
            killed and recorded as oom (None: 90% of the RAM divided among the workers).
        workers: Studies run at once (each in its own worker process); threads per model default
            to the cores divided among them.
        budget: Wall-clock seconds for the whole run, shared among the studies by
            `harness.run.schedule` (None: the preset's, else each study runs its `trials`
            within `timeout`).
        ensemble: After the studies, blend the ok ones by greedy selection on their out-of-fold
            predictions (`harness.protocol.ensemble`) and record the blend as the model
            "ensemble" (None: the preset's choice, else on).
        preset: fast, medium or best (`harness.run.presets`): models, folds, budget and
            ensembling in one word; the fields given with it win.
        final: What predicts the holdout and the test part: "bag" (the best trial's fold
            models, their predictions averaged: no refit) or "refit" (the best configuration
            fitted once more on the whole training part). None: a bag, except on time-ordered
            tasks, whose fold models never saw the latest rows (`final_for`).
        portfolio: Configurations each study tries right after its defaults
            (`harness.tuning.portfolio`): "shipped" (the package's, built on the catalog), a
            portfolio file's path, or None for none (`--no-portfolio`).
        log_models: Log each ok study's final model (and the ensemble's blend) as an MLflow
            logged model that `harness predict` and `mlflow.pyfunc.load_model` load
            (`harness.results.models`); False (`--no-log-models`) saves its seconds and disk.
    """

    task: str
    models: tuple[str, ...] = ()
    trials: int | None = None
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
    ensemble: bool | None = None
    preset: str | None = None
    final: str | None = None
    portfolio: str | None = SHIPPED_PORTFOLIO
    log_models: bool = True

    def __post_init__(self) -> None:
        self._resolve()
        self._check()

    def _resolve(self) -> None:
        """Fill the fields left at None with the run's policy (idempotent: `replace` re-runs
        it on values it already chose)."""
        from harness.run.presets import get_preset

        preset = get_preset(self.preset) if self.preset else None
        chosen: dict = {}
        budget = self.budget if self.budget is not None else (preset and preset.budget)
        if budget is not None:
            if self.timeout is not None:
                raise UsageError(
                    "--timeout (per study) and --budget (the whole run) exclude each other; "
                    "give one of them."
                )
            chosen["budget"] = budget
            if self.trials is None:
                chosen["trials"] = BUDGET_MAX_TRIALS
        elif self.trials is None:
            chosen["trials"] = DEFAULT_TRIALS
            if self.timeout is None:
                chosen["timeout"] = DEFAULT_STUDY_TIMEOUT
        if self.folds is None and preset is not None:
            chosen["folds"] = preset.folds
        if self.ensemble is None:
            chosen["ensemble"] = preset.ensemble if preset is not None else True
        if self.memory_limit is None and self.workers >= 1:
            chosen["memory_limit"] = devices.memory_mb(MEMORY_SHARE / self.workers)
        for name, value in chosen.items():
            object.__setattr__(self, name, value)

    def final_for(self, ordered: bool) -> str:
        """The final model of a task's studies ("bag" or "refit"); `ordered`: time-ordered."""
        if self.final is not None:
            return self.final
        return "refit" if ordered else "bag"

    def portfolio_file(self):
        """The portfolio the studies use (`harness.tuning.portfolio.Portfolio`), or None."""
        from harness.tuning.portfolio import load_portfolio

        if self.portfolio is None:
            return None
        return load_portfolio(None if self.portfolio == SHIPPED_PORTFOLIO else self.portfolio)

    def _check(self) -> None:
        if self.portfolio not in (None, SHIPPED_PORTFOLIO):
            self.portfolio_file()  # a missing or malformed file is refused before any work
        if self.final is not None and self.final not in FINALS:
            raise UsageError(f"--final must be bag or refit, got {self.final!r}.")
        if self.trials < 1:
            raise UsageError(f"--trials must be at least 1, got {self.trials}.")
        if self.trials > MAX_TRIALS:
            raise UsageError(
                f"--trials must be at most {MAX_TRIALS:,}, got {self.trials}; for a run limited "
                "by time only, give --budget without --trials."
            )
        _seconds(self.timeout, "--timeout")
        _seconds(self.trial_timeout, "--trial-timeout")
        check_seed(self.seed)
        if self.folds is not None and self.folds < 2:
            raise UsageError(f"--folds must be at least 2, got {self.folds}.")
        if self.repeats < 1:
            raise UsageError(f"--repeats must be at least 1, got {self.repeats}.")
        if self.repeats > MAX_REPEATS:
            raise UsageError(f"--repeats must be at most {MAX_REPEATS}, got {self.repeats}.")
        if self.n_jobs is not None and self.n_jobs < 1:
            raise UsageError(f"--jobs must be at least 1, got {self.n_jobs}.")
        if self.workers < 1:
            raise UsageError(f"--workers must be at least 1, got {self.workers}.")
        cores = devices.cpu_count()
        if self.workers > cores:
            raise UsageError(
                f"--workers {self.workers} is more than the {cores} cores here; studies in "
                f"parallel would oversubscribe them. Use --workers {cores} or fewer."
            )
        if self.n_jobs is not None and self.n_jobs > cores:
            raise UsageError(
                f"--jobs {self.n_jobs} is more than the {cores} cores here; more threads than "
                f"cores only compete for them. Use --jobs {cores} or fewer."
            )
        if self.workers > 1 and self.n_jobs is not None and self.n_jobs * self.workers > cores:
            raise UsageError(
                f"--workers {self.workers} x --jobs {self.n_jobs} = "
                f"{self.n_jobs * self.workers} threads on {cores} cores; lower one of them "
                "(without --jobs, the cores are divided among the workers)."
            )
        if self.budget is not None and not (self.budget > 0 and math.isfinite(self.budget)):
            raise UsageError(
                f"--budget must be a finite number of seconds above 0, got {self.budget}."
            )
        if self.memory_limit is not None and not math.isfinite(self.memory_limit):
            raise UsageError(
                f"--memory-limit must be a finite size such as 4G, got {self.memory_limit}."
            )
        if self.memory_limit is not None and self.memory_limit < 64:
            raise UsageError(
                f"--memory-limit must be at least 64 MiB, got {self.memory_limit:g} MiB."
            )


def _seconds(value: float | None, flag: str) -> None:
    """Refuse a number of seconds that is not finite and above 0 (NaN, inf, 0, negative)."""
    if value is not None and not (value > 0 and math.isfinite(value)):
        raise UsageError(
            f"{flag} must be a positive number of seconds, got {value}"
            + ("; to have no limit, leave it out." if value == math.inf else ".")
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
        holdout: Holdout score of the study's final model (`RunConfig.final`: the bag of
            the best trial's fold models, or its refit), primary metric.
        trials_done: Trials the study has finished in total.
        trials_run: Trials this run added.
        best_params: The best configuration.
        tuning_seconds: Wall-clock seconds this run spent tuning the study.
        run_id: The MLflow parent run.
        submission: Predictions of the final model on the unlabeled test part, in the
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

    def notice(self, message: str) -> None:
        """A one-line notice about the stores (a moved store re-rooted, a half-created one
        rebuilt), before the first study."""
