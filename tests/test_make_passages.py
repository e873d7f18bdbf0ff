"""`jobs/make_passages.py` end to end: Ray Data chunking of article files, and XQuAD."""

import json
import re
import sys
from pathlib import Path

import pytest

from rayqa import storage
from rayqa.corpus.build import passage_files
from rayqa.data.passages import read_passages
from rayqa.data.records import DataError
from tests.conftest import REPO

sys.path.insert(0, str(REPO / "jobs"))
from make_passages import main  # noqa: E402

pytestmark = pytest.mark.ray

SENTENCE = "Paris is the capital and most populous city of France, on the Seine. "
ARTICLES = [
    {"id": "1", "title": "Paris", "text": SENTENCE * 25, "lang": "en"},
    {"id": "2", "title": "Tiny", "text": "Too short.", "lang": "en"},
    {"id": "3", "title": "Mercury (disambiguation)", "text": SENTENCE * 3, "lang": "en"},
    {"id": "4", "title": "巴黎", "text": "巴黎是法国的首都和最大城市，位于塞纳河畔。" * 30},
]
GERMAN = "Paris ist die Hauptstadt von Frankreich und liegt an der Seine. "
DOC = '<doc id="7" url="u" title="Paris">\nParis\n\n' + GERMAN * 20 + "\n</doc>\n"


@pytest.fixture()
def inputs(tmp_path):
    lines = [json.dumps(a, ensure_ascii=False) for a in ARTICLES]
    lines.insert(2, "{not json")
    (tmp_path / "a.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "wiki" / "AA").mkdir(parents=True)
    (tmp_path / "wiki" / "AA" / "wiki_00").write_text(DOC, encoding="utf-8")
    (tmp_path / "links.jsonl").write_text(
        '{"entity": "Q90", "lang": "en", "id": "1"}\n'
        '{"entity": "Q90", "lang": "de", "title": "Paris"}\n', encoding="utf-8")
    return tmp_path


def run_job(root, *overrides, output=None):
    """Runs the job on the inputs under ``root`` (a directory or URI) into ``root/out``."""
    return main(["--config", str(REPO / "configs" / "passages.yaml"), "xquad_dir=null",
                 f"output_dir={output or f'{root}/out'}",
                 (f"article_files=[{{path: {root}/a.jsonl, lang: zh}}, "
                  f"{{path: {root}/wiki, lang: de, format: wikiextractor}}]"),
                 f"language_links={root}/links.jsonl", "num_actors=2",
                 "cpus_per_actor=0.5", *overrides])


def test_job_writes_passages_stats_and_links(ray_local, inputs):
    out = Path(run_job(inputs))
    passages = [p for f in passage_files(out) for p in read_passages(f, strict=True)]
    by_lang = {}
    for p in passages:
        by_lang.setdefault(p.lang, []).append(p)
    assert sorted(by_lang) == ["de", "en", "zh"]
    assert {p.article_id for p in by_lang["en"] + by_lang["de"]} == {"Q90"}
    assert {p.article_id for p in by_lang["zh"]} == {"zh:4"}
    assert len({p.id for p in passages}) == len(passages)
    texts = {a["id"]: a["text"] for a in ARTICLES}
    assert all(p.text in texts["1"] for p in by_lang["en"])
    assert len(by_lang["en"]) == 4  # 325 words: 100 + 100 + 100 + 25
    stats = json.loads((out / "stats.json").read_text(encoding="utf-8"))
    assert stats["dropped"] == {"short": {"en": 1}, "disambiguation": {"en": 1}}
    assert stats["articles"] == {"en": 3, "zh": 1, "de": 1}
    assert stats["passages"] == {lang: len(ps) for lang, ps in by_lang.items()}
    assert stats["bad_records"]["counts"] == {"broken_json": 1}
    assert stats["bad_records"]["examples"][0]["line"] == 3
    assert stats["segmenters"]["zh"] == "jieba"
    assert (out / "language_links.jsonl").is_file() and (out / "rayqa_config.yaml").is_file()

    run_job(inputs)  # a rerun replaces the shards instead of appending to them
    again = [p for f in passage_files(out) for p in read_passages(f)]
    assert sorted(p.id for p in again) == sorted(p.id for p in passages)


def test_strict_job_names_the_bad_line(ray_local, inputs):
    with pytest.raises(DataError, match=re.escape(f"{inputs / 'a.jsonl'}:3: broken_json")):
        run_job(inputs, "strict=true")


# In a process of its own: pytest keeps the log records of a test, and Ray Data logs its
# wrapped error with the frames that hold the actor pool.
FAILED_RUN_RELEASES_ITS_ACTORS = """
import sys, time
sys.path[:0] = [{repo!r}, {tests!r}]
import ray
from test_make_passages import run_job
ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
try:
    run_job({root!r}, "strict=true")
except Exception as err:
    kept = err  # as a caller that keeps the error would
deadline = time.monotonic() + 60
while ray.available_resources().get("CPU", 0) < 2 and time.monotonic() < deadline:
    time.sleep(0.5)
print("CPU", ray.available_resources().get("CPU", 0), type(kept).__name__)
"""


@pytest.mark.ray
def test_a_failed_run_frees_its_actors_while_its_error_is_kept(inputs):
    """A Ray Train fit after a failed job waited forever for the CPUs of the failed
    job's actor pool while anything kept the error (make test hung on it)."""
    import os
    import subprocess

    code = FAILED_RUN_RELEASES_ITS_ACTORS.format(repo=str(REPO), tests=str(REPO / "tests"),
                                                 root=str(inputs))
    env = {**os.environ, "RAY_TMPDIR": str(inputs / "ray")}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.stdout.strip().splitlines()[-1:] == ["CPU 2.0 DataError"], \
        (done.stdout + done.stderr)[-3000:]


def test_job_builds_the_xquad_collection(shared_dir, tmp_path):
    out = Path(main(["--config", str(REPO / "configs" / "passages.yaml"),
                     f"xquad_dir={shared_dir / 'data' / 'xquad'}", f"output_dir={tmp_path}",
                     "xquad_langs=[en, zh, th]"]))
    passages = read_passages(out / "passages.jsonl", strict=True)
    assert {p.lang for p in passages} == {"en", "zh", "th"}
    questions = (out / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(questions) == 3 * 1190
    assert (out / "rayqa_config.yaml").is_file()


def read_output(out):
    """The passages (sorted by id), stats, links and config files of a job's output."""
    passages = sorted((p.to_dict() for f in passage_files(out) for p in read_passages(f)),
                      key=lambda p: p["id"])
    return (passages, json.loads(storage.read_text(f"{out}/stats.json")),
            storage.read_text(f"{out}/language_links.jsonl"),
            storage.is_file(f"{out}/rayqa_config.yaml"))


def test_inputs_and_output_on_s3_match_a_local_run(ray_local, inputs, s3_dir):
    storage.upload_dir(inputs, f"{s3_dir}/in")
    local = read_output(run_job(inputs))
    remote = read_output(run_job(f"{s3_dir}/in", output=f"{s3_dir}/out"))
    # Bad records name the files as given.
    local[1]["bad_records"]["examples"][0]["path"] = f"{s3_dir}/in/a.jsonl"
    assert remote == local and local[0] and local[3]
