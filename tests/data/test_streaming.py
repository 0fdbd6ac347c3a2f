"""Host-resident data streamed to the device: the batches, and so the trained weights, of
the device-resident path, element for element, with augmentation and after a resume."""
import numpy as np
import pytest
import torch
from safetensors.torch import load_file

import ticketlab
from ticketlab.core.progress import Progress
from ticketlab.data import Arrays, DatasetInfo, DeviceLoader, dataset_names, register_dataset
from ticketlab.data.placement import HostArrays
from ticketlab.store.tensors import verify

AUGMENTED = dict(augment=True, crop_padding=2, flip=True)


def image_arrays(n: int = 53, kind=Arrays) -> Arrays:
    generator = torch.Generator().manual_seed(0)
    return kind(torch.randn(n, 3, 6, 6, generator=generator), torch.randint(0, 10, (n,), generator=generator))


def batches(loader: DeviceLoader, epoch: int, start: int = 0) -> list:
    return list(loader.epoch(epoch, start))


def assert_same(a: list, b: list) -> None:
    assert len(a) == len(b)
    for (xa, ya), (xb, yb) in zip(a, b):
        assert xa.device == xb.device and torch.equal(xa, xb) and torch.equal(ya, yb)


@pytest.mark.parametrize("options", [dict(seed=3), dict(seed=3, shuffle=False), dict(seed=4, **AUGMENTED),
                                     dict(seed=4, shuffle=False, **AUGMENTED)])
def test_streamed_batches_equal_device_resident_ones(options):
    resident = DeviceLoader(image_arrays(), 10, **options)
    streamed = DeviceLoader(image_arrays(kind=HostArrays), 10, device="cpu", **options)
    assert streamed.streams and not resident.streams
    for epoch in (0, 1, 5):
        assert_same(batches(resident, epoch), batches(streamed, epoch))
    assert [len(y) for _, y in streamed.epoch(0)] == [10] * 5 + [3]  # the last batch is smaller


@pytest.mark.parametrize("start", [0, 1, 4, 5, 6])
def test_a_streamed_epoch_resumes_at_any_step(start):
    full = batches(DeviceLoader(image_arrays(kind=HostArrays), 10, seed=9, **AUGMENTED), 2)
    tail = batches(DeviceLoader(image_arrays(kind=HostArrays), 10, seed=9, **AUGMENTED), 2, start)
    assert_same(full[start:], tail)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_pinned_host_data_streams_to_a_gpu_as_resident_data_batches():
    host = image_arrays(kind=HostArrays)
    host = HostArrays(host.x.pin_memory(), host.y.pin_memory())
    resident = Arrays(host.x.cuda(), host.y.cuda())
    for options in (dict(seed=1), dict(seed=1, **AUGMENTED), dict(seed=1, shuffle=False)):
        a = batches(DeviceLoader(resident, 8, **options), 1)
        b = batches(DeviceLoader(host, 8, device="cuda", **options), 1)
        torch.cuda.synchronize()
        assert_same(a, b)
        assert_same(a[3:], batches(DeviceLoader(host, 8, device="cuda", **options), 1, 3))


# -- whole runs -------------------------------------------------------------------------
def make_images():
    """uint8 RGB images (so normalization runs on the host) with crop and flip: augmented."""
    rng = np.random.default_rng(7)
    draw = lambda n: (rng.integers(0, 256, (n, 3, 8, 8), dtype=np.uint8),  # noqa: E731
                      rng.integers(0, 4, n, dtype=np.int64))
    return (*draw(96), *draw(32))


if "stream_test_images" not in dataset_names():
    register_dataset("stream_test_images", format="generated", loader=make_images,
                     info=DatasetInfo("stream_test_images", (3, 8, 8), 4, (0.5, 0.5, 0.5), (0.25, 0.25, 0.25),
                                      augment=True, crop_padding=2, flip=True, train_size=96, test_size=32))


class Notes(Progress):
    def __init__(self):
        self.notes = []

    def note(self, message):
        self.notes.append(message)


def trained(spec, runs, **options) -> tuple[dict, dict, list]:
    notes = Notes()
    result = ticketlab.run(spec, runs_dir=runs, device="cpu", progress=notes, **options)
    path = runs / spec.run_id / "model.safetensors"
    verify(path)
    metrics = {k: v for k, v in result.metrics.items() if k != "train_seconds"}
    return load_file(str(path)), metrics, notes.notes


@pytest.mark.parametrize("spec", [
    ticketlab.TrainSpec(model="lenet_300_100", dataset="mnist1d", duration="2ep", batch_size=256, lr=0.05,
                        eval_every="1ep", val_size=200),
    ticketlab.TrainSpec(model="mlp_32_16", dataset="stream_test_images", duration="2ep", batch_size=16, lr=0.05,
                        momentum=0.9, augment=True, eval_every="3it"),
], ids=["mnist1d", "augmented_images"])
def test_a_streamed_run_trains_the_weights_of_a_device_resident_one(spec, tmp_path):
    weights, metrics, notes = trained(spec, tmp_path / "resident")
    streamed, streamed_metrics, streamed_notes = trained(spec, tmp_path / "streamed", data_budget="16B")
    assert not any("host memory" in n for n in notes)
    assert any("host memory" in n and "over the device-data budget of 16 B" in n for n in streamed_notes)
    assert weights.keys() == streamed.keys()
    assert all(torch.equal(weights[k], streamed[k]) for k in weights)  # the same batches: the same weights
    assert metrics == streamed_metrics
