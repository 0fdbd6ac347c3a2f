"""Scaling out: sweeps of many runs (local processes or Ray) and multi-process training
(torch.distributed). Nothing here imports Ray until a Ray sweep asks for it."""
