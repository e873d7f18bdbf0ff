"""Mine LAKM knowledge phrases and their passages from a search log with Ray Data.

    python jobs/mine_phrases.py --input LOG.jsonl --output DIR [--threshold 0.7]
    ray job submit --working-dir . -- python jobs/mine_phrases.py --input ... --output ...

``--help`` lists every option (``rayqa.mining.phrase_cli``), the synthetic XQuAD log
builder (``--build-xquad-log``) included.
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
