"""The user's own datasets: a loader function, an .npz file (`npz:PATH`) and image folders
(`folder:PATH`), each trained on end to end, and every mistake a one-line error."""
from __future__ import annotations

import os

import numpy as np
import pytest

import ticketlab
from ticketlab.core.errors import AlreadyRegisteredError, TicketlabError, UnknownNameError
from ticketlab.core.registry import VERSIONS, version_of
from ticketlab.data import check_dataset_name, dataset_info, dataset_version, load_dataset, register_dataset
from ticketlab.data import content_hash, folder, folder_cache, npz
from ticketlab.data.registry import ENTRIES

RNG = np.random.default_rng(7)


@pytest.fixture(autouse=True)
def fresh_tables(restore_tables, monkeypatch, tmp_path):
    restore_tables(ENTRIES, VERSIONS, npz.LOADED, folder.LOADED, content_hash.FILE_DIGESTS,
                   content_hash.FOLDER_DIGESTS)
    monkeypatch.setattr(folder_cache, "CACHE_DIRS", [])
    monkeypatch.chdir(tmp_path)  # path names are read from the current folder


def separable(n_train=64, n_test=32, features=6, classes=2):
    """Points whose class is the sign pattern of their first feature: learnable in one epoch."""
    def draw(n):
        x = RNG.standard_normal((n, features)).astype(np.float32)
        return x, (x[:, 0] > 0).astype(np.int64) % classes
    return (*draw(n_train), *draw(n_test))


def tiny_train(dataset: str, **extra) -> ticketlab.TrainSpec:
    return ticketlab.TrainSpec(model="mlp_16", dataset=dataset, duration="1ep", batch_size=16, **extra)


def write_npz(path, **arrays):
    x_train, y_train, x_test, y_test = separable()
    values = dict(x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    values.update(arrays)
    np.savez(path, **{k: v for k, v in values.items() if v is not None})
    return path


def write_images(root, classes=("cat", "dog"), per_class=4, size=(5, 6), mode="RGB", splits=("train", "test")):
    from PIL import Image

    channels = {"RGB": 3, "L": 1}[mode]
    for split in splits:
        for label in classes:
            (root / split / label).mkdir(parents=True, exist_ok=True)
            for i in range(per_class):
                pixels = RNG.integers(0, 256, (size[1], size[0], channels), dtype=np.uint8)
                Image.fromarray(pixels[..., 0] if mode == "L" else pixels, mode).save(root / split / label / f"{i}.png")
    return root


# -- a loader -----------------------------------------------------------------------
def test_a_loader_dataset_trains_and_its_loader_runs_once(tmp_path):
    calls = []

    def load():
        calls.append(1)
        return (*separable(), 2)

    record = register_dataset("own_points", load, version=1)
    assert calls == [] and "own_points" in str(record)  # registering loads nothing
    assert version_of("dataset", "own_points").version == 1 and dataset_version("own_points") == "1"
    info = dataset_info("own_points")
    assert (info.input_shape, info.num_classes, info.train_size, info.test_size) == ((6,), 2, 64, 32)
    result = ticketlab.run(tiny_train("own_points"), runs_dir=tmp_path / "runs")
    assert 0 <= result.metrics["test_accuracy"] <= 1
    assert calls == [1]  # info, spec checks and the run share one call


def test_a_dict_of_torch_tensors_with_given_statistics():
    import torch

    def load():
        return {"x_train": torch.rand(20, 3, 4, 4), "y_train": torch.randint(0, 5, (20,)),
                "x_test": torch.rand(8, 3, 4, 4), "y_test": torch.randint(0, 5, (8,)), "num_classes": 5}

    register_dataset("own_images", load, version="2024-05", mean=(0.5, 0.5, 0.5), std=0.25, augment=True,
                     crop_padding=1, flip=True)
    info = dataset_info("own_images")
    assert info.input_shape == (3, 4, 4) and info.num_classes == 5
    assert info.mean == (0.5,) * 3 and info.std == (0.25,) * 3 and (info.augment, info.crop_padding, info.flip) == (
        True, 1, True)


def test_statistics_are_computed_per_channel_and_normalize_false_keeps_the_inputs():
    x = np.stack([np.full((10, 2, 2), 0.0), np.full((10, 2, 2), 4.0)], axis=1).astype(np.float32)
    x[:, 1, 0, 0] = 6.0  # channel 1 varies, channel 0 is made to vary below
    x[::2, 0] = 2.0
    y = np.zeros(10, dtype=np.int64)
    register_dataset("own_stats", lambda: (x, y, x[:4], y[:4], 1), version=1)
    info = dataset_info("own_stats")
    assert info.mean == pytest.approx((1.0, 4.5)) and info.std[0] == pytest.approx(1.0)
    splits = load_dataset("own_stats")
    assert splits.train.x.mean(dim=(0, 2, 3)).abs().max() < 1e-5
    register_dataset("own_raw", lambda: (x, y, x[:4], y[:4], 1), version=1, normalize=False)
    assert dataset_info("own_raw").mean == (0.0, 0.0) and float(load_dataset("own_raw").train.x.max()) == 6.0
    assert float(load_dataset("own_stats").train.x.max()) < 6.0  # the cached arrays were not normalized in place


def test_a_regression_keeps_float_targets_and_its_output_width():
    x = RNG.standard_normal((30, 4)).astype(np.float32)
    targets = np.stack([x.sum(1), x[:, 0] * 0.5], axis=1)
    register_dataset("own_regression", lambda: (x, targets, x[:10], targets[:10], 2), version=1, task="regression")
    info = dataset_info("own_regression")
    assert info.task == "regression" and info.num_classes == 2
    y = load_dataset("own_regression").train.y
    assert str(y.dtype) == "torch.float32" and y.shape == (30, 2)
    assert np.allclose(y.numpy(), targets, atol=1e-6)
    assert dataset_info("synthetic").task == "classification"


# -- npz: and folder: ---------------------------------------------------------------------
def test_an_npz_dataset_trains_and_prunes(tmp_path):
    write_npz(tmp_path / "points.npz", num_classes=np.array(3))
    spec = tiny_train("npz:points.npz")
    assert spec.dataset == "npz:points.npz"  # the name as given
    assert dataset_info("npz:points.npz").num_classes == 3
    result = ticketlab.run(ticketlab.ImpSpec(train=spec, levels=1), runs_dir=tmp_path / "runs")
    assert result.metrics


def test_an_npz_without_num_classes_takes_the_largest_label_plus_one(tmp_path):
    x = RNG.standard_normal((6, 3)).astype(np.float32)
    np.savez(tmp_path / "few.npz", x_train=x, y_train=np.array([0, 1, 4, 0, 1, 4]), x_test=x[:2],
             y_test=np.array([0, 2]))
    assert dataset_info("npz:few.npz").num_classes == 5


def test_a_folder_dataset_trains_and_prunes(tmp_path):
    write_images(tmp_path / "photos")
    info = dataset_info("folder:photos")
    assert (info.input_shape, info.num_classes, info.train_size, info.test_size) == ((3, 6, 5), 2, 8, 8)
    spec = tiny_train("folder:photos")
    result = ticketlab.run(ticketlab.PaiSpec(train=spec, method="random", density=0.5), runs_dir=tmp_path / "runs")
    assert result.metrics


def test_gray_images_give_one_channel_and_labels_follow_the_sorted_class_folders(tmp_path):
    write_images(tmp_path / "digits", classes=("b_two", "a_one"), per_class=2, mode="L")
    splits = load_dataset("folder:digits")
    assert splits.info.input_shape == (1, 6, 5)
    assert splits.train.y.tolist() == [0, 0, 1, 1]  # a_one, then b_two


def test_the_folder_cache_is_written_once_and_read_without_decoding(tmp_path, monkeypatch):
    write_images(tmp_path / "photos")
    first = load_dataset("folder:photos", cache_dir=tmp_path / "runs" / "datasets")
    files = os.listdir(tmp_path / "runs" / "datasets")
    assert len(files) == 1 and files[0].startswith("folder-") and files[0].endswith(".safetensors")
    folder.LOADED.clear()  # as a new process would start

    def no_decoding(found):
        raise AssertionError("decoded again")

    monkeypatch.setattr(folder, "decode_images", no_decoding)
    again = load_dataset("folder:photos", cache_dir=tmp_path / "runs" / "datasets")
    assert again.train.x.equal(first.train.x) and again.test.y.equal(first.test.y)


def test_a_damaged_folder_cache_is_decoded_again(tmp_path):
    write_images(tmp_path / "photos")
    cache = tmp_path / "cache"
    first = load_dataset("folder:photos", cache_dir=cache)
    (path,) = cache.iterdir()
    path.write_bytes(path.read_bytes()[:40])
    folder.LOADED.clear()
    assert load_dataset("folder:photos", cache_dir=cache).train.x.equal(first.train.x)
    assert path.stat().st_size > 40  # written whole again


# -- the content hash ----------------------------------------------------------------------
def test_one_changed_byte_of_the_npz_gives_a_new_version_and_run_id(tmp_path):
    path = write_npz(tmp_path / "points.npz")
    spec = tiny_train("npz:points.npz")
    before, run_id = dataset_version("npz:points.npz"), spec.run_id
    assert before.startswith("sha256:") and len(before) >= len("sha256:") + 16
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one byte: the version is of the bytes, read or not
    path.write_bytes(bytes(data))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # the clock may not tick between two writes
    again = tiny_train("npz:points.npz")
    assert dataset_version("npz:points.npz") != before
    assert version_of("dataset", "npz:points.npz").version == dataset_version("npz:points.npz")
    assert again.run_id != run_id


def test_a_folder_version_follows_its_files(tmp_path):
    root = write_images(tmp_path / "photos", per_class=2)
    before = dataset_version("folder:photos")
    (root / "test" / "cat" / "0.png").rename(root / "test" / "cat" / "9.png")
    assert dataset_version("folder:photos") not in (None, before)
    assert dataset_version("synthetic") is None


def test_building_many_specs_hashes_a_file_once(tmp_path, monkeypatch):
    write_npz(tmp_path / "points.npz")
    reads = []
    real = content_hash._update
    monkeypatch.setattr(content_hash, "_update", lambda digest, path: (reads.append(path), real(digest, path)))
    for seed in range(5):
        tiny_train("npz:points.npz", seed=seed)
    assert len(reads) == 1


# -- every mistake, one line ---------------------------------------------------------
def refused(call, *words, kind=TicketlabError):
    with pytest.raises(kind) as caught:
        call()
    message = str(caught.value)
    assert "\n" not in message and "Traceback" not in message
    for word in words:
        assert word in message, message
    return message


def loader_of(*values):
    return lambda: values


def registered(name, *values, **options):
    register_dataset(name, loader_of(*values), version=1, **options)
    return lambda: dataset_info(name)


def test_mismatched_lengths_name_the_split_and_both_lengths():
    x, y, xt, yt = separable()
    refused(registered("bad_len", x, y[:-3], xt, yt, 2), "x_train", "y_train", "64", "61")
    refused(registered("bad_len_test", x, y, xt, yt[:5], 2), "x_test", "32", "5")


def test_labels_out_of_range_and_float_labels_are_refused():
    x, y, xt, yt = separable()
    wrong = yt.copy()
    wrong[3] = 5
    refused(registered("bad_label", x, y, xt, wrong, 2), "y_test", "label 5", "0..1")
    refused(registered("negative", x, y - 1, xt, yt, 2), "label -1")
    refused(registered("float_labels", x, y.astype(np.float32), xt, yt, 2), "float32", "integer",
            "task='regression'")


def test_a_loader_that_raises_or_returns_the_wrong_structure():
    def broken():
        raise ValueError("no such table\nin the database")

    register_dataset("raises", broken, version=1)
    refused(lambda: dataset_info("raises"), "raises", "ValueError", "no such table in the database", "fix the loader")
    x, y, xt, yt = separable()
    refused(registered("four", x, y, xt, yt), "tuple of 4 items", "num_classes")
    register_dataset("dict_keys", lambda: {"x_train": x, "y_train": y, "x_test": xt}, version=1)
    refused(lambda: dataset_info("dict_keys"), "missing: ['y_test', 'num_classes']")
    refused(registered("lists", x.tolist(), y, xt, yt, 2), "x_train is a list", "NumPy array")
    refused(registered("classes", x, y, xt, yt, 0), "num_classes", "got 0")


def test_input_shapes_differ_between_train_and_test():
    x, y, xt, yt = separable()
    refused(registered("shapes", x, y, xt[:, :4], yt, 2), "(6,)", "(4,)", "one input shape")


def test_registration_mistakes():
    refused(lambda: register_dataset("synthetic", loader_of(), version=1), "registered already",
            kind=AlreadyRegisteredError)
    refused(lambda: register_dataset("no_version", loader_of()), "version=")
    refused(lambda: register_dataset("bad_version", loader_of(), version=0), "version")
    refused(lambda: register_dataset("not_callable", 42, version=1), "callable or a 'module:function'")
    refused(lambda: register_dataset("bad-name", loader_of(), version=1), "letters, digits")
    refused(lambda: register_dataset("bad_task", loader_of(), version=1, task="ranking"), "'regression'")
    refused(lambda: register_dataset("bad_aug", loader_of(), version=1, augment=True), "crop_padding")
    refused(lambda: register_dataset("bad_flip", loader_of(), version=1, flip=True), "augment=True")
    refused(lambda: register_dataset("bad_opt", loader_of(), version=1, shuffle=True), "no option shuffle")
    refused(lambda: register_dataset("both", loader_of(), version=1, normalize=False, std=2.0), "not both")
    assert "no_version" not in ENTRIES and "dataset:bad_task" not in VERSIONS  # a refused call leaves no trace


def test_options_that_do_not_fit_the_loaded_shape():
    x, y, xt, yt = separable()
    refused(registered("flat_aug", x, y, xt, yt, 2, augment=True, flip=True), "augment=True", "(6,)")
    images = RNG.random((4, 3, 2, 2)).astype(np.float32)
    labels = np.zeros(4, dtype=np.int64)
    refused(registered("two_means", images, labels, images, labels, 1, mean=(0.1, 0.2)), "3 channel")


def test_missing_paths_and_keys(tmp_path):
    refused(lambda: tiny_train("npz:nowhere.npz"), "nowhere.npz", "does not exist", str(tmp_path))
    refused(lambda: tiny_train("folder:nowhere"), "does not exist")
    refused(lambda: check_dataset_name("npz:"), "names no path")
    message = refused(lambda: tiny_train("cifar11"), "npz:PATH", "folder:PATH", kind=UnknownNameError)
    assert "Did you mean 'cifar10'" in message
    np.savez(tmp_path / "half.npz", x_train=np.zeros((2, 2)), y_train=np.zeros(2, dtype=int))
    refused(lambda: dataset_info("npz:half.npz"), "no x_test, y_test", "holds x_train, y_train")
    (tmp_path / "fake.npz").write_bytes(b"not an archive")
    refused(lambda: dataset_info("npz:fake.npz"), "cannot be read as a NumPy .npz archive")


def test_image_folder_mistakes(tmp_path):
    (tmp_path / "empty" / "train").mkdir(parents=True)
    (tmp_path / "empty" / "test").mkdir()
    refused(lambda: tiny_train("folder:empty"), "holds no class folders")
    write_images(tmp_path / "differ", classes=("cat", "dog"), splits=("train",))
    write_images(tmp_path / "differ", classes=("cat", "owl"), splits=("test",))
    refused(lambda: tiny_train("folder:differ"), "only in train: ['dog']", "only in test: ['owl']")
    root = write_images(tmp_path / "sizes", per_class=2)
    write_images(tmp_path / "odd", classes=("dog",), per_class=1, size=(7, 7), splits=("train",))
    (tmp_path / "odd" / "train" / "dog" / "0.png").rename(root / "train" / "dog" / "odd.png")
    refused(lambda: dataset_info("folder:sizes"), "odd.png", "7x7", "5x6", "one size")
    (root / "train" / "dog" / "odd.png").unlink()
    (root / "train" / "cat" / "notes.txt").write_text("x")
    refused(lambda: tiny_train("folder:sizes"), "notes.txt", "not a .png")
