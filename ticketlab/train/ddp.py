"""Multi-process training with torch.distributed (DDP), as `torchrun` launches it.

`torchrun --nproc-per-node N -m ticketlab train ...` starts N copies of the same program
(one per GPU). They stay in step because they run the same code on the same files
(SPMD); this module holds the few places where they differ or meet:

- `setup` joins the job that torchrun describes in the environment (WORLD_SIZE > 1):
  nccl on CUDA (one GPU per rank, `cuda:LOCAL_RANK`), gloo on CPU. A single process
  never initializes anything, so its behaviour is exactly that of a plain run.
- `shard` gives each rank its contiguous slice of every global batch; DDP (`wrap`)
  averages the gradients, so an update equals the single-process update of that batch.
- `broadcast_mask` and `from_rank0` make masks and evaluation records rank 0's on every
  rank, so every rank takes the same decisions.
- Only rank 0 writes files, and the ranks change the file system together: that is
  `core/ranks.py`, the lowest layer, since the store needs it on every write.

Nothing here imports torch until a job needs it.
"""
from __future__ import annotations

import atexit
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from ..core.errors import SpecError, TicketlabError
from ..core.ranks import active, is_writer, local_rank, rank, world_size

if TYPE_CHECKING:
    import torch

    from ..sparse import Mask

T = TypeVar("T")


# -- joining and leaving the job --------------------------------------------------------------
def setup(device: "torch.device") -> "torch.device":
    """Join the torchrun job, if the environment describes one; returns this rank's device.

    On CUDA every rank takes the GPU of its local rank (whatever index was asked for);
    the backend is nccl there and gloo on CPU."""
    if world_size() <= 1:
        return device
    import torch
    import torch.distributed as dist

    if not dist.is_available():
        raise TicketlabError("WORLD_SIZE > 1 asks for a multi-process job, but this PyTorch build has no "
                             "torch.distributed. Run ticketlab in one process (without torchrun).")
    if device.type == "cuda":
        device = torch.device("cuda", local_rank())
        torch.cuda.set_device(device)
    backend = "nccl" if device.type == "cuda" else "gloo"
    if not dist.is_initialized():
        dist.init_process_group(backend, device_id=device if device.type == "cuda" else None)
        atexit.register(_leave)
    elif dist.get_backend() != backend:
        raise TicketlabError(f"This job's ranks communicate with {dist.get_backend()}, which cannot carry "
                             f"{device.type} tensors. Use one device type for every run of the job.")
    return device


def _leave() -> None:
    import torch.distributed as dist

    if dist.is_initialized():
        dist.destroy_process_group()


# -- training -------------------------------------------------------------------------------
def check_batch_size(batch_size: int, ranks: int | None = None) -> None:
    """Refuse a global batch that the ranks cannot share equally."""
    ranks = world_size() if ranks is None else ranks
    if ranks > 1 and batch_size % ranks:
        raise SpecError(f"The batch size {batch_size} cannot be split evenly over {ranks} processes: "
                        f"under DDP batch_size is the global batch, and each process takes "
                        f"batch_size / {ranks} examples of it. Use a multiple of {ranks} (e.g. "
                        f"--set batch_size={batch_size - batch_size % ranks or ranks}) or another --nproc-per-node.")


def shard(batch: "torch.Tensor") -> "torch.Tensor":
    """This rank's contiguous slice of a global batch (a view; a last batch that does not
    divide evenly gives slices one example apart in size)."""
    import torch

    return torch.tensor_split(batch, world_size())[rank()]


def wrap(model: "torch.nn.Module", device: "torch.device") -> "torch.nn.Module":
    """`model` under DistributedDataParallel, which starts from rank 0's weights and
    averages gradients over the ranks during backward. The wrapper shares `model`'s
    parameters, so masks enforced on `model` act on what DDP trains, and `model`'s
    state_dict keeps its plain keys (no `module.` prefix)."""
    from torch.nn.parallel import DistributedDataParallel

    return DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)


def mean_over_ranks(value: "torch.Tensor") -> "torch.Tensor":
    """The mean of `value` over the ranks (a new tensor); `value` itself outside a job."""
    if not active():
        return value
    import torch.distributed as dist

    total = value.detach().clone()
    dist.all_reduce(total)
    return total / dist.get_world_size()


def broadcast_mask(mask: "Mask") -> "Mask":
    """Rank 0's `mask` on every rank, in one broadcast of all its tensors."""
    if not active():
        return mask
    import torch
    import torch.distributed as dist

    from ..sparse import Mask

    names = list(mask)
    flat = torch.cat([mask[n].reshape(-1) for n in names]).to(device=_comm_device(), dtype=torch.uint8)
    dist.broadcast(flat, src=0)
    parts = flat.split([mask[n].numel() for n in names])
    return Mask({n: p.view(mask[n].shape).to(mask[n].device) for n, p in zip(names, parts)})


def from_rank0(value: T | Callable[[], T]) -> T:
    """Rank 0's `value` on every rank; a callable is called on rank 0 only, so work that
    all ranks would repeat identically (evaluation) is done once."""
    compute = value if callable(value) else (lambda: value)
    if not active():
        return compute()
    import torch.distributed as dist

    box: list[Any] = [compute() if is_writer() else None]
    dist.broadcast_object_list(box, src=0, device=_comm_device())
    return box[0]


def _comm_device() -> "torch.device":
    import torch
    import torch.distributed as dist

    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")
