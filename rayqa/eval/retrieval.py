"""Retrieval recall for many-to-many open QA: R^L@k, R^multi@k and average rank (CORA).

Inputs, aligned by position:
- questions: dicts (or objects such as `OpenQAExample`) with `lang` and `answers`;
  `answers` is a list of strings in the question's language, or a dict
  `{lang: [str, ...]}` with gold answers in several languages (MKQA answers, or answers
  translated through a language-link table; see `multilingual_answers`).
- retrieved: per question, the ranked passages, dicts (or objects such as `Passage`)
  with `text` and `lang` (`id`, `title` are not needed).

The paper's definitions (CORA §4.2), where a passage counts whatever language it is
written in:
- R^L@k: one of the top k passages contains a gold answer in the question's language.
- R^multi@k: one of them contains a gold answer of any language given (the union of the
  answer sets; MKQA: all its languages).
- R^L_samelang@k: rayqa's own stricter variant of R^L@k, where the passage must also be
  written in the question's language; the gap to R^L@k is what retrieval in other
  languages adds. Regional codes share their base language (a `zh` passage serves a
  `zh_cn` question).
So R^L_samelang@k <= R^L@k <= R^multi@k always. Containment is `answer_in_text`.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rayqa.langs import base_lang, uses_spaces

DEFAULT_KS = (1, 5, 10, 20, 100)
# Metric kinds: key suffix of "R^...@k" and "avg_rank^...", and the QuestionHits field.
KINDS = {"L": "rank_l", "multi": "rank_multi", "L_samelang": "rank_l_samelang"}


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
    return _normalize(text, uses_spaces(lang))


def _normalize(text: str, spaced: bool) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    words = "".join(" " if _is_punctuation(ch) else ch for ch in text).split()
    return f" {' '.join(words)} " if spaced else "".join(words)


def answer_in_text(answers: Iterable[str], text: str, lang: str,
                   answer_lang: str | None = None) -> bool:
    """Whether `text` (in language `lang`) contains one of `answers` (see `match_form`).

    A match covers whole words only when both the text's and the answers' languages
    separate words with spaces; if either does not (a Japanese answer in an English
    passage, an English name inside Japanese text), word boundaries are not marked and
    whitespace is dropped from both. Answers that normalize to nothing never match.

    Args:
        answers: Gold answers.
        text: A passage.
        lang: The passage's language.
        answer_lang: The answers' language; None: `lang`.
    """
    spaced = uses_spaces(lang) and uses_spaces(answer_lang or lang)
    haystack = _normalize(text, spaced)
    return any(needle.strip() and needle in haystack
               for needle in (_normalize(answer, spaced) for answer in answers))


@dataclass(frozen=True)
class _Needle:
    """One gold answer in both match forms (the joined form has no spaces)."""

    spaced_lang: bool
    spaced: str
    joined: str


def _needles(answers: Mapping[str, Sequence[str]]) -> list[_Needle]:
    out = []
    for answer_lang, texts in answers.items():
        for text in texts:
            spaced = _normalize(text, spaced=True)
            if spaced.strip():
                out.append(_Needle(uses_spaces(answer_lang), spaced, spaced.replace(" ", "")))
    return out


def _occurs(needles: Sequence[_Needle], spaced_text: str, joined_text: str,
            spaced_lang: bool) -> bool:
    """`answer_in_text` over prepared forms of one passage (spaced, and with no spaces)."""
    return any(n.spaced in spaced_text if spaced_lang and n.spaced_lang
               else n.joined in joined_text for n in needles)


@dataclass(frozen=True)
class QuestionHits:
    """Where the first answering passages of one question are.

    Attributes:
        lang: The question's language.
        rank_l: 1-based rank of the first passage, in any language, containing a gold
            answer in the question's language; None when no retrieved passage does.
        rank_multi: The same for a gold answer in any language.
        rank_l_samelang: The same as `rank_l` for passages written in the question's
            language only.
        depth: How many passages were retrieved.
    """

    lang: str
    rank_l: int | None
    rank_multi: int | None
    rank_l_samelang: int | None
    depth: int


def _get(item: Any, name: str, what: str, index: int) -> Any:
    value = item.get(name) if isinstance(item, Mapping) else getattr(item, name, None)
    if value is None:
        raise ValueError(f"{what} {index} has no {name!r}: {item!r:.200}")
    return value


def _answer_sets(question: Any, index: int) -> tuple[str, dict[str, list[str]], list[str]]:
    """(question language, every gold answer set by language, the question language's
    answers: its own code's, else those of every code sharing its base language)."""
    lang = _get(question, "lang", "question", index)
    answers = _get(question, "answers", "question", index)
    if isinstance(answers, str) or not isinstance(answers, (Mapping, Sequence)):
        raise ValueError(f"question {index}: answers must be a list of strings or a dict "
                         f"lang -> list of strings, got {type(answers).__name__}")
    if not isinstance(answers, Mapping):
        answers = {lang: answers}
    for answer_lang, texts in answers.items():
        if isinstance(texts, str):
            raise ValueError(f"question {index}: answers[{answer_lang!r}] must be a list")
    if lang in answers:  # zh_cn's own answers, not those of zh_tw as well
        own = list(answers[lang])
    else:
        own = [text for answer_lang, texts in answers.items()
               if base_lang(answer_lang) == base_lang(lang) for text in texts]
    return lang, dict(answers), own


def question_hits(question: Any, passages: Sequence[Any], index: int = 0) -> QuestionHits:
    """Finds the first answering passages of one question (see the module docstring).

    Raises:
        ValueError: The question lacks `lang`/`answers`, or a passage `text`/`lang`.
    """
    lang, answers, own_answers = _answer_sets(question, index)
    own_lang = base_lang(lang)
    own, every = _needles({lang: own_answers}), _needles(answers)
    rank_l = rank_multi = rank_same = None
    for rank, passage in enumerate(passages, start=1):
        p_lang = _get(passage, "lang", f"question {index}: passage", rank)
        text = _get(passage, "text", f"question {index}: passage", rank)
        spaced_text = _normalize(text, spaced=True)
        forms = (spaced_text, spaced_text.replace(" ", ""), uses_spaces(p_lang))
        found_own = _occurs(own, *forms)  # own answers are among every answer
        if rank_multi is None and (found_own or _occurs(every, *forms)):
            rank_multi = rank
        if found_own:
            rank_l = rank_l or rank
            if base_lang(p_lang) == own_lang:
                rank_same = rank
                break  # rank_multi <= rank_l <= rank_same: all three found
    return QuestionHits(lang, rank_l, rank_multi, rank_same, len(passages))


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
    """R^L@k, R^multi@k, R^L_samelang@k and average ranks per question language, and
    their means.

    Args:
        questions: Questions with `lang` and `answers` (module docstring).
        retrieved: The ranked passages of each question, aligned with `questions`.
        ks: Cut-offs; a k beyond the retrieved depth counts what was retrieved.

    Returns:
        {lang: {"R^L@k": %, ..., "R^multi@k": %, ..., "R^L_samelang@k": %, ...,
        "avg_rank^L", "avg_rank^multi", "avg_rank^L_samelang", "questions": n}} in order
        of first appearance, plus "avg": the unweighted mean over languages of every
        metric ("questions" is the total). Average rank is the mean 1-based rank of the
        first answering passage, a question without one counting as depth + 1.

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
    ranks = {kind: [getattr(h, field) for h in group] for kind, field in KINDS.items()}
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
