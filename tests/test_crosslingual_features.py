"""Answer Aligner / Answer Verifier inputs (rayqa.crosslingual.features) on a tiny
tokenizer, read as the reader job reads them (segment A as the question of the reader's
own features), and the seeded noisy translated answers of the learnable alignment task.
No Ray, no downloads."""

import random

import numpy as np
import pytest

from rayqa.crosslingual.features import (aligner_question, alignment_reader_examples,
                                         alignment_segments, verifier_question)
from rayqa.data.features import prepare_eval_features, prepare_train_features
from rayqa.data.postprocess import postprocess_predictions
from rayqa.data.squad import QAExample
from rayqa.testing.learnable import noisy_answer
from rayqa.testing.tiny import build_tokenizer

PASSAGE = "The black cat sat on the old mat near the door."
GOLD = "the old mat"
FILLER = " ".join(f"Sentence {i} talks about the weather and the garden." for i in range(30))
RECORD = {"id": "q1", "question": "Where did the cat sit?", "context": PASSAGE,
          "translated_answer": "an  old mat", "answers": [
              {"text": GOLD, "answer_start": PASSAGE.index(GOLD)}]}


@pytest.fixture(scope="module")
def tokenizer():
    return build_tokenizer([PASSAGE, FILLER, RECORD["question"], "an old mat kitten"],
                           vocab_size=300)


def _example(record) -> QAExample:
    return QAExample(record["id"], record["question"], record["context"], record["answers"],
                     translated_answer=record["translated_answer"])


def _features(tokenizer, record, mode, max_length, stride, train=True):
    """The reader's windows of the record's aligner or verifier example."""
    [example] = alignment_reader_examples(tokenizer, [_example(record)], mode)
    if train:
        return prepare_train_features(tokenizer, [example.question], [example.context],
                                      [example.answers], max_length, stride,
                                      max_query_length=None)
    return prepare_eval_features(tokenizer, [example.question], [example.context],
                                 [example.id], max_length, stride, max_query_length=None)


def _tokens(tokenizer, features, row):
    return tokenizer.convert_ids_to_tokens(features["input_ids"][row])


def _label(tokenizer, features, row):
    tokens = _tokens(tokenizer, features, row)
    start, end = features["start_positions"][row], features["end_positions"][row]
    return tokenizer.convert_tokens_to_string(tokens[start:end + 1])


def test_segment_a_texts():
    assert aligner_question("  an \t old mat ") == "an old mat"
    assert verifier_question("Where?", "an old mat") == "Where? [SEP] an old mat"
    assert verifier_question("Where? ", " an old mat", sep=" ") == "Where? an old mat"
    with pytest.raises(ValueError):
        alignment_segments(None, [RECORD], "reader")


def test_aligner_window_is_answer_then_passage_with_the_gold_span_labelled(tokenizer):
    features = _features(tokenizer, RECORD, "aligner", max_length=40, stride=8)
    assert len(features["input_ids"]) == 1
    tokens = _tokens(tokenizer, features, 0)
    assert tokens[:5] == ["[CLS]", "an", "old", "mat", "[SEP]"]
    assert tokens[5] == "The"
    assert features["token_type_ids"][0][:5] == [0] * 5
    assert features["token_type_ids"][0][5] == 1
    assert _label(tokenizer, features, 0) == GOLD
    before = tokenizer.tokenize(PASSAGE[:PASSAGE.index(GOLD)])
    assert features["start_positions"][0] == 5 + len(before)


def test_verifier_window_is_question_sep_answer_then_passage(tokenizer):
    features = _features(tokenizer, RECORD, "verifier", max_length=48, stride=8)
    tokens = _tokens(tokenizer, features, 0)
    segment_a = tokenizer.tokenize(RECORD["question"]) + ["[SEP]", "an", "old", "mat"]
    assert tokens[:len(segment_a) + 2] == ["[CLS]", *segment_a, "[SEP]"]
    # Q_T, the separator and A_trans are all segment A; the passage is segment B.
    types = features["token_type_ids"][0]
    assert types[:len(segment_a) + 2] == [0] * (len(segment_a) + 2)
    assert types[len(segment_a) + 2] == 1
    assert _label(tokenizer, features, 0) == GOLD


def test_verifier_cuts_the_question_not_the_translated_answer(tokenizer):
    long_question = {**RECORD, "question": "Where did the cat sit " * 20}
    [segment] = alignment_segments(tokenizer, [long_question], "verifier",
                                   max_question_tokens=3, max_answer_tokens=32)
    assert segment == "Where did the [SEP] an old mat"


def test_reader_examples_take_segment_a_cut_as_the_features_cut_it(tokenizer):
    """The reader job's route (QAExamples read from an augmented SQuAD file) gives the
    segment A of `alignment_segments`, each part cut to its own limit."""
    example = QAExample("q1", "Where did the cat sit " * 20, PASSAGE, RECORD["answers"],
                        lang="en", translated_answer="an  old mat")
    [verifier] = alignment_reader_examples(tokenizer, [example], "verifier",
                                           max_question_tokens=3, max_answer_tokens=2)
    assert verifier.question == "Where did the [SEP] an old"
    assert (verifier.id, verifier.context, verifier.answers) == ("q1", PASSAGE, RECORD["answers"])
    [aligner] = alignment_reader_examples(tokenizer, [example], "aligner")
    assert aligner.question == "an old mat" and example.question.startswith("Where")
    with pytest.raises(ValueError, match="no translated_answer"):
        alignment_reader_examples(tokenizer, [QAExample("q2", "q", PASSAGE)], "aligner")


def test_alignment_config_needs_room_for_segment_a():
    from rayqa.config import ReaderJobConfig

    base = {"output_dir": "out", "model": {"name_or_path": "m", "max_query_length": 40},
            "alignment": {"mode": "verifier", "max_question_tokens": 24,
                          "max_answer_tokens": 16}}
    with pytest.raises(ValueError, match=r"max_query_length \(40\) must hold segment A: 41"):
        ReaderJobConfig.model_validate(base)
    aligner = ReaderJobConfig.model_validate({**base, "alignment": {"mode": "aligner"}})
    assert aligner.alignment.segment_tokens() == 32
    with pytest.raises(ValueError, match="trains the mrc task alone"):
        ReaderJobConfig.model_validate({**base, "alignment": {"mode": "aligner"}, "tasks": [
            {"name": "mrc"}, {"name": "lakm", "files": ["p.jsonl"]}]})


@pytest.mark.parametrize("mode", ["aligner", "verifier"])
def test_long_passage_is_windowed_and_the_answer_found_again(tokenizer, mode):
    context = FILLER + " " + PASSAGE + " " + FILLER
    record = {**RECORD, "context": context,
              "answers": [{"text": GOLD, "answer_start": context.index(GOLD)}]}
    train = _features(tokenizer, record, mode, max_length=64, stride=16)
    windows = len(train["input_ids"])
    assert windows > 3
    labelled = [i for i in range(windows) if train["start_positions"][i] != 0]
    assert labelled and all(_label(tokenizer, train, i) == GOLD for i in labelled)
    # Postprocessing the inference windows with logits at the gold tokens gives the gold text.
    evaluation = _features(tokenizer, record, mode, max_length=64, stride=16, train=False)
    assert evaluation["input_ids"] == train["input_ids"]
    start_logits = np.zeros((windows, 64), dtype=np.float32)
    end_logits = np.zeros((windows, 64), dtype=np.float32)
    row = labelled[0]
    start_logits[row, train["start_positions"][row]] = 5.0
    end_logits[row, train["end_positions"][row]] = 5.0
    predictions = postprocess_predictions([{"id": "q1", "context": context}], evaluation,
                                          start_logits, end_logits)
    assert predictions == {"q1": GOLD}


def test_noisy_answer_is_seeded_and_differs_from_the_gold():
    gold = "the old black cat"
    synonyms = {"cat": "kitten", "old": "aged"}
    first = [noisy_answer(gold, random.Random(seed), synonyms) for seed in range(20)]
    again = [noisy_answer(gold, random.Random(seed), synonyms) for seed in range(20)]
    assert first == again
    assert all(text and text != gold for text in first)
    assert len(set(first)) > 10
    # No noise: the gold; synonyms only: every one swapped.
    assert noisy_answer(gold, random.Random(0), synonyms, 0.0, 0.0, 0.0) == gold
    assert noisy_answer(gold, random.Random(0), synonyms, 1.0, 0.0, 0.0) == "the aged black kitten"
    # A swap-only setting that happened to swap nothing is still edited once.
    assert noisy_answer("dog", random.Random(0), synonyms, 0.5, 0.0, 0.0) in {"og", "dg", "do"}
    assert noisy_answer("猫", random.Random(1), {}, 0.0, 1.0, 0.0) != "猫"
