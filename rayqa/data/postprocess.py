"""From start/end logits over windows back to answer text: n-best span search in numpy.

As `postprocess_qa_predictions` in the transformers question-answering example: per
window, the `n_best_size` best start and end tokens are paired; pairs outside the
context, ending before they start, or longer than `max_answer_length` tokens are
skipped; the score is start logit + end logit, compared across all windows of an
example. The answer is always the exact substring `context[start_char:end_char]`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Span:
    """One candidate answer.

    Attributes:
        text: `context[start_char:end_char]`.
        score: Start logit + end logit.
        start_char: Offset of the first character in the context.
        end_char: Offset one past the last character.
    """

    text: str
    score: float
    start_char: int
    end_char: int


def nbest_spans(examples: Any, features: Mapping[str, Sequence], start_logits: Any,
                end_logits: Any, n_best_size: int = 20,
                max_answer_length: int = 30) -> dict[str, list[Span]]:
    """Returns up to `n_best_size` candidate answers per example, best first.

    Args:
        examples: The examples, as objects or dicts with `id` and `context`
            (`QAExample`), or as columns `{"id": [...], "context": [...]}`.
        features: Columns from `prepare_eval_features`: `example_id` and `offset_mapping`
            (offsets outside the context are `[-1, -1]` or None).
        start_logits: `(num_features, seq_len)` start logits, in feature order.
        end_logits: `(num_features, seq_len)` end logits.
        n_best_size: Candidates kept per window and per example.
        max_answer_length: Longest answer in tokens.

    Returns:
        `{example_id: [Span, ...]}` in example order; an empty list when no window holds a
        valid span.
    """
    contexts = _contexts_by_id(examples)
    windows = defaultdict(list)
    for index, example_id in enumerate(features["example_id"]):
        windows[example_id].append(index)
    result = {}
    for example_id, context in contexts.items():
        candidates = [span for index in windows.get(example_id, [])
                      for span in _window_spans(context, features["offset_mapping"][index],
                                                np.asarray(start_logits[index]),
                                                np.asarray(end_logits[index]),
                                                n_best_size, max_answer_length)]
        result[example_id] = _best_distinct(candidates, n_best_size)
    return result


def postprocess_predictions(examples: Any, features: Mapping[str, Sequence], start_logits: Any,
                            end_logits: Any, n_best_size: int = 20,
                            max_answer_length: int = 30) -> dict[str, str]:
    """Returns `{example_id: answer_text}`, the best non-empty span of each example.

    The arguments are those of `nbest_spans`; an example without any valid span gets "".
    Use `nbest_spans` for the scores.
    """
    nbest = nbest_spans(examples, features, start_logits, end_logits, n_best_size,
                        max_answer_length)
    return {example_id: spans[0].text if spans else "" for example_id, spans in nbest.items()}


def _contexts_by_id(examples: Any) -> dict[str, str]:
    """Returns `{id: context}` from example objects, example dicts or columns."""
    if isinstance(examples, Mapping):
        return dict(zip(examples["id"], examples["context"]))
    return {_field(example, "id"): _field(example, "context") for example in examples}


def _field(example: Any, name: str) -> Any:
    """Returns a field of an example given as a dict or as an object."""
    return example[name] if isinstance(example, Mapping) else getattr(example, name)


def _window_spans(context: str, offsets: Sequence, start_logits: np.ndarray,
                  end_logits: np.ndarray, n_best_size: int,
                  max_answer_length: int) -> list[Span]:
    """Returns the valid spans among the top start/end token pairs of one window."""
    offsets = _offset_array(offsets)
    length = min(len(offsets), len(start_logits), len(end_logits))
    offsets, start_logits, end_logits = offsets[:length], start_logits[:length], end_logits[:length]
    starts = np.argsort(start_logits)[::-1][:n_best_size]
    ends = np.argsort(end_logits)[::-1][:n_best_size]
    start_grid, end_grid = np.meshgrid(starts, ends, indexing="ij")
    start_chars, end_chars = offsets[start_grid, 0], offsets[end_grid, 1]
    # Outside-context tokens have offset -1; zero-width tokens give no text.
    valid = ((start_chars >= 0) & (offsets[end_grid, 0] >= 0) & (start_chars < end_chars)
             & (end_grid >= start_grid) & (end_grid - start_grid + 1 <= max_answer_length))
    scores = start_logits[start_grid[valid]] + end_logits[end_grid[valid]]
    # The window's n best are enough: a span of the n best of all windows is among them.
    best = np.argsort(-scores, kind="stable")[:n_best_size]
    return [Span(context[start:end], float(score), int(start), int(end))
            for start, end, score in zip(start_chars[valid][best], end_chars[valid][best],
                                         scores[best])]


def _offset_array(offsets: Sequence) -> np.ndarray:
    """Returns offsets as an `(n, 2)` int array with None turned into `[-1, -1]`."""
    pairs = [(-1, -1) if offset is None else offset for offset in offsets]
    return np.asarray(pairs, dtype=np.int64).reshape(-1, 2)


def _best_distinct(spans: Iterable[Span], n_best_size: int) -> list[Span]:
    """Returns the best `n_best_size` spans, each character span once (windows overlap)."""
    best: dict[tuple[int, int], Span] = {}
    for span in sorted(spans, key=lambda span: span.score, reverse=True):
        best.setdefault((span.start_char, span.end_char), span)
    return list(best.values())[:n_best_size]
