"""Split XQuAD by article into parallel train and dev sets.

    ray job submit --working-dir . -- \\
        python jobs/split_xquad.py --xquad XQUAD_DIR --output DIR

Same arguments as ``rayqa split-xquad`` (``--help`` lists them); see ``rayqa.cli``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout too

from rayqa.cli import run_command, run_job  # noqa: E402


def main(argv=None):
    return run_job("split-xquad", argv)


if __name__ == "__main__":
    sys.exit(run_command("split-xquad"))
