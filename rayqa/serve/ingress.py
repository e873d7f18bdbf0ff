"""The HTTP ingress: a FastAPI app whose routes compose the retriever and the reader.

Every error is answered with the same JSON shape
`{"error": code, "message": sentence, "fields": [...]}`: the body is read with a size
cap, parsed and validated here (not by FastAPI's body binding) because the limits
(`max_body_bytes`, `max_top_k`, `max_question_chars`) come from the app config, which
only the replica knows. Server-side failures are told apart, so a client knows what to
do: 503 with `Retry-After` when a deployment's queue is full or its replica died under
the request (retry), 504 when the request outlived `request_timeout_s`, 500 when a
model raised (logged with its traceback).

Metrics go through Ray's metrics API (Prometheus names get Ray's `ray_` prefix):
`rayqa_requests` by route, mode and status, `rayqa_stage_latency_ms` by stage,
`rayqa_errors` by kind; the model deployments add `rayqa_batch_size`.
"""

# No `from __future__ import annotations` here: FastAPI reads the route signatures at
# runtime, and Serve's class-based routes leave string annotations unresolved.
import asyncio
import functools
import logging
import math
import time
from importlib import resources

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import ValidationError
from ray import serve
from ray.exceptions import RayActorError, RayTaskError
from ray.serve import metrics
from ray.serve.exceptions import (BackPressureError, DeploymentUnavailableError,
                                  ReplicaUnavailableError, RequestCancelledError)
from ray.serve.handle import DeploymentHandle
from starlette.exceptions import HTTPException as StarletteHTTPException

from rayqa import __version__
from rayqa.crosslingual.matching import simple_match
from rayqa.crosslingual.translation_units import join_translation_units, translation_units
from rayqa.langs import base_lang
from rayqa.serve.schemas import (UNDETERMINED_LANG, AnswerRequest, AnswerResponse,
                                 AnswerSpan, ErrorResponse, HealthResponse, InfoResponse,
                                 PassageOut, RetrieveRequest, RetrieveResponse, ServeAppConfig,
                                 TranslationTrace, describe_validation_error,
                                 parse_answer_request)

logger = logging.getLogger("rayqa.serve")

HEALTH_TIMEOUT_S = 5.0  # a deployment slower than this to say hello counts as down
UNAVAILABLE_PROBE_S = 2.0  # the probe that tells a timed-out stage's outage from slowness
# The deployment each stage of a request calls (translate-test's reading may be the
# pivot reader's; the probe asks the reader, which it shares otherwise).
STAGE_DEPLOYMENTS = {"retrieval": "retriever", "reading": "reader", "generation": "generator",
                     "translation": "translator", "back_translation": "translator"}
# Roles of split retrieval's parts (`rayqa.serve.retrieval`), probed with the retriever.
RETRIEVAL_PARTS = ("query_encoder", "searcher-", "bm25-")
# Upper bounds (ms) of the stage latency histogram's buckets.
LATENCY_BOUNDARIES_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000]
# Downstream failures that mean "no replica could take it now", not "the model failed".
_UNAVAILABLE = (RayActorError, ReplicaUnavailableError, DeploymentUnavailableError)


class ApiError(Exception):
    """An error the ingress answers with its own status and JSON body.

    Args:
        status: HTTP status code.
        error: Machine-readable code.
        message: Readable sentence for the client.
        retry_after_s: Seconds for the `Retry-After` header (None: no header).
    """

    def __init__(self, status: int, error: str, message: str,
                 retry_after_s: int | None = None):
        super().__init__(message)
        self.status = status
        self.body = ErrorResponse(error=error, message=message)
        self.headers = {} if retry_after_s is None else {"Retry-After": str(retry_after_s)}


class ServiceMetrics:
    """The ingress's metrics, created once per replica process (Ray metrics must be
    made inside the actor that records them); Serve adds deployment and replica tags."""

    def __init__(self):
        self.requests = metrics.Counter(
            "rayqa_requests", description="HTTP requests answered, by route, mode and status.",
            tag_keys=("route", "mode", "status"))
        self.stage_latency = metrics.Histogram(
            "rayqa_stage_latency_ms", description="Wall time of each stage of a request.",
            boundaries=LATENCY_BOUNDARIES_MS, tag_keys=("stage",))
        self.errors = metrics.Counter(
            "rayqa_errors", description="Error answers by kind (the body's `error` code).",
            tag_keys=("kind",))


@functools.cache
def service_metrics() -> ServiceMetrics:
    """This replica's metrics."""
    return ServiceMetrics()


api = FastAPI(
    title="rayqa",
    version=__version__,
    description="Multilingual open-retrieval question answering on Ray Serve.",
)

_ERROR_RESPONSES = {code: {"model": ErrorResponse}
                    for code in (400, 413, 422, 500, 503, 504)}


def _error(status: int, body: ErrorResponse, headers: dict | None = None) -> JSONResponse:
    service_metrics().errors.inc(tags={"kind": body.error})
    return JSONResponse(status_code=status, content=body.model_dump(), headers=headers)


@api.middleware("http")
async def _count_requests(request: Request, call_next):
    """Counts every answered request by route, answer mode and status."""
    response = await call_next(request)
    route = request.scope.get("route")
    service_metrics().requests.inc(tags={
        "route": getattr(route, "path", "unrouted"),
        "mode": getattr(request.state, "mode", "none"), "status": str(response.status_code)})
    return response


@api.exception_handler(ApiError)
async def _on_api_error(_: Request, exc: ApiError) -> JSONResponse:
    return _error(exc.status, exc.body, exc.headers)


@api.exception_handler(ValidationError)
async def _on_validation_error(_: Request, exc: ValidationError) -> JSONResponse:
    body = describe_validation_error(exc)
    # A body that is not JSON at all is malformed (400); valid JSON with bad fields is 422.
    return _error(400 if body.error == "invalid_json" else 422, body)


@api.exception_handler(RequestValidationError)
async def _on_request_validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
    problems = [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"],
                 "type": e["type"]} for e in exc.errors()]
    message = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
    return _error(422, ErrorResponse(error="validation_error", message=message,
                                     fields=problems))


@api.exception_handler(StarletteHTTPException)
async def _on_http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
    # 404 / 405 from routing get the same shape as every other error.
    code = "not_found" if exc.status_code == 404 else f"http_{exc.status_code}"
    return _error(exc.status_code, ErrorResponse(error=code, message=str(exc.detail)))


async def read_body(request: Request, limit: int) -> bytes:
    """Reads the request body, refusing more than `limit` bytes.

    The declared Content-Length is checked first so an honest large upload is refused
    before it is read; the running count catches chunked bodies that declare nothing.

    Args:
        request: The incoming request.
        limit: Largest body accepted, in bytes.

    Returns:
        The body.

    Raises:
        ApiError: 400 on a malformed Content-Length, 413 on a body over the limit.
    """
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise ApiError(400, "bad_content_length", "Content-Length must be an integer")
        if int(declared) > limit:
            raise _too_large(limit)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise _too_large(limit)
    return bytes(body)


def _too_large(limit: int) -> ApiError:
    return ApiError(413, "body_too_large", f"request body exceeds {limit} bytes")


def to_passage(hit: dict) -> PassageOut:
    """Converts a retriever hit to its response form (numpy scores become floats)."""
    return PassageOut(id=str(hit["id"]), title=str(hit.get("title") or ""),
                      text=str(hit["text"]), lang=str(hit.get("lang") or UNDETERMINED_LANG),
                      score=finite(hit["score"]))


def finite(score) -> float:
    """A JSON-safe score: the reader's `-inf` for "no span found" becomes 0.0.

    JSON has no infinities (Starlette refuses to encode them), and the answer is "" in
    that case anyway, like when nothing was retrieved.
    """
    score = float(score)
    return score if math.isfinite(score) else 0.0


def _request_body_openapi(model=AnswerRequest) -> dict:
    """The request schema for /docs: the route reads the raw body, so FastAPI cannot infer it."""
    schema = model.model_json_schema()
    return {"requestBody": {"required": True,
                            "content": {"application/json": {"schema": schema}}}}


async def _probe(handle: DeploymentHandle, timeout_s: float = HEALTH_TIMEOUT_S) -> dict:
    """Calls a deployment's `info`; returns `{"error": reason}` when it does not answer."""
    try:
        return await asyncio.wait_for(_await(handle.info.remote()), timeout_s)
    except TimeoutError:
        return {"error": f"no answer within {timeout_s:g} s"}
    except Exception as err:  # down for whatever reason: report it, don't raise
        # What the replica raised, not Ray's wrapper (its text is a colored traceback).
        cause = err.cause if isinstance(err, RayTaskError) else err
        return {"error": f"{type(cause).__name__}: {cause}"[:200]}


async def _await(response):
    return await response


def _up_or_down(info: dict) -> str:
    return "up" if "error" not in info else f"down: {info['error']}"


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)


@functools.cache
def web_page() -> str:
    """The single-page UI (`rayqa/resources/web/index.html`)."""
    return resources.files("rayqa").joinpath("resources/web/index.html").read_text("utf-8")


def answer_span(made: dict) -> AnswerSpan | None:
    """Where a reader's answer lies among the passages it read (`passage_index`,
    `start_char`, `end_char` of `ExtractiveReader.answer_batch`); None for a generated or
    empty answer."""
    where = [made.get(key, -1) for key in ("passage_index", "start_char", "end_char")]
    if not made["answer"] or min(where) < 0:
        return None
    return AnswerSpan(passage=where[0], start=where[1], end=where[2])


# Helpers the class uses are defined above it: `@serve.deployment` pickles the class
# as soon as it is decorated, and cloudpickle captures only globals that exist by then.
@serve.deployment(name="QAIngress")
@serve.ingress(api)
class QAIngress:
    """HTTP front door: `GET /` (the web page), `POST /v1/answer`, `POST /v1/retrieve`,
    `GET /v1/info`, `GET /healthz`.

    Args:
        handles: The deployments by role: `retriever` (and split retrieval's parts,
            probed for `/healthz`), and those of the served modes (`reader` for
            extractive, `generator` for generative, `translator` and `pivot_reader` or
            `reader` for translate-test).
        cfg: The validated app config (limits and defaults).
    """

    def __init__(self, handles: dict[str, DeploymentHandle], cfg: ServeAppConfig):
        self._handles = handles
        self._retriever = handles["retriever"]
        self._cfg = cfg

    @api.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def page(self) -> HTMLResponse:
        """The web page: ask in any language, pick the mode, see answer and passages."""
        return HTMLResponse(web_page())

    @api.post("/v1/answer", response_model=AnswerResponse, responses=_ERROR_RESPONSES,
              openapi_extra=_request_body_openapi(), response_model_exclude_none=True)
    async def answer(self, request: Request) -> AnswerResponse:
        """Answers one question from the retrieved passages."""
        question = await self._parse(request, AnswerRequest)
        request.state.mode = question.mode or self._cfg.default_mode
        timings: dict[str, float] = {}
        return await self._within_deadline(self._answer(question, timings), timings)

    @api.post("/v1/retrieve", response_model=RetrieveResponse, responses=_ERROR_RESPONSES,
              openapi_extra=_request_body_openapi(RetrieveRequest))
    async def retrieve(self, request: Request) -> RetrieveResponse:
        """The passages a question retrieves, without an answer."""
        question = await self._parse(request, RetrieveRequest)
        started = time.perf_counter()
        timings: dict[str, float] = {}
        passages, lang = await self._within_deadline(self._retrieve(question, timings),
                                                     timings)
        timings["total"] = _ms_since(started)
        return RetrieveResponse(lang=lang, passages=passages, timings_ms=timings)

    @api.get("/v1/info", response_model=InfoResponse)
    async def info(self) -> InfoResponse:
        """What the service runs: modes, index (size, languages, encoders), models."""
        infos = await self._probe_all()
        cfg = self._cfg
        return InfoResponse(
            version=__version__, modes=cfg.modes, default_mode=cfg.default_mode,
            retriever_mode=cfg.retriever_mode, index=infos.pop("retriever"), models=infos,
            limits={"max_top_k": cfg.max_top_k, "default_top_k": cfg.default_top_k,
                    "max_body_bytes": cfg.max_body_bytes,
                    "max_question_chars": cfg.max_question_chars})

    @api.get("/healthz", response_model=HealthResponse)
    async def healthz(self) -> JSONResponse:
        """Says whether every deployment answers, and how many passages are indexed."""
        infos = await self._probe_all()
        health = HealthResponse(
            status="ok" if all("error" not in info for info in infos.values()) else "degraded",
            deployments={name: _up_or_down(info) for name, info in infos.items()},
            index_size=infos["retriever"].get("index_size"))
        return JSONResponse(status_code=200 if health.status == "ok" else 503,
                            content=health.model_dump())

    async def _probe_all(self) -> dict[str, dict]:
        """Every deployment's `info` (or `{"error"}`), probed at once."""
        infos = await asyncio.gather(*(_probe(handle) for handle in self._handles.values()))
        return dict(zip(self._handles, infos))

    async def _parse(self, request: Request, model: type[RetrieveRequest]) -> RetrieveRequest:
        """Reads and validates the body against the config's limits."""
        cfg = self._cfg
        body = await read_body(request, cfg.max_body_bytes)
        return parse_answer_request(body, max_top_k=cfg.max_top_k, modes=cfg.modes,
                                    model=model, max_question_chars=cfg.max_question_chars)

    async def _within_deadline(self, work, timings: dict[str, float]):
        """Awaits `work` for at most `request_timeout_s`; past it the pending stage is
        cancelled (Serve passes the cancellation on to the replica). The answer is a 504
        naming that stage, or a 503 with Retry-After when the stage's deployment does
        not answer a health probe either (its replica died and the new one is still
        starting: the request waited for a replica, and a retry will find one)."""
        try:
            return await asyncio.wait_for(work, self._cfg.request_timeout_s)
        except TimeoutError:
            # The cancelled stage recorded its time last (in `_timed`'s finally).
            stage = next(reversed(timings), "retrieval")
        probes = await asyncio.gather(*(_probe(handle, UNAVAILABLE_PROBE_S)
                                        for handle in self._stage_handles(stage)))
        if any("error" in info for info in probes):
            raise ApiError(503, "unavailable", f"{stage} has no replica ready within "
                           f"{self._cfg.request_timeout_s} s; retry later",
                           self._cfg.retry_after_s)
        raise ApiError(504, "timeout", f"no answer within {self._cfg.request_timeout_s}"
                       f" s ({stage} was still running)")

    def _stage_handles(self, stage: str) -> list[DeploymentHandle]:
        """The deployments a stage calls: its own, and for retrieval the split parts."""
        role = STAGE_DEPLOYMENTS.get(stage, "")
        return [handle for name, handle in self._handles.items() if name == role
                or (role == "retriever" and name.startswith(RETRIEVAL_PARTS))]

    async def _answer(self, question: AnswerRequest, timings: dict[str, float]
                      ) -> AnswerResponse:
        """Retrieves, then reads (extractive) or generates (generative).

        The request's language, reduced to its base code (`zh-CN` -> `zh`) as passages
        are labelled, picks the BM25 index in `bm25` and `hybrid` modes and tags the
        generator's answer language.
        """
        started = time.perf_counter()
        mode = question.mode or self._cfg.default_mode
        lang = base_lang(question.lang) if question.lang else None
        if mode == "translate-test" and lang:
            self._check_translatable(lang)  # before any work: a 422 names the language
        passages, answer_lang = await self._retrieve(question, timings)
        trace = None
        if mode == "generative":  # with no passage, mGEN answers closed-book
            made = await self._timed("generation", timings, self._handles[
                "generator"].answer.remote(question.question, lang, [
                    {"title": p.title, "text": p.text} for p in passages]))
        elif mode == "translate-test":
            passages = self._translatable(passages)
            made, trace = await self._translate_test(question.question, lang, passages, timings)
        elif passages:
            made = await self._timed("reading", timings, self._handles["reader"].answer.remote(
                question.question, [p.text for p in passages]))
        else:
            made = {"answer": "", "score": 0.0}
        timings["total"] = _ms_since(started)
        return AnswerResponse(answer=str(made["answer"]), score=finite(made["score"]),
                              lang=answer_lang, mode=mode, passages=passages,
                              timings_ms=timings, translation=trace, span=answer_span(made))

    def _check_translatable(self, lang: str) -> None:
        """Refuses (422) a question language translate-test has no models for."""
        options = self._cfg.translate_test
        pivot = options.pivot_lang
        if lang != pivot and not options.supports(lang, pivot):
            raise ApiError(422, "validation_error", f"lang: translate-test has no {lang} -> "
                           f"{pivot} translator (pairs: {', '.join(options.translator.models)})")

    def _translatable(self, passages: list[PassageOut]) -> list[PassageOut]:
        """The first `max_passages` passages translate-test can read: in the pivot
        language, or with models into it and back."""
        options = self._cfg.translate_test
        pivot = options.pivot_lang
        usable = [p for p in passages if p.lang == pivot or (
            options.supports(p.lang, pivot) and options.supports(pivot, p.lang))]
        return usable[:options.max_passages]

    async def _translate_test(self, question: str, lang: str | None,
                              passages: list[PassageOut], timings: dict[str, float]
                              ) -> tuple[dict, TranslationTrace | None]:
        """Translate-test (Cui et al. 2019): question and passages into the pivot
        language, read there, the answer back into its passage's language, aligned by
        SimpleMatch onto that passage. The question's language is the request's, else
        the top passage's."""
        if not passages:
            return {"answer": "", "score": 0.0}, None
        options = self._cfg.translate_test
        pivot, source = options.pivot_lang, lang or passages[0].lang
        self._check_translatable(source)
        translator = self._handles["translator"]
        reader = self._handles.get("pivot_reader") or self._handles["reader"]

        async def into_pivot(text: str, src: str) -> str:
            return text if src == pivot else await translator.translate.remote(text, src, pivot)

        units = [translation_units(p.text, options.passage_unit) for p in passages]
        done = await self._timed("translation", timings, asyncio.gather(
            into_pivot(question, source),
            *(into_pivot(unit, p.lang) for p, parts in zip(passages, units) for unit in parts)))
        question_pivot, rest = done[0], iter(done[1:])
        pivot_passages = [join_translation_units([next(rest) for _ in parts], pivot)
                          for parts in units]
        read = await self._timed("reading", timings, reader.answer.remote(
            question_pivot, pivot_passages))
        answer = str(read["answer"]).strip()
        if not answer:
            return {"answer": read["answer"], "score": read["score"]}, TranslationTrace(
                pivot_lang=pivot, question=question_pivot, answer="", answer_translated="")
        passage = passages[read["passage_index"]]
        back = answer if passage.lang == pivot else await self._timed(
            "back_translation", timings, translator.translate.remote(answer, pivot, passage.lang))
        span, start, end = "", -1, -1
        if back.strip():
            start, end = simple_match(back, passage.text, options.simple_match_delta)
            span = passage.text[start:end]
        return ({"answer": span, "score": read["score"], "passage_index": read["passage_index"],
                 "start_char": start, "end_char": end},
                TranslationTrace(pivot_lang=pivot, question=question_pivot, answer=answer,
                                 answer_translated=back))

    async def _retrieve(self, question: RetrieveRequest, timings: dict[str, float]
                        ) -> tuple[list[PassageOut], str]:
        """The question's passages and its language: the request's, else the top
        passage's, else `und`."""
        top_k = question.top_k or self._cfg.default_top_k
        lang = base_lang(question.lang) if question.lang else None
        hits = await self._timed("retrieval", timings, self._retriever.search.remote(
            question.question, lang, top_k))
        passages = [to_passage(hit) for hit in hits]
        return passages, question.lang or (passages[0].lang if passages else UNDETERMINED_LANG)

    async def _timed(self, stage: str, timings: dict[str, float], response):
        """`_call`, its wall time recorded in `timings[stage]` (milliseconds) and in the
        stage latency histogram."""
        started = time.perf_counter()
        try:
            return await self._call(stage, response)
        finally:
            timings[stage] = _ms_since(started)
            service_metrics().stage_latency.observe(timings[stage], tags={"stage": stage})

    async def _call(self, stage: str, response):
        """Awaits a deployment call, turning its failure into an answer a client can act
        on: 503 + Retry-After when the stage could not take the request (full queue,
        replica gone), 500 with JSON and a log line when the model raised."""
        retry_after = self._cfg.retry_after_s
        try:
            return await response
        except BackPressureError as err:
            raise ApiError(503, "overloaded", f"{stage} is at capacity ({err}); retry "
                           "later", retry_after) from err
        except RequestCancelledError:
            raise
        except _UNAVAILABLE as err:
            logger.warning("%s unavailable: %s", stage, err)
            raise ApiError(503, "unavailable", f"{stage} replica unavailable "
                           f"({type(err).__name__}); retry later", retry_after) from err
        except Exception as err:  # the model raised: the server's fault
            logger.exception("%s failed", stage)
            cause = err.cause if isinstance(err, RayTaskError) else err
            raise ApiError(500, "internal_error",
                           f"{stage} failed: {type(cause).__name__}") from err
