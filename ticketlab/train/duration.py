"""Training durations written as `40ep` (epochs) or `2000it` (iterations)."""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..core.errors import SpecError

_PATTERN = re.compile(r"^\s*([0-9]+)\s*(ep|it)\s*$")
# Far beyond any training (a trillion epochs or iterations), and small enough that a
# step count stays a 64-bit integer wherever it is used.
MAX_AMOUNT = 10**12


@dataclass(frozen=True)
class Duration:
    amount: int
    unit: str  # 'ep' or 'it'

    @classmethod
    def parse(cls, text: str | int) -> "Duration":
        if isinstance(text, int) and not isinstance(text, bool):
            text = f"{text}it"
        match = _PATTERN.match(str(text))
        if not match:
            raise SpecError(
                f"Malformed duration {str(text)!r}: write a whole number followed by 'ep' for epochs "
                "or 'it' for iterations, e.g. '40ep' or '2000it'.")
        digits = match.group(1).lstrip("0") or "0"  # counted first: int() refuses thousands of digits
        if len(digits) > len(str(MAX_AMOUNT)) or int(digits) > MAX_AMOUNT:
            raise SpecError(f"Duration {str(text).strip()!r} is too long: write at most {MAX_AMOUNT} epochs or "
                            "iterations, e.g. '40ep' or '2000it'.")
        return cls(int(digits), match.group(2))

    def steps(self, steps_per_epoch: int) -> int:
        return self.amount * steps_per_epoch if self.unit == "ep" else self.amount

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"


def to_steps(text: str | int, steps_per_epoch: int) -> int:
    return Duration.parse(text).steps(steps_per_epoch)
