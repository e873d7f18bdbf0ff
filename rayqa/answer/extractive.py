"""Extractive answering with a span model: batched logits and the ``ExtractiveReader``.

``span_logits`` is shared by training-time evaluation (a DeepSpeed engine) and
inference (a plain ``from_pretrained`` model): both are callables returning
``start_logits`` / ``end_logits``.

A reader trained as an Answer Aligner or Verifier (``alignment`` in its saved config)
is an ``ExtractiveReader`` too: ``predict`` then reads each example's
``translated_answer`` and builds segment A as training did.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from rayqa import storage
from rayqa.config import CONFIG_FILENAME, AlignmentConfig, ReaderConfig, parse_yaml
from rayqa.crosslingual.features import alignment_reader_examples
from rayqa.data.features import prepare_eval_features
from rayqa.data.postprocess import nbest_spans, postprocess_predictions

MODEL_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


@torch.no_grad()
def span_logits(model, features: dict, batch_size: int, device, min_batches: int = 0,
                columns=MODEL_INPUTS, keywords: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Start and end logits for every window in ``features``.

    Args:
        model: Callable like ``AutoModelForQuestionAnswering`` (or a DeepSpeed engine).
        features: Columns from ``prepare_eval_features``.
        batch_size: Windows per forward pass.
        device: Where the inputs go.
        min_batches: Run at least this many forward passes, repeating the last batch
            and discarding its output (keeps distributed ranks in step under ZeRO-3).
        columns: The model's input columns (those present in ``features`` are passed).
        keywords: Pass the batch as keyword arguments (Hugging Face models); False
            passes it as one dict (``DualBert``).

    Returns:
        ``(start, end)`` float32 arrays of shape ``(num_windows, seq_len)``.
    """
    was_training = getattr(model, "training", False)
    model.eval()
    columns = [c for c in columns if c in features]
    count = len(features["input_ids"])
    starts, ends, batch = [], [], None

    def forward(batch):
        return model(**batch) if keywords else model(batch)

    for begin in range(0, count, batch_size):
        batch = {c: torch.tensor(features[c][begin:begin + batch_size], device=device)
                 for c in columns}
        out = forward(batch)
        starts.append(out.start_logits.float().cpu().numpy())
        ends.append(out.end_logits.float().cpu().numpy())
    for _ in range(min_batches - len(starts)):
        if batch is not None:  # a rank without any window cannot pad; keep dev >= workers
            forward(batch)
    if was_training:
        model.train()
    if not starts:
        width = len(features["input_ids"][0]) if count else 0
        return np.zeros((0, width), np.float32), np.zeros((0, width), np.float32)
    return np.concatenate(starts), np.concatenate(ends)


def load_model_config(model_dir: str | Path) -> ReaderConfig:
    """The span geometry a checkpoint was trained with (defaults for hub models)."""
    saved = _saved_config(model_dir)
    if "model" in saved:
        return ReaderConfig.model_validate({**saved["model"], "name_or_path": str(model_dir)})
    return ReaderConfig(name_or_path=str(model_dir))


def load_alignment_config(model_dir: str | Path) -> AlignmentConfig | None:
    """The ``alignment`` a checkpoint was trained with: None for a plain reader."""
    saved = _saved_config(model_dir).get("alignment")
    return AlignmentConfig.model_validate(saved) if saved else None


def _saved_config(model_dir: str | Path) -> dict:
    path = Path(model_dir, CONFIG_FILENAME)
    return (parse_yaml(path.read_text(encoding="utf-8")) or {}) if path.is_file() else {}


class ExtractiveReader:
    """A trained span model answering questions over given passages.

    Args:
        model_dir: A ``save_pretrained`` directory, its URI (``s3://...``) or a hub name
            (e.g. the ``<output_dir>/final`` of ``jobs/train.py``).
        device: ``"cuda"``, ``"cpu"`` or None to pick the GPU when there is one.
        batch_size: Windows per forward pass.
    """

    def __init__(self, model_dir: str | Path, device: str | None = None, batch_size: int = 32):
        from transformers import AutoModelForQuestionAnswering, AutoTokenizer

        model_dir = storage.local_model(model_dir)  # an s3:// export: a verified local copy
        self.config = load_model_config(model_dir)
        self.alignment = load_alignment_config(model_dir)
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
        self.model = AutoModelForQuestionAnswering.from_pretrained(str(model_dir))
        self.model.to(self.device).eval()
        self.batch_size = batch_size

    def _features(self, questions: list[str], contexts: list[str], ids: list[str]) -> dict:
        return prepare_eval_features(self.tokenizer, questions, contexts, ids,
                                     **self.config.window())

    def predict(self, examples) -> dict[str, str]:
        """``{id: answer}`` for ``QAExample``-like objects (``id``, ``question``, ``context``;
        an aligner or verifier also reads ``translated_answer``)."""
        examples = list(examples)
        if self.alignment is not None:
            examples = alignment_reader_examples(self.tokenizer, examples,
                                                 **self.alignment.model_dump())
        features = self._features([e.question for e in examples], [e.context for e in examples],
                                  [e.id for e in examples])
        start, end = span_logits(self.model, features, self.batch_size, self.device)
        return postprocess_predictions(examples, features, start, end,
                                       self.config.n_best_size, self.config.max_answer_length)

    def candidates(self, questions: list[str], passages: list[list[str]]) -> list[list]:
        """Every n-best span of each question over its passages.

        Returns:
            Per question a list of ``(passage_index, Span)`` (``rayqa.data.postprocess``).
        """
        pairs = [(i, j) for i, texts in enumerate(passages) for j in range(len(texts))]
        ids = [f"{i}:{j}" for i, j in pairs]
        contexts = [passages[i][j] for i, j in pairs]
        features = self._features([questions[i] for i, _ in pairs], contexts, ids)
        start, end = span_logits(self.model, features, self.batch_size, self.device)
        spans = nbest_spans({"id": ids, "context": contexts}, features, start, end,
                            self.config.n_best_size, self.config.max_answer_length)
        found: list[list] = [[] for _ in questions]
        for (i, j), key in zip(pairs, ids):
            found[i].extend((j, span) for span in spans[key])
        return found

    def answer_batch(self, questions: list[str], passages: list[list[str]]) -> list[dict]:
        """Best span per question over its passages.

        Returns:
            Per question ``{"answer": str, "score": float, "passage_index": int,
            "start_char": int, "end_char": int}``, the answer being
            ``passages[passage_index][start_char:end_char]``; the answer is "" with score
            ``-inf`` and index and offsets -1 when no passage holds a valid span.
        """
        best = []
        for found in self.candidates(questions, passages):
            if not found:
                best.append({"answer": "", "score": float("-inf"), "passage_index": -1,
                             "start_char": -1, "end_char": -1})
                continue
            index, span = max(found, key=lambda pair: pair[1].score)
            best.append({"answer": span.text, "score": float(span.score),
                         "passage_index": index, "start_char": span.start_char,
                         "end_char": span.end_char})
        return best

    def answer(self, question: str, passages: list[str]) -> dict:
        """``answer_batch`` for one question."""
        return self.answer_batch([question], [passages])[0]
