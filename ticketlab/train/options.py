"""How a run may train without changing its result: the compile modes and precisions.

Neither is part of a spec (they change speed, not results beyond float tolerance); both
are checked here, without torch, so the CLI and a sweep refuse a bad value at once.
`device.precision_policy` says what each precision means.
"""
from __future__ import annotations

from ..core.errors import UnknownNameError

COMPILE_MODES = ("default", "reduce-overhead", "max-autotune")
PRECISIONS = ("auto", "fp32", "bf16")


def check_options(compile: str | None, precision: str = "auto") -> None:
    if compile is not None and compile not in COMPILE_MODES:
        raise UnknownNameError("compile mode", compile, list(COMPILE_MODES))
    if precision not in PRECISIONS:
        raise UnknownNameError("precision", precision, list(PRECISIONS))
