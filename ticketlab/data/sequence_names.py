"""Names of the generated sequence datasets, parsed without numpy or torch (specs check them).

    modular_add_97        (a + b) mod 97 on the tokens [a, op, b, =], half of all pairs to train
    modular_div_97_30     a / b mod 97, 30% of the pairs to train
    parity_20_3           20 random bits, labelled by the XOR of 3 secret ones; 10000 to train
    parity_20_3_1000      the same with 1000 training examples
    listops_64            nested MAX/MIN/MED/SM expressions of at most 64 tokens

The arrays are made by `modular.py`, `parity.py` and `listops.py`, which cite the papers
they follow and say where they differ. Numbers are whole numbers written plainly (no
sign, no leading zero) and a default is never written out, so that two spellings never
name one dataset (nor give two run ids). A name with a family's prefix that does not
parse is a clear error naming what is valid; `register_dataset` refuses a name that
parses (the family owns it).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..core.errors import UnknownNameError
from .info import DatasetInfo

OPS = ("add", "sub", "mul", "div")
MIN_PRIME, MAX_PRIME, DEFAULT_PERCENT = 3, 997, 50
MAX_BITS, PARITY_TRAIN, PARITY_TEST, MAX_PARITY_TRAIN = 64, 10000, 2000, 1_000_000
MIN_LENGTH, MAX_LENGTH, LISTOPS_TRAIN, LISTOPS_TEST = 8, 512, 8000, 2000
LISTOPS_VOCAB = 17  # PAD, ten digits, four operators, '[' and ']' (the ids are in listops.py)

# family -> (pattern, example, what it is); the patterns are what error messages offer
FAMILIES = {
    "modular": ("modular_{add,sub,mul,div}_P[_F]", "modular_add_97",
                f"(a op b) mod P on the tokens [a, op, b, =] (vocabulary P+2), P classes; P a prime from "
                f"{MIN_PRIME} to {MAX_PRIME}, F the percent of all pairs that train (1-99, default "
                f"{DEFAULT_PERCENT}), the rest test"),
    "parity": ("parity_N_K[_T]", "parity_20_3",
               f"N random bits (vocabulary 2) labelled by the XOR of K secret ones, 2 classes; "
               f"1 <= K <= N <= {MAX_BITS}, T training examples (default {PARITY_TRAIN}, at most "
               f"{MAX_PARITY_TRAIN}), {PARITY_TEST} test"),
    "listops": ("listops_L", "listops_64",
                f"nested MAX/MIN/MED/SM expressions over digits in at most L tokens, PAD-padded "
                f"(vocabulary {LISTOPS_VOCAB}), labelled by their value, 10 classes; L from {MIN_LENGTH} to "
                f"{MAX_LENGTH}, {LISTOPS_TRAIN} train, {LISTOPS_TEST} test"),
}
SEQUENCE_PATTERNS = [pattern for pattern, _, _ in FAMILIES.values()]
_NUMBER = re.compile(r"[1-9][0-9]*")


class BadSequenceName(UnknownNameError):
    """A name of a sequence family that does not parse: what was given, and what is valid."""

    def __init__(self, name: str, family: str, problem: str):
        pattern, example, _ = FAMILIES[family]
        Exception.__init__(self, f"Malformed dataset name '{name}': {problem}. A {family} dataset is named "
                                 f"{pattern}, e.g. {example}.")


@dataclass(frozen=True)
class SequenceDataset:
    """A parsed name: its info, and the generator call that makes its arrays (the loader)."""
    info: DatasetInfo
    family: str  # whose module's `generate` makes the arrays
    args: tuple

    def __call__(self) -> tuple:
        """(x_train, y_train, x_test, y_test), generated now."""
        from . import listops, modular, parity
        return {"modular": modular, "parity": parity, "listops": listops}[self.family].generate(*self.args)


def _number(name: str, family: str, word: str, what: str, low: int, high: int) -> int:
    if not _NUMBER.fullmatch(word):
        raise BadSequenceName(name, family, f"{what} is a positive whole number written plainly (no sign, no "
                                            f"leading zero); got {word!r}")
    value = int(word) if len(word) <= 9 else high + 1
    if not low <= value <= high:
        raise BadSequenceName(name, family, f"{what} = {word} is out of range: it is from {low} to {high}")
    return value


def _is_prime(n: int) -> bool:
    return n >= 2 and all(n % d for d in range(2, int(n ** 0.5) + 1))


def _info(name: str, length: int, classes: int, train: int, test: int, vocab: int) -> DatasetInfo:
    # mean 0, std 1: normalization leaves the token ids exact
    return DatasetInfo(name, (length,), classes, (0.0,), (1.0,), augment=False, crop_padding=0, flip=False,
                       train_size=train, test_size=test, vocab_size=vocab)


def _modular(name: str, words: list[str]) -> SequenceDataset:
    if len(words) not in (2, 3):
        raise BadSequenceName(name, "modular", "it takes an operation, a prime P and optionally the train percent F")
    op = words[0]
    if op not in OPS:
        raise BadSequenceName(name, "modular", f"'{op}' is not an operation; the operations are {', '.join(OPS)}")
    p = _number(name, "modular", words[1], "P", MIN_PRIME, MAX_PRIME)
    if not _is_prime(p):
        below = max(q for q in range(MIN_PRIME, p) if _is_prime(q)) if p > MIN_PRIME else None
        above = min(q for q in range(p + 1, MAX_PRIME + 1) if _is_prime(q)) if p < MAX_PRIME else None
        near = " or ".join(str(q) for q in (below, above) if q is not None)
        raise BadSequenceName(name, "modular", f"P = {p} is not a prime (the nearest: {near}); P is a prime "
                                               f"from {MIN_PRIME} to {MAX_PRIME}")
    percent = DEFAULT_PERCENT
    if len(words) == 3:
        percent = _number(name, "modular", words[2], "F (the train percent)", 1, 99)
        if percent == DEFAULT_PERCENT:
            raise BadSequenceName(name, "modular", f"{DEFAULT_PERCENT} is the default train percent: write "
                                                   f"modular_{op}_{p} (one name per dataset)")
    total = p * (p - 1) if op == "div" else p * p
    train = min(max((percent * total + 50) // 100, 1), total - 1)  # rounded half up, one example each side
    return SequenceDataset(_info(name, 4, p, train, total - train, p + 2), "modular", (op, p, train))


def _parity(name: str, words: list[str]) -> SequenceDataset:
    if len(words) not in (2, 3):
        raise BadSequenceName(name, "parity", "it takes the bits N, the secret bits K and optionally the "
                                              "training examples T")
    n = _number(name, "parity", words[0], "N (the bits)", 1, MAX_BITS)
    k = _number(name, "parity", words[1], "K (the secret bits)", 1, MAX_BITS)
    if k > n:
        raise BadSequenceName(name, "parity", f"K = {k} secret bits cannot exceed the N = {n} bits (1 <= K <= N)")
    train = PARITY_TRAIN
    if len(words) == 3:
        train = _number(name, "parity", words[2], "T (the training examples)", 1, MAX_PARITY_TRAIN)
        if train == PARITY_TRAIN:
            raise BadSequenceName(name, "parity", f"{PARITY_TRAIN} training examples are the default: write "
                                                  f"parity_{n}_{k} (one name per dataset)")
    return SequenceDataset(_info(name, n, 2, train, PARITY_TEST, 2), "parity", (n, k, train, PARITY_TEST))


def _listops(name: str, words: list[str]) -> SequenceDataset:
    if len(words) != 1:
        raise BadSequenceName(name, "listops", "it takes one number, the sequence length L")
    length = _number(name, "listops", words[0], "L (the sequence length)", MIN_LENGTH, MAX_LENGTH)
    return SequenceDataset(_info(name, length, 10, LISTOPS_TRAIN, LISTOPS_TEST, LISTOPS_VOCAB), "listops",
                           (length, LISTOPS_TRAIN, LISTOPS_TEST))


PARSERS = {"modular": _modular, "parity": _parity, "listops": _listops}


def sequence_dataset(name: object) -> SequenceDataset | None:
    """The parsed dataset of a family's name; None for a name of no family (no '<family>_'
    prefix); a `BadSequenceName` for a family's name that does not parse."""
    if not isinstance(name, str):
        return None
    family, underscore, rest = name.partition("_")
    if not underscore or family not in PARSERS:
        return None
    return PARSERS[family](name, rest.split("_"))
