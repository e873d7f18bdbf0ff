"""The command line of knowledge-phrase mining (``jobs/mine_phrases.py``, ``rayqa mine-phrases``).

Mine LAKM knowledge phrases and their passages from a search log with Ray Data.

    python jobs/mine_phrases.py --input LOG.jsonl --output DIR [--threshold 0.7]
        [--num-actors 1] [--cpus-per-actor 0.5] [--batch-size 256] [--min-results 1]
        [--max-passage-chars 1000] [--ngram-sizes 2,3,4] [--strict] [--local]
    ray job submit --working-dir . -- python jobs/mine_phrases.py --input ... --output ...

Writes DIR/phrases.jsonl, DIR/passages.jsonl, DIR/stats.json and DIR/stats.md (see
`rayqa.mining.phrase_job`). The log is JSON Lines `{"query", "lang", "results":
[{"title", "text"}]}`. With `--local` the same mining runs in this process, without Ray.
LOG.jsonl, DIR and XQUAD_DIR are local paths or URIs (`s3://bucket/mined`).

A synthetic log from XQuAD (questions as queries, BM25 paragraphs as results):

    python jobs/mine_phrases.py --build-xquad-log XQUAD_DIR --langs en,de,zh \\
        --output LOG.jsonl [--queries-per-lang 40] [--top-n 5] [--phrase-share 0.5]
        [--max-text-chars 400]
"""

from __future__ import annotations

import argparse

from rayqa.config import PhraseMiningConfig
from rayqa.runtime import init_ray


def parse_args(argv=None, prog: str | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--input", help="search-log JSON Lines file (optionally .gz), "
                        "a path or URI")
    parser.add_argument("--output", required=True, help="output directory (path or URI); "
                        "with --build-xquad-log the log file")
    parser.add_argument("--threshold", type=float, default=0.7,
                        help="fraction of result titles a phrase must occur in")
    parser.add_argument("--ngram-sizes", default="2,3,4", help="n of the query n-grams")
    parser.add_argument("--max-passage-chars", type=int, default=1000,
                        help="longer result texts are split into blank-line paragraphs")
    parser.add_argument("--min-results", type=int, default=1,
                        help="queries with fewer results are bad lines")
    parser.add_argument("--num-actors", type=int, default=1, help="mining actors")
    parser.add_argument("--cpus-per-actor", type=float, default=0.5)
    parser.add_argument("--batch-size", type=int, default=256, help="log lines per batch")
    parser.add_argument("--strict", action="store_true", help="fail at the first bad line")
    parser.add_argument("--local", action="store_true", help="mine in this process, no Ray")
    parser.add_argument("--build-xquad-log", metavar="XQUAD_DIR",
                        help="write a synthetic search log from XQuAD to --output instead")
    parser.add_argument("--langs", help="XQuAD languages of the log, e.g. en,de,zh")
    parser.add_argument("--queries-per-lang", type=int, help="questions per language (all)")
    parser.add_argument("--top-n", type=int, default=5, help="results per query")
    parser.add_argument("--phrase-share", type=float, default=0.0,
                        help="part of each language's queries drawn among those with phrases")
    parser.add_argument("--max-text-chars", type=int,
                        help="cut result texts to this length at a sentence end")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if not args.build_xquad_log and not args.input:
        parser.error("give --input LOG.jsonl (or --build-xquad-log XQUAD_DIR)")
    if args.build_xquad_log and not args.langs:
        parser.error("--build-xquad-log needs --langs")
    return args


def build_config(args: argparse.Namespace) -> PhraseMiningConfig:
    """The mining config of the command line (validated)."""
    return PhraseMiningConfig(
        threshold=args.threshold, ngram_sizes=[int(n) for n in args.ngram_sizes.split(",")],
        max_passage_chars=args.max_passage_chars, min_results=args.min_results,
        num_actors=args.num_actors, cpus_per_actor=args.cpus_per_actor,
        batch_size=args.batch_size, strict=args.strict)


def print_summary(result: dict) -> None:
    """Prints the per-language table and the bad-line count."""
    print(f"{'lang':6} {'# P':>7} {'# K-phr':>8} {'K-words':>8} {'K-phr/P':>8} "
          f"{'queries':>8} {'w/ phr':>7} {'bad':>5}")
    for lang, row in result["langs"].items():
        print(f"{lang:6} {row['passages']:7d} {row['k_phrases']:8d} {row['avg_k_words']:8.2f} "
              f"{row['avg_k_phrases_per_passage']:8.2f} {row['queries']:8d} "
              f"{row['queries_with_phrases']:7d} {row['bad_lines']:5d}")
    bad = result["bad_records"]
    print(f"bad lines: {bad['total']} {bad['counts'] or ''}".rstrip())
    print(f"written to {result['output_dir']}")


def main(argv=None, prog: str | None = None) -> dict:
    """Run the command line ``argv``; returns the mining (or log-building) summary."""
    args = parse_args(argv, prog)
    if args.build_xquad_log:
        from rayqa.mining.search_log import build_xquad_search_log

        counts = build_xquad_search_log(args.build_xquad_log, args.langs.split(","),
                                        args.output, args.queries_per_lang, args.top_n,
                                        args.seed, args.phrase_share, args.max_text_chars)
        print(f"wrote {sum(counts.values())} queries to {args.output}: {counts}")
        return {"log": args.output, "queries": counts}
    cfg = build_config(args)
    if not args.local:
        init_ray()
    from rayqa.mining.phrase_job import mine_phrases

    result = mine_phrases(args.input, args.output, cfg, use_ray=not args.local)
    print_summary(result)
    return result

