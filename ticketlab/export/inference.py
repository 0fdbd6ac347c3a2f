"""Self-contained inference files for tickets, and a runtime that makes sparsity pay.

`export_inference(run, unit, path, format)` writes one safetensors file: the weights of
a trained unit (already masked) and, in its metadata, the architecture name, input
shape, class count and format. `load_inference(path)` checks the file's header against
the network it names (`metadata.py`, `sparse/header.py`), rebuilds it and swaps:
- `csr`: every Linear whose weight is sparser than `csr_below` for a `CsrLinear` (the
  weight as a CSR matrix, `torch.sparse.mm`); denser layers stay dense, since CSR only
  pays when most entries are zero. Activations between Linear layers stay feature-major
  (each feature's batch contiguous, what the CSR product streams over), so the network
  transposes its input once rather than around every layer (dense Linears in between
  become `FeatureMajorLinear`). With `csr_conv`, such Convs too become `CsrConv2d`
  (im2col with `unfold`, then the same sparse product); off by default, because on a CPU
  the im2col copies cost more than the dense convolution saves for convs of the zoo's
  size (benchmarks/sparse_inference.py measures LeNet-5 5x slower at batch 256);
- `2:4`: on a GPU that supports it, every 2:4-sparse Linear for a semi-structured sparse
  one (`torch.sparse.to_sparse_semi_structured`, the sparse tensor cores); elsewhere the
  dense masked weights, with a note saying why;
- `dense`: the masked weights as they are;
- `slim`: the network rebuilt with only its kept channels (`slim.py`; a channel ticket's
  speed without sparse kernels), the kept channels in the metadata `channels`.
The predictions equal the masked dense model's to float tolerance (tests check this).
"""
from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..core.errors import CheckpointError, SpecError, UnknownNameError
from ..store.tensors import save_tensors, verify
from .metadata import FORMATS, KIND, read_settings

CSR_BELOW = 0.3  # density under which a layer is stored and run as CSR


def _feature_major(flat: torch.Tensor) -> torch.Tensor:
    """`flat` (batch, features) as a (features, batch) matrix with each feature's batch
    contiguous: the layout in which a CSR product streams over the batch.

    Free when `flat` is already such a layout seen transposed (the output of a previous
    sparse layer, after an elementwise op); otherwise one copy. The copy goes through a
    3-D permute because ATen spreads that copy over its threads and a plain
    `t().contiguous()` not (256x784 floats: 66 against 111 microseconds on 2 threads)."""
    t = flat.t()
    if t.is_contiguous():
        return t
    return flat.unsqueeze(2).permute(1, 0, 2).contiguous().view(flat.shape[1], flat.shape[0])


def _csr_int32(weight: torch.Tensor) -> torch.Tensor:
    """`weight` as CSR with 32-bit indices: the CPU kernel takes 32-bit indices and
    converts 64-bit ones on every call (two copies per layer and call, ~10% of the MLP's
    time at 2% density)."""
    csr = weight.detach().to_sparse_csr()
    if csr.values().numel() >= 2**31 or max(weight.shape) >= 2**31:
        return csr
    return torch.sparse_csr_tensor(csr.crow_indices().int(), csr.col_indices().int(), csr.values(), csr.shape)


def _batch_major(out: torch.Tensor, x: torch.Tensor, features: int, contiguous: bool) -> torch.Tensor:
    """A feature-major (features, batch) result seen as (*batch, features): a view for the
    next layer, or, from the network's last layer, an ordinary tensor for the caller.
    (2-D inputs skip the reshapes: at these sizes each tensor op's overhead counts.)"""
    out = out.t()
    if contiguous:
        out = out.contiguous()
    return out if x.dim() == 2 else out.reshape(*x.shape[:-1], features)


def _rows(x: torch.Tensor, features: int) -> torch.Tensor:
    return x if x.dim() == 2 else x.reshape(-1, features)


class CsrLinear(nn.Module):
    """A Linear whose weight is a CSR matrix. It computes W @ x^T + b in the feature-major
    layout and returns the result seen transposed, so a following sparse layer (after a
    ReLU, which keeps strides) takes its input without a copy. Weight and bias are
    buffers, so `.to(device)` and `.half()` move and convert them."""

    def __init__(self, linear: nn.Linear):
        super().__init__()
        self.register_buffer("weight", _csr_int32(linear.weight))
        # A column, so the bias is added inside the sparse product (addmm) rather than by a
        # second pass over a transposed output (measured ~1.3x faster per layer on a CPU).
        self.register_buffer("bias", None if linear.bias is None else linear.bias.detach()[:, None].contiguous())
        self.in_features, self.out_features = linear.in_features, linear.out_features
        self.contiguous_output = False  # set on the network's last Linear (sparse_runtime)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = _feature_major(_rows(x, self.in_features))
        out = torch.sparse.mm(self.weight, flat) if self.bias is None else torch.addmm(self.bias, self.weight, flat)
        return _batch_major(out, x, self.out_features, self.contiguous_output)


class FeatureMajorLinear(nn.Linear):
    """A dense Linear of a CSR network. Its input is usually the transposed-view output of
    a sparse layer; a plain `F.linear` on such an input was 4x slower (56 against 14
    microseconds for LeNet-300-100's classifier at batch 256) than the same product done
    feature-major. Batch-major inputs take `F.linear`."""

    def __init__(self, linear: nn.Linear):
        super().__init__(linear.in_features, linear.out_features, bias=linear.bias is not None,
                         device=linear.weight.device, dtype=linear.weight.dtype)
        self.load_state_dict(linear.state_dict())
        self.requires_grad_(False)
        self.contiguous_output = False  # set on the network's last Linear (sparse_runtime)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = _rows(x, self.in_features)
        if flat.shape[0] < 2 or flat.stride(0) != 1:
            return F.linear(x, self.weight, self.bias)
        if self.bias is None:
            out = self.weight @ flat.t()
        else:
            out = torch.addmm(self.bias[:, None], self.weight, flat.t())
        return _batch_major(out, x, self.out_features, self.contiguous_output)


def _csr_conv_ok(conv: nn.Conv2d) -> bool:
    """What `CsrConv2d` computes exactly; other convolutions (groups, padding modes, 'same')
    stay dense, as do Conv1d/3d and ConvTranspose, which have no CSR kernel here."""
    return conv.groups == 1 and conv.padding_mode == "zeros" and not isinstance(conv.padding, str)


class CsrConv2d(nn.Module):
    """A convolution as a sparse matrix times the im2col of its input."""

    def __init__(self, conv: nn.Conv2d):
        super().__init__()
        if not _csr_conv_ok(conv):
            raise SpecError("CSR convolutions support groups=1 and numeric zero padding.")
        self.register_buffer("weight", _csr_int32(conv.weight.reshape(conv.out_channels, -1)))
        self.register_buffer("bias", None if conv.bias is None else conv.bias.detach())
        self.out_channels, self.kernel_size = conv.out_channels, conv.kernel_size
        self.stride, self.padding, self.dilation = conv.stride, conv.padding, conv.dilation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        cols = F.unfold(x, self.kernel_size, dilation=self.dilation, padding=self.padding, stride=self.stride)
        oh = (h + 2 * self.padding[0] - self.dilation[0] * (self.kernel_size[0] - 1) - 1) // self.stride[0] + 1
        ow = (w + 2 * self.padding[1] - self.dilation[1] * (self.kernel_size[1] - 1) - 1) // self.stride[1] + 1
        # (C k k, N L) -> sparse product -> (out, N L) -> (N, out, oh, ow)
        flat = cols.transpose(0, 1).reshape(cols.shape[1], -1)
        out = torch.sparse.mm(self.weight, flat).reshape(self.out_channels, n, oh * ow).transpose(0, 1)
        out = out.reshape(n, self.out_channels, oh, ow)
        if self.bias is not None:
            out = out + self.bias.view(1, -1, 1, 1)
        return out


def export_inference(run, unit, path: str | os.PathLike, fmt: str = "csr") -> dict:
    """Write `unit`'s final weights with what is needed to rebuild the network."""
    from ..analysis.robustness import training_spec
    from ..methods import method_of
    from ..data import dataset_info

    if fmt not in FORMATS:
        raise UnknownNameError("export format", fmt, list(FORMATS))
    if not unit.has("model.safetensors"):
        raise CheckpointError(f"{unit.path} holds no final weights (model.safetensors); finish the run first.")
    spec = training_spec(run.spec)
    if not method_of(run.spec.kind).exportable:
        raise SpecError(f"A {run.spec.kind} run's networks route by context, so they are not one ticket to export; "
                        "load them with ticketlab.load_routed.")
    info = dataset_info(spec.dataset)
    state = unit.load_tensors("model.safetensors")
    mask = unit.load_mask("mask.safetensors") if unit.has("mask.safetensors") else None
    if fmt == "2:4":
        from ..models import build_model
        with torch.device("meta"):
            prunable = build_model(spec.model, info.input_shape, info.num_classes,
                                   vocab_size=info.vocab_size).prunable_names
        from ..sparse import Mask
        pattern = Mask({n: state[n] != 0 for n in prunable})
        ok = [n for n in prunable if _two_four_ok(pattern[n])]
        if not ok:
            raise SpecError(f"No layer of {unit.path} is 2:4 sparse. Find 2:4 tickets with ticketlab imp --scope 2:4.")
    extra = {}
    if fmt == "slim":  # the slim state dict and the kept channels that rebuild it (slim_format.py)
        from .slim_format import slim_export
        state, extra = slim_export(spec.model, info, state, mask)
    meta = {"format": KIND, "model": spec.model, "input_shape": json.dumps(list(info.input_shape)),
            "num_classes": str(info.num_classes), "sparsity_format": fmt, "dataset": spec.dataset,
            "run": run.run_id, "unit": str(Path(unit.path).relative_to(run.path)) or ".", **extra}
    if info.vocab_size:  # a token model: its embedding's size is not in the input shape
        meta["vocab_size"] = str(info.vocab_size)
    # With the store's checksum of layout and data, so that a flipped byte is refused on loading.
    save_tensors(path, state, metadata=meta)
    prunable_density = None if mask is None else mask.density()
    return {"path": str(path), **meta, "density": prunable_density}


def _two_four_ok(nonzero: torch.Tensor) -> bool:
    rows = nonzero.reshape(nonzero.shape[0], -1)
    return rows.shape[1] % 4 == 0 and int(rows.reshape(rows.shape[0], -1, 4).sum(dim=2).max()) <= 2


def load_inference(path: str | os.PathLike, device: str | torch.device = "cpu", csr_below: float = CSR_BELOW,
                   csr_conv: bool = False):
    """The exported network, ready for inference (eval mode, sparse layers swapped in).

    The file may come from anyone: it is read as safetensors only, and its metadata and
    every tensor's name, dtype and shape are checked against the network it names (built
    first on the meta device, which costs no memory) before any tensor is read."""
    from ..models import build_model
    from ..sparse.header import check_tensors, layout_of, read_header, read_tensors

    header = read_header(path, "inference file")
    settings = read_settings(header)
    verify(path, advice=f"Export it again from its run ({header.metadata.get('run', 'named in its metadata')}) "
                        "with ticketlab export.")
    network = (settings.model, settings.input_shape, settings.num_classes)
    tokens = {"vocab_size": settings.vocab_size}
    with torch.device("meta"):
        skeleton = build_model(*network, **tokens)
    if settings.sparsity_format == "slim":  # rebuilt with the channels its metadata keeps (slim_format.py)
        from .slim_format import slim_network, slim_skeleton
        skeleton, kept = slim_skeleton(skeleton, header)
    check_tensors(header, layout_of(skeleton.state_dict()),
                  against=f"the {settings.model} network its metadata names (input {settings.input_shape}, "
                          f"{settings.num_classes} classes)")
    model = build_model(*network, **tokens)
    if settings.sparsity_format == "slim":
        model = slim_network(model, kept)
    model.load_state_dict(read_tensors(header))
    model.eval()
    model = sparse_runtime(model, settings.sparsity_format, device, csr_below, csr_conv)
    model.export_metadata = header.metadata
    return model


def sparse_runtime(model: nn.Module, fmt: str, device: str | torch.device = "cpu",
                   csr_below: float = CSR_BELOW, csr_conv: bool = False) -> nn.Module:
    """`model` (masked weights, eval mode) with its sparse layers swapped for `fmt`'s kernels."""
    device = torch.device(device)
    model.to(device)
    notes = []
    if fmt == "csr":
        with warnings.catch_warnings():  # "sparse CSR support is in beta": known, and tested here
            warnings.simplefilter("ignore", UserWarning)
            for name, module in list(model.named_modules()):
                if isinstance(module, nn.Linear) or csr_conv and isinstance(module, nn.Conv2d) and _csr_conv_ok(module):
                    density = float((module.weight != 0).float().mean())
                    if density < csr_below:
                        _replace(model, name, CsrLinear(module) if isinstance(module, nn.Linear) else CsrConv2d(module))
                    elif isinstance(module, nn.Linear):
                        _replace(model, name, FeatureMajorLinear(module))
        # The layers hand each other transposed views; the last (in registration order, which
        # is forward order in the zoo) hands its caller an ordinary tensor. A hook on the
        # network would do it for any order, but cost 5% of LeNet-300-100's time at 2%.
        linears = [m for m in model.modules() if isinstance(m, (CsrLinear, FeatureMajorLinear))]
        # A registered model's forward may call its Linears in any order, or read their
        # outputs with .view(): each then hands on an ordinary tensor (one copy per layer).
        ordered = getattr(model, "forward_in_registration_order", True)
        for linear in linears if not ordered else linears[-1:]:
            linear.contiguous_output = True
    elif fmt == "2:4":
        notes += _semi_structured(model, device)
    model.sparsity_notes = notes
    return model


def _semi_structured(model: nn.Module, device: torch.device) -> list[str]:
    if device.type != "cuda" or torch.cuda.get_device_capability(device)[0] < 8:
        return ["2:4 sparse kernels need a CUDA GPU of compute capability 8.0 or later; running dense."]
    from torch.sparse import to_sparse_semi_structured
    model.half()  # the sparse tensor cores take half precision: feed float16 inputs
    notes = ["weights and inputs in float16"]
    for name, module in model.named_modules():
        if isinstance(module, nn.Linear) and _two_four_ok(module.weight != 0):
            try:
                module.weight = nn.Parameter(to_sparse_semi_structured(module.weight.detach().half()),
                                             requires_grad=False)
            except (RuntimeError, ValueError) as err:  # shapes the kernels do not take stay dense
                notes.append(f"{name}: dense ({err})")
    return notes


def _replace(model: nn.Module, name: str, new: nn.Module) -> None:
    parent, _, child = name.rpartition(".")
    setattr(model.get_submodule(parent) if parent else model, child, new)
