"""Model zoo: an open registry of families (`families.py`) and the built-in families.

    model = build_model('cifar_resnet_20', (3, 32, 32), 10)
    model.prunable_names, model.output_name, model.blocks()

A new family is one `register_model_family` call (see its docstring); any nn.Module is
one `register_model(name, factory, version=...)` call (`own.py`). Name checks
(`naming.py`, `families.py`, `own.py`) import no torch; the families load on first use.
"""
from ..core.lazy import lazy_exports
from .families import BadName, model_patterns, register_model_family
from .naming import is_valid_model_name, positive_int
from .own import register_model

__getattr__ = lazy_exports(__name__, {"TicketModel": ".base", "build_model": ".registry", "registry": ".registry"})
__all__ = ["BadName", "TicketModel", "build_model", "is_valid_model_name", "model_patterns",
           "positive_int", "register_model", "register_model_family"]
