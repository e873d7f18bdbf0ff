"""Building and starting the `rayqa` Serve application.

`serve run serve_config.yaml` imports `rayqa.serve.app:build_app` and calls it with the
application's `args`; `start` does the same from Python (demo, tests). The graph is

    HTTP -> QAIngress --handle--> Retriever   (batched search)
                      --handle--> Reader      (batched span extraction; extractive mode)
                      --handle--> Generator   (batched mGEN decoding; generative mode)
                      --handle--> Translator  (batched MarianMT; translate-test mode)
                      --handle--> PivotReader (translate-test's own reader, if given)

A deployment is part of the graph when the config names its model. With
`split_retrieval` the Retriever is a merger over a QueryEncoder, a Searcher per FAISS
shard and a BM25 per language (`rayqa.serve.retrieval`), each of which the ingress
also probes for `/healthz`.
"""

from __future__ import annotations

from rayqa.serve.deployments import (GeneratorDeployment, ReaderDeployment,
                                     RetrieverDeployment, TranslatorDeployment)
from rayqa.serve.ingress import QAIngress
from rayqa.serve.retrieval import (BM25Deployment, MergingRetrieverDeployment,
                                   QueryEncoderDeployment, SearcherDeployment, index_parts)
from rayqa.config import ConfigError
from rayqa.serve.schemas import ServeAppConfig, load_app_config

APP_NAME = "rayqa"

__all__ = ["APP_NAME", "BM25Deployment", "GeneratorDeployment", "MergingRetrieverDeployment",
           "QAIngress", "QueryEncoderDeployment", "ReaderDeployment", "RetrieverDeployment",
           "SearcherDeployment", "TranslatorDeployment", "build_app", "load_app_config",
           "start"]


def build_app(args: dict | ServeAppConfig):
    """Builds the bound application; the `import_path` target of `serve_config.yaml`.

    Args:
        args: The application `args`; see `ServeAppConfig` for the keys.

    Returns:
        The `Application` `QAIngress.bind(handles, cfg)`, `handles` naming the bound
        deployments (`retriever` and, with `split_retrieval`, its parts
        `query_encoder`, `searcher-000`..., `bm25-<lang>`...; `reader`, `generator`,
        `translator`, `pivot_reader` when the config names their models).

    Raises:
        ConfigError: When `args` does not validate (the message names the bad key), or
            split BM25 retrieval over an index without BM25.
    """
    cfg = load_app_config(args)

    def options(deployment_cfg):
        return deployment_cfg.deployment_options(cfg.retry_after_s)

    handles = _retrieval(cfg, options)
    if cfg.reader_dir:
        handles["reader"] = ReaderDeployment.options(**options(cfg.reader)).bind(
            cfg.reader_dir, cfg.reader.max_batch_size, cfg.reader.batch_wait_timeout_s)
    if cfg.generator_dir:
        handles["generator"] = GeneratorDeployment.options(**options(cfg.generator)).bind(
            cfg.generator_dir, cfg.generator.max_batch_size,
            cfg.generator.batch_wait_timeout_s, cfg.generator.num_beams,
            cfg.generator.max_new_tokens)
    if "translate-test" in cfg.modes:
        translate = cfg.translate_test
        handles["translator"] = TranslatorDeployment.options(**options(cfg.translator)).bind(
            translate.translator.model_dump(), cfg.translator.max_batch_size,
            cfg.translator.batch_wait_timeout_s)
        if translate.reader_dir:
            handles["pivot_reader"] = ReaderDeployment.options(
                name="PivotReader", **options(cfg.pivot_reader)).bind(
                translate.reader_dir, cfg.pivot_reader.max_batch_size,
                cfg.pivot_reader.batch_wait_timeout_s)
    return QAIngress.options(**options(cfg.ingress)).bind(handles, cfg)


def _retrieval(cfg: ServeAppConfig, options) -> dict:
    """The bound retrieval deployments by role: one `retriever`, or the merging one
    and its parts."""
    if not cfg.split_retrieval:
        return {"retriever": RetrieverDeployment.options(**options(cfg.retriever)).bind(
            cfg.index_dir, cfg.retriever_mode, cfg.retriever.max_batch_size,
            cfg.retriever.batch_wait_timeout_s, cfg.query_encoder)}
    num_shards, langs = index_parts(cfg.index_dir)
    mode = cfg.retriever_mode
    encoder, searchers, bm25 = None, [], {}
    if mode != "bm25":
        encoder = QueryEncoderDeployment.options(**options(cfg.encoder)).bind(
            cfg.index_dir, cfg.query_encoder, cfg.encoder.max_batch_size,
            cfg.encoder.batch_wait_timeout_s)
        searchers = [SearcherDeployment.options(name=f"Searcher-{shard:03d}",
                                                **options(cfg.searcher)).bind(
            cfg.index_dir, shard, cfg.searcher.max_batch_size,
            cfg.searcher.batch_wait_timeout_s) for shard in range(num_shards)]
    if mode != "dense":
        if not langs:
            raise ConfigError(f"serve app args: retriever_mode {mode} needs BM25, but "
                              f"{cfg.index_dir} was built without it; use dense")
        bm25 = {lang: BM25Deployment.options(name=f"BM25-{lang}", **options(cfg.bm25)).bind(
            cfg.index_dir, lang, cfg.bm25.max_batch_size, cfg.bm25.batch_wait_timeout_s)
            for lang in langs}
    retriever = MergingRetrieverDeployment.options(**options(cfg.retriever)).bind(
        cfg.index_dir, mode, encoder, searchers, bm25)
    parts = {"query_encoder": encoder} if encoder is not None else {}
    parts.update({f"searcher-{shard:03d}": s for shard, s in enumerate(searchers)})
    parts.update({f"bm25-{lang}": b for lang, b in bm25.items()})
    return {"retriever": retriever, **parts}


def start(cfg_args: dict | ServeAppConfig, host: str = "127.0.0.1", port: int = 8000):
    """Starts Serve's HTTP proxy and runs the app at `/`, returning once it is healthy.

    Binds 127.0.0.1 unless told otherwise: the service has no authentication, so
    exposing it (`host="0.0.0.0"`) must be a deliberate choice. Connects to the running
    Ray (or starts a local one) the way `serve.start` does.

    Args:
        cfg_args: The application args (as in `serve_config.yaml`) or a config.
        host: Interface the HTTP proxy listens on.
        port: Its port.

    Returns:
        The `DeploymentHandle` of the ingress.
    """
    from ray import serve

    serve.start(http_options={"host": host, "port": port})
    return serve.run(build_app(cfg_args), name=APP_NAME, route_prefix="/")
