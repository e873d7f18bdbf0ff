"""LAKM: passages with phrase spans, windows, the 15% / phrases-first / 80-10-10 masking,
the MLM head tied to the shared encoder, and the multi-task batch schedule."""

import json

import numpy as np
import pytest
import torch

from rayqa.config import ConfigError, LAKMConfig, ReaderJobConfig, build_config
from rayqa.data.lakm import (
    IGNORE_INDEX,
    LAKMCollator,
    PhrasePassage,
    choose_positions,
    prepare_lakm_features,
    read_lakm_passages,
)
from rayqa.data.records import BadRecords, DataError
from rayqa.models.multitask import MultiTaskReader
from rayqa.testing.tiny import build_tiny_reader
from rayqa.train.multitask import TaskLoader, task_order

TEXTS = [
    "George Washington cut down a cherry tree when he was six, says the old myth.",
    "The cherry tree story first appeared in a book by Mason Locke Weems in 1806.",
    "Mount Vernon was the home of George Washington on the Potomac River.",
    "乔治·华盛顿砍倒樱桃树的故事出现在一本传记中。",
]


@pytest.fixture(scope="module")
def reader_dir(tmp_path_factory):
    return build_tiny_reader(TEXTS * 4, tmp_path_factory.mktemp("lakm") / "reader",
                             vocab_size=400, hidden=32, layers=1, heads=2, intermediate=64)


@pytest.fixture(scope="module")
def tokenizer(reader_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(reader_dir)


def passage(text: str, *phrases: str) -> PhrasePassage:
    spans = sorted((text.index(p), text.index(p) + len(p)) for p in phrases)
    return PhrasePassage("p", text, "en", spans)


def test_read_passages_counts_bad_lines_and_strict_names_file_and_line(tmp_path):
    good = {"id": "1", "lang": "en", "text": TEXTS[0],
            "phrases": [{"text": "George Washington", "start": 0, "end": 17}]}
    lines = [json.dumps(good), "{oops", json.dumps({**good, "id": "2", "phrases": []}),
             json.dumps({**good, "id": "3", "phrases": [{"start": 5, "end": 500}]}),
             json.dumps({**good, "id": "4", "text": ""})]
    path = tmp_path / "passages.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = BadRecords()
    passages = read_lakm_passages(path, report=report)
    assert [p.id for p in passages] == ["1"] and passages[0].phrases == [(0, 17)]
    assert dict(report.counts) == {"broken_json": 1, "no_phrases": 1, "bad_span": 1,
                                   "missing_field": 1}
    with pytest.raises(DataError, match=rf"{path}:2: broken_json"):
        read_lakm_passages(path, strict=True)
    path.write_text("\n".join(lines[:1] + lines[2:]) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=rf"{path}:2: no_phrases"):
        read_lakm_passages(path, strict=True)


def test_windows_keep_whole_phrases_only(tokenizer):
    item = passage(TEXTS[0], "George Washington", "cherry tree")
    (whole,) = prepare_lakm_features(tokenizer, [item], max_length=64, stride=16)
    assert len(whole["phrases"]) == 2
    for group, (start, end) in zip(whole["phrases"], item.phrases):
        decoded = tokenizer.decode([whole["input_ids"][i] for i in group])
        assert decoded.replace(" ", "") == TEXTS[0][start:end].replace(" ", "").lower() or \
            decoded.replace(" ", "") == TEXTS[0][start:end].replace(" ", "")
        assert group == list(range(group[0], group[-1] + 1))  # contiguous tokens
    windows = prepare_lakm_features(tokenizer, [item], max_length=16, stride=4)
    assert len(windows) > 1 and all(len(w["input_ids"]) <= 16 for w in windows)
    for window in windows:
        for group in window["phrases"]:
            assert not any(window["special"][i] for i in group)
    # "cherry tree" is cut by some window boundary or fits; never a partial phrase.
    assert sum(len(w["phrases"]) for w in windows) >= 2


def test_phrases_first_then_random_fill_to_the_budget():
    rng = np.random.default_rng(0)
    special = [1] + [0] * 40 + [1]
    phrases = [[3, 4], [10, 11, 12]]
    for _ in range(200):
        chosen = choose_positions(special, phrases, 0.15, rng)
        assert len(chosen) == round(0.15 * 40) == 6
        assert {3, 4, 10, 11, 12} <= set(chosen)  # all phrase tokens fit the budget of 6
        assert 0 not in chosen and 41 not in chosen


def test_whole_phrases_within_the_budget_and_never_split():
    rng = np.random.default_rng(1)
    special = [1] + [0] * 20 + [1]  # budget 3
    phrases = [[1, 2], [5, 6], [8, 9, 10, 11]]
    for _ in range(200):
        chosen = set(choose_positions(special, phrases, 0.15, rng))
        assert len(chosen) == 3
        whole = [g for g in phrases if set(g) <= chosen]
        assert whole in ([phrases[0]], [phrases[1]])  # one 2-token phrase, then 1 random
        # The random fill may hit any other token, a phrase's included.


def test_collator_ratios_over_many_samples(tokenizer):
    windows = prepare_lakm_features(
        tokenizer, [passage(TEXTS[0], "George Washington", "cherry tree"),
                    passage(TEXTS[2], "Mount Vernon", "George Washington"),
                    passage(TEXTS[1], "cherry tree")], max_length=64, stride=16)
    collator = LAKMCollator(tokenizer, seed=3)
    chosen = masked = randomized = kept = phrase_hits = phrase_total = non_special = 0
    for _ in range(400):
        batch = collator(windows)
        for row, window in enumerate(windows):
            ids = np.array(window["input_ids"])
            labels = batch["labels"][row, :len(ids)].numpy()
            inputs = batch["input_ids"][row, :len(ids)].numpy()
            picked = labels != IGNORE_INDEX
            non_special += len(ids) - sum(window["special"])
            chosen += picked.sum()
            assert (labels[picked] == ids[picked]).all()
            assert (inputs[~picked] == ids[~picked]).all()  # unchosen tokens never change
            masked += (inputs[picked] == tokenizer.mask_token_id).sum()
            kept += (inputs[picked] == ids[picked]).sum()
            randomized += ((inputs[picked] != ids[picked])
                           & (inputs[picked] != tokenizer.mask_token_id)).sum()
            group_tokens = {i for g in window["phrases"] for i in g}
            phrase_hits += sum(picked[i] for i in group_tokens)
            phrase_total += len(group_tokens)
    assert abs(chosen / non_special - 0.15) < 0.01
    assert abs(masked / chosen - 0.8) < 0.02
    assert abs(randomized / chosen - 0.1) < 0.02  # a random draw may equal the original
    assert abs(kept / chosen - 0.1) < 0.02
    assert phrase_hits / phrase_total > 0.6  # phrases first: far above the 15% base rate


def test_mlm_head_is_tied_to_the_shared_encoder(reader_dir, tokenizer, tmp_path):
    model = MultiTaskReader.from_pretrained(str(reader_dir))
    assert model.mlm.base_model is model.qa.base_model
    assert model.mlm.get_output_embeddings().weight is \
        model.qa.base_model.get_input_embeddings().weight
    batch = LAKMCollator(tokenizer, seed=0)(
        prepare_lakm_features(tokenizer, [passage(TEXTS[0], "cherry tree")]))
    loss = model(task="lakm", **batch).loss
    loss.backward()
    embeddings = model.qa.base_model.get_input_embeddings().weight
    assert torch.isfinite(loss) and embeddings.grad is not None
    model.save_pretrained(tmp_path, state_dict=model.state_dict())
    from transformers import AutoModelForQuestionAnswering

    reloaded = AutoModelForQuestionAnswering.from_pretrained(tmp_path)
    assert torch.equal(reloaded.qa_outputs.weight, model.qa.qa_outputs.weight)


def test_task_order_interleaves_by_ratio():
    assert task_order(4, {"mrc": 1, "lakm": 0.5}) == ["mrc", "mrc", "lakm"] * 2
    assert task_order(2, {"mrc": 1, "mixmrc": 1, "lakm": 1}) == ["mrc", "mixmrc", "lakm"] * 2
    order = task_order(30, {"mrc": 1, "mixmrc": 2, "lakm": 0.3})
    assert order.count("mrc") == 30 and order.count("mixmrc") == 60 and order.count("lakm") == 9


def test_task_loader_cycles_short_auxiliary_tasks():
    from torch.utils.data import DataLoader

    mrc = DataLoader([{"x": torch.tensor(i)} for i in range(6)], batch_size=2)
    lakm = DataLoader([{"x": torch.tensor(100 + i)} for i in range(2)], batch_size=2)
    loader = TaskLoader({"mrc": mrc, "lakm": lakm}, {"mrc": 1, "lakm": 1})
    items = [(task, batch["x"].tolist()) for task, batch in loader]
    assert len(loader) == len(items) == 6
    assert items[1] == items[3] == items[5] == ("lakm", [100, 101])
    with pytest.raises(ValueError, match="same tasks"):
        TaskLoader({"mrc": mrc}, {"mrc": 1, "lakm": 1})


@pytest.mark.parametrize("tasks, message", [
    ([{"name": "lakm", "files": ["p.jsonl"]}], "must include the main task mrc"),
    ([{"name": "mrc"}, {"name": "lakm"}], "needs files"),
    ([{"name": "mrc", "files": ["a.json"]}], "reads data.train_files"),
    ([{"name": "mrc"}, {"name": "mrc"}], "more than once"),
    ([{"name": "mrc"}, {"name": "lakm", "files": ["p.jsonl"]}], "grad_accum must be 1"),
])
def test_task_config_errors(tasks, message):
    tree = {"output_dir": "o", "model": {"name_or_path": "m"}, "tasks": tasks,
            "train": {"grad_accum": 2}}
    with pytest.raises(ConfigError, match=message):
        build_config(ReaderJobConfig, tree)


def test_lakm_config_checks_the_split():
    with pytest.raises(ValueError, match="at most 1"):
        LAKMConfig(mask_token_prob=0.95, random_token_prob=0.1)


def test_mlm_head_ties_for_xlm_roberta_too(tmp_path):
    """XLM-R (the paper's other encoder family) keeps its head under `lm_head`."""
    from transformers import XLMRobertaConfig, XLMRobertaForQuestionAnswering

    config = XLMRobertaConfig(vocab_size=300, hidden_size=32, num_hidden_layers=1,
                              num_attention_heads=2, intermediate_size=64,
                              max_position_embeddings=80, pad_token_id=1)
    XLMRobertaForQuestionAnswering(config).save_pretrained(tmp_path)
    model = MultiTaskReader.from_pretrained(str(tmp_path))
    assert model.mlm.base_model is model.qa.base_model
    assert model.mlm.get_output_embeddings().weight is \
        model.qa.base_model.get_input_embeddings().weight
    ids = torch.randint(5, 300, (2, 10))
    labels = torch.full_like(ids, IGNORE_INDEX)
    labels[:, 3] = ids[:, 3]
    assert torch.isfinite(model(task="lakm", input_ids=ids, labels=labels).loss)


def test_random_ngram_ablation_masks_spans_not_phrases(tokenizer):
    """Table 8's ablation: same 15% budget, random 2-4 token spans instead of phrases."""
    windows = prepare_lakm_features(
        tokenizer, [passage(TEXTS[0], "George Washington", "cherry tree"),
                    passage(TEXTS[1], "cherry tree")], max_length=64, stride=16)
    collator = LAKMCollator(tokenizer, seed=5, strategy="random_ngram")
    chosen = non_special = phrase_hits = phrase_total = runs = 0
    for _ in range(300):
        labels = collator(windows)["labels"]
        for row, window in enumerate(windows):
            picked = (labels[row, :len(window["input_ids"])] != IGNORE_INDEX).numpy()
            chosen += picked.sum()
            non_special += len(window["input_ids"]) - sum(window["special"])
            runs += sum(1 for i in range(len(picked)) if picked[i] and (i == 0 or not picked[i - 1]))
            group_tokens = {i for g in window["phrases"] for i in g}
            phrase_hits += sum(picked[i] for i in group_tokens)
            phrase_total += len(group_tokens)
    assert abs(chosen / non_special - 0.15) < 0.01
    assert chosen / runs > 1.8  # contiguous spans, not single tokens
    assert phrase_hits / phrase_total < 0.35  # phrases get no priority
    with pytest.raises(ValueError, match="unknown LAKM strategy"):
        LAKMCollator(tokenizer, strategy="whole_word")
