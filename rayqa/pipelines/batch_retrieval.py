"""Batch retrieval, generation and extractive reading as Ray Data actor pools.

`BatchRetriever` holds a query encoder, a dense index and the memory-mapped passage
store (loaded once per actor, from a local path or a cached copy of a URI), so the
query encoder may differ from the one that encoded the passages: CORA keeps its
first round's query encoder at inference while passages are encoded with the newest
passage encoder. `BatchGenerator` holds an mGEN `GenerativeReader`, `BatchReader` an
`ExtractiveReader` (a reader, or an Answer Aligner / Verifier). Passages travel
between the steps and the driver as JSON strings (`ctxs`), since their lists of dicts
have no fixed Arrow schema. `pool_column` runs any such step over rows and returns its
output column in row order.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

CTXS = "ctxs"  # JSON list of passages, best first
PREDICTION = "prediction"


class BatchRetriever:
    """Ray Data step: adds `ctxs`, the top-k passages of each `question` of a batch.

    Args:
        query_encoder: `from_pretrained` directory of the question encoder (path or URI).
        index_dir: An index directory of `rayqa.retrieval.build.build_index` (path or URI).
        top_k: Passages per question.
        max_length: Longest question in tokens.
        device: `cuda` or `cpu`.
    """

    def __init__(self, query_encoder: str, index_dir: str, top_k: int, max_length: int = 64,
                 device: str = "cpu"):
        from rayqa.storage import read_manifest
        from rayqa.retrieval.encode import TextEncoder
        from rayqa.retrieval.faiss_shards import load_dense_index
        from rayqa.retrieval.passage_store import PassageStore
        from rayqa.retrieval.retriever import fetch_index

        local = fetch_index(index_dir)
        self.encoder = TextEncoder(query_encoder, max_length, "cls", device)
        self.index = load_dense_index(local)
        self.passages = PassageStore.from_manifest(str(local), read_manifest(local, verify=False))
        self.top_k = top_k

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        vectors = self.encoder.encode_queries([str(q) for q in batch["question"]])
        scores, rows = self.index.search(vectors, self.top_k)
        batch[CTXS] = np.asarray([
            json.dumps([{**self.passages[int(r)].to_dict(), "score": float(s)}
                        for r, s in zip(row, score) if r >= 0], ensure_ascii=False)
            for row, score in zip(rows, scores)], dtype=object)
        return batch


class BatchGenerator:
    """Ray Data step: adds mGEN's `prediction` for each `question`, `lang` and `ctxs`.

    Args:
        model_dir: An mGEN `from_pretrained` directory (path or URI).
        batch_size: Questions per `generate` call.
        device: `cuda` or `cpu`.
    """

    def __init__(self, model_dir: str, batch_size: int = 16, device: str = "cpu"):
        from rayqa.answer.generative import GenerativeReader

        self.reader = GenerativeReader(model_dir, device=device, batch_size=batch_size)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        answers = self.reader.answer_batch([str(q) for q in batch["question"]],
                                           [str(lang) for lang in batch["lang"]],
                                           [json.loads(c) for c in batch[CTXS]])
        batch[PREDICTION] = np.asarray([a["answer"] for a in answers], dtype=object)
        return batch


class BatchReader:
    """Ray Data step: adds an `ExtractiveReader`'s `prediction` for each `id`,
    `question` and `context` (an aligner or verifier also reads `translated_answer`).

    Args:
        model_dir: A reader export (path or URI).
        batch_size: Windows per forward pass.
        device: `cuda` or `cpu`.
    """

    def __init__(self, model_dir: str, batch_size: int = 32, device: str = "cpu"):
        from rayqa.answer.extractive import ExtractiveReader

        self.reader = ExtractiveReader(model_dir, device=device, batch_size=batch_size)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        from rayqa.data.squad import QAExample

        translated = batch.get("translated_answer", [None] * len(batch["id"]))
        examples = [QAExample(str(i), str(q), str(c),
                              translated_answer=None if t is None else str(t))
                    for i, q, c, t in zip(batch["id"], batch["question"], batch["context"],
                                          translated)]
        answers = self.reader.predict(examples)
        batch[PREDICTION] = np.asarray([answers[e.id] for e in examples], dtype=object)
        return batch


def pool_column(rows: Sequence[Mapping], step, kwargs: dict, columns: Sequence[str], out: str,
                *, batch_size: int, num_actors: int, cpus_per_actor: float,
                use_gpu: bool) -> list:
    """Runs the Ray Data step `step` over `rows` on an actor pool; returns column `out`
    in row order.

    Args:
        rows: Mappings holding (at least) `columns`.
        step: A callable class; its constructor gets `kwargs` and `device`.
        kwargs: Constructor arguments (paths made absolute: actors run elsewhere).
        columns: The columns of `rows` the step reads.
        out: The column it adds.
        batch_size: Rows per call.
        num_actors: Actors in the pool.
        cpus_per_actor: CPUs reserved per actor.
        use_gpu: One GPU per actor (`device` cuda).
    """
    import ray
    from ray.data import ActorPoolStrategy

    items = [{"row": i, **{c: row[c] for c in columns}} for i, row in enumerate(rows)]
    if not items:
        return []
    blocks = max(1, min(len(items) // batch_size, 8 * num_actors))
    ds = ray.data.from_items(items, override_num_blocks=blocks).map_batches(
        step, compute=ActorPoolStrategy(size=num_actors), batch_size=batch_size,
        num_cpus=cpus_per_actor, num_gpus=1 if use_gpu else 0,
        fn_constructor_kwargs={**kwargs, "device": "cuda" if use_gpu else "cpu"})
    result: list = [None] * len(items)
    # The pool may reorder blocks; the row number puts every answer back in place.
    for batch in ds.iter_batches(batch_format="numpy"):
        for row, value in zip(batch["row"], batch[out]):
            result[int(row)] = value
    return result


def retrieve_ray(questions: Sequence[Mapping], query_encoder: str | Path,
                 index_dir: str | Path, top_k: int, cfg, max_length: int = 64) -> list[list[dict]]:
    """Top-k passages (dicts with `score`) of every question, in question order.

    Args:
        questions: Dicts with `question`.
        query_encoder: The question encoder directory.
        index_dir: The index directory.
        top_k: Passages per question.
        cfg: Pool settings (`batch_size`, `num_actors`, `cpus_per_actor`, `use_gpu`),
            e.g. a `CORARetrievalConfig`.
        max_length: Longest question in tokens.
    """
    from rayqa import storage

    # Absolute: the actors run in their own working directory.
    found = pool_column(questions, BatchRetriever,
                 {"query_encoder": storage.absolute(query_encoder),
                  "index_dir": storage.absolute(index_dir),
                  "top_k": top_k, "max_length": max_length}, ["question"], CTXS,
                 batch_size=cfg.batch_size, num_actors=cfg.num_actors,
                 cpus_per_actor=cfg.cpus_per_actor, use_gpu=cfg.use_gpu)
    return [json.loads(c) for c in found]


def generate_ray(rows: Sequence[Mapping], model_dir: str | Path, cfg) -> list[str]:
    """mGEN answers for rows with `question`, `lang` and `ctxs` (a list of passages).

    Args:
        rows: The inputs; `ctxs` may be empty (closed book).
        model_dir: The mGEN directory (path or URI).
        cfg: Pool settings (`batch_size`, `num_actors`, `cpus_per_actor`, `use_gpu`),
            e.g. a `CORAMiningConfig`.
    """
    from rayqa import storage

    items = [{"question": r["question"], "lang": r["lang"],
              CTXS: json.dumps(list(r[CTXS]), ensure_ascii=False)} for r in rows]
    # Absolute: the actors run in their own working directory.
    return [str(a) for a in pool_column(items, BatchGenerator,
                                        {"model_dir": storage.absolute(model_dir),
                                         "batch_size": cfg.batch_size},
                                        ["question", "lang", CTXS], PREDICTION,
                                        batch_size=cfg.batch_size, num_actors=cfg.num_actors,
                                        cpus_per_actor=cfg.cpus_per_actor, use_gpu=cfg.use_gpu)]


def read_ray(rows: Sequence[Mapping], model_dir: str | Path, cfg) -> list[str]:
    """An extractive reader's answer ("" when no span) for rows with `id`, `question`
    and `context` (and `translated_answer` for an aligner or verifier), in row order.

    Args:
        rows: The inputs; ids must be unique.
        model_dir: The reader export (path or URI).
        cfg: Pool settings (`batch_size`, `num_actors`, `cpus_per_actor`, `use_gpu`),
            e.g. a `ReadingConfig`.
    """
    from rayqa import storage

    columns = ["id", "question", "context"]
    if rows and "translated_answer" in rows[0]:
        columns.append("translated_answer")
    # Absolute: the actors run in their own working directory.
    return [str(a) for a in pool_column(rows, BatchReader,
                                        {"model_dir": storage.absolute(model_dir),
                                         "batch_size": cfg.batch_size},
                                        columns, PREDICTION, batch_size=cfg.batch_size,
                                        num_actors=cfg.num_actors,
                                        cpus_per_actor=cfg.cpus_per_actor, use_gpu=cfg.use_gpu)]
