"""Catch tensors left on the CPU by default, on a machine that has only a CPU.

`SimulatedDevice` is a torch function mode that plays an accelerator: while it is
active, `TRAINING_DEVICE` (`cpu:0`, which torch accepts and keeps on the CPU) stands
for a separate device. Every tensor carries, in an attribute, whether it lives "on the
device":

* a factory given `device=TRAINING_DEVICE`, and `.to(...)` /
  `.cuda()` towards it, give device tensors; `.to(...)` of a host tensor returns a
  copy, as a real move would, so the original stays on the host;
* any other result is on the device if one of its tensor inputs is (and `.data`,
  `.grad` of a device tensor are), unless the call names a device (`device=`, `.cpu()`,
  `.to("cpu")`);
* `.device` of a device tensor answers `TRAINING_DEVICE`, so `x.to(p.device)` follows.

A call that combines a device tensor with a host tensor of one or more dimensions
raises `DeviceMixError`, as CUDA would (zero-dimensional host tensors pass, as CUDA
lets them). Copies (`copy_`, `load_state_dict`), moves and indexing with host indices
are allowed, as they are across real devices.

While active, the mode also patches `nn.Parameter()` (it wraps its data in C++), to
carry its data's place, and the package's safetensors loader, which knows no `cpu:0`,
to load such files on the host and then move them.

Limits: only what passes through torch's Python face is seen (tensors that C++ creates
behind it, e.g. by safetensors or numpy, count as host tensors, which they are);
autograd's gradients are seen through `.grad`; a tensor created and combined entirely
inside C++ is invisible. The check is about placement only, not about kernels a device
lacks.
"""
from __future__ import annotations

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._pytree import tree_flatten

TRAINING_DEVICE = torch.device("cpu", 0)
_TAG = "_on_simulated_device"

# Calls that may take tensors of both devices: moves, copies, and indexing by host indices.
_CROSSING = {"to", "cpu", "cuda", "copy_", "__getitem__", "_to_copy", "__deepcopy__", "__reduce_ex__",
             "type", "pin_memory", "_has_compatible_shallow_copy_type", "is_set_to"}


class DeviceMixError(RuntimeError):
    pass


def on_device(t) -> bool:
    return isinstance(t, torch.Tensor) and getattr(t, _TAG, False)


def _mark(t, value: bool):
    if isinstance(t, torch.Tensor):
        try:
            setattr(t, _TAG, value)
        except (AttributeError, TypeError):  # a tensor type without a dict
            pass
    return t


def _is_device(device) -> bool | None:
    """Whether `device` (a torch.device, a str or an int) means the simulated device; None: not a device."""
    if device is None:
        return None
    if isinstance(device, int):
        return True  # a cuda ordinal
    device = torch.device(device)
    return device == TRAINING_DEVICE or device.type == "cuda"


def _name(func) -> str:
    name = getattr(func, "__name__", "")
    if name in ("__get__", "__set__"):
        return name + ":" + getattr(getattr(func, "__self__", None), "__name__", "")
    return name


def _describe(t: torch.Tensor) -> str:
    return f"{tuple(t.shape)} {t.dtype}"


class SimulatedDevice(TorchFunctionMode):
    """While active, `TRAINING_DEVICE` behaves like a separate device (see the module)."""

    def __init__(self):
        super().__init__()
        self.calls = 0  # how many calls saw a device tensor: the check did look at something
        self._new = None

    def __enter__(self):
        # Parameter() wraps its data in C++, out of the mode's sight: carry the place over.
        original = self._new = torch.nn.Parameter.__new__

        def new(cls, data=None, requires_grad=True):
            return _mark(original(cls, data, requires_grad), on_device(data))

        torch.nn.Parameter.__new__ = new
        # safetensors knows no `cpu:0`: files asked for on the device load as host tensors, then move.
        from ticketlab.sparse import io
        load = self._load = io.load_file

        def load_file(path, device="cpu"):
            if _is_device(device):
                return {n: t.to(TRAINING_DEVICE) for n, t in load(path, device="cpu").items()}
            return load(path, device=device)

        io.load_file = load_file
        return super().__enter__()

    def __exit__(self, *exc):
        from ticketlab.sparse import io
        torch.nn.Parameter.__new__, io.load_file = self._new, self._load
        return super().__exit__(*exc)

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        name = _name(func)
        if name == "__get__:device" and on_device(args[0]):
            return TRAINING_DEVICE
        if name in ("__get__:data", "__get__:grad"):
            out = func(*args, **kwargs)
            return _mark(out, on_device(args[0])) if out is not None else out
        if name == "__set__:data":
            func(*args, **kwargs)
            _mark(args[0], on_device(args[1]))
            return None
        if name in ("to", "cpu", "cuda"):
            return self._move(func, name, args, kwargs)

        tensors = [t for t in tree_flatten((args, kwargs))[0] if isinstance(t, torch.Tensor)]
        device_inputs = [t for t in tensors if on_device(t)]
        if device_inputs:
            self.calls += 1
        if device_inputs and name not in _CROSSING and not name.startswith("__get__"):
            checked = tensors
            if name == "__setitem__":  # host indices are fine; the value must match the target
                checked = [args[0]] + ([args[2]] if isinstance(args[2], torch.Tensor) else [])
            hosts = [t for t in checked if not on_device(t) and t.dim() > 0]
            if any(on_device(t) for t in checked) and hosts:
                raise DeviceMixError(
                    f"{name or func} combines tensors on the training device with host (CPU) tensors "
                    f"{', '.join(_describe(t) for t in hosts)}: on an accelerator this fails. "
                    "Create the host tensors on the training device, or move them there.")

        out = func(*args, **kwargs)
        explicit = _is_device(kwargs.get("device"))
        target = bool(device_inputs) if explicit is None else explicit
        inputs = {id(t) for t in tensors}
        for t in tree_flatten(out)[0]:
            if isinstance(t, torch.Tensor) and id(t) not in inputs:  # in-place results keep their place
                _mark(t, target)
        return out

    def _move(self, func, name, args, kwargs):
        source = args[0]
        if name == "cpu":
            target = False
        elif name == "cuda":
            target = True
        else:
            rest = args[1:]
            if rest and isinstance(rest[0], torch.Tensor):  # .to(other): other's device
                target = on_device(rest[0])
            else:
                device = kwargs.get("device")
                if device is None and rest and isinstance(rest[0], (str, torch.device, int)) \
                        and not isinstance(rest[0], bool):
                    device = rest[0]
                target = on_device(source) if _is_device(device) is None else _is_device(device)
        if name == "cuda":  # no cuda here: move to the simulated device instead
            out = source.to(TRAINING_DEVICE)
        else:
            if name != "cpu" and target and kwargs.get("device") is not None and _is_device(kwargs["device"]):
                kwargs = {**kwargs, "device": TRAINING_DEVICE}
            out = func(*args, **kwargs)
        if target != on_device(source) and out is source:  # a real move copies
            out = source.clone()
        return _mark(out, target)
