"""Answering with Dual BERT: target-side span logits of paired windows, and a reader.

Dual BERT reads the target example and its translation together (SAA needs B_S), but
answers come from the target logits alone, decoded exactly as the reader's
(``rayqa.data.postprocess``). ``dual_span_logits`` serves training-time evaluation (a
DeepSpeed engine) and inference (``DualBert.from_pretrained``) alike.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from rayqa import storage
from rayqa.answer.extractive import load_model_config, span_logits
from rayqa.crosslingual.dual_bert_features import prepare_dual_eval_features
from rayqa.data.postprocess import postprocess_predictions
from rayqa.models.dual_bert import DualBert
from rayqa.models.dual_bert_options import ENCODER_INPUTS, SOURCE_PREFIX

MODEL_INPUTS = (*ENCODER_INPUTS, *(SOURCE_PREFIX + name for name in ENCODER_INPUTS))


def dual_span_logits(model, features: dict, batch_size: int, device,
                     min_batches: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Target start and end logits for every row of ``prepare_dual_eval_features``.

    Args:
        model: ``DualBert`` or a DeepSpeed engine around one (called with one dict).
        features: Columns from ``prepare_dual_eval_features``.
        batch_size: Rows per forward pass.
        device: Where the inputs go.
        min_batches: Run at least this many forward passes, repeating the last batch
            and discarding its output (keeps distributed ranks in step under ZeRO-3).

    Returns:
        ``(start, end)`` float32 arrays of shape ``(rows, target length)``.
    """
    return span_logits(model, features, batch_size, device, min_batches,
                       columns=MODEL_INPUTS, keywords=False)


def predict_pairs(model, tokenizer, targets: list, sources: list, window: dict,
                  batch_size: int, device, n_best_size: int = 20,
                  max_answer_length: int = 30, min_batches: int = 0) -> dict[str, str]:
    """``{target id: answer}`` for target examples and their translations.

    Args:
        model: ``DualBert`` or a DeepSpeed engine around one.
        tokenizer: The encoder's fast tokenizer.
        targets: ``QAExample``-like objects (``id``, ``question``, ``context``).
        sources: Their translations, in the same order (``question``, ``context``).
        window: ``ReaderConfig.window()``.
        batch_size: Rows per forward pass.
        device: Where the inputs go.
        n_best_size: Candidates per window in post-processing.
        max_answer_length: Longest answer in tokens.
        min_batches: See ``dual_span_logits``.
    """
    features = prepare_dual_eval_features(
        tokenizer, [e.question for e in targets], [e.context for e in targets],
        [e.id for e in targets], [s.question for s in sources],
        [s.context for s in sources], **window)
    start, end = dual_span_logits(model, features, batch_size, device, min_batches)
    return postprocess_predictions(targets, features, start, end, n_best_size,
                                   max_answer_length)


class DualBertReader:
    """A trained Dual BERT (the ``<output_dir>/final`` of ``jobs/train_dual_bert.py``).

    Args:
        model_dir: A ``DualBert.save_pretrained`` directory with its tokenizer and
            rayqa config, or its URI.
        device: ``"cuda"``, ``"cpu"`` or None to pick the GPU when there is one.
        batch_size: Rows per forward pass.
    """

    def __init__(self, model_dir: str | Path, device: str | None = None, batch_size: int = 32):
        from transformers import AutoTokenizer

        model_dir = storage.local_model(model_dir)
        self.config = load_model_config(model_dir)
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
        self.model = DualBert.from_pretrained(model_dir).to(self.device).eval()
        self.batch_size = batch_size

    def predict(self, targets: list, sources: list) -> dict[str, str]:
        """``{id: answer}`` for target examples and their translations (same order)."""
        return predict_pairs(self.model, self.tokenizer, list(targets), list(sources),
                             self.config.window(), self.batch_size, self.device,
                             self.config.n_best_size, self.config.max_answer_length)
