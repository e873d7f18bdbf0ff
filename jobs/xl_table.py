"""The cross-lingual MRC tables (Cui et al. 2019, Tables 2-4): rows of jobs, EM / F1 per set.

    ray job submit --working-dir . -- python jobs/xl_table.py \
        --config configs/crosslingual/table2.yaml

Same arguments as ``rayqa xl-table`` (``--help`` lists them); see ``rayqa.cli``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout too

from rayqa.cli import run_command, run_job  # noqa: E402


def main(argv=None):
    return run_job("xl-table", argv)


if __name__ == "__main__":
    sys.exit(run_command("xl-table"))
