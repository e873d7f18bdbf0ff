"""Small collectives shared by rayqa's Ray Train worker loops.

All of them also work in a single process without ``torch.distributed`` (unit tests,
``ScalingConfig(num_workers=0)``), and NCCL-safe: tensors go to the GPU when the
process group is NCCL.
"""

from __future__ import annotations

import torch
import torch.distributed as dist

from rayqa.eval import score_by_language


def log(message: str) -> None:
    """Progress line from rank 0 only (workers' stdout reaches the driver)."""
    if rank_world()[0] == 0:
        print(f"[rayqa.train] {message}", flush=True)


def rank_world() -> tuple[int, int]:
    """``(rank, world_size)``; ``(0, 1)`` outside a process group."""
    if dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def gather(obj) -> list:
    """Every rank's ``obj`` (picklable), in rank order."""
    if not dist.is_initialized():
        return [obj]
    out = [None] * dist.get_world_size()
    dist.all_gather_object(out, obj)
    return out


def all_reduce(values: list[float], op=None) -> torch.Tensor:
    """All-reduce a few numbers; NCCL only reduces tensors that live on the GPU."""
    if not dist.is_initialized():
        return torch.tensor(values, dtype=torch.float64)
    device = torch.device("cpu")
    if dist.get_backend() == "nccl":
        device = torch.device("cuda", torch.cuda.current_device())
    tensor = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(tensor, op=op or dist.ReduceOp.SUM)
    return tensor.cpu()


def mean_across_workers(total: float, count: int) -> float:
    """Global mean from each worker's partial sum and count."""
    summed = all_reduce([total, float(count)])
    return (summed[0] / summed[1].clamp(min=1)).item()


def max_across_workers(value: int) -> int:
    """Largest ``value`` over all workers."""
    op = dist.ReduceOp.MAX if dist.is_initialized() else None
    return int(all_reduce([float(value)], op=op)[0].item())


def sharded_dev_scores(examples: list, predict_shard, scoring: str = "mlqa") -> dict:
    """Dev EM/F1 per language (``score_by_language`` with ``scoring``: MLQA rules, or
    CMRC's for Chinese) and their macro average, flat for reporting.

    Each rank answers its share ``examples[rank::world]`` with ``predict_shard`` (which
    returns ``{id: answer}``); the predictions are gathered so every rank reports the
    same numbers.
    """
    if not examples:
        return {}
    rank, world = rank_world()
    predictions: dict[str, str] = {}
    for part in gather(predict_shard(examples[rank::world])):
        predictions.update(part)
    scores = score_by_language(examples, predictions, scoring)
    flat = {f"dev/{lang}/{name}": value
            for lang, values in scores.items() for name, value in values.items()}
    flat["dev_exact_match"] = sum(v["exact_match"] for v in scores.values()) / len(scores)
    flat["dev_f1"] = sum(v["f1"] for v in scores.values()) / len(scores)
    return flat
