"""Extractive QA features: `[CLS] question [SEP] context window [SEP]` with doc stride.

As in the transformers question-answering example (`run_qa.py`): a fast tokenizer puts
the question first, truncates only the context, and returns overlapping windows
(`return_overflowing_tokens`) with character offsets. The functions take columns (lists
of equal length) and return columns with one row per window, so they serve Ray Data
`map_batches` and torch datasets alike. They are pure: no I/O, no state.

Evaluation offsets of tokens outside the context (question, special tokens, padding)
are `[-1, -1]` rather than None: Arrow and numpy then hold them as plain int pairs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the caller brings the tokenizer; importing transformers here is slow
    from transformers import PreTrainedTokenizerBase

OUTSIDE_CONTEXT = [-1, -1]  # offset of a token outside the context in evaluation features
CONTEXT_SEQUENCE = 1  # the context is the second sequence: the question comes first
_TOKENIZER_ONLY = ("offset_mapping", "overflow_to_sample_mapping")


def prepare_train_features(tokenizer: PreTrainedTokenizerBase, questions: Sequence[str],
                           contexts: Sequence[str], answers: Sequence[Any],
                           max_length: int = 384, stride: int = 128,
                           max_query_length: int | None = 64) -> dict[str, list]:
    """Tokenizes examples into training windows labelled with the answer's token span.

    The label is the first answer with a known position. A window that does not hold
    that answer whole, or an example without one, is labelled with the CLS token.

    Args:
        tokenizer: A fast tokenizer (offsets are needed).
        questions: Question texts.
        contexts: Context texts.
        answers: Per example, a list of `{"text", "answer_start"}` dicts (`QAExample`) or
            a dict of lists `{"text": [...], "answer_start": [...]}` (HF datasets).
        max_length: Tokens per window, padded to this length.
        stride: Tokens shared by consecutive windows of one context.
        max_query_length: Questions are cut to this many tokens; None keeps them whole.

    Returns:
        Columns with one row per window: the tokenizer's model inputs (`input_ids`,
        `attention_mask`, `token_type_ids`), `start_positions` and `end_positions`.
    """
    encoded = _encode_windows(tokenizer, questions, contexts, max_length, stride,
                              max_query_length)
    starts, ends = [], []
    for i, offsets in enumerate(encoded["offset_mapping"]):
        cls_index = encoded["input_ids"][i].index(tokenizer.cls_token_id)
        char_span = _answer_char_span(answers[encoded["overflow_to_sample_mapping"][i]])
        start, end = _token_span(offsets, encoded.sequence_ids(i), char_span, cls_index)
        starts.append(start)
        ends.append(end)
    features = {key: list(value) for key, value in encoded.items() if key not in _TOKENIZER_ONLY}
    features.update(start_positions=starts, end_positions=ends)
    return features


def prepare_eval_features(tokenizer: PreTrainedTokenizerBase, questions: Sequence[str],
                          contexts: Sequence[str], example_ids: Sequence[str],
                          max_length: int = 384, stride: int = 128,
                          max_query_length: int | None = 64) -> dict[str, list]:
    """Tokenizes examples into evaluation windows that remember their example and offsets.

    Args:
        tokenizer: A fast tokenizer (offsets are needed).
        questions: Question texts.
        contexts: Context texts.
        example_ids: The id of each example, copied to each of its windows.
        max_length: Tokens per window, padded to this length.
        stride: Tokens shared by consecutive windows of one context.
        max_query_length: Questions are cut to this many tokens; None keeps them whole.

    Returns:
        Columns with one row per window: the model inputs, `example_id`, and
        `offset_mapping` with `[start_char, end_char]` for context tokens and
        `OUTSIDE_CONTEXT` (`[-1, -1]`) for every other token.
    """
    encoded = _encode_windows(tokenizer, questions, contexts, max_length, stride,
                              max_query_length)
    offsets = [_context_offsets(window, encoded.sequence_ids(i))
               for i, window in enumerate(encoded["offset_mapping"])]
    features = {key: list(value) for key, value in encoded.items() if key not in _TOKENIZER_ONLY}
    features["example_id"] = [example_ids[j] for j in encoded["overflow_to_sample_mapping"]]
    features["offset_mapping"] = offsets
    return features


def _encode_windows(tokenizer: PreTrainedTokenizerBase, questions: Sequence[str],
                    contexts: Sequence[str], max_length: int, stride: int,
                    max_query_length: int | None):
    """Tokenizes question/context pairs into padded, overlapping windows with offsets."""
    # Leading whitespace in questions only wastes window space (run_qa.py does the same).
    questions = [question.lstrip() for question in questions]
    if max_query_length is not None:
        questions = truncate_questions(tokenizer, questions, max_query_length)
    return tokenizer(questions, list(contexts), truncation="only_second", max_length=max_length,
                     stride=stride, return_overflowing_tokens=True,
                     return_offsets_mapping=True, padding="max_length")


def truncate_questions(tokenizer: PreTrainedTokenizerBase, questions: list[str],
                       max_query_length: int) -> list[str]:
    """Cuts each question after its `max_query_length`-th token, as the original BERT does.

    Cutting the text (not the ids) lets one tokenizer call build the windows afterwards.
    """
    encoded = tokenizer(questions, add_special_tokens=False, return_offsets_mapping=True)
    return [question[:offsets[max_query_length - 1][1]] if len(offsets) > max_query_length
            else question
            for question, offsets in zip(questions, encoded["offset_mapping"])]


def _answer_char_span(answers: Any) -> tuple[int, int] | None:
    """Returns `(start_char, end_char)` of the first answer with a known position."""
    if isinstance(answers, Mapping):  # HF datasets: {"text": [...], "answer_start": [...]}
        answers = [{"text": text, "answer_start": start}
                   for text, start in zip(answers["text"], answers["answer_start"])]
    for answer in answers:
        start = int(answer["answer_start"])
        if start >= 0:
            return start, start + len(answer["text"])
    return None


def _token_span(offsets: Sequence[Sequence[int]], sequence_ids: Sequence[int | None],
                char_span: tuple[int, int] | None, cls_index: int) -> tuple[int, int]:
    """Returns the first and last token of `char_span`, or CLS twice when not all inside."""
    context = [i for i, sequence in enumerate(sequence_ids) if sequence == CONTEXT_SEQUENCE]
    if char_span is None or not context:
        return cls_index, cls_index
    start_char, end_char = char_span
    if offsets[context[0]][0] > start_char or offsets[context[-1]][1] < end_char:
        return cls_index, cls_index
    # Offsets grow along the window: the start token is the last one starting at or before
    # the answer, the end token the first one ending at or after it.
    start = max(i for i in context if offsets[i][0] <= start_char)
    end = min(i for i in context if offsets[i][1] >= end_char)
    return start, end


def _context_offsets(offsets: Sequence[Sequence[int]],
                     sequence_ids: Sequence[int | None]) -> list[list[int]]:
    """Returns the window's offsets with every non-context token set to `OUTSIDE_CONTEXT`."""
    return [list(offset) if sequence == CONTEXT_SEQUENCE else list(OUTSIDE_CONTEXT)
            for offset, sequence in zip(offsets, sequence_ids)]
