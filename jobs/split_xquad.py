"""Split XQuAD by article into parallel train and dev sets (for the mixMRC/LAKM tables).

    python jobs/split_xquad.py --xquad ../shared/data/xquad --output runs/xquad \
        [--dev-articles 8] [--langs en,de,es,zh]

Writes <output>/train/xquad.<lang>.json and <output>/dev/xquad.<lang>.json.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout too

from rayqa.corpus.xquad import split_xquad  # noqa: E402


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--xquad", required=True, help="directory of xquad.<lang>.json files")
    parser.add_argument("--output", required=True)
    parser.add_argument("--dev-articles", type=int, default=8, help="articles held out")
    parser.add_argument("--langs", help="comma-separated languages (default: all files)")
    args = parser.parse_args(argv)
    counts = split_xquad(args.xquad, args.output, args.dev_articles,
                         args.langs.split(",") if args.langs else None)
    print(f"questions per language: {counts}")
    return counts


if __name__ == "__main__":
    main()
