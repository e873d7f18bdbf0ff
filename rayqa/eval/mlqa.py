"""MLQA scoring (mlqa_evaluation_v1.py) and per-language scoring built on its rules.

This module is the one home of per-language answer normalization for extractive QA:
which articles a language drops and whether it is segmented per character.
"""

from __future__ import annotations

import functools
import re
import string
import sys
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from rayqa.eval._common import (
    AnswerNormalizer,
    as_examples,
    exact_match_and_f1,
    mixed_segmentation,
)
from rayqa.eval.cmrc import cmrc_scores

# Article patterns of the official script, keyed by answer language; None = no articles.
_ARTICLES: dict[str, str | None] = {
    "en": r"\b(a|an|the)\b",
    "es": r"\b(un|una|unos|unas|el|la|los|las)\b",
    "hi": None,
    "vi": r"\b(của|là|cái|chiếc|những)\b",
    "de": r"\b(ein|eine|einen|einem|eines|einer|der|die|das|den|dem|des)\b",
    # Verbatim from the script. Its first branch can never match ('^' after text), so in
    # effect every "ال" becomes a space, also inside words.
    "ar": r"\sال^|ال",
    "zh": None,
}
MLQA_LANGUAGES = frozenset(_ARTICLES)
# Languages the script segments per CJK character instead of by whitespace.
_MIXED_SEGMENTATION_LANGS = frozenset({"zh"})


@functools.cache
def unicode_punctuation() -> frozenset[str]:
    """Every Unicode P* character of this Python's tables, plus ASCII punctuation.

    The scan follows the script (range(sys.maxunicode)), so the set, and with it the
    scores, depend on the Python version's Unicode data. Built on first use because
    the scan takes a noticeable fraction of a second.
    """
    return frozenset(
        chr(i) for i in range(sys.maxunicode) if unicodedata.category(chr(i)).startswith("P")
    ) | frozenset(string.punctuation)


def _mixed_tokens(text: str) -> list[str]:
    # MLQA splits non-CJK runs on whitespace; punctuation is already gone by now.
    return mixed_segmentation(text, str.split, unicode_punctuation())


@functools.cache
def mlqa_normalizer(lang: str, strict: bool = True) -> AnswerNormalizer:
    """The MLQA normalize_answer for an answer language.

    Args:
        lang: Answer language code.
        strict: Reject languages the official script does not know (it raises). With
            False they get MLQA's punctuation rule, no articles and whitespace tokens.

    Returns:
        A callable mapping an answer string to its normalized form.

    Raises:
        ValueError: `strict` and `lang` is not an MLQA language.
    """
    if strict and lang not in MLQA_LANGUAGES:
        raise ValueError(
            f"MLQA has no rules for language {lang!r}; known: {', '.join(sorted(MLQA_LANGUAGES))}"
        )
    pattern = _ARTICLES.get(lang)
    return AnswerNormalizer(
        punctuation=unicode_punctuation(),
        articles=re.compile(pattern) if pattern else None,
        tokenize=_mixed_tokens if lang in _MIXED_SEGMENTATION_LANGS else str.split,
    )


def mlqa_normalize(text: str, lang: str) -> str:
    """Normalizes one answer with the MLQA rules of `lang` (see `mlqa_normalizer`)."""
    return mlqa_normalizer(lang)(text)


def mlqa_scores(
    examples: Iterable[Any], predictions: Mapping[str, str], lang: str
) -> dict[str, float]:
    """Exact match and F1 as mlqa_evaluation_v1.py computes them.

    Args:
        examples: Gold data, in any form `as_examples` accepts, e.g. `(qid, [answers])`.
        predictions: Answer string per question id; a missing id scores 0.
        lang: The answer (context) language, one of `MLQA_LANGUAGES`.

    Returns:
        {"exact_match", "f1"} on the 0-100 scale.

    Raises:
        ValueError: Unknown language.
    """
    return exact_match_and_f1(as_examples(examples), predictions, mlqa_normalizer(lang))


READER_SCORINGS = ("mlqa", "cmrc")  # the `scoring` of score_by_language


def score_by_language(
    examples: Iterable[Any], predictions: Mapping[str, str], scoring: str = "mlqa"
) -> dict[str, dict[str, float]]:
    """Exact match and F1 per language, each with that language's MLQA rules.

    Meant for multilingual dev sets in training loops. Languages outside MLQA get its
    Unicode punctuation rule, no articles and whitespace tokens.

    Args:
        examples: Gold data with a language per example, e.g. `(qid, [answers], lang)`
            or dicts with "id", "answers", "lang".
        predictions: Answer string per question id; a missing id scores 0.
        scoring: ``"mlqa"``, or ``"cmrc"``: Chinese questions (``zh``) scored as
            cmrc2018_evaluate.py scores CMRC 2018 and DRCD (its EM and F1, as printed),
            the other languages by MLQA's rules.

    Returns:
        {lang: {"exact_match", "f1"}} in order of first appearance.

    Raises:
        ValueError: An example has no language, or `scoring` is unknown.
    """
    if scoring not in READER_SCORINGS:
        raise ValueError(f"scoring must be one of {READER_SCORINGS}, got {scoring!r}")
    by_lang: dict[str, list] = {}
    for example in as_examples(examples):
        if not example.lang:
            raise ValueError(f"question {example.qid!r} has no language")
        by_lang.setdefault(example.lang, []).append(example)
    return {lang: _cmrc_em_f1(group, predictions) if scoring == "cmrc" and lang == "zh"
            else exact_match_and_f1(group, predictions, mlqa_normalizer(lang, strict=False))
            for lang, group in by_lang.items()}



def _cmrc_em_f1(examples: list, predictions: Mapping[str, str]) -> dict[str, float]:
    scores = cmrc_scores(examples, predictions)
    return {"exact_match": scores["EM"], "f1": scores["F1"]}
