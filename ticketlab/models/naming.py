"""The built-in model families' names, like 'mlp_300_100' or 'cifar_resnet_20_16'.

Name parsing lives apart from the families and imports no torch, so a spec can be
validated and hashed (and a finished run found) without loading PyTorch. Each family
has here its patterns (human-readable names for error messages) and a parser (its plan
for a name of the family, None for a name of another family), registered in the open
table of `families.py` as a plugin's family is; its module in this folder has
`build(name, plan, input_shape, num_classes)`, named as a string so torch stays unloaded.
"""
from __future__ import annotations

import re

from .families import BadName, is_valid_model_name, model_patterns, parse_model_name, register_model_family
from .transformer_names import TRANSFORMER_PATTERNS, VIT_PATTERNS, parse_transformer, parse_vit

__all__ = ["BadName", "INITS", "STRATEGIES", "is_valid_model_name", "model_patterns", "parse_model_name",
           "positive_int"]


def positive_int(text: str) -> int | None:
    """The integer in text if it is written canonically (no sign, no leading zero), else None.

    Canonical only, so that two spellings of one model never get two spec hashes.
    """
    return int(text) if re.fullmatch(r"[1-9][0-9]*", text) else None


# How an elastic ticket stretches a stage automatically (models/elastic.py).
STRATEGIES = ("append", "interpolate")

# How a built model's weights are drawn (TrainSpec.init; the rules and sources in models/init.py).
INITS = ("kaiming_normal", "kaiming_uniform", "xavier_normal", "xavier_uniform", "torch_default", "signed_constant",
         "own")


# -- mlp -----------------------------------------------------------------------
MLP_PATTERNS = ["lenet_300_100", "mlp_W1_W2_..."]


def parse_mlp(name: str) -> list[int] | None:
    if name == "lenet_300_100":
        return [300, 100]
    if name != "mlp" and not name.startswith("mlp_"):
        return None
    widths = [positive_int(part) for part in name.split("_")[1:]]
    if not widths or None in widths:
        raise BadName("An mlp name lists one or more positive hidden widths, e.g. mlp_300_100.")
    return widths


# -- lenet5 --------------------------------------------------------------------
LENET5_PATTERNS = ["lenet5"]


def parse_lenet5(name: str) -> str | None:
    return name if name == "lenet5" else None


# -- conv ----------------------------------------------------------------------
CONV_PATTERNS = ["conv2", "conv4", "conv6"]
CONV_STAGES = {"conv2": 1, "conv4": 2, "conv6": 3}


def parse_conv(name: str) -> int | None:
    return CONV_STAGES.get(name)


# -- vgg -----------------------------------------------------------------------
VGG_PATTERNS = ["vgg11", "vgg13", "vgg16", "vgg19"]
VGG_PLANS = {
    "vgg11": [[64], [128], [256, 256], [512, 512], [512, 512]],
    "vgg13": [[64, 64], [128, 128], [256, 256], [512, 512], [512, 512]],
    "vgg16": [[64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]],
    "vgg19": [[64, 64], [128, 128], [256] * 4, [512] * 4, [512] * 4],
}


def parse_vgg(name: str) -> list[list[int]] | None:
    return VGG_PLANS.get(name)


# -- cifar_resnet --------------------------------------------------------------
CIFAR_RESNET_PATTERNS = ["cifar_resnet_D[_W] (D = 6n+2)"]
CIFAR_RESNET_PREFIX = "cifar_resnet"
CIFAR_RESNET_WIDTH = 16
CIFAR_RESNET_BAD_NAME = ("cifar_resnet names are cifar_resnet_D or cifar_resnet_D_W: the depth D must be "
            "6n+2 with n >= 1 (e.g. 20, 32, 44, 56, 110) and the width W a positive integer "
            "(default 16).")


def parse_cifar_resnet(name: str) -> tuple[int, int] | None:
    """(blocks per stage, width) for a cifar_resnet name, None for other families."""
    if name != CIFAR_RESNET_PREFIX and not name.startswith(CIFAR_RESNET_PREFIX + "_"):
        return None
    numbers = [positive_int(part) for part in name[len(CIFAR_RESNET_PREFIX) + 1:].split("_")]
    if not 1 <= len(numbers) <= 2 or None in numbers:
        raise BadName(CIFAR_RESNET_BAD_NAME)
    depth, width = numbers[0], numbers[1] if len(numbers) == 2 else CIFAR_RESNET_WIDTH
    if depth < 8 or (depth - 2) % 6:
        raise BadName(CIFAR_RESNET_BAD_NAME)
    return (depth - 2) // 6, width


# -- resnet --------------------------------------------------------------------
RESNET_PATTERNS = ["resnet18", "resnet34"]
RESNET_DEPTHS = {"resnet18": [2, 2, 2, 2], "resnet34": [3, 4, 6, 3]}


def parse_resnet(name: str) -> list[int] | None:
    return RESNET_DEPTHS.get(name)


# The built-in families, asked in this order; plugins register after them.
register_model_family("mlp", parse_mlp, "ticketlab.models.mlp:build", MLP_PATTERNS)
register_model_family("lenet5", parse_lenet5, "ticketlab.models.lenet5:build", LENET5_PATTERNS)
register_model_family("conv", parse_conv, "ticketlab.models.conv:build", CONV_PATTERNS)
register_model_family("vgg", parse_vgg, "ticketlab.models.vgg:build", VGG_PATTERNS)
register_model_family("cifar_resnet", parse_cifar_resnet, "ticketlab.models.cifar_resnet:build", CIFAR_RESNET_PATTERNS)
register_model_family("resnet", parse_resnet, "ticketlab.models.resnet:build", RESNET_PATTERNS)
register_model_family("vit", parse_vit, "ticketlab.models.transformer:build_vit", VIT_PATTERNS)
register_model_family("transformer", parse_transformer, "ticketlab.models.transformer:build_transformer",
                      TRANSFORMER_PATTERNS, tokens=True)
