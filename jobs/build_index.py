"""Encode passages with Ray Data; build FAISS + per-language BM25 indexes.

    ray job submit --working-dir . -- python jobs/build_index.py --config configs/index.yaml

Same arguments as ``rayqa index`` (``--help`` lists them); see ``rayqa.cli``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout too

from rayqa.cli import run_command, run_job  # noqa: E402


def main(argv=None):
    return run_job("index", argv)


if __name__ == "__main__":
    sys.exit(run_command("index"))
