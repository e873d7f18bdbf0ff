"""The ``rayqa`` command: evaluate, predict, train, index, mixmrc, mine-phrases, demo.

Each subcommand parses its arguments and calls one library function; heavy imports
happen inside the handlers so ``rayqa evaluate`` starts in well under a second.
"""

from __future__ import annotations

import argparse
import json
import sys


def cmd_evaluate(args: argparse.Namespace) -> int:
    from rayqa.eval import evaluate_files

    scores = evaluate_files(args.benchmark, args.gold, args.predictions, lang=args.lang)
    print(json.dumps(scores, ensure_ascii=False))
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from rayqa.answer.extractive import ExtractiveReader
    from rayqa.data.records import BadRecords
    from rayqa.data.squad import read_squad, write_predictions

    report = BadRecords()
    examples = read_squad(args.data, lang=args.lang, strict=args.strict, report=report,
                          require_answers=False)
    reader = ExtractiveReader(args.model, device=args.device, batch_size=args.batch_size)
    predictions = reader.predict(examples)
    write_predictions(predictions, args.out)
    print(f"wrote {len(predictions)} predictions to {args.out} "
          f"({report.total} bad records skipped)", file=sys.stderr)
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from rayqa.config import ReaderJobConfig, load_config
    from rayqa.runtime import init_ray
    from rayqa.train.trainer import train_reader

    cfg = load_config(ReaderJobConfig, args.config, args.overrides)
    init_ray()
    train_reader(cfg)
    return 0


def cmd_index(args: argparse.Namespace) -> int:
    from rayqa.config import IndexJobConfig, load_config
    from rayqa.retrieval.build import build_index
    from rayqa.runtime import init_ray

    cfg = load_config(IndexJobConfig, args.config, args.overrides)
    init_ray()
    print(build_index(cfg))
    return 0


def cmd_mixmrc(args: argparse.Namespace) -> int:
    from rayqa.augment.mixmrc_job import check_translator, make_mixmrc
    from rayqa.config import MixMRCJobConfig, load_config
    from rayqa.runtime import init_ray

    cfg = load_config(MixMRCJobConfig, args.config, args.overrides)
    check_translator(cfg)  # an unsupported language pair fails before Ray starts
    init_ray()
    make_mixmrc(cfg)
    return 0


def cmd_mine_phrases(args: argparse.Namespace) -> int:
    from rayqa.mining.phrase_cli import main as mine_main

    mine_main(args.args, prog="rayqa mine-phrases")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from rayqa.demo import run_demo

    return run_demo(args.workdir, port=args.port, epochs=args.epochs)


def build_parser() -> argparse.ArgumentParser:
    from rayqa.eval import BENCHMARKS

    parser = argparse.ArgumentParser(prog="rayqa", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    ev = sub.add_parser("evaluate", help="score predictions exactly as the official scripts do")
    ev.add_argument("--benchmark", required=True, choices=BENCHMARKS)
    ev.add_argument("--lang", help="answer language: mlqa (inferred from the gold file name) "
                    "or mkqa (required, e.g. en, zh_cn)")
    ev.add_argument("gold", help="gold file (SQuAD JSON, XOR-TyDi JSONL, MKQA .jsonl.gz)")
    ev.add_argument("predictions", help="predictions JSON {question_id: answer}; for mkqa "
                    "the official JSON Lines")
    ev.set_defaults(func=cmd_evaluate)

    pr = sub.add_parser("predict", help="answer SQuAD-format questions with a trained reader")
    pr.add_argument("--model", required=True, help="reader directory (e.g. <output_dir>/final)")
    pr.add_argument("--data", required=True, help="SQuAD v1.1 JSON")
    pr.add_argument("--out", required=True, help="where to write {question_id: answer}")
    pr.add_argument("--lang", help="language of the data when the file does not say")
    pr.add_argument("--strict", action="store_true", help="fail on the first bad record")
    pr.add_argument("--device", help="cpu or cuda (default: cuda when available)")
    pr.add_argument("--batch-size", type=int, default=32)
    pr.set_defaults(func=cmd_predict)

    for name, func, text in (("train", cmd_train, "train a reader (as jobs/train.py)"),
                             ("index", cmd_index, "build indexes (as jobs/build_index.py)"),
                             ("mixmrc", cmd_mixmrc,
                              "translate MRC data and build mixed-language pairs "
                              "(as jobs/make_mixmrc.py)")):
        job = sub.add_parser(name, help=text)
        job.add_argument("--config", required=True)
        job.add_argument("overrides", nargs="*", help="dotted overrides, e.g. train.lr=3e-5")
        job.set_defaults(func=func)

    mine = sub.add_parser("mine-phrases", add_help=False,
                          help="mine LAKM knowledge phrases from a search log "
                          "(as jobs/mine_phrases.py; --help for its options)")
    mine.add_argument("args", nargs="*")
    mine.set_defaults(func=cmd_mine_phrases)

    demo = sub.add_parser("demo", help="train, index, serve and ask the demo corpus end to end")
    demo.add_argument("--workdir", default="runs/demo")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--epochs", type=int, default=None, help="override the demo's epochs")
    demo.set_defaults(func=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``rayqa`` console script; errors in inputs exit with 2."""
    from rayqa.config import ConfigError

    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["mine-phrases"]:  # its options belong to the mining command line
        argv = ["mine-phrases", "--", *argv[1:]]
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ConfigError, ValueError, FileNotFoundError) as err:
        print(f"rayqa {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
