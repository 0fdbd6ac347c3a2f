"""Epoch time: ticketlab dense vs ticketlab with a 10%-density mask vs the usual pipeline.

(a) ticketlab dense: device-resident data, the one training loop.
(b) ticketlab with a 10%-density mask enforced by fused multiplies after each step.
(c) the usual reference: a per-sample Dataset (ToTensor + Normalize per image) behind a
    torch.utils.data.DataLoader, masks held by torch.nn.utils.prune.
(d) (b) trained through torch.compile (the `--compile` option).

Variants are run interleaved, several times, in one process; the median is reported, and
the ratios come from the same run. Targets: (b) <= 1.05 x (a); (c) >= 1.5 x (b) on
LeNet-300-100; (b) <= 1.10 x (a) on the vision transformer vit_4_64_4_7. With CUDA, also ResNet-20 on a CIFAR-shaped tensor set at batch 128
(by default in bf16, eager; `--precisions` and `--compile` give the other cells, e.g.
`--precisions bf16,fp32 --compile none,reduce-overhead`; `--device cpu` runs it on the CPU).

    python benchmarks/epoch_speed.py [--repeats 3] [--conv-steps 40]
    python benchmarks/epoch_speed.py --skip-cpu --precisions bf16,fp32 --compile none,reduce-overhead --out DIR
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F
from torch.nn.utils import prune
from torch.utils.data import DataLoader, Dataset

from publish import add_out_argument, publish
from report import machine, sync, table

from ticketlab.methods.context import RunContext
from ticketlab.methods.units import prepare
from ticketlab.sparse import Mask
from ticketlab.specs import TrainSpec
from ticketlab.train import Trainer


def random_mask(model, density: float, seed: int = 0) -> Mask:
    g = torch.Generator().manual_seed(seed)
    params = dict(model.named_parameters())
    return Mask({n: torch.rand(params[n].shape, generator=g) < density for n in model.prunable_names})


def ticketlab_seconds(spec: TrainSpec, steps: int, device: torch.device, density: float | None,
                      compile_mode: str | None = None) -> float:
    data, model = prepare(spec, RunContext(device=device))
    mask = random_mask(model, density) if density is not None else None
    trainer = Trainer(spec, model, data, device, mask=mask)
    if compile_mode:
        trainer.compile(compile_mode)
    trainer.run(until=3)  # warm-up: allocator, kernels (and the compilation)
    sync(device)
    start = time.perf_counter()
    trainer.run(until=3 + steps)
    sync(device)
    return time.perf_counter() - start


class PerSampleImages(Dataset):
    """What torchvision's datasets do: one uint8 image at a time, ToTensor + Normalize."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, mean: float, std: float):
        self.images, self.labels, self.mean, self.std = images, labels, mean, std

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        x = self.images[i].to(torch.float32).div(255.0)
        return (x - self.mean) / self.std, int(self.labels[i])


def reference_seconds(spec: TrainSpec, steps: int, density: float) -> float:
    data, model = prepare(spec, RunContext(device=torch.device("cpu")))
    info = data.info
    mean, std = info.mean[0], info.std[0]
    images = ((data.train.x * std + mean) * 255).round().clamp(0, 255).to(torch.uint8)
    loader = DataLoader(PerSampleImages(images, data.train.y.cpu(), mean, std), batch_size=spec.batch_size,
                        shuffle=True, num_workers=0)
    mask = random_mask(model, density)
    modules = dict(model.named_modules())
    for name in mask:
        prune.custom_from_mask(modules[name.rsplit(".", 1)[0]], "weight", mask[name])
    optimizer = torch.optim.SGD(model.parameters(), lr=spec.lr)
    batches = (batch for _ in range(1000) for batch in loader)  # epochs back to back
    start = None
    for step in range(3 + steps):
        if step == 3:
            start = time.perf_counter()
        x, y = next(batches)
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return time.perf_counter() - start


def measure(model: str, steps: int, repeats: int) -> dict:
    spec = TrainSpec(model=model, dataset="fashion_mnist", duration="1000ep", eval_every="1000ep")
    cpu = torch.device("cpu")
    times = {"a_dense": [], "b_masked": [], "c_reference": [], "d_masked_compiled": []}
    for _ in range(repeats):  # interleaved, so drift in machine load hits all variants alike
        times["a_dense"].append(ticketlab_seconds(spec, steps, cpu, None))
        times["b_masked"].append(ticketlab_seconds(spec, steps, cpu, 0.1))
        times["c_reference"].append(reference_seconds(spec, steps, 0.1))
    # After the others: once torch.compile has run in a process, eager steps measured here
    # ran up to 1.7x slower (left-over compiler state), which would bias (a)-(c).
    for _ in range(repeats):
        times["d_masked_compiled"].append(ticketlab_seconds(spec, steps, cpu, 0.1, compile_mode="default"))
    steps_per_epoch = 469  # Fashion-MNIST, batch 128
    median = {k: statistics.median(v) for k, v in times.items()}
    epoch = {k: v / steps * steps_per_epoch for k, v in median.items()}
    return {"model": model, "steps_timed": steps, "repeats": repeats, "epoch_seconds": epoch, "raw_seconds": times,
            "b_over_a": median["b_masked"] / median["a_dense"],
            "c_over_b": median["c_reference"] / median["b_masked"],
            "b_over_d": median["b_masked"] / median["d_masked_compiled"]}


def resnet20(device: torch.device, precision: str, compile_mode: str | None, repeats: int, steps: int = 0,
             warmup: int = 20, images: int = 50000) -> dict:
    """ResNet-20 on a CIFAR-shaped random tensor set held on `device`, batch 128: seconds
    per epoch (`steps` timed steps scaled to an epoch; 0: one whole epoch timed), median
    of `repeats`, each on a fresh trainer after `warmup` untimed steps (which also pay
    for the compilation)."""
    from ticketlab.data import Arrays, DatasetSplits, dataset_info
    from ticketlab.models import build_model
    from ticketlab.train.device import effective_precision, precision_policy

    spec = TrainSpec(model="cifar_resnet_20", dataset="cifar10", duration="1000ep", eval_every="1000ep")
    info = dataset_info("cifar10")
    g = torch.Generator().manual_seed(0)
    train = Arrays(torch.randn(images, 3, 32, 32, generator=g).to(device),
                   torch.randint(0, 10, (images,), generator=g).to(device))
    test = Arrays(train.x[:1000], train.y[:1000])
    data = DatasetSplits(info=info, train=train, test=test, val=None)
    seconds, compile_s, timed_steps, per_epoch = [], [], steps, 0
    with precision_policy(precision):
        for _ in range(repeats):
            torch.manual_seed(0)
            trainer = Trainer(spec, build_model(spec.model, info.input_shape, info.num_classes), data, device)
            per_epoch = trainer.steps_per_epoch
            timed_steps = steps or per_epoch
            if compile_mode:
                trainer.compile(compile_mode)
            sync(device)
            start = time.perf_counter()
            trainer.run(until=warmup)
            sync(device)
            compile_s.append(time.perf_counter() - start)
            start = time.perf_counter()
            trainer.run(until=warmup + timed_steps)
            sync(device)
            seconds.append((time.perf_counter() - start) * per_epoch / timed_steps)
            del trainer
    return {"model": "cifar_resnet_20", "batch_size": 128, "device": str(device),
            "precision": effective_precision(device, precision), "compile": compile_mode or "none",
            "channels_last": device.type == "cuda", "steps_timed": timed_steps, "steps_per_epoch": per_epoch,
            "warmup_steps": warmup, "warmup_seconds": compile_s, "epoch_seconds": statistics.median(seconds),
            "raw_seconds": seconds}


def gpu_matrix(args) -> list[dict]:
    """ResNet-20 in every asked (precision, compile mode), each measured on its own."""
    from ticketlab.train.device import resolve_device

    if args.device in (None, "auto") and not torch.cuda.is_available():
        return []
    device = resolve_device(args.device)
    out = []
    for mode in args.compile:
        for precision in args.precisions:
            figure = resnet20(device, precision, None if mode == "none" else mode, args.repeats,
                              steps=args.resnet_steps, warmup=args.warmup, images=args.images)
            print(f"cifar_resnet_20 {device} {figure['precision']} compile={figure['compile']}: "
                  f"{figure['epoch_seconds']:.2f} s/epoch", flush=True)
            out.append(figure)
    return out


def _names(text: str) -> list[str]:
    return [t for t in text.split(",") if t]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--lenet-steps", type=int, default=469, help="steps timed for LeNet-300-100 (469 = 1 epoch)")
    parser.add_argument("--conv-steps", type=int, default=30, help="steps timed for Conv-4 (extrapolated to an epoch)")
    parser.add_argument("--vit-steps", type=int, default=30,
                        help="steps timed for vit_4_64_4_7 (extrapolated to an epoch)")
    parser.add_argument("--skip-cpu", action="store_true", help="skip the CPU figures (LeNet-300-100, Conv-4)")
    parser.add_argument("--device", default="auto",
                        help="where ResNet-20 runs (auto: CUDA when present, else not at all; cpu runs it on the CPU)")
    parser.add_argument("--precisions", type=_names, default=["bf16"], help="ResNet-20's precisions: bf16,fp32")
    parser.add_argument("--compile", type=_names, default=["none"],
                        help="ResNet-20's compile modes: none,default,reduce-overhead,max-autotune")
    parser.add_argument("--resnet-steps", type=int, default=0,
                        help="steps timed for ResNet-20, scaled to an epoch (0: one whole epoch, 391 steps)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed ResNet-20 steps first (and the compilation)")
    parser.add_argument("--images", type=int, default=50000, help="size of ResNet-20's random training tensor set")
    add_out_argument(parser)
    args = parser.parse_args()
    results = [] if args.skip_cpu else [measure("lenet_300_100", args.lenet_steps, args.repeats),
                                        measure("conv4", args.conv_steps, args.repeats),
                                        measure("vit_4_64_4_7", args.vit_steps, args.repeats)]
    resnet = gpu_matrix(args)
    gpu = next((r for r in resnet if r["device"].startswith("cuda") and r["precision"] == "bf16"
                and r["compile"] == "none"), None)
    rows = [[r["model"], f"{r['epoch_seconds']['a_dense']:.2f}", f"{r['epoch_seconds']['b_masked']:.2f}",
             f"{r['epoch_seconds']['c_reference']:.2f}", f"{r['epoch_seconds']['d_masked_compiled']:.2f}",
             f"{r['b_over_a']:.3f}", f"{r['c_over_b']:.2f}", f"{r['b_over_d']:.2f}"] for r in results]
    for row in rows:
        print("  ".join(row))
    markdown = "\n".join([
        "## Epoch time on Fashion-MNIST (`benchmarks/epoch_speed.py`)",
        "",
        f"Machine: {machine()}. Batch 128, SGD; median of {args.repeats} interleaved repeats; Conv-4 timed on "
        f"{args.conv_steps} steps and vit_4_64_4_7 on {args.vit_steps}, scaled to an epoch of 469 steps. (a) ticketlab dense, (b) ticketlab with a "
        "10%-density mask, (c) per-sample `Dataset` + `DataLoader` with masks held by `torch.nn.utils.prune`, "
        "(d) as (b) through `torch.compile` (`--compile default`; compilation in the untimed warm-up; "
        "timed after (a)-(c), since eager steps slowed once a compile had run in the process).",
        "Targets: b/a <= 1.05; c/b >= 1.5 on LeNet-300-100; b/a <= 1.10 on the ViT.",
        "",
        table(["model", "(a) s/epoch", "(b) s/epoch", "(c) s/epoch", "(d) s/epoch", "b/a", "c/b", "b/d (compile)"],
              rows),
    ]) if results else "## Epoch time (`benchmarks/epoch_speed.py`)"
    if gpu and len(resnet) == 1:
        markdown += f"\n\nCUDA: ResNet-20 on a CIFAR-shaped tensor set, batch 128, bf16 autocast, channels_last: " \
                    f"{gpu['epoch_seconds']:.2f} s/epoch (target <= 2 s on an H100)."
    elif resnet:
        markdown += (f"\n\nResNet-20 on a CIFAR-shaped tensor set, batch 128 ({machine(torch.device(resnet[0]['device']))}; "
                     f"median of {args.repeats}; warm-up and compilation untimed):\n\n"
                     + table(["device", "precision", "compile", "s/epoch", "steps timed", "warm-up (s)"],
                             [[r["device"], r["precision"], r["compile"], f"{r['epoch_seconds']:.2f}", r["steps_timed"],
                               f"{statistics.median(r['warmup_seconds']):.1f}"] for r in resnet]))
    publish("epoch_speed", {"machine": machine(), "cpu": results, "cuda": gpu, "resnet20": resnet}, markdown, args.out)


if __name__ == "__main__":
    main()
