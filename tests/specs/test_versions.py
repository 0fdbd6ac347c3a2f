"""A kind's schema version: left out of the hash at 1, part of it above, nested specs too."""
from dataclasses import dataclass
from typing import ClassVar

import pytest

from ticketlab.core.errors import SpecError
from ticketlab.specs import ImpSpec, LmcSpec, PaiSpec, Spec, TrainSpec, register_spec, spec_from_dict
from ticketlab.specs.base import SpecVersionError, version_note


def train() -> TrainSpec:
    return TrainSpec(model="mlp_16", dataset="synthetic", duration="2it")


def test_version_1_is_left_out_so_old_run_ids_stay():
    assert TrainSpec.version == 1 and Spec.version == 1
    assert "version" not in train().canonical() and "version" not in train().to_dict()


def test_a_bump_changes_the_ids_of_the_kind_and_of_every_spec_nesting_it(monkeypatch):
    imp = ImpSpec(train=train(), levels=2)
    lmc = LmcSpec(source=imp, level=1)
    pai = PaiSpec(train=train(), method="snip", density=0.3)
    before = {spec.kind: spec.run_id for spec in (train(), imp, lmc, pai)}
    monkeypatch.setattr(TrainSpec, "version", 2)
    assert train().canonical() == {"dataset": "synthetic", "duration": "2it", "model": "mlp_16", "version": 2}
    assert imp.canonical()["train"]["version"] == 2 and "version" not in imp.canonical()
    after = {spec.kind: spec.run_id for spec in (train(), imp, lmc, pai)}
    assert all(after[kind] != before[kind] for kind in before)


def test_a_bump_of_the_outer_kind_leaves_the_nested_one_alone(monkeypatch):
    imp = ImpSpec(train=train(), levels=2)
    before = (train().run_id, imp.run_id)
    monkeypatch.setattr(ImpSpec, "schema_version", lambda self: 3)  # a bump that touches every IMP spec
    assert imp.canonical()["version"] == 3 and "version" not in imp.canonical()["train"]
    assert train().run_id == before[0] and imp.run_id != before[1]


def test_a_dict_round_trips_at_any_version(monkeypatch):
    monkeypatch.setattr(TrainSpec, "version", 3)
    imp = ImpSpec(train=train(), levels=2)
    assert imp.to_dict()["train"]["version"] == 3
    assert spec_from_dict(imp.to_dict()) == imp
    assert imp.with_overrides(["lr=0.05"]).train.lr == 0.05
    assert imp.with_overrides(["levels=3"]).train == imp.train  # the nested canonical form carries its version


def test_a_version_given_must_be_the_current_one(monkeypatch):
    monkeypatch.setattr(TrainSpec, "version", 2)
    data = {"kind": "train", "model": "mlp_16", "dataset": "synthetic"}
    assert spec_from_dict(data) == spec_from_dict({**data, "version": 2})  # none given: the current one
    with pytest.raises(SpecVersionError, match="says version 1, but the train kind is at version 2.*Leave `version` out"):
        spec_from_dict({**data, "version": 1})
    with pytest.raises(SpecError, match="version is a whole number .*current one is 2.*got 'two'"):
        spec_from_dict({**data, "version": "two"})
    with pytest.raises(SpecVersionError, match="says version 5"):
        train().with_overrides(["version=5"])


def test_version_note_reads_stored_dicts_where_none_means_1(monkeypatch):
    stored = {"kind": "lmc", "level": 1, "source": {"levels": 2, "train": {"model": "mlp_16", "dataset": "synthetic"}}}
    assert version_note(stored) is None
    monkeypatch.setattr(TrainSpec, "version", 2)
    assert version_note(stored) == ("its source.train spec was written under version 1 of the train kind, "
                                    "the current being 2")
    assert version_note({"kind": "train", "model": "mlp_16", "version": 2}) is None
    monkeypatch.setattr(LmcSpec, "version", 3)
    assert version_note(stored).startswith("written under version 1 of the lmc kind, the current being 3; its ")
    assert version_note({"kind": "no_such_kind"}) is None


@pytest.mark.parametrize("declare", ["zero", "field", "text"])
def test_a_kind_with_a_bad_version_is_refused(declare):
    if declare == "field":
        @dataclass(frozen=True)
        class Bad(Spec):
            kind: ClassVar[str] = "bad_version_probe"
            version: int = 2
    else:
        @dataclass(frozen=True)
        class Bad(Spec):
            kind: ClassVar[str] = "bad_version_probe"
            version: ClassVar = 0 if declare == "zero" else "2"
    with pytest.raises(SpecError, match=r"Bad.version must be a whole number >= 1 declared as a class attribute"):
        register_spec(Bad)
