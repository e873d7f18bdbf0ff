"""XQuAD as a 12-language parallel passage collection with open-QA questions.

XQuAD translates the same 48 SQuAD articles (240 paragraphs, 1190 questions) into 11
languages, so article `i` of every file is one entity: those are the language links
(entity `xquad-<i>`). Each article's paragraphs, joined by blank lines, are chunked like
any article (`Chunker`), and every question gets its gold passages in every language:
the passages that overlap the answer of the same question id in that language.

Output of `build_xquad_collection(xquad_dir, out_dir)`::

    articles.jsonl         {"id", "title", "text", "lang"} per language and article
    passages.jsonl         the passages (rayqa passage format)
    questions.jsonl        {"id", "question", "lang", "answers", "xquad_id",
                           "gold_article_id", "gold_passage_ids": {lang: [ids]}}
    language_links.jsonl   the derived link table
    stats.json             counts as in `rayqa.corpus.build`
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from rayqa import storage
from rayqa.corpus.articles import Article
from rayqa.corpus.chunking import Chunker, write_stats
from rayqa.corpus.language_links import LINKS_FILE, LanguageLinks, write_jsonl
from rayqa.langs import segmenter_name

PARAGRAPH_SEPARATOR = "\n\n"
_FILE = re.compile(r"^xquad\.([a-z]{2})\.json$")


def xquad_langs(xquad_dir: str | Path) -> list[str]:
    """The languages of the `xquad.<lang>.json` files in a directory (path or URI), sorted."""
    found = [m.group(1) for name in storage.list_files(xquad_dir, recursive=False)
             if (m := _FILE.match(name))]
    if not found:
        raise FileNotFoundError(f"no xquad.<lang>.json files in {xquad_dir}")
    return sorted(found)


def xquad_file(lang: str) -> str:
    """The file name of a language's XQuAD data."""
    return f"xquad.{lang}.json"


def load_xquad(xquad_dir: str | Path, langs: list[str]) -> dict[str, list[dict]]:
    """Reads the files (from a path or URI) and checks they are parallel (same articles
    and paragraphs)."""
    data = {}
    for lang in langs:
        text = storage.read_text(storage.join(xquad_dir, xquad_file(lang)))
        data[lang] = json.loads(text)["data"]
    shape = [len(a["paragraphs"]) for a in data[langs[0]]]
    for lang in langs[1:]:
        if [len(a["paragraphs"]) for a in data[lang]] != shape:
            raise ValueError(f"xquad.{lang}.json is not parallel to xquad.{langs[0]}.json "
                             "(different articles or paragraphs)")
    return data


def xquad_articles(data: dict[str, list[dict]]) -> list[tuple[Article, list[int]]]:
    """Every (language, article) as an `Article` plus the offsets of its paragraphs."""
    out = []
    for lang, articles in data.items():
        for index, article in enumerate(articles):
            offsets, position = [], 0
            for paragraph in article["paragraphs"]:
                offsets.append(position)
                position += len(paragraph["context"]) + len(PARAGRAPH_SEPARATOR)
            text = PARAGRAPH_SEPARATOR.join(p["context"] for p in article["paragraphs"])
            title = article.get("title", "").replace("_", " ")
            out.append((Article(f"xquad-{index}", title, text, lang), offsets))
    return out


def passage_starts(article: Article, passages: list[dict]) -> list[tuple[int, int]]:
    """Character spans of an article's passages (consecutive exact slices)."""
    spans, position = [], 0
    for passage in passages:
        start = article.text.index(passage["text"], position)
        position = start + len(passage["text"])
        spans.append((start, position))
    return spans


def _answer_spans(data, articles) -> dict[str, dict[str, tuple[str, int, int]]]:
    """`{question id: {lang: (entity, answer start, answer end)}}` in article offsets."""
    spans: dict[str, dict[str, tuple[str, int, int]]] = {}
    for article, offsets in articles:
        index = int(article.id.split("-")[1])
        for paragraph, offset in zip(data[article.lang][index]["paragraphs"], offsets):
            for qa in paragraph["qas"]:
                answer = qa["answers"][0]
                start = offset + answer["answer_start"]
                spans.setdefault(qa["id"], {})[article.lang] = (
                    article.id, start, start + len(answer["text"]))
    return spans


def _questions(data, answer_spans, passage_spans) -> list[dict]:
    questions = []
    for lang, articles in data.items():
        for article in articles:
            for paragraph in article["paragraphs"]:
                for qa in paragraph["qas"]:
                    gold = {}
                    for other, (entity, start, end) in answer_spans[qa["id"]].items():
                        gold[other] = [pid for pid, (s, e) in passage_spans[other, entity]
                                       if s < end and start < e]
                    entity = answer_spans[qa["id"]][lang][0]
                    questions.append({
                        "id": f"{qa['id']}_{lang}", "question": qa["question"], "lang": lang,
                        "answers": list(dict.fromkeys(a["text"] for a in qa["answers"])),
                        "xquad_id": qa["id"], "gold_article_id": entity,
                        "gold_passage_ids": gold})
    return questions


def build_xquad_collection(xquad_dir: str | Path, out_dir: str | Path,
                           langs: list[str] | None = None, passage_tokens: int = 100,
                           min_article_tokens: int = 20) -> str | Path:
    """Writes the XQuAD passage collection, questions and language links.

    Args:
        xquad_dir: Directory with `xquad.<lang>.json` files (local path or URI).
        out_dir: Output directory, local path or URI (see the module docstring for its
            files).
        langs: Languages to use; None takes every file found (12 in XQuAD).
        passage_tokens: Tokens per passage.
        min_article_tokens: Shorter articles are dropped (none of XQuAD's are).

    Returns:
        `out_dir` as given.
    """
    langs = sorted(langs) if langs else xquad_langs(xquad_dir)
    data = load_xquad(xquad_dir, langs)
    articles = xquad_articles(data)
    links = LanguageLinks()
    for article, _ in articles:
        links.add(article.id, article.lang, article.id, article.title)
    chunker = Chunker(passage_tokens, min_article_tokens, links.entity_of)
    passages, passage_spans = [], {}
    for article, _ in articles:
        records = chunker.passages(article)
        passages.extend(records)
        passage_spans[article.lang, article.id] = list(
            zip([r["id"] for r in records], passage_starts(article, records)))
    questions = _questions(data, _answer_spans(data, articles), passage_spans)
    _write(out_dir, [a for a, _ in articles], passages, questions, links, chunker)
    return out_dir


def _write(out: str | Path, articles, passages, questions, links, chunker) -> None:
    for name, rows in (("articles.jsonl", [a.to_dict() for a in articles]),
                       ("passages.jsonl", passages), ("questions.jsonl", questions)):
        write_jsonl(rows, storage.join(out, name))
    links.write(storage.join(out, LINKS_FILE))
    stats = chunker.stats.to_dict()
    stats["segmenters"] = {lang: segmenter_name(lang) for lang in stats["articles"]}
    stats["questions"] = len(questions)
    write_stats(stats, out)


def split_xquad(xquad_dir: str | Path, out_dir: str | Path, dev_articles: int = 8,
                langs: list[str] | None = None) -> dict[str, dict[str, int]]:
    """Split XQuAD by article into parallel ``train/`` and ``dev/`` sets.

    The last ``dev_articles`` articles of every language go to ``<out>/dev/``, the rest
    to ``<out>/train/``, as ``xquad.<lang>.json`` files: both halves stay parallel, so
    ``ParallelTranslator.from_xquad(<out>/train)`` serves the training half, and no
    passage of a dev question is seen in training. This is what lets the mixMRC/LAKM
    settings (Tables 7 and 9) run on the shared data.

    Returns:
        Questions per split and language.
    """
    langs = list(langs or xquad_langs(xquad_dir))
    data = load_xquad(xquad_dir, langs)
    if not 0 < dev_articles < len(data[langs[0]]):
        raise ValueError(f"dev_articles must be between 1 and {len(data[langs[0]]) - 1}")
    counts: dict[str, dict[str, int]] = {"train": {}, "dev": {}}
    for lang, articles in data.items():
        cut = len(articles) - dev_articles
        for split, part in (("train", articles[:cut]), ("dev", articles[cut:])):
            storage.write_text(storage.join(out_dir, split, xquad_file(lang)),
                               json.dumps({"version": "1.0", "data": part}, ensure_ascii=False))
            counts[split][lang] = sum(len(p["qas"]) for a in part for p in a["paragraphs"])
    return counts
