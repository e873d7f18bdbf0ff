"""Cloze questions: training questions made from the sentence that holds an answer.

The sentence around an answer, the answer replaced by ``?``, asks for that answer
("It was built in ? and is 32 metres tall."), and so does a few words either side of it
("built in ? and is 32"). Lewis et al. (2019, "Unsupervised Question Answering by Cloze
Translation") train readers on such questions. A reader trained from scratch on a few
hundred questions learns from them to match a question's words with the words around
an answer, which is what a question worded unlike its training questions needs.
"""

from __future__ import annotations

import copy

# Sentence ends of the scripts rayqa's corpora use (Latin, CJK, Devanagari, Arabic).
SENTENCE_ENDS = ".!?。！？।؟"
CLOZE_MARK = "?"


def answer_sentence(context: str, start: int, end: int) -> tuple[str, str]:
    """The text of the answer's sentence before ``start`` and from ``end`` on."""
    begin = max(context.rfind(mark, 0, start) for mark in SENTENCE_ENDS) + 1
    stops = [i for i in (context.find(mark, end) for mark in SENTENCE_ENDS) if i >= 0]
    stop = min(stops) + 1 if stops else len(context)
    return context[begin:start].lstrip(), context[end:stop].rstrip()


def near_words(left: str, right: str, words: int) -> tuple[str, str]:
    """The last ``words`` words of ``left`` and the first of ``right``; in a script
    written without spaces (Chinese), twice as many characters."""
    if " " not in left + right:
        return left[-2 * words:], right[:2 * words]
    # Splitting keeps the space next to the answer as an empty first/last item.
    return " ".join(left.split(" ")[-words - 1:]), " ".join(right.split(" ")[:words + 1])


def cloze_questions(context: str, start: int, end: int, words: int = 4) -> list[str]:
    """The sentence cloze and the near-words cloze of the answer ``context[start:end]``,
    without repeats or a question that is the mark alone."""
    left, right = answer_sentence(context, start, end)
    questions = []
    for before, after in ((left, right), near_words(left, right, words)):
        question = f"{before}{CLOZE_MARK}{after}".strip()
        if question != CLOZE_MARK and question not in questions:
            questions.append(question)
    return questions


def add_cloze_questions(squad: dict, words: int = 4) -> dict:
    """A copy of a SQuAD v1.1 dict with each question's cloze questions added after the
    paragraph's questions, ids ``<id>-cloze<n>``, other fields (``lang``) kept.

    The first answer of each question makes its cloze questions.
    """
    squad = copy.deepcopy(squad)
    for article in squad["data"]:
        for paragraph in article["paragraphs"]:
            added = []
            for qa in paragraph["qas"]:
                answer = qa["answers"][0]
                start = answer["answer_start"]
                questions = cloze_questions(paragraph["context"], start,
                                            start + len(answer["text"]), words)
                added += [{**qa, "id": f"{qa['id']}-cloze{n}", "question": question}
                          for n, question in enumerate(questions, start=1)]
            paragraph["qas"] += added
    return squad
