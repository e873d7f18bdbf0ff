"""Bad-record accounting shared by every reader, and the JSON Lines reading they share.

A bad record never crashes a job silently and never vanishes: in the default mode the
reader skips it (or repairs it, saying how), counts it by reason in a `BadRecords` report
that keeps the first few with their file and line, and logs the report; in strict mode it
raises `DataError` at the first one.
"""

from __future__ import annotations

import gzip
import io
import json
import logging
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

from rayqa import storage

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BadRecord:
    """One rejected record and where it is.

    Attributes:
        path: The file it came from.
        reason: A short machine-readable reason, e.g. `missing_field`, `broken_json`.
        line: 1-based line number, when known.
        location: Where inside the file's structure, e.g. `data[3].paragraphs[1].qas[0]`.
        detail: A human-readable explanation.
    """

    path: str
    reason: str
    line: int | None = None
    location: str | None = None
    detail: str = ""

    def where(self) -> str:
        """Returns `file:line [location]`, leaving out what is unknown."""
        text = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{text} [{self.location}]" if self.location else text

    def __str__(self) -> str:
        return f"{self.where()}: {self.reason}" + (f": {self.detail}" if self.detail else "")


class DataError(ValueError):
    """A record or file that cannot be read, raised in strict mode (and for unreadable files).

    Attributes:
        record: The offending record with its file, line and location.
    """

    def __init__(self, record: BadRecord):
        super().__init__(str(record))
        self.record = record


class BadRecords:
    """Counts of rejected records by reason, with the first few kept as examples.

    One report may be passed to several readers to collect the problems of a whole run.

    Args:
        max_examples: How many rejected records to keep for the report.
    """

    def __init__(self, max_examples: int = 20):
        self.max_examples = max_examples
        self.counts: Counter[str] = Counter()
        self.examples: list[BadRecord] = []

    @property
    def total(self) -> int:
        """The number of rejected records."""
        return sum(self.counts.values())

    def add(self, record: BadRecord) -> None:
        """Counts a rejected record and keeps it while fewer than `max_examples` are kept."""
        self.counts[record.reason] += 1
        if len(self.examples) < self.max_examples:
            self.examples.append(record)

    def summary(self) -> str:
        """Returns a few lines for logs: the counts by reason, then the kept examples."""
        if not self.total:
            return "no bad records"
        reasons = ", ".join(f"{reason}={n}" for reason, n in self.counts.most_common())
        lines = [f"{self.total} bad records ({reasons})"]
        lines += [f"  {record}" for record in self.examples]
        if self.total > len(self.examples):
            lines.append(f"  ... and {self.total - len(self.examples)} more")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """Returns a JSON-serializable form: total, counts by reason, examples."""
        return {
            "total": self.total,
            "counts": dict(self.counts),
            "examples": [asdict(record) for record in self.examples],
        }


def reject(report: BadRecords, strict: bool, record: BadRecord) -> None:
    """Raises `DataError` for `record` in strict mode, otherwise counts it in `report`."""
    if strict:
        raise DataError(record)
    report.add(record)


def log_report(path: str | Path, report: BadRecords, before: int) -> None:
    """Logs a warning when reading `path` added records to `report` (which held `before`)."""
    found = report.total - before
    if found:
        logger.warning("%s: %d bad records\n%s", path, found, report.summary())


def open_text(path: str | Path) -> IO[str]:
    """Opens a UTF-8 text file (local path or URI) for reading, gunzipping `.gz` files."""
    if storage.is_uri(path):
        fs, inner = storage.resolve(path)
        # pyarrow picks the decompression from the extension (.gz, .bz2, .zst).
        return io.TextIOWrapper(fs.open_input_stream(inner), encoding="utf-8")
    if str(path).endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, encoding="utf-8")


def iter_jsonl(path: str | Path, report: BadRecords, strict: bool) -> Iterator[tuple[int, dict]]:
    """Yields `(line_number, object)` for each JSON object line of a JSON Lines file.

    Blank lines are skipped; lines that are not valid JSON or not an object are rejected.

    Args:
        path: A `.jsonl` file, optionally gzipped.
        report: Where rejected lines are counted.
        strict: Raise `DataError` at the first bad line instead.
    """
    with open_text(path) as lines:
        yield from parse_jsonl(enumerate(lines, start=1), str(path), report, strict)


def parse_jsonl(lines: Iterable[tuple[int, str]], path: str, report: BadRecords,
                strict: bool) -> Iterator[tuple[int, dict]]:
    """Yields `(line_number, object)` for numbered JSON Lines text lines (see `iter_jsonl`).

    Args:
        lines: `(line_number, text)` pairs, e.g. of one byte range of a file.
        path: The file named in bad records.
        report: Where rejected lines are counted.
        strict: Raise `DataError` at the first bad line instead.
    """
    for number, line in lines:
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as err:
            reject(report, strict, BadRecord(path, "broken_json", number,
                                             detail=f"column {err.colno}: {err.msg}"))
            continue
        if not isinstance(obj, dict):
            reject(report, strict, BadRecord(path, "not_an_object", number,
                                             detail=type(obj).__name__))
            continue
        yield number, obj


def missing_fields(obj: dict, fields: tuple[str, ...]) -> list[str]:
    """Returns the fields of `obj` that are absent or None."""
    return [name for name in fields if obj.get(name) is None]
