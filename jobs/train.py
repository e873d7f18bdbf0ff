"""Fine-tune an extractive reader with Ray Train + DeepSpeed.

    python jobs/train.py --config configs/reader.yaml [train.lr=3e-5 ...]
    ray job submit --working-dir . -- python jobs/train.py --config configs/reader.yaml

Re-running with the same ``train.run_name`` resumes from the latest checkpoint.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout too

from rayqa.config import ReaderJobConfig, load_config  # noqa: E402
from rayqa.runtime import init_ray  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True, help="reader job YAML (configs/reader.yaml)")
    parser.add_argument("overrides", nargs="*", help="dotted overrides, e.g. train.lr=3e-5")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(ReaderJobConfig, args.config, args.overrides)
    init_ray()
    from rayqa.train.trainer import train_reader

    return train_reader(cfg)


if __name__ == "__main__":
    main()
