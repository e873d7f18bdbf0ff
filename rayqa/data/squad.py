"""SQuAD v1.1 JSON reading and writing (XQuAD, MLQA, CMRC 2018, DRCD), and prediction files.

Bad records (missing fields, empty context or question, answers whose text is not at
`answer_start`, repeated ids) are counted in a `BadRecords` report with their JSON path
and line; in strict mode the first one raises `DataError`. A file that is not JSON at all
always raises, naming the line and column.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rayqa import storage
from rayqa.data.records import BadRecord, BadRecords, DataError, log_report, open_text, reject
from rayqa.langs import UNKNOWN, lang_from_filename

NO_POSITION = -1  # answer_start of an answer whose text does not occur in the context


@dataclass
class QAExample:
    """One extractive question with its passage.

    Attributes:
        id: The question id, unique within a file.
        question: The question text as given.
        context: The passage the answers are spans of.
        answers: `{"text": str, "answer_start": int}` dicts; `answer_start` is the character
            offset in `context`, or `NO_POSITION` when the text does not occur there (the
            answer then still counts for evaluation but not for training).
        title: The article title.
        lang: Language code of the context (`und` when unknown).
        translated_answer: The back-translated answer A_trans of the cross-lingual
            pipeline (a question's ``translated_answer`` key), which the Answer Aligner
            and Verifier read; None when the file has none.
    """

    id: str
    question: str
    context: str
    answers: list[dict[str, Any]] = field(default_factory=list)
    title: str = ""
    lang: str = UNKNOWN
    translated_answer: str | None = None


def read_squad(path: str | Path, lang: str | None = None, strict: bool = False,
               report: BadRecords | None = None, require_answers: bool = True,
               require_translation: bool = False) -> list[QAExample]:
    """Reads a SQuAD v1.1 JSON file.

    The language of each example is, in order: `lang`; the `lang` key of the question,
    paragraph or article; the language named by the file name (`xquad.zh.json`,
    `dev-context-de-question-de.json`, `cmrc2018_dev.json`); else `und`, counted as
    `missing_lang` (`DataError` in strict mode).

    An answer whose text is not at `answer_start` is reported (`answer_mismatch`) and then
    moved to the nearest occurrence of its text, or kept with `answer_start = -1` when the
    text does not occur in the context, so that evaluation still sees every gold answer.

    Args:
        path: The JSON file, optionally gzipped.
        lang: Language code for every example, overriding the file.
        strict: Raise `DataError` at the first bad record instead of skipping it.
        report: Collects the bad records; a fresh one is used (and logged) when None.
        require_answers: Reject questions without answers (turn off for test questions).
        require_translation: Reject questions without a non-blank ``translated_answer``
            (`no_translated_answer`): the inputs of an Answer Aligner or Verifier.

    Returns:
        The good examples in file order.

    Raises:
        DataError: The file is not JSON or not SQuAD-shaped; in strict mode, any bad record.
    """
    report = BadRecords() if report is None else report
    before = report.total
    with open_text(path) as handle:
        text = handle.read()
    squad_file = _SquadFile(str(path), text, lang, strict, report, require_answers,
                            require_translation)
    examples = squad_file.read(_load_json(path, text))
    log_report(path, report, before)
    return examples


def _load_json(path: str | Path, text: str) -> Any:
    """Parses a whole JSON file, turning a syntax error into `DataError` with line and column."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise DataError(BadRecord(str(path), "broken_json", err.lineno,
                                  detail=f"column {err.colno}: {err.msg}")) from err


class _SquadFile:
    """The state of reading one SQuAD file: where bad records go and which ids were seen."""

    def __init__(self, path: str, text: str, lang: str | None, strict: bool,
                 report: BadRecords, require_answers: bool, require_translation: bool = False):
        self.path = path
        self.text = text
        self.lang = lang
        self.file_lang = lang_from_filename(path)
        self.strict = strict
        self.report = report
        self.require_answers = require_answers
        self.require_translation = require_translation
        self.seen_ids: set[str] = set()

    def read(self, data: Any) -> list[QAExample]:
        """Returns the good examples of the parsed file."""
        articles = data.get("data") if isinstance(data, dict) else None
        if not isinstance(articles, list):
            raise DataError(BadRecord(self.path, "not_squad",
                                      detail='expected an object with a "data" list'))
        examples: list[QAExample] = []
        for i, article in enumerate(articles):
            if not isinstance(article, dict) or not isinstance(article.get("paragraphs"), list):
                self.reject("missing_field", f"data[{i}]", detail="paragraphs")
                continue
            article_lang = article.get("lang") or self.file_lang
            for j, paragraph in enumerate(article["paragraphs"]):
                examples += self.read_paragraph(paragraph, f"data[{i}].paragraphs[{j}]",
                                                str(article.get("title", "")), article_lang)
        return examples

    def read_paragraph(self, paragraph: Any, where: str, title: str,
                       lang: str | None) -> list[QAExample]:
        """Returns the good examples of one paragraph; a bad paragraph is one bad record."""
        qas = paragraph.get("qas") if isinstance(paragraph, dict) else None
        context = paragraph.get("context") if isinstance(paragraph, dict) else None
        if not isinstance(qas, list) or not isinstance(context, str):
            self.reject("missing_field", where, detail="context and qas")
            return []
        if not context.strip():
            first_id = next((qa.get("id") for qa in qas if isinstance(qa, dict)), None)
            self.reject("empty_context", where, first_id, f"skipped {len(qas)} questions")
            return []
        lang = paragraph.get("lang") or lang
        examples = []
        for k, qa in enumerate(qas):
            example = self.read_question(qa, f"{where}.qas[{k}]", context, title, lang)
            if example is not None:
                examples.append(example)
        return examples

    def read_question(self, qa: Any, where: str, context: str, title: str,
                      lang: str | None) -> QAExample | None:
        """Returns the example of one question, or None after rejecting it."""
        if not isinstance(qa, dict) or qa.get("id") is None or qa.get("question") is None:
            self.reject("missing_field", where, detail="id and question")
            return None
        qid = str(qa["id"])
        problem = self.question_problem(qa, qid)
        if problem:
            self.reject(problem[0], where, qid, problem[1])
            return None
        self.seen_ids.add(qid)
        answers = [self.align(answer, context, f"{where}.answers[{n}]", qid)
                   for n, answer in enumerate(qa.get("answers") or [])]
        lang = self.lang or qa.get("lang") or lang
        if not lang:
            self.reject("missing_lang", where, qid, "no lang argument, key or file name")
            lang = UNKNOWN
        translated = qa.get("translated_answer")
        return QAExample(qid, qa["question"], context, answers, title, lang,
                         translated if isinstance(translated, str) else None)

    def question_problem(self, qa: dict, qid: str) -> tuple[str, str] | None:
        """Returns `(reason, detail)` when the question cannot be used, else None."""
        if not isinstance(qa["question"], str) or not qa["question"].strip():
            return "empty_question", ""
        if qid in self.seen_ids:
            return "duplicate_id", qid
        translated = qa.get("translated_answer")
        if self.require_translation and not (isinstance(translated, str) and translated.strip()):
            return "no_translated_answer", "an aligner or verifier reads A_trans"
        answers = qa.get("answers")
        if answers is None or answers == []:
            return ("no_answers", "") if self.require_answers else None
        if not isinstance(answers, list) or not all(_is_answer(a) for a in answers):
            return "bad_answers", 'expected [{"text": str, "answer_start": int}, ...]'
        return None

    def align(self, answer: dict, context: str, where: str, qid: str) -> dict[str, Any]:
        """Returns the answer as `{text, answer_start}`, its start fixed when it is wrong."""
        text, start = answer["text"], answer["answer_start"]
        if start >= 0 and context[start:start + len(text)] == text:
            return {"text": text, "answer_start": start}
        fixed = _nearest_occurrence(context, text, start)
        outcome = "not in the context" if fixed == NO_POSITION else f"moved to {fixed}"
        self.reject("answer_mismatch", where, qid, f"{text[:40]!r} not at {start}: {outcome}")
        return {"text": text, "answer_start": fixed}

    def reject(self, reason: str, where: str, qid: str | None = None, detail: str = "") -> None:
        """Rejects the record at JSON path `where`, with the line of its question id if found."""
        record = BadRecord(self.path, reason, self.line_of(qid), where, detail)
        reject(self.report, self.strict, record)

    def line_of(self, qid: str | None) -> int | None:
        """Returns the line where the string `qid` first occurs in the file, if it does."""
        if qid is None:
            return None
        for needle in (json.dumps(str(qid), ensure_ascii=False), json.dumps(str(qid))):
            index = self.text.find(needle)
            if index >= 0:
                return self.text.count("\n", 0, index) + 1
        return None


def _is_answer(answer: Any) -> bool:
    """Whether `answer` has a non-empty `text` and an integer `answer_start`."""
    return (isinstance(answer, dict) and isinstance(answer.get("text"), str)
            and answer["text"] != "" and isinstance(answer.get("answer_start"), int)
            and not isinstance(answer["answer_start"], bool))


def _nearest_occurrence(context: str, text: str, start: int) -> int:
    """Returns the start of the occurrence of `text` in `context` nearest to `start`, or -1."""
    best = NO_POSITION
    index = context.find(text)
    while index >= 0:
        if best == NO_POSITION or abs(index - start) < abs(best - start):
            best = index
        index = context.find(text, index + 1)
    return best


def write_squad(examples: Iterable[QAExample], path: str | Path, version: str = "1.1") -> None:
    """Writes examples as SQuAD v1.1 JSON that `read_squad` reads back unchanged.

    Examples with the same title are grouped into one article and, within it, examples
    with the same context into one paragraph, in first-seen order. Each question keeps
    its `lang`, and its `translated_answer` when it has one.
    """
    articles: dict[str, dict[str, list[dict]]] = {}
    for example in examples:
        paragraphs = articles.setdefault(example.title, {})
        qa = {"id": example.id, "question": example.question, "answers": example.answers,
              "lang": example.lang}
        if example.translated_answer is not None:
            qa["translated_answer"] = example.translated_answer
        paragraphs.setdefault(example.context, []).append(qa)
    data = [{"title": title, "paragraphs": [{"context": context, "qas": qas}
                                           for context, qas in paragraphs.items()]}
            for title, paragraphs in articles.items()]
    storage.write_text(path, json.dumps({"version": version, "data": data}, ensure_ascii=False))


def write_predictions(predictions: dict[str, str], path: str | Path) -> None:
    """Writes `{question_id: answer_text}` as UTF-8 JSON readable by the official scripts."""
    storage.write_text(path, json.dumps(predictions, ensure_ascii=False, indent=1))
