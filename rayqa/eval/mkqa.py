"""MKQA scoring, as the official mkqa_eval.py (apple/ml-mkqa) computes and prints it.

Rules kept from the script: lowercase, ASCII punctuation, per-language article patterns
(the French and Italian ones have no closing word boundary, so "le" also goes from
"lemon"), every character a token for zh_cn/zh_hk/zh_tw/ja/th/km, F1 = 1 only when
prediction and gold are both empty, `binary_answer` ("yes"/"no") replaces the predicted
text, and a scan over the predictions' no-answer scores picks the threshold that
maximizes F1. Means are numpy means rounded by numpy, as the script rounds them, so the
2-decimal numbers match it digit for digit.
"""

from __future__ import annotations

import functools
import math
import re
import string
import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from rayqa.data.records import BadRecords, iter_jsonl
from rayqa.eval._common import AnswerNormalizer, token_f1
from rayqa.eval.mlqa import _ARTICLES as _MLQA_ARTICLES

# The script's language list; its -l option accepts only these.
MKQA_LANGUAGES = (
    "ar", "da", "de", "en", "es", "fi", "fr", "he", "hu", "it", "ja", "km", "ko",
    "ms", "nl", "no", "pl", "pt", "ru", "sv", "th", "tr", "vi", "zh_cn", "zh_hk", "zh_tw",
)
# The script's ARTICLE_REGEX_BY_LANG: MLQA's en/es/vi/de/ar patterns plus these, verbatim.
_ARTICLES: dict[str, str] = {
    **{lang: pattern for lang, pattern in _MLQA_ARTICLES.items() if pattern},
    "nl": r"\b(de|het|een|des|der|den)\b",
    "sv": r"\b(en|ett)\b",
    "da": r"\b(en|et)\b",
    "no": r"\b(en|et|ei)\b",
    "fr": r"\b(le|la|l'|les|du|de|d'|des|un|une|des)",
    "pt": r"\b(o|a|os|as|um|uma|uns|umas)\b",
    "it": r"\b(il|lo|la|l'|i|gli|le|del|dello|della|dell'|dei|degli|degl'|delle|un'|uno|una|un)",
    "fi": r"\b(se|yks|yksi)\b",
    "hu": r"\b(a|az|egy)\b",
}
# Languages whose every character is a token (the script calls it mixed segmentation).
_CHARACTER_LANGS = frozenset({"zh_cn", "zh_hk", "zh_tw", "ja", "th", "km"})
_ASCII_PUNCTUATION = frozenset(string.punctuation)
# The order in which mkqa_eval.py -v prints its metrics.
_THRESHOLD_KEYS = ("best_em", "best_f1", "best_answerable_em", "best_answerable_f1",
                   "best_unanswerable_em", "best_f1_threshold")
_DEFAULT_KEYS = ("exact_match", "f1", "answerable_exact_match", "answerable_f1",
                 "unanswerable_exact_match")


class MKQAPrediction(NamedTuple):
    """One prediction in the official format.

    Attributes:
        example_id: The MKQA `example_id`, as a string.
        prediction: Predicted answer text; "" means no answer.
        binary_answer: "yes" or "no" (lower case), or None; replaces `prediction`.
        no_answer_prob: Score that the answer is "no answer"; the threshold scan runs
            over these.
    """

    example_id: str
    prediction: str
    binary_answer: str | None = None
    no_answer_prob: float = 0.0

    @property
    def text(self) -> str:
        """The answer that is scored: the binary answer when there is one."""
        return self.binary_answer or self.prediction


def _check_language(lang: str) -> None:
    if lang not in MKQA_LANGUAGES:
        raise ValueError(f"MKQA has no language {lang!r}; choose from {', '.join(MKQA_LANGUAGES)}")


def _characters(text: str) -> list[str]:
    return list(text)


@functools.cache
def mkqa_normalizer(lang: str) -> AnswerNormalizer:
    """The script's normalize_answer_by_language for one MKQA language.

    Raises:
        ValueError: `lang` is not an MKQA language.
    """
    _check_language(lang)
    pattern = _ARTICLES.get(lang)
    return AnswerNormalizer(
        punctuation=_ASCII_PUNCTUATION,
        articles=re.compile(pattern) if pattern else None,
        tokenize=_characters if lang in _CHARACTER_LANGS else str.split,
    )


def mkqa_normalize(text: str, lang: str) -> str:
    """Normalizes one answer with the MKQA rules of `lang` (tokens joined by spaces)."""
    return mkqa_normalizer(lang)(text)


def mkqa_exact_match(prediction: str, gold: str, lang: str) -> float:
    """1.0 when the normalized strings are equal, else 0.0."""
    return float(mkqa_normalize(prediction, lang) == mkqa_normalize(gold, lang))


def mkqa_f1(prediction: str, gold: str, lang: str) -> float:
    """Token F1; when either side normalizes to nothing, 1.0 only if both do."""
    pred_tokens = mkqa_normalize(prediction, lang).split()
    gold_tokens = mkqa_normalize(gold, lang).split()
    if not pred_tokens or not gold_tokens:
        return float(pred_tokens == gold_tokens)
    return token_f1(pred_tokens, gold_tokens)


def is_answerable(answers: Iterable[str]) -> bool:
    """The script's test: a question is unanswerable when its only gold answer is ""."""
    return set(answers) != {""}


def mkqa_scores(
    gold: Mapping[str, Sequence[str]],
    predictions: Mapping[str, MKQAPrediction],
    lang: str,
) -> dict[str, float]:
    """Every metric mkqa_eval.py -v prints, with its rounding.

    Args:
        gold: Gold answers per example id, "" standing for "no answer" (as
            `read_mkqa_gold` returns them).
        predictions: A prediction for every gold example and no other, keyed by id
            (the script fails otherwise).
        lang: An MKQA language (`MKQA_LANGUAGES`).

    Returns:
        best_em, best_f1, best_answerable_em, best_answerable_f1, best_unanswerable_em,
        best_f1_threshold, exact_match, f1, answerable_exact_match, answerable_f1,
        unanswerable_exact_match: percentages (the threshold as given) rounded to 2
        decimals. A mean over no questions (e.g. no unanswerable ones) is NaN, as the
        script prints it.

    Raises:
        ValueError: Unknown language, no gold, or predictions that do not cover exactly
            the gold ids.
    """
    _check_language(lang)
    _check_ids(gold, predictions)
    answerable = {qid: is_answerable(answers) for qid, answers in gold.items()}
    em = {qid: max(mkqa_exact_match(predictions[qid].text, a, lang) for a in answers)
          for qid, answers in gold.items()}
    f1 = {qid: max(mkqa_f1(predictions[qid].text, a, lang) for a in answers)
          for qid, answers in gold.items()}
    return {**_best_threshold_metrics(em, f1, predictions, answerable),
            **_default_metrics(em, f1, answerable)}


def _check_ids(gold: Mapping[str, Any], predictions: Mapping[str, Any]) -> None:
    if not gold:
        raise ValueError("no gold examples to score")
    missing = [qid for qid in gold if qid not in predictions]
    extra = [qid for qid in predictions if qid not in gold]
    if missing or extra:
        raise ValueError(
            f"MKQA needs one prediction per gold example: {len(missing)} missing "
            f"(first: {missing[:1]}), {len(extra)} not in the gold data (first: {extra[:1]})")


def _best_threshold_metrics(em: dict[str, float], f1: dict[str, float],
                            predictions: Mapping[str, MKQAPrediction],
                            answerable: dict[str, bool]) -> dict[str, float]:
    """Metrics after answering "no answer" wherever no_answer_prob > the best threshold."""
    best_f1, threshold = _best_f1_and_threshold(f1, predictions, answerable)
    probs = {qid: p.no_answer_prob for qid, p in predictions.items()}

    def thresholded(scores: dict[str, float], keep: bool | None = None) -> float:
        # keep: None = every question, True = answerable ones, False = unanswerable ones.
        return _percent(
            float(not answerable[qid]) if probs[qid] > threshold else score
            for qid, score in scores.items() if keep is None or answerable[qid] == keep
        )

    values = (thresholded(em), round(best_f1, 2), thresholded(em, True),
              thresholded(f1, True), thresholded(em, False), round(threshold, 2))
    return dict(zip(_THRESHOLD_KEYS, values))


def _best_f1_and_threshold(f1: dict[str, float], predictions: Mapping[str, MKQAPrediction],
                           answerable: dict[str, bool]) -> tuple[float, float]:
    """The script's scan: from "no answer everywhere", answer questions in order of
    rising no_answer_prob and keep the best total F1 (ties keep the earlier threshold).

    Returns:
        (best F1 as a percentage, unrounded; the no_answer_prob where it is reached).
    """
    best_threshold = 0.0
    current = best = sum(not has for has in answerable.values())
    # sorted() is stable: questions with equal scores stay in prediction-file order.
    for qid in sorted(predictions, key=lambda qid: predictions[qid].no_answer_prob):
        if answerable[qid]:
            current += f1[qid]
        elif predictions[qid].text:  # the raw text: " ," counts as an answer here
            current -= 1
        if current > best:
            best, best_threshold = current, predictions[qid].no_answer_prob
    return 100.0 * best / len(f1), best_threshold


def _default_metrics(em: dict[str, float], f1: dict[str, float],
                     answerable: dict[str, bool]) -> dict[str, float]:
    """The plain means the script adds with -v (no threshold applied)."""
    def part(scores: dict[str, float], keep: bool) -> list[float]:
        return [score for qid, score in scores.items() if answerable[qid] == keep]

    values = (_percent(em.values()), _percent(f1.values()), _percent(part(em, True)),
              _percent(part(f1, True)), _percent(part(em, False)))
    return dict(zip(_DEFAULT_KEYS, values))


def _percent(scores: Iterable[float]) -> float:
    """round(100 * np.mean(scores), 2) with numpy's mean and rounding, as the script has
    it (numpy's pairwise sum and rounding can differ from Python's in the last digit)."""
    import numpy as np

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the mean of nothing is NaN
        return float(round(100.0 * np.mean(list(scores)), 2))


def read_mkqa_gold(path: str | Path, lang: str) -> dict[str, tuple[str, ...]]:
    """Reads the gold answers of one language from the MKQA JSON Lines file (gzipped or not).

    Each answer contributes its text ("" for no answer) and its aliases; duplicates go.

    Args:
        path: e.g. `mkqa.jsonl.gz`, lines `{"example_id", "answers": {lang: [{"type",
            "text", "aliases"}]}, ...}`.
        lang: An MKQA language.

    Returns:
        Gold answers per example id (as a string), in file order.

    Raises:
        ValueError: Unknown language, missing file, or a line without a list of answers
            for `lang` (the message names the line).
    """
    _check_language(lang)
    _check_file(path)
    gold: dict[str, tuple[str, ...]] = {}
    for number, record in iter_jsonl(path, BadRecords(), strict=True):
        try:
            gold[str(record["example_id"])] = _gold_answers(record, lang)
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"{path}:{number}: needs 'example_id' and answers.{lang}: a "
                             f"non-empty list of {{'text', 'aliases'}} objects") from None
    return gold


def _gold_answers(record: dict, lang: str) -> tuple[str, ...]:
    """The answer texts ("" for a null text) and aliases of one language, deduplicated."""
    answers = record["answers"][lang]
    if not isinstance(answers, list) or not answers:
        raise ValueError("no answers")
    texts: dict[str, None] = {}  # an ordered set
    for answer in answers:
        for text in [answer["text"] or ""] + list(answer.get("aliases") or []):
            if not isinstance(text, str):
                raise TypeError(text)
            texts[text] = None
    return tuple(texts)


def read_mkqa_predictions(path: str | Path) -> dict[str, MKQAPrediction]:
    """Reads official-format predictions: JSON Lines `{"example_id", "prediction",
    "binary_answer", "no_answer_prob"}`.

    A null prediction is "" (no answer); a missing or null binary_answer is None; a
    missing no_answer_prob is 0. A repeated example_id keeps its last line.

    Raises:
        ValueError: Missing file, a malformed line, a binary_answer other than yes/no,
            or a no_answer_prob that is not a number (the message names the line).
    """
    _check_file(path)
    predictions: dict[str, MKQAPrediction] = {}
    for number, record in iter_jsonl(path, BadRecords(), strict=True):
        try:
            prediction = _to_prediction(record)
        except ValueError as err:
            raise ValueError(f"{path}:{number}: {err}") from None
        predictions[prediction.example_id] = prediction
    return predictions


def _to_prediction(record: dict) -> MKQAPrediction:
    if "example_id" not in record or "prediction" not in record:
        raise ValueError("needs 'example_id' and 'prediction'")
    text, binary = record["prediction"] or "", record.get("binary_answer")
    if not isinstance(text, str) or not isinstance(binary, (str, type(None))):
        raise ValueError("prediction must be a string and binary_answer a string or null")
    binary = binary.lower() if binary else None
    if binary not in ("yes", "no", None):
        raise ValueError(f"binary_answer must be yes, no or null, got {binary!r}")
    prob = record.get("no_answer_prob", 0)
    if isinstance(prob, bool) or not isinstance(prob, (int, float)) or math.isnan(prob):
        raise ValueError(f"no_answer_prob must be a number, got {prob!r}")
    return MKQAPrediction(str(record["example_id"]), text, binary, prob)


def _check_file(path: str | Path) -> None:
    if not Path(path).is_file():
        raise ValueError(f"{path}: no such file")


def mkqa_evaluate_files(gold_path: str | Path, predictions_path: str | Path,
                        lang: str) -> dict[str, float]:
    """Scores an MKQA prediction file for one language (`mkqa_eval.py -v -l lang`)."""
    return mkqa_scores(read_mkqa_gold(gold_path, lang),
                       read_mkqa_predictions(predictions_path), lang)
