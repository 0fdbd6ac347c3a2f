import math

import pytest
import torch

from ticketlab.core.errors import SpecError, UnknownNameError
from ticketlab.train.duration import Duration, to_steps
from ticketlab.train.metrics import confusion_matrix, summarize
from ticketlab.train.schedule import lr_factor


@pytest.mark.parametrize("text,steps", [("40ep", 40 * 469), ("2000it", 2000), (" 3 ep", 3 * 469), (7, 7)])
def test_durations(text, steps):
    assert to_steps(text, 469) == steps


@pytest.mark.parametrize("bad", ["40", "ep", "4.5ep", "-3it", "10epochs", ""])
def test_malformed_durations_say_how_to_write_them(bad):
    with pytest.raises(SpecError, match="'40ep' or '2000it'"):
        Duration.parse(bad)


def test_schedules():
    multistep = lr_factor("multistep", total_steps=100, milestones=[50, 75], gamma=0.1)
    assert [multistep(s) for s in (0, 49, 50, 74, 75, 99)] == pytest.approx([1, 1, 0.1, 0.1, 0.01, 0.01])
    cosine = lr_factor("cosine", total_steps=100)
    assert cosine(0) == 1.0 and cosine(50) == pytest.approx(0.5) and cosine(100) == pytest.approx(0.0)
    warm = lr_factor("constant", total_steps=100, warmup_steps=4)
    assert [warm(s) for s in range(6)] == pytest.approx([0.25, 0.5, 0.75, 1, 1, 1])
    with pytest.raises(UnknownNameError, match="constant, multistep, cosine"):
        lr_factor("linear-ish", total_steps=10)


def test_metrics_from_confusion():
    targets = torch.tensor([0, 0, 0, 0, 1, 1, 2, 2])
    preds = torch.tensor([0, 0, 0, 1, 1, 0, 2, 2])
    conf = confusion_matrix(preds, targets, 4)
    assert conf[0, 0] == 3 and conf[0, 1] == 1 and conf.sum() == 8
    m = summarize(conf, loss_sum=4.0)
    assert m["loss"] == 0.5
    assert m["accuracy"] == pytest.approx(6 / 8)
    # recall: class0 3/4, class1 1/2, class2 1; class 3 absent -> excluded from the balance
    assert m["balanced_accuracy"] == pytest.approx((0.75 + 0.5 + 1) / 3)
    assert m["per_class_recall"][:3] == pytest.approx([0.75, 0.5, 1.0]) and m["per_class_recall"][3] is None
    assert m["per_class_precision"][:3] == pytest.approx([0.75, 0.5, 1.0])
    assert not any(isinstance(v, float) and math.isnan(v) for v in m["per_class_precision"])
