"""Reading YAML (a config file, a `--set` value) into plain data, every failure a one-line
`SpecError`: the command line prints it as one line, with where and what went wrong."""
from __future__ import annotations

from typing import Any

import yaml

from ..core.errors import SpecError


def read_text(path: str) -> str:
    """The text of a config file, or an error that names the file and why it cannot be read."""
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except FileNotFoundError:
        raise SpecError(f"No config file at {path}.") from None
    except UnicodeDecodeError as err:
        raise SpecError(f"{path} is not UTF-8 text (byte {err.start} cannot be read); a config file is YAML "
                        "text.") from None
    except OSError as err:
        raise SpecError(f"Cannot read the config file {path} ({err.strerror or err}); name a readable YAML "
                        "file.") from None


def read_yaml(text: str, where: str) -> Any:
    """`text` parsed as YAML (safe: plain data only); `where` names it in the error."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise SpecError(f"{where} is not valid YAML: {problem(err)}.") from None
    except (ValueError, TypeError) as err:  # a tag's constructor refusing its text, e.g. `!!int x`
        raise SpecError(f"{where} is not valid YAML: a tagged value cannot be read ({problem(err)}).") from None
    except RecursionError:  # the parser recurses once per level of nesting
        raise SpecError(f"{where} nests lists or mappings too deeply to read as YAML; a spec nests a few "
                        "levels at most.") from None


def problem(err: Exception) -> str:
    """What the YAML parser found and where, on one line (its own message spans several)."""
    mark = getattr(err, "problem_mark", None)
    what = " ".join(str(getattr(err, "problem", None) or err).split())
    return f"{what} (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else what


def parse_overrides(assignments: list[str]) -> dict[str, Any]:
    """`key=value` strings (`--set`) as {key: value}: keys with '_' for '-', values parsed as
    YAML scalars (an empty value is the empty string)."""
    changes: dict[str, Any] = {}
    for item in assignments:
        key, sep, raw = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise SpecError(f"Malformed --set {item!r}: write key=value, e.g. --set lr=0.05.")
        changes[key] = read_yaml(raw, f"The value of --set {shown(key)}") if raw.strip() else ""
    return changes


def shown(text: Any) -> str:
    """A name as a message quotes it: plain when printable text, else as Python writes it
    (so that a line break in it cannot break the one-line message)."""
    return text if isinstance(text, str) and text.isprintable() else repr(text)
