"""LAKM knowledge phrases: mining from (query, result titles) and passage spans (pure Python).

The paper's two steps (mixmrc-lakm, section 3.2, Figure 3), per search-log query:

1. Candidates: every n-gram (n = 2, 3, 4) of the query's tokens, minus those that begin
   or end with a stop word of the query's language (stopwords-iso lists), so "when is",
   "the myth" and "is the myth" go while "George Washington" stays.
2. Filter: a candidate is a knowledge phrase when it occurs in at least 70% of the result
   titles, case-insensitively and on token boundaries: its tokens are a contiguous run of
   the title's tokens.

Tokens are what makes "on token boundaries" work in every language. Spaced languages use
words of letters, combining marks and digits (Devanagari and Arabic vowel signs are
marks), so punctuation never sticks to a word: "Washington's" gives "Washington" and
"s", "'myth'" gives "myth". Languages written without spaces use their segmenter from
`rayqa.langs` (MeCab for ja, jieba for zh, newmm for th), keeping its word units.
Tokens compare by their NFKC case-folded form, so "Cherry Tree" matches "cherry tree" and
full-width letters match half-width ones.

A kept phrase inside a longer kept phrase of the same query that occurs in as many titles
("Super Bowl" inside "Super Bowl 50") is dropped: it is the same knowledge, never seen
apart. Phrases keep the query's own text.

Passages: each result text that contains a knowledge phrase of its query becomes a
passage, with the character spans of every phrase occurrence: leftmost first, and at a
position the longest phrase wins, so spans never overlap (an occurrence inside a longer
phrase's occurrence is covered by that span). Following SQuAD's passage
creation, a result text longer than `max_chars` is first split into paragraphs at blank
lines, and each paragraph is a passage candidate on its own; a paragraph that is still
longer stays whole.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import regex

from rayqa.langs import base_lang, segmenter, segmenter_name

# A word of a spaced language: letters, combining marks and digits.
_WORD = regex.compile(r"[\p{L}\p{M}\p{N}]+")
# A segmenter unit counts as a token only when it holds a letter or digit (not "，", "・").
_WORDLIKE = regex.compile(r"[\p{L}\p{N}]")
_BLANK_LINES = regex.compile(r"\n[ \t\r\f\v]*\n\s*")

DEFAULT_NGRAM_SIZES = (2, 3, 4)


@dataclass(frozen=True)
class Token:
    """One token: its character span in the text and its comparison key."""

    start: int
    end: int
    key: str


@dataclass(frozen=True)
class Phrase:
    """A phrase candidate or knowledge phrase of a query.

    Attributes:
        text: The query's own substring (original casing).
        key: The NFKC case-folded tokens it matches.
        first: Index of its first token in the query.
    """

    text: str
    key: tuple[str, ...]
    first: int

    @property
    def words(self) -> int:
        """Number of tokens (words, or segmenter units for zh, ja, th)."""
        return len(self.key)

    @property
    def last(self) -> int:
        """Index of its last token in the query."""
        return self.first + len(self.key) - 1


@dataclass(frozen=True)
class PhraseSpan:
    """One occurrence of a knowledge phrase in a passage: `text[start:end]`."""

    start: int
    end: int
    phrase: int  # index into the query's phrase list


@dataclass
class MinedPassage:
    """A passage with the occurrences of its query's knowledge phrases.

    Attributes:
        result: Index of the search result it comes from.
        part: Paragraph index when the result text was split, else 0.
        title: The result's title.
        text: The passage text (an exact slice of the result text).
        spans: Phrase occurrences, sorted and non-overlapping.
    """

    result: int
    part: int
    title: str
    text: str
    spans: list[PhraseSpan] = field(default_factory=list)

    def phrase_count(self) -> int:
        """Number of distinct knowledge phrases occurring in the passage."""
        return len({span.phrase for span in self.spans})


def token_key(text: str) -> str:
    """The form tokens are compared in: NFKC, then case-folded."""
    return unicodedata.normalize("NFKC", text).casefold()


class Tokenizer:
    """Word tokens with character spans for one language (see the module docstring).

    Args:
        lang: Language code; zh, ja, th (and km, lo, my) use their `rayqa.langs`
            segmenter, which is loaded here, once.
    """

    def __init__(self, lang: str):
        self.lang = base_lang(lang)
        self._segment = None if segmenter_name(self.lang) == "whitespace" else segmenter(lang)

    def tokens(self, text: str) -> list[Token]:
        """Returns the tokens of `text` in order."""
        if self._segment is None:
            spans = [m.span() for m in _WORD.finditer(text)]
        else:
            spans = [(s, e) for s, e in self._segment(text) if _WORDLIKE.search(text, s, e)]
        return [Token(s, e, token_key(text[s:e])) for s, e in spans]


def load_stopwords(lang: str) -> frozenset[str]:
    """The stopwords-iso list of `lang` as token keys; empty for languages it lacks."""
    import stopwordsiso

    code = base_lang(lang)
    if not stopwordsiso.has_lang(code):
        return frozenset()
    return frozenset(token_key(word) for word in stopwordsiso.stopwords(code))


def ngram_candidates(query: str, tokens: Sequence[Token], stopwords: frozenset[str],
                     sizes: Iterable[int] = DEFAULT_NGRAM_SIZES) -> list[Phrase]:
    """Step 1: the query's n-grams that neither begin nor end with a stop word.

    Args:
        query: The query text.
        tokens: Its tokens (`Tokenizer.tokens(query)`).
        stopwords: Stop-word keys of the query's language.
        sizes: The n of the n-grams.

    Returns:
        Candidates in query order (by first token, then length), each key once.
    """
    found: dict[tuple[str, ...], Phrase] = {}
    for first in range(len(tokens)):
        for n in sorted(sizes):
            run = tokens[first:first + n]
            if len(run) < n or run[0].key in stopwords or run[-1].key in stopwords:
                continue
            key = tuple(token.key for token in run)
            found.setdefault(key, Phrase(query[run[0].start:run[-1].end], key, first))
    return list(found.values())


def ngram_keys(tokens: Sequence[Token], sizes: Iterable[int]) -> set[tuple[str, ...]]:
    """Every contiguous run of `sizes` tokens of a text, as key tuples."""
    keys = [token.key for token in tokens]
    return {tuple(keys[i:i + n]) for n in sizes for i in range(len(keys) - n + 1)}


def title_support(candidates: Sequence[Phrase], title_ngrams: Sequence[set]) -> list[int]:
    """How many titles contain each candidate (on token boundaries)."""
    return [sum(c.key in grams for grams in title_ngrams) for c in candidates]


def keep_frequent(candidates: Sequence[Phrase], support: Sequence[int], titles: int,
                  threshold: float) -> list[Phrase]:
    """Step 2: the candidates found in at least `threshold` of `titles` titles."""
    if titles == 0:
        return []
    # The smallest count that reaches the threshold; the epsilon absorbs float error
    # (0.7 * 10 must ask for 7 titles, not 8).
    needed = max(1, math.ceil(threshold * titles - 1e-9))
    return [c for c, n in zip(candidates, support) if n >= needed]


def drop_nested(phrases: Sequence[Phrase], support: Sequence[int]) -> list[Phrase]:
    """Drops phrases that only occur inside a longer phrase of the list.

    A phrase goes when its query tokens lie inside a longer phrase found in as many
    titles (or more): "Super Bowl" beside "Super Bowl 50" in the same titles. A phrase
    found in more titles than the longer one stays ("George Washington" beside "myth of
    George Washington").

    Args:
        phrases: Kept candidates.
        support: The number of titles each occurs in.
    """
    return [p for p, n in zip(phrases, support)
            if not any(o.words > p.words and o.first <= p.first and p.last <= o.last
                       and m >= n for o, m in zip(phrases, support))]


def phrase_spans(tokens: Sequence[Token], phrases: Sequence[Phrase]) -> list[PhraseSpan]:
    """Occurrences of `phrases` in a tokenized text: leftmost first, longest wins.

    Args:
        tokens: The text's tokens.
        phrases: The knowledge phrases; `PhraseSpan.phrase` indexes this list.

    Returns:
        Sorted, non-overlapping spans.
    """
    index = {p.key: i for i, p in enumerate(phrases)}
    sizes = sorted({p.words for p in phrases}, reverse=True)
    keys = [token.key for token in tokens]
    spans, position = [], 0
    while position < len(keys):
        for n in sizes:
            hit = index.get(tuple(keys[position:position + n]))
            if hit is not None:
                spans.append(PhraseSpan(tokens[position].start, tokens[position + n - 1].end,
                                        hit))
                position += n
                break
        else:
            position += 1
    return spans


def split_passages(text: str, max_chars: int) -> list[str]:
    """A result text as passages: whole when short, else its blank-line paragraphs.

    Every passage is an exact slice of `text` with surrounding whitespace trimmed; empty
    paragraphs are dropped. A paragraph longer than `max_chars` stays whole.
    """
    if len(text) <= max_chars:
        return [text]
    parts = (part.strip() for part in _BLANK_LINES.split(text))
    return [part for part in parts if part]


class PhraseMiner:
    """Mines knowledge phrases and passages; tokenizers and stop words load once per language.

    Args:
        threshold: Fraction of the result titles a phrase must occur in (paper: 0.7).
        ngram_sizes: The n of the query n-grams (paper: 2, 3, 4).
        max_passage_chars: Result texts longer than this are split into paragraphs.
    """

    def __init__(self, threshold: float = 0.7, ngram_sizes: Sequence[int] = DEFAULT_NGRAM_SIZES,
                 max_passage_chars: int = 1000):
        if not 0 < threshold <= 1:
            raise ValueError(f"threshold must be in (0, 1], got {threshold}")
        if not ngram_sizes or min(ngram_sizes) < 1:
            raise ValueError(f"ngram_sizes must be positive, got {list(ngram_sizes)}")
        self.threshold = threshold
        self.ngram_sizes = tuple(sorted(set(ngram_sizes)))
        self.max_passage_chars = max_passage_chars
        self._tokenizers: dict[str, Tokenizer] = {}
        self._stopwords: dict[str, frozenset[str]] = {}

    def tokenizer(self, lang: str) -> Tokenizer:
        """The tokenizer of `lang`, built on first use."""
        code = base_lang(lang)
        if code not in self._tokenizers:
            self._tokenizers[code] = Tokenizer(code)
        return self._tokenizers[code]

    def stopwords(self, lang: str) -> frozenset[str]:
        """The stop-word keys of `lang`, loaded on first use."""
        code = base_lang(lang)
        if code not in self._stopwords:
            self._stopwords[code] = load_stopwords(code)
        return self._stopwords[code]

    def candidates(self, query: str, lang: str) -> list[Phrase]:
        """Step 1 for one query: its n-grams minus those at stop-word edges."""
        tokens = self.tokenizer(lang).tokens(query)
        return ngram_candidates(query, tokens, self.stopwords(lang), self.ngram_sizes)

    def phrases(self, query: str, lang: str, titles: Sequence[str]) -> list[Phrase]:
        """Knowledge phrases of a query: frequent candidates, minus those seen only nested.

        Args:
            query: The search query.
            lang: Its language code.
            titles: The titles of its results.

        Returns:
            The phrases in query order.
        """
        candidates = self.candidates(query, lang)
        if not candidates:
            return []
        tokenizer = self.tokenizer(lang)
        grams = [ngram_keys(tokenizer.tokens(title), self.ngram_sizes) for title in titles]
        support = title_support(candidates, grams)
        kept = keep_frequent(candidates, support, len(titles), self.threshold)
        by_key = dict(zip((c.key for c in candidates), support))
        return drop_nested(kept, [by_key[p.key] for p in kept])

    def passages(self, phrases: Sequence[Phrase], lang: str,
                 results: Sequence[tuple[str, str]]) -> list[MinedPassage]:
        """The passages of `(title, text)` results that contain at least one phrase.

        Args:
            phrases: Knowledge phrases of the query.
            lang: The query's language (the results are in it too).
            results: `(title, text)` per search result.
        """
        if not phrases:
            return []
        tokenizer, out = self.tokenizer(lang), []
        for r, (title, text) in enumerate(results):
            parts = split_passages(text, self.max_passage_chars)
            for p, part in enumerate(parts):
                spans = phrase_spans(tokenizer.tokens(part), phrases)
                if spans:
                    out.append(MinedPassage(r, p, title, part, spans))
        return out


TOTAL = "all"  # the stats row over every language


@dataclass
class LangStats:
    """Counts behind paper Table 4 for one language (or all of them)."""

    queries: int = 0
    queries_with_phrases: int = 0
    phrases: int = 0  # knowledge phrases summed over queries (# K-phrases)
    phrase_words: int = 0  # their tokens, for Avg. K-words
    passages: int = 0  # # P
    passage_phrases: int = 0  # distinct phrases per passage, summed, for Avg. K-phrases / P
    bad_lines: int = 0

    def table_row(self) -> dict:
        """The Table 4 columns plus query and bad-line counts, averages rounded."""
        return {
            "passages": self.passages,
            "k_phrases": self.phrases,
            "avg_k_words": round(self.phrase_words / self.phrases, 2) if self.phrases else 0.0,
            "avg_k_phrases_per_passage": (round(self.passage_phrases / self.passages, 2)
                                          if self.passages else 0.0),
            "queries": self.queries,
            "queries_with_phrases": self.queries_with_phrases,
            "bad_lines": self.bad_lines,
        }


_TABLE_HEADER = ("| lang | # P | # K-phrases | Avg. K-words | Avg. K-phrases / P | queries "
                 "| queries with phrases | bad lines |\n|---|---:|---:|---:|---:|---:|---:|---:|")


class MiningStats:
    """Paper Table 4 per language, accumulated one query at a time."""

    def __init__(self):
        self.langs: dict[str, LangStats] = {}
        self.total = LangStats()

    def add_query(self, lang: str, phrase_words: Sequence[int],
                  passage_phrases: Sequence[int]) -> None:
        """Counts one mined query.

        Args:
            lang: Its language.
            phrase_words: Token count of each of its knowledge phrases.
            passage_phrases: Distinct phrases in each of its passages.
        """
        for stats in (self.langs.setdefault(lang, LangStats()), self.total):
            stats.queries += 1
            stats.queries_with_phrases += bool(phrase_words)
            stats.phrases += len(phrase_words)
            stats.phrase_words += sum(phrase_words)
            stats.passages += len(passage_phrases)
            stats.passage_phrases += sum(passage_phrases)

    def add_bad(self, lang: str | None) -> None:
        """Counts a bad line, under its language too when the line names one."""
        self.total.bad_lines += 1
        if lang:
            self.langs.setdefault(lang, LangStats()).bad_lines += 1

    def to_dict(self) -> dict[str, dict]:
        """Table rows by language, sorted, then the `all` row."""
        rows = {lang: self.langs[lang].table_row() for lang in sorted(self.langs)}
        rows[TOTAL] = self.total.table_row()
        return rows

    def to_markdown(self) -> str:
        """The rows as a Markdown table with paper Table 4's column names."""
        lines = [_TABLE_HEADER]
        for lang, row in self.to_dict().items():
            lines.append(f"| {lang} | {row['passages']} | {row['k_phrases']} | "
                         f"{row['avg_k_words']:.2f} | {row['avg_k_phrases_per_passage']:.2f} | "
                         f"{row['queries']} | {row['queries_with_phrases']} | "
                         f"{row['bad_lines']} |")
        return "\n".join(lines) + "\n"
