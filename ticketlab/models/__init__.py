"""Model zoo: registry of names and the model families (see `registry.py`).

    model = build_model('cifar_resnet_20', (3, 32, 32), 10)
    model.prunable_names, model.output_name, model.blocks()
"""
from .base import TicketModel
from .registry import MODEL_PATTERNS, build_model, is_valid_model_name

__all__ = ["TicketModel", "MODEL_PATTERNS", "build_model", "is_valid_model_name"]
