"""Tickets as fast sparse networks: export a run's ticket (dense, CSR or 2:4) and run it.

    export_inference(run, unit, "ticket.pt", "csr"); net = load_inference("ticket.pt")
"""
from ..core.lazy import lazy_exports

__getattr__ = lazy_exports(__name__, {"export_inference": ".inference", "load_inference": ".inference",
                                      "sparse_runtime": ".inference"})
__all__ = ["export_inference", "load_inference", "sparse_runtime"]
