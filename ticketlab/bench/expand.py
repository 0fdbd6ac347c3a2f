"""A suite expanded to specs: one job per (setting, method, seed), and per density for a
kind whose spec takes one.

Every spec is built (and so validated) when the suite is expanded, so a bad setting or
method fails before the first run starts, with the setting and method named.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from ..core.errors import SpecError, TicketlabError
from ..specs import SPEC_KINDS, Spec, spec_from_dict
from .suite import MethodEntry, Setting, Suite

# A curve's point counts for a target density when it lies within this factor of it: IMP's
# levels fall near the targets, not on them (the suite picks a rate that puts them close).
DENSITY_TOLERANCE = 1.15


@dataclass(frozen=True)
class Job:
    setting: Setting
    method: MethodEntry
    seed: int
    density: float | None       # None: one run serves every target density
    spec: Spec

    @property
    def targets(self) -> tuple[float, ...]:
        return () if self.density is None else (self.density,)


def takes_density(kind: str) -> bool:
    return "density" in {f.name for f in dataclasses.fields(SPEC_KINDS[kind])}


def expand(suite: Suite) -> list[Job]:
    """Jobs in suite order: setting by setting, method by method, seed by seed."""
    jobs: list[Job] = []
    for setting in suite.settings:
        by_method: dict[tuple[str, int], Spec] = {}
        for method in suite.methods:
            if not method.runs_on(setting):
                continue
            densities = suite.densities if takes_density(method.kind) else (None,)
            for seed in suite.seeds:
                for density in densities:
                    spec = _spec(setting, method, seed, density, by_method)
                    jobs.append(Job(setting, method, seed, density, spec))
                    by_method.setdefault((method.name, seed), spec)
    _check_unique(jobs)
    return jobs


def _spec(setting: Setting, method: MethodEntry, seed: int, density: float | None,
          by_method: dict[tuple[str, int], Spec]) -> Spec:
    data = {"kind": method.kind, **method.spec}
    if method.source:
        if (method.source, seed) not in by_method:
            raise SpecError(f"Suite method '{method.name}' reads '{method.source}', which does not run on "
                            f"{setting.name}; add {setting.name} to its `only`, or remove it from this one's.")
        data["source"] = by_method[method.source, seed].to_dict()
    else:
        data["train"] = {**setting.train, **method.train, "seed": seed}
    if density is not None:
        data["density"] = density
    try:
        return spec_from_dict(data)
    except TicketlabError as err:  # an unknown name too: the spec's own message, with where it came from
        where = f"density {density:g}, " if density is not None else ""
        raise SpecError(f"Suite method '{method.name}' on {setting.name} ({where}seed {seed}): {err}") from None


def _check_unique(jobs: list[Job]) -> None:
    """Two methods that expand to one spec would be one run counted twice."""
    seen: dict[str, Job] = {}
    for job in jobs:
        other = seen.setdefault(job.spec.run_id, job)
        if other is not job:
            raise SpecError(f"Suite methods '{other.method.name}' and '{job.method.name}' give the same run on "
                            f"{job.setting.name} (seed {job.seed}): {job.spec.run_id}. Give them different "
                            "settings, or keep one.")


def nearest_target(density: float, targets: tuple[float, ...]) -> float | None:
    """The target density a measured one stands for, if any lies within the tolerance."""
    if not targets or density <= 0:
        return None
    best = min(targets, key=lambda t: abs(math.log(density / t)))
    return best if abs(math.log(density / best)) <= math.log(DENSITY_TOLERANCE) else None
