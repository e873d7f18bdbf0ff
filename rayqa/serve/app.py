"""Building and starting the `rayqa` Serve application.

`serve run serve_config.yaml` imports `rayqa.serve.app:build_app` and calls it with the
application's `args`; `start` does the same from Python (demo, tests). The graph is

    HTTP -> QAIngress --handle--> Retriever (batched search)
                      --handle--> Reader    (batched span extraction; extractive mode)
                      --handle--> Generator (batched mGEN decoding; generative mode)

Reader and Generator are deployed when the config names their models.
"""

from __future__ import annotations

from rayqa.serve.deployments import GeneratorDeployment, ReaderDeployment, RetrieverDeployment
from rayqa.serve.ingress import QAIngress
from rayqa.serve.schemas import ServeAppConfig, load_app_config

APP_NAME = "rayqa"

__all__ = ["APP_NAME", "GeneratorDeployment", "QAIngress", "ReaderDeployment",
           "RetrieverDeployment", "build_app", "load_app_config", "start"]


def build_app(args: dict | ServeAppConfig):
    """Builds the bound application; the `import_path` target of `serve_config.yaml`.

    Args:
        args: The application `args`; see `ServeAppConfig` for the keys.

    Returns:
        The `Application` `QAIngress.bind(retriever, reader, generator, cfg)`, reader
        and generator None when the config names no model for them.

    Raises:
        ConfigError: When `args` does not validate; the message names the bad key.
    """
    cfg = load_app_config(args)
    retriever = RetrieverDeployment.options(**cfg.retriever.deployment_options()).bind(
        cfg.index_dir, cfg.retriever_mode, cfg.retriever.max_batch_size,
        cfg.retriever.batch_wait_timeout_s, cfg.query_encoder)
    reader = generator = None
    if cfg.reader_dir:
        reader = ReaderDeployment.options(**cfg.reader.deployment_options()).bind(
            cfg.reader_dir, cfg.reader.max_batch_size, cfg.reader.batch_wait_timeout_s)
    if cfg.generator_dir:
        options = cfg.generator
        generator = GeneratorDeployment.options(**options.deployment_options()).bind(
            cfg.generator_dir, options.max_batch_size, options.batch_wait_timeout_s,
            options.num_beams, options.max_new_tokens)
    return QAIngress.options(**cfg.ingress.deployment_options()).bind(
        retriever, reader, generator, cfg)


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
