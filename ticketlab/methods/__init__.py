"""One module per published method; each composes data, models, sparse, prune and train.

`RUNNERS` maps an experiment kind to the function that carries it out. A runner gets
its spec, its run directory and a context, and returns the result dict; it writes files
only through the run directory and its units.
"""
from .dst import run_dst
from .elastic import run_elastic
from .imp import run_imp
from .lmc import run_lmc
from . import imp, pai, train
from .pai import run_pai
from .pools import run_pools
from .rst import run_rst
from .rtl import run_rtl
from .rtl_inr import run_rtl_inr
from .train import run_train

RUNNERS = {"train": run_train, "imp": run_imp, "lmc": run_lmc, "pai": run_pai, "dst": run_dst,
           "rst": run_rst, "pools": run_pools,
           "elastic": run_elastic, "rtl": run_rtl,
           "rtl_inr": run_rtl_inr}

# Kinds whose runs can train together as one stacked computation (`api.run_many(batch=True)`):
# kind -> (the key that runs must share to be batched, or None; the runner for a group).
BATCHED_RUNNERS = {"train": (train.batch_key, train.run_train_batched),
                   "imp": (imp.batch_key, imp.run_imp_batched),
                   "pai": (pai.batch_key, pai.run_pai_batched)}
