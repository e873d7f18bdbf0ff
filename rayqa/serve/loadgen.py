"""A load generator for the QA service: valid questions mixed with malformed requests.

Used by the Serve tests (a few hundred requests) and by `bench/serve_load.py` (10,000);
both check every answer, not only its status: a valid request must get 200 with an
answer, a malformed one its 4xx with a message naming the bad field, and no request a
5xx. With `retry_503` the client does what the service asks of one: it waits the
`Retry-After` of a 503 and sends the request again, so a run that kills replicas can
check that nothing is lost.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx

# Questions in the languages of the demo corpus and of the tests.
QUESTIONS = [("Who wrote Faust?", "en"), ("Wer schrieb den Faust?", "de"),
             ("谁写了浮士德？", "zh"), ("Where does the Danube flow?", "en"),
             ("¿Quién escribió Fausto?", "es"), ("Wo fließt die Donau?", "de"),
             ("What is the capital of France?", None)]


@dataclass(frozen=True)
class LoadRequest:
    """One request of a load run and what its answer must be.

    Attributes:
        kind: `valid`, or the kind of malformation (`wrong_type`, `invalid_json`, ...).
        content: The body sent.
        status: The status the answer must have.
        needle: Text the error message must contain (the bad field); None for valid.
    """

    kind: str
    content: bytes
    status: int
    needle: str | None = None


@dataclass
class LoadReport:
    """What a load run saw.

    Attributes:
        sent: Requests sent (retries not counted).
        statuses: Final answers by status code.
        by_kind: Final answers by request kind and status (`"valid 200"`).
        wrong: Up to 20 answers that were not what the request called for.
        retries: 503s that were retried.
        latencies_s: Wall time of each valid request, retries included.
        elapsed_s: Wall time of the whole run.
    """

    sent: int = 0
    statuses: Counter = field(default_factory=Counter)
    by_kind: Counter = field(default_factory=Counter)
    wrong: list[str] = field(default_factory=list)
    wrong_count: int = 0
    retries: int = 0
    latencies_s: list[float] = field(default_factory=list)
    elapsed_s: float = 0.0

    @property
    def server_errors(self) -> int:
        """Final answers with a 5xx status."""
        return sum(n for status, n in self.statuses.items() if status >= 500)

    def summary(self) -> str:
        """One line per fact, for the test log and the bench output."""
        return "\n".join([
            f"sent {self.sent} requests in {self.elapsed_s:.1f} s "
            f"({self.sent / max(self.elapsed_s, 1e-9):.1f}/s), {self.retries} retried 503s",
            "statuses: " + ", ".join(f"{s}: {n}" for s, n in sorted(self.statuses.items())),
            "by kind: " + ", ".join(f"{k}: {n}" for k, n in sorted(self.by_kind.items())),
            f"valid latency p50 {percentile_ms(self.latencies_s, 0.5):.1f} ms, "
            f"p99 {percentile_ms(self.latencies_s, 0.99):.1f} ms",
            f"wrong answers: {self.wrong_count}" + "".join(f"\n  {w}" for w in self.wrong)])


def percentile_ms(seconds: list[float], q: float) -> float:
    """The `q` quantile (nearest rank) of durations in seconds, in milliseconds."""
    if not seconds:
        return float("nan")
    ordered = sorted(seconds)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def malformed_requests(limits: dict, rng: random.Random) -> list[LoadRequest]:
    """One request of each malformation the service must refuse with a 4xx.

    Args:
        limits: The service's limits as `GET /v1/info` gives them (`max_top_k`,
            `max_body_bytes`, `max_question_chars`).
        rng: Varies the contents.
    """
    def body(obj) -> bytes:
        return json.dumps(obj, ensure_ascii=False).encode()

    question = rng.choice(QUESTIONS)[0]
    return [
        LoadRequest("wrong_type", body({"question": rng.randint(0, 99)}), 422, "question"),
        LoadRequest("wrong_type_top_k", body({"question": question, "top_k": "3"}), 422,
                    "top_k"),
        LoadRequest("empty_question", body({"question": ""}), 422, "question"),
        LoadRequest("empty_body", b"", 400, "not valid JSON"),
        LoadRequest("oversized", body({"question": "x" * (limits["max_body_bytes"] + 1)}),
                    413, "exceeds"),
        LoadRequest("invalid_json", body({"question": question})[:-1], 400, "not valid JSON"),
        LoadRequest("unknown_field", body({"question": question, "topk": 2}), 422, "topk"),
        LoadRequest("unknown_language", body({"question": question, "lang": "qq"}), 422,
                    "lang"),
        LoadRequest("question_over_cap",
                    body({"question": "y" * (limits["max_question_chars"] + 1)}), 422,
                    "question"),
        LoadRequest("top_k_over_max",
                    body({"question": question, "top_k": limits["max_top_k"] + 1}), 422,
                    "top_k"),
    ]


def make_requests(count: int, limits: dict, modes: list[str], malformed_fraction: float = 0.05,
                  seed: int = 0) -> list[LoadRequest]:
    """`count` requests, `malformed_fraction` of them malformed (every kind at least
    once when there are enough), the rest valid questions over the served modes.

    Args:
        count: Requests in all.
        limits: The service's limits (see `malformed_requests`).
        modes: The answer modes to spread valid requests over.
        malformed_fraction: Share of malformed requests.
        seed: Seed of the mix and the order.
    """
    rng = random.Random(seed)
    n_bad = round(count * malformed_fraction)
    kinds = malformed_requests(limits, rng)
    bad = kinds[:n_bad] + [rng.choice(malformed_requests(limits, rng))
                           for _ in range(n_bad - len(kinds))]
    good = []
    for _ in range(count - n_bad):
        question, lang = rng.choice(QUESTIONS)
        request = {"question": question, "mode": rng.choice(modes),
                   "top_k": rng.randint(1, limits["max_top_k"])}
        if lang:
            request["lang"] = lang
        good.append(LoadRequest("valid", json.dumps(request, ensure_ascii=False).encode(), 200))
    requests = bad + good
    rng.shuffle(requests)
    return requests


async def run_load(base_url: str, requests: list[LoadRequest], concurrency: int,
                   retry_503: bool = False, max_retry_s: float = 60.0,
                   timeout_s: float = 120.0, path: str = "/v1/answer") -> LoadReport:
    """Sends `requests` with `concurrency` in flight and checks every answer.

    Args:
        base_url: The service (`http://127.0.0.1:8000`).
        requests: What to send (see `make_requests`).
        concurrency: Requests in flight at once.
        retry_503: Resend a request answered 503 after its `Retry-After`, for up to
            `max_retry_s` per request.
        max_retry_s: How long one request may keep being retried.
        timeout_s: HTTP timeout of one attempt.
        path: The route.

    Returns:
        The report.
    """
    report = LoadReport(sent=len(requests))
    queue: asyncio.Queue[LoadRequest] = asyncio.Queue()
    for request in requests:
        queue.put_nowait(request)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def send(client: httpx.AsyncClient, request: LoadRequest) -> httpx.Response | None:
        """The final answer to `request`, its 503s retried; None when no answer came."""
        started = time.perf_counter()
        while True:
            try:
                response = await client.post(path, content=request.content,
                                             headers={"content-type": "application/json"})
            except httpx.TransportError as err:  # no answer at all: the request is lost
                _wrong(report, request, f"no answer ({type(err).__name__})")
                report.by_kind[f"{request.kind} lost"] += 1
                return None
            if (response.status_code == 503 and retry_503
                    and time.perf_counter() - started < max_retry_s):
                report.retries += 1
                await asyncio.sleep(float(response.headers.get("retry-after", 1)))
                continue
            return response

    async def worker(client: httpx.AsyncClient):
        while not queue.empty():
            request = queue.get_nowait()
            started = time.perf_counter()
            response = await send(client, request)
            if response is not None:
                _check(report, request, response)
                if request.kind == "valid":
                    report.latencies_s.append(time.perf_counter() - started)

    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=base_url, timeout=timeout_s, limits=limits) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    report.elapsed_s = time.perf_counter() - started
    return report


def _check(report: LoadReport, request: LoadRequest, response: httpx.Response) -> None:
    """Counts one final answer and records it when it is not what the request calls for."""
    report.statuses[response.status_code] += 1
    report.by_kind[f"{request.kind} {response.status_code}"] += 1
    problem = None
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code != request.status:
        problem = f"expected {request.status}"
    elif not isinstance(body, dict):
        problem = "body is not a JSON object"
    elif request.kind == "valid" and not isinstance(body.get("answer"), str):
        problem = "no answer"
    elif request.needle is not None and request.needle not in str(body.get("message")):
        problem = f"message does not name {request.needle!r}"
    if problem:
        _wrong(report, request, f"{response.status_code} {problem}: {response.text[:160]}")


def _wrong(report: LoadReport, request: LoadRequest, what: str) -> None:
    """Counts an answer that is not what the request calls for (the first 20 kept)."""
    report.wrong_count += 1
    if len(report.wrong) < 20:
        report.wrong.append(f"{request.kind}: {what}")
