"""Sparse retrieval: one `bm25s` BM25 index per passage language.

Tokenization (`bm25_tokens`) decides by script, not by the declared language, so mixed
text (a Latin name in a Chinese passage) is handled the same in passages and queries:

- Words of spaced scripts are maximal runs of letters, combining marks and digits,
  lower-cased. Marks count as word characters because Devanagari and Arabic vowel signs
  are marks, and a plain `\\w` regex would cut Hindi words apart at them.
- Runs of scripts written without spaces (Han, kana, Thai, Khmer, Lao, Myanmar) become
  character unigrams and bigrams. Most Chinese words are one or two characters, so
  bigrams match words without a segmenter and unigrams keep recall for single
  characters; this is the usual dictionary-free baseline for CJK and Thai BM25.
- Stop words come from `bm25s`'s lists where it has one for the language (en, de, es,
  fr, ru, zh, ...); other languages keep every token, which BM25's IDF already
  discounts.

Per-language indexes keep each language's IDF statistics its own; a question searches
its own language, or every language with scores merged when its language is unknown.
`BM25Builder` collects a language's documents as token ids a batch at a time, so an
index build streams the passage store instead of holding its texts; saved indexes are
memory-mapped at load.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import bm25s
import numpy as np
import regex
from bm25s import stopwords as bm25s_stopwords

ROWS_FILE = "rows.npy"
LANGS_FILE = "langs.json"

# Scripts without spaces between words, and the letters/marks/digits of a word.
# U+30FC, the katakana length mark, belongs to no script but sits inside katakana words.
_UNSPACED = r"\p{Han}\p{Hiragana}\p{Katakana}\u30fc\p{Thai}\p{Khmer}\p{Lao}\p{Myanmar}"
_TOKEN = regex.compile(rf"[{_UNSPACED}]+|[\p{{L}}\p{{M}}\p{{N}}--[{_UNSPACED}]]+", regex.V1)
_UNSPACED_RUN = regex.compile(rf"[{_UNSPACED}]", regex.V1)

_LANG_DIR = regex.compile(r"[A-Za-z0-9_-]+")

_STOPWORDS = {
    "da": bm25s_stopwords.STOPWORDS_DANISH, "de": bm25s_stopwords.STOPWORDS_GERMAN,
    "en": bm25s_stopwords.STOPWORDS_EN, "es": bm25s_stopwords.STOPWORDS_SPANISH,
    "fr": bm25s_stopwords.STOPWORDS_FRENCH, "it": bm25s_stopwords.STOPWORDS_ITALIAN,
    "ko": bm25s_stopwords.STOPWORDS_KOREAN, "nl": bm25s_stopwords.STOPWORDS_DUTCH,
    "no": bm25s_stopwords.STOPWORDS_NORWEGIAN, "pt": bm25s_stopwords.STOPWORDS_PORTUGUESE,
    "ru": bm25s_stopwords.STOPWORDS_RUSSIAN, "sv": bm25s_stopwords.STOPWORDS_SWEDISH,
    "tr": bm25s_stopwords.STOPWORDS_TURKISH, "zh": bm25s_stopwords.STOPWORDS_CHINESE,
}


def bm25_tokens(text: str, lang: str | None = None) -> list[str]:
    """Returns the BM25 terms of `text`: words, or character 1- and 2-grams (see module).

    Args:
        text: Passage or question text.
        lang: Language code; only chooses the stop word list.
    """
    from rayqa.langs import base_lang

    stop = frozenset(_STOPWORDS.get(base_lang(lang), ())) if lang else frozenset()
    tokens: list[str] = []
    for run in _TOKEN.findall(text.lower()):
        if _UNSPACED_RUN.match(run):
            tokens.extend(run)
            tokens.extend(run[i:i + 2] for i in range(len(run) - 1))
        else:
            tokens.append(run)
    return [token for token in tokens if token not in stop]


def lang_dir(lang: str) -> str:
    """The directory name of a language's index: the code itself, when it can be one."""
    if not _LANG_DIR.fullmatch(lang):
        raise ValueError(f"language code {lang!r} cannot name a directory")
    return lang


class BM25Index:
    """BM25 over the passages of one language, returning passage row numbers.

    Args:
        lang: The language code of the passages.
    """

    def __init__(self, lang: str):
        self.lang = lang
        self.model = bm25s.BM25()
        self.rows = np.zeros(0, np.int64)

    def build(self, texts: Sequence[str], rows: Sequence[int]) -> BM25Index:
        """Indexes `texts` (title and text joined), known by their row numbers `rows`."""
        builder = BM25Builder(self.lang)
        builder.add(texts, rows)
        self.model, self.rows = builder.finish().model, builder.rows()
        return self

    def search(self, queries: Sequence[str], k: int) -> list[list[tuple[int, float]]]:
        """Returns up to `k` `(row, score)` per query, best first; only matching rows."""
        k = min(k, len(self.rows))
        tokens = [bm25_tokens(query, self.lang) for query in queries]
        found, scores = self.model.retrieve(tokens, k=k, show_progress=False)
        # bm25s pads with score-0 documents when fewer than k contain a query term.
        return [[(int(self.rows[doc]), float(score)) for doc, score in zip(docs, row_scores)
                 if score > 0] for docs, row_scores in zip(found, scores)]

    def save(self, directory: str | Path) -> None:
        """Writes the bm25s index and the row numbers into `directory`."""
        directory = Path(directory)
        self.model.save(str(directory), show_progress=False)
        np.save(directory / ROWS_FILE, self.rows)

    @classmethod
    def load(cls, directory: str | Path, lang: str) -> BM25Index:
        """Reads an index written by `save`, memory-mapped; raises ValueError when its
        files disagree."""
        directory = Path(directory)
        index = cls(lang)
        index.model = bm25s.BM25.load(str(directory), mmap=True)
        index.rows = np.load(directory / ROWS_FILE, mmap_mode="r")
        if index.model.scores["num_docs"] != len(index.rows):
            raise ValueError(f"{directory / ROWS_FILE}: {len(index.rows)} rows but the BM25 "
                             f"index holds {index.model.scores['num_docs']} documents")
        return index


class BM25Builder:
    """Collects one language's documents as token ids, batch by batch, then indexes them.

    Only the ids (int32 per token) and the vocabulary are kept, never the texts.

    Args:
        lang: The language code of the passages.
    """

    def __init__(self, lang: str):
        self.lang = lang
        self.vocab: dict[str, int] = {}
        self.docs: list[np.ndarray] = []
        self._rows: list[np.ndarray] = []

    def add(self, texts: Sequence[str], rows: Sequence[int]) -> None:
        """Adds documents (title and text joined) known by their row numbers `rows`."""
        for text in texts:
            tokens = bm25_tokens(text, self.lang)
            self.docs.append(np.fromiter((self.vocab.setdefault(t, len(self.vocab))
                                          for t in tokens), np.int32, len(tokens)))
        self._rows.append(np.asarray(rows, dtype=np.int64))

    def rows(self) -> np.ndarray:
        """The row numbers added so far, in order."""
        return np.concatenate(self._rows) if self._rows else np.zeros(0, np.int64)

    def finish(self) -> BM25Index:
        """The BM25 index of everything added."""
        index = BM25Index(self.lang)
        index.model.index((self.docs, dict(self.vocab)), show_progress=False)
        index.rows = self.rows()
        return index


def merge_by_score(hit_lists: Sequence[list[tuple[int, float]]], k: int
                   ) -> list[tuple[int, float]]:
    """The `k` best `(row, score)` of several languages' hits, best first (ties keep
    list order)."""
    return sorted((hit for hits in hit_lists for hit in hits), key=lambda hit: -hit[1])[:k]


class MultilingualBM25:
    """The per-language BM25 indexes of one passage collection.

    Args:
        indexes: `BM25Index` per language code.
    """

    def __init__(self, indexes: dict[str, BM25Index] | None = None):
        self.indexes = indexes or {}

    @classmethod
    def build(cls, titles: Sequence[str], texts: Sequence[str],
              langs: Sequence[str]) -> MultilingualBM25:
        """Builds one index per language over `title text` of each passage row."""
        by_lang: dict[str, list[int]] = {}
        for row, lang in enumerate(langs):
            by_lang.setdefault(lang, []).append(row)
        return cls({lang: BM25Index(lang).build([f"{titles[r]} {texts[r]}" for r in rows], rows)
                    for lang, rows in sorted(by_lang.items())})

    def search(self, query: str, lang: str | None, k: int) -> list[tuple[int, float]]:
        """Returns up to `k` `(row, score)` for one query, best first.

        Searches the index of `lang`; when `lang` is None or has no index, searches every
        language and merges by score.
        """
        targets = [self.indexes[lang]] if lang in self.indexes else list(self.indexes.values())
        return merge_by_score([index.search([query], k)[0] for index in targets], k)

    def save(self, directory: str | Path) -> None:
        """Writes `<directory>/<lang>/` per language and the list of languages."""
        directory = Path(directory)
        for lang, index in self.indexes.items():
            index.save(directory / lang_dir(lang))
        self.write_langs(str(directory), list(self.indexes))

    @classmethod
    def load(cls, directory: str | Path) -> MultilingualBM25:
        """Reads the indexes written by `save`."""
        directory = Path(directory)
        langs = json.loads((directory / LANGS_FILE).read_text(encoding="utf-8"))
        return cls({lang: BM25Index.load(directory / lang, lang) for lang in langs})

    @staticmethod
    def write_langs(directory: str, langs: Sequence[str]) -> None:
        """Writes the list of languages of per-language indexes saved one by one."""
        from rayqa import storage

        storage.write_text(storage.join(directory, LANGS_FILE), json.dumps(sorted(langs)))
