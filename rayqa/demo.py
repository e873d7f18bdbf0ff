"""``make demo`` / ``rayqa demo``: the whole system end to end on embedded defaults.

1. mine LAKM knowledge phrases from the shipped search log with Ray Data,
2. build a tiny multilingual BERT (tokenizer trained on the demo corpus and passages),
3. fine-tune it as an extractive reader with Ray Train + DeepSpeed (2 workers) on the
   training questions and their rewordings, in copies whose sentences are shuffled,
   LAKM batches (knowledge-phrase masking) in turn with the MRC batches,
4. encode and index the demo passages with Ray Data (FAISS + BM25 per language),
5. start Ray Serve on 127.0.0.1 and ask dev questions (none trained on) over HTTP, the
   reader reading the top passage,
6. shut everything down.

The console shows the stages, rayqa's progress lines and the answers; the rest of the
output (Ray's, DeepSpeed's and transformers', from the driver and every worker) goes
to ``<workdir>/demo.log``, which the demo names.

The models are trained from scratch in minutes, so they only know the demo corpus;
real quality comes from the pretrained checkpoints named in ``configs/``.
"""

from __future__ import annotations

import io
import json
import os
import sys
import time
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import TextIO

from rayqa import storage
from rayqa.augment.sentence_order import sentence_order_copies
from rayqa.config import IndexJobConfig, PhraseMiningConfig, ReaderJobConfig, build_config
from rayqa.data.squad import read_squad, write_squad

DEMO_DATA = resources.files("rayqa") / "resources" / "demo"


# What the demo asks over HTTP: one question of dev.json per language. Dev questions
# reword train questions about the same paragraphs, so the reader has read the answer
# but never trained on the question.
DEMO_QUESTION_IDS = (
    "demo-lighthouse-en-dev2",
    "demo-river-de-dev2",
    "demo-bicycle-es-dev1",
    "demo-festival-fr-dev2",
    "demo-railway-zh-dev1",
    "demo-mountain-ru-dev2",
    "demo-market-ar-dev1",
    "demo-bees-hi-dev1",
)


# Passages the reader reads per question: the top one. BM25 ranks the paragraph holding
# the answer first for every demo question, while a reader trained from scratch on 96
# paragraphs, never on one without its answer, scores spans of the others as highly.
TOP_K = 1


def demo_file(name: str) -> str:
    """Path of a file of the shipped demo corpus."""
    return str(DEMO_DATA / name)


def demo_questions() -> list[dict]:
    """The questions the demo asks: those of ``DEMO_QUESTION_IDS``, read from dev.json.

    Returns:
        ``{"id", "question", "lang", "expected"}`` per question, in that order;
        ``expected`` is its gold answer.
    """
    data = json.loads(Path(demo_file("dev.json")).read_text(encoding="utf-8"))
    dev = {qa["id"]: qa for article in data["data"] for paragraph in article["paragraphs"]
           for qa in paragraph["qas"]}
    return [{"id": qid, "question": dev[qid]["question"], "lang": dev[qid]["lang"],
             "expected": dev[qid]["answers"][0]["text"]} for qid in DEMO_QUESTION_IDS]


# The demo reader's training questions: train.json and two more wordings of each
# (paraphrases.json), in SENTENCE_ORDERS copies whose sentences are shuffled.
TRAIN_FILES = ("train.json", "paraphrases.json")
SENTENCE_ORDERS = 14


def reader_defaults(workdir: Path) -> dict:
    """Reader job for the demo: tiny model, one pass over the sentence-order copies in
    batches of 16, 2 DeepSpeed workers, and one LAKM batch per four MRC batches on the
    mined passages.

    Windows of 160 tokens hold every demo question with its paragraph (143 tokens at
    most); each batch is cut to its longest window.
    """
    return {
        "output_dir": str(workdir / "reader"),
        "model": {"name_or_path": str(workdir / "init"), "max_seq_length": 160,
                  "doc_stride": 64},
        "data": {"train_files": [str(reader_train_file(workdir))],
                 "dev_files": [demo_file("dev.json")]},
        "tasks": [{"name": "mrc"},
                  {"name": "lakm", "files": [str(lakm_passages(workdir))], "ratio": 0.25}],
        "lakm": {"max_seq_length": 128, "stride": 32},
        "train": {"run_name": "demo-reader", "num_workers": 2, "epochs": 1,
                  "batch_size": 16, "lr": 1e-3, "warmup_ratio": 0.05, "weight_decay": 0.0,
                  "log_every": 50, "deepspeed": {"zero_stage": 0}},
    }


def reader_train_file(workdir: Path) -> Path:
    """Where the demo writes its reader's training questions (`write_reader_train_file`)."""
    return workdir / "train_sentence_orders.json"


def write_reader_train_file(workdir: Path) -> int:
    """Writes ``SENTENCE_ORDERS`` sentence-shuffled copies of the ``TRAIN_FILES``
    questions (`rayqa.augment.sentence_order`): a reader that has seen each paragraph in
    one order learns where its answers sit rather than how the question finds them.

    Returns:
        How many questions the file holds.
    """
    examples = [e for name in TRAIN_FILES for e in read_squad(demo_file(name))]
    copies = sentence_order_copies(examples, SENTENCE_ORDERS)
    write_squad(copies, reader_train_file(workdir))
    return len(copies)


def index_defaults(workdir: Path) -> dict:
    """Index job for the demo: the trained reader's encoder, exact FAISS, BM25."""
    return {
        "output_dir": str(workdir / "index"),
        "passages_files": [demo_file("passages.jsonl")],
        "encoder": {"name_or_path": str(workdir / "reader" / "final"), "num_actors": 1},
        "index": {"factory": "Flat", "bm25": True},
    }


def serve_defaults(workdir: Path) -> dict:
    """Serve app args for the demo; BM25 retrieval since the tiny encoder is untrained."""
    return {"index_dir": str(workdir / "index"), "reader_dir": str(workdir / "reader" / "final"),
            "retriever_mode": "bm25"}


def lakm_passages(workdir: Path) -> Path:
    """Where the demo's mined knowledge-phrase passages are."""
    return workdir / "phrases" / "passages.jsonl"


# rayqa's progress lines start with it, also when Ray forwards them from a worker
# behind a "(RayTrainWorker pid=...)" prefix.
PROGRESS_MARK = "[rayqa."


class ProgressFilter(io.TextIOBase):
    """A ``sys.stdout``/``sys.stderr`` stand-in: everything goes to ``log``, and the part
    of each line from ``PROGRESS_MARK`` on goes to ``console`` too."""

    def __init__(self, log: TextIO, console: TextIO):
        self.log, self.console, self.pending = log, console, ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.log.write(text)
        self.pending += text
        *lines, self.pending = self.pending.split("\n")
        for line in lines:
            start = line.find(PROGRESS_MARK)
            if start >= 0:
                self.console.write(f"  {line[start:]}\n")
        return len(text)

    def flush(self) -> None:
        self.log.flush()
        self.console.flush()


@contextmanager
def console_and_log(path: Path):
    """Send this process's output, and that of the processes it starts, to ``path``.

    File descriptors 1 and 2 point at the log (so C++ logs of Ray's core worker and
    child processes land there too), ``sys.stdout``/``sys.stderr`` become
    ``ProgressFilter``s, and the terminal is yielded for the demo's own lines. All is
    restored on exit, so a traceback after it reaches the terminal.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    streams = sys.stdout, sys.stderr
    for stream in streams:
        stream.flush()
    saved = os.dup(1), os.dup(2)
    console = open(os.dup(saved[0]), "w", buffering=1, encoding="utf-8")
    # Both the Python stream and the descriptors append, so their writes interleave
    # whole instead of overwriting each other.
    log_fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o644)
    log = open(path, "a", buffering=1, encoding="utf-8")
    for fd in (1, 2):
        os.dup2(log_fd, fd)
    os.close(log_fd)
    sys.stdout, sys.stderr = ProgressFilter(log, console), ProgressFilter(log, console)
    try:
        yield console
    finally:
        sys.stdout, sys.stderr = streams
        for fd, copy in zip((1, 2), saved):
            os.dup2(copy, fd)
            os.close(copy)
        log.close()
        console.close()


def step(message: str, out: TextIO) -> None:
    print(f"\n=== {message}", file=out, flush=True)


def build_initial_model(workdir: Path) -> Path:
    """The tiny untrained reader the demo fine-tunes (tokenizer from the corpus and the
    LAKM passages)."""
    from rayqa.data.lakm import read_lakm_passages
    from rayqa.testing.tiny import build_tiny_reader

    out = workdir / "init"
    if not (out / "config.json").is_file():
        examples = [e for name in (*TRAIN_FILES, "dev.json") for e in read_squad(demo_file(name))]
        texts = [e.context for e in examples] + [e.question for e in examples]
        texts += [p.text for p in read_lakm_passages(lakm_passages(workdir))]
        build_tiny_reader(texts, out, hidden=128, layers=2, heads=4, intermediate=256)
    return out


def ask(port: int, questions: list[dict], out: TextIO) -> tuple[int, int]:
    """POST each demo question to the running endpoint and print the answers to ``out``.

    Returns:
        How many answers equal the expected one, and how many top passages hold it
        (retrieval and reading judged apart).
    """
    import httpx

    matched = found = 0
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
        for item in questions:
            body = {"question": item["question"], "lang": item["lang"], "top_k": TOP_K}
            reply = client.post("/v1/answer", json=body)
            reply.raise_for_status()
            data = reply.json()
            top = data["passages"][0] if data["passages"] else {"title": "-", "text": ""}
            matched += data["answer"].strip() == item["expected"]
            found += item["expected"] in top["text"]
            print(f"\n[{item['lang']}] Q: {item['question']}\n     A: {data['answer']!r}"
                  f"  (score {data['score']:.2f}; expected {item['expected']!r})\n"
                  f"     top passage: {top['title']}: {top['text'][:110]}...",
                  file=out, flush=True)
    return matched, found


def run_demo(workdir: str | Path = "runs/demo", port: int = 8000,
             epochs: int | None = None) -> int:
    """Run the demo, the rest of its output going to ``<workdir>/demo.log``.

    Args:
        workdir: Where the demo's models, index and log go.
        port: Port of the Serve HTTP proxy on 127.0.0.1.
        epochs: Reader training epochs, if not the demo's.

    Returns:
        How many of the demo questions got the expected answer.
    """
    workdir = Path(workdir).resolve()
    log = workdir / "demo.log"
    began = time.perf_counter()
    with console_and_log(log) as console:
        print(f"rayqa demo: the output of Ray and the libraries goes to {log}", file=console)
        try:
            matched, found, asked = run_stages(workdir, port, epochs, console)
        except BaseException:
            print(f"\ndemo failed; its full output is in {log}", file=console, flush=True)
            raise
    print(f"\ndemo finished in {time.perf_counter() - began:.0f} s; full output in {log}\n"
          f"{matched}/{asked} answers equal the expected ones\n"
          f"{found}/{asked} top passages hold the expected answer", flush=True)
    return matched


def run_stages(workdir: Path, port: int, epochs: int | None,
               out: TextIO) -> tuple[int, int, int]:
    """The five stages, each announced on ``out``; returns how many answers equal the
    expected ones, how many top passages hold them, and how many questions were asked."""
    import ray
    from ray import serve

    from rayqa.mining.phrase_job import mine_phrases
    from rayqa.retrieval.build import build_index
    from rayqa.runtime import init_ray
    from rayqa.serve.app import start
    from rayqa.train.reader_job import train_reader

    init_ray(num_cpus=2)
    step("1/5 mining knowledge phrases from the demo search log with Ray Data", out)
    stats = mine_phrases(demo_file("search_log.jsonl"), lakm_passages(workdir).parent,
                         PhraseMiningConfig())
    print(f"{stats['langs']['all']['passages']} passages with "
          f"{stats['langs']['all']['k_phrases']} knowledge phrases", file=out, flush=True)
    step(f"2/5 building a tiny multilingual reader in {workdir / 'init'}", out)
    build_initial_model(workdir)
    reader_tree = reader_defaults(workdir)
    # A new initial model each run: an earlier run's checkpoints (of another model, maybe
    # another config) must not be resumed, so the reader trains from scratch.
    storage.delete(reader_tree["output_dir"])
    if epochs:
        reader_tree["train"]["epochs"] = epochs
    count = write_reader_train_file(workdir)
    step("3/5 training it with Ray Train + DeepSpeed (2 workers): MRC + LAKM batches in turn",
         out)
    print(f"{count} training questions: {len(TRAIN_FILES)} files x {SENTENCE_ORDERS} "
          f"sentence orders", file=out, flush=True)
    train_reader(build_config(ReaderJobConfig, reader_tree, "demo reader defaults"))
    step("4/5 encoding and indexing the demo passages with Ray Data", out)
    build_index(build_config(IndexJobConfig, index_defaults(workdir), "demo index defaults"))
    step(f"5/5 serving on http://127.0.0.1:{port} and asking the demo questions", out)
    questions = demo_questions()
    try:
        start(serve_defaults(workdir), host="127.0.0.1", port=port)
        matched, found = ask(port, questions, out)
    finally:
        serve.shutdown()
        ray.shutdown()
    return matched, found, len(questions)
