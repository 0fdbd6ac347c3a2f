"""The worked plugin examples, end to end through the public API: a scorer, a model family and
a dataset, each one file and one register call, imported here (which registers them)."""
import importlib
import struct
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

import ticketlab

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # the examples are plain modules, importable as a user's plugins would be
    sys.path.insert(0, str(HERE))
import example_dataset  # noqa: E402 (each registers on import)
import example_family  # noqa: E402
import example_scorer  # noqa: E402
from ticketlab.core.errors import TicketlabError, UnknownNameError
from ticketlab.data import DatasetInfo, load_dataset, register_data_format, register_dataset
from ticketlab.data.formats import FORMATS
from ticketlab.data.registry import ENTRIES
from ticketlab.models import build_model, register_model_family
from ticketlab.models.families import FAMILIES
from ticketlab.core.errors import AlreadyRegisteredError
from ticketlab.prune import pai_mask, register_scorer
from ticketlab.prune.registry import SCORERS
from ticketlab.specs import PaiSpec, TrainSpec
from ticketlab.store import RunStore

TRAIN = TrainSpec(model="tiny_mlp_16", dataset="example_digits", duration="2it", batch_size=16, lr=0.05)


def write_example_digits(folder: Path) -> None:
    """The four IDX files of example_digits: uint8 images and labels, as MNIST ships them."""
    info, rng = example_dataset.INFO, np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = []
    for n in (info.train_size, info.test_size):
        arrays += [rng.integers(0, 256, (n, *info.input_shape[1:]), dtype=np.uint8),
                   rng.integers(0, info.num_classes, n, dtype=np.uint8)]
    for name, array in zip(example_dataset.FILES, arrays):
        header = b"\x00\x00\x08" + bytes([array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
        (folder / name).write_bytes(header + array.tobytes())


@pytest.fixture
def scratch_tables():
    """Registrations a test makes here vanish afterwards; the examples' stay."""
    tables = (FAMILIES, ENTRIES, FORMATS, SCORERS)
    saved = [dict(table) for table in tables]
    yield
    for table, before in zip(tables, saved):
        table.clear()
        table.update(before)


def test_pai_run_with_the_example_scorer_family_and_dataset(runs_dir, tmp_path):
    write_example_digits(tmp_path / "data")
    spec = PaiSpec(train=TRAIN, method="example_magnitude", density=0.5)
    result = ticketlab.run(spec, data_dir=tmp_path / "data")
    assert result.metrics["density"] == pytest.approx(0.5, abs=1e-3) and result.metrics["step"] == 2
    mask = RunStore(runs_dir).open(spec.run_id).load_mask("mask.safetensors")
    assert set(mask) == {"hidden.weight", "fc.weight"} and mask.kept() == round(0.5 * mask.size())
    torch.manual_seed(TRAIN.seed)  # the run's init: its mask keeps the largest |w| of it, over both layers
    init = build_model("tiny_mlp_16", (1, 8, 8), 4)
    magnitudes = torch.cat([init.get_parameter(n).detach().abs().flatten() for n in mask])
    kept = torch.cat([mask[n].flatten() for n in mask])
    assert magnitudes[kept].min() >= magnitudes[~kept].max()


def test_the_specs_errors_list_the_registered_names():
    with pytest.raises(UnknownNameError, match=r"Valid pruning-at-initialization methods: snip, .*example_magnitude"):
        PaiSpec(train=TRAIN, method="example_magnitud", density=0.5)
    with pytest.raises(UnknownNameError, match=r"Valid datasets: fashion_mnist, .*example_digits"):
        TrainSpec(model="tiny_mlp_16", dataset="example_digit")
    with pytest.raises(UnknownNameError, match=r"Valid models: lenet_300_100, .*tiny_mlp_W"):
        TrainSpec(model="tiny_mlp_x", dataset="example_digits")
    with pytest.raises(UnknownNameError, match=r"tiny_mlp_W\b.*\. A tiny_mlp name ends in one positive hidden width"):
        build_model("tiny_mlp_x", (1, 8, 8), 4)  # the family's own fix for a malformed name of it
    assert "tiny_mlp_W" in ticketlab.models.model_patterns() and "example_digits" in ticketlab.data.dataset_names()


def test_duplicates_are_refused_naming_what_is_registered():
    with pytest.raises(AlreadyRegisteredError, match=r"scorer 'example_magnitude' is registered already.*magnitude"):
        importlib.reload(example_scorer)
    with pytest.raises(AlreadyRegisteredError, match=r"model family 'tiny_mlp' is registered already.*tiny_mlp_W"):
        register_model_family("tiny_mlp", example_family.parse, example_family.build, ["tiny_mlp_W"])
    with pytest.raises(AlreadyRegisteredError, match=r"dataset 'mnist' is registered already.*Registered datasets"):
        register_dataset("mnist", info=replace(example_dataset.INFO, name="mnist"), format="idx",
                         files=example_dataset.FILES)
    with pytest.raises(AlreadyRegisteredError, match="data format 'idx'"):
        register_data_format("idx", lambda entry, data_dir, download: None)
    with pytest.raises(TicketlabError, match="'random' is a pruning-at-initialization method already"):
        register_scorer("random", example_scorer.magnitude)


def test_functions_by_module_path_resolve_on_first_use(scratch_tables):
    register_scorer("example_by_path", "example_scorer:magnitude", needs_data=False)
    register_scorer("example_missing", "no_such_module_anywhere:score", needs_data=False)
    torch.manual_seed(0)
    model = build_model("tiny_mlp_16", (1, 8, 8), 4)
    assert pai_mask("example_by_path", model, None, 0.3).equals(pai_mask("example_magnitude", model, None, 0.3))
    with pytest.raises(TicketlabError, match="no_such_module_anywhere:score' names a module that cannot be found"):
        pai_mask("example_missing", model, None, 0.3)
    with pytest.raises(TicketlabError, match="'module:function' string"):
        register_scorer("example_malformed", "no colon here")


def test_a_new_format_is_one_call_and_bad_plugins_get_clear_errors(scratch_tables):
    rng = np.random.default_rng(1)
    arrays = (rng.random((10, 6), dtype=np.float32), np.arange(10) % 3, rng.random((5, 6), dtype=np.float32),
              np.arange(5) % 3)
    register_data_format("example_memory", lambda entry, data_dir, download: arrays, file_count=0)
    info = DatasetInfo("example_vectors", (6,), 3, (0.0,), (1.0,), False, 0, False, train_size=10, test_size=5)
    register_dataset("example_vectors", info=info, format="example_memory")
    splits = load_dataset("example_vectors", val_size=2)
    assert (len(splits.train), len(splits.val), len(splits.test)) == (8, 2, 5)
    short = DatasetInfo("example_short", (6,), 3, (0.0,), (1.0,), False, 0, False, train_size=10, test_size=5)
    with pytest.raises(TicketlabError, match="lists 1 files, but format 'idx' reads 4"):
        register_dataset("example_short", info=short, format="idx", files=["one"])
    register_model_family("example_plain", lambda n: n if n == "example_plain" else None,
                          lambda name, plan, shape, classes: torch.nn.Linear(2, 2), ["example_plain"])
    with pytest.raises(TicketlabError, match="returned a Linear.*must return a TicketModel"):
        build_model("example_plain", (2,), 2)


def test_registering_and_checking_names_imports_no_torch():
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import example_scorer, example_dataset; "
            "from ticketlab.specs import PaiSpec, TrainSpec; "
            "PaiSpec(train=TrainSpec(model='mlp_16', dataset='example_digits'), method='example_magnitude', "
            "density=0.5); assert 'torch' not in sys.modules, 'torch was imported'")
    done = subprocess.run([sys.executable, "-c", code, str(HERE)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_a_plugin_module_that_imports_a_missing_package_says_which(tmp_path, monkeypatch):
    from ticketlab.core.registry import resolve_function
    (tmp_path / "needs_missing.py").write_text("import not_installed_anywhere\n\ndef score(m, w, b):\n    return w\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(TicketlabError, match="its module imports 'not_installed_anywhere', which cannot be found"):
        resolve_function("needs_missing:score", "A scorer")
