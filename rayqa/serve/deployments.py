"""The model-holding Serve deployments, named `Retriever`, `Reader`, `Generator` and
`Translator` in Serve.

Each replica loads its model once in `__init__` and answers through a `@serve.batch`
method, so concurrent HTTP requests become one index search or one reader forward
pass. The batch size and wait come from `ServeAppConfig` at construction (the decorator
only sets a placeholder). The blocking model call runs in a worker thread so the
replica's event loop stays free for health checks and for filling the next batch.

Every batch is counted in the `rayqa_batch_size` histogram (Serve adds the deployment
and replica tags), and a replica whose last `UNHEALTHY_AFTER` batches all raised fails
Serve's `check_health`, so Serve replaces it instead of letting it fail every request.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict

from ray import serve
from ray.serve import metrics

logger = logging.getLogger("rayqa.serve")

UNHEALTHY_AFTER = 3  # consecutive failed batches that make a replica unhealthy
BATCH_SIZE_BOUNDARIES = [1, 2, 4, 8, 16, 32, 64, 128]


class _BatchedModel:
    """What every model deployment shares: batching settings, the model call off the
    event loop, batch-size metrics, and a health check that fails after
    `UNHEALTHY_AFTER` batches in a row raised."""

    def _setup_batching(self, batched_method, max_batch_size: int, wait_s: float) -> None:
        """Applies the config's batching settings to a `@serve.batch` method."""
        batched_method.set_max_batch_size(max_batch_size)
        batched_method.set_batch_wait_timeout_s(wait_s)
        self._batch_sizes = metrics.Histogram(
            "rayqa_batch_size", description="Requests served by one batched model call.",
            boundaries=BATCH_SIZE_BOUNDARIES)
        self._failed_batches = 0
        self._last_failure = ""

    async def _run(self, fn, *args, **kwargs):
        """Runs one batch's blocking model call in a worker thread, keeping count of
        batch sizes and of consecutive failures."""
        self._batch_sizes.observe(len(args[0]))
        try:
            result = await asyncio.to_thread(fn, *args, **kwargs)
        except Exception as err:
            self._failed_batches += 1
            self._last_failure = f"{type(err).__name__}: {err}"[:300]
            logger.exception("batch of %d failed (%d in a row)", len(args[0]),
                             self._failed_batches)
            raise
        self._failed_batches = 0
        return result

    def check_health(self) -> None:
        """Serve's periodic health check: raises after `UNHEALTHY_AFTER` failed batches
        in a row, so Serve replaces the replica."""
        if self._failed_batches >= UNHEALTHY_AFTER:
            raise RuntimeError(f"the last {self._failed_batches} batches failed; last: "
                               f"{self._last_failure}")


@serve.deployment(name="Retriever")
class RetrieverDeployment(_BatchedModel):
    """Serves `rayqa.retrieval.retriever.Retriever` over a built index.

    Args:
        index_dir: Directory written by `rayqa.retrieval.build.build_index`, a local
            path or a URI; a URI is downloaded once per node and checked against the
            index manifest. The FAISS index (for CPU search) and the passage store are
            memory-mapped, so the replicas on a node share their pages.
        mode: Retrieval mode passed to the library retriever.
        max_batch_size: Most queries searched together.
        batch_wait_timeout_s: How long the first query of a batch waits for company.
        query_encoder: Question encoder overriding the one the index manifest names.
    """

    def __init__(self, index_dir: str, mode: str, max_batch_size: int = 8,
                 batch_wait_timeout_s: float = 0.01, query_encoder: str | None = None):
        # Imported here: the module loads FAISS and torch, which only replicas need.
        from rayqa.retrieval.retriever import Retriever

        self._retriever = Retriever(index_dir, mode, query_encoder=query_encoder)
        self._index_dir, self._query_encoder = index_dir, query_encoder
        self._languages: dict[str, int] | None = None
        self._setup_batching(self.search, max_batch_size, batch_wait_timeout_s)

    @serve.batch
    async def search(self, questions: list[str], langs: list[str | None],
                     top_ks: list[int]) -> list[list[dict]]:
        """Retrieves passages for a batch of questions.

        Called one question at a time (`handle.search.remote(question, lang, top_k)`);
        Serve gathers the calls into these lists.

        Args:
            questions: The questions.
            langs: Language code per question, None for any language.
            top_ks: Passages wanted per question.

        Returns:
            Per question, its best passages `{"id","title","text","lang","score"}`.
        """
        # One search at the largest k serves every request; each keeps its own prefix.
        results = await self._run(self._retriever.search, questions, langs, max(top_ks))
        return [hits[:k] for hits, k in zip(results, top_ks)]

    def info(self) -> dict:
        """Returns `{"index_dir", "mode", "index_size", "languages", "encoder"}` for the
        health check and `/v1/info` (passages per language counted once, on first call)."""
        if self._languages is None:
            self._languages = self._retriever.passages.languages()
        encoder = self._retriever.manifest.get("encoder") or {}
        return {"index_dir": self._index_dir, "mode": self._retriever.mode,
                "index_size": len(self._retriever.passages), "languages": self._languages,
                "encoder": {"passages": encoder.get("name_or_path"),
                            "queries": self._query_encoder or encoder.get(
                                "query_name_or_path") or encoder.get("name_or_path")}}


@serve.deployment(name="Reader")
class ReaderDeployment(_BatchedModel):
    """Serves `rayqa.answer.extractive.ExtractiveReader`.

    Args:
        model_dir: `save_pretrained` directory of the reader.
        max_batch_size: Most questions read together.
        batch_wait_timeout_s: How long the first question of a batch waits for company.
    """

    def __init__(self, model_dir: str, max_batch_size: int = 8,
                 batch_wait_timeout_s: float = 0.01):
        # Imported here: transformers and torch load only in reader replicas.
        from rayqa.answer.extractive import ExtractiveReader

        self._reader = ExtractiveReader(model_dir)
        self._model_dir = model_dir
        self._setup_batching(self.answer, max_batch_size, batch_wait_timeout_s)

    @serve.batch
    async def answer(self, questions: list[str], passages: list[list[str]]) -> list[dict]:
        """Extracts the best answer span of each question from its passages.

        Called one question at a time (`handle.answer.remote(question, texts)`).

        Args:
            questions: The questions.
            passages: Per question, the passage texts to read.

        Returns:
            Per question `{"answer", "score", "passage_index", "start_char", "end_char"}`.
        """
        return await self._run(self._reader.answer_batch, questions, passages)

    def info(self) -> dict:
        """Returns `{"model_dir"}` for the health check."""
        return {"model_dir": self._model_dir}


@serve.deployment(name="Generator")
class GeneratorDeployment(_BatchedModel):
    """Serves `rayqa.answer.generative.GenerativeReader`: mGEN (CORA) answering in the
    question's language from the retrieved passages.

    Args:
        model_dir: `save_pretrained` directory (or URI) of a trained mGEN; its saved
            config gives the input format and how many passages it reads (15 in CORA).
        max_batch_size: Most questions generated for together.
        batch_wait_timeout_s: How long the first question of a batch waits for company.
        num_beams: 1 for greedy decoding, more for beam search.
        max_new_tokens: Longest answer in tokens; None: the trained target length.
    """

    def __init__(self, model_dir: str, max_batch_size: int = 8,
                 batch_wait_timeout_s: float = 0.01, num_beams: int = 1,
                 max_new_tokens: int | None = None):
        from rayqa.answer.generative import GenerativeReader

        self._generator = GenerativeReader(model_dir, batch_size=max_batch_size)
        self._model_dir = model_dir
        self._decoding = {"num_beams": num_beams, "max_new_tokens": max_new_tokens}
        self._setup_batching(self.answer, max_batch_size, batch_wait_timeout_s)

    @serve.batch
    async def answer(self, questions: list[str], langs: list[str | None],
                     passages: list[list[dict]]) -> list[dict]:
        """Generates one answer per question (`handle.answer.remote(q, lang, hits)`).

        Args:
            questions: The questions.
            langs: The answer language per question (None: untagged).
            passages: Per question, its retrieved passages best first (`title`, `text`).

        Returns:
            Per question `{"answer", "score"}`, score the sequence log-probability.
        """
        return await self._run(self._generator.answer_batch, questions, langs, passages,
                               **self._decoding)

    def info(self) -> dict:
        """Returns `{"model_dir", "passages"}` for the health check."""
        return {"model_dir": self._model_dir,
                "passages": self._generator.config.eval_passages}


@serve.deployment(name="Translator")
class TranslatorDeployment(_BatchedModel):
    """Serves `rayqa.translate.marian.MarianTranslator` for translate-test answering.

    Args:
        translator: A `TranslatorConfig` (as a dict) of MarianMT models per pair.
        max_batch_size: Most texts translated together (grouped by pair).
        batch_wait_timeout_s: How long the first text of a batch waits for company.
    """

    def __init__(self, translator: dict, max_batch_size: int = 16,
                 batch_wait_timeout_s: float = 0.01):
        from rayqa.config.data_prep import TranslatorConfig
        from rayqa.translate import build_translator

        self._translator = build_translator(TranslatorConfig.model_validate(translator))
        for pair in self._translator.pairs:  # load every model now: fail at start, not later
            src, tgt = pair.split("-", 1)
            self._translator.translate(["ok"], src, tgt)
        self._setup_batching(self.translate, max_batch_size, batch_wait_timeout_s)

    @serve.batch
    async def translate(self, texts: list[str], srcs: list[str], tgts: list[str]) -> list[str]:
        """Translates each text from its source into its target language
        (`handle.translate.remote(text, src, tgt)`; a batch mixes pairs)."""
        return await self._run(self._by_pair, texts, srcs, tgts)

    def _by_pair(self, texts: list[str], srcs: list[str], tgts: list[str]) -> list[str]:
        """One model call per language pair of the batch, results in input order."""
        by_pair: dict[tuple[str, str], list[int]] = defaultdict(list)
        for i, pair in enumerate(zip(srcs, tgts)):
            by_pair[pair].append(i)
        out = [""] * len(texts)
        for (src, tgt), indices in by_pair.items():
            done = self._translator.translate([texts[i] for i in indices], src, tgt)
            for i, text in zip(indices, done):
                out[i] = text
        return out

    def info(self) -> dict:
        """Returns `{"pairs"}` for the health check and `/v1/info`."""
        return {"pairs": sorted(self._translator.pairs)}
