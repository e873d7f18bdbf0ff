"""Build the rayqa multilingual demo corpus from the texts in ``texts/``.

All paragraphs and questions were written for rayqa (see README.md); nothing here is
copied from a dataset or an encyclopedia. The towns, people and places (Sollby, Dornau,
the Velna, Mount Orvald, ...) are invented.

``texts/<topic>.json`` holds one topic in every language::

    {"<lang>": {"title": ..., "context": ...,
                "train": [[question, answer], ...], "dev": [[question, answer], ...]}}

Dev questions reword train questions about the same paragraph and answer. Run from anywhere:

    python rayqa/resources/demo/build_corpus.py            # rewrite the JSON files
    python rayqa/resources/demo/build_corpus.py --check    # exit 1 if they are stale

Every answer must occur exactly once in its paragraph: answer_start is computed with
``context.index(answer)`` and the build fails loudly on a missing or repeated answer.
"""

from __future__ import annotations

import argparse
import json
import sys
import unicodedata
from pathlib import Path

HERE = Path(__file__).resolve().parent
TEXTS = HERE / "texts"
LANGS = ("en", "de", "es", "fr", "zh", "ru", "ar", "hi")
# Topics in the order of the output files (the order the texts were written in).
TOPICS = ("lighthouse", "bread", "river", "bicycle", "tea", "library", "railway", "market",
          "bridge", "festival", "mountain", "bees")
OUTPUTS = ("train.json", "dev.json", "passages.jsonl")


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _answer_start(context: str, answer: str, where: str) -> int:
    """Offset of ``answer`` in ``context``; the answer must occur exactly once."""
    count = context.count(answer)
    if count == 0:
        raise ValueError(f"{where}: answer {answer!r} is not in the paragraph")
    if count > 1:
        raise ValueError(f"{where}: answer {answer!r} occurs {count} times; make it distinctive")
    return context.index(answer)


def _qas(topic: str, lang: str, context: str, pairs, tag: str) -> list[dict]:
    out = []
    for n, (question, answer) in enumerate(pairs, start=1):
        qid = f"demo-{topic}-{lang}-{tag}{n}"
        question, answer = _nfc(question).strip(), _nfc(answer).strip()
        if not question or not answer:
            raise ValueError(f"{qid}: empty question or answer")
        start = _answer_start(context, answer, qid)
        out.append({"id": qid, "question": question,
                    "answers": [{"text": answer, "answer_start": start}], "lang": lang})
    return out


def read_topic(topic: str, texts: Path = TEXTS) -> dict[str, dict]:
    """One topic's texts by language, checked to hold exactly the demo's languages."""
    by_lang = json.loads((texts / f"{topic}.json").read_text(encoding="utf-8"))
    missing, extra = set(LANGS) - set(by_lang), set(by_lang) - set(LANGS)
    if missing or extra:
        raise ValueError(f"{topic}: languages missing {sorted(missing)}, extra {sorted(extra)}")
    return by_lang


def build(texts: Path = TEXTS) -> dict[str, object]:
    """All three outputs as Python objects: SQuAD dicts for train/dev, row lists for jsonl."""
    found = {p.stem for p in texts.glob("*.json")}
    if found != set(TOPICS):
        raise ValueError(f"{texts}: topics {sorted(found)}, want {sorted(TOPICS)}")
    train, dev, passages = [], [], []
    for topic in TOPICS:
        by_lang = read_topic(topic, texts)
        for lang in LANGS:
            entry = by_lang[lang]
            title, context = _nfc(entry["title"]), _nfc(entry["context"])
            train_pairs, dev_pairs = entry["train"], entry["dev"]
            if not 4 <= len(train_pairs) <= 6:
                raise ValueError(f"{topic}-{lang}: {len(train_pairs)} train questions (want 4-6)")
            if not 1 <= len(dev_pairs) <= 2:
                raise ValueError(f"{topic}-{lang}: {len(dev_pairs)} dev questions (want 1-2)")
            train_q = {_nfc(q) for q, _ in train_pairs}
            if len(train_q) != len(train_pairs) or train_q & {_nfc(q) for q, _ in dev_pairs}:
                raise ValueError(f"{topic}-{lang}: repeated question text")
            train.append({"title": title, "paragraphs": [
                {"context": context, "qas": _qas(topic, lang, context, train_pairs, "")}]})
            dev.append({"title": title, "paragraphs": [
                {"context": context, "qas": _qas(topic, lang, context, dev_pairs, "dev")}]})
            passages.append({"id": f"{topic}-{lang}", "title": title, "text": context,
                             "lang": lang, "article_id": topic})
    return {
        "train.json": {"version": "1.1", "data": train},
        "dev.json": {"version": "1.1", "data": dev},
        "passages.jsonl": passages,
    }


def render(built: dict[str, object]) -> dict[str, str]:
    """File name -> exact text written (UTF-8, one JSON object per line for .jsonl)."""
    out = {}
    for name, obj in built.items():
        if name.endswith(".jsonl"):
            out[name] = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in obj)
        else:
            out[name] = json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n"
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="output folder (default: here)")
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 if the files in --out differ from a rebuild")
    args = parser.parse_args(argv)
    built = build()
    texts = render(built)
    if args.check:
        stale = [n for n, t in texts.items()
                 if not (args.out / n).is_file() or (args.out / n).read_text("utf-8") != t]
        if stale:
            print(f"stale: {', '.join(stale)} (rerun {Path(__file__).name})", file=sys.stderr)
            return 1
        print("demo corpus is up to date")
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        (args.out / name).write_text(text, encoding="utf-8")
    print(f"wrote {', '.join(texts)} to {args.out} ({len(built['passages.jsonl'])} paragraphs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
