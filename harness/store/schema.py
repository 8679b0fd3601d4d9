"""The names harness gives MLflow tags, metrics and artifacts, in one place.

Writers (the run, the tracker, `harness worker`) and readers (leaderboards, reports, submissions)
use these names and never spell them; a test checks that no module outside this one spells a
`harness.` tag. Every tag is `harness.<name>`; the metric names take the task's metric names.
"""

from __future__ import annotations

from harness.protocol.deadline import CUT_SHORT

__all__ = [
    "BEST_PARAMS",
    "BEST_TRIAL",
    "BUDGET",
    "CONTEXT_HOLDOUT",
    "CONTEXT_TRAINING",
    "CURRENT",
    "CURRENT_FILTER",
    "CURRENT_MARKED",
    "CUT_SHORT",
    "CV",
    "DATA_CONTEXT",
    "DATA_FINGERPRINT",
    "DEFAULT_CONFIG",
    "PORTFOLIO",
    "PORTFOLIO_CONFIG",
    "DEVICE",
    "DIRECTION",
    "ENSEMBLE_CANDIDATES",
    "ENSEMBLE_MEMBERS",
    "ENSEMBLE_RUNS",
    "ENSEMBLE_NOTES",
    "ENSEMBLE_SELECTION",
    "ERROR",
    "EXPERIMENT_KIND",
    "EXPERIMENT_KIND_ML",
    "FAMILY",
    "FINAL",
    "FINALS",
    "FINAL_MODELS",
    "FOLDS",
    "FOLDS_OF",
    "FOLDS_FINGERPRINT",
    "FOLD_SCORES",
    "HEALTH",
    "HEALTH_WARNINGS",
    "HOLDOUT_ARRAY",
    "HOLDOUT_PREDICTIONS",
    "IMPORTANCE",
    "HOST",
    "KIND",
    "KINDS",
    "KIND_ENSEMBLE",
    "KIND_LEADERBOARD",
    "KIND_STUDY",
    "KIND_TRIAL",
    "KIND_WORKER",
    "LEADER",
    "LOGGED_MODEL",
    "METRIC",
    "MODALITY",
    "MODEL",
    "MODELS",
    "MODEL_ERROR",
    "MODEL_FILES",
    "MODEL_LOG_SECONDS",
    "MODEL_MB",
    "NOTE",
    "OOF",
    "OOF_ARRAY",
    "OOF_TRIAL",
    "PARENT_TAG",
    "PID",
    "PROBLEM_TYPE",
    "REASON",
    "REPEATS",
    "SEED",
    "SHARED_VIEW",
    "SOURCE",
    "SOURCE_OPTIONS",
    "SOURCE_NAME",
    "SOURCE_TYPE",
    "STATUS",
    "STATUSES",
    "STUDY",
    "STUDY_UID",
    "SUBMISSION",
    "TAG",
    "TASK",
    "TEST_ARRAY",
    "TEST_TRAIN_RATIO",
    "TRIAL",
    "TRIALS_TARGET",
    "USER",
    "VERSION",
    "array",
    "cv_mean",
    "cv_std",
    "fold",
    "holdout",
    "of_kind",
    "oof",
    "refit",
]

TAG = "harness."  # the prefix of every harness tag
PARENT_TAG = "mlflow.parentRunId"  # MLflow's own: a trial run's study run

# MLflow's own names that harness writes (the UI reads them)
NOTE = "mlflow.note.content"  # a run's description (Markdown): the board row in words
SOURCE_NAME = "mlflow.source.name"  # the UI's Source column: the command that made the run
SOURCE_TYPE = "mlflow.source.type"  # LOCAL
USER = "mlflow.user"  # the UI's User column
DATA_CONTEXT = "mlflow.data.context"  # a dataset input's role (`CONTEXT_TRAINING`, ...)
CONTEXT_TRAINING = "training"  # the training part (folds and final model)
CONTEXT_HOLDOUT = "holdout"  # the private holdout, scored once by the final model
# An experiment tag: what the experiment holds. MLflow 3.17's UI takes the kind from its
# Model training / GenAI switch (the URL's `workflowType`) instead; older 3.x releases read it.
EXPERIMENT_KIND = "mlflow.experimentKind"
EXPERIMENT_KIND_ML = "custom_model_development"
# An experiment tag's prefix: `<prefix><key>` holds a view of the runs table (search, columns)
# that the UI opens for the address's `viewStateShareKey=<key>` (`harness.results.mlflow_ui`)
SHARED_VIEW = "mlflow.sharedViewState."

# Tags of every run
BEST_TRIAL = TAG + "best_trial"  # the study's best trial number
BUDGET = TAG + "budget"  # the run's budget in seconds
CURRENT = TAG + "current"  # true on the run the board shows for its model, false once superseded
CV = TAG + "cv"  # the folds' scheme (kfold, stratified, group, time)
DATA_FINGERPRINT = TAG + "data_fingerprint"  # digest of the data
DEFAULT_CONFIG = TAG + "default_config"  # a trial of the model's defaults
PORTFOLIO_CONFIG = TAG + "portfolio_config"  # n: a trial of the portfolio's n-th configuration
PORTFOLIO = TAG + "portfolio"  # a study: the configurations queued after its defaults, and from
DEVICE = TAG + "device"  # cpu or cuda
DIRECTION = TAG + "direction"  # maximize or minimize
ENSEMBLE_CANDIDATES = TAG + "ensemble_candidates"  # the studies an ensemble chose from
ENSEMBLE_MEMBERS = TAG + "ensemble_members"  # an ensemble's members and weights (JSON)
ENSEMBLE_RUNS = TAG + "ensemble_runs"  # the study run of each member (JSON): staleness
ENSEMBLE_NOTES = TAG + "ensemble_notes"  # studies an ensemble could not use, and why
ERROR = TAG + "error"  # why the study or trial failed
FAMILY = TAG + "family"  # baseline, classical, neural or ensemble
FINAL = TAG + "final"  # what predicted the holdout: `FINALS` (absent in older runs: refit)
FOLDS = TAG + "folds"  # fold pairs scored (K, or K x R)
FOLDS_OF = TAG + "folds_of"  # the K of the split when fewer folds were scored (a short budget)
FOLDS_FINGERPRINT = TAG + "folds_fingerprint"  # digest of the holdout and the folds
HEALTH_WARNINGS = TAG + "health_warnings"  # how many health warnings the data got
HOST = TAG + "host"  # the machine of the process that wrote the run
KIND = TAG + "kind"  # what the run is (`KINDS`)
LEADER = TAG + "leader"  # a leaderboard run's first model
# the MLflow logged model (its id) of a study's final model or of an ensemble's blend: logged by
# this run, or by an earlier one whose stored bag this run reused (`harness.results.models`)
LOGGED_MODEL = TAG + "logged_model"
MODEL_ERROR = TAG + "model_error"  # why the run's model could not be logged (the run stands)
METRIC = TAG + "metric"  # the task's primary metric
MODALITY = TAG + "modality"  # the task's modality (tabular, image, text)
MODEL = TAG + "model"  # the model's name
MODELS = TAG + "models"  # a leaderboard run's models
OOF = TAG + "oof"  # where the best trial's out-of-fold predictions came from
OOF_TRIAL = TAG + "oof_trial"  # the trial whose out-of-fold predictions the run stores
PID = TAG + "pid"  # that process's id
PROBLEM_TYPE = TAG + "problem_type"  # binary, multiclass or regression
REASON = TAG + "reason"  # why the study was skipped
REPEATS = TAG + "repeats"  # repetitions of the K-fold
SEED = TAG + "seed"  # the run's seed
SOURCE = TAG + "source"  # where a task from the user's files came from
SOURCE_OPTIONS = TAG + "source_options"  # the command-line settings it was read with (JSON)
STATUS = TAG + "status"  # `STATUSES`, or running
STUDY = TAG + "study"  # the Optuna study `<task>.<model>`
STUDY_UID = TAG + "study_uid"  # the study's identity (it changes when `--fresh` recreates it)
TASK = TAG + "task"  # the task's name
TEST_TRAIN_RATIO = TAG + "test_train_ratio"  # validation / training rows of a fold, mean
TRIAL = TAG + "trial"  # a trial run's Optuna trial number
TRIALS_TARGET = TAG + "trials_target"  # the trials a worker's studies should have
VERSION = TAG + "version"  # harness's version
# An experiment tag: `true` once its runs carry CURRENT (an older harness's runs are marked once,
# `harness.store.current.mark_experiment`)
CURRENT_MARKED = TAG + "current_marked"

# What a run is: the value of KIND
KIND_STUDY = "study"  # a (task, model) study run of one invocation
KIND_TRIAL = "trial"  # one Optuna trial, nested under the study run that ran it
KIND_ENSEMBLE = "ensemble"  # the run's ensemble, shaped like a study run
KIND_WORKER = "worker"  # a `harness worker` process's parent run (leaderboards skip it)
KIND_LEADERBOARD = "leaderboard"  # a task's leaderboard, with its files and plots
KINDS = (KIND_STUDY, KIND_TRIAL, KIND_ENSEMBLE, KIND_WORKER, KIND_LEADERBOARD)
STATUSES = ("ok", "failed", "timeout", "oom", "pruned", "skipped")
# The final model of a study: the best trial's fold models averaged, or one refit on the
# training part; the metric FINAL_MODELS counts the fold models of a bag.
FINALS = ("bag", "refit")
FINAL_MODELS = "final_models"


# The MLflow search filter of the runs the board shows: each model's newest study run, the newest
# ensemble and the leaderboard run; superseded study runs and trial runs have no `true`.
CURRENT_FILTER = f"tags.`{CURRENT}` = 'true'"


def of_kind(kind: str) -> str:
    """The MLflow search filter for the runs of one kind."""
    return f"tags.`{KIND}` = '{kind}'"


# Metrics, per metric of the task
def cv_mean(metric: str) -> str:
    """The mean over folds of the best configuration's (or a trial's) score."""
    return f"cv_{metric}_mean"


def cv_std(metric: str) -> str:
    """Its standard deviation over the folds."""
    return f"cv_{metric}_std"


def fold(metric: str) -> str:
    """The per-fold scores, one step per fold."""
    return f"fold_{metric}"


def holdout(metric: str) -> str:
    """The holdout score of the refitted (or blended) best configuration."""
    return f"holdout_{metric}"


def oof(metric: str) -> str:
    """An ensemble's score on the out-of-fold predictions its weights were chosen on."""
    return f"oof_{metric}"


def refit(name: str) -> str:
    """What the refit's estimator reported about its fit (`fit_info_`), e.g. refit_rounds_used."""
    return f"refit_{name}"


# Metrics from the models' `fit_info_` that readers use. CUT_SHORT ("cut_short", spelled where
# the models read their deadline, `harness.protocol.deadline`): the share of a trial's folds whose
# fit stopped at its deadline (the fold mean of 1.0 / 0.0); refit(CUT_SHORT) for the refit.


# Artifacts of a study (and an ensemble) run
FOLD_SCORES = "fold_scores.csv"
HOLDOUT_PREDICTIONS = "holdout_predictions.csv"
SUBMISSION = "submission.csv"
BEST_PARAMS = "best_params.json"
HEALTH = "health.json"
ENSEMBLE_SELECTION = "ensemble.json"
OOF_ARRAY = "oof_predictions.npy"  # the best trial's out-of-fold predictions (for ensembles)
HOLDOUT_ARRAY = "holdout_predictions.npy"
TEST_ARRAY = "test_predictions.npy"
IMPORTANCE = "importance.json"  # permutation importance of the final model on the holdout

# The logged model (`LOGGED_MODEL`): the folder of its fitted estimators inside the MLflow
# model, and the cost of logging it (metrics of the run that logged it)
MODEL_FILES = "model"
MODEL_LOG_SECONDS = "model_log_seconds"  # saving the estimators and logging the model
MODEL_MB = "model_mb"  # the logged model's size on disk


def array(part: str) -> str:
    """The stored predictions of `part` (oof, holdout or test) as a NumPy file."""
    return f"{part}_predictions.npy"
