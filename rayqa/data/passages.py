"""Passage collections: JSON Lines `{"id", "title", "text", "lang", "article_id"}`.

Lines that are not JSON objects, lack `id`, `text` or `lang`, or have empty text are
counted in a `BadRecords` report with their file and line (strict mode raises).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from rayqa.data.records import (BadRecord, BadRecords, iter_jsonl, log_report,
                                missing_fields, reject)

REQUIRED_FIELDS = ("id", "text", "lang")


@dataclass
class Passage:
    """One retrievable passage.

    Attributes:
        id: Unique passage id.
        text: The passage text.
        lang: Language code of the text.
        title: Title of the article it comes from.
        article_id: Id of that article; language links connect article ids across
            languages. Defaults to None when the file has none.
    """

    id: str
    text: str
    lang: str
    title: str = ""
    article_id: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        """Returns the JSON Lines record (also a Ray Data row)."""
        return asdict(self)


def iter_passages(path: str | Path, strict: bool = False,
                  report: BadRecords | None = None) -> Iterator[Passage]:
    """Yields the good passages of a JSON Lines file (optionally gzipped), streaming.

    Args:
        path: The passages file.
        strict: Raise `DataError` at the first bad line instead of skipping it.
        report: Collects the bad lines; a fresh one is used when None. Bad lines are also
            logged once the file has been read to the end.
    """
    report = BadRecords() if report is None else report
    before = report.total
    for line, obj in iter_jsonl(path, report, strict):
        passage = _to_passage(obj, str(path), line, strict, report)
        if passage is not None:
            yield passage
    log_report(path, report, before)


def read_passages(path: str | Path, strict: bool = False,
                  report: BadRecords | None = None) -> list[Passage]:
    """Returns all good passages of a file; see `iter_passages`."""
    return list(iter_passages(path, strict, report))


def _to_passage(obj: dict, path: str, line: int, strict: bool,
                report: BadRecords) -> Passage | None:
    """Returns the passage of one JSON object, or None after rejecting it."""
    missing = missing_fields(obj, REQUIRED_FIELDS)
    if missing:
        reject(report, strict, BadRecord(path, "missing_field", line, detail=", ".join(missing)))
        return None
    if not str(obj["text"]).strip():
        reject(report, strict, BadRecord(path, "empty_text", line, detail=str(obj["id"])))
        return None
    article_id = obj.get("article_id")
    return Passage(str(obj["id"]), str(obj["text"]), str(obj["lang"]),
                   str(obj.get("title") or ""), None if article_id is None else str(article_id))


def write_passages(passages: Iterable[Passage], path: str | Path) -> None:
    """Writes passages as UTF-8 JSON Lines that `read_passages` reads back unchanged."""
    with open(path, "w", encoding="utf-8") as out:
        for passage in passages:
            out.write(json.dumps(passage.to_dict(), ensure_ascii=False) + "\n")
