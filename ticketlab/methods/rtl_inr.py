"""`rtl_inr`: Routing the Lottery on an implicit neural representation (the paper's
setting beyond classification).

A coordinate MLP maps a pixel's (x, y) in [-1, 1]^2, through fixed random Fourier
features [sin 2 pi B p, cos 2 pi B p] (B ~ N(0, scale^2), seeded), to its colour. The
image's regions, from k-means on colour and position (seeded), are the partition; each
region gets a mask on the one shared network, extracted as in `rtl` (train its region's
pixels from theta_0, prune, rewind) and jointly retrained (regions round robin, masked
updates), with mean squared error. Inference routes each pixel by its region.

The baseline is one network conditioned on a learned region embedding (concatenated to
the Fourier features), pruned to the same sparsity by the same extraction on all pixels
and trained for the same number of steps. Metric: PSNR (pixels in [0, 1]) per region and
over the whole image. Reconstructions are written as PNG beside each level's result.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..sparse.similarity import jaccard_matrix, member_scores
from ..core.atomic import atomic_path
from .context import RunContext
from ..data.partition import kmeans
from ..core.errors import SpecError
from ..sparse import Mask
from ..specs import InrSpec
from ..store import RunDir, Unit
from ..train.routed import RoutedNet, train_routed
from .rtl_routed import prune_round
from .units import derived_seed


class FourierMLP(nn.Module):
    """Coordinates (N, 2), or (N, 3) with a region id last when `regions` is set, to colours."""

    def __init__(self, channels: int, widths: tuple[int, ...], fourier: int, scale: float, seed: int,
                 regions: int = 0, embedding: int = 0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.register_buffer("frequencies", torch.randn(2, fourier, generator=g) * scale)
        self.embed = nn.Embedding(regions, embedding) if regions else None
        sizes = [2 * fourier + (embedding if regions else 0), *widths]
        torch.manual_seed(seed)
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes, sizes[1:]))
        self.out = nn.Linear(sizes[-1], channels)

    @property
    def prunable_names(self) -> list[str]:
        return [f"layers.{i}.weight" for i in range(len(self.layers))] + ["out.weight"]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        projected = 2 * math.pi * x[:, :2] @ self.frequencies
        h = torch.cat([projected.sin(), projected.cos()], dim=1)
        if self.embed is not None:
            h = torch.cat([h, self.embed(x[:, 2].long())], dim=1)
        for layer in self.layers:
            h = F.relu(layer(h))
        return torch.sigmoid(self.out(h))


def load_image(name: str, side: int) -> torch.Tensor:
    """(H, W, C) in [0, 1]: the centre square of a packaged image, area-resized to side."""
    if name.startswith("skimage:"):
        try:
            import skimage.data
        except ImportError:
            raise SpecError("skimage: images need scikit-image: pip install scikit-image.") from None
        loader = getattr(skimage.data, name.split(":", 1)[1], None)
        if loader is None:
            raise SpecError(f"scikit-image has no sample image '{name.split(':', 1)[1]}' (try camera, astronaut, "
                            "coffee, chelsea).")
        pixels = np.asarray(loader())
    else:
        import matplotlib.cbook
        import matplotlib.image
        with matplotlib.cbook.get_sample_data(f"{name}.jpg") as f:
            pixels = np.asarray(matplotlib.image.imread(f, format="jpg"))
    image = torch.from_numpy(pixels.astype(np.float32) / (255.0 if pixels.dtype == np.uint8 else 1.0))
    if image.dim() == 2:
        image = image[..., None]
    image = image[..., :3]
    h, w = image.shape[:2]
    s = min(h, w)
    square = image[(h - s) // 2:(h - s) // 2 + s, (w - s) // 2:(w - s) // 2 + s]
    return F.interpolate(square.permute(2, 0, 1)[None], size=(side, side), mode="area")[0].permute(1, 2, 0)


def psnr(mse: float) -> float:
    return 10 * math.log10(1 / max(mse, 1e-12))


class InrJob:
    def __init__(self, spec: InrSpec, run: RunDir, ctx: RunContext):
        self.spec, self.run, self.ctx = spec, run, ctx
        device = ctx.device
        self.image = load_image(spec.image, spec.side).to(device)
        side, channels = spec.side, self.image.shape[2]
        axis = torch.linspace(-1, 1, side, device=device)
        yy, xx = torch.meshgrid(axis, axis, indexing="ij")
        self.coords = torch.stack([xx.flatten(), yy.flatten()], dim=1)
        self.colours = self.image.reshape(-1, channels)
        # Regions: k-means on colour and (down-weighted) position, so regions are coherent.
        features = torch.cat([self.colours, 0.5 * self.coords], dim=1)
        centroids = kmeans(features.cpu(), spec.regions, spec.seed)
        self.region = torch.cdist(features.cpu(), centroids).argmin(dim=1).to(device)
        sizes = torch.bincount(self.region, minlength=spec.regions)
        if (sizes == 0).any():
            raise SpecError(f"Colour k-means left region(s) {(sizes == 0).nonzero().flatten().tolist()} empty; "
                            "use fewer regions.")
        self.pixels = [(self.region == k).nonzero().flatten() for k in range(spec.regions)]
        make = lambda regions=0: FourierMLP(channels, spec.widths, spec.fourier, spec.fourier_scale, spec.seed,  # noqa
                                            regions, spec.embedding if regions else 0).to(device)
        self.model, self.conditioned = make(), make(spec.regions)
        self.theta0 = {n: t.clone() for n, t in self.model.state_dict().items()}
        self.conditioned0 = {n: t.clone() for n, t in self.conditioned.state_dict().items()}

    def _fresh(self, conditioned: bool) -> nn.Module:
        model = self.conditioned if conditioned else self.model
        model.load_state_dict(self.conditioned0 if conditioned else self.theta0)
        return model

    def _batch(self, rows: torch.Tensor, g: torch.Generator, with_region: bool):
        pick = rows[torch.randint(len(rows), (self.spec.batch_size,), generator=g).to(rows.device)]
        x = self.coords[pick]
        if with_region:
            x = torch.cat([x, self.region[pick, None].float()], dim=1)
        return x, self.colours[pick]

    def _generator(self, *key) -> torch.Generator:
        return torch.Generator().manual_seed(derived_seed(self.spec.seed, *key))

    def _train(self, net: RoutedNet, batches, steps: int) -> float:
        return train_routed(net, batches, steps, self.spec, loss_fn=F.mse_loss)

    def _extract(self, mask: Mask, conditioned: bool, rows: torch.Tensor, steps: int, target: int, key) -> Mask:
        if sum(int(mask[n].sum()) for n in mask) <= target:
            return mask
        net = RoutedNet(self._fresh(conditioned), [mask])
        g = self._generator("extract", *key)
        self._train(net, lambda step: (0, *self._batch(rows, g, conditioned)), steps)
        return prune_round(mask, dict(net.model.named_parameters()), list(mask), target, self.spec.prune_fraction)

    def levels(self):
        unit = self.run.child("extraction")
        masks = [Mask.ones_like(self.model, self.model.prunable_names)] * self.spec.regions
        single = Mask.ones_like(self.conditioned, self.conditioned.prunable_names)
        everything = torch.arange(len(self.coords), device=self.coords.device)
        round_ = 0
        for sparsity in self.spec.sparsities:
            target = round((1 - sparsity) * masks[0].size())
            target_single = round((1 - sparsity) * single.size())
            while masks[0].kept() > target or single.kept() > target_single:
                round_ += 1
                name = f"round_{round_:03d}.safetensors"
                if unit.has(name):
                    tensors = unit.load_tensors(name, self.ctx.device)
                    split = lambda p: Mask({n.split("/", 1)[1]: t for n, t in tensors.items()  # noqa: E731
                                            if n.startswith(p + "/")})
                    masks, single = [split(str(k)) for k in range(self.spec.regions)], split("single")
                    continue
                masks = [self._extract(m, False, self.pixels[k], self.spec.extract_steps, target, (round_, k))
                         for k, m in enumerate(masks)]
                single = self._extract(single, True, everything, self.spec.extract_steps * self.spec.regions,
                                       target_single, (round_, "single"))
                tensors = {f"{k}/{n}": m[n].to(torch.uint8) for k, m in enumerate(masks) for n in m}
                tensors.update({f"single/{n}": single[n].to(torch.uint8) for n in single})
                unit.save_tensors(name, tensors)
            yield sparsity, masks, single

    def level(self, index: int, sparsity: float, masks: list[Mask], single: Mask) -> dict:
        unit = self.run.level(index)
        if unit.finished:
            return unit.result()
        routed = RoutedNet(self._fresh(False), masks)
        gens = [self._generator("joint", index, k) for k in range(self.spec.regions)]
        k_of = lambda step: step % self.spec.regions  # noqa: E731
        self._train(routed, lambda step: (k_of(step), *self._batch(self.pixels[k_of(step)], gens[k_of(step)], False)),
                    self.spec.steps)
        rtl = self._score(routed.predict(self.coords, self.region), unit, "rtl")
        unit.save_tensors("rtl.safetensors", routed.model.state_dict())
        conditioned = RoutedNet(self._fresh(True), [single])
        g = self._generator("joint", index, "single")
        everything = torch.arange(len(self.coords), device=self.coords.device)
        self._train(conditioned, lambda step: (0, *self._batch(everything, g, True)), self.spec.steps)
        x = torch.cat([self.coords, self.region[:, None].float()], dim=1)
        baseline = self._score(conditioned.predict(x, 0), unit, "conditioned")
        total = lambda model: sum(p.numel() for p in model.parameters())  # noqa: E731
        union = routed.union()
        rtl["params"] = total(self.model) - union.size() + union.kept()
        baseline["params"] = total(self.conditioned) - single.size() + single.kept()
        matrix = jaccard_matrix(masks)
        scores = member_scores(matrix)
        out = {"sparsity": sparsity, "density": round(masks[0].density(), 6), "rtl": rtl, "conditioned": baseline,
               "similarity": {"jaccard": matrix, "scores": scores, "mean_score": sum(scores) / len(scores)}}
        unit.finish(out)
        return out

    def _score(self, predicted: torch.Tensor, unit: Unit, name: str) -> dict:
        error = ((predicted - self.colours) ** 2).mean(dim=1)
        per_region = [psnr(float(error[rows].mean())) for rows in self.pixels]
        picture = predicted.reshape(self.image.shape).clamp(0, 1).cpu().numpy()
        with atomic_path(unit.path / f"{name}.png") as tmp:
            import matplotlib.image
            matplotlib.image.imsave(tmp, picture if picture.shape[2] == 3 else picture[..., 0], format="png",
                                    cmap="gray")
        return {"psnr": psnr(float(error.mean())), "psnr_per_region": per_region,
                "mean_region_psnr": sum(per_region) / len(per_region)}


def run_rtl_inr(spec: InrSpec, run: RunDir, ctx: RunContext) -> dict:
    job = InrJob(spec, run, ctx)
    if not run.has("regions.png"):
        with atomic_path(run.path / "regions.png") as tmp:
            import matplotlib.image
            matplotlib.image.imsave(tmp, job.region.reshape(spec.side, spec.side).cpu().numpy(), format="png",
                                    cmap="tab10")
    levels = [job.level(i, s, masks, single) for i, (s, masks, single) in enumerate(job.levels())]
    metrics = {f"{name}_psnr@{lv['sparsity']:g}": lv[name]["psnr"] for lv in levels for name in ("rtl", "conditioned")}
    return {"metrics": metrics, "levels": levels,
            "region_sizes": [len(p) for p in job.pixels]}
