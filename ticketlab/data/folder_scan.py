"""The listing of an image-folder dataset (`folder:PATH`): `train/<class>/*.png|jpg|jpeg`
and `test/<class>/...`, checked without opening an image.

Classes are the sorted names of the class folders, the same in both splits. Hidden
entries (a leading '.', such as .DS_Store) are passed over; any other file that would not
be read is refused, so that no example is left out without a word.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import DatasetError, PathError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
LAYOUT = "train/<class>/*.png (or .jpg, .jpeg) and test/<class>/*.png with the same class folders"


@dataclass(frozen=True)
class FolderListing:
    root: Path
    classes: tuple[str, ...]
    train: tuple[tuple[str, int], ...]  # (path relative to root, class index), in sorted order
    test: tuple[tuple[str, int], ...]

    @property
    def files(self) -> list[str]:
        return [path for path, _ in self.train + self.test]


def _visible(folder: Path) -> list[os.DirEntry]:
    return sorted((e for e in os.scandir(folder) if not e.name.startswith(".")), key=lambda e: e.name)


def _class_folders(name: str, root: Path, split: str) -> list[str]:
    folder = root / split
    if not folder.is_dir():
        raise DatasetError(f"Dataset '{name}': {root} has no '{split}' folder; an image-folder dataset holds "
                           f"{LAYOUT}.")
    entries = _visible(folder)
    loose = [e.name for e in entries if not e.is_dir()]
    if loose:
        raise DatasetError(f"Dataset '{name}': {folder / loose[0]} is a file directly in '{split}/'; images go in "
                           f"one folder per class ({LAYOUT}).")
    return [e.name for e in entries]


def _images(name: str, root: Path, split: str, classes: list[str]) -> tuple[tuple[str, int], ...]:
    found = []
    for index, label in enumerate(classes):
        for entry in _visible(root / split / label):
            if entry.is_dir() or not entry.name.lower().endswith(IMAGE_SUFFIXES):
                what = "a folder" if entry.is_dir() else "not a .png, .jpg or .jpeg image"
                raise DatasetError(f"Dataset '{name}': {entry.path} is {what}, which is not read; class folders "
                                   "hold only images: move it out (or hide it with a leading '.').")
            found.append((f"{split}/{label}/{entry.name}", index))
    return tuple(found)


def scan_folder(name: str, root: Path) -> FolderListing:
    """The classes and images of the folder dataset at `root`, or a clear error."""
    if not root.is_dir():
        problem = "is a file, not a folder" if root.exists() else "does not exist"
        raise PathError(f"Dataset '{name}': {root} {problem} (a relative path is read from the current folder, "
                        f"{Path.cwd()}); give a folder holding {LAYOUT}.")
    classes = _class_folders(name, root, "train")
    if not classes:
        raise DatasetError(f"Dataset '{name}': {root / 'train'} holds no class folders; it needs {LAYOUT}.")
    test_classes = _class_folders(name, root, "test")
    if test_classes != classes:
        only_train = sorted(set(classes) - set(test_classes)) or "none"
        only_test = sorted(set(test_classes) - set(classes)) or "none"
        raise DatasetError(f"Dataset '{name}': train and test have different class folders (only in train: "
                           f"{only_train}; only in test: {only_test}); both need the same classes.")
    train, test = _images(name, root, "train", classes), _images(name, root, "test", classes)
    empty = [c for i, c in enumerate(classes) if not any(label == i for _, label in train)]
    if empty or not test:
        where = f"train/{empty[0]}" if empty else "test"
        raise DatasetError(f"Dataset '{name}': {root / where} holds no images; every class needs training images "
                           "and the test split at least one image.")
    return FolderListing(root, tuple(classes), train, test)
