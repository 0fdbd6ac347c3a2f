"""Datasets: an open registry, the readers of its formats, and the tensor-resident loader.

    splits = load_dataset("fashion_mnist", val_size=5000, device="cuda")
    loader = DeviceLoader(splits.train, 128, seed=0, augment=splits.info.augment,
                          crop_padding=splits.info.crop_padding, flip=splits.info.flip)
    for x, y in loader.epoch(0): ...

A new dataset in a known format is one `register_dataset` call, a new format one
`register_data_format` call (see their docstrings). The registry imports no torch;
readers and the loader load on first use.
"""
from ..core.lazy import lazy_exports
from . import catalog  # noqa: F401 (registers the built-in datasets, before any plugin's)
from .formats import register_data_format
from .info import DatasetInfo
from .registry import RemoteFile, dataset_info, dataset_names, register_dataset

__getattr__ = lazy_exports(__name__, {"Arrays": ".arrays", "DatasetSplits": ".arrays", "load_dataset": ".load",
                                      "DeviceLoader": ".loader"})
__all__ = ["Arrays", "DatasetInfo", "DatasetSplits", "DeviceLoader", "RemoteFile",
           "dataset_info", "dataset_names", "load_dataset", "register_data_format", "register_dataset"]
