"""The cross-lingual MRC table runner on an XQuAD zh/en slice with tiny models: an English
reader trained for the translate-test rows (not reported), two translate-test rows that
share their runs, a reader and a Dual BERT trained on Chinese (its source side translated
with the answer marked by a mixmrc row), all scored per set by the CMRC 2018 rules; a
rerun skips every finished row."""

import json

import pytest

from rayqa.config import CrossLingualTableConfig
from rayqa.data.squad import read_squad, write_squad
from rayqa.testing.tiny import build_tiny_reader
from rayqa.testing.tiny_seq2seq import build_tiny_marian
from tests.test_translate_test import example_texts, write_xquad_slice

READER, DUAL_BERT = "configs/reader.yaml", "configs/crosslingual/dual_bert.yaml"
TRANSLATE_TEST = "configs/crosslingual/translate_test.yaml"
SOURCE_SIDE = "configs/crosslingual/source_side.yaml"


def tiny_training(root, name: str, workers: int = 1) -> list[str]:
    return [f"model.name_or_path={root / name}", "model.max_seq_length=128",
            "model.doc_stride=32", f"train.num_workers={workers}", "train.use_gpu=false",
            "train.cpus_per_worker=1.0", "train.epochs=1", "train.max_steps=2",
            "train.batch_size=4", "train.eval_batch_size=16", "train.warmup_ratio=0.0"]


@pytest.fixture(scope="module")
def setup(tmp_path_factory, shared_dir):
    """XQuAD's first article, paragraphs 0-1 for training and 2-3 as the reported sets."""
    root = tmp_path_factory.mktemp("xl_table")
    xquad = root / "xquad"
    texts = {}
    for lang, examples in write_xquad_slice(shared_dir, xquad, paragraphs=4).items():
        contexts = list(dict.fromkeys(e.context for e in examples))
        write_squad([e for e in examples if e.context in contexts[:2]], root / f"train.{lang}.json")
        write_squad([e for e in examples if e.context == contexts[2]], root / f"set_a.{lang}.json")
        write_squad([e for e in examples if e.context == contexts[3]], root / f"set_b.{lang}.json")
        texts[lang] = example_texts(examples)
    build_tiny_reader(texts["en"], root / "init_en", vocab_size=800)
    build_tiny_reader(texts["zh"] + texts["en"], root / "init_zh", vocab_size=1200)
    build_tiny_marian(texts["en"], texts["zh"], root / "en-zh", vocab_size=600)
    return root, xquad


def table_args(root, xquad) -> list[str]:
    sets = [{"name": f"XQuAD {part}", "path": str(root / f"set_{part}.zh.json"),
             "source": str(root / f"set_{part}.en.json")} for part in ("a", "b")]
    translate = [f"translator={{kind: parallel, xquad_dir: {xquad}, langs: [en, zh]}}",
                 "passage_unit=passage", "reading.cpus_per_actor=0.5",
                 f"answer_translator={{kind: marian, models: {{en-zh: {root / 'en-zh'}}}, "
                 "max_new_tokens: 8}", "reader={final:S reader}"]
    rows = [
        {"name": "S reader", "kind": "reader", "config": READER, "report": False,
         "overrides": [*tiny_training(root, "init_en"), f"data.train_files=[{root / 'train.en.json'}]",
                       f"data.dev_files=[{root / 'train.en.json'}]"]},
        {"name": "#1 translate-test", "kind": "translate_test", "config": TRANSLATE_TEST,
         "system": "translate_test", "overrides": translate},
        {"name": "#3 +SimpleMatch", "kind": "translate_test", "config": TRANSLATE_TEST,
         "system": "simple_match", "overrides": translate},
        {"name": "#7 mBERT on T", "kind": "reader", "config": READER,
         "overrides": [*tiny_training(root, "init_zh"), "data.scoring=cmrc",
                       f"data.train_files=[{root / 'train.zh.json'}]",
                       f"data.dev_files=[{root / 'train.zh.json'}]"]},
        {"name": "X_S of train", "kind": "mixmrc", "config": SOURCE_SIDE, "report": False,
         "overrides": [f"source_files=[{root / 'train.zh.json'}]",
                       f"translator={{kind: parallel, xquad_dir: {xquad}, langs: [zh, en]}}"]},
        {"name": "#12 Dual BERT from #7", "kind": "dual_bert", "config": DUAL_BERT,
         "overrides": [*tiny_training(root, "init_zh"), "model.name_or_path={final:#7 mBERT on T}",
                       "data.scoring=cmrc",
                       f"data.train_files=[{{target: {root / 'train.zh.json'}, "
                       "source: '{dir:X_S of train}/translated.en.json'}]",
                       "data.dev_files=[]"]},
    ]
    return ["--config", "configs/crosslingual/table2.yaml", f"output_dir={root / 'table'}",
            f"sets={json.dumps(sets)}", f"rows={json.dumps(rows)}"]


def test_references_must_name_earlier_rows():
    row = {"name": "late", "kind": "reader", "config": READER, "overrides": []}
    cfg = CrossLingualTableConfig.model_validate({
        "output_dir": "out", "sets": [{"name": "s", "path": "s.json"}],
        "rows": [{**row, "overrides": ["model.name_or_path={final:early}"]},
                 {**row, "name": "early"}]})
    from rayqa.pipelines.xl_table import check_table

    with pytest.raises(ValueError, match="names no earlier row"):
        check_table(cfg)
    with pytest.raises(ValueError, match="names must differ"):
        CrossLingualTableConfig.model_validate({**cfg.model_dump(), "rows": [row, row]})


@pytest.mark.ray
def test_rows_train_score_per_set_and_a_rerun_skips_them(ray_local, setup, capsys):
    from jobs.xl_table import main
    from rayqa.eval import cmrc_scores

    root, xquad = setup
    md, csv_file = main(table_args(root, xquad))
    lines = open(md, encoding="utf-8").read().splitlines()
    assert lines[0] == "| setting | XQuAD a EM / F1 | XQuAD b EM / F1 |"
    assert [line.split(" |")[0] for line in lines[2:]] == [
        "| #1 translate-test", "| #3 +SimpleMatch", "| #7 mBERT on T", "| #12 Dual BERT from #7"]
    out = root / "table"
    # The two translate-test rows share one run per set; its CMRC scores are the rows'.
    [run] = (out / "translate_test").iterdir()
    for part in ("a", "b"):
        gold = read_squad(root / f"set_{part}.zh.json")
        for row, system in (("1_translate-test", "translate_test"),
                            ("3_SimpleMatch", "simple_match")):
            predictions = json.loads((run / f"XQuAD_{part}" / f"predictions.{system}.json")
                                     .read_text(encoding="utf-8"))
            cmrc = cmrc_scores(gold, predictions)
            scores = json.loads((out / row / "scores.json").read_text())[f"XQuAD {part}"]
            assert scores == {"exact_match": cmrc["EM"], "f1": cmrc["F1"]}
    # The Dual BERT row started from the #7 row's export, its source side the
    # translation with the answer marked (XQuAD's human one: every span found).
    saved = (out / "12_Dual_BERT_from_7" / "final" / "rayqa_config.yaml").read_text()
    assert str(out / "7_mBERT_on_T" / "final") in saved
    assert str(out / "X_S_of_train" / "translated.en.json") in saved
    source = read_squad(out / "X_S_of_train" / "translated.en.json")
    assert {e.id for e in source} == {e.id for e in read_squad(root / "train.zh.json")}
    assert all(e.lang == "en" and e.answers for e in source)
    assert not (out / "S_reader" / "scores.json").read_text().strip("{}\n")

    capsys.readouterr()
    assert main(table_args(root, xquad)) == (md, csv_file)
    assert capsys.readouterr().out.count("done before, skipped") == 6
    assert open(md, encoding="utf-8").read().splitlines() == lines
