"""Datasets: registry, readers, and the tensor-resident batch loader.

    splits = load_dataset("fashion_mnist", val_size=5000, device="cuda")
    loader = DeviceLoader(splits.train, 128, seed=0, augment=splits.info.augment,
                          crop_padding=splits.info.crop_padding, flip=splits.info.flip)
    for x, y in loader.epoch(0): ...
"""
from .arrays import Arrays, DatasetSplits
from .info import DatasetInfo
from .load import load_dataset
from .loader import DeviceLoader
from .registry import DATASET_NAMES, dataset_info

__all__ = ["Arrays", "DatasetInfo", "DatasetSplits", "DATASET_NAMES", "DeviceLoader",
           "dataset_info", "load_dataset"]
