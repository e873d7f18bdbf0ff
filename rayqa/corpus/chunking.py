"""Articles into DPR-style passages: consecutive, non-overlapping 100-token windows.

As in DPR and CORA, each article is cut into windows of `passage_tokens` tokens (the
last window keeps what is left), after dropping articles under `min_article_tokens`
tokens and disambiguation pages. Tokens are whitespace words, or for unspaced
languages the units of `rayqa.langs.token_spans` (MeCab, jieba, newmm, syllables).
A passage's text is the article text from its first token's start to its last token's
end, original spacing included, so an answer found in a passage is a real article span.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from rayqa import storage
from rayqa.corpus.articles import Article
from rayqa.langs import base_lang, token_spans

# Title qualifiers Wikipedia uses for disambiguation pages, per language. Titles are
# checked against all of them: a page's qualifier does not depend on the file's label.
DISAMBIGUATION_TITLES: dict[str, tuple[str, ...]] = {
    "en": ("disambiguation",), "de": ("begriffsklärung",), "fr": ("homonymie",),
    "es": ("desambiguación",), "it": ("disambigua",), "pt": ("desambiguação",),
    "nl": ("doorverwijspagina",), "sv": ("olika betydelser",), "fi": ("täsmennyssivu",),
    "pl": ("ujednoznacznienie",), "ru": ("значения",), "uk": ("значення",),
    "ar": ("توضيح",), "tr": ("anlam ayrımı",), "vi": ("định hướng",), "ko": ("동음이의",),
    "ja": ("曖昧さ回避",), "zh": ("消歧义", "消歧義"), "th": ("แก้ความกำกวม",),
}
_TITLE_MARKER = re.compile(
    r"[(（]\s*(?:" + "|".join(re.escape(m) for ms in DISAMBIGUATION_TITLES.values()
                              for m in ms) + r")\s*[)）]\s*$", re.IGNORECASE)
# Chinese titles often carry the marker without brackets ("水星 消歧义").
_BARE_TITLE_MARKER = re.compile(r"消歧[义義]")

# The lead phrase of a disambiguation page's text ("Mercury may refer to:"), which
# wikiextractor keeps even when the page's template is gone. Only looked for near the
# start of the text and followed by a colon, so ordinary prose does not match.
DISAMBIGUATION_LEADS: dict[str, str] = {
    "en": r"may (?:also )?refer to", "de": r"steht für", "fr": r"peut (?:désigner|faire référence à)",
    "es": r"puede referirse a", "it": r"può (?:riferirsi a|indicare)", "pt": r"pode referir-se a",
    "nl": r"kan verwijzen naar", "ru": r"может означать",
}
_LEAD_WINDOW = 300


def is_disambiguation(title: str, text: str, lang: str) -> bool:
    """Whether an article is a disambiguation page, by its title or its lead phrase."""
    if _TITLE_MARKER.search(title) or _BARE_TITLE_MARKER.search(title):
        return True
    lead = DISAMBIGUATION_LEADS.get(base_lang(lang))
    return bool(lead and re.search(lead + r"\s*:", text[:_LEAD_WINDOW], re.IGNORECASE))


def window_spans(spans: list[tuple[int, int]], size: int) -> list[tuple[int, int]]:
    """Character spans of consecutive windows of `size` tokens (the last may be shorter)."""
    return [(spans[i][0], spans[min(i + size, len(spans)) - 1][1])
            for i in range(0, len(spans), size)]


STATS_FILE = "stats.json"  # a collection directory's counts (`write_stats`)


@dataclass
class ChunkStats:
    """What chunking did, per language: articles read, dropped by reason, passages made.

    Attributes:
        articles: Articles read, by language.
        dropped: Articles dropped, by `"<reason>"` (`short`, `disambiguation`) and language.
        passages: Passages written, by language.
        bad_records: The readers' `BadRecords.to_dict()` reports, merged by reason.
    """

    articles: Counter = field(default_factory=Counter)
    dropped: dict[str, Counter] = field(default_factory=dict)
    passages: Counter = field(default_factory=Counter)
    bad_records: Counter = field(default_factory=Counter)
    bad_examples: list = field(default_factory=list)

    def drop(self, reason: str, lang: str) -> None:
        """Counts one dropped article."""
        self.dropped.setdefault(reason, Counter())[lang] += 1

    def merge(self, other: dict) -> None:
        """Adds the counts of another `to_dict()` (e.g. from another Ray actor)."""
        self.articles.update(other["articles"])
        self.passages.update(other["passages"])
        for reason, counts in other["dropped"].items():
            self.dropped.setdefault(reason, Counter()).update(counts)
        self.bad_records.update(other["bad_records"]["counts"])
        self.bad_examples.extend(other["bad_records"]["examples"][:20 - len(self.bad_examples)])

    def to_dict(self) -> dict:
        """Returns the JSON form written as `stats.json`."""
        return {"articles": dict(self.articles), "passages": dict(self.passages),
                "dropped": {reason: dict(c) for reason, c in self.dropped.items()},
                "total": {"articles": sum(self.articles.values()),
                          "passages": sum(self.passages.values()),
                          "dropped": sum(sum(c.values()) for c in self.dropped.values())},
                "bad_records": {"total": sum(self.bad_records.values()),
                                "counts": dict(self.bad_records),
                                "examples": self.bad_examples}}


def write_stats(stats: dict, out: str | Path) -> str:
    """Writes `stats.json` into the directory `out` (path or URI); returns its location."""
    location = storage.join(out, STATS_FILE)
    storage.write_text(location, json.dumps(stats, indent=2, ensure_ascii=False))
    return location


class Chunker:
    """Cuts articles into passages and counts what it keeps and drops.

    Args:
        passage_tokens: Tokens per passage (100 in DPR and CORA).
        min_article_tokens: Articles with fewer tokens are dropped (20 in CORA).
        entity_of: Maps `(lang, article id, title)` to a language-link entity id or None;
            None everywhere when no link table is used.
    """

    def __init__(self, passage_tokens: int = 100, min_article_tokens: int = 20,
                 entity_of=None):
        if passage_tokens < 1 or min_article_tokens < 0:
            raise ValueError("passage_tokens must be >= 1 and min_article_tokens >= 0")
        self.passage_tokens = passage_tokens
        self.min_article_tokens = min_article_tokens
        self.entity_of = entity_of or (lambda lang, article_id, title: None)
        self.stats = ChunkStats()

    def spans(self, article: Article) -> list[tuple[int, int]]:
        """The passage character spans of an article; empty when it is dropped (counted)."""
        self.stats.articles[article.lang] += 1
        if is_disambiguation(article.title, article.text, article.lang):
            self.stats.drop("disambiguation", article.lang)
            return []
        tokens = token_spans(article.text, article.lang)
        if len(tokens) < self.min_article_tokens:
            self.stats.drop("short", article.lang)
            return []
        return window_spans(tokens, self.passage_tokens)

    def passages(self, article: Article) -> list[dict]:
        """The passage records of an article (none when dropped).

        Ids are `"<lang>:<source article id>_<n>"`: unique across languages, because the
        `article_id` they carry is the shared entity id when the article is linked, and
        `"<lang>:<source id>"` otherwise.
        """
        spans = self.spans(article)
        if spans:
            self.stats.passages[article.lang] += len(spans)
        article_id = (self.entity_of(article.lang, article.id, article.title)
                      or f"{article.lang}:{article.id}")
        return [{"id": f"{article.lang}:{article.id}_{n}", "title": article.title,
                 "text": article.text[start:end], "lang": article.lang,
                 "article_id": article_id} for n, (start, end) in enumerate(spans)]
