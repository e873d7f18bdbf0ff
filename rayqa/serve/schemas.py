"""Request, response and app-config models of the QA service.

Pure pydantic: importing this module loads neither Ray nor torch, so the request
contract and the config validation are unit-tested without a cluster. Every model is
strict (no "5" -> 5, no 5.0 -> 5, no true -> 1) and forbids unknown keys, because a
silently ignored typo (`topk`) is worse than a clear 4xx.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import langcodes
from pydantic import (BaseModel, ConfigDict, Field, ValidationError, ValidationInfo,
                      field_validator, model_validator)

from rayqa import storage
from rayqa.config import ConfigError, build_config
from rayqa.config.data_prep import TranslatorConfig

UNDETERMINED_LANG = "und"  # BCP-47 "undetermined", when no passage says otherwise


# The modes of rayqa.retrieval.retriever.MODES, repeated so that validating a config
# needs no FAISS import; a unit test keeps the two in step.
RetrieverMode = Literal["hybrid", "dense", "bm25"]
# How an answer is made: a span by the extractive reader, text by the generator (mGEN,
# CORA) from the retrieved passages, or a span found through a pivot language
# (translate-test: translate, read, translate back, align with SimpleMatch).
AnswerMode = Literal["extractive", "generative", "translate-test"]


class _Strict(BaseModel):
    """Base of every serve model: unknown keys are errors, types are not coerced."""

    model_config = ConfigDict(extra="forbid", strict=True)


# --------------------------------------------------------------------------- requests


class RetrieveRequest(_Strict):
    """Body of `POST /v1/retrieve` (passages only), and the base of `AnswerRequest`.

    `top_k` is checked against `max_top_k` and the question's length against
    `max_question_chars` when validation gets them in its context (the ingress passes
    its config); without them only `top_k >= 1` holds.

    Attributes:
        question: The question, in any language; must contain a non-space character.
        lang: Registered BCP-47 language tag of the question (`en`, `zh-CN`; MKQA's
            `zh_tw` spelling too); restricts retrieval to that language where the
            retriever supports it, and is echoed in the response.
        top_k: How many passages to retrieve; the service default when None.
    """

    question: str = Field(min_length=1)
    lang: str | None = None
    top_k: int | None = Field(None, ge=1)

    @field_validator("question")
    @classmethod
    def _question_not_blank(cls, value: str, info: ValidationInfo) -> str:
        if not value.strip():
            raise ValueError("must contain a non-whitespace character")
        limit = (info.context or {}).get("max_question_chars")
        if limit is not None and len(value) > limit:
            raise ValueError(f"must be at most {limit} characters (got {len(value)})")
        return value

    @field_validator("lang")
    @classmethod
    def _lang_code(cls, value: str | None) -> str | None:
        if value is not None and not langcodes.tag_is_valid(value.replace("_", "-")):
            raise ValueError(f"{value[:20]!r} is not a known language code (BCP 47, "
                             "like 'en' or 'zh-CN')")
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
        mode: ``extractive``, ``generative`` or ``translate-test``; the service's
            ``default_mode`` when None. A mode whose models the service does not hold
            is a 422.
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
                         model: type[RetrieveRequest] = AnswerRequest,
                         max_question_chars: int | None = None) -> RetrieveRequest:
    """Validates a raw JSON body into an `AnswerRequest` (or another ``model``).

    Args:
        body: The request body.
        max_top_k: Upper bound of `top_k`; unchecked when None.
        modes: The answer modes the service holds models for; unchecked when None.
        model: The request model: `AnswerRequest`, or `RetrieveRequest` for
            `/v1/retrieve` (where `mode` is an unknown field).
        max_question_chars: Longest question in characters; unchecked when None.

    Returns:
        The request.

    Raises:
        pydantic.ValidationError: On invalid JSON (error type `json_invalid`), a body
            that is not an object, a wrong type, a missing or unknown field, or a value
            out of range.
    """
    return model.model_validate_json(body, context={
        "max_top_k": max_top_k, "modes": modes, "max_question_chars": max_question_chars})


# --------------------------------------------------------------------------- responses


class PassageOut(BaseModel):
    """One retrieved passage as returned to the client."""

    id: str
    title: str
    text: str
    lang: str
    score: float


class TranslationTrace(BaseModel):
    """How a translate-test answer was reached.

    Attributes:
        pivot_lang: The language the question and passages were read in.
        question: The question in the pivot language.
        answer: The pivot reader's answer.
        answer_translated: That answer translated back into its passage's language,
            which SimpleMatch then aligned to the span given as `answer`.
    """

    pivot_lang: str
    question: str
    answer: str
    answer_translated: str


class AnswerSpan(BaseModel):
    """Where an extracted answer lies: `passages[passage].text[start:end]` is the answer.

    Attributes:
        passage: Index in the response's `passages` of the passage the answer was read from.
        start: Offset of the answer's first character in that passage's text.
        end: Offset one past its last character.
    """

    passage: int = Field(ge=0)
    start: int = Field(ge=0)
    end: int = Field(ge=0)


class AnswerResponse(BaseModel):
    """Body of a successful `POST /v1/answer`.

    Attributes:
        answer: Extractive: a span of one of `passages`; generative: the generated text
            ("" when nothing was retrieved, extractive).
        score: Extractive: the reader's span score; generative: the answer's sequence
            log-probability (0.0 when there is no answer).
        lang: The request's `lang`, else the top passage's language, else `und`.
        mode: How the answer was made.
        passages: The passages that fed the answer, best first: every retrieved one,
            or in translate-test the first `max_passages` (those translated and read).
        timings_ms: Milliseconds per stage (`retrieval`, then `reading` or `generation`,
            or `translation`, `reading`, `back_translation`) and in all (`total`),
            measured by the ingress around each call.
        translation: translate-test only: the pivot question and answers.
        span: Where the answer lies in `passages`: extractive and translate-test answers
            are spans of a passage; None for generative answers (generated text, fed by
            every passage) and when there is no answer.
    """

    answer: str
    score: float
    lang: str
    mode: AnswerMode
    passages: list[PassageOut]
    timings_ms: dict[str, float]
    translation: TranslationTrace | None = None
    span: AnswerSpan | None = None


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
        models: Per other deployment (`reader`, `generator`, split retrieval's parts)
            what it loaded.
        limits: `max_top_k`, `default_top_k`, `max_body_bytes`, `max_question_chars`.
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
    """Replica resources, queue bound and health checking of one deployment (the HTTP
    ingress; the model deployments add batching)."""

    num_cpus: float = Field(0.25, gt=0)
    # GPUs per replica; fractional shares one GPU between replicas (e.g. 0.5).
    num_gpus: float = Field(0, ge=0)
    num_replicas: int = Field(1, ge=1)
    autoscaling: AutoscalingOptions | None = None
    # Requests one replica works on at once.
    max_ongoing_requests: int = Field(64, ge=1)
    # Requests waiting for a replica (over all replicas, per caller) beyond which new
    # ones are refused with 503 and Retry-After: the queue is never unbounded.
    max_queued_requests: int = Field(256, ge=1)
    # Serve calls each replica's `check_health` this often, and replaces a replica
    # whose check raises or takes longer than the timeout.
    health_check_period_s: float = Field(10.0, gt=0)
    health_check_timeout_s: float = Field(30.0, gt=0)
    # Replica starts that may fail in a row before the deployment is given up as failed
    # (an artifact that does not match its manifest fails every time).
    max_constructor_retries: int = Field(3, ge=1)

    def deployment_options(self, retry_after_s: float | None = None) -> dict:
        """Returns the kwargs of `Deployment.options` for these settings.

        Args:
            retry_after_s: `Retry-After` of the 503 answering a request refused because
                this deployment's queue is full (None: no header).
        """
        from ray.serve.config import BackpressureConfig  # Ray only where it deploys

        options: dict = {"ray_actor_options": {"num_cpus": self.num_cpus,
                                               "num_gpus": self.num_gpus},
                         "max_ongoing_requests": self.max_ongoing_requests,
                         "max_queued_requests": self.max_queued_requests,
                         "backpressure_config": BackpressureConfig(retry_after_s=retry_after_s),
                         "health_check_period_s": self.health_check_period_s,
                         "health_check_timeout_s": self.health_check_timeout_s,
                         "max_constructor_retry_count": self.max_constructor_retries}
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


class TranslateTestOptions(_Strict):
    """Translate-test answering (Cui et al. 2019, section 3): the question and the top
    passages are translated into the pivot language, read there, and the answer is
    translated back and aligned with SimpleMatch onto its original passage."""

    # MarianMT models per pair: every question and passage language -> pivot and back
    # ({"de-en": dir, "en-de": dir, ...}); hub names or directories (or URIs).
    translator: TranslatorConfig
    pivot_lang: str = Field("en", min_length=2)
    # A reader of the pivot language (the paper's English SQuAD BERT); None: reader_dir.
    reader_dir: str | None = Field(None, min_length=1)
    # Passages are translated whole or sentence by sentence (MT models cut long inputs).
    passage_unit: Literal["passage", "sentence"] = "sentence"
    # SimpleMatch's window lengths: len(translated answer) +- delta characters.
    simple_match_delta: int = Field(5, ge=0)
    # Retrieved passages translated and read per question (each costs translations).
    max_passages: int = Field(3, ge=1)

    @field_validator("translator")
    @classmethod
    def _marian(cls, value: TranslatorConfig) -> TranslatorConfig:
        if value.kind != "marian":
            raise ValueError("the service translates with MarianMT models (kind: marian); "
                             "a parallel corpus only holds benchmark texts")
        return value

    def supports(self, src: str, tgt: str) -> bool:
        """Whether the translator has a model for ``src`` -> ``tgt``."""
        return f"{src}-{tgt}" in self.translator.models


# The config keys that decide which answer modes are served, and what each mode needs.
_MODE_MODELS = ("reader_dir", "generator_dir", "translate_test")
_MODE_NEEDS = {"extractive": "reader_dir", "generative": "generator_dir",
               "translate-test": "translate_test and a reader (reader_dir or "
                                 "translate_test.reader_dir)"}


def served_modes(reader_dir: str | None, generator_dir: str | None,
                 translate_test: TranslateTestOptions | None) -> list[str]:
    """The answer modes the given models serve, in `AnswerMode` order."""
    translate = translate_test is not None and bool(translate_test.reader_dir or reader_dir)
    return [mode for mode, served in (("extractive", reader_dir),
                                      ("generative", generator_dir),
                                      ("translate-test", translate)) if served]


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
        max_question_chars: Longest question accepted, in characters; longer ones get 422.
        request_timeout_s: A request not answered in this long gets 504 (its pending
            stage is cancelled); keep it under the HTTP proxy's `request_timeout_s`.
        retry_after_s: `Retry-After` (seconds) of every 503: a full queue or a replica
            that died under the request.
        ingress: Resources of the HTTP ingress.
        split_retrieval: Split retrieval over deployments (`rayqa.serve.retrieval`): a
            `QueryEncoder`, a `Searcher` per FAISS shard and a `BM25` per language,
            merged by the `Retriever`, so that no replica holds the whole index. False:
            one `Retriever` deployment loads all of it.
        retriever: Resources and batching of the retriever deployment (with
            `split_retrieval`, the merging front, which does not batch).
        encoder: Resources and batching of split retrieval's `QueryEncoder`.
        searcher: Resources and batching of each of split retrieval's `Searcher`s.
        bm25: Resources and batching of each of split retrieval's `BM25`s.
        reader: Resources and batching of the reader deployment.
        generator: Resources, batching and decoding of the generator deployment.
        translate_test: Translate-test answering (None: not served); needs a reader.
        translator: Resources and batching of the translator deployment.
        pivot_reader: Resources and batching of the pivot-language reader, deployed
            when `translate_test.reader_dir` is set.
    """

    index_dir: str = Field(min_length=1)
    reader_dir: str | None = Field(None, min_length=1)
    generator_dir: str | None = Field(None, min_length=1)
    query_encoder: str | None = Field(None, min_length=1)
    retriever_mode: RetrieverMode = "hybrid"
    max_top_k: int = Field(20, ge=1)
    default_top_k: int = Field(5, ge=1)  # after max_top_k: its validator reads that
    max_body_bytes: int = Field(64 * 1024, ge=256)
    max_question_chars: int = Field(1000, ge=1)
    request_timeout_s: float = Field(30.0, gt=0)
    retry_after_s: int = Field(1, ge=0)
    ingress: IngressOptions = Field(default_factory=IngressOptions)
    split_retrieval: bool = False
    retriever: BatchedDeploymentOptions = Field(default_factory=BatchedDeploymentOptions)
    encoder: BatchedDeploymentOptions = Field(default_factory=BatchedDeploymentOptions)
    searcher: BatchedDeploymentOptions = Field(default_factory=BatchedDeploymentOptions)
    bm25: BatchedDeploymentOptions = Field(default_factory=BatchedDeploymentOptions)
    reader: BatchedDeploymentOptions = Field(default_factory=BatchedDeploymentOptions)
    generator: GeneratorOptions = Field(default_factory=GeneratorOptions)
    translate_test: TranslateTestOptions | None = None
    # After the models: its validator reads them.
    default_mode: AnswerMode = Field("extractive", validate_default=True)
    translator: BatchedDeploymentOptions = Field(default_factory=BatchedDeploymentOptions)
    pivot_reader: BatchedDeploymentOptions = Field(default_factory=BatchedDeploymentOptions)

    @property
    def modes(self) -> list[str]:
        """The answer modes this config holds models for."""
        return served_modes(**{key: getattr(self, key) for key in _MODE_MODELS})

    @field_validator("default_mode")
    @classmethod
    def _default_mode_served(cls, value: str, info: ValidationInfo) -> str:
        # The model fields come first, so they are in info.data when they are valid.
        if not set(_MODE_MODELS) <= set(info.data):
            return value  # a model field is invalid: that error is the one to show
        if value not in served_modes(**{key: info.data[key] for key in _MODE_MODELS}):
            raise ValueError(f"{value} needs {_MODE_NEEDS[value]}")
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

        def absolute(path: str) -> str:
            return path if storage.is_uri(path) else str((base / path).resolve())

        paths = {key: absolute(getattr(self, key)) for key in self.model_dirs(base)}
        if self.translate_test is not None:
            options = self.translate_test
            models = {pair: absolute(path) if (base / path).is_dir() else path
                      for pair, path in options.translator.models.items()}
            paths["translate_test"] = options.model_copy(update={
                "reader_dir": options.reader_dir and absolute(options.reader_dir),
                "translator": options.translator.model_copy(update={"models": models})})
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
        dirs = {key: getattr(cfg, key) for key in cfg.model_dirs()}
        if cfg.translate_test is not None and cfg.translate_test.reader_dir:
            dirs["translate_test.reader_dir"] = cfg.translate_test.reader_dir
        for key, path in dirs.items():  # local paths or URIs (s3://...)
            if not storage.is_dir(path):
                raise ConfigError(f"serve app args: {key}: directory {path} "
                                  "does not exist (run `make demo` or give another path)")
    return cfg
