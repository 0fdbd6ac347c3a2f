"""Input from elsewhere is checked before it is used: run references stay inside the runs
folder, dataset archives hold only plain files below their folder, tensor files are
safetensors whose header fits what reads them, and no spec or run folder names code."""
import dataclasses
import io
import json
import pickle
import sys
import tarfile

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from ticketlab import load_inference
from ticketlab.cli.main import main
from ticketlab.core.errors import CheckpointError, DatasetError
from ticketlab.data import dataset_info, load_dataset, locate, registry
from ticketlab.data.archives import extract_tar
from ticketlab.models import build_model
from ticketlab.sparse import Mask, load_mask, save_mask

TINY = ["--model", "mlp_32", "--dataset", "synthetic", "--epochs", "1", "--quiet"]


# -- run references ----------------------------------------------------------------------
@pytest.fixture
def two_runs_folders(tmp_path, monkeypatch, capsys):
    """`runs/` (the one in use, empty) and `other/`, which holds a finished run."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TICKETLAB_RUNS", str(tmp_path / "runs"))
    assert main(["train", *TINY, "--runs-dir", str(tmp_path / "other"), "--json"]) == 0
    run_id = json.loads(capsys.readouterr().out.splitlines()[-1])["run_id"]
    (tmp_path / "runs").mkdir()
    return tmp_path, run_id


def test_show_up_the_tree_is_refused(two_runs_folders, refused):
    root, _ = two_runs_folders
    err = refused("show", "../..")
    where = f"it is {root.parent.parent}, outside the runs folder"
    assert f"../.. is not a run directory of {root / 'runs'}: {where}" in err


@pytest.mark.parametrize("reference", ["{root}/other/{run}", "other/{run}", "runs/../other/{run}", "."])
def test_a_run_directory_outside_the_runs_folder_is_refused(two_runs_folders, reference, refused):
    root, run_id = two_runs_folders
    reference = reference.format(root=root, run=run_id)
    assert "outside the runs folder" in refused("show", reference)
    assert "outside the runs folder" in refused("export", reference, "-o", str(root / "x.safetensors"))


def test_a_run_directory_in_the_runs_folder_is_still_found_by_path(capsys, two_runs_folders, refused):
    root, run_id = two_runs_folders
    assert main(["show", run_id, "--runs-dir", "other", "--json"]) == 0
    assert main(["show", f"other/{run_id}", "--runs-dir", "other", "--json"]) == 0
    assert main(["show", f"{root}/other/{run_id}/", "--runs-dir", "other", "--json"]) == 0
    assert "below a run directory" in refused("show", f"other/{run_id}/logs", "--runs-dir", "other")


def test_a_unit_outside_its_run_is_refused(two_runs_folders, refused):
    root, run_id = two_runs_folders
    err = refused("export", run_id, "--runs-dir", "other", "--unit", "../..", "-o", str(root / "x.safetensors"))
    assert f"--unit ../.. lies outside the run {run_id}" in err


def test_a_reference_is_no_pattern(capsys, two_runs_folders, refused):
    assert "No run in other match '*'" in refused("show", "*", "--runs-dir", "other")


# -- dataset archives --------------------------------------------------------------------
def tar_with(path, *members):
    """A .tar.gz of (TarInfo, bytes or None) members."""
    with tarfile.open(path, "w:gz") as tar:
        for info, blob in members:
            if blob is not None:
                info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob) if blob is not None else None)
    return path


def plain(name, blob=b"x"):
    return tarfile.TarInfo(name), blob


def link(name, target, kind=tarfile.SYMTYPE):
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info, None


@pytest.mark.parametrize("member, problem", [
    (plain("../evil"), "'../evil' is a path that climbs out of the archive's folder"),
    (plain("data/../../evil"), "'data/../../evil' is a path that climbs out"),
    (plain("/tmp/evil"), "'/tmp/evil' is an absolute path"),
    (link("data/batch", "/etc/passwd"), "'data/batch' is a symbolic link to '/etc/passwd'"),
    (link("data/batch", "data/ok", tarfile.LNKTYPE), "'data/batch' is a hard link to 'data/ok'"),
])
def test_an_archive_with_an_unsafe_member_is_refused_whole(tmp_path, member, problem):
    archive = tar_with(tmp_path / "a.tar.gz", plain("data/ok"), member)
    dest = tmp_path / "out"
    dest.mkdir()
    with pytest.raises(DatasetError, match="Could not extract") as caught:
        extract_tar(archive, dest)
    assert problem in str(caught.value) and str(archive) in str(caught.value)
    assert list(dest.iterdir()) == [] and not (tmp_path / "evil").exists()  # nothing extracted, not even data/ok


def cifar_archive(path, extra):
    """A tiny archive in CIFAR-10's layout, plus `extra` members."""
    rng = np.random.default_rng(0)
    batch = pickle.dumps({b"data": rng.integers(0, 256, (2, 3072), dtype=np.uint8), b"labels": [0, 1]}, protocol=2)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    return tar_with(path, *(plain(f"cifar-10-batches-py/{n}", batch) for n in names), *extra)


@pytest.mark.parametrize("extra", [plain("../evil"), link("cifar-10-batches-py/readme", "/etc/passwd")])
def test_a_local_cifar_archive_with_an_unsafe_member_is_not_read(tmp_path, monkeypatch, extra):
    monkeypatch.setattr(locate, "DEBIAN_ROOT", tmp_path / "no-debian")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    archive = cifar_archive(tmp_path / "cifar-10-python.tar.gz", [extra])
    from ticketlab.data.download import file_md5
    entry = registry.ENTRIES["cifar10"]  # the archive passes for the official one: only its members tell
    files = (dataclasses.replace(entry.files[0], md5=file_md5(archive)),)
    monkeypatch.setitem(registry.ENTRIES, "cifar10", dataclasses.replace(entry, files=files))
    with pytest.raises(DatasetError, match=f"Could not read {archive}: its member '{extra[0].name}' is"):
        load_dataset("cifar10", data_dir=tmp_path)


# -- tensor files ------------------------------------------------------------------------
@pytest.fixture
def mask_file(tmp_path):
    path = tmp_path / "mask.safetensors"
    save_mask(path, Mask({"fc.weight": torch.ones(4, 3, dtype=torch.bool)}))
    return path


def test_a_mask_that_is_not_safetensors_is_refused(tmp_path, mask_file):
    pickled = tmp_path / "mask.pt"
    torch.save({"fc.weight": torch.ones(4, 3, dtype=torch.bool)}, pickled)
    truncated = tmp_path / "truncated.safetensors"
    truncated.write_bytes(mask_file.read_bytes()[:-3])
    for path in (pickled, truncated):
        with pytest.raises(CheckpointError, match=f"{path} is not a readable mask file"):
            load_mask(path)


def test_a_mask_of_the_wrong_dtype_or_shape_is_refused(tmp_path, mask_file):
    floats = tmp_path / "floats.safetensors"
    save_file({"fc.weight": torch.rand(4, 3)}, str(floats))
    with pytest.raises(CheckpointError, match=f"{floats}: the tensor 'fc.weight' is F32, but BOOL is expected"):
        load_mask(floats)
    assert load_mask(mask_file, expected={"fc.weight": (4, 3)}).kept() == 12
    with pytest.raises(CheckpointError, match=r"'fc.weight' has shape \(4, 3\), but \(3, 4\) is expected"):
        load_mask(mask_file, expected={"fc.weight": (3, 4)})
    with pytest.raises(CheckpointError, match="it lacks 'fc.bias'"):
        load_mask(mask_file, expected={"fc.weight": (4, 3), "fc.bias": (4,)})


def export_of(path, model="mlp_32", change=None, **meta):
    """An inference file as `ticketlab export` writes one, its tensors changed by `change`."""
    info = dataset_info("synthetic")
    state = {n: t.contiguous() for n, t in build_model(model, info.input_shape, info.num_classes).state_dict().items()}
    if change:
        change(state)
    metadata = {"format": "ticketlab-inference", "model": model, "input_shape": json.dumps(list(info.input_shape)),
                "num_classes": str(info.num_classes), "sparsity_format": "dense", **meta}
    save_file(state, str(path), metadata=metadata)
    return path


def weight(state):
    return next(n for n, t in state.items() if t.dim() == 2)


@pytest.mark.parametrize("change, message", [
    (lambda s: s.update({weight(s): s[weight(s)].t().contiguous()}),
     r"the tensor '.*' has shape \(\d+, \d+\), but \(\d+, \d+\) is expected for the mlp_32 network"),
    (lambda s: s.update({weight(s): s[weight(s)].half()}),
     "the tensor '.*' is F16, but F32 is expected for the mlp_32 network"),
    (lambda s: s.pop(weight(s)), "does not fit the mlp_32 network .*: it lacks"),
    (lambda s: s.update({"extra": torch.zeros(1)}), "it also holds 'extra'"),
])
def test_an_inference_file_that_does_not_fit_its_network_is_refused(tmp_path, change, message):
    assert load_inference(export_of(tmp_path / "ok.safetensors")) is not None
    path = export_of(tmp_path / "bad.safetensors", change=change)
    with pytest.raises(CheckpointError, match=f"{path}.*{message}"):
        load_inference(path)


@pytest.mark.parametrize("meta, message", [
    ({"input_shape": "[-1, 8]"}, "the metadata input_shape is '\\[-1, 8\\]'"),
    ({"num_classes": "ten"}, "the metadata num_classes is 'ten'"),
    ({"sparsity_format": "coo"}, "the metadata sparsity_format is 'coo'"),
    ({"format": "something-else"}, "not a ticketlab inference export"),
])
def test_an_inference_file_with_malformed_metadata_is_refused(tmp_path, meta, message):
    with pytest.raises(CheckpointError, match=message):
        load_inference(export_of(tmp_path / "bad.safetensors", **meta))


def test_an_inference_file_that_is_truncated_or_a_pickle_is_refused(tmp_path):
    whole = export_of(tmp_path / "ok.safetensors").read_bytes()
    (tmp_path / "cut.safetensors").write_bytes(whole[: len(whole) // 2])
    torch.save({"w": torch.zeros(2)}, tmp_path / "pickle.safetensors")
    for name in ("cut.safetensors", "pickle.safetensors"):
        with pytest.raises(CheckpointError, match=f"{tmp_path / name} is not a readable inference file"):
            load_inference(tmp_path / name)


# -- code ------------------------------------------------------------------------------
def test_no_spec_names_a_module_to_import(capsys, runs_dir, tmp_path, monkeypatch, refused):
    (tmp_path / "planted.py").write_text("open(__file__ + '.ran', 'w').close()\ndef build(*a): pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for setting in ("kind: planted:build\n", "kind: train\nmodel: planted:build\ndataset: synthetic\n",
                    "kind: train\nmodel: mlp_32\ndataset: planted:build\n"):
        (tmp_path / "c.yaml").write_text(setting)
        refused("run", str(tmp_path / "c.yaml"))
    assert "planted" not in sys.modules and not (tmp_path / "planted.py.ran").exists()
