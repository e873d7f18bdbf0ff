"""The HTTP ingress: a FastAPI app whose routes compose the retriever and the reader.

Every client error is answered 4xx with the same JSON shape
`{"error": code, "message": sentence, "fields": [...]}`: the body is read with a size
cap, parsed and validated here (not by FastAPI's body binding) because the limits
(`max_body_bytes`, `max_top_k`) come from the app config, which only the replica knows.
"""

# No `from __future__ import annotations` here: FastAPI reads the route signatures at
# runtime, and Serve's class-based routes leave string annotations unresolved.
import asyncio
import logging
import math
import time

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from ray import serve
from ray.serve.handle import DeploymentHandle
from starlette.exceptions import HTTPException as StarletteHTTPException

from rayqa import __version__
from rayqa.langs import base_lang
from rayqa.serve.schemas import (UNDETERMINED_LANG, AnswerRequest, AnswerResponse,
                                 ErrorResponse, HealthResponse, InfoResponse, PassageOut,
                                 RetrieveRequest, RetrieveResponse, ServeAppConfig,
                                 describe_validation_error, parse_answer_request)

logger = logging.getLogger("rayqa.serve")

HEALTH_TIMEOUT_S = 5.0  # a deployment slower than this to say hello counts as down


class ApiError(Exception):
    """An error the ingress answers with its own status and JSON body.

    Args:
        status: HTTP status code.
        error: Machine-readable code.
        message: Readable sentence for the client.
    """

    def __init__(self, status: int, error: str, message: str):
        super().__init__(message)
        self.status = status
        self.body = ErrorResponse(error=error, message=message)


api = FastAPI(
    title="rayqa",
    version=__version__,
    description="Multilingual open-retrieval question answering on Ray Serve.",
)

_ERROR_RESPONSES = {code: {"model": ErrorResponse} for code in (400, 413, 422, 500)}


def _error(status: int, body: ErrorResponse) -> JSONResponse:
    return JSONResponse(status_code=status, content=body.model_dump())


@api.exception_handler(ApiError)
async def _on_api_error(_: Request, exc: ApiError) -> JSONResponse:
    return _error(exc.status, exc.body)


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


async def _probe(handle: DeploymentHandle) -> dict:
    """Calls a deployment's `info`; returns `{"error": reason}` when it does not answer."""
    try:
        return await asyncio.wait_for(_await(handle.info.remote()), HEALTH_TIMEOUT_S)
    except Exception as err:  # down for whatever reason: report it, don't raise
        return {"error": f"{type(err).__name__}: {err}"[:200]}


async def _await(response):
    return await response


def _up_or_down(info: dict) -> str:
    return "up" if "error" not in info else f"down: {info['error']}"


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)


# The deployment answering each mode, as /healthz names it.
MODEL_NAMES = {"extractive": "reader", "generative": "generator"}


# Helpers the class uses are defined above it: `@serve.deployment` pickles the class
# as soon as it is decorated, and cloudpickle captures only globals that exist by then.
@serve.deployment(name="QAIngress")
@serve.ingress(api)
class QAIngress:
    """HTTP front door: `POST /v1/answer`, `POST /v1/retrieve`, `GET /v1/info`,
    `GET /healthz`.

    Args:
        retriever: Handle of the `Retriever` deployment.
        reader: Handle of the `Reader` deployment (None: no extractive mode).
        generator: Handle of the `Generator` deployment (None: no generative mode).
        cfg: The validated app config (limits and defaults).
    """

    def __init__(self, retriever: DeploymentHandle, reader: DeploymentHandle | None,
                 generator: DeploymentHandle | None, cfg: ServeAppConfig):
        self._retriever = retriever
        self._models = {mode: handle for mode, handle in (("extractive", reader),
                                                          ("generative", generator))
                        if handle is not None}
        self._cfg = cfg

    @api.post("/v1/answer", response_model=AnswerResponse, responses=_ERROR_RESPONSES,
              openapi_extra=_request_body_openapi())
    async def answer(self, request: Request) -> AnswerResponse:
        """Answers one question from the retrieved passages."""
        body = await read_body(request, self._cfg.max_body_bytes)
        question = parse_answer_request(body, max_top_k=self._cfg.max_top_k,
                                        modes=self._cfg.modes)
        return await self._answer(question)

    @api.post("/v1/retrieve", response_model=RetrieveResponse, responses=_ERROR_RESPONSES,
              openapi_extra=_request_body_openapi(RetrieveRequest))
    async def retrieve(self, request: Request) -> RetrieveResponse:
        """The passages a question retrieves, without an answer."""
        body = await read_body(request, self._cfg.max_body_bytes)
        question = parse_answer_request(body, max_top_k=self._cfg.max_top_k,
                                        model=RetrieveRequest)
        started = time.perf_counter()
        timings: dict[str, float] = {}
        passages, lang = await self._retrieve(question, timings)
        timings["total"] = _ms_since(started)
        return RetrieveResponse(lang=lang, passages=passages, timings_ms=timings)

    @api.get("/v1/info", response_model=InfoResponse)
    async def info(self) -> InfoResponse:
        """What the service runs: modes, index (size, languages, encoders), models."""
        infos = await asyncio.gather(_probe(self._retriever),
                                     *(_probe(handle) for handle in self._models.values()))
        cfg = self._cfg
        return InfoResponse(
            version=__version__, modes=cfg.modes, default_mode=cfg.default_mode,
            retriever_mode=cfg.retriever_mode, index=infos[0],
            models={MODEL_NAMES[mode]: info for mode, info in zip(self._models, infos[1:])},
            limits={"max_top_k": cfg.max_top_k, "default_top_k": cfg.default_top_k,
                    "max_body_bytes": cfg.max_body_bytes})

    @api.get("/healthz", response_model=HealthResponse)
    async def healthz(self) -> JSONResponse:
        """Says whether every deployment answers, and how many passages are indexed."""
        names = ["retriever", *(MODEL_NAMES[mode] for mode in self._models)]
        infos = await asyncio.gather(_probe(self._retriever),
                                     *(_probe(handle) for handle in self._models.values()))
        health = HealthResponse(
            status="ok" if all("error" not in info for info in infos) else "degraded",
            deployments={name: _up_or_down(info) for name, info in zip(names, infos)},
            index_size=infos[0].get("index_size"))
        return JSONResponse(status_code=200 if health.status == "ok" else 503,
                            content=health.model_dump())

    async def _answer(self, question: AnswerRequest) -> AnswerResponse:
        """Retrieves, then reads (extractive) or generates (generative).

        The request's language, reduced to its base code (`zh-CN` -> `zh`) as passages
        are labelled, picks the BM25 index in `bm25` and `hybrid` modes and tags the
        generator's answer language.
        """
        started = time.perf_counter()
        timings: dict[str, float] = {}
        mode = question.mode or self._cfg.default_mode
        lang = base_lang(question.lang) if question.lang else None
        passages, answer_lang = await self._retrieve(question, timings)
        if mode == "generative":  # with no passage, mGEN answers closed-book
            made = await self._timed("generation", timings, self._models[mode].answer.remote(
                question.question, lang, [{"title": p.title, "text": p.text} for p in passages]))
        elif passages:
            made = await self._timed("reading", timings, self._models[mode].answer.remote(
                question.question, [p.text for p in passages]))
        else:
            made = {"answer": "", "score": 0.0}
        timings["total"] = _ms_since(started)
        return AnswerResponse(answer=str(made["answer"]), score=finite(made["score"]),
                              lang=answer_lang, mode=mode, passages=passages,
                              timings_ms=timings)

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

    @classmethod
    async def _timed(cls, stage: str, timings: dict[str, float], response):
        """`_call`, its wall time recorded in `timings[stage]` (milliseconds)."""
        started = time.perf_counter()
        try:
            return await cls._call(stage, response)
        finally:
            timings[stage] = _ms_since(started)

    @staticmethod
    async def _call(stage: str, response):
        """Awaits a deployment call; its failure is a 500 with JSON, not a bare traceback."""
        try:
            return await response
        except Exception as err:  # any downstream failure is the server's fault
            logger.exception("%s failed", stage)
            raise ApiError(500, "internal_error",
                           f"{stage} failed: {type(err).__name__}") from err
