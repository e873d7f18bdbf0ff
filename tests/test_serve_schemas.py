"""Unit tests of the serve request contract and app config, without Ray."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from rayqa.config import ConfigError
from rayqa.serve.schemas import (AnswerRequest, ServeAppConfig, describe_validation_error,
                                 load_app_config, parse_answer_request)

REPO = Path(__file__).resolve().parents[1]


def _error_of(body, max_top_k=10):
    """The readable error of an invalid body (fails the test when the body validates)."""
    raw = body if isinstance(body, (str, bytes)) else json.dumps(body)
    with pytest.raises(ValidationError) as caught:
        parse_answer_request(raw, max_top_k=max_top_k)
    return describe_validation_error(caught.value)


@pytest.mark.parametrize("body", [
    {"question": "Who wrote Faust?"},
    {"question": "Who wrote Faust?", "lang": "en", "top_k": 3},
    {"question": "谁写了浮士德？", "lang": "zh-CN", "top_k": 10},
    {"question": "x", "lang": "zh_tw", "top_k": None},
    {"question": "x", "lang": None},
])
def test_valid_requests(body):
    request = parse_answer_request(json.dumps(body), max_top_k=10)
    assert request.question == body["question"]
    assert request.top_k == body.get("top_k")


@pytest.mark.parametrize("body, field", [
    ({}, "question"),
    ({"lang": "en"}, "question"),
    ({"question": ""}, "question"),
    ({"question": "  \n\t "}, "question"),
    ({"question": 42}, "question"),
    ({"question": ["a"]}, "question"),
    ({"question": None}, "question"),
    ({"question": "q", "top_k": "5"}, "top_k"),
    ({"question": "q", "top_k": 5.0}, "top_k"),
    ({"question": "q", "top_k": 2.5}, "top_k"),
    ({"question": "q", "top_k": True}, "top_k"),
    ({"question": "q", "top_k": 0}, "top_k"),
    ({"question": "q", "top_k": -1}, "top_k"),
    ({"question": "q", "top_k": 11}, "top_k"),
    ({"question": "q", "lang": "english!"}, "lang"),
    ({"question": "q", "lang": ""}, "lang"),
    ({"question": "q", "lang": "e"}, "lang"),
    ({"question": "q", "lang": 7}, "lang"),
    ({"question": "q", "topk": 3}, "topk"),
])
def test_invalid_requests_name_the_field(body, field):
    error = _error_of(body)
    assert error.error == "validation_error"
    assert [problem["field"] for problem in error.fields] == [field]
    assert error.message.startswith(f"{field}: ")


def test_unknown_field_and_range_messages_are_readable():
    assert _error_of({"question": "q", "topk": 3}).message == "topk: unknown field"
    assert _error_of({"question": "q", "top_k": 11}).message == \
        "top_k: must be between 1 and 10"
    assert _error_of({}).message == "question: field required"


@pytest.mark.parametrize("raw", ["not json", "", "{\"question\": ", b"\xff\xfe"])
def test_non_json_body_is_invalid_json(raw):
    error = _error_of(raw)
    assert error.error == "invalid_json"
    assert "not valid JSON" in error.message


@pytest.mark.parametrize("raw", ["[1, 2]", "\"a question\"", "null", "3"])
def test_body_must_be_an_object(raw):
    error = _error_of(raw)
    assert error.message == "body: must be a JSON object"


@pytest.mark.parametrize("lang", ["en", "zh-CN", "zh_tw", "sr-Latn", "pt-BR", "fil", "sw"])
def test_registered_language_tags_are_accepted(lang):
    assert parse_answer_request(json.dumps({"question": "q", "lang": lang})).lang == lang


@pytest.mark.parametrize("lang", ["qq", "xx", "zz-ZZ", "en-", "english"])
def test_unknown_language_is_named(lang):
    error = _error_of({"question": "q", "lang": lang})
    assert error.message == (f"lang: {lang!r} is not a known language code (BCP 47, like "
                             "'en' or 'zh-CN')")


def test_question_length_cap_counts_characters():
    at_cap = json.dumps({"question": "谁" * 12})
    assert parse_answer_request(at_cap, max_question_chars=12).question == "谁" * 12
    with pytest.raises(ValidationError) as caught:
        parse_answer_request(json.dumps({"question": "谁" * 13}), max_question_chars=12)
    assert describe_validation_error(caught.value).message == \
        "question: must be at most 12 characters (got 13)"


def test_top_k_without_context_only_needs_to_be_positive():
    assert AnswerRequest.model_validate({"question": "q", "top_k": 1000}).top_k == 1000


# --------------------------------------------------------------------------- app config


def _args(tmp_path, **extra):
    (tmp_path / "index").mkdir(exist_ok=True)
    (tmp_path / "reader").mkdir(exist_ok=True)
    return {"index_dir": str(tmp_path / "index"), "reader_dir": str(tmp_path / "reader"),
            **extra}


def test_config_defaults_and_deployment_options(tmp_path):
    cfg = load_app_config(_args(tmp_path, reader={"num_cpus": 0.5, "max_batch_size": 4,
                                                  "autoscaling": {"max_replicas": 3}}))
    assert (cfg.default_top_k, cfg.max_top_k, cfg.max_body_bytes) == (5, 20, 65536)
    assert (cfg.max_question_chars, cfg.request_timeout_s, cfg.retry_after_s) == (1000, 30, 1)
    retriever = cfg.retriever.deployment_options(retry_after_s=2)
    assert retriever.pop("backpressure_config").retry_after_s == 2
    assert retriever == {
        "ray_actor_options": {"num_cpus": 0.25, "num_gpus": 0}, "max_ongoing_requests": 64,
        "max_queued_requests": 256, "health_check_period_s": 10.0,
        "health_check_timeout_s": 30.0, "max_constructor_retry_count": 3, "num_replicas": 1}
    reader = cfg.reader.deployment_options()
    assert reader["ray_actor_options"] == {"num_cpus": 0.5, "num_gpus": 0}
    assert reader["autoscaling_config"]["max_replicas"] == 3
    assert "num_replicas" not in reader
    assert cfg.reader.max_batch_size == 4


def test_relative_paths_resolve_against_cwd(tmp_path, monkeypatch):
    _args(tmp_path)
    monkeypatch.chdir(tmp_path)
    cfg = load_app_config({"index_dir": "index", "reader_dir": "./reader"})
    assert cfg.index_dir == str((tmp_path / "index").resolve())
    assert Path(cfg.reader_dir).is_absolute()


@pytest.mark.parametrize("extra, key", [
    ({"max_top_k": "20"}, "max_top_k"),
    ({"max_top_k": 0}, "max_top_k"),
    ({"default_top_k": 30}, "default_top_k"),
    ({"retriever_mode": "fuzzy"}, "retriever_mode"),
    ({"max_body_bytes": 10}, "max_body_bytes"),
    ({"reader": {"num_cpus": 0}}, "reader.num_cpus"),
    ({"reader": {"num_cpu": 1}}, "reader.num_cpu"),
    ({"retriever": {"max_batch_size": 0}}, "retriever.max_batch_size"),
    ({"retriever": {"batch_wait_timeout_s": -1}}, "retriever.batch_wait_timeout_s"),
    ({"reader": {"num_replicas": 2, "autoscaling": {}}}, "reader"),
    ({"reader": {"autoscaling": {"min_replicas": 3, "max_replicas": 2}}},
     "reader.autoscaling"),
    ({"index_dirs": "x"}, "index_dirs"),
    ({"default_mode": "generative"}, "default_mode"),  # no generator_dir
    ({"default_mode": "abstractive"}, "default_mode"),
    ({"generator": {"num_beams": 0}}, "generator.num_beams"),
    ({"reader": {"num_gpus": -1}}, "reader.num_gpus"),
])
def test_bad_config_names_the_key(tmp_path, extra, key):
    with pytest.raises(ConfigError) as caught:
        load_app_config(_args(tmp_path, **extra))
    assert f"serve app args: {key}:" in str(caught.value)


def test_modes_follow_the_models_given(tmp_path):
    (tmp_path / "mgen").mkdir()
    both = load_app_config(_args(tmp_path, generator_dir=str(tmp_path / "mgen"),
                                 generator={"num_gpus": 0.5, "num_beams": 4}))
    assert both.modes == ["extractive", "generative"] and both.default_mode == "extractive"
    assert both.generator.deployment_options()["ray_actor_options"] == {
        "num_cpus": 0.25, "num_gpus": 0.5}
    generative = load_app_config({"index_dir": str(tmp_path / "index"),
                                  "generator_dir": str(tmp_path / "mgen"),
                                  "default_mode": "generative"})
    assert generative.modes == ["generative"] and generative.reader_dir is None
    with pytest.raises(ConfigError, match="default_mode: .*extractive needs reader_dir"):
        load_app_config({"index_dir": str(tmp_path / "index")})
    # A request for a mode the service does not hold names the field.
    with pytest.raises(ValidationError) as caught:
        parse_answer_request(b'{"question": "q", "mode": "extractive"}',
                             modes=generative.modes)
    problem = describe_validation_error(caught.value)
    assert "mode: extractive answering is not served here (served: generative)" in \
        problem.message


def test_query_encoder_is_a_path_only_when_it_is_one(tmp_path, monkeypatch):
    _args(tmp_path)
    (tmp_path / "q0").mkdir()
    monkeypatch.chdir(tmp_path)
    local = load_app_config({"index_dir": "index", "reader_dir": "reader", "query_encoder": "q0"})
    assert local.query_encoder == str((tmp_path / "q0").resolve())
    hub = load_app_config({"index_dir": "index", "reader_dir": "reader",
                           "query_encoder": "facebook/dpr-question_encoder-single-nq-base"})
    assert hub.query_encoder == "facebook/dpr-question_encoder-single-nq-base"


def test_missing_directory_is_named(tmp_path):
    args = _args(tmp_path)
    args["reader_dir"] = str(tmp_path / "nowhere")
    with pytest.raises(ConfigError, match="reader_dir: directory .*nowhere does not exist"):
        load_app_config(args)
    assert load_app_config(args, check_paths=False).reader_dir.endswith("nowhere")


def test_args_must_be_a_mapping():
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_app_config(["index_dir"])


def test_retriever_modes_match_the_library():
    pytest.importorskip("faiss")
    from rayqa.retrieval.retriever import MODES

    field = ServeAppConfig.model_fields["retriever_mode"]
    assert set(field.annotation.__args__) == set(MODES)


def test_serve_config_yamls_are_valid():
    from ray.serve.schema import ServeDeploySchema

    tree = yaml.safe_load((REPO / "serve_config.yaml").read_text(encoding="utf-8"))
    deploy = ServeDeploySchema.model_validate(tree)
    assert deploy.http_options.host == "127.0.0.1"  # never Ray's 0.0.0.0 default
    (app,) = deploy.applications
    assert (app.name, app.route_prefix, app.import_path) == \
        ("rayqa", "/", "rayqa.serve.app:build_app")
    cfg = load_app_config(app.args, check_paths=False)
    assert cfg.index_dir.endswith("runs/demo/index")
    assert cfg.reader_dir.endswith("runs/demo/reader/final")
    # The CORA config serves configs/cora.yaml's last round, generatively.
    tree = yaml.safe_load((REPO / "serve_config.cora.yaml").read_text(encoding="utf-8"))
    (app,) = ServeDeploySchema.model_validate(tree).applications
    cora = load_app_config(app.args, check_paths=False)
    assert cora.modes == ["generative"] and cora.default_mode == "generative"
    assert cora.split_retrieval and cora.retriever_mode == "dense"
    rounds = yaml.safe_load((REPO / "configs/cora.yaml").read_text(encoding="utf-8"))["rounds"]
    assert cora.index_dir.endswith(f"runs/cora/round_{rounds - 1}/index")
    assert cora.generator_dir.endswith(f"runs/cora/round_{rounds - 1}/mgen/final")


def test_schemas_import_stays_light():
    code = ("import sys, rayqa.serve.schemas; "
            "print(sorted(m for m in ('ray', 'torch', 'transformers', 'faiss') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=REPO)
    assert out.stdout.strip() == "[]"


def test_translate_test_config(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _args(tmp_path)
    (tmp_path / "opus-mt-de-en").mkdir()
    translate = {"translator": {"models": {"de-en": "opus-mt-de-en",
                                           "en-de": "Helsinki-NLP/opus-mt-en-de"}}}
    cfg = load_app_config({"index_dir": "index", "reader_dir": "reader",
                           "translate_test": translate, "default_mode": "translate-test"})
    assert cfg.modes == ["extractive", "translate-test"]
    models = cfg.translate_test.translator.models
    # A local directory is made absolute for the replicas; a hub name stays as given.
    assert models == {"de-en": str(tmp_path / "opus-mt-de-en"),
                      "en-de": "Helsinki-NLP/opus-mt-en-de"}
    assert cfg.translate_test.supports("de", "en") and not cfg.translate_test.supports("zh", "en")
    # No reader at all: translate-test has nothing to read with.
    with pytest.raises(ConfigError, match="default_mode: .*translate-test needs translate_test"):
        load_app_config({"index_dir": "index", "generator_dir": "reader",
                         "translate_test": translate, "default_mode": "translate-test"})
    with pytest.raises(ConfigError, match="translate_test.reader_dir: directory .* does not"):
        load_app_config({"index_dir": "index", "reader_dir": "reader",
                         "translate_test": {**translate, "reader_dir": "no-such-reader"}})
    with pytest.raises(ConfigError, match="translate_test.translator: .*kind: marian"):
        load_app_config({"index_dir": "index", "reader_dir": "reader",
                         "translate_test": {"translator": {"kind": "parallel",
                                                           "xquad_dir": "x"}}})
