"""Integration: `jobs/build_index.main` on the shared local Ray over ~40 passages in
several scripts (cut into several units of work), then the index read back through
`FaissIndex` and `Retriever`; and the same build with every artifact on S3 (moto)."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from rayqa import storage
from rayqa.config import EncoderConfig
from rayqa.data.records import DataError
from rayqa.storage import read_manifest
from rayqa.testing.tiny import build_tiny_reader
from rayqa.retrieval.encode import encode_passages_local
from rayqa.retrieval.faiss_index import FaissIndex
from rayqa.retrieval.retriever import Retriever

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "jobs"))
import build_index as job  # noqa: E402

pytestmark = pytest.mark.ray

# (lang, title, text): five or more passages per script, each with its own keywords.
PASSAGES = [
    ("en", "Eiffel Tower", "The Eiffel Tower is a wrought-iron lattice tower in Paris."),
    ("en", "Photosynthesis", "Photosynthesis converts sunlight into chemical energy."),
    ("en", "Amazon River", "The Amazon River carries more water than any other river."),
    ("en", "Mount Everest", "Mount Everest is the highest mountain above sea level."),
    ("en", "Penicillin", "Alexander Fleming discovered penicillin in 1928."),
    ("en", "Jupiter", "Jupiter is the largest planet of the solar system."),
    ("en", "Chess", "Chess is a board game for two players on a checkered board."),
    ("en", "Volcano", "A volcano erupts molten lava, ash and gases."),
    ("de", "Rhein", "Der Rhein fließt durch Basel, Köln und Düsseldorf."),
    ("de", "Zugspitze", "Die Zugspitze ist der höchste Berg Deutschlands."),
    ("de", "Brandenburger Tor", "Das Brandenburger Tor steht in Berlin."),
    ("de", "Bier", "Das Reinheitsgebot regelt die Zutaten von Bier."),
    ("de", "Autobahn", "Auf vielen Abschnitten der Autobahn gibt es kein Tempolimit."),
    ("fr", "Louvre", "Le Louvre abrite la Joconde de Léonard de Vinci."),
    ("fr", "Fromage", "Le camembert est un fromage de Normandie."),
    ("fr", "Tour de France", "Le Tour de France est une course cycliste en juillet."),
    ("fr", "Versailles", "Le château de Versailles fut la résidence de Louis XIV."),
    ("fr", "Mistral", "Le mistral est un vent froid de la vallée du Rhône."),
    ("es", "Flamenco", "El flamenco es un arte andaluz de cante, toque y baile."),
    ("es", "Sagrada Familia", "La Sagrada Familia de Gaudí está en Barcelona."),
    ("es", "Paella", "La paella valenciana lleva arroz, azafrán y conejo."),
    ("es", "Cervantes", "Miguel de Cervantes escribió Don Quijote de la Mancha."),
    ("es", "Andes", "La cordillera de los Andes recorre Sudamérica."),
    ("ru", "Байкал", "Байкал — самое глубокое озеро в мире."),
    ("ru", "Гагарин", "Юрий Гагарин первым полетел в космос в 1961 году."),
    ("ru", "Эрмитаж", "Эрмитаж находится в Санкт-Петербурге."),
    ("ru", "Балет", "Большой театр известен своим балетом."),
    ("ru", "Тайга", "Тайга покрывает большую часть Сибири."),
    ("zh", "长城", "长城是中国古代的军事防御工程。"),
    ("zh", "大熊猫", "大熊猫主要生活在四川的竹林里。"),
    ("zh", "故宫", "故宫是明清两代的皇家宫殿，位于北京。"),
    ("zh", "茶", "中国是茶的故乡，绿茶产量最大。"),
    ("zh", "长江", "长江是亚洲最长的河流。"),
    ("ar", "الأهرامات", "تقع أهرامات الجيزة قرب القاهرة في مصر."),
    ("ar", "البتراء", "البتراء مدينة أثرية منحوتة في الصخر في الأردن."),
    ("ar", "النخيل", "تزرع أشجار النخيل في الواحات لإنتاج التمر."),
    ("hi", "ताजमहल", "ताजमहल आगरा में यमुना नदी के किनारे स्थित है।"),
    ("hi", "गंगा", "गंगा नदी हिमालय से निकलती है।"),
    ("hi", "क्रिकेट", "क्रिकेट भारत का सबसे लोकप्रिय खेल है।"),
    ("hi", "दिवाली", "दिवाली रोशनी का त्योहार है।"),
]
BAD_LINES = {5: "{broken json", 12: '{"id": "no-text", "lang": "en"}'}  # 1-based line numbers


def _rows():
    return [{"id": f"{lang}-{i}", "title": title, "text": text, "lang": lang,
             "article_id": f"a{i}"} for i, (lang, title, text) in enumerate(PASSAGES)]


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """The passages file (with bad lines), a tiny encoder and the job config."""
    tmp = tmp_path_factory.mktemp("build")
    lines = [json.dumps(row, ensure_ascii=False) for row in _rows()]
    for number, bad in sorted(BAD_LINES.items()):
        lines.insert(number - 1, bad)
    passages = tmp / "passages.jsonl"
    passages.write_text("\n".join(lines) + "\n", encoding="utf-8")
    encoder = build_tiny_reader([f"{t} {x}" for _, t, x in PASSAGES], tmp / "encoder",
                                vocab_size=800)
    config = tmp / "index.yaml"
    config.write_text(yaml.safe_dump({
        "output_dir": str(tmp / "index"), "passages_files": [str(passages)],
        # About 1 KB per unit: the file is read in several byte ranges.
        "encoder": {"name_or_path": str(encoder), "max_length": 64, "batch_size": 8,
                    "min_actors": 1, "max_actors": 2, "cpus_per_actor": 0.5,
                    "shard_mb": 0.001},
    }), encoding="utf-8")
    return {"config": config, "passages": passages, "encoder": str(encoder),
            "out": tmp / "index"}


@pytest.fixture(scope="module")
def built(setup, ray_local):
    return Path(job.main(["--config", str(setup["config"])]))


def test_manifest_and_outputs(setup, built):
    assert built == setup["out"]
    manifest = read_manifest(built)
    assert len(manifest["passages"]["files"]) > 2  # several units
    assert (manifest["count"], manifest["dim"]) == (len(PASSAGES), 64)
    assert manifest["encoder"]["name_or_path"] == setup["encoder"]
    assert (built / "rayqa_config.yaml").is_file()
    assert sorted(p.name for p in (built / "bm25").iterdir() if p.is_dir()) == \
        ["ar", "de", "en", "es", "fr", "hi", "ru", "zh"]


def test_bad_lines_are_counted_not_dropped_silently(built):
    report = json.loads((built / "bad_records.json").read_text(encoding="utf-8"))
    assert report["total"] == 2
    assert report["counts"] == {"broken_json": 1, "missing_field": 1}
    assert sorted(e["line"] for e in report["examples"]) == sorted(BAD_LINES)


def test_dense_search_of_a_passage_embedding_returns_that_passage(setup, built):
    """Ray's embeddings, in row order, equal the single-process ones."""
    cfg = EncoderConfig(name_or_path=setup["encoder"], max_length=64, batch_size=16)
    vectors = encode_passages_local(_rows(), cfg)
    _, found = FaissIndex.load(built).search(vectors, k=1)
    np.testing.assert_array_equal(found[:, 0], np.arange(len(PASSAGES)))


@pytest.mark.parametrize("question,lang,expected", [
    ("Who discovered penicillin?", "en", "Penicillin"),
    ("Wo steht das Brandenburger Tor?", "de", "Brandenburger Tor"),
    ("故宫在哪里？", "zh", "故宫"),
    ("Где находится Эрмитаж?", None, "Эрмитаж"),
    ("أين تقع البتراء؟", "ar", "البتراء"),
])
def test_bm25_finds_by_keyword(built, question, lang, expected):
    hits = Retriever(built, mode="bm25").search([question], [lang], top_k=3)[0]
    assert hits[0]["title"] == expected


def test_hybrid_search_returns_passages_with_text(built):
    hits = Retriever(built, mode="hybrid", device="cpu").search(
        ["Mount Everest", "ताजमहल कहाँ है?"], ["en", "hi"], top_k=5)
    assert [len(h) for h in hits] == [5, 5]
    assert {"Mount Everest", "ताजमहल"} <= {h["title"] for q in hits for h in q}
    assert all(h["text"] for q in hits for h in q)


def test_strict_mode_fails_naming_file_and_line(setup, ray_local):
    # Units are encoded in parallel, so the bad line met first is either one.
    with pytest.raises(DataError, match=rf"{setup['passages'].name}:(5: broken_json|"
                                        r"12: missing_field: text)"):
        job.main(["--config", str(setup["config"]), "strict=true",
                  f"output_dir={setup['out']}-strict"])


def test_every_artifact_on_s3(setup, ray_local, s3_dir):
    """Passages and output on S3: actors read and write the bucket, the retriever reads
    a verified cached copy of it."""
    passages = storage.join(s3_dir, "in", "passages.jsonl")
    storage.write_bytes(passages, setup["passages"].read_bytes())
    out = job.main(["--config", str(setup["config"]), f"output_dir={s3_dir}/index",
                    f"passages_files=[{passages}]"])
    assert out == f"{s3_dir}/index"
    assert read_manifest(out)["count"] == len(PASSAGES)
    report = json.loads(storage.read_text(storage.join(out, "bad_records.json")))
    assert sorted(e["line"] for e in report["examples"]) == sorted(BAD_LINES)
    retriever = Retriever(out, mode="hybrid", device="cpu")
    assert not (retriever.local_dir / "embeddings").exists()  # build state stays remote
    hits = retriever.search(["Who discovered penicillin?"], ["en"], top_k=3)[0]
    assert "Penicillin" in {h["title"] for h in hits}
