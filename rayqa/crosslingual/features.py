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
whose "question" is segment A.

`alignment_reader_examples` turns `QAExample`s read from SQuAD files whose questions
carry ``translated_answer`` into the same examples with segment A as their question,
Q_T and A_trans each cut to its own token limit before they are joined
(`alignment_segments`), so a long question never pushes the translated answer out. The
reader job (``alignment`` in its config) trains on these, and `AlignmentReader` answers
with them, so training, dev scoring and inference cut segment A alike.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from rayqa.data.features import truncate_questions
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


def _cut(tokenizer: PreTrainedTokenizerBase, texts: list[str],
         max_tokens: int | None) -> list[str]:
    return texts if max_tokens is None else truncate_questions(tokenizer, texts, max_tokens)


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
