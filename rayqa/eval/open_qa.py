"""One entry point for per-language open-QA scores: MLQA, XOR-Full or MKQA rules.

`score_open_qa` scores in-memory questions and answers the way the official script of
the chosen benchmark does, one language at a time, so MKQA ids that every language
shares never clash. It only groups and dispatches; the rules are those of
`rayqa.eval.mlqa`, `rayqa.eval.xor` and `rayqa.eval.mkqa`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

from rayqa.eval._common import GoldExample, as_examples, require_string_predictions
from rayqa.eval.mkqa import MKQAPrediction, mkqa_scores
from rayqa.eval.mlqa import score_by_language
from rayqa.eval.xor import xor_full_scores

Scoring = Literal["mlqa", "xor", "mkqa"]
SCORINGS: tuple[str, ...] = ("mlqa", "xor", "mkqa")


def score_open_qa(questions: Iterable[Any], predictions: Mapping[str, Any],
                  scoring: Scoring = "mlqa") -> dict[str, dict[str, float]]:
    """Per-language scores of open-QA answers under one benchmark's official rules.

    Args:
        questions: Dicts with "id", "lang" and "answers" (a list of strings), or objects
            with those attributes (`OpenQAExample`, `QAExample`). MKQA questions without
            an answer (unanswerable, long_answer) are scored as "no answer" gold, as
            mkqa_eval.py reads them; the MLQA and XOR rules need a gold answer.
        predictions: The answer string per question id, ``{id: answer}``; or, when ids
            repeat across languages (MKQA's example_id), per language
            ``{lang: {id: answer}}``. A missing answer counts as "" (no answer).
        scoring: Which official script's rules:

            - ``"mlqa"``: mlqa_evaluation_v1.py EM/F1 with each language's MLQA
              normalization (`score_by_language`); keys ``exact_match``, ``f1``.
            - ``"xor"``: eval_xor_full.py (`xor_full_scores`); keys ``f1``, ``em``,
              ``bleu``.
            - ``"mkqa"``: mkqa_eval.py -v (`mkqa_scores`, no-answer probability 0 for
              every answer); keys ``exact_match``, ``f1``, ``answerable_exact_match``,
              ``answerable_f1``, ``unanswerable_exact_match`` and the threshold-scan
              ``best_em``, ``best_f1``, ``best_answerable_em``, ``best_answerable_f1``,
              ``best_unanswerable_em``, ``best_f1_threshold``. Languages must be MKQA's
              codes (``zh_cn``, ...).

    Returns:
        ``{lang: {metric: value}}`` in order of first appearance, values on the 0-100
        scale; every scoring has ``f1``. No cross-language average: XOR's script divides
        by 7 whatever is present, so averaging is left to the table (`results_table`).

    Raises:
        ValueError: Unknown scoring, a question without a language, a question without
            gold answers under the MLQA or XOR rules, an id repeated within one
            language under the MKQA rules, or a language MKQA does not have.
    """
    if scoring not in SCORINGS:
        raise ValueError(f"scoring must be one of {SCORINGS}, got {scoring!r}")
    groups = _by_language(questions, scoring)
    scores = {}
    for lang, group in groups.items():
        answers = _answers_of(predictions, lang)
        scores[lang] = _SCORERS[scoring](group, answers, lang)
    return scores


def _by_language(questions: Iterable[Any], scoring: str) -> dict[str, list[GoldExample]]:
    """Gold examples grouped by language; MKQA gold keeps its no-answer questions."""
    groups: dict[str, list[GoldExample]] = {}
    for question in questions:
        answers = _field(question, "answers")
        if scoring == "mkqa" and answers is not None and not answers:
            # mkqa_eval.py reads a null answer text as "": the no-answer gold.
            gold = GoldExample(str(_field(question, "id")), ("",), _field(question, "lang"))
        else:
            gold = as_examples([question])[0]
        if not gold.lang:
            raise ValueError(f"question {gold.qid!r} has no language")
        groups.setdefault(gold.lang, []).append(gold)
    return groups


def _field(item: Any, name: str) -> Any:
    """A dict's key or an object's attribute; None for other shapes (tuples)."""
    return item.get(name) if isinstance(item, Mapping) else getattr(item, name, None)


def _answers_of(predictions: Mapping[str, Any], lang: str) -> Mapping[str, Any]:
    """The ``{id: answer}`` of one language from a flat or a per-language mapping."""
    if predictions and all(isinstance(value, Mapping) for value in predictions.values()):
        return predictions.get(lang, {})
    return predictions


def _mlqa(group: list[GoldExample], answers: Mapping[str, Any], lang: str) -> dict:
    return score_by_language(group, answers)[lang]


def _xor(group: list[GoldExample], answers: Mapping[str, Any], lang: str) -> dict:
    return xor_full_scores(group, answers)[lang]


def _mkqa(group: list[GoldExample], answers: Mapping[str, Any], lang: str) -> dict:
    gold = {example.qid: example.answers for example in group}
    if len(gold) < len(group):
        raise ValueError(f"MKQA scoring needs one question per id and language; {lang} "
                         f"repeats {len(group) - len(gold)} id(s)")
    mine = {qid: answers.get(qid, "") for qid in gold}
    require_string_predictions(mine)
    return mkqa_scores(gold, {qid: MKQAPrediction(qid, text) for qid, text in mine.items()},
                       lang)


_SCORERS = {"mlqa": _mlqa, "xor": _xor, "mkqa": _mkqa}
