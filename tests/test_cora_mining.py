"""CORA mining without Ray: candidates, mGEN labels, mDPR lines and synthetic mGEN data."""

from pathlib import Path

from rayqa.config import load_config
from rayqa.config.cora import CORAJobConfig, CORAMiningConfig
from rayqa.corpus.language_links import LanguageLinks
from rayqa.data.passages import Passage
from rayqa.mining.cora import (
    LANGUAGE_LINK,
    RETRIEVED,
    AnswerTranslator,
    PassageTable,
    answer_matches,
    dpr_rows,
    label_candidates,
    mining_candidates,
    synthetic_rows,
)

PASSAGES = [
    Passage("en:a_0", "Paris is the capital of France.", "en", "Paris", "E1"),
    Passage("de:a_0", "Paris ist die Hauptstadt Frankreichs.", "de", "Paris", "E1"),
    Passage("de:a_1", "Die Stadt hat viele Museen.", "de", "Paris", "E1"),
    Passage("es:a_0", "París es la capital de Francia.", "es", "París", "E1"),
    Passage("en:b_0", "Berlin is in Germany.", "en", "Berlin", "E2"),
]
QUESTIONS = [
    {"id": "q1_en", "question": "What is the capital of France?", "lang": "en",
     "answers": ["Paris"], "xquad_id": "q1", "gold_passage_ids": {"en": ["en:a_0"]}},
    {"id": "q1_es", "question": "¿Cuál es la capital de Francia?", "lang": "es",
     "answers": ["París"], "xquad_id": "q1", "gold_passage_ids": {"es": ["es:a_0"]}},
    {"id": "q1_de", "question": "Was ist die Hauptstadt?", "lang": "de",
     "answers": ["Paris"], "xquad_id": "q1", "gold_passage_ids": {"de": ["de:a_0"]}},
]


def test_translator_uses_parallel_questions_then_links():
    translator = AnswerTranslator(QUESTIONS, "xquad_id")
    assert translator.translations(QUESTIONS[0]) == {"en": ["Paris"], "es": ["París"],
                                                     "de": ["Paris"]}
    links = LanguageLinks()
    links.add("Q90", "en", title="Berlin")
    links.add("Q90", "ja", title="ベルリン")
    by_links = AnswerTranslator([], None, links)
    question = {"id": "x", "question": "Capital of Germany?", "lang": "en", "answers": ["Berlin"]}
    assert by_links.translations(question) == {"en": ["Berlin"], "ja": ["ベルリン"]}


def test_candidates_are_retrieved_plus_linked_passages_for_english_only():
    table = PassageTable(PASSAGES)
    translator = AnswerTranslator(QUESTIONS, "xquad_id")
    retrieved = {"q1_en": [PASSAGES[4].to_dict(), PASSAGES[1].to_dict()],
                 "q1_es": [PASSAGES[3].to_dict()]}
    got = mining_candidates(QUESTIONS, retrieved, table, translator, retrieved_candidates=2,
                            language_links=True, max_link_candidates=10)
    english = [c for c in got if c.question_id == "q1_en"]
    assert [(c.source, c.passage["id"]) for c in english] == [
        (RETRIEVED, "en:b_0"), (RETRIEVED, "de:a_0"),
        # linked: de:a_0 was retrieved already; languages interleave (de, es, then de).
        (LANGUAGE_LINK, "es:a_0"), (LANGUAGE_LINK, "de:a_1")]
    # A linked candidate asks for the answer in its own language (translated).
    assert [(c.lang, c.answers) for c in english[2:]] == [("es", ["París"]), ("de", ["Paris"])]
    # Non-English questions get no linked candidates.
    assert [c.source for c in got if c.question_id != "q1_en"] == [RETRIEVED]
    capped = mining_candidates(QUESTIONS[:1], {}, table, translator, retrieved_candidates=0,
                               language_links=True, max_link_candidates=2)
    assert [c.passage["id"] for c in capped] == ["de:a_0", "es:a_0"]


def test_all_linked_passages_are_candidates_by_default():
    """Paper §2.2.2: all passages of the linked articles; a cap is only an option."""
    config = Path(__file__).resolve().parents[1] / "configs" / "cora.yaml"
    assert CORAMiningConfig().max_link_candidates is None
    assert load_config(CORAJobConfig, config).mining.max_link_candidates is None
    english = Passage("en:c_0", "Cologne is on the Rhine.", "en", "Cologne", "E3")
    linked = [Passage(f"{lang}:c_{i}", f"Absatz {i}.", lang, "Köln", "E3")
              for lang in ("de", "nl") for i in range(15)]
    question = {"id": "q", "question": "Which city?", "lang": "en", "answers": ["Cologne"],
                "gold_passage_ids": {"en": ["en:c_0"]}}
    got = mining_candidates([question], {}, PassageTable([english, *linked]),
                            AnswerTranslator([question]), retrieved_candidates=0,
                            language_links=True)
    assert sorted(c.passage["id"] for c in got) == sorted(p.id for p in linked)


def test_labels_follow_mgen_predictions_with_normalization():
    table = PassageTable(PASSAGES)
    translator = AnswerTranslator(QUESTIONS, "xquad_id")
    candidates = mining_candidates(QUESTIONS[:1], {}, table, translator, retrieved_candidates=0,
                                   language_links=True, max_link_candidates=3)
    labeled = label_candidates(candidates, ["  paris. ", "Madrid", ""])
    assert [c.positive for c in labeled] == [True, False, False]
    assert labeled[0].prediction == "  paris. "
    assert answer_matches("The Paris", ["Paris"], "en") and not answer_matches("", ["Paris"], "en")


def test_dpr_rows_add_mined_positives_as_lines_and_negatives_everywhere():
    table = PassageTable(PASSAGES)
    labels = [{"question_id": "q1_en", "positive": True, "passage": PASSAGES[1].to_dict()},
              {"question_id": "q1_en", "positive": False, "passage": PASSAGES[2].to_dict()},
              {"question_id": "q1_en", "positive": True, "passage": PASSAGES[1].to_dict()}]
    questions = QUESTIONS + [{"id": "nogold", "question": "?", "lang": "en", "answers": ["x"]}]
    rows, missing = dpr_rows(questions, table, labels)
    assert missing == 1
    english = [r for r in rows if r["question"] == QUESTIONS[0]["question"]]
    assert [r["id"] for r in english] == ["q1_en", "q1_en#mined1"]
    assert [r["positive_ctxs"][0]["id"] for r in english] == ["en:a_0", "de:a_0"]
    assert all([c["id"] for c in r["hard_negative_ctxs"]] == ["de:a_1"] for r in english)
    assert len(rows) == 4 and all(r["hard_negative_ctxs"] == [] for r in rows[2:])


def test_dpr_rows_take_gold_passages_in_english_or_the_question_language():
    """Algorithm 1 line 1: XOR-TyDi questions have English gold passages only."""
    table = PassageTable(PASSAGES)
    xor = {"id": "xor_de", "question": "Hauptstadt?", "lang": "de", "answers": ["Paris"],
           "gold_passage_ids": {"en": ["en:a_0"]}}
    rows, missing = dpr_rows([xor], table, [])
    assert missing == 0
    assert [(r["id"], r["positive_ctxs"][0]["id"]) for r in rows] == [("xor_de", "en:a_0")]
    # Several gold passages: one line each, the question's language first; a mined
    # positive that is a gold passage adds no line.
    both = {**xor, "id": "both", "gold_passage_ids": {"en": ["en:a_0"], "de": ["de:a_0"]}}
    labels = [{"question_id": "both", "positive": True, "passage": PASSAGES[0].to_dict()},
              {"question_id": "both", "positive": True, "passage": PASSAGES[3].to_dict()}]
    rows, _ = dpr_rows([both], table, labels)
    assert [(r["id"], r["positive_ctxs"][0]["id"]) for r in rows] == [
        ("both", "de:a_0"), ("both#gold1", "en:a_0"), ("both#mined2", "es:a_0")]
    # A gold passage in a third language (XQuAD lists all) is not an initial positive.
    third = {**xor, "id": "third", "gold_passage_ids": {"es": ["es:a_0"], "en": ["en:a_0"]}}
    rows, _ = dpr_rows([third], table, [])
    assert [r["positive_ctxs"][0]["id"] for r in rows] == ["en:a_0"]


def test_synthetic_rows_tag_english_questions_with_translated_answers():
    translator = AnswerTranslator(QUESTIONS, "xquad_id")
    ctxs = [PASSAGES[0].to_dict()]
    rows = synthetic_rows(QUESTIONS, {"q1_en": ctxs}, translator, None, max_langs=5)
    assert [(r["id"], r["lang"], r["answers"]) for r in rows] == [
        ("q1_en@de", "de", ["Paris"]), ("q1_en@es", "es", ["París"])]
    assert all(r["question"] == QUESTIONS[0]["question"] and r["ctxs"] == ctxs for r in rows)
    assert len(synthetic_rows(QUESTIONS, {}, translator, None, max_langs=1)) == 1
    assert [r["lang"] for r in synthetic_rows(QUESTIONS, {}, translator, ["es"], 5)] == ["es"]
