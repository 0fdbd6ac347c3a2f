"""A seeded fuzz of the spec layer and of the method commands' flags.

Random YAML documents (dicts dumped with `yaml.safe_dump`, and raw YAML text) go through
the entry `ticketlab run CONFIG.yaml` uses (`load_spec_file`) and through `spec_from_dict`;
random argument lists go through `ticketlab.cli.main.main` with the runner replaced, so no
case trains. Every case either builds a spec (which then survives its own dict and hash)
or is refused with a one-line `TicketlabError`; nothing else may escape. A failure prints
the document or the argument list that broke it.
"""
import contextlib
import copy
import dataclasses
import importlib
import io
import json
import random
import traceback

import pytest
import yaml

from ticketlab.cli import running
from ticketlab.cli.parser import build_parser
from ticketlab.core.errors import TicketlabError
from ticketlab.methods import METHODS
from ticketlab.specs import SPEC_KINDS, Spec, load_spec_file, spec_from_dict
from ticketlab.specs.values import type_hints

cli_main = importlib.import_module("ticketlab.cli.main")  # the module: the package exports its `main` by that name

TRAIN = {"model": "mlp_16", "dataset": "synthetic", "duration": "8it"}
IMP = {"train": TRAIN, "levels": 2}
IMP_VAL = {"train": {**TRAIN, "val_size": 8}, "levels": 3}
# A valid spec of each built-in kind: most cases change a few of its settings.
BASES = {
    "train": TRAIN,
    "imp": IMP,
    "pai": {"train": TRAIN, "method": "snip", "density": 0.3},
    "dst": {"train": TRAIN, "method": "rigl", "density": 0.3, "update_every": "2it"},
    "rst": {"train": TRAIN, "density": 0.3},
    "supermask": {"train": TRAIN, "density": 0.3},
    "early_bird": {"train": TRAIN, "density": 0.3, "structure": "weights"},
    "lmc": {"source": IMP, "level": 1},
    "pools": {"source": IMP_VAL, "targets": [1]},
    "elastic": {"source": IMP, "level": 1, "target": "mlp_32"},
    "rtl": {"train": TRAIN},
    "rtl_inr": {},
}

NUMBERS = [0, 1, -1, 2, 3, 5, 7, 64, 0.5, 0.3, 0.999, 1.0, 1.5, -0.5, -0.0, 1e-12, 1e-320, 1e300, -1e300,
           10**30, -10**30, 2**63, 2**64, 10**400, float("inf"), float("-inf"), float("nan")]
TEXTS = ["", " ", "x", "10ep", "0it", "8it", "2it", "1e30ep", "9" * 30 + "ep", "9" * 13 + "it", "-1ep", "1.5ep",
         "ep", "init", "lr", "lr:2it", "finetune", "finetune:x", "2:4", "0:4", "4:2", "1:1", "9" * 25 + ":" + "9" * 26,
         "global", "layerwise", "class", "mapping", "cluster:3", "cluster:1", "cluster:\u00b2", "cluster:3:features",
         "cluster:3:x", "cluster:", "environment", "environment:fog", "environment:nope", "environment:", "skimage:",
         "grace_hopper", "snip", "synflow", "random", "rigl", "set", "erk", "uniform", "mlp_16", "mlp_0", "mlp_",
         "mlp_16_16", "mlp_" + "9" * 30, "conv4", "cifar_resnet_20", "cifar_resnet_-1", "lenet5", "vgg16",
         "synthetic", "mnist1d", "sgd", "adam", "cosine", "multistep", "output", "first", "*", "output=0.1",
         "output=inf", "output=nan", "=0.5", "output=", "0:0;1:1", "0:0|1:1", "0:", ";", "|", "append",
         "interpolate", "reinit", "oneshot", "best", "final", "average", "swa_after", "1,2", "0.1,0.5", "a,b", ",",
         "\u00fcn\u00efc\u00f6d\u00e9", "\u65e5\u672c\u8a9e", "\u202e", "\x00", "a\nb", "\t", "\u2028",
         "\U0001d7d7ep", "\u0663ep", "true", "null", "-", ".inf", "1e5", "0x10", "1_000", "kaiming_normal"]
UNKNOWN_KEYS = ["learning_rate", "lr ", "LR", "train.", ".lr", "k\u00eby", "\u65e5", "", "a\nb", "__class__", "kind2"]


def random_value(rng: random.Random, depth: int = 0):
    roll = rng.random()
    if roll < 0.35:
        return rng.choice(NUMBERS) if rng.random() < 0.7 else rng.choice([rng.uniform(-2, 2), rng.randint(-5, 40)])
    if roll < 0.65:
        return rng.choice(TEXTS) if rng.random() < 0.8 else "".join(chr(rng.randint(1, 0x2FFF)) for _ in range(4))
    if roll < 0.73:
        return rng.random() < 0.5
    if roll < 0.78:
        return None
    if roll < 0.88 and depth < 3:
        return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    if roll < 0.95 and depth < 3:
        if rng.random() < 0.5:  # a spec where another is expected, or a mapping where a scalar is
            kind = rng.choice(list(BASES))
            return {"kind": kind, **copy.deepcopy(BASES[kind])} if rng.random() < 0.5 else copy.deepcopy(BASES[kind])
        return {rng.choice(UNKNOWN_KEYS + ["model", "lr", "kind"]): random_value(rng, depth + 1)
                for _ in range(rng.randint(0, 3))}
    return ",".join(str(rng.choice(NUMBERS)) for _ in range(rng.randint(1, 3)))


def field_paths(cls: type[Spec], prefix: tuple = ()) -> list[tuple[tuple, type[Spec]]]:
    """Every field of `cls` and of the specs it nests, as (path, owner class)."""
    out = []
    hints = type_hints(cls)
    for f in dataclasses.fields(cls):
        out.append((prefix + (f.name,), cls))
        hint = hints.get(f.name)
        if isinstance(hint, type) and issubclass(hint, Spec) and len(prefix) < 2:
            out += field_paths(hint, prefix + (f.name,))
    return out


def mutate(rng: random.Random, kind: str) -> dict:
    doc = {"kind": kind, **copy.deepcopy(BASES[kind])}
    paths = field_paths(SPEC_KINDS[kind])
    for _ in range(rng.randint(1, 3)):
        roll = rng.random()
        path, _ = rng.choice(paths)
        holder = doc
        for name in path[:-1]:
            if not isinstance(holder.get(name), dict):
                holder[name] = {}
            holder = holder[name]
        if roll < 0.7:
            holder[path[-1]] = random_value(rng)
        elif roll < 0.8:
            holder.pop(path[-1], None)
        elif roll < 0.9:
            key = rng.choice(UNKNOWN_KEYS + [1, 2.5, None, True])
            holder[key] = random_value(rng)
        else:
            holder[rng.choice(["kind", "version"])] = rng.choice([random_value(rng), rng.choice(list(BASES)), 1, 2])
    return doc


RAW_VALUES = [".inf", "-.inf", ".nan", ".NaN", "1e400", "-1e400", "0x1F", "0o17", "1_000", "12:30", "2001-01-01",
              "!!binary aGVsbG8=", "!!set {a, b}", "!!python/object:os.system", "&a 1", "*a", "*nowhere", "[1, [2]]",
              "{a: {b: c}}", "'quoted'", '"esc\\u2028aped"', "null", "~", "yes", "no", "on", "'", "[", "{", "]",
              "!!int x", "!!float abc", "!!str 3", "[.inf, .nan]", "[0.1, 1.5]", "{kind: imp}", "- x", "? [a]",
              "|\n  block\n", "0.05", "-1", "3", "10ep", "mlp_16", "synthetic", '"a\\nb"', "\t1", "%", "@x", "`"]


def raw_yaml(rng: random.Random) -> str:
    kind = rng.choice(list(BASES))
    lines = [yaml.safe_dump({"kind": kind, **BASES[kind]})] if rng.random() < 0.7 else []
    keys = [p[-1] for p, _ in field_paths(SPEC_KINDS[kind])] + UNKNOWN_KEYS[:3] + ["kind", "version", "<<", "? x"]
    for _ in range(rng.randint(1, 4)):
        lines.append(f"{rng.choice(keys)}: {rng.choice(RAW_VALUES)}\n")
    if rng.random() < 0.1:
        lines.insert(0, rng.choice(["---\n", "%YAML 1.1\n---\n", "- a\n", "just text\n", "...\n", "--- |\n"]))
    if rng.random() < 0.05:
        lines.append(rng.choice(["---\nkind: train\n", "\x00\n", "\ufeffkind: x\n", "  bad: indent\n"]))
    return "".join(lines)


def attempt(build, shown: str) -> str:
    """'built' or 'refused'; fails on any other outcome, printing the case."""
    try:
        spec = build()
    except TicketlabError as err:
        message = str(err)
        assert message and len(message.splitlines()) == 1, f"a message of {len(message.splitlines())} lines for:\n" \
                                                          f"{shown}\n{message}"
        return "refused"
    except Exception:  # noqa: BLE001 - the point: nothing but a TicketlabError may escape
        pytest.fail(f"an exception other than TicketlabError escaped for:\n{shown}\n{traceback.format_exc()}")
    json.dumps(spec.canonical(), allow_nan=False)  # what the run id hashes holds only finite numbers
    assert spec_from_dict(spec.to_dict()) == spec, f"the spec does not survive its dict:\n{shown}"
    return "built"


def test_every_built_in_kind_is_fuzzed():
    assert set(BASES) <= set(SPEC_KINDS)
    assert {k for k, c in SPEC_KINDS.items() if c.__module__.startswith("ticketlab.")} <= set(BASES)
    assert all(isinstance(spec_from_dict({"kind": k, **d}), SPEC_KINDS[k]) for k, d in BASES.items())


def test_random_spec_documents(tmp_path):
    rng, outcomes = random.Random(0), []
    path = tmp_path / "config.yaml"
    for case in range(2500):
        doc = mutate(rng, rng.choice(list(BASES)))
        if case % 2:
            outcomes.append(attempt(lambda: spec_from_dict(doc), repr(doc)))
            continue
        text = yaml.safe_dump(doc, allow_unicode=rng.random() < 0.5)
        path.write_text(text, encoding="utf-8")
        outcomes.append(attempt(lambda: load_spec_file(str(path)), text))
    assert 100 < outcomes.count("built") < len(outcomes) - 100, "the fuzz should both build and refuse specs"


def test_random_yaml_text(tmp_path):
    rng, outcomes = random.Random(0), []
    path = tmp_path / "config.yaml"
    for _ in range(1500):
        text = raw_yaml(rng)
        path.write_bytes(text.encode("utf-8", "surrogatepass"))
        outcomes.append(attempt(lambda: load_spec_file(str(path)), text))
    assert outcomes.count("built") > 0 and outcomes.count("refused") > 300


def test_unreadable_config_files(tmp_path):
    cases = {"deep.yaml": ("[" * 1200 + "]" * 1200).encode(), "latin1.yaml": "lr: caf\xe9\n".encode("latin-1"),
             "folder.yaml": None}
    for name, data in cases.items():
        path = tmp_path / name
        path.mkdir() if data is None else path.write_bytes(data)
        assert attempt(lambda: load_spec_file(str(path)), name) == "refused"


# The method commands, against a runs folder holding two IMP runs (spec.json alone: the
# commands read a run's spec, and none of these lines trains anything).
def _runs_folder(root):
    ids = []
    for data in (IMP, IMP_VAL):
        spec = spec_from_dict({"kind": "imp", **data})
        (root / spec.run_id).mkdir(parents=True)
        (root / spec.run_id / "spec.json").write_text(json.dumps({"kind": "imp", **spec.canonical()}))
        ids.append(spec.run_id)
    return ids


FLAG_VALUES = {"--model": ["mlp_16", "mlp_32"], "--dataset": ["synthetic"], "--method": ["snip", "rigl", "set"],
               "--density": ["0.3", "0.1"], "--densities": ["0.1,0.3"], "--level": ["1"], "--target": ["1", "mlp_32"]}
SET_KEYS = ["lr", "train.lr", "seed", "train.seed", "levels", "momentum", "batch_size", "duration", "milestones",
            "train.train.lr", "source.levels", "density", "sparsities", "alphas", "lr ", "\u00fc", "=", "kind",
            "version"]


def _flag_value(rng: random.Random, flag: str) -> str:
    if flag in FLAG_VALUES and rng.random() < 0.7:
        return rng.choice(FLAG_VALUES[flag])
    if rng.random() < 0.5:
        return str(rng.choice(NUMBERS))
    value = rng.choice(TEXTS + RAW_VALUES + [",".join(map(str, rng.sample(NUMBERS, 2)))])
    value = value.replace("\x00", "")  # a NUL cannot be in a process's arguments
    # A flag's comma list is read on the command line's side, whose messages quote it as
    # given; line breaks reach the spec layer's own checks through --set and the documents.
    return value if flag == "--set" else "".join(value.splitlines())


def random_line(rng: random.Random, commands: dict, run_ids: list[str]) -> list[str]:
    name = rng.choice(sorted(commands))
    parser, line = commands[name], [name]
    actions = [a for a in parser._actions if a.option_strings and a.dest != "help"
               and getattr(a.container, "title", None) != "running"]
    for action in actions:
        if action.required and rng.random() < 0.9 or rng.random() < 0.15:
            flag = rng.choice(action.option_strings)
            line += [flag] if action.nargs == 0 else [flag, _flag_value(rng, flag)]
    if any(not a.option_strings for a in parser._actions):  # the run a command reads
        line.insert(1, rng.choice(run_ids * 4 + [run_ids[0][:7], "imp-", "nosuchrun", "/"]))
    for _ in range(rng.choice([0, 0, 1, 2])):
        line += ["--set", f"{rng.choice(SET_KEYS)}={_flag_value(rng, '--set')}"]
    if rng.random() < 0.05:
        line.insert(rng.randint(1, len(line)), rng.choice(["--nope", "-x", "--", "--set"]))
    return line


def test_random_command_lines(tmp_path, monkeypatch):
    runs = tmp_path / "runs"
    run_ids = _runs_folder(runs)
    parser = build_parser()
    commands = {m.command: parser._subparsers._group_actions[0].choices[m.command] for m in METHODS.values()
                if m.command}
    built = []
    monkeypatch.setattr(cli_main, "build_parser", lambda: parser)  # one grammar for every line: fast
    monkeypatch.setattr(running, "run_specs", lambda specs, args: built.append(specs) or 0)
    rng, codes = random.Random(0), []
    for _ in range(1500):
        line = random_line(rng, commands, run_ids)
        codes.append(_exit_code([*line, "--runs-dir", str(runs)]))
    assert codes.count(0) > 50 and codes.count(2) > 300, (codes.count(0), codes.count(2))
    assert all(isinstance(s, Spec) for specs in built for s in specs)


def _exit_code(line: list[str]) -> int:
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli_main.main(line)
    except SystemExit as done:  # argparse's own refusal: usage, then its error
        assert done.code == 2 and "error:" in err.getvalue(), f"{line}\n{err.getvalue()}"
        return 2
    except Exception:  # noqa: BLE001 - the point: nothing may escape the command line
        pytest.fail(f"an exception escaped the command line for {line}:\n{traceback.format_exc()}")
    text = err.getvalue()
    assert code in (0, 2), f"exit {code} for {line}:\n{text}"
    if code == 2:
        assert text.startswith("ticketlab: error: ") and len(text.strip().splitlines()) == 1, f"{line}\n{text}"
        assert "Traceback" not in text, f"{line}\n{text}"
    return code
