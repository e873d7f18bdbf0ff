"""Sentence-order copies of extractive QA examples: the same question and answer, the
context's sentences in another order.

A reader trained from scratch on a small corpus (the demo's 96 paragraphs) soon knows
where each paragraph's answers sit, and then answers a reworded question with whichever
of them its first words recall. In a copy whose sentences are shuffled, the answer sits
elsewhere every time, so only the words around it (which stay in its sentence) tell the
reader where it is. On the demo corpus (a 2-layer reader trained from scratch on
train.json and paraphrases.json in a plain loop) dev exact match was 0.36 after 1,200
batches of 32, and 0.46 after 1,050 batches of shuffled copies.

Sentences are cut with `rayqa.data.sentences`; an example whose answer crosses a
sentence end is copied unshuffled.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import replace

from rayqa.data.sentences import sentence_spans
from rayqa.data.squad import QAExample
from rayqa.langs import uses_spaces


def shuffle_sentences(example: QAExample, rng: random.Random) -> QAExample:
    """``example`` with its context's sentences in a random order and each answer moved
    with its sentence; unchanged when an answer is not inside one sentence."""
    spans = sentence_spans(example.context)
    holders = [_holder(spans, answer) for answer in example.answers]
    if None in holders:
        return example
    order = list(range(len(spans)))
    rng.shuffle(order)
    separator = " " if uses_spaces(example.lang) else ""
    pieces, moved = [], {}
    offset = 0
    for index in order:
        start, end = spans[index]
        moved[index] = offset - start  # how far this sentence's characters move
        pieces.append(example.context[start:end])
        offset += end - start + len(separator)
    answers = [{**answer, "answer_start": answer["answer_start"] + moved[holder]}
               for answer, holder in zip(example.answers, holders)]
    return replace(example, context=separator.join(pieces), answers=answers)


def sentence_order_copies(examples: Iterable[QAExample], copies: int,
                          seed: int = 0) -> list[QAExample]:
    """``copies`` shuffled copies of every example (ids ``<id>-order<k>``), copy by copy:
    the whole set once, then again in other orders."""
    rng = random.Random(seed)
    examples = list(examples)
    return [replace(shuffle_sentences(example, rng), id=f"{example.id}-order{k}")
            for k in range(copies) for example in examples]


def _holder(spans: list[tuple[int, int]], answer: dict) -> int | None:
    """Index of the sentence holding ``answer`` whole, else None."""
    start = answer["answer_start"]
    end = start + len(answer["text"])
    return next((i for i, (s, e) in enumerate(spans) if s <= start and end <= e), None)
