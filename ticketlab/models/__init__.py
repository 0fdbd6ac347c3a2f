"""Model zoo: registry of names and the model families (see `registry.py`).

    model = build_model('cifar_resnet_20', (3, 32, 32), 10)
    model.prunable_names, model.output_name, model.blocks()

Name checks (`naming.py`) import no torch; the families load on first use.
"""
from ..core.lazy import lazy_exports
from .naming import MODEL_PATTERNS, is_valid_model_name

__getattr__ = lazy_exports(__name__, {"TicketModel": ".base", "build_model": ".registry", "registry": ".registry"})
__all__ = ["TicketModel", "MODEL_PATTERNS", "build_model", "is_valid_model_name"]
