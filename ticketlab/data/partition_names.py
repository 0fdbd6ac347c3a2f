"""The grammar of a partition's name (`class`, `mapping`, `cluster:K[:features]`,
`environment[:C1,C2,...]`), without torch, so that a spec checks it cheaply."""
from __future__ import annotations

from ..core.errors import SpecError

KINDS = ("class", "mapping", "cluster", "environment")
DEFAULT_ENVIRONMENTS = ("gaussian_noise", "defocus_blur", "contrast")
# The corruptions of corruptions.py, by name (a test holds the two equal).
CORRUPTION_NAMES = ("gaussian_noise", "shot_noise", "impulse_noise", "defocus_blur", "contrast", "brightness",
                    "pixelate")


def parse_partition(text: str) -> tuple[str, list[str]]:
    """'cluster:10' -> ('cluster', ['10']); a clear error for an unknown kind."""
    kind, *args = str(text).split(":")
    if kind not in KINDS:
        raise SpecError(f"Unknown partition '{text}'. Use class, mapping (with a class -> group file), cluster:K, "
                        "cluster:K:features, environment or environment:CORRUPTION,...")
    if kind == "cluster":
        if not args or not args[0].isdecimal() or not args[0].isascii() or int(args[0]) < 2 or len(args) > 2 or \
                (len(args) == 2 and args[1] != "features"):
            raise SpecError(f"Malformed partition '{text}': write cluster:K (K >= 2 clusters of the inputs) or "
                            "cluster:K:features (of a trained dense model's penultimate features).")
    if kind == "environment" and args:
        names = [c for c in args[0].split(",") if c]
        unknown = [c for c in names if c not in CORRUPTION_NAMES]
        if unknown or not names or len(args) > 1:
            raise SpecError(f"Malformed partition '{text}': name corruptions after 'environment:', from "
                            f"{', '.join(sorted(CORRUPTION_NAMES))}.")
    if kind in ("class", "mapping") and args:
        raise SpecError(f"Partition '{kind}' takes no arguments; a mapping's groups come from its file.")
    return kind, args
