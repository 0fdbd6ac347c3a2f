"""Every method keeps its tensors on the training device: each runs end to end, at tiny
scale, with the CPU standing in for an accelerator (`tests/device_check.py`), so a
tensor left on the CPU by default fails here as it would on a GPU. On a machine with
CUDA (or with $TICKETLAB_TEST_DEVICE set) each also runs on the real device."""
import json
import math
from pathlib import Path

import pytest
import torch

from ticketlab import api
from ticketlab.methods.context import RunContext
from ticketlab.methods.rst import Extrusion, pick, transform_spec
from ticketlab.methods.units import prepare
from ticketlab.sparse import Mask
from ticketlab.specs import (DstSpec, ElasticSpec, ImpSpec, InrSpec, LmcSpec, PaiSpec, PoolSpec, RstSpec, RtlSpec,
                             TrainSpec)
from ticketlab.store import Unit
from ticketlab.train import Trainer

from ..device_check import TRAINING_DEVICE, DeviceMixError, SimulatedDevice, on_device

MLP = TrainSpec(model="mlp_16", dataset="synthetic", duration="2ep", batch_size=32, lr=0.05, momentum=0.9,
                eval_every="1ep")
RESNET = TrainSpec(model="cifar_resnet_8_4", dataset="synthetic", duration="2ep", batch_size=32, lr=0.05,
                   momentum=0.9, eval_every="1ep", val_size=96)
IMP = ImpSpec(train=MLP, levels=1, rewind="1ep")
IMP_RESNET = ImpSpec(train=RESNET.replace(duration="1ep"), levels=2, prune_fraction=0.4, rewind="4it")

SPECS = {
    "train": MLP,
    "imp": ImpSpec(train=MLP, levels=2, rewind="1ep", controls=("reinit", "random")),
    "pai": PaiSpec(train=MLP, method="snip", density=0.2),
    "dst": DstSpec(train=MLP, method="rigl", density=0.2, update_every="5it", distribution="uniform"),
    "rst": RstSpec(train=MLP, density=0.2, reg_step=0.25, reg_every=2, stabilize=4, dense_layers=("output",)),
    "rst_magnitude": RstSpec(train=MLP, density=0.2, reg_step=0.25, reg_every=2, stabilize=4, cycles=2,
                             dense_layers=("output",), pick="magnitude"),
    "lmc": LmcSpec(source=IMP, level=1, points=3),
    "pools": PoolSpec(source=IMP_RESNET, targets=(2,), alphas=(0.5,), ood_size=8, bn_samples=32),
    "elastic": ElasticSpec(source=ImpSpec(train=RESNET.replace(model="cifar_resnet_14_4", duration="1ep"), levels=1,
                                          rewind="4it"), level=1, target="cifar_resnet_20_4"),
    "rtl": RtlSpec(train=MLP, sparsities=(0.5,), extract_steps="5it"),
    "rtl_inr": InrSpec(side=8, regions=2, widths=(16,), fourier=8, sparsities=(0.5,), extract_steps=5, steps=10,
                       batch_size=32),
}


def test_the_check_fails_on_host_tensors_and_follows_moves():
    with SimulatedDevice():
        layer = torch.nn.Linear(3, 2).to(TRAINING_DEVICE)
        assert on_device(layer.weight) and layer.weight.device == TRAINING_DEVICE
        layer(torch.randn(4, 3, device=layer.weight.device)).sum().backward()
        host = torch.ones(2, 3)
        with pytest.raises(DeviceMixError, match="training device"):
            layer.weight.grad.mul_(host)
        with pytest.raises(DeviceMixError):
            torch._foreach_addcmul_([layer.weight.grad], [host], [layer.weight.detach()], value=0.1)
        moved = host.to(layer.weight.device)
        assert on_device(moved) and not on_device(host), "a move copies, as across real devices"
        layer.weight.grad.mul_(moved)
        layer.weight.grad.mul_(torch.tensor(2.0))  # zero-dimensional host tensors pass, as on CUDA
        layer.load_state_dict({k: v.cpu() for k, v in layer.state_dict().items()})  # copies cross
        assert on_device(layer.weight) and not on_device(layer.weight.detach().cpu())


def test_the_rst_penalty_and_masked_record_use_the_training_device(tmp_path):
    spec = SPECS["rst"]
    with SimulatedDevice():
        ctx = RunContext(device=TRAINING_DEVICE)
        data, model = prepare(spec.train, ctx)
        alive = Mask.ones_like(model)
        keep = pick(spec, alive, model.state_dict(), 0.2, torch.Generator().manual_seed(0), {"fc.weight"})
        doomed = Mask({n: alive[n] & ~keep[n] for n in alive})
        trainer = Trainer(transform_spec(spec), model, data, ctx.device)
        hooks = Extrusion(spec, trainer, doomed, keep, Unit(tmp_path), log_every=1)
        x, y = next(trainer.loader.epoch(0))
        torch.nn.functional.cross_entropy(trainer.model(x), y).backward()
        trainer.step = 10
        hooks.penalize(trainer)
        hooks.record(trainer)
    assert hooks.log and hooks.log[-1]["step"] == 10


@pytest.mark.parametrize("name", list(SPECS))
def test_each_method_keeps_its_tensors_on_the_training_device(name, runs_dir):
    mode = SimulatedDevice()
    with mode:
        result = api.run(SPECS[name], runs_dir=runs_dir, device=str(TRAINING_DEVICE))
    assert result.metrics is not None
    assert mode.calls > 0, "the run's tensors were on the simulated device"


@pytest.mark.parametrize("name", list(SPECS))
def test_each_method_runs_on_the_real_device(name, runs_dir, real_device):
    """The same runs on a real accelerator, in its default precision (bf16 autocast and
    channels_last on CUDA): its kernels, not only the tensors' placement."""
    result = api.run(SPECS[name], runs_dir=runs_dir, device=real_device)
    status = json.loads((Path(result.run_dir) / "status.json").read_text())
    assert status["status"] == "finished" and status["device"].startswith(torch.device(real_device).type)
    numbers = [v for v in result.metrics.values() if isinstance(v, float)]
    assert numbers and all(math.isfinite(v) for v in numbers), result.metrics
