"""Sentence-order copies (rayqa.augment.sentence_order) and the sentence cuts under them."""

import random

import torch

from rayqa.augment.sentence_order import sentence_order_copies, shuffle_sentences
from rayqa.data.sentences import sentence_spans, split_sentences
from rayqa.data.squad import QAExample, read_squad, write_squad
from rayqa.train.loop import stack_trimmed_windows

EN = QAExample(id="q1", question="Who was the last keeper?", lang="en", title="Brenna",
               context="It was built in 1874. The last keeper, Tomas Aldring, left in 1969. "
                       "Today it is a museum. It opens in May.",
               answers=[{"text": "Tomas Aldring", "answer_start": 39}])
ZH = QAExample(id="q2", question="哪一年通车？", lang="zh",
               context="银谷铁路从凯尔米村出发。这条线路于1898年通车。单程需要45分钟。",
               answers=[{"text": "1898年", "answer_start": 17}])


def test_sentences_end_at_the_danda_and_the_arabic_question_mark():
    assert split_sentences("मधुमक्खियाँ शहद बनाती हैं। रानी अंडे देती है।") == [
        "मधुमक्खियाँ शहद बनाती हैं।", "रानी अंडे देती है।"]
    assert split_sentences("ما هذا؟ إنه سوق.") == ["ما هذا؟", "إنه سوق."]
    text = "  Is it 3.5 m? Yes.  "
    assert [text[s:e] for s, e in sentence_spans(text)] == ["Is it 3.5 m?", "Yes."]


def test_a_shuffled_copy_keeps_its_sentences_and_moves_the_answer_with_its_own():
    assert EN.context[39:52] == "Tomas Aldring" and ZH.context[17:22] == "1898年"
    for example, separator in ((EN, " "), (ZH, "")):
        orders = set()
        for seed in range(20):
            copy = shuffle_sentences(example, random.Random(seed))
            answer = copy.answers[0]
            start = answer["answer_start"]
            assert copy.context[start:start + len(answer["text"])] == answer["text"]
            assert sorted(split_sentences(copy.context)) == sorted(split_sentences(example.context))
            assert copy.context == separator.join(split_sentences(copy.context))
            assert (copy.id, copy.question, copy.lang, copy.title) == (
                example.id, example.question, example.lang, example.title)
            # The answer's sentence: the one holding it in the original.
            holder = next(s for s in split_sentences(copy.context) if answer["text"] in s)
            before = copy.context[:start]
            assert before.endswith(holder[:holder.index(answer["text"])])
            orders.add(copy.context)
        assert len(orders) > 1


def test_an_answer_across_a_sentence_end_or_without_position_is_copied_unshuffled():
    across = QAExample(id="x", question="?", lang="en", context="It was 3. Then 4. Done.",
                       answers=[{"text": "3. Then", "answer_start": 7}])
    lost = QAExample(id="y", question="?", lang="en", context="A b. C d. E f.",
                     answers=[{"text": "zzz", "answer_start": -1}])
    for example in (across, lost):
        assert shuffle_sentences(example, random.Random(0)) == example


def test_copies_are_numbered_and_read_back_from_squad_json(tmp_path):
    copies = sentence_order_copies([EN, ZH], copies=3, seed=1)
    assert [c.id for c in copies] == ["q1-order0", "q2-order0", "q1-order1", "q2-order1",
                                      "q1-order2", "q2-order2"]
    assert sentence_order_copies([EN, ZH], copies=3, seed=1) == copies
    write_squad(copies, tmp_path / "orders.json")
    back = {e.id: e for e in read_squad(tmp_path / "orders.json")}
    for copy in copies:
        assert back[copy.id].context == copy.context
        assert back[copy.id].answers[0]["answer_start"] == copy.answers[0]["answer_start"]


def test_a_batch_of_windows_is_cut_after_its_last_attended_position():
    rows = [{"input_ids": [2, 7, 3, 0, 0, 0], "attention_mask": [1, 1, 1, 0, 0, 0],
             "start_positions": 1},
            {"input_ids": [2, 7, 8, 3, 0, 0], "attention_mask": [1, 1, 1, 1, 0, 0],
             "start_positions": 2}]
    batch = stack_trimmed_windows(rows)
    assert batch["input_ids"].tolist() == [[2, 7, 3, 0], [2, 7, 8, 3]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1, 0], [1, 1, 1, 1]]
    assert torch.equal(batch["start_positions"], torch.tensor([1, 2]))
    left = [{"input_ids": [0, 2, 3], "attention_mask": [0, 1, 1], "start_positions": 1}]
    assert stack_trimmed_windows(left)["input_ids"].tolist() == [[0, 2, 3]]
