"""Config files: the spec a YAML file describes (`ticketlab run CONFIG.yaml`, a sweep's base),
and the run settings beside it."""
from __future__ import annotations

from ..core.errors import SpecError
from .base import Spec, spec_from_dict
from .yaml_text import read_text, read_yaml

# Top-level keys of a config file that are not spec settings: how a run is watched, not
# what it computes, so they never enter the spec or its hash. Each is a folder path.
RUN_SETTINGS = {"tensorboard": "the folder for live TensorBoard curves"}


def load_config(path: str) -> tuple[Spec, dict[str, str]]:
    """The spec a YAML config file describes, and its run settings (`RUN_SETTINGS`) given."""
    data = read_yaml(read_text(path), path)
    if not isinstance(data, dict):
        raise SpecError(f"{path} must hold a mapping of settings (with 'kind: train' or another kind).")
    data = dict(data)
    settings = {key: data.pop(key) for key in RUN_SETTINGS if key in data}
    for key, value in settings.items():
        if not isinstance(value, str) or not value.strip():
            raise SpecError(f"{path}: '{key}' is {RUN_SETTINGS[key]}, a folder path such as runs/curves; "
                            f"got {value!r}.")
    return spec_from_dict(data), settings


def load_spec_file(path: str) -> Spec:
    """The spec a YAML config file describes (`ticketlab run CONFIG.yaml`); its run
    settings, which are not part of any spec, are left aside (`load_config` gives them)."""
    return load_config(path)[0]
