"""Language codes: script, word spacing, and language inference from file names.

Codes are ISO 639-1 as the benchmarks use them. MKQA's regional variants (`zh_cn`,
`zh_hk`, `zh_tw`) and BCP-47 spellings (`zh-CN`) share the entry of their base code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

UNKNOWN = "und"  # BCP-47 "undetermined"

# ISO 15924 script per language: the languages of XQuAD, MLQA, XOR-TyDi, MKQA and CORA.
SCRIPTS: dict[str, str] = {
    "ar": "Arab", "bg": "Cyrl", "bn": "Beng", "cs": "Latn", "da": "Latn", "de": "Latn",
    "el": "Grek", "en": "Latn", "es": "Latn", "fa": "Arab", "fi": "Latn", "fr": "Latn",
    "he": "Hebr", "hi": "Deva", "hu": "Latn", "id": "Latn", "it": "Latn", "ja": "Jpan",
    "km": "Khmr", "ko": "Kore", "lo": "Laoo", "mr": "Deva", "ms": "Latn", "my": "Mymr",
    "nl": "Latn", "no": "Latn", "pl": "Latn", "pt": "Latn", "ro": "Latn", "ru": "Cyrl",
    "sv": "Latn", "sw": "Latn", "ta": "Taml", "te": "Telu", "th": "Thai", "tl": "Latn",
    "tr": "Latn", "uk": "Cyrl", "ur": "Arab", "vi": "Latn", "zh": "Hani",
}

# Languages written without spaces between words: whitespace splitting does not give
# words, so n-grams and evaluation need a character level or a segmenter instead.
NO_SPACE_LANGS = frozenset({"zh", "ja", "th", "km", "my", "lo"})

RTL_SCRIPTS = frozenset({"Arab", "Hebr"})


@dataclass(frozen=True)
class LangInfo:
    """What the pipeline needs to know about one language.

    Attributes:
        code: The base ISO 639-1 code (`zh` for `zh_cn`).
        script: ISO 15924 script code, `Zyyy` when unknown.
        spaces: Whether words are separated by spaces.
        rtl: Whether the script is written right to left.
    """

    code: str
    script: str
    spaces: bool
    rtl: bool


def base_lang(code: str) -> str:
    """Returns the base code: lower case, region dropped (`zh_CN`, `zh-tw` -> `zh`)."""
    return re.split(r"[_-]", code.strip().lower(), maxsplit=1)[0]


def lang_info(code: str) -> LangInfo:
    """Returns the properties of a language code (unknown codes get script `Zyyy`)."""
    base = base_lang(code)
    script = SCRIPTS.get(base, "Zyyy")
    return LangInfo(base, script, base not in NO_SPACE_LANGS, script in RTL_SCRIPTS)


def uses_spaces(code: str) -> bool:
    """Whether the language separates words with spaces (False for zh, ja, th, km, my, lo)."""
    return base_lang(code) not in NO_SPACE_LANGS


# File-name conventions of the benchmarks, tried in order before the generic rule.
_FILENAME_RULES: tuple[tuple[re.Pattern[str], str | None], ...] = (
    # MLQA `dev-context-de-question-es.json`: the answer span lives in the context.
    (re.compile(r"context-([a-z]{2})\b", re.I), None),
    (re.compile(r"^cmrc2018", re.I), "zh"),
    (re.compile(r"^drcd", re.I), "zh"),
)


def lang_from_filename(path: str | Path) -> str | None:
    """Infers the language of a data file from its name.

    Knows MLQA (`dev-context-de-question-es.json` -> `de`, the context language), CMRC 2018
    and DRCD (`zh`); otherwise takes the one known language code among the name's parts
    split on `.`, `_` and `-` (`xquad.zh.json` -> `zh`, `train-hi.jsonl` -> `hi`).

    Args:
        path: The file path; only the file name is looked at.

    Returns:
        The code, or None when the name names no language or more than one.
    """
    name = Path(path).name
    for pattern, lang in _FILENAME_RULES:
        match = pattern.search(name)
        if match:
            return lang or match.group(1).lower()
    parts = re.split(r"[._-]", name.lower())
    found = {part for part in parts if part in SCRIPTS}
    return found.pop() if len(found) == 1 else None


# --- Word segmentation: token character spans per language ------------------------------
#
# Passages are cut at token boundaries and must stay exact slices of their article, so
# segmenters return (start, end) character spans, never re-joined strings. Spaced
# languages use whitespace words (DPR's 100-word passages). Unspaced languages use the
# segmenter the field uses for each: MeCab + UniDic for Japanese (as the XOR-TyDi
# scorer), jieba for Chinese, PyThaiNLP's newmm for Thai. Khmer, Lao and Burmese use
# orthographic syllables (orthographic clusters: a grapheme cluster plus the subscript
# consonants a coeng or virama joins to it): their word segmenters (khmer-nltk) pull in scikit-learn and a CRF
# model, and a syllable is the unit their retrieval work commonly falls back to.

_SYLLABLE_SCRIPTS = r"\p{Khmer}\p{Lao}\p{Myanmar}"


def token_spans(text: str, lang: str) -> list[tuple[int, int]]:
    """Returns the `(start, end)` character spans of the tokens of `text`.

    Args:
        text: Any text; whitespace is never part of a token.
        lang: Language code; chooses the segmenter (see `segmenter_name`).
    """
    return segmenter(lang)(text)


def segmenter_name(lang: str) -> str:
    """Names the tokenizer `token_spans` uses: whitespace, mecab, jieba, newmm or syllable."""
    return {"ja": "mecab", "zh": "jieba", "th": "newmm", "km": "syllable", "lo": "syllable",
            "my": "syllable"}.get(base_lang(lang), "whitespace")


def segmenter(lang: str):
    """Returns a function `text -> [(start, end), ...]` for `lang`, loading its model once."""
    name = segmenter_name(lang)
    if name not in _SEGMENTERS:
        _SEGMENTERS[name] = globals()[f"_{name}_segmenter"]()
    return _SEGMENTERS[name]


_SEGMENTERS: dict = {}  # loaded segmenters by name, one per process (per Ray actor)


def _whitespace_segmenter():
    pattern = re.compile(r"\S+")
    return lambda text: [m.span() for m in pattern.finditer(text)]


def _spans_of_surfaces(text: str, surfaces) -> list[tuple[int, int]]:
    """Locates the segmenter's token strings in order; whitespace tokens are skipped."""
    spans, position = [], 0
    for surface in surfaces:
        if not surface.strip():
            continue
        start = text.find(surface, position)
        if start < 0:  # a segmenter that normalizes its output would break exact slicing
            raise ValueError(f"segmenter token {surface!r} not found in the text after "
                             f"offset {position}")
        position = start + len(surface)
        spans.append((start, position))
    return spans


def _mecab_segmenter():
    import MeCab

    tagger = MeCab.Tagger("-Owakati")  # unidic-lite is picked up by mecab-python3 itself
    return lambda text: _spans_of_surfaces(text, tagger.parse(text).split())


def _jieba_segmenter():
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return lambda text: [(start, end) for word, start, end in jieba.tokenize(text)
                         if word.strip()]


def _newmm_segmenter():
    from pythainlp.tokenize import word_tokenize

    return lambda text: _spans_of_surfaces(
        text, word_tokenize(text, engine="newmm", keep_whitespace=False))


def _syllable_segmenter():
    import regex

    # Words of other scripts stay whole; a syllable is a grapheme cluster extended over
    # coeng (U+17D2) / virama (U+1039) joins, which Unicode leaves as cluster breaks.
    pattern = regex.compile(rf"[^\s\u200b{_SYLLABLE_SCRIPTS}]+"
                            rf"|(?:\X(?<=[\u17d2\u1039]))*\X", regex.V1)
    return lambda text: [m.span() for m in pattern.finditer(text)
                         if m.group().strip("\u200b \t\r\n\f\v")]
