"""Inputs of the Answer Aligner and the Answer Verifier (Cui et al., 2019, sections 3.3-3.4).

Both are extractive readers over the target passage P_T that output the gold span A_T;
they differ in what stands where a reader has the question (segment A):

* Aligner: ``[CLS] A_trans [SEP] P_T [SEP]``, the back-translated answer alone.
* Verifier: ``[CLS] Q_T [SEP] A_trans [SEP] P_T [SEP]``. The paper only says the
  verifier reads the complete <P_T, Q_T, A_T> plus A_trans; here Q_T and A_trans together
  are segment A (token type 0), joined by the tokenizer's separator token written in the
  text, so the model sees where the question ends and the answer to verify begins. (A
  fast tokenizer matches its special tokens inside text: the middle ``[SEP]`` is one token
  of the first sequence, and the passage stays the second sequence.) A plain " " instead
  of a separator (``sep=" "``) gives ``[CLS] Q_T A_trans [SEP] P_T [SEP]``.

Segment A is built as a string and handed to the reader's own feature code
(`rayqa.data.features`), so the doc-stride windows, the answer labels, the offset
mapping and `rayqa.data.postprocess` work unchanged: the aligner and verifier are readers
whose "question" is segment A. Two ways in:

* `alignment_examples`: records to `QAExample`s (segment A as the question), for the
  reader's data path (e.g. written as SQuAD JSON). The reader's ``max_query_length`` then
  cuts segment A from its end, which for the verifier is the translated answer: set it
  large enough, or use the feature functions below.
* `prepare_alignment_train_features` / `prepare_alignment_eval_features`: records to
  reader feature columns, cutting Q_T and A_trans each to its own token limit before
  joining them, so a long question never pushes the translated answer out.
* `alignment_reader_examples`: `QAExample`s read from SQuAD files whose questions carry
  ``translated_answer`` -> the same examples with segment A (cut as above) as their
  question. The reader job (``alignment`` in its config) trains on these, and
  `AlignmentReader` answers with them, so training, dev scoring and inference cut
  segment A alike.

`noisy_answer` makes the synthetic translated answers of a learnable toy task: the gold
answer with synonyms swapped and characters dropped and added, seeded.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from rayqa.data.features import (prepare_eval_features, prepare_train_features,
                                 truncate_questions)
from rayqa.data.squad import QAExample

if TYPE_CHECKING:  # the caller brings the tokenizer; importing transformers here is slow
    from transformers import PreTrainedTokenizerBase

Mode = Literal["aligner", "verifier"]
MODES = ("aligner", "verifier")
DEFAULT_SEP = "[SEP]"  # BERT's (and mBERT's) separator token


def aligner_question(translated_answer: str) -> str:
    """Segment A of the Answer Aligner: the translated answer, whitespace-normalized."""
    return " ".join(translated_answer.split())


def verifier_question(question: str, translated_answer: str, sep: str = DEFAULT_SEP) -> str:
    """Segment A of the Answer Verifier: ``question sep translated_answer``.

    Args:
        question: The target-language question Q_T.
        translated_answer: The back-translated answer A_trans.
        sep: The tokenizer's separator token (one token between the two), or blank to
            join them with a single space.

    Returns:
        The segment-A text, whitespace-normalized.
    """
    parts = [" ".join(question.split()), sep.strip(), aligner_question(translated_answer)]
    return " ".join(part for part in parts if part)


def alignment_examples(records: Sequence[Mapping[str, Any]], mode: Mode,
                       sep: str = DEFAULT_SEP) -> list[QAExample]:
    """Reader examples whose question is the aligner's or the verifier's segment A.

    Args:
        records: Dicts with ``id``, ``question`` (Q_T; unused by the aligner), ``context``
            (P_T), ``translated_answer`` (A_trans) and, for training, ``answers``: the
            gold spans of the context as ``{"text", "answer_start"}`` dicts.
        mode: ``"aligner"`` or ``"verifier"``.
        sep: The verifier's separator (see `verifier_question`).

    Returns:
        One `QAExample` per record, in order, with ``lang`` and ``title`` when given.
    """
    _check_mode(mode)
    return [QAExample(id=record["id"], question=_segment_a(record, mode, sep),
                      context=record["context"], answers=list(record.get("answers", [])),
                      **{key: record[key] for key in ("title", "lang") if key in record})
            for record in records]


def prepare_alignment_train_features(tokenizer: PreTrainedTokenizerBase,
                                     records: Sequence[Mapping[str, Any]], mode: Mode,
                                     max_length: int = 384, stride: int = 128,
                                     max_question_tokens: int | None = 64,
                                     max_answer_tokens: int | None = 32) -> dict[str, list]:
    """Training windows of the aligner or verifier, labelled with the gold span of P_T.

    As `rayqa.data.features.prepare_train_features` (same columns), with segment A from
    `alignment_segments`; records are those of `alignment_examples`, with ``answers``.
    """
    segments = alignment_segments(tokenizer, records, mode, max_question_tokens,
                                  max_answer_tokens)
    return prepare_train_features(tokenizer, segments, [r["context"] for r in records],
                                  [r.get("answers", []) for r in records], max_length, stride,
                                  max_query_length=None)


def prepare_alignment_eval_features(tokenizer: PreTrainedTokenizerBase,
                                    records: Sequence[Mapping[str, Any]], mode: Mode,
                                    max_length: int = 384, stride: int = 128,
                                    max_question_tokens: int | None = 64,
                                    max_answer_tokens: int | None = 32) -> dict[str, list]:
    """Inference windows of the aligner or verifier, for `rayqa.data.postprocess`.

    As `rayqa.data.features.prepare_eval_features` (same columns: ``example_id`` is the
    record's ``id``), with segment A from `alignment_segments`.
    """
    segments = alignment_segments(tokenizer, records, mode, max_question_tokens,
                                  max_answer_tokens)
    return prepare_eval_features(tokenizer, segments, [r["context"] for r in records],
                                 [r["id"] for r in records], max_length, stride,
                                 max_query_length=None)


def alignment_segments(tokenizer: PreTrainedTokenizerBase,
                       records: Sequence[Mapping[str, Any]], mode: Mode,
                       max_question_tokens: int | None = 64,
                       max_answer_tokens: int | None = 32) -> list[str]:
    """Segment A of each record, Q_T and A_trans each cut to its own token limit.

    The verifier joins them with ``tokenizer.sep_token``. A limit of None keeps the
    text whole.
    """
    _check_mode(mode)
    answers = [aligner_question(r["translated_answer"]) for r in records]
    answers = _cut(tokenizer, answers, max_answer_tokens)
    if mode == "aligner":
        return answers
    questions = _cut(tokenizer, [" ".join(r["question"].split()) for r in records],
                     max_question_tokens)
    return [verifier_question(question, answer, tokenizer.sep_token)
            for question, answer in zip(questions, answers)]


def alignment_reader_examples(tokenizer: PreTrainedTokenizerBase, examples: Sequence[QAExample],
                              mode: Mode, max_question_tokens: int | None = 64,
                              max_answer_tokens: int | None = 32) -> list[QAExample]:
    """``examples`` (with ``translated_answer``) with segment A as their question.

    Args:
        tokenizer: The aligner's or verifier's tokenizer.
        examples: Target-language examples: Q_T, P_T, gold spans and A_trans.
        mode: ``"aligner"`` or ``"verifier"``.
        max_question_tokens: Q_T's token limit (verifier).
        max_answer_tokens: A_trans's token limit.

    Returns:
        Copies of the examples, in order, whose ``question`` is segment A.

    Raises:
        ValueError: An example has no translated answer.
    """
    missing = [e.id for e in examples if not e.translated_answer]
    if missing:
        raise ValueError(f"{len(missing)} examples have no translated_answer, e.g. {missing[0]!r}")
    records = [{"question": e.question, "translated_answer": e.translated_answer}
               for e in examples]
    segments = alignment_segments(tokenizer, records, mode, max_question_tokens,
                                  max_answer_tokens)
    return [dataclasses.replace(e, question=segment) for e, segment in zip(examples, segments)]


def noisy_answer(gold: str, rng: random.Random, synonyms: Mapping[str, str],
                 swap_prob: float = 0.5, drop_prob: float = 0.1, add_prob: float = 0.1,
                 alphabet: str | None = None) -> str:
    """A synthetic "translated answer": the gold answer with translation-like noise.

    First synonyms are swapped: the text is scanned left to right and at each position
    the longest key of ``synonyms`` found there is replaced by its value with probability
    ``swap_prob`` (replaced text is not scanned again). Then each character is dropped with
    probability ``drop_prob``, and after each kept character one character of ``alphabet``
    is added with probability ``add_prob``. When any probability is nonzero and the
    result still equals the gold, one forced edit (a drop, or an addition for a
    one-character answer) makes it differ; the result is never empty.

    Args:
        gold: The gold answer.
        rng: The random source; the same seed gives the same noise.
        synonyms: Word (or phrase) -> replacement, e.g. ``{"cat": "kitten"}``.
        swap_prob: Probability of each synonym swap.
        drop_prob: Probability of dropping each character.
        add_prob: Probability of adding a character after each kept one.
        alphabet: Characters to add; by default the gold's own non-space characters.

    Returns:
        The noisy answer.
    """
    if not gold:
        raise ValueError("gold answer is empty")
    chars = sorted(set(alphabet if alphabet is not None else gold) - set(" \t\n")) or [gold[0]]
    text = _swap_synonyms(gold, rng, synonyms, swap_prob)
    noisy = []
    for char in text:
        if rng.random() >= drop_prob:
            noisy.append(char)
            if rng.random() < add_prob:
                noisy.append(rng.choice(chars))
    result = "".join(noisy) or text[rng.randrange(len(text))]
    if result == gold and max(swap_prob, drop_prob, add_prob) > 0:
        result = _forced_edit(result, rng, chars)
    return result


def _swap_synonyms(text: str, rng: random.Random, synonyms: Mapping[str, str],
                   swap_prob: float) -> str:
    keys = sorted((key for key in synonyms if key), key=len, reverse=True)
    out, i = [], 0
    while i < len(text):
        key = next((key for key in keys if text.startswith(key, i)), None)
        if key is not None and rng.random() < swap_prob:
            out.append(synonyms[key])
            i += len(key)
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _forced_edit(text: str, rng: random.Random, chars: list[str]) -> str:
    """Drops one character, or adds one to a one-character text."""
    if len(text) > 1:
        i = rng.randrange(len(text))
        return text[:i] + text[i + 1:]
    extra = [char for char in chars if char != text] or [text]
    return text + rng.choice(extra)


def _segment_a(record: Mapping[str, Any], mode: Mode, sep: str) -> str:
    if mode == "aligner":
        return aligner_question(record["translated_answer"])
    return verifier_question(record["question"], record["translated_answer"], sep)


def _cut(tokenizer: PreTrainedTokenizerBase, texts: list[str],
         max_tokens: int | None) -> list[str]:
    return texts if max_tokens is None else truncate_questions(tokenizer, texts, max_tokens)


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
