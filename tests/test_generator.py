"""mGEN without Ray: input format, truncation, batching, loss, data file, decoding."""

import json

import pytest
import torch
import torch.nn.functional as F

from rayqa.answer.generative import GenerativeReader, generate_answers
from rayqa.config import GeneratorConfig, MGENJobConfig, save_config
from rayqa.data.records import DataError
from rayqa.models.generator import (IGNORE_INDEX, collate, encode_sources, encode_targets,
                                    format_passages, format_source, seq2seq_loss, shift_right)
from rayqa.testing.tiny_seq2seq import build_tiny_mt5
from rayqa.train.mgen_job import read_generation_file

PASSAGES = [{"title": "ロン・ポール", "text": "ロナルド・アーネスト・ポールは政治家。", "id": "p1",
             "lang": "ja"},
            {"title": "Ron Paul", "text": "Paul went to Gettysburg College.", "id": "p2",
             "lang": "en"}]
QUESTION = "ロンポールの学部時代の専攻は何?"


def test_source_matches_the_official_conversion():
    """Byte for byte what CORA's convert_dpr_retrieval_results_to_seq2seq.py writes."""
    assert format_source(QUESTION, "ja", PASSAGES) == (
        "<Q>: ロンポールの学部時代の専攻は何? [ja] <P>:<0: ロン・ポール> "
        "ロナルド・アーネスト・ポールは政治家。 <1: Ron Paul> Paul went to Gettysburg College.")


def test_passages_keep_retrieval_order_and_ranks():
    three = PASSAGES + [{"title": "", "text": "third"}]
    text = format_passages(three[::-1])
    assert text.index("<0: > third") < text.index("<1: Ron Paul>") < text.index("<2: ロン・ポール>")


def test_closed_book_and_untagged_inputs():
    assert format_source("who?", "de") == "<Q>: who? [de]"
    assert format_source("who?", None, PASSAGES[1:]) == (
        "<Q>: who? <P>:<0: Ron Paul> Paul went to Gettysburg College.")


def test_lang_tag_is_the_answer_language():
    """Synthetic data: an English question tagged with the target language (paper Table 7)."""
    assert format_source("who plays the good doctor", "ko").startswith(
        "<Q>: who plays the good doctor [ko]")


def test_newlines_become_spaces():
    source = format_source("a\nb", "en", [{"title": "t", "text": "x\ny"}])
    assert "\n" not in source and "a b" in source and "x y" in source


@pytest.fixture(scope="module")
def tiny_mt5(tmp_path_factory):
    texts = [format_source(QUESTION, "ja", PASSAGES), "Paul went to Gettysburg College 1957",
             "<Q>: who? [en] <P>:<0: x> word " * 3]
    return build_tiny_mt5(texts, tmp_path_factory.mktemp("mt5"), extra_ids=0, dropout=0.0)


@pytest.fixture(scope="module")
def tokenizer(tiny_mt5):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_mt5)


def test_truncation_keeps_the_question_and_cuts_passages(tokenizer):
    long = [{"title": "Ron Paul", "text": "Paul went to Gettysburg College. " * 40}] * 15
    source = format_source(QUESTION, "ja", long)
    ids = encode_sources(tokenizer, [source], max_length=64)[0]
    assert len(ids) == 64 and ids[-1] == tokenizer.eos_token_id
    decoded = tokenizer.decode(ids, skip_special_tokens=True)
    assert decoded.startswith(f"<Q>: {QUESTION} [ja] <P>:<0: Ron Paul>")
    assert "<1:" not in decoded  # the lower-ranked passages went first
    assert len(encode_sources(tokenizer, [source], max_length=5000)[0]) > 64


def test_collate_masks_label_padding(tokenizer):
    inputs = encode_sources(tokenizer, ["<Q>: who? [en]", format_source(QUESTION, "ja")], 100)
    labels = encode_targets(tokenizer, ["Paul", "Gettysburg College 1957"], 25)
    batch = collate([{"input_ids": i, "labels": t} for i, t in zip(inputs, labels)],
                    pad_id=tokenizer.pad_token_id)
    assert batch["labels"][0, len(labels[0]):].eq(IGNORE_INDEX).all()
    assert batch["labels"][1].ne(IGNORE_INDEX).all()
    assert batch["attention_mask"].sum(1).tolist() == [len(i) for i in inputs]
    decoder = shift_right(batch["labels"], start_id=0, pad_id=tokenizer.pad_token_id)
    assert decoder[:, 0].eq(0).all() and not decoder.eq(IGNORE_INDEX).any()
    assert decoder[1, 1:].tolist() == labels[1][:-1]


def test_targets_are_cut_to_max_target_length(tokenizer):
    ids = encode_targets(tokenizer, ["Paul went to Gettysburg College " * 5], 6)[0]
    assert len(ids) == 6 and ids[-1] == tokenizer.eos_token_id


def test_loss_equals_the_model_loss_without_smoothing_and_smooths(tiny_mt5, tokenizer):
    from transformers import AutoModelForSeq2SeqLM

    model = AutoModelForSeq2SeqLM.from_pretrained(tiny_mt5).eval()
    inputs = encode_sources(tokenizer, ["<Q>: who? [en]", format_source(QUESTION, "ja")], 100)
    labels = encode_targets(tokenizer, ["Paul", "Gettysburg College 1957"], 25)
    batch = collate([{"input_ids": i, "labels": t} for i, t in zip(inputs, labels)],
                    tokenizer.pad_token_id)
    with torch.no_grad():
        reference = model(**batch).loss  # transformers' own shift and -100 masking
        plain = seq2seq_loss(model, batch, 0.0)
        smooth = seq2seq_loss(model, batch, 0.1)
        logits = model(**batch).logits
    assert plain.item() == pytest.approx(reference.item(), rel=1e-5)
    mask = batch["labels"].ne(IGNORE_INDEX)
    uniform = -F.log_softmax(logits, -1).mean(-1)[mask].mean()
    assert smooth.item() == pytest.approx(0.9 * plain.item() + 0.1 * uniform.item(), rel=1e-5)


def test_generative_reader_greedy_and_beam(tiny_mt5):
    save_config(MGENJobConfig(output_dir="o", model=GeneratorConfig(
        name_or_path="x", eval_passages=1, max_target_length=6, max_source_length=48)), tiny_mt5)
    reader = GenerativeReader(tiny_mt5, device="cpu", batch_size=2)
    assert reader.config.eval_passages == 1 and reader.config.max_source_length == 48
    questions, langs = [QUESTION, "who?", "who went?"], ["ja", "en", None]
    passages = [PASSAGES, [], PASSAGES[1:]]
    greedy = reader.answer_batch(questions, langs, passages)
    beam = reader.answer_batch(questions, langs, passages, num_beams=4)
    for results in (greedy, beam):
        assert len(results) == 3
        assert all(isinstance(r["answer"], str) and r["score"] <= 0 for r in results)
    # The score is the sequence log-prob: generate's own greedy token scores sum to it.
    source = format_source(QUESTION, "ja", PASSAGES[:1])
    batch = reader.tokenizer([source], max_length=48, truncation=True, return_tensors="pt")
    out = reader.model.generate(**batch, max_new_tokens=6, output_scores=True,
                                return_dict_in_generate=True)
    steps = reader.model.compute_transition_scores(out.sequences, out.scores,
                                                   normalize_logits=True)
    assert greedy[0]["score"] == pytest.approx(steps.sum().item(), abs=1e-4)
    # Alone or in a padded batch: the same answer, the score equal up to float rounding.
    alone = reader.answer(QUESTION, "ja", PASSAGES)
    assert alone["answer"] == greedy[0]["answer"]
    assert alone["score"] == pytest.approx(greedy[0]["score"], abs=1e-4)
    with pytest.raises(ValueError, match="3 questions, 2 langs"):
        reader.answer_batch(questions, langs[:2], passages)


def test_generate_answers_pads_to_min_batches(tiny_mt5, tokenizer):
    from transformers import AutoModelForSeq2SeqLM

    model = AutoModelForSeq2SeqLM.from_pretrained(tiny_mt5)
    calls = []
    model.register_forward_pre_hook(lambda module, args: calls.append(1))
    answers, scores = generate_answers(model, tokenizer, ["<Q>: who? [en]"],
                                       max_source_length=32, batch_size=4, max_new_tokens=3)
    single = len(calls)
    calls.clear()
    again, _ = generate_answers(model, tokenizer, ["<Q>: who? [en]"], max_source_length=32,
                                batch_size=4, max_new_tokens=3, min_batches=3)
    assert again == answers and len(scores) == 1
    assert len(calls) == 3 * single


def test_read_generation_file_counts_bad_lines(tmp_path):
    from rayqa.data.records import BadRecords

    good = {"id": "q1", "question": "Who?", "lang": "en", "answers": ["Paul"],
            "ctxs": [{"id": "p", "title": None, "text": "Paul.", "lang": "en"}]}
    lines = [json.dumps(good), "{broken", json.dumps({**good, "id": "q2", "answers": []}),
             json.dumps({**good, "id": "q3", "ctxs": [{"title": "no text"}]}),
             json.dumps({k: v for k, v in good.items() if k not in ("ctxs", "lang")} | {"id": "q4"})]
    path = tmp_path / "retrieved.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = BadRecords()
    examples = read_generation_file(path, lang="de", report=report)
    assert [e.id for e in examples] == ["q1", "q4"]
    assert examples[0].ctxs[0]["title"] == "" and examples[1].ctxs == []
    assert examples[1].lang == "de"
    assert dict(report.counts) == {"broken_json": 1, "no_answers": 1, "bad_ctxs": 1}
    with pytest.raises(DataError, match=r"retrieved.jsonl:2"):
        read_generation_file(path, strict=True)
