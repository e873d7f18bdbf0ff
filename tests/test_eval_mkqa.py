"""MKQA scoring: the official mkqa_eval.py rules, and parity on all 26 languages."""

import gzip
import json

import pytest

from rayqa.cli import main
from rayqa.eval import (
    MKQA_LANGUAGES,
    MKQAPrediction,
    evaluate_files,
    mkqa_normalize,
    mkqa_scores,
    read_mkqa_predictions,
)
from rayqa.eval.mkqa import mkqa_exact_match, mkqa_f1

GOLD = "data/mkqa/test_mkqa.jsonl.gz"


def pred(qid, text, prob=0.0, binary=None):
    return MKQAPrediction(qid, text, binary, prob)


@pytest.mark.parametrize("text, lang, want", [
    ("The Eiffel Tower!", "en", "eiffel tower"),
    ("Lemon", "fr", "mon"),  # the French pattern has no closing word boundary
    ("l'Italia", "it", "litalia"),  # "'" is gone before the articles: "l'" never matches
    ("De Nederlanden", "nl", "nederlanden"),
    ("東京 タワー。", "ja", "東 京 タ ワ ー 。"),  # a token per character; "。" is not ASCII
    ("Lemon", "pl", "lemon"),  # no articles
    ("«Paris»", "en", "«paris»"),  # only ASCII punctuation goes
])
def test_normalization_follows_the_script(text, lang, want):
    assert mkqa_normalize(text, lang) == want


def test_f1_is_one_only_when_both_sides_are_empty():
    assert mkqa_f1("", "", "en") == 1.0
    assert mkqa_f1("the", "", "en") == 1.0  # normalizes to nothing
    assert mkqa_f1("Paris", "", "en") == 0.0
    assert mkqa_f1("", "Paris", "en") == 0.0
    assert mkqa_f1("Paris France", "Paris", "en") == pytest.approx(2 / 3)
    assert mkqa_f1("东京", "京都", "zh_cn") == 0.5
    assert mkqa_exact_match("THE Paris.", "paris", "en") == 1.0


def test_threshold_scan_by_hand():
    gold = {"1": ("paris",), "2": ("",), "3": ("berlin",)}
    predictions = {"1": pred("1", "Paris", -2.0), "2": pred("2", "London", -1.0),
                   "3": pred("3", "Rome", 0.5)}
    # Answering in order of rising no_answer_prob: q1 (+1) peaks at 2 of 3 at -2.0; then
    # q2 is an unanswerable question answered (-1) and q3 is wrong (+0).
    assert mkqa_scores(gold, predictions, "en") == {
        "best_em": 66.67, "best_f1": 66.67, "best_answerable_em": 50.0,
        "best_answerable_f1": 50.0, "best_unanswerable_em": 100.0, "best_f1_threshold": -2.0,
        "exact_match": 33.33, "f1": 33.33, "answerable_exact_match": 50.0,
        "answerable_f1": 50.0, "unanswerable_exact_match": 0.0,
    }


def test_binary_answer_replaces_the_prediction():
    gold = {"1": ("yes",)}
    got = mkqa_scores(gold, {"1": pred("1", "no idea", -1.0, binary="yes")}, "de")
    assert got["exact_match"] == got["best_em"] == 100.0
    assert mkqa_scores(gold, {"1": pred("1", "yes", -1.0, binary="no")}, "de")["f1"] == 0.0


def test_no_unanswerable_questions_give_nan_like_the_script():
    got = mkqa_scores({"1": ("a b",)}, {"1": pred("1", "b", -1.0)}, "sv")
    assert got["f1"] == 66.67 and got["unanswerable_exact_match"] != got["unanswerable_exact_match"]


def test_every_gold_id_needs_a_prediction_and_nothing_else():
    with pytest.raises(ValueError, match="1 missing"):
        mkqa_scores({"1": ("a",), "2": ("b",)}, {"1": pred("1", "a")}, "en")
    with pytest.raises(ValueError, match="1 not in the gold"):
        mkqa_scores({"1": ("a",)}, {"1": pred("1", "a"), "9": pred("9", "b")}, "en")
    with pytest.raises(ValueError, match="no language 'zh'"):
        mkqa_scores({"1": ("a",)}, {"1": pred("1", "a")}, "zh")


def test_prediction_file_checks(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text('{"example_id": 1, "prediction": null, "binary_answer": "YES"}\n')
    assert read_mkqa_predictions(path) == {"1": MKQAPrediction("1", "", "yes", 0)}
    path.write_text('{"example_id": 1, "prediction": "a"}\n{"example_id": 2, "prediction": "b", '
                    '"binary_answer": "maybe"}\n')
    with pytest.raises(ValueError, match=r"p.jsonl:2: binary_answer must be yes, no or null"):
        read_mkqa_predictions(path)
    path.write_text('{"example_id": 1, "prediction": "a", "no_answer_prob": "high"}\n')
    with pytest.raises(ValueError, match=r"p.jsonl:1: no_answer_prob must be a number"):
        read_mkqa_predictions(path)


def test_gold_file_checks(tmp_path):
    gold = tmp_path / "gold.jsonl.gz"
    with gzip.open(gold, "wt", encoding="utf-8") as f:
        f.write(json.dumps({"example_id": 5, "answers": {"en": [
            {"type": "entity", "text": "Ridley Scott", "aliases": ["Sir Ridley Scott"]}]}}) + "\n")
        f.write(json.dumps({"example_id": 6, "answers": {"de": []}}) + "\n")
    preds = tmp_path / "p.jsonl"
    preds.write_text('{"example_id": 5, "prediction": "Scott"}\n')
    with pytest.raises(ValueError, match=r"gold.jsonl.gz:2: needs 'example_id' and answers.en"):
        evaluate_files("mkqa", gold, preds, lang="en")
    with pytest.raises(ValueError, match="mkqa needs the language"):
        evaluate_files("mkqa", gold, preds)


@pytest.fixture(scope="module")
def expected(shared_dir):
    return json.loads((shared_dir / "eval-parity" / "mkqa" / "expected.json").read_text())


@pytest.mark.shared
def test_every_language_has_a_case(expected):
    assert sorted(expected) == sorted(MKQA_LANGUAGES)


@pytest.mark.shared
@pytest.mark.parametrize("lang", MKQA_LANGUAGES)
def test_matches_official_script(lang, shared_dir, expected):
    got = evaluate_files("mkqa", shared_dir / GOLD,
                         shared_dir / "eval-parity" / "mkqa" / f"mkqa_{lang}.predictions.jsonl",
                         lang=lang)
    # Both sides are rounded to 2 decimals the same way: every number must be equal.
    assert list(got) == list(expected[lang])
    assert got == expected[lang]


@pytest.mark.shared
def test_cli_prints_the_scripts_json(shared_dir, expected, capsys):
    predictions = shared_dir / "eval-parity" / "mkqa" / "mkqa_zh_cn.predictions.jsonl"
    assert main(["evaluate", "--benchmark", "mkqa", "--lang", "zh_cn",
                 str(shared_dir / GOLD), str(predictions)]) == 0
    assert json.loads(capsys.readouterr().out) == expected["zh_cn"]
