"""XOR-TyDi QA full (XOR-Full) scoring, as the official eval_xor_full.py computes it.

Per-language F1, EM and BLEU of answers in the question's language. Quirks kept from
the script: counter characters (年 歳 人 년) are deleted; Japanese is tokenized with
MeCab before F1/EM; BLEU compares raw strings character by character (references are
the MeCab output for Japanese, the hypothesis is always the raw prediction); "avg"
divides the sum over languages by 7, the number of XOR-TyDi languages.
"""

from __future__ import annotations

import functools
import string
import warnings
from collections.abc import Iterable, Mapping
from typing import Any

from rayqa.eval._common import GoldExample, as_examples, require_string_predictions, token_f1

# The script's language table; results are listed in this order.
XOR_SCRIPT_LANGUAGES = ("te", "sw", "th", "fi", "id", "ja", "ru", "ar", "en", "bn", "ko")
# The script divides the summed per-language scores by this constant for "avg".
XOR_AVG_DENOMINATOR = 7
_ASCII_PUNCTUATION = frozenset(string.punctuation)
_COUNTERS = str.maketrans("", "", "年歳人년")


def xor_normalize(text: str) -> str:
    """The script's normalize_answer: lower, drop ASCII punctuation and 年 歳 人 년."""
    text = "".join(ch for ch in text.lower() if ch not in _ASCII_PUNCTUATION)
    return " ".join(text.translate(_COUNTERS).split())


@functools.cache
def _wakati():
    """MeCab in -Owakati mode; mecab-python3 picks up unidic-lite (pinned) by itself."""
    try:
        import MeCab
    except ImportError as err:
        raise ImportError(
            "XOR-Full scoring of Japanese needs mecab-python3 and unidic-lite"
        ) from err
    return MeCab.Tagger("-Owakati")


def _wakati_parse(text: str, example: GoldExample, what: str) -> str:
    """MeCab's -Owakati tokens of `text`, or a ValueError naming the question.

    MeCab takes UTF-8 bytes; a lone surrogate (JSON "\\ud800") has none and would end
    in a SWIG TypeError, so it is reported here as bad input.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as err:
        raise ValueError(
            f"question {example.qid!r} ({example.lang}): the {what} {text!r:.80} holds a "
            f"lone surrogate {text[err.start]!r} at character {err.start}, which is not "
            "text; MeCab cannot tokenize it"
        ) from None
    return _wakati().parse(text)


def _bleu(references: list[str], hypothesis: str) -> float:
    """nltk.translate.bleu on raw strings: character 1-4-grams, no smoothing."""
    from nltk.translate.bleu_score import sentence_bleu

    with warnings.catch_warnings():
        # nltk warns on every zero n-gram count; the score is still what the script got.
        warnings.simplefilter("ignore")
        return sentence_bleu(references, hypothesis)


def _score_one(example: GoldExample, pred: str) -> tuple[float, float, float]:
    """(f1, em, bleu) of one answered question, each in [0, 1]."""
    golds = list(example.answers)
    tokenized_pred = pred
    if example.lang == "ja":
        # No spaces in Japanese: tokenize gold and (lightly rewritten) prediction.
        golds = [_wakati_parse(gold, example, "gold answer") for gold in golds]
        tokenized_pred = _wakati_parse(pred.replace("・", " ").replace("、", ","), example,
                                       "prediction")
    pred_norm = xor_normalize(tokenized_pred)
    golds_norm = [xor_normalize(gold) for gold in golds]
    f1 = max(token_f1(pred_norm.split(), gold.split()) for gold in golds_norm)
    em = max(float(pred_norm == gold) for gold in golds_norm)
    return f1, em, _bleu(golds, pred)


def strip_id_prefixes(predictions: Mapping[str, Any]) -> dict[str, Any]:
    """Keys as the script reads them: the part after the last "_" (later keys win)."""
    return {qid.split("_")[-1]: pred for qid, pred in predictions.items()}


def xor_full_scores(
    examples: Iterable[Any], predictions: Mapping[str, str]
) -> dict[str, dict[str, float]]:
    """Per-language F1 / EM / BLEU and their "avg", as eval_xor_full.py prints them.

    Args:
        examples: Gold data with a language per example, e.g. `(qid, [answers], lang)`
            or XOR JSONL records {"id", "answers", "lang"}.
        predictions: Answer string per question id; a missing id scores 0.

    Returns:
        {lang: {"f1", "em", "bleu"}} on the 0-100 scale for each language in the gold
        data, plus "avg": the sum over those languages divided by 7, as the script does
        (so it is the mean only when all seven XOR-TyDi languages are present).

    Raises:
        ValueError: An example has no language, there are no examples, a prediction is
            not a string, or a Japanese answer is not text MeCab can take (a lone
            surrogate).
    """
    require_string_predictions(predictions)
    sums: dict[str, list[float]] = {}
    counts: dict[str, int] = {}
    for example in as_examples(examples):
        if not example.lang:
            raise ValueError(f"question {example.qid!r} has no language")
        counts[example.lang] = counts.get(example.lang, 0) + 1
        row = sums.setdefault(example.lang, [0.0, 0.0, 0.0])
        if example.qid in predictions:
            for i, value in enumerate(_score_one(example, predictions[example.qid])):
                row[i] += value
    if not counts:
        raise ValueError("no gold examples to score")
    order = [lang for lang in XOR_SCRIPT_LANGUAGES if lang in counts]
    order += sorted(set(counts) - set(order))
    means = {lang: [s / counts[lang] for s in sums[lang]] for lang in order}
    result = {lang: _percent(*means[lang]) for lang in order}
    totals = [sum(means[lang][i] for lang in order) for i in range(3)]
    result["avg"] = _percent(*(t / XOR_AVG_DENOMINATOR for t in totals))
    return result


def _percent(f1: float, em: float, bleu: float) -> dict[str, float]:
    return {"f1": f1 * 100, "em": em * 100, "bleu": bleu * 100}
