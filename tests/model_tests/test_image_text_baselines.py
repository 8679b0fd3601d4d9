"""Classical baselines on images and text: raw pixels and HOG for image tasks, word and character
TF-IDF and NB-SVM for text tasks, on real data, through the same contracts as the tabular zoo."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from harness import registry
from harness.contracts.testing import check_estimator_protocol, check_search_space, probe_data
from harness.protocol.cv import fit_fold, spec_for
from harness.protocol.preprocess import make_preprocessor

IMAGE_MODELS = ("linear", "svm", "random_forest", "hog_svm")
TEXT_MODELS = ("linear", "svm", "nbsvm")


def test_image_and_text_baselines_declare_their_modalities():
    for name in IMAGE_MODELS:
        assert "image" in registry.get_model(name).modalities, name
    for name in TEXT_MODELS:
        assert "text" in registry.get_model(name).modalities, name
    assert registry.get_model("nbsvm").problem_types == ("binary",)
    assert registry.get_model("hog_svm").modalities == ("image",)


@pytest.mark.parametrize("name", ["nbsvm", "hog_svm"])
def test_new_baselines_defaults_are_trial_zero_of_their_space(name):
    check_search_space(registry.get_model(name))


def test_pixels_become_one_row_of_floats_in_0_1_per_image():
    data = probe_data("multiclass", modality="image", rows=50)
    pre = make_preprocessor(data.feature_kinds, "onehot")
    pixels = pre.fit_transform(data.X)
    assert pixels.shape == (50, 64)
    assert 0.0 <= pixels.min() and pixels.max() <= 1.0 and pixels.max() == 1.0
    ordinal = make_preprocessor(data.feature_kinds, "ordinal").fit_transform(data.X)
    np.testing.assert_allclose(ordinal, pixels, rtol=1e-6)


def test_text_tasks_get_word_and_character_ngrams_and_tabular_text_keeps_words():
    data = probe_data("binary", modality="text", rows=200)
    words = make_preprocessor(data.feature_kinds, "onehot", sparse=True)
    both = make_preprocessor(data.feature_kinds, "onehot", sparse=True, text_ngrams="word_char")
    n_words = words.fit_transform(data.X).shape[1]
    n_both = both.fit_transform(data.X).shape[1]
    assert n_both > 2 * n_words
    spec = spec_for("binary", "tabular", data)
    assert registry.get_model("linear").build(spec, {"C": 1.0}, seed=0)[0].text_ngrams == "word"
    spec = spec_for("binary", "text", data)
    pipeline = registry.get_model("linear").build(spec, {"C": 1.0}, seed=0)
    assert pipeline[0].text_ngrams == "word_char"


@pytest.mark.parametrize("name", IMAGE_MODELS)
def test_an_image_baseline_reads_digits_far_better_than_chance(name):
    data = probe_data("multiclass", modality="image", rows=400)
    model = registry.get_model(name)
    spec = spec_for("multiclass", "image", data)
    proba, _, _ = fit_fold(model, dict(model.defaults), data, spec, 0, 0)
    valid = data.folds[0][1]
    assert proba.shape == (len(valid), 10)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    accuracy = float((proba.argmax(axis=1) == data.y[valid]).mean())
    assert accuracy > 0.75, (name, accuracy)  # chance is 0.1


@pytest.mark.parametrize("name", TEXT_MODELS)
def test_a_text_baseline_ranks_fine_food_reviews_better_than_chance(name):
    data = probe_data("binary", modality="text", rows=600)
    model = registry.get_model(name)
    spec = spec_for("binary", "text", data)
    proba, _, _ = fit_fold(model, dict(model.defaults), data, spec, 0, 0)
    valid = data.folds[0][1]
    auc = roc_auc_score(data.y[valid], proba[:, 1])
    assert auc > 0.75, (name, auc)


def test_the_svm_on_text_is_linear_and_on_images_a_kernel_svm():
    from sklearn.svm import SVC, LinearSVC

    model = registry.get_model("svm")
    text = probe_data("binary", modality="text", rows=120)
    fitted = model.build(spec_for("binary", "text", text), dict(model.defaults), seed=0)
    fitted.fit(text.X, text.y)
    assert isinstance(fitted.learner_.estimator, LinearSVC)
    images = probe_data("binary", modality="image", rows=120)
    fitted = model.build(spec_for("binary", "image", images), dict(model.defaults), seed=0)
    fitted.fit(images.X, images.y)
    assert isinstance(fitted.learner_.estimator, SVC)


def test_the_forest_on_pixels_samples_about_sqrt_p_columns_per_split():
    model = registry.get_model("random_forest")
    data = probe_data("multiclass", modality="image", rows=100)
    pipeline = model.build(spec_for("multiclass", "image", data), dict(model.defaults), seed=0)
    pipeline.fit(data.X, data.y)
    assert pipeline[-1].forest_.max_features == 8  # 0.5 x 2 x sqrt(64)


def test_nbsvm_weights_words_by_their_naive_bayes_log_count_ratio():
    data = probe_data("binary", modality="text", rows=600)
    model = registry.get_model("nbsvm")
    fitted = model.build(spec_for("binary", "text", data), dict(model.defaults), seed=0)
    fitted.fit(data.X, data.y)
    vocabulary = fitted.vectorizer_.vocabulary_
    ratio = fitted.ratio_
    assert ratio[vocabulary["great"]] > 0 > ratio[vocabulary["disappointed"]]  # 1 is "great"


@pytest.mark.parametrize(
    ("name", "modality", "problem"),
    [("nbsvm", "text", "binary"), ("hog_svm", "image", "multiclass")],
)
def test_new_baselines_clone_refuse_to_predict_unfitted_and_pickle(name, modality, problem):
    check_estimator_protocol(registry.get_model(name), problem_type=problem, modality=modality)


def test_nbsvm_refuses_training_rows_of_more_than_two_classes():
    data = probe_data("binary", modality="text", rows=90)
    estimator = registry.get_model("nbsvm").build(
        spec_for("binary", "text", data), {"C": 1.0, "alpha": 1.0, "beta": 0.25}, seed=0
    )
    labels = np.arange(len(data.y)) % 3
    with pytest.raises(ValueError, match="NB-SVM is binary; the training rows hold 3 classes"):
        estimator.fit(data.X, labels)


def test_hog_features_describe_each_image_and_survive_pickling():
    data = probe_data("binary", modality="image", rows=80)
    model = registry.get_model("hog_svm")
    fitted = model.build(spec_for("binary", "image", data), dict(model.defaults), seed=0)
    fitted.fit(data.X, data.y)
    assert fitted.fit_info_["hog_features"] > 100
    again = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(fitted.predict_proba(data.X), again.predict_proba(data.X))
