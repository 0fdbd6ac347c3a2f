"""ticketlab: a laboratory for lottery-ticket research.

The Python API mirrors the CLI: build a spec, `run` it, read its result.

    import ticketlab
    spec = ticketlab.TrainSpec(model="lenet_300_100", dataset="fashion_mnist", duration="10ep")
    result = ticketlab.run(spec)
    print(result.metrics["test_accuracy"])
"""
from .api import RunResult, run
from .errors import TicketlabError
from .spec import (DstSpec, ImpSpec, LmcSpec, PaiSpec, PoolSpec, RstSpec, Spec, TrainSpec, load_spec_file,
                   spec_from_dict)

__version__ = "0.1.0"
__all__ = ["DstSpec", "ImpSpec", "LmcSpec", "PaiSpec", "PoolSpec", "RstSpec", "RunResult", "Spec", "TicketlabError",
           "TrainSpec", "load_spec_file", "run", "spec_from_dict"]
