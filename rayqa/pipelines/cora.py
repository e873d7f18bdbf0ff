"""CORA iterative training (paper Algorithm 1) as one resumable job.

Every round ``r`` runs these stages, each writing under ``<output_dir>/round_<r>/``:

    mdpr       train mDPR (round 0 from the initial data: each question with its gold
               passage; later rounds continue from the previous round's encoders on the
               initial data plus every mined positive and negative) -> mdpr/final
    index      encode the collection with the newest passage encoder (Ray Data actor
               pool, resumable embedding shards) into a FAISS index -> index/
    retrieve   top-k passages of every training question with this round's query
               encoder, of every dev question with round 0's (the inference setup)
               -> retrieved.{train,dev}.jsonl
    mgen       train mGEN on the retrieved passages plus synthetic data (English
               questions, target-language tag, translated answer) -> mgen/final
    evaluate   dev R^L@k / R^multi@k and mGEN EM/F1 per language -> metrics.json
    mine       (not in the last round) candidates = retrieved passages and, for English
               questions, passages of the language-linked articles; each labeled by
               mGEN given that passage alone -> mining/labels.jsonl

A stage that finished leaves ``<stage>.done`` (its summary as JSON) and is skipped by a
rerun; ``state.json`` says where the job is. A killed mDPR or mGEN training resumes from
its last checkpoint through its Ray Train run name (``mdpr_round<r>``, ``mgen_round<r>``);
a killed encoding keeps its finished shards. The job ends with ``results.md`` and
``results.csv``: the per-language metrics of every round, like the paper's tables.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

from rayqa.config import (
    CORAJobConfig,
    DataConfig,
    DataFile,
    EncoderConfig,
    IndexJobConfig,
    MDPRDataConfig,
    MDPRJobConfig,
    MGENJobConfig,
    save_config,
)
from rayqa.corpus.language_links import LanguageLinks
from rayqa.data.passages import read_passages
from rayqa.data.records import (
    BadRecord,
    BadRecords,
    iter_jsonl,
    log_report,
    missing_fields,
    reject,
)
from rayqa.mining.cora import (
    AnswerTranslator,
    PassageTable,
    dpr_rows,
    label_candidates,
    mining_candidates,
    synthetic_rows,
)

STATE_FILE = "state.json"
STAGES = ("mdpr", "index", "retrieve", "mgen", "evaluate", "mine")
FINAL = "final"


def read_questions(path: str | Path, strict: bool, report: BadRecords) -> list[dict]:
    """Open-QA questions (JSONL ``{"id", "question", "lang", "answers": [...]}`` plus
    optional ``gold_passage_ids``, ``gold_article_id`` and a parallel key); bad lines
    are counted (strict mode raises)."""
    before, out = report.total, []
    for number, obj in iter_jsonl(path, report, strict):
        missing = missing_fields(obj, ("id", "question", "lang", "answers"))
        answers = obj.get("answers")
        if missing or not isinstance(answers, list) or not answers:
            reject(report, strict, BadRecord(str(path), "missing_field" if missing else
                                             "no_answers", number, detail=", ".join(missing)))
            continue
        out.append({**obj, "id": str(obj["id"]), "answers": [str(a) for a in answers]})
    log_report(path, report, before)
    return out


def write_jsonl(rows: Iterable[Mapping], path: Path) -> Path:
    """Writes rows as JSON Lines, atomically (a killed write leaves no half file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as out:
        out.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    tmp.replace(path)
    return path


def read_jsonl(path: Path) -> list[dict]:
    """Rows of a JSON Lines file this pipeline wrote."""
    with open(path, encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


class CORAPipeline:
    """Runs (or resumes) CORA iterative training as `cfg` says.

    Args:
        cfg: The job config; Ray must be initialized before `run`.
    """

    def __init__(self, cfg: CORAJobConfig):
        self.cfg = cfg
        self.out = Path(cfg.output_dir)
        self.report = BadRecords()
        self.table = PassageTable(read_passages(cfg.passages_file, cfg.strict, self.report))
        self.train = read_questions(cfg.train_questions, cfg.strict, self.report)
        self.dev = (read_questions(cfg.dev_questions, cfg.strict, self.report)
                    if cfg.dev_questions else [])
        if not self.train:
            raise ValueError(f"{cfg.train_questions}: no usable training questions")
        links = (LanguageLinks.read(cfg.language_links, cfg.strict, self.report)
                 if cfg.language_links else None)
        self.translator = AnswerTranslator(self.train + self.dev, cfg.mining.parallel_key, links)
        _log(f"{len(self.table.by_id)} passages, {len(self.train)} training and "
             f"{len(self.dev)} dev questions; {self.report.summary()}")

    # ------------------------------------------------------------------ driver

    def run(self) -> Path:
        """Runs every round's missing stages; returns the output directory."""
        save_config(self.cfg, self.out)
        for r in range(self.cfg.rounds):
            for stage in self.stages(r):
                if self.done(r, stage) is None:
                    self._write_state(r, stage, "running")
                    start = time.perf_counter()
                    summary = getattr(self, f"stage_{stage}")(r)
                    summary["seconds"] = round(time.perf_counter() - start, 1)
                    self._mark(r, stage, summary)
                    _log(f"round {r} {stage}: {summary}")
                else:
                    _log(f"round {r} {stage}: done before, skipped")
        self._write_state(self.cfg.rounds - 1, None, "finished")
        self.write_results()
        return self.out

    def stages(self, r: int) -> list[str]:
        """The stages of round `r`: no mining after the last round, no evaluation without
        dev questions."""
        return [s for s in STAGES if not (s == "mine" and r == self.cfg.rounds - 1)
                and not (s == "evaluate" and not self.dev)]

    def round_dir(self, r: int) -> Path:
        """``<output_dir>/round_<r>``."""
        return self.out / f"round_{r}"

    def done(self, r: int, stage: str) -> dict | None:
        """The summary of a finished stage, or None when it has not finished."""
        marker = self.round_dir(r) / f"{stage}.done"
        return json.loads(marker.read_text(encoding="utf-8")) if marker.is_file() else None

    def _mark(self, r: int, stage: str, summary: dict) -> None:
        self.round_dir(r).mkdir(parents=True, exist_ok=True)
        marker = self.round_dir(r) / f"{stage}.done"
        tmp = marker.with_name(f".{marker.name}.tmp")
        tmp.write_text(json.dumps(summary, indent=1), encoding="utf-8")
        tmp.replace(marker)
        self._write_state(r, stage, "done")

    def _write_state(self, r: int, stage: str | None, status: str) -> None:
        state = {"rounds": self.cfg.rounds, "round": r, "stage": stage, "status": status,
                 "finished": {f"round_{i}": [s for s in self.stages(i) if self.done(i, s)]
                              for i in range(self.cfg.rounds)}}
        self.out.mkdir(parents=True, exist_ok=True)
        (self.out / STATE_FILE).write_text(json.dumps(state, indent=1), encoding="utf-8")

    # ------------------------------------------------------------------ stages

    def stage_mdpr(self, r: int) -> dict:
        """Trains mDPR on the initial data plus everything mined in rounds before `r`."""
        from rayqa.train.mdpr_job import train_mdpr

        labels = [row for i in range(r)
                  for row in read_jsonl(self.round_dir(i) / "mining" / "labels.jsonl")]
        rows, missing = dpr_rows(self.train, self.table, labels)
        train_file = write_jsonl(rows, self.round_dir(r) / "mdpr_train.jsonl")
        dev_rows, _ = dpr_rows(self.dev, self.table, [])
        dev_files = ([DataFile(path=str(write_jsonl(dev_rows, self.round_dir(r) / "mdpr_dev.jsonl")))]
                     if dev_rows else [])
        start = (self.cfg.mdpr.encoder.name_or_path if r == 0
                 else str(self.round_dir(r - 1) / "mdpr" / FINAL))
        job = MDPRJobConfig(
            output_dir=str(self.round_dir(r) / "mdpr"),
            encoder=self.cfg.mdpr.encoder.model_copy(update={"name_or_path": start}),
            data=MDPRDataConfig(train_files=[DataFile(path=str(train_file))], dev_files=dev_files,
                                hard_negatives=self.cfg.mdpr.hard_negatives,
                                strict=self.cfg.strict),
            train=self.cfg.mdpr.train.model_copy(update={"run_name": f"mdpr_round{r}"}))
        train_mdpr(job)
        return {"train_lines": len(rows), "mined_labels": len(labels),
                "questions_without_gold": missing, "start": start}

    def stage_index(self, r: int) -> dict:
        """Encodes the collection with this round's passage encoder into a FAISS index."""
        from rayqa.retrieval.build import build_index

        pool = self.cfg.retrieval
        encoder = EncoderConfig(
            name_or_path=str(self.round_dir(r) / "mdpr" / FINAL / "passage_encoder"),
            max_length=self.cfg.mdpr.encoder.max_passage_length, pooling="cls",
            batch_size=pool.batch_size, num_actors=pool.num_actors,
            cpus_per_actor=pool.cpus_per_actor, use_gpu=pool.use_gpu, shard_mb=pool.shard_mb)
        build_index(IndexJobConfig(output_dir=str(self.round_dir(r) / "index"),
                                   passages_files=[DataFile(path=self.cfg.passages_file)],
                                   encoder=encoder, index=pool.index, strict=self.cfg.strict))
        return {"passages": len(self.table.by_id), "encoder": encoder.name_or_path}

    def stage_retrieve(self, r: int) -> dict:
        """Retrieves for training (this round's query encoder) and dev questions (round
        0's query encoder, as at inference)."""
        from rayqa.pipelines.batch_retrieval import retrieve_ray

        model, mining = self.cfg.mgen.model, self.cfg.mining
        index = self.round_dir(r) / "index"
        max_query = self.cfg.mdpr.encoder.max_query_length
        k_train = max(model.train_passages, mining.retrieved_candidates, 1)
        found = retrieve_ray(self.train, self._query_encoder(r), index, k_train,
                             self.cfg.retrieval, max_query)
        write_jsonl(_with_ctxs(self.train, found), self.round_dir(r) / "retrieved.train.jsonl")
        summary = {"train_questions": len(found), "k_train": k_train}
        if self.dev:
            k_dev = max(model.eval_passages, *self.cfg.retrieval.recall_ks)
            found = retrieve_ray(self.dev, self._query_encoder(0), index, k_dev,
                                 self.cfg.retrieval, max_query)
            write_jsonl(_with_ctxs(self.dev, found), self.round_dir(r) / "retrieved.dev.jsonl")
            summary.update(dev_questions=len(found), k_dev=k_dev)
        return summary

    def _query_encoder(self, r: int) -> Path:
        return self.round_dir(r) / "mdpr" / FINAL / "query_encoder"

    def stage_mgen(self, r: int) -> dict:
        """Trains mGEN on the top-k retrieved passages plus synthetic examples."""
        from rayqa.train.mgen_job import train_mgen

        model, mining = self.cfg.mgen.model, self.cfg.mining
        retrieved = read_jsonl(self.round_dir(r) / "retrieved.train.jsonl")
        rows = [{**row, "ctxs": row["ctxs"][:model.train_passages]} for row in retrieved]
        synthetic = []
        if mining.synthetic:
            synthetic = synthetic_rows(self.train, {row["id"]: row["ctxs"] for row in rows},
                                       self.translator, mining.synthetic_langs,
                                       mining.synthetic_max_langs, mining.seed + r)
        train_file = write_jsonl(rows + synthetic, self.round_dir(r) / "mgen_train.jsonl")
        start = model.name_or_path if r == 0 else str(self.round_dir(r - 1) / "mgen" / FINAL)
        job = MGENJobConfig(
            output_dir=str(self.round_dir(r) / "mgen"),
            model=model.model_copy(update={"name_or_path": start}),
            data=DataConfig(train_files=[DataFile(path=str(train_file))], strict=self.cfg.strict),
            train=self.cfg.mgen.train.model_copy(update={"run_name": f"mgen_round{r}"}))
        train_mgen(job)
        return {"examples": len(rows), "synthetic": len(synthetic), "start": start}

    def stage_evaluate(self, r: int) -> dict:
        """Dev retrieval recall (R^L@k, R^multi@k) and mGEN EM/F1 per language."""
        from rayqa.eval import retrieval_recall, score_by_language
        from rayqa.eval.report import language_breakdown, plot_language_breakdown
        from rayqa.pipelines.batch_retrieval import generate_ray

        rows = read_jsonl(self.round_dir(r) / "retrieved.dev.jsonl")
        gold = [{"lang": q["lang"], "answers": self.translator.translations(q)} for q in self.dev]
        recall = retrieval_recall(gold, [row["ctxs"] for row in rows], self.cfg.retrieval.recall_ks)
        k = self.cfg.mgen.model.eval_passages
        inputs = [{**row, "ctxs": row["ctxs"][:k]} for row in rows]
        predictions = dict(zip([row["id"] for row in rows],
                               generate_ray(inputs, self.round_dir(r) / "mgen" / FINAL,
                                            self.cfg.mining)))
        generation = score_by_language(self.dev, predictions)
        metrics = {"retrieval": recall, "mgen": generation,
                   "query_encoder": str(self._query_encoder(0)),
                   "passage_encoder": str(self.round_dir(r) / "mdpr" / FINAL / "passage_encoder")}
        directory = self.round_dir(r)
        (directory / "predictions.json").write_text(
            json.dumps(predictions, ensure_ascii=False, indent=1), encoding="utf-8")
        (directory / "metrics.json").write_text(json.dumps(metrics, indent=1), encoding="utf-8")
        breakdown = language_breakdown(self.dev, [row["ctxs"] for row in rows], k=k)
        plot_language_breakdown(breakdown, directory / "retrieved_languages.png",
                                title=f"round {r}: languages of the top {k} passages")
        top = max(self.cfg.retrieval.recall_ks)
        return {f"R^L@{top}": recall["avg"][f"R^L@{top}"],
                f"R^multi@{top}": recall["avg"][f"R^multi@{top}"],
                "f1": _mean(v["f1"] for v in generation.values())}

    def stage_mine(self, r: int) -> dict:
        """Mines candidates and labels them with this round's mGEN (Algorithm 1 l. 6-8)."""
        from rayqa.pipelines.batch_retrieval import generate_ray

        mining = self.cfg.mining
        retrieved = {row["id"]: row["ctxs"]
                     for row in read_jsonl(self.round_dir(r) / "retrieved.train.jsonl")}
        candidates = mining_candidates(
            self.train, retrieved, self.table, self.translator,
            retrieved_candidates=mining.retrieved_candidates,
            language_links=mining.language_links, max_link_candidates=mining.max_link_candidates)
        inputs = [{"question": c.question, "lang": c.lang, "ctxs": [c.passage]}
                  for c in candidates]
        labeled = label_candidates(candidates,
                                   generate_ray(inputs, self.round_dir(r) / "mgen" / FINAL, mining))
        write_jsonl([c.to_dict() for c in labeled], self.round_dir(r) / "mining" / "labels.jsonl")
        summary = {"candidates": len(labeled), "positives": sum(c.positive for c in labeled)}
        for source in {c.source for c in labeled}:
            group = [c for c in labeled if c.source == source]
            summary[source] = {"candidates": len(group), "positives": sum(c.positive for c in group)}
        return summary

    # ------------------------------------------------------------------ report

    def write_results(self) -> tuple[Path, Path] | None:
        """``results.md`` / ``results.csv``: per round and language, mGEN EM/F1 and
        retrieval recall at every cut-off."""
        from rayqa.eval.report import results_table

        runs: dict[str, dict] = {}
        for r in range(self.cfg.rounds):
            path = self.round_dir(r) / "metrics.json"
            if not path.is_file():
                continue
            metrics = json.loads(path.read_text(encoding="utf-8"))
            for name in ("f1", "exact_match"):
                runs[f"round {r} mGEN {name}"] = {lang: m[name] for lang, m in metrics["mgen"].items()}
            for k in self.cfg.retrieval.recall_ks:
                for kind in ("L", "multi"):
                    runs[f"round {r} R^{kind}@{k}"] = {
                        lang: m[f"R^{kind}@{k}"] for lang, m in metrics["retrieval"].items()
                        if lang != "avg"}
        if not runs:
            return None
        return results_table(runs).write(self.out, "results")


def _with_ctxs(questions: list[dict], found: list[list[dict]]) -> list[dict]:
    return [{"id": q["id"], "question": q["question"], "lang": q["lang"],
             "answers": q["answers"], "ctxs": ctxs} for q, ctxs in zip(questions, found)]


def _mean(values: Iterable[float]) -> float | None:
    values = list(values)
    return sum(values) / len(values) if values else None


def run_cora(cfg: CORAJobConfig) -> Path:
    """Runs or resumes CORA iterative training; returns the output directory."""
    return CORAPipeline(cfg).run()


def _log(message: str) -> None:
    print(f"[rayqa.cora] {message}", flush=True)
