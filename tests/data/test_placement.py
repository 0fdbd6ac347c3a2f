"""Where a dataset lives: on the device when it fits the budget (exactly as without one),
else in host memory, normalized as on the device, said in a note with the sizes."""
import numpy as np
import pytest
import torch

from ticketlab.data import Arrays, DatasetInfo, dataset_info, load_dataset
from ticketlab.data.arrays import to_arrays
from ticketlab.data.placement import HostArrays, decide_placement, host_arrays, place_dataset, resident_bytes

SYNTHETIC_BYTES = (512 + 256) * (1 * 8 * 8 * 4 + 8)  # float32 pixels and int64 labels of both splits
IMAGES = DatasetInfo("rgb", (3, 4, 4), 10, (0.5, 0.4, 0.3), (0.2, 0.25, 0.3), augment=True, crop_padding=1,
                     flip=True)


def test_the_bytes_are_those_of_normalized_inputs_and_labels():
    assert resident_bytes(dataset_info("synthetic"), 512 + 256) == SYNTHETIC_BYTES


@pytest.mark.parametrize("budget, streams", [(None, False), (SYNTHETIC_BYTES, False), (SYNTHETIC_BYTES - 1, True),
                                             (0, True), (10**12, False)])
def test_the_data_streams_only_when_it_exceeds_the_budget(budget, streams):
    placement = decide_placement(SYNTHETIC_BYTES, "cpu", budget)
    assert placement.streams is streams and placement.nbytes == SYNTHETIC_BYTES and placement.budget == budget
    assert not placement.pinned  # pinned memory only speeds copies to a GPU


def test_host_data_for_a_gpu_is_pinned():
    assert decide_placement(100, "cuda:0", 10).pinned
    assert not decide_placement(100, "cuda:0", 100).pinned  # fits: on the GPU, nothing to pin


def test_a_note_with_the_sizes_only_when_the_data_streams():
    notes = []
    place_dataset(dataset_info("synthetic"), 768, "cpu", SYNTHETIC_BYTES, notes.append)
    assert notes == []
    place_dataset(dataset_info("synthetic"), 768, "cpu", 1000, notes.append)
    assert notes == ["synthetic: the data takes 198.0 KiB, over the device-data budget of 1000 B: "
                     "it stays in host memory and streams to cpu batch by batch"]
    assert "(pinned)" in decide_placement(100, "cuda", 10).note("x")


def test_data_that_fits_is_loaded_as_without_a_budget():
    plain, budgeted = load_dataset("synthetic", val_size=64), load_dataset("synthetic", val_size=64,
                                                                            data_budget=SYNTHETIC_BYTES)
    for split in ("train", "test", "val"):
        assert type(getattr(budgeted, split)) is Arrays
        assert torch.equal(getattr(plain, split).x, getattr(budgeted, split).x)


def test_data_over_the_budget_stays_in_host_memory_with_the_same_values():
    notes = []
    plain = load_dataset("synthetic", val_size=64)
    hosted = load_dataset("synthetic", val_size=64, data_budget=8, note=notes.append)
    assert len(notes) == 1 and "host memory" in notes[0]
    for split in ("train", "test", "val"):
        a, b = getattr(plain, split), getattr(hosted, split)
        assert isinstance(b, HostArrays) and b.x.device.type == "cpu"
        assert torch.equal(a.x, b.x) and torch.equal(a.y, b.y) and b.y.dtype == torch.int64


def test_pixels_are_normalized_bit_for_bit_as_on_the_device():
    rng = np.random.default_rng(0)
    pixels, labels = rng.integers(0, 256, (6, 4, 4, 3), dtype=np.uint8), rng.integers(0, 10, 6, dtype=np.uint8)
    pixels = np.ascontiguousarray(pixels.transpose(0, 3, 1, 2))  # (N, C, H, W)
    expected = to_arrays(pixels.copy(), labels, IMAGES, "cpu")
    hosted = host_arrays(pixels, labels, IMAGES, pin=False)
    assert torch.equal(hosted.x, expected.x) and torch.equal(hosted.y, expected.y)
    wide = rng.standard_normal((6, 3, 4, 4))  # float64 from a reader: rounded once, as `to_arrays` does
    assert torch.equal(host_arrays(wide, labels, IMAGES, pin=False).x, to_arrays(wide.copy(), labels, IMAGES, "cpu").x)


def test_a_writable_float32_array_is_used_where_the_reader_left_it():
    x = np.random.default_rng(1).standard_normal((5, 3, 4, 4)).astype(np.float32)
    y = np.arange(5, dtype=np.int64)
    hosted = host_arrays(x, y, IMAGES, pin=False)
    assert hosted.x.data_ptr() == x.ctypes.data and hosted.y.data_ptr() == y.ctypes.data  # no copy
    frozen = x.copy()
    frozen.flags.writeable = False
    assert host_arrays(frozen, y, IMAGES, pin=False).x.data_ptr() != frozen.ctypes.data  # never written through
