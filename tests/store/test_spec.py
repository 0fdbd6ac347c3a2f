import dataclasses

import pytest

from ticketlab.core.errors import SpecError, UnknownNameError
from ticketlab.specs import ImpSpec, TrainSpec, load_spec_file, spec_from_dict


def test_pinned_hashes():
    # These ids name run directories on users' disks: changing them orphans finished runs.
    assert TrainSpec(model="lenet_300_100", dataset="fashion_mnist").run_id == "train-f3bb288289022141"
    assert TrainSpec(model="conv4", dataset="cifar10", duration="40ep", lr=0.01, seed=3).run_id == "train-87cd8bd18aae0128"
    imp = ImpSpec(train=TrainSpec(model="lenet_300_100", dataset="fashion_mnist"), levels=15, rewind="1000it")
    assert imp.canonical() == {"levels": 15, "rewind": "1000it",
                               "train": {"dataset": "fashion_mnist", "model": "lenet_300_100"}}
    assert imp.run_id == "imp-5e6d2719ab04d283"


def test_canonical_form_leaves_defaults_out():
    spec = TrainSpec(model="lenet_300_100", dataset="fashion_mnist", lr=0.05)
    assert spec.canonical() == {"dataset": "fashion_mnist", "lr": 0.05, "model": "lenet_300_100"}
    # Writing a default explicitly does not change the hash.
    assert spec.hash() == TrainSpec(model="lenet_300_100", dataset="fashion_mnist", lr=0.05, seed=0).hash()
    assert spec.hash() != spec.replace(seed=1).hash()


def test_specs_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        TrainSpec(model="lenet_300_100", dataset="fashion_mnist").lr = 1.0


def test_overrides_parse_and_validate():
    spec = TrainSpec(model="lenet_300_100", dataset="fashion_mnist")
    new = spec.with_overrides(["lr=0.05", "momentum=0.9", "milestones=10ep,20ep", "augment=true", "schedule=cosine"])
    assert (new.lr, new.momentum, new.milestones, new.augment, new.schedule) == (0.05, 0.9, ("10ep", "20ep"), True, "cosine")
    with pytest.raises(SpecError, match="Unknown train setting.*learning_rate.*Valid settings: model"):
        spec.with_overrides(["learning_rate=0.1"])
    with pytest.raises(SpecError, match="key=value"):
        spec.with_overrides(["lr"])
    with pytest.raises(SpecError, match="expects int"):
        spec.with_overrides(["batch_size=big"])
    with pytest.raises(SpecError, match="'40ep' or '2000it'"):
        spec.with_overrides(["duration=ten"])


@pytest.mark.parametrize("field,value,message", [
    ("model", "resnet_9000", "Unknown model 'resnet_9000'.*lenet_300_100"),
    ("dataset", "imagenet", "Unknown dataset 'imagenet'.*fashion_mnist"),
    ("optimizer", "lion", "Unknown optimizer"),
    ("lr", -1.0, r"lr must be > 0 \(learning rate\), got -1.0"),
    ("batch_size", 0, r"batch_size must be >= 1 \(examples per step\), got 0"),
])
def test_bad_values_are_refused_at_construction(field, value, message):
    fields = {"model": "lenet_300_100", "dataset": "fashion_mnist", field: value}
    with pytest.raises((SpecError, UnknownNameError), match=message):
        TrainSpec(**fields)


def test_config_files(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("kind: train\nmodel: conv2\ndataset: fashion_mnist\nduration: 2ep\nlr: 0.01\n")
    spec = load_spec_file(str(path))
    assert spec == TrainSpec(model="conv2", dataset="fashion_mnist", duration="2ep", lr=0.01)
    assert spec_from_dict(spec.to_dict()) == spec
    path.write_text("kind: train\nmodel: [unclosed\n")
    with pytest.raises(SpecError, match="not valid YAML"):
        load_spec_file(str(path))
    with pytest.raises(UnknownNameError, match="experiment kind"):
        spec_from_dict({"kind": "nope"})
    with pytest.raises(SpecError, match="needs dataset"):
        spec_from_dict({"kind": "train", "model": "conv2"})


def test_overrides_reach_the_nested_training_spec():
    imp = ImpSpec(train=TrainSpec(model="lenet_300_100", dataset="fashion_mnist"), levels=15)
    new = imp.with_overrides(["lr=0.05", "train.batch_size=64", "levels=3", "controls=reinit,random",
                              "control_levels=1,3"])
    assert (new.train.lr, new.train.batch_size, new.levels) == (0.05, 64, 3)
    assert new.controls == ("reinit", "random") and new.control_levels == (1, 3)
    with pytest.raises(SpecError, match="Unknown imp setting"):
        imp.with_overrides(["nonsense=1"])
