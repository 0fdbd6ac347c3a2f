"""One module per published method; each composes data, models, sparse, prune and train.

Every method is one `Method` entry (`entry.py`): its spec, its runner and what the rest
of the package reads of its runs. A runner gets its spec, its run directory and a
context (with the finished runs its spec's `sources()` named), and returns the result
dict; it writes files only through the run directory and its units.

The built-ins register here through the same call a plugin uses. The entries name their
functions as strings, so this package face imports no torch.
"""
from ..specs import DstSpec, ElasticSpec, ImpSpec, InrSpec, LmcSpec, PaiSpec, PoolSpec, RstSpec, RtlSpec, TrainSpec
from ..specs import SupermaskSpec
from ..specs import EarlyBirdSpec
from .entry import METHODS, Method, Point, curve_order, method_of, methods_with, register_method

_HERE = __name__ + "."
_READ = _HERE + "results:"

_CLI = "ticketlab.cli.hooks:"

register_method(Method(
    "imp", ImpSpec, _HERE + "imp:run_imp", batched=_HERE + "imp:run_imp_batched", batch_key=_HERE + "imp:batch_key",
    points=_READ + "imp_points", variant=_READ + "imp_variant", masks=_READ + "imp_masks", report=True,
    curves=("imp", "reinit", "random", "random_global", "random_uniform", "oneshot", "heads", "random_channels"),
    help="iterative magnitude pruning with rewinding and controls", cli=_CLI + "ImpCommand",
    batch_help="the seeds level by level, and each level's controls,"))
register_method(Method(
    "pai", PaiSpec, _HERE + "pai:run_pai", batched=_HERE + "pai:run_pai_batched", batch_key=_HERE + "pai:batch_key",
    points=_READ + "baseline_points", masks=_READ + "baseline_mask", report=True,
    curves=("snip", "grasp", "synflow", "random_init"),
    help="prune at initialization (SNIP, GraSP, SynFlow, random), then train", batch_help="the densities and seeds"))
register_method(Method("dst", DstSpec, _HERE + "dst:run_dst", points=_READ + "baseline_points",
                       masks=_READ + "baseline_mask", report=True, curves=("set", "rigl", "gmp"),
                       help="dynamic sparse training (SET, RigL) and gradual magnitude pruning (GMP)"))
register_method(Method("rst", RstSpec, _HERE + "rst:run_rst", points=_READ + "rst_points", report=True,
                       curves=("rst", "rst_scratch"),
                       help="dual lottery tickets: random sparse network transformation"))
register_method(Method("elastic", ElasticSpec, _HERE + "elastic:run_elastic", points=_READ + "elastic_points",
                       masks=_READ + "elastic_mask", report=True,
                       curves=("elastic", "elastic_shuffled", "elastic_reinit", "elastic_random"),
                       help="elastic tickets: move an IMP ticket to another depth (E-LTH)"))
register_method(Method("lmc", LmcSpec, _HERE + "lmc:run_lmc",
                       help="linear mode connectivity (instability) of an IMP level's ticket"))
register_method(Method("pools", PoolSpec, _HERE + "pools:run_pools",
                       after_run="ticketlab.analysis.pools_table:after_run",
                       help="Lottery Pools: interpolate the tickets of neighbouring IMP levels"))
register_method(Method("rtl", RtlSpec, _HERE + "rtl:run_rtl", masks=_READ + "rtl_masks", exportable=False,
                       after_run="ticketlab.analysis.rtl_table:after_run",
                       help="Routing the Lottery: one ticket per class, cluster or environment",
                       cli=_CLI + "RtlCommand",
                       batch_help="each extraction round's subsets and the independent-models baseline"))
register_method(Method("rtl_inr", InrSpec, _HERE + "rtl_inr:run_rtl_inr", exportable=False,
                       help="Routing the Lottery on an image (implicit neural representation)"))
register_method(Method(
    "train", TrainSpec, _HERE + "train:run_train", batched=_HERE + "train:run_train_batched",
    batch_key=_HERE + "train:batch_key", points=_READ + "train_points", curves=("dense",),
    help="train a dense network (one run per seed)", batch_help="the seeds"))
register_method(Method("supermask", SupermaskSpec, _HERE + "supermask:run_supermask", points=_READ + "supermask_points",
                       masks=_READ + "supermask_masks", report=True, curves=("supermask", "supermask_random"),
                       help="strong lottery tickets: edge-popup finds a mask in frozen random weights"))
register_method(Method("early_bird", EarlyBirdSpec, _HERE + "early_bird:run_early_bird",
                       points=_READ + "early_bird_points", variant=_READ + "early_bird_variant",
                       masks=_READ + "early_bird_mask", report=True, curves=("early_bird",),
                       help="early-bird tickets: drawn early in dense training once their mask settles"))

__all__ = ["METHODS", "Method", "Point", "curve_order", "method_of", "methods_with", "register_method"]
