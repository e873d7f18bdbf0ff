"""The model-holding Serve deployments, named `Retriever`, `Reader` and `Generator` in
Serve.

Each replica loads its model once in `__init__` and answers through a `@serve.batch`
method, so concurrent HTTP requests become one index search or one reader forward
pass. The batch size and wait come from `ServeAppConfig` at construction (the decorator
only sets a placeholder). The blocking model call runs in a worker thread so the
replica's event loop stays free for health checks and for filling the next batch.
"""

from __future__ import annotations

import asyncio

from ray import serve


def _configure_batching(batched_method, max_batch_size: int, wait_s: float) -> None:
    """Applies the config's batching settings to a `@serve.batch` method."""
    batched_method.set_max_batch_size(max_batch_size)
    batched_method.set_batch_wait_timeout_s(wait_s)


@serve.deployment(name="Retriever")
class RetrieverDeployment:
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
        _configure_batching(self.search, max_batch_size, batch_wait_timeout_s)

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
        results = await asyncio.to_thread(self._retriever.search, questions, langs,
                                          max(top_ks))
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
class ReaderDeployment:
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
        _configure_batching(self.answer, max_batch_size, batch_wait_timeout_s)

    @serve.batch
    async def answer(self, questions: list[str], passages: list[list[str]]) -> list[dict]:
        """Extracts the best answer span of each question from its passages.

        Called one question at a time (`handle.answer.remote(question, texts)`).

        Args:
            questions: The questions.
            passages: Per question, the passage texts to read.

        Returns:
            Per question `{"answer", "score", "passage_index"}`.
        """
        return await asyncio.to_thread(self._reader.answer_batch, questions, passages)

    def info(self) -> dict:
        """Returns `{"model_dir"}` for the health check."""
        return {"model_dir": self._model_dir}


@serve.deployment(name="Generator")
class GeneratorDeployment:
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
        _configure_batching(self.answer, max_batch_size, batch_wait_timeout_s)

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
        return await asyncio.to_thread(self._generator.answer_batch, questions, langs,
                                       passages, **self._decoding)

    def info(self) -> dict:
        """Returns `{"model_dir", "passages"}` for the health check."""
        return {"model_dir": self._model_dir,
                "passages": self._generator.config.eval_passages}
