"""Batched tickets: M masked networks trained as one stacked computation against the same
M trained one after another, in one run.

LeNet-300-100 and Conv-4 on Fashion-MNIST, M = 1, 4, 8, 16 members, each with its own
init, random 20% mask and data order, SGD (lr 0.05, momentum 0.9), batch 128. Each
configuration times `--steps` training steps of all M members batched
(`train.batched.BatchedTrainer`) and one after another (`Trainer`), interleaved, medians
of 3; throughput is member-steps per second. Evaluation is excluded (it is the same
code either way).

    python benchmarks/batched_tickets.py [--steps 60] [--members 1,4,8,16] [--device cuda] [--out DIR]
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch
from publish import add_out_argument, publish
from report import machine, sync, table

from ticketlab.data import load_dataset
from ticketlab.models import build_model
from ticketlab.prune import random_mask_like
from ticketlab.sparse import Mask
from ticketlab.specs import TrainSpec
from ticketlab.train import Trainer
from ticketlab.train.batched import BatchedTrainer
from ticketlab.train.device import resolve_device


def trainers(model: str, m: int, data, device) -> list[Trainer]:
    spec = TrainSpec(model=model, dataset=data.info.name, duration="1000ep", lr=0.05, momentum=0.9,
                     eval_every="1000ep")
    out = []
    for i in range(m):
        torch.manual_seed(i)
        net = build_model(model, data.info.input_shape, data.info.num_classes)
        mask = random_mask_like(Mask.ones_like(net), "layerwise", torch.Generator().manual_seed(i))
        out.append(Trainer(spec.replace(seed=i), net, data, device, mask=mask))
    return out


def time_sequential(members: list[Trainer], steps: int, device) -> float:
    sync(device)
    start = time.perf_counter()
    for t in members:
        t.run(until=t.step + steps)
    sync(device)
    return time.perf_counter() - start


def time_batched(members: list[Trainer], steps: int, device) -> float:
    batched = BatchedTrainer(members)
    sync(device)
    start = time.perf_counter()
    batched.run(until=batched.step + steps)
    sync(device)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60, help="timed steps per member, LeNet-300-100")
    parser.add_argument("--conv-steps", type=int, default=6,
                        help="timed steps per member, Conv-4 (compute-bound on a CPU: ~0.4 s a step)")
    parser.add_argument("--members", type=lambda s: [int(x) for x in s.split(",")], default=[1, 4, 8, 16])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--dataset", default="fashion_mnist", help="any dataset of Fashion-MNIST's shape for Conv-4")
    parser.add_argument("--models", type=lambda s: s.split(","), default=["lenet_300_100", "conv4"])
    parser.add_argument("--repeats", type=int, default=3, help="interleaved repeats; the median is kept")
    add_out_argument(parser)
    args = parser.parse_args()
    device = resolve_device(args.device)
    data = load_dataset(args.dataset, device=device)
    rows, figures = [], []
    steps_of = {"lenet_300_100": args.steps, "conv4": args.conv_steps}
    for model, steps in ((m, steps_of.get(m, args.steps)) for m in args.models):
        for m in args.members:
            seq, bat = [], []
            for _ in range(args.repeats):
                seq.append(time_sequential(trainers(model, m, data, device), steps, device))
                bat.append(time_batched(trainers(model, m, data, device), steps, device))
            s, b = statistics.median(seq), statistics.median(bat)
            figures.append({"model": model, "members": m, "steps": steps, "sequential_s": s, "batched_s": b,
                            "sequential_member_steps_per_s": m * steps / s,
                            "batched_member_steps_per_s": m * steps / b, "speedup": s / b})
            rows.append([model, m, f"{m * steps / s:.1f}", f"{m * steps / b:.1f}", f"{s / b:.2f}x"])
            print(rows[-1], flush=True)
    markdown = f"""## Batched tickets ({machine(device)})

`python benchmarks/batched_tickets.py --steps {args.steps} --conv-steps {args.conv_steps}`: M masked
networks (own init, mask and data order) trained as one stacked `vmap` computation against one
after another, interleaved, medians of {args.repeats} ({args.steps} timed steps per member for LeNet-300-100,
{args.conv_steps} for Conv-4). Throughput in member-steps per second (batch 128).

{table(["model", "M", "one after another", "batched", "speed-up"], rows)}
"""
    publish(f"batched_tickets_{device.type}", {"machine": machine(device), "steps": args.steps,
                                               "conv_steps": args.conv_steps, "dataset": args.dataset,
                                               "figures": figures}, markdown, args.out)


if __name__ == "__main__":
    main()
