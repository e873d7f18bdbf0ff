"""The ``rayqa`` command: one subcommand per pipeline stage, plus ``predict`` and ``demo``.

Every stage is also a script under ``jobs/``, which is what ``ray job submit`` runs.
Both come from the one table ``COMMANDS``, so ``rayqa index ARGS`` and ``python
jobs/build_index.py ARGS`` take the same arguments and behave the same. Errors in
the inputs (a config or override that does not validate, a bad record in strict mode,
a missing file) print one line to stderr and exit with 2. Heavy imports happen inside
the stages, so ``rayqa --help`` and ``rayqa evaluate`` start fast.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

# The input errors of every stage: ConfigError, DataError and TranslationError are
# ValueErrors too. Anything else is a bug and keeps its traceback.
INPUT_ERRORS = (ValueError, FileNotFoundError)

DESCRIPTION = """\
Ray-native multilingual question answering: every pipeline stage is a subcommand, and
each stage with a script under jobs/ takes the same arguments there (what
`ray job submit` runs). `rayqa COMMAND --help` shows a command's arguments."""


def load(path: str):
    """The object named ``"module:attribute"``, imported only when a stage runs."""
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


@dataclass(frozen=True)
class ConfigStage:
    """A stage run as ``--config FILE [dotted.key=value ...]``: validate, start Ray, run.

    Attributes:
        config: ``module:Class`` of the job config.
        run: ``module:function`` called with the validated config; its return value is
            the stage's result.
        description: The ``--help`` text.
        check: ``module:function`` that vets the config before Ray starts, if any.
        needs_ray: Whether the stage needs Ray, or a function of the config that says.
    """

    config: str
    run: str
    description: str
    check: str | None = None
    needs_ray: bool | Callable[[Any], bool] = True

    def __call__(self, argv: list[str], prog: str):
        from rayqa.runtime import init_ray, load_job_config

        cfg = load_job_config(load(self.config), argv, self.description, prog)
        if self.check:
            load(self.check)(cfg)
        if self.needs_ray(cfg) if callable(self.needs_ray) else self.needs_ray:
            init_ray()
        return load(self.run)(cfg)


@dataclass(frozen=True)
class Command:
    """A ``rayqa`` subcommand.

    Attributes:
        summary: Its line in ``rayqa --help``.
        main: ``main(argv, prog)``, or the ``"module:function"`` of one: parses
            ``argv``, runs, returns the result; input errors raise.
        script: Its file under ``jobs/`` (for ``ray job submit``), if it has one.
    """

    summary: str
    main: Callable[[list[str], str], Any] | str
    script: str | None = None


def parser_for(prog: str, description: str | None) -> argparse.ArgumentParser:
    """An argument parser that prints ``description`` as written."""
    return argparse.ArgumentParser(prog=prog, description=description,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)


def evaluate_main(argv: list[str], prog: str) -> dict:
    """Score predictions exactly as the official benchmark scripts do.

    Prints one JSON object, equal to what the official script prints.
    """
    from rayqa.eval import BENCHMARKS, evaluate_files

    parser = parser_for(prog, evaluate_main.__doc__)
    parser.add_argument("--benchmark", required=True, choices=BENCHMARKS)
    parser.add_argument("--lang", help="answer language: mlqa (inferred from the gold file "
                        "name) or mkqa (required, e.g. en, zh_cn)")
    parser.add_argument("gold", help="gold file (SQuAD JSON, CMRC 2018 original JSON, "
                        "XOR-TyDi JSONL, MKQA .jsonl.gz)")
    parser.add_argument("predictions", help="predictions JSON {question_id: answer}; for "
                        "mkqa the official JSON Lines")
    args = parser.parse_args(argv)
    scores = evaluate_files(args.benchmark, args.gold, args.predictions, lang=args.lang)
    print(json.dumps(scores, ensure_ascii=False))
    return scores


def predict_main(argv: list[str], prog: str) -> dict:
    """Answer SQuAD-format questions with a trained reader; writes {question_id: answer}."""
    parser = parser_for(prog, predict_main.__doc__)
    parser.add_argument("--model", required=True,
                        help="reader directory (e.g. <output_dir>/final)")
    parser.add_argument("--data", required=True, help="SQuAD v1.1 JSON")
    parser.add_argument("--out", required=True, help="where to write {question_id: answer}")
    parser.add_argument("--lang", help="language of the data when the file does not say")
    parser.add_argument("--strict", action="store_true", help="fail on the first bad record")
    parser.add_argument("--device", help="cpu or cuda (default: cuda when available)")
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args(argv)

    from rayqa.answer.extractive import ExtractiveReader
    from rayqa.data.records import BadRecords
    from rayqa.data.squad import read_squad, write_predictions

    reader = ExtractiveReader(args.model, device=args.device, batch_size=args.batch_size)
    report = BadRecords()  # an aligner or verifier needs each question's translated_answer
    examples = read_squad(args.data, lang=args.lang, strict=args.strict, report=report,
                          require_answers=False, require_translation=bool(reader.alignment))
    predictions = reader.predict(examples)
    write_predictions(predictions, args.out)
    print(f"wrote {len(predictions)} predictions to {args.out} "
          f"({report.total} bad records skipped)", file=sys.stderr)
    return predictions


def run_settings_main(argv: list[str], prog: str) -> tuple[Path, Path]:
    """Train a list of reader settings and write a Table 7/9-style EM / F1 table.

        rayqa run-settings --output runs/table7 \\
            configs/boundary/{baseline,lakm,mixmrc,mixmrc_lakm}.yaml \\
            [model.name_or_path=xlm-roberta-base ...]

    Arguments ending in .yaml are settings (rows, in order, named by their files); the
    others are dotted overrides applied to every setting. Columns are the test languages:
    EM / F1 on data.test_files of each setting's checkpoint selected by dev F1 on
    data.dev_files (a setting without test files is refused). Re-running skips the
    settings already finished and resumes an interrupted one.
    """
    parser = parser_for(prog, run_settings_main.__doc__)
    parser.add_argument("--output", required=True, help="directory of the runs and the table")
    parser.add_argument("items", nargs="+", metavar="SETTING.yaml | key=value",
                        help="setting YAMLs in row order, and dotted overrides for all")
    args = parser.parse_args(argv)
    settings = [item for item in args.items if item.endswith((".yaml", ".yml"))]
    overrides = [item for item in args.items if item not in settings]
    if not settings:
        parser.error("give at least one setting YAML")
    from rayqa.pipelines.settings import run_settings
    from rayqa.runtime import init_ray

    init_ray()
    return run_settings(settings, args.output, overrides)


def split_xquad_main(argv: list[str], prog: str) -> dict:
    """Split XQuAD by article into parallel train and dev sets (for the mixMRC/LAKM tables).

        rayqa split-xquad --xquad ../shared/data/xquad --output runs/xquad \\
            [--dev-articles 8] [--langs en,de,es,zh]

    Writes <output>/train/xquad.<lang>.json and <output>/dev/xquad.<lang>.json.
    """
    parser = parser_for(prog, split_xquad_main.__doc__)
    parser.add_argument("--xquad", required=True, help="directory of xquad.<lang>.json files")
    parser.add_argument("--output", required=True)
    parser.add_argument("--dev-articles", type=int, default=8, help="articles held out")
    parser.add_argument("--langs", help="comma-separated languages (default: all files)")
    args = parser.parse_args(argv)
    from rayqa.corpus.xquad import split_xquad

    counts = split_xquad(args.xquad, args.output, args.dev_articles,
                         args.langs.split(",") if args.langs else None)
    print(f"questions per language: {counts}")
    return counts


def demo_main(argv: list[str], prog: str) -> int:
    """Train, index, serve and ask the demo corpus end to end (``make demo``)."""
    parser = parser_for(prog, demo_main.__doc__)
    parser.add_argument("--workdir", default="runs/demo")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--epochs", type=int, default=None, help="override the demo's epochs")
    args = parser.parse_args(argv)
    from rayqa.demo import run_demo

    return run_demo(args.workdir, port=args.port, epochs=args.epochs)


TRAIN = ConfigStage("rayqa.config:ReaderJobConfig", "rayqa.train.reader_job:train_reader", """\
Fine-tune an extractive reader with Ray Train + DeepSpeed.

    rayqa train --config configs/reader.yaml [train.lr=3e-5 ...]
    ray job submit --working-dir . -- python jobs/train.py --config configs/reader.yaml

Re-running with the same train.run_name resumes from the latest checkpoint.""")

INDEX = ConfigStage("rayqa.config:IndexJobConfig", "rayqa.retrieval.build:build_index", """\
Encode passages with Ray Data and write a dense (FAISS) + per-language BM25 index.

    rayqa index --config configs/index.yaml [encoder.num_actors=4 ...]
    ray job submit --working-dir . -- python jobs/build_index.py --config configs/index.yaml

The output directory is self-contained: passages, indexes, a checksummed manifest and
the resolved config; rayqa.retrieval.retriever.Retriever(output_dir) serves from it.""")

MIXMRC = ConfigStage(
    "rayqa.config:MixMRCJobConfig", "rayqa.augment.mixmrc_job:make_mixmrc", """\
Generate mixMRC data: translated training data and mixed-language question/passage pairs.

    rayqa mixmrc --config configs/mixmrc.yaml [max_pairs_per_example=4 ...]
    ray job submit --working-dir . -- python jobs/make_mixmrc.py --config configs/mixmrc.yaml

The output directory holds translated.<lang>.json per target language, mixed.json,
Table 3 of the paper (table3.md / .csv / .json: instances and skip ratio per language)
and the resolved config; see rayqa.augment.mixmrc_job.""",
    # An unsupported language pair fails before Ray starts.
    check="rayqa.augment.mixmrc_job:check_translator")

PASSAGES = ConfigStage("rayqa.config:PassagesJobConfig", "rayqa.corpus.build:build_passages", """\
Cut articles into 100-token passages with Ray Data (CORA / DPR collections).

    rayqa make-passages --config configs/passages.yaml [passage_tokens=100 ...]
    rayqa make-passages --config configs/passages.yaml xquad_dir=null \\
        "article_files=[{path: wiki/en, lang: en, format: wikiextractor}]"
    ray job submit --working-dir . -- python jobs/make_passages.py --config configs/passages.yaml

The output directory holds the passage shards, stats.json (articles read, dropped by
reason, passages per language, bad records) and the resolved config; see
rayqa.corpus.build. With xquad_dir (the default config) the 12-language XQuAD
collection is built instead: passages, open-QA questions with gold passages in every
language, language links; see rayqa.corpus.xquad.""",
    # The XQuAD collection is small and built in this process.
    needs_ray=lambda cfg: not cfg.xquad_dir)

MDPR = ConfigStage("rayqa.config:MDPRJobConfig", "rayqa.train.mdpr_job:train_mdpr", """\
Train the mDPR bi-encoder (CORA's retriever) with Ray Train + DeepSpeed.

    rayqa train-mdpr --config configs/mdpr.yaml [train.lr=2e-5 ...]
    ray job submit --working-dir . -- python jobs/train_mdpr.py --config configs/mdpr.yaml

Re-running with the same train.run_name resumes from the latest checkpoint. The
result, <output_dir>/final/{query_encoder,passage_encoder}, indexes with rayqa index
(encoder.name_or_path: <output_dir>/final/passage_encoder).""")

MGEN = ConfigStage("rayqa.config:MGENJobConfig", "rayqa.train.mgen_job:train_mgen", """\
Fine-tune mGEN (CORA's multilingual answer generator) with Ray Train + DeepSpeed.

    rayqa train-mgen --config configs/mgen.yaml [train.lr=3e-5 ...]
    ray job submit --working-dir . -- python jobs/train_mgen.py --config configs/mgen.yaml

Inputs are retrieval-output JSONL files (question, lang, answers, ctxs); re-running with
the same train.run_name resumes from the latest checkpoint.""")

DUAL_BERT = ConfigStage(
    "rayqa.config:DualBertJobConfig", "rayqa.train.dual_bert_job:train_dual_bert", """\
Train Dual BERT (cross-lingual MRC) on target data and its translation, Ray Train + DeepSpeed.

    rayqa train-dual-bert --config configs/crosslingual/dual_bert.yaml [train.lr=4e-5 ...]
    ray job submit --working-dir . -- python jobs/train_dual_bert.py \\
        --config configs/crosslingual/dual_bert.yaml

data.train_files / dev_files are pairs {target, source} of SQuAD files whose questions
share ids; re-running with the same train.run_name resumes from the latest checkpoint.""")

TRANSLATE_TEST = ConfigStage(
    "rayqa.config:TranslateTestJobConfig", "rayqa.pipelines.translate_test:run_translate_test",
    """\
Back-translation systems of cross-lingual MRC (translate-test, SimpleMatch, aligners).

    rayqa translate-test --config configs/crosslingual/translate_test.yaml [reader=... ...]
    ray job submit --working-dir . -- python jobs/translate_test.py \\
        --config configs/crosslingual/translate_test.yaml

Translates target-language questions and passages into the source language, answers
with the source reader, translates the answers back (A_trans), aligns them with
SimpleMatch and the trained aligners of `aligners`, all on Ray Data actor pools. Writes
augmented.json (the input with translated_answer: an aligner's training data),
predictions per system, scores.json and table.md/.csv; see
rayqa.pipelines.translate_test.""")

XL_TABLE = ConfigStage("rayqa.config:CrossLingualTableConfig", "rayqa.pipelines.xl_table:run_table",
                       """\
Run the cross-lingual MRC rows (Tables 2-4) and write EM / F1 per reported set.

    rayqa xl-table --config configs/crosslingual/table2.yaml [output_dir=... ...]
    ray job submit --working-dir . -- python jobs/xl_table.py \\
        --config configs/crosslingual/table2.yaml

Rows are reader, Dual BERT or translate-test jobs (their configs and overrides; a row
may start from an earlier row's export: {final:ROW}); each trained row is selected on
its own dev files and scored on every set. Finished rows are skipped on a rerun; see
rayqa.pipelines.xl_table.""")

CORA = ConfigStage("rayqa.config:CORAJobConfig", "rayqa.pipelines.cora:run_cora", """\
CORA iterative training (paper Algorithm 1): mDPR, index, retrieval, mGEN, mining, per round.

    rayqa cora --config configs/cora.yaml [rounds=3 mgen.train.lr=3e-5 ...]
    ray job submit --working-dir . -- python jobs/cora.py --config configs/cora.yaml

Every round writes under <output_dir>/round_<r>/; re-running the same command skips
finished stages and resumes a killed training from its Ray Train checkpoint. The run
ends with <output_dir>/results.{md,csv}.""")

BASELINES = ConfigStage(
    "rayqa.config:BaselinesJobConfig", "rayqa.pipelines.baselines:run_baselines", """\
Run CORA's baselines (BM25, MT+DPR, MT+Mono, closed-book) and score them per language.

    rayqa baselines --config configs/baselines.yaml [top_k=10 ...]
    ray job submit --working-dir . -- python jobs/baselines.py --config configs/baselines.yaml

Writes predictions per baseline and language, scores.json and results.md/.csv.""",
    # Retrieval and reading run in this process.
    needs_ray=False)

COMMANDS: dict[str, Command] = {
    "evaluate": Command("score predictions exactly as the official scripts do",
                        evaluate_main, "evaluate.py"),
    "predict": Command("answer SQuAD-format questions with a trained reader", predict_main),
    "train": Command("fine-tune an extractive reader", TRAIN, "train.py"),
    "index": Command("encode passages and build FAISS + BM25 indexes", INDEX, "build_index.py"),
    "mixmrc": Command("translate MRC data and build mixed-language pairs", MIXMRC,
                      "make_mixmrc.py"),
    "mine-phrases": Command("mine LAKM knowledge phrases from a search log",
                            "rayqa.mining.phrase_cli:main", "mine_phrases.py"),
    "run-settings": Command("train reader settings and write a Table 7/9 EM / F1 table",
                            run_settings_main, "run_settings.py"),
    "split-xquad": Command("split XQuAD by article into parallel train and dev sets",
                           split_xquad_main, "split_xquad.py"),
    "make-passages": Command("cut articles into 100-token passages (CORA collections)",
                             PASSAGES, "make_passages.py"),
    "train-mdpr": Command("train the mDPR bi-encoder (CORA's retriever)", MDPR, "train_mdpr.py"),
    "train-mgen": Command("fine-tune mGEN (CORA's answer generator)", MGEN, "train_mgen.py"),
    "train-dual-bert": Command("train Dual BERT (cross-lingual MRC)", DUAL_BERT,
                               "train_dual_bert.py"),
    "translate-test": Command("answer through translation; SimpleMatch and aligners",
                              TRANSLATE_TEST, "translate_test.py"),
    "xl-table": Command("cross-lingual MRC rows and their EM / F1 table (Tables 2-4)",
                        XL_TABLE, "xl_table.py"),
    "cora": Command("CORA iterative training, round by round", CORA, "cora.py"),
    "baselines": Command("run and score CORA's baselines", BASELINES, "baselines.py"),
    "demo": Command("train, index, serve and ask the demo corpus end to end", demo_main),
}


def script_prog(name: str) -> str:
    """How usage and error lines name ``jobs/<script>``."""
    return f"jobs/{COMMANDS[name].script}"


def run_job(name: str, argv: list[str] | None = None, prog: str | None = None):
    """Run the stage ``name`` on ``argv``; what ``main`` of ``jobs/<script>`` calls.

    Args:
        name: A key of ``COMMANDS``.
        argv: Its arguments (default: ``sys.argv[1:]``).
        prog: Program name of usage and error lines (default: the job script's).

    Returns:
        The stage's result (a Ray Train ``Result``, an output directory, a summary).

    Raises:
        ValueError, FileNotFoundError: The inputs are wrong (see ``INPUT_ERRORS``).
        SystemExit: The arguments do not parse, or ``--help``.
    """
    command = COMMANDS[name]
    entry = load(command.main) if isinstance(command.main, str) else command.main
    return entry(sys.argv[1:] if argv is None else list(argv), prog or script_prog(name))


def run_command(name: str, argv: list[str] | None = None, prog: str | None = None) -> int:
    """Run the stage ``name`` as a program; returns its exit code.

    An input error prints one line, ``<prog>: error: <message>``, to stderr and gives 2.
    A result that is a path (where the stage wrote its output) is printed.
    """
    prog = prog or script_prog(name)
    try:
        result = run_job(name, argv, prog)
    except INPUT_ERRORS as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        return 2
    if isinstance(result, (str, Path)):
        print(result)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser: ``rayqa --help`` and unknown-command errors."""
    parser = parser_for("rayqa", DESCRIPTION)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, command in COMMANDS.items():
        also = f" [jobs/{command.script}]" if command.script else ""
        sub.add_parser(name, help=command.summary + also, add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``rayqa`` console script; errors in inputs exit with 2."""
    # Only the command is parsed here (``--help`` and unknown commands exit in there);
    # the rest belongs to the command's own parser.
    args, rest = build_parser().parse_known_args(sys.argv[1:] if argv is None else argv)
    return run_command(args.command, rest, prog=f"rayqa {args.command}")


if __name__ == "__main__":
    sys.exit(main())
