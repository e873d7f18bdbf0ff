"""Mine LAKM knowledge phrases and their passages from a search log.

    ray job submit --working-dir . -- \\
        python jobs/mine_phrases.py --input LOG.jsonl --output DIR

Same arguments as ``rayqa mine-phrases`` (``--help`` lists them); see ``rayqa.cli``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout too

from rayqa.cli import run_command, run_job  # noqa: E402


def main(argv=None):
    return run_job("mine-phrases", argv)


if __name__ == "__main__":
    sys.exit(run_command("mine-phrases"))
