"""mixMRC data generation: answer markers, recovery, Table 3, mixed pairs, the XQuAD
parallel corpus and tiny MarianMT models through the Ray Data job."""

import csv
import json

import numpy as np
import pytest

from rayqa.augment.mixmrc import (
    CLOSE_MARK,
    MARKERS,
    OPEN_MARK,
    RECOVERED,
    SKIPPED,
    Instance,
    Span,
    count_instances,
    find_answer,
    mix_example,
    parse_marked,
    table3_markdown,
    to_squad,
    translate_examples,
    wrap_answer,
)
from rayqa.augment.mixmrc_job import (
    MixMRCTranslate,
    make_mixmrc,
    read_sources,
    translate_all,
)
from rayqa.config import (ConfigError, DataFile, FilePair, MixMRCJobConfig, TranslatorConfig,
                          load_config)
from rayqa.data.records import BadRecords
from rayqa.data.squad import read_squad
from rayqa.translate import TranslationError, Translator
from rayqa.translate.factory import translator_for_actors
from rayqa.translate.parallel import ParallelTranslator

# --------------------------------------------------------------------------- markers


def test_wrap_answer_encloses_the_span_only():
    context = "The last name Woods comes from both the English and scottish."
    start = context.index("the English and scottish")
    assert wrap_answer(context, start, "the English and scottish") == \
        "The last name Woods comes from both ([the English and scottish])."
    with pytest.raises(ValueError, match="not at 3"):
        wrap_answer(context, 3, "Woods")


@pytest.mark.parametrize("marked, context, answer", [
    # The paper's Figure 2.
    ("Der Nachname Woods kommt von beiden ([dem Englischen und dem Schottischen]).",
     "Der Nachname Woods kommt von beiden dem Englischen und dem Schottischen.",
     "dem Englischen und dem Schottischen"),
    ("a ([b]) c", "a b c", "b"),
    ("a([b])c", "abc", "b"),  # no spaces in the translation: none added (zh, ja)
    ("来自([英格兰和苏格兰])。", "来自英格兰和苏格兰。", "英格兰和苏格兰"),
    ("a ([ b ]) c", "a b c", "b"),  # inner spaces drop where outer ones exist
    ("a([ b ]).", "a b.", "b"),  # inner space kept before a word, not before punctuation
    ("a([ b ])c", "a b c", "b"),
    ("([b]) c", "b c", "b"),  # at the start
    ("  ([ b ]) c", "b c", "b"),  # no leading whitespace in the passage
    ("a ([b])", "a b", "b"),  # at the end
    ("a  ([b c])\n d", "a  b c\n d", "b c"),  # the translation's own whitespace is kept
])
def test_parse_marked_keeps_one_span(marked, context, answer):
    span = parse_marked(marked)
    assert span == Span(context, answer, context.index(answer))
    assert span.context[span.start:span.start + len(span.text)] == span.text


@pytest.mark.parametrize("marked", [
    "a b c",  # markers lost
    "a ( [b] ) c",  # markers split up
    "a ([b c",  # only the opening marker
    "a b]) c",  # only the closing marker
    "a ([b]) c ([d])",  # two spans
    "a ([b ([c]) d",  # two opening markers
    "a ])b([ c",  # closing before opening
    "a ([  ]) c",  # nothing between
    "a ([]) c",
])
def test_parse_marked_rejects_broken_markers(marked):
    assert parse_marked(marked) is None


def test_find_answer_exact_first_then_case_insensitive_first_occurrence():
    passage = "Tea and tea: TEA grows on hills."
    assert find_answer(passage, "tea") == Span(passage, "tea", 8)  # exact beats earlier "Tea"
    assert find_answer(passage, " TEA ") == Span(passage, "TEA", 13)  # stripped
    assert find_answer(passage, "grows ON") == Span(passage, "grows on", 17)
    assert find_answer(passage, "tEa") == Span(passage, "Tea", 0)  # first case-insensitive
    # İ lower-cases to two characters; offsets must still point into the passage.
    turkish = "İİ İstanbul"
    assert find_answer(turkish, "istanbul") == Span(turkish, "İstanbul", 3)
    assert find_answer(passage, "coffee") is None and find_answer(passage, "  ") is None
    assert find_answer("", "tea") is None


def test_find_answer_prefers_the_occurrence_at_the_source_answers_place():
    passage = "Paris was founded early. Rome grew. Later Paris became the capital."
    first, second = passage.index("Paris"), passage.rindex("Paris")
    assert find_answer(passage, "Paris").start == first
    assert find_answer(passage, "Paris", near=0.7).start == second
    assert find_answer(passage, "Paris", near=0.1).start == first
    assert find_answer(passage, "paris", near=0.9) == Span(passage, "Paris", second)


# --------------------------------------------------------------------------- translation

ROT = {"de": 13, "es": 3}


def shift(text: str, tgt: str) -> str:
    """A letter shift per language: answers map to exact substrings of their passages."""
    n = ROT[tgt]
    lower, upper = "abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    table = str.maketrans(lower + upper, lower[n:] + lower[:n] + upper[n:] + upper[:n])
    return text.translate(table)


class CipherTranslator(Translator):
    """A deterministic "translator" that misbehaves on purpose for chosen answers.

    Args:
        drop: ``(tgt, answer)``: the marked passage of that answer loses its markers.
        garble: ``(tgt, answer)``: the answer translated alone does not occur in the
            passage (unrecoverable).
        recase: ``(tgt, answer)``: the answer translated alone comes back upper-cased
            (recoverable case-insensitively only).
    """

    def __init__(self, drop=(), garble=(), recase=()):
        self.drop, self.garble, self.recase = set(drop), set(garble), set(recase)
        self.received: list[str] = []

    @property
    def pairs(self):
        return ["en-de", "en-es"]

    def _translate(self, texts, src, tgt):
        self.received += texts
        return [self._one(text, tgt) for text in texts]

    def _one(self, text, tgt):
        if OPEN_MARK in text:
            inner = text[text.index(OPEN_MARK) + 2:text.index(CLOSE_MARK)]
            if (tgt, inner) in self.drop:
                text = text.replace(OPEN_MARK, "").replace(CLOSE_MARK, "")
        elif (tgt, text) in self.garble:
            return shift(text, tgt) + " (sic)"
        elif (tgt, text) in self.recase:
            return shift(text, tgt).upper()
        return shift(text, tgt)


def example(qid, question, context, answer):
    return Instance(qid, "en", "Demo", question, context, answer, context.index(answer))


LIGHTHOUSE = "The lighthouse was built by Alan Stevenson in 1844."
RIVER = "The river flows into the bay near the old town."
EXAMPLES = [
    example("q1", "Who built the lighthouse?", LIGHTHOUSE, "Alan Stevenson"),
    example("q2", "When was the lighthouse built?", LIGHTHOUSE, "1844"),
    example("q3", "Where does the river flow?", RIVER, "into the bay"),
    example("q4", "What grows on hills?", "Tea grows on hills. Tea is popular.", "Tea"),
    example("q5", "Where is Paris?", "Paris is in France.", "in France"),
    example("q6", "What is near the town?", RIVER, "the old town"),
]
# de: q2 and q4 lose their markers but are recovered (q4 case-insensitively), q3 is lost.
# es: q1 is recovered, q5 and q6 are lost.
DROP = {("de", "1844"), ("de", "into the bay"), ("de", "Tea"),
        ("es", "Alan Stevenson"), ("es", "in France"), ("es", "the old town")}
GARBLE = {("de", "into the bay"), ("es", "in France"), ("es", "the old town"),
          ("de", "Alan Stevenson")}  # q1 in de keeps its markers: never translated alone
RECASE = {("de", "Tea")}


@pytest.fixture()
def cipher():
    return CipherTranslator(DROP, GARBLE, RECASE)


def test_kept_recovered_and_skipped_per_language(cipher):
    de = translate_examples(cipher, EXAMPLES, "de")
    es = translate_examples(cipher, EXAMPLES, "es")
    assert [i.status for i in de] == [MARKERS, RECOVERED, SKIPPED, RECOVERED, MARKERS, MARKERS]
    assert [i.status for i in es] == [RECOVERED, MARKERS, MARKERS, MARKERS, SKIPPED, SKIPPED]
    stats = count_instances(de + es, "en", len(EXAMPLES), ["de", "es"])
    assert [s.row() for s in stats] == [
        {"language": "en", "instances": 6, "skip_ratio": None, "kept_by_markers": 0,
         "recovered": 0, "skipped": 0, "input": 6},
        {"language": "de", "instances": 5, "skip_ratio": 1 / 6, "kept_by_markers": 3,
         "recovered": 2, "skipped": 1, "input": 6},
        {"language": "es", "instances": 4, "skip_ratio": 2 / 6, "kept_by_markers": 3,
         "recovered": 1, "skipped": 2, "input": 6},
    ]
    assert table3_markdown(stats).splitlines()[2:] == [
        "| en | 6 | - | - | - | - |",
        "| de | 5 | 0.1667 | 3 | 2 | 1 |",
        "| es | 4 | 0.3333 | 3 | 1 | 2 |",
    ]


def test_translated_spans_are_exact_and_clean(cipher):
    de = translate_examples(cipher, EXAMPLES, "de")
    for source, inst in zip(EXAMPLES, de):
        assert inst.id == source.id and inst.lang == "de"
        assert inst.question == shift(source.question, "de")
        # A skipped instance keeps the plain translated passage (Dual BERT's source side).
        assert inst.context == shift(source.context, "de")
        assert OPEN_MARK not in inst.context and CLOSE_MARK not in inst.context
        if inst.kept:
            assert inst.context[inst.answer_start:inst.answer_start + len(inst.answer)] == \
                inst.answer == shift(source.answer, "de")
        else:
            assert (inst.answer, inst.answer_start) == ("", -1)


def test_recovery_translates_each_passage_once_and_only_when_needed(cipher):
    translate_examples(cipher, EXAMPLES, "es")
    plain = [t for t in cipher.received if t in {e.context for e in EXAMPLES}]
    # es recovers q1 (LIGHTHOUSE), q5 and q6 (RIVER): three distinct passages, once each.
    assert sorted(plain) == sorted({LIGHTHOUSE, "Paris is in France.", RIVER})
    assert "Who built the lighthouse?" in cipher.received
    assert "1844" not in cipher.received  # kept by markers: no separate answer needed


def test_blank_translated_question_is_skipped():
    class BlankQuestions(CipherTranslator):
        def _one(self, text, tgt):
            return " " if text.endswith("?") else super()._one(text, tgt)

    out = translate_examples(BlankQuestions(), EXAMPLES[:2], "de")
    assert [i.status for i in out] == [SKIPPED, SKIPPED]


def test_unsupported_pair_names_it(cipher):
    with pytest.raises(TranslationError, match="unsupported language pair en-fr"):
        translate_examples(cipher, EXAMPLES, "fr")


# --------------------------------------------------------------------------- mixing


def versions_of(cipher, langs=("de", "es")):
    out = {e.id: {"en": e} for e in EXAMPLES}
    for lang in langs:
        for inst in translate_examples(cipher, EXAMPLES, lang):
            out[inst.id][lang] = inst
    return out


def test_mixed_pairs_cross_languages_with_exact_spans(cipher):
    versions = versions_of(cipher)
    langs = ["en", "de", "es"]
    pairs = mix_example(versions["q1"], langs)  # kept in all three languages
    assert [(p.question_lang, p.context_lang) for p in pairs] == [
        ("en", "de"), ("en", "es"), ("de", "en"), ("de", "es"), ("es", "en"), ("es", "de")]
    for p in pairs:
        assert p.id == f"q1.q-{p.question_lang}.c-{p.context_lang}"
        assert p.question == versions["q1"][p.question_lang].question
        assert p.context == versions["q1"][p.context_lang].context
        assert p.context[p.answer_start:p.answer_start + len(p.answer)] == p.answer
    # q3 is skipped in de: de takes no part, neither as question nor as passage.
    assert [(p.question_lang, p.context_lang) for p in mix_example(versions["q3"], langs)] == \
        [("en", "es"), ("es", "en")]
    # q5 and q6 are skipped in es; only en-de pairs remain.
    assert len(mix_example(versions["q5"], langs)) == 2


def test_pair_cap_samples_with_the_seed_and_example_id(cipher):
    versions = versions_of(cipher)["q1"]
    langs = ["en", "de", "es"]
    first = mix_example(versions, langs, max_pairs=2, seed=7)
    assert len(first) == 2 and first == mix_example(dict(reversed(versions.items())), langs,
                                                    max_pairs=2, seed=7)
    samples = {tuple(p.id for p in mix_example(versions, langs, max_pairs=2, seed=s))
               for s in range(20)}
    assert len(samples) > 1  # the seed changes the sample
    assert len(mix_example(versions, langs, max_pairs=10)) == 6


def test_squad_files_read_back_with_languages(cipher, tmp_path):
    versions = versions_of(cipher)
    pairs = [p for v in versions.values() for p in mix_example(v, ["en", "de", "es"])]
    path = tmp_path / "mixed.json"
    path.write_text(json.dumps(to_squad(pairs), ensure_ascii=False), encoding="utf-8")
    report = BadRecords()
    examples = read_squad(path, report=report)
    assert report.total == 0 and len(examples) == len(pairs) == 6 + 6 + 2 + 6 + 2 + 2
    by_id = {e.id: e for e in examples}
    raw = {qa["id"]: (qa, paragraph["lang"]) for a in json.loads(path.read_text())["data"]
           for paragraph in a["paragraphs"] for qa in paragraph["qas"]}
    for p in pairs:
        assert by_id[p.id].lang == p.context_lang == raw[p.id][1]
        assert raw[p.id][0]["question_lang"] == p.question_lang
        assert raw[p.id][0]["context_lang"] == p.context_lang
        assert by_id[p.id].answers == [{"text": p.answer, "answer_start": p.answer_start}]


@pytest.mark.parametrize("keep_skipped", [False, True])
def test_keep_skipped_writes_every_question_once(cipher, tmp_path, keep_skipped):
    """Dual BERT's source side: every question once, a lost span without answers; the
    mixMRC training file holds the kept instances only."""
    from rayqa.augment.mixmrc_job import write_outputs
    from rayqa.train.dual_bert_job import read_pairs

    versions = versions_of(cipher)
    stats = count_instances([v[lang] for v in versions.values() for lang in ("de", "es")],
                            "en", len(EXAMPLES), ["de", "es"])
    cfg = MixMRCJobConfig(output_dir=str(tmp_path / "out"), source_files=["unused.json"],
                          target_langs=["de", "es"], keep_skipped=keep_skipped,
                          translator=TranslatorConfig(kind="marian", models={"en-de": "m"}))
    write_outputs(cfg, versions, stats, BadRecords())
    report = BadRecords()
    de = read_squad(tmp_path / "out" / "translated.de.json", require_answers=False,
                    report=report)
    assert report.total == 0
    if not keep_skipped:
        assert sorted(e.id for e in de) == ["q1", "q2", "q4", "q5", "q6"]  # q3 lost in de
        return
    assert sorted(e.id for e in de) == [e.id for e in EXAMPLES]
    by_id = {e.id: e for e in de}
    assert by_id["q3"].answers == [] and by_id["q3"].context == shift(RIVER, "de")
    assert by_id["q3"].question == shift("Where does the river flow?", "de")
    # As Dual BERT's source file: all six paired, q3 without a source span.
    target = write_source(tmp_path / "target.json", EXAMPLES)
    counts = {}
    pairs = read_pairs([FilePair(target=DataFile(path=str(target), lang="en"),
                                 source=DataFile(lang="de", path=str(tmp_path / "out" /
                                                          "translated.de.json")))],
                       strict=True, report=BadRecords(), counts=counts)
    assert counts == {"paired": 6, "without_source": 0}
    assert [bool(p.source.answers) for p in pairs] == [True, True, False, True, True, True]


# --------------------------------------------------------------------------- XQuAD


@pytest.fixture(scope="module")
def xquad_dir(shared_dir):
    return shared_dir / "data" / "xquad"


def xquad_sources(xquad_dir, limit=None):
    cfg = MixMRCJobConfig(output_dir="unused", source_files=[str(xquad_dir / "xquad.en.json")],
                          target_langs=["de"], translator=TranslatorConfig(
                              kind="parallel", xquad_dir=str(xquad_dir), langs=["en", "de"]))
    return read_sources(cfg, BadRecords())[:limit]


def test_parallel_corpus_gives_human_translations_as_exact_spans(xquad_dir):
    sources = xquad_sources(xquad_dir)
    translator = ParallelTranslator.from_xquad(xquad_dir, ["en", "de", "zh"])
    for lang in ("de", "zh"):
        human = {qa["id"]: (qa, paragraph["context"]) for a in json.loads(
            (xquad_dir / f"xquad.{lang}.json").read_text(encoding="utf-8"))["data"]
            for paragraph in a["paragraphs"] for qa in paragraph["qas"]}
        out = translate_examples(translator, sources, lang)
        assert all(i.status == RECOVERED for i in out)
        elsewhere = 0
        for inst in out:
            qa, context = human[inst.id]
            assert (inst.question, inst.context) == (qa["question"].strip(), context)
            assert inst.answer == qa["answers"][0]["text"]
            assert context[inst.answer_start:inst.answer_start + len(inst.answer)] == inst.answer
            elsewhere += inst.answer_start != qa["answers"][0]["answer_start"]
        # A repeated answer text is located near the English answer's place: the human
        # annotators' occurrence in all but a few of 1190 (first occurrence: 35-58).
        assert elsewhere <= 0.01 * len(out), (lang, elsewhere)


def test_translate_step_on_a_plain_batch(xquad_dir):
    """The Ray Data step without a cluster: numpy columns in, one row per input row out."""
    sources = xquad_sources(xquad_dir, 3)
    step = MixMRCTranslate(TranslatorConfig(kind="parallel", xquad_dir=str(xquad_dir),
                                            langs=["en", "de", "zh"]))
    rows = [(s, tgt) for s in sources for tgt in ("zh", "de")]
    batch = {name: np.array([getattr(s, name) for s, _ in rows])
             for name in ("id", "lang", "title", "question", "context", "answer",
                          "answer_start", "status")}
    batch["tgt"] = np.array([tgt for _, tgt in rows])
    out = step(batch)
    assert out["id"] == [s.id for s, _ in rows] and out["lang"] == ["zh", "de"] * 3
    assert out["status"] == [RECOVERED] * 6


def test_translator_for_actors_is_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "en-de").mkdir()
    cfg = translator_for_actors(TranslatorConfig(kind="parallel", xquad_dir="xquad",
                                                 models={"en-de": "en-de"}))
    assert cfg.xquad_dir == str(tmp_path.resolve() / "xquad")
    assert cfg.models == {"en-de": str(tmp_path.resolve() / "en-de")}
    uri = TranslatorConfig(kind="parallel", xquad_dir="s3://bucket/xquad")
    assert translator_for_actors(uri) == uri


@pytest.mark.ray
def test_relative_xquad_dir_reaches_the_actors(ray_local, xquad_dir, tmp_path, monkeypatch):
    """The actors do not run in the driver's working directory, where `xquad` is."""
    local = tmp_path / "xquad"
    local.mkdir()
    for lang in ("en", "de"):
        data = json.loads((xquad_dir / f"xquad.{lang}.json").read_text(encoding="utf-8"))
        (local / f"xquad.{lang}.json").write_text(json.dumps({"data": data["data"][:1]}),
                                                  encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    cfg = MixMRCJobConfig(output_dir="out", source_files=["xquad/xquad.en.json"],
                          target_langs=["de"], translator=TranslatorConfig(
                              kind="parallel", xquad_dir="xquad", batch_size=8))
    sources = read_sources(cfg, BadRecords())[:4]
    assert [t.status for t in translate_all(cfg, sources)] == [RECOVERED] * 4


def write_source(path, examples, extra_qas=()):
    """A SQuAD file of the given examples plus raw qa dicts (for bad records)."""
    paragraphs = [{"context": e.context, "qas": [{"id": e.id, "question": e.question,
                                                  "answers": [{"text": e.answer,
                                                               "answer_start": e.answer_start}]}]}
                  for e in examples]
    paragraphs.append({"context": "Only a passage.", "qas": list(extra_qas)})
    path.write_text(json.dumps({"data": [{"title": "Demo", "paragraphs": paragraphs}]}),
                    encoding="utf-8")
    return path


def test_bad_source_records_are_counted(tmp_path):
    first = write_source(tmp_path / "a.json", EXAMPLES[:4], [
        {"id": "e1", "question": "  ", "answers": [{"text": "a", "answer_start": 0}]},
        {"id": "e2", "question": "Which?", "answers": [{"text": "zebra", "answer_start": 2}]},
        {"id": "e3", "question": "Which?", "answers": [{"text": " ", "answer_start": 4}]},
    ])
    second = write_source(tmp_path / "b.json", EXAMPLES[3:])  # q4 again
    cfg = MixMRCJobConfig(output_dir=str(tmp_path / "out"), source_files=[str(first),
                          str(second)], target_langs=["de"], translator=TranslatorConfig(
                              kind="marian", models={"en-de": "unused"}))
    report = BadRecords()
    sources = read_sources(cfg, report)
    assert [s.id for s in sources] == [e.id for e in EXAMPLES]
    assert report.counts == {"empty_question": 1, "answer_mismatch": 1, "no_answer_span": 1,
                             "empty_answer": 1, "duplicate_id": 1}


def test_config_rejects_bad_languages(tmp_path):
    path = tmp_path / "job.yaml"
    path.write_text("output_dir: o\nsource_files: [a.json]\ntarget_langs: [de, en]\n"
                    "translator: {models: {en-de: m}}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="target_langs must be distinct"):
        load_config(MixMRCJobConfig, path)
    with pytest.raises(ConfigError, match="is not source_lang"):
        load_config(MixMRCJobConfig, path, ["target_langs=[de]",
                                            "source_files=[{path: a.json, lang: de}]"])


def test_unsupported_pair_fails_before_any_ray_work(xquad_dir, tmp_path):
    from jobs.make_mixmrc import main

    argv = ["--config", "configs/mixmrc.yaml", f"output_dir={tmp_path / 'out'}",
            f"source_files=[{xquad_dir / 'xquad.en.json'}]", f"translator.xquad_dir={xquad_dir}",
            "target_langs=[de, fr]"]
    with pytest.raises(TranslationError, match="does not support en-fr"):
        main(argv)
    cfg = load_config(MixMRCJobConfig, argv[1], argv[2:])
    with pytest.raises(TranslationError, match="does not support en-fr"):
        make_mixmrc(cfg)  # the library function the CLI calls checks first too
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- Ray Data jobs


def check_outputs(out, summary, langs, num_source, cap=None):
    """Files and table agree: instances + skipped = input, files hold the kept instances,
    mixed.json holds n * (n - 1) pairs (at most ``cap``) of an example kept in n languages."""
    with (out / "table3.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["language"] for r in rows] == langs
    assert json.loads((out / "table3.json").read_text()) == summary
    assert (out / "table3.md").read_text().count("\n") == len(langs) + 2
    assert (out / "rayqa_config.yaml").is_file()
    kept = {langs[0]: num_source}
    kept_in: dict[str, int] = {}  # example id -> languages it was kept in
    for row in summary["rows"][1:]:
        assert row["instances"] + row["skipped"] == row["input"] == num_source
        assert row["instances"] == row["kept_by_markers"] + row["recovered"]
        report = BadRecords()
        translated = read_squad(out / f"translated.{row['language']}.json", report=report)
        assert report.total == 0 and len(translated) == row["instances"]
        assert {e.lang for e in translated} <= {row["language"]}
        kept[row["language"]] = row["instances"]
        for e in translated:
            kept_in[e.id] = kept_in.get(e.id, 1) + 1
    report = BadRecords()
    mixed = read_squad(out / "mixed.json", report=report)
    assert report.total == 0 and len(mixed) == sum(summary["mixed_pairs"].values())
    assert len(mixed) == sum(min(n * (n - 1), cap or n * n) for n in kept_in.values())
    for e in mixed:
        question_lang, context_lang = e.id.split(".q-")[1].split(".c-")
        assert question_lang != context_lang == e.lang
        assert e.context[e.answers[0]["answer_start"]:].startswith(e.answers[0]["text"])
    return kept, mixed


@pytest.mark.ray
def test_xquad_job_end_to_end(ray_local, xquad_dir, tmp_path):
    from jobs.make_mixmrc import main

    out = tmp_path / "out"
    summary = main(["--config", "configs/mixmrc.yaml", f"output_dir={out}",
                    f"source_files=[{xquad_dir / 'xquad.en.json'}]",
                    f"translator.xquad_dir={xquad_dir}", "target_langs=[de, zh]",
                    "translator.langs=[en, de, zh]", "max_pairs_per_example=4"])
    kept, mixed = check_outputs(out, summary, ["en", "de", "zh"], 1190, cap=4)
    assert kept == {"en": 1190, "de": 1190, "zh": 1190}  # human answers are exact spans
    assert summary["rows"][1]["recovered"] == 1190 and summary["bad_records"]["total"] == 0
    assert len(mixed) == 1190 * 4 and set(summary["mixed_pairs"]) == \
        {"en-de", "en-zh", "de-en", "de-zh", "zh-en", "zh-de"}


EN_TEXTS = [e.question for e in EXAMPLES] + [e.context for e in EXAMPLES]


@pytest.fixture(scope="module")
def tiny_marian(tmp_path_factory):
    from rayqa.testing.tiny_seq2seq import build_tiny_marian

    tmp = tmp_path_factory.mktemp("mixmrc_marian")
    return {f"en-{lang}": str(build_tiny_marian(EN_TEXTS, [shift(t, lang) for t in EN_TEXTS],
                                                tmp / lang)) for lang in ("de", "es")}


@pytest.mark.ray
def test_marian_job_through_ray_data(ray_local, tiny_marian, tmp_path):
    from jobs.make_mixmrc import main

    source = write_source(tmp_path / "train.json", EXAMPLES)
    out = tmp_path / "out"
    models = ", ".join(f"{pair}: {path}" for pair, path in tiny_marian.items())
    summary = main(["--config", "configs/mixmrc.yaml", f"output_dir={out}",
                    f"source_files=[{source}]", "target_langs=[de, es]",
                    "translator.kind=marian", "translator.xquad_dir=null",
                    "translator.langs=null", f"translator.models={{{models}}}",
                    "translator.max_new_tokens=12", "translator.batch_size=4"])
    kept, mixed = check_outputs(out, summary, ["en", "de", "es"], len(EXAMPLES))
    # Untrained models may lose or keep any answer; the kept ones must pair up fully.
    assert summary["bad_records"]["total"] == 0
    assert set(kept) == {"en", "de", "es"} and len(mixed) <= 6 * len(EXAMPLES)


@pytest.mark.ray
def test_inputs_and_output_on_s3_match_a_local_run(ray_local, xquad_dir, s3_dir, tmp_path):
    from jobs.make_mixmrc import main
    from rayqa import storage

    for lang in ("en", "de"):  # two paragraphs of XQuAD, on S3 and here
        data = json.loads((xquad_dir / f"xquad.{lang}.json").read_text(encoding="utf-8"))
        small = json.dumps({"data": [{**data["data"][0],
                                      "paragraphs": data["data"][0]["paragraphs"][:2]}]})
        (tmp_path / f"xquad.{lang}.json").write_text(small, encoding="utf-8")
        storage.write_text(f"{s3_dir}/in/xquad.{lang}.json", small)
    runs = {}
    for source, out in ((str(tmp_path), str(tmp_path / "out")),
                        (f"{s3_dir}/in", f"{s3_dir}/out")):
        runs[source] = main(["--config", "configs/mixmrc.yaml", f"output_dir={out}",
                             f"source_files=[{source}/xquad.en.json]", "target_langs=[de]",
                             f"translator.xquad_dir={source}", "translator.langs=[en, de]"])
        assert storage.is_file(f"{out}/rayqa_config.yaml")
    local, remote = runs.values()
    assert remote == local and local["rows"][1]["instances"] > 0
    for name in ("translated.de.json", "mixed.json", "table3.md", "table3.csv", "table3.json"):
        assert storage.read_bytes(f"{s3_dir}/out/{name}") == (
            tmp_path / "out" / name).read_bytes(), name
