"""The precision policy: the GPU's bf16 autocast and channels_last paths, exercised on
this CPU (CI has no GPU), and the choice of fp32 on any device."""
import copy
import json
import threading
import warnings

import pytest
import torch
from safetensors.torch import load_file
from torch.func import functional_call, stack_module_state, vmap

from ticketlab import api
from ticketlab.cli.main import main
from ticketlab.core.errors import UnknownNameError
from ticketlab.models import build_model
from ticketlab.core.progress import Progress
from ticketlab.specs import ImpSpec, TrainSpec
from ticketlab.store import RunStore
from ticketlab.train import Trainer
from ticketlab.train.device import autocast, memory_format, precision_policy

from .test_batched import DATA


def weights(folder, spec, unit="."):
    return load_file(str(folder / spec.run_id / unit / "model.safetensors"))


@pytest.mark.parametrize("model", ["mlp_32_16", "cifar_resnet_8_4"])
def test_bf16_autocast_trains_in_fp32_weights_close_to_fp32_training(tmp_path, model):
    spec = TrainSpec(model=model, dataset="synthetic", duration="4it", batch_size=32, lr=0.05, eval_every="4it")
    full = api.run(spec, runs_dir=tmp_path / "fp32", precision="fp32", device="cpu")
    half = api.run(spec, runs_dir=tmp_path / "bf16", precision="bf16", device="cpu")
    a, b = weights(tmp_path / "fp32", spec), weights(tmp_path / "bf16", spec)
    assert all(t.dtype == torch.float32 for t in b.values() if t.is_floating_point()), "weights stay fp32"
    gaps = [float((a[k].float() - b[k].float()).abs().max()) for k in a if a[k].is_floating_point()]
    assert max(gaps) > 0, "bf16 autocast was in effect: the products were rounded"
    assert max(gaps) < 0.02, "and it trains the same network, to bf16 rounding"
    assert abs(full.metrics["test_loss"] - half.metrics["test_loss"]) < 0.1
    status = json.loads((tmp_path / "bf16" / spec.run_id / "status.json").read_text())
    assert status["precision"] == "bf16" and status["device"] == "cpu"


def test_vmap_does_not_autocast_on_a_cpu_so_bf16_members_train_one_by_one(tmp_path):
    """The assumption behind api._stacking_keeps, and what it does about it."""
    layers = [torch.nn.Linear(8, 4) for _ in range(2)]
    params, buffers = stack_module_state(layers)
    base = copy.deepcopy(layers[0]).to("meta")
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = vmap(lambda p, b, x: functional_call(base, (p, b), (x,)))(params, buffers, torch.randn(2, 5, 8))
    assert out.dtype == torch.float32, "torch's vmap now autocasts on a CPU: drop api._stacking_keeps' fallback"

    spec = TrainSpec(model="mlp_32_16", dataset="synthetic", duration="6it", batch_size=32, lr=0.05, eval_every="6it")
    seeds = [spec.replace(seed=s) for s in (0, 1)]
    notes = []
    progress = Progress()
    progress.note = notes.append
    stacked = api.run_many(seeds, batch=True, runs_dir=tmp_path / "batch", precision="bf16", progress=progress,
                           device="cpu")
    assert sum("one by one" in n for n in notes) == 1, "said once"
    assert all("batched" not in r.metrics for r in stacked)
    api.run_many(seeds, runs_dir=tmp_path / "alone", precision="bf16", device="cpu")
    for spec in seeds:
        a, b = weights(tmp_path / "alone", spec), weights(tmp_path / "batch", spec)
        assert all(torch.equal(a[k], b[k]) for k in a), "the same bf16 training as separate runs"


def test_imp_masks_hold_under_bf16(tmp_path):
    train = TrainSpec(model="mlp_32_16", dataset="synthetic", duration="1ep", batch_size=32, lr=0.05)
    spec = ImpSpec(train=train, levels=2, controls=("random",))
    api.run(spec, runs_dir=tmp_path, precision="bf16", batch=True, device="cpu")
    run = RunStore(tmp_path).open(spec.run_id)
    for unit in ("level_02", "level_02/random"):
        mask, state = run.child(unit).load_mask("mask.safetensors"), weights(tmp_path, spec, unit)
        for name, m in mask.items():
            assert not state[name][~m.bool()].any(), unit


def test_channels_last_training_equals_contiguous():
    spec = TrainSpec(model="cifar_resnet_8_4", dataset="synthetic", duration="1ep", batch_size=32, lr=0.05,
                     momentum=0.9, eval_every="1ep")
    runs = []
    for channels_last in (False, True):
        with precision_policy("fp32", channels_last=channels_last):
            torch.manual_seed(0)
            trainer = Trainer(spec, build_model(spec.model, (1, 8, 8), 4), DATA, torch.device("cpu"))
            conv = next(m for m in trainer.model.modules() if isinstance(m, torch.nn.Conv2d) and m.in_channels > 1)
            assert conv.weight.is_contiguous(memory_format=torch.channels_last) == channels_last
            trainer.run(until=5)
            runs.append(trainer)
    for p, q in zip(runs[0].model.parameters(), runs[1].model.parameters()):
        assert torch.allclose(p, q, atol=1e-5)


def test_policy_resolution_and_refusals(tmp_path, capsys):
    cuda, cpu = torch.device("cuda"), torch.device("cpu")
    with warnings.catch_warnings():  # without CUDA torch warns; the object still tells the policy
        warnings.simplefilter("ignore", UserWarning)
        assert isinstance(autocast(cuda), torch.autocast), "auto: bf16 on CUDA"
    assert not isinstance(autocast(cpu), torch.autocast), "auto: fp32 on a CPU"
    assert memory_format(cuda, True) == torch.channels_last and memory_format(cpu, True) == torch.contiguous_format
    with precision_policy("fp32"):
        assert not isinstance(autocast(cuda), torch.autocast), "fp32 holds on CUDA too"
    with precision_policy("bf16"):
        assert isinstance(autocast(cpu), torch.autocast) and autocast(cpu).fast_dtype == torch.bfloat16
    assert not isinstance(autocast(cpu), torch.autocast), "the policy ends with its block"
    spec = TrainSpec(model="mlp_32", dataset="synthetic", duration="1ep", batch_size=32)
    with pytest.raises(UnknownNameError, match="fp16.*bf16"):
        api.run(spec, runs_dir=tmp_path, precision="fp16")
    assert not (tmp_path / spec.run_id).exists(), "refused before the run starts"
    with pytest.raises(SystemExit):
        main(["train", "--model", "mlp_32", "--dataset", "synthetic", "--epochs", "1", "--precision", "fp16"])
    assert "invalid choice: 'fp16'" in capsys.readouterr().err


def test_runs_in_two_threads_keep_their_own_policies():
    seen, ready = {}, threading.Barrier(2)

    def worker(precision):
        with precision_policy(precision):
            ready.wait()  # both policies set before either reads
            seen[precision] = isinstance(autocast(torch.device("cpu")), torch.autocast)
            ready.wait()

    threads = [threading.Thread(target=worker, args=(p,)) for p in ("bf16", "fp32")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == {"bf16": True, "fp32": False}
    assert not isinstance(autocast(torch.device("cpu")), torch.autocast), "nothing leaks out of the threads"


def test_resuming_in_another_precision_is_said(tmp_path):
    spec = TrainSpec(model="mlp_32", dataset="synthetic", duration="2it", batch_size=32, eval_every="2it")
    run_dir = RunStore(tmp_path).run_dir(spec)
    run_dir.create()
    run_dir.set_status("interrupted", device="cpu", precision="bf16")  # as an earlier, stopped bf16 run left it
    notes = []
    progress = Progress()
    progress.note = notes.append
    api.run(spec, runs_dir=tmp_path, precision="fp32", device="cpu", progress=progress)
    assert any("ran in bf16 and goes on in fp32" in n and "--precision bf16" in n for n in notes)
    other = spec.replace(seed=1)
    notes.clear()
    api.run(other, runs_dir=tmp_path, precision="fp32", device="cpu", progress=progress)
    assert not any("goes on in" in n for n in notes), "a fresh run has nothing to mix"
