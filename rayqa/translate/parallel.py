"""Human translations from a parallel corpus, looked up by example id.

XQuAD's files are parallel: the same question id in every language marks translations
of one question, its paragraph and its answer. ``ParallelTranslator`` serves those
translations through the ``Translator`` interface (a source text is found by its exact
string, then its id is looked up in the target language) and by id directly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from itertools import permutations
from pathlib import Path

from rayqa.translate.base import TranslationError, Translator, pair_name

FIELDS = ("question", "context", "answer")


class ParallelTranslator(Translator):
    """Looks translations up in ``{lang: {field: {example_id: text}}}`` tables.

    Args:
        tables: Per language, per field (``question``, ``context``, ``answer``), the text
            of each example id. Contexts and answers are keyed by the question id too.
    """

    def __init__(self, tables: Mapping[str, Mapping[str, Mapping[str, str]]]):
        self.tables = {lang: {f: dict(table.get(f, {})) for f in FIELDS}
                       for lang, table in tables.items()}
        # Exact source string -> (field, id); the first occurrence wins, as repeated
        # strings (a paragraph shared by its questions) translate alike.
        self._keys = {lang: _reverse(t) for lang, t in self.tables.items()}

    @classmethod
    def from_xquad(cls, xquad_dir: str | Path, langs: Sequence[str] | None = None
                   ) -> ParallelTranslator:
        """Tables from the ``xquad.<lang>.json`` files in a directory (None: every language).

        The directory is a local path or a URI (``s3://...``), read through
        ``rayqa.storage``; a relative path is relative to this process's working
        directory, so make it absolute before a config travels to Ray actors.
        """
        from rayqa.corpus.xquad import load_xquad, xquad_langs

        langs = list(langs or xquad_langs(xquad_dir))
        data = load_xquad(xquad_dir, langs)
        return cls({lang: _xquad_table(articles) for lang, articles in data.items()})

    @property
    def pairs(self) -> list[str]:
        return [pair_name(a, b) for a, b in permutations(self.tables, 2)]

    def translate_ids(self, ids: Iterable[str], tgt: str, field: str = "question") -> list[str]:
        """The ``field`` text of each example id in language ``tgt``.

        Raises:
            TranslationError: Unknown language or field, or an id missing in ``tgt``.
        """
        if tgt not in self.tables or field not in FIELDS:
            raise TranslationError(f"no {field!r} texts in language {tgt!r} "
                                   f"(languages: {', '.join(self.tables)}; fields: {FIELDS})")
        table = self.tables[tgt][field]
        out = []
        for example_id in ids:
            if example_id not in table:
                raise TranslationError(f"{tgt}: no {field} with id {example_id!r}")
            out.append(table[example_id])
        return out

    def _translate(self, texts: list[str], src: str, tgt: str) -> list[str]:
        out = []
        for text in texts:
            key = self._keys[src].get(text.strip())
            if key is None:
                raise TranslationError(f"{pair_name(src, tgt)}: text not in the parallel "
                                       f"corpus: {text!r:.80}")
            field, example_id = key
            out += self.translate_ids([example_id], tgt, field)
        return out


def _reverse(table: Mapping[str, Mapping[str, str]]) -> dict[str, tuple[str, str]]:
    keys: dict[str, tuple[str, str]] = {}
    for field in FIELDS:
        for example_id, text in table[field].items():
            keys.setdefault(text.strip(), (field, example_id))
    return keys


def _xquad_table(articles: list[dict]) -> dict[str, dict[str, str]]:
    """One language's questions, contexts and first answers, by question id."""
    table: dict[str, dict[str, str]] = {field: {} for field in FIELDS}
    for article in articles:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                table["question"][qa["id"]] = qa["question"]
                table["context"][qa["id"]] = paragraph["context"]
                if qa.get("answers"):
                    table["answer"][qa["id"]] = qa["answers"][0]["text"]
    return table
