"""Request, response and app-config models of the QA service.

Pure pydantic: importing this module loads neither Ray nor torch, so the request
contract and the config validation are unit-tested without a cluster. Every model is
strict (no "5" -> 5, no 5.0 -> 5, no true -> 1) and forbids unknown keys, because a
silently ignored typo (`topk`) is worse than a clear 4xx.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import (BaseModel, ConfigDict, Field, ValidationError, ValidationInfo,
                      field_validator, model_validator)

from rayqa import storage
from rayqa.config import ConfigError, build_config

# ISO 639-1/639-3 base code with optional BCP-47 or underscore subtags (`zh-CN`, `zh_tw`,
# `sr-Latn`), the spellings rayqa.langs.base_lang understands.
LANG_PATTERN = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$")
UNDETERMINED_LANG = "und"  # BCP-47 "undetermined", when no passage says otherwise


# The modes of rayqa.retrieval.retriever.MODES, repeated so that validating a config
# needs no FAISS import; a unit test keeps the two in step.
RetrieverMode = Literal["hybrid", "dense", "bm25"]
# How an answer is made: a span by the extractive reader, or text by the generator
# (mGEN, CORA) from the retrieved passages.
AnswerMode = Literal["extractive", "generative"]


class _Strict(BaseModel):
    """Base of every serve model: unknown keys are errors, types are not coerced."""

    model_config = ConfigDict(extra="forbid", strict=True)


# --------------------------------------------------------------------------- requests


class RetrieveRequest(_Strict):
    """Body of `POST /v1/retrieve` (passages only), and the base of `AnswerRequest`.

    `top_k` is checked against `max_top_k` when validation gets a context
    `{"max_top_k": n}` (the ingress passes its config); without one only `>= 1` holds.

    Attributes:
        question: The question, in any language; must contain a non-space character.
        lang: Language code of the question (`en`, `zh-CN`); restricts retrieval to that
            language where the retriever supports it, and is echoed in the response.
        top_k: How many passages to retrieve; the service default when None.
    """

    question: str = Field(min_length=1)
    lang: str | None = None
    top_k: int | None = Field(None, ge=1)

    @field_validator("question")
    @classmethod
    def _question_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must contain a non-whitespace character")
        return value

    @field_validator("lang")
    @classmethod
    def _lang_code(cls, value: str | None) -> str | None:
        if value is not None and not LANG_PATTERN.match(value):
            raise ValueError(f"{value[:20]!r} is not a language code like 'en' or 'zh-CN'")
        return value

    @field_validator("top_k")
    @classmethod
    def _top_k_in_range(cls, value: int | None, info: ValidationInfo) -> int | None:
        limit = (info.context or {}).get("max_top_k")
        if value is not None and limit is not None and value > limit:
            raise ValueError(f"must be between 1 and {limit}")
        return value



class AnswerRequest(RetrieveRequest):
    """Body of `POST /v1/answer`: a `RetrieveRequest` and how to answer.

    Attributes:
        mode: ``extractive`` or ``generative``; the service's ``default_mode`` when None.
            A mode whose model the service does not hold is a 422.
    """

    mode: AnswerMode | None = None

    @field_validator("mode")
    @classmethod
    def _mode_served(cls, value: str | None, info: ValidationInfo) -> str | None:
        served = (info.context or {}).get("modes")
        if value is not None and served is not None and value not in served:
            raise ValueError(f"{value} answering is not served here (served: "
                             f"{', '.join(served)})")
        return value


def parse_answer_request(body: bytes | str, max_top_k: int | None = None,
                         modes: list[str] | None = None,
                         model: type[RetrieveRequest] = AnswerRequest) -> RetrieveRequest:
    """Validates a raw JSON body into an `AnswerRequest` (or another ``model``).

    Args:
        body: The request body.
        max_top_k: Upper bound of `top_k`; unchecked when None.
        modes: The answer modes the service holds models for; unchecked when None.
        model: The request model: `AnswerRequest`, or `RetrieveRequest` for
            `/v1/retrieve` (where `mode` is an unknown field).

    Returns:
        The request.

    Raises:
        pydantic.ValidationError: On invalid JSON (error type `json_invalid`), a body
            that is not an object, a wrong type, a missing or unknown field, or a value
            out of range.
    """
    return model.model_validate_json(body, context={"max_top_k": max_top_k, "modes": modes})


# --------------------------------------------------------------------------- responses


class PassageOut(BaseModel):
    """One retrieved passage as returned to the client."""

    id: str
    title: str
    text: str
    lang: str
    score: float


class AnswerResponse(BaseModel):
    """Body of a successful `POST /v1/answer`.

    Attributes:
        answer: Extractive: a span of one of `passages`; generative: the generated text
            ("" when nothing was retrieved, extractive).
        score: Extractive: the reader's span score; generative: the answer's sequence
            log-probability (0.0 when there is no answer).
        lang: The request's `lang`, else the top passage's language, else `und`.
        mode: How the answer was made (`extractive` or `generative`).
        passages: The retrieved passages, best first: those that fed the answer.
        timings_ms: Milliseconds per stage (`retrieval`, `reading` or `generation`) and
            in all (`total`), measured by the ingress around each call.
    """

    answer: str
    score: float
    lang: str
    mode: AnswerMode
    passages: list[PassageOut]
    timings_ms: dict[str, float]


class RetrieveResponse(BaseModel):
    """Body of a successful `POST /v1/retrieve`.

    Attributes:
        lang: The request's `lang`, else the top passage's language, else `und`.
        passages: The retrieved passages, best first.
        timings_ms: Milliseconds of `retrieval` and in all (`total`).
    """

    lang: str
    passages: list[PassageOut]
    timings_ms: dict[str, float]


class InfoResponse(BaseModel):
    """Body of `GET /v1/info`: what the service runs.

    Attributes:
        version: rayqa's version.
        modes: The answer modes served; `default_mode` is the one of requests without.
        retriever_mode: `hybrid`, `dense` or `bm25`.
        index: The index's location, passage count, passages per language and encoder
            (from the retriever; `{"error": ...}` when it does not answer).
        models: Per answering deployment (`reader`, `generator`) what it loaded.
        limits: `max_top_k`, `default_top_k`, `max_body_bytes`.
    """

    version: str
    modes: list[str]
    default_mode: str
    retriever_mode: str
    index: dict
    models: dict[str, dict]
    limits: dict[str, int]


class HealthResponse(BaseModel):
    """Body of `GET /healthz`.

    Attributes:
        status: `ok` when every deployment answered, else `degraded`.
        deployments: `up` or `down: <reason>` per deployment.
        index_size: Number of passages in the index, None when the retriever is down.
    """

    status: Literal["ok", "degraded"]
    deployments: dict[str, str]
    index_size: int | None


class ErrorResponse(BaseModel):
    """Body of every 4xx/5xx answer.

    Attributes:
        error: A machine-readable code (`validation_error`, `invalid_json`, ...).
        message: A readable sentence naming the bad field where there is one.
        fields: Per-field problems of a validation error.
    """

    error: str
    message: str
    fields: list[dict[str, str]] = Field(default_factory=list)


def describe_validation_error(err: ValidationError) -> ErrorResponse:
    """Turns a pydantic error into a readable `ErrorResponse`, one line per field.

    Args:
        err: The error of `parse_answer_request` (or any model validation).

    Returns:
        The response body; `error` is `invalid_json` when the body was not JSON at all.
    """
    problems = [_describe_one(item) for item in err.errors(include_url=False)]
    kinds = {item["type"] for item in err.errors(include_url=False)}
    code = "invalid_json" if "json_invalid" in kinds else "validation_error"
    message = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
    return ErrorResponse(error=code, message=message, fields=problems)


def _describe_one(item: dict) -> dict[str, str]:
    """One pydantic error item as `{"field", "message", "type"}`."""
    field = ".".join(str(part) for part in item["loc"]) or "body"
    message = item["msg"]
    if item["type"] == "extra_forbidden":
        message = "unknown field"
    elif item["type"] == "missing":
        message = "field required"
    elif item["type"] == "json_invalid":
        message = f"not valid JSON ({item.get('ctx', {}).get('error', item['msg'])})"
    elif item["type"] == "model_type":
        message = "must be a JSON object"
    # "Value error, must be ..." reads as noise in an HTTP answer.
    message = message.removeprefix("Value error, ")
    return {"field": field, "message": message, "type": item["type"]}


# --------------------------------------------------------------------------- app config


class AutoscalingOptions(_Strict):
    """Ray Serve autoscaling of one deployment (replaces a fixed `num_replicas`)."""

    min_replicas: int = Field(1, ge=0)
    max_replicas: int = Field(2, ge=1)
    target_ongoing_requests: float = Field(2.0, gt=0)

    @model_validator(mode="after")
    def _min_below_max(self) -> AutoscalingOptions:
        if self.min_replicas > self.max_replicas:
            raise ValueError("min_replicas must not exceed max_replicas")
        return self


class IngressOptions(_Strict):
    """Replica resources of the HTTP ingress."""

    num_cpus: float = Field(0.25, gt=0)
    # GPUs per replica; fractional shares one GPU between replicas (e.g. 0.5).
    num_gpus: float = Field(0, ge=0)
    num_replicas: int = Field(1, ge=1)
    autoscaling: AutoscalingOptions | None = None
    max_ongoing_requests: int = Field(64, ge=1)

    def deployment_options(self) -> dict:
        """Returns the kwargs of `Deployment.options` for these settings."""
        options: dict = {"ray_actor_options": {"num_cpus": self.num_cpus,
                                               "num_gpus": self.num_gpus},
                         "max_ongoing_requests": self.max_ongoing_requests}
        if self.autoscaling is not None:
            options["autoscaling_config"] = self.autoscaling.model_dump()
        else:
            options["num_replicas"] = self.num_replicas
        return options

    @model_validator(mode="after")
    def _replicas_or_autoscaling(self) -> IngressOptions:
        if self.autoscaling is not None and "num_replicas" in self.model_fields_set:
            raise ValueError("give num_replicas or autoscaling, not both")
        return self


class BatchedDeploymentOptions(IngressOptions):
    """Replica resources and `@serve.batch` settings of the retriever or the reader."""

    max_batch_size: int = Field(8, ge=1)
    batch_wait_timeout_s: float = Field(0.01, ge=0)


class GeneratorOptions(BatchedDeploymentOptions):
    """The generator deployment: resources, batching and decoding."""

    # 1: greedy decoding; more: beam search.
    num_beams: int = Field(1, ge=1)
    # Longest answer in tokens; None: the length the model was trained for.
    max_new_tokens: int | None = Field(None, ge=1)


class ServeAppConfig(_Strict):
    """The `args` of the `rayqa` Serve application (`rayqa.serve.app:build_app`).

    Attributes:
        index_dir: Directory written by `rayqa.retrieval.build.build_index`.
        reader_dir: `save_pretrained` directory of the extractive reader (None: no
            extractive mode).
        generator_dir: `save_pretrained` directory of a trained mGEN (e.g. a CORA run's
            last round `mgen/final`; None: no generative mode).
        default_mode: The answer mode of requests that give none; its model must be set.
        query_encoder: Question encoder overriding the index manifest's (CORA's
            inference rule is round 0's query encoder with the last round's passage
            encoder; CORA's indexes record it, so this is rarely needed).
        retriever_mode: `hybrid` (BM25 + dense, rank-fused), `dense` or `bm25`; see
            `rayqa.retrieval.retriever`. Only `dense` works on an index built without BM25.
        max_top_k: Largest `top_k` a request may ask for.
        default_top_k: Passages retrieved when a request gives no `top_k`.
        max_body_bytes: Largest request body accepted; larger ones get 413.
        ingress: Resources of the HTTP ingress.
        retriever: Resources and batching of the retriever deployment.
        reader: Resources and batching of the reader deployment.
        generator: Resources, batching and decoding of the generator deployment.
    """

    index_dir: str = Field(min_length=1)
    reader_dir: str | None = Field(None, min_length=1)
    generator_dir: str | None = Field(None, min_length=1)
    default_mode: AnswerMode = Field("extractive", validate_default=True)
    query_encoder: str | None = Field(None, min_length=1)
    retriever_mode: RetrieverMode = "hybrid"
    max_top_k: int = Field(20, ge=1)
    default_top_k: int = Field(5, ge=1)  # after max_top_k: its validator reads that
    max_body_bytes: int = Field(64 * 1024, ge=256)
    ingress: IngressOptions = Field(default_factory=IngressOptions)
    retriever: BatchedDeploymentOptions = Field(default_factory=BatchedDeploymentOptions)
    reader: BatchedDeploymentOptions = Field(default_factory=BatchedDeploymentOptions)
    generator: GeneratorOptions = Field(default_factory=GeneratorOptions)

    @property
    def modes(self) -> list[str]:
        """The answer modes this config holds a model for."""
        return [mode for mode, model in (("extractive", self.reader_dir),
                                         ("generative", self.generator_dir)) if model]

    @field_validator("default_mode")
    @classmethod
    def _default_mode_served(cls, value: str, info: ValidationInfo) -> str:
        # reader_dir and generator_dir come first, so they are in info.data when valid.
        needed = "reader_dir" if value == "extractive" else "generator_dir"
        if needed in info.data and not info.data[needed]:
            raise ValueError(f"{value} needs {needed} (give reader_dir for extractive "
                             "answers, generator_dir for generative ones, or both)")
        return value

    @field_validator("default_top_k")
    @classmethod
    def _default_within_max(cls, value: int, info: ValidationInfo) -> int:
        limit = info.data.get("max_top_k")  # absent when max_top_k itself was invalid
        if limit is not None and value > limit:
            raise ValueError(f"{value} exceeds max_top_k ({limit})")
        return value

    def resolved(self, base: str | Path | None = None) -> ServeAppConfig:
        """Returns a copy whose relative directories are made absolute against `base`.

        Replicas may start in another working directory than `serve run`, so paths are
        fixed once, where the app is built.

        Args:
            base: The directory relative paths are relative to; the cwd when None.
        """
        base = Path(base or Path.cwd())
        paths = {key: getattr(self, key) if storage.is_uri(getattr(self, key))
                 else str((base / getattr(self, key)).resolve())
                 for key in self.model_dirs(base)}
        return self.model_copy(update=paths)

    def model_dirs(self, base: str | Path | None = None) -> list[str]:
        """The keys of the directories this config names (unset models left out).

        A ``query_encoder`` that is neither a URI nor a directory (under ``base``, the
        cwd when None) is a hub name and stays as it is.
        """
        keys = [key for key in ("index_dir", "reader_dir", "generator_dir")
                if getattr(self, key)]
        encoder = self.query_encoder
        if encoder and (storage.is_uri(encoder) or (Path(base or Path.cwd()) / encoder).is_dir()):
            keys.append("query_encoder")
        return keys


def load_app_config(args: dict | ServeAppConfig, check_paths: bool = True) -> ServeAppConfig:
    """Validates the application `args` into a `ServeAppConfig` with absolute paths.

    Args:
        args: The `args` mapping of `serve_config.yaml` (or an already built config).
        check_paths: Fail now when `index_dir` or a model directory is missing, rather
            than in a replica log after the deployments were scheduled.

    Returns:
        The config; relative directories are resolved against the current directory.

    Raises:
        ConfigError: On an unknown key, a wrong type or value, or a missing directory;
            the message names the key.
    """
    if not isinstance(args, ServeAppConfig):
        if not isinstance(args, dict):
            raise ConfigError(f"serve app args: expected a mapping, got {type(args).__name__}")
        args = build_config(ServeAppConfig, args, source="serve app args")
    cfg = args.resolved()
    if check_paths:
        for key in cfg.model_dirs():  # local paths or URIs (s3://...)
            if not storage.is_dir(getattr(cfg, key)):
                raise ConfigError(f"serve app args: {key}: directory {getattr(cfg, key)} "
                                  "does not exist (run `make demo` or give another path)")
    return cfg
