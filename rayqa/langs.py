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
