"""Knowledge-phrase mining over a search log: a Ray Data pipeline, or one local process.

The pipeline (`mine_log_ray`)::

    SearchLogDatasource      read tasks split the file into numbered raw lines
      -> PhraseMiningStep    actor pool; each actor loads segmenters and stop words once,
                             parses, checks and mines a batch of lines
      -> driver              rows arrive in line order and are written out

`mine_log_local` runs the same `mine_log_line` over the file in this process (the
baseline of `bench/mine_phrases.py` and the reference the pipeline must match). Both
write to an output directory:

- `phrases.jsonl`: `{"query", "lang", "phrases": [str]}` per good line, in input order;
  phrases are the query's own substrings.
- `passages.jsonl`: `{"id", "lang", "query", "title", "text", "phrases": [{"text",
  "start", "end"}]}` per passage, in input order; `text[start:end]` is each occurrence,
  spans sorted and non-overlapping; ids are `<line>-<result>-<part>` (1-based line,
  0-based result and paragraph).
- `stats.json` / `stats.md`: paper Table 4 per language plus query and bad-line counts,
  and the bad-record report.

Bad lines are counted (`rayqa.data.records`) and never stop the job; in strict mode the
first bad line in file order raises `DataError` naming file and line, and no output is
left behind. The log and the output directory are local paths or URIs (`rayqa.storage`):
the two JSON Lines files stream to temporary names in the output directory and are
moved to their final names at the end (a rename on a local disk, a copy on an object
store), so a reader never sees a half-written file.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict
from pathlib import Path

import pyarrow.fs as pafs
from ray.data.datasource import FileBasedDatasource

from rayqa import storage
from rayqa.config import PhraseMiningConfig
from rayqa.data.records import BadRecord, BadRecords, reject
from rayqa.mining.phrases import MinedPassage, MiningStats, PhraseMiner
from rayqa.mining.search_log import BadLogLine, iter_lines, parse_search_log_line

PHRASES_FILE = "phrases.jsonl"
PASSAGES_FILE = "passages.jsonl"
STATS_JSON = "stats.json"
STATS_MD = "stats.md"

# Columns of the mined rows: the line number (rows are written in its order), the two
# output lines ready to write, the numbers behind the stats, and the rejection if any.
LINE, LANG = "line", "lang"
PHRASES_LINE, PASSAGES_LINES = "phrases_line", "passages_lines"
PHRASE_WORDS, PASSAGE_PHRASES, BAD = "phrase_words", "passage_phrases", "bad"
COLUMNS = (LINE, LANG, PHRASES_LINE, PASSAGES_LINES, PHRASE_WORDS, PASSAGE_PHRASES, BAD)

UNSPACED_LANGS = ("zh", "ja", "th")  # whose segmenters every actor loads up front


def build_miner(cfg: PhraseMiningConfig) -> PhraseMiner:
    """The `PhraseMiner` a config describes."""
    return PhraseMiner(cfg.threshold, cfg.ngram_sizes, cfg.max_passage_chars)


def passage_record(passage: MinedPassage, line: int, lang: str, query: str) -> dict:
    """One `passages.jsonl` record (see the module docstring).

    A span's `text` is the passage's own occurrence, whose case may differ from the query's.
    """
    return {"id": f"{line}-{passage.result}-{passage.part}", "lang": lang, "query": query,
            "title": passage.title, "text": passage.text,
            "phrases": [{"text": passage.text[s.start:s.end], "start": s.start, "end": s.end}
                        for s in passage.spans]}


def mine_log_line(miner: PhraseMiner, path: str, line: int, raw: bytes | str,
                  min_results: int = 1) -> dict | None:
    """Parses, checks and mines one search-log line into a mined row.

    Args:
        miner: The phrase miner.
        path: The log file, for bad-line reports.
        line: 1-based line number.
        raw: The line without its newline.
        min_results: Fewest results a good line has.

    Returns:
        A dict with `COLUMNS`, or None for a blank line. A bad line gives a row whose
        `bad` holds the `BadRecord` as JSON.
    """
    try:
        record = parse_search_log_line(raw, path, line, min_results)
    except BadLogLine as err:
        return {LINE: line, LANG: err.lang or "", PHRASES_LINE: "", PASSAGES_LINES: "",
                PHRASE_WORDS: "[]", PASSAGE_PHRASES: "[]",
                BAD: json.dumps(asdict(err.record), ensure_ascii=False)}
    if record is None:
        return None
    phrases = miner.phrases(record.query, record.lang, [title for title, _ in record.results])
    passages = miner.passages(phrases, record.lang, record.results)
    phrases_line = {"query": record.query, "lang": record.lang,
                    "phrases": [p.text for p in phrases]}
    lines = [json.dumps(passage_record(p, line, record.lang, record.query),
                        ensure_ascii=False) + "\n" for p in passages]
    return {LINE: line, LANG: record.lang,
            PHRASES_LINE: json.dumps(phrases_line, ensure_ascii=False) + "\n",
            PASSAGES_LINES: "".join(lines),
            PHRASE_WORDS: json.dumps([p.words for p in phrases]),
            PASSAGE_PHRASES: json.dumps([p.phrase_count() for p in passages]), BAD: ""}


class PhraseMiningStep:
    """Ray Data step: mines a batch of raw log lines (columns `path`, `line`, `raw`).

    The segmenters of zh, ja and th and their stop words load here, once per actor;
    other languages load on first use and stay cached in the actor.

    Args:
        threshold: See `PhraseMiningConfig`.
        ngram_sizes: See `PhraseMiningConfig`.
        max_passage_chars: See `PhraseMiningConfig`.
        min_results: See `PhraseMiningConfig`.
        preload: Languages whose tokenizer and stop words load in `__init__`.
    """

    INPUT_COLUMNS = ("path", LINE, "raw")

    def __init__(self, threshold: float, ngram_sizes: Sequence[int], max_passage_chars: int,
                 min_results: int, preload: Sequence[str] = UNSPACED_LANGS):
        self.miner = PhraseMiner(threshold, ngram_sizes, max_passage_chars)
        self.min_results = min_results
        for lang in preload:
            self.miner.tokenizer(lang)
            self.miner.stopwords(lang)

    def __call__(self, batch: dict) -> dict[str, list]:
        missing = [name for name in self.INPUT_COLUMNS if name not in batch]
        if missing:
            raise ValueError(f"PhraseMiningStep needs columns {missing}; got {sorted(batch)}")
        rows = [mine_log_line(self.miner, str(path), int(line), bytes(raw), self.min_results)
                for path, line, raw in zip(batch["path"], batch[LINE], batch["raw"])]
        rows = [row for row in rows if row is not None]
        return {name: [row[name] for row in rows] for name in COLUMNS}


# --- Reading lines on Ray -----------------------------------------------------------------


class SearchLogDatasource(FileBasedDatasource):
    """Numbered raw lines of JSON Lines files: rows `{path, line, raw}`.

    Ray's `read_text` neither numbers lines nor keeps a line whose bytes fail to decode,
    and it splits at every Unicode line separator; this reads like `iter_lines`, one read
    task per file, streaming blocks of `rows_per_block` lines. Gzipped files are read
    through (compression inferred from the name).

    Args:
        paths: A file, a directory or a list of files, inside `filesystem` when given.
        rows_per_block: Lines per block handed downstream.
        scheme: Put before each file's path in the rows (e.g. `s3://`), so bad lines
            name the file as the user gave it.
    """

    def __init__(self, paths, rows_per_block: int = 4096, scheme: str = "", **kwargs):
        super().__init__(paths, **kwargs)
        self.rows_per_block = rows_per_block
        self.scheme = scheme

    def _read_stream(self, f, path: str):
        yield from line_blocks(f, self.scheme + path, self.rows_per_block)


def line_blocks(stream, path: str, rows_per_block: int):
    """Yields pyarrow tables `{path, line, raw}` of a binary stream's lines."""
    import pyarrow as pa

    numbers: list[int] = []
    raws: list[bytes] = []
    for number, raw in iter_lines(stream):
        numbers.append(number)
        raws.append(raw)
        if len(numbers) == rows_per_block:
            yield _line_table(pa, path, numbers, raws)
            numbers, raws = [], []
    if numbers:
        yield _line_table(pa, path, numbers, raws)


def _line_table(pa, path: str, numbers: list[int], raws: list[bytes]):
    return pa.table({"path": pa.array([path] * len(numbers), pa.string()),
                     LINE: pa.array(numbers, pa.int64()), "raw": pa.array(raws, pa.binary())})


def mined_rows_ray(path: str | Path, cfg: PhraseMiningConfig) -> Iterator[dict]:
    """Mines a log with Ray Data; yields the mined rows in line order.

    Needs a running Ray (`rayqa.runtime.init_ray`). The pool has `cfg.num_actors`
    actors of `cfg.cpus_per_actor` CPUs; keep CPUs free for the read tasks.

    Args:
        path: The log file or a directory of logs (local path or URI).
        cfg: Mining settings.
    """
    import ray
    from ray.data import ActorPoolStrategy

    fs, inner = storage.resolve(path)  # the read tasks get the absolute path and its fs
    scheme = str(path).split("://", 1)[0] + "://" if storage.is_uri(path) else ""
    ds = ray.data.read_datasource(SearchLogDatasource(inner, scheme=scheme, filesystem=fs))
    # Rows leave the pool in input order, so the driver writes phrases.jsonl streaming,
    # with no sort; set on this dataset's own context, not the process-wide one.
    ds.context.execution_options.preserve_order = True
    ds = ds.map_batches(
        PhraseMiningStep, compute=ActorPoolStrategy(size=cfg.num_actors),
        batch_size=cfg.batch_size, num_cpus=cfg.cpus_per_actor,
        fn_constructor_args=(cfg.threshold, cfg.ngram_sizes, cfg.max_passage_chars,
                             cfg.min_results))
    for batch in ds.iter_batches(batch_size=None, batch_format="pyarrow"):
        yield from batch.to_pylist()


def mined_rows_local(path: str | Path, cfg: PhraseMiningConfig) -> Iterator[dict]:
    """Mines a log in this process; yields the same rows as `mined_rows_ray`."""
    miner = build_miner(cfg)
    with _open_binary(path) as stream:
        for number, raw in iter_lines(stream):
            row = mine_log_line(miner, str(path), number, raw, cfg.min_results)
            if row is not None:
                yield row


def _open_binary(path: str | Path):
    """The file (local path or URI) as bytes, gunzipped for `.gz` (like `open_text`)."""
    fs, inner = storage.resolve(path)
    return fs.open_input_stream(inner)  # decompression detected from the extension


# --- Writing ------------------------------------------------------------------------------


def write_outputs(rows: Iterable[dict], out_dir: str | Path, strict: bool = False,
                  report: BadRecords | None = None) -> dict:
    """Writes `phrases.jsonl`, `passages.jsonl` and the stats from mined rows.

    Args:
        rows: Mined rows in line order (`mined_rows_ray` or `mined_rows_local`).
        out_dir: The output directory (local path or URI; created).
        strict: Raise `DataError` at the first bad row; nothing is left written.
        report: Collects the bad lines; a fresh one when None.

    Returns:
        The stats: `{"langs": {lang: Table 4 row}, "bad_records": report}`.
    """
    storage.make_dirs(out_dir)
    fs, out_path = storage.resolve(out_dir)
    report = BadRecords() if report is None else report
    stats = MiningStats()
    finals = [f"{out_path}/{name}" for name in (PHRASES_FILE, PASSAGES_FILE)]
    temps = [f"{out_path}/.{name}.partial" for name in (PHRASES_FILE, PASSAGES_FILE)]
    try:
        with _open_text_output(fs, temps[0]) as phrases, \
                _open_text_output(fs, temps[1]) as passages:
            for row in _in_line_order(rows):
                if row[BAD]:
                    reject(report, strict, BadRecord(**json.loads(row[BAD])))
                    stats.add_bad(row[LANG] or None)
                    continue
                phrases.write(row[PHRASES_LINE])
                passages.write(row[PASSAGES_LINES])
                stats.add_query(row[LANG], json.loads(row[PHRASE_WORDS]),
                                json.loads(row[PASSAGE_PHRASES]))
    except BaseException:
        # Closing a stream completes its upload, so the temporaries exist even here.
        for temp in temps:
            if fs.get_file_info(temp).type != pafs.FileType.NotFound:
                fs.delete_file(temp)
        raise
    for temp, final in zip(temps, finals):
        fs.move(temp, final)
    return write_stats(stats, report, out_dir)


def _open_text_output(fs: pafs.FileSystem, path: str):
    """A UTF-8 text stream writing the file `path` of `fs` (uncompressed)."""
    return io.TextIOWrapper(fs.open_output_stream(path, compression=None), encoding="utf-8")


def _in_line_order(rows: Iterable[dict]) -> Iterator[dict]:
    """Passes rows through, failing loudly if they ever come out of line order."""
    last = 0
    for row in rows:
        if row[LINE] <= last:
            raise RuntimeError(f"mined rows out of order: line {row[LINE]} after {last}")
        last = row[LINE]
        yield row


def write_stats(stats: MiningStats, report: BadRecords, out_dir: str | Path) -> dict:
    """Writes `stats.json` and `stats.md` into `out_dir` (path or URI); returns the first."""
    result = {"langs": stats.to_dict(), "bad_records": report.to_dict()}
    storage.write_text(storage.join(out_dir, STATS_JSON),
                       json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    markdown = ("# Knowledge phrases (paper Table 4)\n\n" + stats.to_markdown()
                + f"\nBad lines: {report.summary()}\n")
    storage.write_text(storage.join(out_dir, STATS_MD), markdown)
    return result


def mine_phrases(input_path: str | Path, out_dir: str | Path, cfg: PhraseMiningConfig,
                 use_ray: bool = True) -> dict:
    """Mines knowledge phrases and passages from a search log and writes the outputs.

    Args:
        input_path: Search-log JSON Lines file (optionally `.gz`), a local path or URI.
        out_dir: Directory for `phrases.jsonl`, `passages.jsonl`, `stats.json`, `stats.md`
            (a local path or URI).
        cfg: Mining settings.
        use_ray: Run the Ray Data pipeline (needs a running Ray); else this process.

    Returns:
        The stats (see `write_outputs`) plus `output_dir`.

    Raises:
        DataError: In strict mode, at the first bad line; or when the file is missing.
    """
    if not storage.is_file(input_path):
        raise FileNotFoundError(f"search log not found: {input_path}")
    rows = mined_rows_ray(input_path, cfg) if use_ray else mined_rows_local(input_path, cfg)
    result = write_outputs(rows, out_dir, cfg.strict)
    return {**result, "output_dir": str(out_dir)}
