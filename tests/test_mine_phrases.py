"""LAKM knowledge-phrase mining: the paper's Figure 3, zh/ja/th, passages, bad lines, Ray."""

import itertools
import json
import sys

import pytest

from rayqa.config import PhraseMiningConfig
from rayqa.data.records import DataError
from rayqa.mining.phrase_job import mine_phrases
from rayqa.mining.phrases import PhraseMiner, Tokenizer, phrase_spans, split_passages
from rayqa.mining.search_log import build_xquad_search_log, iter_lines
from tests.conftest import REPO

sys.path.insert(0, str(REPO / "jobs"))
from mine_phrases import main  # noqa: E402

# Paper Figure 3: the query and the titles of its eight results.
QUERY = "when is the myth of George Washington cutting down cherry tree made"
TITLES = [
    "Cherry Tree Myth of George Washington's Mount Vernon",
    "George Washington and the Cherry Tree Myth",
    "George Washington Never Cutted Down A Cherry Tree",
    "Revisiting the myth of George Washington and the cherry tree",
    "The Myth of George Washington and the Cherry Tree",
    "The Legend of the Cherry Tree | George Washington Inn",
    "Fight erupts over George Washington cherry tree 'myth’",
    "George Washington: Childhood & the Myth of Cherry Tree",
]

# Hand-made titles for languages without spaces; each list's n-gram units are the
# segmenter's (jieba, MeCab, newmm). The last title of each holds a unit that a
# substring search would wrongly match ("华盛顿州", "วอชิงตัน ดี.ซี.").
UNSPACED = {
    "zh": ("乔治·华盛顿砍倒樱桃树的神话是什么时候",
           ["乔治·华盛顿与樱桃树的神话", "乔治·华盛顿砍樱桃树", "樱桃树和乔治·华盛顿",
            "乔治·华盛顿的童年", "华盛顿州的樱桃"],
           ["乔治·华盛顿"]),
    "ja": ("ジョージ・ワシントンが桜の木を切った神話",
           ["ジョージ・ワシントンと桜の木", "桜の木の神話とジョージ・ワシントン",
            "ジョージ・ワシントンの桜の木の伝説", "桜の木を切ったジョージ・ワシントン",
            "ワシントンの桜"],
           ["ジョージ・ワシントン", "桜の木"]),
    "th": ("ตำนานจอร์จ วอชิงตันตัดต้นเชอร์รี่",
           ["จอร์จ วอชิงตันกับต้นเชอร์รี่", "ตำนานต้นเชอร์รี่ของจอร์จ วอชิงตัน",
            "จอร์จ วอชิงตันตัดต้นเชอร์รี่", "ต้นเชอร์รี่ จอร์จ วอชิงตัน", "วอชิงตัน ดี.ซี."],
           ["จอร์จ วอชิงตัน", "ต้นเชอร์รี่"]),
}

PASSAGE = ("George Washington was said to have cut a cherry tree. The CHERRY TREE story "
           "about george washington is a myth; a cherry-tree tale, not Washingtonian history.")


def test_figure3_phrases():
    miner = PhraseMiner()
    candidates = {c.text for c in miner.candidates(QUERY, "en")}
    assert "George Washington" in candidates and "cherry tree" in candidates
    # The stop-word filter removes the paper's examples of useless candidates.
    assert not {"when is", "the myth", "is the myth"} & candidates
    assert [p.text for p in miner.phrases(QUERY, "en", TITLES)] == ["George Washington",
                                                                    "cherry tree"]


def test_tokens_drop_punctuation_and_match_on_boundaries():
    tokens = Tokenizer("en").tokens("Washington's 'myth’ Washingtonian")
    assert [t.key for t in tokens] == ["washington", "s", "myth", "washingtonian"]
    miner = PhraseMiner(threshold=1.0)
    # Phrases seen only inside a longer one ("George Washington") give way to it.
    assert [p.text for p in miner.phrases("George Washington Inn", "en",
                                          ["The George Washington Inn"])] == [
        "George Washington Inn"]
    # "Washington Inn" must not count in a title that only has "Washingtonian Inn".
    assert miner.phrases("Washington Inn", "en", ["Washingtonian Inn"]) == []


@pytest.mark.parametrize("lang", sorted(UNSPACED))
def test_unspaced_languages_use_segmenter_units(lang):
    query, titles, expected = UNSPACED[lang]
    assert [p.text for p in PhraseMiner().phrases(query, lang, titles)] == expected


def test_threshold():
    lower = PhraseMiner(threshold=0.3).phrases(QUERY, "en", TITLES)
    # 3 of 8 titles have "myth of George Washington"; "George Washington" (8 of 8) stays
    # beside it, "myth of George" (3 of 8, only ever inside it) goes.
    assert [p.text for p in lower] == ["myth of George Washington", "George Washington",
                                       "cherry tree"]
    query, titles, expected = UNSPACED["th"]  # both phrases are in 4 of 5 titles
    assert [p.text for p in PhraseMiner(threshold=0.8).phrases(query, "th", titles)] == expected
    assert PhraseMiner(threshold=0.81).phrases(query, "th", titles) == []
    with pytest.raises(ValueError):
        PhraseMiner(threshold=0)


def test_passage_spans_cover_every_occurrence():
    miner = PhraseMiner()
    phrases = miner.phrases(QUERY, "en", TITLES)
    spans = phrase_spans(Tokenizer("en").tokens(PASSAGE), phrases)
    found = [PASSAGE[s.start:s.end] for s in spans]
    assert found == ["George Washington", "cherry tree", "CHERRY TREE", "george washington",
                     "cherry-tree"]
    assert all(a.end <= b.start for a, b in itertools.pairwise(spans))
    assert "Washingtonian" not in found


def test_long_results_split_into_paragraphs():
    short = "George Washington and the cherry tree."
    assert split_passages(short, 1000) == [short]
    text = "Intro without phrases.\n\n" + short + "\n \n" + "x" * 1000
    parts = split_passages(text, 100)
    assert parts == ["Intro without phrases.", short, "x" * 1000]
    passages = PhraseMiner(max_passage_chars=100).passages(
        PhraseMiner().phrases(QUERY, "en", TITLES), "en", [("t0", short), ("t1", text)])
    assert [(p.result, p.part) for p in passages] == [(0, 0), (1, 1)]


def test_iter_lines_splits_on_newline_only(tmp_path):
    path = tmp_path / "log.jsonl"
    path.write_bytes(b'{"a": "x\xe2\x80\xa8y"}\r\n\n{"b": 1}')
    with open(path, "rb") as stream:
        assert [n for n, _ in iter_lines(stream)] == [1, 2, 3]


def good_line(query=QUERY, lang="en", titles=TITLES, text=PASSAGE):
    return {"query": query, "lang": lang, "results": [{"title": t, "text": text} for t in titles]}


def write_log(tmp_path):
    """A log with the Figure 3 query, the zh query, and one line per kind of bad line."""
    zh_query, zh_titles, _ = UNSPACED["zh"]
    lines = [
        json.dumps(good_line()),
        "{broken",
        json.dumps(good_line(zh_query, "zh", zh_titles, "据说乔治·华盛顿砍倒了樱桃树。")),
        json.dumps({"query": "x", "lang": "en"}),
        json.dumps({"query": 3, "lang": "en", "results": []}),
        "",
        json.dumps({"query": "  ", "lang": "de", "results": [{"title": "a", "text": "b"}]}),
        json.dumps({"query": "q", "lang": "en", "results": []}),
        json.dumps({"query": "q", "lang": "en", "results": [{"title": 1, "text": "b"}]}),
        json.dumps(good_line("completely unrelated words here", "en", TITLES[:2])),
    ]
    path = tmp_path / "log.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_local_job_counts_bad_lines_and_writes_contract(tmp_path):
    log = write_log(tmp_path)
    result = mine_phrases(log, tmp_path / "out", PhraseMiningConfig(), use_ray=False)
    assert result["bad_records"]["counts"] == {
        "broken_json": 1, "missing_field": 1, "wrong_type": 1, "empty_query": 1,
        "no_results": 1, "bad_result": 1}
    langs = result["langs"]
    assert langs["all"]["bad_lines"] == 6 and langs["de"]["bad_lines"] == 1
    assert langs["en"]["queries"] == 2 and langs["en"]["queries_with_phrases"] == 1
    phrases = read_jsonl(tmp_path / "out" / "phrases.jsonl")
    assert [p["phrases"] for p in phrases] == [["George Washington", "cherry tree"],
                                               ["乔治·华盛顿"], []]
    passages = read_jsonl(tmp_path / "out" / "passages.jsonl")
    assert len(passages) == 8 + 5 and len({p["id"] for p in passages}) == len(passages)
    assert passages[0]["id"] == "1-0-0" and passages[8]["id"] == "3-0-0"
    for p in passages:
        assert set(p) == {"id", "lang", "query", "title", "text", "phrases"}
        assert all(p["text"][s["start"]:s["end"]] == s["text"] for s in p["phrases"])
    assert passages[8]["phrases"] == [{"text": "乔治·华盛顿", "start": 2, "end": 8}]
    assert langs["en"]["passages"] == 8 and langs["en"]["avg_k_words"] == 2.0
    assert langs["en"]["avg_k_phrases_per_passage"] == 2.0
    stats_md = (tmp_path / "out" / "stats.md").read_text(encoding="utf-8")
    assert "| en | 8 | 2 | 2.00 | 2.00 | 2 | 1 | 4 |" in stats_md


def test_strict_names_file_and_line(tmp_path):
    log = write_log(tmp_path)
    with pytest.raises(DataError, match=rf"{log}:2: broken_json"):
        mine_phrases(log, tmp_path / "out", PhraseMiningConfig(strict=True), use_ray=False)
    assert not (tmp_path / "out" / "phrases.jsonl").exists()


def test_min_results(tmp_path):
    log = write_log(tmp_path)
    result = mine_phrases(log, tmp_path / "out", PhraseMiningConfig(min_results=3),
                          use_ray=False)
    assert result["bad_records"]["counts"]["too_few_results"] == 1  # the 2-result line


def test_xquad_search_log(shared_dir, tmp_path):
    log = tmp_path / "xquad_log.jsonl"
    counts = build_xquad_search_log(shared_dir / "data" / "xquad", ["en", "zh"], log,
                                    queries_per_lang=5, top_n=4)
    assert counts == {"en": 5, "zh": 5}
    records = read_jsonl(log)
    # The same questions in both languages, each with BM25 results in its language.
    assert [r["xquad_id"] for r in records[:5]] == [r["xquad_id"] for r in records[5:]]
    assert all(1 <= len(r["results"]) <= 4 for r in records)
    zh = records[5]["results"][0]
    assert zh["text"].startswith(zh["title"]) and len(zh["title"]) <= 150


def test_demo_search_log_has_phrases_in_every_language(tmp_path):
    log = REPO / "rayqa" / "resources" / "demo" / "search_log.jsonl"
    result = mine_phrases(log, tmp_path / "out", PhraseMiningConfig(), use_ray=False)
    langs = {k: v for k, v in result["langs"].items() if k != "all"}
    assert sorted(langs) == ["ar", "de", "en", "es", "hi", "ru", "zh"]
    assert all(row["queries"] == 40 and row["passages"] > 0 for row in langs.values())
    assert result["bad_records"]["total"] == 0


@pytest.mark.ray
def test_ray_job_matches_local(ray_local, tmp_path):
    log = write_log(tmp_path)
    local = main(["--input", str(log), "--output", str(tmp_path / "local"), "--local"])
    # Two actors and 2-line batches: rows must still come out in line order.
    pooled = main(["--input", str(log), "--output", str(tmp_path / "ray"), "--num-actors", "2",
                   "--cpus-per-actor", "0.5", "--batch-size", "2"])
    assert pooled["langs"] == local["langs"]
    for name in ("phrases.jsonl", "passages.jsonl", "stats.md"):
        assert (tmp_path / "ray" / name).read_text(encoding="utf-8") == (
            tmp_path / "local" / name).read_text(encoding="utf-8")
    with pytest.raises(DataError, match=rf"{log}:2"):
        main(["--input", str(log), "--output", str(tmp_path / "strict"), "--strict"])


@pytest.mark.ray
def test_log_and_outputs_on_s3_match_a_local_run(ray_local, s3_dir, tmp_path):
    from rayqa import storage

    log = write_log(tmp_path)
    s3_log = f"{s3_dir}/log.jsonl"
    storage.write_bytes(s3_log, log.read_bytes())
    local = main(["--input", str(log), "--output", str(tmp_path / "local"), "--local"])
    for flags in (["--num-actors", "2", "--cpus-per-actor", "0.5", "--batch-size", "2"],
                  ["--local"]):
        out = f"{s3_dir}/out{len(flags)}"
        mined = main(["--input", s3_log, "--output", out, *flags])
        assert mined["langs"] == local["langs"]
        assert storage.list_files(out) == sorted(["phrases.jsonl", "passages.jsonl",
                                                  "stats.json", "stats.md"])
        for name in ("phrases.jsonl", "passages.jsonl", "stats.md"):
            # The bad lines in stats.md name the log as given.
            assert storage.read_text(f"{out}/{name}") == (tmp_path / "local" / name).read_text(
                encoding="utf-8").replace(str(log), s3_log)
        assert {e["path"] for e in mined["bad_records"]["examples"]} == {s3_log}
    # A strict failure leaves nothing behind.
    with pytest.raises(DataError, match=rf"{s3_log}:2: broken_json"):
        main(["--input", s3_log, "--output", f"{s3_dir}/strict", "--strict", "--local"])
    assert storage.list_files(f"{s3_dir}/strict") == []
