"""Integration tests of the Serve app over HTTP: tiny reader, tiny index, local Ray.

One app serves the whole module (starting Serve is the slow part); every bad input
must come back 4xx with a JSON message, never 5xx.
"""

import json
import threading

import httpx
import pytest

pytestmark = pytest.mark.ray

PORT = 8123  # not Serve's default 8000, so a developer's running service is left alone
MAX_TOP_K = 4
MAX_BODY = 8192

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
    """Builds the tiny reader and index under `root` and returns the app args."""
    from rayqa.config import IndexJobConfig, ReaderConfig, ReaderJobConfig, save_config
    from rayqa.retrieval.build import build_index
    from rayqa.testing.tiny import build_tiny_reader
    from rayqa.testing.tiny_seq2seq import build_tiny_mt5

    passages_file = root / "passages.jsonl"
    passages_file.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in PASSAGES),
                             encoding="utf-8")
    texts = [p["title"] + " " + p["text"] for p in PASSAGES] + QUESTIONS
    reader_dir = build_tiny_reader(texts, root / "reader", vocab_size=500)
    # Short windows, saved as a trained checkpoint would save them: with 384 positions
    # an untrained reader's n-best starts and ends all land on padding, so every answer
    # would be "" and the substring checks below would prove nothing.
    geometry = ReaderConfig(name_or_path=str(reader_dir), max_seq_length=48, doc_stride=16,
                           max_query_length=16)
    save_config(ReaderJobConfig(output_dir=str(reader_dir), model=geometry), reader_dir)
    # The tiny reader's encoder doubles as the passage encoder: only the plumbing is tested.
    index_dir = build_index(IndexJobConfig.model_validate({
        "output_dir": str(root / "index"), "passages_files": [str(passages_file)],
        "encoder": {"name_or_path": str(reader_dir), "max_length": 64, "batch_size": 4,
                    "cpus_per_actor": 0.25}}))
    # A random-weight mT5 as mGEN: generative answers are strings, not right answers.
    generator_dir = build_tiny_mt5(texts, root / "mgen", vocab_size=400)
    small = {"num_cpus": 0.25, "max_batch_size": 4, "batch_wait_timeout_s": 0.05}
    return {"index_dir": str(index_dir), "reader_dir": str(reader_dir),
            "generator_dir": str(generator_dir), "retriever_mode": "hybrid",
            "default_top_k": 2, "max_top_k": MAX_TOP_K, "max_body_bytes": MAX_BODY,
            "ingress": {"num_cpus": 0.25}, "retriever": small, "reader": small,
            "generator": {**small, "num_cpus": 0.2, "max_new_tokens": 6}}


# --------------------------------------------------------------------------- happy path


def _check_shape(body, mode="extractive"):
    assert set(body) == {"answer", "score", "lang", "mode", "passages", "timings_ms"}
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


def test_answer_comes_from_the_top_passage(client):
    response = client.post("/v1/answer", json={"question": "Who wrote Faust?", "top_k": 1})
    assert response.status_code == 200, response.text
    body = response.json()
    _check_shape(body)
    (top,) = body["passages"]
    assert body["answer"] and body["answer"] in top["text"]
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
    assert info["modes"] == ["extractive", "generative"] and info["default_mode"] == "extractive"
    assert info["retriever_mode"] == "hybrid"
    index = info["index"]
    assert index["index_size"] == len(PASSAGES)
    assert index["languages"] == {"de": 2, "en": 2, "zh": 2, "es": 1}
    assert index["encoder"]["queries"] == index["encoder"]["passages"]  # no bi-encoder here
    assert info["models"]["reader"]["model_dir"].endswith("reader")
    assert info["models"]["generator"]["model_dir"].endswith("mgen")
    assert info["limits"] == {"max_top_k": MAX_TOP_K, "default_top_k": 2,
                              "max_body_bytes": MAX_BODY}


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
    question = "Who wrote Faust? " + "x" * (MAX_BODY - 100)
    response = client.post("/v1/answer", json={"question": question, "top_k": 1})
    assert response.status_code == 200, response.text


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ok",
                               "deployments": {"retriever": "up", "reader": "up",
                                               "generator": "up"},
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
