import pytest

from ticketlab.data import DATASET_NAMES, DatasetInfo, dataset_info, load_dataset
from ticketlab.core.errors import TicketlabError, UnknownNameError


def test_names_are_the_documented_ones():
    assert DATASET_NAMES == ["fashion_mnist", "mnist", "kmnist", "cifar10", "cifar100", "mnist1d", "synthetic"]


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
    assert all(name in message for name in DATASET_NAMES)
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
