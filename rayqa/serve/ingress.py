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
                                 ErrorResponse, HealthResponse, PassageOut,
                                 ServeAppConfig, describe_validation_error,
                                 parse_answer_request)

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


def _request_body_openapi() -> dict:
    """The request schema for /docs: the route reads the raw body, so FastAPI cannot infer it."""
    schema = AnswerRequest.model_json_schema()
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


# Helpers the class uses are defined above it: `@serve.deployment` pickles the class
# as soon as it is decorated, and cloudpickle captures only globals that exist by then.
@serve.deployment(name="QAIngress")
@serve.ingress(api)
class QAIngress:
    """HTTP front door: `POST /v1/answer` and `GET /healthz`.

    Args:
        retriever: Handle of the `Retriever` deployment.
        reader: Handle of the `Reader` deployment.
        cfg: The validated app config (limits and defaults).
    """

    def __init__(self, retriever: DeploymentHandle, reader: DeploymentHandle,
                 cfg: ServeAppConfig):
        self._retriever = retriever
        self._reader = reader
        self._cfg = cfg

    @api.post("/v1/answer", response_model=AnswerResponse, responses=_ERROR_RESPONSES,
              openapi_extra=_request_body_openapi())
    async def answer(self, request: Request) -> AnswerResponse:
        """Answers one question from the retrieved passages."""
        body = await read_body(request, self._cfg.max_body_bytes)
        question = parse_answer_request(body, max_top_k=self._cfg.max_top_k)
        return await self._answer(question)

    @api.get("/healthz", response_model=HealthResponse)
    async def healthz(self) -> JSONResponse:
        """Says whether both deployments answer, and how many passages are indexed."""
        retriever, reader = await asyncio.gather(_probe(self._retriever),
                                                 _probe(self._reader))
        health = HealthResponse(
            status="ok" if "error" not in retriever and "error" not in reader else "degraded",
            deployments={"retriever": _up_or_down(retriever), "reader": _up_or_down(reader)},
            index_size=retriever.get("index_size"))
        return JSONResponse(status_code=200 if health.status == "ok" else 503,
                            content=health.model_dump())

    async def _answer(self, question: AnswerRequest) -> AnswerResponse:
        """Retrieves, then reads.

        The request's language, reduced to its base code (`zh-CN` -> `zh`) as passages
        are labelled, picks the BM25 index in `bm25` and `hybrid` modes.
        """
        top_k = question.top_k or self._cfg.default_top_k
        lang = base_lang(question.lang) if question.lang else None
        hits = await self._call("retrieval", self._retriever.search.remote(
            question.question, lang, top_k))
        passages = [to_passage(hit) for hit in hits]
        answer_lang = question.lang or (passages[0].lang if passages else UNDETERMINED_LANG)
        if not passages:
            return AnswerResponse(answer="", score=0.0, lang=answer_lang, passages=[])
        read = await self._call("reading", self._reader.answer.remote(
            question.question, [p.text for p in passages]))
        return AnswerResponse(answer=str(read["answer"]), score=finite(read["score"]),
                              lang=answer_lang, passages=passages)

    @staticmethod
    async def _call(stage: str, response):
        """Awaits a deployment call; its failure is a 500 with JSON, not a bare traceback."""
        try:
            return await response
        except Exception as err:  # any downstream failure is the server's fault
            logger.exception("%s failed", stage)
            raise ApiError(500, "internal_error",
                           f"{stage} failed: {type(err).__name__}") from err
