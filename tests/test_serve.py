"""Integration tests of the Serve app over HTTP: tiny reader, tiny index, local Ray.

One app serves the whole module (starting Serve is the slow part); every bad input
must come back 4xx with a JSON message, never 5xx. A second app at `/faulty` binds the
same ingress to deployments that hang or raise, for the 504 and 500 paths. The test
that kills a replica runs last: it leaves the app whole, but slower for a while.
"""

import asyncio
import json
import os
import random
import re
import shutil
import threading
import uuid

import httpx
import pytest

from rayqa.testing.service import (PASSAGES, QUESTIONS, kill_replica_under_load,
                                   serve_replicas, wait_for, wait_healthy)

pytestmark = pytest.mark.ray

PORT = 8123  # not Serve's default 8000, so a developer's running service is left alone
BASE_URL = f"http://127.0.0.1:{PORT}"
MAX_TOP_K = 4
MAX_BODY = 8192
MAX_QUESTION_CHARS = 300

@pytest.fixture(scope="module")
def client(ray_local, tmp_path_factory):
    """An HTTP client of the running app; Serve is shut down after the module."""
    from ray import serve

    from rayqa.serve.app import start

    args = _app_args(tmp_path_factory.mktemp("serve"))
    try:
        start(args, host="127.0.0.1", port=PORT)
        with httpx.Client(base_url=f"http://127.0.0.1:{PORT}", timeout=60) as http:
            yield http
    finally:  # also after a half-finished deploy, so later modules start clean
        serve.shutdown()


def _app_args(root):
    """Builds the tiny service under `root` and returns the app args."""
    from rayqa.testing.service import build_tiny_service

    # A dead replica is noticed at the next health check: every second here.
    small = {"num_cpus": 0.25, "max_batch_size": 4, "batch_wait_timeout_s": 0.05,
             "health_check_period_s": 1.0}
    return {**build_tiny_service(root, translators=True), "retriever_mode": "hybrid",
            "default_top_k": 2, "max_top_k": MAX_TOP_K, "max_body_bytes": MAX_BODY,
            "max_question_chars": MAX_QUESTION_CHARS, "request_timeout_s": 180,
            "ingress": {"num_cpus": 0.25}, "retriever": small, "reader": small,
            "generator": {**small, "num_cpus": 0.2, "max_new_tokens": 6},
            "translator": {**small, "num_cpus": 0.1, "max_batch_size": 8}}


# --------------------------------------------------------------------------- happy path


def _check_shape(body, mode="extractive"):
    fields = {"answer", "score", "lang", "mode", "passages", "timings_ms"}
    # An extracted answer says where it lies; a generated one has no span.
    assert set(body) == (fields | {"span"} if mode == "extractive" and body["answer"]
                         else fields)
    assert isinstance(body["answer"], str) and isinstance(body["score"], float)
    assert body["mode"] == mode
    stage = "reading" if mode == "extractive" else "generation"
    assert set(body["timings_ms"]) == {"retrieval", stage, "total"}
    assert all(ms >= 0 for ms in body["timings_ms"].values())
    assert body["timings_ms"]["total"] >= body["timings_ms"]["retrieval"] + \
        body["timings_ms"][stage] - 1.0  # rounding
    for passage in body["passages"]:
        assert set(passage) == {"id", "title", "text", "lang", "score"}
        assert isinstance(passage["score"], float)
    scores = [p["score"] for p in body["passages"]]
    assert scores == sorted(scores, reverse=True)
    if "span" in body:
        span = body["span"]
        assert body["passages"][span["passage"]]["text"][span["start"]:span["end"]] == \
            body["answer"]


def test_answer_comes_from_the_top_passage(client):
    response = client.post("/v1/answer", json={"question": "Who wrote Faust?", "top_k": 1})
    assert response.status_code == 200, response.text
    body = response.json()
    _check_shape(body)
    (top,) = body["passages"]
    assert body["answer"] and body["answer"] in top["text"]
    assert body["span"]["passage"] == 0
    assert body["lang"] == top["lang"]  # no lang given: the top passage's
    assert top["id"] in {p["id"] for p in PASSAGES}


@pytest.mark.parametrize("question, lang", [("Wer schrieb den Faust?", "de"),
                                            ("谁写了浮士德？", "zh-CN")])
def test_lang_is_echoed_and_top_k_respected(client, question, lang):
    response = client.post("/v1/answer", json={"question": question, "lang": lang,
                                               "top_k": 3})
    assert response.status_code == 200, response.text
    body = response.json()
    _check_shape(body)
    assert body["lang"] == lang
    assert len(body["passages"]) == 3
    assert any(body["answer"] in p["text"] for p in body["passages"])


def test_generative_mode_answers_from_the_same_passages(client):
    question = {"question": "Wer schrieb den Faust?", "lang": "de", "top_k": 3}
    extractive = client.post("/v1/answer", json=question).json()
    response = client.post("/v1/answer", json={**question, "mode": "generative"})
    assert response.status_code == 200, response.text
    body = response.json()
    _check_shape(body, "generative")
    assert body["lang"] == "de" and body["score"] <= 0.0  # a log-probability
    assert body["passages"] == extractive["passages"]  # what fed the generator


def test_translate_test_reads_through_the_pivot_and_aligns_back(client):
    question = {"question": "Who wrote Faust?", "lang": "en", "top_k": 4,
                "mode": "translate-test"}
    response = client.post("/v1/answer", json=question)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["mode"] == "translate-test" and body["lang"] == "en"
    # Only German and English passages have models (de-en, en-de); two are read at most.
    retrieved = client.post("/v1/retrieve", json={k: v for k, v in question.items()
                                                  if k != "mode"}).json()["passages"]
    readable = [p for p in retrieved if p["lang"] in ("de", "en")][:2]
    assert body["passages"] == readable
    trace = body["translation"]
    assert trace["pivot_lang"] == "en" and trace["question"] == question["question"]
    assert {"retrieval", "translation", "reading", "total"} <= set(body["timings_ms"])
    if trace["answer"]:  # aligned onto the passage it came from, in that passage's language
        assert any(body["answer"] in p["text"] for p in readable)
        if body["answer"]:
            span = body["span"]
            assert readable[span["passage"]]["text"][span["start"]:span["end"]] == \
                body["answer"]
        if "back_translation" not in body["timings_ms"]:  # read from an English passage
            assert trace["answer_translated"] == trace["answer"]
    else:
        assert body["answer"] == ""


def test_translate_test_refuses_a_language_it_cannot_translate(client):
    response = client.post("/v1/answer", json={"question": "谁写了浮士德？", "lang": "zh",
                                               "mode": "translate-test"})
    assert response.status_code == 422, response.text
    assert response.json()["message"] == \
        "lang: translate-test has no zh -> en translator (pairs: de-en, en-de)"


def test_other_modes_have_no_translation_trace(client):
    body = client.post("/v1/answer", json={"question": "Who wrote Faust?"}).json()
    assert "translation" not in body


def test_retrieve_gives_the_passages_an_answer_reads(client):
    question = {"question": "Where does the Danube flow?", "lang": "de", "top_k": 3}
    response = client.post("/v1/retrieve", json=question)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"lang", "passages", "timings_ms"} and body["lang"] == "de"
    assert set(body["timings_ms"]) == {"retrieval", "total"}
    assert body["passages"] == client.post("/v1/answer", json=question).json()["passages"]
    wrong = client.post("/v1/retrieve", json={**question, "mode": "extractive"})
    assert wrong.status_code == 422 and "mode: unknown field" in wrong.json()["message"]


def test_info_names_modes_index_and_models(client):
    response = client.get("/v1/info")
    assert response.status_code == 200, response.text
    info = response.json()
    assert info["modes"] == ["extractive", "generative", "translate-test"]
    assert info["default_mode"] == "extractive"
    assert info["retriever_mode"] == "hybrid"
    index = info["index"]
    assert index["index_size"] == len(PASSAGES)
    assert index["languages"] == {"de": 2, "en": 2, "zh": 2, "es": 1}
    assert index["encoder"]["queries"] == index["encoder"]["passages"]  # no bi-encoder here
    assert info["models"]["reader"]["model_dir"].endswith("reader")
    assert info["models"]["generator"]["model_dir"].endswith("mgen")
    assert info["models"]["translator"] == {"pairs": ["de-en", "en-de"]}
    assert info["limits"] == {"max_top_k": MAX_TOP_K, "default_top_k": 2,
                              "max_body_bytes": MAX_BODY,
                              "max_question_chars": MAX_QUESTION_CHARS}


def test_default_top_k(client):
    response = client.post("/v1/answer", json={"question": "Where does the Danube flow?"})
    assert response.status_code == 200, response.text
    assert len(response.json()["passages"]) == 2


def test_concurrent_requests_are_batched_and_all_answered(client):
    results: dict[int, httpx.Response] = {}

    def ask(i):
        results[i] = client.post("/v1/answer", json={"question": QUESTIONS[i % 4],
                                                     "top_k": 1 + i % MAX_TOP_K})

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    answers = []
    for i, response in sorted(results.items()):
        assert response.status_code == 200, response.text
        body = response.json()
        # Each caller gets its own slice of the shared batched search.
        assert len(body["passages"]) == 1 + i % MAX_TOP_K
        assert any(body["answer"] in p["text"] for p in body["passages"])
        answers.append(body["answer"])
    assert any(answers)


def test_body_just_under_the_limit_is_accepted(client):
    body = '{"question": "Who wrote Faust?", "top_k": 1' + " " * (MAX_BODY - 60) + "}"
    assert MAX_BODY - 20 < len(body) <= MAX_BODY
    response = client.post("/v1/answer", content=body)
    assert response.status_code == 200, response.text


def test_question_at_the_cap_is_accepted(client):
    question = "Who wrote Faust? " + "x" * (MAX_QUESTION_CHARS - 17)
    response = client.post("/v1/answer", json={"question": question, "top_k": 1})
    assert response.status_code == 200, response.text


def test_healthz(client):
    assert wait_healthy(client) == {"status": "ok",
                               "deployments": {"retriever": "up", "reader": "up",
                                               "generator": "up", "translator": "up"},
                               "index_size": len(PASSAGES)}


def test_openapi_documents_the_request_body(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    body = response.json()["paths"]["/v1/answer"]["post"]["requestBody"]
    schema = body["content"]["application/json"]["schema"]
    assert schema["required"] == ["question"]
    assert schema["additionalProperties"] is False


# --------------------------------------------------------------------------- bad input


def _json(obj):
    return {"content": json.dumps(obj), "headers": {"content-type": "application/json"}}


def _stream(total):
    yield b'{"question": "'
    for _ in range(total // 1024):
        yield b"x" * 1024
    yield b'"}'


def _chunked(total=2 * MAX_BODY):
    """A body streamed in chunks, so the request carries no Content-Length.

    A factory rather than kwargs: a generator can be sent only once.
    """
    return {"content": _stream(total)}


BAD_REQUESTS = [
    # (case id, httpx request kwargs or a factory of them, expected status,
    #  text the message must contain)
    ("missing_question", _json({"lang": "en"}), 422, "question"),
    ("empty_question", _json({"question": ""}), 422, "question"),
    ("blank_question", _json({"question": " \n\t "}), 422, "question"),
    ("question_not_string", _json({"question": 42}), 422, "question"),
    ("question_null", _json({"question": None}), 422, "question"),
    ("top_k_string", _json({"question": "q", "top_k": "3"}), 422, "top_k"),
    ("top_k_float", _json({"question": "q", "top_k": 3.0}), 422, "top_k"),
    ("top_k_bool", _json({"question": "q", "top_k": True}), 422, "top_k"),
    ("top_k_zero", _json({"question": "q", "top_k": 0}), 422, "top_k"),
    ("top_k_over_max", _json({"question": "q", "top_k": MAX_TOP_K + 1}), 422,
     f"between 1 and {MAX_TOP_K}"),
    ("lang_bad_format", _json({"question": "q", "lang": "english!"}), 422, "lang"),
    ("lang_not_string", _json({"question": "q", "lang": 1}), 422, "lang"),
    ("lang_unknown", _json({"question": "q", "lang": "qq"}), 422,
     "lang: 'qq' is not a known language code"),
    ("question_over_cap", _json({"question": "x" * (MAX_QUESTION_CHARS + 1)}), 422,
     f"question: must be at most {MAX_QUESTION_CHARS} characters"),
    ("unknown_field", _json({"question": "q", "topk": 3}), 422, "topk: unknown field"),
    ("unknown_mode", _json({"question": "q", "mode": "abstractive"}), 422, "mode"),
    ("mode_not_string", _json({"question": "q", "mode": 1}), 422, "mode"),
    ("not_json", {"content": b"who wrote faust?"}, 400, "not valid JSON"),
    ("truncated_json", {"content": b'{"question": "q"'}, 400, "not valid JSON"),
    ("empty_body", {"content": b""}, 400, "not valid JSON"),
    ("json_array", _json(["Who wrote Faust?"]), 422, "JSON object"),
    ("oversized_content_length", _json({"question": "x" * MAX_BODY}), 413,
     f"exceeds {MAX_BODY} bytes"),
    ("oversized_chunked", _chunked, 413, f"exceeds {MAX_BODY} bytes"),
]


@pytest.mark.parametrize("kwargs, status, needle",
                         [case[1:] for case in BAD_REQUESTS],
                         ids=[case[0] for case in BAD_REQUESTS])
def test_bad_input_is_4xx_with_a_message(client, kwargs, status, needle):
    response = client.post("/v1/answer", **(kwargs() if callable(kwargs) else kwargs))
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) >= {"error", "message"}
    assert needle in body["message"]


def test_oversized_chunked_body_really_has_no_content_length(client):
    request = client.build_request("POST", "/v1/answer", **_chunked())
    assert "content-length" not in request.headers
    assert request.headers.get("transfer-encoding") == "chunked"


@pytest.mark.parametrize("method, path, status", [("GET", "/v1/answer", 405),
                                                  ("POST", "/v2/answer", 404)])
def test_wrong_route_is_json(client, method, path, status):
    response = client.request(method, path)
    assert response.status_code == status
    assert "message" in response.json()


def test_bad_app_args_fail_before_deploying(tmp_path):
    from rayqa.config import ConfigError
    from rayqa.serve.app import build_app

    with pytest.raises(ConfigError, match="max_top_k"):
        build_app({"index_dir": str(tmp_path), "reader_dir": str(tmp_path), "max_top_k": -1})


# --------------------------------------------------------------------------- web page


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium (Debian's `chromium` and `chromium-driver`, `make browser`)."""
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        if os.environ.get("CI"):  # make test installs them there: missing is an error
            pytest.fail("CI run without chromium and chromedriver (make browser)")
        pytest.skip("needs Debian's chromium and chromium-driver (make browser)")
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1200,1000"):
        options.add_argument(flag)
    chrome = webdriver.Chrome(options=options,
                              service=webdriver.ChromeService(executable_path=driver))
    try:
        yield chrome
    finally:
        chrome.quit()


def _ask_on_page(browser, question, lang=""):
    from selenium.webdriver.common.by import By

    for field, value in (("question", question), ("lang", lang), ("top_k", "3")):
        box = browser.find_element(By.ID, field)
        box.clear()
        box.send_keys(value)
    browser.find_element(By.ID, "ask").click()


def test_web_page_asks_and_shows_answer_passages_and_timings(client, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 60)
    browser.get(BASE_URL + "/")
    # The page fills its mode menu from /v1/info.
    wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "#mode option"))
    modes = [o.text for o in browser.find_elements(By.CSS_SELECTOR, "#mode option")]
    assert modes == ["extractive", "generative", "translate-test"]
    assert f"{len(PASSAGES)} passages (de, en, es, zh)" in browser.find_element(By.ID, "about").text

    _ask_on_page(browser, "Wer schrieb den Faust?", "de")
    wait.until(lambda b: b.find_element(By.ID, "result").is_displayed())
    browser.save_screenshot(str(tmp_path / "answer.png"))
    expected = client.post("/v1/answer", json={"question": "Wer schrieb den Faust?",
                                               "lang": "de", "top_k": 3,
                                               "mode": "extractive"}).json()
    shown = browser.find_element(By.ID, "answer").text
    assert shown == (expected["answer"] or "(no answer found)")
    items = browser.find_elements(By.CSS_SELECTOR, "#passages li.passage")
    assert [i.find_element(By.CLASS_NAME, "lang").text for i in items] == \
        [p["lang"] for p in expected["passages"]]
    assert [i.find_element(By.CLASS_NAME, "score").text for i in items] == \
        [f"{p['score']:.3f}" for p in expected["passages"]]
    # Every passage the reader read is listed whole; the answer is marked in its own.
    assert browser.find_element(By.ID, "passages-heading").text == \
        "The 3 passages the reader read"
    assert [i.find_element(By.CLASS_NAME, "text").text for i in items] == \
        [p["text"] for p in expected["passages"]]
    span = expected["span"]
    marks = browser.find_elements(By.CSS_SELECTOR, "#passages mark")
    assert [m.text for m in marks] == [expected["answer"]]
    assert marks[0].find_element(By.XPATH, "./ancestor::li") == items[span["passage"]]
    assert "source" in items[span["passage"]].get_attribute("class")
    timings = browser.find_element(By.ID, "timings").text
    assert re.search(r"retrieval [\d.]+ ms · reading [\d.]+ ms · total [\d.]+ ms", timings)

    # A bad input shows the API's own message, and hides the stale answer.
    _ask_on_page(browser, "Wer schrieb den Faust?", "english!")
    wait.until(lambda b: b.find_element(By.ID, "error").is_displayed())
    assert browser.find_element(By.ID, "error").text == \
        "422: lang: 'english!' is not a known language code (BCP 47, like 'en' or 'zh-CN')"
    assert not browser.find_element(By.ID, "result").is_displayed()


# --------------------------------------------------------------------------- load


def _load(requests, concurrency, **kwargs):
    from rayqa.serve.loadgen import run_load

    report = asyncio.run(run_load(BASE_URL, requests, concurrency, **kwargs))
    print(report.summary())
    return report


def test_load_with_malformed_requests_gets_no_5xx(client):
    from rayqa.serve.loadgen import make_requests, malformed_requests

    info = client.get("/v1/info").json()
    # Translate-test answers only languages it has models for: not every valid question.
    modes = [mode for mode in info["modes"] if mode != "translate-test"]
    requests = make_requests(400, info["limits"], modes, malformed_fraction=0.05)
    kinds = {r.kind for r in requests}
    assert kinds >= {r.kind for r in malformed_requests(info["limits"], random.Random())}
    report = _load(requests, concurrency=32)
    assert report.server_errors == 0
    assert report.wrong_count == 0, report.wrong
    assert report.by_kind["valid 200"] == sum(r.kind == "valid" for r in requests)


# --------------------------------------------------------------------------- metrics


def _samples(ray_local) -> list:
    """The samples of Ray's Prometheus endpoint on this node."""
    from prometheus_client.parser import text_string_to_metric_families

    port = ray_local._private.worker.global_worker.node.metrics_export_port
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    return [sample for family in text_string_to_metric_families(text)
            for sample in family.samples]


def _value(samples, name, **labels) -> float:
    """Sum of the samples named `name` (after Ray's prefix) whose labels include `labels`."""
    return sum(s.value for s in samples if s.name.removeprefix("ray_") == name
               and all(s.labels.get(k) == v for k, v in labels.items()))


def test_metrics_reach_rays_prometheus_endpoint(client, ray_local):
    assert client.post("/v1/answer", json={"question": "Who wrote Faust?"}).status_code == 200
    assert client.post("/v1/answer", json={"question": "q", "topk": 1}).status_code == 422
    wanted = [("rayqa_requests_total", {"route": "/v1/answer", "mode": "extractive",
                                        "status": "200"}),
              ("rayqa_requests_total", {"route": "/v1/answer", "status": "422"}),
              ("rayqa_errors_total", {"kind": "validation_error"}),
              ("rayqa_stage_latency_ms_count", {"stage": "retrieval"}),
              ("rayqa_stage_latency_ms_count", {"stage": "reading"}),
              ("rayqa_batch_size_count", {"deployment": "Reader"}),
              ("rayqa_batch_size_count", {"deployment": "Retriever"})]

    def all_there():
        samples = _samples(ray_local)
        return samples if all(_value(samples, n, **labels) >= 1 for n, labels in wanted) \
            else None

    wait_for(all_there, 180, "every rayqa metric in the scrape")


# --------------------------------------------------------------------------- failures

HANG = "hang"  # a question the stuck retriever never answers


def _faulty_deployments():
    """A retriever that hangs on questions starting with HANG, and a reader whose every
    batch raises, through the real deployments' batching and health-check code."""
    from ray import serve

    from rayqa.serve.deployments import _BatchedModel

    @serve.deployment(name="StuckRetriever")
    class StuckRetriever:
        async def search(self, question, lang, top_k):
            if question.startswith(HANG):
                await asyncio.sleep(3600)
            return [{"id": "p1", "title": "t", "text": "some passage", "lang": "en",
                     "score": 1.0}]

        def info(self):
            return {"index_size": 1}

    @serve.deployment(name="FailingReader")
    class FailingReader(_BatchedModel):
        def __init__(self):
            self._setup_batching(self.answer, 4, 0.01)

        @serve.batch
        async def answer(self, questions, passages):
            return await self._run(self._fail, questions, passages)

        @staticmethod
        def _fail(questions, passages):
            raise RuntimeError(f"reader exploded on {questions[0]!r}")

        def info(self):
            raise RuntimeError("reader is broken")

    return StuckRetriever, FailingReader


@pytest.fixture(scope="module")
def faulty(client, tmp_path_factory):
    """The real ingress at `/faulty`, over a hanging retriever and a raising reader."""
    from ray import serve

    from rayqa.serve.ingress import QAIngress
    from rayqa.serve.schemas import load_app_config

    root = tmp_path_factory.mktemp("faulty")
    cfg = load_app_config({"index_dir": str(root), "reader_dir": str(root),
                           "request_timeout_s": 2.0})
    stuck, failing = _faulty_deployments()
    light = {"ray_actor_options": {"num_cpus": 0.05}}
    app = QAIngress.options(**light).bind(
        {"retriever": stuck.options(**light).bind(),
         "reader": failing.options(**light, health_check_period_s=1.0).bind()}, cfg)
    serve.run(app, name="faulty", route_prefix="/faulty")
    yield client
    serve.delete("faulty")


def test_slow_stage_gets_504_naming_it(faulty):
    response = faulty.post("/faulty/v1/answer", json={"question": f"{HANG} please"})
    assert response.status_code == 504, response.text
    assert response.json()["message"] == "no answer within 2.0 s (retrieval was still running)"


def test_healthz_names_the_deployment_that_is_down(faulty):
    """/healthz is 503 `degraded` and names the deployment that does not answer (its
    `info` raises) while the others read `up`: a steady state, so no poll can miss it."""
    body = wait_for(lambda: (r := faulty.get("/faulty/healthz")).status_code == 503
                    and r.json()["deployments"]["retriever"] == "up" and r.json(),
                    120, "/faulty/healthz naming the broken reader")
    assert body == {"status": "degraded", "index_size": 1,
                    "deployments": {"retriever": "up",
                                    "reader": "down: RuntimeError: reader is broken"}}


def test_model_that_raises_gets_500_json_a_log_line_and_a_new_replica(faulty, ray_local):
    first = serve_replicas("faulty", "FailingReader")
    marker = uuid.uuid4().hex
    for i in range(3):  # three failed batches in a row make the replica unhealthy
        response = faulty.post("/faulty/v1/answer", json={"question": f"{marker} {i}"})
        assert response.status_code == 500, response.text
        assert response.json() == {"error": "internal_error",
                                   "message": "reading failed: RuntimeError", "fields": []}
    logs = ray_local._private.worker.global_worker.node.get_logs_dir_path()

    def logged():
        from pathlib import Path
        return any(marker in path.read_text(errors="replace")
                   for path in Path(logs).rglob("*") if path.is_file())

    wait_for(logged, 120, "the failure's log line")
    # check_health fails after three failed batches, so Serve replaces the replica.
    wait_for(lambda: (now := serve_replicas("faulty", "FailingReader")) and now != first, 240,
              "replacement of the unhealthy reader replica")


def test_index_that_does_not_match_its_manifest_is_refused_at_replica_start(client, tmp_path):
    from ray import serve

    from rayqa.serve.app import build_app

    info = client.get("/v1/info").json()
    broken = tmp_path / "index"
    shutil.copytree(info["index"]["index_dir"], broken)
    listed = json.loads((broken / "manifest.json").read_text(encoding="utf-8"))["files"]
    store = broken / sorted(f for f in listed if f.startswith("passages/"))[0]
    store.write_bytes(store.read_bytes() + b"\0")  # one byte more than was built
    args = {"index_dir": str(broken), "reader_dir": info["models"]["reader"]["model_dir"],
            "retriever_mode": "bm25",
            "ingress": {"num_cpus": 0.05, "max_constructor_retries": 1},
            "retriever": {"num_cpus": 0.05, "max_constructor_retries": 1},
            "reader": {"num_cpus": 0.05, "max_constructor_retries": 1}}
    try:
        with pytest.raises(RuntimeError, match=r"broken failed: .*\['Retriever'\]"):
            serve.run(build_app(args), name="broken", route_prefix="/broken")
        # Serve's status (`serve status`) carries the replica's own error.
        message = serve.status().applications["broken"].deployments["Retriever"].message
        assert "sha256 differs" in message and store.name in message, message
    finally:
        serve.delete("broken")
    assert client.get("/healthz").status_code == 200  # the real app is untouched


def test_killed_reader_replica_is_replaced_and_a_retrying_client_loses_nothing(client):
    from rayqa.serve.loadgen import make_requests

    info = client.get("/v1/info").json()
    requests = make_requests(160, info["limits"], ["extractive"], malformed_fraction=0,
                             seed=7)
    outages, report = kill_replica_under_load(client, BASE_URL, "Reader", requests)
    assert report.server_errors == 0 and report.wrong_count == 0, report.wrong
    assert report.by_kind["valid 200"] == len(requests)
    # Where a poll caught the outage, /healthz said so (test_healthz_names_the_deployment
    # that is down checks that answer without depending on a poll's luck).
    for body in outages:
        assert body["status"] == "degraded", body
