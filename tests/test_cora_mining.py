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
    selection_split,
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


EN_CTXS = [{"id": f"en:x_{i}", "title": "X", "text": f"English {i}.", "lang": "en"}
           for i in range(4)]
MIXED_CTXS = [{"id": "de:x_0", "title": "X", "text": "Deutsch.", "lang": "de"}, EN_CTXS[0],
              {"id": "es:x_0", "title": "X", "text": "Español.", "lang": "es"}, *EN_CTXS[1:]]


def test_synthetic_rows_tag_english_questions_over_english_passages():
    translator = AnswerTranslator(QUESTIONS, "xquad_id")
    retrieved = {q["id"]: MIXED_CTXS for q in QUESTIONS}
    rows = synthetic_rows(QUESTIONS, retrieved, translator, None, max_langs=5, passages=2)
    assert [(r["id"], r["lang"], r["answers"]) for r in rows] == [
        ("q1_en@de", "de", ["Paris"]), ("q1_en@es", "es", ["París"])]
    # P^En: the first English passages of the retrieval, non-English ones skipped.
    assert all(r["question"] == QUESTIONS[0]["question"] and r["ctxs"] == EN_CTXS[:2]
               for r in rows)
    # An English question without English passages gives no line (nor do non-English
    # questions, whatever they retrieved).
    no_english = {"q1_en": [c for c in MIXED_CTXS if c["lang"] != "en"]}
    assert synthetic_rows(QUESTIONS, no_english, translator, None, max_langs=5) == []
    assert [r["lang"] for r in synthetic_rows(QUESTIONS, retrieved, translator, ["es"], 5)] \
        == ["es"]


def test_synthetic_languages_default_to_the_paper_list():
    """Appendix A.2: 15 target languages; null in the config keeps every language."""
    config = Path(__file__).resolve().parents[1] / "configs" / "cora.yaml"
    paper = ["ar", "fi", "ja", "ko", "ru", "es", "sv", "he", "th", "da", "fr", "it", "nl",
             "pl", "pt"]
    loaded = load_config(CORAJobConfig, config).mining
    assert CORAMiningConfig().synthetic_langs == loaded.synthetic_langs == paper
    assert (loaded.synthetic_max_langs, loaded.synthetic_fraction) == (10, 0.5)
    assert loaded.synthetic_from_epoch == 3
    # XQuAD's de is not in the paper's list, es is.
    translator = AnswerTranslator(QUESTIONS, "xquad_id")
    rows = synthetic_rows(QUESTIONS, {"q1_en": EN_CTXS}, translator, loaded.synthetic_langs, 10)
    assert [r["lang"] for r in rows] == ["es"]


def _many_languages(n_questions: int, langs: list[str]) -> tuple[list[dict], AnswerTranslator]:
    questions = []
    for i in range(n_questions):
        questions += [{"id": f"q{i}_{lang}", "question": f"Question {i} ({lang})?", "lang": lang,
                       "answers": [f"answer {i} {lang}"], "xquad_id": f"q{i}"}
                      for lang in ["en", *langs]]
    return questions, AnswerTranslator(questions, "xquad_id")


def test_synthetic_rows_cap_languages_and_subsample_half_seeded():
    langs = ["ar", "fi", "ja", "ko", "ru", "es", "sv", "he", "th", "da", "fr", "it", "nl",
             "pl", "pt", "de"]
    questions, translator = _many_languages(40, langs)
    retrieved = {q["id"]: EN_CTXS for q in questions}
    paper = langs[:15]
    full = synthetic_rows(questions, retrieved, translator, paper, max_langs=10, seed=3)
    per_question: dict[str, list[str]] = {}
    for row in full:
        per_question.setdefault(row["id"].split("@")[0], []).append(row["lang"])
    # Every English question: exactly 10 of its 15 paper languages (de never).
    assert len(per_question) == 40
    assert all(len(v) == 10 and set(v) <= set(paper) for v in per_question.values())
    assert len({tuple(v) for v in per_question.values()}) > 1  # sampled, not the first 10
    half = synthetic_rows(questions, retrieved, translator, paper, max_langs=10,
                          fraction=0.5, seed=3)
    assert len(half) == 200  # 50% of 40 x 10
    ids = [r["id"] for r in half]
    assert len(set(ids)) == 200 and set(ids) <= {r["id"] for r in full}
    assert ids == [r["id"] for r in full if r["id"] in set(ids)]  # order kept
    again = synthetic_rows(questions, retrieved, translator, paper, 10, fraction=0.5, seed=3)
    other = synthetic_rows(questions, retrieved, translator, paper, 10, fraction=0.5, seed=4)
    assert [r["id"] for r in again] == ids and [r["id"] for r in other] != ids
    # Rounded half up: 7 lines at 50% keep 4.
    seven, seven_tr = _many_languages(7, ["es"])
    kept = synthetic_rows(seven, {q["id"]: EN_CTXS for q in seven}, seven_tr, None, 10,
                          fraction=0.5)
    assert len(kept) == 4


def test_selection_split_holds_out_whole_parallel_groups_the_same_every_time():
    questions, _ = _many_languages(40, ["de", "es"])
    trained, held = selection_split(questions, 0.05, seed=0, parallel_key="xquad_id")
    groups = {q["xquad_id"] for q in held}
    assert len(groups) == 2 and len(held) == 6  # 5% of 40 groups, every language of each
    assert not groups & {q["xquad_id"] for q in trained}
    assert len(trained) + len(held) == len(questions)
    assert selection_split(questions, 0.05, 0, "xquad_id") == (trained, held)
    assert selection_split(questions, 0.05, 1, "xquad_id")[1] != held
    # Without a parallel key, by id; at least one question once a fraction is set.
    by_id = selection_split(questions[:3], 0.05, 0, None)
    assert (len(by_id[0]), len(by_id[1])) == (2, 1)
    assert selection_split(questions, 0.0, 0, "xquad_id") == (questions, [])
    # A file of selection questions: their groups leave training.
    given = [{"id": "s1", "question": "?", "lang": "en", "answers": ["a"], "xquad_id": "q3"}]
    trained, held = selection_split(questions, 0.05, 0, "xquad_id", given)
    assert held == given and len(trained) == len(questions) - 3
    assert all(q["xquad_id"] != "q3" for q in trained)
