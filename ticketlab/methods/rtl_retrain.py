"""Routing the Lottery's retraining at one level: the routed network of the K masks
(joint), and the baselines, one mask for all data (single) and K independent models
(multiple). Each is a unit that checkpoints inside its training at `--checkpoint-every`
and resumes there, bit-identical to an uninterrupted run on the same device: the
checkpoint holds the weights, statistics, optimizer, loss so far, and the state of every
random generator its batches are drawn from. The multiple baseline keeps each finished
model (`model_KK.safetensors`) and checkpoints the one in training (`checkpoint_KK.pt`);
stacked (`--batch`), its K models train as one computation without checkpoints, and an
interrupted unit trains them again.

A mixin of `RtlJob` (`rtl.py`), which holds the data, partition, masks and theta_0.
"""
from __future__ import annotations

import torch

from ..core.atomic import remove
from ..sparse import Mask
from ..store import Unit
from ..train.routed import RoutedNet, train_routed, train_routed_stacked


class Retraining:
    def _train(self, unit: Unit, net: RoutedNet, batches, steps: int, description: str, generators,
               checkpoint: str = "checkpoint.pt") -> float:
        resume = None if self.ctx.restart else unit.load_checkpoint(checkpoint) if unit.has(checkpoint) else None
        if resume is not None:
            self.ctx.progress.note(f"{description}: resuming from step {resume['step']}/{steps}")
        else:
            self.ctx.progress.note(f"{description}: {steps} steps")
        loss = train_routed(net, batches, steps, self.spec.train, progress=self.ctx.progress, description=description,
                            generators=generators, checkpoint_every=self.spec.train.steps(self.ctx.checkpoint_every),
                            on_checkpoint=lambda state: unit.save_checkpoint(state, checkpoint), resume=resume)
        return loss

    def joint(self, unit: Unit, masks: list[Mask]) -> dict:
        if unit.finished:
            return unit.result()
        net = RoutedNet(self.fresh(), masks, subset_buffers=self.spec.subset_batchnorm)
        gens = [self._generator("joint", unit.path.parent.name, k) for k in range(self.k)]
        loss = self._train(unit, net, lambda step: (step % self.k, *self.subset_batch(step % self.k,
                                                                                      gens[step % self.k])),
                           self.joint_steps, "rtl joint retraining", gens)
        unit.save_tensors("model.safetensors", net.model.state_dict())
        unit.save_tensors("buffers.safetensors", net.buffer_tensors())
        union, extra = net.union(), net.extra_statistics()
        result = {**self.scores.routed(net), "train_loss": loss, "params": self.params(union, self.model) + extra,
                  "kept_weights": union.kept(), "kept_union": self.kept(union), "subset_statistics": extra}
        unit.finish(result)
        return result

    def single(self, unit: Unit, mask: Mask) -> dict:
        if unit.finished:
            return unit.result()
        net = RoutedNet(self.fresh(single=True), [mask])
        g = self._generator("single", unit.path.parent.name)
        loss = self._train(unit, net, lambda step: (0, *self.all_batch(g)), self.joint_steps, "imp single model", [g])
        unit.save_tensors("model.safetensors", net.model.state_dict())
        result = {**self.scores.single(net), "train_loss": loss, "params": self.params(mask, self.single_model),
                  "kept_weights": mask.kept()}
        unit.finish(result)
        return result

    def multiple(self, unit: Unit, masks: list[Mask]) -> dict:
        if unit.finished:
            return unit.result()
        nets = [RoutedNet(self.fresh(), [mask]) for mask in masks]
        gens = [self._generator("multiple", unit.path.parent.name, k) for k in range(self.k)]
        batches = [lambda step, k=k: (0, *self.subset_batch(k, gens[k])) for k in range(self.k)]
        steps = self.joint_steps // self.k
        if self.ctx.batch:  # the K independent models as one stacked computation
            train_routed_stacked(nets, batches, steps, self.spec.train)
        else:
            for k, net in enumerate(nets):
                self._one_of_many(unit, k, net, batches[k], steps, gens[k])
        result = {**self.scores.each(nets), "params": sum(self.params(m, self.model) for m in masks),
                  "kept_weights": sum(m.kept() for m in masks)}
        unit.finish(result)
        for k in range(self.k):  # the finished unit's result is what is kept
            remove(unit.path / f"model_{k:02d}.safetensors")
        return result

    def _one_of_many(self, unit: Unit, k: int, net: RoutedNet, batches, steps: int, g: torch.Generator) -> None:
        """Model k of the multiple baseline: trained, or read back if it finished before."""
        name = f"model_{k:02d}.safetensors"
        if unit.has(name) and not self.ctx.restart:
            net.model.load_state_dict(unit.load_tensors(name, self.ctx.device))
            net.buffers[0].update({n: b for n, b in net.model.named_buffers() if n in net.buffers[0]})
            return
        self._train(unit, net, batches, steps, f"imp multiple model {k + 1}/{self.k}", [g], f"checkpoint_{k:02d}.pt")
        state = net.model.state_dict()
        state.update(net.buffers[0])  # the statistics its forward used
        unit.save_tensors(name, state)
        remove(unit.path / f"checkpoint_{k:02d}.pt")

    @staticmethod
    def params(mask: Mask, model: torch.nn.Module) -> int:
        """Weights the mask keeps plus every parameter that is never pruned."""
        return sum(p.numel() for p in model.parameters()) - mask.size() + mask.kept()
