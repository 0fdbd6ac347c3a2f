"""Channel tickets at inference: the slim network (kept channels only) against the same
channels masked in the full network, and the dense network, in one run.

Model: ResNet-20 (`cifar_resnet_20_16`, input 3x32x32), seeded init with nonzero BatchNorm
running statistics and shifts (so removed channels carry constants and the check below
means something). Channels: L1 filter scores (Li et al. 2017), layer-wise, 50% and 25%
of every group kept (residual streams and each block's inner channels); latency does not
depend on which channels, only on how many. Masked: the full network with the channel
mask's zeros; slim: `export/slim.py`'s rebuild, checked to predict as the masked one.
Each (keep, batch) times dense, masked and slim interleaved, medians of rounds of
~20 ms bursts (CUDA: synchronized around each burst); batch 128 and batch 1.

    python benchmarks/slim_speed.py [--rounds 15] [--keep 0.5,0.25] [--batches 128,1] [--device cpu|cuda] [--out DIR]
"""
from __future__ import annotations

import argparse
import copy
import statistics
import time

import torch
from publish import add_out_argument, publish
from report import machine, sync, table

from ticketlab.export.slim import slim_model
from ticketlab.models import build_model
from ticketlab.prune.channels import channel_groups, channel_mask, channel_scores, keep_top

MODEL, SHAPE = "cifar_resnet_20_16", (3, 32, 32)
ROUNDS = 15


def network() -> torch.nn.Module:
    torch.manual_seed(0)
    model = build_model(MODEL, SHAPE, 10)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 1.5)
                module.bias.uniform_(0.1, 0.5)
    return model.eval()


def variants(dense: torch.nn.Module, keep: float) -> tuple[torch.nn.Module, torch.nn.Module, float]:
    """The masked and slim networks keeping `keep` of every group's channels, and the
    channel density reached."""
    groups = channel_groups(dense)
    kept = keep_top(channel_scores(dense, groups, "l1"), 1 - keep)
    mask = channel_mask(dense, groups, kept)
    masked = copy.deepcopy(dense)
    with torch.no_grad():
        for name, param in masked.named_parameters():
            if name in mask:
                param.mul_(mask[name])
    density = sum(int(k.sum()) for k in kept.values()) / sum(g.size for g in groups)
    return masked, slim_model(masked, groups, kept), density


def timed(model, x, calls: int, device: torch.device) -> float:
    with torch.no_grad():
        sync(device)
        start = time.perf_counter()
        for _ in range(calls):
            model(x)
        sync(device)
        return (time.perf_counter() - start) / calls


def params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="timed bursts per variant; the median is kept")
    parser.add_argument("--keep", type=lambda s: tuple(float(x) for x in s.split(",")), default=(0.5, 0.25),
                        help="fractions of every channel group kept")
    parser.add_argument("--batches", type=lambda s: tuple(int(x) for x in s.split(",")), default=(128, 1))
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    add_out_argument(parser)
    args = parser.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: torch sees no CUDA device here")
    where = machine(device)
    dense = network()
    rows, figures = [], []
    for keep in args.keep:
        masked, slim, density = variants(dense, keep)
        nets = {"dense": dense, "masked": masked, "slim": slim}
        for net in nets.values():
            net.to(device)
        for batch in args.batches:
            x = torch.randn(batch, *SHAPE, device=device)
            with torch.no_grad():
                error = float((slim(x) - masked(x)).abs().max() / masked(x).abs().max())
            assert error < 1e-4, f"slim and masked disagree at keep {keep}, batch {batch}: {error:.3g}"
            for net in nets.values():
                timed(net, x, 3, device)  # warm up
            calls = max(1, round(0.02 / timed(dense, x, 3, device)))
            times = {label: [] for label in nets}
            for _ in range(args.rounds):
                for label, net in nets.items():
                    times[label].append(timed(net, x, calls, device))
            ms = {label: 1e3 * statistics.median(t) for label, t in times.items()}
            figures.append({"model": MODEL, "keep": keep, "channel_density": density, "batch": batch,
                            "device": device.type, "threads": torch.get_num_threads(), "calls_per_burst": calls,
                            **{f"{label}_ms": v for label, v in ms.items()},
                            **{f"{label}_params": params(net) for label, net in nets.items()},
                            "slim_over_dense": ms["slim"] / ms["dense"], "slim_over_masked": ms["slim"] / ms["masked"],
                            "relative_error": error})
            rows.append([f"{100 * keep:g}%", batch, f"{ms['dense']:.3f}", f"{ms['masked']:.3f}", f"{ms['slim']:.3f}",
                         f"{ms['slim'] / ms['dense']:.2f}", f"{ms['slim'] / ms['masked']:.2f}",
                         f"{params(slim) / params(dense):.3f}"])
            print(rows[-1], flush=True)
    name = "slim_speed" if device.type == "cpu" else f"slim_speed_{device.type}"
    markdown = f"""## Slim channel tickets ({MODEL}, {where})

`python benchmarks/slim_speed.py{'' if device.type == 'cpu' else ' --device ' + device.type}`: the dense
network, the same network with a channel mask's zeros (masked) and the network rebuilt with the kept channels
only (slim, `ticketlab export --format slim`), L1-scored channels, interleaved, medians of {args.rounds} rounds of
~20 ms bursts; slim checked to predict as masked.

{table(["channels kept", "batch", "dense (ms)", "masked (ms)", "slim (ms)", "slim / dense", "slim / masked",
        "slim params / dense"], rows)}

Masked zeros cost as much as dense weights (the kernels are dense); the slim network does
the work of the kept channels only, a quarter of the multiply-adds at 50% kept (both sides of
most convolutions shrink).
"""
    publish(name, {"machine": where, "model": MODEL, "rounds": args.rounds, "figures": figures}, markdown, args.out)


if __name__ == "__main__":
    main()
