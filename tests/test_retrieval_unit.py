"""Retrieval without Ray: FAISS indexes and manifests, BM25 per language, the encoder
step on plain batches, the passage store, and the retriever's modes over a small index
built in process."""

import json
import shutil

import numpy as np
import pytest

from rayqa.config import EncoderConfig, IndexJobConfig
from rayqa.data.passages import Passage
from rayqa.storage import MANIFEST_FILE, read_manifest
from rayqa.testing.tiny import build_tiny_reader
from rayqa.retrieval.bm25 import BM25Index, MultilingualBM25, bm25_tokens
from rayqa.retrieval.build import write_index
from rayqa.retrieval.embedding_shards import EmbeddingShards, Unit
from rayqa.retrieval.encode import TextEncoder, UnitEncoder, encode_passages_local
from rayqa.retrieval.faiss_index import FaissIndex
from rayqa.retrieval.retriever import Retriever, rrf

PASSAGES = [
    Passage("en-1", "The Eiffel Tower is a wrought-iron tower in Paris.", "en", "Eiffel Tower"),
    Passage("en-2", "Photosynthesis turns sunlight into chemical energy in plants.", "en",
            "Photosynthesis"),
    Passage("de-1", "Der Rhein fließt durch Basel, Köln und Düsseldorf.", "de", "Rhein"),
    Passage("de-2", "Die Zugspitze ist der höchste Berg Deutschlands.", "de", "Zugspitze"),
    Passage("zh-1", "长城是中国古代的军事防御工程。", "zh", "长城"),
    Passage("zh-2", "熊猫主要生活在四川的竹林里。", "zh", "大熊猫"),
    Passage("hi-1", "ताजमहल आगरा में यमुना नदी के किनारे स्थित है।", "hi", "ताजमहल"),
    Passage("ru-1", "Байкал — самое глубокое озеро в мире.", "ru", "Байкал"),
]


@pytest.fixture(scope="module")
def encoder_dir(tmp_path_factory):
    """A tiny BERT checkpoint whose tokenizer knows the test passages' scripts."""
    texts = [f"{p.title} {p.text}" for p in PASSAGES]
    return str(build_tiny_reader(texts, tmp_path_factory.mktemp("encoder"), vocab_size=500))


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory, encoder_dir):
    """A complete index directory built without Ray (local encoding)."""
    out = tmp_path_factory.mktemp("index")
    cfg = IndexJobConfig(output_dir=str(out), passages_files=[],
                         encoder=EncoderConfig(name_or_path=encoder_dir, max_length=64))
    write_index(out, PASSAGES, encode_passages_local([p.to_dict() for p in PASSAGES],
                                                     cfg.encoder), cfg)
    return out


def _unit_vectors(n=300, dim=16, seed=0):
    vectors = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.mark.parametrize("factory,params", [("Flat", ""), ("IVF4,Flat", "nprobe=4"),
                                            ("HNSW16", "efSearch=64")])
def test_faiss_index_finds_each_vector_itself_after_save_and_load(tmp_path, factory, params):
    vectors = _unit_vectors()
    ids = np.arange(len(vectors)) + 1000  # search must return the given ids, not positions
    index = FaissIndex(factory, train_sample=200, search_params=params).build(vectors, ids)
    index.save(tmp_path)
    loaded = FaissIndex.load(tmp_path)
    assert (loaded.ntotal, loaded.dim) == (300, 16)
    for searched in (index, loaded):
        scores, found = searched.search(vectors[:50], k=3)
        assert found.shape == scores.shape == (50, 3)
        np.testing.assert_array_equal(found[:, 0], ids[:50])
        np.testing.assert_allclose(scores[:, 0], 1.0, rtol=1e-4)  # inner product with itself
        assert np.all(np.diff(scores, axis=1) <= 1e-6)


def test_faiss_index_pads_with_minus_one_and_checks_query_shape():
    index = FaissIndex().build(_unit_vectors(n=3))
    scores, found = index.search(_unit_vectors(n=1), k=5)
    assert list(found[0, 3:]) == [-1, -1]
    with pytest.raises(ValueError, match=r"\[n, 16\]"):
        index.search(np.zeros((1, 8), np.float32), k=1)


def test_ivf_with_too_few_vectors_fails_clearly():
    with pytest.raises(ValueError, match="IVF64,Flat.*cannot be trained on 10"):
        FaissIndex("IVF64,Flat").build(_unit_vectors(n=10))


def test_manifest_records_facts_and_rejects_changed_files(tmp_path):
    (tmp_path / "passages.jsonl").write_text('{"id": "a"}\n{"id": "b"}\n', encoding="utf-8")
    FaissIndex().build(_unit_vectors(n=2)).save(tmp_path, {"encoder": {"pooling": "cls"}},
                                                ("passages.jsonl",))
    manifest = read_manifest(tmp_path)
    assert (manifest["count"], manifest["dim"], manifest["factory"]) == (2, 16, "Flat")
    assert manifest["encoder"] == {"pooling": "cls"}
    assert set(manifest["files"]) == {"faiss.index", "passages.jsonl"}

    (tmp_path / "passages.jsonl").write_text('{"id": "a"}\n', encoding="utf-8")  # truncated
    with pytest.raises(ValueError, match=r"passages\.jsonl: sha256 differs"):
        FaissIndex.load(tmp_path)


def test_manifest_rejects_edited_index_and_wrong_count(tmp_path):
    FaissIndex().build(_unit_vectors(n=4)).save(tmp_path)
    index_file = tmp_path / "faiss.index"
    data = bytearray(index_file.read_bytes())
    data[-1] ^= 0xFF
    index_file.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"faiss\.index: sha256 differs"):
        FaissIndex.load(tmp_path)

    FaissIndex().build(_unit_vectors(n=4)).save(tmp_path)
    manifest = json.loads((tmp_path / MANIFEST_FILE).read_text())
    manifest["count"] = 5
    (tmp_path / MANIFEST_FILE).write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match=r"faiss\.index: count 4 but .*manifest\.json says 5"):
        FaissIndex.load(tmp_path)


def test_manifest_missing_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="no manifest"):
        FaissIndex.load(tmp_path)


def test_bm25_tokens_words_for_spaced_and_character_ngrams_for_unspaced_scripts():
    assert bm25_tokens("The Eiffel Tower, in Paris!", "en") == ["eiffel", "tower", "paris"]
    # Devanagari vowel signs are marks: the words must stay whole.
    assert bm25_tokens("ताजमहल आगरा", "hi") == ["ताजमहल", "आगरा"]
    assert bm25_tokens("长城iPhone", "zh") == ["长", "城", "长城", "iphone"]
    assert bm25_tokens("ไทย", "th") == ["ไ", "ท", "ย", "ไท", "ทย"]


@pytest.mark.parametrize("query,lang,expected", [
    ("Where is the Eiffel tower?", "en", "en-1"),
    ("Wie hoch ist die Zugspitze?", "de", "de-2"),
    ("长城是什么？", "zh", "zh-1"),
    ("熊猫生活在哪里", "zh", "zh-2"),
    ("ताजमहल कहाँ है?", "hi", "hi-1"),
    ("Байкал", None, "ru-1"),  # unknown language: every index, merged by score
    ("Байкал", "xx", "ru-1"),  # a language without passages behaves the same
])
def test_bm25_per_language_finds_the_passage(tmp_path, query, lang, expected):
    bm25 = MultilingualBM25.build([p.title for p in PASSAGES], [p.text for p in PASSAGES],
                                  [p.lang for p in PASSAGES])
    bm25.save(tmp_path)
    loaded = MultilingualBM25.load(tmp_path)
    assert sorted(loaded.indexes) == ["de", "en", "hi", "ru", "zh"]
    hits = loaded.search(query, lang, k=3)
    assert PASSAGES[hits[0][0]].id == expected
    assert all(score > 0 for _, score in hits)


def test_bm25_searches_only_the_questions_language():
    index = BM25Index("en").build(["alpha beta", "gamma"], rows=[7, 9])
    hits = index.search(["gamma", "delta"], k=5)
    assert [[row for row, _ in query_hits] for query_hits in hits] == [[9], []]
    bm25 = MultilingualBM25.build(["", ""], ["Paris France", "Paris Frankreich"], ["en", "de"])
    assert [row for row, _ in bm25.search("Paris", "de", k=5)] == [1]


def test_unit_encoder_step_reads_encodes_and_writes_a_unit(tmp_path, encoder_dir):
    """The Ray Data step on a plain batch: one byte range of a file in, a unit out."""
    lines = [json.dumps(p.to_dict(), ensure_ascii=False) for p in PASSAGES]
    lines.insert(2, "{broken")
    source = tmp_path / "passages.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    second = len("\n".join(lines[:4]).encode()) + 1  # the range from line 5 to the end
    shards = EmbeddingShards(str(tmp_path / "index"))
    units = [Unit(0, str(source), 0, second), Unit(1, str(source), second, source.stat().st_size)]
    shards.prepare(units, {"encoder": "tiny"})
    step = UnitEncoder(str(tmp_path / "index"), strict=False, batch_size=2, num_threads=1,
                       name_or_path=encoder_dir, max_length=32, pooling="mean", device="cpu")
    out = step({"unit": np.array([json.dumps(units[1].to_dict())])})
    assert (list(out["unit"]), list(out["count"]), list(out["error"])) == ([1], [5], [""])
    assert [u.number for u in shards.missing()] == [0]
    step({"unit": np.array([json.dumps(units[0].to_dict())])})
    first, rest = shards.manifests()
    assert (first["count"], first["lines"], first["bad"]["counts"]) == (3, 4, {"broken_json": 1})
    assert first["bad"]["examples"][0]["line"] == 3 and rest["lines"] == 5
    cfg = EncoderConfig(name_or_path=encoder_dir, max_length=32, pooling="mean", batch_size=2)
    local = encode_passages_local([p.to_dict() for p in PASSAGES[3:]], cfg)
    np.testing.assert_allclose(shards.vectors(1), local, atol=1e-5)

    strict = UnitEncoder(str(tmp_path / "index"), strict=True, batch_size=2, num_threads=1,
                         name_or_path=encoder_dir, max_length=32, device="cpu")
    error = strict({"unit": np.array([json.dumps(units[0].to_dict())])})["error"][0]
    assert (json.loads(error)["line"], json.loads(error)["reason"]) == (3, "broken_json")


def test_pooling_modes_differ_and_batches_agree(encoder_dir):
    titles, texts = ["Paris", "长城"], ["The Eiffel Tower " * 50, "长城是中国古代的军事防御工程。"]
    cls = TextEncoder(encoder_dir, max_length=32, pooling="cls", device="cpu")
    mean = TextEncoder(encoder_dir, max_length=32, pooling="mean", device="cpu")
    vectors = cls.encode_passages(titles, texts)
    assert vectors.dtype == np.float32 and vectors.shape == (2, 64)
    assert not np.allclose(mean.encode_passages(titles, texts), vectors)
    np.testing.assert_allclose(cls.encode_passages_batched(titles, texts, 1), vectors, atol=1e-5)


def test_passage_input_keeps_the_title_when_the_text_is_cut(encoder_dir):
    encoder = TextEncoder(encoder_dir, max_length=16, device="cpu")
    ids = encoder.tokenizer("Eiffel Tower", "Paris " * 100, truncation="only_second",
                            max_length=16)["input_ids"]
    assert len(ids) == 16
    assert encoder.tokenizer.decode(ids).startswith("[CLS] Eiffel Tower [SEP]")


def test_retriever_modes(index_dir):
    questions, langs = ["Where is the Eiffel Tower?", "长城"], ["en", "zh"]
    dense = Retriever(index_dir, mode="dense", device="cpu").search(questions, langs, top_k=8)
    sparse = Retriever(index_dir, mode="bm25").search(questions, langs, top_k=8)
    hybrid = Retriever(index_dir, mode="hybrid", device="cpu").search(questions, langs, top_k=3)

    assert [len(hits) for hits in dense] == [8, 8]  # dense spans every language
    assert set(dense[0][0]) == {"id", "title", "text", "lang", "score"}
    assert [hits[0]["id"] for hits in sparse] == ["en-1", "zh-1"]
    assert {h["lang"] for h in sparse[1]} == {"zh"}  # BM25 stays in the question's language
    row_of = {p.id: row for row, p in enumerate(PASSAGES)}
    for d, s, h in zip(dense, sparse, hybrid):  # hybrid = RRF of the two full lists
        lists = [[(row_of[x["id"]], x["score"]) for x in hits] for hits in (d, s)]
        assert [x["id"] for x in h] == [PASSAGES[row].id for row, _ in rrf(lists)[:3]]


def test_retriever_memory_maps_its_cpu_index_and_answers_the_same(index_dir):
    questions = ["Where is the Eiffel Tower?", "长城"]
    mapped = Retriever(index_dir, mode="dense", device="cpu")
    in_memory = Retriever(index_dir, mode="dense", device="cpu", mmap=False)
    # A GPU search copy is made from an in-memory read, so only CPU search maps.
    assert mapped.dense.mapped == (not mapped.dense.use_gpu)
    assert not in_memory.dense.mapped
    assert mapped.search(questions, None, 8) == in_memory.search(questions, None, 8)


def test_retriever_validates_arguments(index_dir):
    retriever = Retriever(index_dir, mode="bm25")
    with pytest.raises(ValueError, match="top_k must be >= 1"):
        retriever.search(["x"], ["en"], top_k=0)
    with pytest.raises(ValueError, match="1 questions but 2 languages"):
        retriever.search(["x"], ["en", "de"], top_k=1)
    with pytest.raises(ValueError, match="mode must be one of"):
        Retriever(index_dir, mode="sparse")


def test_retriever_refuses_an_index_whose_passages_changed(index_dir, tmp_path):
    copy = tmp_path / "index"
    shutil.copytree(index_dir, copy)
    with open(copy / "passages" / "unit-00000.arrow", "ab") as f:
        f.write(b"x")
    with pytest.raises(ValueError, match=r"unit-00000\.arrow: sha256 differs"):
        Retriever(copy, mode="bm25")


def test_passage_store_finds_rows_by_id_and_passages_by_row(index_dir):
    store = Retriever(index_dir, mode="bm25").passages
    assert len(store) == len(PASSAGES)
    for row, passage in enumerate(PASSAGES):
        assert store.row_of(passage.id) == row
        assert store[row] == passage
    assert store.row_of("missing") is None
    with pytest.raises(IndexError):
        store[len(PASSAGES)]


def test_rrf_sums_reciprocal_ranks():
    fused = rrf([[(1, 9.0), (2, 8.0)], [(2, 0.5), (3, 0.4)]], k=60)
    assert [row for row, _ in fused] == [2, 1, 3]
    assert fused[0][1] == pytest.approx(1 / 62 + 1 / 61)


def test_bi_encoder_index_queries_with_its_query_encoder(tmp_path):
    """An index over mDPR's passage encoder records the sibling query encoder."""
    from rayqa.config import EncoderConfig
    from rayqa.retrieval.build import encoder_facts
    from rayqa.retrieval.retriever import load_query_encoder

    for side in ("query_encoder", "passage_encoder"):
        (tmp_path / side).mkdir()
    facts = encoder_facts(EncoderConfig(name_or_path=str(tmp_path / "passage_encoder")))
    assert facts["query_name_or_path"] == str((tmp_path / "query_encoder").resolve())
    assert "query_name_or_path" not in encoder_facts(EncoderConfig(name_or_path=str(tmp_path)))
    with pytest.raises(OSError, match="round0"):  # the override wins over the manifest
        load_query_encoder({"encoder": facts}, "cpu", override=str(tmp_path / "round0"))
    # CORA names round 0's query encoder for a later round's passage encoder.
    (tmp_path / "round0").mkdir()
    named = encoder_facts(EncoderConfig(name_or_path=str(tmp_path / "passage_encoder"),
                                        query_name_or_path=str(tmp_path / "round0")))
    assert named["query_name_or_path"] == str((tmp_path / "round0").resolve())
    hub = encoder_facts(EncoderConfig(name_or_path=str(tmp_path),
                                      query_name_or_path="org/question-encoder"))
    assert hub["query_name_or_path"] == "org/question-encoder"
