"""Datasets: registry, readers, and the tensor-resident batch loader.

    splits = load_dataset("fashion_mnist", val_size=5000, device="cuda")
    loader = DeviceLoader(splits.train, 128, seed=0, augment=splits.info.augment,
                          crop_padding=splits.info.crop_padding, flip=splits.info.flip)
    for x, y in loader.epoch(0): ...

The registry imports no torch; readers and the loader load on first use.
"""
from ..core.lazy import lazy_exports
from .info import DatasetInfo
from .registry import DATASET_NAMES, dataset_info

__getattr__ = lazy_exports(__name__, {"Arrays": ".arrays", "DatasetSplits": ".arrays", "load_dataset": ".load",
                                      "DeviceLoader": ".loader"})
__all__ = ["Arrays", "DatasetInfo", "DatasetSplits", "DATASET_NAMES", "DeviceLoader",
           "dataset_info", "load_dataset"]
