"""mDPR without Ray: the loss, gradient routing, batches, saving, data reading, ranking."""

import json
import math

import numpy as np
import pytest
import torch

from rayqa.config import DataFile, MDPRJobConfig, load_config
from rayqa.data.passages import read_passages
from rayqa.data.records import BadRecords, DataError
from rayqa.demo import demo_file
from rayqa.models.biencoder import PADDING_KEY, BiEncoder, biencoder_nll
from rayqa.testing.tiny import build_tiny_encoder, build_tokenizer
from rayqa.train.mdpr_loop import (BiEncoderCollator, Context, DPRExample, ExampleCollator,
                                   global_loss, retrieval_ranks, sample_negatives,
                                   splice_local, train_rows)
from rayqa.train.mdpr_job import (build_dev_set, mine_bm25_negatives, read_dpr_file,
                                           read_dpr_jsonl)
from tests.conftest import REPO


def test_loss_is_the_hand_computed_nll():
    queries = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    passages = torch.tensor([[1.0, 1.0], [0.5, 0.0], [0.0, 1.0]])
    loss, scores = biencoder_nll(queries, passages, torch.tensor([0, 2]))
    # q0 . p = (1, 0.5, 0), positive p0; q1 . p = (2, 0, 2), positive p2.
    nll0 = -math.log(math.e ** 1 / (math.e ** 1 + math.e ** 0.5 + 1))
    nll1 = -math.log(math.e ** 2 / (math.e ** 2 + 1 + math.e ** 2))
    assert scores.tolist() == [[1.0, 0.5, 0.0], [2.0, 0.0, 2.0]]
    assert loss.item() == pytest.approx((nll0 + nll1) / 2, abs=1e-6)


def test_same_passage_and_empty_slots_are_no_negatives():
    queries = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    passages = torch.tensor([[1.0, 0.0], [1.0, 0.0], [3.0, 3.0]])
    # Both questions have the same paragraph (key 7); the third column is an empty slot.
    keys = torch.tensor([7, 7, PADDING_KEY])
    loss, scores = biencoder_nll(queries, passages, torch.tensor([0, 1]), keys)
    assert torch.isinf(scores[0, 1]) and torch.isinf(scores[1, 0])
    assert torch.isinf(scores[:, 2]).all()
    assert loss.item() == pytest.approx(0.0, abs=1e-6)  # only the positive is left


def test_gradient_reaches_only_the_local_slice():
    local = torch.randn(2, 3, requires_grad=True)
    others = [torch.randn(2, 3), torch.randn(2, 3)]  # what all_gather returned: no graph
    gathered = splice_local([others[0], local.detach(), others[1]], local, rank=1)
    weights = torch.arange(18.0).reshape(6, 3)
    (gathered * weights).sum().backward()
    assert torch.equal(local.grad, weights[2:4])
    assert torch.equal(gathered[:2], others[0]) and torch.equal(gathered[4:], others[1])
    assert all(part.grad is None for part in others)


def test_global_loss_in_one_process_is_plain_in_batch_nll():
    queries, passages = torch.randn(3, 4), torch.randn(6, 4)  # 3 positives + 3 hard
    keys = torch.arange(6)
    loss, scores = global_loss(queries, passages, keys)
    expected = torch.nn.functional.cross_entropy(queries @ passages.T, torch.arange(3))
    assert scores.shape == (3, 6)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A tiny BERT (AutoModel-loadable) and its tokenizer, trained on the demo passages."""
    root = tmp_path_factory.mktemp("bienc")
    texts = [p.text for p in read_passages(demo_file("passages.jsonl"))]
    tokenizer = build_tokenizer(texts, vocab_size=600)
    build_tiny_encoder(tokenizer, root / "init", hidden=32, layers=1, heads=2, intermediate=64)
    return root, tokenizer


def _example(n: int, hard: int) -> DPRExample:
    return DPRExample(f"q{n}", f"question {n}?", "en", [f"answer {n}"],
                      [Context(f"title {n}", f"text {n}", f"p{n}")],
                      [Context("neg", f"negative {n}.{i}") for i in range(hard)])


def test_hard_negatives_widen_the_score_matrix(tiny):
    _, tokenizer = tiny
    batch = [_example(0, 2), _example(1, 0), _example(2, 5)]
    queries = torch.randn(3, 8)
    widths = {}
    for hard in (0, 2):
        collated = BiEncoderCollator(tokenizer, 16, 32, hard)(batch)
        assert collated["passages"]["input_ids"].shape[0] == 3 * (1 + hard)
        _, scores = global_loss(queries, torch.randn(3 * (1 + hard), 8), collated["keys"])
        widths[hard] = scores.shape
    assert widths == {0: (3, 3), 2: (3, 9)}
    # Question 1 has no hard negatives: its two slots are empty and masked everywhere.
    keys = BiEncoderCollator(tokenizer, 16, 32, 2)(batch)["keys"]
    assert keys[5:7].tolist() == [PADDING_KEY] * 2 and (keys[[3, 4, 7, 8]] >= 0).all()


def test_hard_negatives_are_drawn_per_epoch_from_all_mined_ones():
    negatives = [Context("neg", f"negative {i}") for i in range(8)]
    draws = {epoch: sample_negatives(negatives, 2, seed=42, epoch=epoch, example_id="q7")
             for epoch in range(6)}
    for drawn in draws.values():  # two distinct negatives of the question, best-first order
        assert len(drawn) == 2 and all(n in negatives for n in drawn)
        assert negatives.index(drawn[0]) < negatives.index(drawn[1])
    # Other epochs draw other subsets (not always the first two).
    assert draws[0] != draws[1] and len({tuple(n.text for n in d) for d in draws.values()}) > 2
    assert any(negatives.index(n) >= 2 for d in draws.values() for n in d)
    # The same (seed, epoch, id) draws the same: a resumed run repeats the uninterrupted one.
    assert all(sample_negatives(negatives, 2, 42, epoch, "q7") == drawn
               for epoch, drawn in draws.items())
    assert [sample_negatives(negatives, 2, s, 0, i) for s, i in ((43, "q7"), (42, "q8"))] \
        != [draws[0], draws[0]]
    # No more negatives than slots: all of them, in order; no slots: none.
    assert sample_negatives(negatives[:2], 3, 42, 5, "q7") == negatives[:2]
    assert sample_negatives(negatives, 0, 42, 5, "q7") == []


def test_collator_draws_the_epochs_negatives_from_full_rows(tiny):
    """Rows keep every mined negative; the collator fills its slots with the epoch's draw
    (keyed by the row's question id) and pads questions with fewer."""
    _, tokenizer = tiny
    examples = [_example(0, 6), _example(1, 1)]
    rows = train_rows(examples)
    assert [len(json.loads(row["negatives"])) for row in rows] == [6, 1]
    collator = ExampleCollator(BiEncoderCollator(tokenizer, 16, 32, 2, seed=3))
    slots = {}
    for epoch in (0, 1, 0):
        collator.set_epoch(epoch)
        keys = collator(rows)["keys"].tolist()
        expected = [n.key for n in sample_negatives(examples[0].hard_negatives, 2, 3, epoch, "q0")]
        assert keys[2:4] == expected  # question 0's slots
        assert keys[4:6] == [examples[1].hard_negatives[0].key, PADDING_KEY]
        slots.setdefault(epoch, keys)
        assert keys == slots[epoch]
    assert slots[0] != slots[1]


def test_saved_encoders_index_and_query_through_text_encoder(tiny, tmp_path):
    from transformers import AutoModel

    from rayqa.retrieval.encode import TextEncoder

    root, tokenizer = tiny
    model = BiEncoder.from_pretrained(root / "init").eval()
    with torch.no_grad():  # make the two encoders differ, as after training
        weight = next(model.query_encoder.parameters())
        weight.add_(torch.randn(weight.shape, generator=torch.Generator().manual_seed(0)))
    model.save_pretrained(tmp_path)
    for name in ("query_encoder", "passage_encoder"):
        tokenizer.save_pretrained(tmp_path / name)
        AutoModel.from_pretrained(tmp_path / name)
    collator = BiEncoderCollator(tokenizer, 64, 64, 0)
    titles, texts, questions = ["Brenna", "Tea"], ["A lighthouse.", "A drink made of leaves."], \
        ["How tall is it?", "What is tea?"]
    with torch.no_grad():
        passages = model.encode_passages(**collator.passages(
            [Context(t, x) for t, x in zip(titles, texts)])).numpy()
        queries = model.encode_queries(**collator.queries(questions)).numpy()
    index_side = TextEncoder(str(tmp_path / "passage_encoder"), 64, "cls", "cpu")
    query_side = TextEncoder(str(tmp_path / "query_encoder"), 64, "cls", "cpu")
    np.testing.assert_allclose(index_side.encode_passages(titles, texts), passages, atol=1e-5)
    np.testing.assert_allclose(query_side.encode_queries(questions), queries, atol=1e-5)
    assert not np.allclose(index_side.encode_queries(questions), queries, atol=1e-3)
    reloaded = BiEncoder.from_pretrained(tmp_path)
    assert torch.equal(next(reloaded.query_encoder.parameters()),
                       next(model.query_encoder.parameters()))


def test_dpr_jsonl_reading_counts_bad_lines(tmp_path):
    good = {"question": "Who?", "lang": "ja", "answers": ["X"],
            "positive_ctxs": [{"title": "T", "text": "X did it.", "passage_id": "7"}],
            "hard_negative_ctxs": [{"title": "N", "text": "Nothing."}, {"title": "bad"}]}
    lines = [json.dumps(good), "{broken", json.dumps({"question": "No positive?", "lang": "en",
                                                      "positive_ctxs": []}),
             json.dumps({**good, "lang": None}), ""]
    path = tmp_path / "train.jsonl"
    path.write_text("\n".join(lines), encoding="utf-8")
    report = BadRecords()
    examples = read_dpr_jsonl(str(path), None, False, report)
    assert len(examples) == 1
    assert examples[0].positives[0].id == "7" and len(examples[0].hard_negatives) == 1
    assert dict(report.counts) == {"bad_ctx": 1, "broken_json": 1, "no_positive": 1,
                                   "missing_lang": 1}
    # The file entry's language fills in for lines without one.
    assert len(read_dpr_file(DataFile(path=str(path), lang="en"), False, BadRecords())) == 2
    with pytest.raises(DataError, match=r"train.jsonl:1.*hard_negative_ctxs\[1\]"):
        read_dpr_jsonl(str(path), None, True, BadRecords())


def test_squad_paragraphs_are_positives_and_bm25_negatives_avoid_answers():
    train = read_dpr_file(DataFile(path=demo_file("train.json")), False, BadRecords())
    assert len(train) == 576 and train[0].positives[0].title == "Brenna Lighthouse"
    pool = {}
    for example in train:
        pool.setdefault(example.positives[0].key, (example.positives[0], example.lang))
    added = mine_bm25_negatives(train, list(pool.values()), count=2)
    # BM25 returns only passages sharing a term with the question: most get both.
    assert sum(len(e.hard_negatives) for e in train) == added > len(train)
    assert max(len(e.hard_negatives) for e in train) == 2
    for example in train:
        for negative in example.hard_negatives:
            assert negative.key != example.positives[0].key
            assert not any(a.casefold() in negative.text.casefold() for a in example.answers)
    langs = {ctx.key: lang for ctx, lang in pool.values()}
    assert all(langs[n.key] == e.lang for e in train for n in e.hard_negatives)


def test_job_data_mines_bm25_negatives_from_passages_files_and_reads_a_squad_dev_file(
        tmp_path):
    """What the mDPR job prepares on the driver before its fit (the 2-worker training
    test trains on a learnable task without either): JSONL questions (demo en, zh)
    without negatives get one BM25 negative each from ``data.passages_files``, and a SQuAD
    dev file is ranked over its distinct paragraphs."""
    from rayqa.train.mdpr_job import prepare_data

    keep = {"en", "zh"}
    questions = [e for e in read_dpr_file(DataFile(path=demo_file("train.json")), False,
                                          BadRecords()) if e.lang in keep]
    (tmp_path / "train.jsonl").write_text("".join(json.dumps(
        {"id": e.id, "question": e.question, "lang": e.lang, "answers": e.answers,
         "positive_ctxs": [{"title": c.title, "text": c.text} for c in e.positives]},
        ensure_ascii=False) + "\n" for e in questions), encoding="utf-8")
    dev_squad = tmp_path / "dev.json"
    from rayqa.data.squad import read_squad, write_squad

    write_squad([e for e in read_squad(demo_file("dev.json")) if e.lang in keep], dev_squad)
    cfg = load_config(MDPRJobConfig, REPO / "configs" / "mdpr.yaml", [
        f"data.train_files=[{tmp_path / 'train.jsonl'}]", f"data.dev_files=[{dev_squad}]",
        f"data.passages_files=[{demo_file('passages.jsonl')}]",
        "data.hard_negatives=1", "data.bm25_negatives=true"])
    train, dev = prepare_data(cfg)
    assert len(train) == len(questions)
    pool = {p.id: p.lang for p in read_passages(demo_file("passages.jsonl"))}
    # BM25 returns only passages sharing a term with the question: most get one.
    assert sum(len(e.hard_negatives) for e in train) > len(train) // 2
    assert max(len(e.hard_negatives) for e in train) == 1
    assert all(pool[n.id] == e.lang for e in train for n in e.hard_negatives)
    # The demo dev set's en and zh: 48 questions over their 24 paragraphs.
    assert (len(dev.questions), len(dev.passages)) == (48, 24)
    assert all(len(rows) == 1 for rows in dev.positive_rows)


def test_dev_set_and_ranks():
    again = DPRExample("q2", "again?", "en", [], [Context("title 0", "text 0", "p0")])
    dev = build_dev_set([_example(0, 1), _example(1, 0), again])
    assert len(dev.passages) == 3 and dev.positive_rows == [[0], [2], [0]]
    questions = np.array([[1.0, 0.0], [0.0, 1.0]])
    passages = np.array([[0.0, 1.0], [1.0, 0.0], [0.5, 0.5], [0.9, 0.0]])
    metrics = retrieval_ranks(questions, passages, [[3], [0, 1]], ks=(1, 2, 20))
    # q0: p1 (1.0) beats p3 (0.9) -> rank 2; q1: best positive p0 is first -> rank 1.
    assert metrics == {"recall@1": 0.5, "recall@2": 1.0, "avg_rank": 1.5}


def test_shipped_config_loads_and_is_commented():
    cfg = load_config(MDPRJobConfig, REPO / "configs" / "mdpr.yaml")
    assert cfg.encoder.name_or_path == "bert-base-multilingual-uncased"  # the paper's
    assert all((REPO / f.path).is_file() for f in cfg.data.train_files + cfg.data.dev_files
               + cfg.data.passages_files)
