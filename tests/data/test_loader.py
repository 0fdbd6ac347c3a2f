"""DeviceLoader: order a pure function of (seed, epoch), exact resume, full coverage."""
import pytest
import torch

from ticketlab.data import Arrays, DeviceLoader


def identity_arrays(n: int = 103) -> Arrays:
    # y names each example, so batches reveal the order; x carries the same index.
    y = torch.arange(n)
    x = y.float().reshape(n, 1, 1, 1).expand(n, 1, 4, 4).contiguous()
    return Arrays(x, y)


def order(loader: DeviceLoader, epoch: int, start_step: int = 0) -> list[list[int]]:
    return [y.tolist() for _, y in loader.epoch(epoch, start_step)]


def test_steps_and_last_batch():
    loader = DeviceLoader(identity_arrays(103), 10, seed=0)
    assert loader.steps_per_epoch == 11 == len(loader)
    sizes = [len(y) for y in order(loader, 0)]
    assert sizes == [10] * 10 + [3]


def test_every_example_once_per_epoch():
    loader = DeviceLoader(identity_arrays(103), 10, seed=5)
    for epoch in range(3):
        seen = sum(order(loader, epoch), [])
        assert sorted(seen) == list(range(103))


def test_order_depends_only_on_seed_and_epoch():
    a, b = DeviceLoader(identity_arrays(), 16, seed=1), DeviceLoader(identity_arrays(), 16, seed=1)
    list(a.epoch(0))  # consuming other epochs first must not matter
    assert order(a, 3) == order(b, 3)
    assert order(a, 3) != order(a, 4)
    assert order(a, 3) != order(DeviceLoader(identity_arrays(), 16, seed=2), 3)


def test_x_and_y_stay_paired():
    for x, y in DeviceLoader(identity_arrays(), 16, seed=1).epoch(0):
        assert torch.equal(x[:, 0, 0, 0].long(), y)


@pytest.mark.parametrize("start", [0, 1, 6, 10, 11])
def test_resume_yields_exact_tail(start):
    loader = DeviceLoader(identity_arrays(), 10, seed=9, augment=True, crop_padding=1, flip=True)
    full = list(loader.epoch(2))
    tail = list(DeviceLoader(identity_arrays(), 10, seed=9, augment=True, crop_padding=1, flip=True).epoch(2, start))
    assert len(tail) == len(full) - start
    for (x1, y1), (x2, y2) in zip(full[start:], tail):
        assert torch.equal(x1, x2) and torch.equal(y1, y2)


def test_unshuffled_is_natural_order():
    loader = DeviceLoader(identity_arrays(25), 10, seed=0, shuffle=False)
    assert order(loader, 0) == [list(range(10)), list(range(10, 20)), list(range(20, 25))]
    assert order(loader, 7) == order(loader, 0)


def test_invalid_arguments():
    with pytest.raises(ValueError, match="batch_size"):
        DeviceLoader(identity_arrays(), 0, seed=0)
    with pytest.raises(ValueError, match="start_step"):
        DeviceLoader(identity_arrays(), 10, seed=0).epoch(0, start_step=12)
    flat = Arrays(torch.zeros(8, 40), torch.zeros(8, dtype=torch.long))
    with pytest.raises(ValueError, match="turn augmentation off"):
        DeviceLoader(flat, 4, seed=0, augment=True, flip=True)
    DeviceLoader(flat, 4, seed=0, augment=False, crop_padding=4, flip=True)  # off: fine


def test_augment_flag_gates_crop_and_flip():
    arrays = Arrays(torch.randn(20, 3, 6, 6), torch.zeros(20, dtype=torch.long))
    plain = DeviceLoader(arrays, 20, seed=0, shuffle=False, augment=False, crop_padding=2, flip=True)
    (x, _), = plain.epoch(0)
    assert torch.equal(x, arrays.x)
