"""Datasets: an open registry, the readers of its formats, and the tensor-resident loader.

    splits = load_dataset("fashion_mnist", val_size=5000, device="cuda")
    loader = DeviceLoader(splits.train, 128, seed=0, augment=splits.info.augment,
                          crop_padding=splits.info.crop_padding, flip=splits.info.flip)
    for x, y in loader.epoch(0): ...

A new dataset in a known format, or given by a loader function, is one `register_dataset`
call, a new format one `register_data_format` call (see their docstrings); an .npz file or
image folders need none: name them `npz:PATH` or `folder:PATH`. The registry imports no torch;
readers and the loader load on first use.
"""
from ..core.lazy import lazy_exports
from . import catalog  # noqa: F401 (registers the built-in datasets, before any plugin's)
from .formats import register_data_format
from .info import DatasetInfo
from .registry import (RemoteFile, check_dataset_name, dataset_info, dataset_names, dataset_version,
                       register_dataset)

__getattr__ = lazy_exports(__name__, {"Arrays": ".arrays", "DatasetSplits": ".arrays", "load_dataset": ".load",
                                      "DeviceLoader": ".loader", "use_cache_dir": ".folder_cache"})
__all__ = ["Arrays", "DatasetInfo", "DatasetSplits", "DeviceLoader", "RemoteFile", "check_dataset_name",
           "dataset_info", "dataset_names", "dataset_version", "load_dataset", "register_data_format",
           "register_dataset", "use_cache_dir"]
