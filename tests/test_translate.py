"""Translators: MarianMT over tiny locally built OPUS-MT-style models, the XQuAD
parallel corpus (local and on S3), and the Ray Data translation step."""

from pathlib import Path

import pytest
import torch

from rayqa import storage
from rayqa.config import TranslatorConfig
from rayqa.testing.tiny_seq2seq import build_tiny_marian
from rayqa.translate import TranslationError, build_translator
from rayqa.translate.marian import MarianTranslator, absolute_models
from rayqa.translate.parallel import ParallelTranslator
from rayqa.translate.ray_data import TranslateBatch, translate_dataset

EN = ["Who built the lighthouse?", "The river flows into the bay.", "Paris is in France.",
      "When was the bridge built?", "Tea grows on hills."]
AR = ["من بنى المنارة؟", "يصب النهر في الخليج.", "باريس في فرنسا.", "متى بني الجسر؟",
      "ينمو الشاي على التلال."]
DE = ["Wer baute den Leuchtturm?", "Der Fluss mündet in die Bucht.",
      "Paris liegt in Frankreich.",
      "Wann wurde die Brücke gebaut?", "Tee wächst an Hängen."]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("marian")
    return {
        "en-ar": str(build_tiny_marian(EN, AR, tmp / "en-ar", target_prefixes=[">>ara<<"])),
        "en-de": str(build_tiny_marian(EN, DE, tmp / "en-de")),
        "de-en": str(build_tiny_marian(DE, EN, tmp / "de-en")),
    }


@pytest.fixture(scope="module")
def marian(models):
    return MarianTranslator(models, batch_size=2, max_new_tokens=6)


def _generate(translator, pair, sources):
    tokenizer, model = translator._loaded[pair]
    batch = tokenizer(sources, return_tensors="pt", padding=True)
    with torch.no_grad():
        ids = model.generate(**batch, max_new_tokens=6, num_beams=1)
    return [t.strip() for t in tokenizer.batch_decode(ids, skip_special_tokens=True)]


def test_table_11_prefix_is_prepended_as_one_token(marian):
    out = marian.translate(EN[:1], "en", "ar")
    tokenizer, _ = marian._loaded["en-ar"]
    assert marian.prefix("en", "ar") == ">>ara<<"
    ids = tokenizer([">>ara<< " + EN[0]]).input_ids[0]
    assert ids[0] == tokenizer.convert_tokens_to_ids(">>ara<<") != tokenizer.unk_token_id
    assert out == _generate(marian, "en-ar", [">>ara<< " + EN[0]])


def test_pair_without_prefix_translates_the_bare_text(marian):
    assert marian.prefix("en", "de") == ""
    assert marian.translate(EN[:2], "en", "de") == _generate(marian, "en-de", EN[:2])


def test_prefix_unknown_to_the_model_is_an_error_naming_the_pair(models):
    translator = MarianTranslator(models, prefixes={"en-de": ">>deu<<"})
    with pytest.raises(TranslationError, match=r"en-de: target prefix '>>deu<<'"):
        translator.translate(EN[:1], "en", "de")


def test_batches_of_batch_size_and_order_kept(marian, monkeypatch):
    calls = []
    original = marian._generate
    def counting(tokenizer, model, sources):
        calls.append(len(sources))
        return original(tokenizer, model, sources)

    monkeypatch.setattr(marian, "_generate", counting)
    out = marian.translate(DE, "de", "en")
    assert calls == [2, 2, 1]
    assert len(out) == len(DE) and all(isinstance(t, str) for t in out)
    assert out[3] == marian.translate([DE[3]], "de", "en")[0]


def test_models_load_lazily_once_per_pair(models):
    translator = MarianTranslator(models, max_new_tokens=4)
    assert translator._loaded == {}
    translator.translate(EN[:1], "en", "de")
    first = translator._loaded["en-de"]
    translator.translate(EN[1:2], "en", "de")
    assert list(translator._loaded) == ["en-de"] and translator._loaded["en-de"] is first


def test_max_new_tokens_bounds_the_output(models):
    translator = MarianTranslator(models, max_new_tokens=2)
    translator.translate(EN[:1], "en", "de")
    tokenizer, _ = translator._loaded["en-de"]
    out = translator.translate(EN, "en", "de")
    assert all(len(tokenizer(t, add_special_tokens=False).input_ids) <= 4 for t in out)


@pytest.mark.parametrize("text", ["", "   "])
def test_empty_text_is_an_error_naming_the_pair(marian, text):
    with pytest.raises(TranslationError, match=r"en-de: text 1 is empty"):
        marian.translate([EN[0], text], "en", "de")


def test_unsupported_pair_is_an_error_naming_it(marian):
    with pytest.raises(TranslationError, match=r"unsupported language pair ar-en .*en-ar"):
        marian.translate(AR[:1], "ar", "en")


def test_same_language_passes_through(marian):
    assert marian.translate(AR[:2], "ar", "ar") == AR[:2]
    assert marian.translate([], "en", "de") == []


def test_model_on_s3_translates_like_its_local_directory(models, marian, s3_dir):
    storage.upload_dir(models["en-de"], f"{s3_dir}/en-de")
    translator = MarianTranslator({"en-de": f"{s3_dir}/en-de"}, max_new_tokens=6)
    assert translator.translate(EN[:2], "en", "de") == marian.translate(EN[:2], "en", "de")


def test_absolute_models_resolves_local_directories_only(models, monkeypatch):
    """What actors in another working directory get: hub names and URIs stay as given."""
    model_dir = Path(models["en-de"]).resolve()
    monkeypatch.chdir(model_dir.parent)
    given = {"en-de": model_dir.name, "en-ar": "Helsinki-NLP/opus-mt-en-ar",
             "de-en": "s3://bucket/de-en"}
    assert absolute_models(given) == {**given, "en-de": str(model_dir)}


def test_config_builds_marian_and_rejects_bad_pairs(models):
    translator = build_translator(TranslatorConfig(models=models, max_new_tokens=3))
    assert isinstance(translator, MarianTranslator) and sorted(translator.pairs) == sorted(models)
    with pytest.raises(ValueError, match="language pairs like"):
        TranslatorConfig(models={"english": "x"})
    with pytest.raises(ValueError, match="needs xquad_dir"):
        TranslatorConfig(kind="parallel")


# --------------------------------------------------------------------------- parallel


@pytest.fixture(scope="module")
def xquad(shared_dir):
    return ParallelTranslator.from_xquad(shared_dir / "data" / "xquad", ["en", "de", "zh"])


def test_parallel_corpus_translates_questions_contexts_and_answers(xquad, shared_dir):
    import json

    en = json.loads((shared_dir / "data/xquad/xquad.en.json").read_text())["data"][0]
    de = json.loads((shared_dir / "data/xquad/xquad.de.json").read_text())["data"][0]
    p_en, p_de = en["paragraphs"][0], de["paragraphs"][0]
    qa_en, qa_de = p_en["qas"][1], p_de["qas"][1]
    assert qa_en["id"] == qa_de["id"]
    assert xquad.translate([qa_en["question"]], "en", "de") == [qa_de["question"]]
    assert xquad.translate([p_de["context"]], "de", "en") == [p_en["context"]]
    assert xquad.translate([qa_en["answers"][0]["text"]], "en", "de") == \
        [qa_de["answers"][0]["text"]]
    assert xquad.translate_ids([qa_en["id"]], "de") == [qa_de["question"]]
    assert "de-zh" in xquad.pairs and len(xquad.pairs) == 6


def test_parallel_corpus_reads_an_s3_directory(xquad, shared_dir, s3_dir):
    for lang in ("en", "de"):
        storage.write_bytes(f"{s3_dir}/xquad.{lang}.json",
                            (shared_dir / "data" / "xquad" / f"xquad.{lang}.json").read_bytes())
    remote = ParallelTranslator.from_xquad(s3_dir)
    assert sorted(remote.pairs) == ["de-en", "en-de"]
    ids = list(xquad.tables["en"]["question"])[:3]
    assert remote.translate_ids(ids, "de") == xquad.translate_ids(ids, "de")


def test_parallel_corpus_errors_name_pair_and_id(xquad):
    with pytest.raises(TranslationError, match=r"en-de: text not in the parallel corpus"):
        xquad.translate(["What is the meaning of life?"], "en", "de")
    with pytest.raises(TranslationError, match=r"de: no question with id 'no-such-id'"):
        xquad.translate_ids(["no-such-id"], "de")
    with pytest.raises(TranslationError, match=r"unsupported language pair en-ar"):
        xquad.translate(["x"], "en", "ar")


# --------------------------------------------------------------------------- Ray Data


def test_translate_batch_groups_rows_by_pair(models):
    step = TranslateBatch(TranslatorConfig(models=models, max_new_tokens=4), "q", "q_en",
                          src_column="lang", tgt="en")
    out = step({"q": [DE[0], EN[1], DE[2]], "lang": ["de", "en", "de"]})
    direct = MarianTranslator(models, max_new_tokens=4).translate([DE[0], DE[2]], "de", "en")
    assert out["q_en"] == [direct[0], EN[1], direct[1]]
    with pytest.raises(ValueError, match="exactly one of src"):
        TranslateBatch(TranslatorConfig(models=models), "q", "q_en", src="de", src_column="lang",
                       tgt="en")


@pytest.mark.ray
def test_actor_pool_translates_a_dataset(models, ray_local):
    cfg = TranslatorConfig(models=models, max_new_tokens=4, batch_size=2, num_actors=1)
    rows = [{"id": i, "q": text, "lang": "de"} for i, text in enumerate(DE)]
    ds = translate_dataset(ray_local.data.from_items(rows), cfg, "q", "q_en",
                           src_column="lang", tgt="en")
    got = {row["id"]: row["q_en"] for row in ds.take_all()}
    assert [got[i] for i in range(len(DE))] == \
        MarianTranslator(models, max_new_tokens=4).translate(DE, "de", "en")
