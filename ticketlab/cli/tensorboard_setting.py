"""Where a command's runs write their TensorBoard curves: --tensorboard, else the config
file's `tensorboard` key (`ticketlab run`), else $TICKETLAB_TENSORBOARD, else nowhere."""
from __future__ import annotations

import os
from collections.abc import Mapping

from ..store.scalars import TENSORBOARD_ENV
from .common import TENSORBOARD_FOLDER
from .files import OUT_FOLDER, PathArg, check


def tensorboard_setting(flag: str | None, config: str | None = None, config_path: str | None = None,
                        environ: Mapping[str, str] = os.environ) -> str | None:
    """The folder, or None (off). The flag was checked as it was parsed; a folder from the
    config or the environment is checked here, before any run starts. An empty
    environment variable counts as unset."""
    if flag is not None:
        return flag
    if config is not None:
        label = f"the key 'tensorboard' of {config_path}" if config_path else "the config key 'tensorboard'"
        check(config, PathArg(OUT_FOLDER, label, "TensorBoard folder", TENSORBOARD_FOLDER))
        return config
    text = environ.get(TENSORBOARD_ENV, "").strip()
    if not text:
        return None
    check(text, PathArg(OUT_FOLDER, f"${TENSORBOARD_ENV}", "TensorBoard folder", TENSORBOARD_FOLDER))
    return text
