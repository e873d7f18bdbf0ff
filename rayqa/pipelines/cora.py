"""CORA iterative training (paper Algorithm 1) as one resumable job.

Every round ``r`` runs these stages, each writing under ``<output_dir>/round_<r>/``:

    mdpr       train mDPR (round 0 from the initial data: each question with its gold
               passage; later rounds continue from the previous round's encoders on the
               initial data plus every mined positive and negative) -> mdpr/final
    index      encode the collection with the newest passage encoder (Ray Data actor
               pool, resumable embedding shards) into a FAISS index -> index/
    retrieve   top-k passages of every training question with this round's query
               encoder (and the English questions' English passages, for synthetic
               data), of every dev and selection question with round 0's (the
               inference setup)
               -> retrieved.{train,english,dev,selection}.jsonl
    mgen       train mGEN on the retrieved passages plus synthetic data (English
               questions, target-language tag, translated answer, English passages;
               in round 0 from its fourth epoch on), best checkpoint on the selection
               questions -> mgen/final
    evaluate   dev R^L@k / R^multi@k and mGEN EM/F1 per language -> metrics.json
    mine       (not in the last round) candidates = retrieved passages and, for English
               questions, passages of the language-linked articles; each labeled by
               mGEN given that passage alone -> mining/labels.jsonl

Checkpoints are selected on held-out training questions (``selection``: a seeded
share of the training questions by parallel group, or a file), never trained on in
any round: mDPR keeps its best dev average rank on them, mGEN its best dev F1. The
reporting ``dev_questions`` are only evaluated.

A stage that finished leaves ``<stage>.done`` (its summary as JSON) and is skipped by a
rerun; ``state.json`` says where the job is. A killed mDPR or mGEN training resumes from
its last checkpoint through its Ray Train run name (``mdpr_round<r>``, ``mgen_round<r>``);
a killed encoding keeps its finished shards. The job ends with ``results.md`` and
``results.csv``: the per-language metrics of every round, like the paper's tables.

``output_dir`` and the input files are local paths or URIs (``s3://bucket/cora``; see
``rayqa.storage``): every file goes through ``rayqa.storage``, each written whole, and
the locations handed to the sub-jobs are URIs or absolute paths, since their Ray
workers and actors do not run in the driver's working directory.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable

from rayqa import storage
from rayqa.config import (
    CORAJobConfig,
    DataFile,
    EncoderConfig,
    IndexJobConfig,
    MDPRDataConfig,
    MDPRJobConfig,
    MGENJobConfig,
    save_config,
)
from rayqa.config.cora import MGENDataConfig
from rayqa.corpus.language_links import LanguageLinks, write_jsonl
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
    ENGLISH,
    AnswerTranslator,
    PassageTable,
    dpr_rows,
    english_passages,
    label_candidates,
    mining_candidates,
    selection_split,
    synthetic_rows,
)

STATE_FILE = "state.json"
# The mGEN metrics of results.md per scoring rules: the paper's Table 1 (XOR-Full) gives
# F1, EM and BLEU; Table 2 (MKQA) F1.
REPORTED = {"xor": ("f1", "em", "bleu"), "mkqa": ("f1", "exact_match"),
            "mlqa": ("f1", "exact_match")}
STAGES = ("mdpr", "index", "retrieve", "mgen", "evaluate", "mine")
FINAL = "final"
# The config's file and directory locations, made absolute on the driver.
LOCATIONS = ("output_dir", "passages_file", "language_links", "train_questions",
             "dev_questions")


def with_absolute_locations(cfg: CORAJobConfig) -> CORAJobConfig:
    """`cfg` with its local `LOCATIONS` (and `selection.questions`) made absolute; URIs
    stay as they are."""
    selection = cfg.selection
    if selection.questions:
        selection = selection.model_copy(
            update={"questions": storage.absolute(selection.questions)})
    return cfg.model_copy(update={**{key: storage.absolute(getattr(cfg, key))
                                     for key in LOCATIONS if getattr(cfg, key)},
                                  "selection": selection})


def read_questions(path: str | os.PathLike, strict: bool, report: BadRecords) -> list[dict]:
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


def read_jsonl(location: str | os.PathLike) -> list[dict]:
    """Rows of a JSON Lines file (path or URI) this pipeline wrote; a broken line raises."""
    return [obj for _, obj in iter_jsonl(location, BadRecords(), strict=True)]


class CORAPipeline:
    """Runs (or resumes) CORA iterative training as `cfg` says.

    Args:
        cfg: The job config; Ray must be initialized before `run`.
    """

    def __init__(self, cfg: CORAJobConfig):
        cfg = with_absolute_locations(cfg)
        self.cfg, self.out = cfg, cfg.output_dir
        self.report = BadRecords()
        self.table = PassageTable(read_passages(cfg.passages_file, cfg.strict, self.report))
        questions = read_questions(cfg.train_questions, cfg.strict, self.report)
        self.dev = (read_questions(cfg.dev_questions, cfg.strict, self.report)
                    if cfg.dev_questions else [])
        given = (read_questions(cfg.selection.questions, cfg.strict, self.report)
                 if cfg.selection.questions else None)
        # `train`: every stage trains and mines on these; `selection`: held out, they
        # pick each round's checkpoints.
        self.train, self.selection = selection_split(
            questions, cfg.selection.fraction, cfg.selection.seed, cfg.mining.parallel_key,
            given)
        if not self.train:
            raise ValueError(f"{cfg.train_questions}: no usable training questions")
        links = (LanguageLinks.read(cfg.language_links, cfg.strict, self.report)
                 if cfg.language_links else None)
        self.translator = AnswerTranslator(self.train + self.selection + self.dev,
                                           cfg.mining.parallel_key, links)
        _log(f"{len(self.table.by_id)} passages, {len(self.train)} training, "
             f"{len(self.selection)} selection ({self.selection_source()}) and "
             f"{len(self.dev)} dev questions; {self.report.summary()}")

    def selection_source(self) -> str:
        """Where the selection questions come from: the file, ``held_out`` training
        questions, or ``none`` (the latest checkpoints are kept)."""
        if not self.selection:
            return "none"
        return self.cfg.selection.questions or "held_out"

    # ------------------------------------------------------------------ driver

    def run(self) -> str:
        """Runs every round's missing stages; returns the output location."""
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

    def round_dir(self, r: int) -> str:
        """``<output_dir>/round_<r>`` (a path or URI)."""
        return storage.join(self.out, f"round_{r}")

    def path(self, r: int, *parts: str) -> str:
        """``<output_dir>/round_<r>/<parts...>`` (a path or URI)."""
        return storage.join(self.round_dir(r), *parts)

    def done(self, r: int, stage: str) -> dict | None:
        """The summary of a finished stage, or None when it has not finished."""
        marker = self.path(r, f"{stage}.done")
        return json.loads(storage.read_text(marker)) if storage.is_file(marker) else None

    def finished(self, r: int) -> list[str]:
        """The stages of round `r` that left their marker (one listing, not a request
        per stage)."""
        names = set(storage.list_files(self.round_dir(r), recursive=False))
        return [s for s in self.stages(r) if f"{s}.done" in names]

    def _mark(self, r: int, stage: str, summary: dict) -> None:
        storage.write_text(self.path(r, f"{stage}.done"), json.dumps(summary, indent=1))
        self._write_state(r, stage, "done")

    def _write_state(self, r: int, stage: str | None, status: str) -> None:
        state = {"rounds": self.cfg.rounds, "round": r, "stage": stage, "status": status,
                 "finished": {f"round_{i}": self.finished(i) for i in range(self.cfg.rounds)}}
        storage.write_text(storage.join(self.out, STATE_FILE), json.dumps(state, indent=1))

    # ------------------------------------------------------------------ stages

    def stage_mdpr(self, r: int) -> dict:
        """Trains mDPR on the initial data plus everything mined in rounds before `r`."""
        from rayqa.train.mdpr_job import train_mdpr

        labels = [row for i in range(r)
                  for row in read_jsonl(self.path(i, "mining", "labels.jsonl"))]
        rows, missing = dpr_rows(self.train, self.table, labels)
        train_file, dev_file = self.path(r, "mdpr_train.jsonl"), self.path(r, "mdpr_dev.jsonl")
        write_jsonl(rows, train_file)
        # Checkpoints are picked on the selection questions' gold passages.
        dev_rows, _ = dpr_rows(self.selection, self.table, [])
        if dev_rows:
            write_jsonl(dev_rows, dev_file)
        start = (self.cfg.mdpr.encoder.name_or_path if r == 0
                 else self.path(r - 1, "mdpr", FINAL))
        train_mdpr(mdpr_round_config(self.cfg, r, self.path(r, "mdpr"), start, train_file,
                                     dev_file if dev_rows else None))
        return {"train_lines": len(rows), "mined_labels": len(labels),
                "questions_without_gold": missing, "start": start,
                "selection": self.selection_source() if dev_rows else "none",
                "selection_lines": len(dev_rows)}

    def stage_index(self, r: int) -> dict:
        """Encodes the collection with this round's passage encoder into a FAISS index."""
        from rayqa.retrieval.build import build_index

        pool = self.cfg.retrieval
        # The manifest names round 0's query encoder: what inference (the Serve app,
        # dev and selection retrieval) asks with; training retrieval overrides it.
        encoder = EncoderConfig(
            name_or_path=self.path(r, "mdpr", FINAL, "passage_encoder"),
            query_name_or_path=self._query_encoder(0),
            max_length=self.cfg.mdpr.encoder.max_passage_length, pooling="cls",
            batch_size=pool.batch_size, num_actors=pool.num_actors,
            cpus_per_actor=pool.cpus_per_actor, use_gpu=pool.use_gpu, shard_mb=pool.shard_mb)
        build_index(IndexJobConfig(output_dir=self.path(r, "index"),
                                   passages_files=[DataFile(path=self.cfg.passages_file)],
                                   encoder=encoder, index=pool.index, strict=self.cfg.strict))
        return {"passages": len(self.table.by_id), "encoder": encoder.name_or_path}

    def stage_retrieve(self, r: int) -> dict:
        """Retrieves for training questions (this round's query encoder), dev and
        selection questions (round 0's query encoder, as at inference).

        With synthetic data on, training questions are retrieved
        ``mining.synthetic_depth`` deep: the first ``train_passages`` English passages
        of an English question are the English retrieval P^En of its synthetic lines
        (paper appendix A.2 uses an English DPR; here the round's multilingual index,
        English passages only) -> ``retrieved.english.jsonl``.
        """
        model, mining = self.cfg.mgen.model, self.cfg.mining
        k_train = max(model.train_passages, mining.retrieved_candidates, 1)
        k_dev = max(model.eval_passages, *self.cfg.retrieval.recall_ks)
        k_selection = max(model.eval_passages, 1)
        english = ([q for q in self.train if q["lang"] == ENGLISH] if mining.synthetic
                   else [])
        depth = max(k_train, mining.synthetic_depth) if english else k_train
        found = self._retrieve(self.path(r, "index"), [
            ("train", self.train, self._query_encoder(r), depth),
            ("dev", self.dev, self._query_encoder(0), k_dev),
            ("selection", self.selection, self._query_encoder(0), k_selection)])
        write_jsonl(_with_ctxs(self.train, [ctxs[:k_train] for ctxs in found["train"]]),
                    self.path(r, "retrieved.train.jsonl"))
        summary = {"train_questions": len(self.train), "k_train": k_train}
        if english:
            en_ctxs = [english_passages(ctxs, model.train_passages)
                       for q, ctxs in zip(self.train, found["train"]) if q["lang"] == ENGLISH]
            write_jsonl(_with_ctxs(english, en_ctxs), self.path(r, "retrieved.english.jsonl"))
            summary.update(english_questions=len(english), english_depth=depth,
                           english_short=sum(len(c) < model.train_passages for c in en_ctxs),
                           english_none=sum(not c for c in en_ctxs))
        for name, questions, k in (("dev", self.dev, k_dev),
                                   ("selection", self.selection, k_selection)):
            if questions:
                write_jsonl(_with_ctxs(questions, found[name]),
                            self.path(r, f"retrieved.{name}.jsonl"))
                summary.update({f"{name}_questions": len(questions), f"k_{name}": k})
        return summary

    def _retrieve(self, index: str, requests: list[tuple]) -> dict[str, list[list[dict]]]:
        """Runs `(name, questions, query_encoder, k)` retrievals over `index` with one
        Ray Data pass per query encoder (one actor pool start), at the largest k asked
        of it; each request keeps its top k (for a Flat index the same passages as a
        search k deep)."""
        from rayqa.pipelines.batch_retrieval import retrieve_ray

        out = {name: [] for name, *_ in requests}
        for encoder in dict.fromkeys(enc for _, qs, enc, _ in requests if qs):
            group = [(name, qs, k) for name, qs, enc, k in requests if enc == encoder and qs]
            found = retrieve_ray([q for _, qs, _ in group for q in qs], encoder, index,
                                 max(k for *_, k in group), self.cfg.retrieval,
                                 self.cfg.mdpr.encoder.max_query_length)
            for name, qs, k in group:
                out[name], found = [ctxs[:k] for ctxs in found[:len(qs)]], found[len(qs):]
        return out

    def _query_encoder(self, r: int) -> str:
        return self.path(r, "mdpr", FINAL, "query_encoder")

    def stage_mgen(self, r: int) -> dict:
        """Trains mGEN on the top-k retrieved passages plus synthetic examples (round 0:
        from epoch ``mining.synthetic_from_epoch`` on), keeping the best checkpoint on
        the selection questions."""
        from rayqa.train.mgen_job import train_mgen

        model, mining = self.cfg.mgen.model, self.cfg.mining
        retrieved = read_jsonl(self.path(r, "retrieved.train.jsonl"))
        rows = [{**row, "ctxs": row["ctxs"][:model.train_passages]} for row in retrieved]
        train_file = self.path(r, "mgen_train.jsonl")
        write_jsonl(rows, train_file)
        synthetic = []
        if mining.synthetic and storage.is_file(self.path(r, "retrieved.english.jsonl")):
            english = {row["id"]: row["ctxs"]
                       for row in read_jsonl(self.path(r, "retrieved.english.jsonl"))}
            synthetic = synthetic_rows(self.train, english, self.translator,
                                       mining.synthetic_langs, mining.synthetic_max_langs,
                                       mining.synthetic_fraction, model.train_passages,
                                       mining.seed + r)
        synthetic_file = self.path(r, "mgen_synthetic.jsonl")
        if synthetic:
            write_jsonl(synthetic, synthetic_file)
        dev_file = self.path(r, "mgen_dev.jsonl")
        selection = self.path(r, "retrieved.selection.jsonl")
        dev = read_jsonl(selection) if self.selection and storage.is_file(selection) else []
        if dev:
            write_jsonl(dev, dev_file)
        start = model.name_or_path if r == 0 else self.path(r - 1, "mgen", FINAL)
        job = mgen_round_config(self.cfg, r, self.path(r, "mgen"), start, train_file,
                                synthetic_file if synthetic else None,
                                dev_file if dev else None)
        train_mgen(job)
        return {"examples": len(rows), "synthetic": len(synthetic),
                "synthetic_from_epoch": job.data.synthetic_from_epoch, "start": start,
                "selection": self.selection_source() if dev else "none",
                "selection_questions": len(dev)}

    def stage_evaluate(self, r: int) -> dict:
        """Dev retrieval recall (R^L@k, R^multi@k) and mGEN's answers per language,
        scored with the official rules of the dev set (``scoring``: XOR-Full F1/EM/BLEU,
        MKQA or MLQA), as the paper's tables are."""
        from rayqa.eval import retrieval_recall, score_open_qa
        from rayqa.eval.report import language_breakdown, plot_language_breakdown
        from rayqa.pipelines.batch_retrieval import generate_ray

        rows = read_jsonl(self.path(r, "retrieved.dev.jsonl"))
        gold = [{"lang": q["lang"], "answers": self.translator.translations(q)} for q in self.dev]
        recall = retrieval_recall(gold, [row["ctxs"] for row in rows], self.cfg.retrieval.recall_ks)
        k = self.cfg.mgen.model.eval_passages
        inputs = [{**row, "ctxs": row["ctxs"][:k]} for row in rows]
        answers = generate_ray(inputs, self.path(r, "mgen", FINAL), self.cfg.mining)
        # Per language: MKQA shares one id across its languages.
        predictions: dict[str, dict[str, str]] = {}
        for row, answer in zip(rows, answers):
            predictions.setdefault(row["lang"], {})[row["id"]] = answer
        generation = score_open_qa(self.dev, predictions, self.cfg.scoring)
        metrics = {"retrieval": recall, "mgen": generation, "scoring": self.cfg.scoring,
                   "query_encoder": self._query_encoder(0),
                   "passage_encoder": self.path(r, "mdpr", FINAL, "passage_encoder")}
        for lang, answered in predictions.items():  # the official scripts' input format
            storage.write_text(self.path(r, f"predictions.{lang}.json"),
                               json.dumps(answered, ensure_ascii=False, indent=1))
        storage.write_text(self.path(r, "metrics.json"), json.dumps(metrics, indent=1))
        breakdown = language_breakdown(self.dev, [row["ctxs"] for row in rows], k=k)
        plot_language_breakdown(breakdown, self.path(r, "retrieved_languages.png"),
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
                     for row in read_jsonl(self.path(r, "retrieved.train.jsonl"))}
        candidates = mining_candidates(
            self.train, retrieved, self.table, self.translator,
            retrieved_candidates=mining.retrieved_candidates,
            language_links=mining.language_links, max_link_candidates=mining.max_link_candidates)
        inputs = [{"question": c.question, "lang": c.lang, "ctxs": [c.passage]}
                  for c in candidates]
        labeled = label_candidates(candidates,
                                   generate_ray(inputs, self.path(r, "mgen", FINAL), mining))
        write_jsonl([c.to_dict() for c in labeled], self.path(r, "mining", "labels.jsonl"))
        summary = {"candidates": len(labeled), "positives": sum(c.positive for c in labeled)}
        for source in {c.source for c in labeled}:
            group = [c for c in labeled if c.source == source]
            summary[source] = {"candidates": len(group), "positives": sum(c.positive for c in group)}
        return summary

    # ------------------------------------------------------------------ report

    def write_results(self) -> tuple[str, str] | None:
        """``results.md`` / ``results.csv``: per round and language, mGEN EM/F1 and
        retrieval recall at every cut-off; returns their locations."""
        from rayqa.eval.report import results_table

        runs: dict[str, dict] = {}
        for r in range(self.cfg.rounds):
            location = self.path(r, "metrics.json")
            if not storage.is_file(location):
                continue
            metrics = json.loads(storage.read_text(location))
            for name in REPORTED[metrics.get("scoring", "mlqa")]:
                runs[f"round {r} mGEN {name}"] = {lang: m[name] for lang, m in metrics["mgen"].items()}
            for k in self.cfg.retrieval.recall_ks:
                for kind in ("L", "multi"):
                    runs[f"round {r} R^{kind}@{k}"] = {
                        lang: m[f"R^{kind}@{k}"] for lang, m in metrics["retrieval"].items()
                        if lang != "avg"}
        if not runs:
            return None
        return results_table(runs).write(self.out, "results")


def mdpr_round_config(cfg: CORAJobConfig, r: int, output_dir: str, start: str,
                      train_file: str, dev_file: str | None) -> MDPRJobConfig:
    """The mDPR job of round `r`, starting from the encoders at `start`.

    Round 0 has no mined negatives yet: with ``mdpr.bm25_negatives`` its questions get
    BM25 negatives from the passage collection (DPR's recipe). Later rounds train on
    the negatives mGEN labeled.
    """
    bm25 = r == 0 and cfg.mdpr.bm25_negatives
    return MDPRJobConfig(
        output_dir=output_dir,
        encoder=cfg.mdpr.encoder.model_copy(update={"name_or_path": start}),
        data=MDPRDataConfig(train_files=[DataFile(path=train_file)],
                            dev_files=[DataFile(path=dev_file)] if dev_file else [],
                            hard_negatives=cfg.mdpr.hard_negatives, bm25_negatives=bm25,
                            passages_files=[DataFile(path=cfg.passages_file)] if bm25 else [],
                            strict=cfg.strict),
        train=cfg.mdpr.train.model_copy(update={"run_name": f"mdpr_round{r}"}))


def mgen_round_config(cfg: CORAJobConfig, r: int, output_dir: str, start: str,
                      train_file: str, synthetic_file: str | None,
                      dev_file: str | None) -> MGENJobConfig:
    """The mGEN job of round `r`, starting from the generator at `start`.

    Synthetic examples join round 0's training from epoch ``mining.synthetic_from_epoch``
    on (paper appendix A.2: after the third epoch of the initial training); later
    rounds continue from the previous round's mGEN, which has seen them, and train on
    them from the start. With a dev file (the selection questions) the best dev F1
    checkpoint is exported, else the latest.
    """
    return MGENJobConfig(
        output_dir=output_dir,
        model=cfg.mgen.model.model_copy(update={"name_or_path": start}),
        data=MGENDataConfig(
            train_files=[DataFile(path=train_file)],
            synthetic_files=[DataFile(path=synthetic_file)] if synthetic_file else [],
            synthetic_from_epoch=cfg.mining.synthetic_from_epoch if r == 0 else 0,
            dev_files=[DataFile(path=dev_file)] if dev_file else [], strict=cfg.strict),
        train=cfg.mgen.train.model_copy(update={"run_name": f"mgen_round{r}"}))


def _with_ctxs(questions: list[dict], found: list[list[dict]]) -> list[dict]:
    return [{"id": q["id"], "question": q["question"], "lang": q["lang"],
             "answers": q["answers"], "ctxs": ctxs} for q, ctxs in zip(questions, found)]


def _mean(values: Iterable[float]) -> float | None:
    values = list(values)
    return sum(values) / len(values) if values else None


def run_cora(cfg: CORAJobConfig) -> str:
    """Runs or resumes CORA iterative training; returns the output location."""
    return CORAPipeline(cfg).run()


def _log(message: str) -> None:
    print(f"[rayqa.cora] {message}", flush=True)
