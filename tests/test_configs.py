"""Every shipped config parses, validates, and its model fits its dataset."""
from pathlib import Path

import pytest

from ticketlab.specs import load_spec_file

CONFIGS = sorted((Path(__file__).resolve().parent.parent / "configs").glob("*.yaml"))


def test_there_are_configs():
    assert len(CONFIGS) >= 3


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_config_is_valid(path):
    spec = load_spec_file(str(path))
    spec.preflight()
    assert spec.kind
