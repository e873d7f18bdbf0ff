"""CORA baselines end to end with tiny models on a demo-corpus slice in three languages
(each article cut into two passages): every baseline answers every question,
predictions, scores and the table are written; BM25 reads two-passage units, MT+DPR an
English-only index; `score_open_qa` scores like the official scripts."""

import gzip
import json
import re
import sys
from pathlib import Path

import pytest

from rayqa import storage
from rayqa.config import BaselinesJobConfig, EncoderConfig, IndexJobConfig, load_config
from rayqa.data.openqa import OpenQAExample, read_openqa
from rayqa.data.passages import Passage, read_passages
from rayqa.eval import (MKQAPrediction, mkqa_scores, read_mkqa_gold, score_by_language,
                        score_open_qa, xor_full_scores)
from rayqa.testing.tiny import build_tiny_reader
from rayqa.testing.tiny_seq2seq import build_tiny_marian, build_tiny_mt5
from rayqa.pipelines.baselines import (UnitBM25, bm25_contexts, check_pivot_index,
                                       mt_mono_answers, retrieval_units, score_answers,
                                       select_questions, translate_by_lang)
from rayqa.retrieval.build import write_index
from rayqa.retrieval.encode import encode_passages_local

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "jobs"))
import baselines as job  # noqa: E402

DEMO = REPO / "rayqa" / "resources" / "demo"
LANGS = ("en", "de", "zh")
PER_LANG = 3


def _halves(passage: Passage) -> list[Passage]:
    """The passage cut at the sentence end nearest its middle: two consecutive passages
    of one article, like two 100-token windows of a longer one."""
    ends = [m.end() for m in re.finditer(r"[.。](?=\s|$)|。", passage.text)][:-1]
    if not ends:
        return [passage]
    cut = min(ends, key=lambda end: abs(end - len(passage.text) / 2))
    texts = [passage.text[:cut].strip(), passage.text[cut:].strip()]
    return [Passage(f"{passage.id}.{n}", text, passage.lang, passage.title, passage.article_id)
            for n, text in enumerate(texts, start=1)]


def _questions() -> list[dict]:
    data = json.loads((DEMO / "dev.json").read_text(encoding="utf-8"))["data"]
    rows, counts = [], dict.fromkeys(LANGS, 0)
    for article in data:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                if qa["lang"] in counts and counts[qa["lang"]] < PER_LANG:
                    counts[qa["lang"]] += 1
                    rows.append({"id": qa["id"], "question": qa["question"], "lang": qa["lang"],
                                 "answers": [a["text"] for a in qa["answers"]]})
    return rows


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("baselines")
    articles = [p for p in read_passages(DEMO / "passages.jsonl") if p.lang in LANGS]
    passages = [half for article in articles for half in _halves(article)]
    texts = [f"{p.title} {p.text}" for p in passages]
    questions = _questions()
    (tmp / "questions.jsonl").write_text(
        "".join(json.dumps(q, ensure_ascii=False) + "\n" for q in questions), encoding="utf-8")
    encoder = EncoderConfig(name_or_path=str(build_tiny_reader(texts, tmp / "reader",
                                                               vocab_size=1500)),
                            max_length=64, batch_size=16)
    index_cfg = IndexJobConfig(output_dir=str(tmp / "index"),
                               passages_files=[str(DEMO / "passages.jsonl")], encoder=encoder)
    vectors = encode_passages_local([p.to_dict() for p in passages], encoder)
    write_index(tmp / "index", passages, vectors, index_cfg)
    english = [i for i, p in enumerate(passages) if p.lang == "en"]
    write_index(tmp / "index_en", [passages[i] for i in english], vectors[english], index_cfg)
    by_lang = {lang: [t for p, t in zip(passages, texts) if p.lang == lang] for lang in LANGS}
    models = {}
    for lang in ("de", "zh"):
        models[f"{lang}-en"] = str(build_tiny_marian(by_lang[lang], by_lang["en"],
                                                     tmp / f"{lang}-en"))
        models[f"en-{lang}"] = str(build_tiny_marian(by_lang["en"], by_lang[lang],
                                                     tmp / f"en-{lang}"))
    generator = build_tiny_mt5(texts + [q["question"] for q in questions], tmp / "mgen",
                               vocab_size=1500)
    config = {
        "output_dir": str(tmp / "out"), "questions": str(tmp / "questions.jsonl"),
        "index_dir": str(tmp / "index"), "mt_dpr_index_dir": str(tmp / "index_en"),
        "reader": encoder.name_or_path,
        "generator": str(generator), "top_k": 3, "dense_depth": 20,
        "translator": {"kind": "marian", "models": models, "max_new_tokens": 8},
    }
    path = tmp / "baselines.yaml"
    path.write_text(json.dumps(config, ensure_ascii=False), encoding="utf-8")
    return {"config": path, "questions": questions, "out": tmp / "out", "tmp": tmp,
            "articles": articles, "passages": passages}


@pytest.fixture(scope="module")
def ran(setup):
    return Path(job.main(["--config", str(setup["config"])]))


def test_every_baseline_answers_every_question(setup, ran):
    assert ran == setup["out"]
    for name in ("bm25", "mt_dpr", "mt_mono", "closed_book"):
        for lang in LANGS:
            preds = json.loads((ran / name / f"predictions.{lang}.json").read_text("utf-8"))
            expected = {q["id"] for q in setup["questions"] if q["lang"] == lang}
            assert set(preds) == expected, (name, lang)
            assert all(isinstance(a, str) for a in preds.values())


def test_scores_and_results_table_are_written(ran):
    scores = json.loads((ran / "scores.json").read_text("utf-8"))
    assert list(scores) == ["bm25", "mt_dpr", "mt_mono", "closed_book"]
    for per_lang in scores.values():
        assert sorted(per_lang) == sorted(LANGS)
        assert all(0 <= s["f1"] <= 100 and 0 <= s["exact_match"] <= 100
                   for s in per_lang.values())
    table = (ran / "results.md").read_text("utf-8").splitlines()
    assert table[0] == "| run | en | de | zh | avg |"
    assert [line.split("|")[1].strip() for line in table[2:]] == list(scores)
    assert (ran / "results.csv").is_file() and (ran / "rayqa_config.yaml").is_file()


def test_questions_and_output_on_s3_match_the_local_run(setup, ran, s3_dir):
    config = json.loads(setup["config"].read_text(encoding="utf-8"))
    storage.write_bytes(f"{s3_dir}/questions.jsonl", Path(config["questions"]).read_bytes())
    config.update(questions=f"{s3_dir}/questions.jsonl", output_dir=f"{s3_dir}/out")
    path = setup["config"].with_name("baselines_s3.yaml")
    path.write_text(json.dumps(config, ensure_ascii=False), encoding="utf-8")
    out = job.main(["--config", str(path)])
    assert out == f"{s3_dir}/out"
    files = storage.list_files(out)
    assert files == storage.list_files(ran) and "bm25/predictions.de.json" in files
    for name in set(files) - {"rayqa_config.yaml"}:  # the config names its own paths
        assert storage.read_bytes(f"{out}/{name}") == (ran / name).read_bytes(), name


def test_mt_mono_takes_the_monolingual_answer_only_above_threshold(ran):
    mono = [{"answer": "a", "score": 0.9}, {"answer": "b", "score": 0.5},
            {"answer": "", "score": 0.0}]
    translated = [{"answer": "x", "score": 0.1}] * 3
    assert [a["answer"] for a in mt_mono_answers(mono, translated, 0.5)] == ["a", "x", "x"]
    # On the run's own outputs: each MT+Mono answer is the BM25 or the MT+DPR one.
    for lang in LANGS:
        mixed, bm25, mt = (json.loads((ran / n / f"predictions.{lang}.json").read_text("utf-8"))
                           for n in ("mt_mono", "bm25", "mt_dpr"))
        assert all(mixed[q] in (bm25[q], mt[q]) for q in mixed)


def test_score_answers_per_language_with_shared_ids():
    examples = [OpenQAExample("1", "q", "en", ["Paris"]), OpenQAExample("1", "q", "de", ["Paris"])]
    scores = score_answers(examples, [{"answer": "Paris"}, {"answer": "Rom"}])
    assert scores["en"]["exact_match"] == 100.0 and scores["de"]["exact_match"] == 0.0


def test_missing_parts_and_shipped_config_are_checked():
    with pytest.raises(ValueError, match="baseline 'mt_dpr' needs translator"):
        BaselinesJobConfig(output_dir="o", questions="q", baselines=["mt_dpr"], index_dir="i",
                           reader="r")
    with pytest.raises(ValueError, match="needs reader, index_dir or mt_dpr_index_dir"):
        BaselinesJobConfig(output_dir="o", questions="q", baselines=["mt_dpr"],
                           translator={"kind": "marian", "models": {"de-en": "m"}})
    with pytest.raises(ValueError, match="answered_only: false needs scoring: mkqa"):
        BaselinesJobConfig(output_dir="o", questions="q", baselines=["closed_book"],
                           generator="g", scoring="xor", answered_only=False)
    cfg = load_config(BaselinesJobConfig, REPO / "configs" / "baselines.yaml")
    assert cfg.mono_threshold == 0.5 and cfg.translator.models["en-ar"].endswith("en-ar")
    assert cfg.top_k == 10 and cfg.bm25_unit_passages == 2 and cfg.answered_only


def test_score_answers_with_xor_full_rules():
    examples = [OpenQAExample("a", "q", "ru", ["Москва"]),
                OpenQAExample("b", "q", "fi", ["Oulu"])]
    scores = score_answers(examples, [{"answer": "Москва"}, {"answer": "Turku"}], "xor")
    assert scores["ru"]["em"] == 100.0 and scores["fi"]["f1"] == 0.0
    assert set(scores["ru"]) == {"f1", "em", "bleu"}


def test_translate_by_lang_uses_each_questions_pair(shared_dir):
    from rayqa.translate.parallel import ParallelTranslator

    xquad = ParallelTranslator.from_xquad(shared_dir / "data" / "xquad", ["en", "de", "zh"])
    ids = list(xquad.tables["en"]["question"])[:2]
    texts = [xquad.translate_ids(ids[:1], "de")[0], xquad.translate_ids(ids[1:], "zh")[0], ""]
    out = translate_by_lang(xquad, texts, ["de", "zh", "de"], ["en"] * 3)
    assert out == [*xquad.translate_ids(ids, "en"), ""]


def _examples(questions) -> list[OpenQAExample]:
    return [OpenQAExample(q["id"], q["question"], q["lang"], q["answers"]) for q in questions]


def test_bm25_units_are_two_consecutive_passages_of_one_article(setup):
    articles, passages = setup["articles"], setup["passages"]
    assert len(passages) >= len(articles) * 3 // 2  # most articles are two passages
    article_of = {half.id: article for article in articles for half in _halves(article)}
    units = UnitBM25(str(setup["tmp"] / "index"), 2)
    found = list(retrieval_units(units.store, 2))
    assert len(found) == len(articles)
    for row, lang, title, texts in found:
        article = article_of[units.store[row].id]
        unit = units.unit(row)
        assert unit["text"] == "\n".join(p.text for p in _halves(article))
        assert unit["rows"] == list(range(row, row + len(texts)))
        assert (lang, title) == (article.lang, article.title)
    # Size 1: a unit per passage, the index's own granularity.
    assert len(list(retrieval_units(units.store, 1))) == len(passages)
    # The unit is what is retrieved: an article's second passage as the query finds the
    # unit that starts at its first passage, both passages' text included.
    second = next(p for p in passages if p.id.endswith(".2") and p.lang == "en")
    top = units.search([second.text], ["en"], 1)[0][0]
    first = next(p for p in passages if p.id == second.id[:-1] + "1")
    assert top["text"] == f"{first.text}\n{second.text}" and len(top["rows"]) == 2
    # Only the questions' languages are indexed.
    assert set(UnitBM25(str(setup["tmp"] / "index"), 2, {"de"}).bm25.indexes) == {"de"}


def test_bm25_reads_its_top_units_as_one_context(setup):
    units = UnitBM25(str(setup["tmp"] / "index"), 2)
    examples = _examples(setup["questions"])
    hits = units.search([e.question for e in examples], [e.lang for e in examples], 3)
    contexts = bm25_contexts(examples, units, 3)
    assert any(len(found) == 3 for found in hits)
    for example, found, context in zip(examples, hits, contexts):
        assert context == (["\n".join(h["text"] for h in found)] if found else [])
        assert all(h["lang"] == example.lang for h in found)


def test_mt_dpr_reads_english_passages_from_either_index(setup):
    from rayqa.pipelines.baselines import _passage_store, pivot_hits
    from rayqa.retrieval.retriever import Retriever

    check_pivot_index(_passage_store(str(setup["tmp"] / "index_en")), "en", "index_en")
    with pytest.raises(ValueError, match=r"index: passages in \['de', 'en', 'zh'\]"):
        check_pivot_index(_passage_store(str(setup["tmp"] / "index")), "en", "index")
    questions = [q["question"] for q in setup["questions"] if q["lang"] == "en"]
    english = pivot_hits(Retriever(setup["tmp"] / "index_en", "dense"), questions, "en", 3)
    mixed = Retriever(setup["tmp"] / "index", "dense")
    filtered = pivot_hits(mixed, questions, "en", 3, depth=len(setup["passages"]))
    # Same encoder and vectors: the English index's top 3 are the English passages among
    # the multilingual index's hits, in the same order.
    assert [[h["id"] for h in found] for found in english] == \
        [[h["id"] for h in found] for found in filtered]
    assert all(len(found) == 3 for found in english)
    shallow = pivot_hits(mixed, questions, "en", 3, depth=3)  # fewer when the depth is short
    assert all(h["lang"] == "en" for found in shallow for h in found)


def test_score_open_qa_equals_the_official_mkqa_scorer_in_every_language(shared_dir):
    gold_file = shared_dir / "data" / "mkqa" / "test_mkqa.jsonl.gz"
    examples = read_openqa(gold_file)
    predictions: dict[str, dict[str, str]] = {}
    for n, e in enumerate(examples):  # a gold answer, no answer or a wrong one, in turn
        text = [e.answers[0] if e.answers else "", "", "wrong answer"][n % 3]
        predictions.setdefault(e.lang, {})[e.id] = text
    scores = score_open_qa(examples, predictions, "mkqa")
    lines = len(gzip.open(gold_file, "rt", encoding="utf-8").readlines())
    assert len(scores) == 26 and len(examples) == 26 * lines
    for lang, got in scores.items():
        gold = read_mkqa_gold(gold_file, lang)
        official = mkqa_scores(gold, {q: MKQAPrediction(q, predictions[lang][q]) for q in gold},
                               lang)
        assert got == pytest.approx(official, abs=1e-9, nan_ok=True), lang
    # answered_only (the paper's MKQA set): unanswerable and long_answer questions go.
    dropped = [e for e in examples if e not in select_questions(examples, True)]
    assert {e.answer_type for e in dropped} == {"unanswerable", "long_answer"}


def test_score_open_qa_dispatches_mlqa_and_xor_rules_per_language():
    questions = [{"id": "a", "lang": "de", "answers": ["der Rhein"]},
                 {"id": "b", "lang": "ru", "answers": ["Москва"]},
                 {"id": "c", "lang": "de", "answers": ["Berlin", "Bonn"]}]
    predictions = {"a": "Rhein", "b": "город Москва", "c": "Bonn"}
    mlqa, xor = (score_open_qa(questions, predictions, rules) for rules in ("mlqa", "xor"))
    official = {"mlqa": score_by_language(questions, predictions),
                "xor": xor_full_scores(questions, predictions)}
    assert list(mlqa) == list(xor) == ["de", "ru"]
    for lang in ("de", "ru"):
        assert mlqa[lang] == pytest.approx(official["mlqa"][lang], abs=1e-9)
        assert xor[lang] == pytest.approx(official["xor"][lang], abs=1e-9)
    assert mlqa["de"]["exact_match"] == pytest.approx(100.0, abs=1e-9)
    with pytest.raises(ValueError, match="scoring must be one of"):
        score_open_qa(questions, predictions, "squad")
    with pytest.raises(ValueError, match="has no gold answers"):
        score_open_qa([{"id": "d", "lang": "de", "answers": []}], {}, "mlqa")
