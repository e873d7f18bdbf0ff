"""Readers for gold and prediction files; every problem is a ValueError naming the file.

Formats: SQuAD v1.1 JSON gold (XQuAD, MLQA, CMRC 2018, DRCD), CMRC 2018's original JSON
gold (a list of contexts with query_id / answers), XOR-TyDi JSONL gold
({"id", "question", "answers", "lang"} per line), and {question_id: answer} JSON
predictions.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rayqa.eval._common import GoldExample, answer_texts, is_number


def _read_text(path: str | Path) -> str:
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ValueError(f"{path}: cannot read as UTF-8 text: {err}") from err


def _parse_json(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"{where}: malformed JSON: {err}") from err


def read_predictions(path: str | Path, numbers: bool = False) -> dict[str, str | int | float]:
    """Reads `{question_id: answer}` predictions.

    Args:
        path: The predictions JSON file.
        numbers: Keep JSON numbers as read, for the CMRC 2018 script (also DRCD's), which
            scores str(answer): 1874 is the answer "1874" there. The other scripts take
            strings only.

    Raises:
        ValueError: Missing file, malformed JSON, not an object, or an answer that is
            not a string (nor, with `numbers`, a number); the message names the file.
    """
    data = _parse_json(_read_text(path), str(path))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: predictions must be a JSON object {{id: answer}}, "
                         f"got {type(data).__name__}")
    bad = [qid for qid, answer in data.items()
           if not isinstance(answer, str) and not (numbers and is_number(answer))]
    if bad:
        kinds = "strings or numbers" if numbers else "strings (numbers only for cmrc / drcd)"
        raise ValueError(f"{path}: answers must be {kinds}; {len(bad)} are not "
                         f"(first: {bad[0]!r}: {data[bad[0]]!r:.50})")
    return data


def read_squad_gold(path: str | Path) -> list[GoldExample]:
    """Reads SQuAD v1.1-format gold: data / paragraphs / qas / answers[].text.

    CMRC 2018's original format, a list of contexts with qas / query_id / answers, is
    recognized and read as well (see `_cmrc_original_examples`).

    Raises:
        ValueError: Missing file, malformed JSON, or another structure (the message says
            where).
    """
    data = _parse_json(_read_text(path), str(path))
    if isinstance(data, list) and data and isinstance(data[0], Mapping) and "qas" in data[0]:
        return _cmrc_original_examples(data, str(path))
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise ValueError(f"{path}: not SQuAD format (expected an object with a 'data' list) "
                         "nor CMRC 2018's original format (a list of contexts with 'qas')")
    examples = []
    for a, article in enumerate(data["data"]):
        for p, paragraph in enumerate(_list_field(article, "paragraphs", f"{path}: data[{a}]")):
            for q, qa in enumerate(_list_field(paragraph, "qas",
                                               f"{path}: data[{a}].paragraphs[{p}]")):
                where = f"{path}: data[{a}].paragraphs[{p}].qas[{q}]"
                examples.append(_gold_example(qa, where))
    return examples


def _list_field(node: Any, key: str, where: str) -> list:
    """``node[key]`` when ``node`` is an object and that is a list.

    Raises:
        ValueError: Otherwise, naming ``where`` and ``key``.
    """
    value = node.get(key) if isinstance(node, Mapping) else None
    if not isinstance(value, list):
        raise ValueError(f"{where} has no {key!r} list")
    return value


def _cmrc_original_examples(contexts: list[Any], source: str) -> list[GoldExample]:
    """Gold examples of CMRC 2018's original format, as the CMRC 2018 script reads it.

    Each context is {"context_id", "context_text", "qas", "title"}; each question
    {"query_id", "query_text", "answers": [answer, ...]}. The dev file has numeric
    answers (4.9, 39764.0); the script str()s every answer, and so does this (the
    SQuAD-style copy of the file holds the same strings, so both score the same).

    Args:
        contexts: The parsed JSON list.
        source: File name for error messages.

    Raises:
        ValueError: A context without a 'qas' list, a question without a string
            'query_id' or without answers (the message says where).
    """
    examples = []
    for c, context in enumerate(contexts):
        for q, qa in enumerate(_list_field(context, "qas", f"{source}: [{c}]")):
            where = f"{source}: [{c}].qas[{q}]"
            if not isinstance(qa, Mapping) or not isinstance(qa.get("query_id"), str):
                raise ValueError(f"{where}: expected an object with a string 'query_id'")
            answers = qa.get("answers")
            if isinstance(answers, list):
                answers = [str(a) if is_number(a) else a for a in answers]
            examples.append(_gold_example({"id": qa["query_id"], "answers": answers}, where))
    return examples


def read_xor_gold(path: str | Path) -> list[GoldExample]:
    """Reads XOR-TyDi JSONL gold: one {"id", "answers", "lang"} object per line.

    Raises:
        ValueError: Missing file, a malformed line, or a record without those fields
            (the message names the line).
    """
    examples = []
    for n, line in enumerate(_read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{n}"
        record = _parse_json(line, where)
        example = _gold_example(record, where)
        if not isinstance(record.get("lang"), str) or not record["lang"]:
            raise ValueError(f"{where}: record has no 'lang'")
        examples.append(example._replace(lang=record["lang"]))
    return examples


def _gold_example(record: Any, where: str) -> GoldExample:
    if not isinstance(record, Mapping) or not isinstance(record.get("id"), str):
        raise ValueError(f"{where}: expected an object with a string 'id'")
    if "answers" not in record:
        raise ValueError(f"{where}: question {record['id']!r} has no 'answers'")
    try:
        return GoldExample(record["id"], answer_texts(record["answers"], record["id"]))
    except ValueError as err:
        raise ValueError(f"{where}: {err}") from None
