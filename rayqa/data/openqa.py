"""Open-retrieval QA questions: XOR-TyDi JSON Lines and MKQA.

XOR-TyDi lines are `{"id", "question", "lang", "answers": [str, ...]}`. MKQA lines are
`{"example_id", "queries": {lang: question}, "answers": {lang: [{"type", "text",
"aliases"}]}}` and expand to one example per language, all with the same id. Bad lines
are counted in a `BadRecords` report with file and line (strict mode raises).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rayqa.data.records import (BadRecord, BadRecords, iter_jsonl, log_report,
                                missing_fields, reject)


@dataclass
class OpenQAExample:
    """One question for open-retrieval QA.

    Attributes:
        id: Question id; the MKQA `example_id` is shared by its languages.
        question: The question text.
        lang: Language code of the question (MKQA keeps its own, e.g. `zh_cn`).
        answers: Gold answer strings in the question's language, MKQA aliases included.
        answer_type: MKQA's answer type (`entity`, `date`, ..., `unanswerable`,
            `long_answer`); None for XOR-TyDi. Unanswerable questions have no answers.
    """

    id: str
    question: str
    lang: str
    answers: list[str] = field(default_factory=list)
    answer_type: str | None = None


class _Line:
    """Where one JSON line came from, so its problems can be reported."""

    def __init__(self, path: str, number: int, strict: bool, report: BadRecords):
        self.path, self.number, self.strict, self.report = path, number, strict, report

    def reject(self, reason: str, location: str | None = None, detail: str = "") -> None:
        """Rejects (part of) this line: counted in the report, raised in strict mode."""
        record = BadRecord(self.path, reason, self.number, location, detail)
        reject(self.report, self.strict, record)


def iter_openqa(path: str | Path, strict: bool = False, report: BadRecords | None = None,
                langs: Collection[str] | None = None,
                require_answers: bool = True) -> Iterator[OpenQAExample]:
    """Yields the questions of an XOR-TyDi or MKQA file (optionally gzipped).

    Args:
        path: The JSON Lines file.
        strict: Raise `DataError` at the first bad record instead of skipping it.
        report: Collects the bad records; a fresh one is used when None. They are also
            logged once the file has been read to the end.
        langs: Keep only questions in these languages (None keeps all).
        require_answers: Reject XOR-TyDi questions without answers (off for test questions).
    """
    report = BadRecords() if report is None else report
    before = report.total
    for number, obj in iter_jsonl(path, report, strict):
        line = _Line(str(path), number, strict, report)
        if "queries" in obj:
            examples = _mkqa_examples(obj, line, langs)
        else:
            examples = _xor_examples(obj, line, langs, require_answers)
        yield from examples
    log_report(path, report, before)


def read_openqa(path: str | Path, strict: bool = False, report: BadRecords | None = None,
                langs: Collection[str] | None = None,
                require_answers: bool = True) -> list[OpenQAExample]:
    """Returns all questions of a file; see `iter_openqa`."""
    return list(iter_openqa(path, strict, report, langs, require_answers))


def _xor_examples(obj: dict, line: _Line, langs: Collection[str] | None,
                  require_answers: bool) -> list[OpenQAExample]:
    """Returns the one example of an XOR-TyDi line, or none after rejecting it."""
    missing = missing_fields(obj, ("id", "question", "lang"))
    if missing:
        line.reject("missing_field", detail=", ".join(missing))
        return []
    if langs is not None and obj["lang"] not in langs:
        return []
    if not str(obj["question"]).strip():
        line.reject("empty_question", detail=str(obj["id"]))
        return []
    answers = obj.get("answers")
    if answers is None or answers == []:
        if require_answers:
            line.reject("no_answers", detail=str(obj["id"]))
            return []
        answers = []
    if not isinstance(answers, list) or not all(isinstance(a, str) for a in answers):
        line.reject("bad_answers", "answers", "expected a list of strings")
        return []
    return [OpenQAExample(str(obj["id"]), str(obj["question"]), str(obj["lang"]), answers)]


def _mkqa_examples(obj: dict, line: _Line,
                   langs: Collection[str] | None) -> list[OpenQAExample]:
    """Returns one example per language of an MKQA line, rejecting bad languages."""
    missing = missing_fields(obj, ("example_id", "queries", "answers"))
    if missing or not isinstance(obj["queries"], dict) or not isinstance(obj["answers"], dict):
        line.reject("missing_field", detail=", ".join(missing) or "queries and answers objects")
        return []
    examples = []
    for lang, question in obj["queries"].items():
        if langs is not None and lang not in langs:
            continue
        example = _mkqa_example(str(obj["example_id"]), lang, question,
                                obj["answers"].get(lang), line)
        if example is not None:
            examples.append(example)
    return examples


def _mkqa_example(example_id: str, lang: str, question: Any, answers: Any,
                  line: _Line) -> OpenQAExample | None:
    """Returns the example of one MKQA language, or None after rejecting it."""
    if not isinstance(question, str) or not question.strip():
        line.reject("empty_question", f"queries.{lang}", example_id)
        return None
    if not (isinstance(answers, list) and answers and all(isinstance(a, dict) for a in answers)):
        line.reject("bad_answers", f"answers.{lang}", "expected a non-empty list of objects")
        return None
    texts: dict[str, None] = {}  # an ordered set: the main text first, then the aliases
    for answer in answers:
        for text in [answer.get("text")] + list(answer.get("aliases") or []):
            if isinstance(text, str) and text:
                texts[text] = None
    return OpenQAExample(example_id, question, lang, list(texts), answers[0].get("type"))
