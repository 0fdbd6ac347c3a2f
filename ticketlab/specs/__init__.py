"""Experiment specifications: frozen, validated, hashable data (see `base.py`).

Each kind lives in its own module and registers itself with `register_spec` when that
module is imported; this package face imports the built-in kinds, so that importing
`ticketlab.specs` knows every one of them. A plugin's kind registers the same way.
"""
from .base import SPEC_KINDS, Spec, check, register_spec, spec_from_dict
from .config import load_spec_file
from .train import TrainSpec
from .imp import IMP_CONTROLS, ImpSpec, Rewind
from .baselines import DST_METHODS, DstSpec, PaiSpec, RstSpec
from .from_imp import ELASTIC_CONTROLS, POOL_VARIANTS, ElasticSpec, LmcSpec, PoolSpec
from .rtl import InrSpec, RtlSpec
from .supermask import SupermaskSpec
from .early_bird import EarlyBirdSpec

__all__ = ["DST_METHODS", "DstSpec", "ELASTIC_CONTROLS", "ElasticSpec", "IMP_CONTROLS", "ImpSpec", "InrSpec",
           "LmcSpec", "POOL_VARIANTS", "PaiSpec", "PoolSpec", "Rewind", "RstSpec", "RtlSpec",
           "SPEC_KINDS", "Spec", "SupermaskSpec", "TrainSpec", "check", "load_spec_file", "register_spec",
           "spec_from_dict"]
__all__ += ["EarlyBirdSpec"]
