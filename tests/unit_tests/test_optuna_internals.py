"""The private Optuna attributes harness relies on still mean what harness thinks they mean.

An Optuna release that renames or repurposes them fails here, with the name of the attribute,
instead of in a user's shared study; no other module touches an Optuna private attribute.
"""

from __future__ import annotations

import re
from pathlib import Path

import optuna

from harness.tuning.optuna_internals import storage_of, trial_id

HARNESS = Path(__file__).resolve().parents[2] / "harness"


def test_trial_ids_are_the_storages_ids_in_creation_order():
    storage = optuna.storages.InMemoryStorage()
    first = optuna.create_study(storage=storage, study_name="a")
    second = optuna.create_study(storage=storage, study_name="b")
    asked = [first.ask(), second.ask(), first.ask()]
    ids = [trial_id(t) for t in asked]
    assert all(isinstance(i, int) for i in ids), "Optuna's Trial._trial_id is gone or changed"
    assert ids == sorted(ids) and len(set(ids)) == 3  # storage-wide, increasing
    for trial in asked:
        study_id = storage.get_study_id_from_name(trial.study.study_name)
        public = storage.get_trial_id_from_study_id_trial_number(study_id, trial.number)
        assert trial_id(trial) == public
    frozen = first.get_trials(deepcopy=False)
    assert [trial_id(t) for t in frozen] == [ids[0], ids[2]], "FrozenTrial._trial_id changed"


def test_a_studys_storage_is_the_storage_it_was_made_with():
    storage = optuna.storages.InMemoryStorage()
    study = optuna.create_study(storage=storage)
    assert storage_of(study) is storage, "Optuna's Study._storage is gone or changed"
    assert isinstance(storage_of(study), optuna.storages.BaseStorage)


def test_no_other_module_uses_an_optuna_private_attribute():
    used = []
    for path in sorted(HARNESS.rglob("*.py")):
        if path.name == "optuna_internals.py":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"\.(_trial_id|_storage|_study_id)\b", line):
                used.append(f"{path.relative_to(HARNESS)}:{number}: {line.strip()}")
    assert used == []
