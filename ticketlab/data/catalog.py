"""The built-in datasets, registered through `register_dataset` as a plugin's are.

Checksums are the official ones (see registry.py for what each one covers).
"""
from __future__ import annotations

from .info import DatasetInfo
from .registry import RemoteFile, register_dataset


def _gray(name: str, mean: float, std: float) -> DatasetInfo:
    # Digits and letters: a flip or shift changes what the glyph is, so no augmentation.
    return DatasetInfo(name, (1, 28, 28), 10, (mean,), (std,), augment=False, crop_padding=0, flip=False,
                       train_size=60000, test_size=10000)


def _cifar(name: str, classes: int, mean: tuple, std: tuple) -> DatasetInfo:
    return DatasetInfo(name, (3, 32, 32), classes, mean, std, augment=True, crop_padding=4, flip=True,
                       train_size=50000, test_size=10000)


def _idx_files(md5s: tuple[str, str, str, str], sha256s=(None, None, None, None)) -> tuple[RemoteFile, ...]:
    names = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
             "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
    return tuple(RemoteFile(n, m, s) for n, m, s in zip(names, md5s, sha256s))


register_dataset(
    "fashion_mnist", info=_gray("fashion_mnist", 0.2860, 0.3530), format="idx",
    files=_idx_files(
        ("8d4fb7e6c68d591d4c3dfef9ec88bf0d", "25c81989df183df01b3e8a0aad5dffbe",
         "bef4ecab320f06d8554ea6380940ec79", "bb300cfdad3c16e7a12a480ee83cd310"),
        ("c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
         "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
         "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
         "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34")),
    mirror="http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    debian_dir="fashion-mnist", debian_package="dataset-fashion-mnist")
register_dataset(
    "mnist", info=_gray("mnist", 0.1307, 0.3081), format="idx",
    files=_idx_files(("f68b3c2dcbeaaa9fbdd348bbdeb94873", "d53e105ee54ea40749a09fcbcd1e9432",
                      "9fb629c4189551a2d022fa330f9573f3", "ec29112dd5afa0611ce80d1b7f02629c")),
    mirror="https://ossci-datasets.s3.amazonaws.com/mnist/")
register_dataset(
    "kmnist", info=_gray("kmnist", 0.1918, 0.3483), format="idx",
    files=_idx_files(("bdb82020997e1d708af4cf47b453dcf7", "e144d726b3acfaa3e44228e80efcd344",
                      "5c965bf0a639b31b8f53240b1b52f4d7", "7320c461ea6c1c855c0b718fb2a4b134")),
    mirror="http://codh.rois.ac.jp/kmnist/dataset/kmnist/")
register_dataset(
    "cifar10", info=_cifar("cifar10", 10, (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)), format="cifar",
    files=(RemoteFile("cifar-10-python.tar.gz", "c58f30108f718f92721af3b95e74349a"),),
    mirror="https://www.cs.toronto.edu/~kriz/")
register_dataset(
    "cifar100", info=_cifar("cifar100", 100, (0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762)), format="cifar",
    files=(RemoteFile("cifar-100-python.tar.gz", "eb9058c3a382ffc7106e4002c42a8d85"),),
    mirror="https://www.cs.toronto.edu/~kriz/")
# MNIST-1D is generated (see mnist1d.py); its stats are those of the generated train
# split, pinned so that normalization never depends on which split was loaded.
register_dataset(
    "mnist1d", format="generated", loader="ticketlab.data.mnist1d:load_mnist1d",
    info=DatasetInfo("mnist1d", (40,), 10, (-0.0003,), (0.9976,), augment=False, crop_padding=0, flip=False,
                     train_size=4000, test_size=1000))
register_dataset(
    "synthetic", format="generated", loader="ticketlab.data.synthetic:generate",
    info=DatasetInfo("synthetic", (1, 8, 8), 4, (0.0,), (1.0,), augment=False, crop_padding=0, flip=False,
                     train_size=512, test_size=256))
