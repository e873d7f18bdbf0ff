"""Build the rayqa multilingual demo corpus from the texts in ``texts/``.

All paragraphs and questions were written for rayqa (see README.md); nothing is copied
from a dataset or an encyclopedia.

``texts/<topic>.json`` holds one topic in every language::

    {"<lang>": {"title": ..., "context": ..., "train": [[question, answer], ...],
                "paraphrases": [[question, answer], ...], "dev": [[question, answer], ...]}}

Dev questions reword train questions about the same paragraph and answer; paraphrases
(``paraphrases.json``) reword them again for training, apart from the dev questions:

    python rayqa/resources/demo/build_corpus.py            # rewrite the JSON files
    python rayqa/resources/demo/build_corpus.py --check    # exit 1 if they are stale

Every answer occurs exactly once in its paragraph, else the build fails.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import unicodedata
from pathlib import Path

HERE = Path(__file__).resolve().parent
TEXTS = HERE / "texts"
LANGS = ("en", "de", "es", "fr", "zh", "ru", "ar", "hi")
# Topics in the order of the output files (the order the texts were written in).
TOPICS = ("lighthouse", "bread", "river", "bicycle", "tea", "library", "railway", "market",
          "bridge", "festival", "mountain", "bees")


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


def _check_paraphrases(where: str, lang: str, entry: dict) -> None:
    """Paraphrases ask train answers in new questions, sharing under half of their words
    (Jaccard) with every dev question."""
    seen = {_nfc(q) for q, _ in entry["train"] + entry["dev"]}
    words = lambda text: set(re.findall(r"\w" if lang == "zh" else r"\w+", text.lower()))
    for question, answer in entry["paraphrases"]:
        close = [d for d, _ in entry["dev"] if len(words(question) & words(d))
                 >= 0.5 * len(words(question) | words(d))]
        if answer not in {a for _, a in entry["train"]} or _nfc(question) in seen or close:
            raise ValueError(f"{where}: paraphrase {question!r} repeats a question, asks no "
                             f"train answer or is close to a dev question {close}")
        seen.add(_nfc(question))


def build(texts: Path = TEXTS) -> dict[str, object]:
    """All outputs as Python objects: SQuAD dicts for train/dev, row lists for jsonl."""
    found = {p.stem for p in texts.glob("*.json")}
    if found != set(TOPICS):
        raise ValueError(f"{texts}: topics {sorted(found)}, want {sorted(TOPICS)}")
    train, paraphrases, dev, passages = [], [], [], []
    for topic in TOPICS:
        by_lang = json.loads((texts / f"{topic}.json").read_text(encoding="utf-8"))
        if set(by_lang) != set(LANGS):
            raise ValueError(f"{topic}: languages {sorted(by_lang)}, want {sorted(LANGS)}")
        for lang in LANGS:
            entry = by_lang[lang]
            title, context = _nfc(entry["title"]), _nfc(entry["context"])
            train_pairs, dev_pairs = entry["train"], entry["dev"]
            for split, low, high in (("train", 4, 6), ("dev", 1, 2)):
                if not low <= len(entry[split]) <= high:
                    raise ValueError(f"{topic}-{lang}: {len(entry[split])} {split} questions "
                                     f"(want {low}-{high})")
            train_q = {_nfc(q) for q, _ in train_pairs}
            if len(train_q) != len(train_pairs) or train_q & {_nfc(q) for q, _ in dev_pairs}:
                raise ValueError(f"{topic}-{lang}: repeated question text")
            _check_paraphrases(f"{topic}-{lang}", lang, entry)
            for out, pairs, tag in ((train, train_pairs, ""), (dev, dev_pairs, "dev"),
                                    (paraphrases, entry["paraphrases"], "p")):
                out.append({"title": title, "paragraphs": [
                    {"context": context, "qas": _qas(topic, lang, context, pairs, tag)}]})
            passages.append({"id": f"{topic}-{lang}", "title": title, "text": context,
                             "lang": lang, "article_id": topic})
    return {
        "train.json": {"version": "1.1", "data": train},
        "paraphrases.json": {"version": "1.1", "data": paraphrases},
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
    texts = render(built := build())
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
