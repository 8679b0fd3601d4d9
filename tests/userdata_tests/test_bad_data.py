"""Every bad input of the user's own data is refused with a message that says what to do, exit
code 1 (data) or 2 (usage), and nothing written: no mlruns/, no submissions/.

Most cases call the CLI's entry point in this process (fast); two go through a real subprocess to
check the same path end to end.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest


def assert_refused(store, result: tuple[int, str], code: int, message: str) -> None:
    got_code, err = result
    assert got_code == code, err
    assert message in err
    assert "Traceback" not in err
    assert not (store.root / "mlruns").exists()
    assert not (store.root / "submissions").exists()


def write(folder: Path, name: str, frame: pd.DataFrame) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_csv(folder / name, index=False)
    return folder / name


def test_a_missing_folder_is_refused(harness_main, store):
    assert_refused(
        store, harness_main("run", "./nowhere"), 1, "No such file or folder: './nowhere'"
    )


def test_a_missing_file_is_refused(harness_main, store):
    result = harness_main("run", "absent.csv", "--target", "y")
    assert_refused(store, result, 1, "No such file or folder: 'absent.csv'")


def test_a_folder_without_train_csv_says_what_layout_it_expects(harness_main, store):
    (store.root / "stuff").mkdir()
    (store.root / "stuff" / "notes.txt").write_text("hello")
    result = harness_main("run", "./stuff")
    assert_refused(store, result, 1, "has no train.csv (or train.parquet); it holds ['notes.txt']")


def test_a_missing_target_column_suggests_a_similar_name(harness_main, store, penguins):
    path = write(store.root, "birds.csv", penguins)
    result = harness_main("run", str(path), "--target", "specie")
    assert_refused(
        store,
        result,
        1,
        f"The target column 'specie' is not in '{path}'; columns with a similar name: 'species'",
    )


def test_a_single_file_without_a_target_is_a_usage_error(harness_main, store, penguins):
    path = write(store.root, "birds.csv", penguins)
    result = harness_main("run", str(path))
    assert_refused(store, result, 2, "needs a target: pass --target COLUMN, or set target")


def test_a_target_with_no_values_is_refused(harness_main, store, penguins):
    path = write(store.root, "birds.csv", penguins.assign(species=float("nan")))
    result = harness_main("run", str(path), "--target", "species")
    assert_refused(store, result, 1, f"The target 'species' of '{path}' has no values")


def test_a_single_class_target_is_refused(harness_main, store, penguins):
    path = write(store.root, "birds.csv", penguins.assign(species="Adelie"))
    result = harness_main("run", str(path), "--target", "species")
    assert_refused(store, result, 1, "has a single class 'Adelie'")


def test_a_non_numeric_target_with_a_regression_metric_is_refused(harness_main, store, penguins):
    path = write(store.root, "birds.csv", penguins)
    result = harness_main("run", str(path), "--target", "species", "--metric", "rmse")
    assert_refused(store, result, 1, "is not numeric (values such as 'Adelie'), but the task is")


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (("--metric", "roc_auc"), "Metric 'roc_auc' does not fit the target: target 'species'"),
        (("--problem-type", "binary", "--metric", "rmse"), "Metric 'rmse' does not fit a binary"),
        (("--metric", "acuracy"), "Unknown metric 'acuracy'. Did you mean 'accuracy'?"),
        (("--problem-type", "ordinal"), "Unknown problem type 'ordinal'"),
        (("--positive-class", "Emperor", "--problem-type", "binary"), ""),
    ],
)
def test_a_metric_or_problem_type_that_does_not_fit_is_a_usage_error(
    harness_main, store, penguins, flags, message
):
    if "--positive-class" in flags:  # a binary flag on 3 classes is a data error
        path = write(store.root, "birds.csv", penguins)
        result = harness_main("run", str(path), "--target", "species", *flags)
        assert_refused(store, result, 1, "has 3 classes, but the task is binary")
        return
    path = write(store.root, "birds.csv", penguins)
    result = harness_main("run", str(path), "--target", "species", *flags)
    assert_refused(store, result, 2, message)


def test_a_positive_class_that_is_not_a_label_is_a_usage_error(harness_main, store, churn):
    path = write(store.root, "churn.csv", churn)
    result = harness_main("run", str(path), "--target", "churn", "--positive-class", "yes")
    assert_refused(store, result, 2, "The positive class 'yes' is not a label of the target")


def test_test_csv_lacking_train_columns_is_refused(harness_main, store, kaggle_folder, penguins):
    folder = kaggle_folder("colony", penguins, "species", "Id", "Adelie")
    test = pd.read_csv(folder / "test.csv").drop(columns=["island"])
    test.to_csv(folder / "test.csv", index=False)
    result = harness_main("run", str(folder))
    assert_refused(store, result, 1, "'test.csv' lacks columns that 'train.csv' has: ['island']")


def test_duplicate_ids_are_refused(harness_main, store, kaggle_folder, penguins):
    frame = penguins.copy()
    frame.loc[1, "Id"] = frame.loc[0, "Id"]
    folder = kaggle_folder("colony", frame, "species", "Id", "Adelie")
    result = harness_main("run", str(folder))
    assert_refused(store, result, 1, "duplicate ids, such as")


def test_sample_ids_that_are_not_the_test_ids_are_refused(
    harness_main, store, kaggle_folder, penguins
):
    folder = kaggle_folder("colony", penguins, "species", "Id", "Adelie")
    sample = pd.read_csv(folder / "sample_submission.csv")
    sample.loc[0, "Id"] = 99999
    sample.to_csv(folder / "sample_submission.csv", index=False)
    result = harness_main("run", str(folder))
    assert_refused(store, result, 1, "not in the test part: ['99999']")


def test_a_sample_with_several_target_columns_is_refused(harness_main, store, kaggle_folder, churn):
    folder = kaggle_folder("telco", churn, "churn", "customer_id", 0.5)
    sample = pd.read_csv(folder / "sample_submission.csv").assign(tenure=1)
    sample.to_csv(folder / "sample_submission.csv", index=False)
    result = harness_main("run", str(folder))
    assert_refused(store, result, 1, "has 2 target columns ['churn', 'tenure']; harness supports")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty (0 bytes)"),
        (b"\n\n", "is empty (no header, no rows)"),
        (b"a,b,species\n", "has a header but no rows"),
        ("a,species\n1,x\n".encode("utf-16"), "it contains NUL bytes"),
        (b"a,species\n1,caf\x81\x8d\n", "Cannot decode"),
    ],
)
def test_empty_and_undecodable_files_are_refused(harness_main, store, content, message):
    path = store.root / "data.csv"
    path.write_bytes(content)
    result = harness_main("run", str(path), "--target", "species")
    assert_refused(store, result, 1, message)


def test_a_path_whose_name_is_a_built_in_task_must_be_renamed(harness_main, store, penguins):
    write(store.root / "penguins", "data.csv", penguins)
    result = harness_main("run", "./penguins/data.csv", "--target", "species", "--name", "penguins")
    assert_refused(store, result, 2, "is a built-in task's experiment; name this data otherwise")


def test_data_flags_with_a_registered_task_are_a_usage_error(harness_main, store):
    result = harness_main("run", "penguins", "--target", "species")
    assert_refused(store, result, 2, "--target applies only to your own data")


@pytest.mark.parametrize(
    ("toml", "code", "message"),
    [
        ('targt = "species"\n', 2, "unknown key 'targt'. Did you mean 'target'?"),
        ('target = ["species"]\n', 2, "target must be a string"),
        ("target = \n", 2, "Cannot parse"),
        ('target = "species"\ndrop = ["islnd"]\n', 2, "drop names columns not in"),
        ('target = "species"\ngroup = "nest"\n', 1, "The group column 'nest' is not in"),
    ],
)
def test_a_bad_task_toml_is_refused(harness_main, store, penguins, toml, code, message):
    write(store.root / "birds", "train.csv", penguins)
    (store.root / "birds" / "task.toml").write_text(toml)
    assert_refused(store, harness_main("run", "./birds"), code, message)


def test_the_real_cli_refuses_bad_data_without_writing_anything(cli, store, penguins):
    path = write(store.root, "birds.csv", penguins.assign(species="Adelie"))
    result = cli("run", str(path), "--target", "species")
    assert result.code == 1
    assert "Error: The target 'species'" in result.err and "has a single class" in result.err
    assert "Traceback" not in result.err
    assert not (store.root / "mlruns").exists()
    result = cli("run", str(path), "--target", "species", "--metric", "rmsee")
    assert result.code == 2
    assert "Unknown metric 'rmsee'. Did you mean 'rmse'?" in result.err
    assert not (store.root / "mlruns").exists()


def test_a_sample_target_that_train_lacks_asks_for_the_target_flag(
    harness_main, store, kaggle_folder, penguins
):
    folder = kaggle_folder("colony", penguins, "species", "Id", "Adelie")
    sample = pd.read_csv(folder / "sample_submission.csv").rename(columns={"species": "Species"})
    sample.to_csv(folder / "sample_submission.csv", index=False)
    result = harness_main("run", str(folder))
    assert_refused(
        store, result, 1, "The target column 'Species' of 'sample_submission.csv' is not in"
    )
    assert "similar name: 'species'; name the target with --target COLUMN" in result[1]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            'target = "species"\n'.encode("utf-16"),
            "it contains NUL bytes, so it is UTF-16 or UTF-32 text (it starts with a byte-order "
            "mark), not UTF-8. Re-save it as UTF-8.",
        ),
        ('target = "species"\n'.encode("utf-32"), "so it is UTF-16 or UTF-32 text"),
        ('target = "species"\n'.encode("utf-16-le"), "so it is binary or UTF-16 text, not UTF-8"),
        (b'target = "species"\n# caf\x81\x8d\n', "Cannot decode 'birds/task.toml' as utf-8-sig"),
    ],
)
def test_a_task_toml_that_is_not_utf8_or_windows_1252_is_refused(
    harness_main, store, penguins, content, message
):
    write(store.root / "birds", "train.csv", penguins)
    (store.root / "birds" / "task.toml").write_bytes(content)
    result = harness_main("run", "./birds")
    assert_refused(store, result, 2, message)
    assert "task.toml" in result[1]


@pytest.mark.parametrize(
    ("content", "notice"),
    [
        ('target = "species"  # oiseaux, café\n'.encode("cp1252"), True),
        ('\ufefftarget = "species"  # café\n'.encode(), False),  # UTF-8 with a byte-order mark
    ],
)
def test_a_task_toml_is_decoded_as_csv_files_are(store, penguins, content, notice):
    from harness.data.local import Options, load_path

    write(store.root / "birds", "train.csv", penguins)
    (store.root / "birds" / "task.toml").write_bytes(content)
    local = load_path(str(store.root / "birds"), Options())
    assert local.task.target == "species"
    assert ("'task.toml' is not UTF-8; read it as Windows-1252" in local.notes) is notice


def test_duplicate_csv_column_names_are_refused_not_renamed(harness_main, store, penguins):
    frame = penguins.copy()
    frame.columns = [
        "island" if c == "bill_length_mm" else "sex" if c == "body_mass_g" else c
        for c in frame.columns
    ]
    path = write(store.root, "birds.csv", frame)
    assert "island.1" not in path.read_text().splitlines()[0]  # pandas would read it so
    result = harness_main("run", str(path), "--target", "species")
    assert_refused(
        store, result, 1, f"The file '{path}' has duplicate column names: ['island', 'sex']."
    )


def test_duplicate_parquet_column_names_are_refused(harness_main, store):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_arrays(
        [pa.array(range(40)), pa.array(range(40)), pa.array([0, 1] * 20)], names=["a", "a", "y"]
    )
    pq.write_table(table, store.root / "twice.parquet")
    result = harness_main("run", "twice.parquet", "--target", "y")
    assert_refused(store, result, 1, "'twice.parquet' has duplicate column names: ['a'].")


@pytest.mark.parametrize("value", ["Adelie", 0.5])
def test_a_sample_submission_with_its_columns_reversed_says_so(
    harness_main, store, kaggle_folder, penguins, value
):
    folder = kaggle_folder("colony", penguins, "species", "Id", value)
    sample = pd.read_csv(folder / "sample_submission.csv")
    sample[["species", "Id"]].to_csv(folder / "sample_submission.csv", index=False)
    result = harness_main("run", str(folder))
    assert_refused(
        store,
        result,
        1,
        f"The first column of '{folder / 'sample_submission.csv'}', 'species', repeats values "
        f"(such as {value!r}), so it is not an id column: a sample submission has the id column "
        "first, then the target column. Its column 'Id' has a unique value in every row: are "
        "the columns reversed? Put 'Id' first.",
    )
    assert "duplicate ids" not in result[1]


def test_a_target_with_only_infinite_or_missing_values_is_refused(harness_main, store, diabetes):
    frame = diabetes.assign(target=float("inf"))
    frame.loc[:10, "target"] = float("nan")
    frame.loc[11:20, "target"] = float("-inf")
    path = write(store.root, "sugar.csv", frame)
    result = harness_main("run", str(path), "--target", "target")
    assert_refused(
        store, result, 1, f"The target 'target' of '{path}' has no values (all missing or infinite)"
    )


def test_data_errors_show_plain_numbers_not_numpy_reprs(harness_main, store, penguins, diabetes):
    import numpy as np

    from harness.contracts.task import Dataset, Task
    from harness.data.health import constant_columns, imbalance
    from harness.errors import DataError
    from harness.protocol.splits import prepare

    messages = []
    frame = penguins.copy()  # integer ids: one repeated
    frame.loc[1, "Id"] = frame.loc[0, "Id"]
    path = write(store.root / "colony", "train.csv", frame)
    messages.append(harness_main("run", "./colony", "--target", "species", "--id", "Id")[1])
    path = write(store.root, "ones.csv", diabetes.assign(target=1))
    messages.append(harness_main("run", str(path), "--target", "target")[1])

    data = Dataset(
        X=pd.DataFrame({"x": np.arange(40.0)}),
        y=pd.Series(np.arange(40) % 2),
        feature_kinds={"x": "numeric"},
    )
    for positive, problem in ((7, "binary"), (None, "multiclass")):
        y = data.y if problem == "binary" else pd.Series(np.zeros(40, dtype=np.int64))
        task = Task(
            name="numbers",
            description="Numbers.",
            modality="tabular",
            problem_type=problem,
            metric="roc_auc" if problem == "binary" else "log_loss",
            positive_class=positive,
            load=lambda: data,
        )
        with pytest.raises(DataError) as error:
            prepare(task, Dataset(X=data.X, y=y, feature_kinds=data.feature_kinds), folds=2, seed=0)
        messages.append(str(error.value))
    messages += [f.message for f in constant_columns(pd.DataFrame({"c": np.full(5, 3)}))]
    messages += [f.message for f in imbalance(np.array([0] * 99 + [1]), tuple(np.arange(2)))]

    assert "such as 1; ids must be unique" in messages[0]
    assert "has a single class 1; a classification task" in messages[1]
    assert "positive_class 7 is not a label; labels are [0, 1]" in messages[2]
    assert "the target has a single class [0]" in messages[3]
    assert "is constant (3)" in messages[4] and "1 1.0%" in messages[5]
    assert not [m for m in messages if "np." in m], messages
