"""Cut articles into 100-token passages with Ray Data (CORA / DPR collections).

    python jobs/make_passages.py --config configs/passages.yaml [passage_tokens=100 ...]
    python jobs/make_passages.py --config configs/passages.yaml xquad_dir=null \
        "article_files=[{path: wiki/en, lang: en, format: wikiextractor}]"
    ray job submit --working-dir . -- python jobs/make_passages.py --config configs/passages.yaml

The output directory holds the passage shards, stats.json (articles read, dropped by
reason, passages per language, bad records) and the resolved config; see
`rayqa.corpus.build`. With `xquad_dir` (the default config) the 12-language XQuAD
collection is built instead: passages, open-QA questions with gold passages in every
language, language links; see `rayqa.corpus.xquad`.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout too

from rayqa.config import PassagesJobConfig  # noqa: E402
from rayqa.runtime import init_ray, load_job_config  # noqa: E402


def main(argv=None):
    cfg = load_job_config(PassagesJobConfig, argv, __doc__)
    if not cfg.xquad_dir:  # the XQuAD collection is small and built in this process
        init_ray()
    from rayqa.corpus.build import build_passages

    return build_passages(cfg)


if __name__ == "__main__":
    main()
