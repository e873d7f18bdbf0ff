"""SQuAD v1.1 scoring, as the official evaluate-v1.1.py computes it.

English-only rules: ASCII punctuation, the articles a/an/the, whitespace tokens.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping
from typing import Any

from rayqa.eval._common import AnswerNormalizer, as_examples, exact_match_and_f1

SQUAD_NORMALIZER = AnswerNormalizer(
    punctuation=frozenset(string.punctuation),
    articles=re.compile(r"\b(a|an|the)\b"),
)


def squad_normalize(text: str) -> str:
    """The script's normalize_answer: lower, drop ASCII punctuation and a/an/the."""
    return SQUAD_NORMALIZER(text)


def squad_scores(examples: Iterable[Any], predictions: Mapping[str, str]) -> dict[str, float]:
    """Exact match and F1 under the SQuAD v1.1 rules.

    Args:
        examples: Gold data, in any form `as_examples` accepts, e.g. `(qid, [answers])`.
        predictions: Answer string per question id; a missing id scores 0.

    Returns:
        {"exact_match", "f1"} on the 0-100 scale.
    """
    return exact_match_and_f1(as_examples(examples), predictions, SQUAD_NORMALIZER)
