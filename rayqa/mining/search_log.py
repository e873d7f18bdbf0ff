"""Search logs for phrase mining: reading and checking lines, and a synthetic log from XQuAD.

A search log is JSON Lines, one query per line::

    {"query": "...", "lang": "en", "results": [{"title": "...", "text": "..."}, ...]}

Other keys are allowed and ignored. `parse_search_log_line` checks one line and raises
`BadLogLine` (a `BadRecord` plus the line's language when it names one) for a line that
is not JSON, misses or mistypes a field, has an empty query or fewer results than asked.
Lines are parsed one at a time, wherever they are mined (a Ray actor or this process),
and split on `\\n` only (`iter_lines`), so line numbers agree between the two.

No real search log ships with rayqa. `build_xquad_search_log` makes a synthetic one from
XQuAD (CC BY-SA 4.0): each question is a query, and its results are the top-N paragraphs
of the same language by BM25 (`rayqa.retrieval.bm25`), so some come from other articles.
XQuAD's article titles are English in every language, so a result's title is the first
sentence of its paragraph (cut to `max_title_chars` at a space), which is in the
paragraph's language; the result text is the paragraph.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import regex

from rayqa import storage
from rayqa.data.records import BadRecord, missing_fields

FIELDS = ("query", "lang", "results")
_READ_CHUNK = 1 << 20  # bytes per read when splitting a stream into lines


@dataclass(frozen=True)
class SearchLogRecord:
    """One valid search-log line.

    Attributes:
        line: 1-based line number in its file.
        query: The query text.
        lang: Its language code.
        results: `(title, text)` per result, best first.
    """

    line: int
    query: str
    lang: str
    results: tuple[tuple[str, str], ...]


class BadLogLine(ValueError):
    """A search-log line that cannot be mined.

    Attributes:
        record: The rejection with file, line, reason and detail.
        lang: The language the line names, when it names one (for per-language counts).
    """

    def __init__(self, record: BadRecord, lang: str | None = None):
        super().__init__(str(record))
        self.record = record
        self.lang = lang


def iter_lines(stream: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    """Yields `(line_number, line)` of a binary stream split on `\\n`, `\\r\\n` too.

    Only `\\n` ends a line: `str.splitlines` would also split at U+2028 and other
    separators that JSON strings may hold unescaped.
    """
    number, rest = 0, b""
    while chunk := stream.read(_READ_CHUNK):
        *lines, rest = (rest + chunk).split(b"\n")
        for line in lines:
            number += 1
            yield number, line.removesuffix(b"\r")
    if rest:
        yield number + 1, rest.removesuffix(b"\r")


def parse_search_log_line(raw: bytes | str, path: str, line: int,
                          min_results: int = 1) -> SearchLogRecord | None:
    """Checks one line of a search log.

    Args:
        raw: The line, without its newline (bytes are decoded as UTF-8).
        path: The file, for error messages.
        line: Its 1-based line number.
        min_results: Fewest results a query needs (fewer is a bad line).

    Returns:
        The record, or None for a blank line.

    Raises:
        BadLogLine: The line is not a valid search-log record.
    """
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError as err:
        raise BadLogLine(BadRecord(path, "not_utf8", line, detail=str(err))) from None
    text = text.lstrip("\ufeff") if line == 1 else text  # a byte-order mark
    if not text.strip():
        return None
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as err:
        raise BadLogLine(BadRecord(path, "broken_json", line,
                                   detail=f"column {err.colno}: {err.msg}")) from None
    if not isinstance(obj, dict):
        raise BadLogLine(BadRecord(path, "not_an_object", line, detail=type(obj).__name__))
    lang = obj.get("lang") if isinstance(obj.get("lang"), str) and obj.get("lang") else None
    return SearchLogRecord(line, *_checked_fields(obj, path, line, lang, min_results))


def _checked_fields(obj: dict, path: str, line: int, lang: str | None,
                    min_results: int) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    """The query, language and results of a parsed line, or `BadLogLine`."""
    missing = missing_fields(obj, FIELDS)
    if missing:
        raise _bad(path, line, lang, "missing_field", ", ".join(missing))
    for name, kind in (("query", str), ("lang", str), ("results", list)):
        if not isinstance(obj[name], kind):
            raise _bad(path, line, lang, "wrong_type",
                       f"{name} is {type(obj[name]).__name__}, expected {kind.__name__}")
    if not obj["query"].strip():
        raise _bad(path, line, lang, "empty_query", "the query is blank")
    if not obj["lang"].strip():
        raise _bad(path, line, lang, "empty_field", "lang is blank")
    results = []
    for i, result in enumerate(obj["results"]):
        if not isinstance(result, dict) or not all(
                isinstance(result.get(key), str) for key in ("title", "text")):
            raise _bad(path, line, lang, "bad_result", "a result needs string title and text",
                       f"results[{i}]")
        results.append((result["title"], result["text"]))
    if not results:
        raise _bad(path, line, lang, "no_results", "results is empty")
    if len(results) < min_results:
        raise _bad(path, line, lang, "too_few_results",
                   f"{len(results)} results, min_results is {min_results}")
    return obj["query"], obj["lang"].strip(), tuple(results)


def _bad(path: str, line: int, lang: str | None, reason: str, detail: str,
         location: str | None = None) -> BadLogLine:
    return BadLogLine(BadRecord(path, reason, line, location, detail), lang)


# --- A synthetic search log from XQuAD ----------------------------------------------------

# A sentence ends at . ! ? (Latin, Cyrillic), the danda, the Arabic question mark when a
# space follows, or at a CJK full stop, question or exclamation mark.
_SENTENCE_END = regex.compile(r"[.!?।؟](?=\s)|[。！？]")
_MIN_SENTENCE = 20  # shorter "sentences" are abbreviations ("U.S."), not titles


def result_title(paragraph: str, max_chars: int = 150) -> str:
    """A title for a paragraph: its first sentence, at most `max_chars` (cut at a space)."""
    end = len(paragraph)
    for match in _SENTENCE_END.finditer(paragraph):
        if match.end() >= _MIN_SENTENCE:
            end = match.end()
            break
    title = paragraph[:end].strip()
    if len(title) > max_chars:
        cut = title.rfind(" ", 0, max_chars)
        title = title[:cut if cut > 0 else max_chars].rstrip()
    return title


def cut_text(text: str, max_chars: int | None) -> str:
    """`text` cut to at most `max_chars` at its last sentence end (else a space) before that."""
    if max_chars is None or len(text) <= max_chars:
        return text
    ends = [m.end() for m in _SENTENCE_END.finditer(text, 0, max_chars)]
    cut = ends[-1] if ends else text.rfind(" ", 0, max_chars)
    return text[:cut if cut > 0 else max_chars].rstrip()


def xquad_questions(articles: list[dict]) -> list[tuple[str, str]]:
    """`(id, question)` of every question of an XQuAD file, in file order."""
    return [(qa["id"], qa["question"]) for article in articles
            for paragraph in article["paragraphs"] for qa in paragraph["qas"]]


def xquad_search_log(articles: list[dict], lang: str, question_ids: Sequence[str] | None = None,
                     top_n: int = 5, max_title_chars: int = 150,
                     max_text_chars: int | None = None) -> list[dict]:
    """Search-log records of one XQuAD language: questions and their BM25 results.

    Args:
        articles: The `data` of `xquad.<lang>.json`.
        lang: Its language code (chooses the BM25 tokenization and stop words).
        question_ids: Questions to use, in this order (None: all, in file order).
        top_n: Results per query.
        max_title_chars: Longest result title.
        max_text_chars: Cut result texts to this length at a sentence end (None: whole
            paragraphs); keeps a committed sample log small.

    Returns:
        `{"query", "lang", "results": [{"title", "text"}], "xquad_id"}` per question.
    """
    from rayqa.retrieval.bm25 import BM25Index

    paragraphs = [p["context"] for article in articles for p in article["paragraphs"]]
    titles = [result_title(text, max_title_chars) for text in paragraphs]
    texts = [cut_text(text, max_text_chars) for text in paragraphs]
    index = BM25Index(lang).build(paragraphs, range(len(paragraphs)))
    questions = dict(xquad_questions(articles))
    ids = list(questions) if question_ids is None else list(question_ids)
    hits = index.search([questions[i] for i in ids], top_n)
    return [{"query": questions[qid], "lang": lang,
             "results": [{"title": titles[row], "text": texts[row]} for row, _ in found],
             "xquad_id": qid}
            for qid, found in zip(ids, hits)]


def sample_records(records: list[dict], k: int | None, seed: int = 0, phrase_share: float = 0.0,
                   miner=None) -> list[dict]:
    """Draws `k` records (all when None), keeping their order.

    Args:
        records: Search-log records of one language.
        k: How many to keep.
        seed: Seed of the draw; with `phrase_share` 0 the same positions are drawn from
            every language's records, i.e. the same XQuAD questions.
        phrase_share: Fraction of the draw taken first from the records in which `miner`
            finds knowledge phrases (as many as there are), the rest at random.
        miner: A `PhraseMiner`; needed when `phrase_share` > 0.
    """
    if k is None or k >= len(records):
        return list(records)
    rng = random.Random(seed)
    rich: list[int] = []
    if phrase_share > 0:
        rich = [i for i, r in enumerate(records) if miner.phrases(
            r["query"], r["lang"], [result["title"] for result in r["results"]])]
        rich = rng.sample(rich, min(len(rich), round(k * phrase_share)))
    taken = set(rich)
    rest = [i for i in range(len(records)) if i not in taken]
    chosen = rich + rng.sample(rest, k - len(rich))
    return [records[i] for i in sorted(chosen)]


def build_xquad_search_log(xquad_dir: str | Path, langs: Sequence[str], output: str | Path,
                           queries_per_lang: int | None = None, top_n: int = 5, seed: int = 0,
                           phrase_share: float = 0.0,
                           max_text_chars: int | None = None) -> dict[str, int]:
    """Writes a synthetic search log (JSON Lines) from XQuAD; see the module docstring.

    Args:
        xquad_dir: Directory of `xquad.<lang>.json` files (local path or URI).
        langs: Languages to include, in this order.
        output: The `.jsonl` file to write (local path or URI).
        queries_per_lang: Questions drawn per language (None: all 1190).
        top_n: Results per query (BM25 returns fewer when fewer paragraphs share a term).
        seed: Seed of the draw.
        phrase_share: Part of each language's draw taken from queries the default
            `PhraseMiner` finds knowledge phrases for (see `sample_records`); 0 draws the
            same questions in every language.
        max_text_chars: Cut result texts to this length (see `xquad_search_log`).

    Returns:
        Lines written per language.
    """
    from rayqa.corpus.xquad import load_xquad
    from rayqa.mining.phrases import PhraseMiner

    data = load_xquad(xquad_dir, list(langs))
    miner = PhraseMiner() if phrase_share > 0 else None
    counts, lines = {}, []
    for lang in langs:
        records = sample_records(xquad_search_log(data[lang], lang, top_n=top_n,
                                                  max_text_chars=max_text_chars),
                                 queries_per_lang, seed, phrase_share, miner)
        lines.extend(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
        counts[lang] = len(records)
    storage.write_text(output, "".join(lines))  # XQuAD-sized: a few MB at most
    return counts
