import shutil

import pytest
import torch

from ticketlab.methods.context import RunContext
from ticketlab.methods.units import prepare
from ticketlab.sparse import Mask
from ticketlab.train import Trainer


def make_trainer(spec, mask=None):
    data, model = prepare(spec, RunContext(device=torch.device("cpu")))
    return Trainer(spec, model, data, torch.device("cpu"), mask=mask)


def test_training_learns_and_records_history(tiny_spec):
    trainer = make_trainer(tiny_spec)
    before = trainer.evaluate()["accuracy"]
    trainer.run()
    assert trainer.step == trainer.total_steps == 6 * trainer.steps_per_epoch
    assert [r["step"] for r in trainer.history] == [2 * trainer.steps_per_epoch * k for k in (1, 2, 3)]
    assert trainer.history[-1]["test"]["accuracy"] > max(0.9, before)


def test_resume_from_state_dict_is_bit_identical(tiny_spec):
    straight = make_trainer(tiny_spec)
    straight.run()
    first = make_trainer(tiny_spec)
    first.run(until=13)  # mid-epoch
    state = first.state_dict()
    second = make_trainer(tiny_spec)
    second.load_state_dict(state)
    second.run()
    for (n, a), b in zip(straight.model.state_dict().items(), second.model.state_dict().values()):
        assert torch.equal(a, b), n
    assert straight.history == second.history


def test_mask_is_kept_through_training(tiny_spec):
    trainer = make_trainer(tiny_spec)
    params = dict(trainer.model.named_parameters())
    g = torch.Generator().manual_seed(3)
    mask = Mask({n: torch.rand(params[n].shape, generator=g) < 0.2 for n in trainer.model.prunable_names})
    trainer.set_mask(mask)
    trainer.run()
    for n in mask:
        assert torch.all(params[n][~mask[n]] == 0)
    assert trainer.history[-1]["test"]["accuracy"] > 0.5


def test_data_seed_changes_the_order_not_the_init(tiny_spec):
    a = make_trainer(tiny_spec)
    b = make_trainer(tiny_spec.replace(data_seed=7))
    for x, y in zip(a.model.state_dict().values(), b.model.state_dict().values()):
        assert torch.equal(x, y)
    a.run(until=3)
    b.run(until=3)
    assert not torch.equal(a.model.state_dict()[a.model.output_name], b.model.state_dict()[b.model.output_name])


def test_a_state_loaded_twice_is_not_changed_by_training():
    """IMP rewinds every level and control to one saved state: training from it must not
    write into it (torch's optimizer keeps the tensors it is given and updates them)."""
    import copy

    import torch

    from ticketlab.data import load_dataset
    from ticketlab.models import build_model
    from ticketlab.specs import TrainSpec
    from ticketlab.train import Trainer

    spec = TrainSpec(model="mlp_16", dataset="synthetic", duration="2ep", batch_size=32, lr=0.05, momentum=0.9)
    data = load_dataset("synthetic")
    torch.manual_seed(0)
    first = Trainer(spec, build_model("mlp_16", (1, 8, 8), 4), data, torch.device("cpu"))
    first.run(until=5)
    state = first.state_dict()
    saved = copy.deepcopy(state)
    runs = []
    for _ in range(2):
        trainer = Trainer(spec, build_model("mlp_16", (1, 8, 8), 4), data, torch.device("cpu"))
        trainer.rewind_to(state)
        trainer.run()
        runs.append([p.detach().clone() for p in trainer.model.parameters()])
    for key, value in saved["optimizer"]["state"].items():
        assert torch.equal(state["optimizer"]["state"][key]["momentum_buffer"], value["momentum_buffer"])
    assert all(torch.equal(a, b) for a, b in zip(*runs)), "the second start is the first one again"


@pytest.mark.skipif(shutil.which("cc") is None and shutil.which("gcc") is None,
                    reason="torch.compile's CPU kernels need a C compiler")
def test_compiled_training_equals_eager_and_keeps_plain_checkpoints(tiny_spec, tmp_path):
    from safetensors.torch import load_file

    from ticketlab import api
    from ticketlab.core.errors import UnknownNameError

    spec = tiny_spec.replace(duration="2ep")
    eager = api.run(spec, runs_dir=tmp_path / "eager")
    compiled = api.run(spec, runs_dir=tmp_path / "compiled", compile="default")
    a = load_file(str(tmp_path / "eager" / spec.run_id / "model.safetensors"))
    b = load_file(str(tmp_path / "compiled" / spec.run_id / "model.safetensors"))
    assert a.keys() == b.keys(), "the compiled module's '_orig_mod.' prefix never reaches the files"
    for key in a:
        torch.testing.assert_close(b[key], a[key], rtol=1e-4, atol=1e-5)
    assert compiled.metrics["test_accuracy"] == pytest.approx(eager.metrics["test_accuracy"], abs=0.01)
    with pytest.raises(UnknownNameError, match="reduce-overhead"):
        api.run(spec.replace(seed=1), runs_dir=tmp_path / "eager", compile="fast")
