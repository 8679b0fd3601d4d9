"""Shared preprocessing: fitted on the training fold only, robust to unseen and missing values."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks

from harness.protocol.preprocess import MISSING, STYLES, Preprocessor, make_preprocessor

KINDS = {"size": "numeric", "colour": "categorical", "city": "categorical", "note": "text"}
WORDS = ["good price", "bad service", "great value", "slow delivery", "good value", "bad price"]


def _frame(n: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "size": rng.normal(10, 3, n),
            "colour": rng.choice(["red", "green", "blue"], n).astype(object),
            "city": np.array([f"city{i}" for i in rng.integers(0, 60, n)], dtype=object),
            "note": rng.choice(WORDS, n).astype(object),
        }
    )
    frame.loc[::7, "size"] = np.nan
    frame.loc[::5, "colour"] = np.nan
    frame.loc[::9, "note"] = np.nan
    y = (frame["size"].fillna(10) > 10).to_numpy(dtype=int)
    return frame, y


def _unseen(frame: pd.DataFrame) -> pd.DataFrame:
    odd = frame.head(4).copy()
    odd["colour"] = ["purple", None, "red", "orange"]
    odd["city"] = ["atlantis", "city1", None, "eldorado"]
    odd["note"] = ["never seen words", None, "good", ""]
    odd["size"] = [np.nan, 1e6, -5.0, 10.0]
    return odd


@pytest.mark.parametrize("style", ["onehot", "ordinal"])
def test_array_styles_fit_on_the_fold_and_map_unseen_and_missing_values_to_finite_numbers(style):
    X, y = _frame(300)
    pre = make_preprocessor(KINDS, style, problem_type="binary")
    fitted = pre.fit_transform(X.iloc[:200], y[:200])
    assert np.isfinite(fitted).all()
    out = pre.transform(_unseen(X))
    assert out.shape == (4, fitted.shape[1]) and np.isfinite(out).all()


@pytest.mark.filterwarnings("error::FutureWarning")  # no deprecated TargetEncoder arguments
def test_onehot_target_encodes_high_cardinality_columns_and_one_hot_encodes_the_rest():
    X, y = _frame(300)
    pre = make_preprocessor(KINDS, "onehot", problem_type="binary").fit(X, y)
    groups = {name: columns for name, _, columns in pre.columns_.transformers_}
    assert groups["high_cardinality"] == ["city"]  # 60 levels > 30
    assert groups["categorical"] == ["colour"]
    assert "text_note" in groups


def test_onehot_without_a_target_one_hot_encodes_every_categorical():
    X, _ = _frame(300)
    pre = make_preprocessor(KINDS, "onehot").fit(X)
    groups = {name: columns for name, _, columns in pre.columns_.transformers_}
    assert groups["categorical"] == ["colour", "city"] and "high_cardinality" not in groups


def test_what_the_preprocessor_learns_comes_from_the_fit_rows_only():
    X, y = _frame(400)
    train, valid = np.arange(200), np.arange(200, 400)
    pre = make_preprocessor(KINDS, "onehot", problem_type="binary")
    pre.fit(X.iloc[train], y[train])
    expected = pre.transform(X.iloc[valid])
    # Other values in the scored rows change nothing the preprocessor learned.
    other = X.copy()
    other.loc[valid, "size"] = 1e9
    other.loc[valid, "city"] = "elsewhere"
    again = make_preprocessor(KINDS, "onehot", problem_type="binary")
    again.fit(other.iloc[train], y[train])
    np.testing.assert_array_equal(again.transform(X.iloc[valid]), expected)
    scaler = pre.columns_.named_transformers_["numeric"][-1]
    size = X["size"].iloc[train]
    assert scaler.mean_[0] == pytest.approx(size.fillna(size.median()).mean())


def test_text_columns_are_sparse_tf_idf_for_linear_models_and_capped_dense_otherwise():
    X, y = _frame(300)
    sparse = make_preprocessor(KINDS, "onehot", problem_type="binary", sparse=True)
    assert scipy.sparse.issparse(sparse.fit_transform(X, y))
    dense = make_preprocessor(KINDS, "ordinal", text_max_features=3).fit(X, y)
    assert isinstance(dense.transform(X), np.ndarray)
    assert len(dense.columns_.named_transformers_["text_note"][-1].vocabulary_) == 3


def test_native_style_keeps_categories_as_pandas_categories_with_unseen_as_missing():
    X, y = _frame(300)
    pre = make_preprocessor(KINDS, "native", text_max_features=4)
    fitted = pre.fit_transform(X.iloc[:200], y[:200])
    assert isinstance(fitted, pd.DataFrame)
    assert fitted["colour"].dtype == "category" and fitted["size"].dtype == np.float64
    assert fitted["size"].isna().any()  # NaN kept for learners that split on it
    assert [c for c in fitted.columns if c.startswith("note__tfidf_")] == [
        f"note__tfidf_{i}" for i in range(4)
    ]
    out = pre.transform(_unseen(X))
    assert list(out["colour"]) == [MISSING, MISSING, "red", MISSING]
    assert list(out["colour"].cat.categories) == list(fitted["colour"].cat.categories)
    assert out.shape[1] == fitted.shape[1]


@pytest.mark.parametrize("style", ["onehot", "ordinal", "native"])
def test_the_preprocessor_clones_and_pickles_like_a_scikit_learn_step(style):
    X, y = _frame(200)
    pre = make_preprocessor(KINDS, style, problem_type="binary")
    twin = clone(pre)
    assert twin.get_params() == pre.get_params()
    pre.fit(X, y)
    restored = pickle.loads(pickle.dumps(pre))
    left, right = pre.transform(X), restored.transform(X)
    if style == "native":
        pd.testing.assert_frame_equal(left, right)
    else:
        np.testing.assert_array_equal(left, right)


def test_unknown_styles_and_kinds_are_refused_with_the_choices():
    with pytest.raises(ValueError, match="use one of"):
        make_preprocessor(KINDS, "fancy")
    with pytest.raises(ValueError, match="cannot handle \\['audio'\\]"):
        make_preprocessor({"sound": "audio"}, "onehot")
    with pytest.raises(ValueError, match="the native style has no image handling"):
        make_preprocessor({"image": "image"}, "native")
    with pytest.raises(ValueError, match="unknown text_ngrams 'chars'; use one of"):
        make_preprocessor({"review": "text"}, "onehot", text_ngrams="chars")


# scikit-learn's estimator checks, on what its generated data can be: numeric arrays, read as
# DataFrames whose columns are their positions (the categorical, text and image kinds are tested
# above on DataFrames). Not run, and why:
# - check_estimators_nan_inf: the tags say NaN is allowed; a missing value is imputed ("onehot",
#   "ordinal") or kept for the learner ("native").
# - check_array_api_input: scikit-learn skips it unless SCIPY_ARRAY_API is set; the Preprocessor
#   works on pandas and NumPy only.
# - check_transformer_preserve_dtypes, "native" style: its output is a DataFrame of float and
#   category columns, which has no single dtype to preserve.
NATIVE_RETURNS_A_FRAME = {
    "check_transformer_preserve_dtypes": (
        "the native style returns a DataFrame (float and category columns), with no single dtype"
    )
}


with warnings.catch_warnings():
    # It keeps the rules without inheriting BaseEstimator, so listing plugins imports no sklearn.
    warnings.filterwarnings("ignore", "Estimator Preprocessor does not inherit", UserWarning)
    SKLEARN_CHECKS = parametrize_with_checks(
        [Preprocessor({0: "numeric", 1: "numeric"}, style) for style in STYLES],
        expected_failed_checks=lambda pre: NATIVE_RETURNS_A_FRAME if pre.style == "native" else {},
    )


@SKLEARN_CHECKS
def test_the_preprocessor_passes_scikit_learns_estimator_checks(estimator, check):
    check(estimator)


def test_get_and_set_params_follow_the_init_signature():
    import inspect

    pre = make_preprocessor(KINDS, "ordinal", scaler="robust")
    names = [p for p in inspect.signature(Preprocessor.__init__).parameters if p != "self"]
    assert sorted(pre.get_params()) == sorted(names)
    assert pre.set_params(min_frequency=3, style="native") is pre
    assert (pre.min_frequency, pre.style) == (3, "native")
    with pytest.raises(ValueError) as info:
        pre.set_params(scalar="robust")
    assert str(info.value) == (
        f"Invalid parameter 'scalar' for estimator {pre!r}. Valid parameters are: "
        f"{sorted(names)!r}."
    )
    assert repr(Preprocessor({"a": "numeric"}, "ordinal", random_state=3)) == (
        "Preprocessor(feature_kinds={'a': 'numeric'}, random_state=3, style='ordinal')"
    )


@pytest.mark.parametrize("style", STYLES)
def test_an_unfitted_preprocessor_raises_not_fitted_error(style):
    X, _ = _frame(20)
    pre = make_preprocessor(KINDS, style)
    with pytest.raises(NotFittedError) as info:
        pre.transform(X)
    assert str(info.value) == "This Preprocessor instance is not fitted yet; call fit first"
    pre.fit(X)
    pre.set_params(style="native" if style != "native" else "onehot")  # a style it never fitted
    with pytest.raises(NotFittedError):
        pre.transform(X)


@pytest.mark.parametrize("style", STYLES)
def test_fit_records_the_columns_it_saw_and_refuses_rows_without_them(style):
    X, y = _frame(60)
    pre = make_preprocessor(KINDS, style, problem_type="binary").fit(X, y)
    assert pre.n_features_in_ == 4
    assert list(pre.feature_names_in_) == ["size", "colour", "city", "note"]
    with pytest.raises(ValueError) as info:
        pre.transform(X.drop(columns=["city"]))
    assert str(info.value) == (
        "X has 3 feature(s) and lacks the columns ['city'] declared in feature_kinds"
    )
    more = X.assign(extra=1.0)[["extra", *X.columns]]  # other columns may come along
    same = pre.transform(more)
    if style == "native":
        pd.testing.assert_frame_equal(same, pre.transform(X))
    else:
        np.testing.assert_array_equal(same, pre.transform(X))
