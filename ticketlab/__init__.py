"""ticketlab: a laboratory for lottery-ticket research.

The Python API mirrors the CLI: build a spec, `run` it, read its result.

    import ticketlab
    spec = ticketlab.TrainSpec(model="lenet_300_100", dataset="fashion_mnist", duration="10ep")
    result = ticketlab.run(spec)
    print(result.metrics["test_accuracy"])
"""
from .api import RunResult, load_routed, run, run_many
from .core.errors import TicketlabError
from .data import register_dataset
from .models import register_model
from .train import register_loss
from .specs import (DstSpec, ElasticSpec, ImpSpec, LmcSpec, PaiSpec, PoolSpec, RstSpec, RtlSpec, Spec, TrainSpec,
                   load_spec_file, spec_from_dict)

from .core.lazy import lazy_exports

__getattr__ = lazy_exports(__name__, {"load_inference": ".export", "export_inference": ".export"})
__version__ = "0.1.0"
__all__ = ["DstSpec", "ElasticSpec", "ImpSpec", "LmcSpec", "PaiSpec", "PoolSpec", "RstSpec", "RtlSpec", "RunResult",
           "Spec", "TicketlabError", "TrainSpec", "export_inference", "load_inference", "load_routed", "load_spec_file",
           "register_dataset", "register_loss", "register_model", "run", "run_many", "spec_from_dict"]
