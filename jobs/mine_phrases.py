"""Mine LAKM knowledge phrases and their passages from a search log with Ray Data.

    python jobs/mine_phrases.py --input LOG.jsonl --output DIR [--threshold 0.7]
        [--num-actors 1] [--cpus-per-actor 0.5] [--batch-size 256] [--min-results 1]
        [--max-passage-chars 1000] [--ngram-sizes 2,3,4] [--strict] [--local]
    ray job submit --working-dir . -- python jobs/mine_phrases.py --input ... --output ...

Writes DIR/phrases.jsonl, DIR/passages.jsonl, DIR/stats.json and DIR/stats.md (see
`rayqa.mining.phrase_job`). The log is JSON Lines `{"query", "lang", "results":
[{"title", "text"}]}`. With `--local` the same mining runs in this process, without Ray.

A synthetic log from XQuAD (questions as queries, BM25 paragraphs as results):

    python jobs/mine_phrases.py --build-xquad-log XQUAD_DIR --langs en,de,zh \\
        --output LOG.jsonl [--queries-per-lang 40] [--top-n 5] [--phrase-share 0.5]
        [--max-text-chars 400]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout too

from rayqa.mining.phrase_cli import main as mine_main  # noqa: E402


def main(argv=None) -> dict:
    return mine_main(argv, prog="jobs/mine_phrases.py")


if __name__ == "__main__":
    main()
