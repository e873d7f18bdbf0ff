"""Retrieval recall for many-to-many open QA: R^L@k, R^multi@k and average rank (CORA).

Inputs, aligned by position:
- questions: dicts (or objects such as `OpenQAExample`) with `lang` and `answers`;
  `answers` is a list of strings in the question's language, or a dict
  `{lang: [str, ...]}` with gold answers in several languages (MKQA answers, or answers
  translated through a language-link table; see `multilingual_answers`).
- retrieved: per question, the ranked passages, dicts (or objects such as `Passage`)
  with `text` and `lang` (`id`, `title` are not needed).

A passage *answers* a question in language l when it is written in l and its text
contains a gold answer for l, after matching normalization for l (`answer_in_text`).
R^L@k: one of the top k passages answers in the question's language. R^multi@k: one of
them answers in its own language, whatever that is. Regional codes share their base
language (a `zh` passage serves a `zh_cn` question). So R^L@k <= R^multi@k always.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rayqa.langs import base_lang, uses_spaces

DEFAULT_KS = (1, 5, 10, 20, 100)


@functools.lru_cache(maxsize=1 << 16)
def _is_punctuation(char: str) -> bool:
    return unicodedata.category(char).startswith("P")


def match_form(text: str, lang: str) -> str:
    """The form in which answers are looked for in passages.

    NFKC (full-width digits and letters become ASCII), case folding, every Unicode
    punctuation character a space. Spaced languages keep words separated by one space
    and are padded with spaces, so a match covers whole words; languages written without
    spaces (zh, ja, th, km, ...) drop all whitespace and match anywhere.

    Args:
        text: A passage or an answer.
        lang: Its language code.

    Returns:
        The normalized string.
    """
    text = unicodedata.normalize("NFKC", text).casefold()
    words = "".join(" " if _is_punctuation(ch) else ch for ch in text).split()
    return f" {' '.join(words)} " if uses_spaces(lang) else "".join(words)


def answer_in_text(answers: Iterable[str], text: str, lang: str) -> bool:
    """Whether `text` (in language `lang`) contains one of `answers` (see `match_form`).

    Answers that normalize to nothing never match.
    """
    haystack = match_form(text, lang)
    return any(needle.strip() and needle in haystack
               for needle in (match_form(answer, lang) for answer in answers))


@dataclass(frozen=True)
class QuestionHits:
    """Where the first answering passages of one question are.

    Attributes:
        lang: The question's language.
        rank_l: 1-based rank of the first passage answering in the question's language;
            None when no retrieved passage does.
        rank_multi: The same for a passage answering in any language.
        depth: How many passages were retrieved.
    """

    lang: str
    rank_l: int | None
    rank_multi: int | None
    depth: int


def _get(item: Any, name: str, what: str, index: int) -> Any:
    value = item.get(name) if isinstance(item, Mapping) else getattr(item, name, None)
    if value is None:
        raise ValueError(f"{what} {index} has no {name!r}: {item!r:.200}")
    return value


def _answers_by_base_lang(question: Any, index: int) -> tuple[str, dict[str, list[str]]]:
    """(question language, gold answers keyed by base language; the question's own
    language holds the question's own answers)."""
    lang = _get(question, "lang", "question", index)
    answers = _get(question, "answers", "question", index)
    if isinstance(answers, str) or not isinstance(answers, (Mapping, Sequence)):
        raise ValueError(f"question {index}: answers must be a list of strings or a dict "
                         f"lang -> list of strings, got {type(answers).__name__}")
    if not isinstance(answers, Mapping):
        answers = {lang: answers}
    by_base: dict[str, list[str]] = {}
    for answer_lang, texts in answers.items():
        if isinstance(texts, str):
            raise ValueError(f"question {index}: answers[{answer_lang!r}] must be a list")
        by_base.setdefault(base_lang(answer_lang), []).extend(texts)
    if lang in answers:  # zh_cn's own answers, not those of zh_tw as well
        by_base[base_lang(lang)] = list(answers[lang])
    return lang, by_base


def question_hits(question: Any, passages: Sequence[Any], index: int = 0) -> QuestionHits:
    """Finds the first answering passages of one question (see the module docstring).

    Raises:
        ValueError: The question lacks `lang`/`answers`, or a passage `text`/`lang`.
    """
    lang, answers = _answers_by_base_lang(question, index)
    own = base_lang(lang)
    rank_l = rank_multi = None
    for rank, passage in enumerate(passages, start=1):
        p_lang = base_lang(_get(passage, "lang", f"question {index}: passage", rank))
        text = _get(passage, "text", f"question {index}: passage", rank)
        if p_lang not in answers or not answer_in_text(answers[p_lang], text, p_lang):
            continue
        rank_multi = rank_multi or rank
        if p_lang == own:
            rank_l = rank
            break  # rank_multi <= rank_l: both found
    return QuestionHits(lang, rank_l, rank_multi, len(passages))


def retrieval_hits(questions: Sequence[Any],
                   retrieved: Sequence[Sequence[Any]]) -> list[QuestionHits]:
    """`question_hits` for every question; `retrieved[i]` are the passages of question i.

    Raises:
        ValueError: The two sequences differ in length, or an input lacks a field.
    """
    if len(questions) != len(retrieved):
        raise ValueError(f"{len(questions)} questions but {len(retrieved)} retrieved lists")
    return [question_hits(question, passages, i)
            for i, (question, passages) in enumerate(zip(questions, retrieved))]


def retrieval_recall(
    questions: Sequence[Any],
    retrieved: Sequence[Sequence[Any]],
    ks: Sequence[int] = DEFAULT_KS,
) -> dict[str, dict[str, float]]:
    """R^L@k, R^multi@k and average ranks per question language, and their means.

    Args:
        questions: Questions with `lang` and `answers` (module docstring).
        retrieved: The ranked passages of each question, aligned with `questions`.
        ks: Cut-offs; a k beyond the retrieved depth counts what was retrieved.

    Returns:
        {lang: {"R^L@k": %, "R^multi@k": %, ..., "avg_rank^L", "avg_rank^multi",
        "questions": n}} in order of first appearance, plus "avg": the unweighted mean
        over languages of every metric ("questions" is the total). Average rank is the
        mean 1-based rank of the first answering passage, a question without one
        counting as depth + 1.

    Raises:
        ValueError: No questions, a k < 1, or bad inputs (see `retrieval_hits`).
    """
    if not questions:
        raise ValueError("no questions to score")
    if any(k < 1 for k in ks):
        raise ValueError(f"cut-offs must be >= 1, got {list(ks)}")
    by_lang: dict[str, list[QuestionHits]] = {}
    for hits in retrieval_hits(questions, retrieved):
        by_lang.setdefault(hits.lang, []).append(hits)
    result = {lang: _summarize(group, ks) for lang, group in by_lang.items()}
    result["avg"] = {key: sum(row[key] for row in result.values()) / len(by_lang)
                     for key in next(iter(result.values()))}
    result["avg"]["questions"] = len(questions)
    return result


def _summarize(group: list[QuestionHits], ks: Sequence[int]) -> dict[str, float]:
    n = len(group)
    row: dict[str, float] = {}
    ranks = {"L": [h.rank_l for h in group], "multi": [h.rank_multi for h in group]}
    for kind, found in ranks.items():
        for k in ks:
            row[f"R^{kind}@{k}"] = 100.0 * sum(r is not None and r <= k for r in found) / n
    for kind, found in ranks.items():
        # A question with no answering passage counts as one rank past the list.
        row[f"avg_rank^{kind}"] = sum(r or h.depth + 1 for r, h in zip(found, group)) / n
    row["questions"] = n
    return row


def multilingual_answers(examples: Iterable[Any]) -> list[dict[str, Any]]:
    """Questions for R^multi from per-language examples that share ids (MKQA).

    `rayqa.data.openqa.read_openqa` turns one MKQA line into one example per language,
    all with the same id; this gives each of them the answers of every language.

    Args:
        examples: Objects or dicts with `id`, `lang`, `answers` (list of strings) and
            optionally `question`.

    Returns:
        One dict {"id", "question", "lang", "answers": {lang: [str, ...]}} per example,
        in input order.
    """
    examples = list(examples)
    by_id: dict[str, dict[str, list[str]]] = {}
    for i, example in enumerate(examples):
        qid = str(_get(example, "id", "example", i))
        by_id.setdefault(qid, {})[_get(example, "lang", "example", i)] = list(
            _get(example, "answers", "example", i))
    questions = []
    for example in examples:
        get = example.get if isinstance(example, Mapping) else functools.partial(getattr, example)
        qid = str(get("id"))
        questions.append({"id": qid, "question": get("question", ""), "lang": get("lang"),
                          "answers": by_id[qid]})
    return questions
