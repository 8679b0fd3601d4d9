"""Leakage-safe preprocessing built from a task's feature kinds.

Models name the style they need; they never write their own column handling. Every step is part of
the scikit-learn pipeline that is fitted inside each training fold, so nothing here learns from the
rows it is scored on. Decisions that depend on the data (which categoricals count as high
cardinality) are taken in `fit`, from the training fold only.

Styles:
    "onehot": numerics imputed (median, with missing-indicator columns) and standardized;
        categoricals imputed with a "missing" level and one-hot encoded, levels rarer than
        `min_frequency` grouped into one; categoricals with more than `high_cardinality` levels
        in the training fold target-encoded instead (scikit-learn's `TargetEncoder`, which
        cross-fits itself inside the fold) and standardized. For linear models, kNN, SVMs, naive
        Bayes and neural nets.
    "ordinal": numerics imputed only when the learner cannot take NaN; categoricals as ordinal
        codes (unknown and missing as -1). For tree ensembles, which need no scaling.
    "native": a DataFrame for learners with their own categorical handling (LightGBM, CatBoost):
        numerics as float with NaN kept, categoricals as pandas `category` columns whose levels
        are those of the training fold plus a "missing" level (which unseen levels join).

Text columns (kind "text") go through TF-IDF in every style: sparse when the caller asks for
sparse output (linear models), otherwise dense with at most `text_max_features` terms per column.
`text_ngrams="word"` (the default, for text beside tabular columns) uses word unigrams;
`"word_char"` (text tasks) joins word 1-2-grams and character 2-5-grams within word boundaries.

Image columns (kind "image", see `harness.data.images`) become their raw pixels, one float column
per pixel and channel scaled to [0, 1], in the "onehot" and "ordinal" styles.

Choices a search space can tune (the defaults are the "onehot" style above): for "onehot", the
numeric `scaler` (standard, robust, quantile to a normal, none) and the categorical `encoder`
(onehot as above, ordinal codes, or target encoding of every categorical); and for regression the
`target_transform` (log1p for a positive, skewed target), applied around the whole model by
`with_target_transform`. See the end of this module.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

import numpy as np

from harness.protocol.choices import ENCODERS, SCALERS, scaler_steps

__all__ = [
    "DENSE_TEXT_FEATURES",
    "HIGH_CARDINALITY",
    "KINDS",
    "MISSING",
    "SPARSE_TEXT_FEATURES",
    "STYLES",
    "TEXT_NGRAMS",
    "Preprocessor",
    "columns_of",
    "make_preprocessor",
]

STYLES = ("onehot", "ordinal", "native")
KINDS = ("numeric", "categorical", "text", "image")
TEXT_NGRAMS = ("word", "word_char")
MISSING = "__missing__"
HIGH_CARDINALITY = 30
DENSE_TEXT_FEATURES = 200
SPARSE_TEXT_FEATURES = 20_000


def _as_float(values: Any) -> Any:
    return np.asarray(values, dtype=np.float64)


def _as_text(values: Any) -> Any:
    """One text column as a 1-D array of strings (missing -> empty string)."""
    import pandas as pd

    column = values.iloc[:, 0] if isinstance(values, pd.DataFrame) else pd.Series(np.ravel(values))
    return column.fillna("").astype(str).to_numpy()


def _pixels(values: Any) -> Any:
    """An image column (a one-column frame of arrays) as raw pixels in [0, 1], one row each."""
    from harness.data.images import flatten

    return flatten(values, values.columns[0])


def columns_of(feature_kinds: Mapping[str, str], kind: str) -> list[str]:
    """Column names of one kind, in their original order."""
    return [column for column, k in feature_kinds.items() if k == kind]


def _target_type(problem_type: str | None) -> str:
    return {"binary": "binary", "multiclass": "multiclass", "regression": "continuous"}.get(
        problem_type or "", "auto"
    )


class Preprocessor:
    """A scikit-learn transformer for the columns of a task (see the module docstring).

    It keeps scikit-learn's estimator rules without importing scikit-learn until it is used:
    `__init__` only stores its arguments, `get_params` and `set_params` read them from the
    `__init__` signature, `fit` validates and learns (the inner `ColumnTransformer` is built there,
    once the training fold's categorical cardinalities are known) and records `n_features_in_`
    (and `feature_names_in_` for a DataFrame with string column names), and using it unfitted
    raises `NotFittedError`. So it clones and pickles like any scikit-learn step, and passes
    scikit-learn's `check_estimator` where its checks apply (tests/model_tests/test_preprocess.py
    lists those that do not, and why). The input is a DataFrame holding the columns of
    `feature_kinds`; a 2-D array is read as a DataFrame whose columns are its positions, for
    kinds keyed 0, 1, ...

    Args:
        feature_kinds: Column -> kind (numeric, categorical, text, image).
        style: "onehot", "ordinal" or "native".
        impute_numeric: For "ordinal": impute numerics (False keeps NaN for learners that take it).
        min_frequency: For "onehot": levels seen fewer times are grouped as infrequent.
        high_cardinality: For "onehot": categoricals with more levels are target-encoded.
        problem_type: binary, multiclass or regression (the target encoder's target type).
        sparse: Return a sparse matrix when text columns make it worthwhile (linear learners).
        text_max_features: TF-IDF vocabulary cap per text column (None: 20,000 sparse, 200 dense).
        text_ngrams: "word" (word unigrams) or "word_char" (word 1-2-grams and character
            2-5-grams, each capped at `text_max_features`).
        random_state: Seed of the target encoder's internal cross-fitting.
        scaler: For "onehot": how numerics are scaled (one of `SCALERS`).
        encoder: For "onehot": how categoricals are encoded (one of `ENCODERS`).
    """

    def __init__(
        self,
        feature_kinds: Mapping[str, str],
        style: str = "onehot",
        *,
        impute_numeric: bool = True,
        min_frequency: int = 10,
        high_cardinality: int = HIGH_CARDINALITY,
        problem_type: str | None = None,
        sparse: bool = False,
        text_max_features: int | None = None,
        text_ngrams: str = "word",
        random_state: int = 0,
        scaler: str = "standard",
        encoder: str = "onehot",
    ) -> None:
        self.feature_kinds = feature_kinds
        self.style = style
        self.impute_numeric = impute_numeric
        self.min_frequency = min_frequency
        self.high_cardinality = high_cardinality
        self.problem_type = problem_type
        self.sparse = sparse
        self.text_max_features = text_max_features
        self.text_ngrams = text_ngrams
        self.random_state = random_state
        self.scaler = scaler
        self.encoder = encoder

    # --- scikit-learn's estimator protocol ---------------------------------------------------
    @classmethod
    def _get_param_names(cls) -> list[str]:
        """The constructor's parameters, read from its signature (as scikit-learn reads them)."""
        parameters = inspect.signature(cls.__init__).parameters.values()
        return sorted(p.name for p in parameters if p.name != "self" and p.kind != p.VAR_KEYWORD)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor arguments (scikit-learn's estimator protocol)."""
        return {name: getattr(self, name) for name in self._get_param_names()}

    def set_params(self, **params: Any) -> Preprocessor:
        """Set constructor arguments (scikit-learn's estimator protocol)."""
        valid = self._get_param_names()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(
                    f"Invalid parameter {name!r} for estimator {self!r}. "
                    f"Valid parameters are: {valid!r}."
                )
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        defaults = {
            p.name: p.default for p in inspect.signature(type(self).__init__).parameters.values()
        }
        shown = [
            f"{name}={value!r}"
            for name, value in self.get_params().items()
            if defaults[name] is inspect.Parameter.empty or value != defaults[name]
        ]
        return f"{type(self).__name__}({', '.join(shown)})"

    def __sklearn_tags__(self) -> Any:
        from sklearn.utils import InputTags, Tags, TargetTags, TransformerTags

        return Tags(
            estimator_type=None,
            target_tags=TargetTags(required=False),
            transformer_tags=TransformerTags(),
            # missing values are imputed (or kept for "native"); categoricals and text are strings
            input_tags=InputTags(allow_nan=True, categorical=True, string=True),
        )

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "native_" if self.style == "native" else "columns_")

    def _frame(self, X: Any, *, reset: bool) -> Any:
        """`X` as a DataFrame; on `reset` (fit) record what `fit` saw (`n_features_in_`, and
        `feature_names_in_` for string column names).

        A DataFrame passes as it is (other columns than those of `feature_kinds` may come along,
        and are dropped). Anything else is validated as a 2-D array (scikit-learn's messages for
        1-D, empty or complex input; NaN allowed) with the feature count seen in `fit`, and
        becomes a DataFrame whose column names are the positions. Either must hold every column
        of `feature_kinds`.
        """
        import pandas as pd

        if isinstance(X, pd.DataFrame):
            if reset:
                self.n_features_in_ = X.shape[1]
                if all(isinstance(column, str) for column in X.columns):
                    self.feature_names_in_ = np.asarray(X.columns, dtype=object)
                else:
                    self.__dict__.pop("feature_names_in_", None)
        else:
            from sklearn.utils.validation import validate_data

            X = validate_data(self, X, reset=reset, dtype=None, ensure_all_finite="allow-nan")
            X = pd.DataFrame(X)
        missing = [column for column in self.feature_kinds if column not in X.columns]
        if missing:
            raise ValueError(
                f"X has {X.shape[1]} feature(s) and lacks the columns {missing} declared in "
                "feature_kinds"
            )
        return X

    def _check_fitted(self) -> None:
        if not self.__sklearn_is_fitted__():
            from sklearn.exceptions import NotFittedError

            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet; call fit first"
            )

    def _check(self) -> None:
        if self.style not in STYLES:
            raise ValueError(f"unknown preprocessing style {self.style!r}; use one of {STYLES}")
        if self.scaler not in SCALERS or self.encoder not in ENCODERS:
            raise ValueError(
                f"unknown scaler {self.scaler!r} or encoder {self.encoder!r}; "
                f"use one of {SCALERS} and one of {ENCODERS}"
            )
        unsupported = sorted({k for k in self.feature_kinds.values() if k not in KINDS})
        if unsupported:
            raise ValueError(
                f"tabular preprocessing cannot handle {unsupported} columns; kinds: {KINDS}"
            )
        if self.text_ngrams not in TEXT_NGRAMS:
            raise ValueError(f"unknown text_ngrams {self.text_ngrams!r}; use one of {TEXT_NGRAMS}")
        if self.style == "native" and "image" in self.feature_kinds.values():
            raise ValueError(
                "the native style has no image handling; use onehot or ordinal (raw pixels)"
            )

    def _text_cap(self) -> int:
        if self.text_max_features is not None:
            return self.text_max_features
        return SPARSE_TEXT_FEATURES if self.sparse else DENSE_TEXT_FEATURES

    def _text_pipeline(self) -> Any:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.pipeline import make_pipeline, make_union
        from sklearn.preprocessing import FunctionTransformer

        def tfidf(**options: Any) -> Any:
            return TfidfVectorizer(
                max_features=self._text_cap(),
                sublinear_tf=True,
                dtype=np.float32,
                **({} if self.sparse else {"min_df": 2}),
                **options,
            )

        if self.text_ngrams == "word_char":
            vectorizer = make_union(
                tfidf(ngram_range=(1, 2)),
                tfidf(analyzer="char_wb", ngram_range=(2, 5)),
            )
        else:
            vectorizer = tfidf()
        return make_pipeline(FunctionTransformer(_as_text), vectorizer)

    def fit(self, X: Any, y: Any = None) -> Preprocessor:
        """Fit on the training fold (`y` is needed only for target encoding)."""
        self.fit_transform(X, y)
        return self

    def fit_transform(self, X: Any, y: Any = None) -> Any:
        """Fit on the training fold and transform it (target encoding cross-fits here)."""
        self._check()
        for fitted in ("native_", "columns_"):  # a refit forgets the last fit
            self.__dict__.pop(fitted, None)
        X = self._frame(X, reset=True)
        if self.style == "native":
            self.native_ = _NativeFrame(self.feature_kinds, self._text_pipeline)
            return self.native_.fit_transform(X)
        self.columns_ = self._column_transformer(X, y)
        out = self.columns_.fit_transform(X, y)
        return out if self._is_sparse(out) else np.asarray(out, dtype=np.float64)

    def transform(self, X: Any) -> Any:
        """Transform rows with what was learned in `fit`."""
        self._check_fitted()
        X = self._frame(X, reset=False)
        if self.style == "native":
            return self.native_.transform(X)
        out = self.columns_.transform(X)
        return out if self._is_sparse(out) else np.asarray(out, dtype=np.float64)

    @staticmethod
    def _is_sparse(out: Any) -> bool:
        import scipy.sparse

        return scipy.sparse.issparse(out)

    def high_cardinality_columns(self, X: Any) -> list[str]:
        """Categoricals with more than `high_cardinality` distinct levels in `X`."""
        return [
            column
            for column in columns_of(self.feature_kinds, "categorical")
            if X[column].nunique(dropna=True) > self.high_cardinality
        ]

    def _column_transformer(self, X: Any, y: Any) -> Any:
        from sklearn.compose import ColumnTransformer
        from sklearn.impute import SimpleImputer
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import (
            FunctionTransformer,
            OneHotEncoder,
            OrdinalEncoder,
            StandardScaler,
            TargetEncoder,
        )

        kinds = self.feature_kinds
        numeric = columns_of(kinds, "numeric")
        categorical = columns_of(kinds, "categorical")
        cat_imputer = SimpleImputer(strategy="constant", fill_value=MISSING)
        transformers: list[tuple[str, Any, Any]] = []
        if self.style == "onehot":
            num_steps = [
                SimpleImputer(strategy="median", add_indicator=True),
                *scaler_steps(self.scaler, self.random_state, len(X)),
            ]
            high = self.high_cardinality_columns(X) if y is not None else []
            if self.encoder == "target" and y is not None:
                high = list(categorical)
            low = [c for c in categorical if c not in high]
            if low and self.encoder == "ordinal":
                ordinal = OrdinalEncoder(
                    handle_unknown="use_encoded_value", unknown_value=-1, dtype=np.float32
                )
                steps = make_pipeline(cat_imputer, ordinal, StandardScaler())
                transformers.append(("categorical", steps, low))
            elif low:
                onehot = OneHotEncoder(
                    handle_unknown="infrequent_if_exist",
                    min_frequency=self.min_frequency,
                    sparse_output=False,
                    dtype=np.float32,
                )
                transformers.append(("categorical", make_pipeline(cat_imputer, onehot), low))
            if high:
                from sklearn.model_selection import KFold, StratifiedKFold

                # its inner cross-fitting, as scikit-learn's default makes it (5 shuffled folds,
                # stratified for classes), seeded through the splitter (1.9 deprecated
                # `random_state` on the encoder)
                splitter = KFold if self.problem_type == "regression" else StratifiedKFold
                target = TargetEncoder(
                    target_type=_target_type(self.problem_type),
                    cv=splitter(5, shuffle=True, random_state=self.random_state),
                )
                steps = make_pipeline(
                    SimpleImputer(strategy="constant", fill_value=MISSING),
                    target,
                    StandardScaler(),
                )
                transformers.append(("high_cardinality", steps, high))
        else:
            to_float = FunctionTransformer(_as_float, feature_names_out="one-to-one")
            num_steps = [SimpleImputer(strategy="median")] if self.impute_numeric else [to_float]
            if categorical:
                ordinal = OrdinalEncoder(
                    handle_unknown="use_encoded_value", unknown_value=-1, dtype=np.float32
                )
                transformers.append(
                    ("categorical", make_pipeline(cat_imputer, ordinal), categorical)
                )
        if numeric:
            transformers.insert(0, ("numeric", make_pipeline(*num_steps), numeric))
        for column in columns_of(kinds, "text"):
            transformers.append((f"text_{column}", self._text_pipeline(), [column]))
        for column in columns_of(kinds, "image"):
            transformers.append((f"image_{column}", FunctionTransformer(_pixels), [column]))
        return ColumnTransformer(
            transformers, remainder="drop", sparse_threshold=1.0 if self.sparse else 0.0
        )


class _NativeFrame:
    """The "native" style: a DataFrame with float numerics and fold-fitted category columns."""

    def __init__(self, feature_kinds: Mapping[str, str], text_pipeline: Any) -> None:
        self.feature_kinds = dict(feature_kinds)
        self.text_pipeline = text_pipeline

    def fit_transform(self, X: Any) -> Any:
        self.levels_ = {}
        for column in columns_of(self.feature_kinds, "categorical"):
            seen = X[column].dropna().astype(str).unique().tolist()
            self.levels_[column] = sorted(set(seen) | {MISSING})
        self.text_ = {}
        for column in columns_of(self.feature_kinds, "text"):
            self.text_[column] = self.text_pipeline().fit(X[[column]])
        return self.transform(X)

    def transform(self, X: Any) -> Any:
        import pandas as pd

        parts: dict[str, Any] = {}
        for column, kind in self.feature_kinds.items():
            if kind == "numeric":
                parts[column] = pd.to_numeric(X[column], errors="coerce").astype(np.float64)
            elif kind == "categorical":
                levels = self.levels_[column]
                values = X[column].astype(object).where(X[column].notna(), MISSING).astype(str)
                values = values.where(values.isin(levels), MISSING)  # unseen levels: as missing
                parts[column] = pd.Categorical(values, categories=levels)
        frame = pd.DataFrame(parts, index=X.index)
        for column, pipeline in self.text_.items():
            dense = np.asarray(pipeline.transform(X[[column]]).todense(), dtype=np.float64)
            names = [f"{column}__tfidf_{i}" for i in range(dense.shape[1])]
            frame = pd.concat([frame, pd.DataFrame(dense, columns=names, index=X.index)], axis=1)
        return frame.reset_index(drop=True)

    @property
    def categorical_columns(self) -> list[str]:
        return list(self.levels_)


def make_preprocessor(
    feature_kinds: Mapping[str, str],
    style: str,
    *,
    impute_numeric: bool = True,
    min_frequency: int = 10,
    high_cardinality: int = HIGH_CARDINALITY,
    problem_type: str | None = None,
    sparse: bool = False,
    text_max_features: int | None = None,
    text_ngrams: str = "word",
    random_state: int = 0,
    scaler: str = "standard",
    encoder: str = "onehot",
) -> Preprocessor:
    """The preprocessing step of a model's pipeline (see the module docstring for the styles).

    Args:
        feature_kinds: Column -> kind, from the task's dataset.
        style: "onehot", "ordinal" or "native".
        impute_numeric: For "ordinal": impute numerics (False keeps NaN for learners that take it).
        min_frequency: For "onehot": levels seen fewer times are grouped as infrequent.
        high_cardinality: For "onehot": categoricals with more levels are target-encoded.
        problem_type: The task's problem type (target encoding needs it).
        sparse: Allow sparse output (only text columns produce it).
        text_max_features: TF-IDF vocabulary cap per text column.
        text_ngrams: "word" or "word_char" (see the module docstring).
        random_state: Seed of the target encoder's cross-fitting.
        scaler: For "onehot": numeric scaling, one of `SCALERS` (a search-space choice).
        encoder: For "onehot": categorical encoding, one of `ENCODERS` (a search-space choice).

    Returns:
        An unfitted `Preprocessor`: a dense float array (or sparse matrix with text and
        `sparse=True`) for "onehot" and "ordinal", a DataFrame for "native".

    Raises:
        ValueError: Unknown style or feature kind.
    """
    pre = Preprocessor(
        dict(feature_kinds),
        style,
        impute_numeric=impute_numeric,
        min_frequency=min_frequency,
        high_cardinality=high_cardinality,
        problem_type=problem_type,
        sparse=sparse,
        text_max_features=text_max_features,
        text_ngrams=text_ngrams,
        random_state=random_state,
        scaler=scaler,
        encoder=encoder,
    )
    pre._check()
    return pre
