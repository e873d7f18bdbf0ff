"""The demo corpus under rayqa/resources/demo: valid SQuAD, exact spans, all languages.

Standard library only; one test imports rayqa.demo (light: no Ray) for the questions
the demo asks.
"""

import importlib.util
import json
import shutil
from collections import Counter, defaultdict
from pathlib import Path

import pytest

DEMO = Path(__file__).resolve().parents[1] / "rayqa" / "resources" / "demo"
LANGS = {"en", "de", "es", "fr", "zh", "ru", "ar", "hi"}
SPLITS = ("train.json", "paraphrases.json", "dev.json")


def _load(name):
    return json.loads((DEMO / name).read_text(encoding="utf-8"))


def _jsonl(name):
    lines = (DEMO / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _qas(split):
    for article in _load(split)["data"]:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                yield paragraph["context"], qa


@pytest.mark.parametrize("split", SPLITS)
def test_squad_shape(split):
    data = _load(split)
    assert data["version"] == "1.1"
    assert data["data"], "no articles"
    for article in data["data"]:
        assert isinstance(article["title"], str) and article["title"]
        assert article["paragraphs"]
        for paragraph in article["paragraphs"]:
            assert isinstance(paragraph["context"], str) and paragraph["context"]
            assert paragraph["qas"]
            for qa in paragraph["qas"]:
                assert set(qa) >= {"id", "question", "answers", "lang"}
                assert qa["question"].strip() and qa["answers"]
                assert qa["lang"] in LANGS


@pytest.mark.parametrize("split", SPLITS)
def test_every_answer_is_at_its_answer_start(split):
    bad = []
    for context, qa in _qas(split):
        for answer in qa["answers"]:
            start, text = answer["answer_start"], answer["text"]
            assert isinstance(start, int) and text
            if context[start:start + len(text)] != text:
                bad.append(qa["id"])
    assert not bad, f"answer not at answer_start: {bad}"


def test_ids_unique_across_train_and_dev():
    ids = [qa["id"] for split in SPLITS for _, qa in _qas(split)]
    dupes = [i for i, n in Counter(ids).items() if n > 1]
    assert not dupes, dupes
    for split in SPLITS:
        for _, qa in _qas(split):
            assert qa["id"].startswith("demo-") and f"-{qa['lang']}-" in qa["id"], qa["id"]


def test_question_counts_per_paragraph():
    for split, low, high in (("train.json", 4, 6), ("dev.json", 1, 2)):
        for article in _load(split)["data"]:
            for paragraph in article["paragraphs"]:
                assert low <= len(paragraph["qas"]) <= high, (split, article["title"])
                assert len({qa["lang"] for qa in paragraph["qas"]}) == 1


def test_dev_reuses_train_paragraphs_with_new_wording():
    train_contexts = {context for context, _ in _qas("train.json")}
    train_questions = {qa["question"] for split in ("train.json", "paraphrases.json")
                       for _, qa in _qas(split)}
    for context, qa in _qas("dev.json"):
        assert context in train_contexts, qa["id"]
        assert qa["question"] not in train_questions, qa["id"]


def test_passages_cover_every_language_and_link_articles():
    passages = _jsonl("passages.jsonl")
    assert {p["lang"] for p in passages} == LANGS
    ids = [p["id"] for p in passages]
    assert len(ids) == len(set(ids))
    by_article = defaultdict(set)
    for p in passages:
        assert set(p) == {"id", "title", "text", "lang", "article_id"}
        assert p["id"] == f"{p['article_id']}-{p['lang']}"
        assert p["title"] and p["text"]
        by_article[p["article_id"]].add(p["lang"])
    assert len(by_article) >= 10
    for article_id, langs in by_article.items():
        assert langs == LANGS, (article_id, LANGS - langs)
    train_paragraphs = {(qa["lang"], context) for context, qa in _qas("train.json")}
    assert {(p["lang"], p["text"]) for p in passages} == train_paragraphs


def test_demo_asks_dev_questions_it_did_not_train_on():
    from rayqa.demo import demo_questions

    questions = demo_questions()
    assert {q["lang"] for q in questions} == LANGS and len(questions) == len(LANGS)
    dev = {qa["id"]: qa for _, qa in _qas("dev.json")}
    train = list(_qas("train.json"))
    train_ids = {qa["id"] for _, qa in train}
    train_questions = {qa["question"] for _, qa in train}
    passages = _jsonl("passages.jsonl")
    for q in questions:
        assert q["id"] in dev and q["id"] not in train_ids, q
        assert q["question"] not in train_questions, q
        assert (q["question"], q["lang"]) == (dev[q["id"]]["question"], dev[q["id"]]["lang"])
        # "answers as expected" compares with the dev question's gold answer.
        assert q["expected"] in {a["text"] for a in dev[q["id"]]["answers"]}, q
        assert any(p["lang"] == q["lang"] and q["expected"] in p["text"] for p in passages), q


def test_data_files_stay_small():
    total = sum((DEMO / name).stat().st_size
                for name in ("train.json", "paraphrases.json", "dev.json", "passages.jsonl"))
    assert total < 600_000, total


def _builder():
    spec = importlib.util.spec_from_file_location("_demo_build_corpus", DEMO / "build_corpus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_files_match_the_generator():
    """The committed JSON is exactly what build_corpus.py writes (no hand edits)."""
    module = _builder()
    for name, text in module.render(module.build()).items():
        assert (DEMO / name).read_text(encoding="utf-8") == text, f"{name} is stale"
    assert module.main(["--check"]) == 0


@pytest.mark.parametrize("answer, error", [("Atlantis", "is not in the paragraph"),
                                           ("e", "occurs")])
def test_builder_refuses_an_answer_not_once_in_its_paragraph(tmp_path, answer, error):
    texts = tmp_path / "texts"
    shutil.copytree(DEMO / "texts", texts)
    module = _builder()
    module.build(texts)  # the copy builds as it is
    topic = json.loads((texts / "bees.json").read_text(encoding="utf-8"))
    topic["en"]["dev"][0][1] = answer
    (texts / "bees.json").write_text(json.dumps(topic, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ValueError, match=error):
        module.build(texts)


@pytest.mark.parametrize("paraphrase", [
    ["What part of the flowers do bees make honey from?", "nectar"],  # a dev question, reworded a little
    ["What do honeybees make honey from?", "nectar"],  # a train question
    ["Which flower part gives the honey?", "pollen"],  # no train answer
])
def test_builder_refuses_a_paraphrase_near_a_dev_question_or_off_the_train_answers(
        tmp_path, paraphrase):
    texts = tmp_path / "texts"
    shutil.copytree(DEMO / "texts", texts)
    topic = json.loads((texts / "bees.json").read_text(encoding="utf-8"))
    topic["en"]["paraphrases"].append(paraphrase)
    (texts / "bees.json").write_text(json.dumps(topic, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ValueError, match="paraphrase"):
        _builder().build(texts)


def test_check_reports_stale_files(tmp_path, capsys):
    module = _builder()
    assert module.main(["--out", str(tmp_path)]) == 0
    assert module.main(["--check", "--out", str(tmp_path)]) == 0
    (tmp_path / "dev.json").write_text("{}", encoding="utf-8")
    assert module.main(["--check", "--out", str(tmp_path)]) == 1
    assert "stale: dev.json" in capsys.readouterr().err
