"""Cloze questions made from the demo corpus's answers (rayqa.augment.cloze); no Ray."""

import json

from rayqa.augment.cloze import add_cloze_questions, answer_sentence, cloze_questions
from rayqa.demo import demo_file

CONTEXT = ("Brenna Lighthouse stands on a rocky cape north of Sollby. It was built in 1874 "
           "and is 32 metres tall. Today the tower is a small museum.")


def test_sentence_and_near_words_ask_for_the_answer():
    start = CONTEXT.index("1874")
    assert answer_sentence(CONTEXT, start, start + 4) == ("It was built in ", " and is 32 metres tall.")
    assert cloze_questions(CONTEXT, start, start + 4, words=2) == [
        "It was built in ? and is 32 metres tall.", "built in ? and is"]


def test_script_without_spaces_counts_characters():
    context = "灯塔建于1874年，高32米。塔身漆成红白相间的条纹。"
    start = context.index("32米")
    assert cloze_questions(context, start, start + 3, words=1) == ["灯塔建于1874年，高?。", "，高?。"]


def test_answer_that_is_its_sentence_makes_no_empty_question():
    assert cloze_questions("Sollby. Yes.", 0, 6) == ["?."]
    assert cloze_questions("Sollby", 0, 6) == []


def test_demo_train_file_gets_two_cloze_questions_per_answer_at_most():
    squad = json.loads(open(demo_file("train.json"), encoding="utf-8").read())
    before = [qa for a in squad["data"] for p in a["paragraphs"] for qa in p["qas"]]
    out = add_cloze_questions(squad)
    assert [qa for a in squad["data"] for p in a["paragraphs"] for qa in p["qas"]] == before
    for article in out["data"]:
        for paragraph in article["paragraphs"]:
            context, qas = paragraph["context"], paragraph["qas"]
            originals = {qa["id"]: qa for qa in qas if "-cloze" not in qa["id"]}
            for qa in qas:
                source = originals[qa["id"].split("-cloze")[0]]
                assert qa["answers"] == source["answers"] and qa["lang"] == source["lang"]
                if qa is not source:  # the answer's own words stand around the mark
                    assert "?" in qa["question"] and source["answers"][0]["text"] not in \
                        qa["question"]
                    before_mark = qa["question"].split("?")[0]
                    assert before_mark.strip() in context
    added = sum(len(p["qas"]) for a in out["data"] for p in a["paragraphs"]) - len(before)
    assert len(before) < added <= 2 * len(before)
