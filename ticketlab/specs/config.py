"""Config files: the spec a YAML file describes (`ticketlab run CONFIG.yaml`, a sweep's base)."""
from __future__ import annotations

from ..core.errors import SpecError
from .base import Spec, spec_from_dict
from .yaml_text import read_text, read_yaml


def load_spec_file(path: str) -> Spec:
    """The spec a YAML config file describes (`ticketlab run CONFIG.yaml`)."""
    data = read_yaml(read_text(path), path)
    if not isinstance(data, dict):
        raise SpecError(f"{path} must hold a mapping of settings (with 'kind: train' or another kind).")
    return spec_from_dict(data)

