"""Articles into passages without Ray: readers, segmenters, chunking, links, XQuAD."""

import json
import re

import pytest

from rayqa.config import ConfigError, PassagesJobConfig, load_config
from rayqa.corpus.articles import Article, iter_articles
from rayqa.corpus.chunking import Chunker, is_disambiguation
from rayqa.corpus.language_links import LanguageLinks
from rayqa.corpus.xquad import build_xquad_collection, split_xquad
from rayqa.data.records import BadRecords, DataError
from rayqa.langs import token_spans
from tests.conftest import REPO

WORDS = ("The  quick brown\tfox, jumps over\n\nthe lazy dog; " * 40).strip()


def pieces(text, lang):
    return [text[start:end] for start, end in token_spans(text, lang)]


def assert_exact_passages(article, passages, size):
    """Passages are consecutive slices of the article, cut at token boundaries."""
    tokens = token_spans(article.text, article.lang)
    position = 0
    for passage in passages:
        start = article.text.index(passage["text"], position)
        # only separators are skipped: whitespace, and the zero-width space of Khmer
        assert article.text[position:start].replace("\u200b", "").strip() == ""
        position = start + len(passage["text"])
        count = len(token_spans(passage["text"], article.lang))
        assert 1 <= count <= size
    assert position == tokens[-1][1]
    assert len(passages) == -(-len(tokens) // size)


def test_passages_are_exact_slices_with_original_spacing():
    article = Article("7", "Fox", WORDS, "en")
    passages = Chunker(100, 20).passages(article)
    assert_exact_passages(article, passages, 100)
    assert "brown\tfox," in passages[0]["text"] and "\n\n" in passages[0]["text"]
    assert [len(pieces(p["text"], "en")) for p in passages] == [100, 100, 100, 60]


@pytest.mark.parametrize("lang, sentence", [
    ("zh", "维基百科是一个自由的网络百科全书，由维基媒体基金会运营。"),
    ("ja", "東京都は日本の首都であり、 世界有数の大都市です。"),
    ("th", "ภาษาไทยเป็นภาษาที่มีระดับเสียงของคำแน่นอน "),
    ("km", "ភាសាខ្មែរ\u200bគឺជាភាសាកំណើតរបស់ជនជាតិខ្មែរ។ "),
])
def test_unspaced_languages_chunk_exactly(lang, sentence):
    article = Article("1", "t", sentence * 30, lang)
    passages = Chunker(50, 20).passages(article)
    assert len(passages) > 2
    assert_exact_passages(article, passages, 50)


def test_segmenters_give_words_for_unspaced_languages():
    assert pieces("维基百科是一个自由的网络百科全书", "zh") == [
        "维基百科", "是", "一个", "自由", "的", "网络", "百科全书"]
    assert pieces("東京都は日本の首都です。 Tokyo", "ja")[:6] == ["東京", "都", "は", "日本", "の", "首都"]
    assert pieces("ภาษาไทยเป็นภาษาที่มี ระดับเสียง", "th") == [
        "ภาษาไทย", "เป็น", "ภาษา", "ที่", "มี", "ระดับเสียง"]
    # Khmer: orthographic syllables keep the subscript consonant after the coeng.
    assert pieces("ខ្មែរ Khmer", "km") == ["ខ្មែ", "រ", "Khmer"]
    assert pieces(" a  b\nc ", "de") == ["a", "b", "c"]


@pytest.mark.parametrize("title, text, lang", [
    ("Mercury (disambiguation)", "x", "en"), ("Bank (Begriffsklärung)", "x", "de"),
    ("Mercure (homonymie)", "x", "fr"), ("Mercurio (desambiguación)", "x", "es"),
    ("Меркурий (значения)", "x", "ru"), ("水星（曖昧さ回避）", "x", "ja"),
    ("水星 (消歧义)", "x", "zh"), ("Mercury", "Mercury may refer to:\nMercury (planet)", "en"),
    ("Bank", "Bank steht für:", "de"),
])
def test_disambiguation_pages_are_recognized(title, text, lang):
    assert is_disambiguation(title, text, lang)


def test_ordinary_pages_are_not_disambiguation():
    assert not is_disambiguation("Mercury (planet)", "Mercury is the first planet.", "en")
    late = "Mercury is a planet. " * 30 + "The name may refer to: the god."
    assert not is_disambiguation("Mercury", late, "en")


def test_short_and_disambiguation_articles_are_dropped_and_counted():
    chunker = Chunker(100, 20)
    articles = [Article("1", "Fox", WORDS, "en"), Article("2", "Tiny", "one two three", "en"),
                Article("3", "Bank (Begriffsklärung)", WORDS, "de"),
                Article("4", "短", "短い記事です。", "ja")]
    kept = [p for a in articles for p in chunker.passages(a)]
    assert {p["article_id"] for p in kept} == {"en:1"}
    stats = chunker.stats.to_dict()
    assert stats["articles"] == {"en": 2, "de": 1, "ja": 1}
    assert stats["dropped"] == {"short": {"en": 1, "ja": 1}, "disambiguation": {"de": 1}}
    assert stats["passages"] == {"en": len(kept)} and stats["total"]["dropped"] == 3


def test_linked_articles_take_the_entity_id(tmp_path):
    path = tmp_path / "links.jsonl"
    path.write_text('{"entity": "Q1", "lang": "en", "id": "7"}\n'
                    '{"entity": "Q1", "lang": "de", "title": "Der_Fuchs"}\n'
                    '{"entity": "Q2", "lang": "de"}\n', encoding="utf-8")
    report = BadRecords()
    links = LanguageLinks.read(path, report=report)
    assert report.counts == {"missing_field": 1} and report.examples[0].line == 3
    chunker = Chunker(100, 20, links.entity_of)
    en = chunker.passages(Article("7", "Fox", WORDS, "en"))
    de = chunker.passages(Article("99", "Der Fuchs", WORDS, "de"))
    other = chunker.passages(Article("5", "Hund", WORDS, "de"))
    assert {p["article_id"] for p in en + de} == {"Q1"} and other[0]["article_id"] == "de:5"
    assert en[1]["id"] == "en:7_1" and de[0]["id"] == "de:99_0"
    links.write(tmp_path / "copy.jsonl")
    assert LanguageLinks.read(tmp_path / "copy.jsonl").entities() == links.entities()
    with pytest.raises(DataError, match=re.escape(f"{path}:3")):
        LanguageLinks.read(path, strict=True)


DOC_TEXT = """<doc id="12" url="https://de.wikipedia.org/wiki?curid=12" title="AT&amp;T">
AT&amp;T

AT&amp;T ist ein Unternehmen.
Zweiter Absatz.
</doc>
stray line
<doc id="13" url="u" title="Zwei">
Zwei

Text zwei.
</doc>
<doc id="14" url="u" title="Offen">
Offen
"""


def test_wikiextractor_doc_format(tmp_path):
    path = tmp_path / "wiki_00"
    path.write_text(DOC_TEXT, encoding="utf-8")
    report = BadRecords()
    articles = list(iter_articles(path, "wikiextractor", "de", report=report))
    assert [(a.id, a.title, a.lang) for a in articles] == [("12", "AT&T", "de"), ("13", "Zwei", "de")]
    assert articles[0].text == "AT&T ist ein Unternehmen.\nZweiter Absatz."
    assert report.counts == {"outside_doc": 1, "unclosed_doc": 1}
    assert [r.line for r in report.examples] == [7, 13]
    with pytest.raises(DataError, match=re.escape(f"{path}:7: outside_doc")):
        list(iter_articles(path, "wikiextractor", "de", strict=True))


def test_wikiextractor_json_format_and_directories(tmp_path):
    folder = tmp_path / "text" / "AA"
    folder.mkdir(parents=True)
    rows = [{"id": "1", "revid": "9", "url": "u", "title": "Eins", "text": "Text eins."},
            {"id": "2", "url": "u", "title": "Zwei"}]
    (folder / "wiki_00").write_text("\n".join(json.dumps(r) for r in rows) + "\n{broken\n",
                                    encoding="utf-8")
    (folder / "wiki_01").write_text(DOC_TEXT.split("stray")[0], encoding="utf-8")
    from rayqa.corpus.articles import expand_paths

    report = BadRecords()
    articles = [a for p in expand_paths(tmp_path / "text")
                for a in iter_articles(p, "wikiextractor", "sv", report=report)]
    assert [(a.id, a.text, a.lang) for a in articles] == [
        ("1", "Text eins.", "sv"), ("12", "AT&T ist ein Unternehmen.\nZweiter Absatz.", "sv")]
    assert report.counts == {"missing_field": 1, "broken_json": 1}
    assert {(r.path.endswith("wiki_00"), r.line) for r in report.examples} == {(True, 2), (True, 3)}


def test_jsonl_articles_bad_lines_counted_and_strict(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text('{"id": 1, "title": "A", "text": "x", "lang": "fr"}\n'
                    '{"id": 2, "title": "B", "text": "y"}\n'
                    '{"id": 3, "title": "C", "text": 5, "lang": "fr"}\n'
                    '{"id": 4, "text": "z", "lang": "fr"}\n', encoding="utf-8")
    report = BadRecords()
    assert [a.id for a in iter_articles(path, report=report)] == ["1"]
    assert report.counts == {"no_lang": 1, "bad_field": 1, "missing_field": 1}
    assert [a.lang for a in iter_articles(path, lang="it")] == ["fr", "it"]
    with pytest.raises(DataError, match=re.escape(f"{path}:2: no_lang")):
        list(iter_articles(path, strict=True))


def test_passages_config_is_commented_and_validated():
    cfg = load_config(PassagesJobConfig, REPO / "configs" / "passages.yaml")
    assert (cfg.passage_tokens, cfg.min_article_tokens) == (100, 20)
    with pytest.raises(ConfigError, match="either article_files or xquad_dir"):
        load_config(PassagesJobConfig, REPO / "configs" / "passages.yaml",
                    ["article_files=[a.jsonl]"])
    with pytest.raises(ConfigError, match="article_files.0"):
        load_config(PassagesJobConfig, REPO / "configs" / "passages.yaml",
                    ["xquad_dir=null", "article_files=[{path: w, format: wikiextractor}]"])


def squeeze(text):
    return re.sub(r"\s", "", text)


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_xquad_collection_is_parallel_with_gold_passages_everywhere(shared_dir, tmp_path):
    out = build_xquad_collection(shared_dir / "data" / "xquad", tmp_path)
    passages = {p["id"]: p for p in read_jsonl(out / "passages.jsonl")}
    langs = {p["lang"] for p in passages.values()}
    assert len(langs) == 12
    by_entity = {}
    for p in passages.values():
        by_entity.setdefault(p["article_id"], set()).add(p["lang"])
    assert len(by_entity) == 48 and all(found == langs for found in by_entity.values())
    questions = read_jsonl(out / "questions.jsonl")
    assert len(questions) == 1190 * 12
    answers = {(q["xquad_id"], q["lang"]): q["answers"][0] for q in questions}
    for question in questions:
        assert set(question["gold_passage_ids"]) == langs
        for lang, ids in question["gold_passage_ids"].items():
            assert ids and all(passages[i]["article_id"] == question["gold_article_id"]
                               for i in ids)
            # an answer may straddle two passages; joined (whitespace aside) they hold it
            text = "".join(passages[i]["text"] for i in ids)
            assert squeeze(answers[question["xquad_id"], lang]) in squeeze(text)
    links = LanguageLinks.read(out / "language_links.jsonl").entities()
    assert len(links) == 48 and all(set(v) == langs for v in links.values())
    assert json.loads((out / "stats.json").read_text())["segmenters"]["th"] == "newmm"


@pytest.mark.shared
def test_xquad_split_by_article_stays_parallel(shared_dir, tmp_path):
    from rayqa.translate.parallel import ParallelTranslator

    counts = split_xquad(shared_dir / "data" / "xquad", tmp_path, dev_articles=8,
                         langs=["en", "de"])
    assert counts == {"train": {"en": 1013, "de": 1013}, "dev": {"en": 177, "de": 177}}
    train = json.loads((tmp_path / "train" / "xquad.de.json").read_text(encoding="utf-8"))
    dev = json.loads((tmp_path / "dev" / "xquad.de.json").read_text(encoding="utf-8"))
    assert len(train["data"]) == 40 and len(dev["data"]) == 8
    train_ids = {qa["id"] for a in train["data"] for p in a["paragraphs"] for qa in p["qas"]}
    dev_ids = {qa["id"] for a in dev["data"] for p in a["paragraphs"] for qa in p["qas"]}
    assert not train_ids & dev_ids
    translator = ParallelTranslator.from_xquad(tmp_path / "train")
    assert sorted(translator.pairs) == ["de-en", "en-de"]
    with pytest.raises(ValueError, match="dev_articles"):
        split_xquad(shared_dir / "data" / "xquad", tmp_path, dev_articles=48, langs=["en"])


def test_local_model_paths_reach_workers_absolute(tmp_path, monkeypatch):
    from rayqa.train.launch import with_absolute_models

    (tmp_path / "runs" / "init").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    tree = {"model": {"name_or_path": "runs/init"}, "output_dir": "runs/out",
            "encoders": [{"name_or_path": "bert-base-multilingual-cased"}]}
    out = with_absolute_models(tree)
    assert out["model"]["name_or_path"] == str(tmp_path / "runs" / "init")
    assert out["encoders"][0]["name_or_path"] == "bert-base-multilingual-cased"  # hub name
    assert out["output_dir"] == "runs/out"


@pytest.mark.shared
def test_xquad_split_from_and_to_s3_matches_a_local_split(shared_dir, s3_dir, tmp_path):
    from jobs.split_xquad import main
    from rayqa import storage

    for lang in ("en", "de"):
        name = f"xquad.{lang}.json"
        storage.write_bytes(f"{s3_dir}/xquad/{name}",
                            (shared_dir / "data" / "xquad" / name).read_bytes())
    local = main(["--xquad", str(shared_dir / "data" / "xquad"), "--output", str(tmp_path),
                  "--langs", "en,de"])
    remote = main(["--xquad", f"{s3_dir}/xquad", "--output", f"{s3_dir}/split"])
    assert remote == local
    files = storage.list_files(f"{s3_dir}/split")
    assert files == ["dev/xquad.de.json", "dev/xquad.en.json", "train/xquad.de.json",
                     "train/xquad.en.json"]
    for name in files:
        assert storage.read_bytes(f"{s3_dir}/split/{name}") == (tmp_path / name).read_bytes()
