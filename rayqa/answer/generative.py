"""Generative answering with mGEN: batched decoding and the ``GenerativeReader``.

``generate_answers`` is shared by training-time dev evaluation (the model inside a
DeepSpeed engine) and inference (a plain ``from_pretrained`` model). Scores are sequence
log-probabilities, ``sum_t log p(a_t | a_<t, source)`` over the answer tokens and eos,
computed by one teacher-forced pass over the decoded answers, so greedy and beam
answers are scored alike (beam search's own score is length-normalized).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import torch

from rayqa import storage
from rayqa.config import CONFIG_FILENAME, GeneratorConfig, parse_yaml
from rayqa.models.generator import IGNORE_INDEX, encode_sources, format_source, shift_right


def _sequence_log_probs(model, inputs: dict, sequences: torch.Tensor) -> torch.Tensor:
    """Log-probability of each generated sequence: its tokens up to and including eos.

    Finished sequences are padded after their eos; pad cannot mark the end, as mT5's pad
    id is also a token an (untrained) model may generate.
    """
    config = model.config
    tokens = sequences[:, 1:]  # without the decoder start token
    is_eos = tokens.eq(config.eos_token_id).long()
    after_eos = (is_eos.cumsum(dim=1) - is_eos) > 0
    labels = tokens.masked_fill(after_eos, IGNORE_INDEX)
    decoder_input_ids = shift_right(labels, config.decoder_start_token_id, config.pad_token_id)
    logits = model(**inputs, decoder_input_ids=decoder_input_ids).logits.float()
    token_lp = torch.log_softmax(logits, dim=-1).gather(-1, labels.clamp(min=0).unsqueeze(-1))
    return token_lp.squeeze(-1).masked_fill(labels.eq(IGNORE_INDEX), 0.0).sum(dim=-1)


@torch.no_grad()
def generate_answers(model, tokenizer, sources: Sequence[str], *, max_source_length: int,
                     batch_size: int = 16, num_beams: int = 1, max_new_tokens: int = 25,
                     device=None, min_batches: int = 0,
                     synced_gpus: bool = False) -> tuple[list[str], list[float]]:
    """Decode an answer for every source string.

    Args:
        model: A seq2seq model (for a DeepSpeed engine pass ``engine.module``).
        tokenizer: Its tokenizer.
        sources: Inputs from :func:`rayqa.models.generator.format_source`.
        max_source_length: Sources are cut to this many tokens (passages go first).
        batch_size: Sources per ``generate`` call.
        num_beams: 1 is greedy decoding; more is beam search.
        max_new_tokens: Longest answer in tokens.
        device: Where the inputs go (the model's device when None).
        min_batches: Run at least this many batches, repeating the last one and dropping
            its output, so distributed ranks stay in step (ZeRO-3 gathers weights).
        synced_gpus: Keep decoding until every rank is done (needed under ZeRO-3).

    Returns:
        ``(answers, scores)``: decoded strings and sequence log-probabilities.
    """
    was_training = model.training
    model.eval()
    device = device or next(model.parameters()).device
    answers, scores, batch, start = [], [], None, 0
    while start < len(sources) or start // batch_size < min_batches:
        chunk = sources[start:start + batch_size]
        if chunk:
            ids = encode_sources(tokenizer, chunk, max_source_length)
            batch = tokenizer.pad({"input_ids": ids}, return_tensors="pt").to(device)
        if batch is None:  # a rank without sources cannot pad; keep dev >= workers
            break
        sequences = model.generate(**batch, num_beams=num_beams, max_new_tokens=max_new_tokens,
                                   synced_gpus=synced_gpus)
        log_probs = _sequence_log_probs(model, dict(batch), sequences)
        if chunk:
            answers += tokenizer.batch_decode(sequences, skip_special_tokens=True)
            scores += log_probs.tolist()
        start += batch_size
    if was_training:
        model.train()
    return [a.strip() for a in answers], scores


def load_generator_config(model_dir: str | Path) -> GeneratorConfig:
    """The mGEN settings a checkpoint was trained with (paper defaults for hub models)."""
    path = Path(model_dir, CONFIG_FILENAME)
    if path.is_file():
        saved = parse_yaml(path.read_text(encoding="utf-8")) or {}
        if "model" in saved:
            return GeneratorConfig.model_validate({**saved["model"],
                                                   "name_or_path": str(model_dir)})
    return GeneratorConfig(name_or_path=str(model_dir))


class GenerativeReader:
    """A trained mGEN answering questions in their language from retrieved passages.

    Args:
        model_dir: A ``save_pretrained`` directory or hub name (e.g. the
            ``<output_dir>/final`` of ``jobs/train_mgen.py``).
        device: ``"cuda"``, ``"cpu"`` or None to pick the GPU when there is one.
        batch_size: Questions per ``generate`` call.
    """

    def __init__(self, model_dir: str | Path, device: str | None = None, batch_size: int = 16):
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

        model_dir = storage.local_model(model_dir)  # an s3:// export: a verified local copy
        self.config = load_generator_config(model_dir)
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
        self.model = AutoModelForSeq2SeqLM.from_pretrained(str(model_dir))
        self.model.to(self.device).eval()
        self.batch_size = batch_size

    def answer_batch(self, questions: Sequence[str], langs: Sequence[str | None],
                     passages: Sequence[Sequence[Mapping]], num_beams: int = 1,
                     max_new_tokens: int | None = None) -> list[dict]:
        """Generate one answer per question.

        Args:
            questions: Question texts.
            langs: Language code per question: the language of the answer (None: no tag).
            passages: Per question, retrieved passages best first (dicts with ``title``
                and ``text``); the first ``eval_passages`` of the config are used (15 in
                the paper). Empty lists give closed-book answers.
            num_beams: 1 for greedy decoding, more for beam search.
            max_new_tokens: Longest answer in tokens (the trained ``max_target_length``
                when None).

        Returns:
            Per question ``{"answer": str, "score": float}``, score the answer's sequence
            log-probability.
        """
        if not len(questions) == len(langs) == len(passages):
            raise ValueError(f"got {len(questions)} questions, {len(langs)} langs and "
                             f"{len(passages)} passage lists")
        k = self.config.eval_passages
        sources = [format_source(q, lang, list(ps)[:k])
                   for q, lang, ps in zip(questions, langs, passages)]
        answers, scores = generate_answers(
            self.model, self.tokenizer, sources,
            max_source_length=self.config.max_source_length, batch_size=self.batch_size,
            num_beams=num_beams, max_new_tokens=max_new_tokens or self.config.max_target_length,
            device=self.device)
        return [{"answer": a, "score": s} for a, s in zip(answers, scores)]

    def answer(self, question: str, lang: str | None, passages: Sequence[Mapping] = (),
               num_beams: int = 1) -> dict:
        """``answer_batch`` for one question."""
        return self.answer_batch([question], [lang], [passages], num_beams=num_beams)[0]
