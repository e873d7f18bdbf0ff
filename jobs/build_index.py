"""Encode passages with Ray Data and write a dense (FAISS) + per-language BM25 index.

    python jobs/build_index.py --config configs/index.yaml [encoder.num_actors=4 ...]
    ray job submit --working-dir . -- python jobs/build_index.py --config configs/index.yaml

The output directory is self-contained: passages, indexes, a checksummed manifest and
the resolved config; `rayqa.retrieval.retriever.Retriever(output_dir)` serves from it.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout too

from rayqa.config import IndexJobConfig  # noqa: E402
from rayqa.runtime import init_ray, load_job_config  # noqa: E402


def main(argv=None):
    cfg = load_job_config(IndexJobConfig, argv, __doc__)
    init_ray()
    from rayqa.retrieval.build import build_index

    return build_index(cfg)


if __name__ == "__main__":
    main()
