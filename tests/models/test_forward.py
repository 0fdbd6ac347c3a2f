"""Each family's forward pass against an independent functional rewrite of its definition."""
import torch
import torch.nn.functional as F

from ticketlab.models import build_model


def bn(x, s, prefix):
    return F.batch_norm(x, s[f"{prefix}.running_mean"], s[f"{prefix}.running_var"],
                        s[f"{prefix}.weight"], s[f"{prefix}.bias"], training=False)


def randomized(name, shape, seed=0):
    """An eval-mode model whose BN statistics and biases are random, so none is a no-op."""
    torch.manual_seed(seed)
    model = build_model(name, shape, 10).eval()
    with torch.no_grad():
        for key, value in model.state_dict().items():
            if key.endswith(("running_mean", "bias", "bn.weight", "bn1.weight", "bn2.weight")):
                value.copy_(torch.randn_like(value) * 0.1 + (1 if "weight" in key else 0))
            elif key.endswith("running_var"):
                value.copy_(torch.rand_like(value) + 0.5)
    return model, model.state_dict()


def test_mlp():
    model, s = randomized("mlp_20_30", (40,))
    x = torch.randn(3, 40)
    h = F.relu(F.linear(x, s["fc_layers.0.weight"], s["fc_layers.0.bias"]))
    h = F.relu(F.linear(h, s["fc_layers.1.weight"], s["fc_layers.1.bias"]))
    torch.testing.assert_close(model(x), F.linear(h, s["fc.weight"], s["fc.bias"]))


def test_lenet5():
    model, s = randomized("lenet5", (1, 28, 28))
    x = torch.randn(3, 1, 28, 28)
    h = F.max_pool2d(F.relu(F.conv2d(x, s["convs.0.weight"], s["convs.0.bias"], padding=2)), 2)
    h = F.max_pool2d(F.relu(F.conv2d(h, s["convs.1.weight"], s["convs.1.bias"])), 2).flatten(1)
    h = F.relu(F.linear(h, s["fc_layers.0.weight"], s["fc_layers.0.bias"]))
    h = F.relu(F.linear(h, s["fc_layers.1.weight"], s["fc_layers.1.bias"]))
    torch.testing.assert_close(model(x), F.linear(h, s["fc.weight"], s["fc.bias"]))


def test_conv4():
    model, s = randomized("conv4", (3, 32, 32))
    h = x = torch.randn(2, 3, 32, 32)
    for i in range(4):
        h = F.relu(F.conv2d(h, s[f"convs.{i}.weight"], s[f"convs.{i}.bias"], padding=1))
        if i in (1, 3):
            h = F.max_pool2d(h, 2)
    h = h.flatten(1)
    h = F.relu(F.linear(h, s["fc_layers.0.weight"], s["fc_layers.0.bias"]))
    h = F.relu(F.linear(h, s["fc_layers.1.weight"], s["fc_layers.1.bias"]))
    torch.testing.assert_close(model(x), F.linear(h, s["fc.weight"], s["fc.bias"]))


def test_vgg11():
    model, s = randomized("vgg11", (3, 32, 32))
    h = x = torch.randn(2, 3, 32, 32)
    for stage, layers in enumerate(model.blocks()):
        for p in layers:
            h = F.relu(bn(F.conv2d(h, s[f"{p}.conv.weight"], s[f"{p}.conv.bias"], padding=1), s, f"{p}.bn"))
        if stage < 4:
            h = F.max_pool2d(h, 2)
    h = F.avg_pool2d(h, 2).flatten(1)  # OpenLTH's head at 32x32
    torch.testing.assert_close(model(x), F.linear(h, s["fc.weight"], s["fc.bias"]))


def test_cifar_resnet():
    model, s = randomized("cifar_resnet_14_4", (3, 32, 32))
    x = torch.randn(2, 3, 32, 32)
    h = F.relu(bn(F.conv2d(x, s["stem.conv.weight"], padding=1), s, "stem.bn"))
    for stage, blocks in enumerate(model.blocks()):
        for index, p in enumerate(blocks):
            stride = 2 if stage > 0 and index == 0 else 1
            out = F.relu(bn(F.conv2d(h, s[f"{p}.conv1.weight"], stride=stride, padding=1), s, f"{p}.bn1"))
            out = bn(F.conv2d(out, s[f"{p}.conv2.weight"], padding=1), s, f"{p}.bn2")
            if f"{p}.shortcut.0.weight" in s:
                h = bn(F.conv2d(h, s[f"{p}.shortcut.0.weight"], stride=stride), s, f"{p}.shortcut.1")
            h = F.relu(out + h)
    h = F.adaptive_avg_pool2d(h, 1).flatten(1)
    torch.testing.assert_close(model(x), F.linear(h, s["fc.weight"], s["fc.bias"]))
