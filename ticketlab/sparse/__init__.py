"""Masks over prunable weights: the type, its algebra, enforcement during training, I/O."""
from .enforce import MaskEnforcer
from .io import load_mask, load_tensors, save_mask, save_tensors
from .mask import Mask

__all__ = ["Mask", "MaskEnforcer", "load_mask", "save_mask", "load_tensors", "save_tensors"]
