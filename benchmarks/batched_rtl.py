"""Routing the Lottery, batched: K one-mask LeNet-300-100 networks (an extraction round,
or the independent-models baseline) trained one after another (`train_routed`) against
one stacked computation (`train_routed_stacked`), in one run.

Each network has its own random 50% mask and seeded batches of Fashion-MNIST (batch 128,
SGD with momentum); K = 4 and 10 (Fashion-MNIST's class tickets). Interleaved, medians
of 3; throughput in network-steps per second.

    python benchmarks/batched_rtl.py [--steps 50] [--device cuda] [--out DIR]
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
from ticketlab.sparse import Mask
from ticketlab.specs import TrainSpec
from ticketlab.train.device import resolve_device
from ticketlab.train.routed import RoutedNet, train_routed, train_routed_stacked

SPEC = TrainSpec(model="lenet_300_100", dataset="fashion_mnist", lr=0.05, momentum=0.9, batch_size=128)


def networks(k: int, info, device) -> list[RoutedNet]:
    torch.manual_seed(0)
    theta0 = build_model(SPEC.model, info.input_shape, info.num_classes).state_dict()
    out = []
    for i in range(k):
        model = build_model(SPEC.model, info.input_shape, info.num_classes).to(device)
        model.load_state_dict(theta0)
        g = torch.Generator().manual_seed(i)
        mask = Mask({n: torch.rand(p.shape, generator=g) < 0.5 for n, p in model.named_parameters()
                     if n in model.prunable_names})
        out.append(RoutedNet(model, [mask.to(device)]))
    return out


def batch_fns(k: int, data):
    fns = []
    for i in range(k):
        g = torch.Generator().manual_seed(i)
        fns.append(lambda step, g=g: (0, *_draw(data, g)))
    return fns


def _draw(data, g):
    rows = torch.randint(len(data.train.y), (SPEC.batch_size,), generator=g).to(data.train.x.device)
    return data.train.x[rows], data.train.y[rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--dataset", default="fashion_mnist")
    parser.add_argument("--ks", type=lambda s: [int(x) for x in s.split(",")], default=[4, 10],
                        help="numbers of networks trained side by side")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved repeats; the median is kept")
    add_out_argument(parser)
    args = parser.parse_args()
    device = resolve_device(args.device)
    data = load_dataset(args.dataset, device=device)
    rows, figures = [], []
    for k in args.ks:
        one, stacked = [], []
        for _ in range(args.repeats):
            nets, fns = networks(k, data.info, device), batch_fns(k, data)
            sync(device)
            start = time.perf_counter()
            for net, fn in zip(nets, fns):
                train_routed(net, fn, args.steps, SPEC)
            sync(device)
            one.append(time.perf_counter() - start)
            nets, fns = networks(k, data.info, device), batch_fns(k, data)
            sync(device)
            start = time.perf_counter()
            train_routed_stacked(nets, fns, args.steps, SPEC)
            sync(device)
            stacked.append(time.perf_counter() - start)
        s, b = statistics.median(one), statistics.median(stacked)
        figures.append({"k": k, "steps": args.steps, "one_after_another_s": s, "stacked_s": b, "speedup": s / b})
        rows.append([k, f"{k * args.steps / s:.1f}", f"{k * args.steps / b:.1f}", f"{s / b:.2f}x"])
        print(rows[-1], flush=True)
    markdown = f"""## Routing the Lottery, batched ({machine(device)})

`python benchmarks/batched_rtl.py --steps {args.steps}`: K one-mask LeNet-300-100 networks (an
extraction round or the independent-models baseline; own 50% mask and batches, batch 128)
trained one after another against one stacked computation, interleaved, medians of {args.repeats}.
Throughput in network-steps per second.

{table(["K", "one after another", "stacked", "speed-up"], rows)}
"""
    publish(f"batched_rtl_{device.type}", {"machine": machine(device), "dataset": args.dataset, "figures": figures},
            markdown, args.out)


if __name__ == "__main__":
    main()
