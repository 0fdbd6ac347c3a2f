import pytest

from ticketlab.data import DatasetInfo, dataset_info, dataset_names, load_dataset
from ticketlab.core.errors import TicketlabError, UnknownNameError

BUILT_IN = ["fashion_mnist", "mnist", "kmnist", "cifar10", "cifar100", "mnist1d", "synthetic"]


def test_names_are_the_documented_ones():
    # The built-ins first, in this order; datasets a plugin registers (tests/plugins) follow them.
    assert dataset_names()[:len(BUILT_IN)] == BUILT_IN


@pytest.mark.parametrize("name", ["fashion_mnist", "mnist", "kmnist", "cifar10", "cifar100", "mnist1d", "synthetic"])
def test_info_is_consistent(name):
    info = dataset_info(name)
    assert isinstance(info, DatasetInfo) and info.name == name
    channels = info.input_shape[0] if len(info.input_shape) == 3 else 1
    assert len(info.mean) == len(info.std) == channels
    assert all(s > 0 for s in info.std)
    assert info.crop_padding == 0 or info.augment


def test_image_datasets_have_the_expected_shapes_and_augmentation():
    assert dataset_info("fashion_mnist").input_shape == (1, 28, 28)
    assert dataset_info("cifar10") == DatasetInfo("cifar10", (3, 32, 32), 10, (0.4914, 0.4822, 0.4465),
                                                  (0.2470, 0.2435, 0.2616), True, 4, True, 50000, 10000)
    assert dataset_info("cifar100").num_classes == 100
    assert not dataset_info("mnist").flip and not dataset_info("kmnist").augment
    assert dataset_info("mnist1d").input_shape == (40,)
    assert dataset_info("synthetic").input_shape == (1, 8, 8) and dataset_info("synthetic").num_classes == 4


def test_info_is_frozen():
    with pytest.raises(Exception):
        dataset_info("mnist").num_classes = 3


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(UnknownNameError) as caught:
        dataset_info("fashion-mnst")
    message = str(caught.value)
    assert "fashion-mnst" in message and "Did you mean 'fashion_mnist'" in message
    assert all(name in message for name in dataset_names())
    assert isinstance(caught.value, TicketlabError)


def test_load_dataset_rejects_unknown_name():
    with pytest.raises(UnknownNameError, match="cifar10"):
        load_dataset("cifar11")


def test_registered_sizes_match_what_loads():
    from ticketlab.data import load_dataset
    for name in ("synthetic", "mnist1d"):
        splits = load_dataset(name)
        info = dataset_info(name)
        assert (len(splits.train), len(splits.test)) == (info.train_size, info.test_size)


@pytest.fixture
def scratch_entries(restore_tables):
    from ticketlab.data.registry import ENTRIES
    restore_tables(ENTRIES)


def test_a_registered_dataset_loads_and_a_local_only_one_is_never_downloaded(scratch_entries, tmp_path):
    import numpy as np

    from ticketlab.core.errors import DatasetError
    from ticketlab.data import register_dataset

    arrays = (np.zeros((6, 3), np.float32), np.arange(6) % 2, np.ones((4, 3), np.float32), np.arange(4) % 2)
    info = DatasetInfo("test_generated", (3,), 2, (0.0,), (1.0,), False, 0, False, train_size=6, test_size=4)
    register_dataset("test_generated", info=info, format="generated", loader=lambda: arrays)
    assert "test_generated" in dataset_names() and len(load_dataset("test_generated").test) == 4
    local = DatasetInfo("test_local", (1, 8, 8), 4, (0.5,), (0.3,), False, 0, False, train_size=6, test_size=4)
    register_dataset("test_local", info=local, format="idx", files=["a", "b", "c", "d"])
    with pytest.raises(DatasetError, match="not found, and they have no download source.*--data-dir") as caught:
        load_dataset("test_local", data_dir=tmp_path, download=True)
    assert "allow the download" not in str(caught.value)


@pytest.mark.parametrize("change, message", [
    (dict(name="other"), "the same name"),
    (dict(input_shape=[1, 8, 8]), "not a tuple of positive sizes"),
    (dict(mean=(0.1, 0.2)), "one value per channel"),
    (dict(train_size=0), "train_size 0"),
])
def test_malformed_registrations_are_refused(scratch_entries, change, message):
    import dataclasses

    from ticketlab.data import register_dataset

    info = dataclasses.replace(DatasetInfo("test_bad", (1, 8, 8), 4, (0.5,), (0.3,), False, 0, False, 6, 4), **change)
    with pytest.raises(TicketlabError, match=message):
        register_dataset("test_bad", info=info, format="generated", loader=lambda: None)


def test_an_unknown_format_is_refused(scratch_entries):
    from ticketlab.data import register_dataset

    info = DatasetInfo("test_bad", (1, 8, 8), 4, (0.5,), (0.3,), False, 0, False, 6, 4)
    with pytest.raises(UnknownNameError, match="Unknown data format 'npy'.*Valid data formats: idx, cifar, generated"):
        register_dataset("test_bad", info=info, format="npy")
