"""The generated sequence datasets: modular arithmetic, sparse parity, list operations."""
import math
import statistics
import subprocess
import sys

import numpy as np
import pytest
import torch

from ticketlab.core.errors import AlreadyRegisteredError, TicketlabError, UnknownNameError
from ticketlab.data import (check_dataset_name, dataset_info, dataset_version, listops, load_dataset, parity,
                            register_dataset)
from ticketlab.data.registry import corrupted_names, dataset_entry
from ticketlab.data.sequence_names import LISTOPS_VOCAB, SEQUENCE_PATTERNS
from ticketlab.data.split import validation_indices

NAMES = ["modular_add_13", "modular_sub_13_30", "modular_mul_7_99", "modular_div_13", "modular_div_3_1",
         "parity_12_3", "parity_20_3_500", "parity_1_1_7", "listops_8", "listops_32"]


def generate(name):
    return dataset_entry(name).loader()


@pytest.fixture(scope="module")
def listops_32():
    return generate("listops_32")


@pytest.mark.parametrize("name", NAMES)
def test_arrays_match_the_info(name):
    info = dataset_info(name)
    x_train, y_train, x_test, y_test = generate(name)
    assert (len(x_train), len(x_test)) == (len(y_train), len(y_test)) == (info.train_size, info.test_size)
    assert x_train.shape[1:] == x_test.shape[1:] == info.input_shape
    assert {a.dtype for a in (x_train, y_train, x_test, y_test)} == {np.dtype(np.int64)}
    tokens = np.concatenate([x_train, x_test])
    labels = np.concatenate([y_train, y_test])
    assert 0 <= tokens.min() and tokens.max() < info.vocab_size
    assert 0 <= labels.min() and labels.max() < info.num_classes
    assert (info.mean, info.std, info.augment, info.crop_padding, info.flip) == ((0.0,), (1.0,), False, 0, False)
    for a, b in zip(generate(name), (x_train, y_train, x_test, y_test)):
        np.testing.assert_array_equal(a, b)  # a pure function of the name


def test_the_info_of_each_family():
    assert dataset_info("modular_add_97").input_shape == (4,)
    assert (dataset_info("modular_add_97").vocab_size, dataset_info("modular_add_97").num_classes) == (99, 97)
    assert (dataset_info("modular_add_97").train_size, dataset_info("modular_add_97").test_size) == (4705, 4704)
    assert dataset_info("modular_div_97").train_size + dataset_info("modular_div_97").test_size == 97 * 96
    parity = dataset_info("parity_20_3")
    assert (parity.input_shape, parity.vocab_size, parity.num_classes, parity.train_size, parity.test_size) == \
        ((20,), 2, 2, 10000, 2000)
    assert dataset_info("parity_20_3_1000").train_size == 1000
    listops = dataset_info("listops_64")
    assert (listops.input_shape, listops.vocab_size, listops.num_classes, listops.train_size, listops.test_size) == \
        ((64,), 17, 10, 8000, 2000)
    assert dataset_info("mnist").vocab_size == 0


@pytest.mark.parametrize("op,p", [("add", 13), ("sub", 13), ("mul", 11), ("div", 13), ("div", 3)])
def test_modular_labels_and_a_disjoint_split_of_all_pairs(op, p):
    x_train, y_train, x_test, y_test = generate(f"modular_{op}_{p}")
    x, y = np.concatenate([x_train, x_test]), np.concatenate([y_train, y_test])
    assert (x[:, 1] == p).all() and (x[:, 3] == p + 1).all()
    a, b = x[:, 0], x[:, 2]
    if op == "div":
        assert (b != 0).all()
        assert ((y * b) % p == a).all()  # y = a / b: y * b = a (mod p)
    else:
        assert (y == {"add": (a + b) % p, "sub": (a - b) % p, "mul": (a * b) % p}[op]).all()
    pairs = {(int(u), int(v)) for u, v in zip(a, b)}
    assert len(pairs) == len(y) == (p * (p - 1) if op == "div" else p * p)  # every pair once, so disjoint
    train = {(int(u), int(v)) for u, v in x_train[:, [0, 2]]}
    assert not train & {(int(u), int(v)) for u, v in x_test[:, [0, 2]]}


def test_a_smaller_train_fraction_trains_on_a_subset():
    small = {tuple(r) for r in generate("modular_add_13_30")[0]}
    half = {tuple(r) for r in generate("modular_add_13")[0]}
    assert small < half


def test_parity_labels_are_the_xor_of_the_secret_bits():
    secret = parity.secret(12, 3)
    assert len(set(secret.tolist())) == 3 and list(secret) == sorted(secret) and 0 <= secret.min() < secret.max() < 12
    x_train, y_train, x_test, y_test = generate("parity_12_3")
    for x, y in ((x_train, y_train), (x_test, y_test)):
        assert set(np.unique(x)) == {0, 1} and set(np.unique(y)) == {0, 1}
        assert (y == np.bitwise_xor.reduce(x[:, secret], axis=1)).all()


def test_flipping_a_bit_changes_the_label_exactly_when_the_bit_is_secret():
    # 12000 draws of 2^12 inputs: most inputs occur, with their labels, so flips are looked up in the data
    x_train, y_train, x_test, y_test = generate("parity_12_3")
    x, y = np.concatenate([x_train, x_test]), np.concatenate([y_train, y_test])
    label = {row.tobytes(): int(v) for row, v in zip(x, y)}
    assert len(label) > 3000
    secret = set(parity.secret(12, 3).tolist())
    for position in range(12):
        flipped = x[:500].copy()
        flipped[:, position] ^= 1
        pairs = [(label[f.tobytes()], int(v)) for f, v in zip(flipped, y[:500]) if f.tobytes() in label]
        assert len(pairs) > 400
        assert all((a != b) == (position in secret) for a, b in pairs), position


def test_parity_train_sets_are_prefixes_and_the_test_set_is_fixed():
    short, long = generate("parity_20_3_500"), generate("parity_20_3")
    np.testing.assert_array_equal(short[0], long[0][:500])
    np.testing.assert_array_equal(short[2], long[2])


def evaluate(tokens):
    """An independent reading of a ListOps token row: its value, and its length before padding."""
    names = {11: max, 12: min, 13: lambda v: math.floor(statistics.median(v)), 14: lambda v: sum(v) % 10}
    stack, value, end = [], None, len(tokens)
    for i, t in enumerate(int(t) for t in tokens):
        if t == 0:
            end = i
            break
        if t == 15:
            stack.append([])
        elif 11 <= t <= 14:
            assert stack and stack[-1] == [], "an operator follows '['"
            stack[-1].append(names[t])
        elif 1 <= t <= 10:
            stack[-1].append(t - 1)
        else:
            assert t == 16
            op, *args = stack.pop()
            assert len(args) >= 2
            result = op(args)
            if stack:
                stack[-1].append(result)
            else:
                value = result
    assert not stack and value is not None
    assert (np.asarray(tokens[end:]) == 0).all(), "padding only at the end"
    return value, end


def test_listops_labels_are_the_values_of_the_expressions(listops_32):
    x_train, y_train, x_test, y_test = listops_32
    lengths = []
    for x, y in ((x_train, y_train), (x_test, y_test)):
        for row, label in zip(x, y):
            value, end = evaluate(row)
            assert value == label
            lengths.append(end)
    assert min(lengths) >= 5 and max(lengths) == 32 and set(np.unique(y_train)) == set(range(10))
    assert not {r.tobytes() for r in x_train} & {r.tobytes() for r in x_test}
    assert LISTOPS_VOCAB == listops.CLOSE + 1


def test_listops_fits_every_length():
    for length in (8, 9, 512):
        x, y, _, _ = listops.generate(length, 300, 100)
        assert x.shape == (300, length)
        assert all(evaluate(row)[0] == label for row, label in zip(x, y))


@pytest.mark.parametrize("name,says", [
    ("modular_add_98", "not a prime"), ("modular_pow_97", "add, sub, mul, div"), ("modular_add_1000", "3 to 997"),
    ("modular_add_097", "leading zero"), ("modular_add_97_50", "write modular_add_97"),
    ("modular_add_97_100", "1 to 99"), ("modular_add", "a prime P"), ("parity_3_5", "cannot exceed"),
    ("parity_65_2", "1 to 64"), ("parity_20_3_10000", "write parity_20_3"), ("parity_20_0", "positive"),
    ("parity_20", "the secret bits K"), ("listops_4", "8 to 512"), ("listops_32_2", "one number"),
    ("listops_x", "whole number"),
])
def test_a_malformed_name_of_a_family_says_what_is_valid(name, says):
    with pytest.raises(UnknownNameError) as caught:
        check_dataset_name(name)
    message = str(caught.value)
    assert f"'{name}'" in message and says in message and "\n" not in message
    assert any(pattern in message for pattern in SEQUENCE_PATTERNS)
    assert isinstance(caught.value, TicketlabError)
    with pytest.raises(UnknownNameError):
        dataset_info(name)


def test_an_unknown_name_lists_the_patterns():
    with pytest.raises(UnknownNameError) as caught:
        check_dataset_name("listops")
    assert all(pattern in str(caught.value) for pattern in SEQUENCE_PATTERNS)


def test_names_are_accepted_cached_unversioned_and_never_corrupted():
    for name in NAMES:
        check_dataset_name(name)
        assert dataset_version(name) is None
        assert dataset_entry(name) is dataset_entry(name)
        assert dataset_entry(name).format == "generated"
        assert name + "_c" not in corrupted_names()
    with pytest.raises(AlreadyRegisteredError, match="modular_add_13"):
        register_dataset("modular_add_13", lambda: None, version=1)


def test_checking_a_name_imports_neither_numpy_nor_torch():
    code = ("import sys; from ticketlab.data import check_dataset_name, dataset_info; "
            "check_dataset_name('listops_64'); dataset_info('modular_div_97_30'); "
            "print('numpy' in sys.modules, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


@pytest.mark.parametrize("budget", [None, 1])  # on the device, and in host memory (streamed)
@pytest.mark.parametrize("name", ["modular_div_13", "parity_12_3_64", "listops_16"])
def test_load_dataset_keeps_the_token_ids_exact(name, budget):
    x_train, y_train, x_test, y_test = generate(name)
    splits = load_dataset(name, val_size=5, data_budget=budget)
    keep, held_out = validation_indices(len(y_train), 5, 0)
    for arrays, x, y in ((splits.train, x_train[keep.numpy()], y_train[keep.numpy()]),
                         (splits.val, x_train[held_out.numpy()], y_train[held_out.numpy()]),
                         (splits.test, x_test, y_test)):
        assert arrays.x.dtype == torch.float32 and arrays.y.dtype == torch.int64
        assert torch.equal(arrays.x, torch.from_numpy(x).to(torch.float32))  # the ids themselves, not normalized
        assert torch.equal(arrays.y, torch.from_numpy(y))
