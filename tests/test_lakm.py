"""LAKM: passages with phrase spans, windows, the 15% / phrases-first / 80-10-10 masking,
the MLM head tied to the shared encoder, and the multi-task batch schedule."""

import json

import numpy as np
import pytest
import torch

from rayqa.config import ConfigError, LAKMConfig, ReaderJobConfig, build_config, load_config
from rayqa.data.lakm import (
    IGNORE_INDEX,
    LAKMCollator,
    PhrasePassage,
    balance_passages,
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


def lang_passages(counts: dict[str, int]) -> list[PhrasePassage]:
    """``counts[lang]`` passages per language, interleaved, ids ``<lang>-<i>``."""
    items = [PhrasePassage(f"{lang}-{i}", TEXTS[0], lang, [(0, 17)])
             for lang, n in counts.items() for i in range(n)]
    return sorted(items, key=lambda p: int(p.id.split("-")[1]))


def test_balance_gives_every_language_the_smallest_count():
    passages = lang_passages({"en": 50, "fr": 20, "de": 35})
    kept, counts = balance_passages(passages, seed=0)
    assert counts == {"before": {"de": 35, "en": 50, "fr": 20},
                      "after": {"de": 20, "en": 20, "fr": 20}}
    assert {lang: sum(p.lang == lang for p in kept) for lang in ("en", "fr", "de")} == \
        {"en": 20, "fr": 20, "de": 20}
    assert [p for p in passages if p in kept] == kept  # input order kept
    assert len({p.id for p in kept}) == 60


@pytest.mark.parametrize("total, after", [
    (30, {"de": 10, "en": 10, "fr": 10}),  # the mixMRC size is smaller: exactly it
    (31, None),                            # not divisible: counts differ by at most one
    (500, {"de": 20, "en": 20, "fr": 20}),  # larger: the smallest language decides
])
def test_balance_caps_the_total_at_the_mixmrc_size(total, after):
    kept, counts = balance_passages(lang_passages({"en": 50, "fr": 20, "de": 35}), 3, total)
    assert len(kept) == sum(counts["after"].values()) == min(total, 60)
    assert max(counts["after"].values()) - min(counts["after"].values()) <= (total % 3 > 0)
    if after:
        assert counts["after"] == after


def test_balance_is_deterministic_under_the_seed():
    passages = lang_passages({"en": 40, "zh": 15})
    ids = [[p.id for p in balance_passages(passages, seed, 20)[0]] for seed in (7, 7, 8)]
    assert ids[0] == ids[1] and ids[0] != ids[2]
    assert balance_passages([], 7, 20) == ([], {"before": {}, "after": {}})


def write_squad(path, n: int) -> str:
    context = TEXTS[0]
    qas = [{"id": f"q{i}", "question": f"Who cut the tree {i}?",
            "answers": [{"text": "George Washington", "answer_start": 0}]} for i in range(n)]
    path.write_text(json.dumps({"data": [{"title": "t", "paragraphs": [
        {"context": context, "qas": qas}]}]}), encoding="utf-8")
    return str(path)


def balance_job(tmp_path, balance: bool | None, with_mixmrc: bool = True) -> ReaderJobConfig:
    passages = lang_passages({"en": 30, "fr": 12, "de": 20})
    lines = [json.dumps({"id": p.id, "lang": p.lang, "text": p.text,
                         "phrases": [{"start": 0, "end": 17}]}) for p in passages]
    (tmp_path / "passages.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    tasks = [{"name": "mrc"}, {"name": "lakm", "files": [str(tmp_path / "passages.jsonl")]}]
    if with_mixmrc:
        tasks.insert(1, {"name": "mixmrc", "files": [write_squad(tmp_path / "mixed.json", 25)]})
    tree = {"output_dir": str(tmp_path / "out"), "model": {"name_or_path": "m"},
            "data": {"train_files": [write_squad(tmp_path / "train.json", 4)]},
            "tasks": tasks, "train": {"seed": 5}}
    if balance is not None:
        tree["lakm"] = {"balance": balance}
    return build_config(ReaderJobConfig, tree)


def test_read_tasks_balances_lakm_to_the_mixmrc_size_and_reports_counts(tmp_path, capsys):
    from rayqa.train.reader_job import read_tasks

    cfg = balance_job(tmp_path, balance=True)
    data = read_tasks(cfg, BadRecords())
    assert len(data["mixmrc"]) == 25 and len(data["lakm"]) == 25  # 25 examples -> 25 passages
    assert [p.id for p in data["lakm"]] == [p.id for p in read_tasks(cfg, BadRecords())["lakm"]]
    summary = json.loads((tmp_path / "out" / "lakm_balance.json").read_text())
    assert summary["before"] == {"de": 20, "en": 30, "fr": 12}
    assert sorted(summary["after"].values()) == [8, 8, 9]
    assert (summary["seed"], summary["total_cap"], summary["cap_source"]) == \
        (5, 25, "mixmrc examples")
    assert "LAKM balance (cap 25): passages per language de 20, en 30, fr 12 -> " \
        in capsys.readouterr().out


def test_read_tasks_without_mixmrc_balances_to_the_smallest_language(tmp_path):
    from rayqa.train.reader_job import read_tasks

    data = read_tasks(balance_job(tmp_path, balance=True, with_mixmrc=False), BadRecords())
    assert len(data["lakm"]) == 36  # 3 languages x 12 (fr)


def test_balance_off_by_default_keeps_every_passage(tmp_path):
    from rayqa.train.reader_job import read_tasks

    cfg = balance_job(tmp_path, balance=None)
    assert cfg.lakm.balance is False
    assert len(read_tasks(cfg, BadRecords())["lakm"]) == 62
    assert not (tmp_path / "out" / "lakm_balance.json").exists()


@pytest.mark.parametrize("name", ["lakm", "mixmrc_lakm", "zero_shot_lakm", "random_ngram"])
def test_paper_lakm_settings_balance(name):
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "configs" / "boundary" / f"{name}.yaml"
    assert load_config(ReaderJobConfig, path).lakm.balance is True
