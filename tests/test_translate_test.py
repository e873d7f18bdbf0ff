"""The back-translation systems (cross-lingual MRC, Table 2 rows 1-5) on Ray Data: an XQuAD
zh slice answered through English. Questions and passages go zh -> en through the
parallel corpus (so the English side is XQuAD's own), a tiny English reader answers, a
tiny Marian brings the answers back, SimpleMatch and a (tiny, untrained) verifier align
them onto the Chinese passages."""

import json

import pytest

from rayqa.config import ConfigError, TranslateTestJobConfig, load_config, save_config
from rayqa.crosslingual import simple_match
from rayqa.data.sentences import split_sentences
from rayqa.data.squad import read_squad
from rayqa.testing.tiny import build_tiny_reader
from rayqa.testing.tiny_seq2seq import build_tiny_marian

CONFIG = "configs/crosslingual/translate_test.yaml"


def test_sentences_split_after_latin_and_cjk_ends():
    assert split_sentences("北京很大。它是首都！对吗？ Is it 3.5 m? Yes, e.g. here. Ok") == [
        "北京很大。", "它是首都！", "对吗？", "Is it 3.5 m?", "Yes, e.g.", "here.", "Ok"]
    assert split_sentences("他说：“走吧。”然后走了。") == ["他说：“走吧。”", "然后走了。"]
    assert split_sentences("  ") == []


def test_config_refuses_what_cannot_run(tmp_path):
    base = ["output_dir=out", "reader=r", "data_files=[d.json]"]
    with pytest.raises(ConfigError, match="parallel corpus translates whole passages"):
        load_config(TranslateTestJobConfig, CONFIG,
                    [*base, "translator={kind: parallel, xquad_dir: x}"])
    with pytest.raises(ConfigError, match="taken by the untrained rows"):
        load_config(TranslateTestJobConfig, CONFIG, [*base, "aligners={simple_match: m}"])
    cfg = load_config(TranslateTestJobConfig, CONFIG, base)
    assert cfg.answers_translator() is cfg.translator and cfg.scoring == "cmrc"


def write_xquad_slice(shared_dir, out_dir, paragraphs: int, langs=("en", "zh")) -> dict:
    """The first `paragraphs` paragraphs of XQuAD's first article, as xquad.<lang>.json
    files in `out_dir` (a parallel corpus); returns each language's examples."""
    out_dir.mkdir(parents=True, exist_ok=True)
    examples = {}
    for lang in langs:
        data = json.loads((shared_dir / "data" / "xquad" / f"xquad.{lang}.json").read_text())
        article = data["data"][0]
        data["data"] = [{**article, "paragraphs": article["paragraphs"][:paragraphs]}]
        (out_dir / f"xquad.{lang}.json").write_text(json.dumps(data, ensure_ascii=False),
                                                    encoding="utf-8")
        examples[lang] = read_squad(out_dir / f"xquad.{lang}.json")
    return examples


def example_texts(examples) -> list[str]:
    """Contexts, questions and answers: what a tiny model's tokenizer is trained on."""
    return [e.context for e in examples] + [e.question for e in examples] + \
        [a["text"] for e in examples for a in e.answers]


@pytest.fixture(scope="module")
def setup(tmp_path_factory, shared_dir):
    from rayqa.config import ReaderJobConfig

    root = tmp_path_factory.mktemp("translate_test")
    xquad = root / "xquad"
    texts = {lang: example_texts(examples)
             for lang, examples in write_xquad_slice(shared_dir, xquad, paragraphs=2).items()}
    reader = build_tiny_reader(texts["en"], root / "reader_en", vocab_size=800)
    verifier = build_tiny_reader(texts["zh"], root / "verifier", vocab_size=800)
    save_config(ReaderJobConfig.model_validate({
        "output_dir": str(root), "model": {"name_or_path": str(verifier), "max_seq_length": 128,
                                           "doc_stride": 32, "max_query_length": 40},
        "alignment": {"mode": "verifier", "max_question_tokens": 24,
                      "max_answer_tokens": 12}}), verifier)
    marian = build_tiny_marian(texts["en"], texts["zh"], root / "en-zh", vocab_size=600)
    return root, xquad, reader, verifier, marian


@pytest.mark.ray
def test_chain_writes_augmented_file_predictions_and_cmrc_scores(ray_local, setup):
    from jobs.translate_test import main

    root, xquad, reader, verifier, marian = setup
    out = root / "out"
    summary = main(["--config", CONFIG, f"output_dir={out}",
                    f"data_files=[{xquad / 'xquad.zh.json'}]", f"reader={reader}",
                    f"translator={{kind: parallel, xquad_dir: {xquad}, langs: [en, zh]}}",
                    "passage_unit=passage",
                    f"answer_translator={{kind: marian, models: {{en-zh: {marian}}}, "
                    "max_new_tokens: 8}",
                    f"aligners={{verifier: {verifier}}}", "reading.batch_size=8",
                    "reading.cpus_per_actor=0.5"])
    examples = read_squad(xquad / "xquad.zh.json")
    english = {e.id: e for e in read_squad(xquad / "xquad.en.json")}
    assert summary["questions"] == len(examples)

    # Step 1 went through the parallel corpus: the English question of the same id (or of
    # an id with the same Chinese text: the corpus translates a string, not an id), and
    # the reader's answer is a span of the English passage.
    chain = {row["id"]: row for row in map(json.loads, (out / "translations.jsonl").open())}
    assert set(chain) == {e.id for e in examples}
    same_text = {e.id: {o.id for o in examples if o.question == e.question} for e in examples}
    for qid, row in chain.items():
        assert row["question_s"] in {english[other].question for other in same_text[qid]}
        assert row["answer_s"] in english[qid].context
    # source.json: the English side (X_S of Dual BERT), XQuAD's own English passages.
    source = {e.id: e for e in read_squad(out / "source.json", require_answers=False)}
    assert {qid: (e.question, e.context, e.lang) for qid, e in source.items()} == \
        {qid: (row["question_s"], english[qid].context, "en") for qid, row in chain.items()}
    carried = {qid for qid, row in chain.items() if row["translated_answer"]}
    assert summary["no_translated_answer"] == len(examples) - len(carried)
    assert carried  # the tiny Marian says something for most answers

    # augmented.json: the input questions, A_trans added where the chain gave one.
    augmented = {e.id: e for e in read_squad(out / "augmented.json")}
    assert {qid: e.translated_answer for qid, e in augmented.items()} == \
        {qid: row["translated_answer"] for qid, row in chain.items()}
    assert all(augmented[e.id].context == e.context and augmented[e.id].answers == e.answers
               for e in examples)

    predictions = {system: json.loads((out / f"predictions.{system}.json").read_text())
                   for system in ("translate_test", "simple_match", "verifier")}
    contexts = {e.id: e.context for e in examples}
    for qid in contexts:
        translated = chain[qid]["translated_answer"]
        assert predictions["translate_test"][qid] == (translated or "")
        if translated:  # SimpleMatch's window of the Chinese passage, as the library gives it
            start, end = simple_match(translated, contexts[qid], 5)
            assert predictions["simple_match"][qid] == contexts[qid][start:end]
        assert predictions["verifier"][qid] in contexts[qid]
        assert bool(predictions["verifier"][qid]) <= bool(translated)
    # Chinese scored by the CMRC 2018 script's rules, a row per system.
    from rayqa.eval import cmrc_scores

    scores = json.loads((out / "scores.json").read_text())["scores"]
    assert list(scores) == ["translate_test", "simple_match", "verifier"]
    for system, answers in predictions.items():
        cmrc = cmrc_scores(examples, answers)
        assert scores[system]["zh"] == {"exact_match": cmrc["EM"], "f1": cmrc["F1"]}
    rows = [line.split(" |")[0] for line in (out / "table.md").read_text().splitlines()[2:]]
    assert rows == ["| translate_test", "| simple_match", "| verifier"]
    assert (out / "rayqa_config.yaml").is_file()
