"""Dual BERT job inputs without Ray: window pairing, pair reading, config, one forward."""

import json

import numpy as np
import pytest
import torch

from rayqa.config import ConfigError, DualBertJobConfig, load_config
from rayqa.crosslingual.dual_bert_features import (prepare_dual_eval_features,
                                                   prepare_dual_train_features)
from rayqa.data.records import BadRecords
from rayqa.data.squad import QAExample, write_squad
from rayqa.testing.tiny import build_tokenizer

FILLER_ZH = "今天天气很好，我们去公园散步。" * 12
FILLER_EN = "The weather is fine today and we walk in the park. " * 12
WINDOW = {"max_length": 64, "stride": 16, "max_query_length": 16}


def answer(context: str, text: str) -> list[dict]:
    return [{"text": text, "answer_start": context.index(text)}]


@pytest.fixture(scope="module")
def tokenizer():
    return build_tokenizer([FILLER_ZH, FILLER_EN, "灯塔建于哪一年？一八八八年灯塔建成。",
                            "When was the lighthouse built? It was built in 1888."],
                           vocab_size=300)


def span_text(tokenizer, row: dict, prefix: str) -> str:
    ids = row[prefix + "input_ids"]
    start, end = row[prefix + "start_positions"], row[prefix + "end_positions"]
    return tokenizer.decode(ids[start:end + 1]).replace(" ", "")


def rows_of(features: dict) -> list[dict]:
    return [dict(zip(features, values)) for values in zip(*features.values())]


def test_long_passages_pair_every_target_window_with_the_source_answer_window(tokenizer):
    # The answer sits late in both passages: several windows on each side.
    zh = FILLER_ZH + "灯塔一八八八年建成。" + FILLER_ZH[:30]
    en = FILLER_EN + "The lighthouse was built in 1888. " + FILLER_EN[:60]
    short_zh, short_en = "一八八八年灯塔建成。", "It was built in 1888."
    features = prepare_dual_train_features(
        tokenizer, ["灯塔建于哪一年？", "灯塔建于哪一年？"], [zh, short_zh],
        [answer(zh, "一八八八年"), answer(short_zh, "一八八八年")],
        ["When was the lighthouse built?"] * 2, [en, short_en],
        [answer(en, "1888"), answer(short_en, "1888")], **WINDOW)
    rows = rows_of(features)
    assert all(len(row["source_input_ids"]) == WINDOW["max_length"] for row in rows)
    long_rows, short_rows = rows[:-1], rows[-1:]
    assert len(long_rows) > 2  # the doc-stride windows of the long target passage
    # One source window for all of them: the one holding the source answer (not the first).
    assert len({tuple(row["source_input_ids"]) for row in long_rows}) == 1
    assert span_text(tokenizer, long_rows[0], "source_") == "1888"
    assert long_rows[0]["source_start_positions"] > 0
    # Lambda needs both gold spans: only the target windows holding the answer get one.
    with_answer = [row for row in long_rows if row["start_positions"] > 0]
    assert with_answer and all(span_text(tokenizer, r, "") == "一八八八年" for r in with_answer)
    assert [row["both_have_span"] for row in long_rows] == [
        row["start_positions"] > 0 for row in long_rows]
    assert short_rows[0]["both_have_span"] and span_text(tokenizer, short_rows[0],
                                                          "source_") == "1888"


def test_source_answer_not_located_trains_without_a_source_span(tokenizer):
    zh, en = "一八八八年灯塔建成。", FILLER_EN + "It was built long ago."
    features = prepare_dual_train_features(
        tokenizer, ["灯塔建于哪一年？"], [zh], [answer(zh, "一八八八年")],
        ["When was it built?"], [en], [[{"text": "1888", "answer_start": -1}]], **WINDOW)
    rows = rows_of(features)
    assert [row["both_have_span"] for row in rows] == [False]
    first = prepare_dual_eval_features(tokenizer, ["q"], [zh], ["x"], ["When was it built?"],
                                       [en], **WINDOW)
    assert rows[0]["source_input_ids"] == first["source_input_ids"][0]  # the first window


def test_eval_rows_pair_each_target_window_with_the_first_source_window(tokenizer):
    zh = FILLER_ZH + "灯塔一八八八年建成。"
    en = FILLER_EN + "The lighthouse was built in 1888."
    features = prepare_dual_eval_features(
        tokenizer, ["灯塔建于哪一年？", "哪一年？"], [zh, "一八八八年。"], ["a", "b"],
        ["When?", "Which year?"], [en, "In 1888."], **WINDOW)
    ids = features["example_id"]
    assert ids[0] == "a" and ids[-1] == "b" and ids.count("a") > 1
    sources = [tuple(s) for s, i in zip(features["source_input_ids"], ids) if i == "a"]
    assert len(set(sources)) == 1
    cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
    question = tokenizer("When?", add_special_tokens=False)["input_ids"]
    assert list(sources[0][:len(question) + 2]) == [cls, *question, sep]
    assert len(features["offset_mapping"]) == len(ids)  # for the reader's post-processing


def test_read_pairs_by_id_and_counts_targets_without_translation(tmp_path):
    from rayqa.config import FilePair
    from rayqa.train.dual_bert_job import read_pairs

    zh = [QAExample(f"q{i}", "问题？", "一八八八年。", answer("一八八八年。", "一八八八年"),
                    "t", "zh") for i in range(3)]
    en = [QAExample("q0", "Q?", "In 1888.", answer("In 1888.", "1888"), "t", "en"),
          QAExample("q1", "Q?", "Long ago.", [], "t", "en")]  # a lost answer still pairs
    write_squad(zh, tmp_path / "zh.json")
    write_squad(en, tmp_path / "en.json")
    pair = FilePair.model_validate({"target": str(tmp_path / "zh.json"),
                                    "source": str(tmp_path / "en.json")})
    counts = {}
    pairs = read_pairs([pair, pair], False, BadRecords(), counts)
    assert counts == {"paired": 4, "without_source": 2}
    assert [p.target.id for p in pairs] == ["q0", "q1", "zh:q0", "zh:q1"]
    assert [p.source.id for p in pairs] == ["q0", "q1", "q0", "q1"]
    assert pairs[1].source.answers == []


def test_shipped_config_and_option_rules():
    cfg = load_config(DualBertJobConfig, "configs/crosslingual/dual_bert.yaml")
    assert (cfg.train.lr, cfg.train.lr_schedule, cfg.train.epochs) == (4e-5, "cosine", 2)
    assert cfg.train.batch_size * cfg.train.num_workers * cfg.train.grad_accum == 64
    assert cfg.dual_bert.options().fixed_lambda is None
    with pytest.raises(ConfigError, match="auxiliary_loss"):
        load_config(DualBertJobConfig, "configs/crosslingual/dual_bert.yaml",
                    ["dual_bert.source_encoder=false"])
    with pytest.raises(ConfigError, match="fixed_lambda"):
        load_config(DualBertJobConfig, "configs/crosslingual/dual_bert.yaml",
                    ["dual_bert.fixed_lambda=-1"])
    ablation = load_config(DualBertJobConfig, "configs/crosslingual/dual_bert.yaml",
                           ["dual_bert.fixed_lambda=1", "dual_bert.self_adaptive=false"])
    assert ablation.dual_bert.options().fixed_lambda == 1


def test_step_rows_collate_into_a_dual_bert_batch(tokenizer, tmp_path):
    """The Ray Data step's output, collated as the worker loop does, is a batch the
    model trains on (finite loss, diagnostics), and the predictor answers from it."""
    import pandas as pd

    from rayqa.answer.dual_bert import predict_pairs
    from rayqa.models.dual_bert import DualBert
    from rayqa.testing.tiny import build_tiny_encoder
    from rayqa.train.data import rows_of as dataset_rows
    from rayqa.train.dual_bert_loop import DualBertFeatures
    from rayqa.train.loop import stack_windows

    build_tiny_encoder(tokenizer, tmp_path, hidden=32, layers=1, heads=2, intermediate=64)
    zh, en = FILLER_ZH + "灯塔一八八八年建成。", "The lighthouse was built in 1888."
    batch = pd.DataFrame({
        "question": ["灯塔建于哪一年？", "哪一年？"], "context": [zh, zh],
        "answers": [json.dumps(answer(zh, "一八八八年")), json.dumps([])],  # 2nd: left out
        "source_question": ["When?", "When?"], "source_context": [en, en],
        "source_answers": [json.dumps(answer(en, "1888"))] * 2})
    features = DualBertFeatures(str(tmp_path), WINDOW)(batch)
    assert len(features) > 1 and features["both_have_span"].sum() == 1
    records = features.to_dict("list")
    rows = dataset_rows({k: np.array(v) for k, v in records.items()})
    torch.manual_seed(0)
    model = DualBert.from_pretrained(tmp_path).train()
    out = model(stack_windows(rows))
    assert torch.isfinite(out.loss)
    assert out.diagnostics["source_without_span"].item() == len(rows) - 1
    target = QAExample("a", "灯塔建于哪一年？", zh, answer(zh, "一八八八年"), lang="zh")
    source = QAExample("a", "When?", en, lang="en")
    got = predict_pairs(model, tokenizer, [target], [source], WINDOW, 4, "cpu")
    assert set(got) == {"a"} and got["a"] in zh
