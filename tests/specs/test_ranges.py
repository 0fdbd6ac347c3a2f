"""Numbers in specs: finite and within the range their field declares, however the spec is
built (a config file, --set, the command line's flags, Python); and --set train.X on the
train command, whose spec is the training itself."""
import dataclasses
import importlib
from dataclasses import dataclass
from typing import ClassVar

import pytest

from ticketlab.cli import running
from ticketlab.core.errors import SpecError
from ticketlab.specs import ImpSpec, PoolSpec, RstSpec, RtlSpec, Spec, TrainSpec, load_spec_file, spec_from_dict
from ticketlab.specs.fields import setting

cli_main = importlib.import_module("ticketlab.cli.main")
TRAIN = TrainSpec(model="mlp_16", dataset="synthetic", duration="2it")


def test_an_infinite_learning_rate_in_a_config_file_is_refused(tmp_path, capsys):
    config = tmp_path / "c.yaml"
    config.write_text("kind: train\nmodel: mlp_16\ndataset: synthetic\nlr: .inf\n")
    with pytest.raises(SpecError, match=r"lr must be a finite number > 0 \(learning rate\), got inf\."):
        load_spec_file(str(config))
    assert cli_main.main(["run", str(config), "--runs-dir", str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ticketlab: error: lr must be a finite number") and "inf" in err
    assert len(err.strip().splitlines()) == 1
    line = ["train", "--model", "mlp_16", "--dataset", "synthetic", "--set", "lr=.inf", "--runs-dir", str(tmp_path)]
    assert cli_main.main(line) == 2
    assert "lr must be a finite number > 0 (learning rate), got inf." in capsys.readouterr().err


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_a_non_finite_number_given_in_python_is_refused(value):
    with pytest.raises(SpecError, match=rf"lr must be a finite number > 0 \(learning rate\), got {value}\."):
        TRAIN.replace(lr=value)
    with pytest.raises(SpecError, match=r"gamma must be a finite number > 0"):
        TrainSpec(model="mlp_16", dataset="synthetic", gamma=value)


def test_a_negative_count_is_refused_by_its_declared_range():
    with pytest.raises(SpecError, match=r"levels must be >= 0 \(pruning levels after the dense level 0\), got -1\."):
        ImpSpec(train=TRAIN, levels=-1)
    with pytest.raises(SpecError, match=r"val_size must be >= 0 \(training examples held out for validation\)"):
        spec_from_dict({"kind": "train", "model": "mlp_16", "dataset": "synthetic", "val_size": -5})
    imp = ImpSpec(train=TRAIN.replace(val_size=4), levels=3)
    with pytest.raises(SpecError, match=r"candidates must be >= 0 .*, got -2\."):
        PoolSpec(source=imp, targets=(1,), candidates=-2)


def test_each_item_of_a_tuple_of_numbers_is_checked():
    with pytest.raises(SpecError, match=r"sparsities must each be in \(0, 1\) .*got 1\.5 in \[0\.5, 1\.5\]\."):
        RtlSpec(train=TRAIN, sparsities=(0.5, 1.5))
    with pytest.raises(SpecError, match=r"sparsities must each be a finite number in \(0, 1\) .*got nan"):
        RtlSpec(train=TRAIN).with_overrides(["sparsities=[0.5, .nan]"])


def test_wrong_types_given_in_python_are_spec_errors():
    with pytest.raises(SpecError, match=r"batch_size must be a whole number >= 1 \(examples per step\), got '64'\."):
        TRAIN.replace(batch_size="64")
    with pytest.raises(SpecError, match=r"seed must be a whole number .*got True\."):
        TRAIN.replace(seed=True)
    with pytest.raises(SpecError, match=r"train must be a train spec, got an? imp spec\."):
        ImpSpec(train=ImpSpec(train=TRAIN))
    with pytest.raises(SpecError, match=r"model must be printable text on one line .*got 'mlp_16\\n'\."):
        TRAIN.replace(model="mlp_16\n")


def test_a_range_is_declared_once_and_checked_for_every_kind():
    @dataclass(frozen=True)
    class Probe(Spec):
        kind: ClassVar[str] = "range_probe"
        count: int = setting(1, help="how many", at_least=1)
        share: float = setting(0.5, help="a share", above=0, below=1)

        def __post_init__(self) -> None:  # a kind's own checks, which need not call the base's
            if self.count == 7:
                raise SpecError("seven is refused by the kind itself")

    assert Probe().count == 1
    with pytest.raises(SpecError, match=r"count must be >= 1 \(how many\), got 0\."):
        Probe(count=0)
    with pytest.raises(SpecError, match=r"share must be in \(0, 1\) \(a share\), got 1\."):
        Probe(share=1)
    with pytest.raises(SpecError, match="seven"):
        Probe(count=7)
    help_text = {f.name: f.metadata["help"] for f in dataclasses.fields(Probe)}
    assert help_text == {"count": "how many, >= 1", "share": "a share, in (0, 1)"}


@pytest.mark.parametrize("text", ["1000000000000000000000000000000ep", "1e30ep"])
def test_a_huge_duration_is_a_clear_error(text):
    with pytest.raises(SpecError, match="is too long: write at most|Malformed duration '1e30ep': write a whole"):
        TRAIN.replace(duration=text)


def test_an_rst_penalty_ramp_too_long_to_count_is_refused():
    with pytest.raises(SpecError, match=r"ramp in iterations, which must be at most"):
        RstSpec(train=TRAIN, density=0.5, reg_step=1e-300, reg_ceiling=1e300)


def test_a_set_value_that_is_not_yaml_is_a_one_line_spec_error():
    for bad in ("lr=[", "lr=!!float abc", "lr=*nowhere"):
        with pytest.raises(SpecError) as err:
            TRAIN.with_overrides([bad])
        assert "The value of --set lr is not valid YAML" in str(err.value)
        assert len(str(err.value).splitlines()) == 1


@pytest.fixture
def specs_of(monkeypatch, tmp_path):
    """The specs a command line asks for, without running them."""
    asked = []
    monkeypatch.setattr(running, "run_specs", lambda specs, args: asked.append(specs) or 0)

    def specs(*argv):
        assert cli_main.main([*argv, "--runs-dir", str(tmp_path / "runs")]) == 0
        return asked.pop()
    return specs


def test_set_train_dot_field_on_the_train_command(specs_of, tmp_path, capsys):
    line = ("train", "--model", "mlp_16", "--dataset", "synthetic")
    [spec] = specs_of(*line, "--set", "train.lr=0.05")
    assert spec.lr == 0.05
    [spec] = specs_of(*line, "--set", "train.seed=3")  # not undone by the default of --seeds
    assert spec.seed == 3
    assert cli_main.main([*line, "--set", "train.seed=3", "--seeds", "1", "--runs-dir", str(tmp_path)]) == 2
    assert "--seeds both set seed" in capsys.readouterr().err
    [imp] = specs_of("imp", "--model", "mlp_16", "--dataset", "synthetic", "--set", "train.lr=0.05")
    assert imp.train.lr == 0.05
