"""Wikipedia-style article readers: rayqa JSONL and both wikiextractor output formats.

- `jsonl`: one `{"id", "title", "text", "lang"}` object per line; `lang` may be left out
  when the file's config gives it.
- `wikiextractor`: the output of `wikiextractor --json` (lines `{"id", "url", "title",
  "text"}`, a `revid` is ignored) or its default text format
  (`<doc id=".." url=".." title="..">` ... `</doc>`, HTML-escaped, the first body line
  repeating the title). Which one is decided per file by its first non-blank character. The language
  comes from the file's config. A directory stands for all files below it (wikiextractor
  writes `AA/wiki_00`, `AA/wiki_01`, ...).

Bad lines are counted in a `BadRecords` report with file and line; strict mode raises
`DataError` at the first one.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from rayqa import storage
from rayqa.data.records import (
    BadRecord,
    BadRecords,
    iter_jsonl,
    log_report,
    missing_fields,
    open_text,
    reject,
)

FORMATS = ("jsonl", "wikiextractor")

_DOC_OPEN = re.compile(r"^<doc\s+(?P<attrs>[^>]*)>\s*$")
_ATTR = re.compile(r'(\w+)="([^"]*)"')


@dataclass
class Article:
    """One article of a knowledge source.

    Attributes:
        id: The article's id in its language's source (e.g. the Wikipedia page id).
        title: The article title.
        text: The plain text.
        lang: Language code.
    """

    id: str
    title: str
    text: str
    lang: str

    def to_dict(self) -> dict[str, str]:
        """Returns the JSONL record (also a Ray Data row)."""
        return asdict(self)


def expand_paths(path: str | Path) -> list[str]:
    """Returns `path` itself, or the sorted files below it when it is a directory.

    `path` is a local path or a URI; local paths come back absolute, so they can travel
    to Ray workers, which run in another working directory. Hidden files are skipped.
    """
    path = storage.absolute(path)
    if storage.is_dir(path):
        return [storage.join(path, name) for name in storage.list_files(path)
                if not storage.name(name).startswith(".")]
    if not storage.is_file(path):
        raise FileNotFoundError(f"article file not found: {path}")
    return [path]


def iter_articles(path: str | Path, fmt: str = "jsonl", lang: str | None = None,
                  strict: bool = False, report: BadRecords | None = None) -> Iterator[Article]:
    """Yields the articles of one file, streaming.

    Args:
        path: The file (optionally gzipped).
        fmt: `jsonl` or `wikiextractor` (JSON lines or `<doc>` text, detected).
        lang: The file's language; required for wikiextractor, a default for jsonl.
        strict: Raise `DataError` at the first bad record instead of counting it.
        report: Collects the bad records; a fresh one when None. Logged at the end.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown article format {fmt!r}; expected one of {FORMATS}")
    if fmt == "wikiextractor" and not lang:
        raise ValueError(f"{path}: wikiextractor output needs the file's language")
    report = BadRecords() if report is None else report
    before = report.total
    if fmt == "wikiextractor" and not _starts_with_json(path):
        yield from _iter_doc_format(path, lang, strict, report)
    else:
        yield from _iter_json_lines(path, lang, strict, report)
    log_report(path, report, before)


def _starts_with_json(path: str | Path) -> bool:
    with open_text(path) as lines:
        for line in lines:
            if line.strip():
                return line.lstrip().startswith("{")
    return True


def _iter_json_lines(path, lang, strict, report) -> Iterator[Article]:
    for number, obj in iter_jsonl(path, report, strict):
        problem = _json_problem(obj, lang)
        if problem:
            reject(report, strict, BadRecord(str(path), problem[0], number, detail=problem[1]))
            continue
        yield Article(str(obj["id"]), obj["title"], obj["text"], str(obj.get("lang") or lang))


def _json_problem(obj: dict, lang: str | None) -> tuple[str, str] | None:
    """Returns `(reason, detail)` when a JSON article cannot be used, else None."""
    missing = missing_fields(obj, ("id", "title", "text"))
    if missing:
        return "missing_field", ", ".join(missing)
    if not (obj.get("lang") or lang):
        return "no_lang", "no lang in the record or the file's config"
    if not (isinstance(obj["title"], str) and isinstance(obj["text"], str)):
        return "bad_field", "title and text must be strings"
    return None


def _iter_doc_format(path, lang, strict, report) -> Iterator[Article]:
    """Parses `<doc ...>` blocks; a block's problems are reported at its header line."""
    header, header_line, body = None, 0, []
    with open_text(path) as lines:
        for number, line in enumerate(lines, start=1):
            opening = _DOC_OPEN.match(line.strip())
            if opening:
                if header is not None:
                    reject(report, strict, BadRecord(str(path), "unclosed_doc", header_line,
                                                     detail="<doc> without </doc>"))
                header, header_line, body = dict(_ATTR.findall(opening["attrs"])), number, []
            elif line.strip() == "</doc>" and header is not None:
                article = _doc_article(header, body, lang, str(path), header_line, strict,
                                       report)
                if article is not None:
                    yield article
                header = None
            elif header is not None:
                body.append(line)
            elif line.strip():
                reject(report, strict, BadRecord(str(path), "outside_doc", number,
                                                 detail=line.strip()[:60]))
    if header is not None:
        reject(report, strict, BadRecord(str(path), "unclosed_doc", header_line,
                                         detail="file ends inside <doc>"))


def _doc_article(header: dict, body: list[str], lang: str, path: str, line: int,
                 strict: bool, report: BadRecords) -> Article | None:
    missing = [key for key in ("id", "title") if key not in header]
    if missing:
        reject(report, strict, BadRecord(path, "missing_field", line, detail=", ".join(missing)))
        return None
    # wikiextractor escapes &, < and > in its text output (--html-safe, on by default).
    title = html.unescape(header["title"])
    text = html.unescape("".join(body))
    # wikiextractor repeats the title as the first body line; the passages must not.
    first, _, rest = text.lstrip("\n").partition("\n")
    if first.strip() == title.strip():
        text = rest
    return Article(header["id"], title, text.strip("\n"), lang)
