"""`evaluate_files`: score a prediction file against a gold file with an official metric."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from rayqa.eval.cmrc import cmrc_scores
from rayqa.eval.mkqa import mkqa_evaluate_files
from rayqa.eval.mlqa import MLQA_LANGUAGES, mlqa_scores
from rayqa.eval.readers import read_predictions, read_squad_gold, read_xor_gold
from rayqa.eval.squad import squad_scores
from rayqa.eval.xor import strip_id_prefixes, xor_full_scores

# "drcd" is an alias: DRCD is scored with the CMRC 2018 script.
BENCHMARKS = ("squad", "mlqa", "cmrc", "drcd", "xor-full", "mkqa")

# MLQA names files dev-context-<answer lang>-question-<q lang>.json; XQuAD xquad.<lang>.json.
_MLQA_NAME = re.compile(r"context-([a-z]{2})-question-[a-z]{2}")
_LANG_SUFFIX = re.compile(r"[._-]([a-z]{2})\.json$")


def infer_mlqa_language(path: str | Path) -> str:
    """The answer language from a gold file name (`xquad.de.json`, MLQA's
    `dev-context-de-question-en.json`).

    Raises:
        ValueError: The name shows no MLQA language.
    """
    name = Path(path).name
    match = _MLQA_NAME.search(name) or _LANG_SUFFIX.search(name)
    if match is None or match.group(1) not in MLQA_LANGUAGES:
        raise ValueError(
            f"{path}: cannot tell the MLQA answer language from the file name; pass lang "
            f"(one of {', '.join(sorted(MLQA_LANGUAGES))})"
        )
    return match.group(1)


def evaluate_files(
    benchmark: str,
    gold_path: str | Path,
    predictions_path: str | Path,
    lang: str | None = None,
) -> dict[str, Any]:
    """Scores a prediction file as the benchmark's official script does.

    Args:
        benchmark: "squad" (SQuAD v1.1), "mlqa", "cmrc" / "drcd" (CMRC 2018 script),
            "xor-full" (XOR-TyDi full) or "mkqa" (mkqa_eval.py -v).
        gold_path: SQuAD-format JSON, XOR-TyDi JSONL for "xor-full", the MKQA JSON Lines
            file (gzipped or not) for "mkqa".
        predictions_path: `{question_id: answer}` JSON; for "mkqa" the official JSON
            Lines `{"example_id", "prediction", "binary_answer", "no_answer_prob"}`.
        lang: MLQA answer language (inferred from the gold file name when None); the
            MKQA language, required for "mkqa". Other benchmarks ignore it.

    Returns:
        squad / mlqa: {"exact_match", "f1"}; cmrc: {"AVERAGE", "F1", "EM", "TOTAL",
        "SKIP"}; xor-full: {lang: {"f1", "em", "bleu"}, ..., "avg": {...}}; mkqa: the
        metrics of `mkqa_scores`, rounded as the script prints them. Scores are on the
        0-100 scale the scripts print.

    Raises:
        ValueError: Unknown benchmark or language, or a missing / malformed file.
    """
    if benchmark not in BENCHMARKS:
        raise ValueError(f"unknown benchmark {benchmark!r}; choose from {', '.join(BENCHMARKS)}")
    if benchmark == "xor-full":
        # The script keeps only the part of each prediction id after the last "_".
        predictions = strip_id_prefixes(read_predictions(predictions_path))
        return xor_full_scores(read_xor_gold(gold_path), predictions)
    if benchmark == "mkqa":
        if lang is None:
            raise ValueError("mkqa needs the language (--lang), e.g. en or zh_cn")
        return mkqa_evaluate_files(gold_path, predictions_path, lang)
    gold = read_squad_gold(gold_path)
    predictions = read_predictions(predictions_path, numbers=benchmark in ("cmrc", "drcd"))
    if benchmark == "squad":
        return squad_scores(gold, predictions)
    if benchmark == "mlqa":
        return mlqa_scores(gold, predictions, lang or infer_mlqa_language(gold_path))
    return cmrc_scores(gold, predictions)
