"""Routing the Lottery on an image: regions, Fourier-feature network, PSNR, the
conditioned baseline, end to end on a tiny image."""
import json

import pytest
import torch

from ticketlab import api
from ticketlab.cli.main import main
from ticketlab.core.errors import SpecError, UnknownNameError
from ticketlab.methods.rtl_inr import FourierMLP, load_image, psnr
from ticketlab.specs import InrSpec
from ticketlab.store import RunStore

TINY = InrSpec(side=16, regions=3, widths=(32,), fourier=16, sparsities=(0.5, 0.8), extract_steps=40, steps=150,
               batch_size=128)


def test_image_and_network():
    image = load_image("grace_hopper", 16)
    assert image.shape == (16, 16, 3) and 0 <= image.min() and image.max() <= 1 and image.std() > 0.05
    net = FourierMLP(3, (8,), 4, 10.0, seed=0, regions=3, embedding=2)
    x = torch.tensor([[0.1, -0.2, 2.0], [0.5, 0.5, 0.0]])
    out = net(x)
    assert out.shape == (2, 3) and 0 <= out.min() and out.max() <= 1
    other = x.clone()
    other[0, 2] = 1.0
    assert not torch.allclose(net(other)[0], out[0]), "the region embedding conditions the output"
    assert net.prunable_names == ["layers.0.weight", "out.weight"]
    assert psnr(0.01) == pytest.approx(20.0) and psnr(1.0) == 0.0


def test_rtl_on_an_image(runs_dir, capsys):
    result = api.run(TINY, runs_dir=runs_dir)
    run = RunStore(runs_dir).open(result.run_id)
    levels = run.result()["levels"]
    assert [lv["sparsity"] for lv in levels] == [0.5, 0.8]
    for lv in levels:
        assert lv["density"] == pytest.approx(1 - lv["sparsity"], abs=0.01)
        for name in ("rtl", "conditioned"):
            assert len(lv[name]["psnr_per_region"]) == 3 and lv[name]["psnr"] > 10, "better than a grey guess"
        assert all(lv["similarity"]["jaccard"][i][j] < 1 for i in range(3) for j in range(3) if i != j)
    assert (run.path / "level_00" / "rtl.png").is_file() and (run.path / "regions.png").is_file()
    assert sum(run.result()["region_sizes"]) == 256
    assert main(["rtl-inr", "--side", "16", "--regions", "3", "--sparsity", "0.5,0.8", "--steps", "150",
                 "--extract-steps", "40", "--set", "widths=[32]", "--set", "fourier=16", "--set", "batch_size=128",
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["reused"]


def test_refusals():
    with pytest.raises(UnknownNameError, match="grace_hopper"):
        InrSpec(image="lena")
    with pytest.raises(SpecError, match="regions must be 2"):
        InrSpec(regions=1)
    with pytest.raises(SpecError, match="increasing fractions"):
        InrSpec(sparsities=(0.9, 0.5))
