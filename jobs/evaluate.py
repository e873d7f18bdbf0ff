"""Score predictions exactly as the official benchmark scripts do.

    python jobs/evaluate.py --benchmark mlqa --lang de GOLD.json PREDICTIONS.json
    ray job submit --working-dir . -- python jobs/evaluate.py --benchmark xor-full ...

Same arguments and output as ``rayqa evaluate``: one JSON object on stdout.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout too

from rayqa.cli import main as cli_main  # noqa: E402


def main(argv=None) -> int:
    return cli_main(["evaluate", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
