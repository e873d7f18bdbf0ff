"""Readers: SQuAD JSON, passages and open-QA JSONL, bad-record accounting, language codes."""

import gzip
import json
import logging

import pytest

from rayqa.data.openqa import OpenQAExample, read_openqa
from rayqa.data.passages import Passage, iter_passages, read_passages, write_passages
from rayqa.data.records import BadRecord, BadRecords, DataError
from rayqa.data.squad import (NO_POSITION, read_squad,
                              write_predictions, write_squad)
from rayqa.eval import read_predictions
from rayqa.langs import base_lang, lang_from_filename, lang_info, uses_spaces

XQUAD_LANGS = ["ar", "de", "el", "en", "es", "hi", "ro", "ru", "th", "tr", "vi", "zh"]


def _write_json(path, obj, indent=2):
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=indent), encoding="utf-8")
    return path


def _write_lines(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --- language codes ---------------------------------------------------------------------


@pytest.mark.parametrize("name, lang", [
    ("xquad.zh.json", "zh"),
    ("/data/xquad/xquad.hi.json", "hi"),
    ("dev-context-de-question-es.json", "de"),
    ("test-context-zh-question-en.json", "zh"),
    ("cmrc2018_dev.json", "zh"),
    ("DRCD_test.json", "zh"),
    ("train-th.jsonl", "th"),
    ("xor_dev_full_v1_1.jsonl", None),
    ("squad.en.de.json", None),  # two languages named: ambiguous
])
def test_lang_from_filename(name, lang):
    assert lang_from_filename(name) == lang


def test_lang_properties():
    assert not uses_spaces("zh") and not uses_spaces("th") and not uses_spaces("zh_cn")
    assert uses_spaces("ar") and uses_spaces("hi") and uses_spaces("ru")
    assert base_lang("zh-TW") == base_lang("zh_cn") == "zh"
    assert lang_info("ar").rtl and lang_info("ar").script == "Arab"
    assert lang_info("hi").script == "Deva" and not lang_info("hi").rtl
    assert lang_info("xx").script == "Zyyy"


# --- bad-record report ------------------------------------------------------------------


def test_bad_records_counts_and_keeps_first_examples():
    report = BadRecords(max_examples=2)
    for line in range(1, 4):
        report.add(BadRecord("f.jsonl", "broken_json", line))
    report.add(BadRecord("f.json", "empty_question", None, "data[0].paragraphs[0].qas[1]"))
    assert report.total == 4
    assert report.counts == {"broken_json": 3, "empty_question": 1}
    assert [str(r) for r in report.examples] == ["f.jsonl:1: broken_json", "f.jsonl:2: broken_json"]
    summary = report.summary()
    assert "4 bad records" in summary and "broken_json=3" in summary and "2 more" in summary
    assert json.loads(json.dumps(report.to_dict()))["counts"]["empty_question"] == 1
    assert BadRecords().summary() == "no bad records"


# --- SQuAD JSON: real benchmark files ---------------------------------------------------


@pytest.mark.parametrize("lang", XQUAD_LANGS)
def test_read_xquad(shared_dir, lang):
    report = BadRecords()
    examples = read_squad(shared_dir / f"data/xquad/xquad.{lang}.json", report=report)
    assert len(examples) == 1190 and report.total == 0
    assert {example.lang for example in examples} == {lang}
    for example in examples:
        answer = example.answers[0]
        start = answer["answer_start"]
        assert example.context[start:start + len(answer["text"])] == answer["text"]


def test_xquad_is_parallel(shared_dir):
    ids = {lang: [e.id for e in read_squad(shared_dir / f"data/xquad/xquad.{lang}.json")]
           for lang in ("en", "zh", "th")}
    assert ids["en"] == ids["zh"] == ids["th"]


def test_read_cmrc_reports_misplaced_answers(shared_dir, caplog):
    path = shared_dir / "data/cmrc2018/squad-style-data/cmrc2018_dev.json"
    report = BadRecords()
    with caplog.at_level(logging.WARNING):
        examples = read_squad(path, report=report)
    # Every question is kept with all its gold answers, so evaluation sees the whole set.
    assert len(examples) == 3219 and {e.lang for e in examples} == {"zh"}
    assert sum(len(e.answers) for e in examples) == 3 * 3219
    assert report.counts == {"answer_mismatch": 200}
    unplaced = [a for e in examples for a in e.answers if a["answer_start"] == NO_POSITION]
    assert len(unplaced) == 193  # text absent from the context; the other 7 were moved
    for example in examples:
        for answer in example.answers:
            start = answer["answer_start"]
            assert start == NO_POSITION or example.context[start:].startswith(answer["text"])
    first = report.examples[0]
    assert first.line is not None and first.location.startswith("data[")
    assert "200 bad records" in caplog.text


def test_read_cmrc_strict_names_file_line_and_path(shared_dir):
    path = shared_dir / "data/cmrc2018/squad-style-data/cmrc2018_dev.json"
    with pytest.raises(DataError) as err:
        read_squad(path, strict=True)
    record = err.value.record
    assert record.reason == "answer_mismatch" and record.path == str(path)
    assert record.location == "data[6].paragraphs[0].qas[2].answers[1]"
    assert f"{path}:{record.line}" in str(err.value)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert json.loads("{" + lines[record.line - 1].strip().rstrip(",") + "}")["id"]


def test_read_drcd(shared_dir):
    examples = read_squad(shared_dir / "data/drcd/DRCD_dev.json")
    assert len(examples) == 3524 and {e.lang for e in examples} == {"zh"}
    assert set(examples[0].answers[0]) == {"text", "answer_start"}


def test_write_squad_round_trip(shared_dir, tmp_path):
    examples = read_squad(shared_dir / "data/xquad/xquad.zh.json")
    write_squad(examples, tmp_path / "copy.json")
    assert read_squad(tmp_path / "copy.json") == examples


# --- SQuAD JSON: bad records ------------------------------------------------------------


def _qa(qid, question, text="Paris", start=0):
    qa = {"id": qid, "question": question, "answers": [{"text": text, "answer_start": start}]}
    return {key: value for key, value in qa.items() if value is not None}


def _bad_squad():
    context = "Paris is the capital of France."
    return {"version": "1.1", "data": [
        {"title": "A", "paragraphs": [
            {"context": context, "qas": [
                _qa("q1", "Capital?"),
                _qa("q2", "  "),
                _qa(None, "No id?"),
                _qa("q4", "Where?", "Berlin", 3),
                _qa("q1", "Again?"),
                {"id": "q6", "question": "None?", "answers": []},
                _qa("q7", "Bad?", "Paris", "0"),
                _qa("q8", "Moved?", "France", 20),
            ]},
            {"context": "", "qas": [{"id": "q9", "question": "Empty?", "answers": []}]},
            {"qas": []},
        ]},
        {"title": "no paragraphs"},
    ]}


def test_read_squad_counts_bad_records(tmp_path):
    path = _write_json(tmp_path / "bad.en.json", _bad_squad())
    report = BadRecords()
    examples = read_squad(path, report=report)
    assert [e.id for e in examples] == ["q1", "q4", "q8"]
    assert report.counts == {"empty_question": 1, "missing_field": 3, "answer_mismatch": 2,
                             "duplicate_id": 1, "no_answers": 1, "bad_answers": 1,
                             "empty_context": 1}
    q4, q8 = examples[1], examples[2]
    assert q4.answers == [{"text": "Berlin", "answer_start": NO_POSITION}]
    assert q8.answers == [{"text": "France", "answer_start": 24}]
    by_reason = {r.reason: r for r in report.examples}
    assert by_reason["empty_question"].location == "data[0].paragraphs[0].qas[1]"
    lines = path.read_text(encoding="utf-8").splitlines()
    assert '"id": "q2"' in lines[by_reason["empty_question"].line - 1]
    assert by_reason["empty_context"].location == "data[0].paragraphs[1]"


def test_read_squad_strict_raises_at_first_bad_record(tmp_path):
    path = _write_json(tmp_path / "bad.en.json", _bad_squad())
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if '"q2"' in text)
    with pytest.raises(DataError) as err:
        read_squad(path, strict=True)
    assert str(err.value).startswith(
        f"{path}:{line} [data[0].paragraphs[0].qas[1]]: empty_question")


def test_read_squad_without_answers_for_test_questions(tmp_path):
    data = {"data": [{"title": "t", "paragraphs": [{"context": "abc", "qas": [
        {"id": "q", "question": "what?"}]}]}]}
    path = _write_json(tmp_path / "test.en.json", data)
    assert read_squad(path, require_answers=False)[0].answers == []
    with pytest.raises(DataError, match="no_answers"):
        read_squad(path, strict=True)


def test_translated_answers_round_trip_and_are_required_for_alignment(tmp_path):
    """An augmented file (rayqa translate-test) keeps A_trans per question; an aligner's
    reading rejects a question without one, naming file and line in strict mode."""
    data = {"data": [{"title": "t", "paragraphs": [{"context": "Paris is big.", "qas": [
        {"id": "q1", "question": "Which?", "translated_answer": "Pariss",
         "answers": [{"text": "Paris", "answer_start": 0}]},
        {"id": "q2", "question": "What?", "translated_answer": "  ",
         "answers": [{"text": "big", "answer_start": 9}]}]}]}]}
    path = _write_json(tmp_path / "aug.en.json", data)
    plain = read_squad(path)
    assert [e.translated_answer for e in plain] == ["Pariss", "  "]
    write_squad(plain, tmp_path / "again.en.json")
    assert read_squad(tmp_path / "again.en.json") == plain
    report = BadRecords()
    assert [e.id for e in read_squad(path, report=report, require_translation=True)] == ["q1"]
    assert report.counts == {"no_translated_answer": 1}
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if '"q2"' in text)
    with pytest.raises(DataError, match=f"aug.en.json:{line} .*no_translated_answer"):
        read_squad(path, strict=True, require_translation=True)


def test_broken_json_raises_with_line_and_column(tmp_path):
    path = tmp_path / "broken.en.json"
    path.write_text('{"data": [\n  {"title": "x",\n   "paragraphs": [}\n]}', encoding="utf-8")
    with pytest.raises(DataError) as err:
        read_squad(path)  # not even the default mode can read a broken file
    assert err.value.record.reason == "broken_json" and err.value.record.line == 3
    assert str(path) in str(err.value) and "column" in str(err.value)


def test_not_squad_raises(tmp_path):
    with pytest.raises(DataError, match="not_squad"):
        read_squad(_write_json(tmp_path / "list.json", [1, 2]))


def test_language_precedence(tmp_path):
    data = {"data": [{"title": "t", "paragraphs": [
        {"context": "abc", "lang": "de", "qas": [
            {"id": "a", "question": "q?", "answers": [{"text": "a", "answer_start": 0}]},
            {"id": "b", "question": "q?", "lang": "fr",
             "answers": [{"text": "b", "answer_start": 1}]}]},
        {"context": "xyz", "qas": [
            {"id": "c", "question": "q?", "answers": [{"text": "z", "answer_start": 2}]}]},
    ]}]}
    named = _write_json(tmp_path / "xquad.es.json", data)
    assert [e.lang for e in read_squad(named)] == ["de", "fr", "es"]
    assert [e.lang for e in read_squad(named, lang="ru")] == ["ru", "ru", "ru"]
    unnamed = _write_json(tmp_path / "questions.json", data)
    report = BadRecords()
    assert [e.lang for e in read_squad(unnamed, report=report)] == ["de", "fr", "und"]
    assert report.counts == {"missing_lang": 1}
    with pytest.raises(DataError, match="missing_lang"):
        read_squad(unnamed, strict=True)


def test_predictions_round_trip(tmp_path):
    predictions = {"q1": "巴黎", "q2": ""}
    write_predictions(predictions, tmp_path / "pred.json")
    # The evaluator reads them back (and refuses non-string answers, naming the file).
    assert read_predictions(tmp_path / "pred.json") == predictions
    path = _write_json(tmp_path / "bad_pred.json", {"q1": "x", "q2": ["y"]})
    with pytest.raises(ValueError, match="bad_pred.json"):
        read_predictions(path)


def test_one_report_collects_several_files(tmp_path):
    report = BadRecords()
    read_squad(_write_json(tmp_path / "a.en.json", _bad_squad()), report=report)
    read_squad(_write_json(tmp_path / "b.en.json", _bad_squad()), report=report)
    assert report.total == 20
    assert {r.path for r in report.examples} == {str(tmp_path / "a.en.json"),
                                                  str(tmp_path / "b.en.json")}


# --- passages ---------------------------------------------------------------------------


def _passage_lines():
    return [
        json.dumps({"id": "p1", "title": "Paris", "text": "Paris is ...", "lang": "en",
                    "article_id": "Q90"}),
        '{"id": "p2", "text": "broken',
        json.dumps({"id": "p3", "text": "no language"}),
        "",
        json.dumps({"id": "p4", "text": "   ", "lang": "en"}),
        json.dumps(["not", "an", "object"]),
        json.dumps({"id": 5, "text": "巴黎是法国的首都。", "lang": "zh"}),
    ]


def test_read_passages_counts_bad_lines(tmp_path):
    path = _write_lines(tmp_path / "passages.jsonl", _passage_lines())
    report = BadRecords()
    passages = read_passages(path, report=report)
    assert passages == [Passage("p1", "Paris is ...", "en", "Paris", "Q90"),
                        Passage("5", "巴黎是法国的首都。", "zh", "", None)]
    assert report.counts == {"broken_json": 1, "missing_field": 1, "empty_text": 1,
                             "not_an_object": 1}
    assert [(r.reason, r.line) for r in report.examples] == [
        ("broken_json", 2), ("missing_field", 3), ("empty_text", 5), ("not_an_object", 6)]
    assert report.examples[1].detail == "lang"


def test_read_passages_strict_names_file_and_line(tmp_path):
    path = _write_lines(tmp_path / "passages.jsonl", _passage_lines())
    with pytest.raises(DataError, match=r"passages\.jsonl:2: broken_json"):
        list(iter_passages(path, strict=True))


def test_passages_round_trip_gzip(tmp_path):
    passages = [Passage("1", "नमस्ते दुनिया", "hi", "नमस्ते", "Q1"),
                Passage("2", "สวัสดีชาวโลก", "th")]
    write_passages(passages, tmp_path / "p.jsonl")
    gz = tmp_path / "p.jsonl.gz"
    gz.write_bytes(gzip.compress((tmp_path / "p.jsonl").read_bytes()))
    assert read_passages(tmp_path / "p.jsonl") == read_passages(gz) == passages


# --- open-QA questions ------------------------------------------------------------------


def test_read_xor_tydi(shared_dir):
    report = BadRecords()
    examples = read_openqa(shared_dir / "data/xor_tydi/xor_dev_full_v1_1.jsonl", report=report)
    assert len(examples) == 3473 and report.total == 0
    counts = {lang: sum(e.lang == lang for e in examples) for lang in ("ar", "fi", "ja", "te")}
    assert counts == {"ar": 708, "fi": 615, "ja": 433, "te": 351}
    assert all(e.answers and e.answer_type is None for e in examples)


def test_read_mkqa_expands_languages(shared_dir):
    path = shared_dir / "data/mkqa/test_mkqa.jsonl.gz"
    examples = read_openqa(path)
    assert len(examples) == 6 * 26
    first = [e for e in examples if e.id == "36228854473990432"]
    assert len({e.lang for e in first}) == 26 and {e.answer_type for e in first} == {"date"}
    ja = read_openqa(path, langs={"ja"})
    assert len(ja) == 6 and {e.lang for e in ja} == {"ja"}
    ridley = next(e for e in ja if e.id == "7631360939705650347")
    assert ridley.answers == ["リドリー・スコット"] and ridley.answer_type == "entity"
    en_date = next(e for e in examples if e.id == "36228854473990432" and e.lang == "en")
    assert en_date.answers[:3] == ["2017", "2017-05-18", "18/05/2017"]  # text, then aliases
    unanswerable = [e for e in ja if e.answer_type == "unanswerable"]
    assert len(unanswerable) == 2 and all(e.answers == [] for e in unanswerable)


def test_read_openqa_counts_bad_lines(tmp_path):
    mkqa = {"example_id": 7, "queries": {"en": "who?", "de": ""},
            "answers": {"en": [{"type": "entity", "text": "Ann", "aliases": ["Anne"]}],
                        "de": [{"type": "entity", "text": "Anna"}]}}
    lines = [
        json.dumps({"id": "1", "question": "كم؟", "lang": "ar", "answers": ["٣"]}),
        json.dumps({"id": "2", "question": "何？", "answers": ["x"]}),
        json.dumps({"id": "3", "question": "", "lang": "ja", "answers": ["x"]}),
        json.dumps({"id": "4", "question": "q", "lang": "fi", "answers": "x"}),
        json.dumps({"id": "5", "question": "q", "lang": "fi", "answers": []}),
        json.dumps(mkqa),
        "not json",
    ]
    path = _write_lines(tmp_path / "questions.jsonl", lines)
    report = BadRecords()
    examples = read_openqa(path, report=report)
    assert examples == [OpenQAExample("1", "كم؟", "ar", ["٣"]),
                        OpenQAExample("7", "who?", "en", ["Ann", "Anne"], "entity")]
    assert [(r.reason, r.line) for r in report.examples] == [
        ("missing_field", 2), ("empty_question", 3), ("bad_answers", 4), ("no_answers", 5),
        ("empty_question", 6), ("broken_json", 7)]
    assert report.examples[4].location == "queries.de"
    assert read_openqa(path, require_answers=False, report=BadRecords())[1].answers == []
    with pytest.raises(DataError, match=r"questions\.jsonl:2: missing_field: lang"):
        read_openqa(path, strict=True)
