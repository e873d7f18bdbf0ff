"""Language links: which articles in different languages are about the same entity.

File format (JSON Lines, one article per line)::

    {"entity": "Q90", "lang": "en", "id": "22989", "title": "Paris"}
    {"entity": "Q90", "lang": "de", "title": "Paris"}

`entity` groups the lines (a Wikidata id, or any id shared by the linked articles);
`lang` is the article's language; at least one of `id` (the source article id, e.g. the
Wikipedia page id wikiextractor writes) and `title` names the article. Titles are
compared with underscores as spaces and outer whitespace removed. Bad lines are counted
with file and line (strict mode raises), like every rayqa reader.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from rayqa import storage
from rayqa.data.records import (
    BadRecord,
    BadRecords,
    iter_jsonl,
    log_report,
    missing_fields,
    reject,
)

LINKS_FILE = "language_links.jsonl"  # the link table's name in a collection directory


def normalize_title(title: str) -> str:
    """Wikipedia title normal form for matching: underscores as spaces, stripped."""
    return title.replace("_", " ").strip()


class LanguageLinks:
    """A table from (language, article id or title) to entity id, and back."""

    def __init__(self):
        self._by_id: dict[tuple[str, str], str] = {}
        self._by_title: dict[tuple[str, str], str] = {}
        self._rows: list[dict] = []

    def __len__(self) -> int:
        return len(self._rows)

    def add(self, entity: str, lang: str, article_id: str | None = None,
            title: str | None = None) -> None:
        """Links one article (named by id, title or both) to `entity`."""
        if article_id is None and title is None:
            raise ValueError(f"entity {entity!r} ({lang}): an article needs an id or a title")
        row = {"entity": entity, "lang": lang}
        if article_id is not None:
            row["id"] = str(article_id)
            self._by_id[lang, str(article_id)] = entity
        if title is not None:
            row["title"] = title
            self._by_title[lang, normalize_title(title)] = entity
        self._rows.append(row)

    def entity_of(self, lang: str, article_id: str | None = None,
                  title: str | None = None) -> str | None:
        """Returns the entity of an article, looked up by id first, then by title."""
        if article_id is not None and (lang, str(article_id)) in self._by_id:
            return self._by_id[lang, str(article_id)]
        if title is not None:
            return self._by_title.get((lang, normalize_title(title)))
        return None

    def articles_of(self, entity: str) -> list[dict]:
        """Returns the rows (`lang`, `id` and/or `title`) linked to `entity`."""
        return [row for row in self._rows if row["entity"] == entity]

    def entities(self) -> dict[str, dict[str, dict]]:
        """Returns `{entity: {lang: row}}`: every entity with its article per language."""
        grouped: dict[str, dict[str, dict]] = {}
        for row in self._rows:
            grouped.setdefault(row["entity"], {})[row["lang"]] = row
        return grouped

    @classmethod
    def read(cls, path: str | Path, strict: bool = False,
             report: BadRecords | None = None) -> LanguageLinks:
        """Reads a link file (see the module docstring for the format).

        Args:
            path: The JSON Lines file, optionally gzipped.
            strict: Raise `DataError` at the first bad line instead of counting it.
            report: Collects bad lines; a fresh one when None.
        """
        report = BadRecords() if report is None else report
        before = report.total
        links = cls()
        for number, obj in iter_jsonl(path, report, strict):
            missing = missing_fields(obj, ("entity", "lang"))
            if missing or (obj.get("id") is None and obj.get("title") is None):
                detail = ", ".join(missing) or "id or title"
                reject(report, strict, BadRecord(str(path), "missing_field", number,
                                                 detail=detail))
                continue
            title = obj.get("title")
            links.add(str(obj["entity"]), str(obj["lang"]),
                      None if obj.get("id") is None else str(obj["id"]),
                      None if title is None else str(title))
        log_report(path, report, before)
        return links

    def write(self, path: str | Path) -> str | Path:
        """Writes the table in the format `read` reads to `path` (local path or URI)."""
        write_jsonl(self._rows, path)
        return path


def write_jsonl(rows: Iterable[dict], location: str | Path) -> None:
    """Writes `rows` as JSON Lines to `location` (local path or URI), whole."""
    storage.write_text(location, "".join(json.dumps(row, ensure_ascii=False) + "\n"
                                         for row in rows))
