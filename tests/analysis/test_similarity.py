"""Mask similarity: Jaccard matrices, member scores, the label-free collapse detector, and
the `similarity` command on real runs."""
import json

import pytest
import torch

from ticketlab import api
from ticketlab.analysis.similarity import groups_from_runs, similarity_path
from ticketlab.sparse.similarity import collapse_steps, jaccard_matrix, member_scores
from ticketlab.cli.main import main
from ticketlab.sparse import Mask
from ticketlab.specs import ImpSpec, PaiSpec, TrainSpec
from ticketlab.store import RunStore


def mask(*rows):
    return Mask({"a": torch.tensor(rows[0], dtype=torch.bool), "b": torch.tensor(rows[1], dtype=torch.bool)})


def test_jaccard_is_one_for_equal_masks_and_zero_for_disjoint_ones():
    m = mask([1, 1, 0, 0], [1, 0])
    disjoint = mask([0, 0, 1, 1], [0, 1])
    half = mask([1, 0, 0, 0], [1, 1])  # and: a0, b0 = 2; or: a0 a1 b0 b1 = 4
    matrix = jaccard_matrix([m, m, disjoint, half])
    assert matrix[0][1] == 1.0 and matrix[0][2] == 0.0 and matrix[0][3] == 0.5 and matrix[2][3] == 0.2
    assert all(matrix[i][i] == 1.0 for i in range(4)) and matrix[3][0] == matrix[0][3]
    assert jaccard_matrix([m, half], layer="a")[0][1] == 0.5 and jaccard_matrix([m, half], layer="b")[0][1] == 0.5
    assert member_scores([[1, 0.5, 0.1], [0.5, 1, 0.3], [0.1, 0.3, 1]]) == pytest.approx([0.3, 0.4, 0.2])


def test_collapse_detector_flags_an_abrupt_change_either_way_and_stays_quiet_on_smooth_paths():
    even = [i / 10 for i in range(10)]  # on an even grid slopes are the steps, scaled alike
    assert collapse_steps([0.9, 0.88, 0.86, 0.84, 0.5, 0.48, 0.46], even[:7]) == [3]
    assert collapse_steps([0.30, 0.31, 0.32, 0.33, 0.71, 0.72], even[:6]) == [3], "a sudden rise is flagged too"
    assert collapse_steps([0.9 - 0.05 * i for i in range(10)], even) == [], "linear"
    assert collapse_steps([0.9 - 0.004 * i * i for i in range(10)], even) == [], "smoothly accelerating"
    noisy = [0.8, 0.79, 0.805, 0.785, 0.79, 0.78]
    assert collapse_steps(noisy, even[:6]) == [], "small jitter is not a collapse"
    assert collapse_steps([0.5, 0.4], [0.25, 0.5]) == [], "one step has nothing to compare with"
    rtl = [0.25, 0.5, 0.75]  # the default RTL sparsities
    assert collapse_steps([0.6, 0.59, 0.05], rtl) == [1], "three points can flag a jump"
    assert collapse_steps([0.6, 0.58, 0.55], rtl) == []
    with pytest.raises(ValueError, match="sparsities"):
        collapse_steps([0.6, 0.58, 0.55], rtl[:2])


BENCHMARK_GRID = [0.25, 0.5, 0.75, 0.85, 0.9, 0.93, 0.95, 0.97, 0.98]  # benchmarks/rtl_fashion_mnist.py
UNEVEN_GRID = [0.1, 0.2, 0.5, 0.6, 0.8, 0.82, 0.9, 0.99]


def path(grid, slope_at, start=0.9):
    """Scores from `start` whose step i has slope slope_at(i, mid sparsity of the step)."""
    out = [start]
    for i, (s, t) in enumerate(zip(grid, grid[1:])):
        out.append(out[-1] + slope_at(i, (s + t) / 2) * (t - s))
    return out


@pytest.mark.parametrize("grid", [BENCHMARK_GRID, UNEVEN_GRID], ids=["benchmark grid", "uneven grid"])
def test_collapse_detector_judges_the_path_not_the_spacing_of_its_grid(grid):
    for sign in (-1, 1):  # the score falling (images) or rising (the paper's classes)
        linear = [0.5 + sign * 0.4 * s for s in grid]
        assert collapse_steps(linear, grid) == [], "a linear path on a wide-then-narrow grid"
        curved = [0.5 + sign * 0.3 * s * s for s in grid]
        assert collapse_steps(curved, grid) == [], "gently accelerating"
        bent = [0.5 + sign * 0.4 * s ** 0.5 for s in grid]
        assert collapse_steps(bent, grid) == [], "gently decelerating"
        for k in range(len(grid) - 1):  # one step four times as steep as the rest of the path
            broken = path(grid, lambda i, _: sign * 0.8 * (4 if i == k else 1))
            assert collapse_steps(broken, grid, min_jump=0.01) == [k], (sign, k)


def test_collapse_detector_flags_a_break_on_the_last_narrow_step_but_not_noise_there():
    # the shape of the benchmark's measured path: slopes steepening smoothly towards 98%
    smooth = path(BENCHMARK_GRID, lambda _, mid: -0.06 / (1 - mid))
    assert collapse_steps(smooth, BENCHMARK_GRID) == []
    assert collapse_steps([1 - v for v in smooth], BENCHMARK_GRID) == [], "the same path rising"
    last = len(BENCHMARK_GRID) - 2  # 97% -> 98%
    broken = path(BENCHMARK_GRID, lambda i, mid: -0.06 / (1 - mid) * (4 if i == last else 1))
    assert collapse_steps(broken, BENCHMARK_GRID) == [last], "four times as steep over the last 1%"
    assert collapse_steps([1 - v for v in broken], BENCHMARK_GRID) == [last]
    jitter = smooth[:-1] + [smooth[-1] - 0.02]  # steep in slope, but 0.02 of score: below min_jump
    assert collapse_steps(jitter, BENCHMARK_GRID) == []
    assert collapse_steps(jitter, BENCHMARK_GRID, min_jump=0.01) == [last], "min_jump is a change of the score"
    assert collapse_steps(smooth + [smooth[-1]], BENCHMARK_GRID + [0.98]) == [], "a step of no sparsity is left out"


TRAIN = TrainSpec(model="mlp_32_16", dataset="synthetic", duration="2ep", batch_size=32, lr=0.05, momentum=0.9)


def test_similarity_of_imp_controls_seeds_and_pai_methods(runs_dir, capsys):
    imps = [ImpSpec(train=TRAIN.replace(seed=s), levels=3, controls=("reinit", "random", "oneshot")) for s in (0, 1)]
    for spec in imps:
        api.run(spec, runs_dir=runs_dir)
    store = RunStore(runs_dir)
    one = groups_from_runs([store.open(imps[0].run_id)])
    assert [key for key, _, _ in one] == ["level 1", "level 2", "level 3"]
    assert set(one[0][2]) == {"imp s0", "random s0", "oneshot s0"}, "reinit shares the ticket's mask"
    points = similarity_path(groups_from_runs([store.open(s.run_id) for s in imps]))
    assert set(points[0].names) == {"imp s0", "random s0", "oneshot s0", "imp s1", "random s1", "oneshot s1"}
    ticket_vs_oneshot = points[0].matrix[points[0].names.index("imp s0")][points[0].names.index("oneshot s0")]
    ticket_vs_random = points[0].matrix[points[0].names.index("imp s0")][points[0].names.index("random s0")]
    assert ticket_vs_oneshot > ticket_vs_random, "magnitude masks overlap more than random ones"
    density = store.open(imps[0].run_id).result()["levels"][2]["density"]
    pais = [PaiSpec(train=TRAIN, method=m, density=density) for m in ("snip", "random")]
    for spec in pais:
        api.run(spec, runs_dir=runs_dir)
    mixed = groups_from_runs([store.open(imps[0].run_id)] + [store.open(s.run_id) for s in pais])
    assert set(mixed[1][2]) == {"imp s0", "random s0", "oneshot s0", "snip s0", "random s0 (2)"}
    out = runs_dir.parent / "sim"
    assert main(["similarity", imps[0].run_id, imps[1].run_id, "--runs-dir", str(runs_dir), "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "level 2" in text and (out / "jaccard_level_2.png").is_file() and (out / "similarity_path.png").is_file()
    report = json.loads((out / "similarity.json").read_text())
    level_mask = store.open(imps[0].run_id).child("level_01").load_mask("mask.safetensors")
    assert len(report["points"]) == 3 and set(report["points"][0]["layer_mean_jaccard"]) == set(level_mask)
    train = api.run(TRAIN, runs_dir=runs_dir)
    assert main(["similarity", train.run_id, "--runs-dir", str(runs_dir)]) == 2
    assert "similarity reads the masks" in capsys.readouterr().err
    assert main(["similarity", pais[0].run_id, "--runs-dir", str(runs_dir), "-o", str(out)]) == 2
    assert "two masks" in capsys.readouterr().err
