"""Passage collections: JSON Lines `{"id", "title", "text", "lang", "article_id"}`.

Lines that are not JSON objects, lack `id`, `text` or `lang`, or have empty text are
counted in a `BadRecords` report with their file and line (strict mode raises).

A large collection is read in byte ranges (`read_passage_range`), each by its own Ray
task or actor straight from storage: a range holds the lines that begin inside it, and
its bad records carry line numbers counted from the range's first line, which the
driver turns into file line numbers once it knows how many lines the earlier ranges
held.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rayqa import storage
from rayqa.data.records import (BadRecord, BadRecords, DataError, iter_jsonl, log_report,
                                missing_fields, parse_jsonl, reject)

REQUIRED_FIELDS = ("id", "text", "lang")
_BLOCK = 1 << 20  # bytes read at a time past a range's end to finish its last line


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


@dataclass
class PassageRange:
    """The passages of one byte range of a passages file.

    Attributes:
        passages: The good passages, in file order.
        lines: How many lines begin inside the range (blank and bad ones included).
        report: The bad lines, numbered from 1 at the range's first line.
    """

    passages: list[Passage] = field(default_factory=list)
    lines: int = 0
    report: BadRecords = field(default_factory=BadRecords)


def read_passage_range(location: str, start: int = 0, end: int | None = None,
                       strict: bool = False) -> PassageRange:
    """Reads the passages whose lines begin in bytes `[start, end)` of a JSON Lines file.

    Ranges that tile a file read every line exactly once: a line belongs to the range
    holding its first byte, and is read to its end even past `end`. A gzipped file
    cannot be entered in the middle and is read whole (`start` 0, `end` None).

    Args:
        location: The file, a local path or a URI (read through `rayqa.storage`).
        start: First byte of the range.
        end: End of the range (exclusive); None reads to the end of the file.
        strict: Raise `DataError` at the first bad line, numbered from the file's
            first line (counting the lines before `start` costs one read of them).
    """
    fs, path = storage.resolve(location)
    first = 0  # byte offset of the range's first line
    if str(location).endswith(".gz"):
        with fs.open_input_stream(path, compression="gzip") as stream:
            data = stream.read()
    else:
        with fs.open_input_file(path) as file:
            first, data = _range_bytes(file, start, file.size() if end is None else end)
    lines = data.decode("utf-8").split("\n")
    if lines and not lines[-1]:
        lines.pop()  # the text after the final newline is no line
    part = PassageRange(lines=len(lines))
    try:
        for number, obj in parse_jsonl(enumerate(lines, start=1), location, part.report,
                                       strict):
            if passage := _to_passage(obj, location, number, strict, part.report):
                part.passages.append(passage)
    except DataError as err:
        line = err.record.line + count_lines(location, first)
        raise DataError(BadRecord(**{**asdict(err.record), "line": line})) from None
    return part


def _range_bytes(file, start: int, end: int) -> tuple[int, bytes]:
    """The offset and bytes of the lines that begin in `[start, end)` of a random-access
    file."""
    size = file.size()
    end = min(end, size)
    if start >= end:
        return end, b""
    begin = max(start - 1, 0)  # one byte back: is `start` itself the first of a line?
    data = file.read_at(end - begin, begin)
    if start > 0:
        cut = data.find(b"\n")
        if cut < 0:  # the range lies inside one line that began before it
            return end, b""
        data, begin = data[cut + 1:], begin + cut + 1
    position = end
    while data and not data.endswith(b"\n") and position < size:
        block = file.read_at(min(_BLOCK, size - position), position)
        newline = block.find(b"\n")
        if newline >= 0:
            return begin, data + block[:newline + 1]
        data += block
        position += len(block)
    return begin, data


def count_lines(location: str, end: int) -> int:
    """The number of newlines before byte `end` of a plain text file: at a line's first
    byte, the number of lines before that line."""
    fs, path = storage.resolve(location)
    count, position = 0, 0
    with fs.open_input_file(path) as file:
        while position < end:
            block = file.read_at(min(_BLOCK, end - position), position)
            if not block:
                break
            count += block.count(b"\n")
            position += len(block)
    return count
