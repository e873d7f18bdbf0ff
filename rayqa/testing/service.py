"""A tiny but complete QA service for tests and benchmarks: seven passages in four
languages, a BM25 + dense index, a tiny extractive reader and a random-weight mT5 as
mGEN, all built on the fly and loaded through the same `from_pretrained` paths as real
models. Building needs Ray (the index is built by Ray Data).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

PASSAGES = [
    {"id": "en-1", "title": "Goethe", "lang": "en", "article_id": "q5879",
     "text": "Johann Wolfgang von Goethe wrote Faust, a tragic play in two parts."},
    {"id": "en-2", "title": "Danube", "lang": "en", "article_id": "q1653",
     "text": "The Danube flows through Vienna, Budapest and Belgrade to the Black Sea."},
    {"id": "de-1", "title": "Goethe", "lang": "de", "article_id": "q5879",
     "text": "Johann Wolfgang von Goethe schrieb den Faust, eine Tragödie in zwei Teilen."},
    {"id": "de-2", "title": "Donau", "lang": "de", "article_id": "q1653",
     "text": "Die Donau fließt durch Wien, Budapest und Belgrad bis ins Schwarze Meer."},
    {"id": "es-1", "title": "Goethe", "lang": "es", "article_id": "q5879",
     "text": "Johann Wolfgang von Goethe escribió Fausto, una tragedia en dos partes."},
    {"id": "zh-1", "title": "歌德", "lang": "zh", "article_id": "q5879",
     "text": "约翰·沃尔夫冈·冯·歌德写了《浮士德》，这是一部分为两部的悲剧。"},
    {"id": "zh-2", "title": "多瑙河", "lang": "zh", "article_id": "q1653",
     "text": "多瑙河流经维也纳、布达佩斯和贝尔格莱德，最后注入黑海。"},
]
QUESTIONS = ["Who wrote Faust?", "Wer schrieb den Faust?", "谁写了浮士德？",
             "Where does the Danube flow?"]



def build_tiny_service(root: str | Path, translators: bool = False, num_shards: int = 1,
                       generator: bool = True) -> dict:
    """Builds the reader, index and generator (and translators) under `root`.

    Args:
        root: An empty directory.
        num_shards: FAISS shards of the index.
        generator: Also build the mGEN (`generator_dir`).
        translators: Also build random-weight MarianMT models de-en and en-de and
            serve translate-test with English as the pivot (German questions and
            passages go through English; the other languages have no models).

    Returns:
        The Serve app args naming them (`index_dir`, `reader_dir`, `generator_dir`,
        `translate_test`); the caller adds limits and deployment options.
    """
    from rayqa.config import IndexJobConfig, ReaderConfig, ReaderJobConfig, save_config
    from rayqa.retrieval.build import build_index
    from rayqa.testing.tiny import build_tiny_reader
    from rayqa.testing.tiny_seq2seq import build_tiny_marian, build_tiny_mt5

    root = Path(root)
    passages_file = root / "passages.jsonl"
    passages_file.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in PASSAGES),
                             encoding="utf-8")
    texts = [p["title"] + " " + p["text"] for p in PASSAGES] + QUESTIONS
    reader_dir = build_tiny_reader(texts, root / "reader", vocab_size=500)
    # Short windows, saved as a trained checkpoint would save them: with 384 positions
    # an untrained reader's n-best starts and ends all land on padding, so every answer
    # would be "" and checks that answers are spans of passages would prove nothing.
    geometry = ReaderConfig(name_or_path=str(reader_dir), max_seq_length=48, doc_stride=16,
                            max_query_length=16)
    save_config(ReaderJobConfig(output_dir=str(reader_dir), model=geometry), reader_dir)
    # The tiny reader's encoder doubles as the passage encoder: only the plumbing is tested.
    index_dir = build_index(IndexJobConfig.model_validate({
        "output_dir": str(root / "index"), "passages_files": [str(passages_file)],
        "encoder": {"name_or_path": str(reader_dir), "max_length": 64, "batch_size": 4,
                    "cpus_per_actor": 0.25},
        "index": {"num_shards": num_shards}}))
    args = {"index_dir": str(index_dir), "reader_dir": str(reader_dir)}
    if generator:
        # A random-weight mT5 as mGEN: generative answers are strings, not right answers.
        args["generator_dir"] = str(build_tiny_mt5(texts, root / "mgen", vocab_size=400))
    if translators:
        by_lang = {lang: [p["text"] for p in PASSAGES if p["lang"] == lang] + QUESTIONS
                   for lang in ("de", "en")}
        models = {f"{src}-{tgt}": str(build_tiny_marian(by_lang[src], by_lang[tgt],
                                                        root / f"opus-mt-{src}-{tgt}",
                                                        vocab_size=300))
                  for src, tgt in (("de", "en"), ("en", "de"))}
        # Random weights say nothing; 8 tokens keep each translation short.
        args["translate_test"] = {"translator": {"models": models, "max_new_tokens": 8},
                                  "pivot_lang": "en", "max_passages": 2}
    return args


def wait_for(predicate, timeout_s: float, what: str, interval_s: float = 0.5):
    """Polls `predicate` until it returns a true value, and returns that value.

    Raises:
        AssertionError: Naming `what`, after `timeout_s` (a bound on a hang, not a
            timing assertion).
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval_s)
    raise AssertionError(f"{what} did not happen within {timeout_s} s")


def serve_replicas(app: str, deployment: str) -> set[str]:
    """The actor names of the running replicas of `deployment` in Serve app `app`."""
    import ray

    return {a["name"] for a in ray.util.list_named_actors(all_namespaces=True)
            if a["name"].startswith(f"SERVE_REPLICA::{app}#{deployment}#")}


def wait_healthy(http, timeout_s: float = 240) -> dict:
    """Waits until `/healthz` says every deployment is up, and returns its body.

    A steady state, not a transient one: on a loaded machine a probe can miss its 5 s
    and read as down for a moment, so a test that checks the healthy body waits for it.
    """
    return wait_for(lambda: (r := http.get("/healthz")).status_code == 200 and r.json(),
                    timeout_s, "/healthz reporting every deployment up")


def kill_replica_under_load(http, base_url: str, deployment: str, requests: list,
                            app: str = "rayqa") -> tuple[list[dict], object]:
    """Kills the only replica of `deployment`, sends `requests` at once from a client
    that retries 503s (concurrency 8), and waits for Serve to replace the replica.

    Nothing here depends on speed. The load starts after the kill, so its first
    requests meet the dead replica or wait for the new one, however fast Serve is;
    the replacement is a new replica actor (its name carries the replica id), waited
    for as the steady state it is. `/healthz` is polled until then, and the outage it
    reports is returned when a poll saw one: Serve may replace the replica before any
    poll looks (the unhealthy `/healthz` answer itself is tested without a race).
    Bounds, not timings: on a loaded 2-core machine a new replica took 68 s to start
    (12 s when quiet); requests wait for it up to the app's `request_timeout_s`.

    Args:
        http: An `httpx.Client` of the app (for `/healthz`).
        base_url: The app's URL, for the load.
        deployment: The deployment's Serve name (`Reader`, `Searcher-001`).
        requests: The load (`rayqa.serve.loadgen.make_requests`).
        app: The Serve application.

    Returns:
        `(outages, report)`: the `/healthz` bodies answered 503 between the kill and
        the replacement (possibly none), and the load's `LoadReport` once every request
        was answered or given up.
    """
    import asyncio
    import threading

    import ray

    from rayqa.serve.loadgen import run_load

    wait_healthy(http)
    (victim,) = serve_replicas(app, deployment)
    killed_at = time.monotonic()
    ray.kill(ray.get_actor(victim, namespace="serve"), no_restart=True)
    result = {}
    load = threading.Thread(target=lambda: result.update(report=asyncio.run(run_load(
        base_url, requests, 8, retry_503=True, max_retry_s=300, timeout_s=300))))
    load.start()
    outages = []

    def replaced():
        if (health := http.get("/healthz")).status_code == 503:
            outages.append(health.json())
        return serve_replicas(app, deployment) - {victim} and health.status_code == 200

    wait_for(replaced, 240, f"a new {deployment} replica", interval_s=0.2)
    print(f"{deployment} replica replaced {time.monotonic() - killed_at:.1f} s after the "
          f"kill; /healthz answered 503 {len(outages)} times meanwhile")
    load.join(timeout=600)
    assert not load.is_alive(), "the load did not end within 600 s"
    print(result["report"].summary())
    return outages, result["report"]
