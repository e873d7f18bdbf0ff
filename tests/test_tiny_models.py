"""Tiny model factory: WordPiece tokenizer over all scripts, small BERT reader, real loaders."""

import json
import time

import pytest
import torch
from transformers import (AutoModel, AutoModelForQuestionAnswering, AutoTokenizer,
                          BertTokenizerFast)

from rayqa.data.squad import read_squad
from rayqa.testing.tiny import build_tiny_encoder, build_tiny_reader, build_tokenizer

LANGS = ["zh", "ar", "hi", "th", "ru", "en"]


@pytest.fixture(scope="module")
def texts_by_lang(shared_dir):
    texts = {}
    for lang in LANGS:
        examples = read_squad(shared_dir / f"data/xquad/xquad.{lang}.json")
        contexts = list(dict.fromkeys(e.context for e in examples))
        texts[lang] = contexts + [e.question for e in examples]
    return texts


@pytest.fixture(scope="module")
def reader_dir(texts_by_lang, tmp_path_factory):
    texts = [text for lang_texts in texts_by_lang.values() for text in lang_texts]
    out_dir = tmp_path_factory.mktemp("tiny-reader")
    started = time.perf_counter()
    build_tiny_reader(texts, out_dir)
    elapsed = time.perf_counter() - started
    assert len(texts) > 8000 and elapsed < 10, f"building took {elapsed:.1f} s"
    return out_dir


def test_loads_through_the_auto_classes(reader_dir):
    tokenizer = AutoTokenizer.from_pretrained(reader_dir)
    model = AutoModelForQuestionAnswering.from_pretrained(reader_dir)
    assert isinstance(tokenizer, BertTokenizerFast)
    assert model.config.model_type == "bert" and model.config.vocab_size == len(tokenizer)
    saved = json.loads((reader_dir / "tokenizer_config.json").read_text())
    assert saved["do_lower_case"] is False and saved["strip_accents"] is False
    assert tokenizer.tokenize("Paris") != tokenizer.tokenize("paris")  # cased
    assert tokenizer.convert_ids_to_tokens(list(range(5))) == ["[PAD]", "[UNK]", "[CLS]",
                                                                "[SEP]", "[MASK]"]


@pytest.mark.parametrize("lang", ["zh", "ar", "hi", "th", "ru"])
def test_tokenizer_covers_every_script(reader_dir, texts_by_lang, lang):
    tokenizer = AutoTokenizer.from_pretrained(reader_dir)
    ids = [i for row in tokenizer(texts_by_lang[lang])["input_ids"] for i in row]
    unknown = ids.count(tokenizer.unk_token_id) / len(ids)
    # Only words over WordPiece's 100-character limit become [UNK] (as in mBERT): some
    # Thai runs without spaces are that long.
    assert unknown == 0 or (lang == "th" and unknown < 0.001)


@pytest.mark.parametrize("text", ["पैंथर्स डिफ़ेंस ने कितने अंक दिए", "ความร้อนแฝง",
                                  "بِسْمِ اللَّهِ", "中文分词"])
def test_marks_survive_and_cjk_splits(reader_dir, text):
    tokenizer = AutoTokenizer.from_pretrained(reader_dir)
    pieces = [token.removeprefix("##") for token in tokenizer.tokenize(text)]
    assert "[UNK]" not in pieces
    assert "".join(pieces) == text.replace(" ", "")  # no mark stripped, nothing lost
    if text == "中文分词":
        assert pieces == list(text)


def test_model_forward_and_encoder_loading(reader_dir):
    tokenizer = AutoTokenizer.from_pretrained(reader_dir)
    batch = tokenizer(["谁？", "Who?"], ["巴黎是法国的首都。", "Paris is the capital."],
                      padding=True, return_tensors="pt")
    model = AutoModelForQuestionAnswering.from_pretrained(reader_dir).eval()
    with torch.no_grad():
        output = model(**batch)
    assert output.start_logits.shape == batch["input_ids"].shape == output.end_logits.shape
    encoder = AutoModel.from_pretrained(reader_dir).eval()
    with torch.no_grad():
        hidden = encoder(**batch).last_hidden_state
    assert hidden.shape == (*batch["input_ids"].shape, 64)


def test_encoder_build_is_reproducible_and_sized(tmp_path):
    tokenizer = build_tokenizer(["a small text", "другой текст", "另一个文本"], tmp_path / "tok")
    first = build_tiny_encoder(tmp_path / "tok", tmp_path / "a", hidden=32, layers=1, heads=4,
                               intermediate=64, max_position=128, seed=3)
    second = build_tiny_encoder(tokenizer, tmp_path / "b", hidden=32, layers=1, heads=4,
                                intermediate=64, max_position=128, seed=3)
    assert first.config.num_hidden_layers == 1 and first.config.max_position_embeddings == 128
    for a, b in zip(first.state_dict().values(), second.state_dict().values()):
        assert torch.equal(a, b)
    assert (tmp_path / "a" / "tokenizer.json").exists()
