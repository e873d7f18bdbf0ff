"""Unit tests of rayqa.eval on tiny in-memory data (no shared data needed)."""

import json
import subprocess
import sys

import pytest

from rayqa.eval import (
    evaluate_files,
    infer_mlqa_language,
    mlqa_normalize,
    mlqa_scores,
    score_by_language,
    squad_normalize,
    squad_scores,
    token_f1,
    xor_full_scores,
    xor_normalize,
)
from rayqa.eval import cmrc
from rayqa.eval.cmrc import cmrc_em, cmrc_f1, cmrc_scores, cmrc_segment, longest_common_run


@pytest.fixture
def punkt():
    """Skips unless nltk finds punkt_tab (conftest points NLTK_DATA at ../shared)."""
    try:
        cmrc._require_punkt()
    except LookupError:
        pytest.skip("nltk punkt_tab data not found (set NLTK_DATA)")


# --- SQuAD ------------------------------------------------------------------------


def test_squad_normalize_is_ascii_only():
    assert squad_normalize("  The Cat's, an  apple! ") == "cats apple"
    # Curly quotes and dashes are not ASCII punctuation, so SQuAD keeps them.
    assert squad_normalize("“The Cat’s” – toy") == "“ cat’s” – toy"


def test_squad_missing_prediction_scores_zero_and_counts():
    examples = [("q1", ["Paris"]), ("q2", ["the Eiffel Tower", "Eiffel"])]
    # q2 matches its first gold once "the" is dropped; unanswered q1 counts as 0.
    assert squad_scores(examples, {"q2": "Eiffel Tower"}) == {"exact_match": 50.0, "f1": 50.0}
    # Max over the golds: "eiffel bridge" scores 2/3 against "eiffel", 1/2 against the other.
    scores = squad_scores(examples, {"q1": "Paris", "q2": "Eiffel bridge"})
    assert scores["f1"] == pytest.approx(100 * (1 + 2 / 3) / 2)


def test_token_f1_bag_of_tokens():
    assert token_f1(["a", "b", "b"], ["b", "b", "c", "d"]) == pytest.approx(2 * (2 / 3) * 0.5 / (2 / 3 + 0.5))
    assert token_f1([], []) == 0.0


def test_examples_accept_dicts_with_squad_answers():
    examples = [{"id": "q", "answers": [{"text": "Paris", "answer_start": 0}]}]
    assert squad_scores(examples, {"q": "paris."}) == {"exact_match": 100.0, "f1": 100.0}


def test_examples_without_answers_are_rejected():
    with pytest.raises(ValueError, match="no gold answers"):
        squad_scores([("q", [])], {})


# --- MLQA -------------------------------------------------------------------------


def test_mlqa_removes_all_unicode_punctuation():
    assert mlqa_normalize("“The Cat’s” – toy", "en") == "cats toy"
    assert mlqa_normalize("«Hola», ¿qué tal? El perro", "es") == "hola qué tal perro"


def test_mlqa_arabic_removes_every_al_even_inside_words():
    # The script's regex turns every "ال" into a space, not only the article prefix.
    assert mlqa_normalize("فالكتاب الجديد", "ar") == "ف كتاب جديد"


def test_mlqa_per_language_articles():
    assert mlqa_normalize("Der Hund und das Haus", "de") == "hund und haus"
    assert mlqa_normalize("những con mèo của tôi", "vi") == "con mèo tôi"
    assert mlqa_normalize("the article stays", "hi") == "the article stays"


def test_mlqa_chinese_mixed_segmentation():
    # Each CJK character is a token; other runs split on whitespace.
    assert mlqa_normalize("iPhone 6s手机，北京2008年", "zh") == "iphone 6s 手 机 北 京 2008 年"
    scores = mlqa_scores([("q", ["北京大学"])], {"q": "北京"}, "zh")
    assert scores["exact_match"] == 0.0
    assert scores["f1"] == pytest.approx(100 * 2 * 1 * 0.5 / 1.5)


def test_mlqa_unknown_language_is_an_error():
    with pytest.raises(ValueError, match="no rules for language 'xx'"):
        mlqa_scores([("q", ["a"])], {"q": "a"}, "xx")


def test_score_by_language_uses_each_languages_rules():
    examples = [
        ("e", ["the dog"], "en"),
        {"id": "a", "answers": ["الكتاب"], "lang": "ar"},
        ("x", ["«tere»"], "et"),  # not an MLQA language: punctuation still removed
    ]
    got = score_by_language(examples, {"e": "dog", "a": "كتاب", "x": "tere"})
    assert list(got) == ["en", "ar", "et"]
    assert all(s == {"exact_match": 100.0, "f1": 100.0} for s in got.values())


def test_cmrc_scoring_scores_chinese_by_the_cmrc_script(punkt):
    examples = [("z1", ["北京大学"], "zh"), ("z2", ["红楼梦"], "zh"), ("e", ["the dog"], "en")]
    predictions = {"z1": "在北京大学", "z2": "《红楼梦》", "e": "dog"}
    got = score_by_language(examples, predictions, "cmrc")
    cmrc = cmrc_scores(examples[:2], predictions)
    assert got["zh"] == {"exact_match": cmrc["EM"], "f1": cmrc["F1"]}
    assert got["en"] == score_by_language(examples, predictions)["en"]
    assert got["zh"] != score_by_language(examples, predictions)["zh"]
    with pytest.raises(ValueError, match="scoring must be one of"):
        score_by_language(examples, predictions, "squad2")


def test_score_by_language_needs_a_language():
    with pytest.raises(ValueError, match="has no language"):
        score_by_language([("q", ["a"])], {})


# --- CMRC 2018 / DRCD -------------------------------------------------------------


def test_longest_common_run_is_contiguous():
    assert longest_common_run(list("abcxde"), list("zabde")) == 2
    assert longest_common_run([], list("ab")) == 0


def test_cmrc_f1_from_longest_common_run():
    # LCS 4 chars; precision 4/5, recall 4/4.
    assert cmrc_f1(["北京大学"], "在北京大学") == pytest.approx(2 * 0.8 / 1.8)
    assert cmrc_f1(["上海", "北京大学"], "北京") == pytest.approx(2 * 0.5 / 1.5)
    assert cmrc_f1(["北京"], "") == 0.0


def test_cmrc_em_uses_its_punctuation_list():
    assert cmrc_em(["《红楼梦》"], "红楼梦 ") == 1
    # '……' is listed as one two-character item, so it never matches and stays.
    assert cmrc_em(["红楼梦……"], "红楼梦") == 0


def test_cmrc_dropped_punctuation_does_not_split_runs(punkt):
    assert cmrc_segment("a-b", rm_punc=True) == ["ab"]
    assert cmrc_segment("a-b") == ["a", "-", "b"]
    assert cmrc_segment("iPhone手机，don't stop", rm_punc=True) == [
        "iphone", "手", "机", "do", "n't", "stop"
    ]


def test_cmrc_scores_round_and_count_skips():
    examples = [("q1", ["北京大学"]), ("q2", ["红楼梦"]), ("q3", ["长江"])]
    got = cmrc_scores(examples, {"q1": "在北京大学", "q2": "红楼梦"})
    f1 = 100 * (2 * 0.8 / 1.8 + 1) / 3
    em = 100 / 3
    assert got == {
        "AVERAGE": float("%.3f" % ((f1 + em) / 2)),
        "F1": float("%.3f" % f1),
        "EM": float("%.3f" % em),
        "TOTAL": 3,
        "SKIP": 1,
    }


def test_cmrc_without_punkt_asks_for_nltk_data(monkeypatch, tmp_path):
    import nltk

    monkeypatch.setattr(nltk.data, "path", [])
    monkeypatch.setenv("NLTK_DATA", str(tmp_path))
    cmrc._require_punkt.cache_clear()
    cmrc._word_tokenize.cache_clear()
    try:
        with pytest.raises(LookupError, match="NLTK_DATA"):
            cmrc_segment("english words")
        # All-CJK text needs no nltk data.
        assert cmrc_segment("北京") == ["北", "京"]
    finally:
        cmrc._require_punkt.cache_clear()


# --- XOR-TyDi full ----------------------------------------------------------------


def test_xor_normalize_deletes_counters():
    assert xor_normalize("1990年, The 人") == "1990 the"


def test_xor_full_scores_quirks():
    examples = [
        ("1", ["東京都"], "ja"),
        ("2", ["12"], "fi"),
        ("3", ["Helsinki"], "fi"),
        {"id": "4", "answers": ["Москва"], "lang": "ru"},
    ]
    got = xor_full_scores(examples, {"1": "東京都", "2": "12", "3": "Helsinki"})
    assert list(got) == ["fi", "ja", "ru", "avg"]
    assert got["fi"]["em"] == got["ja"]["em"] == 100.0
    assert got["ru"] == {"f1": 0.0, "em": 0.0, "bleu": 0.0}  # missing prediction
    # BLEU on raw characters without smoothing: answers under 4 characters get ~0, and
    # Japanese references are MeCab output ("東京 都 \n") while the hypothesis is raw.
    assert got["fi"]["bleu"] == pytest.approx(50.0)
    assert got["ja"]["bleu"] < 1e-100
    # "avg" divides by 7 whatever the number of languages present.
    assert got["avg"]["f1"] == pytest.approx(200 / 7)


def test_xor_japanese_lone_surrogate_is_a_clear_error(tmp_path, capsys):
    from rayqa.cli import main

    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps({"id": "7", "answers": ["東京都"], "lang": "ja"}) + "\n")
    preds = tmp_path / "preds.json"
    preds.write_text(json.dumps({"dev_7": "東京\ud800"}))  # JSON text "東京\\ud800"
    with pytest.raises(ValueError, match=r"question '7' \(ja\): the prediction .*lone surrogate"):
        evaluate_files("xor-full", gold, preds)
    # The command prints that one line and exits 2: no MeCab (SWIG) traceback.
    assert main(["evaluate", "--benchmark", "xor-full", str(gold), str(preds)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rayqa evaluate: error: question '7'") and "Traceback" not in err


def test_xor_full_files_strip_id_prefixes(tmp_path):
    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps({"id": "42", "answers": ["Helsinki"], "lang": "fi"}) + "\n\n")
    preds = tmp_path / "preds.json"
    preds.write_text(json.dumps({"dev_42": "helsinki"}))
    got = evaluate_files("xor-full", gold, preds)
    assert got["fi"]["em"] == 100.0


# --- files and bad input ----------------------------------------------------------


def _squad_file(path, answers=("Paris",), qid="q1"):
    qas = [{"id": qid, "question": "?", "answers": [{"text": a, "answer_start": 0} for a in answers]}]
    path.write_text(json.dumps({"version": "1.1", "data": [{"paragraphs": [{"context": "", "qas": qas}]}]}))
    return path


@pytest.mark.parametrize("benchmark", ["squad", "mlqa", "cmrc", "drcd"])
def test_evaluate_files_squad_format(tmp_path, benchmark):
    # A Chinese answer, so that CMRC scoring needs no nltk data here.
    gold = _squad_file(tmp_path / "xquad.zh.json", answers=["巴黎"])
    preds = tmp_path / "p.json"
    preds.write_text(json.dumps({"q1": "巴黎"}))
    got = evaluate_files(benchmark, gold, preds)
    assert got.get("exact_match", got.get("EM")) == 100.0


def _cmrc_original_file(path, answers, qid="DEV_0_QUERY_0"):
    qas = [{"query_id": qid, "query_text": "?", "answers": list(answers)}]
    path.write_text(json.dumps([{"context_id": "DEV_0", "context_text": "", "qas": qas,
                                 "title": ""}], ensure_ascii=False))
    return path


def test_cmrc_original_format_scores_as_squad_style(tmp_path):
    # As in cmrc2018_dev.json: a JSON number among the answers, scored as its str().
    answers = ["北京大学", 4.9]
    original = _cmrc_original_file(tmp_path / "original.json", answers)
    squad_style = _squad_file(tmp_path / "squad.json", answers=["北京大学", "4.9"],
                              qid="DEV_0_QUERY_0")
    for prediction, em in (("在北京大学", 0.0), ("4.9", 100.0)):
        preds = tmp_path / "p.json"
        preds.write_text(json.dumps({"DEV_0_QUERY_0": prediction}, ensure_ascii=False))
        got = evaluate_files("cmrc", original, preds)
        assert got == evaluate_files("cmrc", squad_style, preds)
        assert got["EM"] == em and got["TOTAL"] == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[{"qas": [{"query_text": "?", "answers": ["a"]}]}]', r"\[0\]\.qas\[0\]: .*'query_id'"),
        ('[{"qas": [{"query_id": "q", "answers": []}]}]', r"\[0\]\.qas\[0\]: .*no gold answers"),
        ('[{"qas": []}, {"title": "x"}]', r"\[1\] has no 'qas' list"),
    ],
)
def test_bad_cmrc_original_file_names_file_and_place(tmp_path, text, message):
    gold, preds = tmp_path / "cmrc2018_dev.json", tmp_path / "p.json"
    gold.write_text(text)
    preds.write_text("{}")
    with pytest.raises(ValueError, match=message) as err:
        evaluate_files("cmrc", gold, preds)
    assert gold.name in str(err.value)


@pytest.mark.parametrize("benchmark", ["cmrc", "drcd"])
def test_cmrc_numeric_prediction_is_scored_as_its_string(tmp_path, benchmark):
    gold = _squad_file(tmp_path / "gold.json", answers=["1874", "4.9"])
    preds = tmp_path / "p.json"
    # What counts is str() of the parsed number: 4.90 is the float 4.9, scored as "4.9";
    # 1874.0 is scored as "1874.0", which is not "1874".
    for number, em in (("1874", 100.0), ("4.90", 100.0), ("1874.0", 0.0)):
        preds.write_text('{"q1": %s}' % number)
        assert evaluate_files(benchmark, gold, preds)["EM"] == em


@pytest.mark.parametrize("benchmark", ["squad", "mlqa", "xor-full"])
def test_numeric_prediction_is_an_error_outside_cmrc(tmp_path, benchmark):
    if benchmark == "xor-full":
        gold = tmp_path / "gold.jsonl"
        gold.write_text(json.dumps({"id": "q1", "answers": ["1874"], "lang": "fi"}) + "\n")
    else:
        gold = _squad_file(tmp_path / "xquad.en.json", answers=["1874"])
    preds = tmp_path / "p.json"
    preds.write_text('{"q1": 1874}')
    with pytest.raises(ValueError, match=r"p\.json: answers must be strings \(numbers only "
                                         r"for cmrc / drcd\); 1 are not \(first: 'q1': 1874\)"):
        evaluate_files(benchmark, gold, preds)


def test_infer_mlqa_language():
    assert infer_mlqa_language("data/xquad.de.json") == "de"
    assert infer_mlqa_language("dev-context-ar-question-en.json") == "ar"
    with pytest.raises(ValueError, match="pass lang"):
        infer_mlqa_language("gold.json")


def test_evaluate_files_rejects_unknown_benchmark(tmp_path):
    with pytest.raises(ValueError, match="unknown benchmark 'nq'"):
        evaluate_files("nq", tmp_path / "g.json", tmp_path / "p.json")


@pytest.mark.parametrize(
    ("gold_text", "pred_text", "bad", "message"),
    [
        (None, '{"q1": "Paris"}', "gold", "no such file"),
        ('{"data": [', '{"q1": "Paris"}', "gold", "malformed JSON"),
        ('[1, 2]', '{"q1": "Paris"}', "gold", "not SQuAD format"),
        ('{"data": [{"paragraphs": [{"qas": [{"id": "q1"}]}]}]}', "{}", "gold", "has no 'answers'"),
        ('{"data": [{"title": "x"}]}', "{}", "gold", r"data\[0\] has no 'paragraphs'"),
        ("squad", '["Paris"]', "pred", "must be a JSON object"),
        ("squad", '{"q1": null}', "pred", "answers must be strings"),
        ("squad", '{"q1": ["Paris"]}', "pred", "answers must be strings"),
        ("squad", "{oops", "pred", "malformed JSON"),
    ],
)
def test_bad_files_raise_value_error_naming_the_file(tmp_path, gold_text, pred_text, bad, message):
    gold, preds = tmp_path / "gold.json", tmp_path / "preds.json"
    if gold_text == "squad":
        _squad_file(gold)
    elif gold_text is not None:
        gold.write_text(gold_text)
    preds.write_text(pred_text)
    with pytest.raises(ValueError, match=message) as err:
        evaluate_files("squad", gold, preds)
    assert (gold if bad == "gold" else preds).name in str(err.value)


def test_bad_xor_line_names_file_and_line(tmp_path):
    gold = tmp_path / "gold.jsonl"
    gold.write_text('{"id": "1", "answers": ["a"], "lang": "fi"}\n{"id": "2", "answers": ["b"]}\n')
    preds = tmp_path / "p.json"
    preds.write_text("{}")
    with pytest.raises(ValueError, match=r"gold.jsonl:2: record has no 'lang'"):
        evaluate_files("xor-full", gold, preds)


def test_import_stays_light():
    code = "import sys, rayqa.eval; print(sorted({'nltk', 'MeCab', 'torch', 'ray'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_no_gold_examples_is_an_error():
    with pytest.raises(ValueError, match="no gold examples"):
        squad_scores([], {})
