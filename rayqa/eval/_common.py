"""Pieces the benchmark scorers share: gold examples, answer normalization, token F1,
the SQuAD-style EM/F1 loop and mixed CJK segmentation.

Each official script carries its own copy of these; here they live once and the
benchmark modules (`squad`, `mlqa`, `cmrc`, `xor`) only say where their rules differ.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple


class GoldExample(NamedTuple):
    """One question with its gold answers.

    Attributes:
        qid: Question id, the key of the prediction for it.
        answers: Gold answer strings; the best match over them counts.
        lang: Language code, for scorers that need one per example.
    """

    qid: str
    answers: tuple[str, ...]
    lang: str | None = None


def as_examples(items: Iterable[Any]) -> list[GoldExample]:
    """Turns in-memory gold data into `GoldExample`s.

    Args:
        items: `GoldExample`s, tuples `(qid, answers)` / `(qid, answers, lang)`, dicts
            with "id", "answers" and optionally "lang", or objects with those attributes
            (`QAExample`). `answers` is a string, a list of
            strings, or a list of SQuAD answer dicts with a "text" key.

    Returns:
        The examples, in input order.

    Raises:
        ValueError: An item has another shape, or no gold answer.
    """
    examples = []
    for item in items:
        if isinstance(item, Mapping):
            if "id" not in item or "answers" not in item:
                raise ValueError(f"gold example needs 'id' and 'answers': {item!r:.200}")
            qid, answers, lang = item["id"], item["answers"], item.get("lang")
        elif isinstance(item, Sequence) and not isinstance(item, str) and len(item) in (2, 3):
            qid, answers, lang = (*item, None)[:3]
        elif hasattr(item, "id") and hasattr(item, "answers"):  # e.g. rayqa.data QAExample
            qid, answers, lang = item.id, item.answers, getattr(item, "lang", None)
        else:
            raise ValueError(f"gold example must be a dict or (qid, answers[, lang]): {item!r:.200}")
        examples.append(GoldExample(str(qid), answer_texts(answers, qid), lang))
    return examples


def answer_texts(answers: Any, qid: str) -> tuple[str, ...]:
    """Gold answers as strings: accepts a string, strings, or SQuAD {"text": ...} dicts.

    Raises:
        ValueError: No answer, or an answer that is neither a string nor such a dict.
    """
    if isinstance(answers, str):
        answers = [answers]
    if not isinstance(answers, Sequence) or not answers:
        # The official scripts take max() over the gold answers and crash on none.
        raise ValueError(f"question {qid!r} has no gold answers")
    texts = tuple(a["text"] if isinstance(a, Mapping) and "text" in a else a for a in answers)
    if not all(isinstance(t, str) for t in texts):
        raise ValueError(f"question {qid!r}: gold answers must be strings or {{'text': str}}")
    return texts


def is_number(value: Any) -> bool:
    """True for a JSON number (int or float; not a bool, which Python counts as an int)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def require_string_predictions(predictions: Mapping[str, Any]) -> None:
    """Rejects predictions that are not strings, naming the first such question.

    Only the CMRC 2018 script turns a prediction into a string (str()); the SQuAD, MLQA
    and XOR-TyDi scripts would crash on a number, so their scorers say so instead.

    Raises:
        ValueError: A prediction is not a string.
    """
    for qid, answer in predictions.items():
        if not isinstance(answer, str):
            raise ValueError(
                f"predictions: the answer to question {qid!r} is {answer!r:.50} "
                f"({type(answer).__name__}), not a string; only cmrc / drcd score numbers "
                "(as their str())"
            )


@dataclass(frozen=True)
class AnswerNormalizer:
    """SQuAD-family normalization: lower, drop punctuation, drop articles, re-join tokens.

    The steps run in the order of the SQuAD and MLQA scripts; the normalized string is
    the tokens joined by single spaces.

    Attributes:
        punctuation: Characters deleted from the text.
        articles: Pattern replaced by a space after punctuation removal; None keeps all.
        tokenize: Splits the text into tokens (whitespace, or mixed CJK segmentation).
    """

    punctuation: frozenset[str]
    articles: re.Pattern[str] | None = None
    tokenize: Callable[[str], list[str]] = str.split

    def __call__(self, text: str) -> str:
        text = "".join(ch for ch in text.lower() if ch not in self.punctuation)
        if self.articles is not None:
            text = self.articles.sub(" ", text)
        return " ".join(t for t in self.tokenize(text) if t.strip())


def token_f1(pred_tokens: Sequence[str], gold_tokens: Sequence[str]) -> float:
    """Bag-of-tokens F1 of the SQuAD script (also MLQA and XOR-TyDi).

    Args:
        pred_tokens: Tokens of the normalized prediction.
        gold_tokens: Tokens of the normalized gold answer.

    Returns:
        F1 in [0, 1]; 0 when nothing overlaps (also when either side is empty).
    """
    num_same = sum((Counter(pred_tokens) & Counter(gold_tokens)).values())
    if num_same == 0:
        return 0.0
    precision = num_same / len(pred_tokens)
    recall = num_same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def exact_match_and_f1(
    examples: Iterable[GoldExample],
    predictions: Mapping[str, str],
    normalize: Callable[[str], str],
) -> dict[str, float]:
    """The evaluate() loop of the SQuAD v1.1 and MLQA scripts.

    Every example counts in the total; a question without a prediction scores 0 on
    both metrics, as in the official scripts.

    Args:
        examples: Gold examples.
        predictions: Answer string per question id.
        normalize: Answer normalization; EM compares normalized strings, F1 their
            whitespace tokens.

    Returns:
        {"exact_match", "f1"} on the 0-100 scale.

    Raises:
        ValueError: There are no examples, or a prediction is not a string.
    """
    require_string_predictions(predictions)
    exact_match = f1 = 0.0
    total = 0
    for example in examples:
        total += 1
        if example.qid not in predictions:
            continue
        pred = normalize(predictions[example.qid])
        golds = [normalize(answer) for answer in example.answers]
        exact_match += max(pred == gold for gold in golds)
        f1 += max(token_f1(pred.split(), gold.split()) for gold in golds)
    if total == 0:
        raise ValueError("no gold examples to score")
    return {"exact_match": 100.0 * exact_match / total, "f1": 100.0 * f1 / total}


def is_cjk(char: str) -> bool:
    """True for a character in U+4E00-U+9FA5, the CJK range the MLQA/CMRC scripts test."""
    return "\u4e00" <= char <= "\u9fa5"


def mixed_segmentation(
    text: str,
    split_run: Callable[[str], Sequence[str]],
    single_chars: frozenset[str],
    drop: frozenset[str] = frozenset(),
) -> list[str]:
    """Mixed Chinese/other segmentation as in the MLQA and CMRC 2018 scripts.

    Every CJK character and every character of `single_chars` is a token on its own;
    the text between them is tokenized by `split_run`. Characters in `drop` are skipped
    before anything else, so they neither form a token nor split a run (a CMRC quirk:
    "a-b" with "-" dropped is the one run "ab").

    Args:
        text: Text to segment.
        split_run: Tokenizer for runs of non-CJK text.
        single_chars: Characters that stand alone as tokens and end a run.
        drop: Characters deleted first.

    Returns:
        The tokens in order.
    """
    tokens: list[str] = []
    run = ""
    for char in text:
        if char in drop:
            continue
        if is_cjk(char) or char in single_chars:
            if run:
                tokens.extend(split_run(run))
                run = ""
            tokens.append(char)
        else:
            run += char
    if run:
        tokens.extend(split_run(run))
    return tokens
