"""Dual BERT inputs: a target example X_T paired with its translation X_S, window by window.

The model (``rayqa.models.dual_bert.DualBert``) reads one target window and one source
window per row; which windows go together is decided here. The paper (section 4.1)
builds X_T = [CLS] Q_T [SEP] P_T [SEP] and X_S the same from the translation, and does
not say what happens when a passage is longer than one window. The choice made here,
the simplest that keeps both of the paper's losses meaningful:

* Target windows are exactly the reader's: ``prepare_train_features`` /
  ``prepare_eval_features`` with the job's doc stride, labelled and decoded as the
  reader does (a window without the whole answer is labelled with CLS in training).
* Each example has ONE source window, paired with every one of its target windows.
  In training it is the first source window that holds the source gold answer whole
  (so L_aux and the span representation H~_S of eq. 10 see the answer); when the source
  answer is not located in the translated passage (``answer_start`` -1) or no window
  holds it whole, it is the first window. At dev/inference time (no answer known) it is
  always the first window.
* ``both_have_span`` is True only where the source window holds the source answer AND
  the target window holds the target answer: the dynamic lambda compares the two gold
  span representations (eq. 12), which do not exist otherwise. Where it is False the
  row trains on L_T alone (L_aux and lambda are 0) and is counted in the job's
  diagnostics (``source_without_span``).

Examples are plain columns (lists), as ``rayqa.data.features`` takes them, so the
functions serve a Ray Data step and an in-process predictor alike; they are pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rayqa.data.features import prepare_eval_features, prepare_train_features
from rayqa.models.dual_bert_options import ENCODER_INPUTS, SOURCE_PREFIX

if TYPE_CHECKING:  # the caller brings the tokenizer; importing transformers here is slow
    from transformers import PreTrainedTokenizerBase

SPAN_LABELS = ("start_positions", "end_positions")


def prepare_dual_train_features(tokenizer: PreTrainedTokenizerBase,
                                questions: Sequence[str], contexts: Sequence[str],
                                answers: Sequence[Any], source_questions: Sequence[str],
                                source_contexts: Sequence[str], source_answers: Sequence[Any],
                                max_length: int = 384, stride: int = 128,
                                max_query_length: int | None = 64) -> dict[str, list]:
    """Training rows of Dual BERT: every target window with its example's source window.

    Args:
        tokenizer: A fast tokenizer (offsets are needed), shared by both sides.
        questions, contexts, answers: The target examples (answers as in
            ``prepare_train_features``).
        source_questions, source_contexts, source_answers: Their translations, in the
            same order (an answer with ``answer_start`` -1, or none, is "not located").
        max_length, stride, max_query_length: The window geometry of both sides.

    Returns:
        Columns, one row per target window: the target's model inputs and span labels,
        the same prefixed with ``source_``, and ``both_have_span`` (see the module
        docstring).
    """
    window = {"max_length": max_length, "stride": stride, "max_query_length": max_query_length}
    target = prepare_train_features(tokenizer, questions, contexts, answers, **window)
    owners = _window_owners(tokenizer, questions, contexts, window)
    source = prepare_train_features(tokenizer, source_questions, source_contexts,
                                    source_answers, **window)
    chosen, located = _answer_windows(tokenizer, source, _window_owners(
        tokenizer, source_questions, source_contexts, window), len(questions))
    rows = {name: list(values) for name, values in target.items()}
    for name in (*ENCODER_INPUTS, *SPAN_LABELS):
        if name in source:
            rows[SOURCE_PREFIX + name] = [source[name][chosen[k]] for k in owners]
    rows["both_have_span"] = [
        located[k] and not _is_cls(tokenizer, target, i) for i, k in enumerate(owners)]
    return rows


def prepare_dual_eval_features(tokenizer: PreTrainedTokenizerBase,
                               questions: Sequence[str], contexts: Sequence[str],
                               example_ids: Sequence[str], source_questions: Sequence[str],
                               source_contexts: Sequence[str], max_length: int = 384,
                               stride: int = 128,
                               max_query_length: int | None = 64) -> dict[str, list]:
    """Evaluation rows: the reader's target windows, each with its example's first
    source window.

    Returns:
        ``prepare_eval_features``'s columns of the target (``example_id``,
        ``offset_mapping`` for post-processing) plus the source's model inputs prefixed
        with ``source_``.
    """
    window = {"max_length": max_length, "stride": stride, "max_query_length": max_query_length}
    features = prepare_eval_features(tokenizer, questions, contexts, example_ids, **window)
    index = {example_id: k for k, example_id in enumerate(example_ids)}
    source = prepare_eval_features(tokenizer, source_questions, source_contexts,
                                   list(range(len(example_ids))), **window)
    first: dict[int, int] = {}
    for i, k in enumerate(source["example_id"]):
        first.setdefault(k, i)
    owners = [index[example_id] for example_id in features["example_id"]]
    for name in ENCODER_INPUTS:
        if name in source:
            features[SOURCE_PREFIX + name] = [source[name][first[k]] for k in owners]
    return features


def _window_owners(tokenizer, questions, contexts, window: dict) -> list[int]:
    """The example index of every window ``prepare_train_features`` makes of these inputs.

    The evaluation features tokenize the same inputs the same way (one shared encoder),
    so their windows are the training windows, in order, and they name their example.
    """
    return prepare_eval_features(tokenizer, questions, contexts,
                                 list(range(len(questions))), **window)["example_id"]


def _answer_windows(tokenizer, source: dict, owners: list[int],
                    examples: int) -> tuple[list[int], list[bool]]:
    """Per example, the source window paired with its target windows and whether it
    holds the answer: the first window with the answer whole, else the first window."""
    chosen: list[int | None] = [None] * examples
    located = [False] * examples
    for i, k in enumerate(owners):
        if chosen[k] is None:
            chosen[k] = i
        if not located[k] and not _is_cls(tokenizer, source, i):
            chosen[k], located[k] = i, True
    return chosen, located


def _is_cls(tokenizer, features: dict, i: int) -> bool:
    """Whether window ``i`` is labelled with CLS (it does not hold the answer whole)."""
    cls_index = features["input_ids"][i].index(tokenizer.cls_token_id)
    return features["start_positions"][i] == cls_index
