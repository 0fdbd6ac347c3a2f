"""`early_bird`: early-bird tickets (You et al., ICLR 2020, "Drawing Early-Bird Tickets:
Towards More Efficient Training of Deep Networks", arXiv 1909.11957; the authors' code,
github.com/GATECH-EIC/Early-Bird-Tickets: `main.py` for the search, `main_c.py` for the
retraining).

Search (`early_bird_search.py`): the dense network trains under `train`, with the L1 penalty
on BatchNorm scales of network slimming (`updateBN`: strength * sign(gamma) added to their
gradients, `--sr --s 1e-4`). The mask at the target density is drawn from the
initialization and after every epoch: channel tickets keep the channels of largest
|gamma| under one global threshold (`pre_mask`); weight tickets the weights of largest
magnitude under one global threshold. The ticket is drawn once the last `window`
normalized Hamming distances between consecutive epochs' masks are all below `threshold`
(the paper and its README: the last five distances below 0.1); never, and the last
epoch's mask is the ticket, said plainly (`converged: false`).

Retraining (`early_bird_retrain.py`), under the ticket's mask with the same penalty (the
code's retraining scripts keep `--sr`): `ticket` trains the early-bird weights on from the
step they were drawn at to the end of `train.duration`, the schedule where it was (the
paper's EB Train and the code's `retrain_continue.sh`, `main_c.py --start-epoch E`, with a
fresh optimizer); `init` trains the initial weights for the whole duration, as lottery
tickets are.

Where this differs from the code: its queue holds 5 masks and compares the newest with
each of the 4 older ones, where the paper (and this) compares consecutive epochs;
`main_c.py` loads the pruned early-bird checkpoint into `model_ref` and copies only the
channel-selection indexes into the network it trains, so as written it trains a fresh
draw of the slimmed network, not the early-bird weights the README and the paper
describe, which `ticket` trains; channels stay in place under a weight mask (the
network it computes is the slimmed one, `prune/channels.py`); a residual stream's
channel is scored by the mean |gamma| over its BatchNorms, removed as one channel; every
group keeps at least one channel; the distance is strict (below), the code's `> 0.1`
test lets 0.1 pass.
"""
from __future__ import annotations

from ..prune.channels import channel_report, channels_of
from ..specs.early_bird import EarlyBirdSpec
from ..store import RunDir, Unit
from ..train import Trainer
from .context import RunContext
from .early_bird_masks import TicketDraw, imp_levels
from .early_bird_retrain import retrain
from .early_bird_search import search
from .units import layer_report, prepare


def run_early_bird(spec: EarlyBirdSpec, run: RunDir, ctx: RunContext) -> dict:
    data, model = prepare(spec.train, ctx)
    init = {n: t.detach().clone() for n, t in model.state_dict().items()}
    draw = TicketDraw(model, spec.structure, spec.density)
    found = search_unit(spec, run, ctx, Trainer(spec.train, model, data, ctx.device), draw)
    trained = retrain(spec, run, ctx, Trainer(spec.train, model, data, ctx.device), init, found)
    mask = run.load_mask("mask.safetensors")
    channels = channel_report(channels_of(mask, draw.groups), draw.groups) if draw.groups else {}
    total, imp = found["search_steps"] + trained["retrain_steps"], found["duration_steps"]
    imp *= imp_levels(mask.density()) + 1
    metrics = {"method": "early_bird", "density": round(mask.density(), 6), **trained,
               **({"channel_density": round(channels["channel_density"], 6)} if channels else {}),
               "drawn_epoch": found["drawn_epoch"], "converged": found["converged"],
               "search_steps": found["search_steps"], "total_steps": total, "imp_steps_same_density": imp,
               "steps_saved": imp - total,
               # the search's and the retraining's: the time the ticket took
               "train_seconds": round(found.get("train_seconds", 0.0) + trained.get("train_seconds", 0.0), 3)}
    return {"metrics": metrics, "distances": found["distances"],
            **({"channels": channels["channels"]} if channels else {}), **layer_report(mask, model)}


def search_unit(spec: EarlyBirdSpec, run: RunDir, ctx: RunContext, trainer: Trainer, draw: TicketDraw) -> dict:
    """The search's unit `search/`: the early-bird weights (`ticket.safetensors`), history
    and result; the ticket's mask is the run's `mask.safetensors`."""
    unit: Unit = run.child("search")
    if unit.finished:
        return unit.result()
    state = search(spec, trainer, unit, ctx, draw)
    epoch = len(state["distances"])
    if not state["converged"]:
        ctx.progress.note(f"early-bird search: did not converge: in {epoch} epochs the last {spec.window} mask "
                          f"distances were never all below {spec.threshold:g}; the ticket is the last epoch's mask")
    unit.save_tensors("ticket.safetensors", trainer.model.state_dict())
    run.save_mask("mask.safetensors", draw.mask(trainer.model, state["bits"]))
    result = {"drawn_epoch": epoch, "converged": state["converged"], "search_steps": state["steps"],
              "train_seconds": state["seconds"],
              "duration_steps": trainer.total_steps, "distances": [round(d, 6) for d in state["distances"]]}
    unit.finish(result)
    return result
