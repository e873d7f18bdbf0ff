"""Ray Train worker loop for mDPR (DeepSpeed; in-batch negatives from every worker).

Each step every worker encodes its questions, their positives and their hard negatives
(drawn anew every epoch from all of a question's mined negatives, ``sample_negatives``);
the question and passage vectors of all workers are gathered, so each question is scored
against the positives and hard negatives of the whole global batch (DPR's recipe). The
gathered copies carry no gradient; each worker puts its own, differentiable vectors back
into its slice, so a worker's backward covers every loss term its vectors appear in.
Every worker computes the same global loss; DeepSpeed averages the workers' gradients,
so the loss is scaled by the world size first to make the update the gradient of the
global mean loss, exactly as one process holding the whole batch would compute it.

Validation encodes the dev questions and the pool of dev passages (all positives and
hard negatives of the dev file) and reports recall@k and the average rank of the first
positive, with a checkpoint, at the end of every ``checkpoint_every`` epochs.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import ray
import torch
import torch.distributed as dist

from rayqa import storage
from rayqa.config import MDPRJobConfig
from rayqa.models.biencoder import (
    PADDING_KEY,
    PASSAGE_DIR,
    QUERY_DIR,
    BiEncoder,
    biencoder_nll,
)
from rayqa.train.data import ShardLoader, featurized_dataset
from rayqa.train.distributed import gather, max_across_workers, rank_world
from rayqa.train.loop import checkpoint_and_log, run_epochs, start_engine, summarize

RECALL_AT = (1, 5, 20)
TRAIN = "train"  # the trainer's dataset of training questions


@dataclass
class Context:
    """A passage of the training data: `[CLS] title [SEP] text [SEP]` to the encoder."""

    title: str
    text: str
    id: str | None = None

    @property
    def key(self) -> int:
        """Non-negative int64 identity of title and text.

        Content, not id: the same paragraph read from a SQuAD file (no id) and from a
        passages file (with one) must be recognized as one passage.
        """
        digest = hashlib.blake2b(f"{self.title}\x00{self.text}".encode(), digest_size=8)
        return int.from_bytes(digest.digest(), "little") >> 1


@dataclass
class DPRExample:
    """One training or dev question with its passages.

    Attributes:
        id: Question id.
        question: The question text.
        lang: Language of the question.
        answers: Answer strings (used to keep BM25-mined negatives answer-free).
        positives: Passages that answer it; training uses the first (as DPR does), dev
            ranking counts any.
        hard_negatives: Passages that do not answer it, best first; training draws
            ``data.hard_negatives`` of them anew every epoch (``sample_negatives``).
    """

    id: str
    question: str
    lang: str
    answers: list[str]
    positives: list[Context]
    hard_negatives: list[Context] = field(default_factory=list)


@dataclass
class DevSet:
    """Dev questions, the passage pool they are ranked against, and their positives."""

    questions: list[str]
    passages: list[Context]
    positive_rows: list[list[int]]


def sample_negatives(negatives: list[Context], count: int, seed: int, epoch: int,
                     example_id: str) -> list[Context]:
    """The `count` hard negatives a question trains on in `epoch` (all when no more exist).

    The draw is a function of ``(seed, epoch, example_id)`` alone, not of a running RNG:
    a run resumed mid-epoch (which collates the batches it skips, and restarts workers)
    draws exactly what the uninterrupted run drew, and every epoch sees another subset
    of a question's mined negatives instead of always the first ones.

    Returns:
        The drawn negatives in their original (best-first) order.
    """
    if len(negatives) <= count:
        return list(negatives)
    if count <= 0:
        return []
    digest = hashlib.blake2b(f"{seed}\x00{epoch}\x00{example_id}".encode(), digest_size=8)
    rng = np.random.default_rng(int.from_bytes(digest.digest(), "little"))
    return [negatives[i] for i in np.sort(rng.choice(len(negatives), count, replace=False))]


class BiEncoderCollator:
    """Tokenizes a batch of `DPRExample`s into question and passage inputs.

    Passages come as `[positives of the batch; hard_negatives slots per question]`; the
    slots hold negatives drawn for the current epoch (``set_epoch``, ``sample_negatives``);
    a question with fewer hard negatives gets empty slots keyed `PADDING_KEY`, so every
    worker's block has the same shape (``all_gather`` needs that).

    Args:
        tokenizer: The encoders' tokenizer.
        max_query_length: Questions are cut to this many tokens.
        max_passage_length: Passages are cut to this many tokens (text first, never title).
        hard_negatives: Hard-negative slots per question.
        seed: Seed of the per-epoch draw of hard negatives (the training seed).
    """

    def __init__(self, tokenizer, max_query_length: int, max_passage_length: int,
                 hard_negatives: int, seed: int = 0):
        self.tokenizer = tokenizer
        self.max_query_length = max_query_length
        self.max_passage_length = max_passage_length
        self.hard_negatives = hard_negatives
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Draw the hard negatives of `epoch` from now on."""
        self.epoch = epoch

    def __call__(self, examples: list[DPRExample]) -> dict:
        passages = [e.positives[0] for e in examples]
        keys = [p.key for p in passages]
        for example in examples:
            chosen = sample_negatives(example.hard_negatives, self.hard_negatives, self.seed,
                                      self.epoch, example.id)
            passages += chosen + [Context("", "")] * (self.hard_negatives - len(chosen))
            keys += [p.key for p in chosen] + [PADDING_KEY] * (self.hard_negatives - len(chosen))
        return {"queries": self.queries([e.question for e in examples]),
                "passages": self.passages(passages),
                "keys": torch.tensor(keys, dtype=torch.int64)}

    def queries(self, questions: list[str]) -> dict:
        """`[CLS] question [SEP]` inputs."""
        return dict(self.tokenizer(questions, truncation=True, max_length=self.max_query_length,
                                   padding=True, return_tensors="pt"))

    def passages(self, passages: list[Context]) -> dict:
        """`[CLS] title [SEP] text [SEP]` inputs; only the text is ever truncated."""
        return dict(self.tokenizer([p.title for p in passages], [p.text for p in passages],
                                   truncation="only_second", max_length=self.max_passage_length,
                                   padding=True, return_tensors="pt"))


def splice_local(parts: list[torch.Tensor], local: torch.Tensor, rank: int) -> torch.Tensor:
    """Concatenates gathered `parts` with `local` (which has a gradient) in slot `rank`."""
    parts = list(parts)
    parts[rank] = local
    return torch.cat(parts)


def gather_with_grad(local: torch.Tensor) -> torch.Tensor:
    """All workers' `local` tensors stacked by rank; gradients reach this worker's own."""
    rank, world = rank_world()
    if world == 1:
        return local
    parts = [torch.empty_like(local) for _ in range(world)]
    dist.all_gather(parts, local.detach().contiguous())
    return splice_local(parts, local, rank)


def global_loss(queries: torch.Tensor, passages: torch.Tensor,
                keys: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The NLL over the global batch from this worker's vectors (see the module docstring).

    Args:
        queries: `[b, dim]` this worker's question vectors.
        passages: `[b * (1 + hard_negatives), dim]` its positives, then hard negatives.
        keys: `[len(passages)]` their keys (`BiEncoderCollator`).

    Returns:
        The mean loss over all workers' questions and the `[world * b, world * len(passages)]`
        score matrix.
    """
    _, world = rank_world()
    local_q, local_p = len(queries), len(passages)
    all_q = gather_with_grad(queries.float())
    all_p = gather_with_grad(passages.float())
    all_keys = gather_with_grad(keys)
    # Worker r's question j has its positive at column r * local_p + j.
    cols = (torch.arange(world, device=all_q.device)[:, None] * local_p
            + torch.arange(local_q, device=all_q.device)[None, :]).flatten()
    return biencoder_nll(all_q, all_p, cols, all_keys)


def biencoder_train_loop(config: dict) -> None:
    """``train_loop_per_worker`` of the mDPR ``TorchTrainer``.

    Args:
        config: ``{"cfg": MDPRJobConfig as a dict, "rows": {"train": rows of the
            training dataset (``train_dataset``)}, "dev": ObjectRef of a DevSet or None,
            "select": ...}``.
    """
    from transformers import AutoTokenizer

    cfg = MDPRJobConfig.model_validate(config["cfg"])
    torch.manual_seed(cfg.train.seed)
    model_path = storage.local_model(cfg.encoder.name_or_path)  # s3:// -> local copy
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir(model_path))
    collator = BiEncoderCollator(tokenizer, cfg.encoder.max_query_length,
                                 cfg.encoder.max_passage_length, cfg.data.hard_negatives,
                                 cfg.train.seed)
    loader = ShardLoader(TRAIN, config["rows"][TRAIN], cfg.train.batch_size, cfg.train.seed,
                         ExampleCollator(collator))  # tells the collator the epoch
    engine, state = start_engine(BiEncoder.from_pretrained(model_path), cfg.train, len(loader))
    dev = ray.get(config["dev"])
    # Dev recall@k and average rank at the evaluated checkpoints (when there is a dev set).
    checkpoint = partial(
        checkpoint_and_log, engine, EncoderTokenizers(tokenizer), cfg, summary=_summary,
        dev_metrics=None if dev is None else partial(evaluate, engine, collator, dev,
                                                     cfg.train.eval_batch_size),
        select=config.get("select"))
    run_epochs(engine, loader, state, cfg.train, global_batch_loss, checkpoint)


def global_batch_loss(engine, batch: dict) -> tuple:
    """NLL over the global batch; backward scaled by the world size (module docstring)."""
    batch = _to_device(batch, engine.device)
    queries, passages = engine(batch["queries"], batch["passages"])
    loss, _ = global_loss(queries, passages, batch["keys"])
    return loss * rank_world()[1], loss  # DeepSpeed averages gradients over workers


def _summary(metrics: dict) -> str:
    return summarize(metrics, [key for key in metrics if key.startswith(("train", "dev"))])


def tokenizer_dir(name_or_path: str) -> str:
    """The query encoder's directory of a saved bi-encoder, else `name_or_path` itself."""
    query_dir = Path(name_or_path) / QUERY_DIR
    return str(query_dir) if query_dir.is_dir() else name_or_path


class EncoderTokenizers:
    """Saves the tokenizer into both encoder directories of a checkpoint.

    ``report_checkpoint`` calls ``tokenizer.save_pretrained(checkpoint_dir)``; this makes
    each of ``query_encoder/`` and ``passage_encoder/`` a self-contained
    ``from_pretrained`` directory (what ``TextEncoder`` loads).
    """

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer

    def save_pretrained(self, directory: str | Path) -> None:
        for name in (QUERY_DIR, PASSAGE_DIR):
            self.tokenizer.save_pretrained(str(Path(directory) / name))


def train_dataset(examples: list[DPRExample], cfg: MDPRJobConfig) -> dict[str, tuple]:
    """The training questions as a Ray Dataset split across workers: ``{"train": ...}``.

    The split gives every worker the same number of questions, so the i-th batches of
    all workers have one shape, as the gathering of vectors requires.
    """
    return {TRAIN: featurized_dataset(train_rows(examples), None, {},
                                      world_size=max(1, cfg.train.num_workers))}


def train_rows(examples: list[DPRExample]) -> list[dict]:
    """Rows of what a step uses of a question: its id, text, first positive and every
    hard negative (the collator draws the epoch's ones and tokenizes them per batch)."""
    return [{"id": e.id, "question": e.question,
             "positive": [e.positives[0].title, e.positives[0].text],
             "negatives": json.dumps([[c.title, c.text] for c in e.hard_negatives],
                                     ensure_ascii=False)} for e in examples]


class ExampleCollator:
    """``BiEncoderCollator`` over rows of ``train_rows``."""

    def __init__(self, collator: BiEncoderCollator):
        self.collator = collator

    def set_epoch(self, epoch: int) -> None:
        """Draw the hard negatives of ``epoch`` (``ShardLoader.set_epoch`` calls it, on
        fresh and resumed runs alike)."""
        self.collator.set_epoch(epoch)

    def __call__(self, rows: list[dict]) -> dict:
        return self.collator([
            DPRExample(row["id"], row["question"], "", [], [Context(*row["positive"])],
                       [Context(*pair) for pair in json.loads(row["negatives"])])
            for row in rows])


def _to_device(batch: dict, device) -> dict:
    moved = {}
    for name, value in batch.items():
        if isinstance(value, dict):
            moved[name] = {k: t.to(device) for k, t in value.items()}
        else:
            moved[name] = value.to(device)
    return moved


def evaluate(engine, collator: BiEncoderCollator, dev: DevSet, batch_size: int) -> dict:
    """Dev recall@k and average rank of the positive among all dev passages.

    Each worker encodes its share of the questions and passages; the vectors are
    gathered, and every worker ranks all of them (the same numbers on every rank).
    """
    model = engine.module
    was_training = model.training
    model.eval()
    with torch.no_grad():
        questions = _encode_all(dev.questions, batch_size, collator.queries,
                                model.encode_queries, engine.device)
        passages = _encode_all(dev.passages, batch_size, collator.passages,
                               model.encode_passages, engine.device)
    model.train(was_training)
    return {f"dev_{name}": value
            for name, value in retrieval_ranks(questions, passages, dev.positive_rows).items()}


def _encode_all(items: list, batch_size: int, tokenize, encode, device) -> np.ndarray:
    """Vectors `encode(**tokenize(batch))` of `items` in order, gathered from all workers.

    Each worker encodes every world-th item. Every worker runs the same number of
    forward passes (ZeRO-3 gathers parameters in each), repeating a batch when it has
    fewer items.
    """
    rank, world = rank_world()
    shard = items[rank::world] or items[:1]
    batches = [shard[i:i + batch_size] for i in range(0, len(shard), batch_size)]
    needed = max_across_workers(len(batches))
    vectors = [encode(**_to_device(tokenize(batches[min(i, len(batches) - 1)]), device))
               .float().cpu().numpy()
               for i in range(needed)][:len(batches)]
    mine = np.concatenate(vectors)[:len(items[rank::world])]
    out = np.zeros((len(items), mine.shape[1]), np.float32)
    for r, part in enumerate(gather(mine)):
        out[r::world] = part
    return out


def retrieval_ranks(questions: np.ndarray, passages: np.ndarray,
                    positive_rows: list[list[int]], ks: tuple[int, ...] = RECALL_AT) -> dict:
    """Recall@k and average rank of each question's best-ranked positive, by inner product.

    Args:
        questions: `[q, dim]` question vectors.
        passages: `[p, dim]` passage vectors.
        positive_rows: Per question, the passage rows that answer it.
        ks: Cut-offs; those above the number of passages are left out.

    Returns:
        `{"recall@k": fraction, ..., "avg_rank": mean 1-based rank}`.
    """
    scores = questions @ passages.T
    ranks = np.array([1 + int((row > row[rows].max()).sum())
                      for row, rows in zip(scores, positive_rows)])
    metrics = {f"recall@{k}": float((ranks <= k).mean()) for k in ks if k <= len(passages)}
    metrics["avg_rank"] = float(ranks.mean())
    return metrics
