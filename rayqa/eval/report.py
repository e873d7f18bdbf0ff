"""Pictures and tables of a CORA evaluation run.

- `language_breakdown` / `plot_language_breakdown`: which languages the retrieved
  passages are in, per question language, and a heatmap of it like the CORA paper's
  Figure 3 (x: question language, y: passage language, cells in %).
- `results_table`: one row per system or run, one column per language plus the average,
  like the paper's Tables 1-3, written as Markdown and CSV.

Pictures and tables are written to a local path or a URI (``s3://...``; see
``rayqa.storage``), each file whole. matplotlib is imported only by the plotting
function, and draws on an Agg canvas without touching pyplot's global state.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rayqa import storage

AVERAGE = "avg"


@dataclass(frozen=True)
class LanguageBreakdown:
    """Counts of retrieved passages by question language (rows) and passage language
    (columns).

    Attributes:
        question_langs: Row labels.
        passage_langs: Column labels.
        counts: Integer matrix of shape (len(question_langs), len(passage_langs)).
    """

    question_langs: tuple[str, ...]
    passage_langs: tuple[str, ...]
    counts: np.ndarray

    def fractions(self) -> np.ndarray:
        """Each row divided by its sum (rows sum to 1; a row with no passages stays 0)."""
        totals = self.counts.sum(axis=1, keepdims=True)
        return np.divide(self.counts, totals, out=np.zeros(self.counts.shape), where=totals > 0)

    def to_dict(self) -> dict[str, dict[str, float]]:
        """{question lang: {passage lang: fraction}}, JSON-serializable."""
        fractions = self.fractions()
        return {q: {p: float(fractions[i, j]) for j, p in enumerate(self.passage_langs)}
                for i, q in enumerate(self.question_langs)}


def _lang_of(item: Any, what: str) -> str:
    lang = item.get("lang") if isinstance(item, Mapping) else getattr(item, "lang", None)
    if not isinstance(lang, str) or not lang:
        raise ValueError(f"{what} has no 'lang': {item!r:.200}")
    return lang


def language_breakdown(
    questions: Sequence[Any],
    retrieved: Sequence[Sequence[Any]],
    k: int | None = None,
    question_langs: Sequence[str] | None = None,
    passage_langs: Sequence[str] | None = None,
) -> LanguageBreakdown:
    """Counts the languages of the top-k retrieved passages per question language.

    Args:
        questions: Dicts or objects with `lang`.
        retrieved: The ranked passages (dicts or objects with `lang`) of each question,
            aligned with `questions`.
        k: Count only the top k of each list; None counts all.
        question_langs: Row order; by default the question languages in order of first
            appearance. Questions in other languages are an error.
        passage_langs: Column order; by default the question languages first, then the
            other passage languages sorted. Passages in other languages are an error.

    Returns:
        The breakdown.

    Raises:
        ValueError: Lengths differ, k < 1, a missing `lang`, or a language outside the
            given orders.
    """
    if len(questions) != len(retrieved):
        raise ValueError(f"{len(questions)} questions but {len(retrieved)} retrieved lists")
    if k is not None and k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    pairs = [(_lang_of(q, f"question {i}"), _lang_of(p, f"question {i}: passage {r}"))
             for i, (q, passages) in enumerate(zip(questions, retrieved))
             for r, p in enumerate(passages[:k], start=1)]
    rows = tuple(question_langs or dict.fromkeys(_lang_of(q, "question") for q in questions))
    cols = tuple(passage_langs or
                 [*rows, *sorted({p for _, p in pairs} - set(rows))])
    counts = np.zeros((len(rows), len(cols)), dtype=np.int64)
    row_of = {lang: i for i, lang in enumerate(rows)}
    col_of = {lang: j for j, lang in enumerate(cols)}
    for q_lang, p_lang in pairs:
        if q_lang not in row_of or p_lang not in col_of:
            raise ValueError(f"language pair ({q_lang}, {p_lang}) is outside the given "
                             f"orders {list(rows)} x {list(cols)}")
        counts[row_of[q_lang], col_of[p_lang]] += 1
    return LanguageBreakdown(rows, cols, counts)


def plot_language_breakdown(breakdown: LanguageBreakdown, path: str | os.PathLike,
                            title: str | None = None, dpi: int = 100) -> str:
    """Writes the breakdown as an annotated heatmap PNG like CORA's Figure 3.

    The x axis is the question (target) language, the y axis the passage language; each
    cell is the percentage of that question language's passages, so columns sum to 100.

    Args:
        breakdown: From `language_breakdown`.
        path: The PNG to write, a local path (parent directories are created) or a URI.
        title: Optional title above the picture.
        dpi: Resolution.

    Returns:
        The location written.
    """
    from matplotlib.figure import Figure  # heavy; only plotting needs it

    percent = 100.0 * breakdown.fractions().T  # rows: passage langs, columns: question langs
    n_rows, n_cols = percent.shape
    fig = Figure(figsize=(1.0 + 0.6 * max(n_cols, 2), 1.0 + 0.45 * max(n_rows, 2)), dpi=dpi)
    ax = fig.add_subplot()
    image = ax.imshow(percent, cmap="Blues", vmin=0.0, vmax=100.0, aspect="auto")
    ax.set_xticks(range(n_cols), labels=breakdown.question_langs)
    ax.set_yticks(range(n_rows), labels=breakdown.passage_langs)
    ax.set_xlabel("question language")
    ax.set_ylabel("retrieved passage language")
    for i in range(n_rows):
        for j in range(n_cols):
            color = "white" if percent[i, j] > 60 else "black"  # readable on dark cells
            ax.text(j, i, f"{percent[i, j]:.1f}", ha="center", va="center", fontsize=7,
                    color=color)
    fig.colorbar(image, ax=ax, label="% of retrieved passages")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    png = io.BytesIO()  # rendered in memory, then written whole to a path or URI
    fig.savefig(png, format="png")
    storage.write_bytes(path, png.getvalue())
    return str(path)


@dataclass
class ResultsTable:
    """Scores of several runs by language, like CORA's Tables 1-3.

    Attributes:
        columns: Languages, in column order.
        rows: Per run (row label, in row order), the score per language; a missing
            score is None (shown as "-", as the paper marks languages a baseline lacks).
        average: Whether to add the average column.
    """

    columns: tuple[str, ...]
    rows: dict[str, dict[str, float | None]] = field(default_factory=dict)
    average: bool = True

    def averages(self) -> dict[str, float | None]:
        """Per run, the unweighted mean over all columns; None when one is missing."""
        means: dict[str, float | None] = {}
        for run, scores in self.rows.items():
            values = [scores.get(lang) for lang in self.columns]
            means[run] = None if None in values else sum(values) / len(values)
        return means

    def _cells(self) -> tuple[list[str], list[tuple[str, list[float | None]]]]:
        header = [*self.columns, AVERAGE] if self.average else list(self.columns)
        means = self.averages()
        body = [(run, [scores.get(lang) for lang in self.columns]
                 + ([means[run]] if self.average else []))
                for run, scores in self.rows.items()]
        return header, body

    def to_markdown(self, digits: int = 1) -> str:
        """A Markdown table, scores with `digits` decimals and "-" where missing."""
        header, body = self._cells()
        lines = ["| run | " + " | ".join(header) + " |",
                 "| --- |" + " ---: |" * len(header)]
        for run, values in body:
            cells = ["-" if v is None else f"{v:.{digits}f}" for v in values]
            lines.append(f"| {run} | " + " | ".join(cells) + " |")
        return "\n".join(lines) + "\n"

    def to_csv(self) -> str:
        """CSV text with a header row; full precision, empty cells where missing."""
        header, body = self._cells()
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["run", *header])
        for run, values in body:
            writer.writerow([run, *("" if v is None else repr(float(v)) for v in values)])
        return out.getvalue()

    def write(self, out_dir: str | os.PathLike, name: str = "results",
              digits: int = 1) -> tuple[str, str]:
        """Writes `<out_dir>/<name>.md` and `<out_dir>/<name>.csv`, each whole.

        Args:
            out_dir: A local directory (created) or a URI.
            name: The file name without extension.
            digits: Decimals in the Markdown table.

        Returns:
            The Markdown and CSV locations.
        """
        md, csv_file = storage.join(out_dir, f"{name}.md"), storage.join(out_dir, f"{name}.csv")
        storage.write_text(md, self.to_markdown(digits))
        storage.write_text(csv_file, self.to_csv())
        return md, csv_file


def results_table(
    runs: Mapping[str, Mapping[str, Any]],
    metric: str | None = None,
    langs: Sequence[str] | None = None,
    average: bool = True,
) -> ResultsTable:
    """Builds a results table from per-language scores of several runs.

    Args:
        runs: Per run, {lang: score} where a score is a number, or a dict of metrics
            from which `metric` is taken: e.g. `xor_full_scores` output with "f1",
            {lang: mkqa_scores(...)} with "f1", `retrieval_recall` output with
            "R^L@10". A run's own "avg" entry is ignored: the table averages itself.
        metric: Key of the metric when scores are dicts.
        langs: Column order; by default every language of any run, in order of first
            appearance.
        average: Add the average column (the mean over all columns, only for runs that
            have every column).

    Returns:
        The table.

    Raises:
        ValueError: No runs; a dict score without `metric` (or lacking it); a score
            that is not a number.
    """
    if not runs:
        raise ValueError("no runs to tabulate")
    columns = tuple(langs or dict.fromkeys(
        lang for scores in runs.values() for lang in scores if lang != AVERAGE))
    table = ResultsTable(columns, average=average)
    for run, scores in runs.items():
        table.rows[run] = {lang: _score(scores[lang], metric, run, lang)
                           for lang in columns if lang in scores}
    return table


def _score(value: Any, metric: str | None, run: str, lang: str) -> float:
    if isinstance(value, Mapping):
        if metric is None or metric not in value:
            raise ValueError(f"{run}/{lang}: scores are dicts; pass a metric "
                             f"(one of {', '.join(map(str, value))})")
        value = value[metric]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{run}/{lang}: score must be a number, got {value!r:.100}")
    return float(value)


def em_f1_table(runs: Mapping[str, Mapping[str, Mapping[str, float]]],
                langs: Sequence[str] | None = None) -> tuple[str, str]:
    """A table like the mixMRC/LAKM paper's Tables 7 and 9: rows are settings, each
    language's cell is ``EM / F1``.

    Args:
        runs: Per setting (row, in order), ``{lang: {"exact_match": .., "f1": ..}}``.
        langs: Column order; by default every language, in order of first appearance.

    Returns:
        ``(markdown, csv)``: the Markdown table ("-" where a setting lacks a language)
        and CSV text with separate ``<lang>_em`` and ``<lang>_f1`` columns.
    """
    if not runs:
        raise ValueError("no runs to tabulate")
    columns = list(langs or dict.fromkeys(lang for scores in runs.values() for lang in scores))
    lines = ["| setting | " + " | ".join(f"{lang} EM / F1" for lang in columns) + " |",
             "| --- |" + " ---: |" * len(columns)]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["setting", *(f"{lang}_{m}" for lang in columns for m in ("em", "f1"))])
    for run, scores in runs.items():
        cells = [f"{scores[lang]['exact_match']:.1f} / {scores[lang]['f1']:.1f}"
                 if lang in scores else "-" for lang in columns]
        lines.append(f"| {run} | " + " | ".join(cells) + " |")
        writer.writerow([run, *(repr(float(scores[lang][m])) if lang in scores else ""
                                for lang in columns for m in ("exact_match", "f1"))])
    return "\n".join(lines) + "\n", out.getvalue()
