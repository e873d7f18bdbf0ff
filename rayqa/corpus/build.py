"""Driver of `jobs/make_passages.py`: article files in, passage shards and stats out.

Layout of `output_dir`::

    passages/*.json        passage shards, JSON Lines {"id", "title", "text", "lang",
                           "article_id"} (`read_passages` reads each shard)
    stats.json             articles read, dropped by reason, passages per language,
                           bad records with file:line, the segmenter of each language
    language_links.jsonl   the link table used (when one was given)
    rayqa_config.yaml      the resolved job config

Files are the unit of parallelism: a Ray Data actor pool of `PassageMaker`s reads one
file per call and streams its passages out, so give many files (wikiextractor writes
many) to use many actors. A rerun replaces the passage shards. Inputs and `output_dir`
are local paths or URIs (`rayqa.storage`): the actors write the shards straight to
`output_dir`, so on a cluster give a URI every node reaches (``s3://bucket/passages``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from rayqa import storage
from rayqa.config import PassagesJobConfig, save_config
from rayqa.corpus.articles import expand_paths, iter_articles
from rayqa.corpus.chunking import STATS_FILE, Chunker, ChunkStats, write_stats
from rayqa.corpus.language_links import LINKS_FILE, LanguageLinks
from rayqa.corpus.xquad import build_xquad_collection
from rayqa.data.records import BadRecords, DataError
from rayqa.langs import segmenter, segmenter_name
from rayqa.runtime import run_unwrapping

PASSAGES_DIR = "passages"
PASSAGE_COLUMNS = ("id", "title", "text", "lang", "article_id")


def _log(message: str) -> None:
    print(f"[rayqa.passages] {message}", flush=True)


class StatsCollector:
    """Merges the per-file `ChunkStats` the actors send (run as a Ray actor)."""

    def __init__(self):
        self.stats = ChunkStats()

    def add(self, stats: dict) -> None:
        """Adds one file's counts."""
        self.stats.merge(stats)

    def result(self) -> dict:
        """Returns the merged `ChunkStats.to_dict()`."""
        return self.stats.to_dict()


class PassageMaker:
    """Ray Data step: rows naming article files in, passage rows out, streamed per file.

    Segmenters and the link table load in `__init__`, once per actor. After each file
    its counts (and bad records) go to the `StatsCollector` actor.

    Args:
        langs: Languages whose segmenters to load up front (others load on first use).
        passage_tokens: Tokens per passage.
        min_article_tokens: Shorter articles are dropped.
        strict: Raise `DataError` at the first bad record.
        links_path: Language-link table file, or None.
        collector: Handle of the `StatsCollector` actor, or None (counts kept locally).
        rows_per_batch: Passages per output batch.
    """

    def __init__(self, langs, passage_tokens: int, min_article_tokens: int, strict: bool,
                 links_path: str | None = None, collector=None, rows_per_batch: int = 1000):
        for lang in langs:
            segmenter(lang)
        links = LanguageLinks.read(links_path, strict) if links_path else None
        self.chunker = Chunker(passage_tokens, min_article_tokens,
                               links.entity_of if links else None)
        self.strict, self.collector, self.rows_per_batch = strict, collector, rows_per_batch

    def __call__(self, batch: dict[str, np.ndarray]):
        for path, lang, fmt in zip(batch["path"], batch["lang"], batch["format"]):
            yield from self._file(str(path), str(lang) if lang else None, str(fmt))

    def _file(self, path: str, lang: str | None, fmt: str):
        self.chunker.stats, report, rows = ChunkStats(), BadRecords(), []
        for article in iter_articles(path, fmt, lang, self.strict, report):
            rows.extend(self.chunker.passages(article))
            if len(rows) >= self.rows_per_batch:
                yield _columns(rows)
                rows = []
        if rows:
            yield _columns(rows)
        stats = self.chunker.stats.to_dict()
        stats["bad_records"] = report.to_dict()
        if self.collector is not None:
            import ray

            ray.get(self.collector.add.remote(stats))


def _columns(rows: list[dict]) -> dict[str, np.ndarray]:
    return {name: np.array([row[name] for row in rows], dtype=object) for name in PASSAGE_COLUMNS}


def file_specs(cfg: PassagesJobConfig) -> list[dict]:
    """One row per article file, directories expanded; missing files fail here, early."""
    specs = [{"path": str(path), "lang": item.lang or "", "format": item.format}
             for item in cfg.article_files for path in expand_paths(item.path)]
    if not specs:
        raise FileNotFoundError(f"no article files in {[f.path for f in cfg.article_files]}")
    return specs


def passage_files(output_dir: str | Path) -> list[str]:
    """The passage shards a `build_passages` run wrote (paths or URIs), sorted."""
    shards = storage.join(output_dir, PASSAGES_DIR)
    return [storage.join(shards, name) for name in storage.list_files(shards, recursive=False)
            if name.endswith(".json")]


def build_passages(cfg: PassagesJobConfig) -> str:
    """Runs the job: XQuAD collection when `cfg.xquad_dir`, else Ray Data chunking.

    Args:
        cfg: The job config; Ray must be initialized for article files.

    Returns:
        The output directory, a URI or an absolute path (see the module docstring for
        its layout).

    Raises:
        DataError: In strict mode, at the first bad record (file and line named).
    """
    if cfg.xquad_dir:
        out = build_xquad_collection(cfg.xquad_dir, storage.absolute(cfg.output_dir),
                                     cfg.xquad_langs, cfg.passage_tokens,
                                     cfg.min_article_tokens)
        save_config(cfg, out)
        stats = json.loads(storage.read_text(storage.join(out, STATS_FILE)))
        _log(f"XQuAD: {stats['total']['passages']} passages in {len(stats['passages'])} "
             f"languages, {stats['questions']} questions -> {out}")
        return out
    return _build_from_files(cfg)


def _build_from_files(cfg: PassagesJobConfig) -> str:
    import ray
    from ray.data import ActorPoolStrategy

    # Actors run elsewhere (another working directory, another node): every location
    # they see is absolute or a URI.
    out = storage.absolute(cfg.output_dir)
    links = storage.absolute(cfg.language_links) if cfg.language_links else None
    specs = file_specs(cfg)
    storage.delete(storage.join(out, PASSAGES_DIR))  # a rerun must not append
    storage.make_dirs(out)
    collector = ray.remote(num_cpus=0)(StatsCollector).remote()
    langs = sorted({spec["lang"] for spec in specs if spec["lang"]})
    fs, shards = storage.resolve(storage.join(out, PASSAGES_DIR))
    fn_kwargs = {"langs": langs, "passage_tokens": cfg.passage_tokens,
                 "min_article_tokens": cfg.min_article_tokens, "strict": cfg.strict,
                 "links_path": links, "collector": collector}

    def write():
        ray.data.from_items(specs, override_num_blocks=len(specs)).map_batches(
            PassageMaker, batch_size=1, num_cpus=cfg.cpus_per_actor,
            compute=ActorPoolStrategy(size=min(cfg.num_actors, len(specs))),
            fn_constructor_kwargs=fn_kwargs,
        ).write_json(shards, filesystem=fs, force_ascii=False)

    # Strict mode: the reader's DataError (file:line) surfaces without Ray's wrapping.
    run_unwrapping(write, DataError)
    stats = ray.get(collector.result.remote())
    _finish(out, stats, cfg)
    return out


def _finish(out: str, stats: dict, cfg: PassagesJobConfig) -> None:
    """Writes stats, the link table and the config; logs the summary."""
    stats["segmenters"] = {lang: segmenter_name(lang) for lang in stats["articles"]}
    write_stats(stats, out)
    if cfg.language_links:
        LanguageLinks.read(cfg.language_links).write(storage.join(out, LINKS_FILE))
    save_config(cfg, out)
    _log(f"{stats['total']['articles']} articles -> {stats['total']['passages']} passages "
         f"({stats['total']['dropped']} dropped: "
         f"{ {r: sum(c.values()) for r, c in stats['dropped'].items()} }, "
         f"{stats['bad_records']['total']} bad records) -> {out}")
