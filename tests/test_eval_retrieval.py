"""Retrieval recall (R^L@k, R^multi@k, R^L_samelang@k, average rank), language breakdowns,
heatmaps and
result tables (written to a local directory and to S3)."""

import csv
import io
import struct

import numpy as np
import pytest

from rayqa import storage
from rayqa.data.openqa import OpenQAExample
from rayqa.data.passages import Passage
from rayqa.eval import answer_in_text, multilingual_answers, retrieval_recall
from rayqa.eval.report import language_breakdown, plot_language_breakdown, results_table
from rayqa.eval.retrieval import question_hits


def passage(lang, text):
    return {"id": f"{lang}-{text[:8]}", "text": text, "lang": lang}


QUESTIONS = [
    {"lang": "en", "answers": ["Paris"]},
    {"lang": "ja", "answers": {"ja": ["東京"], "en": ["Tokyo"]}},
    {"lang": "zh_cn", "answers": {"zh_cn": ["北京"], "zh_tw": ["北京市"], "en": ["Beijing"]}},
    {"lang": "en", "answers": ["Berlin"]},
]
RETRIEVED = [
    # A German passage counts for R^L (CORA: passages in any language), not R^L_samelang.
    [passage("de", "Paris ist die Hauptstadt."), passage("en", "The capital is Paris.")],
    [passage("en", "Tokyo is big."), passage("zh", "上海很大。"),
     passage("ja", "首都は東京です。")],
    [passage("zh", "北 京 是中国的首都")],  # spaces do not matter in Chinese
    [passage("en", "The Berliner Mauer.")],  # not the whole word "Berlin"
]


@pytest.mark.parametrize("answer, text, lang, found", [
    ("Paris", "in paris, france", "en", True),
    ("Paris", "Parisian cafes", "en", False),
    ("2017", "公開は２０１７年", "ja", True),  # NFKC: full-width digits
    ("U.S. Army", "the u s army", "en", True),
    ("ครับ", "สวัสดีครับ", "th", True),
    ("...", "anything ...", "en", False),  # an answer that normalizes to nothing
])
def test_answer_in_text(answer, text, lang, found):
    assert answer_in_text([answer], text, lang) is found


@pytest.mark.parametrize("answer, answer_lang, text, lang, found", [
    ("Paris", "pt", "Paris ist die Hauptstadt", "de", True),
    ("Paris", "pt", "Pariser Museen", "de", False),  # both spaced: whole words
    ("東京", "ja", "Tokyo (東京都) is big", "en", True),  # Japanese marks no word bounds
    ("Tokyo", "en", "首都はTokyoです", "ja", True),  # nor does Japanese text
])
def test_answer_in_text_of_another_language(answer, answer_lang, text, lang, found):
    assert answer_in_text([answer], text, lang, answer_lang=answer_lang) is found


def test_first_hits_per_question():
    hits = [question_hits(q, r, i) for i, (q, r) in enumerate(zip(QUESTIONS, RETRIEVED))]
    assert [(h.rank_l, h.rank_multi, h.rank_l_samelang) for h in hits] == [
        (1, 1, 2), (3, 1, 3), (1, 1, 1), (None, None, None)]


def test_recall_per_language_and_mean():
    got = retrieval_recall(QUESTIONS, RETRIEVED, ks=(1, 5))
    assert list(got) == ["en", "ja", "zh_cn", "avg"]
    assert got["en"] == {"R^L@1": 50.0, "R^L@5": 50.0, "R^multi@1": 50.0, "R^multi@5": 50.0,
                         "R^L_samelang@1": 0.0, "R^L_samelang@5": 50.0,
                         "avg_rank^L": 1.5, "avg_rank^multi": 1.5, "avg_rank^L_samelang": 2.0,
                         "questions": 2}
    assert got["ja"]["R^L@1"] == 0.0 and got["ja"]["R^multi@1"] == 100.0
    assert got["ja"]["avg_rank^L"] == 3.0 and got["ja"]["avg_rank^multi"] == 1.0
    assert got["zh_cn"]["R^L@1"] == 100.0 and got["zh_cn"]["R^L_samelang@1"] == 100.0
    assert got["avg"]["R^L@5"] == pytest.approx(250 / 3)
    assert got["avg"]["R^multi@1"] == pytest.approx(250 / 3)
    assert got["avg"]["R^L_samelang@1"] == pytest.approx(100 / 3)
    assert got["avg"]["questions"] == 4


def test_answer_found_only_in_another_language_counts_for_r_l():
    """CORA §4.2: R^L@k counts a top-k passage in any language that contains an answer
    in the question's language (Portuguese has no passages, yet the paper reports R^L)."""
    questions = [{"lang": "pt", "answers": ["Pedro Álvares Cabral"]},
                 {"lang": "ja", "answers": {"ja": ["東京"], "en": ["Tokyo"]}}]
    retrieved = [[passage("es", "Llegó Pedro Álvares Cabral."),
                  passage("en", "Pedro Álvares Cabral reached Brazil in 1500.")],
                 [passage("zh", "東京是日本的首都。")]]
    got = retrieval_recall(questions, retrieved, ks=(1,))
    assert got["pt"]["R^L@1"] == 100.0 and got["pt"]["R^multi@1"] == 100.0
    assert got["ja"]["R^L@1"] == 100.0  # a Chinese passage with the Japanese answer
    assert got["pt"]["R^L_samelang@1"] == 0.0 and got["ja"]["R^L_samelang@1"] == 0.0


def test_works_on_openqa_examples_and_passages():
    examples = [OpenQAExample("7", "東京は?", "ja", ["東京"]),
                OpenQAExample("7", "Tokyo?", "en", ["Tokyo"])]
    questions = multilingual_answers(examples)
    assert questions[0]["answers"] == {"ja": ["東京"], "en": ["Tokyo"]}
    retrieved = [[Passage("p1", "Tokyo is big", "en")]] * 2
    got = retrieval_recall(questions, retrieved, ks=(1,))
    assert got["ja"]["R^L@1"] == 0.0 and got["ja"]["R^multi@1"] == 100.0
    assert got["en"]["R^L@1"] == 100.0


def test_bad_inputs_are_errors():
    with pytest.raises(ValueError, match="2 questions but 1 retrieved"):
        retrieval_recall(QUESTIONS[:2], RETRIEVED[:1])
    with pytest.raises(ValueError, match="question 0 has no 'answers'"):
        retrieval_recall([{"lang": "en"}], [[]])
    with pytest.raises(ValueError, match="passage 1 has no 'lang'"):
        retrieval_recall([{"lang": "en", "answers": ["a"]}], [[{"text": "a"}]])
    with pytest.raises(ValueError, match="answers must be a list"):
        retrieval_recall([{"lang": "en", "answers": "Paris"}], [[]])


def test_language_breakdown_rows_sum_to_one():
    breakdown = language_breakdown(QUESTIONS, RETRIEVED, k=2)
    assert breakdown.question_langs == ("en", "ja", "zh_cn")
    assert breakdown.passage_langs == ("en", "ja", "zh_cn", "de", "zh")
    assert breakdown.counts.tolist() == [[2, 0, 0, 1, 0], [1, 0, 0, 0, 1], [0, 0, 0, 0, 1]]
    np.testing.assert_allclose(breakdown.fractions().sum(axis=1), 1.0)
    assert breakdown.to_dict()["en"]["de"] == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match=r"\(en, de\) is outside"):
        language_breakdown(QUESTIONS, RETRIEVED, passage_langs=["en", "ja", "zh"])


@pytest.fixture(params=["local", "s3"])
def out_dir(request, tmp_path) -> str:
    """Where a test writes: a local directory, or a fresh prefix on the moto S3 server."""
    if request.param == "s3":
        return request.getfixturevalue("s3_dir")
    return str(tmp_path / "out")


def test_heatmap_is_a_png(out_dir):
    breakdown = language_breakdown(QUESTIONS, RETRIEVED)
    path = plot_language_breakdown(breakdown, storage.join(out_dir, "plots", "langs.png"),
                                   title="test", dpi=50)
    assert path == storage.join(out_dir, "plots", "langs.png")
    assert storage.list_files(out_dir) == ["plots/langs.png"]  # no temporary file left
    data = storage.read_bytes(path)
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    # figsize grows with the languages: 5 passage langs x 3 question langs at 50 dpi
    assert (width, height) == (int(50 * (1 + 0.6 * 3)), int(50 * (1 + 0.45 * 5)))


def test_results_table_markdown_and_csv(out_dir):
    runs = {
        "CORA": {"en": {"f1": 40.6, "em": 30.0}, "ar": {"f1": 12.8}, "avg": {"f1": 1.0}},
        "BM25": {"en": {"f1": 19.4}},  # no Arabic: "-" and no average, as in the paper
    }
    table = results_table(runs, metric="f1")
    assert table.columns == ("en", "ar")
    assert table.to_markdown().splitlines() == [
        "| run | en | ar | avg |", "| --- | ---: | ---: | ---: |",
        "| CORA | 40.6 | 12.8 | 26.7 |", "| BM25 | 19.4 | - | - |"]
    md_path, csv_path = table.write(out_dir, name="mkqa_f1")
    assert (md_path, csv_path) == (storage.join(out_dir, "mkqa_f1.md"),
                                   storage.join(out_dir, "mkqa_f1.csv"))
    assert storage.list_files(out_dir) == ["mkqa_f1.csv", "mkqa_f1.md"]
    assert storage.read_text(md_path) == table.to_markdown()
    rows = list(csv.reader(io.StringIO(storage.read_text(csv_path))))
    assert rows[0] == ["run", "en", "ar", "avg"]
    assert rows[1][:3] == ["CORA", "40.6", "12.8"] and float(rows[1][3]) == pytest.approx(26.7)
    assert rows[2] == ["BM25", "19.4", "", ""]  # CSV keeps full precision, empty if missing
    with pytest.raises(ValueError, match="pass a metric"):
        results_table(runs)


def test_results_table_from_retrieval_recall():
    recall = retrieval_recall(QUESTIONS, RETRIEVED, ks=(5,))
    table = results_table({"mDPR": recall}, metric="R^L@5", langs=["ja", "en"])
    assert table.to_markdown(digits=0).splitlines()[-1] == "| mDPR | 100 | 50 | 75 |"
